"""Report tables on small hand-written data where every count can be checked by eye."""

import pytest

from qa_lib.sections import tables as T

AUDITS = """audit_id,case_id,audit_date,service_area,auditor_id,cohort
A1,C1,2024-07-02,Front Door,X1,CIN
A2,C2,2024-07-09,Front Door,X1,CIN
A3,C3,2024-08-01,Assessment,X2,CP
A4,C4,2024-09-30,Assessment,X2,CP
A5,C5,2024-06-30,Assessment,X2,CP
"""
# A5 is in the previous quarter (2024-25 Q1)
RATINGS = """audit_id,rater_id,role,domain,grade
A1,X1,auditor,Overall,Good
A1,M1,moderator,Overall,Requires improvement
A1,X1,auditor,Chronology,Inadequate
A2,X1,auditor,Overall,Outstanding
A2,M1,moderator,Overall,Outstanding
A3,X2,auditor,Overall,Requires improvement
A3,M2,moderator,Overall,Good
A4,X2,auditor,Overall,Good
A4,M1,moderator,Overall,Inadequate
A5,X2,auditor,Overall,Inadequate
"""
ALLOCATIONS = """allocation_id,month,service_area,status,practitioner_took_part,reason
L1,2024-07,Front Door,returned,yes,
L2,2024-07,Front Door,returned,no,Annual leave
L3,2024-07,Front Door,exempt,,Case closed
L4,2024-08,Assessment,returned,yes,
L5,2024-08,Assessment,not returned,,
L6,2024-09,Assessment,returned,no,
"""


@pytest.fixture
def ds(make_dataset):
    return make_dataset(audits=AUDITS, ratings=RATINGS, allocations=ALLOCATIONS, extra={"history_periods": 1})


def test_grades_by_service_area_crosstab_with_totals(ds):
    t = T.grades_by(ds, "service_area")
    assert list(t.columns[:4]) == ["Outstanding", "Good", "Requires improvement", "Inadequate"]
    assert t.loc["Front Door", ["Outstanding", "Good", "Requires improvement", "Inadequate", "n"]].tolist() == [1, 1, 0, 0, 2]
    assert t.loc["Assessment", ["Outstanding", "Good", "Requires improvement", "Inadequate", "n"]].tolist() == [0, 1, 1, 0, 2]
    assert t.loc["Total", ["Outstanding", "Good", "Requires improvement", "Inadequate", "n"]].tolist() == [1, 2, 1, 0, 4]
    assert t.loc["Total", "good_or_better_share"] == pytest.approx(3 / 4)


def test_overall_by_period_keeps_empty_grades_and_orders_periods(ds):
    t = T.overall_by_period(ds)
    assert list(t.index.astype(str)) == ["2024-25 Q1", "2024-25 Q2"]
    assert t.loc["2024-25 Q1", "Inadequate"] == 1 and t.loc["2024-25 Q1", "n"] == 1


def test_moderation_outcomes(ds):
    t = T.moderation_outcomes(ds)["audits"]
    assert t["Moderated"] == 4 and t["Same grade"] == 1 and t["Downgraded"] == 2 and t["Upgraded"] == 1
    assert t["Downgraded Good → Requires improvement"] == 1
    assert t["Downgraded Good → Inadequate"] == 1
    assert t["Upgraded Requires improvement → Good"] == 1
    assert t["Upgraded Inadequate → Outstanding"] == 0  # every possible move listed, zeros included
    assert len(t) == 4 + 12


def test_returns_exclude_exemptions_from_rate(ds):
    t = T.returns_by(ds, "service_area")
    assert t.loc["Front Door", ["allocated", "returned", "not returned", "exempt"]].tolist() == [3, 2, 0, 1]
    assert t.loc["Front Door", "return_rate"] == 1.0
    assert t.loc["Assessment", "return_rate"] == pytest.approx(2 / 3)
    assert t.loc["Total", "return_rate"] == pytest.approx(4 / 5)
    assert bool(t.loc["Total", "met_target"]) is True  # 80% meets an 80% target


def test_participation_and_reasons(ds):
    p = T.participation(ds)
    assert p.loc["Total", ["returned", "recorded", "took_part"]].tolist() == [4, 4, 2]
    reasons = T.non_participation_reasons(ds)
    assert reasons["practitioners"].to_dict() == {"Annual leave": 1, "No reason recorded": 1}


def test_confusion_keeps_unused_grades(ds):
    t = T.confusion(T.moderation_pairs(ds), ds)
    assert t.shape == (4, 4) and int(t.to_numpy().sum()) == 4
    assert t.loc["Good", "Inadequate"] == 1


def test_empty_period_gives_empty_tables_not_errors(make_dataset):
    ds = make_dataset(audits=AUDITS, ratings=RATINGS, period="2025-26 Q1")
    assert T.grades_by(ds, "service_area").loc["Total", "n"] == 0 if len(T.grades_by(ds, "service_area")) else True
    assert T.moderation_outcomes(ds).loc["Moderated", "audits"] == 0
    assert T.returns_by(ds, "service_area").empty


def test_issue17_audit_grade_rule(make_dataset):
    from qa_lib.sections import tables as t

    audits = ("audit_id,case_id,audit_date,service_area,auditor_id\n"
              "A1,C1,2024-07-10,SEND,U1\nA2,C2,2024-07-11,SEND,U1\n")
    ratings = ("audit_id,rater_id,role,domain,grade\n"
               "A1,U1,auditor,Overall,Good\nA1,P1,peer,Overall,Requires improvement\nA1,P2,peer,Overall,Requires improvement\n"
               "A1,M1,moderator,Overall,Outstanding\n"
               "A2,U1,auditor,Overall,Good\nA2,P1,peer,Overall,Requires improvement\n")
    expected = {"auditor": ["Good", "Good"], "consensus": ["Requires improvement", "Requires improvement"],
                "median": ["Requires improvement", "Requires improvement"], "moderator": ["Outstanding", "Good"]}
    for rule, grades in expected.items():
        ds = make_dataset(audits=audits, ratings=ratings, extra={"audit_grade": rule})
        g = t.audit_grades(ds).sort_values("audit_id")
        assert g["grade"].astype(str).tolist() == grades, rule
        assert f"params audit_grade: {rule}" in t.audit_grade_rule(ds)


def test_issue17_summaries_agree_on_moderated_and_peer_reviewed(make_dataset):
    """One peer-reviewed audit, one moderated and peer-reviewed, one neither: every summary says the same
    (hand-counted from the ratings below), and the domain tables use the params rule too."""
    from qa_lib.sections import change, reliability
    from qa_lib.sections import tables as t

    audits = ("audit_id,case_id,audit_date,service_area,auditor_id\n"
              "A1,C1,2024-07-10,SEND,U1\nA2,C2,2024-07-11,SEND,U1\nA3,C3,2024-07-12,SEND,U1\n")
    ratings = ("audit_id,rater_id,role,domain,grade\n"
               "A1,U1,auditor,Overall,Good\nA1,P1,peer,Overall,Inadequate\nA1,P2,peer,Overall,Inadequate\n"
               "A1,U1,auditor,Voice,Good\nA1,P1,peer,Voice,Inadequate\nA1,P2,peer,Voice,Inadequate\n"
               "A2,U1,auditor,Overall,Good\nA2,P1,peer,Overall,Good\nA2,M1,moderator,Overall,Good\n"
               "A3,U1,auditor,Overall,Outstanding\n")
    ds = make_dataset(audits=audits, ratings=ratings, extra={"audit_grade": "consensus"})
    assert t.review_counts(ds) == {"audits": 3, "moderated": 1, "peer_reviewed": 2, "both": 1, "neither": 1}
    text = t.review_sentence(ds)
    assert "1 were moderated and 2 peer-reviewed (1 both, 1 neither)" in text and "audit_grade: consensus" in text
    assert int(t.audit_volume(ds)["moderated"].sum()) == 1
    assert int(t.moderation_outcomes(ds).loc["Moderated", "audits"]) == 1
    assert int(reliability.agreement_by_domain(ds).loc["Overall", "n"]) == 1
    # consensus of A1's Voice grades (Good, Inadequate, Inadequate) is Inadequate, in both domain tables
    assert int(t.grades_by_domain(ds).loc["Voice", "Inadequate"]) == 1
    assert int(change.domain_changes(ds).loc["Voice", "n_now"]) == 1
    assert int(t.overall_by_period(ds).loc[ds.period.label, "Inadequate"]) == 1

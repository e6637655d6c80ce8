"""Issue 17: SEND quarterly content on audits consistent with 000_* (Worcestershire Children First,
SEND QA Q2 22/23): "26 Case File Audits ... 78 pieces of Audit activity"; "6 Case File Audits were
undertaken this Quarter ... 18 pieces"; "'inadequate' was 8% in qtr4 (21/22) 13% in Qtr 1 (22/23) and
0 quarter 2 (22/23)". Quarter sizes 12 + 8 + 6 = 26 are the fixture's choice (000_* gives the total and
this quarter's 6); 1 of 12 (8%) and 1 of 8 (13%, half up) give its Inadequate shares."""

from __future__ import annotations


from qa_lib.sections import quarters


def _inputs():
    audits, ratings = ["audit_id,case_id,audit_date,service_area,auditor_id"], ["audit_id,rater_id,role,domain,grade"]
    plan = [("2022-02-15", 12, 1), ("2022-05-16", 8, 1), ("2022-08-15", 6, 0)]  # date, audits, inadequate
    k = 0
    for date, n, inadequate in plan:
        for i in range(n):
            k += 1
            grade = "Inadequate" if i < inadequate else ("Good" if i % 2 else "Requires improvement")
            audits.append(f"A{k},C{k},{date},SEND,U{k % 4}")
            ratings += [f"A{k},U{k % 4},auditor,Overall,{grade}", f"A{k},P{k % 3},peer,Overall,{grade}",
                        f"A{k},M{k % 2},peer,Overall,{grade}"]
            ratings.append(f"A{k},U{k % 4},auditor,Parental consultation,Good")
    return "\n".join(audits) + "\n", "\n".join(ratings) + "\n"


def test_grade_across_quarters_sentence(make_dataset):
    audits, ratings = _inputs()
    ds = make_dataset(audits=audits, ratings=ratings, period="2022-23 Q2", extra={"history_periods": 2})
    assert quarters.grade_across_quarters(ds, "Inadequate") == (
        "Inadequate was 8% in 2021-22 Q4 (1 of 12), 13% in 2022-23 Q1 (1 of 8) and 0 in 2022-23 Q2 (0 of 6).")


def test_pieces_of_audit_activity(make_dataset):
    audits, ratings = _inputs()
    ds = make_dataset(audits=audits, ratings=ratings, period="2022-23 Q2", extra={"history_periods": 2})
    t = quarters.audit_activity(ds)
    assert t.loc["Total"].to_dict() == {"audits": 26, "pieces_of_activity": 78}
    assert t.loc["2022-23 Q2"].to_dict() == {"audits": 6, "pieces_of_activity": 18}
    assert quarters.activity_sentence(ds).startswith("26 audits over the periods shown, 78 pieces of audit activity")


def test_domain_by_quarter(make_dataset):
    audits, ratings = _inputs()
    ds = make_dataset(audits=audits, ratings=ratings, period="2022-23 Q2", extra={"history_periods": 2})
    t = quarters.domain_by_quarter(ds)
    assert t.loc[("Overall", "2021-22 Q4"), "n"] == 12 and t.loc[("Overall", "2021-22 Q4"), "Inadequate"] == 1
    assert t.loc[("Parental consultation", "2022-23 Q2"), "Good share"] == 1.0
    assert list(t.index.get_level_values("period").unique()) == ["2021-22 Q4", "2022-23 Q1", "2022-23 Q2"]

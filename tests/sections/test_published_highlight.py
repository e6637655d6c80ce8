"""Issue 2 must-show: record-level data reproduces a highlight report's grade and moderation tables.

ILLUSTRATIVE, NOT PUBLISHED. No published English local-authority report with a grade x service-area
table and moderation counts for one quarter was found (search log in the fixture's README.md), so the
expected numbers below are the ILLUSTRATIVE report in
tests/fixtures/published/illustrative-highlight-2024-25-q3/README.md (Tables 0-2), typed in by hand
from that README, never produced by running qa_lib. The must-show stays unmet until a published
report replaces it.
"""

from pathlib import Path

import pandas as pd
import pytest

from qa_lib.sections import tables as T
from qa_lib.inputs.data import load_dataset
from qa_lib.inputs.params import load_params

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "published" / "illustrative-highlight-2024-25-q3"
GRADES = ["Outstanding", "Good", "Requires improvement", "Inadequate"]

# ILLUSTRATIVE report, Table 1 (README.md): Overall grade by service area, 2024-25 Q3.
#                                     Outstanding, Good, RI, Inadequate, Total
ILLUSTRATIVE_TABLE_1 = {
    "Front Door (MASH)":                (1, 5, 3, 0, 9),
    "Assessment":                       (0, 4, 6, 1, 11),
    "Child in Need / Child Protection": (1, 6, 7, 2, 16),
    "Children in Care":                 (2, 7, 4, 1, 14),
    "Care Leavers":                     (0, 3, 3, 0, 6),
    "Early Help":                       (1, 4, 2, 0, 7),
    "Total":                            (5, 29, 25, 4, 63),
}
ILLUSTRATIVE_GOOD_OR_BETTER = 34  # Table 1 note: "Good or better: 34 of 63"

# ILLUSTRATIVE report, Table 2 (README.md): moderation of the Overall grade.
ILLUSTRATIVE_TABLE_2 = {
    "Moderated": 16,
    "Same grade": 11,
    "Downgraded": 4,
    "Upgraded": 1,
    "Downgraded Good → Requires improvement": 3,
    "Downgraded Requires improvement → Inadequate": 1,
    "Upgraded Requires improvement → Good": 1,
}
# "No other moves": every other move on the four-grade scale is zero.
ALL_MOVES = [f"Downgraded {a} → {b}" for i, a in enumerate(GRADES) for b in GRADES[i + 1:]] + \
            [f"Upgraded {a} → {b}" for i, a in enumerate(GRADES) for b in GRADES[:i]]

# ILLUSTRATIVE report, Table 0 (README.md): audits completed and moderated per month.
ILLUSTRATIVE_TABLE_0 = {"2024-10": (21, 6), "2024-11": (22, 5), "2024-12": (20, 5)}


@pytest.fixture(scope="module")
def ds():
    return load_dataset(load_params(FIXTURE / "params.yaml"))


def test_illustrative_highlight_fixture_loads_without_issues(ds):
    assert ds.period.label == "2024-25 Q3"
    assert ds.issues.empty, ds.issues[["table", "rule", "message"]].to_string()
    assert ds.rejects.empty
    # README: 63 audits; per audit an auditor Overall and Voice of the child grade, per moderated audit
    # a moderator Overall and Voice of the child grade: 63*2 + 16*2 = 158 rating rows, none dropped.
    assert ds.read_counts["audits"] == len(ds.audits) == 63
    assert ds.read_counts["ratings"] == len(ds.ratings) == 158
    assert sorted(ds.ratings["grade"].dropna().astype(str).unique()) == sorted(GRADES)  # both label sets mapped


def test_illustrative_highlight_grades_by_service_area_match_table_1(ds):
    t = T.grades_by(ds, "service_area")
    assert list(t.columns[:4]) == GRADES
    assert set(t.index) == set(ILLUSTRATIVE_TABLE_1)
    for area, (o, g, ri, i, total) in ILLUSTRATIVE_TABLE_1.items():
        assert t.loc[area, GRADES + ["n"]].tolist() == [o, g, ri, i, total], area
    assert t.loc["Total", "good_or_better"] == ILLUSTRATIVE_GOOD_OR_BETTER
    assert t.loc["Total", "good_or_better_share"] == pytest.approx(34 / 63)


def test_illustrative_highlight_moderation_outcomes_match_table_2(ds):
    t = T.moderation_outcomes(ds)
    assert list(t.index[:4]) == ["Moderated", "Same grade", "Downgraded", "Upgraded"]
    assert sorted(t.index[4:]) == sorted(ALL_MOVES)
    expected = {row: ILLUSTRATIVE_TABLE_2.get(row, 0) for row in ["Moderated", "Same grade", "Downgraded", "Upgraded"] + ALL_MOVES}
    assert t["audits"].to_dict() == expected
    assert t.loc["Same grade", "share"] == pytest.approx(11 / 16)
    assert t.loc["Downgraded Good → Requires improvement", "share"] == pytest.approx(3 / 16)
    assert pd.isna(t.loc["Moderated", "share"])


def test_illustrative_highlight_audits_and_moderation_per_month_match_table_0(ds):
    v = T.audit_volume(ds).set_index("month")
    assert {m: (int(r.audits), int(r.moderated)) for m, r in v.iterrows()} == ILLUSTRATIVE_TABLE_0


def test_illustrative_fixture_domain_grades_would_change_the_tables(ds):
    """Guard: the fixture's Voice of the child grades differ from Overall, so a domain leak fails the tests above."""
    voice = T.grades_by(ds, "service_area", domain="Voice of the child")
    assert voice.loc["Total", GRADES].tolist() != list(ILLUSTRATIVE_TABLE_1["Total"][:4])
    voice_mod = T.moderation_outcomes(ds, domain="Voice of the child")["audits"]
    assert voice_mod["Same grade"] != ILLUSTRATIVE_TABLE_2["Same grade"]

"""Explorer (qa_lib.sections.explorer): pure table functions and the widget callbacks, headless.

Every expected count below is counted by hand from the small tables in this file; the demo-data
tests check that a slice shows the same counts as the quarterly report's tables.
"""

import math

import pandas as pd
import pytest

from qa_lib.present import explorer_view as V
from qa_lib.sections import explorer as E
from qa_lib.sections import tables as T

GRADES = ["Outstanding", "Good", "Requires improvement", "Inadequate"]

# Report period 2024-25 Q2 (July–September 2024); A5 and L7 fall in 2024-25 Q1. A6 has no team and
# was graded by a peer only.
AUDITS = """audit_id,case_id,audit_date,service_area,auditor_id,team,cohort
A1,C1,2024-07-02,Front Door,X1,MASH,CIN
A2,C2,2024-07-09,Front Door,X1,MASH,CP
A3,C3,2024-08-01,Assessment,X2,North,CIN
A4,C4,2024-09-30,Assessment,X2,North,CP
A5,C5,2024-06-30,Assessment,X2,South,CP
A6,C6,2024-08-15,Assessment,X3,,CIN
"""
RATINGS = """audit_id,rater_id,role,domain,grade
A1,X1,auditor,Overall,Good
A1,M1,moderator,Overall,Requires improvement
A1,X1,auditor,Chronology,Inadequate
A2,X1,auditor,Overall,Outstanding
A2,M1,moderator,Overall,Outstanding
A2,X1,auditor,Chronology,Good
A3,X2,auditor,Overall,Requires improvement
A3,M2,moderator,Overall,Good
A4,X2,auditor,Overall,Good
A4,M1,moderator,Overall,Inadequate
A5,X2,auditor,Overall,Inadequate
A6,P1,peer,Overall,Good
"""
ALLOCATIONS = """allocation_id,month,service_area,team,status
L1,2024-07,Front Door,MASH,returned
L2,2024-07,Front Door,MASH,returned
L3,2024-07,Front Door,MASH,exempt
L4,2024-08,Assessment,North,returned
L5,2024-08,Assessment,North,not returned
L6,2024-09,Assessment,South,returned
L7,2024-06,Assessment,South,not returned
"""
Q1, Q2 = "2024-25 Q1", "2024-25 Q2"


@pytest.fixture
def ds(make_dataset):
    return make_dataset(audits=AUDITS, ratings=RATINGS, allocations=ALLOCATIONS,
                        extra={"history_periods": 1, "domains": ["Chronology"]})


@pytest.fixture
def app(ds, tmp_path):
    return V.Explorer(ds, export_dir=tmp_path / "exports")


def row(table, key, cols):
    return table.loc[key, cols].tolist()


# ------------------------------------------------------------------ pure functions
def test_available_periods_span_the_data(ds):
    assert E.available_periods(ds) == [Q1, Q2]


def test_good_or_better_by_period_with_wilson_interval(ds):
    t = E.measure_table(ds, E.Selection(periods=(Q1, Q2)), "good", by="period")
    assert list(t.index) == [Q1, Q2, "Total"]
    # Q1: A5 Inadequate. Q2: A1 Good, A2 Outstanding, A3 RI, A4 Good, A6 Good (peer stands in).
    assert row(t, Q1, ["n", "good_or_better"]) == [1, 0]
    assert row(t, Q2, ["n", "good_or_better"]) == [5, 4]
    assert row(t, "Total", ["n", "good_or_better"]) == [6, 4]
    assert t.loc[Q2, "good_or_better_share"] == pytest.approx(0.8)
    # Wilson 95% for 4/5 by hand: centre (0.8 + z²/10)/(1 + z²/5) = 0.66965,
    # half-width 1.96·sqrt(0.032 + z²/100)/(1 + z²/5) = 0.29413 → 0.3755 to 0.9638.
    assert t.loc[Q2, "ci_low"] == pytest.approx(0.3755, abs=5e-4)
    assert t.loc[Q2, "ci_high"] == pytest.approx(0.9638, abs=5e-4)


def test_breakdowns_keep_missing_groups_as_not_recorded(ds):
    sel = E.Selection(periods=(Q2,))
    by_area = E.measure_table(ds, sel, "good", by="service_area")
    assert row(by_area, "Front Door", ["n", "good_or_better"]) == [2, 2]
    assert row(by_area, "Assessment", ["n", "good_or_better"]) == [3, 2]
    by_team = E.measure_table(ds, sel, "good", by="team")
    assert list(by_team.index) == ["MASH", "North", E.NOT_RECORDED, "Total"]
    assert row(by_team, E.NOT_RECORDED, ["n", "good_or_better"]) == [1, 1]
    assert by_team.loc["Total", "n"] == 5  # A6 is not dropped


def test_filters_and_rater_roles(ds):
    cin = E.measure_table(ds, E.Selection(periods=(Q2,), cohort="CIN"), "good", by="period")
    assert row(cin, "Total", ["n", "good_or_better"]) == [3, 2]  # A1 Good, A3 RI, A6 Good
    auditor = E.measure_table(ds, E.Selection(periods=(Q2,), role="auditor"), "good", by="period")
    assert row(auditor, "Total", ["n", "good_or_better"]) == [4, 3]
    moderator = E.measure_table(ds, E.Selection(periods=(Q2,), role="moderator"), "good", by="period")
    assert row(moderator, "Total", ["n", "good_or_better"]) == [4, 2]  # RI, O, G, I
    peer = E.measure_table(ds, E.Selection(periods=(Q2,), role="peer"), "good", by="period")
    assert row(peer, "Total", ["n", "good_or_better"]) == [1, 1]
    chron = E.measure_table(ds, E.Selection(periods=(Q2,), domain="Chronology"), "distribution", by="period")
    assert row(chron, "Total", GRADES + ["n"]) == [0, 1, 0, 1, 2]


def test_grade_distribution_counts_and_shares(ds):
    t = E.measure_table(ds, E.Selection(periods=(Q2,)), "distribution", by="service_area")
    assert row(t, "Assessment", GRADES + ["n"]) == [0, 2, 1, 0, 3]
    assert row(t, "Total", GRADES + ["n"]) == [1, 3, 1, 0, 5]
    assert t.loc["Total", "Good_share"] == pytest.approx(3 / 5)
    assert t.loc["Total", "Inadequate_share"] == 0


def test_domain_breakdown_lists_practice_domains(ds):
    t = E.measure_table(ds, E.Selection(periods=(Q2,), domain=None), "distribution", by="domain")
    assert list(t.index) == ["Chronology", "Total"]
    assert row(t, "Chronology", GRADES + ["n"]) == [0, 1, 0, 1, 2]


def test_return_rate_excludes_exemptions(ds):
    t = E.measure_table(ds, E.Selection(periods=(Q2,)), "returns", by="service_area")
    assert row(t, "Front Door", ["allocated", "returned", "not returned", "exempt", "due"]) == [3, 2, 0, 1, 2]
    assert t.loc["Front Door", "return_rate"] == 1.0
    assert t.loc["Assessment", "return_rate"] == pytest.approx(2 / 3)
    assert t.loc["Total", "return_rate"] == pytest.approx(4 / 5)
    months = E.measure_table(ds, E.Selection(periods=(Q1, Q2)), "returns", by="month")
    assert list(months.index) == ["2024-04", "2024-05", "2024-06", "2024-07", "2024-08", "2024-09", "Total"]
    assert row(months, "2024-06", ["allocated", "returned", "due"]) == [1, 0, 1]
    assert row(months, "2024-04", ["allocated", "due"]) == [0, 0] and math.isnan(months.loc["2024-04", "return_rate"])
    team = E.measure_table(ds, E.Selection(periods=(Q2,), team="North"), "returns", by="team")
    assert row(team, "North", ["allocated", "returned", "due"]) == [2, 1, 2]


def test_return_rate_cannot_break_down_by_cohort_and_says_so(ds):
    sel = E.Selection(periods=(Q2,), cohort="CIN")
    t = E.measure_table(ds, sel, "returns", by="cohort")
    assert t.empty
    notes = " ".join(E.measure_notes(ds, sel, "returns", t, by="cohort"))
    assert "cohort filter does not apply" in notes and "cannot be broken down by cohort" in notes


def test_agreement_counts(ds):
    t = E.measure_table(ds, E.Selection(periods=(Q2,)), "agreement", by="service_area")
    # A1 Good→RI (down), A2 O→O (same), A3 RI→Good (up), A4 Good→Inadequate (down)
    assert row(t, "Total", ["n", "agreed", "n_downgraded", "n_upgraded"]) == [4, 1, 2, 1]
    assert row(t, "Front Door", ["n", "agreed"]) == [2, 1]
    assert row(t, "Assessment", ["n", "agreed"]) == [2, 0]
    assert t.loc["Total", "percent_agreement"] == pytest.approx(0.25)


def test_compare_two_independent_selections(ds):
    a = E.Selection(periods=(Q2,), service_area="Front Door")
    b = E.Selection(periods=(Q2,), service_area="Assessment")
    c = E.compare_selections(ds, a, b, "good")
    assert row(c, "A", ["events", "n"]) == [2, 2]
    assert row(c, "B", ["events", "n"]) == [2, 3]
    assert c.loc["A − B", "estimate"] == pytest.approx(1 - 2 / 3)
    # Fisher (expected count of the 1 non-event is below 5). Table [[2,0],[2,1]], margins 2,3 / 4,1:
    # P(a=2) = C(4,2)C(1,0)/C(5,2) = 0.6, P(a=1) = C(4,1)C(1,1)/C(5,2) = 0.4 → two-sided p = 1.
    assert "Fisher" in c.loc["A − B", "test"]
    assert c.loc["A − B", "p_value"] == pytest.approx(1.0)
    assert c.loc["A − B", "ci_low"] < 1 / 3 < c.loc["A − B", "ci_high"]
    assert "share" not in c.loc["A − B", "note"]


def test_compare_overlapping_selections_warns(ds):
    c = E.compare_selections(ds, E.Selection(periods=(Q2,)), E.Selection(periods=(Q2,), service_area="Front Door"), "good")
    assert "share 2 audits" in c.loc["A − B", "note"]


def test_empty_selection_gives_empty_table(ds):
    sel = E.Selection(periods=(Q2,), service_area="Front Door", team="North")
    assert E.filter_rows(ds, sel, "grades").empty
    assert E.measure_table(ds, sel, "good").empty
    assert V.build_view(ds, sel, "good", by="period").rows == 0


def test_unknown_measure_is_a_clear_error(ds):
    from qa_lib.core.errors import QAError

    with pytest.raises(QAError, match="measure"):
        E.measure_table(ds, E.Selection(periods=(Q2,)), "mean grade")


# ------------------------------------------------------------------ widget callbacks
def test_default_view_is_shown_periods_by_period(app):
    assert app.selection.periods == (Q1, Q2)
    assert list(app.view.table.index) == [Q1, Q2, "Total"]
    assert "<table" in app.table.value and "<img" in app.chart.value
    assert app.message.value == ""


def test_changing_controls_updates_table(app):
    app.controls["periods"].index = (1, 1)
    app.controls["service_area"].value = "Assessment"
    assert app.selection.periods == (Q2,)
    assert row(app.view.table, "Total", ["n", "good_or_better"]) == [3, 2]
    assert "Assessment" in app.table.value
    app.controls["measure"].value = "distribution"
    assert row(app.view.table, Q2, GRADES) == [0, 2, 1, 0]
    app.controls["measure"].value = "returns"
    assert row(app.view.table, "Total", ["allocated", "returned", "due"]) == [3, 2, 3]
    app.controls["measure"].value = "agreement"
    app.controls["by"].value = "service_area"
    assert row(app.view.table, "Assessment", ["n", "agreed", "n_downgraded", "n_upgraded"]) == [2, 0, 1, 1]
    assert app.controls["role"].disabled


def test_domain_breakdown_disables_domain_filter(app):
    app.controls["periods"].index = (1, 1)
    app.controls["measure"].value = "distribution"
    app.controls["by"].value = "domain"
    assert app.controls["domain"].disabled
    assert row(app.view.table, "Chronology", GRADES + ["n"]) == [0, 1, 0, 1, 2]


def test_no_match_shows_message_not_chart(app, tmp_path):
    app.controls["service_area"].value = "Front Door"
    app.controls["team"].value = "North"
    assert "No audits match these filters" in app.message.value
    assert app.chart.value == "" and app.table.value == ""
    assert app.export_button.disabled
    assert app.export() == []
    app.controls["team"].value = E.ALL
    assert app.message.value == "" and "<table" in app.table.value


def test_comparison_mode(app):
    app.controls["compare"].value = True
    for suffix in ("", "_b"):
        app.controls["periods" + suffix].index = (1, 1)
    app.controls["service_area"].value = "Front Door"
    app.controls["service_area_b"].value = "Assessment"
    c = app.comparison
    assert row(c, "A", ["events", "n"]) == [2, 2] and row(c, "B", ["events", "n"]) == [2, 3]
    assert "A − B = +33 percentage points" in app.compare_html.value
    assert "<table" in app.table_b.value
    assert app.current_table is c
    app.controls["compare"].value = False
    assert app.comparison is None and app.compare_html.value == ""


def test_export_writes_csv_and_excel(app, tmp_path):
    app.controls["periods"].index = (1, 1)
    app.controls["by"].value = "service_area"
    paths = app.export()
    assert [p.suffix for p in paths] == [".csv", ".xlsx"]
    assert all(p.parent == tmp_path / "exports" for p in paths)
    csv = pd.read_csv(paths[0], index_col=0, encoding="utf-8-sig")
    assert csv.loc["Front Door", "n"] == 2 and csv.loc["Total", "good_or_better"] == 4
    xl = pd.read_excel(paths[1], sheet_name=None, index_col=None, engine="openpyxl")
    assert set(xl) == {"table", "filters"}
    assert xl["table"].set_index("service_area").loc["Assessment", "n"] == 3
    assert "Exported" in app.export_status.value
    again = app.export()
    assert again[0] != paths[0]  # a second export never overwrites the first


def test_export_dir_defaults_to_outputs_exports(ds):
    assert V.Explorer(ds).export_dir == ds.params.output_root / "exports"


# ------------------------------------------------------------------ demo data against the quarterly tables
@pytest.fixture(scope="module")
def demo():
    from qa_lib.inputs.data import load_dataset
    from qa_lib.inputs.params import load_params
    from conftest import ROOT

    return load_dataset(load_params(ROOT / "params" / "demo.yaml"))


def _report_period_only(app):
    i = app.periods.index(app.ds.period.label)
    app.controls["periods"].index = (i, i)


@pytest.mark.parametrize("domain", ["Overall", "Voice of the child"])
def test_demo_slice_matches_quarterly_grades_by_service_area(demo, tmp_path, domain):
    app = V.Explorer(demo, export_dir=tmp_path)
    _report_period_only(app)
    area = sorted(demo.audits["service_area"].unique())[0]
    app.controls["service_area"].value = area
    app.controls["domain"].value = domain
    app.controls["measure"].value = "distribution"
    app.controls["by"].value = "service_area"
    quarterly = T.grades_by(demo, "service_area", domain=domain)
    cols = GRADES + ["n", "good_or_better"]
    assert quarterly.loc[area, "n"] > 0
    assert row(app.view.table, area, cols) == row(quarterly, area, cols)


def test_demo_domains_match_quarterly_grades_by_domain(demo, tmp_path):
    app = V.Explorer(demo, export_dir=tmp_path)
    _report_period_only(app)
    app.controls["role"].value = "auditor"  # the quarterly domain table counts auditor grades
    app.controls["measure"].value = "distribution"
    app.controls["by"].value = "domain"
    quarterly = T.grades_by_domain(demo)
    for domain in quarterly.index:
        assert row(app.view.table, domain, GRADES + ["n"]) == row(quarterly, domain, GRADES + ["n"])


def test_demo_returns_and_moderation_match_quarterly(demo, tmp_path):
    app = V.Explorer(demo, export_dir=tmp_path)
    _report_period_only(app)
    app.controls["measure"].value = "returns"
    app.controls["by"].value = "service_area"
    quarterly = T.returns_by(demo, "service_area")
    cols = ["allocated", "returned", "not returned", "exempt"]
    for area in quarterly.index:
        assert row(app.view.table, area, cols) == row(quarterly, area, cols)
    app.controls["measure"].value = "agreement"
    outcomes = T.moderation_outcomes(demo)["audits"]
    assert row(app.view.table, "Total", ["n", "agreed", "n_downgraded", "n_upgraded"]) == [
        outcomes["Moderated"], outcomes["Same grade"], outcomes["Downgraded"], outcomes["Upgraded"]]

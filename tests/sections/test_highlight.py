"""Highlight report sections (issue 16) and the verdict wording every report shares: nothing to compare
is said so, never "● No clear change" beside "0 of 0"; empty months named once; a missing actions file
is not "no actions raised"; each comparison shows its direction and size beside the verdict; titles
say their cadence; audit types are not pooled; a two-grade scale works."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest
import yaml

from qa_lib.inputs.data import load_dataset
from qa_lib.inputs.params import load_params, portable_values
from qa_lib.inputs.periods import parse_period
from qa_lib.present.charts_highlight import past_months_chart
from qa_lib.present.report import full_title, report_title
from qa_lib.sections import actions, change, highlight as H, narrative

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "published" / "example004-highlight-2021-22-q3"


def _fixture(tmp_path: Path, **overrides):
    values = portable_values(FIXTURE / "params.yaml")
    values["output_dir"] = str(tmp_path / "out")
    values.update(overrides)
    path = tmp_path / "params.yaml"
    path.write_text(yaml.safe_dump(values, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return load_dataset(load_params(path))


@pytest.fixture(scope="module")
def ds004(tmp_path_factory):
    return _fixture(tmp_path_factory.mktemp("ds004"))


# ---- item 3: wording --------------------------------------------------------------------------------
def test_no_earlier_data_is_said_not_no_clear_change():
    assert change.describe_comparison(5, 8, 0, 0) == "no earlier data to compare"
    assert change.describe_comparison(0, 0, 5, 8) == "no audits this period to compare"


def test_comparison_shows_direction_and_size_beside_the_verdict():
    # 30 of 40 vs 20 of 40: +25 points; Pearson X² = 80 (30·20 − 10·20)² / (40·40·50·30) = 5.33, p = 0.021
    text = change.describe_comparison(30, 40, 20, 40, q=0.15, k=9)
    assert re.fullmatch(r"▲ \+25 points \(likely \+\d+ to \+\d+\); p = 0\.021 for this area, but across the 9 areas "
                        r"checked \(q = 0\.15\) this could be chance", text), text
    assert change.describe_comparison(20, 40, 30, 40).startswith("▼ \u221225 points (likely \u2212")
    assert change.describe_comparison(30, 40, 20, 40, q=0.04, k=9).endswith(
        "across the 9 areas checked (q = 0.04) this is unlikely to be chance")
    assert change.describe_comparison(21, 40, 20, 40).endswith(": this could be chance")


def test_domain_with_no_earlier_audits_says_so_in_tables_and_summary(make_dataset):
    audits = pd.DataFrame({"audit_id": [f"A{i}" for i in range(12)], "case_id": [f"C{i}" for i in range(12)],
                           "audit_date": ["2024-08-01"] * 6 + ["2024-05-01"] * 6, "service_area": "East",
                           "auditor_id": "X"})
    rows = []
    for i in range(12):
        rows.append({"audit_id": f"A{i}", "rater_id": "X", "role": "auditor", "domain": "Overall", "grade": "Good"})
        if i < 6:  # only this quarter's audits grade the domain
            rows.append({"audit_id": f"A{i}", "rater_id": "X", "role": "auditor", "domain": "Direct work",
                         "grade": "Good" if i % 2 else "Inadequate"})
    ds = make_dataset(audits=audits, ratings=pd.DataFrame(rows))
    d = change.domain_changes(ds)
    assert d.loc["Direct work", "change_label"] == "no earlier data to compare"
    assert "No clear change" not in d.loc["Direct work", "change_label"]
    shown = change.comparison_display(d)
    assert shown.loc["Direct work", "reading"] == "no earlier data to compare"
    texts = narrative.summary(ds)
    assert any("No earlier data to compare for Direct work" in t for t in texts)
    assert not any("No clear change" in t and "Direct work" in t for t in texts)


def test_empty_months_left_out_and_named_once(tmp_path):
    ds = _fixture(tmp_path, period="2021-12", history_periods=5)  # July and August 2021 have no audits
    assert H.months(ds) == ["2021-07", "2021-08", "2021-09", "2021-10", "2021-11", "2021-12"]
    assert H.shown_months(ds) == ["2021-09", "2021-10", "2021-11", "2021-12"]
    note = H.empty_months_note(ds)
    assert note.count("July and August 2021") == 1
    for frame in (H.context(ds), H.participation(ds), H.compliance(ds), H.overall_by_month(ds)):
        assert not set(frame.index) & {"2021-07", "2021-08"}
    assert not {"2021-07", "2021-08"} & set(H.moderation(ds).columns)


def test_quarterly_history_table_drops_empty_periods():
    frame = pd.DataFrame({"n": [0, 5, 7]}, index=["2023-24 Q4", "2024-25 Q1", "2024-25 Q2"])
    assert list(change.without_empty_periods(frame).index) == ["2024-25 Q1", "2024-25 Q2"]
    assert change.empty_periods_note(frame) == "No audits in 2023-24 Q4; that period is left out of the table."


def test_missing_actions_file_is_not_no_actions_raised(tmp_path, make_dataset):
    given_empty = make_dataset()  # write_inputs writes an actions file with its header only
    assert actions.summary(given_empty) == "No audit actions were raised up to the end of this period."
    assert H.actions_note(given_empty).startswith("No actions were raised")
    ds = _fixture(tmp_path, data={k: v for k, v in portable_values(FIXTURE / "params.yaml")["data"].items()
                                  if k != "actions"})
    assert H.themes_and_actions(ds).empty
    assert H.actions_note(ds).startswith("No actions file was given")
    assert actions.summary(ds).startswith("No actions file was given")


def test_titles_say_their_cadence():
    assert full_title("highlight", parse_period("2021-11")) == "Monthly QA highlight report: November 2021"
    assert full_title("quarterly", parse_period("2021-22 Q3")) == "Quarterly QA report: 2021-22 Q3"
    assert report_title("quarterly", parse_period("2021-11")) == "Monthly QA report"
    assert report_title("moderation", parse_period("2021-22 Q3")) == "Quarterly moderation reliability report"


def test_first_month_return_rate_has_no_earlier_data(ds004):
    c = H.compliance(ds004)
    assert c.loc["2021-10", "against_previous_month"] == "no earlier data to compare"
    assert c.loc["2021-11", "against_previous_month"].startswith("▲ +16 points")  # 49/69 − 38/69 = 15.9 points


# ---- moderation direction -----------------------------------------------------------------------------
def test_moderation_direction_sentence_is_tested(ds004):
    texts = H.moderation_sentences(ds004)
    nov = next(t for t in texts if t.startswith("November 2021"))
    # 004: 11 downgrades, 1 upgrade of 37. Exact two-sided sign test: 2·(C(12,0) + C(12,1))/2^12 = 26/4096 = 0.0063
    assert "Moderators lowered 11 of 37 grades and raised 1: auditors graded more generously than moderators " \
           "(p = 0.006" in nov
    assert "9 downgraded Good → Requires improvement" in nov and "0 " not in nov.split(".")[0]
    octo = next(t for t in texts if t.startswith("October 2021"))
    # 3 downgrades, 0 upgrades: 2·(1/8) = 0.25, not a direction
    assert "lowered 3 of 15 grades and raised 0: too few changes, or too even, to show a direction" in octo
    assert "p = 0.250" in octo


# ---- cohort comparators -------------------------------------------------------------------------------
def test_cohort_audited_in_three_non_adjacent_months_gets_its_comparator(ds004):
    comp = H.cohort_comparators(ds004)
    cin = comp.loc["Child in need plan"]
    assert sorted(set(cin.index.get_level_values("occasion"))) == ["2021-01", "2021-05", "2021-11"]
    risk = cin.loc["There is timely identification, response and reduction of risk and need"]
    # fixture: 11 of 30 (January), 14 of 30 (May), 29 of 49 (November; 004 key themes "29 (59%)")
    assert risk[["good_or_better", "n"]].to_numpy().tolist() == [[11, 30], [14, 30], [29, 49]]
    assert (risk["good_or_better_low_share"] < risk["good_or_better_share"]).all()
    assert (risk["good_or_better_share"] < risk["good_or_better_high_share"]).all()
    ch = H.cohort_changes(ds004).loc["Child in need plan"]
    assert ch.loc["There is timely identification, response and reduction of risk and need", "difference_points"] == \
        pytest.approx(100 * (29 / 49 - 11 / 30))
    assert ch["q_value"].notna().all() and ch["trend_p"].notna().all()
    sentence = next(s for s in H.cohort_sentences(ds004) if s.startswith("Child in need plan"))
    assert "audited in January, May and November 2021" in sentence
    assert "rose in 5 area(s)" in sentence and "fell in 4" in sentence  # 004 3.1.4: 5 improved, 4 declined
    assert "of the 9 compared" in sentence
    assert "Benjamini–Hochberg" in sentence


def test_cohort_with_one_occasion_has_no_earlier_data(tmp_path):
    ds = _fixture(tmp_path, comparator_months=0)
    assert len(H.cohort_sentences(ds)) == 3
    assert all(change.NO_EARLIER in s for s in H.cohort_sentences(ds))


# ---- item 2: audit types ------------------------------------------------------------------------------
def _typed(make_dataset, **extra):
    audits = pd.DataFrame({
        "audit_id": [f"A{i}" for i in range(8)], "case_id": [f"C{i}" for i in range(8)],
        "audit_date": ["2024-07-10"] * 4 + ["2024-08-10"] * 4, "service_area": ["East", "West"] * 4,
        "auditor_id": "X", "audit_type": ["monthly", "", "monthly", "thematic", "monthly", "monthly", "external", "external"],
        "theme": ["", "", "", "Re-referrals", "", "", "Placement stability", "Placement stability"]})
    grades = ["Good", "Inadequate", "Good", "Inadequate", "Requires improvement", "Good", "Inadequate", "Inadequate"]
    ratings = pd.DataFrame({"audit_id": audits["audit_id"], "rater_id": "X", "role": "auditor", "domain": "Overall",
                            "grade": grades})
    return make_dataset(audits=audits, ratings=ratings, extra={"period": "2024-25 Q2", **extra})


def test_thematic_and_external_audits_have_their_own_section_with_trigger(make_dataset):
    ds = _typed(make_dataset, audit_triggers={"Re-referrals": "Re-referrals within 12 months rising"})
    assert set(H.programme_audits(ds)["audit_id"]) == {"A0", "A1", "A2", "A4", "A5"}  # blank type = monthly
    g = H.grade_by_service_area(ds)
    assert g.loc["TOTAL", "ALL"] == 5 and g.loc["TOTAL", "I"] == 1
    other = H.other_audits(ds)
    assert other.loc[("thematic", "Re-referrals"), "trigger"] == "Re-referrals within 12 months rising"
    assert other.loc[("external", "Placement stability"), "audits"] == 2
    assert other.loc[("external", "Placement stability"), "trigger"].startswith("not recorded")


def test_audit_types_pooled_only_when_params_say_so(make_dataset):
    ds = _typed(make_dataset, pool_audit_types=["thematic"])
    assert H.grade_by_service_area(ds).loc["TOTAL", "ALL"] == 6
    assert list(H.other_audits(ds).index) == [("external", "Placement stability")]


def test_other_audit_types_are_pooled_in_no_report(make_dataset):
    """Deliver 2: "never pooled with the monthly programme unless the params say so" holds in every report,
    not only the highlight: the quarterly grade tables (and everything built on ds.audits / ds.ratings)
    count the 5 programme audits of the fixture; with pool_audit_types: [thematic], 6."""
    from qa_lib.sections import tables

    ds = _typed(make_dataset)
    assert set(ds.audits["audit_id"]) == {"A0", "A1", "A2", "A4", "A5"}
    assert set(ds.other_audits["audit_id"]) == {"A3", "A6", "A7"} and set(ds.other_ratings["audit_id"]) == {"A3", "A6", "A7"}
    assert tables.grades_by(ds, "service_area").loc["Total", "n"] == 5
    assert tables.overall_by_period(ds).loc["2024-25 Q2", "Inadequate"] == 1  # A1 only: A3, A6, A7 are set aside
    pooled = _typed(make_dataset, pool_audit_types=["Thematic"])
    assert tables.grades_by(pooled, "service_area").loc["Total", "n"] == 6


def test_every_report_says_when_audits_of_another_type_were_set_aside(make_dataset, tmp_path):
    """Setting thematic and external audits aside is never silent: every report's data-quality section
    says which types were kept out and how many (internal), or only which types (published: 1 thematic
    audit is a small count); nothing is said when none were."""
    from qa_lib.present.report import Report
    from qa_lib.sections import narrative

    ds = _typed(make_dataset)
    internal = narrative.set_aside_audit_types(ds, published=False)
    assert internal.startswith("2 external and 1 thematic audit(s) are reported on their own")
    published = narrative.set_aside_audit_types(ds, published=True)
    assert "external and thematic" in published and not any(ch.isdigit() for ch in published)
    assert narrative.set_aside_audit_types(_typed(make_dataset, pool_audit_types=["Thematic", "External"]),
                                           published=False) == ""
    rpt = Report(ds.params, "quarterly", output_dir=tmp_path / "q")
    rpt._dataset = ds
    assert "2 external and 1 thematic audit(s)" in rpt.data_quality().markup


# ---- item 4: a two-grade scale -------------------------------------------------------------------------
def test_binary_scale_end_to_end(make_dataset):
    n = 24
    audits = pd.DataFrame({"audit_id": [f"A{i}" for i in range(n)], "case_id": [f"C{i}" for i in range(n)],
                           "audit_date": [f"2024-{7 + i % 3:02d}-05" for i in range(n)],
                           "service_area": ["East", "West"] * (n // 2), "auditor_id": "X",
                           "cohort": "Child in need"})
    rows = []
    for i in range(n):
        for d in ("Overall", "Voice of the child"):
            rows.append({"audit_id": f"A{i}", "rater_id": "X", "role": "auditor", "domain": d,
                         "grade": "Good" if i % 3 else "Not yet good"})
        if i % 4 == 0:
            rows.append({"audit_id": f"A{i}", "rater_id": "M", "role": "moderator", "domain": "Overall",
                         "grade": "Not yet good"})
    ds = make_dataset(audits=audits, ratings=pd.DataFrame(rows),
                      extra={"grades": ["Good", "Not yet good"], "good_or_better": 1})
    assert list(ds.scale.grades) == ["Good", "Not yet good"]
    g = H.grade_by_service_area(ds)
    assert list(g.columns) == ["G", "NYG", "ALL"] and g.loc["TOTAL", "ALL"] == n
    perf = H.performance_areas(ds)
    assert set(perf.index.get_level_values("measure")) == {"G/O", "Not yet good"}
    assert "two grades" not in H.scale_note(ds) and "2 grades" in H.scale_note(ds)
    assert H.moderation(ds).index.tolist()[:3] == ["Audits returned", "Moderated", "Same grade"]
    assert "Downgraded Good → Not yet good" in H.moderation(ds).index
    assert any("Good" in s for s in H.key_theme_sentences(ds))
    # the quarterly statistics on the same data: no failure, and the grade-distribution trend says what it needs
    assert len(change.trend_tests(ds)) == 2
    assert narrative.summary(ds)


def test_published_highlight_sentences_never_print_a_small_count(tmp_path):
    ds = _fixture(tmp_path, audience="published")
    texts = [*H.compliance_sentences(ds), *H.participation_sentences(ds), *H.moderation_sentences(ds),
             *H.key_theme_sentences(ds)]  # (cohort sentences count areas and occasions, not audits)
    small = re.compile(r"(?<![\d.,−+])[1-4](?![\d.%,])(?! points)")
    for t in texts:
        assert not small.search(re.sub(r"\d{4}|p [<=] [\d.]+|\(q = [\d.]+\)", "", t)), t
    nov = next(t for t in H.moderation_sentences(ds) if t.startswith("November 2021"))
    assert "lowered more grades than they raised: auditors graded more generously" in nov  # the verdict stays


def test_past_twelve_months_is_a_run_chart_below_twelve_points_and_says_why(ds004, tmp_path):
    view = H.past_months(ds004)  # 2021: audits in 8 months (January, February, April, May, September-December)
    assert not view.is_spc and list(view.frame.index) == ["2021-01", "2021-02", "2021-04", "2021-05", "2021-09",
                                                          "2021-10", "2021-11", "2021-12"]
    assert "only 8 of the past 12 months had audits" in view.reading
    assert view.reading.count("March, June, July and August 2021") == 1
    chart = past_months_chart(view)
    assert "run chart" in chart.title and "fewer than 12 months" in chart.title
    # 12 monthly points: an SPC chart (the demo has a monthly programme every month)
    demo = load_dataset(load_params(Path(__file__).resolve().parents[2] / "params" / "demo-highlight.yaml"))
    v = H.past_months(demo)
    assert v.is_spc and len(v.frame) == 12 and v.summary is not None
    assert past_months_chart(v) is not None
    # the comparison month (June, shown without arrows) is compared with May, which has audits: a real
    # reading, never a false "no earlier data to compare"; the display shows June without an arrow
    p = H.performance_areas(demo)
    june = p.xs("2024-06", level="month")
    assert not june["shown"].any() and (june["previous_n"] > 0).all()
    assert not june["reading"].eq("no earlier data to compare").any()
    display = H.performance_display(demo)
    assert not display["Jun 2024 G/O"].str.contains("[↑↓=]").any() and display["Jul 2024 G/O"].str.contains("[↑↓=]").all()


def test_occasions_and_lists_read_as_a_sentence():
    assert H._names(["2021-01", "2021-05", "2021-11"]) == "January, May and November 2021"
    months = [f"{2023 + (m - 1) // 12}-{(m - 1) % 12 + 1:02d}" for m in range(7, 22)]  # July 2023 .. September 2024
    assert H._names(months) == "every month from July 2023 to September 2024 (15 months)"
    assert H._names(["2024-01", "2024-03", "2024-04", "2024-05", "2024-06"]) == \
        "January 2024 and every month from March 2024 to June 2024 (4 months)"
    assert H._and(["Care Leavers", "Front Door"]) == "Care Leavers and Front Door"
    assert H._and(["Annual leave", "Sickness", "Training"]) == "Annual leave, Sickness and Training"


def test_sentences_and_display_say_nothing_their_published_table_hides(ds004):
    """A published report hands each sentence function the table as published (Report.view: hidden cells
    missing). A hidden figure is never quoted: the sentence says it is suppressed; the display shows the mark."""
    comp = H.compliance(ds004).astype(object)
    comp.loc["2021-11", "returned"] = float("nan")
    said = H.compliance_sentences(ds004, comp)
    assert any(s.startswith("November 2021: return rate figures suppressed") for s in said)
    assert not any("49 of" in s for s in said)  # November's 49 returned (004 section 1) is not quoted
    part = H.participation(ds004).astype(object)
    part.loc["2021-10", "took_part"] = float("nan")
    assert H.participation_sentences(ds004, part)[0].startswith("October 2021: participation figures suppressed")
    mod = H.moderation(ds004).astype(object)
    mod.loc["Downgraded", "2021-10"] = float("nan")
    oct_ = next(s for s in H.moderation_sentences(ds004, mod) if s.startswith("October 2021"))
    assert "not tested here: its counts are suppressed" in oct_ and "p =" not in oct_
    assert not any(s.startswith("Across the months shown") for s in H.moderation_sentences(ds004, mod))
    perf = H.performance_areas(ds004).astype(object)
    first = perf.index[perf["shown"].astype(bool)][0]
    perf.iloc[list(perf.index).index(first), perf.columns.get_loc("count")] = float("nan")
    shown = H.performance_display(ds004, perf)
    assert (shown == "c").to_numpy().sum() == 1


def test_performance_areas_with_only_overall_grades_is_an_empty_table(make_dataset):
    """A programme that grades only Overall has no practice domain to show: the performance-areas
    table is empty (its section says so), never a KeyError from grouping an empty frame."""
    from qa_lib.sections import highlight

    audits = "audit_id,case_id,audit_date,service_area,auditor_id\nA1,C1,2024-07-02,Front Door,X1\n"
    ratings = "audit_id,rater_id,role,domain,grade\nA1,X1,auditor,Overall,Good\n"
    ds = make_dataset(audits=audits, ratings=ratings)
    assert highlight.performance_areas(ds).empty

"""Performance indicators (issue 9): loading and validation, Making Data Count charts through the
indicator pipeline on published SPC examples and the demo data, benchmarks, audit evidence, report."""

from __future__ import annotations

import html as _html
import re
from pathlib import Path

import pandas as pd
import pytest
import yaml

from qa_lib.running import demo
from qa_lib.sections import indicators
from qa_lib.present.charts_indicators import indicator_chart
from qa_lib.inputs.data import load_dataset
from qa_lib.core.errors import ParamsError
from qa_lib.inputs.params import load_params

from conftest import ROOT, write_inputs

REF = Path(__file__).resolve().parents[1] / "reference" / "trend" / "data"


def _months(n: int, first: str = "2022-04") -> list[str]:
    return [str(p) for p in pd.period_range(first, periods=n, freq="M")]


def _load(folder: Path, *, indicators_csv: str | None = None, benchmarks_csv: str | None = None,
          extra: dict | None = None, **tables):
    """A dataset from hand-written tables plus indicators/benchmarks files (absent when None)."""
    path = write_inputs(folder, extra=extra, **tables)
    values = yaml.safe_load(path.read_text(encoding="utf-8"))
    for name, text in (("indicators", indicators_csv), ("benchmarks", benchmarks_csv)):
        if text is not None:
            (folder / f"{name}.csv").write_text(text, encoding="utf-8")
            values["data"][name] = f"{name}.csv"
    path.write_text(yaml.safe_dump(values, sort_keys=False), encoding="utf-8")
    return load_dataset(load_params(path))


def _indicator_csv(name: str, values, *, polarity: str, counts=None, target: str = "", first: str = "2022-04") -> str:
    lines = ["indicator,period,value,numerator,denominator,polarity,target"]
    for i, (label, v) in enumerate(zip(_months(len(values), first), values)):
        x, n = counts[i] if counts is not None else ("", "")
        lines.append(f"{name},{label},{v},{x},{n},{polarity},{target}")
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------------------
# the data contract
# --------------------------------------------------------------------------------------
def test_params_without_indicator_tables_still_load(make_dataset):
    ds = make_dataset()
    assert ds.indicators.empty and ds.benchmarks.empty
    assert indicators.assess(ds) == []
    assert indicators.summary_table(ds).empty and indicators.benchmark_table(ds).empty
    assert indicators.needs_look_table(ds).empty
    assert "No performance indicators" in indicators.headline(ds)


def test_bad_numbers_periods_polarity_and_duplicates_are_issues(tmp_path):
    text = ("Indicator,Period,Value,Numerator,Denominator,Polarity,Target\n"
            "Re-referrals,2024-04,22.5,27,120,lower is better,21\n"        # row 2 ok
            "Re-referrals,Apr-2024x,22.5,27,120,lower is better,21\n"      # row 3 bad period
            "Re-referrals,2024-05,twenty,27,120,lower is better,21\n"      # row 4 bad value
            "Re-referrals,2024-06,22.5,27,120,sideways,21\n"               # row 5 bad polarity
            "re-referrals ,2024-04,23.0,27,120,Lower is better,21\n"       # row 6 duplicate of row 2
            "Re-referrals,Jul 2024,30.0,27,120,lower is better,21\n"       # row 7 value not 27/120
            "Re-referrals,2024-25 Q2,22.5,,,lower is better,21\n")         # row 8 quarter in a monthly series
    ds = _load(tmp_path, indicators_csv=text)
    issues = ds.issues[ds.issues["table"] == "indicators"].set_index("row")
    assert issues.loc[3, "rule"] == "bad_period" and "9 characters (letters and digits) is not a period" in issues.loc[3, "message"]
    assert issues.loc[4, "rule"] == "bad_number" and issues.loc[4, "column"] == "value"
    assert issues.loc[5, "rule"] == "bad_polarity" and "higher is better, lower is better" in issues.loc[5, "message"]
    assert issues.loc[6, "rule"] == "duplicate" and "first seen at row 2" in issues.loc[6, "message"]
    assert issues.loc[7, "rule"] == "value_mismatch" and issues.loc[7, "severity"] == "warning"
    assert "22.5%" in issues.loc[7, "message"]  # 27/120 = 22.5%
    assert issues.loc[8, "rule"] == "mixed_periods" and "quarter" in issues.loc[8, "message"]
    assert ds.indicators["period"].tolist() == ["2024-04", "2024-07"]  # rows 2 and 7 kept
    assert ds.indicators["polarity"].unique().tolist() == ["lower"]


def test_benchmark_names_and_periods_that_do_not_match_are_listed_with_a_hint(tmp_path):
    ind = _indicator_csv("Re-referrals within 12 months", [22.5] * 12, polarity="lower is better",
                         counts=[(27, 120)] * 12, first="2023-04")
    bench = ("indicator,period,comparator,value,numerator,denominator\n"
             "Re-referrals within 12 months,2023-24,England,22.4,145600,650000\n"   # row 2 matches
             "Rereferals in 12 months,2023-24,England,22.4,,\n"                     # row 3 name typo
             "Re-referrals within 12 months,2019-20,National,21.9,,\n"              # row 4 period outside series
             "Caseload,2023-24 Q4,SN,16,,\n")                                       # row 5 unknown indicator
    ds = _load(tmp_path, indicators_csv=ind, benchmarks_csv=bench)
    issues = ds.issues[ds.issues["table"] == "benchmarks"].set_index("row")
    typo = issues.loc[3]
    assert typo["rule"] == "unmatched_indicator" and typo["severity"] == "rejected"
    assert "a value of 23 characters (letters and digits) is not an indicator in the indicators file" in typo["message"]
    assert "Rereferals" not in typo["message"] and pd.isna(typo["value"])  # issue 14: described, not quoted
    assert "did you mean 'Re-referrals within 12 months'?" in typo["message"]
    assert issues.loc[5, "rule"] == "unmatched_indicator"
    assert "'Re-referrals within 12 months'" in issues.loc[5, "message"]  # the hint lists the known names
    period = issues.loc[4]
    assert period["rule"] == "unmatched_period" and period["value"] == "2019-20"
    assert "2023-04 to 2024-03" in period["message"] and "Hint" in period["message"]
    listed = indicators.unmatched_benchmarks(ds)
    assert listed["row"].tolist() == [3, 4, 5]
    assert ds.benchmarks[["comparator", "period"]].values.tolist() == [["England", "2023-24"]]


def test_indicator_links_are_checked(tmp_path):
    path = write_inputs(tmp_path, extra={"indicator_links": {"Re-referrals": {"domian": "Chronology"}}})
    with pytest.raises(ParamsError, match=r"indicator_links.Re-referrals.*\{domain: <practice domain>\}"):
        load_params(path)


# --------------------------------------------------------------------------------------
# Making Data Count through the indicator pipeline, on published examples
# --------------------------------------------------------------------------------------
def test_montgomery_ex71_p_chart_flags_the_two_published_special_causes(tmp_path):
    # Montgomery, Introduction to SQC, Example 7.1: pbar 0.2313, UCL 0.4102, LCL 0.0524; samples 15 and 23 out.
    ref = pd.read_csv(REF / "spc_montgomery_p_ex71.csv")
    counts = list(zip(ref["defectives"], ref["n"]))
    values = [f"{100 * x / n:.1f}" for x, n in counts]
    ds = _load(tmp_path, indicators_csv=_indicator_csv("Nonconforming cans", values, polarity="lower is better",
                                                       counts=counts))
    [r] = indicators.assess(ds)
    assert r.chart == "p"
    last = r.spc.iloc[-1]
    assert last["centre"] == pytest.approx(0.2313, abs=5e-5)
    assert last["upl"] == pytest.approx(0.4102, abs=5e-5) and last["lpl"] == pytest.approx(0.0524, abs=5e-5)
    months = _months(30)
    out = set(r.spc.index[r.spc["outside_limits"]])
    assert out == {months[14], months[22]}  # samples 15 and 23
    assert {months[14], months[22]} <= set(r.concern_periods)  # lower is better: above UCL is a concern
    assert not r.needs_look  # sample 30 (6 of 50) is common cause


def test_ptd_xmr_example_flags_only_the_published_outlier(tmp_path):
    # NHSRplotthedots 0.2.2 vignettes/deviations.Rmd: 18 points, mean 1.94, UPL 4.60 (screened), point 5 special.
    ref = pd.read_csv(REF / "spc_ptd_deviations.csv")
    ds = _load(tmp_path, indicators_csv=_indicator_csv("Days waiting", ref["value"].tolist(), polarity="lower"))
    [r] = indicators.assess(ds)
    assert r.chart == "xmr"
    assert r.spc["centre"].iloc[-1] == pytest.approx(1.94, abs=0.005)
    assert r.spc["upl"].iloc[-1] == pytest.approx(4.60, abs=0.005)
    assert r.concern_periods == (_months(18)[4],)  # published: only point 5; higher is worse here
    assert r.variation == "common_cause" and not r.needs_look


def test_ptd_stable_alternating_series_is_not_flagged(tmp_path):
    # NHSRplotthedots issue #143 data: the last two points (5.5, -5.5) are common cause. By hand: mean 0,
    # no run of 7 on one side (the series alternates), no trend; moving ranges 13 x 2, 6.5 and 11, of which
    # 11 >= 3.267 x 43.5/15 is screened, so MR-bar = 32.5/14 and the limits are ±2.66 x 32.5/14 = ±6.175.
    ref = pd.read_csv(REF / "spc_ptd_two_in_three_opposite.csv")
    ds = _load(tmp_path, indicators_csv=_indicator_csv("Balance", ref["value"].tolist(), polarity="higher"))
    [r] = indicators.assess(ds)
    assert r.spc["upl"].iloc[-1] == pytest.approx(2.66 * 32.5 / 14, abs=1e-9)
    assert not r.spc["special_cause"].any()
    assert r.concern_periods == () and not r.needs_look
    assert r.variation_label.startswith("○")


# --------------------------------------------------------------------------------------
# the demo data: one real shift, the rest stable
# --------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def demo_ds():
    return load_dataset(load_params(ROOT / "params" / "demo.yaml"))


def test_demo_indicators_shape(demo_ds):
    ind = demo_ds.indicators
    assert ind["indicator"].nunique() == len(demo.INDICATORS) >= 12
    assert (ind.groupby("indicator").size() == 30).all()
    assert ind["period"].min() == "2022-04" and ind["period"].max() == "2024-09"
    assert ind["numerator"].notna().sum() >= 10 * 30 and ind["target"].notna().all()
    assert set(demo_ds.benchmarks["comparator"]) == {"England", "Statistical neighbours"}
    assert not demo_ds.issues["table"].isin(["indicators", "benchmarks"]).any()


def test_demo_shift_is_flagged_and_stable_indicators_are_not(demo_ds):
    results = {r.indicator: r for r in indicators.assess(demo_ds)}
    shifted = results[demo.SHIFT["indicator"]]
    assert shifted.needs_look and shifted.chart == "p"
    # the process changed from month 22 (January 2024): every one of the last 9 points is flagged
    assert set(_months(30)[demo.SHIFT["from_month"]:]) <= set(shifted.concern_periods)
    assert shifted.variation_label.startswith("▼ H")
    stable = [r for name, r in results.items() if name != demo.SHIFT["indicator"]]
    assert [r.indicator for r in stable if r.needs_look] == []
    summary = indicators.summary_table(demo_ds)
    assert summary.index[0] == demo.SHIFT["indicator"] and summary["needs_a_look"].sum() == 1


def test_every_demo_indicator_gets_a_chart_with_icons_in_words(demo_ds):
    for r in indicators.assess(demo_ds):
        chart = indicator_chart(r)
        assert chart is not None and "<svg" in chart.svg
        assert r.indicator in chart.alt and "Variation icon:" in chart.alt and "Assurance icon:" in chart.alt
        assert "Variation: " in chart.svg and "Assurance: " in chart.svg  # drawn as text, not colour alone


# --------------------------------------------------------------------------------------
# benchmarks
# --------------------------------------------------------------------------------------
def test_benchmark_with_counts_is_tested_and_rate_only_is_descriptive(tmp_path):
    # 24/30 vs 18/30: Newcombe 95% CI for the difference about -3 to +41 points (methods note §4).
    ind = _indicator_csv("Visits on time", ["70.0", "75.0", "70.0", "80.0"], polarity="higher is better",
                         counts=[(21, 30), (15, 20), (21, 30), (24, 30)], first="2024-06")
    bench = ("indicator,period,comparator,value,numerator,denominator\n"
             "Visits on time,2024-25 Q1,England,60.0,18,30\n"
             "Visits on time,2024-25 Q1,Statistical neighbours,70.0,,\n")
    ds = _load(tmp_path, indicators_csv=ind, benchmarks_csv=bench)
    table = indicators.benchmark_table(ds)
    eng = table.loc[("Visits on time", "England")]
    assert eng["difference"] == pytest.approx(20.0)
    assert round(eng["difference_low"]) == -3 and round(eng["difference_high"]) == 41
    assert eng["local_low"] < 80 < eng["local_high"] and pd.notna(eng["p_value"])
    sn = table.loc[("Visits on time", "Statistical neighbours")]
    assert pd.isna(sn["p_value"]) and sn["verdict"].startswith("Descriptive only: 10.0 points above")


# --------------------------------------------------------------------------------------
# audit evidence
# --------------------------------------------------------------------------------------
def _audits_improving_in_cohort():
    """Children looked after: 2, 4, 6, 8, 10 of 10 audits Good in five quarters (2023-24 Q2 .. 2024-25 Q2)."""
    audits, ratings = ["audit_id,case_id,audit_date,service_area,auditor_id,cohort"], ["audit_id,rater_id,role,domain,grade"]
    days = ["2023-08-15", "2023-11-15", "2024-02-15", "2024-05-15", "2024-08-15"]
    for q, (day, good) in enumerate(zip(days, (2, 4, 6, 8, 10))):
        for k in range(10):
            aid = f"A{q}{k}"
            audits.append(f"{aid},C{q}{k},{day},Children in Care,AUD1,Children looked after")
            ratings.append(f"{aid},AUD1,auditor,Overall,{'Good' if k < good else 'Requires improvement'}")
    return "\n".join(audits) + "\n", "\n".join(ratings) + "\n"


def test_indicator_concern_against_improving_audits_is_called_a_disagreement(tmp_path):
    # Lower is better; 13 months alternate 10/11, then 7 months at 13: the last 7 points are above the mean
    # (227/20 = 11.35), so the latest point is special cause concern.
    values = [10, 11] * 6 + [10] + [13] * 7
    audits, ratings = _audits_improving_in_cohort()
    ds = _load(tmp_path, audits=audits, ratings=ratings,
               indicators_csv=_indicator_csv("3+ placements", values, polarity="lower", first="2023-02"),
               extra={"indicator_links": {"3+ placements": {"cohort": "Children looked after"}}})
    [r] = indicators.assess(ds)
    assert r.needs_look
    [e] = indicators.audit_evidence(ds)
    assert e.good == (2, 4, 6, 8, 10) and e.n == (10,) * 5
    # Cochran-Armitage by hand: T = 20, pbar = 0.6, sum n(s - sbar)^2 = 100, X2 = 400 / 24 = 16.7 (p < 0.001)
    assert e.trend_word == "Improving" and e.trend_p < 0.001
    assert e.disagree and e.agreement.startswith("They disagree: the indicator is worsening while audit grades are improving")
    look = indicators.needs_look_table(ds)
    assert "Children looked after" in look.loc["3+ placements", "suggestion"]
    assert "10 of 10" in look.loc["3+ placements", "audit_evidence"]


def test_an_indicator_with_no_linked_audits_never_reads_no_clear_change(tmp_path):
    """Issue 16 (Deliver 3): an indicator linked to a cohort that has no audits in any period shown, and one
    whose linked cohort was audited in one period only, say so; neither may read "No clear change"."""
    values = [10, 11] * 6 + [10] + [13] * 7  # the latest point is special cause concern (see the test above)
    audits, ratings = _audits_improving_in_cohort()
    keep = [line for line in audits.splitlines() if not line.startswith(("A0", "A1", "A2", "A3"))]
    one_period = "\n".join(keep) + "\n"  # Children looked after audited in 2024-25 Q2 only
    csv = (_indicator_csv("3+ placements", values, polarity="lower", first="2023-02")
           + _indicator_csv("Re-referrals", values, polarity="lower", first="2023-02").split("\n", 1)[1])
    ds = _load(tmp_path, audits=one_period, ratings=ratings, indicators_csv=csv,
               extra={"indicator_links": {"3+ placements": {"cohort": "Children looked after"},
                                          "Re-referrals": {"cohort": "Care leaver"}}})
    ev = {e.indicator: e for e in indicators.audit_evidence(ds)}
    none, one = ev["Re-referrals"], ev["3+ placements"]
    assert none.n == (0,) * len(none.periods) and one.n[-1] == 10 and sum(one.n) == 10
    assert none.trend_word == "no linked audits to compare" and none.trend_p != none.trend_p  # NaN: no test
    assert one.trend_word == "no earlier data to compare"
    for e in (none, one):
        assert "no clear change" not in (e.trend_word + e.agreement).lower()
        assert e.agreement.endswith("audit grades can neither confirm nor contradict the indicator.") and not e.disagree
    assert none.agreement.startswith("There are no linked audits")
    assert none.history_text() == "no linked audits to compare in " + ", ".join(none.periods)  # never "0/0"
    assert "0/0" not in one.history_text() and one.history_text().startswith(f"{one.periods[-1]}: 10/10 (100%)")
    table = indicators.evidence_table(ds)
    look = indicators.needs_look_table(ds)
    text = table.to_string() + look.to_string()
    assert "No clear change" not in text and "0 of 0" not in text and "0/0" not in text
    assert look.loc["Re-referrals", "audit_evidence"] == f"Cohort 'Care leaver': no linked audits in {none.periods[-1]}"
    assert look.loc["Re-referrals", "audit_trend"].startswith("No linked audits to compare (")


# --------------------------------------------------------------------------------------
# the rendered reports
# --------------------------------------------------------------------------------------
@pytest.mark.slow
def test_indicators_report_charts_every_indicator_and_names_those_that_need_a_look(demo_run):
    page = (demo_run["out"] / "indicators.html").read_text(encoding="utf-8")
    text = _html.unescape(re.sub(r"<[^>]+>", " ", page))
    headings = [_html.unescape(h) for h in re.findall(r"<h3[^>]*>(.*?)</h3>", page)]
    assert sorted(headings) == sorted(demo.INDICATORS)
    imgs = re.findall(r"<img [^>]*>", page)
    charts = [i for i in imgs if "Making Data Count" in _html.unescape(i)]
    assert len(charts) == len(demo.INDICATORS)
    section = text.split("Indicators that need a look")[-1].split("Do the audits and the indicators agree?")[0]
    assert demo.SHIFT["indicator"] in section
    assert "Assessment and analysis" in section and "Good or better" in section and "Cochran–Armitage" in section
    assert "Suggest a thematic audit" in section
    assert "Descriptive only" in text and "No clear difference from England" in text
    quarterly = _html.unescape(re.sub(r"<[^>]+>", " ", (demo_run["out"] / "quarterly.html").read_text(encoding="utf-8")))
    q_section = quarterly.split("Indicators that need a look")[-1].split("Moderation")[0]
    assert demo.SHIFT["indicator"] in q_section and "Assessment and analysis" in q_section
    assert (demo_run["out"] / "tables" / "indicators-summary.csv").is_file()

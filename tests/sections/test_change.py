"""qa_lib.sections.change and qa_lib.present.charts_spc: intervals on every proportion, tested changes with BH, trend
tests with their scores, SPC charts whose icons are shapes + words.

Reference values: Newcombe RG, Stat Med 1998;17:857–872 (Wilson, Table I: 81/263 → 0.2553–0.3662,
0/20 → 0–0.1611) and 873–890 (Table II row a: 56/70 vs 48/80 → 0.0524 to 0.3339); methods note §4
(20/25 → 61–91%); R ``prop.trend.test`` example (Fleiss 1981 smokers 83/86, 90/93, 129/136, 70/82:
X² = 8.2249). SPC limits below are worked by hand in the comments.
"""

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from scipy.stats import chi2_contingency

from qa_lib.sections import change
from qa_lib.present import charts_spc
from qa_lib.inputs.data import load_dataset
from qa_lib.inputs.params import load_params
from qa_lib.stats.trend import spc, spc_summary

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "published" / "issue4-newcombe-example"
FAKE_DS = SimpleNamespace(params=SimpleNamespace(min_n=10))


def _audits_with_overall(per_period):
    """Audits + Overall ratings: ``per_period`` = [(first month 'YYYY-MM', good, n), ...]."""
    audits, ratings, k = [], [], 0
    for month, good, n in per_period:
        for i in range(n):
            k += 1
            aid = f"A{k:05d}"
            audits.append({"audit_id": aid, "case_id": f"C{k:05d}", "audit_date": f"{month}-{i % 28 + 1:02d}",
                           "service_area": "CSC", "auditor_id": "AUD1"})
            ratings.append({"audit_id": aid, "rater_id": "AUD1", "role": "auditor", "domain": "Overall",
                            "grade": "Good" if i < good else "Requires improvement"})
    return pd.DataFrame(audits), pd.DataFrame(ratings)


# -------------------------------------------------------------------- intervals
def test_with_intervals_matches_published_wilson_and_handles_edges():
    frame = pd.DataFrame({"good_or_better": [81, 0, 20, 3, 0], "n": [263, 20, 25, 5, 0]},
                         index=["a", "b", "c", "d", "e"])
    out = change.with_intervals(frame, FAKE_DS)
    assert out.loc["a", "good_or_better_low_share"] == pytest.approx(0.2553, abs=5e-5)  # Newcombe 1998a
    assert out.loc["a", "good_or_better_high_share"] == pytest.approx(0.3662, abs=5e-5)
    assert out.loc["b", "good_or_better_low_share"] == 0.0  # 0%: real range, not Wald's zero width
    assert out.loc["b", "good_or_better_high_share"] == pytest.approx(0.1611, abs=5e-5)
    assert out.loc["c", "good_or_better_summary"] == "20 of 25 (80%, likely 61–91%)"  # methods note §4
    assert out.loc["d", "small_n"] and "fewer than 10 audits" in out.loc["d", "good_or_better_summary"]
    assert not out.loc["c", "small_n"]
    assert np.isnan(out.loc["e", "good_or_better_low_share"]) and out.loc["e", "good_or_better_summary"] == "0 of 0 (no audits)"


def test_hundred_percent_keeps_a_range():
    out = change.with_intervals(pd.DataFrame({"good_or_better": [20], "n": [20]}), FAKE_DS)
    assert out["good_or_better_high_share"].iloc[0] == 1.0
    assert out["good_or_better_low_share"].iloc[0] == pytest.approx(1 - 0.1611, abs=5e-5)  # mirror of 0/20


def test_return_rate_interval_uses_allocated_minus_exempt():
    frame = pd.DataFrame({"allocated": [30], "returned": [20], "not returned": [5], "exempt": [5]}, index=["2024-07"])
    out = change.returns_with_intervals(frame, FAKE_DS)
    assert out["return_rate_summary"].iloc[0] == "20 of 25 (80%, likely 61–91%)"


# -------------------------------------------------------------------- this vs previous
def test_period_comparison_newcombe_published_row_a(make_dataset):
    audits, ratings = _audits_with_overall([("2024-04", 48, 80), ("2024-07", 56, 70)])
    ds = make_dataset(audits=audits, ratings=ratings)
    row = change.period_comparison(ds).iloc[0]
    assert row["difference_low_share"] == pytest.approx(0.0524, abs=5e-5)  # Newcombe 1998b Table II, a
    assert row["difference_high_share"] == pytest.approx(0.3339, abs=5e-5)
    p = chi2_contingency(np.array([[56, 14], [48, 32]]), correction=False)[1]
    assert row["p_value"] == pytest.approx(p) and row["q_value"] == row["p_value"]
    assert row["change_label"] == ("▲ Improving" if p < 0.05 else "● No clear change")
    shown = change.comparison_display(change.period_comparison(ds))
    assert shown["this_period"].iloc[0].startswith("56 of 70 (80%")


def test_domain_q_values_are_benjamini_hochberg_across_domains_shown():
    ds = load_dataset(load_params(FIXTURE / "params.yaml"))
    d = change.domain_changes(ds)
    # p from scipy on the fixture README table (this quarter first row)
    table = {"Voice of the child": (24, 30, 10, 30), "Management oversight": (12, 30, 25, 30),
             "Chronology": (23, 30, 15, 30), "Planning and outcomes": (20, 30, 18, 30), "Recording": (17, 30, 20, 30)}
    p = {k: chi2_contingency(np.array([[a, b - a], [c, e - c]]), correction=False)[1] for k, (a, b, c, e) in table.items()}
    from scipy.stats import fisher_exact
    p["Supervision"] = fisher_exact(np.array([[7, 1], [3, 2]]))[1]
    m = len(p)
    order = sorted(p, key=p.get)
    q, running = {}, 1.0
    for rank in range(m, 0, -1):
        running = min(running, p[order[rank - 1]] * m / rank)
        q[order[rank - 1]] = running
    for k in p:
        assert d.loc[k, "p_value"] == pytest.approx(p[k], rel=1e-9)
        assert d.loc[k, "q_value"] == pytest.approx(q[k], rel=1e-9)
    assert np.isnan(d.loc["Direct work", "q_value"]) and d.loc["Direct work", "change"] == "No clear change"
    assert d.loc["Supervision", "test"] == "fisher" and d.loc["Supervision", "small_n"]
    shown = change.comparison_display(d)
    assert shown.loc["Management oversight", "change_label"] == "▼ Worsening"  # symbol + word, never colour alone
    assert shown.loc["Chronology", "change_label"] == "● No clear change"


# -------------------------------------------------------------------- trend
def test_trend_cochran_armitage_published_fleiss_and_footnote_scores(make_dataset):
    # R prop.trend.test(c(83, 90, 129, 70), c(86, 93, 136, 82)): X-squared = 8.2249
    audits, ratings = _audits_with_overall([("2023-10", 83, 86), ("2024-01", 90, 93), ("2024-04", 129, 136),
                                            ("2024-07", 70, 82)])
    ds = make_dataset(audits=audits, ratings=ratings, extra={"history_periods": 3})
    t = change.trend_tests(ds)
    assert t.loc["% Good or better", "statistic"] == pytest.approx(8.2249, abs=5e-5)
    assert t.loc["% Good or better", "direction"] < 0  # the proportion falls
    assert t.loc["% Good or better", "periods"] == 4
    note = change.trend_footnote(ds)
    assert "2023-24 Q3 = 1" in note and "2024-25 Q2 = 4" in note
    assert "Inadequate = 1, Requires improvement = 2, Good = 3, Outstanding = 4" in note
    shown = change.trend_table(ds)
    assert list(shown.columns) == ["periods", "audits", "statistic", "p_value", "change_label", "note"]


def test_trend_with_one_period_is_not_tested(make_dataset):
    audits, ratings = _audits_with_overall([("2024-07", 5, 10)])
    t = change.trend_tests(make_dataset(audits=audits, ratings=ratings, extra={"history_periods": 2}))
    assert t["p_value"].isna().all() and (t["change"] == "No clear change").all()
    assert t["note"].str.contains("Periods with no audits left out").all()


# -------------------------------------------------------------------- SPC views and charts
def _view(events, totals, *, target=None, measure="Monthly % Good or better"):
    idx = [f"{2023 + (6 + i) // 12}-{(6 + i) % 12 + 1:02d}" for i in range(len(events))]
    frame = spc(pd.Series(events, index=idx), denominators=pd.Series(totals, index=idx), chart="p", target=target)
    return change.SPCView(measure, frame, spc_summary(frame), "", tuple(idx))


def test_spc_chart_marks_special_cause_with_shape_and_words():
    # 14 months alternating 23/50, 29/50 then 45/50: pbar = 409/750 = 0.54533, sigma = sqrt(pbar(1-pbar)/50)
    # = 0.07042, UPL = 0.7566; 0.90 is above it (improvement); 0.46/0.58 are inside the 2-sigma band
    # [0.404, 0.686] and alternate around the mean, so no other rule fires.
    view = _view([23, 29] * 7 + [45], [50] * 15)
    f = view.frame
    assert f["upl"].iloc[-1] == pytest.approx(0.7566, abs=5e-4)
    assert list(f.index[f["special_cause"]]) == [f.index[-1]]
    chart = charts_spc.spc_chart(view)
    assert "Variation: special cause – improvement" in chart.svg  # the icon's words are in the image
    assert "Special cause – improving" in chart.svg  # legend entry of the ▲ marker
    assert f"{f.index[-1]} 90% (special cause – improving" in chart.alt
    assert "Centre line 55%" in chart.alt and "latest process limits 33% to 76%" in chart.alt
    assert "trial limits" not in chart.title


def test_spc_assurance_icon_is_text_and_trial_limits_are_flagged():
    # 12 months of 40/50: pbar = 0.8, sigma = 0.05657, limits 0.630-0.970; target 0.5 < LPL -> consistently pass
    view = _view([40] * 12, [50] * 12, target=0.5, measure="Monthly return rate")
    assert view.summary.assurance == "consistent_pass"
    chart = charts_spc.spc_chart(view)
    assert "Assurance: consistently meets the target" in chart.svg and "Target 50%" in chart.alt
    assert "(trial limits)" in chart.title  # 12 points < 13
    assert "trial limits" in view.reading


def test_spc_not_drawn_below_twelve_months_says_why(make_dataset):
    audits, ratings = _audits_with_overall([("2024-07", 5, 10), ("2024-08", 6, 10), ("2024-09", 7, 10)])
    view = change.good_or_better_spc(make_dataset(audits=audits, ratings=ratings, extra={"history_periods": 0}))
    assert not view.drawn and charts_spc.spc_chart(view) is None
    assert "only 3 month(s)" in view.reason and "at least 12" in view.reason
    assert view.reading == ""


# -------------------------------------------------------------------- the demo report (rendered once per session)
@pytest.mark.slow
def test_demo_report_shows_intervals_tested_changes_and_spc(demo_run):
    html = (demo_run["out"] / "quarterly.html").read_text(encoding="utf-8")
    tables_dir = demo_run["out"] / "tables"
    for name in ("quarterly-overall_change.csv", "quarterly-domain_changes.csv", "quarterly-trend_tests.csv"):
        assert (tables_dir / name).exists(), name
    overall = pd.read_csv(tables_dir / "quarterly-overall_by_period.csv", encoding="utf-8-sig")
    assert {"good_or_better_low_share", "good_or_better_high_share", "good_or_better_summary"} <= set(overall.columns)
    assert (overall["good_or_better_low_share"] <= overall["good_or_better_share"]).all()
    assert "q (adjusted)" in html and "likely" in html
    assert any(word in html for word in ("▲ Improving", "● No clear change", "▼ Worsening"))
    assert "Statistical process control p chart of monthly % good or better" in html
    assert "Statistical process control p chart of monthly return rate" in html
    assert "Trend tests use period scores" in html


@pytest.mark.slow
@pytest.mark.browser
def test_demo_spc_charts_decode_and_summary_exists(demo_run):
    from browser import browser_page

    with browser_page(viewport={"width": 1200, "height": 900}) as page:
        page.goto((demo_run["out"] / "quarterly.html").as_uri())
        summary = page.locator("h2", has_text="Summary")
        assert summary.count() == 1
        bullets = summary.locator("xpath=following::ul[1]/li").all_inner_texts()
        assert any("% Good or better" in b and "likely" in b for b in bullets)
        spc_imgs = page.locator("figure.chart img[alt^='Statistical process control']")
        assert spc_imgs.count() == 2
        for i in range(2):
            assert spc_imgs.nth(i).evaluate("img => img.complete ? img.naturalWidth : 0") > 0, "an SPC chart did not decode"


def test_trend_scores_keep_real_positions_when_a_period_is_empty(make_dataset):
    # Issue 19 B2: 10, 12, 19, 20 of 20 in quarters 1, 2, 4, 5 (2023-24 Q4 has no audits).
    # Cochran–Armitage X² = T²/[p̄(1−p̄)Σn(s−s̄)²] (Armitage 1955; R prop.trend.test):
    # scores 1,2,4,5: s̄ = 3, T = 10(−2)+12(−1)+19(1)+20(2) = 27, Σn(s−s̄)² = 20·10 = 200,
    # p̄ = 61/80 → X² = 729/(0.7625·0.2375·200) = 20.128 (R: prop.trend.test(c(10,12,19,20), rep(20,4),
    # score = c(1,2,4,5)) gives X-squared = 20.128). Closed up to 1..4: T = 18.5, Σ = 100 → 18.900.
    audits, ratings = _audits_with_overall([("2023-07", 10, 20), ("2023-10", 12, 20), ("2024-04", 19, 20),
                                            ("2024-07", 20, 20)])
    ds = make_dataset(audits=audits, ratings=ratings, extra={"history_periods": 4})
    t = change.trend_tests(ds)
    pbar = 61 / 80
    assert t.loc["% Good or better", "statistic"] == pytest.approx(729 / (pbar * (1 - pbar) * 200), rel=1e-9)
    assert t.loc["% Good or better", "statistic"] == pytest.approx(20.13, abs=5e-3)
    assert t.loc["% Good or better", "statistic"] != pytest.approx(18.90, abs=5e-3)
    assert t.loc["% Good or better", "scores"] == "1, 2, 4, 5"
    assert "2023-24 Q4" in t.loc["% Good or better", "note"] and "real positions" in t.loc["% Good or better", "note"]
    # linear-by-linear on the same scores: M² = (N−1)r²; r computed here from the 80 units directly
    rows = np.repeat([1, 2, 4, 5], 20)
    good = np.concatenate([np.r_[np.ones(g), np.zeros(20 - g)] for g in (10, 12, 19, 20)])
    grade_score = np.where(good == 1, 3, 2)  # Good = 3, Requires improvement = 2 (worst = 1)
    r = np.corrcoef(rows, grade_score)[0, 1]
    assert t.loc["Grade distribution", "statistic"] == pytest.approx(79 * r * r, rel=1e-9)
    note = change.trend_footnote(ds)
    assert "quarters since the first period" in note and "2023-24 Q4 = 3" in note and "2024-25 Q2 = 5" in note

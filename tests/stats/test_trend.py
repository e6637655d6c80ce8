"""Tests for qa_lib.stats.trend against published reference values.

Every case of ``tests/reference/trend/cases.json`` is reproduced at its published precision
(tolerance from the case, or half a unit of the last published decimal). Each test names
the case id and its source. Other expected values are either published statements from the
shared methods note or closed-form arithmetic written out in the test — never output of
the code under test.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from qa_lib.core.errors import QAError, StatisticsError
from qa_lib.stats.results import TestResult
from qa_lib.stats.spc import _shift_ends, _trend_ends, _two_in_three_windows
from qa_lib.stats.trend import (
    XMR_LIMIT,
    XMR_NEAR_LIMIT,
    SPCSummary,
    adjust,
    assurance,
    classify_change,
    cochran_armitage,
    compare_two,
    describe_proportion,
    difference_ci,
    homogeneity,
    linear_by_linear,
    mann_kendall,
    proportion_ci,
    shift_points,
    spc,
    spc_summary,
    trend_points,
    two_in_three_points,
)

REF = Path(__file__).resolve().parents[1] / "reference" / "trend"
CASES = {c["id"]: c for c in json.loads((REF / "cases.json").read_text(encoding="utf-8"))["cases"]}


def data(name: str) -> pd.DataFrame:
    return pd.read_csv(REF / "data" / name)


def case(cid: str) -> dict:
    return CASES[cid]


def tol(c: dict, key: str) -> float:
    t = c["tolerance"]
    return t.get(key, t.get("*"))


def close(actual: float, c: dict, key: str, expected: float | None = None) -> None:
    exp = c["expected"][key] if expected is None else expected
    assert actual == pytest.approx(exp, abs=tol(c, key)), f"{c['id']} {key}: {actual} vs published {exp}"


# ======================================================================================
# one proportion: Wilson and Clopper-Pearson
# ======================================================================================
@pytest.mark.parametrize("cid", ["W_81_263", "W_0_20"])
def test_wilson_and_clopper_pearson_newcombe_1998a(cid):
    # W_81_263, W_0_20 — Newcombe, Stat Med 1998;17:857-872, Table I (methods 3 and 5)
    c = case(cid)
    x, n = c["options"]["x"], c["options"]["n"]
    row = data("wilson_cp_newcombe1998a.csv").query("x == @x and n == @n").iloc[0]
    lo, hi = proportion_ci(x, n, method="wilson")
    assert lo == pytest.approx(c["expected"]["wilson"][0], abs=tol(c, "*"))
    assert hi == pytest.approx(c["expected"]["wilson"][1], abs=tol(c, "*"))
    assert (lo, hi) == pytest.approx((row.wilson_lower, row.wilson_upper), abs=tol(c, "*"))
    lo, hi = proportion_ci(x, n, method="clopper-pearson")
    assert lo == pytest.approx(c["expected"]["clopper_pearson"][0], abs=tol(c, "*"))
    assert hi == pytest.approx(c["expected"]["clopper_pearson"][1], abs=tol(c, "*"))
    assert (lo, hi) == pytest.approx((row.cp_lower, row.cp_upper), abs=tol(c, "*"))


def test_wilson_statements_in_methods_note():
    # methods.md §4 (shared reference note): "20/25 = 80% has a Wilson CI of 61-91%; 40/50 gives 67-89%"
    for (x, n), (lo_pct, hi_pct) in {(20, 25): (61, 91), (40, 50): (67, 89)}.items():
        lo, hi = proportion_ci(x, n)
        assert (round(100 * lo), round(100 * hi)) == (lo_pct, hi_pct)


def test_wilson_closed_form_and_vectorised():
    # Wilson formula written out: (p + z²/2n ± z sqrt(p(1-p)/n + z²/4n²)) / (1 + z²/n)
    z = stats.norm.ppf(0.975)
    x, n = 18, 24
    p = x / n
    centre = (p + z**2 / (2 * n)) / (1 + z**2 / n)
    half = z * math.sqrt(p * (1 - p) / n + z**2 / (4 * n**2)) / (1 + z**2 / n)
    lo, hi = proportion_ci(np.array([x, 0, 5]), np.array([n, 0, 5]))
    assert lo[0] == pytest.approx(centre - half, abs=1e-12)
    assert hi[0] == pytest.approx(centre + half, abs=1e-12)
    assert math.isnan(lo[1]) and math.isnan(hi[1])  # n = 0 -> (nan, nan)
    assert hi[2] == 1.0  # 5/5: upper limit exactly 1, lower strictly below
    assert lo[2] < 1.0
    assert all(math.isnan(v) for v in proportion_ci(0, 0))


def test_proportion_ci_rejects_bad_input():
    with pytest.raises(StatisticsError, match="0 <= x <= n"):
        proportion_ci(5, 4)
    with pytest.raises(StatisticsError, match="whole-number"):
        proportion_ci(2.5, 4)
    with pytest.raises(StatisticsError, match="Wald"):
        proportion_ci(2, 4, method="wald")


# ======================================================================================
# difference of two proportions: Newcombe hybrid score (methods 10 and 11)
# ======================================================================================
@pytest.mark.parametrize("cid", ["N_a", "N_d", "N_g"])
def test_newcombe_difference_1998b(cid):
    # N_a, N_d, N_g — Newcombe, Stat Med 1998;17:873-890, Table II (method 10; method 11 = CC);
    # CC values also in WUSS 2016 paper 127 p.9
    c = case(cid)
    row = data("newcombe_diff_1998b.csv").set_index("example").loc[c["options"]["row"]]
    args = (int(row.x1), int(row.n1), int(row.x2), int(row.n2))
    lo, hi = difference_ci(*args)
    assert lo == pytest.approx(c["expected"]["hybrid_score"][0], abs=tol(c, "*"))
    assert hi == pytest.approx(c["expected"]["hybrid_score"][1], abs=tol(c, "*"))
    assert (lo, hi) == pytest.approx((row.m10_lower, row.m10_upper), abs=tol(c, "*"))
    if "hybrid_score_cc" in c["expected"]:
        lo, hi = difference_ci(*args, correction=True)
        assert lo == pytest.approx(c["expected"]["hybrid_score_cc"][0], abs=tol(c, "*"))
        assert hi == pytest.approx(c["expected"]["hybrid_score_cc"][1], abs=tol(c, "*"))
        assert (lo, hi) == pytest.approx((row.m11_cc_lower, row.m11_cc_upper), abs=tol(c, "*"))


def test_issue_24_of_30_vs_18_of_30_newcombe_to_whole_points():
    # methods.md §4: "24/30 vs 18/30 (80% -> 60%) has a Newcombe CI for the difference of
    # -3 to +41 points: a 20-point month-on-month drop can be noise."
    lo, hi = difference_ci(24, 30, 18, 30)
    assert (round(100 * lo), round(100 * hi)) == (-3, 41)
    res = compare_two(24, 30, 18, 30)
    # closed form: expected counts 21/9 in each row, all >= 5 -> uncorrected Pearson chi-squared
    # X² = N(ad-bc)²/(r1 r2 c1 c2) = 60 (24*12 - 6*18)² / (30*30*42*18)
    x2 = 60 * (24 * 12 - 6 * 18) ** 2 / (30 * 30 * 42 * 18)
    assert res.extra["test"] == "chi2"
    assert res.statistic == pytest.approx(x2, rel=1e-12)
    assert res.pvalue == pytest.approx(stats.chi2.sf(x2, 1), rel=1e-12)
    assert "no Yates" in res.method
    assert res.extra["difference"] == pytest.approx(0.2)
    assert (res.extra["diff_ci_low"], res.extra["diff_ci_high"]) == (lo, hi)
    assert classify_change(res, -0.2) == "No clear change"


def test_newcombe_method10_agrees_with_statsmodels():
    # statsmodels confint_proportions_2indep(method="newcomb") is the maintained implementation
    from statsmodels.stats.proportion import confint_proportions_2indep

    for args in [(56, 70, 48, 80), (5, 56, 0, 29), (10, 10, 0, 20), (3, 20, 9, 21)]:
        ours = difference_ci(*args)
        ref = confint_proportions_2indep(*args, method="newcomb", compare="diff")
        assert ours == pytest.approx(tuple(float(v) for v in ref), abs=1e-12)


def test_difference_ci_empty_group_is_nan():
    assert all(math.isnan(v) for v in difference_ci(0, 0, 3, 10))


# ======================================================================================
# 2x2 tests: Fisher / chi-squared
# ======================================================================================
def test_fisher_tea_tasting_f1():
    # F1 — R fisher.test output, Penn State STAT 504 "TeaLady"; Agresti 2002 §3.5
    c = case("F1")
    row = data("fisher_tables.csv").set_index("case").loc[c["options"]["row"]]
    res = compare_two(int(row.a), int(row.a + row.b), int(row.c), int(row.c + row.d))
    assert res.extra["test"] == "fisher"  # expected counts are 2 < 5
    assert "Fisher" in res.method and "two-sided" in res.method
    close(res.pvalue, c, "p_two_sided")
    table = [[row.a, row.b], [row.c, row.d]]
    close(stats.fisher_exact(table, alternative="greater").pvalue, c, "p_greater")
    # conditional MLE odds ratio (as R prints) — scipy's fisher statistic is the sample OR ad/bc
    close(stats.contingency.odds_ratio(np.array(table, dtype=int), kind="conditional").statistic, c, "cond_mle_or")
    assert res.statistic == pytest.approx(row.a * row.d / (row.b * row.c))
    # the exact Cochran-Armitage test on a 2-group table is the same hypergeometric tail
    ca = cochran_armitage([row.a, row.c], [row.a + row.b, row.c + row.d], scores=[0, 1], exact=True)
    close(ca.pvalue, c, "p_two_sided")


def test_compare_two_no_variation_is_not_p_equal_1():
    res = compare_two(0, 20, 0, 25)
    assert math.isnan(res.pvalue) and "No variation" in res.note
    res = compare_two(20, 20, 25, 25)
    assert math.isnan(res.pvalue) and "No variation" in res.note
    assert classify_change(res, 0.0) == "No clear change"


# ======================================================================================
# k periods: Cochran-Armitage and homogeneity
# ======================================================================================
def test_cochran_armitage_prop_trend_test_ca1():
    # CA1 — R prop.trend.test help example (Fleiss 1981 p.139); printed output in R-help
    # 'Chi-squared Test for Trend in Proportions', R. Barradas, 8 Sep 2023
    c = case("CA1")
    d = data("ca_smokers_fleiss.csv")
    res = cochran_armitage(d.events, d.trials, scores=c["options"]["scores"])
    close(res.statistic, c, "X2")
    close(res.pvalue, c, "p")
    assert res.df == c["expected"]["df"]
    # CA1 notes: z = -2.868 (proportion falls with score); Mantel form 8.2249*(N-1)/N = 8.2042, N = 397
    assert res.extra["z"] == pytest.approx(-2.868, abs=5e-4)
    assert res.n == 397
    assert res.extra["mantel_X2"] == pytest.approx(8.2042, abs=5e-5)
    assert "prop.trend.test" in res.method and "[1.0, 2.0, 3.0, 4.0]" in res.method
    # default scores are 1..k
    assert cochran_armitage(d.events, d.trials).statistic == res.statistic


def test_cochran_armitage_mantel_form_equals_linear_by_linear_on_2_columns():
    # Mantel M² = (N-1) r² on the k x 2 table with column scores (1, 0) — coin / statsmodels form
    d = data("ca_smokers_fleiss.csv")
    ca = cochran_armitage(d.events, d.trials)
    lbl = linear_by_linear(np.column_stack([d.events, d.trials - d.events]), col_scores=[1, 0])
    assert ca.extra["mantel_X2"] == pytest.approx(lbl.statistic, rel=1e-12)
    n = d.trials.sum()
    assert lbl.extra["z"] == pytest.approx(ca.extra["z"] * math.sqrt((n - 1) / n), rel=1e-12)


def test_cochran_armitage_sign_and_no_variation():
    rising = cochran_armitage([5, 10, 15, 20], [25, 25, 25, 25])
    assert rising.extra["z"] > 0
    # closed form: pbar = 0.5, sbar = 2.5, T = 5(-1.5)+10(-0.5)+15(0.5)+20(1.5) = 25,
    # sum n(s-sbar)² = 25 * (2.25+0.25+0.25+2.25) = 125, X² = 625 / (0.25 * 125) = 20
    assert rising.statistic == pytest.approx(20.0, rel=1e-12)
    for ev in ([0, 0, 0], [20, 25, 30]):
        res = cochran_armitage(ev, [20, 25, 30])
        assert math.isnan(res.pvalue) and "No variation" in res.note


def test_cochran_armitage_exact_closed_form():
    # events (0, 2) of totals (2, 2), scores (0, 1): given 2 events, x2 ~ hypergeometric(4, 2, 2):
    # P(x2 = 0, 1, 2) = 1/6, 4/6, 1/6; observed x2 = 2 is as extreme as x2 = 0 -> p = 2/6
    res = cochran_armitage([0, 2], [2, 2], scores=[0, 1], exact=True)
    assert res.pvalue == pytest.approx(2 / 6, rel=1e-12)
    assert "exact" in res.method


def test_homogeneity_h1():
    # H1 — R prop.test(smokers, patients), k = 4 so no continuity correction; matstat.org 'proptest'
    c = case("H1")
    d = data("ca_smokers_fleiss.csv")
    res = homogeneity(d.events, d.trials)
    close(res.statistic, c, "X2")
    close(res.pvalue, c, "p")
    assert res.df == c["expected"]["df"]
    assert "no continuity correction" in res.method


def test_homogeneity_no_variation():
    res = homogeneity([0, 0, 0], [10, 12, 9])
    assert math.isnan(res.pvalue) and "No variation" in res.note


# ======================================================================================
# linear-by-linear
# ======================================================================================
def test_linear_by_linear_jobsat_l2():
    # L2 — DescTools::MHChisqTest help (Agresti 2002 Table 2.8); Pearson/G2 from vcdExtra::assocstats(JobSat)
    c = case("L2")
    d = data("lbl_jobsat_agresti.csv")
    table = d[["very_dissatisfied", "little_dissatisfied", "moderately_satisfied", "very_satisfied"]].to_numpy()
    assert list(d.income_score) == c["options"]["row_scores"]
    res = linear_by_linear(table, row_scores=c["options"]["row_scores"], col_scores=c["options"]["col_scores"])
    close(res.statistic, c, "M2")
    close(res.pvalue, c, "p")
    close(res.extra["pearson_X2"], c, "pearson_X2")
    close(res.extra["pearson_pvalue"], c, "pearson_p")
    close(res.extra["G2"], c, "G2")
    close(res.extra["G2_pvalue"], c, "G2_p")
    # M² = (N-1) r², r = Pearson correlation of the scores over all N units (expanded here)
    rows = np.repeat(np.repeat(c["options"]["row_scores"], 4), table.ravel())
    cols = np.repeat(np.tile(c["options"]["col_scores"], 4), table.ravel())
    r = np.corrcoef(rows, cols)[0, 1]
    assert res.statistic == pytest.approx((table.sum() - 1) * r**2, rel=1e-10)


def test_linear_by_linear_default_scores_and_errors():
    t = np.array([[5, 3, 1], [2, 4, 6]])
    a = linear_by_linear(t)
    b = linear_by_linear(t, row_scores=[1, 2], col_scores=[1, 2, 3])
    assert a.statistic == b.statistic
    with pytest.raises(StatisticsError, match="scores"):
        linear_by_linear(t, row_scores=[1, 2, 3])
    assert "No variation" in linear_by_linear(np.array([[0, 0], [3, 4]])).note


# ======================================================================================
# Mann-Kendall
# ======================================================================================
def test_mann_kendall_holy_cross_mk1():
    # MK1 — D. Little, 'A Mann-Kendall example (by hand)', College of the Holy Cross
    c = case("MK1")
    d = data("mk_holycross_byhand.csv")
    res = mann_kendall(d.value)
    close(res.statistic, c, "S")
    close(res.extra["var_S"], c, "var_S")
    close(res.extra["z"], c, "z")
    close(res.extra["p_increasing"], c, "p_one_sided")
    close(res.extra["p_one_sided"], c, "p_one_sided")
    # two-sided p is twice the one-sided normal tail (pymannkendall prints 0.00366)
    assert res.pvalue == pytest.approx(2 * res.extra["p_increasing"], rel=1e-12)
    assert "two-sided" in res.method and "continuity" in res.method
    # Sen slope (peer-only value 0.5667): median pairwise slope, as scipy.stats.theilslopes
    assert res.extra["sen_slope"] == pytest.approx(stats.theilslopes(d.value, d.t).slope, rel=1e-12)


def test_mann_kendall_short_series_and_ties():
    # 4 quarters: smallest exact two-sided p is 2/4! = 0.083 -> caution note
    res = mann_kendall([1, 2, 3, 4])
    assert res.statistic == 6 and "2/4!" in res.note
    # closed form with ties: y = 1,1,2,2 -> S = 4, Var = [4*3*13 - 2*(2*1*9)]/18 = (156-36)/18
    res = mann_kendall([1, 1, 2, 2])
    assert res.statistic == 4
    assert res.extra["var_S"] == pytest.approx((156 - 36) / 18)
    assert "No variation" in mann_kendall([3, 3, 3, 3]).note
    with pytest.raises(StatisticsError):
        mann_kendall([1, np.nan, 3])


# ======================================================================================
# SPC: XmR limits (Making Data Count)
# ======================================================================================
@pytest.mark.parametrize("cid,screen,upl_col,lpl_col", [
    ("SPC1_screened", True, "expected_upl_screened", "expected_lpl_screened"),
    ("SPC1_unscreened", False, "expected_upl_unscreened_excel", "expected_lpl_unscreened_excel"),
])
def test_spc_xmr_deviations_spc1(cid, screen, upl_col, lpl_col):
    # SPC1_* — NHSRplotthedots v0.2.2 (@050b07d) vignettes/deviations.Rmd figure captions
    c = case(cid)
    d = data("spc_ptd_deviations.csv")
    res = spc(d.value, screen_outliers=screen, improvement=c["options"]["improvement_direction"])
    close(res.centre.iloc[0], c, "mean")
    close(res.upl.iloc[0], c, "upl")
    close(res.lpl.iloc[0], c, "lpl")
    assert res.upl.to_numpy() == pytest.approx(d[upl_col].to_numpy(), abs=tol(c, "upl"))
    assert res.lpl.to_numpy() == pytest.approx(d[lpl_col].to_numpy(), abs=tol(c, "lpl"))
    assert res.point_type.iloc[4] == c["expected"]["point_type_5"]  # 5th point (1-based)
    assert int(res.special_cause.sum()) == c["expected"]["n_special"]
    assert list(res.point_type) == list(d.expected_point_type_both_modes)
    # near-limit band = mean ± (2/3)·2.66·MR-bar, written out from the published limits
    mrbar = (res.upl.iloc[0] - res.centre.iloc[0]) / 2.66
    assert res.near_upl.iloc[0] == pytest.approx(res.centre.iloc[0] + 2 * 2.66 / 3 * mrbar, rel=1e-12)


def test_spc_xmr_limits_closed_form():
    # values 1,2,1,2,10,1,2,... (SPC1 data): mean = 35/18; MRs: 15 ones, 8 and 9 -> MR-bar 32/17;
    # 8 and 9 >= 3.267*32/17 = 6.15 are screened -> MR-bar = 1
    d = data("spc_ptd_deviations.csv")
    res = spc(d.value)
    assert res.centre.iloc[0] == pytest.approx(35 / 18, rel=1e-12)
    assert res.upl.iloc[0] == pytest.approx(35 / 18 + 2.66 * 1.0, rel=1e-12)
    assert res.attrs["mr_screened"] == [2]
    raw = spc(d.value, screen_outliers=False)
    assert raw.upl.iloc[0] == pytest.approx(35 / 18 + 2.66 * 32 / 17, rel=1e-12)
    assert XMR_LIMIT == 2.66 and XMR_NEAR_LIMIT == pytest.approx(2 * 2.66 / 3)


# ======================================================================================
# SPC: MDC rules
# ======================================================================================
def _ints(text: str) -> np.ndarray:
    return np.array([int(float(v)) for v in text.split()], dtype=int)


def _parse_input(text: str) -> dict[str, np.ndarray]:
    out = {}
    for part in text.split(";"):
        k, v = part.strip().split("=")
        out[k] = np.array([float(t) for t in v.split()])
    return out


RULE_UNITS = data("spc_ptd_rule_units.csv")


@pytest.mark.parametrize("row", RULE_UNITS.to_dict("records"), ids=list(RULE_UNITS.case))
def test_mdc_rule_units_spc4(row):
    # SPC4 — NHSRplotthedots v0.2.2 tests/testthat/test-ptd_calculate_point_type.R (helper outputs);
    # final per-point flags derived with ptd_part_of_* semantics (every row of spc_ptd_rule_units.csv)
    case("SPC4")
    inp = _parse_input(row["input"])
    expected_final = _ints(row["expected_final_flag_per_point"])
    helper = row["helper_output_in_ptd_tests"]
    if row["rule"] == "seven_point_trend":
        final, ends = trend_points(inp["y"]), _trend_ends(inp["y"])
    elif row["rule"] == "seven_points_one_side_of_mean":
        side = inp["side"].astype(int)
        final, ends = shift_points(side), _shift_ends(side)
    else:
        cl, side = inp["close"].astype(int), inp["side"].astype(int)
        final, ends = two_in_three_points(cl, side), _two_in_three_windows(cl, side)
    assert list(final) == list(expected_final)
    if isinstance(helper, str) and helper.strip():
        assert list(ends) == list(_ints(helper))


def test_two_in_three_opposite_sides_spc3():
    # SPC3 — NHSRplotthedots v0.2.2 tests/testthat/test-ptd_spc_standard.R (issue #143):
    # two near-limit points on opposite sides of the mean are not a 2-of-3 signal
    c = case("SPC3")
    d = data("spc_ptd_two_in_three_opposite.csv")
    res = spc(d.value)
    assert res.point_type.iloc[14] == c["expected"]["point_type_15"]
    assert res.point_type.iloc[15] == c["expected"]["point_type_16"]
    assert list(res.point_type.iloc[14:]) == list(d.expected_point_type_last_two.iloc[14:])
    # both really are in the near-limit band (so it is the same-side condition that stops them)
    assert res.close_to_limits.iloc[14] and res.close_to_limits.iloc[15]


def test_shift_of_seven_fires_and_six_does_not():
    # ten points alternating 3, 1 then seven points 2.5, 2.6, ... all above the mean.
    y = [3, 1] * 5 + [2.5, 2.6, 2.5, 2.6, 2.5, 2.6, 2.5]
    mean = (20 + 17.8) / 17  # = 2.2235 < 2.5
    mrbar = (9 * 2 + 1.5 + 6 * 0.1) / 16  # no MR >= 3.267 * MR-bar, nothing screened
    res = spc(y)
    assert res.centre.iloc[0] == pytest.approx(mean)
    assert res.upl.iloc[0] == pytest.approx(mean + 2.66 * mrbar)
    assert list(res.special_cause) == [False] * 10 + [True] * 7
    assert set(res.rule.iloc[10:]) == {"7 Points Above CL"}
    assert set(res.point_type.iloc[10:]) == {"special_cause_improvement"}
    assert res.attrs["variation"] == "special_cause_improvement"
    # "lower is better" turns the same points into a concern
    assert set(spc(y, improvement="decrease").point_type.iloc[10:]) == {"special_cause_concern"}
    assert set(spc(y, improvement="neutral").point_type.iloc[10:]) == {"special_cause_neutral_high"}
    # only six points above the mean (mean (20 + 15.3)/16 = 2.21 < 2.5): no signal
    assert not spc(y[:-1]).special_cause.any()


def test_point_on_mean_breaks_a_shift():
    # 3 points above, one exactly on the mean, 3 above: never 7 in a row on one side
    side = [1, 1, 1, 0, 1, 1, 1, -1]
    assert shift_points(side).sum() == 0


def test_trend_of_six_does_not_fire_and_seven_does():
    # y = 4,2,4,2,4,2,4 then 1..6 (six strictly rising) then 3: mean 46/14, MR-bar 23/13
    y6 = [4, 2, 4, 2, 4, 2, 4, 1, 2, 3, 4, 5, 6, 3]
    res6 = spc(y6)
    assert res6.centre.iloc[0] == pytest.approx(46 / 14)
    assert res6.upl.iloc[0] == pytest.approx(46 / 14 + 2.66 * 23 / 13)
    assert not res6.special_cause.any()
    # 1..7 is seven strictly rising points: all seven flagged as an increasing trend
    y7 = [4, 2, 4, 2, 4, 2, 4, 1, 2, 3, 4, 5, 6, 7, 3]
    res7 = spc(y7)
    assert list(res7.special_cause) == [False] * 7 + [True] * 7 + [False]
    assert set(res7.rule.iloc[7:14]) == {"7 Point Trend (Increasing)"}
    assert set(res7.point_type.iloc[7:14]) == {"special_cause_improvement"}


def test_falling_trend_is_low_even_above_the_mean():
    # a trend is "high"/"low" by its direction, not by its side of the mean
    y = [1, 9, 1, 9, 1, 9, 1, 9, 8, 7, 6, 5, 4, 3, 9, 1]
    res = spc(y, improvement="increase")
    trend = res.rule.str.startswith("7 Point Trend")
    assert trend.sum() == 7
    assert set(res.rule[trend]) == {"7 Point Trend (Decreasing)"}
    assert set(res.point_type[trend]) == {"special_cause_concern"}


def test_outside_limit_takes_precedence_and_is_not_a_two_in_three_point():
    # alternating 0/1 then 4.0: mean = 13/19; MRs 17 x 1 and |1 - 4| = 3 (< 3.267 x 20/18, kept),
    # so MR-bar = 20/18 and UPL = 13/19 + 2.66 x 20/18 = 3.64 < 4.0
    y = [0, 1] * 9 + [4.0]
    mean = (9 + 4.0) / 19
    mrbar = (17 * 1 + 3) / 18
    res = spc(y)
    assert res.upl.iloc[-1] == pytest.approx(mean + 2.66 * mrbar)
    assert 4.0 > mean + 2.66 * mrbar
    assert res.rule.iloc[-1] == "Above UCL"
    assert not res.close_to_limits.iloc[-1]


def test_two_in_three_same_side_fires_only_on_near_limit_points():
    close = [0, 1, 0, 1, 0]
    side = [1, 1, 1, 1, -1]
    assert list(two_in_three_points(close, side)) == [0, 1, 0, 1, 0]


# ======================================================================================
# SPC: assurance and summary
# ======================================================================================
ASSURANCE = data("spc_ptd_assurance_cases.csv")


@pytest.mark.parametrize("row", ASSURANCE.to_dict("records"), ids=list(ASSURANCE.case))
def test_assurance_spc5(row):
    # SPC5 — NHSRplotthedots v0.2.2 tests/testthat/test-ptd_calculate_assurance_type.R (strict inequalities)
    case("SPC5")
    got = assurance(row["lpl"], row["upl"], row["target"], row["improvement_direction"])
    expected = None if pd.isna(row["expected_assurance"]) else row["expected_assurance"]
    assert got == expected


def test_assurance_through_spc_and_summary():
    d = data("spc_ptd_deviations.csv")
    # screened limits -0.716 .. 4.604 (SPC1): target 5 above UPL -> consistent fail when higher is better
    res = spc(d.value, target=5)
    assert res.attrs["assurance"] == "consistent_fail"
    s = spc_summary(res)
    assert isinstance(s, SPCSummary)
    assert s.assurance == "consistent_fail" and s.variation == "common_cause"
    assert s.n_points == 18 and not s.trial_limits
    assert "cannot reliably meet" in s.reading
    assert spc(d.value, target=-1).attrs["assurance"] == "consistent_pass"
    assert spc(d.value, target=2).attrs["assurance"] == "inconsistent"
    assert spc(d.value, target=2, improvement="neutral").attrs["assurance"] is None
    assert spc(d.value).attrs["assurance"] is None


def test_trial_limits_below_13_points():
    # NHSRplotthedots labels groups of <= 12 points "trial limits" (code threshold n < 13)
    y = [1, 2] * 7
    assert spc(y[:12]).attrs["trial_limits"] and spc_summary(spc(y[:12])).trial_limits
    assert "trial limits" in spc(y[:12]).attrs["reading"]
    assert not spc(y[:13]).attrs["trial_limits"]


def test_baseline_fixes_limits_on_first_points():
    # first 12 points alternate 1, 3: mean 2, MR-bar 2 -> UPL 2 + 2.66*2 = 7.32; then 10, 10 are above it
    y = [1, 3] * 6 + [10, 10]
    res = spc(y, baseline=12)
    assert res.centre.iloc[-1] == pytest.approx(2.0)
    assert res.upl.iloc[-1] == pytest.approx(2 + 2.66 * 2)
    assert list(res.rule.iloc[-2:]) == ["Above UCL", "Above UCL"]
    assert list(res.in_limits) == [True] * 12 + [False] * 2
    assert res.attrs["trial_limits"]  # limits rest on 12 points


def test_exclude_in_xmr_drops_point_and_its_moving_ranges():
    # exclude the 10: mean of the rest (1,2,1,2,1) = 7/5; MRs 1,1 (the 2 -> 10 and 10 -> 1 ranges
    # are not formed) plus 1,1 -> MR-bar 1, no screening needed
    y = pd.Series([1, 2, 1, 10, 1, 2], index=list("abcdef"))
    res = spc(y, exclude=["d"], screen_outliers=False)
    mean = (1 + 2 + 1 + 1 + 2) / 5
    assert res.centre.iloc[0] == pytest.approx(mean)
    # MRs within used points: |2-1|, |1-2|, (gap), |2-1| -> 3 ranges of 1
    assert res.upl.iloc[0] == pytest.approx(mean + 2.66 * 1.0)
    assert res.loc["d", "rule"] == "Above UCL"
    with pytest.raises(StatisticsError, match="labels"):
        spc(y, exclude=["z"])


def test_rebase_restarts_limits():
    y = pd.Series([1, 3] * 7 + [11, 13] * 7)
    res = spc(y, rebase=[14])
    assert res.centre.iloc[0] == pytest.approx(2.0) and res.centre.iloc[-1] == pytest.approx(12.0)
    assert not res.special_cause.any()
    assert list(res.segment.unique()) == [1, 2]


# ======================================================================================
# SPC: p chart (Montgomery Example 7.1)
# ======================================================================================
def _montgomery() -> pd.DataFrame:
    return data("spc_montgomery_p_ex71.csv").set_index("sample")


def test_p_chart_trial_limits_spc7_trial():
    # SPC7_trial — Montgomery, Introduction to SQC, Example 7.1 (orange-juice cans) trial limits
    c = case("SPC7_trial")
    m = _montgomery()
    res = spc(m.defectives, denominators=m.n, chart="p")
    close(res.centre.iloc[0], c, "pbar")
    close(res.upl.iloc[0], c, "ucl")
    close(res.lpl.iloc[0], c, "lcl")
    assert list(res.index[res.outside_limits]) == c["expected"]["out"]
    assert res.value.loc[15] == pytest.approx(22 / 50)


def test_p_chart_revised_limits_spc7_revised():
    # SPC7_revised — qicharts2 @1b9487e tests/testthat/test_montgomery.R, ex_7.1_5.rds
    # (Montgomery Example 7.1 revised limits): samples 15 and 23 excluded, still judged
    c = case("SPC7_revised")
    m = _montgomery()
    res = spc(m.defectives, denominators=m.n, exclude=c["options"]["exclude"])
    close(res.centre.iloc[0], c, "pbar")
    close(res.upl.iloc[0], c, "ucl")
    close(res.lpl.iloc[0], c, "lcl")
    assert list(res.index[res.outside_limits]) == c["expected"]["out"]
    assert list(res.index[res.excluded]) == [15, 23]


def test_p_chart_varying_n_and_clipping():
    # pbar = 10/40 = 0.25; n = 4 gives 0.25 - 3 sqrt(0.25*0.75/4) < 0 -> LPL clipped to 0
    res = spc([1, 9], denominators=[4, 36])
    assert res.centre.iloc[0] == pytest.approx(0.25)
    assert res.lpl.iloc[0] == 0.0
    assert res.upl.iloc[0] == pytest.approx(0.25 + 3 * math.sqrt(0.25 * 0.75 / 4))
    assert res.upl.iloc[1] == pytest.approx(0.25 + 3 * math.sqrt(0.25 * 0.75 / 36))


def test_p_prime_laney_closed_form():
    # Laney: z_i = (p_i - pbar)/sigma_i, sigma_z = mean|diff z| / 1.128, limits pbar ± 3 sigma_i sigma_z
    x = np.array([10, 30, 12, 28, 15])
    n = np.array([50, 50, 50, 50, 50])
    pbar = x.sum() / n.sum()
    sig = math.sqrt(pbar * (1 - pbar) / 50)
    z = (x / n - pbar) / sig
    sz = np.mean(np.abs(np.diff(z))) / 1.128
    res = spc(x, denominators=n, chart="p-prime")
    assert res.upl.iloc[0] == pytest.approx(min(1, pbar + 3 * sig * sz))
    assert res.lpl.iloc[0] == pytest.approx(max(0, pbar - 3 * sig * sz))


def test_spc_input_errors_raise_qaerror():
    with pytest.raises(StatisticsError, match="missing"):
        spc([1, np.nan, 3])
    with pytest.raises(StatisticsError, match="proportion"):
        spc([8, 9], denominators=[10, 10], target=80)
    with pytest.raises(StatisticsError, match="0 <= x <= n"):
        spc([11, 9], denominators=[10, 10])
    with pytest.raises(StatisticsError, match="case in every period"):
        spc([0, 9], denominators=[0, 10])
    with pytest.raises(QAError, match="improvement"):
        spc([1, 2, 3], improvement="up-ish")
    with pytest.raises(StatisticsError, match="spc_summary"):
        spc_summary(pd.DataFrame({"a": [1]}))


# ======================================================================================
# multiplicity, plain words
# ======================================================================================
def test_adjust_bh_with_nan():
    # BH by hand for (0.01, 0.04, 0.03): sorted 0.01, 0.03, 0.04 -> q = min over j>=i of p_(j) m/j:
    # q(0.04) = 0.04; q(0.03) = min(0.03*3/2, 0.04) = 0.04; q(0.01) = min(0.01*3, 0.04) = 0.03
    q = adjust([0.01, np.nan, 0.04, 0.03])
    assert math.isnan(q[1])
    assert [q[0], q[2], q[3]] == pytest.approx([0.03, 0.04, 0.04])
    s = adjust(pd.Series([0.01, 0.02], index=["Overall", "Safety"]), method="holm")
    assert list(s.index) == ["Overall", "Safety"] and list(s) == pytest.approx([0.02, 0.02])
    with pytest.raises(StatisticsError):
        adjust([0.5, 1.5])


def test_classify_change_words_and_symbols():
    sig = TestResult(statistic=9.0, pvalue=0.001)
    c = classify_change(sig, +0.2)
    assert c == "Improving" and c.symbol == "▲" and c.label == "▲ Improving"
    assert classify_change(sig, "down") == "Worsening"
    assert classify_change(sig, "down").label == "▼ Worsening"
    assert classify_change(sig, -1, improvement="decrease") == "Improving"
    assert classify_change(0.2, +1) == "No clear change"
    assert classify_change(0.2, +1).label.endswith("No clear change")
    assert classify_change(float("nan"), +1) == "No clear change"
    assert classify_change(0.04, +1, alpha=0.01) == "No clear change"
    assert classify_change(sig, +1, improvement="neutral") == "Rising"
    ca = cochran_armitage(*(lambda d: (d.events, d.trials))(data("ca_smokers_fleiss.csv")))
    assert classify_change(ca, ca.extra["z"]) == "Worsening"


def test_describe_proportion():
    # methods.md §6: "18 of 24 audits (75%) ... likely between 55% and 88%"
    assert describe_proportion(18, 24) == "18 of 24 (75%, likely 55–88%)"
    # W_0_20 Wilson 0-0.1611 -> 0-16%; its mirror 20/20 -> 84-100%
    assert describe_proportion(0, 20) == "0 of 20 (0%, likely 0–16%)"
    assert describe_proportion(20, 20) == "20 of 20 (100%, likely 84–100%)"
    assert "caution" in describe_proportion(3, 5) and "caution" not in describe_proportion(6, 10)
    assert describe_proportion(0, 0) == "0 of 0 (no audits)"


# ======================================================================================
# properties
# ======================================================================================
@settings(max_examples=150, deadline=None)
@given(st.integers(0, 60).flatmap(lambda n: st.tuples(st.integers(0, n), st.just(n))).filter(lambda t: t[1] > 0),
       st.integers(1, 60).flatmap(lambda n: st.tuples(st.integers(0, n), st.just(n))))
def test_intervals_contain_point_estimates(a, b):
    x1, n1 = a
    x2, n2 = b
    lo, hi = proportion_ci(x1, n1)
    assert 0 <= lo <= x1 / n1 <= hi <= 1 and hi > lo
    clo, chi = proportion_ci(x1, n1, method="clopper-pearson")
    assert 0 <= clo <= x1 / n1 <= chi <= 1 and chi > clo
    d = x1 / n1 - x2 / n2
    for corr in (False, True):
        dlo, dhi = difference_ci(x1, n1, x2, n2, correction=corr)
        assert -1 <= dlo <= d + 1e-12 and d - 1e-12 <= dhi <= 1


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 30), st.integers(1, 30)), min_size=2, max_size=6))
def test_ca_chi2_form_is_mantel_times_n_over_n_minus_1(groups):
    x = [min(a, b) for a, b in groups]
    n = [b for _, b in groups]
    res = cochran_armitage(x, n)
    if math.isnan(res.pvalue):
        assert "No variation" in res.note
        return
    N = sum(n)
    assert res.statistic == pytest.approx(res.extra["mantel_X2"] * N / (N - 1), rel=1e-9)
    assert 0 <= res.pvalue <= 1


def test_every_reference_case_is_reproduced():
    # every id in cases.json is loaded by a test in this file through case("<id>") (or a
    # parametrised list of ids), so a new reference case cannot be silently skipped
    source = Path(__file__).read_text(encoding="utf-8")
    missing = [cid for cid in CASES if f'"{cid}"' not in source]
    assert not missing, f"cases not reproduced: {missing}"

"""Issue 19 (statistics, second round): bugs B1, the peer-style traps, convenience API, new analyses.

Every expected value is a peer library's answer computed in the test (statsmodels, scikit-learn,
krippendorff — named at each assertion), a published value (cited), or closed-form arithmetic
written out here. Nothing is pasted program output.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import krippendorff
from sklearn.metrics import cohen_kappa_score
from statsmodels.stats.inter_rater import aggregate_raters
from statsmodels.stats.inter_rater import fleiss_kappa as sm_fleiss_kappa

from qa_lib.core.errors import StatisticsError
from qa_lib.stats import agreement as ag
from qa_lib.stats.results import Estimate

OFSTED = ["Outstanding", "Good", "Requires improvement", "Inadequate"]


# ======================================================================================
# B1: zero SE is a point mass
# ======================================================================================
def test_b1_zero_se_is_a_point_mass_not_nan():
    # 83 of 83 agree: AC1 = 1 with SE 0 (Gwet 2008 variance: every case contributes alike).
    t = np.zeros((4, 4))
    t[1, 1], t[2, 2] = 60, 23
    e = ag.gwet_ac_table(t, categories=OFSTED)
    assert e.estimate == pytest.approx(1.0) and e.se == 0
    bp = ag.benchmark_probability(e)
    # limit of Gwet's formula as se -> 0: all probability in the band holding the estimate
    assert bp["probability"].tolist() == [1.0, 0, 0, 0, 0, 0]
    assert bp.loc[bp["selected"], "band"].item() == "Almost perfect"
    # a point mass inside a band, and on a band's lower limit (goes to the band it reaches)
    assert ag.benchmark_probability(0.5, 0.0).loc[lambda f: f["selected"], "band"].item() == "Moderate"
    assert ag.benchmark_probability(0.6, 0.0).loc[lambda f: f["selected"], "band"].item() == "Substantial"
    # agrees with the limit of the normal formula for a tiny SE away from a boundary
    tiny = ag.benchmark_probability(0.5, 1e-9)
    assert tiny["probability"].to_numpy() == pytest.approx(ag.benchmark_probability(0.5, 0.0)["probability"].to_numpy())
    # only a missing SE gives NaN (and no band selected)
    nan = ag.benchmark_probability(0.5, math.nan)
    assert nan["probability"].isna().all() and not nan["selected"].any()


# ======================================================================================
# Item 2: never guess a shape or an order — one test per trap in issue 19
# ======================================================================================
def _pairs(seed: int = 5, n: int = 120, unused: str | None = "Inadequate"):
    """Auditor/moderator label pairs on the Ofsted scale, mostly agreeing, ``unused`` never given."""
    rng = np.random.default_rng(seed)
    used = [g for g in OFSTED if g != unused]
    a = rng.choice(len(used), size=n, p=[0.2, 0.5, 0.3][: len(used)] if len(used) == 3 else None)
    shift = rng.choice([-1, 0, 1], size=n, p=[0.1, 0.75, 0.15])
    b = np.clip(a + shift, 0, len(used) - 1)
    return np.asarray(used, dtype=object)[a], np.asarray(used, dtype=object)[b]


def _ac1_by_hand(a, b, scale):
    """Gwet (2008) AC1 written out: p_a = share equal, pi_k = mean of the two raters' shares, q = len(scale)."""
    q = len(scale)
    pa = np.mean(a == b)
    pi = np.array([(np.mean(a == k) + np.mean(b == k)) / 2 for k in scale])
    pe = (pi * (1 - pi)).sum() / (q - 1)
    return (pa - pe) / (1 - pe)


def test_trap_pandas_crosstab_alphabetical_order_is_refused_or_reordered():
    a, b = _pairs()
    ct = pd.crosstab(a, b)  # alphabetical: Good, Outstanding, Requires improvement; Inadequate dropped
    assert list(ct.columns) == ["Good", "Outstanding", "Requires improvement"]
    with pytest.raises(StatisticsError, match=r"categories=\[") as err:
        ag.cohen_kappa(ct, weights="quadratic")
    assert "alphabetical" in str(err.value)
    # with the declared scale: reordered, the unused grade put back -> scikit-learn's answer
    for wt in (None, "linear", "quadratic"):
        ours = ag.cohen_kappa(ct, categories=OFSTED, weights=wt).estimate
        assert ours == pytest.approx(cohen_kappa_score(a, b, labels=OFSTED, weights=wt), abs=1e-12)
    # direction counts: moderator grade later in the scale = downgraded (counted here by hand)
    pos = {g: i for i, g in enumerate(OFSTED)}
    down = sum(pos[y] > pos[x] for x, y in zip(a, b))
    up = sum(pos[y] < pos[x] for x, y in zip(a, b))
    m = ag.mcnemar(ct, categories=OFSTED)
    assert (m.extra["n_downgraded"], m.extra["n_upgraded"]) == (down, up)
    assert ag.direction_of_disagreement(ct, categories=OFSTED)["n_downgraded"] == down
    for fn in (ag.gwet_ac_table, ag.scott_pi_table, ag.bowker_symmetry, ag.stuart_maxwell, ag.mcnemar,
               ag.direction_of_disagreement):
        with pytest.raises(StatisticsError, match="categories="):
            fn(ct)


def test_trap_unused_grade_is_never_dropped():
    a, b = _pairs()
    ct = pd.crosstab(a, b)
    ac1 = ag.gwet_ac_table(ct, categories=OFSTED).estimate
    assert ac1 == pytest.approx(_ac1_by_hand(a, b, OFSTED), abs=1e-12)  # q = 4, as declared
    assert ac1 != pytest.approx(_ac1_by_hand(a, b, [g for g in OFSTED if g != "Inadequate"]), abs=1e-4)
    # an unlabelled array that is smaller than the declared scale is refused, not padded by guess
    with pytest.raises(StatisticsError, match="4 x 4"):
        ag.gwet_ac_table(ct.to_numpy(), categories=OFSTED)
    # a label outside the scale is named
    bad = ct.rename(columns={"Good": "Gd"})
    with pytest.raises(StatisticsError, match="Gd"):
        ag.cohen_kappa(bad, categories=OFSTED)


def test_trap_raters_by_units_orientation_krippendorff_package():
    rng = np.random.default_rng(11)
    truth = rng.integers(1, 5, size=20)
    X = np.where(rng.random((20, 3)) < 0.7, truth[:, None], rng.integers(1, 5, size=(20, 3))).astype(float)
    X[rng.random((20, 3)) < 0.1] = np.nan
    for lvl in ("nominal", "ordinal", "interval"):
        peer = krippendorff.alpha(reliability_data=X.T, level_of_measurement=lvl)  # package: raters x units
        ours = ag.krippendorff_alpha(X.T, level=lvl, categories=[1, 2, 3, 4], layout="raters x units", n_boot=0)
        assert ours.estimate == pytest.approx(peer, abs=1e-12)
        assert ag.krippendorff_alpha(X, level=lvl, categories=[1, 2, 3, 4], n_boot=0).estimate == \
            pytest.approx(peer, abs=1e-12)
    with pytest.raises(StatisticsError, match="layout='raters x units'") as err:
        ag.krippendorff_alpha(X.T, level="nominal", categories=[1, 2, 3, 4])
    assert "3 case files rated by 20 raters" in str(err.value) and "20 case files rated by 3 raters" in str(err.value)
    for fn in (ag.gwet_ac, ag.fleiss_kappa):
        with pytest.raises(StatisticsError, match="layout="):
            fn(X.T, categories=[1, 2, 3, 4])


def test_trap_statsmodels_count_table_only_through_counts():
    rng = np.random.default_rng(3)
    ratings = rng.choice(4, size=(30, 4), p=[0.1, 0.5, 0.3, 0.1])
    table, _ = aggregate_raters(ratings, n_cat=4)  # subjects x categories, rows sum to 4
    peer = sm_fleiss_kappa(table)
    assert ag.fleiss_kappa(counts=table, categories=[0, 1, 2, 3]).estimate == pytest.approx(peer, abs=1e-12)
    assert ag.fleiss_kappa(ratings, categories=[0, 1, 2, 3], layout="units x raters").estimate == \
        pytest.approx(peer, abs=1e-12)
    with pytest.raises(StatisticsError, match="counts=table") as err:
        ag.fleiss_kappa(table, categories=[0, 1, 2, 3])
    assert "aggregate_raters" in str(err.value)
    # counts with labelled columns are reordered to the scale like a two-rater table
    frame = pd.DataFrame(table, columns=["a", "b", "c", "d"])[["d", "b", "a", "c"]]
    assert ag.fleiss_kappa(counts=frame, categories=["a", "b", "c", "d"]).estimate == pytest.approx(peer, abs=1e-12)


def test_trap_square_ratings_frame_never_read_as_a_count_table():
    # 4 case files x 4 raters. Gwet p_a by hand: mean over units of sum_k r_k(r_k - 1)/(4*3)
    # unit 1: G G G G -> 12/12; unit 2: G G R R -> (2+2)/12; unit 3: O G G G -> 6/12; unit 4: R R R I -> 6/12
    # p_a = (1 + 1/3 + 1/2 + 1/2)/4 = 0.58333
    r = pd.DataFrame([["Good"] * 4, ["Good", "Good", "Requires improvement", "Requires improvement"],
                      ["Outstanding", "Good", "Good", "Good"],
                      ["Requires improvement"] * 3 + ["Inadequate"]], columns=["r1", "r2", "r3", "r4"])
    assert ag.percent_agreement(r, categories=OFSTED).estimate == pytest.approx((1 + 1 / 3 + 0.5 + 0.5) / 4, abs=1e-12)
    with pytest.raises(StatisticsError, match="table=") as err:
        ag.percent_agreement(r)
    assert "ratings (4 case files x 4 raters" in str(err.value) and "count table" in str(err.value)
    # a numeric 4x4 count table passed positionally is read as ratings only if asked; as table= it is a table
    counts = pd.DataFrame([[5, 1, 0, 0], [1, 8, 1, 0], [0, 2, 6, 1], [0, 0, 1, 3]], index=OFSTED, columns=OFSTED)
    with pytest.raises(StatisticsError, match="table="):
        ag.percent_agreement(counts, categories=OFSTED)  # columns are the categories: refused, both readings shown
    assert ag.percent_agreement(table=counts, categories=OFSTED).estimate == pytest.approx(22 / 29, abs=1e-12)


def test_sklearn_style_cohen_kappa_from_two_label_arrays():
    a, b = _pairs(seed=8, n=300, unused=None)
    with pytest.raises(StatisticsError, match="categories=") as err:
        ag.cohen_kappa(a, b)
    assert "labels seen" in str(err.value)
    for wt in (None, "linear", "quadratic"):
        e = ag.cohen_kappa(a, b, categories=OFSTED, weights=wt)
        assert e.estimate == pytest.approx(cohen_kappa_score(a, b, labels=OFSTED, weights=wt), abs=1e-12)
    # AC1 from two label arrays = the hand formula
    assert ag.gwet_ac_table(a, b, categories=OFSTED).estimate == pytest.approx(_ac1_by_hand(a, b, OFSTED), abs=1e-12)
    with pytest.raises(StatisticsError, match="rater_b"):
        ag.cohen_kappa(pd.Series(a))


# ======================================================================================
# Item 4.5: Conger's kappa and Brennan–Prediger against irrCAC
# ======================================================================================
def _raw4raters() -> pd.DataFrame:
    # irrCAC's cac.raw4raters (Gwet 2014, 12 units x 4 raters, grades 1-5, missing ratings);
    # the same data as tests/reference/agreement case AC-01.
    from pathlib import Path
    long = pd.read_csv(Path(__file__).resolve().parents[1] / "reference" / "agreement" / "data"
                       / "gwet_cac_raw4raters_12x4_long.csv")
    return long.pivot(index="case_id", columns="rater", values="grade")


def test_conger_kappa_irrcac_vignette():
    # irrCAC 1.0 vignette "overview", conger.kappa.raw(cac.raw4raters):
    # pa 0.8181818, pe 0.2334252, coeff 0.76282, se 0.14917, CI (0.435, 1)
    e = ag.conger_kappa(_raw4raters(), categories=[1, 2, 3, 4, 5], layout="units x raters")
    assert e.extra["p_a"] == pytest.approx(0.8181818, abs=5e-8)
    assert e.extra["p_e"] == pytest.approx(0.2334252, abs=5e-8)
    assert e.estimate == pytest.approx(0.76282, abs=5e-6)
    assert e.se == pytest.approx(0.14917, abs=5e-6)
    assert (round(e.ci_low, 3), round(e.ci_high, 3)) == (0.435, 1.0)


def test_brennan_prediger_irrcac_vignette():
    # irrCAC vignette, bp.coeff.raw(cac.raw4raters): pa 0.8181818, pe 0.2, coeff 0.77273, se 0.14472,
    # CI (0.454, 1), p-value 0.0002375609
    e = ag.brennan_prediger(_raw4raters(), categories=[1, 2, 3, 4, 5], layout="units x raters")
    assert e.extra["p_e"] == pytest.approx(0.2, abs=1e-12)
    assert e.estimate == pytest.approx(0.77273, abs=5e-6)
    assert e.se == pytest.approx(0.14472, abs=5e-6)
    assert (round(e.ci_low, 3), round(e.ci_high, 3)) == (0.454, 1.0)
    assert e.pvalue == pytest.approx(0.0002375609, rel=1e-6)
    # irrCAC's N: the variance is multiplied by 1 - n/N (Gwet 2014 §5; bp.coeff.raw(..., N = 24))
    half = ag.brennan_prediger(_raw4raters(), categories=[1, 2, 3, 4, 5], layout="units x raters", population=24)
    assert half.se == pytest.approx(e.se * math.sqrt(1 - 12 / 24), rel=1e-12)


# ======================================================================================
# Item 3: convenience without weakening item 2
# ======================================================================================
def test_krippendorff_infers_sorted_numeric_categories_for_interval_only():
    X = _raw4raters()
    for lvl in ("interval", "ratio"):
        e = ag.krippendorff_alpha(X, level=lvl, n_boot=0, layout="units x raters")
        peer = krippendorff.alpha(reliability_data=X.to_numpy().T, level_of_measurement=lvl)
        assert e.estimate == pytest.approx(peer, abs=1e-12)
        assert e.extra["categories_inferred"] and e.extra["categories"] == [1, 2, 3, 4, 5]
        assert "inferred" in e.method and "inferred" in e.note
    with pytest.raises(StatisticsError, match="categories="):
        ag.krippendorff_alpha(X, level="nominal", layout="units x raters")
    with pytest.raises(StatisticsError, match="numeric"):
        ag.krippendorff_alpha(pd.DataFrame({"a": ["x", "y"], "b": ["x", "x"]}), level="interval")


def test_level_and_one_sided_bounds():
    t = ag.count_table(np.array([[20, 5, 1], [4, 30, 6], [1, 3, 15]]), categories=["A", "B", "C"])
    base = ag.cohen_kappa(t)
    for level in (0.8, 0.9, 0.99):
        z = stats.norm.isf((1 - level) / 2)
        e = ag.cohen_kappa(t, level=level)
        assert (e.ci_low, e.ci_high) == pytest.approx((base.estimate - z * base.se, base.estimate + z * base.se))
        assert e.level == level and e.sided == "two-sided"
    one = ag.cohen_kappa(t, level=0.95, one_sided=True)
    assert one.ci_low == pytest.approx(base.estimate - stats.norm.isf(0.05) * base.se)
    assert one.sided == "one-sided lower bound" and one.ci_high == math.inf
    n = 85
    g = ag.gwet_ac_table(t, one_sided=True)
    g2 = ag.gwet_ac_table(t)
    assert g.ci_low == pytest.approx(g2.estimate - stats.t.isf(0.05, n - 1) * g2.se) and g.ci_high == 1.0
    # Wilson at 90%: closed form with z = 1.6449
    pa = ag.percent_agreement(table=t, level=0.9)
    z = stats.norm.isf(0.05)
    p, m = 65 / 85, 85
    centre = (p + z * z / (2 * m)) / (1 + z * z / m)
    half = z * math.sqrt(p * (1 - p) / m + z * z / (4 * m * m)) / (1 + z * z / m)
    assert (pa.ci_low, pa.ci_high) == pytest.approx((centre - half, centre + half))
    with pytest.raises(StatisticsError, match="level"):
        ag.cohen_kappa(t, level=95)
    # Krippendorff: conf_level (level is the metric, as in the krippendorff package)
    k = ag.krippendorff_alpha(_raw4raters(), level="interval", n_boot=500, conf_level=0.9, one_sided=True,
                              layout="units x raters")
    assert k.level == 0.9 and k.ci_high == 1.0 and k.ci_low < k.estimate


def test_results_render_html_and_frames():
    t = ag.count_table(np.array([[20, 5], [4, 30]]), categories=["A", "B"])
    e = ag.cohen_kappa(t, level=0.9)
    h = e._repr_html_()
    assert "<table>" in h and "90% CI" in h and "kappa" in h and "FCE" in h
    assert "one-sided 95% lower bound" in ag.gwet_ac_table(t, one_sided=True)._repr_html_()
    assert "p-value" in ag.mcnemar(t)._repr_html_()
    f = e.to_frame()
    assert f.loc[0, "estimate"] == e.estimate and f.loc[0, "level"] == 0.9 and "p_o" in f.columns


def test_tidy_agreement_table_from_long_ratings_on_a_plain_frame():
    a, b = _pairs(seed=21, n=60, unused=None)
    dom = np.where(np.arange(60) % 2 == 0, "Plan", "Voice")
    long = pd.DataFrame({"case": np.tile(np.arange(60), 2), "domain": np.tile(dom, 2),
                         "role": ["auditor"] * 60 + ["moderator"] * 60, "grade": np.r_[a, b]})
    t = ag.agreement_table(long, by=["domain"], categories=OFSTED, unit="case", rater="role", grade="grade",
                           raters=["auditor", "moderator"]).set_index("domain")
    for d in ("Plan", "Voice"):
        m = dom == d
        assert t.loc[d, "n"] == m.sum()
        assert t.loc[d, "kappa_quadratic"] == pytest.approx(
            cohen_kappa_score(a[m], b[m], labels=OFSTED, weights="quadratic"), abs=1e-12)  # scikit-learn
        assert t.loc[d, "ac1"] == pytest.approx(_ac1_by_hand(a[m], b[m], OFSTED), abs=1e-12)
    with pytest.raises(StatisticsError, match="raters="):
        ag.agreement_table(long, by="domain", categories=OFSTED, unit="case", rater="role", grade="grade")
    dup = pd.concat([long, long.iloc[[0]]])
    with pytest.raises(StatisticsError, match="one grade per unit and rater"):
        ag.agreement_table(dup, by="domain", categories=OFSTED, unit="case", rater="role", grade="grade",
                           raters=["auditor", "moderator"])


def test_tidy_multirater_table_matches_the_wide_functions_and_statsmodels():
    rng = np.random.default_rng(4)
    ratings = rng.choice(4, size=(40, 3), p=[0.1, 0.5, 0.3, 0.1])
    long = pd.DataFrame({"unit": np.repeat(np.arange(40), 3), "rater": np.tile(["p1", "p2", "p3"], 40),
                         "grade": ratings.ravel(), "area": np.repeat(np.where(np.arange(40) < 20, "N", "S"), 3)})
    t = ag.multirater_table(long, by="area", categories=[0, 1, 2, 3], unit="unit", rater="rater", grade="grade",
                            n_boot=200).set_index("area")
    for area, rows in (("N", slice(0, 20)), ("S", slice(20, 40))):
        table, _ = aggregate_raters(ratings[rows], n_cat=4)
        assert t.loc[area, "fleiss_kappa"] == pytest.approx(sm_fleiss_kappa(table), abs=1e-12)  # statsmodels
        assert t.loc[area, "alpha_ordinal"] == pytest.approx(
            krippendorff.alpha(reliability_data=ratings[rows].T.astype(float), level_of_measurement="ordinal"),
            abs=1e-12)  # krippendorff package
        assert t.loc[area, "n"] == 20 and t.loc[area, "raters"] == 3


# ======================================================================================
# Item 4: new analyses
# ======================================================================================
def test_downgrade_bias_exact_interval_newcombe_and_sign_test():
    # 81 downgrades, 182 upgrades (263 disagreements) among 300 moderated audits. The downgraded share of
    # disagreements has the Clopper–Pearson interval 0.2527–0.3676 for 81/263 (Newcombe 1998, Stat Med
    # 17:857–872, Table I, method 5); net downgrading = (263/300)(2θ − 1).
    e = ag.downgrade_bias(81, 182, 300)
    assert e.estimate == pytest.approx((81 - 182) / 300, abs=1e-15)
    assert e.extra["share_down_ci_low"] == pytest.approx(0.2527, abs=5e-5)
    assert e.extra["share_down_ci_high"] == pytest.approx(0.3676, abs=5e-5)
    assert e.ci_low == pytest.approx(263 / 300 * (2 * 0.2527 - 1), abs=2e-4)
    assert e.ci_high == pytest.approx(263 / 300 * (2 * 0.3676 - 1), abs=2e-4)
    # exact two-sided sign test, 2 of 10 (R binom.test(2, 10)): p = 2·(1 + 10 + 45)/1024 = 0.109375
    assert ag.downgrade_bias(8, 2, 15).pvalue == pytest.approx(112 / 1024, abs=1e-15)
    none = ag.downgrade_bias(0, 0, 7)
    assert none.estimate == 0 and math.isnan(none.pvalue) and "no disagreements" in none.note


def test_compare_agreement_wald_difference():
    # Hand arithmetic: 0.70 (SE 0.05) vs 0.55 (SE 0.06): z = 0.15/√(0.0025 + 0.0036) = 1.9206
    t = ag.compare_agreement(Estimate(0.70, se=0.05, n=80), Estimate(0.55, se=0.06, n=70))
    se = math.sqrt(0.05 ** 2 + 0.06 ** 2)
    assert t.statistic == pytest.approx(0.15 / se, rel=1e-12)
    assert t.pvalue == pytest.approx(2 * stats.norm.sf(0.15 / se), rel=1e-12)
    assert t.extra["ci_low"] == pytest.approx(0.15 - 1.959964 * se, abs=1e-6)
    assert math.isnan(ag.compare_agreement(Estimate(1.0, se=0.0, n=5), Estimate(1.0, se=0.0, n=5)).pvalue)


def test_kappa_sample_size_donner_eliasziw_goodness_of_fit():
    # Donner & Eliasziw (1992) Stat Med 11:1511–1519, as R kappaSize::CIBinary (its help example:
    # kappa0 = 0.4, limits 0.3 and 0.5, prevalence 0.3, alpha 0.05). Written out: expected cell
    # probabilities P0 = (1−p)² + κp(1−p), P1 = 2(1−κ)p(1−p), P2 = p² + κp(1−p); the smallest n with
    # n·Σ(P(κ0) − P(κ1))²/P(κ1) − 0.001 ≥ χ²₁(0.95) = 3.841459 for κ1 = 0.3 and for κ1 = 0.5.
    p = 0.3

    def P(k):
        return [(1 - p) ** 2 + k * p * (1 - p), 2 * (1 - k) * p * (1 - p), p ** 2 + k * p * (1 - p)]

    def per(k1):
        return sum((a - b) ** 2 / b for a, b in zip(P(0.4), P(k1)))

    crit = 3.841459
    expected = max(next(n for n in range(1, 10000) if n * per(k1) - 0.001 >= crit) for k1 in (0.3, 0.5))
    assert ag.kappa_sample_size_binary(0.4, 0.3, 0.5, 0.3) == expected
    # one-sided (kappaU = NA in kappaSize): chi-squared at 1 − 2α = 0.90 -> 2.705543
    one = next(n for n in range(1, 10000) if n * per(0.3) - 0.001 >= 2.705543)
    assert ag.kappa_sample_size_binary(0.4, 0.3, None, 0.3) == one


def test_sample_size_for_precision_with_finite_population():
    # pilot: irrCAC cac.raw4raters Brennan–Prediger, n = 12, SE 0.14472 (irrCAC vignette). Per-case-file
    # variance 12·SE²; for a half-width 0.1 at 95%: n∞ = 1.959964²·12·0.14472²/0.1² = 96.6 → 97.
    se, n = 0.14472, 12
    n_inf = 1.959964 ** 2 * n * se ** 2 / 0.1 ** 2
    assert ag.sample_size_for_precision(se, n, 0.1) == math.ceil(n_inf)
    # finite population of 150 audits (irrCAC's N; variance × (1 − n/N)): n = n∞/(1 + n∞/N)
    assert ag.sample_size_for_precision(se, n, 0.1, population=150) == math.ceil(n_inf / (1 + n_inf / 150))
    # and at that n the planned half-width, with the factor 1 − n/N, is within the target
    k = ag.sample_size_for_precision(se, n, 0.1, population=150)
    assert 1.959964 * math.sqrt(n * se ** 2 / k * (1 - k / 150)) <= 0.1 + 1e-9
    assert ag.sample_size_for_precision(0.0, 20, 0.1) == -1


def test_bowker_full_df_p_beside_reduced():
    # statsmodels SquareTable.symmetry keeps df = q(q−1)/2 even when a pair is empty: its p is the full-df p
    from statsmodels.stats.contingency_tables import SquareTable
    t = np.array([[5, 3, 0], [1, 6, 0], [0, 4, 7]])
    b = ag.bowker_symmetry(t, categories=[0, 1, 2])
    assert b.df == 2 and b.extra["df_full"] == 3
    assert b.extra["pvalue_full_df"] == pytest.approx(SquareTable(t, shift_zeros=False).symmetry().pvalue, rel=1e-12)


def test_exact_mann_kendall_small_n():
    from qa_lib.stats.proportions import mann_kendall
    # Kendall (1975) table: n = 4, perfectly increasing, S = 6: exact two-sided p = 2/4! = 0.0833
    assert mann_kendall([1, 2, 3, 4], exact=True).pvalue == pytest.approx(2 / 24, abs=1e-15)
    # against scipy's exact Kendall tau (same null distribution of S with times 1..n, no ties)
    rng = np.random.default_rng(9)
    for n in (5, 7, 10):
        y = rng.permutation(n) + rng.random(n) * 0.1
        mk = mann_kendall(y, exact=True)
        assert mk.pvalue == pytest.approx(stats.kendalltau(np.arange(n), y, method="exact").pvalue, rel=1e-9)
    assert "exact_pvalue" not in mann_kendall(np.arange(12.0)).extra


def test_cluster_bootstrap_bca_matches_scipy_and_handles_perfect_agreement():
    # Peer: scipy.stats.bootstrap(..., paired=True, method="BCa") on the same 40 pairs (each pair one case
    # file). Different random draws, so the limits agree to Monte Carlo error only (20,000 replicates).
    rng = np.random.default_rng(2)
    a = rng.choice(4, 40, p=[0.1, 0.5, 0.3, 0.1])
    b = np.clip(a + rng.choice([-1, 0, 1], 40, p=[0.15, 0.7, 0.15]), 0, 3)
    la, lb = np.asarray(OFSTED, dtype=object)[a], np.asarray(OFSTED, dtype=object)[b]

    def ac1(x, y, axis=-1):
        return np.array([_ac1_by_hand(np.asarray(OFSTED, dtype=object)[xx], np.asarray(OFSTED, dtype=object)[yy],
                                      OFSTED) for xx, yy in zip(np.atleast_2d(x), np.atleast_2d(y))]).squeeze()

    peer = stats.bootstrap((a, b), ac1, paired=True, vectorized=True, n_resamples=20000, method="BCa",
                           random_state=1).confidence_interval
    e = ag.bootstrap_agreement(la, lb, categories=OFSTED, n_boot=20000)
    assert e.estimate == pytest.approx(_ac1_by_hand(la, lb, OFSTED), abs=1e-12)
    assert e.ci_low == pytest.approx(peer.low, abs=0.02) and e.ci_high == pytest.approx(peer.high, abs=0.02)
    # clusters: each case file twice (two domains alike) resamples whole case files -> the same interval
    # as one pair per case file (the duplicated table has identical coefficient in every replicate draw)
    cl = np.r_[np.arange(40), np.arange(40)]
    e2 = ag.bootstrap_agreement(np.r_[la, la], np.r_[lb, lb], categories=OFSTED, clusters=cl, n_boot=4000, seed=7)
    e1 = ag.bootstrap_agreement(la, lb, categories=OFSTED, n_boot=4000, seed=7)
    assert (e2.ci_low, e2.ci_high) == pytest.approx((e1.ci_low, e1.ci_high), abs=1e-12)
    # 12 of 12 agree: a point, said so (no NaN)
    p = ag.bootstrap_agreement(["Good"] * 6 + ["Outstanding"] * 6, ["Good"] * 6 + ["Outstanding"] * 6,
                               categories=OFSTED, n_boot=500)
    assert (p.estimate, p.ci_low, p.ci_high) == (1.0, 1.0, 1.0) and "point" in p.note


def test_exact_symmetry_tests_small_tables(monkeypatch):
    # 2x2: the exact Bowker p is the exact McNemar p, binom.test(4, 14) two-sided (R; scipy binomtest)
    e = ag.symmetry_exact(np.array([[20, 10], [4, 30]]), categories=[0, 1])
    assert e["bowker_pvalue_exact"] == pytest.approx(stats.binomtest(4, 14).pvalue, rel=1e-12)
    # 3x3 [[5,3,0],[1,6,0],[0,4,7]]: pairs (1,2) s=4 and (2,3) s=4; each term (2x−4)²/4 is 4, 1 or 0 with
    # probabilities 2/16, 8/16, 6/16; observed B = 1 + 4 = 5, so P(B ≥ 5) = (2/16)² + 2(2/16)(8/16) = 36/256.
    t = np.array([[5, 3, 0], [1, 6, 0], [0, 4, 7]])
    e = ag.symmetry_exact(t, categories=[0, 1, 2])
    assert e["bowker"] == 5 and e["bowker_pvalue_exact"] == pytest.approx(36 / 256, abs=1e-15)
    assert e["method"].startswith("exact") and e["n_splits"] == 25
    # Stuart–Maxwell on the same splits: here d = (2, −6, 4)... its exact p from the same enumeration
    assert e["stuart_maxwell"] == pytest.approx(ag.stuart_maxwell(t, categories=[0, 1, 2]).statistic, rel=1e-12)
    assert 0 < e["stuart_maxwell_pvalue_exact"] <= 1
    # Monte Carlo path agrees with the enumeration to sampling error
    monkeypatch.setattr(ag, "EXACT_MAX_SPLITS", 10)
    mc = ag.symmetry_exact(t, categories=[0, 1, 2], n_mc=200_000)
    assert mc["method"].startswith("Monte Carlo")
    assert mc["bowker_pvalue_exact"] == pytest.approx(36 / 256, abs=0.005)
    assert mc["stuart_maxwell_pvalue_exact"] == pytest.approx(e["stuart_maxwell_pvalue_exact"], abs=0.005)


def test_power_sample_sizes_mcnemar_and_stuart_maxwell():
    # Connor (1987) formula written out: psi = 0.25, delta = 0.10, alpha 0.05, power 0.8:
    # n = (1.959964·0.5 + 0.841621·√(0.25 − 0.01))² / 0.01 = 192.3... -> 193
    n = ((1.959964 * 0.5 + 0.841621 * math.sqrt(0.24)) ** 2) / 0.01
    assert ag.mcnemar_sample_size(0.175, 0.075) == math.ceil(n)
    # Stuart–Maxwell: smallest n with noncentral chi-squared power >= 0.8 (scipy ncx2), λ per audit from
    # the expected shares (d'S⁻¹d on shares, Lachin 1992)
    shares = np.array([[0.10, 0.06, 0.0, 0.0], [0.02, 0.40, 0.08, 0.0], [0.0, 0.03, 0.20, 0.04], [0.0, 0.0, 0.01, 0.06]])
    k = ag.stuart_maxwell_sample_size(shares, categories=OFSTED)
    lam1 = ag.stuart_maxwell(shares * 1e6, categories=OFSTED).statistic / 1e6
    crit = stats.chi2.isf(0.05, 3)
    assert stats.ncx2.sf(crit, 3, k * lam1) >= 0.8 > stats.ncx2.sf(crit, 3, (k - 1) * lam1)

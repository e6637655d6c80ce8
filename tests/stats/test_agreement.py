"""Tests for qa_lib.stats.agreement.

Reference values come from tests/reference/agreement/cases.json (copied from
/work/shared/reference/agreement, each case with its published source) or from
closed-form arithmetic written out in the test. Nothing here is pasted program output.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from statsmodels.stats.contingency_tables import SquareTable
from statsmodels.stats.inter_rater import cohens_kappa as sm_cohens_kappa
from statsmodels.stats.inter_rater import fleiss_kappa as sm_fleiss_kappa

from qa_lib.stats import agreement as ag
from qa_lib.core.errors import QAError, StatisticsError
from qa_lib.stats.results import Estimate, TestResult

REF = Path(__file__).resolve().parents[1] / "reference" / "agreement"
CASES = {c["id"]: c for c in json.loads((REF / "cases.json").read_text())["cases"]}
OFSTED = ["Outstanding", "Good", "Requires improvement", "Inadequate"]


def case(cid: str) -> dict:
    return CASES[cid]


def table_of(cid: str) -> pd.DataFrame:
    """Contingency-table CSV: first column = rows (rater A), header = rater B; the scale is the
    published table's own row order, declared explicitly (issue 19: never guessed)."""
    t = pd.read_csv(REF / case(cid)["file"], index_col=0)
    return ag.count_table(t.set_axis([str(c) for c in t.index], axis=0), categories=[str(c) for c in t.index])


def D(arr) -> pd.DataFrame:
    """An unlabelled q x q array with its scale declared as positions 0..q-1 (issue 19: an
    unlabelled table must come with its categories)."""
    arr = np.asarray(arr)
    return ag.count_table(arr, categories=list(range(arr.shape[0])))


def wide_of(cid: str) -> pd.DataFrame:
    """Long CSV (case_id, rater, grade; missing ratings absent) -> units x raters."""
    long = pd.read_csv(REF / case(cid)["file"])
    return long.pivot(index="case_id", columns="rater", values="grade")


# ======================================================================================
# Published reference cases (cases.json)
# ======================================================================================


def assert_sas_kappa(e: Estimate, exp: dict, *, kappa: float, tol: float, ptol: float) -> None:
    """Every figure of SAS PROC FREQ's kappa output (estimate, ASE, CI, ASE under H0, z, p-values)."""
    assert e.estimate == pytest.approx(kappa, abs=tol)
    assert e.se == pytest.approx(exp["ase"], abs=tol)
    assert e.ci_low == pytest.approx(exp["ci95"][0], abs=tol)
    assert e.ci_high == pytest.approx(exp["ci95"][1], abs=tol)
    assert e.extra["se_h0"] == pytest.approx(exp["ase_h0"], abs=tol)
    assert e.statistic == pytest.approx(exp["z"], abs=tol)
    assert e.extra["pvalue_one_sided"] == pytest.approx(exp["p_one_sided"], abs=ptol)
    assert e.pvalue == pytest.approx(exp["p_two_sided"], abs=ptol)


def test_ck01_cohen_kappa_sas():
    # CK-01: SAS PROC FREQ 'Simple Kappa Coefficient' (transcribed in statsmodels
    # stats/tests/test_inter_rater.py, TestUnweightedCohens). Column 1 unused: kept.
    c = case("CK-01")
    exp, tol = c["expected"], c["tolerance"]["abs"]
    ptol = c["tolerance"]["p_values_abs"]
    e = ag.cohen_kappa(table_of("CK-01"))
    assert isinstance(e, Estimate)
    assert_sas_kappa(e, exp, kappa=exp["kappa"], tol=tol, ptol=ptol)
    # cases.json notes say "n = 20", but the published table (statsmodels table10,
    # [[0,4,1],[0,8,0],[0,1,5]]) sums to 19; the SAS values above are reproduced with 19.
    assert e.n == 19
    assert "normal" in e.method and "not truncated" in e.method


def test_ck01_t_interval_lower_bound_methods_md():
    # methods.md §1: "CK-01: lower bound 0.214 with z, 0.194 with t" (n = 19 pairs, t(18)).
    e = ag.cohen_kappa(table_of("CK-01"), ci="t")
    assert e.ci_low == pytest.approx(0.194, abs=6e-4)
    assert "t(n−1)" in e.method


@pytest.mark.parametrize("cid", ["CK-06", "CK-07"])
def test_ck06_ck07_kappa_paradox(cid):
    # CK-06 / CK-07: closed-form arithmetic (cases.json), after Feinstein & Cicchetti (1990).
    c = case(cid)
    exp, tol = c["expected"], c["tolerance"]["abs"]
    t = table_of(cid)
    k = ag.cohen_kappa(t)
    a = ag.gwet_ac_table(t)
    assert k.extra["p_o"] == pytest.approx(exp["p_o"], abs=tol)
    assert k.extra["p_e"] == pytest.approx(exp["p_e"], abs=tol)
    assert k.estimate == pytest.approx(exp["kappa"], abs=tol)
    assert a.estimate == pytest.approx(exp["gwet_ac1"], abs=tol)


def test_wk01_linear_weighted_kappa_sas():
    # WK-01: SAS PROC FREQ 'Weighted Kappa Coefficient' (Cicchetti-Allison weights),
    # transcribed in statsmodels test_inter_rater.py TestWeightedCohens.
    c = case("WK-01")
    exp, tol = c["expected"], c["tolerance"]["abs"]
    e = ag.cohen_kappa(table_of("WK-01"), weights="linear")
    assert_sas_kappa(e, exp, kappa=exp["kappa_w"], tol=tol, ptol=tol)


def test_wk02_quadratic_kappa_and_scott_irrcac():
    # WK-02: R irrCAC vignette 'weighting': kappa2.table / scott2.table(cont3x3abstractors,
    # weights = quadratic.weights(1:3)); irrCAC prints a t(99) CI.
    c = case("WK-02")
    exp, tol = c["expected"], c["tolerance"]
    t = table_of("WK-02")
    e = ag.cohen_kappa(t, weights="quadratic", ci="t")
    assert e.estimate == pytest.approx(exp["kappa_w"], abs=tol["kappa_abs"])
    assert e.se == pytest.approx(exp["se"], abs=tol["se_abs"])
    assert e.ci_low == pytest.approx(exp["ci95"][0], abs=tol["ci_abs"])
    assert e.ci_high == pytest.approx(exp["ci95"][1], abs=tol["ci_abs"])
    s = ag.scott_pi_table(t, weights="quadratic")
    assert s.estimate == pytest.approx(exp["scott_pi_w"], abs=tol["kappa_abs"])
    assert s.se == pytest.approx(exp["scott_pi_w_se"], abs=tol["se_abs"])


def test_fk01_fleiss_kappa_diagnoses():
    # FK-01: Fleiss (1971) Psychol Bull 76:378; R irr::kappam.fleiss(diagnoses) output as
    # captured in statsmodels test_inter_rater.py test_fleiss_kappa_irr.
    c = case("FK-01")
    exp, tol = c["expected"], c["tolerance"]
    e = ag.fleiss_kappa(wide_of("FK-01"), categories=[1, 2, 3, 4, 5])
    assert e.estimate == pytest.approx(exp["kappa"], abs=tol["kappa_abs"])
    assert round(e.estimate, 2) == exp["kappa_published_1971"]
    assert e.statistic == pytest.approx(exp["z"], abs=tol["z_abs"])
    assert e.pvalue == pytest.approx(exp["p"], abs=1e-12)
    assert e.n == 30
    # category kappas: marked "expected_unverified" in cases.json (commonly attributed to
    # Fleiss 1971; peers reproduce them)
    got = list(e.extra["category_kappas"].values())
    assert got == pytest.approx(c["expected_unverified"]["category_kappas"], abs=tol["category_abs"])
    assert math.isfinite(e.se) and e.se > 0 and "Gwet (2014)" in e.method


def test_ac01_gwet_ac1_ac2_raw_with_missing():
    # AC-01: R irrCAC vignettes gwet.ac1.raw(cac.raw4raters) (unweighted, quadratic);
    # SimplyAgree agree_coef (AC2 0.9140007); linear/ordinal from Python irrCAC tests
    # (afergadis/irrCAC test/unit/irrCAC/raw/test_gwet.py). Data have missing ratings
    # (unit 12 has a single rating, which counts in pi_k).
    c = case("AC-01")
    exp, tol = c["expected"], c["tolerance"]
    w = wide_of("AC-01")
    cats = c["options"]["categories"]

    ac1 = ag.gwet_ac(w, categories=cats)
    x = exp["ac1"]
    assert ac1.estimate == pytest.approx(x["value"], abs=tol["value_abs"])
    assert ac1.se == pytest.approx(x["se"], abs=tol["se_abs"])
    assert ac1.ci_low == pytest.approx(x["ci95"][0], abs=tol["ci_abs"])
    assert ac1.ci_high == pytest.approx(x["ci95"][1], abs=tol["ci_abs"])
    assert ac1.pvalue == pytest.approx(x["p"], rel=1e-5)  # printed to 6 significant digits
    assert ac1.extra["p_a"] == pytest.approx(x["pa"], abs=1e-7)
    assert ac1.extra["p_e"] == pytest.approx(x["pe"], abs=1e-7)
    assert ac1.n == 12 and ac1.df == 11

    ac2 = ag.gwet_ac(w, categories=cats, weights="quadratic")
    x = exp["ac2_quadratic"]
    assert ac2.estimate == pytest.approx(x["value_5dp_simplyagree"], abs=1e-7)
    assert ac2.estimate == pytest.approx(x["value"], abs=tol["three_dp_abs"])
    assert ac2.se == pytest.approx(x["se"], abs=tol["se_abs"])
    assert ac2.ci_low == pytest.approx(x["ci95"][0], abs=tol["ci_abs"])
    assert ac2.ci_high == pytest.approx(x["ci95"][1], abs=tol["ci_abs"])
    assert ac2.pvalue == pytest.approx(x["p"], rel=1e-5)
    assert ac2.extra["p_a"] == pytest.approx(x["pa"], abs=1e-7)
    assert ac2.extra["p_e"] == pytest.approx(x["pe"], abs=1e-7)

    for key, wt in [("ac2_linear", "linear"), ("ac2_ordinal", "ordinal")]:
        x = exp[key]
        e = ag.gwet_ac(w, categories=cats, weights=wt)
        assert e.estimate == pytest.approx(x["value"], abs=tol["three_dp_abs"]), key
        assert e.se == pytest.approx(x["se"], abs=tol["three_dp_abs"]), key
        assert e.ci_low == pytest.approx(x["ci95"][0], abs=tol["ci_abs"]), key
        assert e.ci_high == pytest.approx(x["ci95"][1], abs=tol["ci_abs"]), key

    pa = ag.percent_agreement(w, categories=cats)
    assert pa.estimate == pytest.approx(exp["percent_agreement"]["value"], abs=1e-7)
    assert pa.se == pytest.approx(exp["percent_agreement"]["se"], abs=tol["se_abs"])


def test_ka01_krippendorff_alpha_all_levels():
    # KA-01: Krippendorff (2011) 'Computing Krippendorff's Alpha-Reliability', 4 observers x
    # 12 units (also tidycomm / fast-krippendorff tests); irrCAC krippen.alpha.raw output.
    c = case("KA-01")
    exp, tol = c["expected"], c["tolerance"]
    w = wide_of("KA-01")
    cats = c["options"]["values"]
    res = {}
    for level in c["options"]["levels"]:
        e = ag.krippendorff_alpha(w, level=level, categories=cats, n_boot=2000, seed=1)
        res[level] = e
        assert e.estimate == pytest.approx(exp[level], abs=tol["alpha_3dp_abs"]), level
        # our own coincidence-matrix computation agrees with the krippendorff package
        assert e.extra["alpha_own"] == pytest.approx(e.estimate, abs=1e-12), level
        assert e.n == 11  # unit 12 has one value and drops out
        assert e.ci_low <= e.estimate <= e.ci_high
    g = exp["irrcac_nominal"]
    e = res["nominal"]
    assert e.estimate == pytest.approx(g["value"], abs=tol["alpha_5dp_abs"])
    assert e.extra["gwet_se"] == pytest.approx(g["se"], abs=tol["se_abs"])
    assert e.extra["gwet_ci_low"] == pytest.approx(g["ci95"][0], abs=tol["ci_abs"])
    assert e.extra["gwet_ci_high"] == pytest.approx(g["ci95"][1], abs=tol["ci_abs"])
    assert e.extra["gwet_pa"] == pytest.approx(g["pa"], abs=6e-4)   # printed to 3 dp
    assert e.extra["gwet_pe"] == pytest.approx(g["pe"], abs=6e-3)   # printed to 2 dp
    g = exp["irrcac_quadratic_eq_interval"]
    e = res["interval"]
    assert e.estimate == pytest.approx(g["value"], abs=tol["alpha_5dp_abs"])
    assert e.extra["gwet_se"] == pytest.approx(g["se"], abs=tol["se_abs"])
    assert e.extra["gwet_ci_low"] == pytest.approx(g["ci95"][0], abs=tol["ci_abs"])
    assert e.extra["gwet_ci_high"] == pytest.approx(g["ci95"][1], abs=tol["ci_abs"])


@pytest.mark.parametrize("cid", ["SY-01", "SY-02"])
def test_sy_bowker_and_stuart_maxwell(cid):
    # SY-01 / SY-02: R stats::mcnemar.test (Bowker) and coin::mh_test (Stuart-Maxwell),
    # statsmodels stats/tests/results/contingency_table_r_results.csv.
    c = case(cid)
    exp, tol = c["expected"], c["tolerance"]
    t = table_of(cid)
    b = ag.bowker_symmetry(t)
    assert isinstance(b, TestResult)
    assert b.statistic == pytest.approx(exp["bowker"]["stat"], rel=tol["stat_rel"])
    assert b.df == exp["bowker"]["df"]
    assert b.pvalue == pytest.approx(exp["bowker"]["p"], rel=tol["p_rel"])
    s = ag.stuart_maxwell(t)
    assert s.statistic == pytest.approx(exp["stuart_maxwell"]["stat"], rel=tol["stat_rel"])
    assert s.df == exp["stuart_maxwell"]["df"]


def test_unused_grade_padding_moves_ac1_not_kappa_methods_md():
    # methods.md §4: "Padding one unused category moves AC1 from 0.849 to 0.866. kappa and
    # Fleiss kappa do not move." (cont3x3abstractors table of WK-02, padded to q = 4).
    t = D(table_of("WK-02").to_numpy())
    padded = np.zeros((4, 4))
    padded[:3, :3] = t
    padded = D(padded)
    assert ag.gwet_ac_table(t).estimate == pytest.approx(0.849, abs=6e-4)
    assert ag.gwet_ac_table(padded).estimate == pytest.approx(0.866, abs=6e-4)
    assert ag.cohen_kappa(padded).estimate == pytest.approx(ag.cohen_kappa(t).estimate, abs=1e-12)


# ======================================================================================
# Cross-checks against statsmodels (same quantity, 1e-9)
# ======================================================================================


def _random_tables(seed: int, count: int):
    rng = np.random.default_rng(seed)
    for _ in range(count):
        q = int(rng.integers(2, 7))
        t = rng.poisson(rng.uniform(0.2, 30.0, size=(q, q))).astype(float)
        t += np.diag(rng.poisson(20, size=q))  # realistic: agreement dominates
        if rng.random() < 0.3:  # an unused grade
            j = int(rng.integers(q))
            t[j, :] = 0
            t[:, j] = 0
        if t.sum() > 0 and (t.sum(0) > 0).sum() + (t.sum(1) > 0).sum() > 2:
            yield D(t)


@pytest.mark.parametrize("weights,wt", [(None, None), ("linear", "linear"), ("quadratic", "quadratic")])
def test_cohen_kappa_matches_statsmodels(weights, wt):
    for t in _random_tables(20240401, 200):
        ours = ag.cohen_kappa(t, weights=weights)
        sm = sm_cohens_kappa(t.to_numpy(), wt=wt) if wt else sm_cohens_kappa(t.to_numpy())
        if not math.isfinite(sm.kappa):
            continue
        assert ours.estimate == pytest.approx(sm.kappa, abs=1e-9)
        assert ours.se == pytest.approx(sm.std_kappa, abs=1e-9)
        assert ours.extra["se_h0"] == pytest.approx(sm.std_kappa0, abs=1e-9)
        assert ours.ci_low == pytest.approx(sm.kappa_low, abs=1e-9)
        assert ours.ci_high == pytest.approx(sm.kappa_upp, abs=1e-9)
        assert ours.statistic == pytest.approx(sm.z_value, rel=1e-9)
        assert ours.pvalue == pytest.approx(sm.pvalue_two_sided, rel=1e-7, abs=1e-300)
        if weights is None:
            assert ours.extra["kappa_max"] == pytest.approx(sm.kappa_max, abs=1e-9)


def test_fleiss_kappa_matches_statsmodels_on_complete_data():
    rng = np.random.default_rng(7)
    for _ in range(50):
        n, r, q = int(rng.integers(5, 60)), int(rng.integers(2, 7)), int(rng.integers(2, 6))
        ratings = rng.integers(0, q, size=(n, r))
        counts = np.stack([(ratings == k).sum(1) for k in range(q)], axis=1)
        if (counts.sum(0) > 0).sum() < 2:
            continue
        e = ag.fleiss_kappa(pd.DataFrame(ratings), categories=list(range(q)))
        assert e.estimate == pytest.approx(sm_fleiss_kappa(counts), abs=1e-12)


def test_stuart_maxwell_and_bowker_match_statsmodels_when_nonsingular():
    for t in _random_tables(99, 100):
        off = t.to_numpy() + t.to_numpy().T
        np.fill_diagonal(off, 0)
        if (off.sum(1) == 0).any() or (np.triu(off, 1)[np.triu_indices(len(t), 1)] == 0).any():
            continue
        st = SquareTable(t.to_numpy(), shift_zeros=False)
        h, s = st.homogeneity(), st.symmetry()
        assert ag.stuart_maxwell(t).statistic == pytest.approx(h.statistic, rel=1e-9)
        assert ag.stuart_maxwell(t).df == h.df
        assert ag.bowker_symmetry(t).statistic == pytest.approx(s.statistic, rel=1e-9)
        assert ag.bowker_symmetry(t).df == s.df


# ======================================================================================
# Edge cases (STYLE.md): perfect agreement, one grade only, unused grade, missing, tiny n
# ======================================================================================


def test_perfect_agreement():
    # Hand arithmetic: all pairs on the diagonal -> p_o = 1, kappa = AC1 = 1.
    t = D(np.diag([6.0, 9.0, 0.0, 5.0]))  # 20 pairs, grade 3 unused
    for wt in (None, "linear", "quadratic"):
        k = ag.cohen_kappa(t, weights=wt)
        assert k.estimate == pytest.approx(1.0, abs=1e-12)
        assert k.se == pytest.approx(0.0, abs=1e-7)
    a = ag.gwet_ac_table(t)
    assert a.estimate == pytest.approx(1.0, abs=1e-12)
    assert ag.percent_agreement(t).estimate == 1.0
    assert math.isnan(ag.bowker_symmetry(t).statistic)
    assert "no off-diagonal" in ag.bowker_symmetry(t).note


def test_one_grade_only_kappa_undefined_ac1_defined():
    # Hand arithmetic: every pair graded RI. p_o = 1, p_e = 1 -> kappa = 0/0 (undefined).
    # AC1: pi = (0, 0, 1, 0), p_e = sum pi(1 - pi)/(q - 1) = 0, so AC1 = p_a = 1.
    t = pd.DataFrame(0, index=OFSTED, columns=OFSTED)
    t.loc["Requires improvement", "Requires improvement"] = 15
    t = ag.count_table(t, categories=OFSTED)
    for wt in (None, "linear", "quadratic"):
        k = ag.cohen_kappa(t, weights=wt)
        assert math.isnan(k.estimate) and not k.defined
        assert "undefined" in k.note and "single grade" in k.note
        assert k.n == 15
    a = ag.gwet_ac_table(t)
    assert a.estimate == pytest.approx(1.0, abs=1e-12)
    assert a.extra["p_e"] == pytest.approx(0.0, abs=1e-12)
    # the same data as raw ratings
    ratings = pd.DataFrame({"auditor": ["Requires improvement"] * 15, "moderator": ["Requires improvement"] * 15})
    assert ag.gwet_ac(ratings, categories=OFSTED).estimate == pytest.approx(1.0, abs=1e-12)
    assert math.isnan(ag.fleiss_kappa(ratings, categories=OFSTED).estimate)
    assert math.isnan(ag.krippendorff_alpha(ratings, categories=OFSTED, n_boot=0).estimate)


def test_unused_grade_changes_ac1_by_declared_q():
    # Hand arithmetic: [[4, 1], [1, 4]], n = 10: p_a = 0.8, pi = (0.5, 0.5).
    # q = 2: p_e = (0.25 + 0.25)/1 = 0.5 -> AC1 = 0.3/0.5 = 0.6.
    # q = 3 (third grade unused): p_e = 0.5/2 = 0.25 -> AC1 = 0.55/0.75 = 0.7333...
    # kappa: p_e = 0.5 both ways -> kappa = 0.6.
    t2 = D(np.array([[4, 1], [1, 4]]))
    t3 = D(np.array([[4, 1, 0], [1, 4, 0], [0, 0, 0]]))
    assert ag.gwet_ac_table(t2).estimate == pytest.approx(0.6, abs=1e-12)
    assert ag.gwet_ac_table(t3).estimate == pytest.approx(0.55 / 0.75, abs=1e-12)
    assert ag.cohen_kappa(t2).estimate == pytest.approx(0.6, abs=1e-12)
    assert ag.cohen_kappa(t3).estimate == pytest.approx(0.6, abs=1e-12)
    # raw ratings with the declared scale give the same AC1 point estimate
    a = ["A"] * 5 + ["B"] * 5
    b = ["A"] * 4 + ["B"] + ["A"] + ["B"] * 4
    r = pd.DataFrame({"aud": a, "mod": b})
    assert ag.gwet_ac(r, categories=["A", "B", "C"]).estimate == pytest.approx(0.55 / 0.75, abs=1e-12)
    assert ag.gwet_ac(r, categories=["A", "B"]).estimate == pytest.approx(0.6, abs=1e-12)


def test_unused_grade_between_used_ones_changes_weighted_kappa():
    # Hand arithmetic, linear weights. Two grades used, at positions 1 and 3 of a 3-grade
    # scale vs adjacent in a 2-grade scale: table [[4, 1], [1, 4]].
    # q = 2: w = [[1, 0], [0, 1]] -> kappa_w = simple kappa = 0.6.
    # q = 3 (middle unused): w(1,3) = 0 too -> still 0.6 (weights 1 - |i-j|/2 give 0 off).
    # With the unused grade at the END instead, positions 1, 2 of 3: w(1,2) = 0.5:
    # p_o = 0.8 + 0.2*0.5 = 0.9; p_e = 0.25*(1 + 0.5 + 0.5 + 1) = 0.75 -> kappa_w = 0.6.
    t_end = D(np.array([[4, 1, 0], [1, 4, 0], [0, 0, 0]]))
    t_mid = D(np.array([[4, 0, 1], [0, 0, 0], [1, 0, 4]]))
    assert ag.cohen_kappa(t_end, weights="linear").extra["p_o"] == pytest.approx(0.9, abs=1e-12)
    assert ag.cohen_kappa(t_end, weights="linear").extra["p_e"] == pytest.approx(0.75, abs=1e-12)
    assert ag.cohen_kappa(t_mid, weights="linear").extra["p_o"] == pytest.approx(0.8, abs=1e-12)


def test_missing_ratings_fleiss_and_gwet():
    # Hand arithmetic, 3 peers, one missing rating:
    # unit 1: A A A ; unit 2: A B (third missing) ; unit 3: B B B ; unit 4: A (others missing)
    # p_a over units with r_i >= 2: (1 + 0 + 1)/3 = 2/3.
    # pi over all 4 rated units: pi_A = (1 + 1/2 + 0 + 1)/4 = 0.625, pi_B = 0.375.
    # Fleiss p_e = 0.625^2 + 0.375^2 = 0.53125 -> kappa = (2/3 - 0.53125)/0.46875.
    # AC1 p_e = 2*0.625*0.375/(2-1) = 0.46875 -> AC1 = (2/3 - 0.46875)/0.53125.
    r = pd.DataFrame({"p1": ["A", "A", "B", "A"], "p2": ["A", "B", "B", None], "p3": ["A", None, "B", None]})
    f = ag.fleiss_kappa(r, categories=["A", "B"])
    assert f.estimate == pytest.approx((2 / 3 - 0.53125) / 0.46875, abs=1e-12)
    assert math.isnan(f.statistic) and "same number of ratings" in f.note
    a = ag.gwet_ac(r, categories=["A", "B"])
    assert a.estimate == pytest.approx((2 / 3 - 0.46875) / 0.53125, abs=1e-12)
    assert a.n == 4 and a.extra["n_pairable"] == 3
    assert "single rating" in a.note and "tiny n" in a.note
    pa = ag.percent_agreement(r, categories=["A", "B"])
    assert pa.estimate == pytest.approx(2 / 3, abs=1e-12)


def test_tiny_n_flagged_and_empty_table_undefined():
    t = D(np.array([[3, 1], [0, 2]]))
    for e in (ag.cohen_kappa(t), ag.gwet_ac_table(t), ag.percent_agreement(t)):
        assert "tiny n" in e.note
    e = ag.cohen_kappa(np.zeros((4, 4)), categories=OFSTED)
    assert math.isnan(e.estimate) and "empty" in e.note and e.n == 0
    e = ag.gwet_ac_table(np.zeros((4, 4)), categories=OFSTED)
    assert math.isnan(e.estimate) and "empty" in e.note


def test_non_square_and_bad_input_raise_statistics_error():
    with pytest.raises(StatisticsError, match="square"):
        ag.cohen_kappa(np.ones((3, 4)), categories=[0, 1, 2])
    with pytest.raises(StatisticsError, match="square"):
        ag.gwet_ac_table(np.ones((2, 3)), categories=[0, 1])
    with pytest.raises(StatisticsError, match="square"):
        ag.bowker_symmetry(np.ones(4), categories=[0, 1, 2, 3])
    # a labelled table without a declared scale is refused, naming the fix
    bad = pd.DataFrame(np.eye(3), index=["a", "b", "c"], columns=["a", "c", "b"])
    with pytest.raises(StatisticsError, match="categories="):
        ag.cohen_kappa(bad)
    with pytest.raises(StatisticsError, match="non-negative"):
        ag.cohen_kappa(np.array([[1, -1], [0, 2]]), categories=[0, 1])
    with pytest.raises(StatisticsError, match="weights"):
        ag.cohen_kappa(D(np.eye(3)), weights="cubic")
    with pytest.raises(StatisticsError, match="categories"):
        ag.gwet_ac(pd.DataFrame({"a": ["Good"], "b": ["Good"]}), categories=None)
    with pytest.raises(StatisticsError, match="'Gd'"):
        ag.gwet_ac(pd.DataFrame({"a": ["Good", "Gd"], "b": ["Good", "Good"]}), categories=OFSTED)
    with pytest.raises(QAError):
        ag.krippendorff_alpha(pd.DataFrame({"a": [1, 2]}), level="bogus", categories=[1, 2])


# ======================================================================================
# Other closed-form checks
# ======================================================================================


def test_mcnemar_2x2_and_collapsed():
    # Hand arithmetic: b = 10 (moderator lower), c = 4 (higher):
    # X2 = (10 - 4)^2/14 = 36/14; Edwards: (6 - 1)^2/14 = 25/14; exact = binom(14, 1/2).
    t = D(np.array([[20, 10], [4, 30]]))
    m = ag.mcnemar(t)
    assert m.statistic == pytest.approx(36 / 14, rel=1e-12) and m.df == 1
    assert ag.mcnemar(t, correction=True).statistic == pytest.approx(25 / 14, rel=1e-12)
    # exact two-sided binomial p for 4 of 14: 2 * sum_{k<=4} C(14,k)/2^14
    exact = 2 * sum(math.comb(14, k) for k in range(5)) / 2 ** 14
    assert ag.mcnemar(t, exact=True).pvalue == pytest.approx(exact, rel=1e-12)
    # 4x4 Ofsted table: above the diagonal (moderator worse) = 2 + 1 + 3 = 6 downgrades,
    # below = 1 + 1 = 2 upgrades -> X2 = (6 - 2)^2 / 8 = 2; n = 5+2+1+10+1+1+8+3+2 = 33,
    # net = (6 - 2)/33.
    t4 = D(np.array([[5, 2, 0, 0], [1, 10, 1, 0], [0, 1, 8, 3], [0, 0, 0, 2]]))
    m4 = ag.mcnemar(t4)
    assert m4.extra["n_downgraded"] == 6 and m4.extra["n_upgraded"] == 2
    assert m4.statistic == pytest.approx(2.0, rel=1e-12)
    assert m4.extra["net_downgraded"] == pytest.approx(4 / 33, rel=1e-12)


def test_bowker_drops_empty_pairs_and_reduces_df():
    # Pairs (1,2): 3 vs 1 -> (2)^2/4 = 1; (2,3): 0 vs 4 -> 16/4 = 4; (1,3): empty -> dropped.
    t = D(np.array([[5, 3, 0], [1, 6, 0], [0, 4, 7]]))
    b = ag.bowker_symmetry(t)
    assert b.statistic == pytest.approx(5.0, rel=1e-12)
    assert b.df == 2 and b.extra["n_pairs_dropped"] == 1


def test_stuart_maxwell_drops_singular_category():
    # An unused 4th grade makes S singular; the statistic equals that of the 3x3 table
    # without it (SY-02 table, R coin::mh_test 13.7647058823529) and df = 2.
    t3 = table_of("SY-02").to_numpy()
    t4 = np.zeros((4, 4))
    t4[:3, :3] = t3
    s = ag.stuart_maxwell(D(t4))
    assert s.statistic == pytest.approx(case("SY-02")["expected"]["stuart_maxwell"]["stat"], rel=1e-9)
    assert s.df == 2 and s.extra["categories_dropped"] == [3]
    # Hand arithmetic, 2 categories (reduces to McNemar): [[5, 6], [2, 5]]:
    # d = 6 - 2 = 4, S = 6 + 2 = 8 -> X2 = 16/8 = 2.
    assert ag.stuart_maxwell(D([[5, 6], [2, 5]])).statistic == pytest.approx(2.0, rel=1e-12)


def test_gwet_raw_two_raters_matches_table_form():
    # Same point estimate; the raw-ratings SE uses 1/(n(n-1)), the table form 1/n^2
    # (irrCAC gwet.ac1.raw vs gwet.ac1.table), so SE_raw = SE_table * sqrt(n/(n-1)).
    rng = np.random.default_rng(3)
    a = rng.integers(0, 4, 200)
    b = np.where(rng.random(200) < 0.7, a, rng.integers(0, 4, 200))
    t = ag.crosstab(a, b, categories=[0, 1, 2, 3], codes=True)
    r = pd.DataFrame({"aud": a, "mod": b})
    for wt in (None, "quadratic"):
        raw = ag.gwet_ac(r, categories=[0, 1, 2, 3], weights=wt)
        tab = ag.gwet_ac_table(t, weights=wt)
        assert raw.estimate == pytest.approx(tab.estimate, abs=1e-12)
        assert raw.se == pytest.approx(tab.se * math.sqrt(200 / 199), rel=1e-9)


def test_crosstab_labels_codes_and_missing():
    a = ["Good", "Good", "Inadequate", None, "Outstanding"]
    b = ["Good", "Requires improvement", "Inadequate", "Good", "Good"]
    t = ag.crosstab(a, b, categories=OFSTED)
    assert list(t.index) == OFSTED and list(t.columns) == OFSTED
    assert t.loc["Good", "Good"] == 1 and t.loc["Good", "Requires improvement"] == 1
    assert t.loc["Outstanding", "Good"] == 1 and t.loc["Inadequate", "Inadequate"] == 1
    assert int(t.to_numpy().sum()) == 4 and t.attrs["n_dropped"] == 1
    codes = ag.crosstab(ag.encode(a, OFSTED), ag.encode(b, OFSTED), categories=OFSTED, codes=True)
    assert (codes.to_numpy() == t.to_numpy()).all()
    with pytest.raises(StatisticsError, match="'Gd'"):
        ag.crosstab(["Gd"], ["Good"], categories=OFSTED)


def test_krippendorff_bootstrap_matches_naive_loop_and_is_seeded():
    import krippendorff

    rng = np.random.default_rng(11)
    truth = rng.integers(0, 4, 60)
    r = np.where(rng.random((60, 3)) < 0.75, truth[:, None], rng.integers(0, 4, (60, 3))).astype(float)
    r[rng.random((60, 3)) < 0.1] = np.nan
    df = pd.DataFrame(r)
    cats = [0, 1, 2, 3]
    for level in ("nominal", "ordinal", "interval"):
        e1 = ag.krippendorff_alpha(df, level=level, categories=cats, n_boot=300, seed=5)
        e2 = ag.krippendorff_alpha(df, level=level, categories=cats, n_boot=300, seed=5)
        assert (e1.ci_low, e1.ci_high, e1.se) == (e2.ci_low, e2.ci_high, e2.se)
        # naive: same resampled unit indices, alpha recomputed by the krippendorff package
        counts = np.stack([(r == k).sum(1) for k in cats], axis=1)
        counts = counts[counts.sum(1) >= 2]
        idx = np.random.default_rng(5).integers(0, len(counts), size=(300, len(counts)))
        naive = np.array([krippendorff.alpha(value_counts=counts[i], value_domain=cats,
                                             level_of_measurement=level) for i in idx])
        assert e1.se == pytest.approx(np.std(naive, ddof=1), rel=1e-9)
        assert e1.ci_low == pytest.approx(np.percentile(naive, 2.5), rel=1e-9)
        assert e1.ci_high == pytest.approx(np.percentile(naive, 97.5), rel=1e-9)
    e = ag.krippendorff_alpha(df, level="nominal", categories=cats)
    assert e.extra["n_boot"] >= 2000 and "bootstrap" in e.method


def test_benchmark_probability_sums_to_one_and_selects():
    # A very precise estimate inside the "Substantial" band: all mass there.
    out = ag.benchmark_probability(0.7, 1e-4)
    assert out["probability"].sum() == pytest.approx(1.0, abs=1e-9)
    assert out.loc[out["selected"], "band"].item() == "Substantial"
    # With se = 0.1 around 0.85 the 95% cumulative rule steps down to a lower band.
    out = ag.benchmark_probability(Estimate(0.85, se=0.1))
    assert out.loc[out["selected"], "band"].item() in ("Substantial", "Moderate")
    assert out["cumulative_probability"].is_monotonic_increasing


def test_agreement_table_by_domain():
    # Hand-written pairs. Domain "Plan": 4 pairs -> (G,G) (G,RI) (RI,RI) (O,G):
    #   same 2, downgraded 2 (G->RI, O->G), upgraded 0 -> net = 2/4 = 0.5, p_o = 0.5.
    # Domain "Voice": 3 complete pairs (G,G) (RI,G) (RI,RI) + one with a missing grade:
    #   same 2, upgraded 1 (RI->G) -> net = -1/3.
    pairs = pd.DataFrame({
        "domain": ["Plan"] * 4 + ["Voice"] * 4,
        "auditor_grade": ["Good", "Good", "Requires improvement", "Outstanding",
                          "Good", "Requires improvement", "Requires improvement", "Good"],
        "moderator_grade": ["Good", "Requires improvement", "Requires improvement", "Good",
                            "Good", "Good", "Requires improvement", None],
    })
    out = ag.agreement_table(pairs, by="domain", categories=OFSTED)
    assert list(out["domain"]) == ["Plan", "Voice"]
    plan, voice = out.iloc[0], out.iloc[1]
    assert plan["n"] == 4 and plan["n_downgraded"] == 2 and plan["n_upgraded"] == 0
    assert plan["net_downgraded"] == pytest.approx(0.5)
    assert plan["percent_agreement"] == pytest.approx(0.5)
    assert voice["n"] == 3 and voice["n_missing"] == 1 and voice["n_upgraded"] == 1
    assert voice["net_downgraded"] == pytest.approx(-1 / 3)
    assert bool(plan["tiny_n"]) and "tiny n" in plan["note"] and "missing grade" in voice["note"]
    # the per-group kappa is the kappa of that group's crosstab
    sub = pairs[pairs["domain"] == "Plan"]
    t = ag.crosstab(sub["auditor_grade"], sub["moderator_grade"], categories=OFSTED)
    assert plan["kappa"] == pytest.approx(ag.cohen_kappa(t).estimate, abs=1e-12)
    assert plan["kappa_quadratic_se"] == pytest.approx(ag.cohen_kappa(t, weights="quadratic").se, abs=1e-12)
    assert plan["ac2_quadratic"] == pytest.approx(ag.gwet_ac_table(t, weights="quadratic").estimate, abs=1e-12)
    for col in ("kappa", "kappa_linear", "kappa_quadratic", "ac1", "ac2_quadratic"):
        for suffix in ("", "_se", "_ci_low", "_ci_high"):
            assert col + suffix in out.columns
    overall = ag.agreement_table(pairs, by=None, categories=OFSTED)
    assert len(overall) == 1 and overall["n"].item() == 7
    with pytest.raises(StatisticsError, match="columns"):
        ag.agreement_table(pairs, by="period", categories=OFSTED)


def test_results_have_to_frame():
    t = table_of("CK-01")
    for r in (ag.cohen_kappa(t), ag.gwet_ac_table(t), ag.percent_agreement(t), ag.bowker_symmetry(t),
              ag.stuart_maxwell(t), ag.mcnemar(t)):
        f = r.to_frame()
        assert len(f) == 1 and "method" in f.columns

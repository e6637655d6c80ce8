"""Issue 19 item 4.4: the exact (permutation) Bowker and Stuart–Maxwell tests against R's coin.

Published values, each cited at its assertion, from the coin package's own checked output
(github.com/cran/coin): ``tests/Examples/coin-Ex.Rout.save`` (the help-page examples),
``tests/regtest_midpvalue.Rout.save`` (Fagerland, Lydersen & Laake 2013, BMC Med Res Methodol 13:91,
Table 6) and ``tests/comparisons.Rout.save`` (StatXact 6 manual).

What coin computes, and why our values are the same: ``mh_test`` / ``symmetry_test`` on a square
table treat each case file as a block holding the two grades; the conditional reference set permutes
the two grades within every block (Hothorn et al. 2006, Am Stat 60:257–263). For a pair of grades
(i, j) that is n_ij ~ Binomial(n_ij + n_ji, ½) independently over pairs, which is what
``symmetry_exact`` enumerates. coin's ``distribution = "exact"`` exists only for univariate
two-sample problems (man/MarginalHomogeneityTests.Rd: "computed exactly for univariate two-sample
problems"), i.e. the 2 x 2 table; for q > 2 coin offers Monte Carlo ("approximate") over the same
reference set, and no exact value is published. So the 2 x 2 values are checked against coin's printed
exact p-values, and the q > 2 exact p against an enumeration of that reference set written out below.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from scipy import stats

from qa_lib.stats import agreement as ag

# (table as R prints it, rows = first rating; coin's exact p; source)
COIN_EXACT_2x2 = [
    # coin-Ex.Rout.save, MarginalHomogeneityTests: performance of the prime minister (Agresti 2002 p. 409),
    # mh_test(performance, distribution = "exact"): chi-squared = 17.356, p-value = 3.716e-05
    ([[794, 150], [86, 570]], 3.716e-05, 5e-09),
    # regtest_midpvalue.Rout.save, Fagerland et al. (2013) Tab. 1 / Tab. 6: round(pvalue(mt_e), 4) == 0.0703
    ([[1, 1], [7, 12]], 0.0703, 5e-05),
    # regtest_midpvalue.Rout.save, Fagerland et al. (2013) Tab. 2 / Tab. 6: round(pvalue(mt_e), 4) == 0.0525
    ([[59, 6], [16, 80]], 0.0525, 5e-05),
    # comparisons.Rout.save, StatXact 6 manual p. 306 (presidents; R matrix(c(28, 7, 13, 27), nrow = 2) is
    # column-major: rows (28, 13), (7, 27)): exact p-value 0.2632
    ([[28, 13], [7, 27]], 0.2632, 5e-05),
]


@pytest.mark.parametrize("table,p,tol", COIN_EXACT_2x2)
def test_exact_2x2_matches_coin_published_p(table, p, tol):
    e = ag.symmetry_exact(np.array(table, dtype=float), categories=["first", "second"])
    assert e["method"].startswith("exact")
    assert e["bowker_pvalue_exact"] == pytest.approx(p, abs=tol)
    assert e["stuart_maxwell_pvalue_exact"] == pytest.approx(p, abs=tol)  # 2 x 2: both are McNemar's


def test_performance_statistic_matches_coin():
    # coin-Ex.Rout.save: mh_test(performance) chi-squared = 17.356, df = 1, p-value = 3.099e-05
    t = np.array([[794, 150], [86, 570]], dtype=float)
    sm = ag.stuart_maxwell(t, categories=["a", "b"])
    assert sm.statistic == pytest.approx(17.356, abs=5e-4) and sm.df == 1
    assert sm.pvalue == pytest.approx(3.099e-05, abs=5e-09)


def test_vision_stuart_maxwell_matches_coin():
    # coin-Ex.Rout.save, "vision" (Stuart 1953, unaided distance vision of 7477 women, right x left eye):
    # mh_test(vision): chi-squared = 11.957, df = 3, p-value = 0.007533
    vision = np.array([[1520, 266, 124, 66], [234, 1512, 432, 78], [117, 362, 1772, 205], [36, 82, 179, 492]], float)
    sm = ag.stuart_maxwell(vision, categories=[1, 2, 3, 4])
    assert sm.statistic == pytest.approx(11.957, abs=5e-4) and sm.df == 3
    assert sm.pvalue == pytest.approx(0.007533, abs=5e-7)


def _sm(t: np.ndarray) -> float:
    """Stuart–Maxwell d'S⁻¹d (Maxwell 1970) written out, last category dropped."""
    q = t.shape[0]
    d = t.sum(1) - t.sum(0)
    s = -(t + t.T)
    np.fill_diagonal(s, 0)
    np.fill_diagonal(s, -s.sum(1))
    return float(d[: q - 1] @ np.linalg.solve(s[: q - 1, : q - 1], d[: q - 1]))


def test_exact_stuart_maxwell_3x3_is_coins_reference_set_enumerated():
    # coin's conditional reference set, enumerated by hand: the off-diagonal pairs of the table below
    # are (1,2) with 3 + 1 = 4 disagreements, (1,3) with 2 + 0 = 2 and (2,3) with 0 + 4 = 4; under
    # within-case-file swapping n_12 ~ Bin(4, ½), n_13 ~ Bin(2, ½), n_23 ~ Bin(4, ½) independently.
    # Every 5 x 3 x 5 = 75 split gets its probability and its Stuart–Maxwell and Bowker statistics.
    t = np.array([[5, 3, 2], [1, 6, 0], [0, 4, 7]], dtype=float)
    obs_sm = _sm(t)
    obs_b = sum((t[i, j] - t[j, i]) ** 2 / (t[i, j] + t[j, i]) for i, j in [(0, 1), (0, 2), (1, 2)])
    p_sm = p_b = 0.0
    for a, b, c in itertools.product(range(5), range(3), range(5)):
        u = t.copy()
        u[0, 1], u[1, 0], u[0, 2], u[2, 0], u[1, 2], u[2, 1] = a, 4 - a, b, 2 - b, 4 - c, c
        prob = stats.binom.pmf(a, 4, 0.5) * stats.binom.pmf(b, 2, 0.5) * stats.binom.pmf(c, 4, 0.5)
        bow = sum((u[i, j] - u[j, i]) ** 2 / (u[i, j] + u[j, i]) for i, j in [(0, 1), (0, 2), (1, 2)])
        p_sm += prob * (_sm(u) >= obs_sm - 1e-9)
        p_b += prob * (bow >= obs_b - 1e-9)
    e = ag.symmetry_exact(t, categories=[1, 2, 3])
    assert e["n_splits"] == 75
    assert e["stuart_maxwell"] == pytest.approx(obs_sm, rel=1e-12)
    assert e["stuart_maxwell_pvalue_exact"] == pytest.approx(p_sm, abs=1e-12)
    assert e["bowker_pvalue_exact"] == pytest.approx(p_b, abs=1e-12)
    # and the exact p is not the asymptotic one on so few disagreements (why coin offers both)
    assert abs(p_sm - ag.stuart_maxwell(t, categories=[1, 2, 3]).pvalue) > 0.01

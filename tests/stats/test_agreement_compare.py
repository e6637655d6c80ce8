"""Issue 19 item 4.3: comparing agreement between domains (dependent) and service areas (independent).

Expected values are published: the worked example of Gwet's R package pairedCAC (README, "Example",
K. L. Gwet 2021-09-16; github.com/kgwet/pairedCAC), which implements Gwet KL (2016) "Testing the
difference of correlated agreement coefficients for statistical significance", Educ Psychol Meas
76:609-637. Its data sets ``ratings1`` and ``ratings2`` (15 subjects x 4 raters, categories 1-3) are
typed below from ``data/ratings1.csv`` and ``data/ratings2.csv`` of that repository; the printed
results are those of ``ttest.ac2``, ``ttest.conger``, ``ttest.fleiss(ratings1, ratings2[, 1:3])`` and
``ttest.pa``. pairedCAC reports coefficient 2 − coefficient 1; ``compare_dependent_agreement(first,
second)`` reports first − second, so the tests pass ratings2 first.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats
from sklearn.metrics import cohen_kappa_score

from qa_lib.core.errors import StatisticsError
from qa_lib.stats import agreement as ag

RATINGS1 = np.array([[1, 1, 1, 1], [1, 1, 2, 3], [1, 1, 2, 3], [2, 2, 2, 3], [1, 2, 1, 1], [2, 1, 1, 1],
                     [2, 2, 2, 2], [2, 3, 2, 2], [3, 3, 3, 3], [1, 1, 1, 1], [1, 1, 2, 3], [3, 3, 3, 3],
                     [3, 2, 3, 3], [1, 2, 1, 1], [2, 1, 1, 1]])
RATINGS2 = np.array([[1, 1, 1, 1], [3, 3, 3, 2], [3, 3, 3, 3], [1, 1, 2, 1], [1, 1, 1, 1], [1, 1, 1, 1],
                     [2, 2, 2, 2], [2, 2, 1, 1], [3, 3, 3, 3], [1, 1, 1, 3], [2, 2, 2, 2], [3, 3, 3, 3],
                     [3, 3, 3, 3], [1, 2, 1, 1], [3, 3, 3, 3]])

#: pairedCAC README: (coeff1, coeff2, coeff.diff, std.err, t.stat, p.value), n.obs = 15
PAIRED_CAC = {
    "ac1": (RATINGS2, (0.4069193, 0.737382, 0.3304628, 0.1452689, 2.274835, 0.03917311)),
    "kappa": (RATINGS2, (0.3932584, 0.7250859, 0.3318275, 0.1527202, 2.172781, 0.04745695)),
    "fleiss": (RATINGS2[:, :3], (0.3856655, 0.7942073, 0.4085418, 0.1612858, 2.53303, 0.02389035)),
    "percent": (RATINGS2, (0.6, 0.8222222, 0.2222222, 0.09848947, 2.256304, 0.04056859)),
}


@pytest.mark.parametrize("measure", list(PAIRED_CAC))
def test_dependent_difference_reproduces_paired_cac(measure):
    second, (c1, c2, diff, se, tstat, p) = PAIRED_CAC[measure]
    t = ag.compare_dependent_agreement(second, RATINGS1, categories=[1, 2, 3], measure=measure)
    assert t.n == 15 and t.df == 14
    assert t.extra["coefficient_1"] == pytest.approx(c2, abs=1e-6)
    assert t.extra["coefficient_2"] == pytest.approx(c1, abs=1e-6)
    assert t.extra["difference"] == pytest.approx(diff, abs=1e-6)
    assert t.extra["se"] == pytest.approx(se, abs=1e-6)
    assert t.statistic == pytest.approx(tstat, abs=1e-5)
    assert t.pvalue == pytest.approx(p, abs=1e-7)
    # the t interval of the difference: diff ± t(0.975, 14)·SE (pairedCAC's conflev = 0.95)
    assert t.extra["ci_low"] == pytest.approx(diff - stats.t.isf(0.025, 14) * se, abs=1e-5)


def test_dependent_coefficients_are_the_single_set_coefficients():
    # The paired test's coefficients are the ordinary ones: AC1 as irrCAC gwet.ac1.raw (gwet_ac) and,
    # with two raters, Conger's kappa = Cohen's kappa (scikit-learn cohen_kappa_score).
    a, b = RATINGS1[:, :2], RATINGS2[:, :2]
    t = ag.compare_dependent_agreement(a, b, categories=[1, 2, 3], measure="kappa")
    assert t.extra["coefficient_1"] == pytest.approx(cohen_kappa_score(a[:, 0], a[:, 1]), abs=1e-12)
    assert t.extra["coefficient_2"] == pytest.approx(cohen_kappa_score(b[:, 0], b[:, 1]), abs=1e-12)
    t = ag.compare_dependent_agreement(RATINGS1, RATINGS2, categories=[1, 2, 3], measure="ac1")
    assert t.extra["coefficient_1"] == pytest.approx(0.4069193, abs=1e-6)  # pairedCAC ac2.coeff1


def test_against_the_mean_of_several_sets_is_the_linear_contrast():
    # One set against the mean of two others: d = A − (B + C)/2 = ((A − B) + (A − C))/2, so
    # Var(d̄) = [Var(A − B) + Var(A − C)]/2 − Var(B − C)/4 from three pairwise tests, each of which
    # reproduces pairedCAC above; the difference is A − (B + C)/2 of the three coefficients.
    a, b, c = RATINGS2, RATINGS1, RATINGS2[:, [0, 2, 1, 3]][::-1].copy()
    c[:, 3] = RATINGS1[:, 0]
    ab = ag.compare_dependent_agreement(a, b, categories=[1, 2, 3])
    ac = ag.compare_dependent_agreement(a, c, categories=[1, 2, 3])
    bc = ag.compare_dependent_agreement(b, c, categories=[1, 2, 3])
    both = ag.compare_dependent_agreement(a, [b, c], categories=[1, 2, 3])
    var = (ab.extra["se"] ** 2 + ac.extra["se"] ** 2) / 2 - bc.extra["se"] ** 2 / 4
    assert both.extra["se"] == pytest.approx(math.sqrt(var), rel=1e-10)
    assert both.extra["difference"] == pytest.approx((ab.extra["difference"] + ac.extra["difference"]) / 2, rel=1e-12)
    assert both.df == 14 and "mean of 2 other sets" in both.method


def test_dependent_comparison_leaves_out_case_files_missing_from_a_set():
    a = RATINGS2.astype(float)
    b = RATINGS1.astype(float)
    b[3, :] = np.nan  # case file 4 not rated in the second set: left out of both
    t = ag.compare_dependent_agreement(a, b, categories=[1, 2, 3])
    ref = ag.compare_dependent_agreement(np.delete(RATINGS2, 3, 0), np.delete(RATINGS1, 3, 0), categories=[1, 2, 3])
    assert t.n == 14 and t.extra["n_dropped"] == 1
    assert t.statistic == pytest.approx(ref.statistic, rel=1e-12)


def test_dependent_comparison_refuses_misaligned_sets_and_unknown_measures():
    with pytest.raises(StatisticsError, match="same case files"):
        ag.compare_dependent_agreement(RATINGS1, RATINGS2[:10], categories=[1, 2, 3])
    with pytest.raises(StatisticsError, match="measure"):
        ag.compare_dependent_agreement(RATINGS1, RATINGS2, categories=[1, 2, 3], measure="alpha")
    same = ag.compare_dependent_agreement(RATINGS1, RATINGS1, categories=[1, 2, 3])
    assert math.isnan(same.pvalue) and "SE 0" in same.note  # identical sets: nothing to test


def test_dependent_comparison_edge_cases():
    # perfect agreement in both sets: AC1 = 1 twice, every case file's term is the same, nothing to test
    a = np.array([[1, 1], [2, 2], [3, 3], [1, 1], [2, 2]])
    perfect = ag.compare_dependent_agreement(a, a[::-1].copy(), categories=[1, 2, 3])
    assert perfect.extra["coefficient_1"] == pytest.approx(1) and math.isnan(perfect.pvalue)
    assert "SE 0" in perfect.note
    # one grade only in a set: kappa's chance agreement is 1, so kappa is 0/0 -> undefined, said, not raised
    # (AC1 is defined there: p_e = Σπ(1 − π)/(q − 1) = 0)
    one = ag.compare_dependent_agreement(a, np.full((5, 2), 2), categories=[1, 2, 3], measure="kappa")
    assert math.isnan(one.pvalue) and "chance agreement p_e = 1" in one.note
    # an unused grade stays in the scale: the coefficients are irrCAC's with q = 4 (gwet_ac on the 4-grade scale)
    four = ag.compare_dependent_agreement(RATINGS1, RATINGS2, categories=[1, 2, 3, 4])
    assert four.extra["coefficient_1"] == pytest.approx(ag.gwet_ac(RATINGS1, categories=[1, 2, 3, 4]).estimate, rel=1e-12)
    assert four.extra["coefficient_1"] != pytest.approx(0.4069193, abs=1e-4)  # q = 3 value (pairedCAC)

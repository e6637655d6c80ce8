"""Tests and intervals for proportions in small audit samples.

=====================================================  ==========================================
question in the report                                 function
=====================================================  ==========================================
% Good or better this period, with uncertainty         :func:`proportion_ci`
did it change since the last period?                   :func:`compare_two`, :func:`difference_ci`
any difference across k periods?                       :func:`homogeneity`
steady rise / fall over ordered periods?               :func:`cochran_armitage`
shift in the 4-grade distribution over periods?        :func:`linear_by_linear`
monotone trend in a long series without denominators   :func:`mann_kendall`
many domains tested at once                            :func:`adjust`
=====================================================  ==========================================

Conventions (each result repeats its own in ``method``):

* intervals are 95% Wilson score (Clopper–Pearson on request); differences use Newcombe's
  hybrid score interval (method 10, or 11 with continuity correction). No Wald interval
  is computed anywhere: it collapses to zero width at 0% and 100%.
* two-period tests: Fisher's exact (two-sided) when any expected count is below 5,
  otherwise Pearson chi-squared *without* Yates' correction.
* Cochran–Armitage: R ``prop.trend.test`` chi-squared form (variance p̄(1−p̄)Σnᵢ(sᵢ−s̄)², N
  not N−1), scores 1..k unless given; the Mantel (N−1)/N form is reported alongside.
* Mann–Kendall: tie-corrected variance, continuity-corrected z, two-sided p (one-sided in
  ``extra``).

A statistic that does not exist for the data (every audit Good, a period with no audits)
comes back as ``nan`` with a plain-English ``note``; it is never reported as p = 1.
Arguments the function cannot work with raise :class:`~qa_lib.core.errors.StatisticsError`.
See ``tests/reference/trend/`` for the published values each one is checked against.
"""


from __future__ import annotations

import math
from collections import defaultdict
from typing import Any, Sequence

import numpy as np
import pandas as pd
from scipy import stats
from statsmodels.stats.contingency_tables import Table
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.proportion import proportion_confint

from qa_lib.core.errors import StatisticsError, problem
from qa_lib.stats.results import TestResult

__all__ = ["proportion_ci", "difference_ci", "compare_two", "cochran_armitage", "homogeneity",
           "linear_by_linear", "mann_kendall", "adjust"]


def _z(level: float) -> float:
    if not (0 < level < 1):
        raise problem(StatisticsError, "level", expected="a confidence level between 0 and 1, e.g. 0.95",
                      received=repr(level), fix="pass level=0.95 for a 95% interval")
    return float(stats.norm.ppf(1 - (1 - level) / 2))


def _counts(x: Any, n: Any, where: str) -> tuple[np.ndarray, np.ndarray]:
    """Validate event counts ``x`` out of totals ``n``; return float arrays (broadcast)."""
    try:
        xa = np.asarray(x, dtype=float)
        na = np.asarray(n, dtype=float)
        xa, na = np.broadcast_arrays(xa, na)
    except (TypeError, ValueError) as exc:
        raise problem(StatisticsError, where, expected="counts x out of totals n (numbers or arrays of the same length)",
                      received=f"x={x!r}, n={n!r}", fix="pass whole-number counts") from exc
    bad = ~np.isfinite(xa) | ~np.isfinite(na)
    if bad.any():
        raise problem(StatisticsError, where, expected="finite counts",
                      received=f"missing or infinite values at positions {np.flatnonzero(bad.ravel()).tolist()}",
                      fix="remove or fill the periods with no data before calling")
    if (xa < 0).any() or (na < 0).any() or (xa > na).any():
        raise problem(StatisticsError, where, expected="0 <= x <= n for every period",
                      received=f"x={xa.tolist()}, n={na.tolist()}", fix="check that events are counted out of the right totals")
    if (xa != np.round(xa)).any() or (na != np.round(na)).any():
        raise problem(StatisticsError, where, expected="whole-number counts", received=f"x={xa.tolist()}, n={na.tolist()}",
                      fix="pass counts of audits, not percentages")
    return xa, na


def _scalar_or_array(a: np.ndarray) -> Any:
    return float(a) if np.ndim(a) == 0 else a


# --------------------------------------------------------------------------------------
# one proportion
# --------------------------------------------------------------------------------------
def _wilson_cc(x: np.ndarray, n: np.ndarray, z: float) -> tuple[np.ndarray, np.ndarray]:
    """Continuity-corrected Wilson limits (Newcombe 1998a, method 4)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        p = x / n
        z2 = z * z
        lo = (2 * n * p + z2 - 1 - z * np.sqrt(np.maximum(z2 - 2 - 1 / n + 4 * p * (n * (1 - p) + 1), 0))) / (2 * (n + z2))
        hi = (2 * n * p + z2 + 1 + z * np.sqrt(np.maximum(z2 + 2 - 1 / n + 4 * p * (n * (1 - p) - 1), 0))) / (2 * (n + z2))
    lo = np.where(x == 0, 0.0, lo)
    hi = np.where(x == n, 1.0, hi)
    return np.clip(lo, 0, 1), np.clip(hi, 0, 1)


def proportion_ci(x: Any, n: Any, *, method: str = "wilson", level: float = 0.95) -> tuple[Any, Any]:
    """Confidence interval for one proportion x/n.

    Parameters
    ----------
    x, n : int or array-like
        Events (e.g. audits graded Good or better) and totals; arrays are handled element-wise.
    method : {"wilson", "clopper-pearson", "wilson-cc"}
        ``"wilson"`` score interval (default; good coverage on 20–50 cases), ``"clopper-pearson"``
        exact interval (never below nominal coverage, wider), ``"wilson-cc"`` Wilson with
        continuity correction (Newcombe 1998a method 4).
    level : float
        Confidence level, default 0.95.

    Returns
    -------
    (low, high) : floats, or arrays when ``x``/``n`` are arrays
        ``(nan, nan)`` where ``n == 0``.

    Raises
    ------
    StatisticsError
        Unknown method, counts that are negative, fractional or above ``n``.

    Notes
    -----
    Wilson: (p̂ + z²/2n ± z√(p̂(1−p̂)/n + z²/4n²)) / (1 + z²/n), via statsmodels
    ``proportion_confint(method="wilson")``. Clopper–Pearson: Beta quantiles, via
    ``proportion_confint(method="beta")``; lower = 0 at x = 0, upper = 1 at x = n.
    Both stay inside [0, 1] and have positive width at 0% and 100% (0/20 → 0–16.1%).

    References
    ----------
    Newcombe RG. Two-sided confidence intervals for the single proportion: comparison of
    seven methods. Stat Med 1998;17:857–872 (Table I).
    """
    z = _z(level)
    xa, na = _counts(x, n, "proportion_ci(x, n)")
    key = method.lower().replace("_", "-").replace(" ", "-")
    empty = na == 0
    n_safe = np.where(empty, 1.0, na)
    if key == "wilson":
        lo, hi = proportion_confint(xa, n_safe, alpha=1 - level, method="wilson")
    elif key in ("clopper-pearson", "beta", "exact"):
        lo, hi = proportion_confint(xa, n_safe, alpha=1 - level, method="beta")
    elif key in ("wilson-cc", "wilsoncc"):
        lo, hi = _wilson_cc(xa, n_safe, z)
    else:
        raise problem(StatisticsError, "proportion_ci method", expected="'wilson', 'clopper-pearson' or 'wilson-cc'",
                      received=repr(method), fix="Wald intervals are not offered: use 'wilson'")
    lo = np.clip(np.asarray(lo, dtype=float), 0.0, 1.0)
    hi = np.clip(np.asarray(hi, dtype=float), 0.0, 1.0)
    lo = np.where(xa == 0, 0.0, lo)  # remove -1e-17 style rounding at the boundary
    hi = np.where(xa == na, 1.0, hi)
    lo = np.where(empty, np.nan, lo)
    hi = np.where(empty, np.nan, hi)
    return _scalar_or_array(lo), _scalar_or_array(hi)


# --------------------------------------------------------------------------------------
# two proportions
# --------------------------------------------------------------------------------------
def difference_ci(x1: int, n1: int, x2: int, n2: int, *, correction: bool = False,
                  level: float = 0.95) -> tuple[float, float]:
    """Newcombe hybrid score interval for the difference p₁ − p₂ of two independent proportions.

    Parameters
    ----------
    x1, n1, x2, n2 : int
        Events and totals in each group/period. The difference is ``x1/n1 - x2/n2``.
    correction : bool
        False (default): Newcombe's method 10 (Wilson limits). True: method 11 (limits from
        the continuity-corrected Wilson interval), slightly wider.
    level : float
        Confidence level, default 0.95.

    Returns
    -------
    (low, high) : float
        ``(nan, nan)`` when either total is 0.

    Notes
    -----
    With Wilson limits (lᵢ, uᵢ) and d = p̂₁ − p̂₂ ("square and add"):
    low = d − √((p̂₁−l₁)² + (u₂−p̂₂)²), high = d + √((u₁−p̂₁)² + (p̂₂−l₂)²).
    Method 10 agrees with statsmodels ``confint_proportions_2indep(method="newcomb")``;
    method 11 is not in statsmodels and is written here. On 24/30 vs 18/30 (80% vs 60%)
    the interval is about −3 to +41 points: a 20-point drop can be noise.

    References
    ----------
    Newcombe RG. Interval estimation for the difference between independent proportions:
    comparison of eleven methods. Stat Med 1998;17:873–890 (Table II).
    """
    for v, nn, name in ((x1, n1, "1"), (x2, n2, "2")):
        _counts(v, nn, f"difference_ci group {name}")
    if n1 == 0 or n2 == 0:
        return (math.nan, math.nan)
    method = "wilson-cc" if correction else "wilson"
    l1, u1 = proportion_ci(x1, n1, method=method, level=level)
    l2, u2 = proportion_ci(x2, n2, method=method, level=level)
    p1, p2 = x1 / n1, x2 / n2
    d = p1 - p2
    low = d - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2)
    high = d + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)
    return (max(low, -1.0), min(high, 1.0))


def compare_two(x1: int, n1: int, x2: int, n2: int, *, level: float = 0.95) -> TestResult:
    """Test whether two proportions differ (e.g. this quarter vs last), with the difference's CI.

    Parameters
    ----------
    x1, n1, x2, n2 : int
        Events and totals in group/period 1 and 2.
    level : float
        Confidence level of the Newcombe interval in ``extra``.

    Returns
    -------
    TestResult
        ``statistic`` is Pearson's X² (chi-squared branch) or the sample odds ratio ad/bc
        (Fisher branch); ``method`` says which was used and why. ``extra``: ``test``
        ("fisher" / "chi2"), ``p1``, ``p2``, ``difference`` (p1 − p2), ``diff_ci_low``,
        ``diff_ci_high`` (Newcombe method 10), ``min_expected``.

    Notes
    -----
    Fisher's exact test (two-sided, scipy ``fisher_exact``) is used when any expected count
    of the 2×2 table is below 5, otherwise Pearson's chi-squared *without* Yates' correction
    (scipy ``chi2_contingency(correction=False)``; with Yates it is much more conservative).
    When both periods are all-events or all-non-events there is nothing to test: the
    p-value is ``nan`` with a "no variation" note.
    """
    for v, nn, name in ((x1, n1, "1"), (x2, n2, "2")):
        _counts(v, nn, f"compare_two group {name}")
    x1, n1, x2, n2 = int(x1), int(n1), int(x2), int(n2)
    n = n1 + n2
    base_extra: dict[str, Any] = {"p1": x1 / n1 if n1 else math.nan, "p2": x2 / n2 if n2 else math.nan}
    base_extra["difference"] = base_extra["p1"] - base_extra["p2"]
    lo, hi = difference_ci(x1, n1, x2, n2, level=level)
    base_extra.update(diff_ci_low=lo, diff_ci_high=hi, diff_ci_method="Newcombe hybrid score (method 10)")
    if n1 == 0 or n2 == 0:
        return TestResult(math.nan, math.nan, n=n, method="not tested",
                          note="One of the two periods has no audits: there is nothing to compare.",
                          extra={**base_extra, "test": "none", "min_expected": math.nan})
    events = x1 + x2
    if events == 0 or events == n:
        word = "none" if events == 0 else "all"
        return TestResult(math.nan, math.nan, df=1, n=n, method="not tested",
                          note=f"No variation: {word} of the audits in both periods had the outcome, so no test can show a change.",
                          extra={**base_extra, "test": "none", "min_expected": 0.0})
    table = np.array([[x1, n1 - x1], [x2, n2 - x2]])
    expected = np.outer(table.sum(1), table.sum(0)) / n
    min_e = float(expected.min())
    if min_e < 5:
        res = stats.fisher_exact(table, alternative="two-sided")
        return TestResult(float(res.statistic), float(res.pvalue), df=math.nan, n=n,
                          method=("Fisher's exact test, two-sided (an expected count is below 5); "
                                  "statistic = sample odds ratio ad/bc"),
                          extra={**base_extra, "test": "fisher", "min_expected": min_e})
    chi2, p, dof, _ = stats.chi2_contingency(table, correction=False)
    return TestResult(float(chi2), float(p), df=float(dof), n=n,
                      method="Pearson chi-squared test, 1 df, no Yates continuity correction (all expected counts >= 5)",
                      extra={**base_extra, "test": "chi2", "min_expected": min_e})


# --------------------------------------------------------------------------------------
# k ordered periods
# --------------------------------------------------------------------------------------
def _scores(scores: Any, k: int, where: str) -> np.ndarray:
    if scores is None:
        return np.arange(1, k + 1, dtype=float)
    s = np.asarray(scores, dtype=float)
    if s.shape != (k,) or not np.isfinite(s).all():
        raise problem(StatisticsError, where, expected=f"{k} finite scores, one per period/category",
                      received=repr(scores), fix="pass scores=None for 1..k, or one number per period (e.g. months)")
    return s


def _exact_ca_pvalue(events: np.ndarray, totals: np.ndarray, s: np.ndarray) -> float:
    """Exact conditional two-sided p of Cochran–Armitage: P(|T − E T| ≥ |t − E T|) given Σx."""
    m = int(events.sum())
    N = int(totals.sum())
    ev = events.astype(int)
    tot = totals.astype(int)
    if m > N - m:  # condition on the rarer outcome; |T - E T| is unchanged by the swap
        ev = tot - ev
        m = N - m
    if m > 150:
        raise problem(StatisticsError, "cochran_armitage(exact=True)",
                      expected="at most 150 events (or non-events) for the exact test",
                      received=f"{m}", fix="use the asymptotic test (exact=False), which is accurate at this size")
    dist: dict[tuple[int, float], int] = {(0, 0.0): 1}
    for n_i, s_i in zip(tot, s):
        new: dict[tuple[int, float], int] = defaultdict(int)
        for (j, t), w in dist.items():
            for x in range(0, min(n_i, m - j) + 1):
                new[(j + x, round(t + x * s_i, 9))] += w * math.comb(int(n_i), x)
        dist = new
    t_obs = float((ev * s).sum())
    e_t = m * float((tot * s).sum()) / N
    d_obs = abs(t_obs - e_t)
    total = 0
    tail = 0
    for (j, t), w in dist.items():
        if j != m:
            continue
        total += w
        if abs(t - e_t) >= d_obs - 1e-7 * max(1.0, d_obs):
            tail += w
    return tail / total


def _period_counts(events: Any, totals: Any, name: str) -> tuple[np.ndarray, np.ndarray]:
    """Events and totals of k ≥ 2 ordered periods, each with at least one audit, or a clear error."""
    x, n = _counts(events, totals, f"{name}(events, totals)")
    if x.ndim != 1 or len(x) < 2:
        raise problem(StatisticsError, f"{name}(events, totals)", expected="at least 2 periods",
                      received=f"{x.size}", fix="pass one count per period")
    if (n == 0).any():
        raise problem(StatisticsError, f"{name} totals", expected="at least one audit in every period",
                      received=f"totals {n.astype(int).tolist()}", fix="drop empty periods or merge months into quarters")
    return x, n


def cochran_armitage(events: Sequence[float], totals: Sequence[float], *, scores: Any = None,
                     exact: bool = False) -> TestResult:
    """Cochran–Armitage test for a linear trend in a proportion over ordered periods.

    Parameters
    ----------
    events, totals : sequence of int
        Events (e.g. audits graded Good or better) and totals per period, in time order.
    scores : sequence of float, optional
        Score of each period; default 1..k. Use real time (months) for unequal gaps.
    exact : bool
        Also compute the exact conditional (permutation) two-sided p-value and report it as
        ``pvalue`` (recommended when there are fewer than about 30 events or non-events).

    Returns
    -------
    TestResult
        ``statistic`` = X² (R ``prop.trend.test`` form), ``df`` = 1, ``pvalue`` two-sided.
        ``extra``: ``z`` (signed √X²; positive = proportion rises with score), ``p_one_sided``
        (in the observed direction), ``mantel_X2``/``mantel_pvalue`` ((N−1)/N form, = coin,
        vcdExtra, statsmodels), ``asymptotic_pvalue``, ``exact_pvalue`` (when asked),
        ``scores``, ``pbar``.

    Notes
    -----
    s̄ = Σnᵢsᵢ/N, T = Σxᵢ(sᵢ−s̄), X² = T² / [p̄(1−p̄)Σnᵢ(sᵢ−s̄)²] (R ``prop.trend.test``,
    SAS TREND). Mantel: M² = X²(N−1)/N. Undefined when every period is 0% or every period
    is 100% (p̄(1−p̄) = 0): ``pvalue`` is ``nan`` with a "no variation" note, not p = 1.
    The exact version enumerates the conditional distribution of T given Σxᵢ (product of
    binomial coefficients) and counts tables with |T − E T| ≥ |t − E T| (StatXact convention).

    References
    ----------
    Armitage P. Tests for linear trends in proportions and frequencies. Biometrics 1955;11:375–386.
    R Core Team, ``stats::prop.trend.test`` (example data Fleiss 1981, p. 139).
    """
    x, n = _period_counts(events, totals, "cochran_armitage")
    s = _scores(scores, len(x), "cochran_armitage scores")
    N = n.sum()
    pbar = x.sum() / N
    sbar = (n * s).sum() / N
    T = float((x * (s - sbar)).sum())
    ssq = float((n * (s - sbar) ** 2).sum())
    conv = (f"Cochran-Armitage trend test, chi-squared form of R prop.trend.test (variance pbar(1-pbar)"
            f"*sum n_i(s_i-sbar)^2, N not N-1), 1 df, two-sided; scores {s.tolist()}")
    extra: dict[str, Any] = {"scores": s.tolist(), "pbar": float(pbar)}
    if pbar in (0.0, 1.0) or ssq == 0:
        why = ("every period is 0%" if pbar == 0 else "every period is 100%") if ssq else "all scores are equal"
        return TestResult(math.nan, math.nan, df=1, n=int(N), method=conv,
                          note=f"No variation: {why}, so a trend test is undefined (not 'p = 1').",
                          extra={**extra, "z": math.nan, "p_one_sided": math.nan, "mantel_X2": math.nan,
                                 "mantel_pvalue": math.nan})
    X2 = T * T / (pbar * (1 - pbar) * ssq)
    z = math.copysign(math.sqrt(X2), T) if T != 0 else 0.0
    p = float(stats.chi2.sf(X2, 1))
    M2 = X2 * (N - 1) / N
    extra.update(z=z, p_one_sided=float(stats.norm.sf(abs(z))), mantel_X2=float(M2),
                 mantel_pvalue=float(stats.chi2.sf(M2, 1)), asymptotic_pvalue=p)
    note = ""
    few = min(x.sum(), N - x.sum())
    if exact:
        pe = _exact_ca_pvalue(x, n, s)
        extra["exact_pvalue"] = pe
        conv = conv.replace("two-sided;", "two-sided; p exact conditional (permutation) |T-E T| >= |t-E T|;")
        p = pe
    elif few < 30:
        note = f"Only {int(few)} events (or non-events): the asymptotic p can be too small; use exact=True."
    return TestResult(float(X2), p, df=1, n=int(N), method=conv, note=note, extra=extra)


def homogeneity(events: Sequence[float], totals: Sequence[float]) -> TestResult:
    """Chi-squared test that k proportions are equal (any difference across periods).

    Parameters
    ----------
    events, totals : sequence of int
        Events and totals per period.

    Returns
    -------
    TestResult
        X² over the 2×k table, k − 1 df, no continuity correction (as R ``prop.test`` for
        k > 2; for k = 2 this is the uncorrected Pearson test). ``extra``: ``min_expected``,
        ``n_expected_below_5``, ``proportions``.

    Notes
    -----
    X² = Σ(O − E)²/E, via scipy ``chi2_contingency(correction=False)``. It ignores the order
    of periods; :func:`cochran_armitage` concentrates the evidence on a steady trend.
    With many expected counts below 5 the chi-squared approximation is poor: merge months
    into quarters. Every period 0% (or 100%) → ``nan`` with a "no variation" note.
    """
    x, n = _period_counts(events, totals, "homogeneity")
    k = len(x)
    method = f"Chi-squared test of homogeneity of {k} proportions, {k - 1} df, no continuity correction"
    N = n.sum()
    props = (x / n).tolist()
    if x.sum() in (0, N):
        return TestResult(math.nan, math.nan, df=k - 1, n=int(N), method=method,
                          note="No variation: every period is " + ("0%" if x.sum() == 0 else "100%") + "; the test is undefined.",
                          extra={"proportions": props})
    table = np.column_stack([x, n - x])
    chi2, p, dof, exp = stats.chi2_contingency(table, correction=False)
    below = int((exp < 5).sum())
    note = (f"{below} of {exp.size} expected counts are below 5: the chi-squared p is approximate; "
            "consider merging months into quarters." if below else "")
    return TestResult(float(chi2), float(p), df=float(dof), n=int(N), method=method, note=note,
                      extra={"min_expected": float(exp.min()), "n_expected_below_5": below, "proportions": props})


def linear_by_linear(table: Any, *, row_scores: Any = None, col_scores: Any = None) -> TestResult:
    """Linear-by-linear association (Mantel M²) for an ordered r×c table.

    Parameters
    ----------
    table : array-like or DataFrame, shape (r, c)
        Counts, e.g. periods (rows) × grades (columns). All four grades must be columns even
        when one was unused this period (pass the scale, never infer it).
    row_scores, col_scores : sequence of float, optional
        Default 1..r and 1..c **in the column order given**: with the grades in scale order
        (best first) score 1 is Outstanding and 4 Inadequate, so a positive association means
        *worse* grades later. Pass the columns worst first (as
        :func:`qa_lib.sections.change.trend_tests` does) or ``col_scores=[4, 3, 2, 1]`` for
        1 = Inadequate … 4 = Outstanding. Row scores: use the periods' real positions in time
        when a period is missing.

    Returns
    -------
    TestResult
        ``statistic`` = M² = (N − 1)r², 1 df, two-sided ``pvalue``. ``extra``: ``r`` (Pearson
        correlation of the scores over the N units), ``z`` (signed √M²), ``pearson_X2``,
        ``pearson_df``, ``pearson_pvalue``, ``G2``, ``G2_pvalue`` (nominal tests for contrast),
        the scores used.

    Notes
    -----
    z comes from statsmodels ``Table(table, shift_zeros=False).test_ordinal_association``;
    M² = z² equals (N − 1)r² (Agresti 2002 §3.4.1), checked here.
    """
    t = np.asarray(table, dtype=float)
    if t.ndim != 2 or min(t.shape) < 2:
        raise problem(StatisticsError, "linear_by_linear(table)", expected="a 2-D table with at least 2 rows and 2 columns",
                      received=f"shape {t.shape}", fix="pass counts with periods as rows and grades as columns")
    if (~np.isfinite(t)).any() or (t < 0).any():
        raise problem(StatisticsError, "linear_by_linear(table)", expected="non-negative finite counts",
                      received="negative or missing cells", fix="fill empty cells with 0")
    rs = _scores(row_scores, t.shape[0], "linear_by_linear row_scores")
    cs = _scores(col_scores, t.shape[1], "linear_by_linear col_scores")
    N = t.sum()
    method = (f"Linear-by-linear association (Mantel M2 = (N-1) r^2), 1 df, two-sided; row scores {rs.tolist()}, "
              f"column scores {cs.tolist()}")
    extra: dict[str, Any] = {"row_scores": rs.tolist(), "col_scores": cs.tolist()}
    rsum, csum = t.sum(1), t.sum(0)
    rmean = (rsum * rs).sum() / N
    cmean = (csum * cs).sum() / N
    sxx = (rsum * (rs - rmean) ** 2).sum()
    syy = (csum * (cs - cmean) ** 2).sum()
    if N < 2 or sxx == 0 or syy == 0:
        return TestResult(math.nan, math.nan, df=1, n=int(N), method=method,
                          note="No variation: all units share one row or one column score, so the association is undefined.",
                          extra=extra)
    sxy = (t * np.outer(rs - rmean, cs - cmean)).sum()
    r = sxy / math.sqrt(sxx * syy)
    M2 = (N - 1) * r * r
    res = Table(t, shift_zeros=False).test_ordinal_association(row_scores=rs, col_scores=cs)
    z = float(res.zscore)
    if not math.isclose(z * z, M2, rel_tol=1e-8, abs_tol=1e-12):  # pragma: no cover - library check
        raise problem(StatisticsError, "linear_by_linear", expected="statsmodels z^2 = (N-1) r^2",
                      received=f"{z * z} vs {M2}", fix="report this as a bug")
    keep_r, keep_c = rsum > 0, csum > 0
    tt = t[keep_r][:, keep_c]
    x2, p2, df2, _ = stats.chi2_contingency(tt, correction=False)
    g2, pg, _, _ = stats.chi2_contingency(tt, correction=False, lambda_="log-likelihood")
    extra.update(r=float(r), z=math.copysign(math.sqrt(M2), r), pearson_X2=float(x2), pearson_df=float(df2),
                 pearson_pvalue=float(p2), G2=float(g2), G2_pvalue=float(pg))
    return TestResult(float(M2), float(stats.chi2.sf(M2, 1)), df=1, n=int(N), method=method, extra=extra)


# --------------------------------------------------------------------------------------
# Mann-Kendall
# --------------------------------------------------------------------------------------
def _kendall_exact_pvalue(S: float, n: int) -> float:
    """Exact two-sided P(|S| ≥ |s|) for Mann–Kendall S without ties: S = n(n−1)/2 − 2·inversions, and the
    number of inversions of a random permutation has the Mahonian distribution (built by convolution)."""
    dist = np.array([1.0])
    for k in range(1, n + 1):
        dist = np.convolve(dist, np.ones(k))
    dist /= dist.sum()  # P(inversions = 0..n(n−1)/2)
    m = n * (n - 1) // 2
    s_values = m - 2 * np.arange(m + 1)
    return float(min(1.0, dist[np.abs(s_values) >= abs(S) - 1e-9].sum()))


#: Up to this many points (and no ties) Mann–Kendall also gets its exact permutation p-value.
MK_EXACT_MAX_N = 10


def mann_kendall(values: Sequence[float], *, times: Sequence[float] | None = None,
                 exact: bool = False) -> TestResult:
    """Mann–Kendall test for a monotone trend, with Sen's slope.

    Parameters
    ----------
    values : sequence of float
        The series in time order (rates or scores without denominators). No missing values.
    times : sequence of float, optional
        Time of each value for Sen's slope (default 1..n, so the slope is per period).
    exact : bool, optional
        Report the exact permutation p (n ≤ 10, no ties) as ``pvalue``. It is always in
        ``extra["exact_pvalue"]`` when it exists (issue 19).

    Returns
    -------
    TestResult
        ``statistic`` = S = Σ_{i<j} sign(y_j − y_i); ``pvalue`` two-sided normal p of the
        continuity-corrected z. ``extra``: ``var_S`` (tie-corrected), ``z``, ``p_increasing``
        (one-sided), ``p_decreasing``, ``p_one_sided`` (in the observed direction), ``tau``
        = S / (n(n−1)/2), ``sen_slope``, ``ties``.

    Notes
    -----
    Var S = [n(n−1)(2n+5) − Σ t(t−1)(2t+5)]/18 over tie groups; z = (S − sign S)/√Var S.
    Sen slope = median over i<j of (y_j − y_i)/(t_j − t_i). The normal approximation needs
    about 10 points; with 4 quarters the exact p can never be below 0.083 (2/n!), so a
    short series is reported with a caution note. MK ignores denominators: for proportions
    prefer :func:`cochran_armitage` on counts.

    References
    ----------
    Mann HB (1945), Kendall MG (1975); Sen PK (1968). Worked example: D. Little, "A
    Mann-Kendall example (by hand)", College of the Holy Cross.
    """
    y = np.asarray(values, dtype=float)
    if y.ndim != 1 or not np.isfinite(y).all():
        raise problem(StatisticsError, "mann_kendall(values)", expected="a 1-D series with no missing values",
                      received=f"{np.count_nonzero(~np.isfinite(y))} missing value(s)" if y.ndim == 1 else f"shape {y.shape}",
                      fix="drop missing periods and pass their times= so Sen's slope uses real spacing")
    n = len(y)
    t = np.arange(1, n + 1, dtype=float) if times is None else np.asarray(times, dtype=float)
    if t.shape != y.shape or len(np.unique(t)) != n:
        raise problem(StatisticsError, "mann_kendall(times)", expected="one distinct time per value",
                      received=repr(times), fix="pass times=None for equally spaced periods")
    method = ("Mann-Kendall test, tie-corrected variance, continuity-corrected z = (S - sign S)/sqrt(Var S), "
              "two-sided normal p; Sen slope per unit of time")
    if n < 3:
        return TestResult(math.nan, math.nan, n=n, method=method, note="Too few points for a trend test (need at least 3).")
    i, j = np.triu_indices(n, k=1)
    S = float(np.sign(y[j] - y[i]).sum())
    _, counts = np.unique(y, return_counts=True)
    ties = counts[counts > 1]
    var_s = (n * (n - 1) * (2 * n + 5) - float((ties * (ties - 1) * (2 * ties + 5)).sum())) / 18.0
    slope = float(np.median((y[j] - y[i]) / (t[j] - t[i])))
    extra: dict[str, Any] = {"var_S": var_s, "tau": S / (n * (n - 1) / 2), "sen_slope": slope,
                             "ties": ties.tolist()}
    if var_s <= 0:
        return TestResult(S, math.nan, n=n, method=method, note="No variation: every value is the same.",
                          extra={**extra, "z": math.nan})
    z = (S - np.sign(S)) / math.sqrt(var_s)
    p_inc = float(stats.norm.sf(z))
    p_dec = float(stats.norm.cdf(z))
    p = float(2 * stats.norm.sf(abs(z)))
    note = ""
    if n < 10:
        note = (f"Only {n} points: Mann-Kendall needs about 10 (the smallest possible exact two-sided p is "
                f"2/{n}! = {2 / math.factorial(n):.3g}).")
    extra.update(z=float(z), p_increasing=p_inc, p_decreasing=p_dec,
                 p_one_sided=p_inc if S > 0 else p_dec if S < 0 else 0.5)
    if n <= MK_EXACT_MAX_N and not len(ties):
        extra["exact_pvalue"] = _kendall_exact_pvalue(S, n)
        if exact:
            p = extra["exact_pvalue"]
            method = method.replace("two-sided normal p", "two-sided exact permutation p (Mahonian distribution)")
    elif exact:
        note = (note + " " if note else "") + (f"Exact p needs n ≤ {MK_EXACT_MAX_N} and no ties: normal p shown.")
    return TestResult(S, p, n=n, method=method, note=note, extra=extra)


# --------------------------------------------------------------------------------------
# multiplicity
# --------------------------------------------------------------------------------------
def adjust(pvalues: Any, method: str = "fdr_bh") -> Any:
    """Adjust p-values for multiple comparisons; NaNs stay NaN and are not counted.

    Parameters
    ----------
    pvalues : array-like or Series
        Raw p-values (``nan`` for tests that could not be done).
    method : str
        Any statsmodels ``multipletests`` method: ``"fdr_bh"`` (Benjamini–Hochberg q-values,
        default, for "flag for discussion" grids) or ``"holm"`` (family-wise, for a few
        headline claims), ``"bonferroni"`` ...

    Returns
    -------
    ndarray or Series
        Adjusted values, same shape (a Series keeps its index).
    """
    is_series = isinstance(pvalues, pd.Series)
    p = np.asarray(pvalues, dtype=float)
    out = np.full(p.shape, np.nan)
    flat = p.ravel()
    ok = np.isfinite(flat)
    if ((flat[ok] < 0) | (flat[ok] > 1)).any():
        raise problem(StatisticsError, "adjust(pvalues)", expected="p-values between 0 and 1",
                      received=repr(flat[ok][(flat[ok] < 0) | (flat[ok] > 1)].tolist()), fix="pass raw p-values")
    res = out.ravel()
    if ok.any():
        try:
            res[ok] = multipletests(flat[ok], method=method)[1]
        except ValueError as exc:
            raise problem(StatisticsError, "adjust method", expected="a statsmodels multipletests method such as 'fdr_bh' or 'holm'",
                          received=repr(method), fix="use method='fdr_bh'") from exc
    out = res.reshape(p.shape)
    if is_series:
        return pd.Series(out, index=pvalues.index, name=pvalues.name)
    return float(out) if out.ndim == 0 else out

"""Agreement between auditors, moderators and peers: kappa, AC1/AC2, alpha, symmetry tests.

Every function takes tidy input with an **explicit category set** (the grade scale, best
first, e.g. ``["Outstanding", "Good", "Requires improvement", "Inadequate"]``) and returns
one frozen result type (:class:`~qa_lib.stats.results.Estimate` or
:class:`~qa_lib.stats.results.TestResult`). Two-rater measures work from the auditor x moderator
count table (rows = auditor, columns = moderator), so every statistic costs O(q^2) once the
pairs are tabulated; :func:`crosstab` tabulates a million pairs in milliseconds.

Conventions (stated again in each result's ``method``):

* Cohen's kappa / weighted kappa: Fleiss, Cohen & Everitt (1969) non-null ASE; normal 95%
  CI, not truncated (as SAS PROC FREQ and statsmodels); ``ci="t"`` gives the irrCAC
  convention, t(n-1) truncated to [-1, 1]. Test of kappa = 0 uses the FCE null variance.
* Gwet AC1/AC2, Scott's pi, Fleiss' kappa (SE): Gwet (2014) linearisation variance,
  finite-population fraction f = 0, t(n-1) 95% CI truncated to [-1, 1] (as irrCAC).
* Krippendorff's alpha: point estimate from the ``krippendorff`` package; percentile
  bootstrap CI over case files (units resampled with all their ratings).
* Linear / quadratic weights score the categories 1..q by position (numeric categories
  use their own values, as irrCAC does); "ordinal" weights are Gwet's irrCAC
  ``ordinal.weights``, *not* Krippendorff's rank metric.
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Any, Sequence

import krippendorff as _kd
import numpy as np
import pandas as pd
from scipy import stats

from qa_lib.core.errors import StatisticsError, problem
from qa_lib.stats.results import Estimate, TestResult

__all__ = [
    "TINY_N",
    "LANDIS_KOCH",
    "encode",
    "crosstab",
    "count_table",
    "SCALE_ATTR",
    "agreement_weights",
    "cohen_kappa",
    "scott_pi_table",
    "gwet_ac_table",
    "gwet_ac",
    "fleiss_kappa",
    "krippendorff_alpha",
    "percent_agreement",
    "bowker_symmetry",
    "stuart_maxwell",
    "mcnemar",
    "direction_of_disagreement",
    "benchmark_probability",
    "agreement_table",
    "long_to_wide",
    "multirater_table",
    "brennan_prediger",
    "conger_kappa",
    "LAYOUTS",
    "downgrade_bias",
    "compare_agreement",
    "compare_dependent_agreement",
    "DEPENDENT_MEASURES",
    "sample_size_for_precision",
    "kappa_sample_size_binary",
    "bootstrap_agreement",
    "symmetry_exact",
    "mcnemar_sample_size",
    "stuart_maxwell_sample_size",
]

#: Below this many case files (pairs / units) a result carries a "tiny n" note.
TINY_N = 10

#: Landis & Koch (1977) benchmark bands, highest first: (label, lower, upper).
LANDIS_KOCH: tuple[tuple[str, float, float], ...] = (
    ("Almost perfect", 0.8, 1.0),
    ("Substantial", 0.6, 0.8),
    ("Moderate", 0.4, 0.6),
    ("Fair", 0.2, 0.4),
    ("Slight", 0.0, 0.2),
    ("Poor", -1.0, 0.0),
)

_EPS = 1e-12

# --------------------------------------------------------------------------------------
# input handling
# --------------------------------------------------------------------------------------


def _check_categories(categories: Any, where: str) -> list:
    if categories is None or isinstance(categories, (str, bytes)):
        raise problem(StatisticsError, where, expected="an explicit list of categories in scale order "
                      "(e.g. ['Outstanding', 'Good', 'Requires improvement', 'Inadequate'])",
                      received=repr(categories), fix="pass categories=... (never inferred from the data)")
    cats = list(categories)
    if len(cats) < 2:
        raise problem(StatisticsError, where, expected="at least 2 categories", received=f"{len(cats)} ({cats!r})",
                      fix="pass the full grade scale, including grades nobody used")
    if len(set(map(repr, cats))) != len(cats) or len(pd.Index(cats).unique()) != len(cats):
        raise problem(StatisticsError, where, expected="distinct categories", received=repr(cats),
                      fix="remove the duplicated category")
    return cats


def _numeric_categories(cats: Sequence) -> bool:
    return all(isinstance(c, (int, float, np.integer, np.floating)) and not isinstance(c, bool) for c in cats)


def _category_scores(cats: Sequence) -> np.ndarray:
    """Scores used by linear/quadratic weights and interval/ratio alpha: values if numeric, else 1..q."""
    if _numeric_categories(cats):
        return np.asarray(cats, dtype=float)
    return np.arange(1, len(cats) + 1, dtype=float)


def encode(values: Any, categories: Sequence, *, where: str = "grades") -> np.ndarray:
    """Map labels to integer codes 0..q-1 in scale order; missing values become -1.

    Parameters
    ----------
    values : array-like
        Grades (strings, numbers, categoricals); ``NaN``/``None`` mean "not graded".
    categories : sequence
        The full category set in scale order (first = code 0).
    where : str, optional
        Name of the thing being encoded, used in error messages.

    Returns
    -------
    numpy.ndarray of int64
        Codes, ``-1`` where the value is missing.

    Raises
    ------
    StatisticsError
        If a non-missing value is not one of ``categories`` (never silently dropped).
    """
    cats = _check_categories(categories, where)
    if isinstance(values, (pd.Series, pd.Index)) and not _numeric_categories(cats) \
            and not isinstance(values.dtype, pd.CategoricalDtype) and values.dtype.kind not in "iufb":
        # pandas string / object column: factorize the column itself (Arrow strings stay in C), then map
        # the few distinct labels to scale positions — no per-value Python objects are created
        ucodes, uniques = pd.factorize(values, use_na_sentinel=True)
        ucodes = np.asarray(ucodes, dtype=np.int64)
        lookup = np.asarray(pd.Index(cats, dtype=object).get_indexer(pd.Index(np.asarray(uniques, dtype=object),
                                                                               dtype=object)), dtype=np.int64)
        missing = ucodes < 0
        codes = np.where(missing, -1, lookup[np.where(missing, 0, ucodes)] if lookup.size else -1)
        unknown = (codes < 0) & ~missing
        if unknown.any():
            first = int(np.flatnonzero(unknown)[0])
            raise problem(StatisticsError, f"{where}, value {first + 1}", expected=f"one of {cats}",
                          received=repr(values.iloc[first] if isinstance(values, pd.Series) else values[first]),
                          fix="clean the grades (qa_lib.clean) or pass the full category set")
        return codes
    if isinstance(values, (pd.Series, pd.Index)):
        arr = values.to_numpy()
    elif isinstance(values, np.ndarray) and values.dtype.kind in "USiuf":
        arr = values
    else:
        arr = np.asarray(values, dtype=object)
    arr = np.asarray(arr).ravel()
    if arr.dtype.kind in "iu" and _numeric_categories(cats) and cats == list(range(len(cats))):
        codes = arr.astype(np.int64)  # already codes 0..q-1
        bad = (codes < 0) | (codes >= len(cats))
        if bad.any():
            raise problem(StatisticsError, where, expected=f"one of {cats}", received=repr(arr[bad][0]))
        return codes
    if _numeric_categories(cats):
        num = pd.to_numeric(pd.Series(arr, dtype=object), errors="coerce").to_numpy(dtype=float)
        missing = pd.isna(pd.Series(arr, dtype=object)).to_numpy()
        cat_arr = np.asarray(cats, dtype=float)
        order = np.argsort(cat_arr)
        pos = np.searchsorted(cat_arr[order], num)
        pos = np.clip(pos, 0, len(cats) - 1)
        codes = order[pos].astype(np.int64)
        ok = cat_arr[codes] == num
        unknown = ~ok & ~missing
        codes = np.where(ok, codes, -1)
    elif arr.dtype.kind in "US" and len(cats) <= 32:
        # fixed-width numpy strings: one vectorised comparison per grade beats hashing
        codes = np.full(arr.size, -1, dtype=np.int64)
        for k, c in enumerate(cats):
            codes[arr == c] = k
        missing = np.zeros(arr.size, dtype=bool)
        unknown = codes < 0
    else:
        # factorize once (hash table), then map the few distinct labels to scale positions
        ucodes, uniques = pd.factorize(arr, use_na_sentinel=True)
        lookup = np.asarray(pd.Index(cats, dtype=object).get_indexer(pd.Index(uniques, dtype=object)),
                            dtype=np.int64)
        missing = ucodes < 0
        codes = np.where(missing, -1, lookup[np.where(missing, 0, ucodes)] if lookup.size else -1)
        unknown = (codes < 0) & ~missing
    if unknown.any():
        first = int(np.flatnonzero(unknown)[0])
        raise problem(StatisticsError, f"{where}, value {first + 1}", expected=f"one of {cats}",
                      received=repr(arr[first]),
                      fix="clean the grades (qa_lib.clean) or pass the full category set")
    return codes


def crosstab(auditor: Any, moderator: Any, *, categories: Sequence, codes: bool = False) -> pd.DataFrame:
    """Tabulate paired grades into a q x q count table (rows = auditor, columns = moderator).

    Parameters
    ----------
    auditor, moderator : array-like
        Paired grades, same length. Labels from ``categories`` or, with ``codes=True``,
        integer codes 0..q-1 (-1 = missing).
    categories : sequence
        Full category set in scale order; unused categories get zero rows/columns.
    codes : bool, optional
        Inputs are already integer codes (fastest path: one ``np.bincount``).

    Returns
    -------
    pandas.DataFrame
        Integer counts, index and columns = ``categories``. ``attrs["n_dropped"]`` counts
        pairs left out because either grade was missing.

    Raises
    ------
    StatisticsError
        Different lengths, or a grade outside ``categories``.

    Notes
    -----
    The table is ``np.bincount(a * q + b, minlength=q*q).reshape(q, q)``: 10^6 pairs take a
    few milliseconds.
    """
    cats = _check_categories(categories, "crosstab categories")
    q = len(cats)
    if codes:
        a = np.asarray(auditor, dtype=np.int64).ravel()
        b = np.asarray(moderator, dtype=np.int64).ravel()
        if a.size and (a.max() >= q or b.max() >= q or a.min() < -1 or b.min() < -1):
            raise problem(StatisticsError, "crosstab codes", expected=f"integers -1..{q - 1}",
                          received=f"range {min(a.min(), b.min())}..{max(a.max(), b.max())}")
    else:
        a = encode(auditor, cats, where="auditor grades")
        b = encode(moderator, cats, where="moderator grades")
    if a.shape != b.shape:
        raise problem(StatisticsError, "crosstab", expected="auditor and moderator grades of the same length",
                      received=f"{a.size} and {b.size}")
    ok = (a >= 0) & (b >= 0)
    n_dropped = int(a.size - ok.sum())
    if n_dropped:
        a, b = a[ok], b[ok]
    counts = np.bincount(a * q + b, minlength=q * q).reshape(q, q)
    out = pd.DataFrame(counts, index=pd.Index(cats, name="auditor"), columns=pd.Index(cats, name="moderator"))
    out.attrs["n_dropped"] = n_dropped
    out.attrs[SCALE_ATTR] = list(cats)
    return out


#: ``DataFrame.attrs`` key set by :func:`crosstab`: the declared scale the table was built on.
SCALE_ATTR = "qa_categories"


def _label_list(labels: Sequence) -> list:
    return [x.item() if isinstance(x, np.generic) else x for x in labels]


def _same_labels(a: Sequence, b: Sequence) -> bool:
    return len(a) == len(b) and all(str(x) == str(y) for x, y in zip(a, b))


def _as_table(table: Any, where: str = "table", categories: Sequence | None = None) -> tuple[np.ndarray, list]:
    """Validate a square count table against the declared scale; return float counts in scale order.

    Never guesses an order or a category set (issue 19):

    * a labelled DataFrame is reordered to ``categories`` (missing grades become zero rows and
      columns; a label outside the scale is refused, naming it). Without ``categories`` it is
      accepted only when it was built by :func:`crosstab` (which records its scale) — a
      ``pandas.crosstab`` lists the grades alphabetically and drops unused ones;
    * an unlabelled array must come with ``categories`` (one per row, in the row order).
    """
    cats = None if categories is None else _check_categories(categories, f"{where} categories")
    if isinstance(table, pd.DataFrame):
        rows, cols = _label_list(table.index), _label_list(table.columns)
        declared = table.attrs.get(SCALE_ATTR)
        if cats is None:
            if declared is not None and _same_labels(declared, rows) and _same_labels(declared, cols):
                cats = list(declared)
            else:
                raise problem(StatisticsError, where, expected="a declared grade scale for a labelled table "
                              "(rows = auditor, columns = moderator)",
                              received=f"rows {rows} and columns {cols} with no categories: their order may be "
                              "alphabetical (pandas.crosstab) and an unused grade may be missing",
                              fix="pass categories=[...] (the full scale, best first), e.g. "
                              "cohen_kappa(table, categories=['Outstanding', 'Good', 'Requires improvement', "
                              "'Inadequate']), or build the table with qa_lib.stats.agreement.crosstab")
        key = [str(c) for c in cats]
        for axis, labels in (("row", rows), ("column", cols)):
            extra = [lab for lab in labels if str(lab) not in key]
            if extra:
                raise problem(StatisticsError, where, expected=f"{axis} labels from the declared scale {cats}",
                              received=f"{axis} label(s) {extra} not in the scale",
                              fix="correct the labels, or pass the full scale as categories=[...]")
            if len({str(x) for x in labels}) != len(labels):
                raise problem(StatisticsError, where, expected=f"each {axis} label once", received=repr(labels))
        frame = table.copy()
        frame.index, frame.columns = [str(x) for x in rows], [str(x) for x in cols]
        frame = frame.reindex(index=key, columns=key, fill_value=0)
        arr = frame.to_numpy()
        labels = list(cats)
    else:
        arr = np.asarray(table)
        if cats is None:
            shape = arr.shape if arr.ndim == 2 else arr.shape
            raise problem(StatisticsError, where, expected="categories=[...] with an unlabelled count table "
                          "(one category per row, in the row order, unused grades included)",
                          received=f"an array of shape {shape} without categories",
                          fix="pass categories=scale, or build the table with "
                          "qa_lib.stats.agreement.crosstab(..., categories=scale)")
        labels = list(cats)
        if arr.ndim == 2 and arr.shape[0] == arr.shape[1] and arr.shape[0] != len(cats):
            raise problem(StatisticsError, where, expected=f"a {len(cats)} x {len(cats)} table for the "
                          f"{len(cats)} declared categories {cats}", received=f"shape {arr.shape}",
                          fix="tabulate with every grade of the scale (crosstab keeps unused grades)")
    try:
        arr = np.asarray(arr, dtype=float)
    except (TypeError, ValueError):
        raise problem(StatisticsError, where, expected="numeric counts", received="non-numeric cells") from None
    if arr.ndim != 2 or arr.shape[0] != arr.shape[1]:
        raise problem(StatisticsError, where, expected="a square q x q count table (rows = auditor, "
                      "columns = moderator, all grades of the scale in order)", received=f"shape {arr.shape}",
                      fix="build it with qa_lib.stats.agreement.crosstab(..., categories=scale)")
    if arr.shape[0] < 2:
        raise problem(StatisticsError, where, expected="at least 2 categories", received=f"shape {arr.shape}",
                      fix="keep every grade of the scale, including unused ones")
    if not np.isfinite(arr).all() or (arr < 0).any():
        raise problem(StatisticsError, where, expected="finite, non-negative counts",
                      received="negative or missing cells", fix="fill empty cells with 0")
    return arr, labels


def count_table(table: Any, *, categories: Sequence) -> pd.DataFrame:
    """Declare the scale of an existing count table: reorder (or pad) it to ``categories``.

    Parameters
    ----------
    table : pandas.DataFrame or 2-D array
        Square counts, rows = auditor (rater A), columns = moderator (rater B). A labelled
        frame (e.g. ``pandas.crosstab``, alphabetical, unused grades missing) is reordered to
        the scale, with zero rows/columns for unused grades; an array is read in row order.
    categories : sequence
        The full scale in order.

    Returns
    -------
    pandas.DataFrame
        q x q integer-or-float counts indexed by ``categories``, with the scale recorded so
        every table function accepts it without ``categories=``.

    Raises
    ------
    StatisticsError
        A label outside the scale (named), a non-square table or one of the wrong size.
    """
    arr, cats = _as_table(table, "count_table", categories)
    out = pd.DataFrame(arr, index=pd.Index(cats, name="auditor"), columns=pd.Index(cats, name="moderator"))
    out.attrs[SCALE_ATTR] = list(cats)
    return out


def _pairs_or_table(table: Any, rater_b: Any, categories: Sequence | None, where: str) -> tuple[np.ndarray, list]:
    """A count table from ``table`` (a table) or from two label arrays ``table``, ``rater_b``."""
    if rater_b is None:
        arr = table.to_numpy() if isinstance(table, (pd.Series, pd.Index)) else None
        if arr is not None or (not isinstance(table, pd.DataFrame) and np.ndim(table) == 1):
            raise problem(StatisticsError, where, expected="a square count table, or two label arrays",
                          received="one 1-D array of labels",
                          fix=f"pass both raters: {where}(rater_a, rater_b, categories=scale)")
        return _as_table(table, f"{where} table", categories)
    if categories is None:
        seen = pd.unique(pd.Series(np.concatenate([np.asarray(table, dtype=object).ravel(),
                                                   np.asarray(rater_b, dtype=object).ravel()])).dropna())
        try:
            seen = sorted(seen)
        except TypeError:
            seen = list(seen)
        raise problem(StatisticsError, f"{where}(rater_a, rater_b)", expected="categories=[...]: the full scale "
                      "in order (never inferred: an unused grade changes AC1 and weighted kappa, and the order "
                      "sets the weights)", received=f"no categories; labels seen {seen}",
                      fix=f"{where}(rater_a, rater_b, categories=[...the scale, best first...])")
    t = crosstab(table, rater_b, categories=categories)
    return t.to_numpy(dtype=float), list(t.columns)


def agreement_weights(q: int, weights: Any = None, *, scores: Sequence[float] | None = None) -> np.ndarray:
    """Agreement weight matrix w (w_ii = 1) for q ordered categories.

    Parameters
    ----------
    q : int
        Number of categories (the declared scale, not the grades seen).
    weights : {None, "unweighted", "identity", "linear", "quadratic", "ordinal"} or array
        ``None``/"unweighted"/"identity": w = I. "linear": 1 - |x_i - x_j|/(x_max - x_min)
        (SAS Cicchetti-Allison). "quadratic": 1 - (x_i - x_j)^2/(x_max - x_min)^2 (SAS
        Fleiss-Cohen). "ordinal": Gwet's ``ordinal.weights``, 1 - C(|i-j|+1, 2)/max.
        A q x q array is used as given (agreement weights, w_ii = 1).
    scores : sequence of float, optional
        Category scores x (default 1..q).

    Returns
    -------
    numpy.ndarray
        q x q float matrix.
    """
    if weights is None or (isinstance(weights, str) and weights in ("unweighted", "identity", "none")):
        return np.eye(q)
    if isinstance(weights, str):
        x = np.arange(1, q + 1, dtype=float) if scores is None else np.asarray(scores, dtype=float)
        if weights == "linear":
            return 1.0 - np.abs(x[:, None] - x[None, :]) / (x.max() - x.min())
        if weights == "quadratic":
            return 1.0 - (x[:, None] - x[None, :]) ** 2 / (x.max() - x.min()) ** 2
        if weights == "ordinal":
            k = np.arange(q)
            nkl = np.abs(k[:, None] - k[None, :]) + 1.0
            m = nkl * (nkl - 1) / 2
            return 1.0 - m / m.max()
        raise problem(StatisticsError, "weights", expected="None, 'linear', 'quadratic', 'ordinal' or a q x q "
                      "matrix", received=repr(weights))
    w = np.asarray(weights, dtype=float)
    if w.shape != (q, q):
        raise problem(StatisticsError, "weights", expected=f"a {q} x {q} agreement-weight matrix",
                      received=f"shape {w.shape}")
    if not np.allclose(np.diag(w), 1.0):
        raise problem(StatisticsError, "weights", expected="agreement weights with 1 on the diagonal",
                      received=f"diagonal {np.diag(w).tolist()}",
                      fix="pass agreement weights (1 - disagreement), not disagreement weights")
    return w


def _weights_name(weights: Any) -> str:
    if weights is None or (isinstance(weights, str) and weights in ("unweighted", "identity", "none")):
        return "unweighted"
    return weights if isinstance(weights, str) else "custom"


def _wdesc(wname: str) -> str:
    return "unweighted" if wname == "unweighted" else f"{wname} weights"


def _tiny_note(n: int, what: str = "case files") -> str:
    if n < TINY_N:
        return (f"tiny n: only {n} {what} (< {TINY_N}); the interval is unreliable — "
                "treat as indicative, or bootstrap over case files")
    return ""


def _join(*notes: str) -> str:
    return "; ".join(s for s in notes if s)


class _CI(str):
    """An interval convention ("normal" or "t") that also carries its level and sidedness.

    A ``str`` subclass so ``ci == "t"`` keeps working wherever the convention is tested.
    """

    level: float
    one_sided: bool

    def __new__(cls, kind: Any, level: float = 0.95, one_sided: bool = False) -> "_CI":
        if isinstance(kind, _CI):
            level, one_sided = kind.level, kind.one_sided
        if kind not in ("normal", "t"):
            raise problem(StatisticsError, "ci", expected="'normal' or 't'", received=repr(kind))
        try:
            ok = 0.5 < float(level) < 1.0
        except (TypeError, ValueError):
            ok = False
        if not ok:
            raise problem(StatisticsError, "level", expected="a confidence level between 0.5 and 1 (e.g. 0.95)",
                          received=repr(level), fix="pass level=0.95 or level=0.9")
        out = super().__new__(cls, str(kind))
        out.level, out.one_sided = float(level), bool(one_sided)
        return out

    @property
    def tail(self) -> float:
        """Probability in the tail the critical value cuts off."""
        return 1 - self.level if self.one_sided else (1 - self.level) / 2

    @property
    def sided(self) -> str:
        return "one-sided lower bound" if self.one_sided else "two-sided"


def _critical(ci: _CI | str, n: int) -> float:
    ci = _CI(ci)
    if ci == "normal":
        return float(stats.norm.isf(ci.tail))
    return float(stats.t.isf(ci.tail, n - 1)) if n >= 2 else math.nan


def _interval(est: float, se: float, n: int, ci: _CI | str, truncate: bool,
              bounds: tuple[float, float] = (-1.0, 1.0)) -> tuple[float, float]:
    """Wald interval est ± crit·se; one-sided: (est − crit·se, upper end of the range)."""
    ci = _CI(ci)
    if not (math.isfinite(est) and math.isfinite(se)):
        return math.nan, math.nan
    crit = _critical(ci, n)
    lo = est - crit * se
    hi = (bounds[1] if truncate else math.inf) if ci.one_sided else est + crit * se
    if truncate:
        lo, hi = max(lo, bounds[0]), min(hi, bounds[1])
    return float(lo), float(hi)


def _ci_words(ci: _CI | str, truncate: bool) -> str:
    ci = _CI(ci)
    pct = f"{100 * ci.level:g}%"
    if ci == "normal":
        z = stats.norm.isf(ci.tail)
        base = f"normal {pct} CI (estimate ± {z:.3g}·SE)" if not ci.one_sided else \
            f"normal one-sided {pct} lower bound (estimate − {z:.3g}·SE)"
    else:
        base = f"Student t(n−1) {pct} CI" if not ci.one_sided else f"Student t(n−1) one-sided {pct} lower bound"
    return base + (", truncated to [−1, 1]" if truncate else ", not truncated")


def _with_level(e: Estimate, ci: _CI | str) -> Estimate:
    ci = _CI(ci)
    return replace(e, level=ci.level, sided=ci.sided)


# --------------------------------------------------------------------------------------
# two-rater measures from the q x q table
# --------------------------------------------------------------------------------------


def _kappa_core(t: np.ndarray, w: np.ndarray) -> dict:
    """Weighted (w = I: simple) Cohen kappa with FCE 1969 variances; all O(q^2)."""
    n = t.sum()
    p = t / n
    pr, pc = p.sum(1), p.sum(0)
    po = float((w * p).sum())
    pe = float(pr @ w @ pc)
    if 1.0 - pe < _EPS:
        return dict(n=n, po=po, pe=pe, kappa=math.nan, var=math.nan, var0=math.nan)
    kappa = (po - pe) / (1.0 - pe)
    wr = w @ pc          # w̄_i. = Σ_j w_ij p_.j
    wc = pr @ w          # w̄_.j = Σ_i w_ij p_i.
    s = wr[:, None] + wc[None, :]
    fac = 1.0 / (n * (1.0 - pe) ** 2)
    var = ((p * (w - s * (1.0 - kappa)) ** 2).sum() - (kappa - pe * (1.0 - kappa)) ** 2) * fac
    var0 = ((np.outer(pr, pc) * (w - s) ** 2).sum() - pe ** 2) * fac
    return dict(n=n, po=po, pe=pe, kappa=kappa, var=max(var, 0.0), var0=max(var0, 0.0))


def cohen_kappa(table: Any, rater_b: Any = None, *, categories: Sequence | None = None, weights: Any = None,
                ci: str = "normal", truncate: bool | None = None, level: float = 0.95,
                one_sided: bool = False) -> Estimate:
    """Cohen's kappa (simple or weighted) for an auditor x moderator table, or two label arrays.

    Parameters
    ----------
    table : pandas.DataFrame, 2-D array, or 1-D labels
        Square count table, rows = auditor, columns = moderator (build with :func:`crosstab`);
        a labelled table is reordered to ``categories``, an unlabelled one needs them. Or, with
        ``rater_b``, the first rater's labels (scikit-learn's ``cohen_kappa_score(y1, y2)`` style).
    rater_b : 1-D labels, optional
        The second rater's labels, paired with ``table`` by position.
    categories : sequence, optional
        The declared scale in order (required for label arrays and unlabelled tables; never
        inferred from the data).
    weights : {None, "linear", "quadratic", "ordinal"} or q x q array, optional
        Agreement weights (see :func:`agreement_weights`); ``None`` = simple kappa.
    ci : {"normal", "t"}, optional
        ``"normal"`` (default): kappa ± z_0.975·ASE, as SAS PROC FREQ and statsmodels.
        ``"t"``: kappa ± t_{0.975, n−1}·ASE as R irrCAC.
    truncate : bool, optional
        Clip the interval to [−1, 1]. Default: no for ``ci="normal"`` (SAS/statsmodels),
        yes for ``ci="t"`` (irrCAC).
    level : float, optional
        Confidence level (default 0.95).
    one_sided : bool, optional
        Give a one-sided lower bound at ``level`` (``ci_high`` is then the top of the range).

    Returns
    -------
    Estimate
        ``estimate`` = kappa, ``se`` = FCE non-null ASE, ``ci_low``/``ci_high``,
        ``statistic`` = z = kappa / SE_0 (null variance), ``pvalue`` two-sided normal,
        ``extra``: ``p_o``, ``p_e``, ``se_h0``, ``pvalue_one_sided``, ``kappa_max``
        (unweighted), ``pabak`` (unweighted: (q·p_o − 1)/(q − 1), = 2p_o − 1 for q = 2).

    Raises
    ------
    StatisticsError
        Non-square or negative table, unknown weights or CI convention.

    Notes
    -----
    p_o = Σ w_ij p_ij, p_e = Σ w_ij p_i. p_.j, κ = (p_o − p_e)/(1 − p_e).
    FCE (1969) variance, with w̄_i. = Σ_j w_ij p_.j and w̄_.j = Σ_i w_ij p_i.::

        Var(κ)  = {Σ p_ij [w_ij − (w̄_i. + w̄_.j)(1 − κ)]² − [κ − p_e(1 − κ)]²} / [n(1 − p_e)²]
        Var0(κ) = {Σ p_i. p_.j [w_ij − (w̄_i. + w̄_.j)]² − p_e²} / [n(1 − p_e)²]

    With w = I these are the simple-kappa formulas. Var0 is only for the test of κ = 0;
    the CI uses Var. If both raters use a single grade, p_e = 1 and κ is 0/0: the estimate
    is ``nan`` with the reason in ``note`` (never 0 or 1). Linear/quadratic weights score
    categories by position, so the result depends on the *declared* scale (an unused grade
    between used ones changes weighted kappa). Rows must be the auditor: asymmetric
    weights would otherwise change the answer.

    References
    ----------
    Cohen J (1960) Educ Psychol Meas 20:37–46. Cohen J (1968) Psychol Bull 70:213–220.
    Fleiss JL, Cohen J, Everitt BS (1969) Psychol Bull 72:323–327.
    SAS/STAT PROC FREQ, "Tests and Measures of Agreement".
    """
    ci = _CI(ci, level, one_sided)
    t, labels = _pairs_or_table(table, rater_b, categories, "cohen_kappa")
    q = t.shape[0]
    w = agreement_weights(q, weights)
    if truncate is None:
        truncate = ci == "t"
    wname = _weights_name(weights)
    measure = "kappa" if wname == "unweighted" else f"kappa_{wname}"
    method = (f"Cohen's kappa ({_wdesc(wname)}, q={q}); FCE (1969) non-null ASE; "
              f"{_ci_words(ci, truncate)}; z test of kappa=0 with FCE null variance (two-sided)")
    n = int(round(t.sum()))
    if n == 0:
        return Estimate(math.nan, n=0, method=method, measure=measure,
                        note="undefined: the table is empty (no moderated pairs)")
    r = _kappa_core(t, w)
    extra: dict[str, Any] = {"p_o": r["po"], "p_e": r["pe"], "weights": wname, "q": q}
    if wname == "unweighted":
        extra["pabak"] = (q * r["po"] - 1.0) / (q - 1.0)
    if not math.isfinite(r["kappa"]):
        return Estimate(math.nan, n=n, method=method, measure=measure, extra=extra,
                        note=_join("undefined: both raters used a single grade only, so chance agreement "
                                   "p_e = 1 and kappa is 0/0 (report percent agreement and AC1 instead)",
                                   _tiny_note(n, "pairs")))
    se, se0 = math.sqrt(r["var"]), math.sqrt(r["var0"])
    lo, hi = _interval(r["kappa"], se, n, ci, truncate)
    z = r["kappa"] / se0 if se0 > 0 else math.nan
    extra.update(se_h0=se0, pvalue_one_sided=float(stats.norm.sf(z)) if math.isfinite(z) else math.nan)
    if wname == "unweighted":
        pr, pc = t.sum(1) / t.sum(), t.sum(0) / t.sum()
        extra["kappa_max"] = float((np.minimum(pr, pc).sum() - r["pe"]) / (1 - r["pe"]))
    notes = [_tiny_note(n, "pairs")]
    if se == 0:
        notes.append("SE is 0 (e.g. perfect agreement): the Wald interval degenerates to a point; "
                     "bootstrap over case files for a realistic interval")
    return Estimate(r["kappa"], se=se, ci_low=lo, ci_high=hi, n=n, method=method, measure=measure,
                    statistic=z, pvalue=float(2 * stats.norm.sf(abs(z))) if math.isfinite(z) else math.nan,
                    note=_join(*notes), extra=extra, level=ci.level, sided=ci.sided)


def _gwet_table_core(t: np.ndarray, w: np.ndarray, kind: str) -> dict:
    n = t.sum()
    q = t.shape[0]
    p = t / n
    pr, pc = p.sum(1), p.sum(0)
    pi = (pr + pc) / 2
    pa = float((w * p).sum())
    if kind == "ac":
        tw = w.sum()
        pe = float(tw * (pi * (1 - pi)).sum() / (q * (q - 1)))
    else:  # scott
        pe = float(pi @ w @ pi)
    if 1.0 - pe < _EPS:
        return dict(n=n, pa=pa, pe=pe, coef=math.nan, var=math.nan)
    coef = (pa - pe) / (1 - pe)
    if kind == "ac":
        u = w - 2 * (1 - coef) * tw * (1 - (pi[:, None] + pi[None, :]) / 2) / (q * (q - 1))
    else:
        pbk = ((w @ pc) + (pr @ w)) / 2
        u = w - (1 - coef) * (pbk[:, None] + pbk[None, :])
    var = ((p * u ** 2).sum() - (pa - 2 * (1 - coef) * pe) ** 2) / (n * (1 - pe) ** 2)
    return dict(n=n, pa=pa, pe=pe, coef=coef, var=max(var, 0.0))


def _table_estimate(table: Any, weights: Any, kind: str, ci: str, truncate: bool,
                    categories: Sequence | None = None, rater_b: Any = None) -> Estimate:
    t, _ = _pairs_or_table(table, rater_b, categories, "gwet_ac_table" if kind == "ac" else "scott_pi_table")
    q = t.shape[0]
    w = agreement_weights(q, weights)
    wname = _weights_name(weights)
    if kind == "ac":
        measure = "AC1" if wname == "unweighted" else f"AC2_{wname}"
        name = f"Gwet's {'AC1' if wname == 'unweighted' else 'AC2'}"
    else:
        measure = "scott_pi" if wname == "unweighted" else f"scott_pi_{wname}"
        name = "Scott's pi"
    method = (f"{name} ({_wdesc(wname)}, declared q={q}), two-rater table; Gwet (2014) variance "
              f"(irrCAC {'gwet.ac1' if kind == 'ac' else 'scott2'}.table, 1/n form), f=0; "
              f"{_ci_words(ci, truncate)}; t test of coefficient=0 (two-sided)")
    n = int(round(t.sum()))
    if n == 0:
        return Estimate(math.nan, n=0, method=method, measure=measure,
                        note="undefined: the table is empty (no moderated pairs)")
    r = _gwet_table_core(t, w, kind)
    extra = {"p_a": r["pa"], "p_e": r["pe"], "weights": wname, "q": q}
    if not math.isfinite(r["coef"]):
        return Estimate(math.nan, n=n, method=method, measure=measure, extra=extra,
                        note=_join("undefined: chance agreement p_e = 1 (one grade only)", _tiny_note(n, "pairs")))
    return _finish_t(r["coef"], math.sqrt(r["var"]), n, method, measure, extra, ci, truncate,
                     _tiny_note(n, "pairs"))


def _finish_t(coef: float, se: float, n: int, method: str, measure: str, extra: dict, ci: str,
              truncate: bool, note: str) -> Estimate:
    lo, hi = _interval(coef, se, n, ci, truncate)
    if se > 0 and n >= 2:
        tstat = coef / se
        df = n - 1 if ci == "t" else math.inf
        dist = stats.t(n - 1) if ci == "t" else stats.norm
        pval = float(2 * dist.sf(abs(tstat)))
        extra = {**extra, "pvalue_one_sided": float(dist.sf(tstat))}
    else:
        tstat, df, pval = math.nan, math.nan, math.nan
        if se == 0:
            note = _join(note, "SE is 0 (all case files agree alike): the interval degenerates to a point")
    ci = _CI(ci)
    return Estimate(coef, se=se, ci_low=lo, ci_high=hi, n=n, method=method, measure=measure,
                    statistic=tstat, df=df if ci == "t" else math.nan, pvalue=pval, note=note, extra=extra,
                    level=ci.level, sided=ci.sided)


def gwet_ac_table(table: Any, rater_b: Any = None, *, categories: Sequence | None = None, weights: Any = None,
                  ci: str = "t", truncate: bool = True, level: float = 0.95, one_sided: bool = False) -> Estimate:
    """Gwet's AC1 (unweighted) or AC2 (weighted) from a two-rater auditor x moderator table.

    Parameters
    ----------
    table : pandas.DataFrame, 2-D array, or 1-D labels
        Square count table, rows = auditor, columns = moderator. A labelled table is reordered
        to ``categories`` (unused grades added as zeros, labels outside the scale refused); an
        unlabelled one needs ``categories``. With ``rater_b``: the first rater's labels.
    rater_b : 1-D labels, optional
        Second rater's labels, paired by position (tabulated once with :func:`crosstab`).
    categories : sequence, optional
        The declared scale in order (required unless the table came from :func:`crosstab`).
    weights : {None, "linear", "quadratic", "ordinal"} or array, optional
        ``None`` gives AC1; otherwise AC2 with these agreement weights.
    ci : {"t", "normal"}, optional
        Default ``"t"``: γ ± t_{0.975, n−1}·SE (irrCAC).
    truncate : bool, optional
        Clip the interval to [−1, 1] (default, irrCAC).
    level : float, optional
        Confidence level (default 0.95).
    one_sided : bool, optional
        One-sided lower bound at ``level`` instead of a two-sided interval.

    Returns
    -------
    Estimate
        ``extra``: ``p_a``, ``p_e``, ``pvalue_one_sided`` (irrCAC's printed p-value).

    Raises
    ------
    StatisticsError
        Non-square table, bad weights.

    Notes
    -----
    π_k = (p_k. + p_.k)/2, T_w = Σ w_kl, p_e = T_w Σ π_k(1 − π_k)/[q(q − 1)],
    γ = (p_a − p_e)/(1 − p_e). Variance (Gwet 2008; irrCAC ``gwet.ac1.table``)::

        Var = {Σ p_kl [w_kl − 2(1 − γ) T_w (1 − (π_k + π_l)/2)/(q(q−1))]² − [p_a − 2(1 − γ)p_e]²} / [n(1 − p_e)²]

    This is the table (1/n) form; the raw-ratings form of :func:`gwet_ac` divides by
    n − 1 instead, i.e. is larger by n/(n − 1). q is the declared number of grades: an
    unused grade changes AC1 (unlike kappa). AC1 stays defined when everyone uses one grade.

    References
    ----------
    Gwet KL (2008) Br J Math Stat Psychol 61:29–48. Gwet KL (2014) Handbook of Inter-Rater
    Reliability, 4th ed. R package irrCAC, ``gwet.ac1.table``.
    """
    return _table_estimate(table, weights, "ac", _CI(ci, level, one_sided), truncate, categories, rater_b)


def scott_pi_table(table: Any, rater_b: Any = None, *, categories: Sequence | None = None, weights: Any = None,
                   ci: str = "t", truncate: bool = True, level: float = 0.95, one_sided: bool = False) -> Estimate:
    """Scott's pi (weighted or not) from a two-rater table, with Gwet's variance.

    Parameters
    ----------
    table : pandas.DataFrame, 2-D array, or 1-D labels
        Square count table, rows = auditor, columns = moderator. A labelled table is reordered
        to ``categories`` (unused grades added as zeros, labels outside the scale refused); an
        unlabelled one needs ``categories``. With ``rater_b``: the first rater's labels.
    rater_b : 1-D labels, optional
        Second rater's labels, paired by position (tabulated once with :func:`crosstab`).
    categories : sequence, optional
        The declared scale in order (required unless the table came from :func:`crosstab`).
    weights : {None, "linear", "quadratic", "ordinal"} or array, optional
        Agreement weights.
    ci : {"t", "normal"}, optional
        Interval convention (default t(n−1), as irrCAC).
    truncate : bool, optional
        Clip the interval to [−1, 1] (default).
    level : float, optional
        Confidence level (default 0.95).
    one_sided : bool, optional
        One-sided lower bound at ``level`` instead of a two-sided interval.

    Returns
    -------
    Estimate

    Notes
    -----
    π_k = (p_k. + p_.k)/2, p_e = Σ w_kl π_k π_l. Variance as irrCAC ``scott2.table``:
    {Σ p_kl [w_kl − (1 − π̂)(p̄_k + p̄_l)]² − [p_a − 2(1 − π̂)p_e]²}/[n(1 − p_e)²] with
    p̄_k = (Σ_l w_kl p_.l + Σ_l w_lk p_l.)/2. Scott's pi is Fleiss' kappa for two raters.

    References
    ----------
    Scott WA (1955) Public Opin Q 19:321–325. Gwet KL (2014) Handbook, 4th ed.
    """
    return _table_estimate(table, weights, "scott", _CI(ci, level, one_sided), truncate, categories, rater_b)


# --------------------------------------------------------------------------------------
# many raters: counts per unit
# --------------------------------------------------------------------------------------


LAYOUTS = ("units x raters", "raters x units")


def _grid(ratings: Any, where: str) -> np.ndarray:
    if isinstance(ratings, pd.Series) or not hasattr(ratings, "shape"):
        ratings = pd.DataFrame(ratings)
    arr = ratings.to_numpy(dtype=object) if isinstance(ratings, pd.DataFrame) else np.asarray(ratings, dtype=object)
    if arr.ndim != 2:
        raise problem(StatisticsError, where, expected="a units x raters table (one row per case file, one "
                      "column per rater, NaN where a rater did not grade)", received=f"{arr.ndim}-D input")
    return arr


def _looks_like_counts(arr: np.ndarray, cats: list) -> bool:
    """Every cell a non-negative whole number, one column per category, equal row totals >= 2."""
    if arr.shape[1] != len(cats) or arr.shape[0] < 2:
        return False
    num = pd.to_numeric(pd.Series(arr.ravel(), dtype=object), errors="coerce").to_numpy(dtype=float)
    if not np.isfinite(num).all() or (num < 0).any() or (num != np.round(num)).any():
        return False
    tot = num.reshape(arr.shape).sum(1)
    return bool(np.all(tot == tot[0]) and tot[0] >= 2)


def _ratings_codes(ratings: Any, categories: Sequence | None, where: str = "ratings", *,
                   layout: str | None = None) -> tuple[np.ndarray, np.ndarray, list]:
    """(units x raters codes with -1 = missing, units x categories counts, categories)."""
    return _ratings_counts(ratings, categories, where, layout=layout, _codes=True)


def _ratings_counts(ratings: Any, categories: Sequence | None, where: str = "ratings", *,
                    layout: str | None = None, counts: Any = None, _codes: bool = False) -> Any:
    """Units x categories count matrix r_ik from ratings (or an explicit ``counts=`` table).

    Orientation is never guessed (issue 19): ratings are units x raters unless
    ``layout="raters x units"`` (the ``krippendorff`` package's ``reliability_data``). With
    the default layout, an input with more columns than rows (more raters than case files),
    or one that looks like a subjects x categories count table (statsmodels'
    ``aggregate_raters`` output), is refused with both readings and the keyword to choose.
    """
    if counts is not None:
        if ratings is not None:
            raise problem(StatisticsError, where, expected="either ratings or counts=, not both", received="both",
                          fix="pass one of them")
        arr = counts.to_numpy() if isinstance(counts, pd.DataFrame) else np.asarray(counts)
        try:
            arr = np.asarray(arr, dtype=float)
        except (TypeError, ValueError):
            raise problem(StatisticsError, f"{where} counts", expected="numeric counts",
                          received="non-numeric cells") from None
        if arr.ndim != 2:
            raise problem(StatisticsError, f"{where} counts", expected="a units x categories count table",
                          received=f"{arr.ndim}-D input")
        if categories is None:
            if isinstance(counts, pd.DataFrame):
                categories = list(counts.columns)
            else:
                raise problem(StatisticsError, f"{where} counts", expected="categories=[...] naming the "
                              f"{arr.shape[1]} columns in scale order", received="an unlabelled count table",
                              fix="pass categories=scale (one per column, unused grades included)")
        cats = _check_categories(categories, f"{where} categories")
        if isinstance(counts, pd.DataFrame):
            cols = [str(c) for c in counts.columns]
            key = [str(c) for c in cats]
            extra = [c for c in cols if c not in key]
            if extra:
                raise problem(StatisticsError, f"{where} counts", expected=f"columns from the scale {cats}",
                              received=f"column(s) {extra} not in the scale", fix="rename the columns or pass the scale")
            arr = counts.set_axis(cols, axis=1).reindex(columns=key, fill_value=0).to_numpy(dtype=float)
        if arr.shape[1] != len(cats):
            raise problem(StatisticsError, f"{where} counts", expected=f"{len(cats)} columns, one per category {cats}",
                          received=f"{arr.shape[1]} columns", fix="add a zero column for each unused grade")
        if not np.isfinite(arr).all() or (arr < 0).any():
            raise problem(StatisticsError, f"{where} counts", expected="finite, non-negative counts",
                          received="negative or missing cells", fix="fill empty cells with 0")
        return arr, cats
    cats = _check_categories(categories, f"{where} categories")
    arr = _grid(ratings, where)
    if layout is not None and layout not in LAYOUTS:
        raise problem(StatisticsError, f"{where} layout", expected=f"one of {list(LAYOUTS)}", received=repr(layout))
    if layout == "raters x units":
        arr = arr.T
    elif layout is None:
        u, r = arr.shape
        if r > u:
            raise problem(StatisticsError, where, expected="an explicit orientation for this shape",
                          received=f"{u} rows x {r} columns. Read as units x raters (this library's default) it is "
                          f"{u} case files rated by {r} raters; read as raters x units (the krippendorff package's "
                          f"reliability_data) it is {r} case files rated by {u} raters",
                          fix="pass layout='raters x units' (or transpose), or layout='units x raters' to confirm")
        if _looks_like_counts(arr, cats):
            raise problem(StatisticsError, where, expected="ratings (units x raters, each cell a grade)",
                          received=f"a {u} x {r} table of whole numbers with equal row totals and one column per "
                          f"category: it reads as {u} case files x {r} raters, but also as a subjects x categories "
                          "count table (statsmodels aggregate_raters / fleiss_kappa layout)",
                          fix="for a count table pass counts=table; for ratings pass layout='units x raters' "
                          "to confirm")
    u, r = arr.shape
    q = len(cats)
    codes = encode(arr.ravel(), cats, where=where).reshape(u, r)
    unit = np.repeat(np.arange(u), r).reshape(u, r)
    ok = codes >= 0
    out = np.bincount((unit[ok] * q + codes[ok]), minlength=u * q).reshape(u, q).astype(float)
    if _codes:
        return codes, out, cats
    return out, cats


def _gwet_raw_core(counts: np.ndarray, w: np.ndarray, kind: str) -> dict:
    """Gwet (2014) raw-ratings AC / generalised Fleiss kappa / percent agreement with variance."""
    ri = counts.sum(1)
    counts = counts[ri > 0]
    ri = ri[ri > 0]
    n = counts.shape[0]
    q = counts.shape[1]
    if n == 0:
        return dict(n=0)
    rstar = counts @ w.T
    sumq = (counts * (rstar - 1)).sum(1)
    two = ri >= 2
    n2 = int(two.sum())
    if n2 == 0:
        return dict(n=n, n2=0)
    den = ri * (ri - 1)
    pa_i = np.where(two, sumq / np.where(two, den, 1.0), 0.0)
    pa = pa_i[two].sum() / n2
    pi = (counts / ri[:, None]).mean(0)
    out = dict(n=n, n2=n2, pa=pa, pi=pi, ri=ri)
    if kind == "pa":
        pa_iv = (n / n2) * pa_i
        var = ((pa_iv - pa) ** 2).sum() / (n * (n - 1)) if n >= 2 else math.nan
        out.update(pe=0.0, coef=pa, var=var, terms=pa_iv)
        return out
    tw = w.sum()
    if kind == "ac":
        pe = tw * (pi * (1 - pi)).sum() / (q * (q - 1))
    else:
        pe = float(pi @ w @ pi)
    out["pe"] = pe
    if 1 - pe < _EPS:
        out.update(coef=math.nan, var=math.nan)
        return out
    coef = (pa - pe) / (1 - pe)
    c_i = (n / n2) * (pa_i - pe * two) / (1 - pe)
    if kind == "ac":
        pe_i = (tw / (q * (q - 1))) * (counts @ (1 - pi)) / ri
    else:
        piw = (w @ pi + w.T @ pi) / 2
        pe_i = (counts @ piw) / ri
    c_x = c_i - 2 * (1 - coef) * (pe_i - pe) / (1 - pe)
    var = ((c_x - coef) ** 2).sum() / (n * (n - 1)) if n >= 2 else math.nan
    out.update(coef=coef, var=var, terms=c_x)
    return out


def gwet_ac(ratings: Any = None, *, categories: Sequence | None = None, weights: Any = None, ci: str = "t",
            truncate: bool = True, level: float = 0.95, one_sided: bool = False, layout: str | None = None,
            counts: Any = None) -> Estimate:
    """Gwet's AC1 / AC2 for any number of raters with missing ratings (units x raters).

    Parameters
    ----------
    ratings : pandas.DataFrame or 2-D array
        One row per case file, one column per rater, grades from ``categories``; NaN where
        a rater did not grade that case. Rows with no rating at all are ignored.
    categories : sequence
        The declared grade scale in order; q = len(categories) even if a grade is unused.
    weights : {None, "linear", "quadratic", "ordinal"} or array, optional
        ``None``: AC1. Otherwise AC2 with Gwet's weights ("ordinal" = irrCAC
        ``ordinal.weights``; linear/quadratic score numeric categories by value, others by
        position 1..q).
    ci : {"t", "normal"}, optional
        Default ``"t"``: γ ± t_{0.975, n−1}·SE, n = rated case files (irrCAC).
    truncate : bool, optional
        Clip the interval to [−1, 1] (default, irrCAC).
    level : float, optional
        Confidence level (default 0.95).
    one_sided : bool, optional
        One-sided lower bound at ``level`` instead of a two-sided interval.
    layout : {"units x raters", "raters x units"}, optional
        Orientation of ``ratings``. Default units x raters; an input with more columns than
        rows, or one that looks like a count table, is then refused with both readings.
    counts : pandas.DataFrame or 2-D array, optional
        Instead of ratings: a units x categories count table (statsmodels'
        ``aggregate_raters`` layout), columns = ``categories`` (or the frame's own labels).

    Returns
    -------
    Estimate
        ``statistic`` = γ/SE with ``df`` = n − 1 and two-sided ``pvalue``;
        ``extra``: ``p_a``, ``p_e``, ``n_pairable`` (case files with ≥ 2 ratings),
        ``pvalue_one_sided``.

    Raises
    ------
    StatisticsError
        Missing category list, a grade outside it, bad weights.

    Notes
    -----
    r_ik = raters putting case i in grade k, r_i = Σ_k r_ik, r*_ik = Σ_l w_kl r_il.
    p_a = mean over cases with r_i ≥ 2 of Σ_k r_ik(r*_ik − 1)/[r_i(r_i − 1)];
    π_k = mean over *all* rated cases of r_ik/r_i (a lone rating counts);
    p_e = T_w Σ_k π_k(1 − π_k)/[q(q − 1)], T_w = Σ w_kl; γ = (p_a − p_e)/(1 − p_e).
    Variance (Gwet 2014, f = 0): γ*_i = (n/n′)(p_a|i − p_e 1[r_i ≥ 2])/(1 − p_e)
    − 2(1 − γ)(p_e|i − p_e)/(1 − p_e), p_e|i = T_w/(q(q−1)) Σ_k r_ik(1 − π_k)/r_i,
    Var = Σ (γ*_i − γ)²/[n(n − 1)].

    References
    ----------
    Gwet KL (2008) Br J Math Stat Psychol 61:29–48. Gwet KL (2014) Handbook of Inter-Rater
    Reliability, 4th ed., Advanced Analytics. R package irrCAC, ``gwet.ac1.raw``.
    """
    ci = _CI(ci, level, one_sided)
    counts, cats = _ratings_counts(ratings, categories, "gwet_ac ratings", layout=layout, counts=counts)
    q = len(cats)
    w = agreement_weights(q, weights, scores=_category_scores(cats))
    wname = _weights_name(weights)
    measure = "AC1" if wname == "unweighted" else f"AC2_{wname}"
    method = (f"Gwet's {'AC1' if wname == 'unweighted' else 'AC2'} ({_wdesc(wname)}, declared q={q}), raw "
              f"ratings with missing allowed; Gwet (2014) linearised variance, f=0; {_ci_words(ci, truncate)}")
    return _raw_estimate(counts, w, "ac", method, measure, ci, truncate, {"weights": wname, "q": q})


def _raw_estimate(counts, w, kind, method, measure, ci, truncate, extra) -> Estimate:
    r = _gwet_raw_core(counts, w, kind)
    n = r["n"]
    if n == 0:
        return Estimate(math.nan, n=0, method=method, measure=measure, extra=extra,
                        note="undefined: no ratings")
    if r["n2"] == 0:
        return Estimate(math.nan, n=n, method=method, measure=measure, extra={**extra, "n_pairable": 0},
                        note="undefined: no case file has two or more ratings")
    extra = {**extra, "p_a": r["pa"], "p_e": r["pe"], "n_pairable": r["n2"]}
    note = _tiny_note(n)
    if r["n2"] < n:
        note = _join(note, f"{n - r['n2']} case file(s) with a single rating enter chance agreement only")
    if not math.isfinite(r["coef"]):
        return Estimate(math.nan, n=n, method=method, measure=measure, extra=extra,
                        note=_join("undefined: every rating is the same grade, so chance agreement p_e = 1 "
                                   "and the coefficient is 0/0", note))
    se = math.sqrt(r["var"]) if math.isfinite(r["var"]) else math.nan
    return _finish_t(r["coef"], se, n, method, measure, extra, ci, truncate, note)


def fleiss_kappa(ratings: Any = None, *, categories: Sequence | None = None, ci: str = "t", truncate: bool = True,
                 level: float = 0.95, one_sided: bool = False, layout: str | None = None,
                 counts: Any = None) -> Estimate:
    """Fleiss' kappa for m raters per case file (e.g. three peers), missing ratings allowed.

    Parameters
    ----------
    ratings : pandas.DataFrame or 2-D array
        Units x raters; NaN where a rater did not grade.
    categories : sequence
        Declared category set in order (unused categories kept).
    ci : {"t", "normal"}, optional
        Interval convention for Gwet's SE (default t(n−1) as irrCAC).
    truncate : bool, optional
        Clip the interval to [−1, 1] (default).
    level : float, optional
        Confidence level (default 0.95).
    one_sided : bool, optional
        One-sided lower bound at ``level`` instead of a two-sided interval.
    layout : {"units x raters", "raters x units"}, optional
        Orientation of ``ratings``. Default units x raters; an input with more columns than
        rows, or one that looks like a count table, is then refused with both readings.
    counts : pandas.DataFrame or 2-D array, optional
        Instead of ratings: a units x categories count table (statsmodels'
        ``aggregate_raters`` layout), columns = ``categories`` (or the frame's own labels).

    Returns
    -------
    Estimate
        ``estimate`` = Fleiss' kappa, ``se`` = Gwet (2014) linearised SE, CI,
        ``statistic`` = z = κ/SE_0 with the Fleiss–Nee–Landis (1979) null variance (only
        when every case file has the same number of ratings; ``nan`` otherwise) and
        two-sided normal ``pvalue``. ``extra``: ``p_a``, ``p_e``, ``se_h0``,
        ``category_kappas`` (dict category → κ_j), ``pvalue_t`` (two-sided t test from
        Gwet's SE).

    Raises
    ------
    StatisticsError
        Missing category list or unknown grade.

    Notes
    -----
    Point estimate (Fleiss 1971, generalised by Gwet to varying r_i):
    p_a = mean_{r_i ≥ 2} Σ_j n_ij(n_ij − 1)/[r_i(r_i − 1)], p_j = mean_i n_ij/r_i,
    p_e = Σ p_j², κ = (p_a − p_e)/(1 − p_e). With equal r this is exactly Fleiss (1971).
    Category kappas: κ_j = 1 − mean_{r_i≥2}[n_ij(r_i − n_ij)/(r_i(r_i − 1))]/(p_j q_j).
    Null variance (test only): Var0 = 2/[N r(r − 1)] · [(Σ p_j q_j)² − Σ p_j q_j (q_j − p_j)]/(Σ p_j q_j)².
    The CI uses Gwet's non-null linearised variance (irrCAC ``fleiss.kappa.raw``), which
    allows a varying number of raters per case file.

    References
    ----------
    Fleiss JL (1971) Psychol Bull 76:378–382. Fleiss JL, Nee JCM, Landis JR (1979) Psychol
    Bull 86:974–977. Gwet KL (2014) Handbook of Inter-Rater Reliability, 4th ed.
    """
    ci = _CI(ci, level, one_sided)
    counts, cats = _ratings_counts(ratings, categories, "fleiss_kappa ratings", layout=layout, counts=counts)
    q = len(cats)
    method = (f"Fleiss' kappa (q={q}); Gwet (2014) linearised SE, f=0; {_ci_words(ci, truncate)}; "
              "z test of kappa=0 with Fleiss–Nee–Landis (1979) null variance (two-sided)")
    est = _raw_estimate(counts, np.eye(q), "fleiss", method, "fleiss_kappa", ci, truncate, {"q": q})
    if not est.defined:
        return est
    rated = counts[counts.sum(1) > 0]
    ri = rated.sum(1)
    pj = (rated / ri[:, None]).mean(0)
    qj = 1 - pj
    two = ri >= 2
    with np.errstate(invalid="ignore", divide="ignore"):
        dis = (rated[two] * (ri[two, None] - rated[two]) / (ri[two] * (ri[two] - 1))[:, None]).mean(0)
        kj = 1 - dis / (pj * qj)
    extra = dict(est.extra)
    extra["category_kappas"] = {c: float(k) for c, k in zip(cats, kj)}
    extra["pvalue_t"], extra["statistic_t"] = est.pvalue, est.statistic
    z, p, se0 = math.nan, math.nan, math.nan
    note = est.note
    if np.all(ri == ri[0]):
        r, nn = ri[0], rated.shape[0]
        spq = (pj * qj).sum()
        var0 = 2.0 / (nn * r * (r - 1)) * (spq ** 2 - (pj * qj * (qj - pj)).sum()) / spq ** 2
        se0 = math.sqrt(var0)
        z = est.estimate / se0
        p = float(2 * stats.norm.sf(abs(z)))
    else:
        note = _join(note, "the Fleiss–Nee–Landis z test needs the same number of ratings per case file; "
                     "use the CI (Gwet SE) instead")
    extra["se_h0"] = se0
    return replace(est, statistic=z, pvalue=p, df=math.nan, note=note, extra=extra)


def _fpc(n: int, population: float | None) -> float:
    """Finite-population factor 1 − n/N of Gwet's variances (irrCAC's ``N``); 1 when N is None/inf."""
    if population is None or not math.isfinite(float(population)):
        return 1.0
    if population < n:
        raise problem(StatisticsError, "population", expected=f"at least the {n} case files rated",
                      received=repr(population), fix="pass the number of audits the sample was drawn from")
    return 1.0 - n / float(population)


def brennan_prediger(ratings: Any = None, *, categories: Sequence | None = None, weights: Any = None,
                     ci: str = "t", truncate: bool = True, level: float = 0.95, one_sided: bool = False,
                     layout: str | None = None, counts: Any = None, population: float | None = None) -> Estimate:
    """Brennan–Prediger coefficient (chance agreement Σw/q², fixed by the scale) for any number of raters.

    Parameters
    ----------
    ratings : pandas.DataFrame or 2-D array, optional
        Units x raters, NaN where a rater did not grade (or ``counts=``, units x categories).
    categories : sequence
        The declared scale (q = len(categories): the coefficient depends on it).
    weights : {None, "linear", "quadratic", "ordinal"} or array, optional
        Agreement weights.
    ci, truncate, level, one_sided, layout, counts
        As :func:`gwet_ac`.
    population : float, optional
        Number of case files the sample was drawn from: the variance is multiplied by
        1 − n/N (irrCAC's ``N``; default infinite).

    Returns
    -------
    Estimate
        ``extra``: ``p_a``, ``p_e`` (= Σw/q²), ``n_pairable``.

    Notes
    -----
    p_a as Gwet's (2014) raw p_a; p_e = Σ_kl w_kl / q²; BP = (p_a − p_e)/(1 − p_e).
    Variance (irrCAC ``bp.coeff.raw``): BP_i = (n/n′)(p_a|i − p_e 1[r_i ≥ 2])/(1 − p_e),
    Var = (1 − f) Σ (BP_i − BP)²/[n(n − 1)]; t(n − 1) interval, upper end clipped at 1.

    References
    ----------
    Brennan RL, Prediger DJ (1981) Educ Psychol Meas 41:687–699. Gwet KL (2014) Handbook, 4th ed.
    R package irrCAC, ``bp.coeff.raw``.
    """
    ci = _CI(ci, level, one_sided)
    cnt, cats = _ratings_counts(ratings, categories, "brennan_prediger ratings", layout=layout, counts=counts)
    q = len(cats)
    w = agreement_weights(q, weights, scores=_category_scores(cats))
    wname = _weights_name(weights)
    method = (f"Brennan–Prediger ({_wdesc(wname)}, declared q={q}), raw ratings; chance agreement Σw/q²; "
              f"Gwet (2014) variance (irrCAC bp.coeff.raw){', finite-population factor 1 − n/N' if population else ''}; "
              f"{_ci_words(ci, truncate)}")
    measure = "brennan_prediger" if wname == "unweighted" else f"brennan_prediger_{wname}"
    cnt = cnt[cnt.sum(1) > 0]
    n = cnt.shape[0]
    ri = cnt.sum(1)
    two = ri >= 2
    n2 = int(two.sum())
    extra: dict[str, Any] = {"weights": wname, "q": q, "n_pairable": n2}
    if n2 == 0:
        return Estimate(math.nan, n=n, method=method, measure=measure, extra=extra,
                        note="undefined: no case file has two or more ratings")
    sumq = (cnt * (cnt @ w.T - 1)).sum(1)
    den = ri * (ri - 1)
    pa_i = np.where(two, sumq / np.where(two, den, 1.0), 0.0)
    pa = float(pa_i[two].sum() / n2)
    pe = float(w.sum() / q ** 2)
    coef = (pa - pe) / (1 - pe)
    bp_i = (n / n2) * (pa_i - pe * two) / (1 - pe)
    var = _fpc(n, population) * float(((bp_i - coef) ** 2).sum()) / (n * (n - 1)) if n >= 2 else math.nan
    extra.update(p_a=pa, p_e=pe)
    se = math.sqrt(var) if math.isfinite(var) else math.nan
    note = _tiny_note(n)
    if n2 < n:
        note = _join(note, f"{n - n2} case file(s) with a single rating count as no agreement information")
    return _finish_t(coef, se, n, method, measure, extra, ci, truncate, note)


def conger_kappa(ratings: Any = None, *, categories: Sequence | None = None, weights: Any = None,
                 ci: str = "t", truncate: bool = True, level: float = 0.95, one_sided: bool = False,
                 layout: str | None = None, population: float | None = None) -> Estimate:
    """Conger's (1980) kappa: Cohen's kappa generalised to several *fixed* raters (columns = raters).

    Parameters
    ----------
    ratings : pandas.DataFrame or 2-D array
        Units x raters; each column is one rater throughout (Conger's chance term uses each
        rater's own grade mix), NaN where that rater did not grade.
    categories : sequence
        The declared scale in order.
    weights : {None, "linear", "quadratic", "ordinal"} or array, optional
        Agreement weights.
    ci, truncate, level, one_sided, layout
        As :func:`gwet_ac`.
    population : float, optional
        Finite-population N (variance × (1 − n/N)).

    Returns
    -------
    Estimate
        ``extra``: ``p_a``, ``p_e``.

    Notes
    -----
    p_gk = share of rater g's ratings in grade k; p̄_k = mean_g p_gk;
    s²_kl = [Σ_g p_gk p_gl − r p̄_k p̄_l]/(r − 1); p_e = Σ w_kl (p̄_k p̄_l − s²_kl / r).
    Linearised variance exactly as irrCAC ``conger.kappa.raw`` (Gwet 2014, ch. 5).
    Case files with no rating at all are left out.

    References
    ----------
    Conger AJ (1980) Psychol Bull 88:322–328. Gwet KL (2014) Handbook, 4th ed.
    R package irrCAC, ``conger.kappa.raw``.
    """
    ci = _CI(ci, level, one_sided)
    codes, cnt, cats = _ratings_codes(ratings, categories, "conger_kappa ratings", layout=layout)
    q = len(cats)
    w = agreement_weights(q, weights, scores=_category_scores(cats))
    wname = _weights_name(weights)
    method = (f"Conger's kappa ({_wdesc(wname)}, q={q}), raw ratings, columns = fixed raters; Gwet (2014) "
              f"variance (irrCAC conger.kappa.raw){', finite-population factor 1 − n/N' if population else ''}; "
              f"{_ci_words(ci, truncate)}")
    measure = "conger_kappa" if wname == "unweighted" else f"conger_kappa_{wname}"
    keep = cnt.sum(1) > 0
    codes, cnt = codes[keep], cnt[keep]
    n, r = codes.shape
    extra: dict[str, Any] = {"weights": wname, "q": q, "raters": r}
    c = _conger_core(codes, cnt, w)
    extra["n_pairable"] = c.get("n2", 0)
    if "undefined" in c:
        return Estimate(math.nan, n=n, method=method, measure=measure, extra={**extra, **c.get("extra", {})},
                        note=c["undefined"])
    extra.update(p_a=c["pa"], p_e=c["pe"])
    coef, var = c["coef"], c["var"]
    var = _fpc(n, population) * var if math.isfinite(var) else math.nan
    se = math.sqrt(var) if math.isfinite(var) else math.nan
    return _finish_t(coef, se, n, method, measure, extra, ci, truncate, _tiny_note(n))


def _conger_core(codes: np.ndarray, cnt: np.ndarray, w: np.ndarray) -> dict:
    """Conger's kappa on units x raters ``codes`` (−1 = missing) with its linearised per-unit terms.

    Returns ``coef``, ``var`` (f = 0), ``pa``, ``pe``, ``n2`` and ``terms`` (γ*_i, whose mean is
    γ), or ``undefined`` (the reason) when the coefficient is not defined.
    """
    n, r = codes.shape
    q = w.shape[0]
    ri = cnt.sum(1)
    two = ri >= 2
    n2 = int(two.sum())
    if n2 == 0 or r < 2:
        return {"n2": n2, "undefined": "undefined: no case file has two or more ratings"}
    delta = (codes[:, :, None] == np.arange(q)[None, None, :]).astype(float)  # n x r x q
    eps = (codes >= 0).astype(float)
    classif = delta.sum(0)  # r x q
    ng = classif.sum(1)
    if (ng == 0).any():
        drop = int((ng == 0).sum())
        return {"n2": n2, "undefined": f"undefined: {drop} rater column(s) with no ratings; drop them first"}
    pgk = classif / ng[:, None]
    pmk = pgk.mean(0)
    s2 = (pgk.T @ pgk - r * np.outer(pmk, pmk)) / (r - 1)
    pe = float((w * (np.outer(pmk, pmk) - s2 / r)).sum())
    sumq = (cnt * (cnt @ w.T - 1)).sum(1)
    den = ri * (ri - 1)
    pa_i = np.where(two, sumq / np.where(two, den, 1.0), 0.0)
    pa = float(pa_i[two].sum() / n2)
    if 1 - pe < _EPS:
        return {"n2": n2, "undefined": "undefined: chance agreement p_e = 1", "extra": {"p_a": pa, "p_e": pe}}
    coef = (pa - pe) / (1 - pe)
    # lambda_ig (irrCAC): sum_k [sum_l w_kl (delta_igl - (eps_ig - n_g/n) p_gl)] (n/n_g) (r pbar_k - p_gk)
    centred = delta - (eps - ng[None, :] / n)[:, :, None] * pgk[None, :, :]  # n x r x l
    inner = np.einsum("kl,igl->igk", w, centred) * (n / ng)[None, :, None]   # n x r x k
    lam = (inner * (r * pmk[None, None, :] - pgk[None, :, :])).sum(2)
    pe_i = lam.sum(1) / (r * (r - 1))
    c_i = (n / n2) * (pa_i - pe * two) / (1 - pe)
    c_x = c_i - 2 * (1 - coef) * (pe_i - pe) / (1 - pe)
    var = float(((c_x - coef) ** 2).sum()) / (n * (n - 1)) if n >= 2 else math.nan
    return {"coef": coef, "var": var, "pa": pa, "pe": pe, "n2": n2, "terms": c_x}


# --------------------------------------------------------------------------------------
# Krippendorff's alpha
# --------------------------------------------------------------------------------------


def _alpha_from_coincidence(o: np.ndarray, level: str, values: np.ndarray, d2: np.ndarray | None) -> np.ndarray:
    """Alpha for a stack of coincidence matrices o (..., q, q)."""
    nc = o.sum(-1)
    n = nc.sum(-1)
    if level == "ordinal":
        cum = np.cumsum(nc, -1)
        d = cum[..., None, :] - cum[..., :, None] + (nc[..., :, None] - nc[..., None, :]) / 2
        d2 = d ** 2
    do = (o * d2).sum((-2, -1))
    de = (nc[..., :, None] * nc[..., None, :] * d2).sum((-2, -1))
    with np.errstate(invalid="ignore", divide="ignore"):
        return 1.0 - (n - 1) * do / de


def _metric(level: str, values: np.ndarray) -> np.ndarray | None:
    c, k = values[:, None], values[None, :]
    if level == "nominal":
        return (c != k).astype(float)
    if level == "interval":
        return (c - k) ** 2
    if level == "ratio":
        with np.errstate(invalid="ignore", divide="ignore"):
            d = ((c - k) / (c + k)) ** 2
        return np.nan_to_num(d)
    return None  # ordinal: data dependent


def krippendorff_alpha(ratings: Any = None, *, level: str = "nominal", categories: Sequence | None = None,
                       n_boot: int = 2000, seed: int = 20240401, alpha_min: float = 0.667,
                       conf_level: float = 0.95, one_sided: bool = False, layout: str | None = None,
                       counts: Any = None) -> Estimate:
    """Krippendorff's alpha with a bootstrap-over-case-files percentile interval.

    Parameters
    ----------
    ratings : pandas.DataFrame or 2-D array
        Units x raters (one row per case file), NaN where a rater did not grade.
    level : {"nominal", "ordinal", "interval", "ratio"}
        Metric (the ``krippendorff`` package's ``level_of_measurement``). Interval/ratio use the
        category values if numeric, else positions 1..q.
    categories : sequence, optional
        Declared category set in scale order. Required for nominal and ordinal data. For
        interval and ratio data with numeric values it may be left out: the sorted distinct
        values seen are used, and the result says so (``extra["categories_inferred"]`` and
        the method text) — an unseen value cannot matter to these metrics' distances, but it
        is not in the category list either.
    conf_level : float, optional
        Confidence level of the bootstrap interval (default 0.95; ``level`` is taken by the
        metric, as in the ``krippendorff`` package).
    one_sided : bool, optional
        One-sided lower bound (the (1 − conf_level) percentile) instead of two-sided.
    layout : {"units x raters", "raters x units"}, optional
        Orientation. ``"raters x units"`` is the ``krippendorff`` package's
        ``reliability_data``; with the default, a wider-than-tall input is refused with both
        readings shown.
    counts : 2-D array or DataFrame, optional
        Units x categories value counts (the package's ``value_counts``) instead of ratings.
    n_boot : int, optional
        Bootstrap replicates (≥ 2000 recommended; 0 skips the bootstrap).
    seed : int, optional
        Seed of ``numpy.random.default_rng`` (results are reproducible).
    alpha_min : float, optional
        Threshold for ``extra["p_below_min"]`` = share of replicates with α < alpha_min
        (Krippendorff's q; 0.667 = his "tentative conclusions" floor).

    Returns
    -------
    Estimate
        ``estimate`` from the ``krippendorff`` package; ``se`` = SD of the bootstrap
        replicates; ``ci_low``/``ci_high`` = 2.5/97.5 percentiles; ``n`` = pairable case
        files. ``extra``: ``alpha_own`` (this module's coincidence-matrix value, equal to
        the package's), ``n_boot``, ``n_boot_undefined``, ``seed``, ``p_below_min``,
        ``D_o``/``D_e``, and for nominal/interval/ratio Gwet's analytic ``gwet_se`` (and his
        ``gwet_pa``/``gwet_pe``) with its
        t(n₀−1) ``gwet_ci_low``/``gwet_ci_high`` (irrCAC ``krippen.alpha.raw``; unstable
        across implementations, shown for comparison only).

    Raises
    ------
    StatisticsError
        No categories, unknown grade or level, n_boot < 0.

    Notes
    -----
    Coincidences o_ck = Σ_u (ordered pairs (c, k) in unit u)/(m_u − 1) over units with
    m_u ≥ 2 values; n_c = Σ_k o_ck; α = 1 − (n − 1) Σ o_ck δ²_ck / Σ n_c n_k δ²_ck.
    δ²: nominal 1[c≠k]; interval (c − k)²; ratio ((c − k)/(c + k))²; ordinal
    (Σ_{g=c..k} n_g − (n_c + n_k)/2)² (rank based, data dependent).
    Bootstrap: the pairable case files are resampled with replacement, each with all its
    ratings. Each unit's coincidence contribution is built once; a replicate is the count
    vector of a resample times that U x q² matrix, so B replicates cost one matrix product
    (the ordinal metric is recomputed per replicate from its own n_c). This is *not*
    Hayes & Krippendorff's (2007) pair bootstrap, which understates the SE.
    Single-rated case files drop out (unlike Gwet's π_k).

    References
    ----------
    Krippendorff K (2011) Computing Krippendorff's Alpha-Reliability. Hayes AF, Krippendorff
    K (2007) Commun Methods Meas 1:77–89. Zapf A et al. (2016) BMC Med Res Methodol 16:93.
    Gwet KL (2014) Handbook of Inter-Rater Reliability, 4th ed.
    """
    if level not in ("nominal", "ordinal", "interval", "ratio"):
        raise problem(StatisticsError, "level", expected="'nominal', 'ordinal', 'interval' or 'ratio'",
                      received=repr(level))
    if not isinstance(n_boot, (int, np.integer)) or n_boot < 0:
        raise problem(StatisticsError, "n_boot", expected="a non-negative integer (≥ 2000 recommended)",
                      received=repr(n_boot))
    ci = _CI("normal", conf_level, one_sided)
    inferred = False
    if categories is None and counts is None and level in ("interval", "ratio"):
        grid = _grid(ratings, "krippendorff_alpha ratings")
        num = pd.to_numeric(pd.Series(grid.ravel(), dtype=object), errors="coerce")
        given = pd.Series(grid.ravel(), dtype=object).notna()
        if (num.isna() & given).any():
            bad = pd.Series(grid.ravel(), dtype=object)[num.isna() & given].iloc[0]
            raise problem(StatisticsError, "krippendorff_alpha categories", expected="numeric values for "
                          f"{level} data when categories are left out", received=repr(bad),
                          fix="pass categories=[...] in scale order")
        seen = np.unique(num.dropna().to_numpy(dtype=float))
        categories = [int(v) if float(v).is_integer() else float(v) for v in seen]
        inferred = True
    elif categories is None and counts is None:
        raise problem(StatisticsError, "krippendorff_alpha categories", expected=f"categories=[...] for {level} "
                      "data (the order and the full set of grades matter; only interval/ratio numeric values are "
                      "inferred)", received="None", fix="pass categories=scale")
    counts, cats = _ratings_counts(ratings, categories, "krippendorff_alpha ratings", layout=layout, counts=counts)
    q = len(cats)
    values = _category_scores(cats)
    pct = f"{100 * ci.level:g}%"
    method = (f"Krippendorff's alpha ({level} metric, q={q}, scores {values.tolist()}"
              f"{', categories inferred: the sorted numeric values seen' if inferred else ''}), pairable values "
              f"only; percentile bootstrap {pct} {'one-sided lower bound' if ci.one_sided else 'CI'} over case files "
              f"({n_boot} replicates, seed {seed})")
    m = counts.sum(1)
    n0 = int((m > 0).sum())
    pc = counts[m >= 2]
    mu = m[m >= 2]
    n = pc.shape[0]
    extra: dict[str, Any] = {"level": level, "n_rated": n0, "n_boot": n_boot, "seed": seed,
                             "categories_inferred": inferred, "categories": list(cats)}
    if n == 0:
        return Estimate(math.nan, n=0, method=method, measure=f"alpha_{level}", extra=extra,
                        note="undefined: no case file has two or more ratings")
    if (pc.sum(0) > 0).sum() < 2:
        return Estimate(math.nan, n=n, method=method, measure=f"alpha_{level}", extra=extra,
                        note=_join("undefined: every pairable rating is the same grade, so expected "
                                   "disagreement D_e = 0 and alpha is 0/0", _tiny_note(n)))
    point = float(_kd.alpha(value_counts=pc, value_domain=values, level_of_measurement=level))
    # per-unit coincidence contributions (U x q x q)
    ou = (pc[:, :, None] * pc[:, None, :] - pc[:, :, None] * np.eye(q)[None]) / (mu - 1)[:, None, None]
    d2 = _metric(level, values)
    o = ou.sum(0)
    own = float(_alpha_from_coincidence(o, level, values, d2))
    nc = o.sum(1)
    dd2 = d2 if d2 is not None else (np.cumsum(nc)[None, :] - np.cumsum(nc)[:, None] + (nc[:, None] - nc[None, :]) / 2) ** 2
    extra.update(alpha_own=own, D_o=float((o * dd2).sum() / nc.sum()),
                 D_e=float((np.outer(nc, nc) * dd2).sum() / (nc.sum() * (nc.sum() - 1))))
    se = lo = hi = math.nan
    note = _tiny_note(n)
    if n_boot > 0:
        rng = np.random.default_rng(seed)
        flat = ou.reshape(n, q * q)
        boot = np.empty(n_boot)
        chunk = max(1, min(n_boot, int(2e7 // max(n, 1))))
        for s in range(0, n_boot, chunk):
            b = min(chunk, n_boot - s)
            idx = rng.integers(0, n, size=(b, n))
            k = np.bincount((idx + (np.arange(b) * n)[:, None]).ravel(), minlength=b * n).reshape(b, n)
            ob = (k.astype(float) @ flat).reshape(b, q, q)
            boot[s:s + b] = _alpha_from_coincidence(ob, level, values, d2)
        ok = np.isfinite(boot)
        extra["n_boot_undefined"] = int((~ok).sum())
        if ok.sum() >= 2:
            se = float(np.std(boot[ok], ddof=1))
            lo, hi = (float(x) for x in np.percentile(boot[ok], [100 * ci.tail, 100 * (1 - ci.tail)]))
            if ci.one_sided:
                hi = 1.0
            extra["p_below_min"] = float((boot[ok] < alpha_min).mean())
            extra["alpha_min"] = alpha_min
    if level in ("nominal", "interval", "ratio"):
        wts = {"nominal": None, "interval": "quadratic"}.get(level)
        if level == "ratio":
            w = 1 - d2 / d2.max()
        else:
            w = agreement_weights(q, wts, scores=values)
        gse, gpa, gpe = _gwet_alpha_se(counts, w)
        extra.update(gwet_se=gse, gwet_pa=gpa, gwet_pe=gpe)
        if math.isfinite(gse) and n0 >= 2:
            crit = stats.t.isf(0.025, n0 - 1)
            extra["gwet_ci_low"], extra["gwet_ci_high"] = point - crit * gse, min(1.0, point + crit * gse)
    if inferred:
        note = _join(note, f"categories inferred from the data: the sorted numeric values {list(cats)}")
    return Estimate(point, se=se, ci_low=lo, ci_high=hi, n=n, method=method, measure=f"alpha_{level}",
                    note=note, extra=extra, level=ci.level, sided=ci.sided)


def _gwet_alpha_se(counts: np.ndarray, w: np.ndarray) -> tuple[float, float, float]:
    """Gwet's analytic SE of Krippendorff's alpha (irrCAC ``krippen.alpha.raw``), f = 0; with its p_a, p_e."""
    ri = counts.sum(1)
    a = counts[ri >= 2]
    ri = ri[ri >= 2]
    n = a.shape[0]
    if n < 2:
        return math.nan, math.nan, math.nan
    rbar = ri.mean()
    eps = 1 / ri.sum()
    sumq = (a * (a @ w.T - 1)).sum(1)
    pap = (sumq / (rbar * (ri - 1))).sum() / n
    pa = (1 - eps) * pap + eps
    pi = (a / rbar).mean(0)
    pe = float((w * np.outer(pi, pi)).sum())
    if 1 - pe < _EPS:
        return math.nan, pa, pe
    alpha_p = (pap - pe) / (1 - pe)
    pa_i = sumq / (rbar * (ri - 1)) - pap * (ri - rbar) / rbar
    k_i = (pa_i - pe) / (1 - pe)
    piw = (w @ pi + w.T @ pi) / 2
    pe_i = (a @ piw) / rbar - pe * (ri - rbar) / rbar
    k_x = k_i - 2 * (1 - alpha_p) * (pe_i - pe) / (1 - pe)
    return float(math.sqrt(((k_x - alpha_p) ** 2).sum() / (n * (n - 1)))), float(pa), pe


# --------------------------------------------------------------------------------------
# percent agreement, symmetry, marginal homogeneity, direction
# --------------------------------------------------------------------------------------


def _wilson(x: float, n: float, ci: _CI | str = "normal") -> tuple[float, float]:
    ci = _CI(ci)
    if n <= 0:
        return math.nan, math.nan
    z = float(stats.norm.isf(ci.tail))
    p = x / n
    z2 = z ** 2
    centre = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = z * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / (1 + z2 / n)
    return max(0.0, centre - half), (1.0 if ci.one_sided else min(1.0, centre + half))


def _looks_like_table(data: Any, categories: Sequence | None) -> bool:
    """A frame whose columns (and index) are the categories themselves: a count table, not ratings."""
    if not isinstance(data, pd.DataFrame) or categories is None:
        return False
    cats = [str(c) for c in categories]
    cols = [str(c) for c in data.columns]
    return len(cols) >= 2 and set(cols) <= set(cats) and data.shape[0] == data.shape[1]


def percent_agreement(data: Any = None, *, table: Any = None, categories: Sequence | None = None,
                      weights: Any = None, input: str = "ratings", level: float = 0.95,
                      one_sided: bool = False, layout: str | None = None) -> Estimate:
    """Observed (percent) agreement from units x raters ratings, or from a two-rater count table.

    Parameters
    ----------
    data : pandas.DataFrame or 2-D array, optional
        Units x raters ratings (one row per case file, one column per rater, NaN = not graded),
        with ``categories``. A table built by :func:`crosstab` is also accepted here (it
        records its scale); any other count table must come through ``table=``.
    table : pandas.DataFrame or 2-D array, optional
        A square count table (rows = auditor, columns = moderator). Never guessed from the
        shape: a square 4 x 4 ratings frame is ratings unless given as ``table=``.
    categories : sequence, optional
        The declared scale (required for ratings and for an unlabelled table).
    weights : {None, "linear", "quadratic", "ordinal"} or array, optional
        Weighted agreement (credit for near misses).
    input : {"ratings", "table"}, optional
        Older spelling: ``input="table"`` reads ``data`` as a count table.
    level : float, optional
        Confidence level (default 0.95).
    one_sided : bool, optional
        One-sided lower bound instead of a two-sided interval.
    layout : {"units x raters", "raters x units"}, optional
        Orientation of ratings (see :func:`gwet_ac`).

    Returns
    -------
    Estimate
        Table: p_o = Σ w_ij n_ij / n with binomial SE √(p(1 − p)/n) and a Wilson CI
        (unweighted; for weighted agreement a t(n−1) CI from the per-pair SD).
        Ratings: Gwet's (2014) p_a (mean over case files with ≥ 2 ratings of the share of
        agreeing rater pairs) with its linearised SE and a t(n−1) CI truncated at 1
        (irrCAC ``pa.coeff.raw``). ``extra["n_agree"]`` for tables.

    Raises
    ------
    StatisticsError
        Non-square table, missing categories, or ratings whose columns are the categories
        (a count table passed as ratings): the message shows both readings and the keyword.

    References
    ----------
    Wilson EB (1927) J Am Stat Assoc 22:209–212. Gwet KL (2014) Handbook, 4th ed.
    """
    ci = _CI("t", level, one_sided)
    if input not in ("ratings", "table", "auto"):
        raise problem(StatisticsError, "input", expected="'ratings' or 'table'", received=repr(input))
    if table is None and input == "table":
        table, data = data, None
    if table is None and isinstance(data, pd.DataFrame) and data.attrs.get(SCALE_ATTR) is not None:
        table, data = data, None
    if table is not None:
        if data is not None:
            raise problem(StatisticsError, "percent_agreement", expected="either ratings or table=, not both",
                          received="both", fix="pass one of them")
        t, _ = _as_table(table, "percent_agreement table", categories)
        q = t.shape[0]
        w = agreement_weights(q, weights)
        n = int(round(t.sum()))
        wname = _weights_name(weights)
        if n == 0:
            return Estimate(math.nan, n=0, measure="percent_agreement", method="percent agreement",
                            note="undefined: the table is empty (no moderated pairs)")
        po = float((w * t).sum() / t.sum())
        pct = f"{100 * ci.level:g}%"
        side = " one-sided lower bound" if ci.one_sided else " CI"
        if wname == "unweighted":
            x = float(np.trace(t))
            lo, hi = _wilson(x, t.sum(), ci)
            se = math.sqrt(po * (1 - po) / t.sum())
            method = f"percent agreement (exact grade match); binomial SE; Wilson {pct}{side}"
            extra = {"n_agree": int(round(x)), "weights": wname}
        else:
            var_i = (t * (w - po) ** 2).sum() / (t.sum() - 1) if n >= 2 else math.nan
            se = math.sqrt(var_i / t.sum()) if n >= 2 else math.nan
            lo, hi = _interval(po, se, n, ci, True, bounds=(0.0, 1.0))
            method = f"weighted percent agreement ({wname}); SE from per-pair SD; t(n−1) {pct}{side} clipped to [0, 1]"
            extra = {"weights": wname}
        return Estimate(po, se=se, ci_low=lo, ci_high=hi, n=n, measure="percent_agreement", method=method,
                        note=_tiny_note(n, "pairs"), extra=extra, level=ci.level, sided=ci.sided)
    if data is None:
        raise problem(StatisticsError, "percent_agreement", expected="ratings (units x raters) or table=",
                      received="nothing")
    shape = getattr(data, "shape", np.shape(data))
    if categories is None or _looks_like_table(data, categories):
        u, r = (shape + (0, 0))[:2] if len(shape) < 2 else shape[:2]
        why = ("its columns are the categories themselves" if categories is not None
               else "no categories were given")
        raise problem(StatisticsError, "percent_agreement", expected="an unambiguous reading of the input",
                      received=f"a {u} x {r} input and {why}. It could be read as ratings ({u} case files x {r} "
                      f"raters, each cell a grade) or as a {u} x {r} count table (rows = auditor, columns = "
                      "moderator)",
                      fix="for ratings: percent_agreement(ratings, categories=scale); for a count table: "
                      "percent_agreement(table=counts, categories=scale)")
    counts, cats = _ratings_counts(data, categories, "percent_agreement ratings", layout=layout)
    q = len(cats)
    w = agreement_weights(q, weights, scores=_category_scores(cats))
    wname = _weights_name(weights)
    method = (f"percent agreement ({wname}), raw ratings: Gwet (2014) p_a over case files with ≥2 ratings; "
              f"linearised SE, f=0; {_ci_words(ci, True)}")
    return _raw_estimate(counts, w, "pa", method, "percent_agreement", ci, True, {"weights": wname, "q": q})


def bowker_symmetry(table: Any, *, categories: Sequence | None = None) -> TestResult:
    """Bowker's (1948) test of symmetry of the auditor x moderator table.

    Parameters
    ----------
    table : pandas.DataFrame or 2-D array
        Square count table (rows = auditor, columns = moderator).
    categories : sequence, optional
        The declared scale in order (required for an unlabelled table; a labelled one is
        reordered to it). Not needed for a table built by :func:`crosstab`.

    Returns
    -------
    TestResult
        ``statistic`` B, ``df`` = number of informative pairs, chi-squared ``pvalue``.
        ``extra``: ``n_pairs_dropped``, ``df_full`` = q(q−1)/2 and ``pvalue_full_df`` (the p with
        df_full, as statsmodels and SAS report it).

    Raises
    ------
    StatisticsError
        Non-square table.

    Notes
    -----
    B = Σ_{i<j} (n_ij − n_ji)²/(n_ij + n_ji). **Empty pairs rule:** a pair with
    n_ij + n_ji = 0 carries no information (0/0); it is dropped and the df reduced by one
    (statsmodels adds 0 but keeps df = q(q−1)/2; SAS lets the user choose). With q = 2 this
    is McNemar's test without continuity correction.

    References
    ----------
    Bowker AH (1948) J Am Stat Assoc 43:572–574. Agresti A (2013) Categorical Data
    Analysis, 3rd ed., §11.
    """
    t, _ = _as_table(table, "bowker_symmetry table", categories)
    q = t.shape[0]
    iu = np.triu_indices(q, 1)
    up, lo = t[iu], t.T[iu]
    s = up + lo
    keep = s > 0
    stat = float(((up[keep] - lo[keep]) ** 2 / s[keep]).sum())
    df = int(keep.sum())
    n = int(round(t.sum()))
    method = "Bowker symmetry test; chi-squared; empty pairs (n_ij + n_ji = 0) dropped and df reduced"
    extra = {"n_pairs_dropped": int((~keep).sum()), "df_full": q * (q - 1) // 2,
             "pvalue_full_df": float(stats.chi2.sf(stat, q * (q - 1) // 2)) if df else math.nan}
    if df == 0:
        return TestResult(math.nan, math.nan, df=0, n=n, method=method, extra=extra,
                          note="undefined: no off-diagonal counts (no disagreement to test)")
    return TestResult(stat, float(stats.chi2.sf(stat, df)), df=df, n=n, method=method,
                      note=_tiny_note(n, "pairs"), extra=extra)


def stuart_maxwell(table: Any, *, categories: Sequence | None = None) -> TestResult:
    """Stuart–Maxwell test of marginal homogeneity (does the moderator grade systematically differently?).

    Parameters
    ----------
    table : pandas.DataFrame or 2-D array
        Square count table (rows = auditor, columns = moderator).
    categories : sequence, optional
        The declared scale in order (required for an unlabelled table; a labelled one is
        reordered to it). Not needed for a table built by :func:`crosstab`.

    Returns
    -------
    TestResult
        ``statistic`` X² = d′S⁻¹d, ``df``, chi-squared ``pvalue``; ``extra``:
        ``bhapkar`` (X²/(1 − X²/n)) and its ``bhapkar_pvalue``, ``categories_dropped``.

    Raises
    ------
    StatisticsError
        Non-square table.

    Notes
    -----
    d_i = n_i. − n_.i, S_ii = n_i. + n_.i − 2n_ii, S_ij = −(n_ij + n_ji), using q − 1 of
    the categories. **Singular S rule:** a category with no off-diagonal counts (unused,
    or only agreements) makes S singular; it is dropped (d_i = 0 there) and df reduced.
    More generally S is a graph Laplacian of the disagreement counts; the statistic is
    summed over its connected components, each with df = size − 1 (statsmodels returns NaN
    here; Uebersax and DescTools keep df = q − 1). When every category disagrees with some
    other this is exactly the classical statistic with df = q − 1.

    References
    ----------
    Stuart A (1955) Biometrika 42:412–416. Maxwell AE (1970) Br J Psychiatry 116:651–655.
    Bhapkar VP (1966) J Am Stat Assoc 61:228–235.
    """
    t, labels = _as_table(table, "stuart_maxwell table", categories)
    q = t.shape[0]
    n = int(round(t.sum()))
    off = t + t.T
    np.fill_diagonal(off, 0)
    d = t.sum(1) - t.sum(0)
    # connected components of the disagreement graph
    comp = -np.ones(q, dtype=int)
    ncomp = 0
    for start in range(q):
        if comp[start] >= 0 or off[start].sum() == 0:
            continue
        stack = [start]
        comp[start] = ncomp
        while stack:
            i = stack.pop()
            for j in np.flatnonzero(off[i] > 0):
                if comp[j] < 0:
                    comp[j] = ncomp
                    stack.append(j)
        ncomp += 1
    dropped = [labels[i] for i in range(q) if comp[i] < 0]
    stat, df = 0.0, 0
    for c in range(ncomp):
        idx = np.flatnonzero(comp == c)[:-1]  # drop one category per component
        S = -off[np.ix_(idx, idx)]
        S[np.diag_indices_from(S)] = off[idx].sum(1)
        stat += float(d[idx] @ np.linalg.solve(S, d[idx]))
        df += idx.size
    method = ("Stuart–Maxwell marginal homogeneity test; chi-squared; categories with no off-diagonal counts "
              "dropped (S singular) and df reduced")
    extra: dict[str, Any] = {"categories_dropped": dropped, "df_full": q - 1,
                             "marginal_difference": dict(zip(labels, d.tolist()))}
    if df == 0:
        return TestResult(math.nan, math.nan, df=0, n=n, method=method, extra=extra,
                          note="undefined: no off-diagonal counts (no disagreement to test)")
    bh = stat / (1 - stat / n) if stat < n else math.inf
    extra.update(bhapkar=bh, bhapkar_pvalue=float(stats.chi2.sf(bh, df)))
    notes = [_tiny_note(n, "pairs")]
    if dropped:
        notes.append(f"categories without disagreements dropped: {dropped}")
    if ncomp > 1:
        notes.append(f"disagreements fall in {ncomp} separate blocks of grades; statistic summed over blocks")
    return TestResult(stat, float(stats.chi2.sf(stat, df)), df=df, n=n, method=method, note=_join(*notes),
                      extra=extra)


def direction_of_disagreement(table: Any, *, categories: Sequence | None = None) -> dict:
    """Counts of moderator downgrades and upgrades from an auditor x moderator table.

    Parameters
    ----------
    table : pandas.DataFrame or 2-D array
        Square counts, rows = auditor, columns = moderator, scale order best first.
    categories : sequence, optional
        The declared scale in order (required for an unlabelled table; a labelled one is
        reordered to it). Not needed for a table built by :func:`crosstab`.

    Returns
    -------
    dict
        ``n``, ``n_same``, ``n_downgraded`` (moderator grade later in the scale = worse:
        cells above the diagonal), ``n_upgraded`` (below the diagonal), ``net_downgraded``
        = (n_downgraded − n_upgraded)/n.
    """
    t, _ = _as_table(table, "direction_of_disagreement table", categories)
    return _direction_counts(t)


def _direction_counts(t: np.ndarray) -> dict:
    n = t.sum()
    down = float(np.triu(t, 1).sum())
    up = float(np.tril(t, -1).sum())
    return {"n": int(round(n)), "n_same": int(round(np.trace(t))), "n_downgraded": int(round(down)),
            "n_upgraded": int(round(up)), "net_downgraded": (down - up) / n if n > 0 else math.nan}


def mcnemar(table: Any, *, categories: Sequence | None = None, correction: bool = False,
            exact: bool = False) -> TestResult:
    """McNemar test of the direction of disagreement (moderator lower vs higher than auditor).

    Parameters
    ----------
    table : pandas.DataFrame or 2-D array
        2 x 2 table, or a q x q auditor x moderator table in scale order (best first),
        which is collapsed to b = pairs the moderator graded *worse* (above the diagonal,
        "downgraded") and c = pairs graded *better* (below the diagonal, "upgraded").
    correction : bool, optional
        Edwards' continuity correction (|b − c| − 1)²/(b + c).
    exact : bool, optional
        p-value from the exact binomial(b + c, ½) test instead of chi-squared(1).
    categories : sequence, optional
        The declared scale in order (required for an unlabelled table; a labelled one is
        reordered to it). Not needed for a table built by :func:`crosstab`.

    Returns
    -------
    TestResult
        ``statistic`` chi-squared (df 1), ``pvalue`` (asymptotic or exact per ``exact``);
        ``extra``: ``n_downgraded``, ``n_upgraded``, ``pvalue_exact``, ``net_downgraded``.

    Raises
    ------
    StatisticsError
        Non-square table.

    Notes
    -----
    X² = (b − c)²/(b + c). For q > 2 this is the sign test of "moderators downgrade as often
    as they upgrade", ignoring how far grades move; pair it with :func:`stuart_maxwell`
    (which grades drift) and :func:`bowker_symmetry`. For a 2 x 2 table it is the classic
    McNemar test (b = n_12, c = n_21).

    References
    ----------
    McNemar Q (1947) Psychometrika 12:153–157. Edwards AL (1948) Psychometrika 13:185–187.
    """
    t, _ = _as_table(table, "mcnemar table", categories)
    dd = _direction_counts(t)
    b, c = dd["n_downgraded"], dd["n_upgraded"]
    n = dd["n"]
    q = t.shape[0]
    what = ("McNemar test (2x2)" if q == 2 else
            f"McNemar-type sign test on the {q}x{q} table collapsed to moderator lower (downgraded) vs higher")
    method = (f"{what}; chi-squared df 1{', Edwards continuity correction' if correction else ''}; "
              f"p-value {'exact binomial' if exact else 'asymptotic'}")
    extra = {"n_downgraded": b, "n_upgraded": c, "net_downgraded": dd["net_downgraded"]}
    if b + c == 0:
        return TestResult(math.nan, math.nan, df=1, n=n, method=method, extra=extra,
                          note="undefined: no disagreements")
    stat = ((abs(b - c) - 1) ** 2 if correction else (b - c) ** 2) / (b + c)
    pex = float(stats.binomtest(b, b + c, 0.5).pvalue)
    extra["pvalue_exact"] = pex
    p = pex if exact else float(stats.chi2.sf(stat, 1))
    return TestResult(float(stat), p, df=1, n=n, method=method, note=_tiny_note(b + c, "disagreements"),
                      extra=extra)


def benchmark_probability(estimate: Estimate | float, se: float | None = None, *,
                          bands: Sequence[tuple[str, float, float]] = LANDIS_KOCH,
                          level: float = 0.95) -> pd.DataFrame:
    """Probability that an agreement coefficient lies in each benchmark band (Gwet 2014).

    Parameters
    ----------
    estimate : Estimate or float
        The coefficient (an :class:`Estimate`, whose ``se`` is used) or its value.
    se : float, optional
        Standard error when ``estimate`` is a float.
    bands : sequence of (label, lower, upper), optional
        Highest band first; default Landis & Koch (1977).
    level : float, optional
        Cumulative probability required to select a band (default 0.95).

    Returns
    -------
    pandas.DataFrame
        One row per band: ``band``, ``lower``, ``upper``, ``probability``,
        ``cumulative_probability`` and ``selected`` (True on the highest band whose
        cumulative probability reaches ``level``).

    Notes
    -----
    P(band) = [Φ((γ − a)/se) − Φ((γ − b)/se)] / [Φ((γ + 1)/se) − Φ((γ − 1)/se)]
    (normal truncated to [−1, 1]), accumulated from the top band down (irrCAC
    ``landis.koch.bf``). Prefer this to reading a label off the point estimate.
    A zero SE (every case file agrees, e.g. 83 of 83) is a point mass: probability 1 for the
    band holding the estimate (its lower limit included), 0 elsewhere — never NaN. Only a
    missing estimate or SE gives NaN probabilities and no selected band.

    References
    ----------
    Gwet KL (2014) Handbook of Inter-Rater Reliability, 4th ed., ch. 6. Landis JR, Koch GG
    (1977) Biometrics 33:159–174.
    """
    if isinstance(estimate, Estimate):
        g, s = estimate.estimate, estimate.se
    else:
        g, s = float(estimate), (math.nan if se is None else float(se))
    lab = [b[0] for b in bands]
    lo = np.array([b[1] for b in bands], float)
    hi = np.array([b[2] for b in bands], float)
    if not (math.isfinite(g) and math.isfinite(s) and s >= 0):
        prob = np.full(len(bands), math.nan)
    elif s == 0:
        # a zero SE (e.g. perfect agreement) is a point mass at the estimate: its band has
        # probability 1, every other band 0 (the limit of the formula as se -> 0; a value on a
        # boundary goes to the higher band, whose lower limit it reaches)
        prob = np.zeros(len(bands))
        inside = np.flatnonzero(lo <= g)
        if inside.size:
            prob[inside[0]] = 1.0
    else:
        tf = stats.norm.cdf((g + 1) / s) - stats.norm.cdf((g - 1) / s)
        prob = (stats.norm.cdf((g - lo) / s) - stats.norm.cdf((g - hi) / s)) / tf
    cum = np.cumsum(prob)
    sel = np.zeros(len(bands), bool)
    hit = np.flatnonzero(cum >= level)
    if hit.size:
        sel[hit[0]] = True
    return pd.DataFrame({"band": lab, "lower": lo, "upper": hi, "probability": prob,
                         "cumulative_probability": cum, "selected": sel})


# --------------------------------------------------------------------------------------
# tidy summary by group
# --------------------------------------------------------------------------------------


def long_to_wide(long: pd.DataFrame, *, unit: str | Sequence[str], rater: str, grade: str,
                 raters: Sequence[str] | None = None, where: str = "ratings") -> pd.DataFrame:
    """Long ratings (one row per unit and rater) to a wide frame: one row per unit, one column per rater.

    Parameters
    ----------
    long : pandas.DataFrame
        Plain frame with the unit column(s), a rater column and a grade column.
    unit : str or list of str
        Column(s) that identify a rated unit (e.g. ``["audit_id", "domain"]``); grouping
        columns that are constant within a unit may be among them.
    rater : str
        Column naming the rater (or role) of each rating.
    grade : str
        Column holding the grade.
    raters : sequence of str, optional
        The raters to keep, in column order (e.g. ``["auditor", "moderator"]``: rows = the
        first). Default: every rater value, sorted.

    Returns
    -------
    pandas.DataFrame
        Index = the unit columns, columns = ``raters``; NaN where a rater did not grade a unit.

    Raises
    ------
    StatisticsError
        Missing columns, or the same unit rated twice by the same rater (the rows are named).
    """
    units = [unit] if isinstance(unit, str) else list(unit)
    need = [*units, rater, grade]
    miss = [c for c in need if c not in long.columns]
    if miss:
        raise problem(StatisticsError, where, expected=f"columns {need}", received=f"columns {list(long.columns)}",
                      fix="name the unit=, rater= and grade= columns")
    frame = long[need]
    if raters is not None:
        frame = frame[frame[rater].isin(list(raters))]
    dup = frame.duplicated([*units, rater], keep=False)
    if dup.any():
        first = frame[dup].iloc[0]
        raise problem(StatisticsError, f"{where}, row {int(np.flatnonzero(dup.to_numpy())[0]) + 1}",
                      expected="one grade per unit and rater",
                      received=f"{int(dup.sum())} rows repeat a unit and rater (e.g. rater {first[rater]!r})",
                      fix="drop the duplicates, or add the column that tells them apart to unit=")
    wide = frame.pivot(index=units, columns=rater, values=grade)
    order = list(raters) if raters is not None else sorted(wide.columns, key=str)
    return wide.reindex(columns=order)


def agreement_table(pairs: pd.DataFrame, *, by: str | Sequence[str] | None, categories: Sequence,
                    auditor_col: str = "auditor_grade", moderator_col: str = "moderator_grade",
                    kappa_ci: str = "normal", unit: str | Sequence[str] | None = None, rater: str | None = None,
                    grade: str | None = None, raters: Sequence[str] | None = None) -> pd.DataFrame:
    """One row per group of auditor–moderator pairs: agreement, kappas, AC1/AC2, direction.

    Parameters
    ----------
    pairs : pandas.DataFrame
        Long frame, one row per moderated audit-domain, with the two grade columns and the
        grouping columns (e.g. domain, period, auditor, service_area).
    by : str, list of str or None
        Grouping columns; ``None`` or ``[]`` gives one overall row. Missing group values
        form their own group (never dropped).
    categories : sequence
        The grade scale, best first (e.g. Outstanding, Good, Requires improvement,
        Inadequate). Unused grades are kept.
    auditor_col, moderator_col : str, optional
        Column names of the two grades.
    kappa_ci : {"normal", "t"}, optional
        Interval convention for the three kappas (AC1/AC2 always use t(n−1), truncated).
    unit, rater, grade, raters : optional
        Long (tidy) input instead: one row per unit and rater. ``unit`` names the unit
        column(s), ``rater`` the rater/role column, ``grade`` the grade column and ``raters``
        the two rater values in order (rows, columns), e.g. ``["auditor", "moderator"]``;
        ``by`` columns must be constant within a unit. Works on any plain DataFrame.

    Returns
    -------
    pandas.DataFrame
        Group columns, then ``n`` (complete pairs), ``n_missing`` (pairs with a missing grade,
        excluded), ``percent_agreement`` (+ ``_ci_low``/``_ci_high``, Wilson),
        for each of ``kappa``, ``kappa_linear``, ``kappa_quadratic``, ``ac1``,
        ``ac2_quadratic``: the estimate and ``_se``, ``_ci_low``, ``_ci_high``;
        ``n_downgraded``, ``n_upgraded``, ``net_downgraded`` (share moderated lower minus
        share moderated higher; positive = auditors grade too generously), ``tiny_n``
        (n < TINY_N) and ``note``.

    Raises
    ------
    StatisticsError
        Missing columns, a grade outside ``categories``.

    Notes
    -----
    "Downgraded" = the moderator's grade is later in ``categories`` (worse) than the
    auditor's. All groups are tabulated in one ``np.bincount``; each statistic is then
    O(q²) per group. Conventions as in :func:`cohen_kappa` (FCE ASE) and
    :func:`gwet_ac_table` (Gwet 2008 table variance, t CI truncated at 1).
    """
    cats = _check_categories(categories, "agreement_table categories")
    q = len(cats)
    by_cols = [] if by is None else ([by] if isinstance(by, str) else list(by))
    if rater is not None or unit is not None or grade is not None:
        if rater is None or unit is None or grade is None or raters is None or len(raters) != 2:
            raise problem(StatisticsError, "agreement_table long input", expected="unit=, rater=, grade= and "
                          "raters=[first, second] (the two raters in row/column order)",
                          received=f"unit={unit!r}, rater={rater!r}, grade={grade!r}, raters={raters!r}",
                          fix="e.g. agreement_table(long, by=['domain'], categories=scale, unit='audit_id', "
                          "rater='role', grade='grade', raters=['auditor', 'moderator'])")
        units = [unit] if isinstance(unit, str) else list(unit)
        key = list(dict.fromkeys([*units, *by_cols]))
        wide = long_to_wide(pairs, unit=key, rater=rater, grade=grade, raters=raters,
                            where="agreement_table long ratings").reset_index()
        pairs = wide.rename(columns={raters[0]: auditor_col, raters[1]: moderator_col})
    missing_cols = [c for c in [auditor_col, moderator_col, *by_cols] if c not in pairs.columns]
    if missing_cols:
        raise problem(StatisticsError, "agreement_table pairs", expected=f"columns {missing_cols}",
                      received=f"columns {list(pairs.columns)}", fix="rename with the params columns: mapping")
    a = encode(pairs[auditor_col], cats, where=f"column {auditor_col}")
    b = encode(pairs[moderator_col], cats, where=f"column {moderator_col}")
    if by_cols:
        gid, keys = pd.MultiIndex.from_frame(pairs[by_cols]).factorize() if len(by_cols) > 1 else \
            pd.factorize(pairs[by_cols[0]], use_na_sentinel=False)
        gid = np.asarray(gid)
        key_frame = (pd.DataFrame(list(keys), columns=by_cols) if len(by_cols) > 1
                     else pd.DataFrame({by_cols[0]: keys}))
    else:
        gid = np.zeros(len(pairs), dtype=np.int64)
        key_frame = pd.DataFrame(index=[0])
    g = len(key_frame)
    ok = (a >= 0) & (b >= 0)
    tabs = np.bincount(gid[ok] * q * q + a[ok] * q + b[ok], minlength=g * q * q).reshape(g, q, q)
    n_missing = np.bincount(gid[~ok], minlength=g)
    rows = []
    specs = [("kappa", cohen_kappa, None), ("kappa_linear", cohen_kappa, "linear"),
             ("kappa_quadratic", cohen_kappa, "quadratic"), ("ac1", gwet_ac_table, None),
             ("ac2_quadratic", gwet_ac_table, "quadratic")]
    for k in range(g):
        t = tabs[k]
        n = int(t.sum())
        pa = percent_agreement(table=t, categories=cats)
        row: dict[str, Any] = {"n": n, "n_missing": int(n_missing[k]), "percent_agreement": pa.estimate,
                               "percent_agreement_ci_low": pa.ci_low, "percent_agreement_ci_high": pa.ci_high}
        notes = []
        for name, fn, wt in specs:
            e = (fn(t, categories=cats, weights=wt, ci=kappa_ci) if fn is cohen_kappa
                 else fn(t, categories=cats, weights=wt))
            row.update({name: e.estimate, f"{name}_se": e.se, f"{name}_ci_low": e.ci_low,
                        f"{name}_ci_high": e.ci_high})
            if n and e.note.startswith("undefined"):
                notes.append(f"{name} {e.note}")
        dd = _direction_counts(t) if n else {"n_downgraded": 0, "n_upgraded": 0, "net_downgraded": math.nan}
        row.update(n_downgraded=dd["n_downgraded"], n_upgraded=dd["n_upgraded"], net_downgraded=dd["net_downgraded"])
        row["tiny_n"] = n < TINY_N
        if n == 0:
            notes.append("no complete pairs")
        elif n < TINY_N:
            notes.append(f"tiny n ({n} pairs): intervals unreliable")
        if n_missing[k]:
            notes.append(f"{int(n_missing[k])} pair(s) with a missing grade excluded")
        row["note"] = "; ".join(dict.fromkeys(notes))
        rows.append(row)
    out = pd.concat([key_frame.reset_index(drop=True), pd.DataFrame(rows)], axis=1)
    if by_cols:
        out = out.sort_values(by_cols, kind="stable", na_position="last").reset_index(drop=True)
    return out


def multirater_table(long: pd.DataFrame, *, by: str | Sequence[str] | None, categories: Sequence,
                     unit: str | Sequence[str], rater: str, grade: str, alpha_level: str = "ordinal",
                     n_boot: int = 2000, seed: int = 20240401, level: float = 0.95) -> pd.DataFrame:
    """Multi-rater reliability per group from long ratings on a plain DataFrame.

    Parameters
    ----------
    long : pandas.DataFrame
        One row per unit and rater, with ``unit``, ``rater``, ``grade`` and the ``by`` columns.
    by : str, list of str or None
        Grouping columns (``None``: one overall row); constant within a unit.
    categories : sequence
        The declared scale in order.
    unit, rater, grade : str
        Column names (``unit`` may be several columns).
    alpha_level : str, optional
        Krippendorff metric (default ordinal).
    n_boot, seed : int, optional
        Bootstrap for alpha.
    level : float, optional
        Confidence level of every interval.

    Returns
    -------
    pandas.DataFrame
        Group columns, ``n`` (units with ≥ 2 ratings), ``raters`` (most ratings on one unit),
        then ``fleiss_kappa``, ``ac1``, ``ac2_quadratic``, ``brennan_prediger``, ``conger_kappa``
        and ``alpha_<alpha_level>``, each with ``_ci_low``/``_ci_high``, and ``note``.
    """
    cats = _check_categories(categories, "multirater_table categories")
    by_cols = [] if by is None else ([by] if isinstance(by, str) else list(by))
    units = [unit] if isinstance(unit, str) else list(unit)
    miss = [c for c in [*by_cols] if c not in long.columns]
    if miss:
        raise problem(StatisticsError, "multirater_table", expected=f"columns {miss}",
                      received=f"columns {list(long.columns)}", fix="name existing columns in by=")
    groups = [((), long)] if not by_cols else list(long.groupby(by_cols, dropna=False, sort=True))
    rows = []
    for key, g in groups:
        key = key if isinstance(key, tuple) else (key,)
        wide = long_to_wide(g, unit=list(dict.fromkeys(units)), rater=rater, grade=grade,
                            where="multirater_table long ratings")
        lay = "units x raters"
        ests = {"fleiss_kappa": fleiss_kappa(wide, categories=cats, layout=lay, level=level),
                "ac1": gwet_ac(wide, categories=cats, layout=lay, level=level),
                "ac2_quadratic": gwet_ac(wide, categories=cats, weights="quadratic", layout=lay, level=level),
                "brennan_prediger": brennan_prediger(wide, categories=cats, layout=lay, level=level),
                "conger_kappa": conger_kappa(wide, categories=cats, layout=lay, level=level),
                f"alpha_{alpha_level}": krippendorff_alpha(wide, level=alpha_level, categories=cats, n_boot=n_boot,
                                                           seed=seed, layout=lay, conf_level=level)}
        m = wide.notna().sum(axis=1)
        row: dict[str, Any] = dict(zip(by_cols, key))
        row.update(n=int((m >= 2).sum()), raters=int(m.max()) if len(m) else 0)
        notes = []
        for name, e in ests.items():
            row.update({name: e.estimate, f"{name}_ci_low": e.ci_low, f"{name}_ci_high": e.ci_high})
            if not e.defined:
                notes.append(f"{name} {e.note}")
        if 0 < row["n"] < TINY_N:
            notes.append(f"tiny n ({row['n']} units): intervals unreliable")
        row["note"] = "; ".join(notes)
        rows.append(row)
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------------------
# systematic bias of one auditor, comparing agreement, planning the moderation sample
# --------------------------------------------------------------------------------------


def downgrade_bias(n_downgraded: int, n_upgraded: int, n: int, *, level: float = 0.95) -> Estimate:
    """Net downgrading of one auditor's moderated audits with an exact (sign-test) interval.

    Parameters
    ----------
    n_downgraded, n_upgraded : int
        Moderated audits the moderator graded worse / better than the auditor.
    n : int
        All moderated audits of the auditor (agreements included).
    level : float, optional
        Confidence level (default 0.95).

    Returns
    -------
    Estimate
        ``estimate`` = (d − u)/n; ``ci_low``/``ci_high`` from the Clopper–Pearson interval
        (θ_L, θ_U) of θ = d/(d + u): (m/n)(2θ − 1) with m = d + u (exact, conditional on the
        number of disagreements); ``pvalue`` = exact two-sided sign test of θ = ½ (binomial,
        as R ``binom.test``); ``extra``: ``share_down_of_disagreements`` with its CP interval.

    Notes
    -----
    The sign test uses only the discordant pairs (McNemar's exact test): agreements carry no
    information on direction. No disagreement at all: estimate 0, p-value undefined.

    References
    ----------
    Clopper CJ, Pearson ES (1934) Biometrika 26:404–413. McNemar Q (1947) Psychometrika 12:153–157.
    """
    d, u, n = int(n_downgraded), int(n_upgraded), int(n)
    if min(d, u) < 0 or d + u > n:
        raise problem(StatisticsError, "downgrade_bias", expected="0 ≤ downgraded + upgraded ≤ n",
                      received=f"{d} + {u} of {n}")
    ci = _CI("normal", level)
    m = d + u
    method = (f"net downgrading (downgraded − upgraded)/n; exact sign test on the {m} disagreements "
              f"(binomial, two-sided); Clopper–Pearson {100 * ci.level:g}% CI of the downgraded share, rescaled")
    if n == 0:
        return Estimate(math.nan, n=0, method=method, measure="net_downgraded", note="no moderated audits")
    if m == 0:
        return Estimate(0.0, ci_low=0.0, ci_high=0.0, n=n, method=method, measure="net_downgraded",
                        note="no disagreements: nothing to test", extra={"n_disagreements": 0}, level=ci.level)
    bt = stats.binomtest(d, m, 0.5)
    cp = bt.proportion_ci(confidence_level=ci.level, method="exact")
    lo, hi = (m / n) * (2 * cp.low - 1), (m / n) * (2 * cp.high - 1)
    return Estimate((d - u) / n, ci_low=float(lo), ci_high=float(hi), n=n, method=method, measure="net_downgraded",
                    pvalue=float(bt.pvalue), note=_tiny_note(m, "disagreements"), level=ci.level,
                    extra={"n_disagreements": m, "share_down_of_disagreements": d / m,
                           "share_down_ci_low": float(cp.low), "share_down_ci_high": float(cp.high)})


def compare_agreement(first: Estimate, second: Estimate, *, what: str = "coefficient") -> TestResult:
    """Test of the difference between two agreement coefficients from independent samples.

    Parameters
    ----------
    first, second : Estimate
        Two kappas or two AC1s (same measure), each with its SE, from separate case files
        (e.g. two periods or two service areas).
    what : str, optional
        Name used in the method text.

    Returns
    -------
    TestResult
        ``statistic`` z = (γ₁ − γ₂)/√(SE₁² + SE₂²), two-sided normal ``pvalue``; ``extra``:
        ``difference``, its ``se`` and 95% ``ci_low``/``ci_high``.

    Notes
    -----
    The large-sample test for independent coefficients (Fleiss 1981, §13.2; Donner, Shoukri,
    Klar & Bartfay 2000 call it the Wald test); with small n or an SE of 0 it is unreliable:
    ``note`` says so and the p-value is ``nan`` when both SEs are 0.

    References
    ----------
    Fleiss JL (1981) Statistical Methods for Rates and Proportions, 2nd ed., §13.2. Donner A et
    al. (2000) Stat Med 19:373–387. Gwet KL (2016) Educ Psychol Meas 76:609–637.
    """
    method = f"difference of two independent {what}s: Wald z = (γ1 − γ2)/√(SE1² + SE2²), two-sided normal p"
    diff = first.estimate - second.estimate
    se = math.sqrt(first.se ** 2 + second.se ** 2) if math.isfinite(first.se) and math.isfinite(second.se) else math.nan
    extra: dict[str, Any] = {"difference": diff, "se": se}
    if not (math.isfinite(diff) and math.isfinite(se)) or se == 0:
        return TestResult(math.nan, math.nan, n=first.n + second.n, method=method, extra=extra,
                          note="undefined: a coefficient or its SE is missing, or both SEs are 0")
    z = diff / se
    extra.update(ci_low=diff - stats.norm.isf(0.025) * se, ci_high=diff + stats.norm.isf(0.025) * se)
    note = _join(_tiny_note(first.n), _tiny_note(second.n))
    return TestResult(float(z), float(2 * stats.norm.sf(abs(z))), n=first.n + second.n, method=method,
                      note=note, extra=extra)


#: Measures :func:`compare_dependent_agreement` can compare (two-rater AC1 and Cohen's kappa included).
DEPENDENT_MEASURES = ("ac1", "kappa", "fleiss", "percent")


def _linear_terms(codes: np.ndarray, cnt: np.ndarray, w: np.ndarray, measure: str) -> dict:
    """Coefficient and its n linearised per-case-file terms γ*_i (mean γ*_i = γ), Gwet (2016)."""
    if measure == "kappa":
        return _conger_core(codes, cnt, w)
    kind = {"ac1": "ac", "fleiss": "fleiss", "percent": "pa"}[measure]
    r = _gwet_raw_core(cnt, w, kind)
    if r.get("n2", 0) == 0:
        return {"undefined": "undefined: no case file has two or more ratings"}
    if not math.isfinite(r.get("coef", math.nan)):
        return {"undefined": "undefined: every rating is the same grade, so chance agreement p_e = 1"}
    return r


def compare_dependent_agreement(first: Any, second: Any, *, categories: Sequence, measure: str = "ac1",
                                weights: Any = None, level: float = 0.95, layout: str | None = None) -> TestResult:
    """Paired test of the difference between two agreement coefficients on the same case files.

    Parameters
    ----------
    first : pandas.DataFrame or 2-D array
        Units x raters ratings of the first set (e.g. auditor and moderator grades of one
        domain), one row per case file.
    second : pandas.DataFrame or 2-D array, or a list of them
        The second set, rows in the same case-file order (e.g. another domain of the same
        audits). A list compares ``first`` with the *mean* coefficient of the sets listed
        (e.g. one domain against the average of the other domains).
    categories : sequence
        The declared scale (used for every set, unused grades included).
    measure : {"ac1", "kappa", "fleiss", "percent"}, optional
        Gwet's AC1 (AC2 with ``weights``), Conger's kappa (Cohen's kappa with two raters),
        Fleiss' generalised kappa or percent agreement.
    weights : optional
        Agreement weights as :func:`agreement_weights`.
    level : float, optional
        Confidence level of the difference's interval.
    layout : optional
        As :func:`gwet_ac` (default units x raters).

    Returns
    -------
    TestResult
        ``statistic`` t = (γ₁ − γ₂)/SE with ``df`` = n − 1 and two-sided ``pvalue`` (t
        distribution, as pairedCAC); ``n`` = case files compared; ``extra``: ``coefficient_1``,
        ``coefficient_2``, ``difference`` (γ₁ − γ₂), ``se``, ``ci_low``/``ci_high`` (t interval),
        ``n_dropped`` (case files left out because a set has no rating for them).

    Notes
    -----
    Gwet's (2016) linearisation: each coefficient is the mean of per-case-file terms γ*_i
    (the terms of its variance formula, :func:`gwet_ac`, :func:`conger_kappa`), so the
    difference is the mean of d_i = γ*₁ᵢ − γ*₂ᵢ and its SE is sd(d)/√n: the correlation between
    coefficients on the same case files is carried by the pairing, with no model for it. A
    case file without any rating in one of the sets is left out of all of them (the sets must
    describe the same case files). For coefficients from separate case files use
    :func:`compare_agreement`.

    References
    ----------
    Gwet KL (2016) Testing the difference of correlated agreement coefficients for statistical
    significance. Educ Psychol Meas 76:609–637. R package pairedCAC (Gwet 2021), ``ttest.ac2``,
    ``ttest.conger``, ``ttest.fleiss``, ``ttest.pa``.
    """
    if measure not in DEPENDENT_MEASURES:
        raise problem(StatisticsError, "measure", expected=f"one of {list(DEPENDENT_MEASURES)}",
                      received=repr(measure))
    cats = _check_categories(categories, "compare_dependent_agreement categories")
    q = len(cats)
    w = agreement_weights(q, weights, scores=_category_scores(cats))
    several = isinstance(second, (list, tuple))
    sets = [first, *(second if several else [second])]
    if len(sets) < 2:
        raise problem(StatisticsError, "compare_dependent_agreement", expected="at least one set to compare with",
                      received="an empty list")
    coded = [_ratings_codes(x, cats, f"compare_dependent_agreement set {k + 1}", layout=layout)[:2]
             for k, x in enumerate(sets)]
    sizes = {c.shape[0] for c, _ in coded}
    if len(sizes) != 1:
        raise problem(StatisticsError, "compare_dependent_agreement", expected="the same case files (rows) in every set",
                      received=f"{sorted(sizes)} rows", fix="align the sets on the case file first")
    keep = np.logical_and.reduce([cnt.sum(1) > 0 for _, cnt in coded])
    wname = _weights_name(weights)
    label = {"ac1": "AC1" if wname == "unweighted" else f"AC2 ({_wdesc(wname)})",
             "kappa": "Cohen/Conger kappa" + ("" if wname == "unweighted" else f" ({_wdesc(wname)})"),
             "fleiss": "Fleiss' kappa", "percent": "percent agreement"}[measure]
    versus = f"the mean of {len(sets) - 1} other sets" if several else "the second set"
    method = (f"paired difference of {label} on the same case files (first set against {versus}); Gwet (2016) "
              "linearised per-case-file terms, SE = sd(d)/√n, t(n−1) two-sided p (as pairedCAC)")
    n = int(keep.sum())
    extra: dict[str, Any] = {"n_dropped": int((~keep).sum())}
    terms, coefs = [], []
    for codes, cnt in coded:
        t = _linear_terms(codes[keep], cnt[keep], w, measure)
        if "undefined" in t:
            return TestResult(math.nan, math.nan, n=n, method=method, extra=extra,
                              note=f"{t['undefined']} in one of the sets")
        terms.append(np.asarray(t["terms"], dtype=float))
        coefs.append(float(t["coef"]))
    other = np.mean(terms[1:], axis=0)
    d = terms[0] - other
    diff = coefs[0] - float(np.mean(coefs[1:]))
    extra.update(coefficient_1=coefs[0], coefficient_2=float(np.mean(coefs[1:])), difference=diff)
    if n < 2:
        return TestResult(math.nan, math.nan, n=n, method=method, extra=extra, note="undefined: fewer than 2 case files")
    se = float(np.std(d, ddof=1) / math.sqrt(n))
    extra["se"] = se
    if not se > 0:
        return TestResult(math.nan, math.nan, df=n - 1, n=n, method=method, extra=extra,
                          note="undefined: the per-case-file differences do not vary (SE 0)")
    tcrit = float(stats.t.isf((1 - level) / 2, n - 1))
    extra.update(ci_low=diff - tcrit * se, ci_high=diff + tcrit * se, level=level)
    tstat = diff / se
    return TestResult(float(tstat), float(2 * stats.t.sf(abs(tstat), n - 1)), df=n - 1, n=n, method=method,
                      extra=extra, note=_tiny_note(n))


def sample_size_for_precision(se: float, n: int, half_width: float, *, level: float = 0.95,
                              population: float | None = None) -> int:
    """Case files to moderate so a coefficient's CI half-width is at most ``half_width``.

    Parameters
    ----------
    se, n : float, int
        SE of the coefficient in a pilot (e.g. this quarter's moderation) of n case files.
    half_width : float
        Target half-width of the two-sided interval (e.g. 0.1).
    level : float, optional
        Confidence level (default 0.95).
    population : float, optional
        Audits the sample will be drawn from (finite-population factor 1 − n/N, as irrCAC's
        ``N``).

    Returns
    -------
    int
        n = ⌈n∞ / (1 + n∞/N)⌉ with n∞ = z² · n · SE² / h² (the variance n·SE² per case file
        carried over from the pilot: Gwet 2014, ch. 2; Sim & Wright 2005). ``-1`` when the
        pilot SE is 0 or missing (no basis for planning).
    """
    if not (math.isfinite(se) and se > 0 and n >= 2):
        return -1
    if not half_width > 0:
        raise problem(StatisticsError, "half_width", expected="a positive half-width (e.g. 0.1)",
                      received=repr(half_width))
    z = float(stats.norm.isf((1 - level) / 2))
    n_inf = z * z * n * se * se / (half_width * half_width)
    if population is not None and math.isfinite(float(population)):
        n_inf = n_inf / (1 + n_inf / float(population))
    return int(math.ceil(n_inf - 1e-9))


def kappa_sample_size_binary(kappa0: float, kappa_low: float, kappa_high: float | None, prevalence: float, *,
                             alpha: float = 0.05) -> int:
    """Donner & Eliasziw (1992) goodness-of-fit sample size for kappa with a binary grade (2 raters).

    Parameters
    ----------
    kappa0 : float
        Expected kappa.
    kappa_low, kappa_high : float
        The CI limits to be excluded: ``kappa_high=None`` gives a one-sided bound at level
        1 − alpha (χ²₁ critical value at 1 − 2α), otherwise a two-sided interval (χ²₁ at 1 − α).
    prevalence : float
        Share of case files in the "event" grade (e.g. Requires improvement or worse).
    alpha : float, optional
        Default 0.05.

    Returns
    -------
    int
        Smallest n with Σ_j n(P_j(κ0) − P_j(κ1))²/P_j(κ1) ≥ χ²crit for each limit κ1, where
        P0 = (1 − p)² + κp(1 − p), P1 = 2(1 − κ)p(1 − p), P2 = p² + κp(1 − p) (as R
        kappaSize ``CIBinary``).

    References
    ----------
    Donner A, Eliasziw M (1992) Stat Med 11:1511–1519. R package kappaSize, ``CIBinary``.
    """
    p = float(prevalence)
    if not (0 < p < 1 and 0 < kappa_low < kappa0 < 1 and (kappa_high is None or kappa0 < kappa_high < 1)):
        raise problem(StatisticsError, "kappa_sample_size_binary", expected="0 < kappa_low < kappa0 < kappa_high < 1 "
                      "and 0 < prevalence < 1", received=f"{kappa_low}, {kappa0}, {kappa_high}, {prevalence}")

    def probs(k: float) -> np.ndarray:
        return np.array([(1 - p) ** 2 + k * p * (1 - p), 2 * (1 - k) * p * (1 - p), p ** 2 + k * p * (1 - p)])

    crit = float(stats.chi2.ppf(1 - 2 * alpha if kappa_high is None else 1 - alpha, 1))
    need = 0
    for k1 in [kappa_low] + ([] if kappa_high is None else [kappa_high]):
        per = float(((probs(kappa0) - probs(k1)) ** 2 / probs(k1)).sum())
        # smallest integer n with n·per − 0.001 ≥ crit (kappaSize's stopping rule)
        need = max(need, int(math.ceil((crit + 0.001) / per - 1e-12)))
    return need


def _stack_coefficient(tabs: np.ndarray, w: np.ndarray, measure: str) -> np.ndarray:
    """Kappa or AC1/AC2 point estimates for a stack of q x q tables (..., q, q); NaN where undefined."""
    n = tabs.sum((-2, -1))
    with np.errstate(invalid="ignore", divide="ignore"):
        p = tabs / n[..., None, None]
        pr, pc = p.sum(-1), p.sum(-2)
        po = (w * p).sum((-2, -1))
        if measure == "kappa":
            pe = np.einsum("...i,ij,...j->...", pr, w, pc)
        else:
            q = w.shape[0]
            pi = (pr + pc) / 2
            pe = w.sum() * (pi * (1 - pi)).sum(-1) / (q * (q - 1))
        out = (po - pe) / (1 - pe)
    return np.where(1 - pe < _EPS, np.nan, out)


def bootstrap_agreement(auditor: Any, moderator: Any, *, categories: Sequence, measure: str = "ac1",
                        weights: Any = None, clusters: Any = None, n_boot: int = 4000, seed: int = 20240401,
                        level: float = 0.95) -> Estimate:
    """Cluster-bootstrap BCa interval for kappa or AC1/AC2, resampling case files (clusters).

    Parameters
    ----------
    auditor, moderator : array-like
        Paired grades (labels from ``categories``; missing pairs are left out).
    categories : sequence
        The declared scale.
    measure : {"ac1", "kappa"}, optional
        ``"ac1"`` (AC2 with ``weights``) or Cohen's ``"kappa"`` (weighted with ``weights``).
    weights : optional
        Agreement weights as :func:`agreement_weights`.
    clusters : array-like, optional
        Case file of each pair (e.g. the audit id when several domains of one audit are
        pooled): whole case files are resampled. Default: each pair is its own case file.
    n_boot, seed : int, optional
        Replicates and seed of ``numpy.random.default_rng``.
    level : float, optional
        Confidence level.

    Returns
    -------
    Estimate
        ``estimate`` (the table estimate), ``se`` (SD of the replicates), BCa ``ci_low`` /
        ``ci_high``; ``extra``: ``z0`` (bias correction), ``acceleration`` (jackknife over
        case files), ``n_clusters``, ``percentile_ci``.

    Notes
    -----
    BCa (Efron 1987): z0 = Φ⁻¹(share of replicates below the estimate), a = Σ(θ̄ − θ₍ᵢ₎)³ /
    [6 (Σ(θ̄ − θ₍ᵢ₎)²)^{3/2}] from leave-one-case-file-out estimates; limits at the
    Φ(z0 + (z0 + z_α)/(1 − a(z0 + z_α))) quantiles. Each replicate is a multinomial count
    vector over case files times their q²-cell contributions, so replicates cost one matrix
    product. When every replicate equals the estimate (e.g. perfect agreement) the
    interval is that point, and the note says so: with few case files, true agreement may
    still be lower.

    References
    ----------
    Efron B (1987) J Am Stat Assoc 82:171–185. Davison AC, Hinkley DV (1997) Bootstrap Methods, §5.3.
    Field CA, Welsh AH (2007) J R Stat Soc B 69:369–390 (cluster bootstrap).
    """
    if measure not in ("ac1", "kappa"):
        raise problem(StatisticsError, "measure", expected="'ac1' or 'kappa'", received=repr(measure))
    cats = _check_categories(categories, "bootstrap_agreement categories")
    q = len(cats)
    a = encode(auditor, cats, where="auditor grades")
    b = encode(moderator, cats, where="moderator grades")
    if a.shape != b.shape:
        raise problem(StatisticsError, "bootstrap_agreement", expected="paired grades of the same length",
                      received=f"{a.size} and {b.size}")
    cl = np.arange(a.size) if clusters is None else pd.factorize(np.asarray(clusters, dtype=object).ravel())[0]
    ok = (a >= 0) & (b >= 0)
    a, b, cl = a[ok], b[ok], pd.factorize(cl[ok])[0]
    C = int(cl.max()) + 1 if cl.size else 0
    w = agreement_weights(q, weights)
    wname = _weights_name(weights)
    name = ("AC1" if wname == "unweighted" else f"AC2_{wname}") if measure == "ac1" else \
        ("kappa" if wname == "unweighted" else f"kappa_{wname}")
    ci = _CI("normal", level)
    method = (f"{name}; cluster bootstrap over {C} case files ({n_boot} replicates, seed {seed}), BCa "
              f"{100 * ci.level:g}% CI (Efron 1987; jackknife acceleration over case files)")
    if C < 2:
        return Estimate(math.nan, n=C, method=method, measure=name, note="undefined: fewer than 2 case files")
    contrib = np.zeros((C, q * q))
    np.add.at(contrib, (cl, a * q + b), 1.0)
    total = contrib.sum(0)
    est = float(_stack_coefficient(total.reshape(q, q), w, measure))
    rng = np.random.default_rng(seed)
    k = rng.multinomial(C, np.full(C, 1.0 / C), size=n_boot).astype(float)
    boot = _stack_coefficient((k @ contrib).reshape(n_boot, q, q), w, measure)
    good = np.isfinite(boot)
    boot = boot[good]
    extra: dict[str, Any] = {"n_clusters": C, "n_boot": n_boot, "seed": seed, "n_boot_undefined": int((~good).sum())}
    if not math.isfinite(est) or boot.size < 2:
        return Estimate(est, n=C, method=method, measure=name, extra=extra,
                        note="undefined: the coefficient is 0/0 in the data or in almost every replicate")
    se = float(np.std(boot, ddof=1))
    if np.all(boot == est):
        return Estimate(est, se=0.0, ci_low=est, ci_high=est, n=C, method=method, measure=name, extra=extra,
                        level=ci.level, note="every replicate equals the estimate (e.g. every case file agrees): "
                        "the interval is a point; with few case files true agreement may still be lower")
    below = float(np.mean(boot < est)) + 0.5 * float(np.mean(boot == est))
    z0 = float(stats.norm.ppf(min(max(below, 1e-12), 1 - 1e-12)))
    jack = _stack_coefficient((total[None, :] - contrib).reshape(C, q, q), w, measure)
    jack = jack[np.isfinite(jack)]
    d = jack.mean() - jack
    den = 6.0 * (d ** 2).sum() ** 1.5
    acc = float((d ** 3).sum() / den) if den > 0 else 0.0
    zq = stats.norm.ppf([ci.tail, 1 - ci.tail])
    probs = stats.norm.cdf(z0 + (z0 + zq) / (1 - acc * (z0 + zq)))
    lo, hi = (float(x) for x in np.quantile(boot, probs))
    extra.update(z0=z0, acceleration=acc,
                 percentile_ci=tuple(float(x) for x in np.quantile(boot, [ci.tail, 1 - ci.tail])))
    return Estimate(est, se=se, ci_low=lo, ci_high=hi, n=C, method=method, measure=name, extra=extra,
                    level=ci.level, note=_tiny_note(C))


#: Exact symmetry tests enumerate every split when there are at most this many; beyond, Monte Carlo.
EXACT_MAX_SPLITS = 200_000


def symmetry_exact(table: Any, *, categories: Sequence | None = None, n_mc: int = 100_000,
                   seed: int = 20240401) -> dict:
    """Exact conditional (permutation) Bowker and Stuart–Maxwell p-values for small tables.

    Parameters
    ----------
    table : pandas.DataFrame or 2-D array
        Square count table (rows = auditor, columns = moderator), declared as for
        :func:`bowker_symmetry`.
    categories : sequence, optional
        The declared scale (required for an unlabelled table).
    n_mc : int, optional
        Monte Carlo draws when the exact enumeration would exceed :data:`EXACT_MAX_SPLITS`.
    seed : int, optional
        Seed for the Monte Carlo draws.

    Returns
    -------
    dict
        ``bowker``, ``bowker_pvalue_exact``, ``stuart_maxwell``, ``stuart_maxwell_pvalue_exact``,
        ``method`` ("exact enumeration" or "Monte Carlo, n draws") and ``n_splits``.

    Notes
    -----
    Under the null, swapping the auditor's and moderator's grades within a case file changes
    nothing (the permutation argument of coin's ``symmetry_test``/``mh_test``): given
    s_ij = n_ij + n_ji, the count n_ij is Binomial(s_ij, ½), independently over the pairs.
    Both statistics are computed on every split (the Stuart–Maxwell S matrix depends only
    on s_ij, so it is fixed); p = P(statistic ≥ observed). For a 2 x 2 table the Bowker p is
    the exact McNemar (binomial) p, and both p-values equal coin's ``mh_test(...,
    distribution = "exact")`` (tests/stats/test_symmetry_coin.py). coin computes exact p-values
    only for that univariate case; for q > 2 it offers Monte Carlo over this same reference set,
    which the enumeration here gives exactly. The p is the ordinary one (not coin's mid-p).

    References
    ----------
    Hothorn T, Hornik K, van de Wiel MA, Zeileis A (2006) Am Stat 60:257–263 (coin).
    Agresti A (2013) Categorical Data Analysis, 3rd ed., §11.
    """
    t, labels = _as_table(table, "symmetry_exact table", categories)
    q = t.shape[0]
    iu = np.triu_indices(q, 1)
    up, lo = t[iu].astype(np.int64), t.T[iu].astype(np.int64)
    s = up + lo
    keep = s > 0
    out: dict[str, Any] = {"bowker": math.nan, "bowker_pvalue_exact": math.nan, "stuart_maxwell": math.nan,
                           "stuart_maxwell_pvalue_exact": math.nan, "method": "", "n_splits": 0}
    if not keep.any():
        out["method"] = "undefined: no disagreements"
        return out
    ii, jj = iu[0][keep], iu[1][keep]
    sk, obs_up = s[keep], up[keep]
    total = float(np.prod((sk + 1).astype(float)))
    if total <= EXACT_MAX_SPLITS:
        grids = np.meshgrid(*[np.arange(v + 1) for v in sk], indexing="ij")
        x = np.stack([g.ravel() for g in grids], axis=1).astype(float)
        prob = np.prod([stats.binom.pmf(x[:, k], sk[k], 0.5) for k in range(len(sk))], axis=0)
        out["method"], out["n_splits"] = "exact enumeration of every split", int(total)
    else:
        rng = np.random.default_rng(seed)
        x = rng.binomial(sk[None, :], 0.5, size=(n_mc, len(sk))).astype(float)
        prob = np.full(n_mc, 1.0 / n_mc)
        out["method"], out["n_splits"] = f"Monte Carlo, {n_mc} draws (seed {seed})", n_mc
    diff = 2 * x - sk[None, :]                      # n_ij − n_ji on each split
    bow = (diff ** 2 / sk[None, :]).sum(1)
    obs_b = float(((2 * obs_up - sk) ** 2 / sk).sum())
    # Stuart–Maxwell: d_i = Σ_j (n_ij − n_ji); S fixed by the s_ij; use the connected categories
    D = np.zeros((x.shape[0], q))
    np.add.at(D.T, ii, diff.T)
    np.add.at(D.T, jj, -diff.T)
    off = np.zeros((q, q))
    off[ii, jj] = sk
    off[jj, ii] = sk
    sm_obs = stuart_maxwell(t, categories=labels)
    used = [k for k in range(q) if off[k].sum() > 0]
    if len(used) >= 2 and math.isfinite(sm_obs.statistic):
        idx = np.array(used[:-1])
        S = -off[np.ix_(idx, idx)]
        S[np.diag_indices_from(S)] = off[idx].sum(1)
        Sinv = np.linalg.pinv(S)
        sm = np.einsum("ki,ij,kj->k", D[:, idx], Sinv, D[:, idx])
        out["stuart_maxwell"] = sm_obs.statistic
        out["stuart_maxwell_pvalue_exact"] = float(min(1.0, prob[sm >= sm_obs.statistic - 1e-9].sum()))
    out["bowker"] = obs_b
    out["bowker_pvalue_exact"] = float(min(1.0, prob[bow >= obs_b - 1e-9].sum()))
    return out


def mcnemar_sample_size(p_down: float, p_up: float, *, alpha: float = 0.05, power: float = 0.8) -> int:
    """Moderated audits needed for McNemar's test to detect a drift (downgrades ≠ upgrades).

    Parameters
    ----------
    p_down, p_up : float
        Expected shares of moderated audits the moderator grades lower / higher.
    alpha, power : float, optional
        Two-sided level and power (defaults 0.05 and 0.8).

    Returns
    -------
    int
        n = ⌈[z_{1−α/2}√ψ + z_{power}√(ψ − δ²)]² / δ²⌉ with ψ = p_down + p_up, δ = p_down − p_up
        (Connor 1987, the unconditional approximation also used by R ``MESS::power_mcnemar_test``).

    References
    ----------
    Connor RJ (1987) Biometrics 43:207–211.
    """
    psi, delta = p_down + p_up, p_down - p_up
    if not (0 < psi <= 1 and delta != 0 and 0 < alpha < 1 and 0 < power < 1):
        raise problem(StatisticsError, "mcnemar_sample_size", expected="0 < p_down + p_up ≤ 1, p_down ≠ p_up",
                      received=f"p_down={p_down}, p_up={p_up}")
    za, zb = stats.norm.isf(alpha / 2), stats.norm.ppf(power)
    return int(math.ceil((za * math.sqrt(psi) + zb * math.sqrt(psi - delta ** 2)) ** 2 / delta ** 2 - 1e-9))


def stuart_maxwell_sample_size(table_shares: Any, *, categories: Sequence, alpha: float = 0.05,
                               power: float = 0.8, max_n: int = 100_000) -> int:
    """Moderated audits needed for the Stuart–Maxwell test to detect an expected pattern of drift.

    Parameters
    ----------
    table_shares : 2-D array or DataFrame
        Expected auditor x moderator cell shares (summing to 1) under the drift to detect.
    categories : sequence
        The declared scale.
    alpha, power : float, optional
        Level and power.
    max_n : int, optional
        Search limit.

    Returns
    -------
    int
        The smallest n with P(χ²_df(λ) > χ²_df,1−α) ≥ power, λ = n·d′S⁻¹d computed from the
        shares (the noncentral chi-squared approximation of the Wald statistic; Lachin 1992),
        df = q − 1 over the categories with disagreements; ``-1`` if not reached by ``max_n``.

    References
    ----------
    Lachin JM (1992) Stat Med 11:1239–1251.
    """
    shares, _ = _as_table(table_shares, "stuart_maxwell_sample_size shares", categories)
    shares = shares / shares.sum()
    one = stuart_maxwell(shares * 1e6, categories=list(categories))
    if not math.isfinite(one.statistic):
        return -1
    lam1, df = one.statistic / 1e6, int(one.df)
    crit = stats.chi2.isf(alpha, df)
    lo, hi = 1, max_n
    if stats.ncx2.sf(crit, df, hi * lam1) < power:
        return -1
    while lo < hi:
        mid = (lo + hi) // 2
        if stats.ncx2.sf(crit, df, mid * lam1) >= power:
            hi = mid
        else:
            lo = mid + 1
    return lo

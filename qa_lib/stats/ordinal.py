"""Ordinal (proportional-odds) models of grades: statsmodels ``OrderedModel`` with explicit categories.

The grade is an ordered outcome on the declared scale (best first, so a *higher* latent value
means a *worse* grade). :func:`ordinal_logit` fits P(Y ≤ k | x) = F(τ_k − x′β) (the MASS::polr
parameterisation, logit link); :func:`group_shift` adds a group effect (e.g. one per auditor)
with sum-to-zero coding, so each group's shift is against the average group, and tests whether
there is any group effect with a likelihood-ratio test.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np
import pandas as pd
from scipy import stats
from statsmodels.miscmodels.ordinal_model import OrderedModel
from statsmodels.tools.sm_exceptions import ConvergenceWarning, HessianInversionWarning

from qa_lib.core.errors import StatisticsError, problem
from qa_lib.stats.results import TestResult

__all__ = ["OrdinalFit", "ordinal_logit", "group_shift"]


@dataclass(frozen=True)
class OrdinalFit:
    """A fitted proportional-odds model.

    Attributes
    ----------
    coefficients : pandas.DataFrame
        Index = covariate, columns ``estimate``, ``se``, ``ci_low``, ``ci_high``, ``z``, ``p_value``
        (Wald, normal, as MASS::polr's summary).
    thresholds : tuple of float
        τ_1 < … < τ_{q−1} on the latent scale (between consecutive categories used).
    llf : float
        Maximised log-likelihood.
    n : int
        Observations fitted.
    converged : bool
    method, note : str
    """

    coefficients: pd.DataFrame
    thresholds: tuple[float, ...]
    llf: float
    n: int
    converged: bool
    method: str = ""
    note: str = ""
    cov: pd.DataFrame = field(default_factory=pd.DataFrame, repr=False)

    __test__ = False

    def to_frame(self) -> pd.DataFrame:
        """Coefficients, then one row per threshold (``estimate`` only), for display."""
        th = pd.DataFrame({"estimate": list(self.thresholds)},
                          index=pd.Index([f"threshold {k + 1}" for k in range(len(self.thresholds))], name="covariate"))
        return pd.concat([self.coefficients, th])


def _codes(y: Any, categories: Sequence) -> np.ndarray:
    cats = [str(c) for c in categories]
    if len(cats) < 2 or len(set(cats)) != len(cats):
        raise problem(StatisticsError, "categories", expected="at least two distinct categories in scale order",
                      received=repr(list(categories)))
    values = pd.Series(np.asarray(y, dtype=object).ravel())
    bad = sorted({str(v) for v in values.dropna() if str(v) not in cats})
    if bad:
        raise problem(StatisticsError, "ordinal outcome", expected=f"grades from the scale {cats}",
                      received=f"{bad}", fix="map the grades to the declared scale first")
    pos = {c: k for k, c in enumerate(cats)}
    return np.array([pos[str(v)] if not pd.isna(v) else -1 for v in values], dtype=int)


def _fit(codes: np.ndarray, exog: pd.DataFrame) -> tuple[Any, list[str], bool]:
    """OrderedModel on the categories actually used (an unused grade has no threshold to estimate)."""
    used = np.unique(codes)
    y = pd.Series(pd.Categorical(codes, categories=list(used), ordered=True))
    model = OrderedModel(y, exog.reset_index(drop=True).astype(float), distr="logit")
    notes = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = model.fit(method="bfgs", disp=False, maxiter=5000, gtol=1e-7)
    converged = bool(res.mle_retvals.get("converged", True)) and bool(np.isfinite(res.llf))
    if any(issubclass(w.category, (ConvergenceWarning, HessianInversionWarning, RuntimeWarning)) for w in caught) \
            or not converged:
        notes.append("the fit did not converge cleanly (few observations or a group with one outcome only): "
                     "treat the estimates as unreliable")
    return res, notes, converged


def ordinal_logit(y: Any, exog: pd.DataFrame, *, categories: Sequence, level: float = 0.95) -> OrdinalFit:
    """Proportional-odds logistic regression of an ordinal grade on covariates (no intercept).

    Parameters
    ----------
    y : array-like
        Grades from ``categories`` (missing rows are left out).
    exog : pandas.DataFrame
        Numeric covariates, one row per grade; no constant column (the thresholds play its part).
    categories : sequence
        The declared scale in order (first = lowest latent value).
    level : float, optional
        Confidence level of the Wald intervals.

    Returns
    -------
    OrdinalFit

    Notes
    -----
    statsmodels ``OrderedModel`` (logit), BFGS; SEs from the inverse Hessian, as R
    ``MASS::polr(..., Hess = TRUE)``. Categories never used are left out of the fit (no
    threshold for them); the note says so.

    References
    ----------
    McCullagh P (1980) J R Stat Soc B 42:109–142. Venables WN, Ripley BD (2002) Modern Applied
    Statistics with S, 4th ed., §7.3 (``polr``).
    """
    codes = _codes(y, categories)
    if not isinstance(exog, pd.DataFrame):
        raise problem(StatisticsError, "exog", expected="a DataFrame of named numeric covariates",
                      received=type(exog).__name__)
    if len(exog) != len(codes):
        raise problem(StatisticsError, "exog", expected=f"{len(codes)} rows (one per grade)", received=f"{len(exog)}")
    ok = codes >= 0
    codes, x = codes[ok], exog.loc[ok].reset_index(drop=True)
    method = f"proportional-odds logit (statsmodels OrderedModel, as MASS::polr), Wald {100 * level:g}% CIs"
    if np.unique(codes).size < 2:
        raise problem(StatisticsError, "ordinal outcome", expected="at least two different grades",
                      received="one grade only", fix="there is nothing to model")
    res, notes, converged = _fit(codes, x)
    unused = [str(c) for k, c in enumerate(categories) if k not in set(codes.tolist())]
    if unused:
        notes.append(f"grade(s) never used, left out of the fit: {', '.join(unused)}")
    names = list(x.columns)
    k = len(names)
    beta = np.asarray(res.params)[:k]
    try:
        cov = np.asarray(res.cov_params(), dtype=float)
    except (ValueError, np.linalg.LinAlgError):  # singular Hessian: a covariate separates the grades
        cov = np.full((len(res.params), len(res.params)), np.nan)
    if not np.isfinite(np.diag(cov)[:k]).all():
        notes.append("the standard errors cannot be estimated (a covariate or group predicts the grade perfectly)")
    se = np.sqrt(np.clip(np.diag(cov)[:k], 0, None))
    zc = float(stats.norm.isf((1 - level) / 2))
    with np.errstate(divide="ignore", invalid="ignore"):
        z = beta / se
    table = pd.DataFrame({"estimate": beta, "se": se, "ci_low": beta - zc * se, "ci_high": beta + zc * se,
                          "z": z, "p_value": 2 * stats.norm.sf(np.abs(z))}, index=pd.Index(names, name="covariate"))
    thresholds = tuple(float(t) for t in res.model.transform_threshold_params(np.asarray(res.params))[1:-1])
    return OrdinalFit(table, thresholds, float(res.llf), int(codes.size), converged, method, "; ".join(notes),
                      cov=pd.DataFrame(cov[:k, :k], index=names, columns=names))


def group_shift(y: Any, covariates: pd.DataFrame | None, groups: Any, *, categories: Sequence,
                level: float = 0.95) -> tuple[pd.DataFrame, TestResult]:
    """Each group's shift on the latent scale (against the average group) and an LR test of any group effect.

    Parameters
    ----------
    y : array-like
        Grades from ``categories``.
    covariates : pandas.DataFrame or None
        Covariates in both models (e.g. indicator columns of the auditor's own grade).
    groups : array-like
        Group of each row (e.g. auditor pseudonym); at least two groups.
    categories : sequence
        The declared scale in order.
    level : float, optional
        Confidence level of the shifts' Wald intervals.

    Returns
    -------
    (pandas.DataFrame, TestResult)
        Index = group (sorted); columns ``n``, ``shift``, ``se``, ``ci_low``, ``ci_high``, ``z``,
        ``p_value``. Sum-to-zero (deviation) coding: the shifts add up to 0 and the last group's
        shift is minus the sum of the others, its SE √(1′V1). Positive = a higher latent value
        (a later, i.e. worse, grade on a best-first scale). The TestResult is the likelihood-ratio
        test of the model with groups against the one without: statistic 2(ℓ₁ − ℓ₀), df = groups − 1,
        χ² p.

    References
    ----------
    Agresti A (2010) Analysis of Ordinal Categorical Data, 2nd ed., §3.4 (LR tests of nested
    cumulative logit models).
    """
    codes = _codes(y, categories)
    g = pd.Series(np.asarray(groups, dtype=object).ravel()).astype(str)
    if len(g) != len(codes):
        raise problem(StatisticsError, "groups", expected=f"{len(codes)} values (one per grade)", received=f"{len(g)}")
    base = (covariates.reset_index(drop=True).astype(float) if covariates is not None
            else pd.DataFrame(index=range(len(codes))))
    ok = pd.Series(codes >= 0)
    levels = sorted(g[ok].unique())
    if len(levels) < 2:
        raise problem(StatisticsError, "groups", expected="at least two groups", received=f"{len(levels)}")
    dev = pd.DataFrame({f"group[{lv}]": (g == lv).astype(float) - (g == levels[-1]).astype(float)
                        for lv in levels[:-1]})
    y_ok = np.asarray(y, dtype=object).ravel()
    full = ordinal_logit(y_ok, pd.concat([base, dev], axis=1), categories=categories, level=level)
    if base.shape[1]:
        null_llf = ordinal_logit(y_ok, base, categories=categories, level=level).llf
    else:  # thresholds only: the maximum is the multinomial log-likelihood of the margins
        c = np.bincount(codes[codes >= 0])
        c = c[c > 0]
        null_llf = float((c * np.log(c / c.sum())).sum())
    names = list(dev.columns)
    b = full.coefficients.loc[names, "estimate"].to_numpy()
    v = full.cov.loc[names, names].to_numpy()
    shift = np.append(b, -b.sum())
    se = np.sqrt(np.append(np.diag(v), v.sum()))
    zc = float(stats.norm.isf((1 - level) / 2))
    with np.errstate(divide="ignore", invalid="ignore"):
        z = shift / se
    n = g[ok].value_counts().reindex(levels).to_numpy()
    out = pd.DataFrame({"n": n.astype("int64"), "shift": shift, "se": se, "ci_low": shift - zc * se,
                        "ci_high": shift + zc * se, "z": z, "p_value": 2 * stats.norm.sf(np.abs(z))},
                       index=pd.Index(levels, name="group"))
    # quasi-complete separation: a group whose grades all sit in the lowest (or highest) grade used has no
    # finite effect; the optimiser stops somewhere large, so no shift of this fit is meaningful
    used = codes[codes >= 0]
    lo_c, hi_c = used.min(), used.max()
    cg = pd.Series(codes)[ok.to_numpy()]
    gg = g[ok.to_numpy()]
    extreme = [lv for lv in levels if (cg[gg == lv] == lo_c).all() or (cg[gg == lv] == hi_c).all()]
    notes = [full.note] if full.note else []
    if extreme:
        notes.append(f"{len(extreme)} group(s) have every grade at one end of the scale (named in extra['separated']), "
                     "so their effect is not finite and no shift can be estimated; the likelihood-ratio test still holds")
        out.loc[:, ["shift", "se", "ci_low", "ci_high", "z", "p_value"]] = np.nan
    lr = max(0.0, 2 * (full.llf - null_llf))
    df = len(levels) - 1
    test = TestResult(float(lr), float(stats.chi2.sf(lr, df)), df=df, n=full.n,
                      method="likelihood-ratio test of any group effect in a proportional-odds logit "
                             "(statsmodels OrderedModel), χ² with groups − 1 df",
                      note="; ".join(notes), extra={"llf_full": full.llf, "llf_null": null_llf,
                                                    "converged": full.converged, "separated": extreme})
    if not math.isfinite(lr):
        test = TestResult(math.nan, math.nan, df=df, n=full.n, method=test.method, note="undefined: the fit failed")
    return out, test

"""Returns against target and practitioner participation, with intervals and a trend test.

Builds on :func:`qa_lib.sections.tables.returns_by` and :func:`qa_lib.sections.tables.participation` (counts) and
adds what a reader needs to judge them: the return rate's Wilson 95% interval against the target,
the month-by-month table as QA highlight reports publish it, the service areas where every
practitioner took part, and whether the return rate is rising or falling over the shown periods
(Cochran–Armitage, with the per-period slope and its interval).

Conventions (as :mod:`qa_lib.sections.tables`): return rate = returned ÷ (allocated − exempt);
participation rate = took part ÷ returned audits with a yes/no recorded.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy import stats

from qa_lib.core import fmt
from qa_lib.sections import tables
from qa_lib.stats import trend
from qa_lib.inputs.data import Dataset
from qa_lib.stats.results import Estimate, TestResult


def _wilson(x: np.ndarray, n: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    x = np.asarray(x, dtype=float)
    n = np.asarray(n, dtype=float)
    lo, hi = trend.proportion_ci(x, n)
    return np.atleast_1d(lo), np.atleast_1d(hi)


def monthly(ds: Dataset, *, periods: list[str] | None = None) -> pd.DataFrame:
    """Month-by-month returns and participation, the layout QA highlight reports publish.

    Parameters
    ----------
    periods : list of str, optional
        Period labels to include (default: the report period).

    Returns
    -------
    DataFrame
        Indexed by ``month_label`` (oldest first) with a ``Total`` row: ``allocated``,
        ``returned``, ``exempt``, ``return_rate`` (returned ÷ (allocated − exempt)), ``ci_low``,
        ``ci_high`` (Wilson 95%), ``took_part``, ``recorded``, ``participation_rate``.
    """
    periods = periods or [ds.period.label]
    a = ds.allocations[ds.allocations["period"].isin(periods)]
    cols = ["allocated", "returned", "exempt", "return_rate", "ci_low", "ci_high", "took_part", "recorded",
            "participation_rate"]
    if a.empty:
        return pd.DataFrame(columns=cols)
    ret = a["status"] == "returned"
    known = ret & a["practitioner_took_part"].notna()
    took = ret & a["practitioner_took_part"].fillna(False).astype(bool)
    g = pd.DataFrame({"month_label": a["month_label"], "allocated": 1, "returned": ret.astype(int),
                      "exempt": (a["status"] == "exempt").astype(int), "took_part": took.astype(int),
                      "recorded": known.astype(int)}).groupby("month_label", sort=True).sum()
    g.loc[tables.TOTAL] = g.sum()
    g = g.astype("int64")
    due = g["allocated"] - g["exempt"]
    g["return_rate"] = (g["returned"] / due).where(due > 0)
    g["ci_low"], g["ci_high"] = _wilson(g["returned"], due)
    g["participation_rate"] = (g["took_part"] / g["recorded"]).where(g["recorded"] > 0)
    return g[cols]


def return_rate(ds: Dataset) -> Estimate:
    """The report period's return rate with its Wilson 95% interval; ``extra`` has the target verdict.

    ``extra``: ``returned``, ``due``, ``target``, ``position`` — ``"above target"`` (whole interval
    above), ``"below target"`` (whole interval below) or ``"consistent with target"``.
    """
    a = ds.allocations[ds.allocations["period"] == ds.period.label]
    returned = int((a["status"] == "returned").sum())
    due = int((a["status"] != "exempt").sum())
    target = float(ds.params.return_target)
    if due == 0:
        return Estimate(math.nan, n=0, method="Wilson 95% score interval", measure="return rate",
                        note="No audits were due this period.", extra={"returned": 0, "due": 0, "target": target,
                                                                       "position": "no audits due"})
    lo, hi = trend.proportion_ci(returned, due)
    position = "above target" if lo > target else "below target" if hi < target else "consistent with target"
    return Estimate(returned / due, ci_low=float(lo), ci_high=float(hi), n=due, method="Wilson 95% score interval",
                    measure="return rate", extra={"returned": returned, "due": due, "target": target,
                                                  "position": position})


def by_period(ds: Dataset) -> pd.DataFrame:
    """Return rate in each shown period (oldest first) with Wilson intervals: the trend's data."""
    periods = tables.periods_shown(ds)
    a = ds.allocations[ds.allocations["period"].isin(periods)]
    returned = a[a["status"] == "returned"].groupby("period").size().reindex(periods, fill_value=0)
    due = a[a["status"] != "exempt"].groupby("period").size().reindex(periods, fill_value=0)
    out = pd.DataFrame({"returned": returned, "due": due}).astype("int64")
    out.index.name = "period"
    out["return_rate"] = (out["returned"] / out["due"]).where(out["due"] > 0)
    out["ci_low"], out["ci_high"] = _wilson(out["returned"], out["due"])
    return out


def trend_slope(events, totals, scores=None, *, level: float = 0.95) -> tuple[float, float, float]:
    """Least-squares slope of the proportion on the period score, with the interval matching Cochran–Armitage.

    b = Σxᵢ(sᵢ−s̄) / Σnᵢ(sᵢ−s̄)², SE = √(p̄(1−p̄) / Σnᵢ(sᵢ−s̄)²) (the null variance used by
    R ``prop.trend.test``, so that (b/SE)² equals its X²); interval b ± z·SE. ``b`` is the change
    in the proportion per period (0.02 = two percentage points a period).
    """
    x = np.asarray(events, dtype=float)
    n = np.asarray(totals, dtype=float)
    s = np.arange(1, len(x) + 1, dtype=float) if scores is None else np.asarray(scores, dtype=float)
    N = n.sum()
    pbar = x.sum() / N
    sbar = (n * s).sum() / N
    ssq = (n * (s - sbar) ** 2).sum()
    if ssq == 0 or pbar in (0.0, 1.0):
        return (math.nan, math.nan, math.nan)
    b = (x * (s - sbar)).sum() / ssq
    se = math.sqrt(pbar * (1 - pbar) / ssq)
    z = float(stats.norm.ppf(1 - (1 - level) / 2))
    return (float(b), float(b - z * se), float(b + z * se))


def return_trend(ds: Dataset) -> TestResult:
    """Cochran–Armitage test of a trend in the return rate over the shown periods (empty periods dropped).

    ``extra`` adds ``slope``, ``slope_ci_low``, ``slope_ci_high`` (change in the rate per period,
    :func:`trend_slope`), ``periods`` and ``change`` (the plain word at p < 0.05).
    """
    bp = by_period(ds)
    bp = bp[bp["due"] > 0]
    if len(bp) < 2:
        return TestResult(math.nan, math.nan, note="Fewer than two periods with audits due: no trend can be tested.",
                          extra={"periods": bp.index.tolist(), "slope": math.nan, "slope_ci_low": math.nan,
                                 "slope_ci_high": math.nan, "change": "No clear change"})
    res = trend.cochran_armitage(bp["returned"].to_numpy(), bp["due"].to_numpy())
    b, lo, hi = trend_slope(bp["returned"].to_numpy(), bp["due"].to_numpy())
    change = trend.classify_change(res, res.extra.get("z", 0.0))
    return TestResult(res.statistic, res.pvalue, df=res.df, n=res.n, method=res.method, note=res.note,
                      extra={**res.extra, "periods": bp.index.tolist(), "slope": b, "slope_ci_low": lo,
                             "slope_ci_high": hi, "change": str(change)})


def full_participation(ds: Dataset) -> list[str]:
    """Service areas where every returned audit with participation recorded had the practitioner take part."""
    p = tables.participation(ds)
    p = p.drop(index=tables.TOTAL, errors="ignore")
    return [str(s) for s, r in p.iterrows() if r["recorded"] > 0 and r["took_part"] == r["recorded"]]


def _pp(x: float) -> str:
    return fmt.points(x, 1)


def summary(ds: Dataset) -> str:
    """Plain-English paragraph: return rate vs target with its interval, participation, 100% areas, trend."""
    est = return_rate(ds)
    parts = []
    if est.n == 0:
        parts.append(f"No allocated audits were due in {ds.period.label}.")
    else:
        e = est.extra
        parts.append(f"In {ds.period.label}, {trend.describe_proportion(e['returned'], e['due'])} of the audits due "
                     f"were returned, against a target of {fmt.pct(e['target'])}: "
                     + {"above target": "the whole likely range is above the target.",
                        "below target": "the whole likely range is below the target, so the shortfall is not chance.",
                        "consistent with target": "the likely range includes the target, so these numbers cannot "
                                                  "say whether it was met."}[e["position"]])
    p = tables.participation(ds)
    if len(p) and tables.TOTAL in p.index and p.loc[tables.TOTAL, "recorded"] > 0:
        t = p.loc[tables.TOTAL]
        parts.append(f"Practitioners took part in {trend.describe_proportion(int(t['took_part']), int(t['recorded']))} "
                     "of the returned audits where participation was recorded.")
    full = full_participation(ds)
    if full:
        names = full[0] if len(full) == 1 else ", ".join(full[:-1]) + " and " + full[-1]
        parts.append(f"Every practitioner took part in {names} (100%).")
    elif len(p) > 1:
        areas = p.drop(index=tables.TOTAL, errors="ignore").dropna(subset=["participation_rate"])
        if len(areas):
            best = areas["participation_rate"].idxmax()
            # issue 14: a published report quotes no "x of n" here (27 of 28 gives a hidden complement away)
            figures = ("" if ds.params.audience == "published" else
                       f" ({int(areas.loc[best, 'took_part'])} of {int(areas.loc[best, 'recorded'])})")
            parts.append(f"No service area reached 100% participation this period; the highest was {best}{figures}.")
    tr = return_trend(ds)
    if math.isfinite(tr.pvalue):
        periods = tr.extra["periods"]
        rate = (f"the return rate changed by {_pp(tr.extra['slope'])} percentage points a period (95% CI "
                f"{_pp(tr.extra['slope_ci_low'])} to {_pp(tr.extra['slope_ci_high'])})")
        verdict = ("a trend unlikely to be chance" if tr.pvalue < 0.05 else "which is not distinguishable from no trend")
        parts.append(f"From {periods[0]} to {periods[-1]} {rate}, {verdict} (Cochran–Armitage p = {tr.pvalue:.2g}).")
    return "\n\n".join(parts)

"""Statistical process control as NHS England's "Making Data Count" (MDC) does it.

The rules as coded in NHSRplotthedots 0.2.2: limits mean ± 2.66·MR̄ (moving ranges ≥ 3.267·MR̄
screened once), four rules with precedence outside limits > 7-point trend > 2 of 3 near a limit >
7-point shift; p-charts (and Laney p′) for proportions with denominators, XmR otherwise.
:func:`spc` returns the point-level frame, :func:`spc_summary` the variation and assurance reading.
"""


from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Iterable, Sequence

import numpy as np
import pandas as pd

from qa_lib.core.errors import StatisticsError, problem
from qa_lib.stats.proportions import _counts
from qa_lib.stats.verdicts import improvement_sign as _improvement_sign

__all__ = ["spc", "spc_summary", "SPCSummary", "assurance", "trend_points", "shift_points", "two_in_three_points",
           "XMR_LIMIT", "XMR_NEAR_LIMIT", "MR_SCREEN", "TRIAL_LIMIT_POINTS"]

# --------------------------------------------------------------------------------------
# constants (NHSRplotthedots 0.2.2, R/ptd_spc_standard.R)
# --------------------------------------------------------------------------------------
XMR_LIMIT = 2.66  #: 3 / d2 with d2 = 1.128, as MDC rounds it
XMR_NEAR_LIMIT = 2 * (XMR_LIMIT / 3)  #: the "2 sigma" band edge, 1.7733
MR_SCREEN = 3.267  #: moving ranges >= 3.267 * MR-bar are screened out once (Nelson 1982)
D2 = 1.128  #: bias constant of the moving range of 2 (Laney p' uses it unrounded)
TRIAL_LIMIT_POINTS = 13  #: limits resting on fewer points than this are "trial limits"
RUN_LENGTH = 7  #: points in an MDC trend or shift


def _trend_ends(y: np.ndarray) -> np.ndarray:
    """ptd_seven_point_trend: +1/−1 at the 7th point of 6 strict rises/falls, else 0."""
    n = len(y)
    out = np.zeros(n, dtype=int)
    if n < RUN_LENGTH:
        return out
    d = np.sign(np.diff(y))
    for i in range(RUN_LENGTH - 1, n):
        w = d[i - (RUN_LENGTH - 1):i]
        if (w == 1).all():
            out[i] = 1
        elif (w == -1).all():
            out[i] = -1
    return out


def _shift_ends(side: np.ndarray) -> np.ndarray:
    """ptd_seven_point_one_side_mean: 1 at the 7th (and later) point of a run on one side."""
    n = len(side)
    out = np.zeros(n, dtype=int)
    for i in range(RUN_LENGTH - 1, n):
        w = side[i - (RUN_LENGTH - 1):i + 1]
        if side[i] != 0 and (w == side[i]).all():
            out[i] = 1
    return out


def _part_of_run(ends: np.ndarray) -> np.ndarray:
    """ptd_part_of_seven_trend: a point is flagged if it or one of the next 6 ends a run."""
    n = len(ends)
    hit = np.abs(ends) == 1
    out = np.zeros(n, dtype=int)
    for i in range(n):
        out[i] = int(hit[i:i + RUN_LENGTH].any())
    return out


def _two_in_three_windows(close: np.ndarray, side: np.ndarray) -> np.ndarray:
    """ptd_two_in_three: point lies in a 3-window with ≥2 near-limit points, all 3 on one side."""
    n = len(close)
    c = np.concatenate([[0, 0], close.astype(int), [0, 0]])
    s = np.concatenate([[0, 0], side.astype(int), [0, 0]])
    out = np.zeros(n, dtype=int)
    for i in range(n):
        for a in (i, i + 1, i + 2):  # padded windows ending at original i, i+1, i+2
            if c[a:a + 3].sum() >= 2 and abs(s[a:a + 3].sum()) == 3:
                out[i] = 1
                break
    return out


def trend_points(y: Sequence[float]) -> np.ndarray:
    """MDC trend rule: 1 for every point in a run of 7 strictly rising (or falling) points.

    A tie breaks the run; all 7 points are flagged; trends may cross the mean.
    (NHSRplotthedots ``ptd_part_of_seven_trend(ptd_seven_point_trend(y))``.)
    """
    return _part_of_run(_trend_ends(np.asarray(y, dtype=float)))


def shift_points(side: Sequence[int]) -> np.ndarray:
    """MDC shift rule: 1 for every point in a run of ≥ 7 on one side of the mean.

    ``side`` is sign(y − mean): a point exactly on the mean (0) breaks the run.
    """
    return _part_of_run(_shift_ends(np.asarray(side, dtype=int)))


def two_in_three_points(close: Sequence[int], side: Sequence[int]) -> np.ndarray:
    """MDC 2-of-3 rule: 1 for near-limit points in a 3-window with ≥ 2 near-limit points,
    all three points on the same side of the mean. Points beyond a limit are not "close"."""
    c = np.asarray(close, dtype=int)
    return (_two_in_three_windows(c, np.asarray(side, dtype=int)) & (np.abs(c) == 1)).astype(int)


def _classify_points(y: np.ndarray, side: np.ndarray, close: np.ndarray, outside: np.ndarray,
                     good: int) -> tuple[list[str], list[str], list[str]]:
    """Apply the four rules with MDC precedence; return (rule, rules_fired, point_type) per point."""
    n = len(y)
    part_trend = trend_points(y)
    part_two = two_in_three_points(close.astype(int), side)
    part_shift = shift_points(side)
    sdy = np.sign(np.diff(y)) if n > 1 else np.zeros(0)
    right = np.concatenate([sdy, sdy[-1:]]) if n > 1 else np.zeros(n)
    left = np.concatenate([[0], sdy]) if n > 1 else np.zeros(n)
    nxt = np.concatenate([part_trend[1:], [0]])
    tdir = np.where((nxt != 0) & (part_trend != 0), right, left)
    rules, fired, types = [], [], []
    for i in range(n):
        above = side[i] > 0
        names = []
        if outside[i]:
            names.append("Above UCL" if side[i] == 1 else "Below LCL")
        if part_trend[i]:
            names.append(f"7 Point Trend ({'In' if tdir[i] == 1 else 'De'}creasing)")
        if part_two[i]:
            names.append(f"2 in 3 {'Above' if above else 'Below'} CL")
        if part_shift[i]:
            names.append(f"7 Points {'Above' if above else 'Below'} CL")
        rule = names[0] if names else "Common Cause"
        rules.append(rule)
        fired.append("; ".join(names))
        v = 1 if ("Above" in rule or "Increasing" in rule) else -1 if ("Below" in rule or "Decreasing" in rule) else 0
        if v == 0:
            types.append("common_cause")
        elif good == 0:
            types.append("special_cause_neutral_high" if v > 0 else "special_cause_neutral_low")
        else:
            types.append("special_cause_improvement" if v * good > 0 else "special_cause_concern")
    return rules, fired, types


def assurance(lpl: float, upl: float, target: float | None, improvement: str = "increase") -> str | None:
    """MDC assurance icon from the target and the (latest) process limits.

    Returns ``"consistent_pass"``, ``"consistent_fail"``, ``"inconsistent"`` (hit and miss), or
    ``None`` when there is no target or the direction is neutral. Strict inequalities: a
    target exactly on a limit is "inconsistent" (NHSRplotthedots ``ptd_calculate_assurance_type``).
    """
    good = _improvement_sign(improvement)
    if target is None or (isinstance(target, float) and math.isnan(target)) or good == 0:
        return None
    if target > upl:
        return "consistent_fail" if good > 0 else "consistent_pass"
    if target < lpl:
        return "consistent_pass" if good > 0 else "consistent_fail"
    return "inconsistent"


_VARIATION_TEXT = {
    "common_cause": "common cause variation only: no sign of a real change",
    "special_cause_improvement": "special cause variation, improving",
    "special_cause_concern": "special cause variation, a concern",
    "special_cause_neutral_high": "special cause variation, higher than usual",
    "special_cause_neutral_low": "special cause variation, lower than usual",
}
_ASSURANCE_TEXT = {
    "consistent_pass": "the process can reliably meet the target of {t}",
    "consistent_fail": "the process cannot reliably meet the target of {t} without a change to the process",
    "inconsistent": "the process will hit and miss the target of {t}",
}


@dataclass(frozen=True)
class SPCSummary:
    """Headline of an SPC chart: the two MDC icons and a sentence a report can print."""

    variation: str
    assurance: str | None
    n_points: int
    trial_limits: bool
    reading: str
    chart: str
    improvement: str
    latest_value: float
    centre: float
    lpl: float
    upl: float
    target: float | None
    latest_rule: str

    def to_frame(self) -> pd.DataFrame:
        """One-row DataFrame of every field."""
        return pd.DataFrame([self.__dict__])


def _as_series(values: Any, name: str) -> pd.Series:
    if isinstance(values, pd.Series):
        s = values.copy()
    elif isinstance(values, pd.DataFrame):
        raise problem(StatisticsError, f"spc({name})", expected="a 1-D series of values", received="a DataFrame",
                      fix="pass one column, e.g. df['returned']")
    else:
        arr = np.asarray(values, dtype=float)
        if arr.ndim != 1:
            raise problem(StatisticsError, f"spc({name})", expected="a 1-D series of values", received=f"shape {arr.shape}",
                          fix="pass one value per period")
        s = pd.Series(arr)
    try:
        s = s.astype(float)
    except (TypeError, ValueError) as exc:
        raise problem(StatisticsError, f"spc({name})", expected="numbers", received=repr(values)[:80],
                      fix="convert the column to numbers first") from exc
    return s


def _labels_to_mask(index: pd.Index, labels: Iterable[Any] | None, what: str) -> np.ndarray:
    mask = np.zeros(len(index), dtype=bool)
    if labels is None:
        return mask
    if np.isscalar(labels):
        labels = [labels]
    for lab in labels:
        hits = np.flatnonzero(index == lab)
        if len(hits) == 0:
            raise problem(StatisticsError, f"spc({what})", expected="labels that are in the index of values",
                          received=repr(lab), fix=f"pass index labels of the series (index runs {index[0]!r} .. {index[-1]!r})")
        mask[hits] = True
    return mask


def spc(values: Any, *, denominators: Any = None, chart: str | None = None, improvement: str = "increase",
        target: float | None = None, screen_outliers: bool = True, baseline: int | None = None,
        exclude: Iterable[Any] | None = None, rebase: Iterable[Any] | None = None) -> pd.DataFrame:
    """Statistical process control chart with NHS England "Making Data Count" rules and icons.

    Parameters
    ----------
    values : sequence or Series
        In time order. Without ``denominators``: the measured values (XmR chart). With them:
        event counts (e.g. allocations returned). A Series keeps its index (dates, periods)
        and ``exclude``/``rebase`` refer to its labels; a list is indexed 0..n−1.
    denominators : sequence or Series, optional
        Totals for a p / p′ chart (every total must be positive).
    chart : {"xmr", "p", "p-prime"}, optional
        Default ``"xmr"`` without denominators and ``"p"`` with them.
    improvement : {"increase", "decrease", "neutral"}
        Which direction is better.
    target : float, optional
        Target for the assurance icon (a proportion, e.g. 0.8, on p charts).
    screen_outliers : bool
        XmR only: drop moving ranges ≥ 3.267·MR̄ once and recompute MR̄ (NHSRplotthedots
        default; the MDC Excel tool does not screen).
    baseline : int, optional
        Compute limits on the first ``baseline`` points of each segment and extend them
        (NHSRplotthedots ``fix_after_n_points``).
    exclude : labels, optional
        Points left out of the limit computation but still plotted and judged (e.g. a
        known special cause when revising limits).
    rebase : labels, optional
        Points where a new segment (new limits, rules restarted) begins, e.g. after a
        process change.

    Returns
    -------
    DataFrame
        One row per point: ``value`` (proportion on p charts), ``events``/``denominator``
        (p charts), ``centre``, ``lpl``, ``upl``, ``near_lpl``, ``near_upl`` (2σ band edges),
        ``segment``, ``in_limits`` (used for the limits), ``outside_limits``,
        ``relative_to_mean``, ``close_to_limits``, ``rule`` (the winning rule, NHSRplotthedots
        wording), ``rules_fired`` (all), ``special_cause``, ``point_type``, ``trial_limits``,
        ``target``. ``df.attrs`` holds ``variation`` (point type of the latest point),
        ``assurance``, ``chart``, ``method``, ``improvement``, ``target``, ``n_points``,
        ``trial_limits``, ``reading`` (see :func:`spc_summary`).

    Raises
    ------
    StatisticsError
        Missing values, non-positive denominators, events above denominators, a target
        given as a percentage on a p chart, unknown labels.

    Notes
    -----
    XmR: centre = mean; MRᵢ = |yᵢ − yᵢ₋₁|; limits = mean ± 2.66·MR̄; near-limit band =
    mean ± 1.773·MR̄. p chart: p̄ = Σx/Σn, limits p̄ ± 3√(p̄(1−p̄)/nᵢ) (own limits per
    point, clipped to [0, 1]), band p̄ ± 2σᵢ. Laney p′: zᵢ = (pᵢ − p̄)/σᵢ,
    σ_z = mean|Δz|/1.128 (no screening), limits p̄ ± 3σᵢσ_z.
    Rules (first match wins per point, within each segment): outside limits (strict) >
    7-point trend (6 strict rises/falls; all 7 flagged) > 2 of 3 consecutive points in the
    near-limit band, all 3 on the same side of the mean (only the near-limit points are
    flagged) > 7 consecutive points on one side of the mean (a point on the mean breaks
    it). The variation icon is the latest point's type; the assurance icon compares the
    target with the latest limits using strict inequalities. Limits resting on fewer than
    13 points are flagged as trial limits (NHSRplotthedots counts all points of the group;
    here the points actually used for the limits are counted, which differs only when
    ``baseline``/``exclude`` are used).

    References
    ----------
    NHS England, Making Data Count; NHSRplotthedots 0.2.2 (R/ptd_spc_standard.R,
    R/ptd_calculate_point_type.R, R/ptd_calculate_assurance_type.R); Montgomery,
    Introduction to Statistical Quality Control, Example 7.1; Laney DB, Quality
    Engineering 2002;14:531–537.
    """
    y = _as_series(values, "values")
    good = _improvement_sign(improvement)
    n_pts = len(y)
    if n_pts == 0:
        raise problem(StatisticsError, "spc(values)", expected="at least one point", received="an empty series",
                      fix="pass the series of values")
    if y.isna().any():
        raise problem(StatisticsError, "spc(values)", expected="no missing values (SPC needs an unbroken series)",
                      received=f"missing at {list(y.index[y.isna()])[:5]}",
                      fix="fill the gap (e.g. 0 returns of 0 allocations is not a value) or drop the period explicitly")
    if chart is None:
        chart = "xmr" if denominators is None else "p"
    ckey = chart.lower().replace("_", "-").replace("′", "-prime").replace("'", "-prime")
    if ckey in ("p-prime", "pprime", "laney", "p-prime-chart"):
        ckey = "p-prime"
    if ckey not in ("xmr", "p", "p-prime"):
        raise problem(StatisticsError, "spc(chart)", expected="'xmr', 'p' or 'p-prime'", received=repr(chart),
                      fix="use chart='p' for counts out of totals, 'xmr' for values")
    index = y.index
    out: dict[str, Any] = {}  # columns, assembled into one DataFrame at the end (fast)
    if ckey == "xmr":
        if denominators is not None:
            raise problem(StatisticsError, "spc(denominators)", expected="no denominators for an XmR chart",
                          received="denominators", fix="use chart='p' or 'p-prime' for counts out of totals")
        out["value"] = y.to_numpy()
        dens = None
    else:
        if denominators is None:
            raise problem(StatisticsError, "spc(denominators)", expected=f"denominators for a {chart} chart",
                          received="none", fix="pass denominators= (totals per period) or use chart='xmr'")
        d = _as_series(denominators, "denominators")
        if len(d) != n_pts:
            raise problem(StatisticsError, "spc(denominators)", expected=f"{n_pts} totals, one per value",
                          received=f"{len(d)}", fix="align events and totals by period")
        dens = d.to_numpy()
        xa, na = _counts(y.to_numpy(), dens, "spc(values, denominators)")
        if (na == 0).any():
            raise problem(StatisticsError, "spc(denominators)", expected="at least one case in every period",
                          received=f"a total of 0 at {list(index[na == 0])[:5]}",
                          fix="drop or merge empty periods: a proportion of 0 cases does not exist")
        if target is not None and target > 1:
            raise problem(StatisticsError, "spc(target)", expected="a proportion between 0 and 1 on a p chart",
                          received=repr(target), fix=f"pass target={target / 100:g}")
        out["events"] = xa
        out["denominator"] = na
        out["value"] = xa / na
    excluded = _labels_to_mask(index, exclude, "exclude")
    starts = _labels_to_mask(index, rebase, "rebase")
    starts[0] = True
    segment = np.cumsum(starts) - 1
    v = np.asarray(out["value"], dtype=float)
    cols = {k: np.full(n_pts, np.nan) for k in ("centre", "lpl", "upl", "near_lpl", "near_upl")}
    in_limits = np.zeros(n_pts, dtype=bool)
    n_used = np.zeros(n_pts, dtype=int)
    notes: list[str] = []
    extra_attrs: dict[str, Any] = {}
    for g in np.unique(segment):
        idx = np.flatnonzero(segment == g)
        use = ~excluded[idx]
        if baseline is not None:
            if int(baseline) < 2:
                raise problem(StatisticsError, "spc(baseline)", expected="at least 2 points",
                              received=repr(baseline), fix="use baseline=12 or more")
            use &= np.arange(len(idx)) < int(baseline)
        in_limits[idx] = use
        n_used[idx] = int(use.sum())
        if use.sum() < 2:
            raise problem(StatisticsError, f"spc segment {g + 1}", expected="at least 2 points to compute limits",
                          received=f"{int(use.sum())}", fix="rebase less often or exclude fewer points")
        if ckey == "xmr":
            fy = np.where(use, v[idx], np.nan)
            centre = float(np.nanmean(fy))
            mr = np.abs(np.diff(fy))
            amr = float(np.nanmean(mr)) if np.isfinite(mr).any() else math.nan
            n_screened = 0
            if screen_outliers and np.isfinite(amr):
                keep = mr < MR_SCREEN * amr
                n_screened = int((np.isfinite(mr) & ~keep).sum())
                mr = np.where(keep, mr, np.nan)
                amr = float(np.nanmean(mr)) if np.isfinite(mr).any() else 0.0
            if not np.isfinite(amr):
                raise problem(StatisticsError, f"spc segment {g + 1}", expected="two consecutive points used for the limits",
                              received="no moving range", fix="exclude fewer points")
            extra_attrs.setdefault("mr_bar", []).append(amr)
            extra_attrs.setdefault("mr_screened", []).append(n_screened)
            cols["centre"][idx] = centre
            cols["lpl"][idx] = centre - XMR_LIMIT * amr
            cols["upl"][idx] = centre + XMR_LIMIT * amr
            cols["near_lpl"][idx] = centre - XMR_NEAR_LIMIT * amr
            cols["near_upl"][idx] = centre + XMR_NEAR_LIMIT * amr
        else:
            xs, ns = out["events"][idx], out["denominator"][idx]
            pbar = float(xs[use].sum() / ns[use].sum())
            sig = np.sqrt(pbar * (1 - pbar) / ns)
            mult = 1.0
            if ckey == "p-prime":
                if pbar in (0.0, 1.0):
                    notes.append(f"segment {g + 1}: every case is {'0' if pbar == 0 else '100'}%, Laney sigma_z undefined; p limits used")
                else:
                    zz = np.where(use, (xs / ns - pbar) / sig, np.nan)
                    mrz = np.abs(np.diff(zz))
                    if not np.isfinite(mrz).any():
                        raise problem(StatisticsError, f"spc segment {g + 1}", expected="two consecutive points used for the limits",
                                      received="no moving range", fix="exclude fewer points")
                    mult = float(np.nanmean(mrz)) / D2
                extra_attrs.setdefault("sigma_z", []).append(mult)
            cols["centre"][idx] = pbar
            cols["lpl"][idx] = np.clip(pbar - 3 * mult * sig, 0, 1)
            cols["upl"][idx] = np.clip(pbar + 3 * mult * sig, 0, 1)
            cols["near_lpl"][idx] = np.clip(pbar - 2 * mult * sig, 0, 1)
            cols["near_upl"][idx] = np.clip(pbar + 2 * mult * sig, 0, 1)
    for k, a in cols.items():
        out[k] = a
    out["segment"] = segment + 1
    out["in_limits"] = in_limits
    out["excluded"] = excluded
    outside = (v > cols["upl"]) | (v < cols["lpl"])
    side = np.sign(v - cols["centre"]).astype(int)
    close = ~outside & ((v < cols["near_lpl"]) | (v > cols["near_upl"]))
    out["outside_limits"] = outside
    out["relative_to_mean"] = side
    out["close_to_limits"] = close
    rule = np.empty(n_pts, dtype=object)
    fired = np.empty(n_pts, dtype=object)
    ptype = np.empty(n_pts, dtype=object)
    for g in np.unique(segment):
        idx = np.flatnonzero(segment == g)
        r, f, t = _classify_points(v[idx], side[idx], close[idx], outside[idx], good)
        rule[idx], fired[idx], ptype[idx] = r, f, t
    out["rule"] = rule
    out["rules_fired"] = fired
    out["special_cause"] = rule != "Common Cause"
    out["point_type"] = ptype
    out["trial_limits"] = n_used < TRIAL_LIMIT_POINTS
    out["target"] = np.nan if target is None else float(target)

    out = pd.DataFrame(out, index=index)
    last = out.iloc[-1]
    variation = str(last["point_type"])
    assur = assurance(float(last["lpl"]), float(last["upl"]), target, improvement)
    method = {
        "xmr": ("XmR chart (Making Data Count): mean +/- 2.66 x mean moving range"
                + ("; moving ranges >= 3.267 x MR-bar screened out once" if screen_outliers else "; no moving-range screening")),
        "p": "p chart: pbar +/- 3 sqrt(pbar(1-pbar)/n_i), limits per point clipped to [0, 1]",
        "p-prime": "Laney p' chart: pbar +/- 3 sigma_i sigma_z, sigma_z = mean|diff z|/1.128 (no screening), clipped to [0, 1]",
    }[ckey]
    method += ("; MDC rules (NHSRplotthedots 0.2.2): outside limits > 7-point trend > 2 of 3 near a limit on one side "
               "> 7 points one side of the mean")
    if baseline is not None:
        method += f"; limits fixed on the first {int(baseline)} points of each segment"
    if excluded.any():
        method += f"; {int(excluded.sum())} point(s) excluded from the limits but judged"
    out.attrs.update(
        chart=ckey, method=method, improvement=str(improvement).lower(), target=target, variation=variation,
        assurance=assur, n_points=n_pts, trial_limits=bool(last["trial_limits"]),
        points_in_limits=int(n_used[-1]), notes=notes, **extra_attrs,
    )
    out.attrs["reading"] = _reading(out)
    return out


def _fmt_target(t: float, chart: str) -> str:
    return f"{t * 100:g}%" if chart != "xmr" else f"{t:g}"


def _reading(df: pd.DataFrame) -> str:
    a = df.attrs
    last = df.iloc[-1]
    bits = [f"Latest point: {_VARIATION_TEXT[a['variation']]}"]
    if last["rule"] != "Common Cause":
        bits[0] += f" ({last['rule']})"
    if a.get("assurance"):
        bits.append(_ASSURANCE_TEXT[a["assurance"]].format(t=_fmt_target(a["target"], a["chart"])))
    text = "; ".join(bits) + "."
    if a["trial_limits"]:
        text += (f" Limits rest on only {a['points_in_limits']} points (trial limits): "
                 "treat signals as provisional until there are at least 13.")
    return text


def spc_summary(df: pd.DataFrame) -> SPCSummary:
    """The MDC icons and a plain-English reading of a chart made by :func:`spc`.

    Returns
    -------
    SPCSummary
        ``variation`` (latest point's type), ``assurance`` (``None`` without a target),
        ``n_points``, ``trial_limits``, ``reading`` and the latest limits.
    """
    need = ("variation", "chart", "n_points", "trial_limits", "reading")
    if not isinstance(df, pd.DataFrame) or any(k not in df.attrs for k in need) or len(df) == 0:
        raise problem(StatisticsError, "spc_summary(df)", expected="the DataFrame returned by spc()",
                      received=type(df).__name__, fix="pass spc(...) output without re-creating the frame (attrs are lost)")
    a = df.attrs
    last = df.iloc[-1]
    return SPCSummary(
        variation=a["variation"], assurance=a.get("assurance"), n_points=int(a["n_points"]),
        trial_limits=bool(a["trial_limits"]), reading=a["reading"], chart=a["chart"],
        improvement=a.get("improvement", ""), latest_value=float(last["value"]), centre=float(last["centre"]),
        lpl=float(last["lpl"]), upl=float(last["upl"]), target=a.get("target"), latest_rule=str(last["rule"]),
    )


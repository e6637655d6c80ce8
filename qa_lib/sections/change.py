"""Tested changes for the reports: intervals on every proportion, this-period-vs-last tests with
Benjamini–Hochberg across domains, trend tests over the shown periods, and monthly SPC series.

Every function takes the run's :class:`~qa_lib.inputs.data.Dataset` and returns a tidy, full-precision
frame (or a small frozen result) that a notebook cell hands to ``rpt.table`` / ``rpt.chart``;
the statistics themselves are :mod:`qa_lib.stats.trend` (reference-tested there).

Conventions (fixed here, printed in the report footnotes by :func:`methods_note`)
-------------------------------------------------------------------------------
- Proportions: 95% Wilson score interval with the count and base ("18 of 24 (75%, likely
  55–88%)"). No Wald interval anywhere; 0% and 100% keep a real range. Fewer than
  ``params.min_n`` audits adds a caution.
- This period vs the previous one: :func:`qa_lib.stats.trend.compare_two` (Fisher's exact test when an
  expected count is below 5, else Pearson chi-squared without Yates), Newcombe interval for the
  difference. The family for Benjamini–Hochberg is the practice domains shown in the table (the
  overall grade is a single pre-specified headline test and is not adjusted). A change is called
  only when the adjusted q is below 0.05 (``ALPHA``).
- Trend over the shown periods: Cochran–Armitage for % Good or better (period scores = real positions in time; exact
  permutation p when fewer than 30 events or non-events), linear-by-linear (Mantel M²) for the
  whole grade distribution with the same period scores and grade scores 1 = worst … 4 = best.
- SPC: p charts (Making Data Count rules, :func:`qa_lib.stats.trend.spc`) of monthly counts over the
  months of the shown periods, drawn only from ``SPC_MIN_POINTS`` months.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from qa_lib.core import fmt
from qa_lib.sections import tables
from qa_lib.inputs.data import Dataset
from qa_lib.stats.trend import (SPCSummary, adjust, classify_change, cochran_armitage, compare_two, describe_proportion,
                          linear_by_linear, proportion_ci, spc, spc_summary, TRIAL_LIMIT_POINTS)

__all__ = [
    "ALPHA", "SPC_MIN_POINTS", "proportion_text", "with_intervals", "returns_with_intervals",
    "period_comparison", "domain_changes", "comparison_display", "trend_tests", "trend_table", "trend_footnote", "SPCView",
    "good_or_better_spc", "return_rate_spc", "methods_note", "previous_period_label",
    "NO_EARLIER", "NO_AUDITS_NOW", "describe_comparison", "without_empty_periods", "empty_periods_note",
]

ALPHA = 0.05  #: a change is called only when p (headline) or BH q (domains) is below this
SPC_MIN_POINTS = 12  #: monthly SPC charts need at least this many months (methods note §2)
EXACT_BELOW = 30  #: Cochran–Armitage uses its exact p when events or non-events are fewer than this


def _pct(v: float) -> str:
    return fmt.pct(v)


def _points(v: float) -> str:
    return fmt.points(v)


#: issue 16: what a comparison says when there is nothing to compare (never "● No clear change" beside "0 of 0")
NO_EARLIER = "no earlier data to compare"
NO_AUDITS_NOW = "no audits this period to compare"


def describe_comparison(x_now: int, n_now: int, x_before: int, n_before: int, *, q: float | None = None,
                        k: int = 1, what: str = "areas", alpha: float = ALPHA) -> str:
    """A comparison's raw direction and size beside its verdict, in words (issue 16).

    ``"▲ +25 points (likely +5 to +44); p = 0.017 for this area, but across the 9 areas checked
    (q = 0.15) this could be chance"``. ▲/▼ here is the direction of the numbers (later minus
    earlier), not a verdict. With no earlier audits: :data:`NO_EARLIER`; none now: :data:`NO_AUDITS_NOW`.
    ``q`` is the Benjamini–Hochberg value across the ``k`` comparisons of the family (``what``).
    """
    x_now, n_now, x_before, n_before = int(x_now), int(n_now), int(x_before), int(n_before)
    if n_before == 0:
        return NO_EARLIER
    if n_now == 0:
        return NO_AUDITS_NOW
    res = compare_two(x_now, n_now, x_before, n_before)
    d = res.extra["difference"]
    arrow = "▲" if d > 0 else "▼" if d < 0 else "="
    size = (f"{arrow} {fmt.points(d)} points (likely {fmt.points_range(res.extra['diff_ci_low'], res.extra['diff_ci_high'])})")
    p = res.pvalue
    if not math.isfinite(p):
        return f"{size}; no test possible ({res.note.rstrip('.')})" if res.note else f"{size}; no test possible"
    ptxt = fmt.pvalue(p)
    if q is not None and k > 1 and math.isfinite(q):
        qtxt = f"across the {k} {what} checked (q = {fmt.number(q, 2)})"
        if p < alpha and q < alpha:
            return f"{size}; {ptxt}, and {qtxt} this is unlikely to be chance"
        if p < alpha:
            return f"{size}; {ptxt} for this {what.rstrip('s')}, but {qtxt} this could be chance"
        return f"{size}; {ptxt}: this could be chance"
    return f"{size}; {ptxt}: " + ("unlikely to be chance" if p < alpha else "this could be chance")


def without_empty_periods(frame: pd.DataFrame, n: str = "n") -> pd.DataFrame:
    """A history table without its rows of zeros: periods with no audits are named once by
    :func:`empty_periods_note` instead (issue 16)."""
    if frame.empty or n not in frame.columns:
        return frame
    return frame[frame[n] > 0]


def empty_periods_note(frame: pd.DataFrame, n: str = "n") -> str:
    """``"No audits in 2023-24 Q4; left out of the table."`` for the rows of ``frame`` with no audits ("" if none)."""
    if frame.empty or n not in frame.columns:
        return ""
    gone = [str(i) for i in frame.index[frame[n] == 0]]
    if not gone:
        return ""
    return f"No audits in {', '.join(gone)}; {'that period is' if len(gone) == 1 else 'those periods are'} left out of the table."


def proportion_text(x: int, n: int, *, min_n: int = 10) -> str:
    """Count, base, percentage and Wilson range: ``"18 of 24 (75%, likely 55–88%)"``.

    Fewer than ``min_n`` audits appends ``" – fewer than 10 audits, treat with caution"``;
    ``n = 0`` gives ``"0 of 0 (no audits)"``.
    """
    text = describe_proportion(int(x), int(n), small_n=0)
    if 0 < n < min_n:
        text += f" – fewer than {min_n} audits, treat with caution"
    return text


def with_intervals(frame: pd.DataFrame, ds: Dataset, *, events: str = "good_or_better", n: str | pd.Series = "n",
                   prefix: str | None = None) -> pd.DataFrame:
    """Add Wilson 95% interval columns and a plain-words summary to a table of counts.

    Parameters
    ----------
    frame : DataFrame
        A report table with an events column and a base (e.g. :func:`qa_lib.sections.tables.grade_counts`).
    ds : Dataset
        For ``params.min_n``.
    events : str
        Column of events (default ``good_or_better``).
    n : str or Series
        Column (or Series aligned with ``frame``) of the base.
    prefix : str, optional
        Name stem of the new columns (default ``events``).

    Returns
    -------
    DataFrame
        A copy with ``<prefix>_low_share`` and ``<prefix>_high_share`` (fractions, full precision),
        ``<prefix>_summary`` ("18 of 24 (75%, likely 55–88%)") and ``small_n`` (True below
        ``params.min_n``; the summary then carries the caution). Rows with no base get blanks.
    """
    out = frame.copy()
    prefix = prefix or events
    base = (out[n] if isinstance(n, str) else pd.Series(n, index=out.index)).fillna(0).astype("int64")
    x = out[events].fillna(0).astype("int64")
    lo, hi = proportion_ci(x.to_numpy(), base.to_numpy())
    out[f"{prefix}_low_share"] = np.asarray(lo, dtype=float).reshape(-1) if len(out) else []
    out[f"{prefix}_high_share"] = np.asarray(hi, dtype=float).reshape(-1) if len(out) else []
    out[f"{prefix}_summary"] = [proportion_text(a, b, min_n=ds.params.min_n) for a, b in zip(x, base)]
    out["small_n"] = (base > 0) & (base < ds.params.min_n)
    return out


def returns_with_intervals(frame: pd.DataFrame, ds: Dataset) -> pd.DataFrame:
    """:func:`qa_lib.sections.tables.returns_by` with a Wilson interval on the return rate (base = allocated − exempt)."""
    if frame.empty:
        return frame
    return with_intervals(frame, ds, events="returned", n=frame["allocated"] - frame["exempt"], prefix="return_rate")


# --------------------------------------------------------------------------------------
# this period vs the previous one
# --------------------------------------------------------------------------------------
def previous_period_label(ds: Dataset) -> str:
    """``"last quarter"`` or ``"last month"``."""
    return "last month" if ds.period.kind == "month" else "last quarter"


def _good_counts(g: pd.DataFrame, ds: Dataset, by: str) -> pd.DataFrame:
    good = set(ds.scale.good_grades)
    return g.assign(good=g["grade"].isin(good)).groupby(by, observed=False)["good"].agg(["sum", "size"])


def _compare_row(x2: int, n2: int, x1: int, n1: int, min_n: int) -> dict:
    """Columns for one comparison; period 2 is this period, 1 the previous."""
    res = compare_two(x2, n2, x1, n1)
    e = res.extra
    return {
        "this_period": proportion_text(x2, n2, min_n=min_n), "previous_period": proportion_text(x1, n1, min_n=min_n),
        "good_now": x2, "n_now": n2, "good_before": x1, "n_before": n1,
        "difference_share": e["difference"], "difference_low_share": e["diff_ci_low"],
        "difference_high_share": e["diff_ci_high"], "test": e["test"], "p_value": res.pvalue,
        "test_note": res.note,
    }


def period_comparison(ds: Dataset) -> pd.DataFrame:
    """Overall % Good or better this period vs the previous period, tested.

    Returns
    -------
    DataFrame
        One row (index ``Overall``): ``this_period``/``previous_period`` summaries, counts, the
        difference (this − previous) with its Newcombe interval, ``test`` (fisher/chi2/none),
        ``p_value``, ``q_value`` (= p: a single pre-specified headline test), ``change`` (the
        word) and ``change_label`` ("▲ Improving"), ``small_n``.
    """
    prev = ds.period.shift(-1).label
    g = tables.audit_grades(ds, periods=[prev, ds.period.label])
    counts = _good_counts(g, ds, "period").reindex([prev, ds.period.label], fill_value=0)
    row = _compare_row(int(counts.loc[ds.period.label, "sum"]), int(counts.loc[ds.period.label, "size"]),
                       int(counts.loc[prev, "sum"]), int(counts.loc[prev, "size"]), ds.params.min_n)
    out = pd.DataFrame([row], index=pd.Index(["Overall"], name="measure"))
    out["q_value"] = out["p_value"]
    return _verdicts(out, ds)


def domain_changes(ds: Dataset) -> pd.DataFrame:
    """% Good or better per practice domain, this period vs the previous, with BH across the domains.

    Returns
    -------
    DataFrame
        One row per domain shown (report order): as :func:`period_comparison`, with
        ``q_value`` = Benjamini–Hochberg adjusted p across the domains whose test was defined.
        A domain with no audits in either period is still listed ("not tested").
    """
    prev = ds.period.shift(-1).label
    r = tables.domain_audit_grades(ds, periods=[prev, ds.period.label])  # the params rule audit_grade
    present = set(r["domain"].unique())
    domains = [d for d in ds.domains if d in present]
    if not domains:
        return pd.DataFrame()
    g = r.assign(good=r["grade"].isin(set(ds.scale.good_grades)))
    counts = g.groupby(["domain", "period"])["good"].agg(["sum", "size"])
    rows = []
    for d in domains:
        def c(p: str, k: str, d=d) -> int:
            return int(counts[k].get((d, p), 0))
        rows.append(_compare_row(c(ds.period.label, "sum"), c(ds.period.label, "size"), c(prev, "sum"), c(prev, "size"),
                                 ds.params.min_n))
    out = pd.DataFrame(rows, index=pd.Index(domains, name="domain"))
    out["q_value"] = adjust(out["p_value"].astype(float), method="fdr_bh")
    return _verdicts(out, ds)


def _verdicts(out: pd.DataFrame, ds: Dataset) -> pd.DataFrame:
    words = [classify_change(q, d, alpha=ALPHA) for q, d in zip(out["q_value"], out["difference_share"])]
    out["change"] = [w.word for w in words]
    out["change_label"] = [w.label for w in words]
    # issue 16: nothing to compare is said so, never "● No clear change" beside "0 of 0"
    none_before, none_now = out["n_before"] == 0, out["n_now"] == 0
    out.loc[none_now, ["change", "change_label"]] = NO_AUDITS_NOW
    out.loc[none_before, ["change", "change_label"]] = NO_EARLIER
    k = int(out["p_value"].notna().sum())
    out["reading"] = [describe_comparison(r["good_now"], r["n_now"], r["good_before"], r["n_before"],
                                          q=r["q_value"] if len(out) > 1 else None, k=k,
                                          what="domains" if len(out) > 1 else "areas")
                      for _, r in out.iterrows()]
    out["small_n"] = (out[["n_now", "n_before"]].min(axis=1) < ds.params.min_n) & (out[["n_now", "n_before"]].min(axis=1) > 0)
    return out


def comparison_display(frame: pd.DataFrame) -> pd.DataFrame:
    """The reader's columns of :func:`domain_changes` / :func:`period_comparison` (words, symbols, q)."""
    if frame.empty:
        return frame
    out = pd.DataFrame(index=frame.index)
    out["this_period"] = frame["this_period"]
    out["previous_period"] = frame["previous_period"]
    out["difference"] = [
        "–" if not math.isfinite(d) else f"{_points(d)} points (likely {_points(lo)} to {_points(hi)})"
        for d, lo, hi in zip(frame["difference_share"], frame["difference_low_share"], frame["difference_high_share"])]
    out["p_value"] = frame["p_value"]
    out["q_value"] = frame["q_value"]
    out["change_label"] = frame["change_label"]
    if "reading" in frame.columns:  # issue 16: raw direction and size beside the verdict
        out["reading"] = frame["reading"]
    return out


# --------------------------------------------------------------------------------------
# trend over the shown periods
# --------------------------------------------------------------------------------------
def _period_positions(ds: Dataset) -> dict[str, int]:
    """Position of each shown period in time: 1 for the first, then quarters (or months) since it, plus 1."""
    shown = ds.period.history(ds.params.history_periods)
    first = shown[0]
    return {p.label: ((p.start.year - first.start.year) * 12 + p.start.month - first.start.month) // p.n_months + 1
            for p in shown}


def trend_tests(ds: Dataset) -> pd.DataFrame:
    """Trend over the report period and its ``history_periods`` predecessors.

    Returns
    -------
    DataFrame
        Two rows: ``% Good or better`` (Cochran–Armitage) and ``Grade distribution``
        (linear-by-linear, grade scores 1 = worst … 4 = best). Period scores are the periods' real
        positions in time (1 for the first period shown, then quarters — or months — since it, plus 1),
        so a period with no audits leaves a gap in the scores rather than closing it up (issue 19, B2).
        Columns ``periods``, ``audits``, ``statistic``, ``p_value``, ``direction`` (signed z: positive =
        better over time), ``change``, ``change_label``, ``method``, ``scores``, ``note``. Periods with no
        audits are left out of the tests (and said so in ``note``); fewer than 2 periods with audits gives
        "not tested".
    """
    counts = tables.overall_by_period(ds)
    grades = list(ds.scale.grades)
    positions = _period_positions(ds)
    used = counts[counts["n"] > 0]
    dropped = [str(p) for p in counts.index[counts["n"] == 0]]
    scores = [float(positions[str(p)]) for p in used.index]
    gap = (f"Periods with no audits left out: {', '.join(dropped)}; the others keep their real positions in time "
           f"(scores {', '.join(fmt.number(s, 0) for s in scores)}). " if dropped else "")
    rows = []
    if len(used) < 2:
        for name in ("% Good or better", "Grade distribution"):
            rows.append({"measure": name, "periods": len(used), "audits": int(used["n"].sum()), "statistic": math.nan,
                         "p_value": math.nan, "direction": math.nan, "method": "not tested", "scores": "",
                         "note": gap + "Fewer than 2 periods with audits: no trend can be tested."})
    else:
        x, n = used["good_or_better"].to_numpy(), used["n"].to_numpy()
        few = min(x.sum(), (n - x).sum())
        ca = cochran_armitage(x, n, scores=scores, exact=bool(few < EXACT_BELOW))
        shown_scores = ", ".join(fmt.number(s, 0) for s in scores)
        rows.append({"measure": "% Good or better", "periods": len(used), "audits": int(n.sum()), "statistic": ca.statistic,
                     "p_value": ca.pvalue, "direction": ca.extra.get("z", math.nan), "method": ca.method,
                     "scores": shown_scores, "note": gap + ca.note})
        table = used[grades[::-1]].to_numpy()  # worst grade first so column scores 1..4 run worst → best
        lbl = linear_by_linear(table, row_scores=scores)
        rows.append({"measure": "Grade distribution", "periods": len(used), "audits": int(n.sum()), "statistic": lbl.statistic,
                     "p_value": lbl.pvalue, "direction": lbl.extra.get("z", math.nan), "method": lbl.method,
                     "scores": shown_scores, "note": gap + lbl.note})
    out = pd.DataFrame(rows).set_index("measure")
    words = [classify_change(p, d, alpha=ALPHA) for p, d in zip(out["p_value"], out["direction"])]
    out["change"] = [w.word for w in words]
    out["change_label"] = [w.label for w in words]
    return out


def trend_table(ds: Dataset) -> pd.DataFrame:
    """The reader's columns of :func:`trend_tests` (the conventions go in :func:`trend_footnote`)."""
    t = trend_tests(ds)
    return t[["periods", "audits", "statistic", "p_value", "change_label", "note"]]


def trend_footnote(ds: Dataset) -> str:
    """The fixed conventions of :func:`trend_tests`, with the scores used."""
    positions = _period_positions(ds)
    unit = "months" if ds.period.kind == "month" else "quarters"
    grades = list(ds.scale.grades)[::-1]
    pscores = ", ".join(f"{p} = {i}" for p, i in positions.items())
    gscores = ", ".join(f"{g} = {i}" for i, g in enumerate(grades, 1))
    return (f"Trend tests use period scores from each period's real position in time ({unit} since the first period "
            f"shown, plus 1): "
            f"{pscores}; a period with no audits is left out but the others keep their scores, so gaps in time are "
            f"kept. For the grade distribution, grade scores {gscores}. "
            "% Good or better: Cochran–Armitage test (chi-squared form of R prop.trend.test, two-sided; exact "
            f"permutation p when fewer than {EXACT_BELOW} audits are, or are not, Good or better). Grade distribution: "
            "linear-by-linear association (Mantel M² = (N−1)r², 1 df, two-sided). A trend is called Improving or "
            f"Worsening only when p < {ALPHA}; otherwise No clear change.")


# --------------------------------------------------------------------------------------
# SPC
# --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SPCView:
    """A monthly SPC series ready to draw, or the reason there is none.

    ``frame`` is the :func:`qa_lib.stats.trend.spc` output (``None`` when not drawn); ``summary`` its
    :class:`~qa_lib.stats.trend.SPCSummary`; ``reason`` says why no chart (empty when drawn);
    ``reading`` is the sentence a report prints under the chart; ``measure`` names what is charted.
    """

    measure: str
    frame: pd.DataFrame | None
    summary: SPCSummary | None
    reason: str
    months: tuple[str, ...] = field(default_factory=tuple)

    @property
    def drawn(self) -> bool:
        return self.frame is not None

    @property
    def reading(self) -> str:
        if self.summary is None:
            return ""
        return f"{self.measure}: {self.summary.reading}"


def _months_shown(ds: Dataset) -> list[str]:
    return [m.label for p in ds.period.history(ds.params.history_periods) for m in p.months()]


def _spc_view(measure: str, events: pd.Series, totals: pd.Series, *, target: float | None, unit: str) -> SPCView:
    have = totals > 0
    gaps = [str(m) for m in totals.index[~have]]
    events, totals = events[have], totals[have]
    months = tuple(str(m) for m in totals.index)
    if len(totals) == 0:
        return SPCView(measure, None, None, f"No SPC chart for {measure.lower()}: no {unit} recorded in the shown periods.",
                       months)
    if len(totals) < SPC_MIN_POINTS:
        why = (f"No SPC chart for {measure.lower()}: only {len(totals)} month(s) with {unit} in the shown periods, and a "
               f"Making Data Count chart needs at least {SPC_MIN_POINTS} monthly points to set its limits. "
               "Compare the quarterly figures above instead.")
        if gaps:
            why += f" Months with no {unit}: {', '.join(gaps)}."
        return SPCView(measure, None, None, why, months)
    frame = spc(events.astype(int), denominators=totals.astype(int), chart="p", improvement="increase", target=target)
    if gaps:
        frame.attrs["reading"] += f" Months with no {unit} are not plotted: {', '.join(gaps)}."
    if frame.attrs["n_points"] < TRIAL_LIMIT_POINTS and "trial limits" not in frame.attrs["reading"]:
        frame.attrs["reading"] += " Trial limits (fewer than 13 points)."
    return SPCView(measure, frame, spc_summary(frame), "", months)


def good_or_better_spc(ds: Dataset) -> SPCView:
    """Monthly % Good or better (overall grade) as a p chart over the months of the shown periods."""
    months = _months_shown(ds)
    g = tables.audit_grades(ds, periods=tables.periods_shown(ds))
    g = g.assign(good=g["grade"].isin(set(ds.scale.good_grades)))
    by = g.groupby("month")["good"].agg(["sum", "size"]).reindex(months, fill_value=0)
    return _spc_view("Monthly % Good or better", by["sum"], by["size"], target=None, unit="graded audits")


def return_rate_spc(ds: Dataset) -> SPCView:
    """Monthly return rate (returned ÷ (allocated − exempt)) as a p chart against ``params.return_target``."""
    months = _months_shown(ds)
    a = ds.allocations
    a = a[a["month_label"].isin(months)]
    st = pd.crosstab(a["month_label"], a["status"]).reindex(index=months, columns=["returned", "not returned", "exempt"],
                                                            fill_value=0)
    due = st["returned"] + st["not returned"]
    return _spc_view("Monthly return rate", st["returned"], due, target=float(ds.params.return_target),
                     unit="audits due")


def methods_note(ds: Dataset) -> str:
    """One paragraph of the fixed conventions for the comparison tables."""
    return (f"Ranges are 95% Wilson score intervals; percentages on fewer than {ds.params.min_n} audits carry a caution. "
            f"This period is compared with {previous_period_label(ds)} by Fisher's exact test (when an expected count is "
            "below 5) or Pearson's chi-squared test without continuity correction; the range of the difference is "
            "Newcombe's hybrid score interval. Across the practice domains the p-values are adjusted by "
            "Benjamini–Hochberg (q, false discovery rate) because several domains are tested at once; the overall grade "
            f"is a single headline test (q = p). A change is called only when q < {ALPHA}: "
            "▲ Improving, ▼ Worsening, otherwise ● No clear change (the symbol shows the verdict, not the colour).")

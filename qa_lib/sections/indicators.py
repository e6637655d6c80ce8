"""Performance indicators beside the audits: Making Data Count charts, benchmarks and audit evidence.

What this module answers (each function takes a :class:`~qa_lib.inputs.data.Dataset`):

===========================================================  ===================================
question in the report                                       function
===========================================================  ===================================
is this indicator's latest point unusual; can it meet target  :func:`assess`, :func:`assess_series`
which indicators need a look (concerns first)                 :func:`summary_table`
how does the latest value compare with England / neighbours   :func:`benchmark_comparison`
what do the audits say about the same practice                :func:`audit_evidence`, :func:`needs_look_table`
===========================================================  ===================================

Conventions
-----------
* One chart per indicator, :func:`qa_lib.stats.trend.spc` with NHS England "Making Data Count" rules:
  a **p-chart** when every period has a numerator and denominator (values are then the
  percentage of the counts), an **XmR** chart otherwise. Polarity gives the improvement
  direction (``higher`` → increase, ``lower`` → decrease, ``neutral``). The target of the latest
  period drives the assurance icon.
* An indicator **needs a look** when its variation icon (the latest point's type) is special
  cause concern. Icons are printed as a shape and words (▲/▼ with H/L, ✔/✖/≈), never colour alone.
* Benchmarks: the local value of the latest period against each comparator's most recent period
  that had started by then. With counts on both sides: Wilson intervals, Newcombe difference
  interval (:func:`~qa_lib.stats.trend.difference_ci`) and :func:`~qa_lib.stats.trend.compare_two` (Fisher
  when an expected count is below 5, else χ² without Yates), p-values adjusted across the
  report's comparisons by Benjamini–Hochberg. Where the comparator publishes a rate only (or the
  indicator has no counts) the comparison is descriptive and not tested.
* Audit evidence: params ``indicator_links`` maps an indicator to a practice domain or a cohort;
  % Good or better per period over the report's history periods with Wilson intervals, and a
  Cochran–Armitage trend test over those periods (exact when fewer than 30 events or non-events).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from qa_lib.core import fmt
from qa_lib.sections import change, tables
from qa_lib.stats import trend
from qa_lib.core.labels import key as _key
from qa_lib.inputs.data import Dataset

#: issue 16: an indicator whose linked domain or cohort has no audits in any period shown
NO_LINKED_AUDITS = "no linked audits to compare"
_IMPROVEMENT = {"higher": "increase", "lower": "decrease", "neutral": "neutral"}

ASSURANCE_LABELS = {
    "consistent_pass": "✔ P – consistently meets the target",
    "consistent_fail": "✖ F – consistently misses the target",
    "inconsistent": "≈ ? – hit and miss against the target",
    None: "– no target",
}
#: Sort order of the summary: concerns first, then targets that cannot be met, then hit and miss.
_PRIORITY = {"special_cause_concern": 0}


def variation_label(point_type: str, *, high: bool) -> str:
    """The variation icon as shape and words: ``"▼ H – special cause concern (higher than usual)"``.

    The shape carries the verdict as everywhere in the workbook (▲ better, ▼ worse, ◆ neutral,
    ○ common cause, as in :mod:`qa_lib.present.charts_spc` and :class:`qa_lib.stats.trend.Change`); the letter
    H or L says which way the values moved.
    """
    letter, word = ("H", "higher") if high else ("L", "lower")
    if point_type == "common_cause":
        return "○ – common cause (no sign of a real change)"
    if point_type == "special_cause_concern":
        return f"▼ {letter} – special cause concern ({word} than usual)"
    if point_type == "special_cause_improvement":
        return f"▲ {letter} – special cause improvement ({word} than usual)"
    return f"◆ {letter} – special cause, {word} than usual"


@dataclass(frozen=True)
class IndicatorResult:
    """One indicator's Making Data Count chart and what the report says about it.

    ``spc`` is the frame from :func:`qa_lib.stats.trend.spc` (``None`` with fewer than 2 periods);
    values on p-charts are proportions 0–1, ``unit`` is ``"%"`` for them and ``""`` for XmR.
    ``target`` is in the indicator's own unit (percentage points for rates).
    """

    indicator: str
    polarity: str
    chart: str | None
    unit: str
    periods: tuple[str, ...]
    latest_period: str
    latest_value: float
    latest_numerator: float
    latest_denominator: float
    target: float | None
    spc: pd.DataFrame | None = field(repr=False, compare=False)
    variation: str | None
    assurance: str | None
    variation_label: str
    assurance_label: str
    concern_periods: tuple[str, ...]
    improvement_periods: tuple[str, ...]
    reading: str
    note: str = ""

    @property
    def needs_look(self) -> bool:
        """True when the latest point is special cause concern (the MDC variation icon)."""
        return self.variation == "special_cause_concern"

    @property
    def has_counts(self) -> bool:
        return self.chart == "p"

    def latest_text(self) -> str:
        """``"31.1% (47 of 151)"`` or ``"17.9"``."""
        if self.has_counts:
            return f"{fmt.number(self.latest_value, 1)}% ({int(self.latest_numerator)} of {int(self.latest_denominator)})"
        return f"{self.latest_value:g}{self.unit}"

    def target_text(self) -> str:
        if self.target is None:
            return "–"
        return f"{self.target:g}%" if self.has_counts else f"{self.target:g}"


def assess_series(series: pd.DataFrame, *, indicator: str, polarity: str) -> IndicatorResult:
    """Chart one indicator's series with Making Data Count rules.

    Parameters
    ----------
    series : DataFrame
        One row per period in time order with ``period`` (label), ``value`` and optionally
        ``numerator``, ``denominator`` and ``target`` (as in ``Dataset.indicators``). Values of
        rate indicators are percentages of their counts.
    indicator : str
        Name shown in the report.
    polarity : {"higher", "lower", "neutral"}
        Which direction is better.

    Returns
    -------
    IndicatorResult
        A p-chart when every period has counts, otherwise an XmR chart of ``value``; with
        fewer than 2 periods no chart (``spc`` is ``None``) and a note saying why.
    """
    s = series.reset_index(drop=True)
    improvement = _IMPROVEMENT[polarity]
    periods = tuple(s["period"].astype(str))
    num = s["numerator"].astype(float) if "numerator" in s else pd.Series(np.nan, index=s.index)
    den = s["denominator"].astype(float) if "denominator" in s else pd.Series(np.nan, index=s.index)
    tgt = s["target"].astype(float) if "target" in s else pd.Series(np.nan, index=s.index)
    target = float(tgt.iloc[-1]) if len(s) and math.isfinite(tgt.iloc[-1]) else None
    counts = bool(len(s)) and num.notna().all() and den.notna().all() and (den > 0).all()
    note = ""
    if not counts and num.notna().any():
        note = "Some periods have no counts, so the chart is an XmR chart of the published values."
    last = s.iloc[-1] if len(s) else None
    latest_value = float(100 * num.iloc[-1] / den.iloc[-1]) if counts else (float(last["value"]) if last is not None else math.nan)
    base = dict(indicator=indicator, polarity=polarity, unit="%" if counts else "", periods=periods,
                latest_period=periods[-1] if periods else "", latest_value=latest_value,
                latest_numerator=float(num.iloc[-1]) if counts else math.nan,
                latest_denominator=float(den.iloc[-1]) if counts else math.nan, target=target)
    if len(s) < 2:
        return IndicatorResult(**base, chart=None, spc=None, variation=None, assurance=None,
                               variation_label="– not charted", assurance_label=ASSURANCE_LABELS[None],
                               concern_periods=(), improvement_periods=(),
                               reading=f"Only {len(s)} period(s): at least 2 are needed for a chart.",
                               note="Fewer than 2 periods.")
    if counts:
        df = trend.spc(pd.Series(num.to_numpy(), index=list(periods)), denominators=den.to_numpy(), chart="p",
                       improvement=improvement, target=None if target is None else target / 100)
    else:
        df = trend.spc(pd.Series(s["value"].astype(float).to_numpy(), index=list(periods)), chart="xmr",
                       improvement=improvement, target=target)
    summ = trend.spc_summary(df)
    lastp = df.iloc[-1]
    high = bool(lastp["value"] > lastp["centre"])
    vlabel = variation_label(summ.variation, high=high)
    concern = tuple(str(i) for i in df.index[df["point_type"] == "special_cause_concern"])
    improving = tuple(str(i) for i in df.index[df["point_type"] == "special_cause_improvement"])
    result = IndicatorResult(**base, chart=summ.chart, spc=df, variation=summ.variation, assurance=summ.assurance,
                             variation_label=vlabel, assurance_label=ASSURANCE_LABELS[summ.assurance],
                             concern_periods=concern, improvement_periods=improving, reading="", note=note)
    reading = f"{result.latest_text()} in {result.latest_period}. {summ.reading}"
    if concern and not result.needs_look:
        reading += f" Earlier special cause concern: {_list_periods(concern)}."
    return _replace(result, reading=reading + (f" {note}" if note else ""))


def _replace(r: IndicatorResult, **changes: Any) -> IndicatorResult:
    values = {k: getattr(r, k) for k in r.__dataclass_fields__}
    values.update(changes)
    return IndicatorResult(**values)


def _list_periods(labels: tuple[str, ...], limit: int = 6) -> str:
    shown = ", ".join(labels[:limit])
    return shown + (f" and {len(labels) - limit} more" if len(labels) > limit else "")


def assess(ds: Dataset) -> list[IndicatorResult]:
    """Every indicator of the dataset, charted (order of ``ds.indicators``: by name)."""
    ind = ds.indicators
    if ind is None or ind.empty:
        return []
    out = []
    for name, series in ind.groupby("indicator", sort=True):
        series = series.sort_values("period_start")
        out.append(assess_series(series, indicator=str(name), polarity=str(series["polarity"].iloc[-1])))
    return out


def _priority(r: IndicatorResult) -> tuple:
    order = 0 if r.needs_look else 1 if r.assurance == "consistent_fail" else 2 if r.concern_periods else \
        3 if r.assurance == "inconsistent" else 4
    return (order, r.indicator)


def summary_table(ds: Dataset, results: list[IndicatorResult] | None = None) -> pd.DataFrame:
    """One row per indicator, concerns first: latest value, chart, icons, target and the reading.

    Sort order: special cause concern at the latest point; then a target the process
    consistently misses; then earlier special cause concern; then hit-and-miss targets; then the
    rest (alphabetical within each group).
    """
    results = assess(ds) if results is None else results
    rows = []
    for r in sorted(results, key=_priority):
        rows.append({"indicator": r.indicator, "latest_period": r.latest_period, "latest": r.latest_text(),
                     "better_when": r.polarity, "chart": {"p": "p-chart", "xmr": "XmR", None: "–"}[r.chart],
                     "variation_icon": r.variation_label, "assurance_icon": r.assurance_label,
                     "target_level": r.target_text(), "needs_a_look": r.needs_look, "reading": r.reading})
    out = pd.DataFrame(rows, columns=["indicator", "latest_period", "latest", "better_when", "chart", "variation_icon",
                                      "assurance_icon", "target_level", "needs_a_look", "reading"])
    return out.set_index("indicator")


# --------------------------------------------------------------------------------------
# benchmarks
# --------------------------------------------------------------------------------------
def benchmark_comparison(ds: Dataset, results: list[IndicatorResult] | None = None, *, alpha: float = 0.05) -> pd.DataFrame:
    """The latest local value of each indicator against each comparator's latest published value.

    Returns
    -------
    DataFrame
        One row per indicator and comparator: ``local_period``, ``local`` (text with counts),
        ``local_low``/``local_high`` (Wilson 95%, percentages), ``comparator``,
        ``comparator_period``, ``comparator_value``, ``comparator_low``/``comparator_high`` (when
        counts are published), ``difference`` (local − comparator, in the indicator's unit),
        ``difference_low``/``difference_high`` (Newcombe method 10, percentage points), ``test``,
        ``p_value``, ``q_value`` (Benjamini–Hochberg across the tested rows) and ``verdict``
        ("Better than …", "Worse than …", "No clear difference from …", or "Descriptive only: …").
    """
    results = assess(ds) if results is None else results
    bench = ds.benchmarks
    cols = ["indicator", "comparator", "local_period", "local", "local_low", "local_high", "comparator_period",
            "comparator_value", "comparator_low", "comparator_high", "difference", "difference_low", "difference_high",
            "test", "p_value", "q_value", "verdict"]
    if bench is None or bench.empty or not results:
        return pd.DataFrame(columns=cols).set_index(["indicator", "comparator"])
    rows = []
    latest_end = ds.indicators.groupby("indicator")["period_end"].max()
    for r in results:
        b = bench[bench["indicator"] == r.indicator]
        if b.empty:
            continue
        end = latest_end[r.indicator]
        for comp, bc in b.groupby("comparator", sort=True):
            started = bc[bc["period_start"] <= end].sort_values(["period_start", "period_end"])
            if started.empty:
                continue
            row = started.iloc[-1]
            rows.append(_compare_row(r, comp, row))
    out = pd.DataFrame(rows, columns=cols)
    tested = out["p_value"].notna()
    if tested.any():
        out.loc[tested, "q_value"] = np.asarray(trend.adjust(out.loc[tested, "p_value"].to_numpy(), method="fdr_bh"))
    out["verdict"] = [_verdict(row, alpha) for _, row in out.iterrows()]
    return out.set_index(["indicator", "comparator"])


def _compare_row(r: IndicatorResult, comparator: str, b: pd.Series) -> dict:
    row: dict[str, Any] = dict(indicator=r.indicator, comparator=comparator, local_period=r.latest_period,
                               local=r.latest_text(), local_low=np.nan, local_high=np.nan,
                               comparator_period=str(b["period"]), comparator_value=float(b["value"]),
                               comparator_low=np.nan, comparator_high=np.nan, difference=np.nan,
                               difference_low=np.nan, difference_high=np.nan, test="", p_value=np.nan,
                               q_value=np.nan, verdict="", _polarity=r.polarity)
    b_counts = pd.notna(b["numerator"]) and pd.notna(b["denominator"])
    if r.has_counts:
        x1, n1 = int(r.latest_numerator), int(r.latest_denominator)
        lo, hi = trend.proportion_ci(x1, n1)
        row.update(local_low=100 * lo, local_high=100 * hi)
        if b_counts:
            x2, n2 = int(b["numerator"]), int(b["denominator"])
            blo, bhi = trend.proportion_ci(x2, n2)
            row["comparator_value"] = 100 * x2 / n2
            res = trend.compare_two(x1, n1, x2, n2)
            dlo, dhi = trend.difference_ci(x1, n1, x2, n2)
            row.update(comparator_low=100 * blo, comparator_high=100 * bhi, difference=100 * (x1 / n1 - x2 / n2),
                       difference_low=100 * dlo, difference_high=100 * dhi, p_value=res.pvalue,
                       test="Fisher exact" if res.extra.get("test") == "fisher" else
                       "chi-squared (no Yates)" if res.extra.get("test") == "chi2" else "not tested")
            return row
        row["difference"] = r.latest_value - row["comparator_value"]
        row["test"] = "descriptive: comparator rate only"
        return row
    row["difference"] = r.latest_value - row["comparator_value"]
    row["test"] = "descriptive: no counts"
    return row


def _verdict(row: pd.Series, alpha: float) -> str:
    comp = row["comparator"]
    diff = row["difference"]
    better = {"higher": 1, "lower": -1}.get(row.get("_polarity", ""), 0)
    if pd.isna(row["p_value"]):
        side = "above" if diff > 0 else "below" if diff < 0 else "level with"
        unit = " points" if "%" in str(row["local"]) else ""
        return (f"Descriptive only: {fmt.number(abs(diff), 1)}{unit} {side} {comp} ({row['comparator_period']}); "
                "no counts for a test")
    if row["q_value"] >= alpha or diff == 0:
        return f"No clear difference from {comp} ({row['comparator_period']})"
    if better == 0:
        return f"{'Higher' if diff > 0 else 'Lower'} than {comp} ({row['comparator_period']})"
    return f"{'Better' if diff * better > 0 else 'Worse'} than {comp} ({row['comparator_period']})"


def benchmark_table(ds: Dataset, results: list[IndicatorResult] | None = None) -> pd.DataFrame:
    """:func:`benchmark_comparison` without its internal columns, for display."""
    out = benchmark_comparison(ds, results)
    return out.drop(columns=[c for c in out.columns if c.startswith("_")])


def unmatched_benchmarks(ds: Dataset) -> pd.DataFrame:
    """Benchmark rows set aside because their indicator name or period matched nothing, with the hint."""
    i = ds.issues
    if i is None or i.empty:
        return pd.DataFrame(columns=["file", "row", "column", "value", "message"])
    i = i[(i["table"] == "benchmarks") & i["rule"].isin(["unmatched_indicator", "unmatched_period"])]
    return i[["file", "row", "column", "value", "message"]].sort_values(["file", "row"]).reset_index(drop=True)


# --------------------------------------------------------------------------------------
# audit evidence
# --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class AuditEvidence:
    """% Good or better of the audit domain or cohort linked to an indicator, and its trend."""

    indicator: str
    link: str  # "domain" or "cohort"
    target: str  # the domain or cohort name
    periods: tuple[str, ...]
    good: tuple[int, ...]
    n: tuple[int, ...]
    trend_word: str
    trend_p: float
    trend_method: str
    latest_text: str
    agreement: str
    disagree: bool
    suggestion: str

    def history_text(self) -> str:
        """``"2024-25 Q1: 7/10 (70%); 2024-25 Q2: 8/10 (80%); no linked audits in 2023-24 Q4"``: periods with
        no audits are named once at the end, not printed as "0/0" (issue 16)."""
        parts = [f"{p}: {g}/{n} ({fmt.pct(g / n)})" for p, g, n in zip(self.periods, self.good, self.n) if n]
        gone = [p for p, n in zip(self.periods, self.n) if not n]
        if not parts:
            return NO_LINKED_AUDITS + " in " + ", ".join(gone)
        if gone:
            parts.append("no linked audits in " + ", ".join(gone))
        return "; ".join(parts)


def _good_counts(ds: Dataset, link: str, target: str, periods: list[str]) -> pd.DataFrame:
    if link == "domain":
        g = tables.audit_grades(ds, domain=target, periods=periods)
    else:
        g = tables.audit_grades(ds, periods=periods)
        g = g[g["cohort"] == target] if "cohort" in g.columns else g.iloc[0:0]
    good = g["grade"].isin(list(ds.scale.good_grades))
    out = pd.DataFrame({"period": g["period"], "good": good}).groupby("period")["good"].agg(["sum", "size"])
    return out.reindex(periods, fill_value=0).rename(columns={"sum": "good", "size": "n"}).astype(int)


def audit_evidence(ds: Dataset, results: list[IndicatorResult] | None = None) -> list[AuditEvidence]:
    """Audit evidence for every indicator named in params ``indicator_links`` that is in the data.

    Per history period: audits of the linked domain (auditor's domain grade) or cohort
    (overall grade) rated Good or better. Trend: Cochran–Armitage over the periods with audits
    (scores 1..k), exact when fewer than 30 events or non-events, worded with
    :func:`~qa_lib.stats.trend.classify_change`. Agreement compares the indicator's variation icon
    with the audit trend; for an indicator that needs a look, a thematic audit is suggested,
    naming the cohort (for a domain link: the cohort with the lowest % Good or better in that
    domain this period among cohorts with at least ``params.min_n`` audits).
    """
    results = assess(ds) if results is None else results
    links = ds.params.indicator_links or {}
    by_key = {_key(k): v for k, v in links.items()}
    periods = tables.periods_shown(ds)
    out = []
    for r in results:
        link = by_key.get(_key(r.indicator))
        if not link:
            continue
        kind, target = next(iter(link.items()))
        counts = _good_counts(ds, kind, target, periods)
        used = counts[counts["n"] > 0]
        # issue 16: with no linked audits, or only one period of them, there is no trend: said so, never "No clear change"
        word, p, method = NO_LINKED_AUDITS, math.nan, "no audits of the linked " + kind + " in any period shown"
        if len(used) >= 2:
            few = min(int(used["good"].sum()), int((used["n"] - used["good"]).sum()))
            ca = trend.cochran_armitage(used["good"].to_numpy(), used["n"].to_numpy(), exact=few < 30)
            word = str(trend.classify_change(ca, ca.extra.get("z", 0.0)))
            p = ca.pvalue
            method = "Cochran–Armitage" + (" (exact)" if few < 30 else "") + f" over {len(used)} periods"
        elif len(used) == 1:
            word, method = change.NO_EARLIER, f"audits in {used.index[0]} only: no trend test"
        now = counts.loc[periods[-1]]
        latest = trend.describe_proportion(int(now["good"]), int(now["n"]), small_n=ds.params.min_n) \
            if now["n"] else f"no linked audits in {periods[-1]}"
        agreement, disagree = _agreement(r, word)
        suggestion = _suggestion(ds, r, kind, target) if r.needs_look else ""
        out.append(AuditEvidence(indicator=r.indicator, link=kind, target=target, periods=tuple(periods),
                                 good=tuple(int(v) for v in counts["good"]), n=tuple(int(v) for v in counts["n"]),
                                 trend_word=word, trend_p=p, trend_method=method, latest_text=latest,
                                 agreement=agreement, disagree=disagree, suggestion=suggestion))
    return out


def _agreement(r: IndicatorResult, audit_word: str) -> tuple[str, bool]:
    ind = {"special_cause_concern": "worsening", "special_cause_improvement": "improving"}.get(r.variation or "", "")
    if audit_word in (NO_LINKED_AUDITS, change.NO_EARLIER):  # issue 16: nothing to set beside the indicator
        why = ("There are no linked audits in the periods shown" if audit_word == NO_LINKED_AUDITS else
               "The linked audits cover one period only")
        return f"{why}, so audit grades can neither confirm nor contradict the indicator.", False
    if ind == "worsening" and audit_word == "Improving":
        return ("They disagree: the indicator is worsening while audit grades are improving. Check whether the "
                "audit sample reaches the cases behind the indicator.", True)
    if ind == "improving" and audit_word == "Worsening":
        return ("They disagree: the indicator is improving while audit grades are falling. Check whether the "
                "indicator measures timeliness rather than quality.", True)
    if ind == "worsening" and audit_word == "Worsening":
        return "They agree: the indicator and audit grades are both worsening.", False
    if ind == "improving" and audit_word == "Improving":
        return "They agree: the indicator and audit grades are both improving.", False
    if ind:
        return f"Audit grades show no clear change, so they neither confirm nor contradict the {ind} indicator.", False
    if audit_word in ("Improving", "Worsening"):
        return f"The indicator shows no special cause at its latest point; audit grades are {audit_word.lower()}.", False
    return "Neither the indicator nor the audit grades show a clear change.", False


def _suggestion(ds: Dataset, r: IndicatorResult, kind: str, target: str) -> str:
    if kind == "cohort":
        return (f"Suggest a thematic audit of the {target} cohort, sampling the cases behind "
                f"'{r.indicator}' in {_list_periods(r.concern_periods[-3:], 3)}.")
    g = tables.audit_grades(ds, domain=target)
    cohort_note = ""
    if "cohort" in g.columns and len(g):
        by = g.assign(good=g["grade"].isin(list(ds.scale.good_grades))).groupby("cohort")["good"].agg(["mean", "size"])
        by = by[by["size"] >= ds.params.min_n]
        if len(by):
            worst = by.sort_values(["mean", "size"], ascending=[True, False]).index[0]
            # issue 14: the domain × cohort cell is published nowhere else; a published report names the cohort only
            figures = ("" if ds.params.audience == "published" else
                       f": {fmt.pct(by.loc[worst, 'mean'])} of {int(by.loc[worst, 'size'])}")
            cohort_note = (f", starting with the {worst} cohort (lowest % Good or better in {target} this period"
                           f"{figures})")
    return (f"Suggest a thematic audit of {target}{cohort_note}, sampling the cases behind '{r.indicator}'.")


def needs_look_table(ds: Dataset, results: list[IndicatorResult] | None = None) -> pd.DataFrame:
    """Indicators whose latest point is special cause concern, with the linked audit evidence beside them.

    Empty when no indicator needs a look (or none is configured). Indicators without a link say so.
    """
    results = assess(ds) if results is None else results
    evidence = {e.indicator: e for e in audit_evidence(ds, results)}
    rows = []
    for r in sorted(results, key=_priority):
        if not r.needs_look:
            continue
        e = evidence.get(r.indicator)
        rows.append({"indicator": r.indicator, "latest": f"{r.latest_text()} in {r.latest_period}",
                     "variation_icon": r.variation_label, "assurance_icon": r.assurance_label,
                     "audit_evidence": (f"{e.link.title()} '{e.target}': " + (
                         f"{e.latest_text} Good or better in {e.periods[-1]}" if e.n[-1] else
                         f"no linked audits in {e.periods[-1]}")) if e else "No audit domain or cohort linked "
                                       "(params indicator_links)",
                     "audit_trend": (f"{e.trend_word[0].upper()}{e.trend_word[1:]} ({e.trend_method}"
                                     + (f", {fmt.pvalue(e.trend_p)})" if math.isfinite(e.trend_p) else ")")) if e else "–",
                     "audits_and_indicator": e.agreement if e else "–",
                     "suggestion": e.suggestion if e else "Link the indicator to an audit domain or cohort to see "
                                                          "the audit evidence beside it."})
    cols = ["indicator", "latest", "variation_icon", "assurance_icon", "audit_evidence", "audit_trend",
            "audits_and_indicator", "suggestion"]
    return pd.DataFrame(rows, columns=cols).set_index("indicator")


def evidence_table(ds: Dataset, results: list[IndicatorResult] | None = None) -> pd.DataFrame:
    """Every linked indicator: its variation icon beside the audit % Good or better by period and trend."""
    results = assess(ds) if results is None else results
    by_name = {r.indicator: r for r in results}
    rows = []
    for e in audit_evidence(ds, results):
        r = by_name[e.indicator]
        rows.append({"indicator": e.indicator, "variation_icon": r.variation_label, "linked_to": f"{e.link}: {e.target}",
                     "good_or_better_by_period": e.history_text(), "this_period": e.latest_text,
                     "audit_trend": e.trend_word, "trend_p": e.trend_p, "audits_and_indicator": e.agreement,
                     "disagree": e.disagree})
    cols = ["indicator", "variation_icon", "linked_to", "good_or_better_by_period", "this_period", "audit_trend",
            "trend_p", "audits_and_indicator", "disagree"]
    return pd.DataFrame(rows, columns=cols).set_index("indicator")


def headline(ds: Dataset, results: list[IndicatorResult] | None = None) -> str:
    """One paragraph: how many indicators, which need a look, and where audits disagree."""
    results = assess(ds) if results is None else results
    if not results:
        return "No performance indicators are configured for this run (params data.indicators)."
    look = [r.indicator for r in sorted(results, key=_priority) if r.needs_look]
    fail = [r.indicator for r in results if r.assurance == "consistent_fail"]
    text = f"{len(results)} indicator(s) charted. "
    text += (f"{len(look)} need a look (special cause concern at the latest point): " + "; ".join(look) + ". "
             if look else "None shows special cause concern at its latest point. ")
    if fail:
        text += f"{len(fail)} cannot reliably meet its target without a change to the process: " + "; ".join(fail) + ". "
    dis = [e.indicator for e in audit_evidence(ds, results) if e.disagree]
    if dis:
        text += "Audits and indicator disagree for: " + "; ".join(dis) + "."
    return text.strip()


METHODS_NOTE = (
    "Charts follow NHS England's Making Data Count rules as coded in NHSRplotthedots 0.2.2: a point outside the "
    "process limits; 7 points in a row rising or falling; 2 of 3 points close to a limit on the same side; 7 points "
    "in a row on one side of the mean. Rate indicators with counts use a p-chart (limits from each month's own "
    "denominator); others an XmR chart (mean ± 2.66 × mean moving range, large moving ranges screened once). The "
    "variation icon describes the latest point only; the assurance icon compares the latest target with the process "
    "limits. A signal is a prompt for a question, not a verdict. Benchmarks: Wilson 95% intervals, Newcombe interval "
    "for the difference, Fisher's exact test when an expected count is below 5 and otherwise chi-squared without "
    "Yates' correction, p-values adjusted by Benjamini–Hochberg across this report's comparisons; comparators that "
    "publish rates without counts are compared descriptively. Audit trends: Cochran–Armitage over the history "
    "periods (scores 1..k), exact when there are fewer than 30 events or non-events.")

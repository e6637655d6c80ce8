"""Interactive explorer: filter the audits, pick a measure, see a chart and a table, compare two slices.

The explorer is the analysts' tool (SPEC "Explorer"), not a batch report. Everything it shows comes
from pure functions in this module, each testable without a browser:

==========================================  =====================================================
question                                    function
==========================================  =====================================================
which rows does this selection keep?        :func:`filter_rows`
the table for a measure, by a breakdown     :func:`measure_table`
the chart for that table                    :func:`measure_chart`
selection A against selection B             :func:`compare_selections`
==========================================  =====================================================

:class:`Explorer` holds the ipywidgets controls, calls those functions when a control changes and
writes the current table to ``<output root>/exports/`` as CSV and Excel. ``notebooks/explore.py``
only builds an :class:`Explorer` and displays it; ``qa_lib.explore_app`` serves that notebook with
Voilà.

Conventions are those of the quarterly report (:mod:`qa_lib.tables`):

- "Audit grade" is the auditor's grade, or a peer's where no auditor graded that audit and domain
  (:func:`qa_lib.tables.audit_grades`); the other rater choices show every grade given in that role.
- Return rate = returned ÷ (allocated − exempt); allocations carry month, service area and (when
  exported) team, so the cohort, domain and rater filters do not apply to it.
- Agreement compares the auditor's and the moderator's grade of each moderated audit and domain
  (:func:`qa_lib.tables.moderation_pairs`).
- Proportions carry Wilson 95% intervals (:func:`qa_lib.trend.proportion_ci`); a comparison uses
  :func:`qa_lib.trend.compare_two` and Newcombe's interval (:func:`qa_lib.trend.difference_ci`).
- A group value that is missing (no team recorded) forms its own row, ``Not recorded``: rows are
  never dropped silently.
"""

from __future__ import annotations

import datetime as _dt
import html
import math
import os
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from qa_lib import present, tables
from qa_lib.charts import GRADE_COLOURS, PALETTE, Chart, stacked_grades, to_chart
from qa_lib.data import Dataset
from qa_lib.errors import QAError, problem
from qa_lib.periods import parse_period
from qa_lib.trend import compare_two, difference_ci, proportion_ci

__all__ = [
    "ALL", "MEASURES", "ROLES", "BREAKDOWNS", "EMPTY_MESSAGE", "NOT_RECORDED", "Selection",
    "available_periods", "filter_rows", "measure_table", "measure_chart", "measure_notes",
    "events", "compare_selections", "comparison_sentence", "View", "build_view", "display_table", "table_html",
    "chart_html", "Explorer",
]

#: value of a filter control meaning "no restriction"
ALL = ""
EMPTY_MESSAGE = "No audits match these filters."
NOT_RECORDED = "Not recorded"
MEASURES = {
    "good": "% Good or better",
    "distribution": "Grade distribution",
    "returns": "Return rate",
    "agreement": "Agreement (auditor vs moderator)",
}
ROLES = {
    "audit": "Audit grade (auditor; peer where no auditor)",
    "auditor": "Auditor",
    "moderator": "Moderator",
    "peer": "Peer",
}
BREAKDOWNS = {
    "period": "Period",
    "month": "Month",
    "service_area": "Service area",
    "team": "Team",
    "cohort": "Cohort",
    "domain": "Domain",
}
#: which source table each measure counts
SOURCES = {"good": "grades", "distribution": "grades", "returns": "allocations", "agreement": "pairs"}
_ALLOCATION_BREAKDOWNS = {"period": "period", "month": "month_label", "service_area": "service_area", "team": "team"}

_LABELS = {
    "ci_low": "95% CI low", "ci_high": "95% CI high", "events": "Events", "estimate": "Estimate",
    "agreed": "Same grade", "percent_agreement": "% agreement", "kappa": "Cohen's kappa",
    "kappa_ci_low": "Kappa 95% CI low", "kappa_ci_high": "Kappa 95% CI high", "ac1": "Gwet's AC1",
    "ac1_ci_low": "AC1 95% CI low", "ac1_ci_high": "AC1 95% CI high", "n_downgraded": "Downgraded",
    "n_upgraded": "Upgraded", "p_value": "p-value", "test": "Test", "selection": "Selection",
    "due": "Due (allocated − exempt)",
}
_PERCENT_COLUMNS = {"ci_low", "ci_high", "percent_agreement", "estimate"}


# --------------------------------------------------------------------------------------
# selections
# --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Selection:
    """What one side of the explorer is filtered to.

    Attributes
    ----------
    periods : tuple of str
        Period labels kept (``"2024-25 Q2"``), oldest first.
    service_area, team, cohort : str
        One value, or :data:`ALL` (``""``) for no restriction.
    domain : str or None
        ``"Overall"`` or a practice domain; ``None`` keeps every practice domain (used when the
        table is broken down by domain).
    role : str
        A key of :data:`ROLES`.
    """

    periods: tuple[str, ...]
    service_area: str = ALL
    team: str = ALL
    cohort: str = ALL
    domain: str | None = "Overall"
    role: str = "audit"

    def describe(self) -> str:
        """One line a reader can check: ``2024-25 Q1 to 2024-25 Q2 · Front Door · all teams · ...``."""
        if not self.periods:
            span = "no periods"
        elif len(self.periods) == 1:
            span = self.periods[0]
        else:
            span = f"{self.periods[0]} to {self.periods[-1]}"
        parts = [span, self.service_area or "all service areas", self.team or "all teams",
                 self.cohort or "all cohorts", self.domain if self.domain is not None else "every practice domain",
                 ROLES.get(self.role, self.role)]
        return " · ".join(parts)


def available_periods(ds: Dataset) -> list[str]:
    """Every period label from the earliest audit or allocation to the latest (and the params period).

    Periods inside that span with no data are included, so a gap shows as a row with n = 0.
    """
    labels = set(ds.audits["period"].dropna().unique().tolist()) | set(ds.allocations["period"].dropna().unique().tolist())
    labels.add(ds.period.label)
    found = sorted(parse_period(lab) for lab in labels)
    first, last = found[0], found[-1]
    out, p = [], first
    while p <= last:
        out.append(p.label)
        p = p.shift(1)
    return out


def _check_choice(value: str, choices: dict, what: str) -> None:
    if value not in choices:
        raise problem(QAError, f"explorer {what}", expected="one of " + ", ".join(map(repr, choices)),
                      received=repr(value), fix=f"pick a {what} from the list")


def _restrict(frame: pd.DataFrame, column: str, value: str) -> pd.DataFrame:
    if value == ALL:
        return frame
    if column not in frame.columns:
        return frame.iloc[0:0]
    return frame[frame[column] == value]


def filter_rows(ds: Dataset, selection: Selection, source: str) -> pd.DataFrame:
    """The rows of ``source`` that ``selection`` keeps.

    Parameters
    ----------
    ds : Dataset
    selection : Selection
    source : {"grades", "allocations", "pairs"}
        ``grades``: one grade per row (for "Audit grade", one per audit and domain, as the
        quarterly report counts them); ``allocations``: allocated audits; ``pairs``: auditor and
        moderator grade of one moderated audit and domain.

    Returns
    -------
    pandas.DataFrame
        Possibly empty. Filters a table cannot carry (cohort or domain for allocations, rater for
        pairs) are not applied to it: :func:`measure_notes` says so.
    """
    periods = list(selection.periods)
    if source == "grades":
        _check_choice(selection.role, ROLES, "rater role")
        r = ds.ratings[ds.ratings["period"].isin(periods)]
        r = r[r["domain"] != "Overall"] if selection.domain is None else r[r["domain"] == selection.domain]
        if selection.role == "audit":
            r = r[r["role"].isin(["auditor", "peer"])].sort_values("role", kind="stable")
            r = r.drop_duplicates(["audit_id", "domain"], keep="first").sort_index()
        else:
            r = r[r["role"] == selection.role]
        frame = r
    elif source == "allocations":
        frame = ds.allocations[ds.allocations["period"].isin(periods)]
        frame = _restrict(frame, "service_area", selection.service_area)
        return _restrict(frame, "team", selection.team)
    elif source == "pairs":
        pairs = tables.moderation_pairs(ds, periods=periods) if periods else tables.moderation_pairs(ds).iloc[0:0]
        frame = pairs[pairs["domain"] != "Overall"] if selection.domain is None else pairs[pairs["domain"] == selection.domain]
    else:
        raise problem(QAError, "filter_rows source", expected="'grades', 'allocations' or 'pairs'", received=repr(source))
    if not periods:
        frame = frame.iloc[0:0]
    for column in ("service_area", "team", "cohort"):
        frame = _restrict(frame, column, getattr(selection, column))
    return frame


# --------------------------------------------------------------------------------------
# tables
# --------------------------------------------------------------------------------------
def _group_column(measure: str, by: str) -> str | None:
    if SOURCES[measure] == "allocations":
        return _ALLOCATION_BREAKDOWNS.get(by)
    return by


def _groups(ds: Dataset, frame: pd.DataFrame, selection: Selection, by: str, column: str) -> tuple[pd.Series, list]:
    """The group of each row (missing → Not recorded) and the group order."""
    if by == "period":
        return frame[column].astype("string"), list(selection.periods)
    if by == "month":
        months = [m.label for p in selection.periods for m in parse_period(p).months()]
        return frame[column].astype("string"), list(dict.fromkeys(months))
    values = frame[column].astype("string").fillna(NOT_RECORDED) if column in frame.columns \
        else pd.Series(NOT_RECORDED, index=frame.index, dtype="string")
    seen = values.unique().tolist()
    if by == "domain":
        order = [d for d in ds.domains if d in seen] + sorted(v for v in seen if v not in ds.domains)
    else:
        order = sorted(v for v in seen if v != NOT_RECORDED) + ([NOT_RECORDED] if NOT_RECORDED in seen else [])
    return values, order


def _with_ci(out: pd.DataFrame, x: str, n: str) -> pd.DataFrame:
    lo, hi = proportion_ci(out[x].to_numpy(dtype=float), out[n].to_numpy(dtype=float))
    out["ci_low"], out["ci_high"] = np.atleast_1d(lo), np.atleast_1d(hi)
    return out


def _empty_table(ds: Dataset, measure: str, by: str) -> pd.DataFrame:
    cols = {
        "good": ["n", "good_or_better", "good_or_better_share", "ci_low", "ci_high"],
        "distribution": [*ds.scale.grades, "n", *[f"{g}_share" for g in ds.scale.grades],
                         "good_or_better", "good_or_better_share", "ci_low", "ci_high"],
        "returns": ["allocated", "returned", "not returned", "exempt", "due", "return_rate", "ci_low", "ci_high", "target"],
        "agreement": ["n", "agreed", "percent_agreement", "ci_low", "ci_high", "kappa", "kappa_ci_low", "kappa_ci_high",
                      "ac1", "ac1_ci_low", "ac1_ci_high", "n_downgraded", "n_upgraded"],
    }[measure]
    return pd.DataFrame(columns=cols, index=pd.Index([], name=by))


def measure_table(ds: Dataset, selection: Selection, measure: str, *, by: str = "period") -> pd.DataFrame:
    """The explorer's table: one row per group of ``by`` and a ``Total`` row, full precision.

    Parameters
    ----------
    ds : Dataset
    selection : Selection
        With ``by="domain"`` pass ``domain=None`` to see every practice domain.
    measure : str
        A key of :data:`MEASURES`.
    by : str
        A key of :data:`BREAKDOWNS`. Rows by period or month list every period/month of the
        selection, empty ones with n = 0.

    Returns
    -------
    pandas.DataFrame
        Index named ``by``; shares are fractions 0–1, never rounded. Columns:

        - ``good``: ``n``, ``good_or_better``, ``good_or_better_share``, ``ci_low``, ``ci_high``
        - ``distribution``: one count per grade of the scale, ``n``, ``<grade>_share`` per grade,
          then the ``good`` columns
        - ``returns``: ``allocated``, ``returned``, ``not returned``, ``exempt``, ``due``,
          ``return_rate``, ``ci_low``, ``ci_high``, ``target``
        - ``agreement``: ``n`` pairs, ``agreed``, ``percent_agreement``, ``ci_low``, ``ci_high``,
          ``kappa`` and ``ac1`` with their CIs, ``n_downgraded``, ``n_upgraded``

        Empty (no rows, same columns) when the selection keeps no data, or when ``by`` cannot
        apply (returns by cohort or domain).

    Notes
    -----
    Intervals for shares are Wilson 95% (``proportion_ci``); kappa is Cohen's with the FCE
    standard error and AC1 Gwet's, both as :func:`qa_lib.agreement.agreement_table` computes them.
    """
    _check_choice(measure, MEASURES, "measure")
    _check_choice(by, BREAKDOWNS, "breakdown")
    column = _group_column(measure, by)
    frame = filter_rows(ds, selection, SOURCES[measure])
    if frame.empty or column is None:
        return _empty_table(ds, measure, by)
    groups, order = _groups(ds, frame, selection, by, column)
    frame = frame.assign(_group=pd.Categorical(groups, categories=order))
    if measure in ("good", "distribution"):
        counts = tables.grade_counts(frame, ds, by="_group")
        counts.index = counts.index.astype(object)
        counts.index.name = by
        out = counts.copy()
        if measure == "good":
            out = out[["n", "good_or_better", "good_or_better_share"]].copy()
        else:
            grades = list(ds.scale.grades)
            shares = {f"{g}_share": (out[g] / out["n"]).where(out["n"] > 0) for g in grades}
            out = pd.concat([out[grades + ["n"]], pd.DataFrame(shares), out[["good_or_better", "good_or_better_share"]]], axis=1)
        return _with_ci(out, "good_or_better", "n")
    if measure == "returns":
        status = pd.crosstab(frame["_group"], frame["status"], dropna=False)
        status = status.reindex(index=order, columns=["returned", "not returned", "exempt"], fill_value=0)
        status.loc[tables.TOTAL] = status.sum()
        status = status.astype("int64")
        status.insert(0, "allocated", status.sum(axis=1))
        status["due"] = status["allocated"] - status["exempt"]
        status["return_rate"] = (status["returned"] / status["due"]).where(status["due"] > 0)
        status = _with_ci(status, "returned", "due")
        status["target"] = ds.params.return_target
        status.index.name, status.columns.name = by, None
        return status
    # agreement
    from qa_lib.agreement import agreement_table

    grades = list(ds.scale.grades)
    per = agreement_table(frame, by="_group", categories=grades).set_index("_group")
    per = per.reindex(order)
    total = agreement_table(frame, by=None, categories=grades)
    total.index = [tables.TOTAL]
    table = pd.concat([per, total])
    agreed = frame.assign(_same=frame["change"] == "same").groupby("_group", observed=False)["_same"].sum()
    out = pd.DataFrame(index=table.index)
    out["n"] = table["n"].fillna(0).astype("int64")
    out["agreed"] = pd.concat([agreed.reindex(order).fillna(0), pd.Series({tables.TOTAL: agreed.sum()})]).astype("int64").to_numpy()
    out["percent_agreement"] = (out["agreed"] / out["n"]).where(out["n"] > 0)
    out = _with_ci(out, "agreed", "n")
    for name in ("kappa", "ac1"):
        for suffix in ("", "_ci_low", "_ci_high"):
            out[name + suffix] = table[name + suffix].to_numpy(dtype=float)
    for name in ("n_downgraded", "n_upgraded"):
        out[name] = table[name].fillna(0).astype("int64").to_numpy()
    out.index.name = by
    return out


def events(ds: Dataset, selection: Selection, measure: str) -> tuple[int, int]:
    """The counts a comparison tests: (events, total) of the selection.

    ``good`` and ``distribution``: grades Good or better out of grades; ``returns``: returned out
    of allocated − exempt; ``agreement``: pairs with the same grade out of moderated pairs.
    """
    _check_choice(measure, MEASURES, "measure")
    frame = filter_rows(ds, selection, SOURCES[measure])
    if measure == "returns":
        due = int((frame["status"] != "exempt").sum())
        return int((frame["status"] == "returned").sum()), due
    if measure == "agreement":
        return int((frame["change"] == "same").sum()), len(frame)
    return int(frame["grade"].isin(ds.scale.good_grades).sum()), len(frame)


def _keys(ds: Dataset, selection: Selection, measure: str) -> set:
    frame = filter_rows(ds, selection, SOURCES[measure])
    column = "allocation_id" if measure == "returns" else "audit_id"
    return set(frame[column].dropna())


def compare_selections(ds: Dataset, a: Selection, b: Selection, measure: str) -> pd.DataFrame:
    """Selection A against selection B: each share with its interval, and the difference tested.

    Returns
    -------
    pandas.DataFrame
        Rows ``A``, ``B`` and ``A − B``. Columns ``selection`` (description), ``events``, ``n``,
        ``estimate`` (share, or the difference of shares), ``ci_low``, ``ci_high`` (Wilson for A
        and B, Newcombe hybrid score for the difference), ``p_value`` and ``test`` (from
        :func:`~qa_lib.trend.compare_two`: Fisher's exact test when an expected count is below 5,
        otherwise Pearson chi-squared without continuity correction), ``note``.

    Notes
    -----
    The grade distribution is compared through its % Good or better. The test assumes the two
    selections are independent; when they share audits (e.g. "all areas" against one area) the
    note says so and the p-value should not be used.
    """
    x1, n1 = events(ds, a, measure)
    x2, n2 = events(ds, b, measure)
    res = compare_two(x1, n1, x2, n2)
    lo, hi = difference_ci(x1, n1, x2, n2)
    (la, ha), (lb, hb) = proportion_ci(x1, n1), proportion_ci(x2, n2)
    shared = len(_keys(ds, a, measure) & _keys(ds, b, measure))
    note = res.note
    if shared:
        unit = "allocations" if measure == "returns" else "audits"
        note = (f"The two selections share {shared} {unit}: the test assumes independent groups, so do not "
                f"rely on its p-value. " + note).strip()
    rows = [
        {"selection": a.describe(), "events": x1, "n": n1, "estimate": x1 / n1 if n1 else math.nan,
         "ci_low": la, "ci_high": ha, "p_value": math.nan, "test": "", "note": ""},
        {"selection": b.describe(), "events": x2, "n": n2, "estimate": x2 / n2 if n2 else math.nan,
         "ci_low": lb, "ci_high": hb, "p_value": math.nan, "test": "", "note": ""},
        {"selection": "Difference, A minus B", "events": pd.NA, "n": pd.NA,
         "estimate": res.extra["difference"], "ci_low": lo, "ci_high": hi, "p_value": res.pvalue,
         "test": res.method, "note": note},
    ]
    out = pd.DataFrame(rows, index=pd.Index(["A", "B", "A − B"], name="row"))
    out["events"] = out["events"].astype("Int64")
    out["n"] = out["n"].astype("Int64")
    return out


def comparison_sentence(comparison: pd.DataFrame, measure: str, *, alpha: float = 0.05) -> str:
    """Plain words for a :func:`compare_selections` table."""
    diff = comparison.loc["A − B"]
    what = "% Good or better" if measure in ("good", "distribution") else MEASURES[measure]
    if not math.isfinite(float(diff["estimate"])):
        return f"{what}: one of the selections has no data, so there is nothing to compare."
    points = 100 * float(diff["estimate"])
    text = (f"{what}: A − B = {points:+.0f} percentage points "
            f"(95% interval {100 * float(diff['ci_low']):+.0f} to {100 * float(diff['ci_high']):+.0f}).")
    p = float(diff["p_value"])
    if math.isfinite(p):
        verdict = "unlikely to be chance alone" if p < alpha else "could be chance"
        text += f" p = {p:.3g}: the difference {verdict}."
    if diff["note"]:
        text += " " + str(diff["note"])
    return text


def measure_notes(ds: Dataset, selection: Selection, measure: str, table: pd.DataFrame, *, by: str) -> list[str]:
    """Caveats for what is on screen: filters that do not apply, breakdowns that cannot, small n."""
    notes = []
    if measure == "returns":
        ignored = [name for name, on in (("cohort", selection.cohort != ALL),
                                         ("domain", selection.domain not in ("Overall", None)),
                                         ("rater", selection.role != "audit")) if on]
        if ignored:
            notes.append("Allocations record month, service area and team only: the " + ", ".join(ignored)
                         + " filter does not apply to the return rate.")
        if _group_column(measure, by) is None:
            notes.append(f"Return rates cannot be broken down by {BREAKDOWNS[by].lower()}: allocations do not record it.")
    if measure == "agreement" and selection.role != "audit":
        notes.append("Agreement always compares the auditor's grade with the moderator's: the rater filter does not apply.")
    n_col = "due" if measure == "returns" else "n"
    if len(table) and n_col in table.columns:
        small = [str(i) for i, n in table[n_col].items() if 0 < n < ds.params.min_n]
        if small:
            notes.append(f"Fewer than {ds.params.min_n} in: {', '.join(small)}. Treat these percentages with caution.")
    return notes


# --------------------------------------------------------------------------------------
# charts and display
# --------------------------------------------------------------------------------------
_ESTIMATE = {"good": "good_or_better_share", "returns": "return_rate", "agreement": "percent_agreement"}


def measure_chart(ds: Dataset, table: pd.DataFrame, measure: str, *, title: str) -> Chart | None:
    """Stacked grade bars (distribution) or dots with 95% interval bars (shares); ``None`` if nothing to draw."""
    if table.empty:
        return None
    if measure == "distribution":
        return stacked_grades(table.drop(index=tables.TOTAL, errors="ignore"), list(ds.scale.grades),
                              title=title, what="the grade mix in each group of the selection")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import PercentFormatter

    est = _ESTIMATE[measure]
    n_col = "due" if measure == "returns" else "n"
    rows = table[table[n_col] > 0]
    if rows.empty:
        return None
    labels = [str(i) for i in rows.index]
    y = np.arange(len(rows))
    p = rows[est].to_numpy(dtype=float)
    lo, hi = rows["ci_low"].to_numpy(dtype=float), rows["ci_high"].to_numpy(dtype=float)
    colours = [PALETTE[4] if lab == tables.TOTAL else PALETTE[0] for lab in labels]
    fig, ax = plt.subplots(figsize=(7.5, 0.4 * len(rows) + 1.3))
    ax.hlines(y, lo, hi, color=colours, linewidth=2)
    ax.scatter(p, y, color=colours, zorder=3, s=30)
    for yi, (pi, ni) in enumerate(zip(p, rows[n_col])):
        ax.text(1.02, yi, f"{pi:.0%} (n = {int(ni)})", va="center", fontsize=8, transform=ax.get_yaxis_transform())
    if measure == "returns":
        ax.axvline(ds.params.return_target, color=GRADE_COLOURS[2], linestyle="--", linewidth=1)
    ax.set_yticks(y, labels)
    ax.invert_yaxis()
    ax.set_xlim(0, 1)
    ax.xaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set_title(title, loc="left", fontsize=10)
    parts = [f"{lab}: {pi:.0%} (95% interval {a:.0%} to {b:.0%}, n = {int(ni)})"
             for lab, pi, a, b, ni in zip(labels, p, lo, hi, rows[n_col])]
    alt = f"Dot chart of {MEASURES[measure]} with 95% interval bars. " + "; ".join(parts) + "."
    return to_chart(fig, alt=alt, title=title)


def _label(column: object) -> str:
    text = str(column)
    if text in _LABELS:
        return _LABELS[text]
    if text.endswith("_share") and not text.islower():
        return "% " + text[: -len("_share")]
    return present.label(text)


def display_table(frame: pd.DataFrame) -> pd.DataFrame:
    """Text version of an explorer table: percentages, labels, ``–`` for missing."""
    def cell(value, column):
        if str(column) in _PERCENT_COLUMNS or str(column).endswith(("_ci_low", "_ci_high")) and "kappa" not in str(column) \
                and "ac1" not in str(column):
            if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
                return "–"
            return present.pct(value) if str(column) != "estimate" or abs(float(value)) <= 1 else str(value)
        if str(column) == "p_value":
            return "–" if value is None or value is pd.NA or not math.isfinite(float(value)) else f"{float(value):.3g}"
        return present.format_cell(value, column)
    out = pd.DataFrame({_label(c): [cell(v, c) for v in frame[c]] for c in frame.columns}, index=frame.index)
    out.index = out.index.set_names([present.label(n) if n is not None else None for n in out.index.names])
    return out


def table_html(frame: pd.DataFrame, *, caption: str) -> str:
    """Accessible HTML table (caption, scoped headers, escaped values) of an explorer table."""
    shown = display_table(frame)
    heads = [f'<th scope="col">{html.escape(str(n or ""))}</th>' for n in shown.index.names]
    heads += [f'<th scope="col">{html.escape(str(c))}</th>' for c in shown.columns]
    body = []
    for idx, row in shown.iterrows():
        cells = [f'<th scope="row">{html.escape(str(idx))}</th>'] + [f"<td>{html.escape(str(v))}</td>" for v in row]
        cls = ' class="total"' if idx == tables.TOTAL else ""
        body.append(f"<tr{cls}>{''.join(cells)}</tr>")
    return (f'<div class="table-wrap"><table class="qa-table explorer-table"><caption>{html.escape(caption)}</caption>'
            f"<thead><tr>{''.join(heads)}</tr></thead><tbody>{''.join(body)}</tbody></table></div>")


def chart_html(chart: Chart | None) -> str:
    if chart is None:
        return ""
    return (f'<figure class="chart" style="margin:0"><img src="{chart.data_uri()}" alt="{html.escape(chart.alt)}" '
            f'style="max-width:100%"></figure>')


# --------------------------------------------------------------------------------------
# the widget app
# --------------------------------------------------------------------------------------
_STYLE = """<style>
.explorer-table { border-collapse: collapse; font-size: 0.9em; }
.explorer-table th, .explorer-table td { border-bottom: 1px solid #ccc; padding: 2px 8px; text-align: right; }
.explorer-table th[scope=row] { text-align: left; }
.explorer-table tr.total { font-weight: bold; }
.explorer-empty { padding: 8px; border-left: 4px solid #F46A25; background: #fff4ec; }
</style>"""


@dataclass(frozen=True)
class View:
    """What one selection shows: table, chart, notes, and how many rows matched."""

    selection: Selection
    rows: int
    table: pd.DataFrame
    chart: Chart | None
    notes: tuple[str, ...]


def build_view(ds: Dataset, selection: Selection, measure: str, *, by: str, label: str = "") -> View:
    """Table, chart and notes for one selection (``rows == 0`` means nothing matched)."""
    if by == "domain":
        selection = replace(selection, domain=None)
    rows = len(filter_rows(ds, selection, SOURCES[measure]))
    table = measure_table(ds, selection, measure, by=by) if rows else _empty_table(ds, measure, by)
    title = f"{label}{MEASURES[measure]} by {BREAKDOWNS[by].lower()}"
    chart = measure_chart(ds, table, measure, title=title) if rows else None
    return View(selection, rows, table, chart, tuple(measure_notes(ds, selection, measure, table, by=by)))


class Explorer:
    """The explorer app: ipywidgets controls bound to :func:`measure_table` and friends.

    Parameters
    ----------
    dataset : Dataset
    export_dir : path-like, optional
        Where :meth:`export` writes; ``None`` or ``""`` means ``<params output root>/exports``,
        i.e. ``outputs/exports/`` for the demo.

    Attributes
    ----------
    controls : dict of str to widget
        ``periods`` (range slider), ``service_area``, ``team``, ``cohort``, ``domain``, ``role``,
        ``measure``, ``by``, ``compare`` and, for selection B, ``periods_b``, ``service_area_b``,
        ``team_b``, ``cohort_b``, ``domain_b``. Setting a control's ``value`` refreshes the view.
    view, view_b : View
        What selection A (and B in comparison mode) shows now.
    comparison : DataFrame or None
        :func:`compare_selections` of A and B in comparison mode.
    message, chart, table, notes, compare_html, table_b, chart_b, export_status : ipywidgets.HTML
        The output areas (their ``value`` is the HTML shown).
    app : ipywidgets.VBox
        The whole app; display it (the notebook's last cell does).
    """

    def __init__(self, dataset: Dataset, *, export_dir: str | os.PathLike | None = None):
        import ipywidgets as w

        self.ds = dataset
        self.export_dir = Path(export_dir) if export_dir else dataset.params.output_root / "exports"
        self.periods = available_periods(dataset)
        default_periods = [p for p in tables.periods_shown(dataset) if p in self.periods] or [self.periods[-1]]
        first, last = self.periods.index(default_periods[0]), self.periods.index(default_periods[-1])

        def options(column: str, everything: str) -> list[tuple[str, str]]:
            values = set()
            for frame in (dataset.audits, dataset.allocations):
                if column in frame.columns:
                    values |= set(frame[column].dropna().astype(str))
            return [(everything, ALL)] + [(v, v) for v in sorted(values)]

        domains = [("Overall", "Overall")] + [(d, d) for d in dataset.domains]
        layout = w.Layout(width="auto")
        style = {"description_width": "110px"}

        def side(suffix: str) -> dict:
            return {
                "periods" + suffix: w.SelectionRangeSlider(options=self.periods, index=(first, last), description="Periods",
                                                           continuous_update=False, readout=False, style=style,
                                                           layout=w.Layout(width="420px")),
                "service_area" + suffix: w.Dropdown(options=options("service_area", "All service areas"), value=ALL,
                                                    description="Service area", style=style, layout=layout),
                "team" + suffix: w.Dropdown(options=options("team", "All teams"), value=ALL, description="Team",
                                            style=style, layout=layout),
                "cohort" + suffix: w.Dropdown(options=options("cohort", "All cohorts"), value=ALL, description="Cohort",
                                              style=style, layout=layout),
                "domain" + suffix: w.Dropdown(options=domains, value="Overall", description="Domain", style=style, layout=layout),
            }

        self.controls: dict[str, Any] = {**side("")}
        self.controls.update(
            role=w.Dropdown(options=[(v, k) for k, v in ROLES.items()], value="audit", description="Rater", style=style, layout=layout),
            measure=w.Dropdown(options=[(v, k) for k, v in MEASURES.items()], value="good", description="Measure", style=style, layout=layout),
            by=w.Dropdown(options=[(v, k) for k, v in BREAKDOWNS.items()], value="period", description="Break down by", style=style, layout=layout),
            compare=w.Checkbox(value=False, description="Compare with a second selection (B)", indent=False),
        )
        self.controls.update(side("_b"))
        for name, control in self.controls.items():
            control.add_class("qa-" + name.replace("_", "-"))
        self.export_button = w.Button(description="Export table (Excel and CSV)", icon="download",
                                      layout=w.Layout(width="auto"))
        self.export_button.add_class("qa-export")
        self.export_button.on_click(lambda _button: self.export())

        def area(name: str):
            out = w.HTML()
            out.add_class("qa-" + name)
            return out

        self.message, self.notes, self.chart, self.table = area("message"), area("notes"), area("chart"), area("table")
        self.chart_b, self.table_b, self.compare_html, self.export_status = (
            area("chart-b"), area("table-b"), area("comparison"), area("export-status"))
        self.view: View | None = None
        self.view_b: View | None = None
        self.comparison: pd.DataFrame | None = None
        self.last_export: list[Path] = []

        c = self.controls
        self.period_text, self.period_text_b = area("period-text"), area("period-text-b")
        self._b_box = w.VBox([w.HTML("<strong>Selection B</strong>"), c["periods_b"], self.period_text_b,
                              c["service_area_b"], c["team_b"], c["cohort_b"], c["domain_b"]])
        a_box = w.VBox([w.HTML("<strong>Selection A</strong>"), c["periods"], self.period_text, c["service_area"],
                        c["team"], c["cohort"], c["domain"]])
        shared = w.VBox([c["measure"], c["by"], c["role"], c["compare"], self.export_button, self.export_status])
        self._b_out = w.VBox([self.chart_b, self.table_b])
        self._b_out.add_class("qa-selection-b-output")
        results = w.HBox([w.VBox([self.chart, self.table], layout=w.Layout(flex="1 1 0")), self._b_out])
        self.app = w.VBox([w.HTML(_STYLE), w.HBox([a_box, self._b_box, shared]), self.message, self.compare_html,
                           results, self.notes])
        self.app.add_class("qa-explorer")
        for control in self.controls.values():
            control.observe(self._on_change, names="value")
        self.refresh()

    @classmethod
    def from_params(cls, params_path: str | os.PathLike, **kwargs) -> "Explorer":
        """Load the params file and its data, and build the explorer on them."""
        from qa_lib.data import load_dataset
        from qa_lib.params import load_params

        return cls(load_dataset(load_params(params_path)), **kwargs)

    # -- state -------------------------------------------------------------------------
    def _selection(self, suffix: str = "") -> Selection:
        c = self.controls
        lo, hi = c["periods" + suffix].index
        return Selection(periods=tuple(self.periods[lo:hi + 1]), service_area=c["service_area" + suffix].value,
                         team=c["team" + suffix].value, cohort=c["cohort" + suffix].value,
                         domain=c["domain" + suffix].value, role=c["role"].value)

    @property
    def selection(self) -> Selection:
        """Selection A as the controls set it."""
        return self._selection("")

    @property
    def selection_b(self) -> Selection:
        return self._selection("_b")

    @property
    def measure(self) -> str:
        return self.controls["measure"].value

    @property
    def by(self) -> str:
        return self.controls["by"].value

    @property
    def comparing(self) -> bool:
        return bool(self.controls["compare"].value)

    @property
    def current_table(self) -> pd.DataFrame:
        """What the export writes: the comparison in comparison mode, else selection A's table."""
        if self.comparing and self.comparison is not None:
            return self.comparison
        return self.view.table if self.view is not None else pd.DataFrame()

    def _on_change(self, _change) -> None:
        self.refresh()

    # -- drawing -----------------------------------------------------------------------
    def refresh(self) -> None:
        """Recompute every output from the controls (called on every change)."""
        c = self.controls
        by_domain = self.by == "domain"
        c["domain"].disabled = c["domain_b"].disabled = by_domain
        c["role"].disabled = self.measure in ("returns", "agreement")
        for name in ("periods_b", "service_area_b", "team_b", "cohort_b", "domain_b"):
            c[name].disabled = not self.comparing or (name == "domain_b" and by_domain)
        self._b_box.layout.display = "" if self.comparing else "none"
        self._b_out.layout.display = "" if self.comparing else "none"

        for text, sel in ((self.period_text, self.selection), (self.period_text_b, self.selection_b)):
            span = sel.periods[0] if len(sel.periods) == 1 else f"{sel.periods[0]} to {sel.periods[-1]}"
            count = f"{len(sel.periods)} period" + ("" if len(sel.periods) == 1 else "s")
            text.value = f'<span style="margin-left:116px">{html.escape(span)} ({count})</span>'
        prefix = "A: " if self.comparing else ""
        self.view = build_view(self.ds, self.selection, self.measure, by=self.by, label=prefix)
        self._show(self.view, self.chart, self.table, prefix)
        notes = list(self.view.notes)
        empty_a = self.view.rows == 0
        if self.comparing:
            self.view_b = build_view(self.ds, self.selection_b, self.measure, by=self.by, label="B: ")
            self._show(self.view_b, self.chart_b, self.table_b, "B: ")
            notes += [f"B: {n}" for n in self.view_b.notes]
            self.comparison = compare_selections(self.ds, self.view.selection, self.view_b.selection, self.measure)
            sentence = comparison_sentence(self.comparison, self.measure)
            self.compare_html.value = (f'<p class="qa-comparison-text">{html.escape(sentence)}</p>'
                                       + table_html(self.comparison, caption="Selection A against selection B"))
            empty = empty_a and self.view_b.rows == 0
            self.message.value = self._empty_html() if empty else ""
        else:
            self.view_b, self.comparison = None, None
            self.chart_b.value = self.table_b.value = self.compare_html.value = ""
            self.message.value = self._empty_html() if empty_a else ""
            empty = empty_a
        self.export_button.disabled = empty
        self.notes.value = "".join(f"<p>{html.escape(n)}</p>" for n in notes)

    @staticmethod
    def _empty_html() -> str:
        return f'<p class="explorer-empty" role="status">{EMPTY_MESSAGE}</p>'

    def _show(self, view: View, chart_area, table_area, prefix: str) -> None:
        if view.rows == 0:
            chart_area.value = f'<p class="explorer-empty" role="status">{html.escape(prefix)}{EMPTY_MESSAGE}</p>' \
                if self.comparing else ""
            table_area.value = ""
            return
        chart_area.value = chart_html(view.chart)
        caption = f"{prefix}{MEASURES[self.measure]} by {BREAKDOWNS[self.by].lower()} — {view.selection.describe()}"
        table_area.value = table_html(view.table, caption=caption)

    # -- export ------------------------------------------------------------------------
    def export(self, folder: str | os.PathLike | None = None) -> list[Path]:
        """Write the current table as CSV and Excel (with a sheet of the filters); return the paths.

        File names are ``explore-<measure>-by-<breakdown>-<YYYYmmdd-HHMMSS>.csv`` / ``.xlsx``
        (``explore-compare-...`` in comparison mode). Values are full precision, as in the
        report's CSV tables.
        """
        folder = Path(folder) if folder is not None else self.export_dir
        table = self.current_table
        if table.empty:
            self.export_status.value = f"<p>Nothing to export: {EMPTY_MESSAGE}</p>"
            return []
        folder.mkdir(parents=True, exist_ok=True)
        stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
        kind = "compare" if self.comparing else "explore"
        stem = folder / f"{kind}-{self.measure}-by-{self.by}-{stamp}"
        k = 2
        while stem.with_suffix(".csv").exists() or stem.with_suffix(".xlsx").exists():
            stem, k = folder / f"{kind}-{self.measure}-by-{self.by}-{stamp}-{k}", k + 1
        csv_path, xlsx_path = stem.with_suffix(".csv"), stem.with_suffix(".xlsx")
        table.to_csv(csv_path)
        filters = [("Measure", MEASURES[self.measure]), ("Breakdown", BREAKDOWNS[self.by]),
                   ("Selection A", self.view.selection.describe())]
        if self.comparing and self.view_b is not None:
            filters.append(("Selection B", self.view_b.selection.describe()))
        filters.append(("Data", str(self.ds.params.path)))
        with pd.ExcelWriter(xlsx_path, engine="openpyxl") as xl:
            _excel_safe(table).to_excel(xl, sheet_name="table")
            if self.comparing and self.view_b is not None:
                _excel_safe(self.view.table).to_excel(xl, sheet_name="selection A")
                _excel_safe(self.view_b.table).to_excel(xl, sheet_name="selection B")
            pd.DataFrame(filters, columns=["setting", "value"]).to_excel(xl, sheet_name="filters", index=False)
        self.last_export = [csv_path, xlsx_path]
        self.export_status.value = ("<p>Exported: " + ", ".join(html.escape(str(p)) for p in self.last_export) + "</p>")
        return self.last_export


def _excel_safe(frame: pd.DataFrame) -> pd.DataFrame:
    """Nullable and categorical columns as plain objects so openpyxl writes blanks, not errors."""
    out = frame.copy()
    for col in out.columns:
        if isinstance(out[col].dtype, (pd.CategoricalDtype, pd.StringDtype)) or str(out[col].dtype) == "Int64":
            out[col] = out[col].astype(object).where(out[col].notna(), None)
    out.index = out.index.astype(object)
    return out

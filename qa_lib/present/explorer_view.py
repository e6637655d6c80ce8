"""The explorer's chart, HTML and ipywidgets app, over the model in :mod:`qa_lib.sections.explorer`.

:class:`Explorer` holds the controls, calls the model's pure functions when a control changes and
writes the current table to ``<output root>/exports/`` as CSV and Excel. ``notebooks/explore.py``
only builds an :class:`Explorer` and displays it.
"""

from __future__ import annotations

import datetime as _dt
import html
import math
import os
import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.ticker import PercentFormatter

from qa_lib.core import fmt
from qa_lib.core.atomic import atomic_to_csv, atomic_to_xlsx
from qa_lib.inputs.data import Dataset, load_dataset
from qa_lib.inputs.params import load_params
from qa_lib.present import disclosure
from qa_lib.present import html_tables as present
from qa_lib.present.charts import GRADE_COLOURS, PALETTE, Chart, stacked_grades, to_chart
from qa_lib.sections import tables
from qa_lib.sections.explorer import (ALL, BREAKDOWNS, EMPTY_MESSAGE, MEASURES, ROLES, SOURCES, _LABELS,
                                      _PERCENT_COLUMNS, Selection, _empty_table, available_periods,
                                      compare_selections, comparison_sentence, filter_rows, measure_notes,
                                      measure_table)

__all__ = ["measure_chart", "View", "build_view", "display_table", "table_html", "chart_html", "published_table",
           "published_comparison", "Explorer"]


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
        ax.text(1.02, yi, f"{fmt.pct(pi)} (n = {int(ni)})", va="center", fontsize=8, transform=ax.get_yaxis_transform())
    if measure == "returns":
        ax.axvline(ds.params.return_target, color=GRADE_COLOURS[2], linestyle="--", linewidth=1)
    ax.set_yticks(y, labels)
    ax.invert_yaxis()
    ax.set_xlim(0, 1)
    ax.xaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set_title(title, loc="left", fontsize=10)
    parts = [f"{lab}: {fmt.pct(pi)} (95% interval {fmt.pct(a)} to {fmt.pct(b)}, n = {int(ni)})"
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
            return "–" if value is None or value is pd.NA or not math.isfinite(float(value)) else fmt.significant(value, 3)
        return present.format_cell(value, column)
    out = pd.DataFrame({_label(c): [cell(v, c) for v in frame[c]] for c in frame.columns}, index=frame.index)
    out.index = out.index.set_names([present.label(n) if n is not None else None for n in out.index.names])
    return out


def table_html(frame: pd.DataFrame, *, caption: str) -> str:
    """Accessible HTML table of an explorer table: :func:`display_table` drawn by the reports' renderer
    (:func:`qa_lib.present.html_tables.render_table`: caption, scoped headers, escaped values, the
    keyboard-scrollable region)."""
    return present.render_table(display_table(frame), caption=caption, table_class="explorer-table")


def chart_html(chart: Chart | None) -> str:
    if chart is None:
        return ""
    return (f'<figure class="chart" style="margin:0"><img src="{chart.data_uri()}" alt="{html.escape(chart.alt)}" '
            f'style="max-width:100%"></figure>')


# --------------------------------------------------------------------------------------
# the widget app
# --------------------------------------------------------------------------------------
_STYLE = """<style>
.qa-explorer .table-wrap { overflow-x: auto; margin: 4px 0 12px; }
.qa-explorer .table-wrap:focus { outline: 3px solid #ffdd00; }
.explorer-table { border-collapse: collapse; font-size: 0.9em; }
.explorer-table caption { text-align: left; font-weight: bold; padding: 2px 0; }
.explorer-table th, .explorer-table td { border-bottom: 1px solid #ccc; padding: 2px 8px; text-align: right; }
.explorer-table th[scope=row], .explorer-table thead th:first-child, .explorer-table td.text { text-align: left; }
.explorer-table tr.total { font-weight: bold; }
.qa-explorer p.note { color: #505a5f; }
.explorer-empty { padding: 8px; border-left: 4px solid #F46A25; background: #fff4ec; }
</style>"""


# --------------------------------------------------------------------------------------
# exports under audience: published (issue 14)
# --------------------------------------------------------------------------------------
#: columns a published export leaves out: ``due`` is allocated − exempt, a count the suppression
#: does not model (a hidden exempt could be worked out from it), and the reader loses nothing
NOT_PUBLISHED = ("due",)
#: the agreement table's pairs are the same grade, downgraded or upgraded: suppressed as a row total
_AGREEMENT_PARTS = ("agreed", "n_downgraded", "n_upgraded")
_INTEGER = re.compile(r"(?<![\w.−-])(\d+)(?![\w.%])")


def published_table(ds: Dataset, table: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """An explorer table as a published report would print it (:func:`qa_lib.present.disclosure.suppress`).

    Returns the table (hidden cells hold the suppression mark) and the boolean mask of hidden cells.
    Counts from 1 to ``threshold - 1`` are hidden, then enough others that no hidden count can be
    worked out from the table's totals (the ``Total`` row; ``n`` = the grades; the pairs of the
    agreement table = same grade + downgraded + upgraded); shares, intervals, kappa and AC1 of a
    row with a hidden count are hidden too.
    """
    rule = disclosure.rule_from_params(ds.params)
    frame = table.drop(columns=[c for c in NOT_PUBLISHED if c in table.columns])
    rename = {}
    if set(_AGREEMENT_PARTS) <= set(frame.columns) and "n" in frame.columns and "Total" not in frame.columns:
        rename = {"n": "Total"}  # disclosure's "Total column = sum of the other counts" line, checked row by row
    done = disclosure.suppress(frame.rename(columns=rename), rule, grades=list(ds.scale.grades),
                               good_grades=list(ds.scale.good_grades))
    back = {v: k for k, v in rename.items()}
    return done.frame.rename(columns=back), done.hidden.rename(columns=back)


def published_comparison(ds: Dataset, comparison: pd.DataFrame, totals_hidden: dict[str, bool]) -> pd.DataFrame:
    """The A-against-B table under disclosure control.

    ``totals_hidden`` says, for ``"A"`` and ``"B"``, whether the ``Total`` row of that selection's own
    published table hides a cell: the comparison's counts of that selection are the same figures, so
    they are hidden too. A difference, its interval and its p-value are not printed when either side
    has a hidden figure (no statistic of a suppressed group), and a note quoting a count below the
    threshold (the audits the two selections share) is withheld.
    """
    rule = disclosure.rule_from_params(ds.params)
    done = disclosure.suppress(comparison, rule)
    out, hidden = done.frame.copy(), done.hidden.copy()
    side_cols = [c for c in ("events", "n", "estimate", "ci_low", "ci_high") if c in out.columns]
    labels = [str(i) for i in out.index]
    for k, lab in enumerate(labels):
        if lab in ("A", "B") and totals_hidden.get(lab):
            for c in side_cols:
                out.iat[k, out.columns.get_loc(c)] = rule.symbol
                hidden.iat[k, hidden.columns.get_loc(c)] = True
    sides_hidden = any(hidden.iloc[k].any() for k, lab in enumerate(labels) if lab in ("A", "B"))
    for k, lab in enumerate(labels):
        if lab in ("A", "B"):
            continue
        if sides_hidden:
            for c in ("estimate", "ci_low", "ci_high", "p_value"):
                if c in out.columns:
                    out.iat[k, out.columns.get_loc(c)] = rule.symbol
        if "note" in out.columns and isinstance(out["note"].iloc[k], str) and any(
                0 < int(x) < rule.threshold for x in _INTEGER.findall(out["note"].iloc[k])):
            out.iat[k, out.columns.get_loc("note")] = rule.symbol
    return out


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
        import ipywidgets as w  # deferred: widgets load only when an app is built, never in batch reports

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
        agency_values = dataset.ratings["agency"].dropna().astype(str) if "agency" in dataset.ratings.columns else []
        agencies = [("All agencies", ALL)] + [(v, v) for v in sorted(set(agency_values))]
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
                # issue 17: the rater's agency, for multi-agency QA (grades only)
                "agency" + suffix: w.Dropdown(options=agencies, value=ALL, description="Agency", style=style, layout=layout),
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
                              c["service_area_b"], c["team_b"], c["cohort_b"], c["domain_b"], c["agency_b"]])
        a_box = w.VBox([w.HTML("<strong>Selection A</strong>"), c["periods"], self.period_text, c["service_area"],
                        c["team"], c["cohort"], c["domain"], c["agency"]])
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
        return cls(load_dataset(load_params(params_path)), **kwargs)

    # -- state -------------------------------------------------------------------------
    def _selection(self, suffix: str = "") -> Selection:
        c = self.controls
        lo, hi = c["periods" + suffix].index
        return Selection(periods=tuple(self.periods[lo:hi + 1]), service_area=c["service_area" + suffix].value,
                         team=c["team" + suffix].value, cohort=c["cohort" + suffix].value,
                         domain=c["domain" + suffix].value, role=c["role"].value, agency=c["agency" + suffix].value)

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
        for name in ("periods_b", "service_area_b", "team_b", "cohort_b", "domain_b", "agency_b"):
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
    @property
    def published(self) -> bool:
        """True when the params say ``audience: published``: exports get the reports' disclosure control."""
        return self.ds.params.audience == "published"

    def export_tables(self) -> tuple[pd.DataFrame, list[tuple[str, pd.DataFrame]]]:
        """What :meth:`export` writes: the CSV table and the workbook's data sheets (name, table).

        Internal: the tables at full precision, as shown. Published: :func:`published_table` of
        each selection's table and :func:`published_comparison` of the comparison.
        """
        table = self.current_table
        sides = [("selection A", self.view.table), ("selection B", self.view_b.table)] \
            if self.comparing and self.view_b is not None else []
        if not self.published:
            return table, [("table", table), *sides]
        shown_sides, totals_hidden = [], {}
        for name, frame in sides:
            shown, hidden = published_table(self.ds, frame)
            shown_sides.append((name, shown))
            total = [k for k, i in enumerate(hidden.index) if str(i) == tables.TOTAL]
            totals_hidden[name[-1]] = bool(total) and bool(hidden.iloc[total[0]].any())
        if self.comparing and self.comparison is not None:
            shown = published_comparison(self.ds, table, totals_hidden)
        else:
            shown = published_table(self.ds, table)[0]
        return shown, [("table", shown), *shown_sides]

    def export(self, folder: str | os.PathLike | None = None) -> list[Path]:
        """Write the current table as CSV and Excel (with a sheet of the filters); return the paths.

        File names are ``explore-<measure>-by-<breakdown>-<YYYYmmdd-HHMMSS>.csv`` / ``.xlsx``
        (``explore-compare-...`` in comparison mode). Values are full precision, as in the
        report's CSV tables. Under ``audience: published`` the tables get the reports' disclosure
        control (:meth:`export_tables`). Both files are spreadsheet-safe: no cell can be read as a
        formula, numbers stay numbers (:mod:`qa_lib.core.safe_files`).
        """
        folder = Path(folder) if folder is not None else self.export_dir
        if self.current_table.empty:
            self.export_status.value = f"<p>Nothing to export: {EMPTY_MESSAGE}</p>"
            return []
        table, sheets = self.export_tables()
        folder.mkdir(parents=True, exist_ok=True)
        stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
        kind = "compare" if self.comparing else "explore"
        stem = folder / f"{kind}-{self.measure}-by-{self.by}-{stamp}"
        k = 2
        while stem.with_suffix(".csv").exists() or stem.with_suffix(".xlsx").exists():
            stem, k = folder / f"{kind}-{self.measure}-by-{self.by}-{stamp}-{k}", k + 1
        csv_path, xlsx_path = stem.with_suffix(".csv"), stem.with_suffix(".xlsx")
        atomic_to_csv(table, csv_path)
        filters = [("Measure", MEASURES[self.measure]), ("Breakdown", BREAKDOWNS[self.by]),
                   ("Selection A", self.view.selection.describe())]
        if self.comparing and self.view_b is not None:
            filters.append(("Selection B", self.view_b.selection.describe()))
        filters.append(("Data", str(self.ds.params.path)))
        filters.append(("Audience", disclosure.audience_note(self.ds.params)))
        if self.published and any(c in self.current_table.columns for c in NOT_PUBLISHED):
            filters.append(("Not published", "Due (allocated − exempt) is left out of published exports; the return rate is returned ÷ due."))
        atomic_to_xlsx([*[(name, frame, True) for name, frame in sheets],
                        ("filters", pd.DataFrame(filters, columns=["setting", "value"]), False)], xlsx_path)
        self.last_export = [csv_path, xlsx_path]
        self.export_status.value = ("<p>Exported: " + ", ".join(html.escape(str(p)) for p in self.last_export)
                                    + (" (published: disclosure control applied)" if self.published else "") + "</p>")
        return self.last_export

"""The object a report notebook talks to: it loads the data once, shows tables and charts,
writes every table as CSV beside the report, and records what it wrote for the manifest.

A notebook cell is one call::

    rpt.table(tables.grades_by(ds, "service_area"), "grades_by_service_area",
              "Overall grade by service area")

Output goes to ``output_dir`` (the run's staging folder when run by :mod:`qa_lib.running.render`, so that
nothing half-written ever lands in ``outputs/``).
"""

from __future__ import annotations

import datetime as _dt
import gc
import html
import json
import os
import platform
import subprocess
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

import qa_lib
from qa_lib.core.atomic import atomic_to_csv, atomic_write_text
from qa_lib.present.charts import Chart
from qa_lib.inputs.data import WORKING_FOLDER, Dataset, load_dataset_cached, rejects_path
from qa_lib.core.errors import QAError
from qa_lib.inputs.io import IDENTIFIER_COLUMNS
from qa_lib.inputs.params import Params, load_params
from qa_lib.sections import narrative
from qa_lib.present import disclosure, pack
from qa_lib.present.disclosure import audience_note
from qa_lib.present.html_tables import html_table, small_n_flags

REPORT_TITLES = {
    "quarterly": "Quarterly QA report",
    "moderation": "Moderation reliability",
    "feedback": "Family feedback",
    "indicators": "Performance indicators",
    "highlight": "Quarterly QA highlight report",
}
#: issue 16: what each report is, after its cadence word ("Monthly QA highlight report: November 2021")
_REPORT_NAMES = {
    "quarterly": "QA report",
    "moderation": "moderation reliability report",
    "feedback": "family feedback report",
    "indicators": "performance indicators report",
    "highlight": "QA highlight report",
}


def report_title(report: str, period: Any = None) -> str:
    """The report's title with its cadence: ``"Quarterly QA report"`` for a quarter, ``"Monthly QA
    highlight report"`` for a month (the page adds ``": <period>"``, e.g. ``": November 2021"``)."""
    name = _REPORT_NAMES.get(report)
    if name is None:
        return REPORT_TITLES.get(report, report.title())
    cadence = "Monthly" if getattr(period, "kind", "quarter") == "month" else "Quarterly"
    return f"{cadence} {name}"


def full_title(report: str, period: Any) -> str:
    """Title and period as a reader sees them: ``"Monthly QA highlight report: November 2021"``,
    ``"Quarterly QA report: 2021-22 Q3"``."""
    label = period.long_label if period.kind == "month" else period.label
    return f"{report_title(report, period)}: {label}"


class HTML:
    """Rich display of an HTML fragment (what a cell shows)."""

    def __init__(self, markup: str):
        self.markup = markup

    def _repr_html_(self) -> str:
        return self.markup

    def __repr__(self) -> str:  # plain-text fallback in a terminal
        return f"<HTML fragment, {len(self.markup)} characters>"


def git_commit(path: Path | None = None) -> str:
    """The git commit of the workbook's source tree, or ``"unknown"`` outside a checkout."""
    where = path or Path(__file__).resolve().parent
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=where, capture_output=True, text=True, timeout=5)
        return out.stdout.strip() if out.returncode == 0 else "unknown"
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def provenance(params: Params) -> dict[str, Any]:
    """What a reader needs to trust and reproduce a report: period, params, inputs, versions, time."""
    return {
        "period": params.period.label,
        "period_long": params.period.long_label,
        "params_file": params.path.name,
        "params": params.as_dict(),
        "inputs": params.input_hashes(),
        "qa_lib_version": qa_lib.__version__,
        "git_commit": git_commit(),
        "python": platform.python_version(),
        "pandas": pd.__version__,
        "run_at": _dt.datetime.now(_dt.timezone.utc).replace(microsecond=0).isoformat(),
        # issue 8: each output states its audience and the rule applied (never the pseudonym key)
        "audience": params.audience,
        "disclosure": _disclosure_note(params),
    }


def _disclosure_note(params: Params) -> str:
    return audience_note(params)


#: Set in the environment of the kernels :func:`qa_lib.running.render.run_job` starts (one per report).
JOB_KERNEL_ENV = "QA_WORKBOOK_JOB_KERNEL"


def settle_gc() -> None:
    """Tune Python's cyclic garbage collector for the rest of a one-report kernel.

    The imports leave ~10^5 long-lived objects (modules, classes, functions) that every full
    collection walks again, while pandas and matplotlib allocate containers fast enough to trigger
    a collection every few milliseconds. ``gc.freeze()`` moves what exists now out of the
    collector's view (it lives as long as the kernel anyway) and a higher first threshold collects
    less often; cycles are still collected. Measured on the demo pack (``make bench``), about 10%
    of a batch's run time. Applied only in kernels that :func:`qa_lib.running.render.run_job` starts, where
    one report runs and the process exits; an analyst's JupyterLab kernel keeps the defaults.
    """

    gc.freeze()
    gc.set_threshold(50_000, 20, 100)


class Report:
    """One report run: data, output folder and the list of tables written.

    Parameters
    ----------
    params : Params
    report : str
        Report name (``quarterly``, ``moderation``...).
    output_dir : path-like, optional
        Where tables and the report's manifest fragment go; default ``outputs/<period>/``.
    """

    def __init__(self, params: Params, report: str, output_dir: str | os.PathLike | None = None):
        self.params = params
        self.report = report
        self.output_dir = Path(output_dir) if output_dir else params.output_dir
        self.tables_dir = self.output_dir / "tables"
        self.written: list[dict[str, str]] = []
        self._dataset: Dataset | None = None
        self.provenance = provenance(params)

    @classmethod
    def start(cls, params_path: str | os.PathLike, *, report: str, output_dir: str | os.PathLike | None = None) -> "Report":
        """Validate the params (the notebook's first cell after parameters) and open the report."""
        if os.environ.get(JOB_KERNEL_ENV):
            settle_gc()
        return cls(load_params(params_path), report, output_dir or None)

    @property
    def title(self) -> str:
        return report_title(self.report, self.params.period)

    @property
    def dataset(self) -> Dataset:
        """The run's data, loaded and validated once."""
        if self._dataset is None:
            # once per batch run for all reports of these params (qa_lib.inputs.data.load_dataset_cached)
            self._dataset = load_dataset_cached(self.params, inputs=self.provenance["inputs"])
        return self._dataset

    # -- display ---------------------------------------------------------------------------------
    def text(self, markdown_like: str) -> HTML:
        """A paragraph of generated text, escaped (never executed or interpreted as markup)."""
        text = str(markdown_like)
        if self.published:  # issue 14: no small count or small complement quoted in a published sentence
            text = disclosure.guard_text(text, disclosure.rule_from_params(self.params))
        paras = [p.strip() for p in text.split("\n\n") if p.strip()]
        return HTML("".join(f"<p>{html.escape(p)}</p>" for p in paras))

    def bullets(self, items: list[str]) -> HTML:
        if not items:
            return HTML("")
        if self.published:
            rule = disclosure.rule_from_params(self.params)
            items = [disclosure.guard_text(str(i), rule) for i in items]
        return HTML("<ul>" + "".join(f"<li>{html.escape(str(i))}</li>" for i in items) + "</ul>")

    @property
    def published(self) -> bool:
        """True when the params say ``audience: published`` (disclosure control applies)."""
        return self.params.audience == "published"

    def table(self, frame: pd.DataFrame, name: str, title: str, *, note: str | None = None,
              empty: str = "No data for this section in this period.", index: bool = True,
              person_level: bool = False, max_rows: int | None = None) -> HTML:
        """Show ``frame`` as an accessible table and write it as ``tables/<report>-<name>.csv``.

        An empty frame shows ``empty`` (and writes no CSV). Identifier columns are refused.
        ``person_level=True`` marks a table with one row per auditor or practitioner (even
        pseudonymised): it is withheld from published reports. ``max_rows`` shows only the first
        rows of a long list (the CSV keeps them all) and says how many more there are.
        """
        if person_level and self.published:
            return HTML(f'<p class="no-data"><strong>{html.escape(title)}:</strong> withheld in the published '
                        "version (one row per person).</p>")
        leaked = [c for c in [*frame.columns, *frame.index.names] if c in IDENTIFIER_COLUMNS]
        if leaked:
            raise QAError(f"table '{name}' has identifier column(s) {', '.join(map(str, leaked))}: "
                          "identifiers never appear in a report. Fix: aggregate or drop them in qa_lib.sections.tables")
        if frame is None or frame.empty:
            return HTML(f'<p class="no-data"><strong>{html.escape(title)}:</strong> {html.escape(empty)}</p>')
        small = small_n_flags(frame)  # issue 14: † from the real n, taken before any suppression
        if self.published:  # issue 8: disclosure control (qa_lib.present.disclosure); the CSV holds this version too
            if any(str(c).lower() in disclosure.FREE_TEXT_COLUMNS for c in frame.columns):
                return HTML(f'<p class="no-data"><strong>{html.escape(title)}:</strong> withheld in the published '
                            "version (free-text quotes).</p>")
            rule = disclosure.rule_from_params(self.params)
            # issue 14: the pack's pattern (one linear system over every report of the period) when this
            # table is one of the pack's; otherwise the table is protected on its own
            key = f"{self.report}-{name}"
            pat = self.pack_pattern()
            grades, good = list(self.dataset.scale.grades), list(self.dataset.scale.good_grades)
            why = pack.unregistered(key, frame, pat, grades, good) if pat is not None else ""
            if why:  # fail closed: a table with counts outside the pack is not published on its own protection
                return HTML(f'<p class="no-data"><strong>{html.escape(title)}:</strong> withheld in the published '
                            f"version: {html.escape(why)}, so publishing it could reveal counts that are hidden "
                            "elsewhere in the pack.</p>")
            cells = pat.hidden_cells(key, frame) if pat is not None else None
            forced = {} if cells is None else {"hidden_counts": cells[0], "primary_counts": cells[1],
                                               "extra": pack.statistic_cells(key, frame, pat)}
            if pat is not None:  # text quoting a count the pack hides elsewhere (audit evidence of an indicator)
                forced.setdefault("extra", set())
                forced["extra"] = forced["extra"] | pack.text_cells(key, frame, pat)
            done = disclosure.suppress(frame, rule, grades=list(self.dataset.scale.grades),
                                       good_grades=list(self.dataset.scale.good_grades), **forced)
            frame = done.frame
            if done.any:
                note = (note + " " if note else "") + disclosure.table_note(done, rule)
        csv_name = f"{self.report}-{name}.csv"
        self.tables_dir.mkdir(parents=True, exist_ok=True)
        atomic_to_csv(frame, self.tables_dir / csv_name, index=index)  # never half-written, never a formula
        self.written.append({"file": f"tables/{csv_name}", "title": title, "report": self.report, "name": name,
                             "note": note or ""})
        self._save_fragment()
        shown = frame
        if max_rows is not None and len(frame) > max_rows:
            shown = frame.head(max_rows)
            more = (f"Showing the first {max_rows:,} of {len(frame):,} rows; all are in "
                    f"tables/{csv_name}.")
            note = f"{note} {more}" if note else more
        out = html_table(shown, caption=title, index=index, small=None if small is None else small[:len(shown)])
        if note:
            out += f'<p class="note">{html.escape(note)}</p>'
        return HTML(out)

    def pack_pattern(self) -> "pack.PackPattern | None":
        """The published pack's suppression pattern (:mod:`qa_lib.present.pack`), None for internal reports."""
        if not self.published or self.params.suppression["scope"] == "table":
            return None
        return pack.pattern(self.dataset, disclosure.rule_from_params(self.params))

    def view(self, frame: pd.DataFrame, name: str) -> pd.DataFrame:
        """``frame`` as table ``name`` of this report is published: cells the pack hides are missing (NaN), so
        sentences and charts built from it say nothing the table hides. Internal reports get ``frame``."""
        if not self.published or frame is None or frame.empty:
            return frame
        pat = self.pack_pattern()
        key = f"{self.report}-{name}"
        cells = pat.hidden_cells(key, frame) if pat is not None else None
        forced = {} if cells is None else {"hidden_counts": cells[0], "primary_counts": cells[1],
                                           "extra": pack.statistic_cells(key, frame, pat)}
        done = disclosure.suppress(frame, disclosure.rule_from_params(self.params), grades=list(self.dataset.scale.grades),
                                   good_grades=list(self.dataset.scale.good_grades), **forced)
        out = frame.copy()
        for c in out.columns:
            hide = done.hidden[c].to_numpy(dtype=bool)
            if hide.any():
                out[c] = out[c].astype(object).where(~hide, np.nan) if not pd.api.types.is_float_dtype(out[c].dtype) \
                    else out[c].where(~hide)
        return out

    def guard(self, text: str) -> str:
        """``text`` as a published report may print it: no small count or small complement quoted."""
        return disclosure.guard_text(str(text), disclosure.rule_from_params(self.params)) if self.published else str(text)

    def disclosure_summary(self) -> HTML:
        """The paragraph a published report carries on what was suppressed and why (nothing when internal)."""
        pat = self.pack_pattern()
        if pat is None:
            return HTML("")
        # not through self.text: the paragraph's own examples ("4 of 26") must not be guarded away
        return HTML(f"<p>{html.escape(pack.summary(pat, self.report, disclosure.rule_from_params(self.params)))}</p>")

    def chart(self, chart: Chart | None, *, empty: str = "Not enough data to draw this chart.") -> HTML:
        """Show an SVG chart with its alt text, or say why there is none."""
        if chart is None:
            return HTML(f'<p class="no-data">{html.escape(empty)}</p>')
        if self.published:  # issue 8: a chart whose bars would show a small count is not published
            if chart.shows_counts or disclosure.chart_discloses(chart.alt, disclosure.rule_from_params(self.params)):
                return HTML(f'<p class="no-data"><strong>{html.escape(chart.title)}:</strong> chart withheld in the '
                            "published version (it would show counts below the disclosure threshold).</p>")
        return HTML(f'<figure class="chart"><img src="{chart.data_uri()}" alt="{html.escape(chart.alt, quote=True)}">'
                    f"<figcaption>{html.escape(chart.title)}</figcaption></figure>")

    def show_provenance(self) -> HTML:
        """The provenance block every report opens with."""
        p = self.provenance
        ds = self.dataset
        rows = [("Period", p["period_long"]), ("Authority", self.params.authority or "–"),
                ("Parameters file", p["params_file"]), ("qa_lib version", p["qa_lib_version"]),
                ("Source commit", p["git_commit"][:12]), ("Run at (UTC)", p["run_at"]),
                ("Audience", self.params.audience),
                ("Disclosure control and identifiers", p.get("disclosure", ""))]
        inputs = "".join(f"<li><code>{html.escape(Path(f).name)}</code> sha256 {h[:12]}…</li>" for f, h in p["inputs"].items())
        read = ", ".join(f"{t} {n:,}" for t, n in ds.read_counts.items() if n)
        rejected = int(ds.rejected_summary()["rows"].sum()) if len(ds.issues) else 0
        rows += [("Rows read", read or "none"), ("Rows set aside", f"{rejected:,}" + (" (see Data quality)" if rejected else ""))]
        dl = "".join(f"<dt>{html.escape(k)}</dt><dd>{html.escape(str(v))}</dd>" for k, v in rows)
        return HTML(f'<dl class="provenance">{dl}<dt>Input files</dt><dd><ul>{inputs}</ul></dd></dl>'
                    + self.disclosure_summary().markup)

    def data_quality(self) -> HTML:
        """How many input rows were set aside and why; the detail is in the rejects file."""
        ds = self.dataset
        summary = ds.rejected_summary()
        # issue 14: a working file for fixing the inputs, written beside outputs/ (qa-working/), never published
        path = ds.write_rejects(rejects_path(self.params))
        where = f"{WORKING_FOLDER}/{self.params.period.slug}/{path.name} (a working file beside the outputs folder, never published)"
        warnings = int((ds.issues["severity"] == "warning").sum()) if len(ds.issues) else 0
        # issue 16: audits of another type (thematic, external) kept out of the programme, said here, never silent
        other = narrative.set_aside_audit_types(ds, published=self.params.audience == "published")
        other = self.text(other).markup if other else ""
        if summary.empty:
            msg = "All input rows passed validation; no rows were set aside."
            if warnings:
                msg += f" {warnings} warning(s) are listed in {where}."
            return HTML(self.text(msg).markup + other)
        total = int(summary["rows"].sum())
        head = self.text(f"{total:,} input row(s) were set aside and are not counted in this report. "
                         f"Each is listed with its file, row, column and reason in {where}.")
        return HTML(head.markup + html_table(summary.set_index(["table", "rule"]), caption="Rows set aside by table and reason")
                    + other)

    # -- manifest ---------------------------------------------------------------------------------
    def _save_fragment(self) -> None:
        self.output_dir.mkdir(parents=True, exist_ok=True)
        frag = {"report": self.report, "title": self.title, "tables": self.written, "provenance": self.provenance}
        atomic_write_text(self.output_dir / f".{self.report}.fragment.json", json.dumps(frag, indent=1, default=str))

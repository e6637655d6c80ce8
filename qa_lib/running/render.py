"""Render reports: execute a notebook with papermill, export it to HTML with no code, and move
every file into ``outputs/`` atomically.

Each (params, report) job runs in its own staging folder inside ``outputs/<period>/``; only
when the notebook has run and the HTML exists are the files moved into place with
:func:`os.replace`, so a reader (or a killed run) never sees a half-written HTML or CSV. A
failed job keeps its executed notebook as ``<report>.failed.ipynb`` beside the outputs.
"""

from __future__ import annotations

import contextlib
import csv
import json
import os
import re
import shutil
import socket
import tempfile
import time
import traceback
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import jinja2
import jupytext
import nbformat

import qa_lib
from qa_lib.present.disclosure import audience_note
from qa_lib.core.atomic import atomic_write_text
from qa_lib.core.errors import ParamsError, QAError, problem
from qa_lib.inputs.params import TABLES, Params, load_params
from qa_lib.present.report import JOB_KERNEL_ENV, REPORT_TITLES, provenance

PACKAGE_DIR = Path(__file__).resolve().parents[1]  # qa_lib/
TEMPLATES = PACKAGE_DIR / "templates"
#: Each job's staging folder sits in ``<output root>/.staging/``.
STAGING = ".staging"


def notebooks_dir() -> Path:
    """The notebook sources: ``notebooks/`` of the source tree."""
    for candidate in (PACKAGE_DIR.parent / "notebooks", PACKAGE_DIR / "notebooks"):
        if candidate.is_dir():
            return candidate
    raise QAError("notebooks/ folder not found beside qa_lib: the workbook must run from its source tree "
                  "(pip install -e .)")


@dataclass
class JobResult:
    """Outcome of one (params, report) job."""

    params_file: str
    period: str
    report: str
    status: str  # "ok", "failed", "skipped"
    seconds: float = 0.0
    html: str | None = None
    error: str = ""
    failed_cell: str = ""
    outputs: list[str] = field(default_factory=list)


def load_notebook(report: str) -> nbformat.NotebookNode:
    """Read ``notebooks/<report>.py`` (jupytext percent format) as a notebook."""
    src = notebooks_dir() / f"{report}.py"
    if not src.is_file():
        raise QAError(f"report '{report}': no notebook source {src.name} in {src.parent}")
    nb = jupytext.read(src)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return nb


#: Arguments of every report kernel (``make bench`` starts its import-only floor with the same).
KERNEL_ARGUMENTS = ["--IPKernelApp.log_level=CRITICAL"]


_EXPORTER = None


def _html_exporter():
    """nbconvert's HTML exporter, built once per process (its templates load on first use)."""
    global _EXPORTER
    if _EXPORTER is None:
        from nbconvert import HTMLExporter  # deferred: heavy (templates, mistune); loaded on the first export only

        _EXPORTER = HTMLExporter(template_name="basic", exclude_input=True, exclude_input_prompt=True,
                                 exclude_output_prompt=True, anchor_link_text="")
    return _EXPORTER


_HEADING = re.compile(r'<h2 id="([^"]+)"[^>]*>(.*?)</h2>', re.S)


def _clean_heading(text: str) -> str:
    return re.sub(r"<[^>]+>", "", text).replace("¶", "").strip()


def export_html(nb: nbformat.NotebookNode, *, title: str, period: str, authority: str, audience_note: str) -> str:
    """Export an executed notebook as a self-contained, accessible HTML page with no code.

    The body comes from nbconvert's ``basic`` template (inputs and prompts excluded); the page
    wraps it with one ``<h1>``, ``lang``, a table of contents built from the ``<h2>`` sections,
    inline CSS and a content security policy that blocks scripts and network requests.
    """
    body, _ = _html_exporter().from_notebook_node(nb)
    body = re.sub(r"<h1[^>]*>.*?</h1>", "", body, flags=re.S)  # the page owns the only <h1>
    body = re.sub(r'<a class="anchor-link"[^>]*>.*?</a>', "", body, flags=re.S)
    toc = [(m.group(1), _clean_heading(m.group(2))) for m in _HEADING.finditer(body)]
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=jinja2.select_autoescape(["j2", "html"]))
    page = env.get_template("page.html.j2")
    return page.render(title=title, period=period, authority=authority, audience_note=audience_note, toc=toc,
                       body=jinja2.utils.markupsafe.Markup(body), css=jinja2.utils.markupsafe.Markup(
                           (TEMPLATES / "report.css").read_text(encoding="utf-8")), version=qa_lib.__version__)


def _failed_cell(nb: nbformat.NotebookNode) -> tuple[str, str]:
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error":
                src = cell.get("source", "")
                return src.strip().splitlines()[0][:120] if src.strip() else "", f"{out.get('ename')}: {out.get('evalue')}"
    return "", ""


def unreadable_inputs(rejects: Path) -> list[str]:
    """Messages of the input files a job could not read at all (rule ``unreadable_file`` in its
    rejects file): a report from a table that came out empty must not pass as rendered."""
    if not rejects.is_file():
        return []

    with open(rejects, newline="", encoding="utf-8") as fh:
        return [row.get("message") or row.get("file") or "?" for row in csv.DictReader(fh)
                if row.get("rule") == "unreadable_file"]


# -- input pre-flight ---------------------------------------------------------------------------
def check_inputs(params: Params) -> None:
    """Fail fast, naming the file, when an input file cannot be opened as what it claims to be.

    A missing file is already a :class:`ParamsError` from :func:`load_params`. This catches
    corrupt files (an XLSX that is not a valid zip workbook, binary bytes in a CSV) before a
    notebook would render a report from a table that silently came out empty.
    """

    for table in (*TABLES, "forms"):  # issue 17: a forms export is checked like any input
        for f in params.files(table):
            where = f"{params.path.name} data.{table}: {f.name}"
            suffix = f.suffix.lower()
            if suffix in (".xlsx", ".xlsm"):
                ok = zipfile.is_zipfile(f)
                if ok:
                    try:
                        with zipfile.ZipFile(f) as z:
                            ok = "xl/workbook.xml" in z.namelist()
                    except (zipfile.BadZipFile, OSError):
                        ok = False
                if not ok:
                    raise problem(ParamsError, where, received="a corrupt or non-Excel file",
                                  expected="an .xlsx workbook that opens in Excel",
                                  fix="export the file again, or point the params at the right file")
            elif suffix in (".csv", ".txt", ""):
                with open(f, "rb") as fh:
                    head = fh.read(1 << 16)
                if b"\0" in head:
                    raise problem(ParamsError, where, received="binary (non-text) content",
                                  expected="a CSV text file",
                                  fix="export the table again as CSV, or point the params at the right file")


def staging_prefix(period_slug: str, report: str) -> str:
    """Prefix of a job's staging folder: host and pid say whose it is, for :func:`clean_stale`."""
    return f"{socket.gethostname()}~{os.getpid()}~{period_slug}-{report}-"


@contextlib.contextmanager
def environ(name: str, value: str | None):
    """Set (or, with ``None``, leave unset) an environment variable for the block; the processes
    and kernels started inside it inherit it. The previous value is restored afterwards."""
    previous = os.environ.get(name)
    if value is not None:
        os.environ[name] = value
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = previous


def run_job(params_path: str | os.PathLike, report: str, *, kernel_name: str = "python3") -> JobResult:
    """Execute one report for one params file and move its outputs into place.

    Never raises for a failing notebook: the result says ``failed`` with the error and the
    first line of the failing cell, and ``<report>.failed.ipynb`` is kept beside the outputs.
    """
    import papermill as pm  # deferred: heavy; `qa-workbook --help` and validate never need it

    t0 = time.perf_counter()
    params = load_params(params_path)
    final_dir = params.output_dir
    final_dir.mkdir(parents=True, exist_ok=True)
    staging_root = params.output_root / ".staging"
    staging_root.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=staging_prefix(params.period.slug, report), dir=staging_root))
    result = JobResult(params_file=str(params.path), period=params.period.label, report=report, status="failed")
    try:
        check_inputs(params)  # a corrupt input fails its jobs, naming the file
        nb = load_notebook(report)
        executed_path = staging / f"{report}.ipynb"
        try:
            # a one-report kernel: Report.start tunes its garbage collector (qa_lib.present.report.settle_gc)
            with environ(JOB_KERNEL_ENV, "1"):
                executed = pm.execute_notebook(nb, str(executed_path), parameters={
                    "params_path": str(params.path), "output_dir": str(staging)}, kernel_name=kernel_name,
                    progress_bar=False, cwd=str(notebooks_dir()), log_output=False,
                    request_save_on_cell_execute=False,  # saved at the end (and on failure), not per cell
                    # the kernel's own start-up/shutdown log lines (loopback TCP transport, the interrupt
                    # used to stop it) are noise to a report run; errors in cells still reach the result
                    extra_arguments=KERNEL_ARGUMENTS)
        except Exception as exc:  # noqa: BLE001 - a failing notebook is a result, not a crash
            result.error = f"{type(exc).__name__}: {str(exc).strip().splitlines()[-1] if str(exc).strip() else ''}"
            if executed_path.exists():
                failed_nb = nbformat.read(executed_path, as_version=4)
                result.failed_cell, err = _failed_cell(failed_nb)
                result.error = err or result.error
                os.replace(executed_path, final_dir / f"{report}.failed.ipynb")
            return result
        unreadable = unreadable_inputs(staging / "rejects.csv")
        if unreadable:
            result.error = "input file(s) could not be read: " + "; ".join(unreadable)
            nbformat.write(executed, str(final_dir / f"{report}.failed.ipynb"))
            return result
        (final_dir / f"{report}.failed.ipynb").unlink(missing_ok=True)
        title = REPORT_TITLES.get(report, report.title())
        page = export_html(executed, title=title, period=params.period.long_label, authority=params.authority,
                           audience_note=audience_note(params))  # issue 8: mode and rule applied
        (staging / f"{report}.html").write_text(page, encoding="utf-8")
        executed_path.unlink(missing_ok=True)
        # move into place: tables first, the HTML last, each with an atomic rename
        moved = []
        for src in sorted(staging.rglob("*")):
            if src.is_dir() or src.name.endswith(".html"):
                continue
            dest = final_dir / src.relative_to(staging)
            dest.parent.mkdir(parents=True, exist_ok=True)
            os.replace(src, dest)
            moved.append(str(dest.relative_to(final_dir)))
        os.replace(staging / f"{report}.html", final_dir / f"{report}.html")
        result.outputs = moved + [f"{report}.html"]
        result.html = str(final_dir / f"{report}.html")
        result.status = "ok"
        return result
    except QAError as exc:
        result.error = str(exc)
        return result
    except Exception as exc:  # noqa: BLE001
        result.error = f"{type(exc).__name__}: {exc}"
        result.failed_cell = traceback.format_exc().strip().splitlines()[-1]
        return result
    finally:
        result.seconds = time.perf_counter() - t0
        shutil.rmtree(staging, ignore_errors=True)


def write_manifest(params: Params) -> Path:
    """Merge the reports' fragments into ``outputs/<period>/manifest.json`` (atomically)."""
    out = params.output_dir
    reports, tables = [], []
    for frag_path in sorted(out.glob(".*.fragment.json")):
        frag = json.loads(frag_path.read_text(encoding="utf-8"))
        html_file = out / f"{frag['report']}.html"
        if html_file.exists():
            reports.append({"report": frag["report"], "title": frag["title"], "file": html_file.name})
            tables.extend(frag["tables"])
    manifest = {"period": params.period.label, "audience": getattr(params, "audience", "internal"),
                "disclosure": audience_note(params), "reports": reports, "tables": tables,
                "provenance": provenance(params)}
    path = out / "manifest.json"
    atomic_write_text(path, json.dumps(manifest, indent=1, default=str))
    return path

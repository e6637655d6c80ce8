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
import datetime as _dt
import errno
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
from qa_lib.core.atomic import CSV_ENCODING, atomic_write_text
from qa_lib.core.errors import ParamsError, QAError, problem
from qa_lib.inputs.io import detect_encoding
from qa_lib.inputs.data import input_redactor, rejects_path
from qa_lib.inputs.privacy import Redactor
from qa_lib.inputs.params import sha256_file, TABLES, Params, load_params
from qa_lib.present.report import JOB_KERNEL_ENV, provenance, report_title
from qa_lib.running.formats import write_formats

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
    #: one-line notes that did not fail the job (e.g. "PDF and DOCX skipped: no Chromium ...")
    notes: list[str] = field(default_factory=list)
    failed_cell: str = ""
    outputs: list[str] = field(default_factory=list)
    #: the job wrote its own stamp (and merged the manifest) as it moved its files into place
    stamped: bool = False
    #: when the job ended (UTC, ISO 8601): its stamp's ``finished_at``, whoever writes the stamp
    finished_at: str = ""


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
    """nbconvert's HTML exporter, built once per process (its templates load on first use).

    ``HTMLExporter.from_notebook_node`` ends with a BeautifulSoup pass over the whole page (Python's
    ``html.parser`` on a page of 50–420 KB with its charts inlined, then the page written out again)
    that gives an image without alt text a placeholder and a tab stop to the lab template's input and
    output areas (none in the ``basic`` template). :func:`export_html` gives the placeholder itself
    (our charts carry their own alt text), so the pass is left out: it was about three quarters of a
    report's export time (issue 18: pack speed); the page is the same DOM (tests/running/test_render.py).
    The rest of the method is nbconvert's, unchanged: its two filters, then the template.
    """
    global _EXPORTER
    if _EXPORTER is None:
        from nbconvert import HTMLExporter  # deferred: heavy (templates, mistune); loaded on the first export only
        from nbconvert.exporters.templateexporter import TemplateExporter  # deferred: as above
        from nbconvert.filters.highlight import Highlight2HTML  # deferred: as above
        from nbconvert.filters.widgetsdatatypefilter import WidgetsDataTypeFilter  # deferred: as above

        class _ReportExporter(HTMLExporter):
            def from_notebook_node(self, nb, resources=None, **kw):
                resources = self._init_resources(resources)
                lang = nb.metadata.get("language_info", {})
                self.register_filter("highlight_code", self.filters.get(
                    "highlight_code", Highlight2HTML(pygments_lexer=lang.get("pygments_lexer", lang.get("name")), parent=self)))
                self.register_filter("filter_data_type", WidgetsDataTypeFilter(
                    notebook_metadata=self._nb_metadata, parent=self, resources=resources))
                return TemplateExporter.from_notebook_node(self, nb, resources, **kw)

        _EXPORTER = _ReportExporter(template_name="basic", exclude_input=True, exclude_input_prompt=True,
                                    exclude_output_prompt=True, anchor_link_text="")
    return _EXPORTER


_IMG_WITHOUT_ALT = re.compile(r"<img(?![^>]*\balt=)", re.I)


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
    # an image without alt text (never one of our charts) gets the placeholder nbconvert would give it
    body = _IMG_WITHOUT_ALT.sub('<img alt="No description has been provided for this image"', body)
    body = re.sub(r"<h1[^>]*>.*?</h1>", "", body, flags=re.S)  # the page owns the only <h1>
    # the heading anchors, written <a ... /> by nbconvert's template (HTML has no self-closing <a>) or <a ...></a>
    body = re.sub(r'<a class="anchor-link"[^>]*?(?:/>|>.*?</a>)', "", body, flags=re.S)
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


#: Rules that set a whole input file aside: a report rendered without that file fails (issue 15).
WHOLE_FILE_RULES = ("unreadable_file", "missing_column", "duplicate_column")


def unreadable_inputs(rejects: Path, *, since: float | None = None) -> list[str]:
    """Messages of the input files a job could not use at all (a rule of ``WHOLE_FILE_RULES`` in its
    rejects file: unreadable, or failing its column check): a report from a table that came out
    empty must not pass as rendered, nor "ok" with a whole file set aside. With ``since`` (a
    ``time.time()``), a rejects file last written before then (by an earlier run) is ignored."""
    if not rejects.is_file() or (since is not None and rejects.stat().st_mtime < since - 1):
        return []

    with open(rejects, newline="", encoding=CSV_ENCODING) as fh:
        return [row.get("message") or row.get("file") or "?" for row in csv.DictReader(fh)
                if row.get("rule") in WHOLE_FILE_RULES]


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
                if detect_encoding(head)[0] == "binary":  # UTF-16/32 exports (MS Forms, Excel "Unicode text") are text
                    raise problem(ParamsError, where, received="binary (non-text) content",
                                  expected="a CSV text file",
                                  fix="export the table again as CSV, or point the params at the right file")


def scrub_failure(params: Params, result: "JobResult", nb: nbformat.NotebookNode | None = None) -> None:
    """Redact a failed job's error, failing cell and notebook outputs (issue 14): an exception message
    may quote a value from the data, and these go into stamps, the batch summary and
    ``<report>.failed.ipynb``. Identifiers as written, ``redact_terms`` and first names are removed."""
    try:
        redact = input_redactor(params)
    except Exception:  # noqa: BLE001 - never let the scrub hide the failure itself
        redact = Redactor(())
    result.error = redact(result.error) if result.error else result.error
    result.failed_cell = redact(result.failed_cell) if result.failed_cell else result.failed_cell
    for cell in (nb.cells if nb is not None else []):
        for out in cell.get("outputs", []):
            if "evalue" in out:
                out["evalue"] = redact(out["evalue"])
            if "traceback" in out:
                out["traceback"] = [redact(line) for line in out["traceback"]]
            if "text" in out:
                out["text"] = redact(out["text"] if isinstance(out["text"], str) else "".join(out["text"]))
            for mime, value in list(out.get("data", {}).items()):
                if mime.startswith("text/"):
                    out["data"][mime] = redact(value if isinstance(value, str) else "".join(value))


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


def os_error_text(exc: OSError, where: str | os.PathLike) -> str:
    """One line for a file-system failure, naming the place and the fix (never a bare traceback)."""
    where = str(where)
    code = getattr(exc, "errno", None)
    if code in (errno.ENOSPC, getattr(errno, "EDQUOT", -1)):
        return f"{where}: disk full (no space left on the device). Fix: free some space and run again"
    if code in (errno.EACCES, errno.EPERM, errno.EROFS):
        return (f"{where}: cannot write there ({'read-only file system' if code == errno.EROFS else 'permission denied'}). "
                "Fix: make the folder writable, or set output_dir in the params to a folder you can write")
    if code in (errno.ENOTDIR, errno.EEXIST) or isinstance(exc, (NotADirectoryError, FileExistsError)):
        return (f"{where}: is a file, not a folder (expected output_dir to name a folder). "
                "Fix: set output_dir in the params to a folder, or move the file away")
    return f"{where}: {exc.strerror or type(exc).__name__} (errno {code}). Fix: check the folder exists and is writable"


def _disk_full(exc: BaseException) -> bool:
    seen = 0
    while exc is not None and seen < 10:
        if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, getattr(errno, "EDQUOT", -1)):
            return True
        if "No space left on device" in str(exc):
            return True
        exc = exc.__cause__ or exc.__context__
        seen += 1
    return False


def output_dir_problem(params: Params) -> str | None:
    """Why the params' output folder could not be written, without creating anything (``validate``):
    the first existing folder on its path must be a writable folder. ``None`` when it looks fine."""
    target = params.output_dir
    probe = target
    while not probe.exists() and probe.parent != probe:
        probe = probe.parent
    if not probe.is_dir():
        return f"{params.path.name} output_dir: " + os_error_text(NotADirectoryError(errno.ENOTDIR, "Not a directory"), probe)
    if not os.access(probe, os.W_OK | os.X_OK):
        return f"{params.path.name} output_dir: " + os_error_text(PermissionError(errno.EACCES, "Permission denied"), probe)
    return None


def check_output_dir(params: Params) -> None:
    """Raise :class:`ParamsError` (one line, naming the folder) unless the params' output folder and
    its staging folder can be created and written: a read-only folder, an ``output_dir`` that is a
    file, a full disk."""
    for folder in (params.output_dir, params.output_root / STAGING):
        try:
            folder.mkdir(parents=True, exist_ok=True)
            if not folder.is_dir():
                raise NotADirectoryError(errno.ENOTDIR, "Not a directory", str(folder))
            fd, probe = tempfile.mkstemp(prefix=".write-check.", suffix=".tmp", dir=folder)
            try:
                os.write(fd, b"x")
            finally:
                os.close(fd)
                os.unlink(probe)
        except OSError as exc:
            if isinstance(exc, (NotADirectoryError, FileExistsError)) or exc.errno in (errno.ENOTDIR, errno.EEXIST):
                where = output_dir_problem(params)  # names the file that stands where a folder should be
                if where:
                    raise ParamsError(where) from None
            target = params.output_root if not params.output_root.is_dir() else folder
            raise ParamsError(f"{params.path.name} output_dir: " + os_error_text(exc, target)) from None


# -- stamps: what a report's last run was, and the SHA-256 of the files it wrote ----------------------
def stamp_path(output_dir: Path, report: str) -> Path:
    """``outputs/<period>/.<report>.stamp.json``: the last run of this report for this period."""
    return Path(output_dir) / f".{report}.stamp.json"


#: SHA-256 of a file's bytes (the one implementation, in qa_lib.inputs.params)
file_sha256 = sha256_file


#: Files every report of a period rewrites (the same content from the same inputs): not part of a
#: report's own record, so one report's re-run never makes another look changed.
SHARED_OUTPUTS = ("rejects.csv",)


def utc_now() -> str:
    """Now, in UTC to the second, ISO 8601 (``2024-10-03T09:15:02+00:00``)."""
    return _dt.datetime.now(_dt.timezone.utc).replace(microsecond=0).isoformat()


def make_stamp(*, report: str, period: str, params_file: str, status: str, key: dict | None, seconds: float,
               freshness: str, error: str = "", failed_cell: str = "", files: dict[str, str] | None = None,
               finished_at: str = "") -> dict:
    """A job's stamp. ``finished_at`` is when the job itself ended (default: now); the index shows it
    as the report's last run (issue 18: not the time the batch wrote the stamp)."""
    return {"report": report, "period": period, "params_file": params_file, "status": status,
            "key": key if status == "ok" else None, "seconds": round(seconds, 3),
            "finished_at": finished_at or utc_now(),
            "data_freshness": freshness, "error": error, "failed_cell": failed_cell, "files": files or {}}


def stamp_describes_disk(output_dir: Path, stamp: dict) -> bool:
    """True when every file the stamp records is on disk with the SHA-256 it records (and it records
    the HTML): a report whose HTML was replaced after its stamp (a killed run's worker) is re-run."""
    files = stamp.get("files") or {}
    html = f"{stamp.get('report')}.html"
    if html not in files:
        return False
    for name, digest in files.items():
        path = Path(output_dir) / name
        try:
            if file_sha256(path) != digest:
                return False
        except OSError:
            return False
    return True


@contextlib.contextmanager
def period_lock(folder: Path):
    """An exclusive lock on the period folder while a job moves its files, stamp and manifest into place."""
    try:
        import fcntl  # deferred: POSIX only; elsewhere the moves run unlocked
    except ImportError:  # pragma: no cover - Windows
        yield
        return
    with open(folder / ".lock", "a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def run_job(params_path: str | os.PathLike, report: str, *, kernel_name: str = "python3",
            stamp_key: dict | None = None, freshness: str = "") -> JobResult:
    """Execute one report for one params file and move its outputs into place.

    Never raises for a failing notebook: the result says ``failed`` with the error and the
    first line of the failing cell, and ``<report>.failed.ipynb`` is kept beside the outputs.
    With ``stamp_key`` (a batch run), the job itself writes its stamp (with the SHA-256 of every
    file it moved) and merges the period's manifest, under the period folder's lock, right after
    the HTML: the files, the stamp and the manifest change together, even if the batch that
    started the job has died.
    """
    import papermill as pm  # deferred: heavy; `qa-workbook --help` and validate never need it

    t0 = time.perf_counter()
    started = time.time()
    result = JobResult(params_file=str(params_path), period="?", report=report, status="failed")
    staging = None
    try:
        params = load_params(params_path)
        result.params_file, result.period = str(params.path), params.period.label
        check_output_dir(params)
        final_dir = params.output_dir
        staging_root = params.output_root / STAGING
        staging = Path(tempfile.mkdtemp(prefix=staging_prefix(params.period.slug, report), dir=staging_root))
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
            if _disk_full(exc):
                result.error = os_error_text(OSError(errno.ENOSPC, "No space left on device"), staging_root)
                return result
            result.error = f"{type(exc).__name__}: {str(exc).strip().splitlines()[-1] if str(exc).strip() else ''}"
            failed_nb = None
            if executed_path.exists():
                try:
                    failed_nb = nbformat.read(executed_path, as_version=4)
                except Exception:  # noqa: BLE001 - a truncated notebook (disk full, killed kernel) is no clue
                    failed_nb = None
                if failed_nb is not None:
                    result.failed_cell, err = _failed_cell(failed_nb)
                    result.error = err or result.error
            scrub_failure(params, result, failed_nb)  # issue 14: no value from the data in a failure
            if failed_nb is not None:
                nbformat.write(failed_nb, str(final_dir / f"{report}.failed.ipynb"))
                executed_path.unlink(missing_ok=True)
            return result
        unreadable = unreadable_inputs(rejects_path(params), since=started)
        if unreadable:
            result.error = "input file(s) could not be used: " + "; ".join(unreadable)
            scrub_failure(params, result, executed)
            nbformat.write(executed, str(final_dir / f"{report}.failed.ipynb"))
            return result
        title = report_title(report, params.period)  # issue 16: the title says its cadence
        page = export_html(executed, title=title, period=params.period.long_label, authority=params.authority,
                           audience_note=audience_note(params))  # issue 8: mode and rule applied
        (staging / f"{report}.html").write_text(page, encoding="utf-8")
        executed_path.unlink(missing_ok=True)
        extra = write_formats(staging, report, formats=params.formats, title=title, period=params.period.long_label)
        result.notes.extend(extra.skipped)
        with period_lock(final_dir):
            (final_dir / f"{report}.failed.ipynb").unlink(missing_ok=True)
            # move into place: tables and committee formats first, the HTML last, each with an atomic
            # rename; then the stamp (the SHA-256 of each) and the manifest, so they describe exactly these files
            moved, hashes = [], {}
            for src in sorted(staging.rglob("*")):
                if src.is_dir() or src.name.endswith(".html"):
                    continue
                rel = str(src.relative_to(staging))
                if not src.name.startswith(".") and rel not in SHARED_OUTPUTS:
                    hashes[rel] = file_sha256(src)
                dest = final_dir / rel
                dest.parent.mkdir(parents=True, exist_ok=True)
                os.replace(src, dest)
                moved.append(rel)
            hashes[f"{report}.html"] = file_sha256(staging / f"{report}.html")
            os.replace(staging / f"{report}.html", final_dir / f"{report}.html")
            result.outputs = moved + [f"{report}.html"]
            result.html = str(final_dir / f"{report}.html")
            result.status = "ok"
            if stamp_key is not None:
                atomic_write_text(stamp_path(final_dir, report), json.dumps(make_stamp(
                    report=report, period=params.period.label, params_file=str(params.path), status="ok",
                    key=stamp_key, seconds=time.perf_counter() - t0, freshness=freshness, files=hashes), indent=1))
                write_manifest(params)
                result.stamped = True
        return result
    except QAError as exc:
        result.error = str(exc)
        scrub_failure(params, result)
        return result
    except OSError as exc:
        result.status = "failed"
        result.error = os_error_text(exc, getattr(exc, "filename", None) or "output folder")
        return result
    except Exception as exc:  # noqa: BLE001
        if _disk_full(exc):
            result.error = os_error_text(OSError(errno.ENOSPC, "No space left on device"), "output folder")
            return result
        result.error = f"{type(exc).__name__}: {exc}"
        result.failed_cell = traceback.format_exc().strip().splitlines()[-1]
        scrub_failure(params, result)
        return result
    finally:
        result.seconds = time.perf_counter() - t0
        if staging is not None:
            shutil.rmtree(staging, ignore_errors=True)


def write_manifest(params: Params) -> Path:
    """Merge the reports' fragments into ``outputs/<period>/manifest.json`` (atomically)."""
    out = params.output_dir
    reports, tables = [], []
    for frag_path in sorted(out.glob(".*.fragment.json")):
        frag = json.loads(frag_path.read_text(encoding="utf-8"))
        html_file = out / f"{frag['report']}.html"
        if html_file.exists():
            formats = [f"{frag['report']}.{ext}" for ext in ("xlsx", "pdf", "docx") if (out / f"{frag['report']}.{ext}").exists()]
            reports.append({"report": frag["report"], "title": frag["title"], "file": html_file.name,
                            "sha256": file_sha256(html_file), "formats": formats})
            tables.extend(frag["tables"])
    manifest = {"period": params.period.label, "audience": params.audience,
                "disclosure": audience_note(params), "reports": reports, "tables": tables,
                "provenance": provenance(params)}
    path = out / "manifest.json"
    atomic_write_text(path, json.dumps(manifest, indent=1, default=str))
    return path

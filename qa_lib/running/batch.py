"""Batch runs: every (params file × report) job, in parallel, incremental, failure-tolerant.

``run_batch(params_paths, jobs=N)`` plans one job per params file and report, skips the jobs
whose inputs are unchanged since their last successful run (a *stamp* beside the outputs),
runs the others across ``N`` worker processes (or a Dask cluster), and never stops at a
failure. Afterwards it merges each period's ``manifest.json`` and regenerates
``outputs/index.html``.

What makes a job "unchanged" (its stamp key): the SHA-256 of every input file, of the params
file, of the notebook source and of the ``qa_lib`` source tree, and the ``qa_lib`` version.

Atomicity: each job renders into its own staging folder and moves finished files into place
with :func:`os.replace` (see :func:`qa_lib.running.render.run_job`); stamps, manifest and index are
written with :func:`qa_lib.running.render.atomic_write_text`. A run killed midway leaves staging
folders behind, never half-written outputs; :func:`clean_stale` removes them at the next start.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import hashlib
import html
import json
import math
import multiprocessing as mp
import os
import signal
import socket
import shutil
import sys
import tempfile
import threading
import time
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable

import qa_lib
from qa_lib.inputs.data import DATA_CACHE_ENV
from qa_lib.core.errors import ParamsError, QAError, problem
from qa_lib.inputs.params import REPORTS, TABLES, Params, load_params, sha256_file
from qa_lib.core.atomic import atomic_write_text
from qa_lib.running.render import (SHARED_OUTPUTS, STAGING, JobResult, check_inputs, check_output_dir, environ,
                                  file_sha256, make_stamp, notebooks_dir, os_error_text, period_lock, run_job,
                                  utc_now,
                                  stamp_describes_disk, stamp_path, write_manifest)

PACKAGE_DIR = Path(__file__).resolve().parents[1]  # qa_lib/
#: A temporary file older than this (seconds) belongs to a run that died: writes take milliseconds.
STALE_TMP_SECONDS = 120


@dataclass(frozen=True)
class Job:
    """One report for one params file."""

    params_file: str
    report: str
    period: str
    period_slug: str
    output_dir: str
    output_root: str

    @property
    def name(self) -> str:
        return f"{self.period} {self.report}"


# -- fingerprints -------------------------------------------------------------------------------
def _sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def qa_lib_source_hash() -> str:
    """SHA-256 over the ``qa_lib`` package source (``*.py`` and templates), file names included."""
    h = hashlib.sha256()
    files = sorted(p for p in PACKAGE_DIR.rglob("*") if p.is_file() and "__pycache__" not in p.parts
                   and "demo_data" not in p.parts and p.suffix in (".py", ".j2", ".css", ".html"))
    for f in files:
        h.update(str(f.relative_to(PACKAGE_DIR)).encode())
        h.update(b"\0")
        h.update(f.read_bytes())
    return h.hexdigest()


class _Hasher:
    """Hashes each input file once per batch (the demo's params files share their inputs)."""

    def __init__(self):
        self._files: dict[tuple[str, int, int], str] = {}
        self.source = qa_lib_source_hash()

    def file(self, path: Path) -> str:
        st = path.stat()
        key = (str(path), st.st_size, st.st_mtime_ns)
        if key not in self._files:
            self._files[key] = sha256_file(path)
        return self._files[key]

    def job_key(self, params: Params, report: str) -> dict:

        inputs = {}
        for table in (*TABLES, "forms"):  # issue 17: a forms export is an input too
            for f in params.files(table):
                inputs[os.path.relpath(f, params.base_dir)] = self.file(f)
        notebook = notebooks_dir() / f"{report}.py"
        # the file as written and the values it resolves to: a change to a file it extends counts too
        values = json.dumps(params.as_dict(), sort_keys=True, default=str).encode("utf-8")
        return {"inputs": inputs, "params": _sha256_bytes(params.path.read_bytes() + b"\0" + values),
                "notebook": _sha256_bytes(notebook.read_bytes()) if notebook.is_file() else "missing",
                "qa_lib_version": qa_lib.__version__, "qa_lib_source": self.source}


def read_stamp(output_dir: Path, report: str) -> dict | None:
    try:
        return json.loads(stamp_path(output_dir, report).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def is_current(job: Job, key: dict) -> bool:
    """True when the job's last run succeeded with this very key and the files it wrote are still on
    disk with the SHA-256 its stamp records (issue 15: an HTML moved into place by a killed run's
    worker after its stamp was written does not match, so the report is rendered again)."""
    stamp = read_stamp(Path(job.output_dir), job.report)
    return bool(stamp and stamp.get("status") == "ok" and stamp.get("key") == key
                and stamp_describes_disk(Path(job.output_dir), stamp))


def data_freshness(params: Params) -> str:
    """Date (UTC) of the most recently modified input file: how fresh the data behind a report are."""
    mtimes = [f.stat().st_mtime for t in (*TABLES, "forms") for f in params.files(t)]  # issue 17: forms too
    if not mtimes:
        return ""
    return _dt.datetime.fromtimestamp(max(mtimes), _dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def write_stamp(job: Job, result, key: dict | None, freshness: str) -> None:
    """The stamp of a finished job whose worker did not write its own (a failure, a crashed worker).
    Raises OSError when the period folder cannot be written (the caller fails that params file only)."""
    out = Path(job.output_dir)
    previous = read_stamp(out, job.report) or {}
    files = previous.get("files") or {}
    if result.status == "ok":  # the files as they are on disk now
        names = [n for n in (*(result.outputs or []), f"{job.report}.html")
                 if not Path(n).name.startswith(".") and n not in SHARED_OUTPUTS]
        files = {n: file_sha256(out / n) for n in dict.fromkeys(names) if (out / n).is_file()}
    stamp = make_stamp(report=job.report, period=job.period, params_file=job.params_file, status=result.status,
                       key=key, seconds=result.seconds, freshness=freshness, error=result.error,
                       failed_cell=result.failed_cell, files=files, finished_at=result.finished_at)
    atomic_write_text(stamp_path(Path(job.output_dir), job.report), json.dumps(stamp, indent=1))


# -- staging clean-up ---------------------------------------------------------------------------
def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


#: Name prefix of a batch run's private data-cache folder in the temporary directory (then the pid).
CACHE_PREFIX = "qa-workbook-data-"


def clean_stale_caches() -> list[Path]:
    """Remove the data-cache folders of batch runs that were killed before they could (this user's,
    in the temporary directory, whose process no longer exists). Returns what was removed."""
    removed = []
    for d in Path(tempfile.gettempdir()).glob(f"{CACHE_PREFIX}*"):
        try:
            pid = int(d.name[len(CACHE_PREFIX):].split("-")[0])
            mine = not hasattr(os, "getuid") or d.stat().st_uid == os.getuid()
        except (ValueError, OSError):
            continue
        if d.is_dir() and mine and not _pid_alive(pid):
            shutil.rmtree(d, ignore_errors=True)
            removed.append(d)
    return removed


def clean_stale(output_root: Path) -> list[Path]:
    """Remove staging folders and temporary files left by runs that were killed.

    A staging folder of this host is removed when its process no longer exists; one of another
    host (a Dask worker on a shared filesystem) or of unknown origin when older than a day.
    Hidden ``*.tmp`` files in the period folders are removed when older than two minutes.
    Returns what was removed.
    """
    removed: list[Path] = []
    root = Path(output_root)
    staging = root / STAGING
    now = time.time()
    host = socket.gethostname()
    if staging.is_dir():
        for d in staging.iterdir():
            parts = d.name.split("~")
            try:
                stale = (parts[0] == host and not _pid_alive(int(parts[1]))) if len(parts) >= 3 else False
                stale = stale or now - d.stat().st_mtime > 86400
            except (ValueError, OSError):
                stale = False
            if stale:
                shutil.rmtree(d, ignore_errors=True) if d.is_dir() else d.unlink(missing_ok=True)
                removed.append(d)
    if root.is_dir():
        for period_dir in [p for p in root.iterdir() if p.is_dir() and p.name != STAGING]:
            for tmp in [*period_dir.glob(".*.tmp"), *period_dir.glob("tables/.*.tmp")]:
                try:
                    if now - tmp.stat().st_mtime > STALE_TMP_SECONDS:
                        tmp.unlink()
                        removed.append(tmp)
                except OSError:
                    pass
    return removed


# -- planning -----------------------------------------------------------------------------------
def plan(params_paths: Iterable[str | os.PathLike], *, reports: list[str] | None = None):
    """Jobs to run, and a failed result for each params file that cannot be loaded.

    Returns ``(jobs, params_by_file, failures)``.
    """

    if reports:
        bad = [r for r in reports if r not in REPORTS]
        if bad:
            raise problem(ParamsError, "--only", received=", ".join(map(repr, bad)),
                          expected="report names from: " + ", ".join(REPORTS))
    jobs, failures, by_file = [], [], {}
    for path in params_paths:
        try:
            params = load_params(path)
        except QAError as exc:
            failures.append(JobResult(params_file=str(path), period="?", report="*", status="failed", error=str(exc)))
            continue
        by_file[str(params.path)] = params
        for report in (reports or params.reports):
            jobs.append(Job(params_file=str(params.path), report=report, period=params.period.label,
                            period_slug=params.period.slug, output_dir=str(params.output_dir),
                            output_root=str(params.output_root)))
    return jobs, by_file, failures


def default_jobs() -> int:
    """Worker processes by default: the cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


# -- execution ----------------------------------------------------------------------------------
def _run_one(params_file: str, report: str, key: dict | None = None, freshness: str = ""):
    """What a worker runs: one job (module-level so it pickles for processes and Dask). With ``key``
    the job writes its own stamp and manifest as it moves its files (see :func:`run_job`)."""

    result = run_job(params_file, report, stamp_key=key, freshness=freshness)
    result.finished_at = result.finished_at or utc_now()  # the job's own end, for a stamp written later
    return result


PR_SET_PDEATHSIG = 1


def die_with_parent(parent_pid: int | None = None) -> None:
    """Make this process die when its parent does (issue 15: a kill -9 of the CLI alone must not leave
    workers rendering on). Linux: ``prctl(PR_SET_PDEATHSIG, SIGKILL)`` through ctypes; everywhere, a
    daemon thread that ends the process when its parent pid changes (the parent died and the process
    was re-parented). A report kernel started by the worker watches the worker the same way (ipykernel's
    parent poller, through ``JPY_PARENT_PID``), so it ends within a second of it."""
    parent_pid = parent_pid or os.getppid()
    if sys.platform.startswith("linux"):
        try:
            import ctypes  # deferred: Linux only

            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        except (OSError, AttributeError):  # pragma: no cover - no prctl: the thread below still acts
            pass
    if os.getppid() != parent_pid:  # the parent died before prctl took effect
        os._exit(1)

    def watch():
        while True:
            time.sleep(0.5)
            if os.getppid() != parent_pid:
                os._exit(1)
    threading.Thread(target=watch, name="qa-workbook-parent-watch", daemon=True).start()


def _worker_init(parent_pid: int | None = None) -> None:
    # a worker dies with the default action on SIGTERM/SIGINT; its staging folder is then stale
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    die_with_parent(parent_pid)


class _Terminated(BaseException):
    """SIGTERM arrived: a BaseException, so no ``except Exception`` in a job can swallow it."""


def _raise_terminated(signum, frame):
    raise _Terminated(signum)


class Progress:
    """Done / running / failed counts and the current job: a tqdm bar on a terminal, one line
    per finished job otherwise (logs, CI)."""

    def __init__(self, total: int, *, enabled: bool = True, stream=None):
        from tqdm import tqdm  # deferred: only a progress bar on a terminal needs it

        self.stream = stream or sys.stderr
        self.total, self.done, self.failed, self.running = total, 0, 0, {}
        self.enabled = enabled and total > 0
        self.tty = self.enabled and hasattr(self.stream, "isatty") and self.stream.isatty()
        self.bar = tqdm(total=total, unit="job", file=self.stream, dynamic_ncols=True, leave=True) if self.tty else None

    def _refresh(self) -> None:
        if self.bar is not None:
            current = ", ".join(list(self.running.values())[:2]) or "–"
            self.bar.set_description_str(f"running {len(self.running)} | failed {self.failed}")
            self.bar.set_postfix_str(current)

    def started(self, key, name: str) -> None:
        self.running[key] = name
        self._refresh()

    def finished(self, key, result) -> None:
        self.running.pop(key, None)
        self.done += 1
        self.failed += result.status == "failed"
        if self.bar is not None:
            self._refresh()
            self.bar.update(1)
        elif self.enabled:
            print(f"[{self.done}/{self.total}] {result.status:<7} {result.period:<12} {result.report:<12} "
                  f"{result.seconds:5.1f}s  (running {len(self.running)}, failed {self.failed})",
                  file=self.stream, flush=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def _execute_local(jobs: list[Job], n: int, progress: Progress, stamp_args: dict | None = None) -> list:
    stamp_args = stamp_args or {}
    results = []
    if n <= 1 or len(jobs) <= 1:
        for i, job in enumerate(jobs):
            progress.started(i, job.name)
            res = _run_one(job.params_file, job.report, *stamp_args.get(job, (None, "")))
            progress.finished(i, res)
            results.append((job, res))
        return results


    import nbconvert.exporters  # deferred: heavy; imported once here so the forked workers inherit it  # noqa: F401
    import papermill  # deferred: heavy; as above  # noqa: F401

    ctx = mp.get_context("fork") if "fork" in mp.get_all_start_methods() else mp.get_context()
    pool = ProcessPoolExecutor(max_workers=min(n, len(jobs)), mp_context=ctx, initializer=_worker_init,
                               initargs=(os.getpid(),))
    pending = list(enumerate(jobs))
    running = {}
    try:
        while pending or running:
            while pending and len(running) < n:
                i, job = pending.pop(0)
                running[pool.submit(_run_one, job.params_file, job.report, *stamp_args.get(job, (None, "")))] = (i, job)
                progress.started(i, job.name)
            done, _ = wait(running, return_when=FIRST_COMPLETED)
            for fut in done:
                i, job = running.pop(fut)
                try:
                    res = fut.result()
                except Exception as exc:  # noqa: BLE001 - a crashed worker fails its job, not the batch

                    res = JobResult(params_file=job.params_file, period=job.period, report=job.report,
                                    status="failed", error=f"worker crashed: {type(exc).__name__}: {exc}")
                progress.finished(i, res)
                results.append((job, res))
    except BaseException:
        procs = list((getattr(pool, "_processes", None) or {}).values())
        for proc in procs:
            if proc.is_alive():
                proc.terminate()
        for proc in procs:
            proc.join(5)
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown(wait=True)
    return results


def _execute_dask(jobs: list[Job], scheduler: str | object, progress: Progress, stamp_args: dict | None = None) -> list:
    try:
        from distributed import Client, as_completed  # deferred: heavy optional executor (--executor dask)
    except ImportError as exc:  # pragma: no cover - distributed is a dependency
        raise QAError(f"--executor dask needs the 'distributed' package ({exc}). Fix: pip install distributed") from None
    client = scheduler if hasattr(scheduler, "submit") else Client(scheduler, set_as_default=False)
    try:
        futures = {}
        for i, job in enumerate(jobs):
            fut = client.submit(_run_one, job.params_file, job.report, *(stamp_args or {}).get(job, (None, "")), pure=False,
                                key=f"qa-workbook-{job.period_slug}-{job.report}-{os.getpid()}-{time.time_ns()}")
            futures[fut] = (i, job)
            progress.started(i, job.name)
        results = []
        with client.as_current():  # as_completed looks the client up
            for fut in as_completed(list(futures)):
                i, job = futures[fut]
                try:
                    res = fut.result()
                except Exception as exc:  # noqa: BLE001

                    res = JobResult(params_file=job.params_file, period=job.period, report=job.report, status="failed",
                                    error=f"dask worker error: {type(exc).__name__}: {exc}")
                progress.finished(i, res)
                results.append((job, res))
        return results
    finally:
        # jobs not yet finished are cancelled when this client stops (an error, Ctrl-C); a client that is
        # killed outright is dropped by the scheduler, which releases its queued jobs the same way
        pending = [f for f in futures if not f.done()] if "futures" in locals() else []
        if pending:
            with contextlib.suppress(Exception):
                client.cancel(pending)
        if client is not scheduler:
            client.close()


def run_order(todo: list[Job]) -> list[Job]:
    """The order to start jobs in: report by report, the slowest report first.

    The first report of each params file to run validates its data and the others read it from the
    run's private data cache (:func:`qa_lib.inputs.data.load_dataset_cached`), so one report of every
    params file starts before the second of any (with N workers, N different files load at once).
    Slowest first (by the mean time of the report's last runs, from the stamps; never-run reports
    first, then in ``REPORTS`` order) leaves the short jobs for the end, where they fill the gaps
    of the other workers instead of keeping one worker busy while the rest wait.
    """
    last: dict[str, list[float]] = {}
    for job in todo:
        seconds = (read_stamp(Path(job.output_dir), job.report) or {}).get("seconds")
        if isinstance(seconds, (int, float)) and seconds > 0:
            last.setdefault(job.report, []).append(float(seconds))
    position = {name: k for k, name in enumerate(REPORTS)}

    def key(job: Job) -> tuple[float, int]:
        times = last.get(job.report)
        return (-sum(times) / len(times) if times else -math.inf, position.get(job.report, len(position)))

    return sorted(todo, key=key)  # stable: params files stay in plan order within a report


def run_batch(params_paths: Iterable[str | os.PathLike], *, reports: list[str] | None = None,
              jobs: int | None = None, force: bool = False, executor: str = "local",
              scheduler: str | object | None = None, progress: bool = True,
              on_plan: Callable[[int, int], None] | None = None) -> list:
    """Render every (params file × report) job; return one :class:`~qa_lib.running.render.JobResult` each.

    Parameters
    ----------
    params_paths : iterable of path-like
    reports : list of str, optional
        Only these reports (default: each params file's ``reports``).
    jobs : int, optional
        Worker processes for the local executor (default: the machine's cores).
    force : bool
        Run jobs whose stamp says their inputs are unchanged.
    executor : {"local", "dask"}
    scheduler : str or distributed.Client
        For ``executor="dask"``: the scheduler address (``tcp://host:8786``) or a client.
    progress : bool
        Show progress (a bar on a terminal, a line per job otherwise).

    Returns
    -------
    list of JobResult
        In plan order; statuses ``ok``, ``failed`` or ``skipped``. Never raises for a failing job.
    """

    if executor not in ("local", "dask"):
        raise problem(QAError, "--executor", received=repr(executor), expected="local or dask")
    if executor == "dask" and not scheduler:
        raise problem(QAError, "--executor dask", received="no --scheduler",
                      expected="the scheduler address, e.g. --scheduler tcp://10.0.0.5:8786")
    planned, by_file, failures = plan(params_paths, reports=reports)
    # issue 15: an output folder that cannot be written (read-only, a file, a full disk) fails that params
    # file's jobs with one line; the rest of the batch runs and gets its stamps, manifests and index
    unusable: dict[str, str] = {}
    for name, params in by_file.items():
        try:
            check_output_dir(params)
        except QAError as exc:
            unusable[name] = str(exc)
    writable_roots = sorted({j.output_root for j in planned if j.params_file not in unusable})
    for root in writable_roots:
        clean_stale(Path(root))

    hasher = _Hasher()
    keys, fresh, results, todo = {}, {}, {}, []
    for job in planned:
        params = by_file[job.params_file]
        if job.params_file in unusable:
            results[job] = JobResult(params_file=job.params_file, period=job.period, report=job.report,
                                     status="failed", error=unusable[job.params_file])
            continue
        try:
            keys[job] = hasher.job_key(params, job.report)
            fresh[job] = data_freshness(params)
        except (QAError, OSError) as exc:
            results[job] = JobResult(params_file=job.params_file, period=job.period, report=job.report,
                                     status="failed", error=str(exc))
            continue
        why = params.missing_data(job.report)  # issue 17: a report whose data is absent is skipped, said why
        if why:
            results[job] = JobResult(params_file=job.params_file, period=job.period, report=job.report,
                                     status="no data", error=why)
            write_stamp(job, results[job], None, fresh[job])
            continue
        if not force and is_current(job, keys[job]):
            stamp = read_stamp(Path(job.output_dir), job.report) or {}
            results[job] = JobResult(params_file=job.params_file, period=job.period, report=job.report,
                                     status="skipped", html=str(Path(job.output_dir) / f"{job.report}.html"),
                                     seconds=float(stamp.get("seconds", 0.0)))
        else:
            todo.append(job)
    if on_plan:
        on_plan(len(planned), len(todo))

    todo = run_order(todo)
    stamp_args = {job: (keys.get(job), fresh.get(job, "")) for job in todo}
    bar = Progress(len(todo), enabled=progress)
    old_handler = signal.signal(signal.SIGTERM, _raise_terminated) if _main_thread() else None
    # local workers share a private folder (0700) that lives as long as this call; dask workers may
    # be other machines, so each of their jobs loads its own data
    clean_stale_caches()
    cache_dir = tempfile.mkdtemp(prefix=f"{CACHE_PREFIX}{os.getpid()}-") if executor == "local" else None
    # kernel connection files go in the run's private folder too: removed with it, or by the next run
    # when this one is killed (issue 15: they were left in the temporary folder for good)
    runtime_dir = os.path.join(cache_dir, "jupyter-runtime") if cache_dir else None
    if runtime_dir:
        os.makedirs(runtime_dir, mode=0o700, exist_ok=True)
    try:
        with environ(DATA_CACHE_ENV, cache_dir), environ("JUPYTER_RUNTIME_DIR", runtime_dir):
            if executor == "dask":
                finished = _execute_dask(todo, scheduler, bar, stamp_args)
            else:
                finished = _execute_local(todo, jobs or default_jobs(), bar, stamp_args)
    except _Terminated:
        bar.close()
        for root in writable_roots:
            clean_stale(Path(root))
        raise KeyboardInterrupt("terminated") from None
    finally:
        bar.close()
        if cache_dir:
            shutil.rmtree(cache_dir, ignore_errors=True)
        if old_handler is not None:
            signal.signal(signal.SIGTERM, old_handler)
    broken: dict[str, str] = {}  # params file -> why its folder could not take its stamps or manifest
    for job, res in finished:
        results[job] = res
        if res.status in ("ok", "failed") and not res.stamped:
            try:
                write_stamp(job, res, keys.get(job), fresh.get(job, ""))
            except OSError as exc:
                broken.setdefault(job.params_file, os_error_text(exc, job.output_dir))

    for name, params in by_file.items():
        if name in unusable:
            continue
        try:
            params.output_dir.mkdir(parents=True, exist_ok=True)
            with period_lock(params.output_dir):
                write_manifest(params)
        except (QAError, OSError) as exc:
            text = os_error_text(exc, params.output_dir) if isinstance(exc, OSError) else str(exc)
            broken.setdefault(name, text)
    for name, text in broken.items():
        failures.append(JobResult(params_file=name, period=by_file[name].period.label, report="manifest",
                                  status="failed", error=text))
    for root in writable_roots:
        try:
            write_index(Path(root))
        except OSError as exc:
            failures.append(JobResult(params_file="*", period="*", report="index", status="failed",
                                      error=os_error_text(exc, Path(root) / "index.html")))
    return failures + [results[j] for j in planned]


def _main_thread() -> bool:

    return threading.current_thread() is threading.main_thread()


# -- summary ------------------------------------------------------------------------------------
def summary(results: list) -> str:
    """Plain-text summary: counts, then a table of failed jobs with the failing cell and error."""
    counts = {s: sum(r.status == s for r in results) for s in ("ok", "skipped", "failed", "no data")}
    lines = [f"{len(results)} job(s): {counts['ok']} rendered, {counts['skipped']} skipped (inputs unchanged), "
             f"{counts['failed']} failed" + (f", {counts['no data']} not rendered (no data)" if counts["no data"] else "")]
    for r in results:  # issue 17: a report skipped for want of data says why
        if r.status == "no data":
            lines.append(f"  {r.period} {r.report} not rendered: {r.error}")
    failed = [r for r in results if r.status == "failed"]
    if failed:
        rows = [("period", "report", "params file", "failing cell", "error")]
        for r in failed:
            rows.append((r.period, r.report, Path(r.params_file).name, r.failed_cell or "–",
                         " ".join(str(r.error).split())[:300]))
        widths = [max(len(str(row[i])) for row in rows) for i in range(4)]
        lines.append("")
        lines.append("Failed jobs (executed notebooks kept as outputs/<period>/<report>.failed.ipynb):")
        for k, row in enumerate(rows):
            lines.append("  " + "  ".join(str(c).ljust(w) for c, w in zip(row[:4], widths)) + "  " + row[4])
            if k == 0:
                lines.append("  " + "  ".join("-" * w for w in widths) + "  " + "-" * 5)
    return "\n".join(lines)


# -- index --------------------------------------------------------------------------------------
INDEX_CSS = """body{font-family:system-ui,-apple-system,"Segoe UI",Arial,sans-serif;margin:2rem auto;max-width:70rem;
padding:0 1rem;color:#0b0c0c;line-height:1.45}table{border-collapse:collapse;width:100%;margin:1rem 0 2rem}
caption{text-align:left;font-weight:700;font-size:1.15rem;padding:.4rem 0}th,td{border-bottom:1px solid #b1b4b6;
padding:.4rem .6rem;text-align:left;vertical-align:top}thead th{border-bottom:2px solid #0b0c0c}
a{color:#1d70b8}a:focus{outline:3px solid #fd0;background:#fd0;color:#0b0c0c}.failed{color:#d4351c;font-weight:700}
.ok{color:#00703c}.meta{color:#505a5f}.table-wrap{overflow-x:auto;max-width:100%}
.table-wrap:focus{outline:3px solid #fd0}td a,li a{display:inline-block;min-height:24px;padding:.1rem 0}"""


def _index_rows(root: Path) -> list[dict]:
    """One row per report of each period folder under ``root``.

    A period folder is one a run wrote: it holds a ``manifest.json`` or a job stamp. Another output
    root inside this one (``outputs/published/``, with its own ``index.html``) is not a period, and an
    HTML file is a report only when a stamp or the manifest names it or it is one of :data:`REPORTS`
    (issue 18: the nested index was listed as a period "published" with a report "Index")."""
    rows = []
    for period_dir in sorted((p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")), reverse=True):
        stamp_files = sorted(period_dir.glob(".*.stamp.json"))
        if not stamp_files and not (period_dir / "manifest.json").is_file():
            continue
        manifest = {}
        try:
            manifest = json.loads((period_dir / "manifest.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            pass
        titles = {r["report"]: r.get("title", r["report"]) for r in manifest.get("reports", []) if "report" in r}
        stamps = {}
        for s in stamp_files:
            try:
                st = json.loads(s.read_text(encoding="utf-8"))
                stamps[st["report"]] = st
            except (OSError, ValueError, KeyError, TypeError):
                continue
        names = sorted(set(stamps) | set(titles) | {h.stem for h in period_dir.glob("*.html") if h.stem in REPORTS})
        for report in names:
            st = stamps.get(report, {})
            html_file = period_dir / f"{report}.html"
            rows.append({"period": st.get("period") or manifest.get("period") or period_dir.name,
                         "slug": period_dir.name, "report": report,
                         "title": titles.get(report, report.replace("_", " ").capitalize()),
                         "html": f"{period_dir.name}/{report}.html" if html_file.is_file() else None,
                         "status": st.get("status", "ok" if html_file.is_file() else "unknown"),
                         "finished_at": st.get("finished_at", ""), "seconds": st.get("seconds"),
                         "freshness": st.get("data_freshness", ""), "error": st.get("error", "")})
    return rows


def write_index(output_root: Path) -> Path:
    """Regenerate ``outputs/index.html``: every period and report with its link, last run, status
    and data freshness. Self-contained (inline CSS, no script), one ``<h1>``, escaped."""

    root = Path(output_root)
    root.mkdir(parents=True, exist_ok=True)
    rows = _index_rows(root)
    e = html.escape
    by_period: dict[str, list[dict]] = {}
    for r in rows:
        by_period.setdefault(r["period"], []).append(r)
    sections = []
    for period, items in by_period.items():
        body = []
        for r in items:
            link = (f'<a href="{e(r["html"], quote=True)}">{e(r["title"])}</a>' if r["html"] and r["status"] not in ("failed", "no data")
                    else e(r["title"]))
            if r["status"] == "failed":
                older = f' (<a href="{e(r["html"], quote=True)}">previous version</a>)' if r["html"] else ""
                status = (f'<span class="failed">Failed</span>{older}: {e(" ".join(str(r["error"]).split())[:200])}'
                          f" (executed notebook kept as <code>{e(r['slug'])}/{e(r['report'])}.failed.ipynb</code>)")
            elif r["status"] == "ok":
                status = '<span class="ok">Rendered</span>'
            elif r["status"] == "no data":  # issue 17
                status = f'Not rendered: {e(str(r["error"]))}'
            else:
                status = e(r["status"].capitalize())
            took = f" ({r['seconds']:.1f} s)" if isinstance(r["seconds"], (int, float)) else ""
            body.append(f'<tr><th scope="row">{link}</th><td>{status}</td><td>{e(r["finished_at"])}{e(took)}</td>'
                        f'<td>{e(r["freshness"] or "–")}</td></tr>')
        sections.append(f'<div class="table-wrap" role="region" tabindex="0" aria-label="{e(period)}">'
                        f'<table><caption>{e(period)}</caption><thead><tr><th scope="col">Report</th>'
                        f'<th scope="col">Status</th><th scope="col">Last run (UTC)</th>'
                        f'<th scope="col">Data as of (latest input file change)</th></tr></thead>'
                        f'<tbody>{"".join(body)}</tbody></table></div>')
    now = _dt.datetime.now(_dt.timezone.utc).replace(microsecond=0).isoformat()
    content = "".join(sections) or "<p>No reports have been rendered yet.</p>"
    # another output root inside this one (params with output_dir: outputs/published): a link, never a period
    nested = sorted(p.name for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")
                    and (p / "index.html").is_file() and not (p / "manifest.json").is_file())
    if nested:
        content += ("<h2>Other report folders</h2><ul>"
                    + "".join(f'<li><a href="{e(n, quote=True)}/index.html">{e(n)}</a></li>' for n in nested) + "</ul>")
    page = (
        '<!DOCTYPE html>\n<html lang="en-GB">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">\n"
        f"<title>QA Workbook reports</title>\n<style>{INDEX_CSS}</style>\n</head>\n<body>\n<main>\n"
        f"<h1>QA Workbook reports</h1>\n<p class=\"meta\">Every period and report in this folder. "
        f"Index regenerated {e(now)} by QA Workbook {e(qa_lib.__version__)}.</p>\n{content}\n</main>\n</body>\n</html>\n")
    path = root / "index.html"
    atomic_write_text(path, page)
    return path


__all__ = ["Job", "run_batch", "plan", "summary", "write_index", "clean_stale", "check_inputs", "is_current", "stamp_path",
           "die_with_parent",
           "qa_lib_source_hash", "default_jobs"]

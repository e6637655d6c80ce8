"""Issue 15: kill -9 of the ``qa-workbook`` process alone (not its group), at three moments of a run.

10 s later no worker or kernel of that run is left; every report's stamp and the manifest describe
the HTML on disk (or the stamp does not claim it, so the report is re-run); and the next run
re-renders exactly the reports whose stamps do not describe their files, skipping the rest.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from qa_lib.inputs.params import portable_values
from qa_lib.running import batch
from qa_lib.running.render import file_sha256, stamp_describes_disk

ROOT = Path(__file__).resolve().parents[2]
CLI = [sys.executable, "-m", "qa_lib.running.cli"]
SOURCES = ("demo.yaml", "demo-2024-25-Q1.yaml", "demo-2023-24-Q4.yaml")


def _children() -> dict[int, int]:
    """pid -> parent pid, for every process."""
    out = {}
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                stat = (d / "stat").read_text()
                out[int(d.name)] = int(stat[stat.rindex(")") + 2:].split()[1])
            except (OSError, ValueError, IndexError):
                continue
    return out


def _descendants(root: int) -> set[int]:
    parents = _children()
    found, frontier = set(), {root}
    while frontier:
        kids = {p for p, pp in parents.items() if pp in frontier and p not in found}
        found |= kids
        frontier = kids
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text()
        return state[state.rindex(")") + 2] != "Z"
    except (OSError, ValueError):
        return False


def _params(folder: Path) -> list[Path]:
    out = []
    for src in SOURCES:
        values = portable_values(ROOT / "params" / src)
        values["output_dir"] = str(folder / "outputs")
        path = folder / src
        path.write_text(yaml.safe_dump(values, sort_keys=False), encoding="utf-8")
        out.append(path)
    return out


def _jobs(files: list[Path], reports: list[str]):
    planned, by_file, _ = batch.plan(files, reports=reports)
    hasher = batch._Hasher()
    return [(job, hasher.job_key(by_file[job.params_file], job.report)) for job in planned]


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
@pytest.mark.parametrize("moment", ["workers started", "first report in place", "second report in place"])
def test_kill_cli_alone_leaves_no_worker_and_true_stamps(tmp_path, moment):
    files = _params(tmp_path)
    reports = ["quarterly", "feedback"]
    out = tmp_path / "outputs"
    proc = subprocess.Popen([*CLI, "run", *map(str, files), "--jobs", "2", "--only", *reports, "--quiet"],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    seen: set[int] = set()
    deadline = time.time() + 600
    want_html = {"workers started": 0, "first report in place": 1, "second report in place": 2}[moment]
    while time.time() < deadline:
        assert proc.poll() is None, proc.communicate()
        seen |= _descendants(proc.pid)
        if len(list(out.glob("*/*.html"))) >= want_html and (want_html or len(seen) >= 2):
            break
        time.sleep(0.05)
    time.sleep(0.5)
    seen |= _descendants(proc.pid)
    assert seen, "no worker process was seen"
    os.kill(proc.pid, signal.SIGKILL)  # the CLI alone: its workers and kernels are not signalled
    proc.wait()
    time.sleep(10)
    left = [p for p in seen if _alive(p)]
    assert not left, f"{len(left)} worker/kernel process(es) of the killed run still alive after 10 s"

    # every stamp that claims a report describes the HTML on disk; the manifest lists HTML as it is
    jobs = _jobs(files, reports)
    for job, _ in jobs:
        stamp = batch.read_stamp(Path(job.output_dir), job.report)
        if stamp and stamp.get("status") == "ok":
            assert stamp_describes_disk(Path(job.output_dir), stamp), f"{job.name}: stamp does not describe its files"
    for manifest in out.glob("*/manifest.json"):
        for rep in json.loads(manifest.read_text())["reports"]:
            assert file_sha256(manifest.parent / rep["file"]) == rep["sha256"], f"{manifest}: {rep['file']} differs"
    killed_runtime = list(Path("/tmp").glob(f"qa-workbook-data-{proc.pid}-*/jupyter-runtime"))
    assert killed_runtime, "kernel connection files should live in the run's private folder"

    # the next run re-renders exactly the reports whose stamp does not describe their files
    stale = {job.name for job, key in jobs if not batch.is_current(job, key)}
    again = subprocess.run([*CLI, "run", *map(str, files), "--jobs", "2", "--only", *reports, "--quiet"],
                           cwd=ROOT, capture_output=True, text=True, timeout=900)
    assert again.returncode == 0, again.stderr[-3000:]
    rendered = {f"{m.group(1)} {m.group(2)}" for m in re.finditer(r"^  ok\s+(\S+ \S+|\S+)\s+(\w+)\s", again.stdout, re.M)}
    skipped = {f"{m.group(1)} {m.group(2)}" for m in re.finditer(r"^  skipped (\S+ \S+|\S+)\s+(\w+)\s", again.stdout, re.M)}
    assert rendered == stale, (rendered, stale, again.stdout)
    assert skipped == {job.name for job, _ in jobs} - stale
    assert all(batch.is_current(job, key) for job, key in jobs)
    assert not list(Path("/tmp").glob(f"qa-workbook-data-{proc.pid}-*")), "the killed run's private folder is left"

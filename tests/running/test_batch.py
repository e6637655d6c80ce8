"""Batch runs (qa_lib.running.batch): parallel jobs, failures that do not stop the others, incremental
skips, atomic outputs under a kill, the outputs index, Dask, and self-contained HTML.

Tests that execute notebooks are marked slow. Speed itself is measured by `make bench`
(bench/run_bench.py), never asserted here.
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

import pandas as pd
import pytest
import yaml

from qa_lib.inputs.params import portable_values

from qa_lib.running import batch
from qa_lib.core.errors import ParamsError
from qa_lib.inputs.params import load_params

ROOT = Path(__file__).resolve().parents[2]
PARAMS = ROOT / "params"
CLI = [sys.executable, "-m", "qa_lib.running.cli"]


def params_copy(folder: Path, source: Path, name: str, *, outputs: Path, data: dict | None = None, **overrides) -> Path:
    """A copy of a shipped params file with absolute data paths, written as ``folder/name``."""
    values = portable_values(source)
    values["data"].update(data or {})
    values["output_dir"] = str(outputs)
    values.update(overrides)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(yaml.safe_dump(values, sort_keys=False), encoding="utf-8")
    return path


def cli(*args, timeout=600) -> subprocess.CompletedProcess:
    return subprocess.run([*CLI, *map(str, args)], capture_output=True, text=True, timeout=timeout, cwd=ROOT)


# -- fast: stamps, pre-flight, clean-up, index, summary -------------------------------------------
def test_job_key_changes_with_each_input(tmp_path):
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    audits = data_dir / "audits.csv"
    audits.write_text((PARAMS.parent / "qa_lib/demo_data/audits.csv").read_text(encoding="utf-8"), encoding="utf-8")
    p = params_copy(tmp_path, PARAMS / "demo.yaml", "p.yaml", outputs=tmp_path / "out", data={"audits": str(audits)})
    key = batch._Hasher().job_key(load_params(p), "quarterly")
    assert set(key) == {"inputs", "params", "notebook", "qa_lib_version", "qa_lib_source"}
    assert batch._Hasher().job_key(load_params(p), "quarterly") == key  # deterministic

    with audits.open("a", encoding="utf-8") as fh:  # one more input row
        fh.write("QA99999,1,2024-07-01,Front Door,AUD001\n")
    key2 = batch._Hasher().job_key(load_params(p), "quarterly")
    assert key2["inputs"] != key["inputs"] and key2["params"] == key["params"]

    p.write_text(p.read_text(encoding="utf-8") + "\n# a comment changes the params file\n", encoding="utf-8")
    key3 = batch._Hasher().job_key(load_params(p), "quarterly")
    assert key3["params"] != key2["params"] and key3["inputs"] == key2["inputs"]
    assert batch._Hasher().job_key(load_params(p), "moderation")["notebook"] != key3["notebook"] or \
        not (ROOT / "notebooks" / "moderation.py").exists()


def test_job_key_changes_when_an_extended_base_file_changes(tmp_path):
    (tmp_path / "audits.csv").write_text("audit_id\n")
    (tmp_path / "base.yaml").write_text("period: 2024-25 Q2\ndata: {audits: audits.csv}\nmin_n: 10\n")
    (tmp_path / "variant.yaml").write_text("extends: base.yaml\naudience: published\n")
    key = batch._Hasher().job_key(load_params(tmp_path / "variant.yaml"), "quarterly")
    (tmp_path / "base.yaml").write_text("period: 2024-25 Q2\ndata: {audits: audits.csv}\nmin_n: 5\n")
    assert batch._Hasher().job_key(load_params(tmp_path / "variant.yaml"), "quarterly")["params"] != key["params"]


def test_is_current_needs_ok_stamp_same_key_and_html(tmp_path):
    job = batch.Job(params_file="p.yaml", report="quarterly", period="2024-25 Q2", period_slug="2024-25-Q2",
                    output_dir=str(tmp_path), output_root=str(tmp_path.parent))
    key = {"inputs": {"a.csv": "1"}}
    assert not batch.is_current(job, key)  # no stamp
    from qa_lib.running.render import JobResult

    batch.write_stamp(job, JobResult("p.yaml", "2024-25 Q2", "quarterly", "ok", 1.0), key, "")
    assert not batch.is_current(job, key)  # no HTML
    (tmp_path / "quarterly.html").write_text("<html></html>")
    assert not batch.is_current(job, key)  # the stamp does not describe an HTML written after it (issue 15)
    batch.write_stamp(job, JobResult("p.yaml", "2024-25 Q2", "quarterly", "ok", 1.0), key, "")
    assert batch.is_current(job, key)
    assert not batch.is_current(job, {"inputs": {"a.csv": "2"}})
    (tmp_path / "quarterly.html").write_text("<html>other data</html>")  # replaced after its stamp
    assert not batch.is_current(job, key)
    batch.write_stamp(job, JobResult("p.yaml", "2024-25 Q2", "quarterly", "ok", 1.0), key, "")
    batch.write_stamp(job, JobResult("p.yaml", "2024-25 Q2", "quarterly", "failed", 1.0, error="x"), key, "")
    assert not batch.is_current(job, key)  # last run failed


def test_corrupt_and_binary_inputs_fail_naming_the_file(tmp_path):
    bad_xlsx = tmp_path / "audits-export.xlsx"
    bad_xlsx.write_bytes(b"PK\x03\x04 this is not really a workbook")
    p = params_copy(tmp_path, PARAMS / "demo.yaml", "p.yaml", outputs=tmp_path / "out", data={"audits": str(bad_xlsx)})
    with pytest.raises(ParamsError, match="audits-export.xlsx"):
        batch.check_inputs(load_params(p))
    binary = tmp_path / "ratings.csv"
    binary.write_bytes(b"audit_id,rater_id\n\x00\x01\x02\x03")
    p = params_copy(tmp_path, PARAMS / "demo.yaml", "q.yaml", outputs=tmp_path / "out", data={"ratings": str(binary)})
    with pytest.raises(ParamsError, match="ratings.csv"):
        batch.check_inputs(load_params(p))
    batch.check_inputs(load_params(PARAMS / "demo.yaml"))  # the demo's inputs pass


def test_clean_stale_removes_dead_runs_only(tmp_path):
    staging = tmp_path / batch.STAGING
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    host = batch.socket.gethostname()
    dead_dir = staging / f"{host}~{dead.pid}~2024-25-Q2-quarterly-abc"
    live_dir = staging / f"{host}~{os.getpid()}~2024-25-Q2-quarterly-def"
    for d in (dead_dir, live_dir):
        (d / "tables").mkdir(parents=True)
        (d / "tables" / "quarterly-x.csv").write_text("half")
    period = tmp_path / "2024-25-Q2"
    (period / "tables").mkdir(parents=True)
    old_tmp = period / "tables" / ".quarterly-x.csv.abcd.tmp"
    new_tmp = period / ".manifest.json.efgh.tmp"
    old_tmp.write_text("half")
    new_tmp.write_text("being written")
    past = time.time() - 3600
    os.utime(old_tmp, (past, past))
    removed = batch.clean_stale(tmp_path)
    assert dead_dir in removed and not dead_dir.exists()
    assert live_dir.exists()  # a live run's staging is left alone
    assert not old_tmp.exists() and new_tmp.exists()


def test_index_lists_every_period_and_report_escaped_and_accessible(tmp_path):
    from qa_lib.running.render import JobResult

    for slug, label, status in (("2024-25-Q1", "2024-25 Q1", "ok"), ("2024-25-Q2", "2024-25 Q2", "failed")):
        out = tmp_path / slug
        out.mkdir()
        job = batch.Job(params_file="p.yaml", report="quarterly", period=label, period_slug=slug,
                        output_dir=str(out), output_root=str(tmp_path))
        if status == "ok":
            (out / "quarterly.html").write_text("<html></html>")
        res = JobResult("p.yaml", label, "quarterly", status, 2.5, error="<script>alert(1)</script> in audits.csv")
        batch.write_stamp(job, res, {"k": 1}, "2024-10-07 09:00 UTC")
    page = batch.write_index(tmp_path).read_text(encoding="utf-8")
    assert re.search(r'<html lang="en', page)
    assert len(re.findall(r"<h1[\s>]", page)) == 1
    assert page.count("<caption>") == 2 and '<th scope="col">Status</th>' in page
    assert 'href="2024-25-Q1/quarterly.html"' in page
    assert "2024-10-07 09:00 UTC" in page and "Failed" in page
    assert "<script" not in page and "&lt;script&gt;" in page
    assert not re.search(r"(src|href)=\"(https?:)?//", page)


def test_index_lists_only_real_periods_and_each_report_s_own_finish_time(tmp_path):
    """Issue 18: a nested output root (outputs/published/ with its own index.html, as params/demo-published.yaml
    writes) is a link, not a period "published" with a report "Index"; a stray HTML is not a report; and
    "Last run" is each job's own end, also for a failed job whose stamp the batch writes after every job."""
    from qa_lib.running.render import JobResult

    out = tmp_path / "2024-25-Q2"
    out.mkdir()
    ends = {"quarterly": "2024-10-07T09:00:05+00:00", "moderation": "2024-10-07T09:03:41+00:00"}
    for report, status in (("quarterly", "ok"), ("moderation", "failed")):
        job = batch.Job(params_file="p.yaml", report=report, period="2024-25 Q2", period_slug=out.name,
                        output_dir=str(out), output_root=str(tmp_path))
        if status == "ok":
            (out / f"{report}.html").write_text("<html></html>")
        res = JobResult("p.yaml", "2024-25 Q2", report, status, 3.0, error="boom", finished_at=ends[report])
        batch.write_stamp(job, res, {"k": 1}, "")  # written "later", as the batch does: the job's time stays
    (out / "notes.html").write_text("<html>a page a person saved here</html>")
    nested = tmp_path / "published"
    (nested / "2024-25-Q2").mkdir(parents=True)
    (nested / "index.html").write_text("<html></html>")
    (tmp_path / "scratch").mkdir()  # an empty folder a person made
    page = batch.write_index(tmp_path).read_text(encoding="utf-8")
    assert re.findall(r"<caption>([^<]*)</caption>", page) == ["2024-25 Q2"]
    rows = re.findall(r'<tr><th scope="row">(.*?)</th><td>.*?</td><td>([^<(]*)', page)
    assert [(re.sub(r"<[^>]+>", "", name), when.strip()) for name, when in rows] == [
        ("Moderation", ends["moderation"]), ("Quarterly", ends["quarterly"])]
    assert ">Index<" not in page and "notes.html" not in page and "scratch" not in page
    assert '<a href="published/index.html">published</a>' in page


def test_a_job_result_carries_its_own_end_time(tmp_path, monkeypatch):
    """The worker notes when its job ended; a stamp written afterwards by the batch keeps that time."""
    from qa_lib.running.render import JobResult

    monkeypatch.setattr(batch, "run_job", lambda *a, **k: JobResult("p.yaml", "2024-25 Q2", "quarterly", "failed"))
    monkeypatch.setattr(batch, "utc_now", lambda: "2024-10-07T09:00:05+00:00")
    res = batch._run_one("p.yaml", "quarterly")
    assert res.finished_at == "2024-10-07T09:00:05+00:00"
    job = batch.Job(params_file="p.yaml", report="quarterly", period="2024-25 Q2", period_slug="q2",
                    output_dir=str(tmp_path), output_root=str(tmp_path))
    batch.write_stamp(job, res, None, "")
    assert batch.read_stamp(tmp_path, "quarterly")["finished_at"] == "2024-10-07T09:00:05+00:00"


def test_run_order_one_report_of_every_file_first_and_slowest_report_first(tmp_path):
    def job(period, report):
        out = tmp_path / period
        out.mkdir(exist_ok=True)
        return batch.Job(params_file=f"{period}.yaml", report=report, period=period, period_slug=period,
                         output_dir=str(out), output_root=str(tmp_path))

    plan = [job(p, r) for p in ("P1", "P2") for r in ("quarterly", "feedback", "indicators", "moderation")]
    # never run: report by report in REPORTS order, each report for every params file in plan order
    assert [(j.period, j.report) for j in batch.run_order(plan)] == [
        (p, r) for r in ("quarterly", "feedback", "indicators", "moderation") for p in ("P1", "P2")]
    # with stamps: slowest report (mean of its last runs) first, shortest last
    seconds = {"quarterly": (3.0, 3.4), "feedback": (1.8, 2.0), "indicators": (2.6, 2.8), "moderation": (3.6, 3.0)}
    for j in plan:
        batch.stamp_path(Path(j.output_dir), j.report).write_text(
            json.dumps({"seconds": seconds[j.report][0 if j.period == "P1" else 1]}), encoding="utf-8")
    assert [(j.period, j.report) for j in batch.run_order(plan)] == [
        (p, r) for r in ("moderation", "quarterly", "indicators", "feedback") for p in ("P1", "P2")]


def test_summary_table_names_failing_cell_and_error():
    from qa_lib.running.render import JobResult

    results = [JobResult("a.yaml", "2024-25 Q2", "quarterly", "ok", 1.0),
               JobResult("b.yaml", "2024-25 Q1", "quarterly", "failed", 1.0, error="InputError: strict run stopped",
                         failed_cell="rpt = Report.start(params_path)"),
               JobResult("c.yaml", "2024-25 Q1", "quarterly", "skipped")]
    text = batch.summary(results)
    assert "3 job(s): 1 rendered, 1 skipped (inputs unchanged), 1 failed" in text
    assert "b.yaml" in text and "rpt = Report.start" in text and "strict run stopped" in text


def test_unknown_report_and_executor_are_refused(tmp_path):
    with pytest.raises(ParamsError, match="nonesuch"):
        batch.run_batch([PARAMS / "demo.yaml"], reports=["nonesuch"], progress=False)
    with pytest.raises(Exception, match="scheduler"):
        batch.run_batch([PARAMS / "demo.yaml"], executor="dask", progress=False)


def test_large_generator_and_pipeline_small_scale():
    sys.path.insert(0, str(ROOT / "bench"))
    try:
        import large_data
    finally:
        sys.path.pop(0)
    frames = large_data.generate(n_audits=600, seed=3)
    assert len(frames["audits"]) == 600
    assert len(frames["ratings"]) == 600 * 10  # the auditor's overall grade and nine domains per audit
    out = large_data.pipeline_in_memory(frames, period="2024-25 Q2")
    assert out["rows"]["ratings"] == 6000 and out["tables"] >= 10
    assert out["rejected"] == 0


# -- slow: real batches through papermill ---------------------------------------------------------
@pytest.fixture(scope="module")
def batch_dir(tmp_path_factory):
    """Two good periods, a corrupt input, a missing input, and a strict run that fails in a cell."""
    folder = tmp_path_factory.mktemp("batch")
    outputs = folder / "outputs"
    corrupt = folder / "audits-corrupt.xlsx"
    corrupt.write_bytes(b"this is not a workbook at all")
    ratings = pd.read_csv(ROOT / "qa_lib" / "demo_data" / "ratings.csv", dtype=str)
    ratings.loc[5, "grade"] = "Gd-ish"
    ratings.to_csv(folder / "ratings-bad.csv", index=False)
    files = {
        "good_q1": params_copy(folder, PARAMS / "demo-2024-25-Q1.yaml", "good-q1.yaml", outputs=outputs),
        "good_q2": params_copy(folder, PARAMS / "demo.yaml", "good-q2.yaml", outputs=outputs),
        "corrupt": params_copy(folder, PARAMS / "demo-2023-24-Q3.yaml", "corrupt.yaml", outputs=outputs,
                               data={"audits": str(corrupt)}),
        "missing": params_copy(folder, PARAMS / "demo-2023-24-Q4.yaml", "missing.yaml", outputs=outputs,
                               data={"feedback": str(folder / "feedback-not-there.csv")}),
        "strict": params_copy(folder, PARAMS / "demo-2023-24-Q4.yaml", "strict.yaml", outputs=outputs,
                              data={"ratings": str(folder / "ratings-bad.csv")}, strict=True),
    }
    first = cli("run", *files.values(), "--jobs", "2", "--only", "quarterly")
    return {"folder": folder, "outputs": outputs, "files": files, "first": first}


@pytest.mark.slow
def test_failures_do_not_stop_the_others(batch_dir):
    first, out = batch_dir["first"], batch_dir["outputs"]
    assert first.returncode == 2, first.stderr  # missing.yaml and a missing input are unusable params (2 outranks 1)
    for slug in ("2024-25-Q1", "2024-25-Q2"):
        assert (out / slug / "quarterly.html").is_file(), first.stderr
        assert json.loads((out / slug / "manifest.json").read_text())["reports"]
    err = first.stderr
    assert "audits-corrupt.xlsx" in err  # the corrupt input is named
    assert "feedback-not-there.csv" in err  # so is the missing one
    assert "strict run stopped" in err
    assert not (out / "2023-24-Q3" / "quarterly.html").exists()
    # the strict run failed inside the notebook: its executed notebook is kept with the error
    failed_nb = out / "2023-24-Q4" / "quarterly.failed.ipynb"
    assert failed_nb.is_file() and "strict run stopped" in failed_nb.read_text(encoding="utf-8")
    assert re.search(r"strict\.yaml\s+\S", err)  # a row of the summary table
    index = (out / "index.html").read_text(encoding="utf-8")
    assert 'href="2024-25-Q1/quarterly.html"' in index and 'href="2024-25-Q2/quarterly.html"' in index
    assert "Failed" in index


@pytest.mark.slow
def test_second_run_with_nothing_changed_skips_every_job(batch_dir):
    files, out = batch_dir["files"], batch_dir["outputs"]
    before = (out / "2024-25-Q2" / "quarterly.html").stat().st_mtime_ns
    again = cli("run", files["good_q1"], files["good_q2"], "--jobs", "2", "--only", "quarterly")
    assert again.returncode == 0, again.stderr
    assert len(re.findall(r"^  skipped ", again.stdout, re.M)) == 2, again.stdout
    assert not re.search(r"^  ok ", again.stdout, re.M)
    assert "2 skipped" in again.stdout
    assert (out / "2024-25-Q2" / "quarterly.html").stat().st_mtime_ns == before
    # a changed params file re-runs its own job only
    files["good_q1"].write_text(files["good_q1"].read_text() + "\n# edited\n", encoding="utf-8")
    third = cli("run", files["good_q1"], files["good_q2"], "--jobs", "1", "--only", "quarterly")
    assert third.returncode == 0, third.stderr
    assert len(re.findall(r"^  skipped ", third.stdout, re.M)) == 1, third.stdout
    assert re.search(r"^  ok\s+2024-25 Q1", third.stdout, re.M), third.stdout
    forced = cli("run", files["good_q2"], "--jobs", "1", "--only", "quarterly", "--force")
    assert forced.returncode == 0 and not re.search(r"^  skipped ", forced.stdout, re.M)


def _complete_outputs(outputs: Path, reference: Path) -> None:
    """Every HTML and CSV under ``outputs`` is whole: CSVs byte-equal to a complete run's, HTML closed."""
    htmls = list(outputs.glob("*/*.html"))
    csvs = list(outputs.glob("*/tables/*.csv")) + list(outputs.glob("*/rejects.csv"))
    for f in htmls:
        text = f.read_text(encoding="utf-8")
        assert text.rstrip().endswith("</html>"), f"{f} is partial"
    for f in csvs:
        ref = reference / f.relative_to(outputs)
        assert ref.is_file() and f.read_bytes() == ref.read_bytes(), f"{f} is partial or unexpected"
    leftovers = [p for p in outputs.rglob("*") if p.suffix in (".html", ".csv") and p.name.startswith(".")]
    assert not [p for p in leftovers if ".staging" not in p.parts]


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM])
def test_killed_run_leaves_only_complete_files(tmp_path, batch_dir, sig):
    outputs = tmp_path / "outputs"
    files = [params_copy(tmp_path, PARAMS / src, src, outputs=outputs)
             for src in ("demo.yaml", "demo-2024-25-Q1.yaml", "demo-2023-24-Q4.yaml")]
    proc = subprocess.Popen([*CLI, "run", *map(str, files), "--jobs", "1", "--only", "quarterly", "--force"],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    deadline = time.time() + 300
    while time.time() < deadline and not list(outputs.glob("*/quarterly.html")):
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.05)
    time.sleep(0.3)  # the next job is under way
    assert proc.poll() is None, "the run finished before it could be killed"
    if sig == signal.SIGKILL:
        os.killpg(proc.pid, signal.SIGKILL)  # the whole run, kernels included, as a crash would
    else:
        proc.send_signal(sig)  # the orchestrator only: it must stop its jobs and tidy up
    proc.communicate(timeout=60)
    assert proc.returncode != 0
    if sig == signal.SIGTERM:
        try:
            os.killpg(proc.pid, 0)
            time.sleep(3)  # kernels notice their parent is gone
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    # the Q2 and Q1 outputs of the batch fixture are complete runs of the same inputs
    reference = batch_dir["outputs"]
    _complete_outputs(outputs, reference)
    batch.clean_stale(outputs)  # what the next run does first
    staging = outputs / batch.STAGING
    assert not staging.exists() or not any(staging.iterdir())


@pytest.mark.slow
def test_dask_local_cluster_runs_the_same_jobs(tmp_path):
    distributed = pytest.importorskip("distributed")
    outputs = tmp_path / "outputs"
    files = [params_copy(tmp_path, PARAMS / src, src, outputs=outputs) for src in ("demo.yaml", "demo-2024-25-Q1.yaml")]
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                                  host="127.0.0.1") as cluster:
        results = batch.run_batch(files, reports=["quarterly"], executor="dask", scheduler=cluster.scheduler_address,
                                  progress=False)
    assert [r.status for r in results] == ["ok", "ok"], [r.error for r in results]
    for slug in ("2024-25-Q2", "2024-25-Q1"):
        assert (outputs / slug / "quarterly.html").is_file()
        assert (outputs / slug / ".quarterly.stamp.json").is_file()
    assert "2024-25-Q1/quarterly.html" in (outputs / "index.html").read_text(encoding="utf-8")


@pytest.mark.slow
def test_reports_are_self_contained_and_small(demo_run):
    pages = list(demo_run["out"].glob("*.html"))
    assert pages
    for page in pages:
        assert page.stat().st_size < 3 * 1024 * 1024, f"{page.name} is {page.stat().st_size:,} bytes"
        text = page.read_text(encoding="utf-8")
        assert "default-src 'none'" in text  # the CSP blocks any request the page might try
        assert not re.search(r"<(script|link|iframe|object|embed)\b", text, re.I)
        assert not re.search(r"""(src|href)\s*=\s*["']?(https?:|//|file:)""", text, re.I)
        assert not re.search(r"url\(\s*['\"]?(https?:|//)", text, re.I) and "@import" not in text
        for src in re.findall(r"""src\s*=\s*["']([^"']+)""", text):
            assert src.startswith("data:"), src


@pytest.mark.slow
@pytest.mark.browser
def test_reports_open_offline_without_requests(demo_run):
    from browser import browser_page

    for page_file in demo_run["out"].glob("*.html"):
        requests = []
        with browser_page(offline=True) as page:
            page.on("request", lambda r, requests=requests: requests.append(r.url))
            page.goto(page_file.as_uri())
            page.wait_for_load_state("load")
            assert page.locator("h1").count() == 1
        others = [u for u in requests if not u.startswith(("data:", page_file.as_uri()))]
        assert not others, f"{page_file.name} requested {others[:3]}"

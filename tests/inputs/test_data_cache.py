"""The batch's data cache (qa_lib.inputs.data.load_dataset_cached) and the one-report kernel's GC setting.

The cache lets the reports of one params file share one validated dataset inside a batch run. What
matters: it returns the same data, a changed input is a miss, it never stores identifiers as
written, it refuses a folder others can read, and the batch removes it when the run ends.
"""

from __future__ import annotations

import gc
import os
import tempfile
from pathlib import Path

import pandas as pd
import pytest

from qa_lib.inputs.data import DATA_CACHE_ENV, identifier_values_as_written, load_dataset, load_dataset_cached
from qa_lib.inputs.params import load_params
from qa_lib.inputs.privacy import PSEUDONYMISED_COLUMNS
from qa_lib.sections.themes import Redactor, counts_by_period, example_quotes, identifier_values
from conftest import demo_params_copy, write_inputs

FRAMES = ("audits", "ratings", "allocations", "feedback", "actions", "comments", "issues", "indicators", "benchmarks")
KEY = {"QA_PSEUDONYM_KEY": "test-key-for-the-data-cache-0123456789"}  # the same pseudonyms in every load


@pytest.fixture
def cache_dir(tmp_path, monkeypatch):
    folder = Path(tempfile.mkdtemp(dir=tmp_path))  # mode 0700, as the batch makes it
    monkeypatch.setenv(DATA_CACHE_ENV, str(folder))
    for k, v in KEY.items():
        monkeypatch.setenv(k, v)
    return folder


def _inputs(params) -> dict[str, str]:
    return params.input_hashes()


def test_without_the_variable_it_is_load_dataset_and_writes_nothing(tmp_path, monkeypatch):
    monkeypatch.delenv(DATA_CACHE_ENV, raising=False)
    for k, v in KEY.items():
        monkeypatch.setenv(k, v)
    params = load_params(demo_params_copy(tmp_path))
    ds = load_dataset_cached(params, inputs=_inputs(params))
    assert ds.raw_identifiers  # loaded here, so the values as written are in memory
    pd.testing.assert_frame_equal(ds.audits, load_dataset(params).audits)


def test_second_load_comes_from_the_cache_with_the_same_data(tmp_path, cache_dir):
    params = load_params(demo_params_copy(tmp_path))
    first = load_dataset_cached(params, inputs=_inputs(params))
    entries = list(cache_dir.glob("*.pickle"))
    assert len(entries) == 1
    assert entries[0].stat().st_mode & 0o077 == 0  # only this user can read it
    second = load_dataset_cached(load_params(params.path), inputs=_inputs(params))
    assert second is not first and second.raw_identifiers is None  # taken from the cache
    for name in FRAMES:
        if name != "comments":
            pd.testing.assert_frame_equal(getattr(second, name), getattr(first, name), obj=name)
    assert second.read_counts == first.read_counts and second.scale == first.scale
    # comments: the same rows, the text stored redacted; what a report shows is the same
    pd.testing.assert_frame_equal(second.comments.drop(columns="text"), first.comments.drop(columns="text"))
    redact = Redactor(first.raw_identifiers)
    assert second.comments["text"].tolist() == [redact(t) for t in first.comments["text"]]
    assert (second.comments["text"] != first.comments["text"]).sum() > 0  # the demo types ids into comments
    pd.testing.assert_frame_equal(example_quotes(second), example_quotes(first))
    pd.testing.assert_frame_equal(counts_by_period(second), counts_by_period(first))
    # quotes are still redacted against the identifiers as written: read again from the inputs
    assert identifier_values_as_written(second) == first.raw_identifiers
    assert identifier_values(second) == identifier_values(first)


def test_the_cache_never_holds_identifiers_as_written(tmp_path, cache_dir):
    params = load_params(demo_params_copy(tmp_path))
    ds = load_dataset_cached(params, inputs=_inputs(params))
    blob = next(cache_dir.glob("*.pickle")).read_bytes()
    raw = pd.read_csv(Path(params.files("audits")[0]), dtype=str)
    # case, child, practitioner and auditor ids (audit references are record numbers, kept as they are)
    samples = [v for col in raw.columns if col in PSEUDONYMISED_COLUMNS for v in raw[col].dropna().unique()[:25]]
    assert len(samples) >= 50 and set(samples) <= ds.raw_identifiers
    leaked = [v for v in samples if v.encode("utf-8") in blob]
    assert leaked == [], f"identifiers as written found in the cache entry: {leaked[:5]}"


def test_a_changed_input_or_params_is_a_miss(tmp_path, cache_dir):
    path = write_inputs(tmp_path / "in", audits="audit_id,case_id,audit_date,service_area,auditor_id\n"
                                                  "A1,C1,2024-07-03,Front Door,X1\n")
    params = load_params(path)
    assert len(load_dataset_cached(params, inputs=_inputs(params)).audits) == 1
    (tmp_path / "in" / "audits.csv").write_text("audit_id,case_id,audit_date,service_area,auditor_id\n"
                                               "A1,C1,2024-07-03,Front Door,X1\nA2,C2,2024-07-04,Front Door,X1\n")
    params = load_params(path)
    assert len(load_dataset_cached(params, inputs=_inputs(params)).audits) == 2
    assert len(list(cache_dir.glob("*.pickle"))) == 2


def test_a_damaged_entry_is_reloaded_not_a_failure(tmp_path, cache_dir):
    params = load_params(demo_params_copy(tmp_path))
    load_dataset_cached(params, inputs=_inputs(params))
    entry = next(cache_dir.glob("*.pickle"))
    entry.write_bytes(b"not a pickle")
    ds = load_dataset_cached(params, inputs=_inputs(params))
    assert len(ds.audits) > 0 and ds.raw_identifiers  # loaded from the inputs again


@pytest.mark.skipif(not hasattr(os, "getuid"), reason="POSIX permissions")
def test_a_folder_others_can_read_is_not_used(tmp_path, monkeypatch):
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o755)
    monkeypatch.setenv(DATA_CACHE_ENV, str(shared))
    params = load_params(demo_params_copy(tmp_path))
    load_dataset_cached(params, inputs=_inputs(params))
    assert list(shared.iterdir()) == []


def _first_cases(params_path: str, folder: str, queue) -> None:
    os.environ[DATA_CACHE_ENV] = folder
    os.environ.pop("QA_PSEUDONYM_KEY", None)  # a random key in each process
    params = load_params(params_path)
    queue.put(load_dataset_cached(params, inputs=params.input_hashes()).audits["case_id"].head(20).tolist())


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork to start the readers at once")
def test_reports_started_at_once_load_once_and_share_pseudonyms(tmp_path, monkeypatch):
    import multiprocessing as mp

    monkeypatch.delenv("QA_PSEUDONYM_KEY", raising=False)
    folder = Path(tempfile.mkdtemp(dir=tmp_path))
    params = demo_params_copy(tmp_path)
    ctx = mp.get_context("fork")
    queue = ctx.Queue()
    procs = [ctx.Process(target=_first_cases, args=(str(params), str(folder), queue)) for _ in range(3)]
    for p in procs:
        p.start()
    got = [queue.get(timeout=120) for _ in procs]
    for p in procs:
        p.join(timeout=60)
    # each process has its own random pseudonym key: equal pseudonyms mean one load, shared
    assert got[0] == got[1] == got[2] and got[0][0].startswith("CASE-")
    assert len(list(folder.glob("*.pickle"))) == 1


def test_batch_removes_its_cache_folder(tmp_path, monkeypatch):
    from qa_lib.running.batch import run_batch

    temp = tmp_path / "tmp"
    temp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    params = demo_params_copy(tmp_path / "run")
    results = run_batch([params], reports=["feedback"], jobs=1, force=True, progress=False)
    assert [r.status for r in results] == ["ok"]
    assert [p.name for p in temp.iterdir() if p.name.startswith("qa-workbook-data-")] == []
    assert DATA_CACHE_ENV not in os.environ


def test_caches_of_killed_runs_are_removed_live_ones_kept(tmp_path, monkeypatch):
    import subprocess
    import sys

    from qa_lib.running.batch import CACHE_PREFIX, clean_stale_caches

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                          text=True, check=True).stdout.strip()  # a process that has exited
    killed = Path(tempfile.mkdtemp(prefix=f"{CACHE_PREFIX}{dead}-"))
    (killed / "entry.pickle").write_bytes(b"x")
    live = Path(tempfile.mkdtemp(prefix=f"{CACHE_PREFIX}{os.getpid()}-"))
    other = tmp_path / "unrelated-folder"
    other.mkdir()
    assert clean_stale_caches() == [killed]
    assert not killed.exists() and live.is_dir() and other.is_dir()


def test_job_kernels_tune_the_collector_and_others_do_not(tmp_path, monkeypatch):
    from qa_lib.present.report import JOB_KERNEL_ENV, Report

    params = demo_params_copy(tmp_path)
    before = gc.get_threshold()
    monkeypatch.delenv(JOB_KERNEL_ENV, raising=False)
    Report.start(params, report="quarterly", output_dir=tmp_path / "o1")
    assert gc.get_threshold() == before and gc.get_freeze_count() == 0
    monkeypatch.setenv(JOB_KERNEL_ENV, "1")
    try:
        Report.start(params, report="quarterly", output_dir=tmp_path / "o2")
        assert gc.get_threshold()[0] > before[0] and gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)

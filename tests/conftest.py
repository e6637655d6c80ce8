"""Shared fixtures: write small hand-written tables to a temporary folder and load them."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import pytest
import yaml

from qa_lib.inputs.data import load_dataset
from qa_lib.inputs.params import load_params

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"
EMPTY = {
    "audits": "audit_id,case_id,audit_date,service_area,auditor_id\n",
    "ratings": "audit_id,rater_id,role,domain,grade\n",
    "allocations": "allocation_id,month,service_area,status\n",
    "feedback": "response_id,response_date,survey,question,answer\n",
    "actions": "action_id,audit_id,raised_date,due_date\n",
    "comments": "audit_id,domain,kind,text\n",
}


def write_inputs(folder: Path, *, period: str = "2024-25 Q2", extra: dict | None = None, **tables) -> Path:
    """Write the given tables (DataFrame or CSV text; others empty) and a params file; return its path."""
    folder.mkdir(parents=True, exist_ok=True)
    data = {}
    for name, empty in EMPTY.items():
        value = tables.get(name, empty)
        path = folder / f"{name}.csv"
        if isinstance(value, pd.DataFrame):
            value.to_csv(path, index=False)
        else:
            path.write_text(value, encoding="utf-8")
        data[name] = path.name
    params = {"period": period, "data": data, "output_dir": "out", **(extra or {})}
    path = folder / "params.yaml"
    path.write_text(yaml.safe_dump(params, sort_keys=False), encoding="utf-8")
    return path


@pytest.fixture
def make_dataset(tmp_path):
    """Build a Dataset from small tables: ``make_dataset(audits=df, ratings=df, extra={...})``."""
    def build(**kwargs):
        return load_dataset(load_params(write_inputs(tmp_path / "inputs", **kwargs)))
    return build


def browser_required() -> bool:
    """CI sets QA_REQUIRE_BROWSER=1: a missing browser then fails instead of skipping."""
    return os.environ.get("QA_REQUIRE_BROWSER") == "1"


def demo_params_copy(folder: Path, *, source: Path | None = None, **overrides) -> Path:
    """A copy of a shipped params file with absolute data paths and output under ``folder``."""
    from qa_lib.inputs.params import portable_values

    source = source or ROOT / "params" / "demo.yaml"
    values = portable_values(source)
    values["output_dir"] = str(folder / "outputs")
    # PDF and DOCX (a headless browser per report) only where a test asks for them: demo_run does
    values["formats"] = ["html", "csv", "xlsx"]
    values.update(overrides)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / source.name
    path.write_text(yaml.safe_dump(values, sort_keys=False), encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def demo_run(tmp_path_factory):
    """Render every report of the demo period once per test session (papermill + nbconvert)."""
    from qa_lib.running.batch import run_batch as run

    folder = tmp_path_factory.mktemp("demo_run")
    params_path = demo_params_copy(folder, formats=["html", "csv", "xlsx", "pdf", "docx"])  # as make demo renders
    results = run([params_path])
    return {"params": params_path, "results": results, "out": folder / "outputs" / load_params(params_path).period.slug}


#: the pseudonym key of the published demo run (issue 8): outputs are scanned to prove it never leaks
PUBLISHED_DEMO_KEY = "test-only-key-9c2f61d0b7a84e3f"


@pytest.fixture(scope="session")
def demo_published_run(tmp_path_factory):
    """The demo rendered once per session with params/demo-published.yaml (audience: published),
    its pseudonym key in a key file outside the repository."""
    from qa_lib.running.batch import run_batch as run

    folder = tmp_path_factory.mktemp("demo_published_run")
    key_file = folder / "pseudonym.key"
    key_file.write_text(PUBLISHED_DEMO_KEY, encoding="utf-8")
    params_path = demo_params_copy(folder, source=ROOT / "params" / "demo-published.yaml",
                                   pseudonym_key_file=str(key_file))
    results = run([params_path])
    return {"params": params_path, "results": results, "key": PUBLISHED_DEMO_KEY,
            "out": folder / "outputs" / load_params(params_path).period.slug}


def input_identifiers() -> set[str]:
    """Every identifier value in the demo inputs (case, audit, auditor, practitioner, rater...)."""
    from qa_lib.running.demo import DEMO_DIR
    from qa_lib.inputs.io import IDENTIFIER_COLUMNS

    ids: set[str] = set()
    for csv in DEMO_DIR.glob("*.csv"):
        frame = pd.read_csv(csv, dtype=str)
        for col in frame.columns:
            if col in IDENTIFIER_COLUMNS:
                ids.update(frame[col].dropna().unique())
    return ids

"""Issue 17 must-shows rendered end to end: a forms-only multi-agency programme, and a feedback-only one."""

from __future__ import annotations

import html
import re
import shutil
from pathlib import Path

import pandas as pd
import yaml

from qa_lib.running.cli import main as cli

TESTS = Path(__file__).resolve().parents[1]
FORMS = TESTS / "fixtures" / "handmade" / "send-forms"
FEEDBACK = TESTS / "fixtures" / "published" / "send-000-annual-reviews"


def _text(path: Path) -> str:
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", path.read_text(encoding="utf-8"))))


def test_forms_export_renders_the_multi_agency_section_and_names_the_agency(tmp_path, capsys):
    for f in FORMS.glob("*.*"):
        shutil.copy(f, tmp_path)
    assert cli(["run", str(tmp_path / "params.yaml"), "--jobs", "1", "--only", "moderation"]) == 0
    page = _text(tmp_path / "out" / "2024-25-Q4" / "moderation.html")
    section = page[page.index("Multi-agency quality assurance 3 plan(s)"):]
    assert "Plan × agency grid" in section and "Plan 1 Overall" in section and "Plan 3 Section F" in section
    assert "Health graded higher than the other agencies: better on 15 of 15 units" in section
    assert "not estimated: 3 plan(s), at least 5 needed" in section
    export = pd.read_csv(FORMS / "ehcp-multi-agency-qa.csv", encoding="utf-8-sig", dtype=str)
    outputs = " ".join(p.read_text(encoding="utf-8", errors="ignore") for p in (tmp_path / "out").rglob("*") if p.is_file())
    for value in [*export["Email"], *export["Name"], *export["Plan reference "]]:
        assert value not in outputs


def test_the_grid_is_not_shown_in_a_published_report(tmp_path):
    for f in FORMS.glob("*.*"):
        shutil.copy(f, tmp_path)
    values = yaml.safe_load((tmp_path / "params.yaml").read_text(encoding="utf-8"))
    values["audience"] = "published"
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(values), encoding="utf-8")
    assert cli(["run", str(tmp_path / "params.yaml"), "--jobs", "1", "--only", "moderation"]) == 0
    page = _text(tmp_path / "out" / "2024-25-Q4" / "moderation.html")
    assert "Plan × agency grid for the multi-agency meeting: each agency's grade per plan and domain this period: withheld" in page
    assert "Plan 1 Overall" not in page


def test_feedback_only_programme_renders_only_the_feedback_report(tmp_path, capsys):
    for f in FEEDBACK.glob("*.*"):
        shutil.copy(f, tmp_path)
    assert cli(["run", str(tmp_path / "params-quarters.yaml"), "--jobs", "1"]) == 0
    out = capsys.readouterr().out
    period = tmp_path / "out-quarters" / "2022-23-Q2"
    assert sorted(p.name for p in period.glob("*.html")) == ["feedback.html"]
    assert "3 not rendered (no data)" in out
    assert "quarterly not rendered: no audits or ratings data in params-quarters.yaml" in out
    index = _text(tmp_path / "out-quarters" / "index.html")
    assert "Not rendered: no indicators data in params-quarters.yaml" in index

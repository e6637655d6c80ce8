"""End to end: the demo period renders through papermill and nbconvert into outputs/."""

import csv
import json
import re

import pandas as pd
import pytest

from qa_lib.inputs.data import rejects_path
from qa_lib.inputs.params import load_params

from conftest import input_identifiers

pytestmark = pytest.mark.slow


def test_every_report_renders(demo_run):
    failed = [(r.report, r.error) for r in demo_run["results"] if r.status != "ok"]
    assert not failed, failed
    for r in demo_run["results"]:
        assert (demo_run["out"] / f"{r.report}.html").is_file()


def test_html_has_no_code(demo_run):
    for html_file in demo_run["out"].glob("*.html"):
        page = html_file.read_text(encoding="utf-8")
        for marker in ("jp-InputArea", "input_area", "class=\"highlight", "from qa_lib", "rpt.table(", "Traceback"):
            assert marker not in page, f"{html_file.name} shows code ({marker})"


def test_html_has_no_identifier_from_the_input(demo_run):
    ids = input_identifiers()
    assert len(ids) > 1000
    pattern = re.compile(r"(?<![A-Za-z0-9])(" + "|".join(map(re.escape, sorted(ids, key=len, reverse=True))) + r")(?![A-Za-z0-9])")
    for f in [*demo_run["out"].glob("*.html"), *demo_run["out"].glob("tables/*.csv"), demo_run["out"] / "manifest.json"]:
        found = pattern.findall(f.read_text(encoding="utf-8-sig"))
        assert not found, f"{f.name} contains identifiers {sorted(set(found))[:5]}"


def test_page_structure(demo_run):
    page = (demo_run["out"] / "quarterly.html").read_text(encoding="utf-8")
    assert re.search(r'<html lang="en', page)
    assert len(re.findall(r"<h1[\s>]", page)) == 1
    assert "<nav" in page and 'href="#Moderation"' in page
    assert "<script" not in page.lower()
    imgs = re.findall(r"<img [^>]*>", page)
    assert imgs and all(re.search(r'alt="[^"]{20,}"', i) for i in imgs)


def test_manifest_lists_reports_tables_and_provenance(demo_run):
    manifest = json.loads((demo_run["out"] / "manifest.json").read_text())
    assert manifest["period"] == "2024-25 Q2"
    assert {r["report"] for r in manifest["reports"]} >= {"quarterly"}
    for table in manifest["tables"]:
        assert (demo_run["out"] / table["file"]).is_file(), table
        assert table["title"] and table["report"]
    names = {t["name"] for t in manifest["tables"]}
    assert {"grades_by_service_area", "moderation_outcomes", "overall_by_period"} <= names
    prov = manifest["provenance"]
    assert prov["qa_lib_version"] and prov["git_commit"] and len(prov["inputs"]) == 8  # 6 + indicators, benchmarks
    assert all(len(h) == 64 for h in prov["inputs"].values())


def test_no_staging_left_behind(demo_run):
    staging = demo_run["out"].parent / ".staging"
    assert not staging.exists() or not any(staging.iterdir())


def test_every_csv_the_run_wrote_is_utf8_with_a_bom_and_round_trips(demo_run):
    """Issue 18: every CSV of the demo run (each report's tables and the rejects working file), found by
    scanning the run's folders rather than from a list the code keeps, starts with the UTF-8 BOM
    (EF BB BF, Unicode 15.0 section 23.8), so Excel on Windows reads "–", "▲" and "·" right; read back
    with utf-8-sig it has no stray U+FEFF and the same header as the file's first line."""
    folder = demo_run["params"].parent
    found = sorted(folder.rglob("*.csv"))
    tables = [p for p in found if p.parent.name == "tables"]
    assert len(tables) >= 40, [p.name for p in found]  # every report's tables
    assert rejects_path(load_params(demo_run["params"])) in found  # the working file, outside outputs/
    no_bom = [str(p.relative_to(folder)) for p in found if not p.read_bytes().startswith(b"\xef\xbb\xbf")]
    assert not no_bom, f"CSV written without the UTF-8 BOM: {no_bom}"
    non_ascii = 0
    for path in found:
        text = path.read_bytes()[3:].decode("utf-8")  # strict: every byte after the mark is UTF-8
        assert "\ufeff" not in text, path.name
        header = next(csv.reader([text.splitlines()[0]]))
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
        assert [str(c) for c in frame.columns] == [h or f"Unnamed: {k}" for k, h in enumerate(header)], path.name
        non_ascii += any(ch in text for ch in "–▲▼·")
    assert non_ascii >= 10  # the characters Excel garbled without the mark are really there

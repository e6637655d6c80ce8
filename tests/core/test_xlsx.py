"""The fast XLSX writer (qa_lib.core.xlsx): read back by openpyxl (a peer reader, not our code), every
part well-formed XML, no formula anywhere, styles as asked (ECMA-376 Part 1: 18.8.30 built-in number
format 9 is "0%"; 22.9.2.19 the _xHHHH_ escape)."""

from __future__ import annotations

import zipfile
from xml.dom import minidom

import pytest
from openpyxl import load_workbook

from qa_lib.core.xlsx import Cell, Sheet, column_letter, write_workbook
from spreadsheets import formula_cells

HOSTILE = ['=HYPERLINK("http://x"&A2)', "+cmd|' /C calc'!A0", "@SUM(1)", "-2+3", " =1+1"]


@pytest.fixture
def book(tmp_path):
    sheets = [
        Sheet("Contents", [[Cell("Report", bold=True, size=14)], [], [Cell("Sheet", bold=True)],
                           [Cell("Grades & teams", link="'Grades & teams'!A1"), "a <caption>"]], widths={1: 32, 2: 80}),
        Sheet("Grades & teams", [
            [Cell("Grades by team", bold=True, size=12)], [],
            [Cell("Team", bold=True, wrap=True), Cell("n", bold=True, wrap=True), Cell("% Good", bold=True, wrap=True)],
            ["North", 8, Cell(0.625, percent=True)],
            *[[p, -3, Cell(-0.5, percent=True)] for p in HOSTILE],
            ["  two spaces", None, float("nan")],
            ["tab\there\x01and a bell\x07", 1.5e-07, True],
            [], ["A note."]], widths={1: 20.5, 3: 9}, freeze=3),
        Sheet("Provenance", [[Cell("Period", bold=True), "2024-25 Q2"]]),
    ]
    return write_workbook(sheets, tmp_path / "b.xlsx")


def test_openpyxl_reads_values_styles_and_layout(book):
    wb = load_workbook(book)
    assert wb.sheetnames == ["Contents", "Grades & teams", "Provenance"]
    ws = wb["Grades & teams"]
    assert ws["A1"].value == "Grades by team" and ws["A1"].font.b and ws["A1"].font.sz == 12
    assert [c.value for c in ws[3]] == ["Team", "n", "% Good"] and ws["B3"].alignment.wrap_text and ws["B3"].font.b
    assert ws["B4"].value == 8 and isinstance(ws["B4"].value, int)
    assert ws["C4"].value == 0.625 and ws["C4"].number_format == "0%" and ws["B4"].number_format == "General"
    assert [ws.cell(row=r, column=1).value for r in range(5, 10)] == HOSTILE  # exact text, no apostrophe added
    assert all(ws.cell(row=r, column=1).quotePrefix and ws.cell(row=r, column=1).data_type == "s" for r in range(5, 10))
    assert not ws["A4"].quotePrefix
    assert ws["A10"].value == "  two spaces" and ws["B10"].value is None and ws["C10"].value is None
    # openpyxl shows the _xHHHH_ escape as written (Excel decodes it); openpyxl itself refuses these characters
    assert ws["A11"].value == "tab\there_x0001_and a bell_x0007_"
    assert ws["B11"].value == pytest.approx(1.5e-07) and ws["C11"].value == 1
    assert ws["A13"].value == "A note." and ws["A12"].value is None
    assert ws.freeze_panes == "A4"
    assert ws.column_dimensions["A"].width == 20.5 and ws.column_dimensions["C"].width == 9
    contents = wb["Contents"]
    assert contents["A4"].hyperlink.location == "'Grades & teams'!A1" and contents["B4"].value == "a <caption>"
    assert contents["A1"].font.sz == 14 and contents.column_dimensions["B"].width == 80


def test_no_formula_and_every_part_is_well_formed(book):
    assert formula_cells(book) == []
    wb = load_workbook(book)
    assert not [c.coordinate for ws in wb for row in ws.iter_rows() for c in row if c.data_type == "f"]
    with zipfile.ZipFile(book) as z:
        assert z.testzip() is None
        names = z.namelist()
        assert {"[Content_Types].xml", "_rels/.rels", "xl/workbook.xml", "xl/_rels/workbook.xml.rels",
                "xl/styles.xml", "xl/worksheets/sheet1.xml", "xl/worksheets/sheet3.xml"} <= set(names)
        for name in names:
            minidom.parseString(z.read(name))  # raises on malformed XML (a control character, a bad escape)
        sheet = z.read("xl/worksheets/sheet2.xml").decode("utf-8")
    assert "<f>" not in sheet and "<f " not in sheet
    assert "_x0001_" in sheet and "\x01" not in sheet  # ECMA-376 22.9.2.19 escape, not a raw control character
    assert '<t xml:space="preserve">  two spaces</t>' in sheet


def test_column_letters():
    assert [column_letter(k) for k in (1, 26, 27, 52, 53, 702, 703)] == ["A", "Z", "AA", "AZ", "BA", "ZZ", "AAA"]

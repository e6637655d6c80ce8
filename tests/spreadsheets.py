"""What a spreadsheet would read as a formula in the files a run writes (issue 14, Must-show 3).

Written independently of ``qa_lib.core.safe_files`` so that the tests do not check the code against
itself. The rule is OWASP's (https://owasp.org/www-community/attacks/CSV_Injection): a cell whose
first character is ``=``, ``+``, ``-``, ``@``, tab or carriage return is read as a formula. Leading
spaces are skipped (some spreadsheets trim them before parsing), and a cell that is a plain number
(``-0.5``, ``+3``, ``1e-05``) is read as that number, not as a formula. In an XLSX file a cell is a
formula when openpyxl loads it with ``data_type == "f"``; a text cell that begins like a formula
must carry the ``quotePrefix`` style, or Excel makes it a formula as soon as the cell is edited.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
PLAIN_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


def csv_formula(text: str) -> bool:
    """True when a spreadsheet opening the CSV would evaluate this cell."""
    if text.startswith(("\t", "\r")):
        return True
    stripped = text.lstrip(" ")
    return stripped.startswith(TRIGGERS) and not PLAIN_NUMBER.fullmatch(stripped)


def formula_cells(path: Path) -> list[tuple[str, str]]:
    """``(where, value)`` of every cell of a CSV or XLSX file that would be read as a formula."""
    path = Path(path)
    found = []
    if path.suffix == ".csv":
        with open(path, newline="", encoding="utf-8-sig") as fh:
            for r, row in enumerate(csv.reader(fh), start=1):
                found += [(f"{path.name} row {r} col {c}", v) for c, v in enumerate(row, start=1) if csv_formula(v)]
    elif path.suffix == ".xlsx":
        import openpyxl  # deferred: only XLSX scans need it

        book = openpyxl.load_workbook(path)
        for ws in book.worksheets:
            for row in ws.iter_rows():
                for cell in row:
                    text = cell.value if isinstance(cell.value, str) else ""
                    if cell.data_type == "f" or (text.lstrip(" ").startswith(TRIGGERS) and not cell.quotePrefix):
                        found.append((f"{path.name} {ws.title}!{cell.coordinate}", str(cell.value)))
    return found


def spreadsheets(folder: Path) -> list[Path]:
    """Every CSV and XLSX file under ``folder``."""
    return sorted(p for p in Path(folder).rglob("*") if p.suffix in (".csv", ".xlsx"))

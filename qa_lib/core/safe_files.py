"""The one way the tool writes spreadsheets: CSV and XLSX that no spreadsheet reads as a formula.

A spreadsheet (Excel, LibreOffice Calc, Google Sheets) treats a cell whose first character is
``=``, ``+``, ``-`` or ``@`` (and, in some, tab, carriage return or NUL) as a formula: a team
name such as ``=HYPERLINK("http://x"&A2)`` in an exported table would run when the file is
opened (*CSV injection*). Following OWASP's guidance, every **text** cell that begins with one of
those characters, after any leading spaces, is written with a leading apostrophe ``'`` (the
spreadsheet's "this is text" mark), and is quoted by the CSV writer when it holds a separator or a
quote. **Numbers stay numbers**: an int or float (``-0.12``) is written as a number, never as text.

XLSX cells are written one by one with openpyxl as numbers, booleans, dates or strings, never as
formulas: a string cell keeps its exact text (no apostrophe in the value) with ``data_type = "s"``
and, when it begins with a formula character, the ``quotePrefix`` cell style, so that editing the
cell in Excel does not turn it into a formula either.

Every CSV and XLSX the tool writes goes through :func:`qa_lib.core.atomic.atomic_to_csv` /
:func:`qa_lib.core.atomic.atomic_to_xlsx` (report tables, the rejects file, sampling outputs, explorer
exports), which apply :func:`safe_frame` / :func:`workbook` and write atomically; the committee
workbook of each report is written by :mod:`qa_lib.core.xlsx` (inline strings, never a formula,
``quotePrefix`` on text that begins like one).
``tests/core/test_safe_files.py`` and ``tests/present/test_safe_outputs.py`` scan what the tool writes.

References
----------
OWASP, *CSV Injection* (https://owasp.org/www-community/attacks/CSV_Injection): "ensure that no
cells begin with any of the following characters: equals (=), plus (+), minus (-), at (@), tab
(0x09), carriage return (0x0D)" and "prepend each cell field with a single quote".
OWASP ASVS 4.0 requirement 5.3.10 / 5.0 requirement 1.2.10 (CSV and formula injection; escaping
per RFC 4180 sections 2.6 and 2.7).
"""

from __future__ import annotations

import datetime as _dt
import math
from typing import Iterable, Mapping

import numpy as np
import pandas as pd

__all__ = ["FORMULA_TRIGGERS", "TEXT_MARK", "formula_like", "neutralise", "restore_text", "csv_text", "safe_cell", "put_cell",
           "safe_frame", "workbook"]

#: first characters that make a spreadsheet read a cell as a formula (OWASP; NUL from ASVS)
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\n", "\0")
#: the spreadsheet's text mark (OWASP)
TEXT_MARK = "'"


def formula_like(text: str) -> bool:
    """True when a spreadsheet could read ``text`` as a formula: its first character, or its first
    character after leading spaces, is one of :data:`FORMULA_TRIGGERS`."""
    return isinstance(text, str) and text.lstrip(" ").startswith(FORMULA_TRIGGERS)


def neutralise(text: str) -> str:
    """``'=HYPERLINK(...)`` for ``=HYPERLINK(...)``; text that cannot start a formula is unchanged."""
    return TEXT_MARK + text if formula_like(text) else text


def restore_text(text: str) -> str:
    """Undo :func:`neutralise` (for a file the tool wrote that is read back, e.g. a sampling allocation)."""
    if isinstance(text, str) and text.startswith(TEXT_MARK) and formula_like(text[1:]):
        return text[1:]
    return text


def csv_text(text: str) -> str:
    """One text cell for a CSV: line breaks as ``\n`` (so the CSV writer quotes the cell: a bare
    carriage return would otherwise start a new row in a spreadsheet, and that row could begin with
    a formula; RFC 4180 section 2.6), then :func:`neutralise`."""
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return neutralise(text)


def safe_cell(value: object) -> object:
    """One cell for a CSV: text through :func:`csv_text`, every other value (numbers, missing) unchanged."""
    return csv_text(value) if isinstance(value, str) else value


def _needs_care(text: object) -> bool:
    return isinstance(text, str) and (formula_like(text) or "\r" in text)


def _safe_labels(index: pd.Index) -> pd.Index:
    if isinstance(index, pd.MultiIndex):
        levels = [_safe_labels(index.get_level_values(k)) for k in range(index.nlevels)]
        return pd.MultiIndex.from_arrays(levels, names=[safe_cell(n) for n in index.names])
    if not (pd.api.types.is_object_dtype(index.dtype) or pd.api.types.is_string_dtype(index.dtype)
            or isinstance(index.dtype, pd.CategoricalDtype)):
        return index.rename(safe_cell(index.name))
    values = [safe_cell(v) for v in index]
    return pd.Index(values, name=safe_cell(index.name), dtype=object if any(not isinstance(v, str) for v in values) else None)


def _safe_column(series: pd.Series) -> pd.Series:
    dtype = series.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        series = series.astype(object)
        dtype = series.dtype
    if pd.api.types.is_string_dtype(dtype) or pd.api.types.is_object_dtype(dtype):
        if not any(_needs_care(v) for v in series):
            return series
        return pd.Series([safe_cell(v) for v in series], index=series.index, name=series.name,
                         dtype=dtype if not pd.api.types.is_object_dtype(dtype) else object)
    return series  # numbers, booleans, dates: never text


def safe_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` whose text cells, column names and index labels cannot start a formula.

    Numeric, boolean and date columns are returned as they are (numbers stay numbers); an object
    column mixing numbers and text (a published table with ``c`` marks) keeps its numbers.
    """
    columns = {k: _safe_column(frame.iloc[:, k].reset_index(drop=True)) for k in range(frame.shape[1])}
    out = pd.DataFrame(columns, index=pd.RangeIndex(len(frame)))
    out.columns = _safe_labels(pd.Index(frame.columns)) if frame.shape[1] else frame.columns
    out.index = _safe_labels(frame.index)
    return out


# --------------------------------------------------------------------------------------
# XLSX
# --------------------------------------------------------------------------------------
def _xlsx_value(value: object) -> object:
    """What openpyxl should store: a number, bool, date, text or ``None`` (blank)."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return float(value) if math.isfinite(float(value)) else None
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime().replace(tzinfo=None)
    if isinstance(value, (_dt.datetime, _dt.date)):
        return value.replace(tzinfo=None) if isinstance(value, _dt.datetime) else value
    if isinstance(value, tuple):
        return " / ".join(str(v) for v in value)
    return str(value)


def put_cell(ws, row: int, col: int, value: object, *, font=None) -> None:
    cell = ws.cell(row=row, column=col)
    value = _xlsx_value(value)
    if isinstance(value, str):
        cell.value = value
        cell.data_type = "s"  # openpyxl makes any str starting with "=" a formula: never here
        if formula_like(value):
            cell.quotePrefix = True  # Excel keeps it text even when the cell is edited
    else:
        cell.value = value
    if font is not None:
        cell.font = font


def _write_sheet(ws, frame: pd.DataFrame, index: bool) -> None:
    from openpyxl.styles import Font  # deferred: openpyxl is needed only when an XLSX file is written

    bold = Font(bold=True)
    idx = frame.index
    names = list(idx.names) if index else []
    n_idx = len(names)
    heads = [n if n is not None else "" for n in names] + list(frame.columns)
    for j, head in enumerate(heads, start=1):
        put_cell(ws, 1, j, head, font=bold)
    for i in range(len(frame)):
        r = i + 2
        if index:
            key = idx[i] if isinstance(idx[i], tuple) else (idx[i],)
            for j, k in enumerate(key, start=1):
                put_cell(ws, r, j, k, font=bold)
        for j in range(frame.shape[1]):
            put_cell(ws, r, n_idx + j + 1, frame.iat[i, j])


def workbook(sheets: Mapping[str, pd.DataFrame] | Iterable[tuple[str, pd.DataFrame, bool]]):
    """An openpyxl ``Workbook`` with a sheet per frame, every cell a value, never a formula.

    Parameters
    ----------
    sheets : mapping of sheet name to DataFrame, or iterable of ``(name, frame, index)``
        Frames of a mapping are written with their index (as :meth:`pandas.DataFrame.to_excel` does).
    """
    from openpyxl import Workbook  # deferred: openpyxl is needed only when an XLSX file is written

    items = [(name, frame, True) for name, frame in sheets.items()] if isinstance(sheets, Mapping) else list(sheets)
    wb = Workbook()
    wb.remove(wb.active)
    for name, frame, index in items:
        _write_sheet(wb.create_sheet(title=str(name)[:31]), frame, index)
    return wb

"""Reading input files: CSV or XLSX, one file or a glob, local headers mapped to the contract.

Every value is read as text; typing happens in :mod:`qa_lib.inputs.validate`, where a value that does
not parse becomes an issue naming its file, row and column rather than an exception. Each row
keeps ``_file`` (file name) and ``_row`` (the spreadsheet row number a person sees: the header
is row 1, the first data row is row 2).

Encodings (issue 15) are decided once per file (:func:`detect_encoding`): a byte-order mark
(UTF-8, UTF-16, UTF-32) wins; else UTF-16 without a mark is recognised by its zero bytes; else
the file is UTF-8 when it decodes as UTF-8. A file that is UTF-8 except for a few stray bytes
(a Windows-1252 ``É`` pasted into a UTF-8 export) is *not* re-decoded: its rows holding those
bytes are set aside (rule ``bad_encoding``) naming the first one's row and column. A file with no
UTF-8 at all is Windows-1252 (what Excel's plain "CSV" writes in the UK), or what
``charset-normalizer`` finds when Windows-1252 cannot decode it.

The delimiter is a comma unless params ``delimiter:`` says otherwise; a tab-delimited file
(Excel "Unicode text", MS Forms exports) is recognised from its header line. A file whose header
looks like another delimiter fails its column check with a hint naming it.
"""

from __future__ import annotations

import csv
import difflib
import io as _io
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Mapping

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv

from qa_lib.core.errors import InputError, problem

REQUIRED: dict[str, tuple[str, ...]] = {
    "audits": ("audit_id", "case_id", "audit_date", "service_area", "auditor_id"),
    "ratings": ("audit_id", "rater_id", "role", "domain", "grade"),
    "allocations": ("allocation_id", "month", "service_area", "status"),
    "feedback": ("response_id", "response_date", "survey", "question", "answer"),
    "actions": ("action_id", "audit_id", "raised_date", "due_date"),
    "comments": ("audit_id", "domain", "kind", "text"),
    "indicators": ("indicator", "period", "value", "polarity"),
    "benchmarks": ("indicator", "period", "comparator", "value"),
}
OPTIONAL: dict[str, tuple[str, ...]] = {
    "audits": ("team", "cohort", "practitioner_id", "audit_type", "theme"),  # issue 16: audit_type, theme
    "ratings": ("rating_date",),
    "allocations": ("practitioner_id", "practitioner_took_part", "reason", "team"),
    "feedback": (),
    "actions": ("completed_date", "domain", "theme"),  # issue 16: theme
    "comments": (),
    "indicators": ("numerator", "denominator", "target"),
    "benchmarks": ("numerator", "denominator"),
}
#: Columns that hold identifiers of people or case files: never shown in a report.
IDENTIFIER_COLUMNS = ("case_id", "auditor_id", "practitioner_id", "rater_id", "audit_id",
                      "allocation_id", "response_id", "action_id", "child_id", "moderator_id")


@dataclass
class RawTable:
    """What was read for one table, before validation."""

    table: str
    frame: pd.DataFrame  # text columns + _file, _row
    files: list[Path]
    problems: list[dict]  # file-level issues (unreadable file, missing columns)
    #: reading options validation needs (params ``date_format``, ``placeholder_dates``)
    options: dict = field(default_factory=dict)


def arrow_text(values) -> pa.Array:
    """``values`` (a Series, array or list of text) as one Arrow string array, nulls for missing values:
    zero-copy for the loader's columns (pyarrow-backed ``string`` dtype), so Arrow's C++ kernels
    (``is_in``, ``index_in``, ``dictionary_encode``) work on them without a Python object per cell."""
    s = values if isinstance(values, pd.Series) else pd.Series(values, dtype="object")
    if not (isinstance(s.dtype, pd.StringDtype) and s.dtype.storage == "pyarrow"):
        s = s.astype("string[pyarrow]")
    out = pa.array(s.array)
    return out.combine_chunks() if isinstance(out, pa.ChunkedArray) else out


def header_key(text: str) -> str:
    """Normalise a header for matching: lower case, non-alphanumerics folded to ``_``."""
    return re.sub(r"[^0-9a-z]+", "_", str(text).replace("\ufeff", "").strip().lower()).strip("_")


#: Delimiters a params file may name (``tab`` is a tab), and how messages call them.
DELIMITERS = {",": ",", ";": ";", "\t": "\t", "tab": "\t", "|": "|"}
_DELIMITER_NAMES = {",": "','", ";": "';'", "\t": "a tab", "|": "'|'"}
_BOMS = ((b"\xef\xbb\xbf", "utf-8"), (b"\xff\xfe\x00\x00", "utf-32-le"), (b"\x00\x00\xfe\xff", "utf-32-be"),
         (b"\xff\xfe", "utf-16-le"), (b"\xfe\xff", "utf-16-be"))
_STRAY = re.compile("[\udc80-\udcff]")


@dataclass
class Decoded:
    """A CSV file's text as decoded once, and how."""

    text: str
    encoding: str  # e.g. utf-8, utf-8 (BOM), utf-16-le (BOM), cp1252
    stray: int = 0  # bytes that are not UTF-8 in an otherwise UTF-8 file (each replaced by U+FFFD)
    first_stray: tuple[int, int] | None = None  # (line number, byte value) of the first


def detect_encoding(data: bytes) -> tuple[str, int]:
    """The encoding of ``data`` and the length of its byte-order mark.

    A BOM decides; else zero bytes at every other position mean UTF-16 without a BOM; else
    ``utf-8`` (the caller checks it decodes). Returns ``("binary", 0)`` for zero bytes in no
    UTF-16 pattern (a spreadsheet or zip saved with a .csv name).
    """
    for bom, name in _BOMS:
        if data.startswith(bom):
            return name, len(bom)
    head = data[:4096]
    if b"\0" in head:
        even, odd = head[0::2], head[1::2]
        if odd and odd.count(0) > 0.3 * len(odd) and even.count(0) < 0.05 * len(even):
            return "utf-16-le", 0
        if even and even.count(0) > 0.3 * len(even) and odd.count(0) < 0.05 * len(odd):
            return "utf-16-be", 0
        return "binary", 0
    return "utf-8", 0


def decode_file(path: Path, data: bytes | None = None) -> Decoded:
    """Decode a CSV file's bytes once, as :func:`detect_encoding` decides (see the module notes).

    Raises
    ------
    InputError
        Binary content, or bytes no known encoding reads.
    """
    data = path.read_bytes() if data is None else data
    encoding, skip = detect_encoding(data)
    name = path.name
    if encoding == "binary":
        raise problem(InputError, name, expected="a CSV text file (UTF-8, UTF-16 or Windows-1252)",
                      received="binary (non-text) content",
                      fix="export the table again as CSV, or point the params at the right file")
    if encoding != "utf-8":
        try:
            return Decoded(data[skip:].decode(encoding), f"{encoding}{' (BOM)' if skip else ''}")
        except UnicodeDecodeError as exc:
            line = data[skip:skip + exc.start].decode(encoding, errors="replace").count("\n") + 1
            raise problem(InputError, f"{name} line {line}", received=f"bytes that are not {encoding.upper()}",
                          expected=f"{encoding.upper()} throughout, as the file's first bytes say",
                          fix="re-save the file as 'CSV UTF-8' from Excel") from None
    body, label = data[skip:], "utf-8 (BOM)" if skip else "utf-8"
    try:
        return Decoded(body.decode("utf-8"), label)  # the common case, at C speed
    except UnicodeDecodeError:
        pass
    text = body.decode("utf-8", errors="surrogateescape")
    strays = list(_STRAY.finditer(text))
    if not strays:
        return Decoded(text, label)
    if any(ord(ch) > 0x7F for ch in _STRAY.sub("", text)):  # real UTF-8 too: a mixed file, never re-decoded
        first = strays[0]
        line = text.count("\n", 0, first.start()) + 1
        return Decoded(_STRAY.sub("\ufffd", text), label, stray=len(strays),
                       first_stray=(line, ord(first.group(0)) - 0xDC00))
    try:  # no UTF-8 beyond ASCII at all: a Windows-1252 file (Excel's plain "CSV" in the UK)
        return Decoded(body.decode("cp1252"), "cp1252")
    except UnicodeDecodeError:
        pass
    import charset_normalizer  # deferred: only for the rare file neither UTF-8 nor Windows-1252 reads

    best = charset_normalizer.from_bytes(body).best()
    if best is None:
        raise problem(InputError, name, expected="a CSV file in UTF-8, UTF-16 or Windows-1252 (Excel) encoding",
                      received="bytes that decode as none of them", fix="re-save the file as 'CSV UTF-8' from Excel")
    return Decoded(str(best), best.encoding)


def _sniff_delimiter(text: str, given: str | None) -> str:
    """The params delimiter for a file whose first line holds it; else a tab when the first line has
    tabs and no commas (Excel "Unicode text", MS Forms); else a comma."""
    first = next((line for line in text[:1 << 16].splitlines()[:30] if line.strip().strip(",;\t|")), "")
    given = DELIMITERS.get(given, given) if given else None
    if given and given in first:
        return given
    return "\t" if "\t" in first and "," not in first else ","


def _header_hint(header_line: str, delimiter: str) -> str:
    """``is the delimiter ';'?`` when the header line splits better on another delimiter."""
    counts = {d: header_line.count(d) for d in (",", ";", "\t", "|") if d != delimiter}
    best = max(counts, key=counts.get) if counts else None
    if best and counts[best] >= 2 and counts[best] > header_line.count(delimiter):
        shown = header_line if len(header_line) <= 40 else header_line[:40] + "…"
        setting = {"\t": "tab"}.get(best, best)
        return (f"found '{shown}': is the delimiter {_DELIMITER_NAMES[best]}? set `delimiter: \"{setting}\"` "
                "in the params")
    return ""


def _strip_blank(frame: pd.DataFrame) -> pd.DataFrame:
    """Text columns with surrounding whitespace removed and blank cells as NA."""
    out = {}
    for k in range(frame.shape[1]):
        s = frame.iloc[:, k].astype("string").str.strip()
        out[k] = s.where(s != "")
    result = pd.DataFrame(out)
    result.columns = frame.columns
    return result


def _read_cells(path: Path, delimiter: str | None = None) -> pd.DataFrame:
    """Every cell of the file as stripped text (blank → NA), no header, blank rows kept (so row numbers
    stay true). ``attrs`` carry the ``encoding`` and, for a mixed file, the ``stray`` byte count."""
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm", ".xls", ".ods"):
        try:
            cells = pd.read_excel(path, dtype=str, engine="calamine", keep_default_na=False, na_values=[""], header=None)
        except ImportError:  # pragma: no cover - calamine is a dependency
            cells = pd.read_excel(path, dtype=str, keep_default_na=False, na_values=[""], header=None)
        out = _strip_blank(cells) if len(cells) else cells
        out.attrs.update(encoding="xlsx", delimiter=None)
        return out
    data = path.read_bytes()
    if not data.strip():
        return pd.DataFrame()
    dec = decode_file(path, data)
    sep = _sniff_delimiter(dec.text, delimiter)
    options = dict(dtype=str, sep=sep, keep_default_na=False, na_values=[""], skip_blank_lines=False, header=None,
                   engine="c")
    try:
        cells = pd.read_csv(_io.StringIO(dec.text), **options)
    except pd.errors.EmptyDataError:
        return pd.DataFrame()
    except pd.errors.ParserError:  # a row longer than the first: read every row at the widest row's width
        width = max((len(r) for r in csv.reader(_io.StringIO(dec.text), delimiter=sep)), default=1)
        cells = pd.read_csv(_io.StringIO(dec.text), names=range(width), **options)
    out = _strip_blank(cells) if len(cells) else cells
    out.attrs.update(encoding=dec.encoding, delimiter=sep, stray=dec.stray, first_stray=dec.first_stray)
    return out


def _find_header(rows: list[list], wanted: set[str]) -> int | None:
    for i, row in enumerate(rows[:30]):
        if wanted & {header_key(v) for v in row if v is not None and str(v).strip()}:
            return i
    return next((i for i, row in enumerate(rows) if any(v is not None and str(v).strip() for v in row)), None)


def _finish(df: pd.DataFrame, header_cells: list, header_row: int, attrs: dict) -> pd.DataFrame:
    heads = [str(v).replace("\ufeff", "").strip() if v is not None and str(v).strip() else f"column_{k + 1}"
             for k, v in enumerate(header_cells)]
    heads += [f"column_{k + 1}" for k in range(len(heads), df.shape[1])]
    df.columns = heads[:df.shape[1]]
    df.attrs.update(attrs, header_row=header_row)
    return df


def _fast_csv(data: bytes, header: int, ncols: int, sep: str, skip: int = 0) -> pd.DataFrame | None:
    """The records after the header line, read by pyarrow (multi-threaded, no Python object per cell),
    stripped, blank → NA. ``None`` when the file's records are not exactly its lines (line breaks
    inside quoted cells, a bare carriage return, ragged rows), when it has no record, or when it is not
    valid UTF-8: the caller then reads it the careful way. A blank line is a record (of blanks, dropped
    later with its row number kept), so without a quote or a carriage return in the file every line
    is a record and the lines need no counting. ``skip``: bytes to skip first (a byte-order mark)."""
    if ncols == 0:
        return None
    expected = None
    if data.find(b'"', skip) >= 0 or data.find(b"\r", skip) >= 0:  # records may then differ from lines
        lines = data.count(b"\n", skip) + (0 if data.endswith(b"\n") else 1)
        expected = lines - header - 1
        if expected <= 0:
            return None
    names = [f"c{k}" for k in range(ncols)]
    try:
        table = pa_csv.read_csv(
            pa.py_buffer(memoryview(data)[skip:]),
            read_options=pa_csv.ReadOptions(skip_rows=header + 1, column_names=names),
            parse_options=pa_csv.ParseOptions(delimiter=sep, newlines_in_values=False, ignore_empty_lines=False),
            convert_options=pa_csv.ConvertOptions(column_types={n: pa.large_string() for n in names}, null_values=[""],
                                                  strings_can_be_null=True, quoted_strings_can_be_null=True))
    except (pa.ArrowInvalid, pa.ArrowException):
        return None
    if table.num_rows == 0 or (expected is not None and table.num_rows != expected):
        return None
    # the ASCII trim is three times faster and, for ASCII text, the same as the Unicode one except for the
    # separators \x1c-\x1f (which Unicode counts as whitespace): used when the bytes show neither
    ascii_only = (data[skip:] if skip else data).isascii()
    trim = pc.ascii_trim_whitespace if ascii_only and not any(data.find(c, skip) >= 0 for c in
                                                              (b"\x1c", b"\x1d", b"\x1e", b"\x1f")) \
        else pc.utf8_trim_whitespace
    cols = {}
    for k, name in enumerate(names):
        col = trim(table.column(name))  # blank cells are null already; a cell of spaces becomes "" here
        if pc.any(pc.equal(col, "")).as_py():
            col = pc.if_else(pc.equal(col, ""), pa.scalar(None, pa.large_string()), col)
        cols[k] = pd.array(col.combine_chunks() if hasattr(col, "combine_chunks") else col, dtype="string")
    return pd.DataFrame(cols)


def _utf8_head(data: bytes, skip: int, size: int = 1 << 16) -> str | None:
    """The first ``size`` bytes after the BOM, cut to whole lines, strictly decoded as UTF-8; ``None``
    when they are not UTF-8 (the caller then decodes the whole file, :func:`decode_file`)."""
    body = data[skip:skip + size]
    if len(data) - skip > size:
        cut = body.rfind(b"\n")
        if cut < 0:
            return None
        body = body[:cut + 1]
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        return None


def _read_one(path: Path, names: Iterable[str] = (), delimiter: str | None = None) -> pd.DataFrame:
    """Read one file with its header row found: the first of its first 30 rows that names one of
    ``names`` (header keys), else the first non-blank row; so title rows or blank rows above the
    header (as exports and hand-made sheets have) are skipped. Blank header cells (merged cells)
    become ``column_<n>``. ``attrs["header_row"]`` is the header's spreadsheet row number;
    ``attrs["header_text"]`` the header line as written (for the delimiter hint).
    """
    path = Path(path)
    wanted = {header_key(n) for n in names}
    empty = problem(InputError, path.name, expected="a header row naming the columns, then one row per record",
                    received="an empty file", fix="export the table again, with its header row")
    if path.suffix.lower() not in (".xlsx", ".xlsm", ".xls", ".ods"):
        data = path.read_bytes()
        if not data or data.isspace():  # (no copy of the file, as data.strip() would make)
            raise empty
        encoding, skip = detect_encoding(data)
        head = _utf8_head(data, skip) if encoding == "utf-8" else None
        if head is not None:
            # issue 15: a UTF-8 file is decoded by Python only as far as its header (the first 64 KB, whole
            # lines); pyarrow then reads the records and validates their UTF-8 (a file that fails is read
            # the careful way below, which finds stray bytes), so the file is never held as a Python str
            text, attrs = head, dict(encoding="utf-8 (BOM)" if skip else "utf-8", stray=0, first_stray=None)
        else:
            dec = decode_file(path, data)
            text = dec.text
            attrs = dict(encoding=dec.encoding, stray=dec.stray, first_stray=dec.first_stray)
        sep = _sniff_delimiter(text, delimiter)
        attrs["delimiter"] = sep
        head_lines = text[:1 << 16].splitlines()[:30]
        try:
            head_rows = list(csv.reader(head_lines, delimiter=sep))
        except csv.Error:
            head_rows = []
        header = _find_header(head_rows, wanted) if head_rows else None
        if header is not None and not attrs["stray"] and "\r" not in head_lines[header]:
            if head is not None:
                utf8, start = data, skip
            elif dec.encoding.startswith("utf-8"):
                utf8, start = data, 3 if dec.encoding == "utf-8 (BOM)" else 0
            else:
                utf8, start = dec.text.encode("utf-8"), 0
            # rows above the header in head_lines are lines (no quoted line breaks there: they came from csv.reader
            # one row per line only when each row was one line)
            if len(head_rows) == len(head_lines):
                df = _fast_csv(utf8, header, len(head_rows[header]), sep, start)
                if df is not None:
                    attrs["header_text"] = head_lines[header].replace("\ufeff", "")
                    return _finish(df, head_rows[header], header + 1, attrs)
    cells = _read_cells(path, delimiter)
    filled = cells.notna().any(axis=1).to_numpy() if len(cells) else []
    if not len(cells) or not any(filled):
        raise empty
    rows = cells.head(30).astype(object).where(cells.head(30).notna(), None).values.tolist()
    header = _find_header(rows, wanted)
    if header is None or header >= len(rows):
        header = next(i for i, f in enumerate(filled) if f)
    header_cells = cells.iloc[header].astype(object).where(cells.iloc[header].notna(), None).tolist()
    df = cells.iloc[header + 1:].reset_index(drop=True)
    attrs = dict(cells.attrs)
    sep = attrs.get("delimiter") or ","
    attrs["header_text"] = sep.join("" if v is None else str(v) for v in header_cells).replace("\ufeff", "")
    return _finish(df, header_cells, header + 1, attrs)


def _problem(table: str, rule: str, file: str, message: str, *, n_rows, column=pd.NA, row=pd.NA) -> dict:
    return dict(table=table, rule=rule, severity="rejected", message=message, file=file, row=row,
                column=column, value=pd.NA, n_rows=n_rows)


def _stray_rows(df: pd.DataFrame) -> tuple[np.ndarray, str | None]:
    """Rows holding a byte that was not UTF-8 (decoded as U+FFFD), and the first such row's column."""
    hit = np.zeros(len(df), dtype=bool)
    first_col, first_at = None, None
    for col in df.columns:
        s = df[col]
        if str(col).startswith("_"):
            continue
        m = s.astype("string").str.contains("\ufffd", regex=False).fillna(False).to_numpy(dtype=bool)
        if m.any():
            at = int(np.argmax(m))
            if first_at is None or at < first_at:
                first_at, first_col = at, str(col)
            hit |= m
    return hit, first_col


def _cp1252(byte: int) -> str:
    try:
        return bytes([byte]).decode("cp1252")
    except UnicodeDecodeError:
        return "?"


def read_table(table: str, files: Iterable[Path], *, columns: Mapping[str, str] | None = None,
               required: Iterable[str] | None = None, keep_extra: bool = False,
               delimiter: str | None = None) -> RawTable:
    """Read every file of one table and map headers to contract names.

    Parameters
    ----------
    table : str
        Contract table name (``audits``, ``ratings``...).
    files : iterable of Path
        Files to read and stack.
    columns : Mapping[str, str], optional
        Local header → contract column name (from params ``columns.<table>``). Headers that
        already match a contract name (ignoring case, spaces and punctuation) need no entry.
    required : iterable of str, optional
        Required contract columns (default: the contract's).
    keep_extra : bool
        Keep columns that are not in the contract (the domain columns of a wide export).
    delimiter : str, optional
        The CSV delimiter (params ``delimiter``): default a comma, or a tab when the header line
        has tabs and no commas.

    Returns
    -------
    RawTable
        A file that cannot be read or lacks a required column contributes no rows and one
        entry in ``problems`` (rule ``unreadable_file`` / ``missing_column`` /
        ``duplicate_column``) counting its rows; the rows of a UTF-8 file that hold stray
        non-UTF-8 bytes are one ``bad_encoding`` entry counting them.
    """
    required = tuple(required if required is not None else REQUIRED[table])
    known = set(REQUIRED[table]) | set(OPTIONAL[table])
    rename_local = {header_key(k): v for k, v in (columns or {}).items()}
    frames, problems, paths = [], [], []
    for path in files:
        path = Path(path)
        paths.append(path)
        try:
            df = _read_one(path, names=[*known, *rename_local, *required], delimiter=delimiter)
        except InputError as exc:
            problems.append(_problem(table, "unreadable_file", path.name, str(exc), n_rows=pd.NA))
            continue
        except Exception as exc:  # noqa: BLE001 - any reader failure is a data problem, reported
            problems.append(_problem(table, "unreadable_file", path.name, n_rows=pd.NA,
                                     message=f"{path.name}: could not be read as {path.suffix or 'a table'} "
                                             f"({type(exc).__name__}: {exc}). Fix: check the file opens in Excel "
                                             "and is saved as CSV or XLSX"))
            continue
        attrs = dict(df.attrs)
        mapping = {}
        for col in df.columns:
            key = header_key(col)
            if key in rename_local:
                mapping[col] = rename_local[key]
            elif key in known:
                mapping[col] = key
        first_row = attrs.get("header_row", 1) + 1  # spreadsheet row of the first record
        df = df.rename(columns=mapping)
        # drop rows that are entirely blank (trailing rows in Excel exports), keeping true row numbers
        blank = df.isna().all(axis=1).to_numpy()
        df = df.assign(_file=path.name, _row=np.arange(first_row, len(df) + first_row, dtype="int64"))
        df = df[~blank] if blank.any() else df
        twice = sorted({str(c) for c in df.columns[df.columns.duplicated()] if c in known})
        if twice:  # issue 8: two columns claim one contract column: refuse to guess which is meant
            problems.append(_problem(
                table, "duplicate_column", path.name, n_rows=len(df), column=", ".join(twice),
                message=(f"{path.name}: column(s) {', '.join(twice)} appear more than once in the header "
                         f"(expected each once). Fix: delete or rename the extra column, or map it in params "
                         f"columns.{table}. All {len(df)} rows of this file were set aside.")))
            continue
        df = df.loc[:, ~df.columns.duplicated()]
        unnamed = [c for c in df.columns if re.fullmatch(r"column_\d+", str(c)) and not keep_extra and df[c].notna().any()]
        if unnamed:  # cells under a blank header cell (merged cells) or beyond the header's last column
            first = df.loc[df[unnamed].notna().any(axis=1).to_numpy(), "_row"]
            problems.append(dict(_problem(
                table, "cells_without_header", path.name, n_rows=pd.NA, column=", ".join(unnamed), row=int(first.iloc[0]),
                message=(f"{path.name} row {first.iloc[0]}: {len(first)} row(s) have cells under no header "
                         f"({', '.join(unnamed)}: a blank header cell, or more cells than the header names); those "
                         "cells are not used, the rows are. Fix: name the column in the header, or remove the extra "
                         "cells")), severity="warning"))
        missing = [c for c in required if c not in df.columns]
        if missing:
            found = [str(c) for c in df.columns if not str(c).startswith("_")]
            hint = _header_hint(attrs.get("header_text", ""), attrs.get("delimiter") or ",")
            if not hint:
                close = []
                for m in missing:
                    near = difflib.get_close_matches(m, [header_key(f) for f in found if f not in known], n=1, cutoff=0.5)
                    if near:
                        local = next(f for f in found if header_key(f) == near[0])
                        close.append(f"'{local}: {m}'")
                shown = ", ".join(found[:8]) + (f" and {len(found) - 8} more" if len(found) > 8 else "")
                hint = f"found: {shown}" + (f"; closest: map {', '.join(close)} in params columns.{table}" if close else "")
            problems.append(_problem(
                table, "missing_column", path.name, n_rows=len(df), column=", ".join(missing),
                message=(f"{path.name}: required column(s) {', '.join(missing)} not found ({hint}). "
                         f"Fix: rename the header(s), or map them in params columns.{table}, "
                         f"e.g. 'Your header: {missing[0]}'. All {len(df)} rows of this file were set aside, "
                         "and its reports fail until it is fixed.")))
            continue
        if attrs.get("stray"):
            hit, col = _stray_rows(df)
            if hit.any():
                rows = df["_row"].to_numpy()[hit]
                line, byte = attrs["first_stray"]
                listed = ", ".join(map(str, rows[:10])) + (f" and {len(rows) - 10} more" if len(rows) > 10 else "")
                problems.append(_problem(
                    table, "bad_encoding", path.name, n_rows=int(hit.sum()), column=col, row=int(rows[0]),
                    message=(f"{path.name} row {rows[0]}, column {col}: byte 0x{byte:02X} is not UTF-8, though the "
                             f"rest of the file is (in Windows-1252 it would be '{_cp1252(byte)}'); "
                             f"{int(hit.sum())} row(s) hold such bytes and were set aside (rows {listed}). "
                             "Fix: retype the character in Excel and save as 'CSV UTF-8', or fix the export")))
                df = df[~hit]
        frames.append(df)
    cols = list(dict.fromkeys([*REQUIRED[table], *OPTIONAL[table]]))
    if frames:
        frame = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0].reset_index(drop=True)
    else:
        frame = pd.DataFrame({c: pd.Series(dtype="string") for c in [*required, "_file"]} | {"_row": pd.Series(dtype="int64")})
    for col in cols:
        if col not in frame.columns:
            frame[col] = pd.Series(pd.NA, index=frame.index, dtype="string")
    keep = [c for c in frame.columns if keep_extra or c in known or c in ("_file", "_row") or c in required]
    frame = frame[keep]
    for col in frame.columns:
        if col != "_row" and frame[col].dtype != "string":
            frame[col] = frame[col].astype("string")
    return RawTable(table=table, frame=frame, files=paths, problems=problems)


def melt_wide_ratings(raw: RawTable, *, domains: Mapping[str, str], role: str = "auditor") -> RawTable:
    """Turn a wide ratings export (one grade column per domain) into the long contract form.

    Parameters
    ----------
    raw : RawTable
        Read with ``required=("audit_id",)``; must have ``rater_id`` (or ``auditor_id``) and may
        have ``role``; the domain columns are those named in ``domains``.
    domains : Mapping[str, str]
        Grade column header (as in the file) → domain name (``"Overall"`` for the overall grade).
    role : str
        Role to use when the export has no role column.

    Returns
    -------
    RawTable
        One row per (audit, rater, domain); a blank cell means the domain was not graded and
        yields no row (this is counted, not rejected). ``_column`` keeps the source header so
        messages can name it.
    """
    frame = raw.frame
    by_key = {header_key(c): c for c in frame.columns}
    present = {}
    missing = []
    for header, domain in domains.items():
        col = by_key.get(header_key(header)) or (header if header in frame.columns else None)
        if col is None:
            missing.append(header)
        else:
            present[col] = domain
    problems = list(raw.problems)
    if not domains and len(frame):  # nothing says which columns hold grades: every row would vanish unseen
        problems.append(dict(table="ratings", rule="missing_column", severity="rejected",
                             file=", ".join(sorted({p.name for p in raw.files})), row=pd.NA, column="ratings_wide.domains",
                             value=pd.NA, n_rows=len(frame),
                             message=(f"{', '.join(sorted({p.name for p in raw.files}))}: params ratings_format: wide "
                                      "names no grade columns (expected ratings_wide.domains, grade column header -> "
                                      f"domain, e.g. 'Overall grade: Overall'). All {len(frame)} rows were set aside. "
                                      "Fix: add ratings_wide.domains to the params")))
        return RawTable(table="ratings", frame=frame.iloc[0:0].assign(domain=pd.Series(dtype="string"),
                                                                      grade=pd.Series(dtype="string")),
                        files=raw.files, problems=problems, options=raw.options)
    if missing:
        problems.append(dict(table="ratings", rule="missing_column", severity="rejected", file=", ".join(sorted({p.name for p in raw.files}))
                             , row=pd.NA, column=", ".join(missing), value=pd.NA, n_rows=0,
                             message=f"ratings: wide grade column(s) {', '.join(missing)} named in params "
                                     "ratings_wide.domains not found. Fix: correct the header names in params"))
    if "rater_id" not in frame.columns or frame["rater_id"].isna().all():
        if "auditor_id" in frame.columns:
            frame = frame.assign(rater_id=frame["auditor_id"])
    if "role" not in frame.columns or frame["role"].isna().all():
        frame = frame.assign(role=role)
    ids = ["audit_id", "rater_id", "role", "_file", "_row"] + (["rating_date"] if "rating_date" in frame.columns else [])
    long = frame[ids + list(present)].melt(id_vars=ids, var_name="_column", value_name="grade")
    long["domain"] = long["_column"].map(present).astype("string")
    long = long[long["grade"].notna() & (long["grade"].astype("string").str.strip() != "")]
    long = long.sort_values(["_file", "_row"], kind="stable").reset_index(drop=True)
    return RawTable(table="ratings", frame=long, files=raw.files, problems=problems, options=raw.options)

#: Columns holding free text: never shown except as redacted internal quotes.
FREE_TEXT_COLUMNS = ("text", "comment", "comments", "quote", "quotes", "free_text", "verbatim")

"""Reading input files: CSV or XLSX, one file or a glob, local headers mapped to the contract.

Every value is read as text; typing happens in :mod:`qa_lib.inputs.validate`, where a value that does
not parse becomes an issue naming its file, row and column rather than an exception. Each row
keeps ``_file`` (file name) and ``_row`` (the spreadsheet row number a person sees: the header
is row 1, the first data row is row 2).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Mapping

import pandas as pd

from qa_lib.core.errors import InputError, problem

REQUIRED: dict[str, tuple[str, ...]] = {
    "audits": ("audit_id", "case_id", "audit_date", "service_area", "auditor_id"),
    "ratings": ("audit_id", "rater_id", "role", "domain", "grade"),
    "allocations": ("allocation_id", "month", "service_area", "status"),
    "feedback": ("response_id", "response_date", "survey", "question", "answer"),
    "actions": ("action_id", "audit_id", "raised_date"),
    "comments": ("audit_id", "domain", "kind", "text"),
    "indicators": ("indicator", "period", "value", "polarity"),
    "benchmarks": ("indicator", "period", "comparator", "value"),
}
OPTIONAL: dict[str, tuple[str, ...]] = {
    "audits": ("team", "cohort", "practitioner_id"),
    "ratings": ("rating_date", "agency"),  # issue 17: the rater's agency (Education, Health, ...)
    "allocations": ("practitioner_id", "practitioner_took_part", "reason", "team"),
    "feedback": (),
    "actions": ("due_date", "completed_date", "reviewed_date", "domain"),  # issue 17: due_date optional
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


def header_key(text: str) -> str:
    """Normalise a header for matching: lower case, non-alphanumerics folded to ``_``."""
    return re.sub(r"[^0-9a-z]+", "_", str(text).replace("\ufeff", "").strip().lower()).strip("_")


def _read_cells(path: Path) -> pd.DataFrame:
    """Every cell of the file as text, no header, blank rows kept (so row numbers stay true)."""
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm", ".xls", ".ods"):
        try:
            return pd.read_excel(path, dtype=str, engine="calamine", keep_default_na=False, na_values=[""], header=None)
        except ImportError:  # pragma: no cover - calamine is a dependency
            return pd.read_excel(path, dtype=str, keep_default_na=False, na_values=[""], header=None)
    if path.stat().st_size == 0:
        return pd.DataFrame()
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return pd.read_csv(path, dtype=str, encoding=encoding, keep_default_na=False, na_values=[""],
                               skip_blank_lines=False, header=None)
        except UnicodeDecodeError:
            continue
        except pd.errors.EmptyDataError:
            return pd.DataFrame()
    raise problem(InputError, path.name, expected="a CSV file in UTF-8 or Windows-1252 (Excel) encoding",
                  received="bytes that decode as neither", fix="re-save the file as 'CSV UTF-8' from Excel")


def _read_one(path: Path, names: Iterable[str] = ()) -> pd.DataFrame:
    """Read one file with its header row found: the first of its first 30 rows that names one of
    ``names`` (header keys), else the first non-blank row; so title rows or blank rows above the
    header (as exports and hand-made sheets have) are skipped. Blank header cells (merged cells)
    become ``column_<n>``. ``attrs["header_row"]`` is the header's spreadsheet row number.
    """
    cells = _read_cells(path)
    if len(cells):
        blank_cell = cells.apply(lambda col: col.astype("string").str.strip().eq("").fillna(True))
        cells = cells.astype(object).where(~blank_cell.to_numpy(dtype=bool), None)
    filled = cells.notna().any(axis=1).to_numpy() if len(cells) else []
    if not len(cells) or not any(filled):
        raise problem(InputError, path.name, expected="a header row naming the columns, then one row per record",
                      received="an empty file", fix="export the table again, with its header row")
    wanted = {header_key(n) for n in names}
    header = next((i for i in range(min(30, len(cells)))
                   if wanted & {header_key(v) for v in cells.iloc[i].dropna()}), None)
    if header is None:
        header = next(i for i, f in enumerate(filled) if f)
    heads = [str(v).replace("\ufeff", "").strip() if pd.notna(v) else f"column_{k + 1}"
             for k, v in enumerate(cells.iloc[header])]
    df = cells.iloc[header + 1:].reset_index(drop=True)
    df.columns = heads
    df.attrs["header_row"] = header + 1
    return df


def read_table(table: str, files: Iterable[Path], *, columns: Mapping[str, str] | None = None,
               required: Iterable[str] | None = None, keep_extra: bool = False) -> RawTable:
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

    Returns
    -------
    RawTable
        A file that cannot be read or lacks a required column contributes no rows and one
        entry in ``problems`` (rule ``unreadable_file`` / ``missing_column``) counting its rows.
    """
    required = tuple(required if required is not None else REQUIRED[table])
    known = set(REQUIRED[table]) | set(OPTIONAL[table])
    rename_local = {header_key(k): v for k, v in (columns or {}).items()}
    frames, problems, paths = [], [], []
    for path in files:
        path = Path(path)
        paths.append(path)
        try:
            df = _read_one(path, names=[*known, *rename_local, *required])
        except InputError as exc:
            problems.append(dict(table=table, rule="unreadable_file", severity="rejected", message=str(exc), file=path.name,
                                 row=pd.NA, column=pd.NA, value=pd.NA, n_rows=pd.NA))
            continue
        except Exception as exc:  # noqa: BLE001 - any reader failure is a data problem, reported
            problems.append(dict(table=table, rule="unreadable_file", severity="rejected", file=path.name, row=pd.NA, column=pd.NA,
                                 value=pd.NA, n_rows=pd.NA,
                                 message=f"{path.name}: could not be read as {path.suffix or 'a table'} "
                                         f"({type(exc).__name__}: {exc}). Fix: check the file opens in Excel "
                                         "and is saved as CSV or XLSX"))
            continue
        mapping = {}
        for col in df.columns:
            key = header_key(col)
            if key in rename_local:
                mapping[col] = rename_local[key]
            elif key in known:
                mapping[col] = key
        first_row = df.attrs.get("header_row", 1) + 1  # spreadsheet row of the first record
        df = df.rename(columns=mapping)
        twice = sorted({str(c) for c in df.columns[df.columns.duplicated()] if c in known})
        if twice:  # issue 8: two columns claim one contract column: refuse to guess which is meant
            problems.append(dict(
                table=table, rule="duplicate_column", severity="rejected", file=path.name, row=pd.NA,
                column=", ".join(twice), value=pd.NA, n_rows=len(df),
                message=(f"{path.name}: column(s) {', '.join(twice)} appear more than once in the header "
                         f"(expected each once). Fix: delete or rename the extra column, or map it in params "
                         f"columns.{table}. All {len(df)} rows of this file were set aside.")))
            continue
        df = df.loc[:, ~df.columns.duplicated()]
        # drop rows that are entirely blank (trailing rows in Excel exports)
        blank = df.isna().all(axis=1)
        df = df.assign(_file=path.name, _row=pd.RangeIndex(first_row, len(df) + first_row))[~blank.to_numpy()]
        missing = [c for c in required if c not in df.columns]
        if missing:
            problems.append(dict(
                table=table, rule="missing_column", severity="rejected", file=path.name, row=pd.NA,
                column=", ".join(missing),
                value=pd.NA, n_rows=len(df),
                message=(f"{path.name}: required column(s) {', '.join(missing)} not found "
                         f"(found: {', '.join(map(str, [c for c in df.columns if not str(c).startswith('_')]))}). "
                         f"Fix: rename the header(s), or map them in params columns.{table}, "
                         f"e.g. 'Your header: {missing[0]}'. All {len(df)} rows of this file were set aside.")))
            continue
        frames.append(df)
    cols = list(dict.fromkeys([*REQUIRED[table], *OPTIONAL[table]]))
    if frames:
        frame = pd.concat(frames, ignore_index=True)
    else:
        frame = pd.DataFrame({c: pd.Series(dtype="string") for c in [*required, "_file"]} | {"_row": pd.Series(dtype="int64")})
    for col in cols:
        if col not in frame.columns:
            frame[col] = pd.Series(pd.NA, index=frame.index, dtype="string")
    keep = [c for c in frame.columns if keep_extra or c in known or c in ("_file", "_row") or c in required]
    frame = frame[keep]
    for col in frame.columns:
        if col != "_row":
            frame[col] = frame[col].astype("string").str.strip()
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
    return RawTable(table="ratings", frame=long, files=raw.files, problems=problems)

#: Columns holding free text: never shown except as redacted internal quotes.
FREE_TEXT_COLUMNS = ("text", "comment", "comments", "quote", "quotes", "free_text", "verbatim")

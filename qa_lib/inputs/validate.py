"""Validation: each raw table becomes a clean typed table plus an issues table.

Data-quality findings are not exceptions. Each finding is one row of the issues table
(``table, rule, severity, message, file, row, column, value``); a row that cannot be used is
*rejected* (kept out of the clean table and written to the rejects file with its reason), a
row that can be used with a caveat gets a ``warning``. Identifier values and free text are never
copied into messages or the issues table (issue 14): the file, row and column locate the record and
the value is described (``a value of 12 characters (letters)``); only a short value without letters
(a bad date or number) is quoted, because it cannot carry a name.
"""

from __future__ import annotations

import difflib
import re as _re_mod
from datetime import date as _date

from typing import Callable

import numpy as np
import pandas as pd
import pyarrow.compute as pc

from qa_lib.core.labels import keys as label_keys
from qa_lib.inputs.grades import GradeScale
from qa_lib.inputs.periods import parse_period
from qa_lib.inputs.io import FREE_TEXT_COLUMNS, IDENTIFIER_COLUMNS, REQUIRED, RawTable, arrow_text

ISSUE_COLUMNS = ["table", "rule", "severity", "message", "file", "row", "column", "value"]

ROLE_ALIASES = {"auditor": "auditor", "audit": "auditor", "lead auditor": "auditor", "qa auditor": "auditor",
                "moderator": "moderator", "moderation": "moderator", "qa moderator": "moderator",
                "moderated": "moderator", "peer": "peer", "peer auditor": "peer", "peer reviewer": "peer"}
STATUS_ALIASES = {"returned": "returned", "complete": "returned", "completed": "returned", "yes": "returned",
                  "not returned": "not returned", "not complete": "not returned", "outstanding": "not returned",
                  "no": "not returned", "not completed": "not returned", "overdue": "not returned",
                  "exempt": "exempt", "exemption": "exempt", "exempted": "exempt"}
YES_NO = {"yes": True, "y": True, "true": True, "1": True, "no": False, "n": False, "false": False, "0": False}
KIND_ALIASES = {"strength": "strength", "strengths": "strength", "what's working well": "strength",
                "what is working well": "strength", "working well": "strength",
                "learning": "learning", "area for learning": "learning", "areas for learning": "learning",
                "learning point": "learning", "development": "learning", "area for development": "learning",
                "areas for development": "learning", "worries": "learning"}

#: The date columns of each table: their values together show a file's day/month order.
DATE_COLUMNS = {"audits": ("audit_date",), "ratings": ("rating_date",), "feedback": ("response_date",),
                "actions": ("raised_date", "due_date", "completed_date"), "allocations": ("month",)}
_MONTH_FORMATS = ("%Y-%m", "%b %Y", "%B %Y", "%m/%Y", "%b-%y", "%B-%y", "%b-%Y")


def distinct(values: pd.Series, fn: Callable[[pd.Series], pd.Series]) -> pd.Series:
    """``fn(values)`` computed once per distinct value (NA included once) and spread back by position."""
    codes, uniques = pd.factorize(values, use_na_sentinel=False)
    if len(uniques) == len(values):
        return fn(values)
    done = fn(pd.Series(uniques, dtype=values.dtype) if len(uniques) else values.iloc[:0])
    out = done.take(codes).reset_index(drop=True)
    out.index = values.index
    return out


def isin(values: pd.Series, allowed: pd.Series) -> pd.Series:
    """``values.isin(allowed)`` for text, by Arrow's hash kernel (``pyarrow.compute.is_in``): the same
    answer, much faster than a string ``isin`` of a million ids against a hundred thousand. A missing
    value is never in ``allowed``."""
    got = pc.is_in(arrow_text(values), value_set=arrow_text(pd.Series(allowed)), skip_nulls=True).fill_null(False)
    return pd.Series(got.to_numpy(zero_copy_only=False), index=values.index)


def spread(values: pd.Series, fn: Callable[[pd.Series], pd.Series]) -> pd.Series:
    """``fn`` of each distinct text of ``values`` (missing included once, as NA), spread back by the
    integer codes of one Arrow dictionary encoding: the string work runs once per label, never once
    per row (a million ratings hold a handful of roles). ``fn`` maps a string Series to a Series."""
    enc = pc.dictionary_encode(arrow_text(values))
    labels = pd.Series(pd.array(enc.dictionary, dtype="string"))
    done = fn(pd.concat([labels, pd.Series([pd.NA], dtype="string")], ignore_index=True))
    codes = enc.indices.fill_null(len(labels)).to_numpy(zero_copy_only=False)
    out = done.take(codes)
    out.index = values.index
    return out


def duplicated(frame: pd.DataFrame, columns: list[str]) -> pd.Series:
    """``frame[columns].duplicated(keep="first")`` (missing values equal to each other), by one integer
    key per row built from each column's codes (an Arrow dictionary encoding for text): the same
    answer without hashing a million rows of strings as tuples."""
    key = np.zeros(len(frame), dtype=np.int64)
    span = 1
    for col in columns:
        s = frame[col]
        if isinstance(s.dtype, pd.StringDtype) or s.dtype == object:
            enc = pc.dictionary_encode(arrow_text(s))
            n = len(enc.dictionary) + 1
            codes = enc.indices.fill_null(n - 1).to_numpy(zero_copy_only=False).astype(np.int64)
        else:
            codes, uniques = pd.factorize(s, use_na_sentinel=False)
            n = len(uniques)
            codes = codes.astype(np.int64)
        if span * max(n, 1) >= 2 ** 62:  # keep the key inside int64: renumber what has been combined so far
            key, seen = pd.factorize(key)
            span = len(seen)
        key = key * max(n, 1) + codes
        span *= max(n, 1)
    return pd.Series(key, index=frame.index).duplicated(keep="first")


#: A value with no letters, this short, may be quoted in a message (a bad date or number such as
#: 31/02/2024 or 12..5): it cannot carry a name. Anything else is described, never quoted (issue 14).
QUOTABLE = r"^[0-9\s.,:;/%+\-–()]{1,24}$"


def quotable(values: pd.Series, column: str) -> pd.Series:
    """Which values a message may quote: short values without letters, from a column that is not an
    identifier or free-text column. Names, free text and ids are described instead (:func:`describe`)."""
    if column in IDENTIFIER_COLUMNS or column.lower() in FREE_TEXT_COLUMNS:
        return pd.Series(False, index=values.index)
    return values.astype("string").str.match(QUOTABLE).fillna(False).astype(bool)


def describe(values: pd.Series, noun: str = "value") -> pd.Series:
    """Each value described without quoting it: ``a value of 12 characters (letters and digits) ``."""
    s = values.astype("string").fillna("")
    n = s.str.len().fillna(0).astype("int64")
    letters = s.str.contains(r"[^\W\d_]", regex=True).fillna(False)
    digits = s.str.contains(r"\d", regex=True).fillna(False)
    kind = pd.Series("other characters", index=s.index, dtype="string")
    kind = kind.where(~digits, "digits").where(~letters, "letters").where(~(letters & digits), "letters and digits")
    article = "an " if noun[:1].lower() in "aeiou" else "a "
    return (article + noun + " of " + n.astype("string") + " character" + n.map(lambda k: "" if k == 1 else "s")
            .astype("string") + " (" + kind + ") ")


def empty_issues() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype="Int64" if c == "row" else "string") for c in ISSUE_COLUMNS})


#: How a file writes day and month (params ``date_format``): ``auto`` infers it per file from the
#: values (a number above 12 can only be a day) and takes the UK day-first order when nothing shows it.
DATE_FORMATS = ("auto", "day-first", "month-first")
#: Years a real date of these records falls in; outside, the value is a placeholder or a typo.
YEAR_RANGE = (1901, 2100)
_NUMERIC_DATE = _re_mod.compile(r"^(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4}|\d{2})(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?$")
_YEAR = _re_mod.compile(r"(?<!\d)(\d{4})(?!\d)")
_PLACEHOLDERS = {"1900-01-01", "01/01/1900", "1/1/1900", "1899-12-30", "1899-12-31", "30/12/1899", "31/12/1899",
                 "1753-01-01", "01/01/1753"}


def _numeric_parts(s: pd.Series) -> pd.DataFrame:
    """``a``, ``b``, ``year`` of numeric dates (``03/05/2024``, ``3-5-24``, ``03.05.2024 10:15``); NaN elsewhere."""
    parts = s.astype("string").str.extract(_NUMERIC_DATE)

    def num(k):
        return pd.to_numeric(parts[k], errors="coerce").astype("Float64").to_numpy(dtype=float, na_value=np.nan)
    year = num(2)
    two = parts[2].str.len().eq(2).fillna(False).to_numpy(dtype=bool)
    year = np.where(two, year + np.where(year < 69, 2000, 1900), year)
    return pd.DataFrame({"a": num(0), "b": num(1), "year": year}, index=s.index)


def placeholder_dates(values: pd.Series) -> pd.Series:
    """Values that are 'no date' placeholders or outside :data:`YEAR_RANGE` (``9999-12-31``,
    ``3024-01-01``, ``1900-01-01``): never parsed (they do not fit pandas' timestamps), reported.
    Computed once per distinct value (a date column of a million rows holds a few hundred)."""
    return distinct(values, _placeholder_dates)


def _placeholder_dates(values: pd.Series) -> pd.Series:
    s = values.astype("string").str.strip()
    year = pd.to_numeric(s.str.extract(_YEAR)[0], errors="coerce").astype("Float64").to_numpy(dtype=float, na_value=np.nan)
    serial = pd.to_numeric(s.where(s.str.fullmatch(r"\d+(?:\.\d+)?").fillna(False)), errors="coerce") \
        .astype("Float64").to_numpy(dtype=float, na_value=np.nan)
    with np.errstate(invalid="ignore"):
        out = (year < YEAR_RANGE[0]) | (year > YEAR_RANGE[1]) | (serial > 80000)  # Excel serial 2958465 is 9999-12-31
    out |= s.isin(_PLACEHOLDERS).fillna(False).to_numpy(dtype=bool)
    return pd.Series(out, index=values.index)


def parse_dates(values: pd.Series, order: str = "day-first") -> pd.Series:
    """See :func:`_parse_dates`; computed once per distinct value."""
    return distinct(values, lambda u: _parse_dates(u, order))


def _parse_dates(values: pd.Series, order: str = "day-first") -> pd.Series:
    """Parse dates written as ISO (``2024-05-03``, with or without a time), numeric day-first
    (``03/05/2024``, ``3-5-2024``, ``03.05.24``) or, with ``order="month-first"``, month-first,
    named months (``3 May 2024``, ``3-May-24``) or Excel serial numbers; NaT where none fits and
    for placeholders (:func:`placeholder_dates`), so no value raises ``OutOfBoundsDatetime``."""
    s = values.astype("string").str.strip()
    out = pd.Series(pd.NaT, index=s.index, dtype="datetime64[ns]")
    todo = (s.notna() & (s != "") & ~placeholder_dates(s)).to_numpy(dtype=bool)
    if not todo.any():
        return out
    num = _numeric_parts(s[todo])
    is_num = num["year"].notna()
    if is_num.any():
        day, month = (num["b"], num["a"]) if order == "month-first" else (num["a"], num["b"])
        parsed = pd.to_datetime(pd.DataFrame({"year": num["year"], "month": month, "day": day})[is_num],
                                errors="coerce")
        out.loc[parsed.index] = parsed.astype("datetime64[ns]")
        todo[s.index.get_indexer(num.index[is_num])] = False
    for fmt in ("ISO8601", "%d %b %Y", "%d %B %Y", "%d-%b-%y", "%d-%b-%Y", "%d %b %y", "%b %d, %Y", "%B %d, %Y"):
        if not todo.any():
            break
        sub = s[todo]
        parsed = pd.to_datetime(sub, format=fmt, errors="coerce")
        if fmt == "ISO8601":  # ISO8601 also takes bare years or year-months: require a day
            parsed = parsed.where(sub.str.match(r"^\d{4}-\d{1,2}-\d{1,2}"))
        ok = parsed.notna()
        out.loc[ok[ok].index] = parsed[ok].astype("datetime64[ns]")
        todo[s.index.get_indexer(ok[ok].index)] = False
    if todo.any():  # Excel serial day numbers (1955–2118)
        serial_num = pd.to_numeric(s[todo], errors="coerce")
        ok = serial_num.between(20000, 80000)
        serial = pd.to_datetime("1899-12-30") + pd.to_timedelta(serial_num[ok].round(), unit="D")
        out.loc[serial.index] = serial.astype("datetime64[ns]")
    return out


def _order_evidence(u: pd.Series) -> pd.Series:
    """1 where a numeric date shows day first (first number above 12), 2 month first (second above 12), else 0."""
    num = _numeric_parts(u.astype("string").str.strip())
    return pd.Series(np.where((num["a"] > 12) & (num["b"] <= 12), 1, np.where((num["b"] > 12) & (num["a"] <= 12), 2, 0)),
                     index=u.index)


def date_order_evidence(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Rows whose numeric date shows day first (first number above 12) and month first (second above 12)."""
    code = distinct(values, _order_evidence)
    return code == 1, code == 2


def _is_numeric_date(values: pd.Series) -> pd.Series:
    return values.astype("string").str.strip().str.match(_NUMERIC_DATE).fillna(False).astype(bool)


def parse_months(values: pd.Series, order: str = "day-first") -> pd.Series:
    """Parse a month (``2024-05``, ``May 2024``, ``05/2024``, or any date in the month) to its first day;
    computed once per distinct value."""
    return distinct(values, lambda u: _parse_months(u, order))


def _parse_months(values: pd.Series, order: str = "day-first") -> pd.Series:
    s = values.astype("string").str.strip()
    out = pd.Series(pd.NaT, index=s.index, dtype="datetime64[ns]")
    todo = s.notna() & (s != "") & ~placeholder_dates(s)
    for fmt in _MONTH_FORMATS:
        if not todo.any():
            break
        parsed = pd.to_datetime(s[todo], format=fmt, errors="coerce")
        ok = parsed.notna()
        out.loc[ok[ok].index] = parsed[ok].astype("datetime64[ns]")
        todo.loc[ok[ok].index] = False
    if todo.any():
        dates = parse_dates(s[todo], order)
        out.loc[dates.index] = dates.dt.to_period("M").dt.to_timestamp()
    return out


class Checker:
    """Collects findings for one table, vectorised: each rule flags a boolean mask of rows."""

    def __init__(self, raw: RawTable):
        self.table = raw.table
        self.frame = raw.frame.reset_index(drop=True)
        self.rejected = np.zeros(len(self.frame), dtype=bool)
        self.reasons = pd.Series(pd.NA, index=self.frame.index, dtype="string")
        self.parts: list[pd.DataFrame] = [pd.DataFrame(p) for p in ([raw.problems] if raw.problems else [])]
        self.file_level = raw.problems
        self.options = dict(getattr(raw, "options", None) or {})

    def known_audit(self, audit_ids: pd.Series, expected: str) -> None:
        """Reject rows whose ``audit_id`` is not in the audits table (rule ``unknown_audit``)."""
        ids = self.frame["audit_id"]
        self.flag(ids.notna() & ~isin(ids, audit_ids), rule="unknown_audit", column="audit_id",
                  text=f"is not an audit in the audits table (expected {expected}). "
                       "Fix: add the audit, or correct the audit id", show_value=False)

    def flag(self, mask: pd.Series | np.ndarray, *, rule: str, column: str, text: str | Callable[[pd.DataFrame], pd.Series],
             reject: bool = True, show_value: bool | None = None) -> None:
        """Record rule ``rule`` for every row in ``mask``.

        ``text`` completes the sentence after ``"<file> row <n>, column <col>: <value> "``; it may
        be a function of the flagged rows returning one text per row.
        """
        mask = np.asarray(mask, dtype=bool) & ~self.rejected
        if not mask.any():
            return
        rows = self.frame[mask]
        value = rows[column].astype("string") if column in rows.columns else pd.Series(pd.NA, index=rows.index, dtype="string")
        quoted = quotable(value, column) & (show_value is not False)
        shown = ("'" + value.fillna("") + "' ").where(quoted, describe(value))
        shown = shown.where(value.notna() & (value != ""), "a blank ")
        col_label = rows["_column"].astype("string") if "_column" in rows.columns else pd.Series(column, index=rows.index, dtype="string")
        body = text(rows) if callable(text) else pd.Series(text, index=rows.index, dtype="string")
        msg = (rows["_file"].astype("string") + " row " + rows["_row"].astype("string") + ", column "
               + col_label + ": " + shown + body.astype("string"))
        self.parts.append(pd.DataFrame({
            "table": self.table, "rule": rule, "severity": "rejected" if reject else "warning",
            "message": msg, "file": rows["_file"], "row": rows["_row"].astype("Int64"), "column": col_label,
            "value": value.where(quoted, pd.NA)}))
        if reject:
            self.rejected |= mask
            self.reasons.loc[rows.index] = rule

    def required(self, columns: tuple[str, ...]) -> None:
        for col in columns:
            if col in self.frame.columns:
                self.flag(self.frame[col].isna() | (self.frame[col] == ""), rule="missing_value", column=col,
                          text=f"is not allowed (expected a value: {col} is required). Fix: fill it in or remove the row")

    def unique(self, keys: list[str], *, label: str) -> None:
        cols = [k for k in keys if k in self.frame.columns]
        live = pd.Series(~self.rejected, index=self.frame.index)
        dup = duplicated(self.frame, cols) & live
        if dup.any():
            first_row = self.frame[live].drop_duplicates(cols).set_index(cols)["_row"]
            def text(rows):
                firsts = rows[cols].merge(first_row.reset_index(), on=cols, how="left")["_row"]
                return pd.Series("repeats the " + label + " first seen at row ", index=rows.index) + \
                    pd.Series(firsts.astype("string").to_numpy(), index=rows.index) + \
                    " (expected each " + label + " once). Fix: remove the duplicate or correct the id"
            self.flag(dup, rule="duplicate_id", column=keys[0], text=text)

    def _date_orders(self) -> pd.Series:
        """Per row, the day/month order of its file: params ``date_format``, or (``auto``) what the file's
        own values show; ``refuse`` for a file whose values show month first (against the UK default) or
        both orders. ``self.order_note[file]`` words the evidence (rows and values) for the message."""
        if getattr(self, "_orders", None) is not None:
            return self._orders
        fmt = self.options.get("date_format") or "auto"
        self.order_note: dict[str, str] = {}
        if fmt != "auto":
            self._orders = pd.Series(fmt, index=self.frame.index, dtype="string")
            return self._orders
        cols = [c for c in DATE_COLUMNS.get(self.table, ()) if c in self.frame.columns]
        day = np.zeros(len(self.frame), dtype=bool)
        month = np.zeros(len(self.frame), dtype=bool)
        example = pd.Series(pd.NA, index=self.frame.index, dtype="string")
        for col in cols:
            code = self.per_value(col, _order_evidence)
            d, m = code == 1, code == 2
            fill = (d | m).to_numpy() & example.isna().to_numpy()
            example[fill] = self.frame[col][fill]
            day |= d.to_numpy()
            month |= m.to_numpy()
        orders = pd.Series("day-first", index=self.frame.index, dtype="string")
        files = self.frame["_file"].astype("string")
        for file in pd.unique(files[month]):
            in_file = (files == file).to_numpy()
            m_rows = np.flatnonzero(in_file & month).tolist()  # positions in the frame
            d_rows = np.flatnonzero(in_file & day).tolist()
            row_no = self.frame["_row"].to_numpy()

            def show(rows, row_no=row_no):
                return ", ".join(f"row {int(row_no[i])} has {example.iloc[i]}" for i in rows[:3])
            if d_rows:
                note = (f"{file} writes some dates day first ({show(d_rows)}) and some month first ({show(m_rows)}), "
                        "so no date in it with both numbers 12 or under can be read safely")
            else:
                note = (f"{file} writes dates month first ({show(m_rows)}: no month is above 12), against the UK "
                        "day-first default, so its dates with both numbers 12 or under could be either")
            self.order_note[str(file)] = note
            orders[in_file] = "refuse"
        self._orders = orders
        return orders

    def per_value(self, column: str, fn: Callable[[pd.Series], pd.Series]) -> pd.Series:
        """``fn`` of each distinct value of ``column`` (NA once), spread to the rows: the column's Arrow
        dictionary encoding is made once per Checker and frame and shared by every rule that reads
        the column (a date column is checked for placeholders, day/month evidence, numeric form and
        parsed in up to three orders: issue 15, codes once)."""
        cache = self.__dict__.setdefault("_encodings", {})
        hit = cache.get(column)
        if hit is None or hit[0] is not self.frame:
            enc = pc.dictionary_encode(arrow_text(self.frame[column]))
            labels = pd.concat([pd.Series(pd.array(enc.dictionary, dtype="string")),
                                pd.Series([pd.NA], dtype="string")], ignore_index=True)
            hit = cache[column] = (self.frame, enc.indices.fill_null(len(labels) - 1).to_numpy(zero_copy_only=False),
                                   labels)
        _, codes, labels = hit
        out = fn(labels).take(codes)
        out.index = self.frame.index
        return out

    def dates(self, column: str, *, optional: bool = False) -> pd.Series:
        """Parse a date column; placeholders, refused day/month orders and unparseable values are flagged."""
        s = self.frame[column]
        given = self.per_value(column, _given).astype(bool)
        placeholder = given & self.per_value(column, _placeholder_dates).astype(bool)
        if optional and self.options.get("placeholder_dates") == "blank":
            self.flag(placeholder, rule="placeholder_date", column=column, reject=False,
                      text="looks like a 'no date' placeholder and is treated as blank (params placeholder_dates: blank)")
        else:
            self.flag(placeholder, rule="placeholder_date", column=column,
                      text=f"looks like a 'no date' placeholder (expected a real date, years {YEAR_RANGE[0]}–"
                           f"{YEAR_RANGE[1]}). Fix: leave the cell blank"
                           + (", or set placeholder_dates: blank in the params" if optional else ""))
        orders = self._date_orders()
        parsed = pd.Series(pd.NaT, index=s.index, dtype="datetime64[ns]")
        for order in ("day-first", "month-first"):
            rows = (orders == order).to_numpy()
            if rows.any():
                parsed[rows] = self.per_value(column, lambda u, order=order: _parse_dates(u, order))[rows]
        numeric = self.per_value(column, _is_numeric_date).to_numpy(dtype=bool)
        refused = (orders == "refuse").to_numpy() & numeric & given.to_numpy()
        if refused.any():
            self.flag(refused, rule="date_order", column=column,
                      text=lambda rows: ("cannot be read safely: " + rows["_file"].astype("string").map(self.order_note)
                                         + ". Fix: set date_format: month-first (or day-first) in the params, or "
                                           "export the dates as 2024-05-23"))
        if (orders == "refuse").any():  # the other values of a refused file (ISO, named months) still parse
            rows = (orders == "refuse").to_numpy() & ~numeric
            parsed[rows] = self.per_value(column, _parse_dates)[rows]
        order_text = ("month before day, as params date_format says" if self.options.get("date_format") == "month-first"
                      else "day before month")
        self.flag(given & parsed.isna() & ~placeholder, rule="bad_date", column=column,
                  text=f"is not a date (expected e.g. 2024-05-03, 03/05/2024 or 3 May 2024; {order_text}). "
                       "Fix: correct the date")
        return parsed.where(~pd.Series(refused, index=s.index))

    def choice(self, column: str, aliases: dict[str, str], *, expected: str, rule: str) -> pd.Series:
        def keys(u: pd.Series) -> pd.DataFrame:
            k = u.astype("string").str.strip().str.lower().str.replace(r"\s+", " ", regex=True)
            mapped = k.map(aliases).astype("string")
            return pd.DataFrame({"bad": (k.notna() & (k != "") & mapped.isna()).astype(bool), "mapped": mapped})
        done = spread(self.frame[column], keys)  # issue 15: once per distinct label
        mapped = done["mapped"]
        self.flag(done["bad"].to_numpy(dtype=bool), rule=rule, column=column,
                  text=f"is not valid (expected {expected})")
        return mapped

    def result(self, clean: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
        issues = pd.concat([p for p in self.parts if len(p)], ignore_index=True) if any(len(p) for p in self.parts) else empty_issues()
        issues = issues.reindex(columns=ISSUE_COLUMNS + (["n_rows"] if "n_rows" in issues.columns else []))
        rejects = self.frame.loc[self.rejected, ["_file", "_row"]].assign(table=self.table, rule=self.reasons[self.rejected])
        return clean.loc[~self.rejected].reset_index(drop=True), issues, rejects


def validate_audits(raw: RawTable) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Audits: ids present and unique, a parseable audit date, a service area and an auditor."""
    c = Checker(raw)
    c.required(REQUIRED["audits"])
    date = c.dates("audit_date")
    c.unique(["audit_id"], label="audit id")
    f = c.frame
    clean = f.drop(columns=["audit_date"]).assign(audit_date=date)
    return c.result(clean)


def validate_ratings(raw: RawTable, *, scale: GradeScale, audit_ids: pd.Series) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Ratings: a known audit, a role, a domain and a grade on the scale; one grade per rater, role and domain."""
    c = Checker(raw)
    c.required(REQUIRED["ratings"])
    c.known_audit(audit_ids, "a rating of a known audit")
    role = c.choice("role", ROLE_ALIASES, expected="auditor, moderator or peer", rule="bad_role")
    grade, unknown = scale.normalise(c.frame["grade"])
    c.flag(unknown, rule="unknown_grade", column="grade",
           text=f"is not a known grade (expected {scale.expected_text}). Fix: correct the label or add it to "
                "params grade_aliases")
    def domains(u: pd.Series) -> pd.Series:
        d = u.astype("string").str.strip()
        return d.where(d.str.lower() != "overall", "Overall")
    domain = spread(c.frame["domain"], domains)  # once per distinct domain (issue 15)
    f = c.frame.assign(role=role, grade=grade, domain=domain)
    if "agency" in f.columns:  # issue 17: the rater's agency is a dimension; one spelling per agency
        agency = f["agency"].astype("string").str.strip().str.replace(r"\s+", " ", regex=True)
        first = agency.dropna().groupby(agency.dropna().str.lower()).transform("first")
        f = f.assign(agency=first.reindex(agency.index).astype("string"))
    c.frame = f
    c.unique(["audit_id", "rater_id", "role", "domain"], label="grade of this audit, rater, role and domain")
    clean = c.frame.drop(columns=[x for x in ("_column",) if x in c.frame.columns])
    return c.result(clean)


def validate_allocations(raw: RawTable) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Allocations: unique id, a month, a service area and a status (returned / not returned / exempt)."""
    c = Checker(raw)
    c.required(REQUIRED["allocations"])
    placeholder = c.per_value("month", lambda u: _given(u) & _placeholder_dates(u)).astype(bool)
    c.flag(placeholder, rule="placeholder_date", column="month",
           text=f"looks like a 'no date' placeholder (expected a real month, years {YEAR_RANGE[0]}–{YEAR_RANGE[1]}). "
                "Fix: correct the month")
    orders = c._date_orders()
    order = "month-first" if c.options.get("date_format") == "month-first" else "day-first"
    month = c.per_value("month", lambda u: _parse_months(u, order))
    refused = (orders == "refuse").to_numpy() & c.per_value("month", _is_numeric_date).to_numpy(dtype=bool)
    c.flag(refused, rule="date_order", column="month",
           text=lambda rows: ("cannot be read safely: " + rows["_file"].astype("string").map(c.order_note)
                              + ". Fix: set date_format: month-first (or day-first) in the params"))
    c.flag(c.frame["month"].notna() & month.isna(), rule="bad_date", column="month",
           text="is not a month (expected e.g. 2024-05 or May 2024). Fix: correct the month")
    status = c.choice("status", STATUS_ALIASES, expected="returned, not returned or exempt", rule="bad_status")
    took = c.frame["practitioner_took_part"].astype("string").str.strip().str.lower().map(YES_NO).astype("boolean")
    c.flag(c.frame["practitioner_took_part"].notna() & (c.frame["practitioner_took_part"] != "") & took.isna(),
           rule="bad_yes_no", column="practitioner_took_part", text="is not yes or no (expected yes or no); "
           "the row is kept without participation", reject=False)
    c.unique(["allocation_id"], label="allocation id")
    clean = c.frame.assign(month=month, status=status, practitioner_took_part=took)
    return c.result(clean)


def validate_feedback(raw: RawTable) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Feedback: one answer per response and question, with a date."""
    c = Checker(raw)
    c.required(REQUIRED["feedback"])
    date = c.dates("response_date")
    c.unique(["response_id", "survey", "question"], label="answer to this question in this response")
    return c.result(c.frame.assign(response_date=date))


def validate_actions(raw: RawTable, *, audit_ids: pd.Series, due_weeks: int = 8) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Actions: unique id, a known audit, a raised date; due, completed and reviewed dates optional.

    Issue 17: an action with no due date falls due ``due_weeks`` (params ``action_due_weeks``) after
    it was raised; ``due_date_source`` says ``recorded`` or ``default``. A due or completed date
    written but not a date is still rejected (it was meant to say something).
    """
    c = Checker(raw)
    c.required(REQUIRED["actions"])
    c.known_audit(audit_ids, "an action raised by a known audit")
    raised, due, done = c.dates("raised_date"), c.dates("due_date", optional=True), c.dates("completed_date", optional=True)
    reviewed = c.dates("reviewed_date", optional=True)
    recorded = due.notna()
    due = due.where(recorded, raised + pd.Timedelta(weeks=int(due_weeks)))
    c.unique(["action_id"], label="action id")
    return c.result(c.frame.assign(raised_date=raised, due_date=due, completed_date=done, reviewed_date=reviewed,
                                   due_date_source=np.where(recorded, "recorded", "default")))


def validate_comments(raw: RawTable, *, audit_ids: pd.Series) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Comments: a known audit, a domain, a kind (strength / learning) and text."""
    c = Checker(raw)
    c.required(REQUIRED["comments"])
    c.known_audit(audit_ids, "a comment on a known audit")
    kind = c.choice("kind", KIND_ALIASES, expected="strength or learning", rule="bad_kind")
    return c.result(c.frame.assign(kind=kind))


# --------------------------------------------------------------------------------------
# issue 9: performance indicators and their benchmarks
# --------------------------------------------------------------------------------------
import re as _re  # noqa: E402
POLARITY_ALIASES = {"higher is better": "higher", "higher": "higher", "high": "higher", "high is good": "higher",
                    "higher is good": "higher", "up": "higher", "increase": "higher", "bigger is better": "higher",
                    "lower is better": "lower", "lower": "lower", "low": "lower", "low is good": "lower",
                    "lower is good": "lower", "down": "lower", "decrease": "lower", "smaller is better": "lower",
                    "neutral": "neutral", "no polarity": "neutral", "neither": "neutral", "n/a": "neutral",
                    "context": "neutral"}
COMPARATOR_ALIASES = {"england": "England", "national": "England", "eng": "England", "england average": "England",
                      "statistical neighbours": "Statistical neighbours", "statistical neighbour": "Statistical neighbours",
                      "statistical neighbours average": "Statistical neighbours",
                      "statistical neighbour average": "Statistical neighbours", "stat neighbours": "Statistical neighbours",
                      "sn": "Statistical neighbours", "sn average": "Statistical neighbours",
                      "region": "Region", "regional": "Region", "regional average": "Region"}
_FY_ONLY = _re.compile(r"^(?:fy\s*)?(\d{2}|\d{4})\s*[-/]\s*(\d{2}|\d{4})$", _re.I)
PERIOD_EXPECTED = "a month such as 2024-09 or Sep 2024, or a quarter such as 2024-25 Q2"
PERIOD_EXPECTED_YEAR = PERIOD_EXPECTED + ", or a financial year such as 2023-24"


def parse_numbers(values: pd.Series) -> pd.Series:
    """Numbers as people type them (``22.4``, ``22.4%``, ``1,204``); NaN where none fits."""
    s = values.astype("string").str.strip().str.replace(r"[,\s%]", "", regex=True)
    return pd.to_numeric(s.where(s != ""), errors="coerce").astype(float)


def parse_report_periods(values: pd.Series, *, allow_year: bool = False) -> pd.DataFrame:
    """Parse period labels (month, quarter and, with ``allow_year``, financial year).

    Returns a frame aligned with ``values``: ``label`` (canonical: ``2024-09``, ``2024-25 Q2``,
    ``2023-24``), ``kind`` (month / quarter / year), ``start`` and ``end`` (first and last day);
    NA where the label does not parse.
    """


    out = {}
    for raw in pd.unique(values.dropna()):
        text = str(raw).strip()
        try:
            p = parse_period(text, where="period")
            out[raw] = (p.label, p.kind, pd.Timestamp(p.start), pd.Timestamp(p.end))
            continue
        except Exception:  # noqa: BLE001 - an unparseable label is a data issue, not an error
            pass
        m = _FY_ONLY.match(" ".join(text.replace("–", "-").split())) if allow_year else None
        if m:
            y1 = int(m.group(1)) + (2000 if len(m.group(1)) == 2 else 0)
            y2 = int(m.group(2))
            y2 = y2 + (y1 // 100) * 100 + (100 if y2 + (y1 // 100) * 100 < y1 else 0) if len(m.group(2)) == 2 else y2
            if y2 == y1 + 1:
                out[raw] = (f"{y1}-{y2 % 100:02d}", "year", pd.Timestamp(_date(y1, 4, 1)), pd.Timestamp(_date(y2, 3, 31)))
    frame = pd.DataFrame({"label": values.map(lambda v: out.get(v, (pd.NA,) * 4)[0]).astype("string"),
                          "kind": values.map(lambda v: out.get(v, (pd.NA,) * 4)[1]).astype("string")}, index=values.index)
    frame["start"] = pd.to_datetime(values.map(lambda v: out.get(v, (pd.NaT,) * 4)[2]))
    frame["end"] = pd.to_datetime(values.map(lambda v: out.get(v, (pd.NaT,) * 4)[3]))
    return frame


def _given(s: pd.Series) -> pd.Series:
    return s.notna() & (s.astype("string").str.strip() != "")


def _check_counts(c: Checker, value: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Numerator/denominator: whole numbers, 0 ≤ numerator ≤ denominator, denominator > 0, value = their %.

    A problem with the counts is a warning: the row keeps its value and is charted without counts.
    """
    f = c.frame
    num, den = parse_numbers(f["numerator"]), parse_numbers(f["denominator"])
    for col, s in (("numerator", num), ("denominator", den)):
        bad = _given(f[col]) & (s.isna() | (s < 0) | (s % 1 != 0))
        c.flag(bad, rule="bad_number", column=col, reject=False,
               text="is not a whole number of cases (expected a count such as 37); the row is kept and charted "
                    "from its value without counts. Fix: correct the count")
    num_ok = _given(f["numerator"]) & num.notna() & (num >= 0) & (num % 1 == 0)
    den_ok = _given(f["denominator"]) & den.notna() & (den >= 0) & (den % 1 == 0)
    for col, alone in (("denominator", num_ok & ~den_ok), ("numerator", den_ok & ~num_ok)):
        c.flag(alone, rule="incomplete_counts", column=col, reject=False,
               text="is missing while its partner count is given (expected both numerator and denominator, or "
                    "neither); the row is charted from its value. Fix: add the missing count")
    both = num_ok & den_ok
    c.flag(both & ((den == 0) | (num > den)), rule="bad_count", column="numerator", reject=False,
           text="is more than the denominator or the denominator is 0 (expected 0 ≤ numerator ≤ "
                "denominator > 0); the row is charted from its value. Fix: correct the counts")
    ok = both & (den > 0) & (num <= den)
    pct = 100 * num / den
    mismatch = ok & value.notna() & ((value - pct).abs() > 0.5)
    c.flag(mismatch, rule="value_mismatch", column="value", reject=False,
           text=lambda rows: ("does not match numerator ÷ denominator (" + pct[rows.index].round(1).astype("string")
                              + "%); the counts are used. Fix: give the value as the percentage of the counts, "
                                "e.g. 22.4 for 22.4%"))
    return num.where(ok), den.where(ok)


def _duplicates(c: Checker, keys: list[str], *, what: str) -> None:
    live = pd.Series(~c.rejected, index=c.frame.index)
    sub = c.frame[live]
    dup = sub.duplicated(keys, keep="first").reindex(c.frame.index, fill_value=False)
    if not dup.any():
        return
    first = sub.drop_duplicates(keys).set_index(keys)["_row"]

    def text(rows):
        firsts = rows[keys].merge(first.rename("_first").reset_index(), on=keys, how="left")["_first"]
        return pd.Series("repeats the " + what + " first seen at row ", index=rows.index) + \
            pd.Series(firsts.astype("string").to_numpy(), index=rows.index) + \
            f" (expected each {what} once). Fix: remove the duplicate row"
    c.flag(dup, rule="duplicate", column="indicator", text=text)


def validate_indicators(raw: RawTable) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Indicators: one value per indicator and period, a period label, a number and a polarity.

    Rejected: missing required values, unparseable periods (``bad_period``), non-numeric values
    (``bad_number``), unknown polarity (``bad_polarity``), repeats of an indicator and period
    (``duplicate``), rows whose period kind (month/quarter) differs from the rest of the
    indicator's series (``mixed_periods``). Warnings (row kept): bad or inconsistent counts
    (charted without counts), a value that is not the percentage of its counts, a bad target
    (dropped), a polarity that differs from the indicator's latest row (the latest is used).

    The clean table has ``indicator`` (first spelling seen), ``key``, ``period`` (canonical
    label), ``period_kind``, ``period_start``, ``period_end``, ``value``, ``numerator``,
    ``denominator`` (NaN without usable counts), ``polarity`` (higher / lower / neutral, one per
    indicator) and ``target`` (NaN without), sorted by indicator and period.
    """
    c = Checker(raw)
    c.required(REQUIRED["indicators"])
    f = c.frame
    per = parse_report_periods(f["period"])
    c.flag(_given(f["period"]) & per["label"].isna(), rule="bad_period", column="period",
           text=f"is not a period (expected {PERIOD_EXPECTED}). Fix: correct the label")
    value = parse_numbers(f["value"])
    c.flag(_given(f["value"]) & value.isna(), rule="bad_number", column="value",
           text="is not a number (expected e.g. 22.4, 22.4% or 18). Fix: correct the value")
    polarity = c.choice("polarity", POLARITY_ALIASES, expected="higher is better, lower is better or neutral",
                        rule="bad_polarity")
    target = parse_numbers(f["target"])
    c.flag(_given(f["target"]) & target.isna(), rule="bad_number", column="target", reject=False,
           text="is not a number (expected e.g. 80 or 80%); the row is kept without a target. Fix: correct the target")
    num, den = _check_counts(c, value)
    key = label_keys(f["indicator"])
    c.frame = f.assign(_key=key, _plabel=per["label"])
    _duplicates(c, ["_key", "_plabel"], what="value of this indicator and period")
    live = ~c.rejected
    kinds = pd.DataFrame({"key": key, "kind": per["kind"]})[live]
    if len(kinds):
        main_kind = kinds.groupby("key")["kind"].agg(lambda k: k.value_counts().index[0])
        mixed = live & per["kind"].notna() & (per["kind"] != key.map(main_kind))
        c.flag(mixed, rule="mixed_periods", column="period",
               text=lambda rows: ("is a " + per.loc[rows.index, "kind"].astype("string") + " but the rest of this "
                                  "indicator's series is " + key[rows.index].map(main_kind).astype("string")
                                  + "ly (expected one kind of period per indicator). Fix: give the series in one "
                                    "kind of period, or use a different indicator name"))
    live = ~c.rejected
    order = pd.DataFrame({"key": key, "start": per["start"], "pol": polarity, "name": f["indicator"]})[live]
    latest_pol = order.sort_values("start").groupby("key")["pol"].last()
    differs = live & polarity.notna() & (polarity != key.map(latest_pol))
    c.flag(differs, rule="polarity_differs", column="polarity", reject=False,
           text=lambda rows: ("differs from the indicator's latest row (" + key[rows.index].map(latest_pol).astype("string")
                              + " is better), which is used. Fix: give one polarity per indicator"))
    names = order.groupby("key")["name"].first()
    clean = c.frame.assign(indicator=key.map(names).astype("string"), key=key, period=per["label"],
                           period_kind=per["kind"], period_start=per["start"], period_end=per["end"], value=value,
                           numerator=num, denominator=den, polarity=key.map(latest_pol).astype("string"),
                           target=target)
    clean = clean.drop(columns=["_key", "_plabel"])
    clean, issues, rejects = c.result(clean)
    clean = clean.sort_values(["indicator", "period_start"], kind="stable").reset_index(drop=True)
    return clean, issues, rejects


def validate_benchmarks(raw: RawTable, *, indicators: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Benchmarks: comparator values for indicators in the indicators table, for periods in their series.

    Rejected: missing values, unparseable periods, non-numeric values, an indicator name that is
    not in the indicators table (``unmatched_indicator``, with the closest name as a hint), a
    period that does not overlap the indicator's own series (``unmatched_period``, naming the
    series' span) and repeats of an indicator, comparator and period (``duplicate``). Comparators
    are normalised (``national`` → England, ``SN`` → Statistical neighbours, ``regional`` → Region);
    other names (a named authority or region) are kept as written.
    """

    c = Checker(raw)
    c.required(REQUIRED["benchmarks"])
    f = c.frame
    per = parse_report_periods(f["period"], allow_year=True)
    c.flag(_given(f["period"]) & per["label"].isna(), rule="bad_period", column="period",
           text=f"is not a period (expected {PERIOD_EXPECTED_YEAR}). Fix: correct the label")
    value = parse_numbers(f["value"])
    c.flag(_given(f["value"]) & value.isna(), rule="bad_number", column="value",
           text="is not a number (expected e.g. 22.4 or 22.4%). Fix: correct the value")
    key = label_keys(f["indicator"])
    known = indicators.drop_duplicates("key").set_index("key")["indicator"] if len(indicators) else pd.Series(dtype="string")
    names = list(known.astype(str))

    def name_text(rows):
        out = []
        for v in rows["indicator"].astype(str):
            close = difflib.get_close_matches(v, names, n=1, cutoff=0.6) or \
                difflib.get_close_matches(v.lower(), [n.lower() for n in names], n=1, cutoff=0.6)
            if not names:
                hint = "Hint: there is no indicators table with valid rows; configure data.indicators in the params"
            elif close:
                match = next(n for n in names if n.lower() == close[0].lower())
                hint = f"Hint: did you mean '{match}'?"
            else:
                hint = "Hint: the indicators file has " + ", ".join(f"'{n}'" for n in names[:6]) + \
                    (f" and {len(names) - 6} more" if len(names) > 6 else "")
            out.append("is not an indicator in the indicators file (expected the same name as there; case, spaces and "
                       f"punctuation are ignored). {hint}. Fix: correct the name in the benchmarks file")
        return pd.Series(out, index=rows.index, dtype="string")
    c.flag(_given(f["indicator"]) & ~key.isin(known.index), rule="unmatched_indicator", column="indicator", text=name_text)
    if len(indicators):
        span = indicators.groupby("key").agg(first=("period_start", "min"), last=("period_end", "max"),
                                             first_label=("period", "first"), last_label=("period", "last"))
        first, last = key.map(span["first"]), key.map(span["last"])
        outside = key.isin(span.index) & per["start"].notna() & ((per["end"] < first) | (per["start"] > last))
        c.flag(outside, rule="unmatched_period", column="period",
               text=lambda rows: ("does not overlap this indicator's own series ("
                                  + key[rows.index].map(span["first_label"]).astype("string") + " to "
                                  + key[rows.index].map(span["last_label"]).astype("string")
                                  + "), so there is nothing to compare it with (expected a period within the series). "
                                    "Hint: check the year of the label. Fix: correct the period or drop the row"))
    comp_key = f["comparator"].astype("string").str.strip().str.lower().str.replace(r"\s+", " ", regex=True)
    comparator = comp_key.map(COMPARATOR_ALIASES).astype("string").fillna(f["comparator"].astype("string").str.strip())
    num, den = _check_counts(c, value)
    c.frame = f.assign(_key=key, _plabel=per["label"], _comp=comparator.str.lower())
    _duplicates(c, ["_key", "_comp", "_plabel"], what="value of this indicator, comparator and period")
    clean = c.frame.assign(indicator=key.map(known).astype("string"), key=key, comparator=comparator,
                           period=per["label"], period_kind=per["kind"], period_start=per["start"],
                           period_end=per["end"], value=value, numerator=num, denominator=den)
    clean = clean.drop(columns=["_key", "_plabel", "_comp"])
    clean, issues, rejects = c.result(clean)
    clean = clean.sort_values(["indicator", "comparator", "period_start"], kind="stable").reset_index(drop=True)
    return clean, issues, rejects

"""Validation: each raw table becomes a clean typed table plus an issues table.

Data-quality findings are not exceptions. Each finding is one row of the issues table
(``table, rule, severity, message, file, row, column, value``); a row that cannot be used is
*rejected* (kept out of the clean table and written to the rejects file with its reason), a
row that can be used with a caveat gets a ``warning``. Identifier values are never copied into
messages or the issues table: the file and row locate the record without exposing it.
"""

from __future__ import annotations

from typing import Callable

import numpy as np
import pandas as pd

from qa_lib.grades import GradeScale
from qa_lib.io import IDENTIFIER_COLUMNS, REQUIRED, RawTable

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

_MONTH_FORMATS = ("%Y-%m", "%b %Y", "%B %Y", "%m/%Y", "%b-%y", "%B-%y", "%b-%Y")


def empty_issues() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype="Int64" if c == "row" else "string") for c in ISSUE_COLUMNS})


def parse_dates(values: pd.Series) -> pd.Series:
    """Parse dates written as ISO (``2024-05-03``, with or without a time), UK day-first
    (``03/05/2024``, ``3-5-2024``), named months (``3 May 2024``, ``3-May-24``) or Excel serial
    numbers; NaT where none fits. Never month-first: these are UK records."""
    s = values.astype("string").str.strip()
    out = pd.Series(pd.NaT, index=s.index, dtype="datetime64[ns]")
    todo = s.notna() & (s != "")
    for fmt in ("ISO8601", "%d/%m/%Y", "%d/%m/%y", "%d-%m-%Y", "%d.%m.%Y", "%d %b %Y", "%d %B %Y",
                "%d-%b-%y", "%d-%b-%Y", "%d %b %y"):
        if not todo.any():
            break
        parsed = pd.to_datetime(s[todo], format=fmt, errors="coerce")
        if fmt == "ISO8601":  # ISO8601 also takes bare years or year-months: require a day
            parsed = parsed.where(s[todo].str.match(r"^\d{4}-\d{1,2}-\d{1,2}"))
        ok = parsed.notna()
        out.loc[ok[ok].index] = parsed[ok].astype("datetime64[ns]")
        todo.loc[ok[ok].index] = False
    if todo.any():  # Excel serial day numbers (1955–2118)
        num = pd.to_numeric(s[todo], errors="coerce")
        ok = num.between(20000, 80000)
        serial = pd.to_datetime("1899-12-30") + pd.to_timedelta(num[ok].round(), unit="D")
        out.loc[serial.index] = serial.astype("datetime64[ns]")
    return out


def parse_months(values: pd.Series) -> pd.Series:
    """Parse a month (``2024-05``, ``May 2024``, ``05/2024``, or any date in the month) to its first day."""
    s = values.astype("string").str.strip()
    out = pd.Series(pd.NaT, index=s.index, dtype="datetime64[ns]")
    todo = s.notna() & (s != "")
    for fmt in _MONTH_FORMATS:
        if not todo.any():
            break
        parsed = pd.to_datetime(s[todo], format=fmt, errors="coerce")
        ok = parsed.notna()
        out.loc[ok[ok].index] = parsed[ok].astype("datetime64[ns]")
        todo.loc[ok[ok].index] = False
    if todo.any():
        dates = parse_dates(s[todo])
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
        if show_value is None:
            show_value = column not in IDENTIFIER_COLUMNS
        value = rows[column].astype("string") if column in rows.columns else pd.Series(pd.NA, index=rows.index, dtype="string")
        shown = ("'" + value.fillna("") + "' ") if show_value else pd.Series("the value ", index=rows.index)
        shown = shown.where(value.notna() & (value != ""), "a blank ")
        col_label = rows["_column"].astype("string") if "_column" in rows.columns else pd.Series(column, index=rows.index, dtype="string")
        body = text(rows) if callable(text) else pd.Series(text, index=rows.index, dtype="string")
        msg = (rows["_file"].astype("string") + " row " + rows["_row"].astype("string") + ", column "
               + col_label + ": " + shown + body.astype("string"))
        self.parts.append(pd.DataFrame({
            "table": self.table, "rule": rule, "severity": "rejected" if reject else "warning",
            "message": msg, "file": rows["_file"], "row": rows["_row"].astype("Int64"), "column": col_label,
            "value": value.where(pd.Series(show_value, index=rows.index), pd.NA)}))
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
        dup = self.frame[cols].duplicated(keep="first") & live
        if dup.any():
            first_row = self.frame[live].drop_duplicates(cols).set_index(cols)["_row"]
            def text(rows):
                firsts = rows[cols].merge(first_row.reset_index(), on=cols, how="left")["_row"]
                return pd.Series("repeats the " + label + " first seen at row ", index=rows.index) + \
                    pd.Series(firsts.astype("string").to_numpy(), index=rows.index) + \
                    " (expected each " + label + " once). Fix: remove the duplicate or correct the id"
            self.flag(dup, rule="duplicate_id", column=keys[0], text=text)

    def dates(self, column: str, *, optional: bool = False) -> pd.Series:
        parsed = parse_dates(self.frame[column])
        given = self.frame[column].notna() & (self.frame[column] != "")
        self.flag(given & parsed.isna(), rule="bad_date", column=column,
                  text="is not a date (expected e.g. 2024-05-03, 03/05/2024 or 3 May 2024; day before month). "
                       "Fix: correct the date")
        return parsed

    def choice(self, column: str, aliases: dict[str, str], *, expected: str, rule: str) -> pd.Series:
        key = self.frame[column].astype("string").str.strip().str.lower().str.replace(r"\s+", " ", regex=True)
        mapped = key.map(aliases).astype("string")
        self.flag(key.notna() & (key != "") & mapped.isna(), rule=rule, column=column,
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
    known = c.frame["audit_id"].isin(audit_ids)
    c.flag(c.frame["audit_id"].notna() & ~known, rule="unknown_audit", column="audit_id",
           text="is not an audit in the audits table (expected a rating of a known audit). "
                "Fix: add the audit, or correct the audit id", show_value=False)
    role = c.choice("role", ROLE_ALIASES, expected="auditor, moderator or peer", rule="bad_role")
    grade, unknown = scale.normalise(c.frame["grade"])
    c.flag(unknown, rule="unknown_grade", column="grade",
           text=f"is not a known grade (expected {scale.expected_text}). Fix: correct the label or add it to "
                "params grade_aliases")
    domain = c.frame["domain"].astype("string").str.strip()
    domain = domain.where(domain.str.lower() != "overall", "Overall")
    f = c.frame.assign(role=role, grade=grade, domain=domain)
    c.frame = f
    c.unique(["audit_id", "rater_id", "role", "domain"], label="grade of this audit, rater, role and domain")
    clean = c.frame.drop(columns=[x for x in ("_column",) if x in c.frame.columns])
    return c.result(clean)


def validate_allocations(raw: RawTable) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Allocations: unique id, a month, a service area and a status (returned / not returned / exempt)."""
    c = Checker(raw)
    c.required(REQUIRED["allocations"])
    month = parse_months(c.frame["month"])
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


def validate_actions(raw: RawTable, *, audit_ids: pd.Series) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Actions: unique id, a known audit, raised and due dates; completed date optional."""
    c = Checker(raw)
    c.required(REQUIRED["actions"])
    c.flag(c.frame["audit_id"].notna() & ~c.frame["audit_id"].isin(audit_ids), rule="unknown_audit",
           column="audit_id", text="is not an audit in the audits table (expected an action raised by a known "
           "audit). Fix: add the audit, or correct the audit id", show_value=False)
    raised, due, done = c.dates("raised_date"), c.dates("due_date"), c.dates("completed_date", optional=True)
    c.unique(["action_id"], label="action id")
    return c.result(c.frame.assign(raised_date=raised, due_date=due, completed_date=done))


def validate_comments(raw: RawTable, *, audit_ids: pd.Series) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Comments: a known audit, a domain, a kind (strength / learning) and text."""
    c = Checker(raw)
    c.required(REQUIRED["comments"])
    c.flag(c.frame["audit_id"].notna() & ~c.frame["audit_id"].isin(audit_ids), rule="unknown_audit",
           column="audit_id", text="is not an audit in the audits table (expected a comment on a known audit). "
           "Fix: add the audit, or correct the audit id", show_value=False)
    kind = c.choice("kind", KIND_ALIASES, expected="strength or learning", rule="bad_kind")
    return c.result(c.frame.assign(kind=kind))

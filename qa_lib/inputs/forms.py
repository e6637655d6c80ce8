"""MS Forms and Google Forms exports read straight in (params ``forms:``), no hand-made tables.

An export has one row per submission: ``ID``, ``Start time``, ``Completion time``, ``Email``,
``Name`` (Google Forms: ``Timestamp``, ``Email address``), then one column per question, headed by
the question text. The params say which column holds the plan (or case) reference, which holds the
rater's agency or role, which questions are grades (with the form's labels) and which are free
text, and which are checklist criteria (met / partly / not met) that make a section grade by a
stated rule. From that this module derives the contract's ``audits``, ``ratings`` and
``comments`` tables (:class:`~qa_lib.inputs.io.RawTable`, before validation), so the usual
validation, pseudonymisation and reports apply unchanged.

Conventions
-----------
- One audit per plan: its date is the earliest completion time of the plan's submissions; its
  auditor is the LA caseworker's submission (``forms.caseworker`` agency) where there is one.
- One rating per submission and graded question: ``rater_id`` is the submitter's Email (else Name,
  else the submission ID), pseudonymised at load in the rater family like every rater id;
  ``agency`` is the agency column; ``role`` is ``auditor`` for the caseworker agency and ``peer``
  for the other agencies.
- Email and Name never leave this module: they are dropped here and kept (with their parts) only
  in the set of identifiers used to redact free text.
- Headers match after :func:`qa_lib.inputs.io.header_key` (case, spaces, punctuation, a BOM and
  trailing spaces ignored); columns the params do not name (``Total points``, ``Points - …``,
  ``Feedback - …``, ``Last modified time``) are ignored.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

import pandas as pd

from qa_lib.core.labels import key as label_key
from qa_lib.inputs.io import RawTable, _read_one, header_key
from qa_lib.inputs.validate import date_order_evidence, describe, parse_dates

#: the export's own columns (header keys), MS Forms first, then Google Forms
ID_HEADERS = ("id",)
DATE_HEADERS = ("completion_time", "timestamp", "submitted_at", "start_time")
EMAIL_HEADERS = ("email", "email_address")
NAME_HEADERS = ("name", "respondent_name")
#: checklist answers -> points (met 2, partly 1, not met 0)
CHECKLIST_ANSWERS = {"met": 2, "yes": 2, "fully met": 2, "partly": 1, "partly met": 1, "partially met": 1,
                     "partial": 1, "partially": 1, "not met": 0, "no": 0, "unmet": 0}
DEFAULT_THRESHOLDS = {"Outstanding": 1.0, "Good": 0.75, "Requires improvement": 0.5}


@dataclass(frozen=True)
class FormsSettings:
    """The params ``forms:`` section, checked."""

    plan: str
    agency: str
    date: str | None
    service_area: str
    caseworker: str | None
    grades: Mapping[str, str]  # question header -> domain
    grade_labels: Mapping[str, str]  # form label -> grade
    comments: Mapping[str, str]  # question header -> kind (strength / learning)
    checklists: Mapping[str, list]  # domain -> criteria headers
    thresholds: Mapping[str, float]  # grade -> least share of checklist points

    @classmethod
    def from_params(cls, params) -> "FormsSettings | None":
        f = params.forms or {}
        if not f.get("files"):
            return None
        return cls(plan=f["plan"], agency=f["agency"], date=f.get("date"), service_area=f["service_area"],
                   caseworker=f.get("caseworker"), grades=dict(f.get("grades") or {}),
                   grade_labels=dict(f.get("grade_labels") or {}), comments=dict(f.get("comments") or {}),
                   checklists={k: list(v) for k, v in (f.get("checklists") or {}).items()},
                   thresholds=dict(f.get("checklist_thresholds") or DEFAULT_THRESHOLDS))


def checklist_rule_text(settings: FormsSettings, grades: list[str]) -> str:
    """The rule that turns checklist criteria into a section grade, in words (stated in reports)."""
    parts = [f"{g} at {round(100 * settings.thresholds[g])}% of the points or more"
             for g in grades if g in settings.thresholds]
    return ("Section grades from checklist criteria: met = 2 points, partly = 1, not met = 0; "
            + ", ".join(parts) + f", otherwise {grades[-1]} (params forms.checklist_thresholds).")


def checklist_grade(points: list[int], thresholds: Mapping[str, float], grades: list[str]) -> str:
    """The section grade of one submission's checklist answers (points 0–2 each) by ``thresholds``."""
    share = sum(points) / (2 * len(points))
    for g in grades:
        if g in thresholds and share >= thresholds[g] - 1e-12:
            return g
    return grades[-1]


def _find(by_key: dict[str, str], wanted: str | tuple[str, ...]) -> str | None:
    for w in ([wanted] if isinstance(wanted, str) else wanted):
        col = by_key.get(header_key(w))
        if col is not None:
            return col
    return None


def _dates(values: pd.Series) -> pd.Series:
    """Completion times as dates: the time of day (``10:23:45``, ``10:23 AM``) is dropped."""
    return values.astype("string").str.replace(r"[ T]+\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?(\s*[AaPp][Mm])?\s*$", "", regex=True)


def _problem(file: str, column: str, message: str, n_rows: int, rule: str = "missing_column") -> dict:
    return dict(table="ratings", rule=rule, severity="rejected", message=message, file=file, row=pd.NA,
                column=column, value=pd.NA, n_rows=n_rows)


def read_forms(params, files: list[Path], grades: list[str]) -> tuple[dict[str, RawTable], set[str]]:
    """Derive the ``audits``, ``ratings`` and ``comments`` raw tables from the forms exports.

    Parameters
    ----------
    params : Params
        With a ``forms:`` section naming the files and the columns.
    files : list of Path
        The export files (CSV or XLSX).
    grades : list of str
        The grade scale, best first (for checklist grades).

    Returns
    -------
    (dict, set)
        ``{"audits": RawTable, "ratings": RawTable, "comments": RawTable}`` (identifiers as
        written: pseudonymised by the loader like any input) and the set of identifier values seen
        (Email, Name and their parts, submission IDs, plan references) for redaction.
    """
    cfg = FormsSettings.from_params(params)
    audits, ratings, comments, problems, ids = [], [], [], [], set()
    wanted = [cfg.plan, cfg.agency, *cfg.grades, *cfg.comments]
    for path in files:
        try:
            df = _read_one(Path(path), names=wanted, delimiter=params.delimiter)
        except Exception as exc:  # noqa: BLE001 - an unreadable export is a data problem, reported
            problems.append(_problem(Path(path).name, "", f"{Path(path).name}: could not be read as a forms export "
                                     f"({exc}). Fix: export the responses again as CSV or XLSX", pd.NA, "unreadable_file"))
            continue
        name = Path(path).name
        first = df.attrs.get("header_row", 1) + 1
        df = df.assign(_file=name, _row=range(first, first + len(df)))
        df = df[df.drop(columns=["_file", "_row"]).notna().any(axis=1)]
        by_key = {header_key(c): c for c in df.columns if not str(c).startswith("_")}
        plan_col, agency_col = _find(by_key, cfg.plan), _find(by_key, cfg.agency)
        date_col = _find(by_key, cfg.date or DATE_HEADERS)
        email_col, name_col, id_col = _find(by_key, EMAIL_HEADERS), _find(by_key, NAME_HEADERS), _find(by_key, ID_HEADERS)
        missing = [label for label, col in (("plan (forms.plan: " + cfg.plan + ")", plan_col),
                                            ("agency (forms.agency: " + cfg.agency + ")", agency_col),
                                            ("completion time", date_col)) if col is None]
        grade_cols = {q: _find(by_key, q) for q in cfg.grades}
        check_cols = {d: [(q, _find(by_key, q)) for q in qs] for d, qs in cfg.checklists.items()}
        missing += [f"grade question '{q}'" for q, c in grade_cols.items() if c is None]
        missing += [f"checklist question '{q}'" for d in check_cols.values() for q, c in d if c is None]
        if missing:
            problems.append(_problem(name, ", ".join(missing),
                                     f"{name}: column(s) {', '.join(missing)} named in params forms not found (found: "
                                     f"{', '.join(c for c in df.columns if not str(c).startswith('_'))}). Fix: copy the "
                                     "question text from the export's header into params forms", len(df)))
            continue
        def text(c, df=df):
            return df[c].astype("string").str.strip() if c else pd.Series(pd.NA, index=df.index, dtype="string")
        email, person, sub_id = text(email_col), text(name_col), text(id_col)
        for s in (email, person, sub_id):
            ids.update(v for v in s.dropna().tolist() if v)
        for v in email.dropna():  # the parts a comment could quote: jane.smith, jane, smith
            local = v.split("@")[0]
            ids.update(p for p in [local, *re.split(r"[._\-]", local)] if len(p) >= 3)
        for v in person.dropna():
            ids.update(p for p in re.split(r"\s+", v) if len(p) >= 3)
        rater = email.where(email.notna() & (email != ""), person)
        rater = rater.where(rater.notna() & (rater != ""), name + ":" + sub_id.fillna(""))
        plan, agency = text(plan_col), text(agency_col)
        ids.update(plan.dropna().tolist())
        date = _dates(df[date_col])
        order = params.date_format
        if order == "auto":  # only to find each plan's earliest submission; validation then checks the order
            day_first, month_first = date_order_evidence(date)
            order = "month-first" if month_first.any() and not day_first.any() else "day-first"
        is_cw = agency.map(lambda a: cfg.caseworker is not None and pd.notna(a) and label_key(a) == label_key(cfg.caseworker))
        base = pd.DataFrame({"audit_id": plan, "rater_id": rater, "role": is_cw.map({True: "auditor", False: "peer"}),
                             "agency": agency, "rating_date": date, "_file": name, "_row": df["_row"].to_numpy()},
                            index=df.index)
        sub = base.assign(case_id=plan, is_cw=is_cw, _date=parse_dates(date, order))
        audits.append(sub)
        labels = {label_key(k): v for k, v in cfg.grade_labels.items()}
        for q, col in grade_cols.items():
            g = text(col)
            g = g.map(lambda x, labels=labels: labels.get(label_key(x), x) if pd.notna(x) else x).astype("string")
            ratings.append(base.assign(domain=cfg.grades[q], grade=g, _column=col)[lambda f: f["grade"].notna()])
        for domain, cols in check_cols.items():
            answers = pd.DataFrame({c: text(c).map(lambda x: label_key(x) if pd.notna(x) else x) for _, c in cols})
            points = answers.apply(lambda col: col.map(CHECKLIST_ANSWERS))
            bad = answers.notna() & points.isna()
            for c in answers.columns:
                shown = describe(df[c].astype("string"), "answer")  # an answer is described, never quoted (issue 14)
                for idx in answers.index[bad[c]]:
                    problems.append(dict(table="ratings", rule="unknown_checklist_answer", severity="rejected",
                                         message=(f"{name} row {df.at[idx, '_row']}, column {c}: {shown[idx]}is not a "
                                                  "checklist answer (expected met, partly or not met). Fix: correct the "
                                                  "answer; the section grade of this submission was not derived"),
                                         file=name, row=int(df.at[idx, "_row"]), column=c, value=pd.NA, n_rows=1))
            usable = points.notna().all(axis=1) & ~bad.any(axis=1)
            g = pd.Series(pd.NA, index=df.index, dtype="string")
            for idx in points.index[usable]:
                g[idx] = checklist_grade([int(p) for p in points.loc[idx]], cfg.thresholds, grades)
            ratings.append(base.assign(domain=domain, grade=g, _column="checklist: " + domain)[lambda f: f["grade"].notna()])
        for q, kind in cfg.comments.items():
            col = _find(by_key, q)
            if col is None:
                continue
            t = text(col)
            comments.append(pd.DataFrame({"audit_id": plan, "domain": "Overall", "kind": kind, "text": t,
                                          "_file": name, "_row": df["_row"].to_numpy()}, index=df.index)[t.notna() & (t != "")])
    a = pd.concat(audits, ignore_index=True) if audits else pd.DataFrame(
        {c: pd.Series(dtype="string") for c in ["audit_id", "case_id", "rating_date", "rater_id", "_file"]}
        | {"is_cw": pd.Series(dtype=bool), "_row": pd.Series(dtype="int64"), "_date": pd.Series(dtype="datetime64[ns]")})
    a = a[a["audit_id"].notna() & (a["audit_id"] != "")]
    a = a.assign(_cw=(~a["is_cw"].astype(bool)).astype(int)).sort_values(["audit_id", "_cw", "_file", "_row"], kind="stable")
    # the audit's date is the earliest submission's completion time as written (time of day dropped), so the
    # audits are validated like the ratings: a file that writes dates month first is named, never misread
    earliest = a.sort_values(["audit_id", "_date"], kind="stable", na_position="last").drop_duplicates("audit_id")
    first_date = earliest.set_index("audit_id")["rating_date"]
    a = a.drop_duplicates("audit_id", keep="first")
    audit_frame = pd.DataFrame({"audit_id": a["audit_id"].to_numpy(), "case_id": a["case_id"].to_numpy(),
                                "audit_date": a["audit_id"].map(first_date).to_numpy(),
                                "service_area": cfg.service_area, "auditor_id": a["rater_id"].to_numpy(),
                                "_file": a["_file"].to_numpy(), "_row": a["_row"].to_numpy()})
    r = pd.concat(ratings, ignore_index=True) if ratings else pd.DataFrame(columns=["audit_id", "rater_id", "role", "domain", "grade", "agency", "rating_date", "_file", "_row"])
    c = pd.concat(comments, ignore_index=True) if comments else pd.DataFrame(columns=["audit_id", "domain", "kind", "text", "_file", "_row"])
    out = {"audits": RawTable("audits", _text(audit_frame), list(files), []),
           "ratings": RawTable("ratings", _text(r), list(files), problems),
           "comments": RawTable("comments", _text(c), list(files), [])}
    ids.discard("")
    return out, ids


def _text(frame: pd.DataFrame) -> pd.DataFrame:
    for col in frame.columns:
        if col != "_row":
            frame[col] = frame[col].astype("string").str.strip()
    frame["_row"] = pd.to_numeric(frame["_row"]).astype("int64")
    return frame


def merge_raw(a: RawTable, b: RawTable) -> RawTable:
    """Rows of two raw tables of one contract table, stacked (a data file beside a forms export)."""
    frames = [f for f in (a.frame, b.frame) if len(f)]
    frame = pd.concat(frames, ignore_index=True) if frames else a.frame
    for col in a.frame.columns:
        if col not in frame.columns:
            frame[col] = pd.Series(pd.NA, index=frame.index, dtype="string")
    return RawTable(a.table, frame, [*a.files, *b.files], [*a.problems, *b.problems], options=dict(a.options))

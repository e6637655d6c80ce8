"""Parameters files: one YAML per reporting period, validated on load.

Paths are relative to the YAML file's folder. Unknown keys, wrong types, malformed periods
and missing files are errors that list what is valid. The schema below is the single list
of what a params file may say; each entry has a type, a default and a description that
``qa-workbook params-help`` prints.
"""

from __future__ import annotations

import glob
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

import yaml

from qa_lib.core.errors import ParamsError, problem
from qa_lib.inputs.periods import parse_period

TABLES = ("audits", "ratings", "allocations", "feedback", "actions", "comments", "indicators", "benchmarks")
#: Reports that have a notebook in notebooks/ (later issues add theirs here).
REPORTS = ("quarterly", "feedback", "indicators", "moderation")
#: issue 17: the input tables each report needs; a report whose tables are all absent is skipped (said why)
REQUIRED_TABLES: dict[str, tuple[str, ...]] = {"quarterly": ("audits", "ratings"), "feedback": ("feedback",),
                                               "indicators": ("indicators",), "moderation": ("ratings",)}
#: tables a forms export (params ``forms``) supplies
FORMS_TABLES = ("audits", "ratings", "comments")


@dataclass(frozen=True)
class Key:
    """One entry of the params schema."""

    types: tuple[type, ...]
    default: Any
    help: str
    choices: tuple[Any, ...] | None = None
    keys: Mapping[str, "Key"] | None = None  # sub-schema for mappings with fixed keys
    free_keys: bool = False  # a mapping whose keys are the user's (e.g. column renames)


SCHEMA: dict[str, Key] = {
    "period": Key((str,), None, "reporting period, e.g. '2024-25 Q2' or '2024-09' (required)"),
    "title": Key((str,), "Case file audit quality assurance", "report title"),
    "authority": Key((str,), "", "name of the local authority shown on the reports"),
    "history_periods": Key((int,), 4, "how many earlier periods to show beside this one"),
    "data": Key((dict,), None, "input files per table (path or glob, relative to this file)",
                keys={t: Key((str, list), None, f"{t} file(s)") for t in TABLES}),
    "columns": Key((dict,), {}, "per table: local header -> contract column name",
                   keys={t: Key((dict,), {}, f"{t} header renames", free_keys=True) for t in TABLES}),
    "ratings_format": Key((str,), "long", "ratings layout: long (one grade per row) or wide "
                          "(one column per domain)", choices=("long", "wide")),
    "ratings_wide": Key((dict,), {}, "for wide ratings: which columns hold which domain", keys={
        "domains": Key((dict,), {}, "grade column header -> domain name", free_keys=True),
        "role": Key((str,), "auditor", "role of the rater when the export has no role column",
                    choices=("auditor", "moderator", "peer")),
    }),
    "grades": Key((list,), ["Outstanding", "Good", "Requires improvement", "Inadequate"],
                  "the grade scale, best first"),
    "good_or_better": Key((int,), 2, "how many of the best grades count as 'Good or better'"),
    "grade_aliases": Key((dict,), {}, "extra label -> grade mappings", free_keys=True),
    "domains": Key((list,), [], "practice domains in report order (default: order of first appearance)"),
    "return_target": Key((float, int), 0.8, "target share of allocated audits returned"),
    "strict": Key((bool,), False, "fail the run when any input row is rejected"),
    "reports": Key((list,), list(REPORTS), "which reports to render, of: " + ", ".join(REPORTS)),
    "output_dir": Key((str,), "../outputs", "where reports are written (relative to this file)"),
    "audience": Key((str,), "internal", "internal (everything, identifiers pseudonymised) or published "
                    "(disclosure control applied)", choices=("internal", "published")),
    "min_n": Key((int,), 10, "below this n, percentages carry a small-sample warning"),
    # issue 8: disclosure control and pseudonymisation
    "suppression": Key((dict,), {"threshold": 5, "symbol": "c"}, "published reports: counts from 1 to threshold - 1 are "
                       "shown as c, with secondary suppression", keys={
        "threshold": Key((int,), 5, "counts below this (and above 0) are suppressed in published reports"),
        "symbol": Key((str,), "c", "what a hidden cell shows: c (ONS and DfE) or e.g. <5 (a house style)"),
    }),
    "pseudonym_key_file": Key((str,), None, "file (outside the repository) holding the key for pseudonymising "
                              "ids; else env QA_PSEUDONYM_KEY, else a random per-run key"),
    "indicator_links": Key((dict,), {}, "performance indicator name -> the audit evidence it relates to: "
                           "{domain: <practice domain>} or {cohort: <cohort>}", free_keys=True),
    # issue 5: family feedback, audit actions, strengths and learning themes
    "feedback": Key((dict,), {"answers": {}, "positive": ["Yes"], "not_applicable": ["Didn't need to"],
                              "question_aliases": {}, "answer_aliases": {}, "free_text": []},
                    "family feedback surveys: answer options, which answers count as positive, aliases", keys={
        "answers": Key((dict,), {}, "survey name -> its answer options in report order "
                       "(default Yes, Partly, No, Didn't need to)", free_keys=True),
        "positive": Key((list,), ["Yes"], "answers that count as positive in the '% positive' figures"),
        "not_applicable": Key((list,), ["Didn't need to"], "answers left out of the '% positive' denominator"),
        "question_aliases": Key((dict,), {}, "question wording as asked -> the wording to report it under "
                                "(for a question reworded between periods)", free_keys=True),
        "answer_aliases": Key((dict,), {}, "answer label as recorded -> one of the survey's answers", free_keys=True),
        "free_text": Key((list,), [], "questions whose answers are free text (the family's own words): shown only "
                         "as redacted quotes in internal reports and counted by theme; a question whose answers are "
                         "all long text is detected as such, with a warning"),
    }),
    "action_due_weeks": Key((int,), 8, "weeks after raising an audit action is due, where no due date is recorded"),
    # issue 17: SEND and multi-agency QA
    "forms": Key((dict,), {}, "MS Forms / Google Forms exports read straight in: one row per submission "
                 "(ID, Start time, Completion time, Email, Name, then a column per question)", keys={
        "files": Key((str, list), None, "the export file(s) (path or glob, relative to this file)"),
        "plan": Key((str,), "Plan reference", "header of the column holding the plan or case reference"),
        "agency": Key((str,), "Agency", "header of the column holding the rater's agency or role"),
        "date": Key((str,), None, "header of the submission date column (default Completion time, or Timestamp)"),
        "service_area": Key((str,), "SEND", "service area of the audits derived from the export"),
        "caseworker": Key((str,), None, "the agency whose grade is the LA caseworker's own (e.g. SEN team); "
                          "its submission is the audit's auditor grade"),
        "grades": Key((dict,), {}, "grade question header -> domain (Overall for the overall grade)", free_keys=True),
        "grade_labels": Key((dict,), {}, "the form's grade labels -> grades of the scale", free_keys=True),
        "comments": Key((dict,), {}, "free-text question header -> kind (strength or learning)", free_keys=True),
        "checklists": Key((dict,), {}, "domain -> list of checklist question headers answered met / partly / "
                          "not met; the section grade follows checklist_thresholds", free_keys=True),
        "checklist_thresholds": Key((dict,), {"Outstanding": 1.0, "Good": 0.75, "Requires improvement": 0.5},
                                    "grade -> least share of checklist points (met 2, partly 1, not met 0); "
                                    "below every threshold: the last grade", free_keys=True),
    }),
    "audit_grade": Key((str,), "auditor", "the grade of a peer-reviewed or moderated audit: the auditor's, the "
                       "consensus (most common; a tie goes to the lower grade), the median (the lower of two "
                       "middle grades), or the moderator's where moderated", choices=("auditor", "consensus", "median", "moderator")),
    "multiagency_min_plans": Key((int,), 5, "multi-agency agreement: with fewer plans than this the interval is "
                                 "not estimated (said so in the report)"),
    "themes": Key((dict,), None, "strengths and learning themes: theme name -> list of keywords or regular "
                  "expressions (case-insensitive); default: qa_lib.sections.themes.DEFAULT_THEMES", free_keys=True),
}


class Params:
    """Validated parameters of one run.

    Attributes are the schema keys (``params.period`` is a :class:`~qa_lib.inputs.periods.Period`),
    plus ``path`` (the YAML file) and ``base_dir`` (its folder).
    """

    def __init__(self, values: dict[str, Any], *, path: Path):
        self._values = values
        self.path = path
        self.base_dir = path.parent

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):  # not a params key; also keeps pickle from recursing before _values exists
            raise AttributeError(name)
        try:
            return self._values[name]
        except KeyError:
            raise AttributeError(name) from None

    def as_dict(self) -> dict[str, Any]:
        """Plain values (period as its label) for provenance and papermill."""
        out = dict(self._values)
        out["period"] = self.period.label
        return out

    @property
    def output_root(self) -> Path:
        return (self.base_dir / self._values["output_dir"]).resolve()

    @property
    def output_dir(self) -> Path:
        """``outputs/<period>/``."""
        return self.output_root / self.period.slug

    def files(self, table: str) -> list[Path]:
        """The input files of ``table`` (globs expanded, sorted); empty when not configured."""
        spec = ((self._values.get("forms") or {}).get("files") if table == "forms"  # issue 17
                else (self._values.get("data") or {}).get(table))
        if not spec:
            return []
        patterns = [spec] if isinstance(spec, str) else list(spec)
        out: list[Path] = []
        for pattern in patterns:
            full = str(self.base_dir / pattern)
            matches = sorted(glob.glob(full)) if glob.has_magic(full) else ([full] if os.path.exists(full) else [])
            if not matches:
                raise problem(ParamsError, f"{self.path.name} data.{table}", received=repr(pattern),
                              expected=f"an existing file or a glob matching files (looked for {full})",
                              fix="correct the path; paths are relative to the params file's folder")
            out.extend(Path(m).resolve() for m in matches)
        return out

    def has_table(self, table: str) -> bool:
        """True when ``table`` has an input: a ``data`` entry, or a forms export for audits, ratings, comments."""
        if (self._values.get("data") or {}).get(table):
            return True
        return table in FORMS_TABLES and bool((self._values.get("forms") or {}).get("files"))

    def missing_data(self, report: str) -> str:
        """Why ``report`` has no data to show ('' when it has): the tables it needs that the params do not name."""
        absent = [t for t in REQUIRED_TABLES.get(report, ()) if not self.has_table(t)]
        if not absent:
            return ""
        return (f"no {' or '.join(absent)} data in {self.path.name} (params data.{absent[0]}"
                + (" or forms" if set(absent) & set(FORMS_TABLES) else "") + ")")

    def input_hashes(self) -> dict[str, str]:
        """SHA-256 of every input file, keyed by file name relative to the params folder."""
        hashes = {}
        for table in (*TABLES, "forms"):
            for f in self.files(table):
                hashes[os.path.relpath(f, self.base_dir)] = sha256_file(f)
        return hashes


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _type_names(types: tuple[type, ...]) -> str:
    names = {str: "text", int: "a whole number", float: "a number", bool: "true/false",
             list: "a list", dict: "a mapping"}
    return " or ".join(names.get(t, t.__name__) for t in types)


def _check(value: Any, key: Key, where: str, file: str) -> Any:
    if value is None:
        return key.default
    ok = isinstance(value, key.types) and not (isinstance(value, bool) and bool not in key.types)
    if not ok:
        raise problem(ParamsError, f"{file} {where}", received=f"{value!r} ({type(value).__name__})",
                      expected=_type_names(key.types))
    if key.choices is not None and value not in key.choices:
        raise problem(ParamsError, f"{file} {where}", received=repr(value),
                      expected="one of " + ", ".join(map(str, key.choices)))
    if isinstance(value, dict) and key.keys is not None:
        return _check_mapping(value, key.keys, where + ".", file)
    return value


def _check_mapping(values: Mapping[str, Any], schema: Mapping[str, Key], prefix: str, file: str) -> dict:
    unknown = sorted(set(values) - set(schema))
    if unknown:
        raise problem(ParamsError, f"{file}", received=f"unknown key(s) {', '.join(prefix + str(u) for u in unknown)}",
                      expected="only these keys: " + ", ".join(prefix + k for k in schema),
                      fix="correct the spelling or remove the key")
    return {name: _check(values.get(name), key, prefix + name, file) for name, key in schema.items()}


def read_params_file(path: Path, seen: tuple[Path, ...] = ()) -> dict[str, Any]:
    """The mapping in ``path``, with the file named by its ``extends:`` key merged underneath.

    ``extends: demo.yaml`` takes every key of that file (same folder, so relative paths mean the
    same) and lets this file override whole keys, so a variant states only what differs.
    """
    if not path.is_file():
        raise problem(ParamsError, str(path), expected="a params YAML file",
                      received="no such file", fix="give the path of a file in params/")
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path.name} line {mark.line + 1}" if mark else path.name
        raise problem(ParamsError, where, expected="valid YAML", received=f"a syntax error ({getattr(exc, 'problem', exc)})") from None
    except UnicodeDecodeError:
        raise problem(ParamsError, path.name, expected="a UTF-8 text file", received="undecodable bytes") from None
    if not isinstance(raw, dict):
        raise problem(ParamsError, path.name, expected="a mapping of keys to values", received=type(raw).__name__)
    base_name = raw.pop("extends", None)
    if base_name is None:
        return raw
    if not isinstance(base_name, str):
        raise problem(ParamsError, f"{path.name} extends", received=repr(base_name), expected="the file name of another params file")
    base = (path.parent / base_name).resolve()
    if base.parent != path.parent:
        raise problem(ParamsError, f"{path.name} extends", received=repr(base_name),
                      expected="a params file in the same folder (so relative paths mean the same in both)")
    if base in seen or base == path:
        raise problem(ParamsError, f"{path.name} extends", received=repr(base_name), expected="a chain of files without a loop")
    return {**read_params_file(base, (*seen, path)), **raw}


def portable_values(path: str | os.PathLike) -> dict[str, Any]:
    """The params file's values (``extends`` merged) with every file path made absolute, ready to be
    written elsewhere (a test's or benchmark's temporary folder) and still point at the same inputs."""
    path = Path(path).resolve()
    values = read_params_file(path)
    data = values.get("data") or {}
    values["data"] = {k: ([str((path.parent / x).resolve()) for x in v] if isinstance(v, list)
                          else str((path.parent / v).resolve())) for k, v in data.items()}
    for key in ("output_dir", "pseudonym_key_file"):
        if isinstance(values.get(key), str):
            values[key] = str((path.parent / values[key]).resolve())
    return values


def load_params(path: str | os.PathLike, overrides: Mapping[str, Any] | None = None) -> Params:
    """Read and validate a params YAML.

    Parameters
    ----------
    path : path-like
        The YAML file.
    overrides : Mapping, optional
        Values that replace the file's (e.g. from papermill parameters); ``None`` values are ignored.

    Returns
    -------
    Params

    Raises
    ------
    ParamsError
        Missing file, YAML syntax error, unknown key, wrong type, malformed period, missing
        input file, unknown report name.
    """
    path = Path(path).resolve()
    raw = read_params_file(path)
    raw = {**raw, **{k: v for k, v in (overrides or {}).items() if v is not None}}
    values = _check_mapping(raw, SCHEMA, "", path.name)
    if values["period"] is None:
        raise problem(ParamsError, f"{path.name} period", expected="a reporting period such as '2024-25 Q2'",
                      received="nothing", fix="add a line 'period: 2024-25 Q2'")
    values["period"] = parse_period(str(values["period"]), where=f"{path.name} period")
    # issue 17: any subset of tables is a programme; a report whose data is absent is skipped by the batch
    if not any((values["data"] or {}).values()) and not (values["forms"] or {}).get("files"):
        raise problem(ParamsError, f"{path.name} data", expected="the path of at least one input table "
                      "(audits, ratings, feedback...) or a forms export (forms.files)", received="nothing",
                      fix="add e.g. 'data: {feedback: feedback.csv}'")
    bad = [r for r in values["reports"] if r not in REPORTS]
    if bad:
        raise problem(ParamsError, f"{path.name} reports", received=", ".join(map(repr, bad)),
                      expected="report names from: " + ", ".join(REPORTS))
    target = float(values["return_target"])
    if not 0 < target <= 1:
        raise problem(ParamsError, f"{path.name} return_target", received=repr(values["return_target"]),
                      expected="a share between 0 and 1, e.g. 0.8 for 80%")
    values["return_target"] = target
    if values["suppression"]["threshold"] < 1:  # issue 8
        raise problem(ParamsError, f"{path.name} suppression.threshold", received=repr(values["suppression"]["threshold"]),
                      expected="a whole number of at least 1 (5 hides counts from 1 to 4 in published reports)")
    for name, link in (values.get("indicator_links") or {}).items():  # issue 9: {domain: ...} or {cohort: ...}
        if not (isinstance(link, dict) and len(link) == 1 and set(link) <= {"domain", "cohort"}
                and isinstance(next(iter(link.values())), str)):
            raise problem(ParamsError, f"{path.name} indicator_links.{name}", received=repr(link),
                          expected="one mapping, {domain: <practice domain>} or {cohort: <cohort>}",
                          fix=f"write e.g. '{name}: {{domain: Assessment and analysis}}'")
    params = Params(values, path=path)
    for table in (*TABLES, "forms"):
        params.files(table)  # raises for missing files now, not mid-report
    return params

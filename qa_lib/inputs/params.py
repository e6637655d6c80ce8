"""Parameters files: one YAML per reporting period, validated once, on load, into a frozen :class:`Params`.

:data:`SCHEMA` is the single list of what a params file may say: one :class:`Key` per setting,
with its type, default, help, choices and range. Everything else is generated from it:

- :class:`Params`, a frozen dataclass with one typed attribute per key (lists become tuples and
  mappings read-only, so a report cannot change the settings another report sees);
- ``qa-workbook params-help`` (:func:`params_help`), which prints every key with its type,
  default, choices and help;
- ``params/params.schema.json`` (:func:`json_schema`, written by ``qa-workbook params-schema``),
  which YAML editors use to complete and check params files.

:func:`load_params` is the one validation path: ``qa-workbook validate``, ``qa-workbook run`` and
every report kernel call it, so ``validate`` cannot pass a file that ``run`` refuses. It checks
each key's type, choices and range, the relations between keys (``good_or_better`` within the
grade scale, wide ratings naming their domain columns, ...), compiles the theme expressions,
checks the suppression mark and that ``output_dir`` is a folder that can be written, and that
every input file exists. Paths are relative to the file that states them.

YAML is read with YAML 1.2's booleans (only ``true``/``false``, so an answer label ``Yes`` or
``No`` stays text) and without anchors or aliases (``&x`` / ``*x``), which a params file never
needs and which let a few hundred bytes expand to megabytes; ``extends:`` shares a base file instead.

Adding a setting: add one ``Key(...)`` to :data:`SCHEMA` (a range with ``minimum``/``maximum``,
item types with ``items``, a rule of its own with ``check``), then run
``qa-workbook params-schema --write`` (``tests/inputs/test_params.py`` fails until the published
schema is in step).
"""

from __future__ import annotations

import dataclasses
import glob
import hashlib
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping, Optional

import yaml

from qa_lib.core.errors import ParamsError, problem
from qa_lib.core.labels import key as label_key
from qa_lib.inputs.periods import Period, parse_period

TABLES = ("audits", "ratings", "allocations", "feedback", "actions", "comments", "indicators", "benchmarks")
#: Reports that have a notebook in notebooks/ (later issues add theirs here).
REPORTS = ("quarterly", "feedback", "indicators", "moderation", "highlight")
#: Reports rendered when a params file does not say ``reports:`` (the highlight report, issue 16, is
#: asked for by name: a monthly programme's params list it).
DEFAULT_REPORTS = ("quarterly", "feedback", "indicators", "moderation")
#: The published JSON Schema of params files (kept in step with SCHEMA by tests/inputs/test_params.py).
SCHEMA_FILE = Path(__file__).resolve().parents[2] / "params" / "params.schema.json"
#: issue 17: the input tables each report needs; a report whose tables are all absent is skipped (said why)
REQUIRED_TABLES: dict[str, tuple[str, ...]] = {"quarterly": ("audits", "ratings"), "feedback": ("feedback",),
                                               "indicators": ("indicators",), "moderation": ("ratings",),
                                               "highlight": ("audits", "ratings")}
#: tables a forms export (params ``forms``) supplies
FORMS_TABLES = ("audits", "ratings", "comments")


@dataclass(frozen=True)
class Key:
    """One entry of the params schema.

    ``types``, ``default``, ``help``, ``choices``, ``keys`` (sub-schema of a mapping with fixed
    keys) and ``free_keys`` (a mapping whose keys are the user's) as before; and, all optional:
    ``items`` the type(s) of each list item or each free mapping's value; ``minimum`` /
    ``maximum`` an inclusive range for numbers; ``path`` a path relative to the params file
    (rebased when another folder's file ``extends`` it); ``check(value, where)`` a rule of the
    key's own that raises :class:`ParamsError` (``where`` names the file and key); ``attr`` the
    attribute name on :class:`Params` when it differs from the key.
    """

    types: tuple[type, ...]
    default: Any
    help: str
    choices: tuple[Any, ...] | None = None
    keys: Mapping[str, "Key"] | None = None  # sub-schema for mappings with fixed keys
    free_keys: bool = False  # a mapping whose keys are the user's (e.g. column renames)
    items: tuple[type, ...] | None = None
    minimum: float | None = None
    maximum: float | None = None
    path: bool = False
    check: Callable[[Any, str], None] | None = None
    attr: str | None = None


# ------------------------------------------------------------------------------------------------
# checks of single keys (relations between keys are in _check_relations)
# ------------------------------------------------------------------------------------------------
def _is_number(text: str) -> bool:
    try:
        float(text.replace(",", ""))
    except ValueError:
        return False
    return True


def _check_symbol(symbol: str, where: str) -> None:
    if not symbol.strip() or len(symbol.strip()) > 10 or _is_number(symbol.strip()):
        raise problem(ParamsError, where, received=repr(symbol),
                      expected="a short mark that is not a number, e.g. c or <5",
                      fix="set suppression: {symbol: c} (the ONS and DfE mark) or your house style")


def check_themes(themes: Mapping[str, Any], where: str) -> None:
    """Each theme is a keyword or a list of them, each a valid regular expression."""
    for name, words in themes.items():
        words = [words] if isinstance(words, str) else words
        if not isinstance(words, (list, tuple)) or not words or not all(isinstance(w, str) and w for w in words):
            raise problem(ParamsError, f"{where}.{name}", received=repr(words),
                          expected="a list of keywords or regular expressions, e.g. [chronolog, timeline]")
        for w in words:
            try:
                re.compile(w)
            except re.error as exc:
                raise problem(ParamsError, f"{where}.{name}", received=repr(w),
                              expected=f"a valid regular expression ({exc})",
                              fix="escape special characters such as ( ) [ ] + ? with a backslash") from None


def _check_links(links: Mapping[str, Any], where: str) -> None:  # issue 9: {domain: ...} or {cohort: ...}
    for name, link in links.items():
        if not (isinstance(link, Mapping) and len(link) == 1 and set(link) <= {"domain", "cohort"}
                and isinstance(next(iter(link.values())), str)):
            raise problem(ParamsError, f"{where}.{name}", received=repr(link),
                          expected="one mapping, {domain: <practice domain>} or {cohort: <cohort>}",
                          fix=f"write e.g. '{name}: {{domain: Assessment and analysis}}'")


#: Output formats a report can be written in (qa_lib.running.formats writes xlsx, pdf and docx).
FORMATS = ("html", "csv", "xlsx", "pdf", "docx")


def _check_formats(formats: list, where: str) -> None:
    unknown = [f for f in formats if f not in FORMATS]
    if unknown:
        raise problem(ParamsError, where, received=repr(unknown), expected="formats from " + ", ".join(FORMATS),
                      fix="write e.g. formats: [html, csv, xlsx, pdf, docx]")


def _check_distinct(values: list, where: str) -> None:
    seen: dict[str, str] = {}
    for v in values:
        k = label_key(v)
        if k in seen:
            raise problem(ParamsError, where, received=f"{v!r} listed twice" + (f" (as {seen[k]!r})" if seen[k] != v else ""),
                          expected="each label once", fix="remove the repeated label")
        seen[k] = v


def _check_answers(answers: Mapping[str, Any], where: str) -> None:
    for survey, options in answers.items():
        if not isinstance(options, list) or len(options) < 2 or not all(isinstance(o, str) and o.strip() for o in options):
            raise problem(ParamsError, f"{where}.{survey}", received=repr(options),
                          expected="a list of at least two answer options as text, in report order",
                          fix=f"write e.g. '{survey}: [\"Yes\", \"Partly\", \"No\", \"Didn't need to\"]'")
        _check_distinct(options, f"{where}.{survey}")


#: The answer options of a survey not listed under ``feedback.answers`` (the schema default of
#: ``feedback.default_answers``).
FEEDBACK_ANSWERS = ("Yes", "Partly", "No", "Didn't need to")
_TEXTS = Key((list,), None, "", items=(str,))

SCHEMA: dict[str, Key] = {
    "period": Key((str,), None, "reporting period, e.g. '2024-25 Q2' or '2024-09' (required)"),
    "title": Key((str,), "Case file audit quality assurance", "report title"),
    "authority": Key((str,), "", "name of the local authority shown on the reports"),
    "history_periods": Key((int,), 4, "how many earlier periods to show beside this one", minimum=0, maximum=60),
    "data": Key((dict,), None, "input files per table (path or glob, relative to this file)",
                keys={t: Key((str, list), None, f"{t} file(s)", items=(str,), path=True) for t in TABLES}),
    "columns": Key((dict,), {}, "per table: local header -> contract column name",
                   keys={t: Key((dict,), {}, f"{t} header renames", free_keys=True, items=(str,)) for t in TABLES}),
    "ratings_format": Key((str,), "long", "ratings layout: long (one grade per row) or wide "
                          "(one column per domain)", choices=("long", "wide")),
    "ratings_wide": Key((dict,), {}, "for wide ratings: which columns hold which domain", keys={
        "domains": Key((dict,), {}, "grade column header -> domain name (required with ratings_format: wide)",
                       free_keys=True, items=(str,)),
        "role": Key((str,), "auditor", "role of the rater when the export has no role column",
                    choices=("auditor", "moderator", "peer")),
    }),
    "grades": Key((list,), ["Outstanding", "Good", "Requires improvement", "Inadequate"],
                  "the grade scale, best first (at least two distinct labels)", items=(str,)),
    "good_or_better": Key((int,), 2, "how many of the best grades count as 'Good or better' "
                          "(from 1 to the number of grades)", minimum=1),
    "grade_aliases": Key((dict,), {}, "extra label -> grade mappings (each target one of grades)",
                         free_keys=True, items=(str,)),
    "domains": Key((list,), [], "practice domains in report order (default: order of first appearance)",
                   items=(str,)),
    "return_target": Key((float, int), 0.8, "target share of allocated audits returned (above 0, at most 1)",
                         minimum=0, maximum=1),
    "strict": Key((bool,), False, "fail the run when any input row is rejected"),
    "reports": Key((list,), list(DEFAULT_REPORTS), "which reports to render, of: " + ", ".join(REPORTS),
                   choices=REPORTS, items=(str,)),
    "output_dir": Key((str,), "../outputs", "where reports are written (relative to this file); a folder "
                      "that can be written, or one that can be created", path=True, attr="output_root"),
    "audience": Key((str,), "internal", "internal (everything, identifiers pseudonymised) or published "
                    "(disclosure control applied)", choices=("internal", "published")),
    "min_n": Key((int,), 10, "below this n, percentages carry a small-sample warning", minimum=0),
    # issue 8: disclosure control and pseudonymisation
    "suppression": Key((dict,), {"threshold": 5, "symbol": "c", "scope": "pack"}, "published reports: counts from 1 to threshold - 1 are "
                       "shown as c, with secondary suppression", keys={
        "threshold": Key((int,), 5, "counts below this (and above 0) are suppressed in published reports",
                         minimum=1),
        "symbol": Key((str,), "c", "what a hidden cell shows: c (ONS and DfE) or e.g. <5 (a house style); "
                      "never a number, at most 10 characters", check=_check_symbol),
        # issue 14: pack = one suppression pattern over every report of the period (the default); table = each
        # table protected on its own (the old behaviour, kept so the attack test can show what it leaks)
        "scope": Key((str,), "pack", "pack: protect the period's published reports together; table: each table "
                     "on its own (not safe against a reader who combines tables)", choices=("pack", "table")),
    }),
    "pseudonym_key_file": Key((str,), None, "file (outside the repository) holding the key for pseudonymising "
                              "ids; else env QA_PSEUDONYM_KEY, else a random per-run key", path=True),
    "redact_terms": Key((list,), [], "extra words or names to redact from free text (issue 14), e.g. a child's "
                        "name or a school: matched in any case, spacing, hyphen, apostrophe or possessive form",
                        items=(str,)),
    "indicator_links": Key((dict,), {}, "performance indicator name -> the audit evidence it relates to: "
                           "{domain: <practice domain>} or {cohort: <cohort>}", free_keys=True,
                           items=Key((dict,), None, "", free_keys=True, items=(str,)), check=_check_links),
    # issue 5: family feedback, audit actions, strengths and learning themes
    "feedback": Key((dict,), {"answers": {}, "default_answers": list(FEEDBACK_ANSWERS), "positive": ["Yes"],
                              "not_applicable": ["Didn't need to"], "question_aliases": {}, "answer_aliases": {},
                              "free_text": []},
                    "family feedback surveys: answer options, which answers count as positive, aliases", keys={
        "answers": Key((dict,), {}, "survey name -> its answer options in report order (surveys not listed "
                       "have default_answers)", free_keys=True, items=_TEXTS, check=_check_answers),
        "default_answers": Key((list,), list(FEEDBACK_ANSWERS), "answer options, in report order, of every "
                               "survey not listed under answers", items=(str,)),
        "positive": Key((list,), ["Yes"], "answers that count as positive in the '% positive' figures", items=(str,)),
        "not_applicable": Key((list,), ["Didn't need to"], "answers left out of the '% positive' denominator",
                              items=(str,)),
        "question_aliases": Key((dict,), {}, "question wording as asked -> the wording to report it under "
                                "(for a question reworded between periods)", free_keys=True, items=(str,)),
        "answer_aliases": Key((dict,), {}, "answer label as recorded -> one of the survey's answers",
                              free_keys=True, items=(str,)),
        "free_text": Key((list,), [], "questions whose answers are free text (the family's own words): shown only "
                         "as redacted quotes in internal reports and counted by theme; a question whose answers are "
                         "all long text is detected as such, with a warning", items=(str,)),
    }),
    # issue 15: how the input files are written
    "date_format": Key((str,), "auto", "day/month order of numeric dates such as 03/05/2024: auto (inferred per file "
                       "from values above 12; UK day-first when none shows it), day-first or month-first",
                       choices=("auto", "day-first", "month-first")),
    "placeholder_dates": Key((str,), "reject", "'no date' placeholders such as 9999-12-31 in optional date columns "
                             "(completed_date): reject the row, or blank (treat as no date, with a warning)",
                             choices=("reject", "blank")),
    "delimiter": Key((str,), None, "CSV delimiter of the input files whose header line holds it: , (default), ; | or "
                     "tab (other files stay comma-delimited; a tab-delimited file is recognised without it)",
                     choices=(",", ";", "|", "tab", "\t")),
    "action_due_weeks": Key((int,), 8, "weeks after raising an audit action is due, where no due date is recorded",
                            minimum=1),
    # issue 18: committee formats written beside each report's HTML (qa_lib.running.formats)
    "formats": Key((list,), ["html", "csv", "xlsx"], "output formats of each report, of: html, csv, xlsx, pdf "
                   "(printed by headless Chromium), docx; html and csv are always written", items=(str,),
                   check=_check_formats),
    # issue 17: SEND and multi-agency QA
    "forms": Key((dict,), {}, "MS Forms / Google Forms exports read straight in: one row per submission "
                 "(ID, Start time, Completion time, Email, Name, then a column per question)", keys={
        "files": Key((str, list), None, "the export file(s) (path or glob, relative to this file)", items=(str,),
                     path=True),
        "plan": Key((str,), "Plan reference", "header of the column holding the plan or case reference"),
        "agency": Key((str,), "Agency", "header of the column holding the rater's agency or role"),
        "date": Key((str,), None, "header of the submission date column (default Completion time, or Timestamp)"),
        "service_area": Key((str,), "SEND", "service area of the audits derived from the export"),
        "caseworker": Key((str,), None, "the agency whose grade is the LA caseworker's own (e.g. SEN team); "
                          "its submission is the audit's auditor grade"),
        "grades": Key((dict,), {}, "grade question header -> domain (Overall for the overall grade)", free_keys=True,
                      items=(str,)),
        "grade_labels": Key((dict,), {}, "the form's grade labels -> grades of the scale", free_keys=True,
                            items=(str,)),
        "comments": Key((dict,), {}, "free-text question header -> kind (strength or learning)", free_keys=True,
                        items=Key((str,), None, "", choices=("strength", "learning"))),
        "checklists": Key((dict,), {}, "domain -> list of checklist question headers answered met / partly / "
                          "not met; the section grade follows checklist_thresholds", free_keys=True, items=_TEXTS),
        "checklist_thresholds": Key((dict,), {"Outstanding": 1.0, "Good": 0.75, "Requires improvement": 0.5},
                                    "grade -> least share of checklist points (met 2, partly 1, not met 0); "
                                    "below every threshold: the last grade", free_keys=True,
                                    items=Key((float, int), None, "", minimum=0, maximum=1)),
    }),
    "audit_grade": Key((str,), "auditor", "the grade of a peer-reviewed or moderated audit: the auditor's, the "
                       "consensus (most common; a tie goes to the lower grade), the median (the lower of two "
                       "middle grades), or the moderator's where moderated",
                       choices=("auditor", "consensus", "median", "moderator")),
    "multiagency_min_plans": Key((int,), 5, "multi-agency agreement: with fewer plans than this the interval is "
                                 "not estimated (said so in the report)", minimum=2),
    "themes": Key((dict,), None, "strengths and learning themes: theme name -> list of keywords or regular "
                  "expressions (case-insensitive); default: qa_lib.sections.themes.DEFAULT_THEMES", free_keys=True,
                  items=Key((str, list), None, "", items=(str,)), check=check_themes),
    # issue 16: the monthly highlight report, audit types
    "comparator_months": Key((int,), 12, "highlight report: how many months before the period to look back for "
                             "earlier audits of this period's cohorts (cohort comparators); 0 for none", minimum=0),
    "pool_audit_types": Key((list,), [], "audit types (audits column audit_type) reported together with the monthly "
                            "programme; any other type (thematic, external) has its own section and is never pooled",
                            items=(str,)),
    "audit_triggers": Key((dict,), {}, "thematic or external audit theme (audits column theme) -> what prompted it, "
                          "e.g. 'Re-referrals within 12 months rising'", free_keys=True, items=(str,)),
}


# ------------------------------------------------------------------------------------------------
# reading YAML: YAML 1.2 booleans, no anchors or aliases
# ------------------------------------------------------------------------------------------------
class _AliasRefused(yaml.YAMLError):
    def __init__(self, mark):
        super().__init__("anchor or alias")
        self.problem_mark = mark


class _ParamsLoader(yaml.SafeLoader):
    """``yaml.SafeLoader`` that refuses anchors and aliases and reads only true/false as booleans."""

    def compose_node(self, parent, index):
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None) is not None:
            raise _AliasRefused(event.start_mark)
        return super().compose_node(parent, index)


_BOOL = "tag:yaml.org,2002:bool"
_ParamsLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != _BOOL]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()}
_ParamsLoader.add_implicit_resolver(_BOOL, re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF"))


def read_yaml(path: Path) -> Any:
    """The YAML document in ``path`` (see the module docstring for what is refused)."""
    try:
        return yaml.load(path.read_text(encoding="utf-8"), Loader=_ParamsLoader)
    except _AliasRefused as exc:
        raise problem(ParamsError, f"{path.name} line {exc.problem_mark.line + 1}", received="a YAML anchor or alias (&name or *name)",
                      expected="every value written out",
                      fix="write the values in full; to share settings between files use 'extends: <base file>'") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path.name} line {mark.line + 1}" if mark else path.name
        raise problem(ParamsError, where, expected="valid YAML", received=f"a syntax error ({getattr(exc, 'problem', exc)})") from None
    except UnicodeDecodeError:
        raise problem(ParamsError, path.name, expected="a UTF-8 text file", received="undecodable bytes") from None
    except OSError as exc:
        raise problem(ParamsError, str(path), expected="a readable params YAML file", received=exc.strerror or str(exc)) from None


def _rebase(values: dict[str, Any], schema: Mapping[str, Key], src: Path, dst: Path | None) -> dict[str, Any]:
    """``values`` of a file in folder ``src`` with their relative paths made relative to folder
    ``dst`` (absolute when ``dst`` is None). Keys marked ``path=True`` in the schema are paths."""

    def move(p):
        if not isinstance(p, str) or os.path.isabs(p):
            return p
        if dst is None:
            return str((src / p).resolve())
        try:
            return os.path.relpath(src / p, dst)
        except ValueError:  # another drive (Windows)
            return str(src / p)

    out = dict(values)
    for name, key in schema.items():
        v = out.get(name)
        if v is None:
            continue
        if key.path:
            out[name] = [move(x) for x in v] if isinstance(v, list) else move(v)
        elif key.keys is not None and isinstance(v, dict):
            out[name] = _rebase(v, key.keys, src, dst)
    return out


def read_params_file(path: Path, seen: tuple[Path, ...] = ()) -> dict[str, Any]:
    """The mapping in ``path``, with the file named by its ``extends:`` key merged underneath.

    ``extends: demo.yaml`` (or a relative path such as ``../shared/base.yaml``) takes every key of
    that file and lets this file override whole keys, so a variant states only what differs. The
    base file's paths stay relative to the base file's own folder.
    """
    path = Path(path).resolve()
    if not path.is_file():
        found = "a folder, not a file" if path.is_dir() else "no such file"
        raise ParamsError(f"{path}: {found} (expected a params YAML file). "
                          "Fix: give the path of a params file, e.g. params/demo.yaml")
    raw = read_yaml(path)
    raw = {} if raw is None else raw
    if not isinstance(raw, dict):
        raise problem(ParamsError, path.name, expected="a mapping of keys to values", received=type(raw).__name__)
    base_name = raw.pop("extends", None)
    if base_name is None:
        return raw
    if not isinstance(base_name, str) or not base_name.strip():
        raise problem(ParamsError, f"{path.name} extends", received=repr(base_name),
                      expected="the path of another params file, relative to this one")
    base = (path.parent / base_name).resolve()
    chain = (*seen, path)
    if base in chain:
        loop = " -> ".join(p.name for p in (*chain[chain.index(base):], base))
        raise problem(ParamsError, f"{path.name} extends", received=f"{base_name!r}, which leads back ({loop})",
                      expected="a chain of files without a loop", fix="make one file the base that extends nothing")
    if not base.is_file():
        raise problem(ParamsError, f"{path.name} extends", received=f"{base_name!r} (no such file: {base})",
                      expected="the path of another params file, relative to this one")
    inherited = read_params_file(base, chain)
    if base.parent != path.parent:
        inherited = _rebase(inherited, SCHEMA, base.parent, path.parent)
    return {**inherited, **raw}


def portable_values(path: str | os.PathLike) -> dict[str, Any]:
    """The params file's values (``extends`` merged) with every file path made absolute, ready to be
    written elsewhere (a test's or benchmark's temporary folder) and still point at the same inputs."""
    path = Path(path).resolve()
    return _rebase(read_params_file(path), SCHEMA, path.parent, None)


# ------------------------------------------------------------------------------------------------
# checking values against the schema
# ------------------------------------------------------------------------------------------------
_TYPE_NAMES = {str: "text", int: "a whole number", float: "a number", bool: "true/false",
               list: "a list", dict: "a mapping"}


def _type_names(types: tuple[type, ...]) -> str:
    if set(types) == {float, int}:
        return "a number"
    return " or ".join(_TYPE_NAMES.get(t, t.__name__) for t in types)


def _as_key(items: tuple[type, ...] | Key | None) -> Key | None:
    return items if isinstance(items, Key) or items is None else Key(tuple(items), None, "")


def _quoted(value: Any) -> str:
    """``value`` as YAML text with every scalar quoted: the fix for a number or ``true``/``false``
    written where text is meant. A boolean is quoted as written (``true`` → ``'true'``): only
    ``true``/``false`` are booleans here (``Yes``/``No`` already read as text), and labels are matched
    without regard to case, so ``'true'`` is the label the file meant (issue 18: the fix used to
    suggest ``'Yes'`` for a ``true``, which is another label)."""
    if isinstance(value, list):
        return "[" + ", ".join(_quoted(v) for v in value) + "]"
    if isinstance(value, bool):
        return "'" + ("true" if value else "false") + "'"
    return "'" + str(value).replace("'", "''") + "'"


def _type_ok(value: Any, types: tuple[type, ...]) -> bool:
    return isinstance(value, types) and not (isinstance(value, bool) and bool not in types)


def _describe(value: Any) -> str:
    kind = {bool: "true/false", int: "a number", float: "a number", str: "text", list: "a list",
            dict: "a mapping", type(None): "nothing"}.get(type(value), type(value).__name__)
    return f"{value!r} ({kind})"


def _check(value: Any, key: Key, where: str, file: str, *, whole: Any = None) -> Any:
    """``value`` checked against ``key`` (``None``: the default), defaults filled in below it."""
    if value is None:
        return _check(key.default, key, where, file) if isinstance(key.default, dict) and key.keys else key.default
    if not _type_ok(value, key.types):
        fix = None
        if str in key.types and isinstance(value, (bool, int, float)):
            fix = f"put the value in quotes: {_quoted(whole if whole is not None else value)}"
        elif bool in key.types and isinstance(value, str):
            fix = "write true or false"
        raise problem(ParamsError, f"{file} {where}", received=_describe(value), expected=_type_names(key.types), fix=fix)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        low, high = key.minimum, key.maximum
        if (low is not None and value < low) or (high is not None and value > high):
            span = (f"from {low:g} to {high:g}" if low is not None and high is not None
                    else f"at least {low:g}" if low is not None else f"at most {high:g}")
            raise problem(ParamsError, f"{file} {where}", received=repr(value), expected=f"{_type_names(key.types)} {span}")
    if isinstance(value, list):
        item = _as_key(key.items)
        if item is not None:
            value = [_check_item(v, item, f"{where} item {i}", file, whole=value) for i, v in enumerate(value, 1)]
        if key.choices is not None:
            bad = [v for v in value if v not in key.choices]
            if bad:
                raise problem(ParamsError, f"{file} {where}", received=", ".join(map(repr, bad)),
                              expected="names from: " + ", ".join(map(str, key.choices)))
    elif key.choices is not None and value not in key.choices:
        raise problem(ParamsError, f"{file} {where}", received=repr(value),
                      expected="one of " + ", ".join(map(str, key.choices)))
    if isinstance(value, dict):
        if key.keys is not None:
            value = _check_mapping(value, key.keys, where + ".", file)
        elif key.free_keys:
            value = _check_free(value, key, where, file)
    if key.check is not None:
        key.check(value, f"{file} {where}")
    return value


def _check_item(value: Any, key: Key, where: str, file: str, *, whole: Any) -> Any:
    if value is None:
        raise problem(ParamsError, f"{file} {where}", received="nothing (an empty item)",
                      expected=_type_names(key.types), fix="remove the empty item or write its value")
    return _check(value, key, where, file, whole=whole)


def _check_free(values: dict, key: Key, where: str, file: str) -> dict:
    item = _as_key(key.items)
    out = {}
    for k, v in values.items():
        if not isinstance(k, str):
            raise problem(ParamsError, f"{file} {where}", received=f"the label {_describe(k)}",
                          expected="labels as text", fix=f"put the label in quotes: {_quoted(k)}: ...")
        out[k] = v if item is None else _check_item(v, item, f"{where}.{k}", file, whole=v)
    return out


def _check_mapping(values: Mapping[str, Any], schema: Mapping[str, Key], prefix: str, file: str) -> dict:
    unknown = sorted(map(str, set(values) - set(schema)))
    if unknown:
        raise problem(ParamsError, f"{file}", received=f"unknown key(s) {', '.join(prefix + u for u in unknown)}",
                      expected="only these keys: " + ", ".join(prefix + k for k in schema),
                      fix="correct the spelling or remove the key")
    return {name: _check(values.get(name), key, prefix + name, file) for name, key in schema.items()}


def _nearest_existing(path: Path) -> Path:
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def check_output_folder(root: Path, period_slug: str, where: str) -> None:
    """``root`` (and ``root/<period>``) is a folder that can be written, or can be created.

    Raises
    ------
    ParamsError
        It, or the nearest existing folder above it, is a file or cannot be written.
    """
    for folder in (root, root / period_slug):
        found = _nearest_existing(folder)
        if not found.is_dir():
            what = "is a file" if found == folder else f"cannot be created: {found} is a file"
            raise problem(ParamsError, where, received=f"{folder} ({what})", expected="a folder for the reports",
                          fix="point output_dir at a folder, or move the file out of the way")
        if not os.access(found, os.W_OK | os.X_OK):
            what = "cannot be written" if found == folder else f"cannot be created: {found} cannot be written"
            raise problem(ParamsError, where, received=f"{folder} ({what})",
                          expected="a folder this user can write to",
                          fix="point output_dir at a folder you can write to, or ask for write access to it")


def _check_relations(v: dict[str, Any], file: str, base_dir: Path) -> None:
    """The rules that tie one key to another (each key's own type and range are checked already)."""
    if v["period"] is None:
        raise problem(ParamsError, f"{file} period", expected="a reporting period such as '2024-25 Q2'",
                      received="nothing", fix="add a line 'period: 2024-25 Q2'")
    # issue 17: any subset of tables is a programme; a report whose data is absent is skipped by the batch
    if not any((v["data"] or {}).values()) and not (v["forms"] or {}).get("files"):
        raise problem(ParamsError, f"{file} data", expected="the path of at least one input table "
                      "(audits, ratings, feedback...) or a forms export (forms.files)", received="nothing",
                      fix="add e.g. 'data: {feedback: feedback.csv}'")
    if v["return_target"] == 0:
        raise problem(ParamsError, f"{file} return_target", received="0",
                      expected="a share above 0 and at most 1, e.g. 0.8 for 80%")
    grades = v["grades"]
    if len(grades) < 2:
        raise problem(ParamsError, f"{file} grades", received=repr(grades), expected="at least two grades, best first")
    _check_distinct(grades, f"{file} grades")
    if v["good_or_better"] > len(grades):
        raise problem(ParamsError, f"{file} good_or_better", received=f"{v['good_or_better']} on a scale of {len(grades)} grades",
                      expected=f"a whole number from 1 to {len(grades)} (how many of the best grades count as "
                               "'Good or better')", fix="lower good_or_better, or list every grade under grades")
    for alias, target in v["grade_aliases"].items():
        if target not in grades:
            raise problem(ParamsError, f"{file} grade_aliases.{alias}", received=repr(target),
                          expected="one of the grades: " + ", ".join(grades))
    _check_distinct(v["domains"], f"{file} domains")
    _check_distinct(v["reports"], f"{file} reports")
    if v["ratings_format"] == "wide" and not v["ratings_wide"]["domains"]:
        raise problem(ParamsError, f"{file} ratings_wide.domains", received="nothing",
                      expected="with ratings_format: wide, the grade column of each domain",
                      fix="add e.g. 'ratings_wide: {domains: {Chronology grade: Chronology}}', one line per column")
    fb = v["feedback"]
    _check_distinct(fb["default_answers"], f"{file} feedback.default_answers")
    if len(fb["default_answers"]) < 2:
        raise problem(ParamsError, f"{file} feedback.default_answers", received=repr(fb["default_answers"]),
                      expected="at least two answer options")
    options = {label_key(o): o for o in [*fb["default_answers"], *(o for opts in fb["answers"].values() for o in opts)]}
    for name in ("positive", "not_applicable", "answer_aliases"):
        labels = fb[name].values() if name == "answer_aliases" else fb[name]
        for label in labels:
            if label_key(label) not in options:
                raise problem(ParamsError, f"{file} feedback.{name}", received=repr(label),
                              expected="an answer option of a survey: " + ", ".join(options.values()),
                              fix="use a label from feedback.default_answers or feedback.answers")
    if not fb["positive"]:
        raise problem(ParamsError, f"{file} feedback.positive", received="an empty list",
                      expected="at least one answer that counts as positive")
    both = {label_key(a) for a in fb["positive"]} & {label_key(a) for a in fb["not_applicable"]}
    if both:
        raise problem(ParamsError, f"{file} feedback", received=f"{', '.join(sorted(both))} both positive and not applicable",
                      expected="an answer in at most one of feedback.positive and feedback.not_applicable")
    period = parse_period(str(v["period"]), where=f"{file} period")
    check_output_folder((base_dir / v["output_dir"]).resolve(), period.slug, f"{file} output_dir")


# ------------------------------------------------------------------------------------------------
# Params: a frozen dataclass generated from SCHEMA
# ------------------------------------------------------------------------------------------------
class FrozenMap(Mapping):
    """A read-only mapping (what a params mapping becomes inside :class:`Params`)."""

    __slots__ = ("_data",)

    def __init__(self, data: Mapping | None = None):
        object.__setattr__(self, "_data", dict(data or {}))

    def __getitem__(self, key):
        return self._data[key]

    def __iter__(self) -> Iterator:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __repr__(self) -> str:
        return f"FrozenMap({self._data!r})"

    def __hash__(self) -> int:
        return hash(tuple(self._data.items()))

    def __setattr__(self, name, value):
        raise AttributeError("params are read-only")

    def __reduce__(self):
        return (FrozenMap, (self._data,))


def freeze(value: Any) -> Any:
    """Lists as tuples and mappings as :class:`FrozenMap`, all the way down."""
    if isinstance(value, Mapping):
        return FrozenMap({k: freeze(v) for k, v in value.items()})
    if isinstance(value, (list, tuple)):
        return tuple(freeze(v) for v in value)
    return value


def thaw(value: Any) -> Any:
    """The inverse of :func:`freeze`: plain dicts and lists (for YAML, JSON and papermill)."""
    if isinstance(value, Mapping):
        return {k: thaw(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [thaw(v) for v in value]
    return value


def _annotation(key: Key) -> Any:
    if set(key.types) == {float, int}:
        kind: Any = float
    else:
        names = [{list: tuple, dict: Mapping[str, Any]}.get(t, t) for t in key.types]
        kind = names[0] if len(names) == 1 else " | ".join(getattr(n, "__name__", str(n)) for n in names)
    return Optional[kind] if key.default is None and not isinstance(kind, str) else kind


class _ParamsMethods:
    """What every :class:`Params` can do besides holding the values."""

    path: Path
    base_dir: Path
    period: Period
    output_root: Path

    @property
    def output_dir(self) -> Path:
        """``outputs/<period>/``: params ``output_dir`` (:attr:`output_root`) and the period's slug."""
        return self.output_root / self.period.slug

    def as_dict(self) -> dict[str, Any]:
        """Plain values (period as its label), as checked at load, for provenance and papermill."""
        return thaw(self.checked)

    def replace(self, **changes: Any) -> "Params":
        """A copy with some values changed, checked again like a file's."""
        return _build({**thaw(self.checked), **changes}, self.path)

    def files(self, table: str) -> list[Path]:
        """The input files of ``table`` (globs expanded, sorted); empty when not configured."""
        spec = ((self.forms or {}).get("files") if table == "forms"  # issue 17
                else (self.data or {}).get(table))
        if not spec:
            return []
        patterns = [spec] if isinstance(spec, str) else list(spec)
        out: list[Path] = []
        for pattern in patterns:
            full = str(self.base_dir / pattern)
            matches = sorted(glob.glob(full)) if glob.has_magic(full) else ([full] if os.path.exists(full) else [])
            if not matches:
                key = "forms.files" if table == "forms" else f"data.{table}"
                raise ParamsError(f"{self.path.name} {key}: {pattern!r} matches no file (expected an existing "
                                  f"file or a glob matching files; looked for {full}). Fix: correct the path; paths "
                                  "are relative to the params file's folder")
            out.extend(Path(m).resolve() for m in matches)
        return out

    def has_table(self, table: str) -> bool:
        """True when ``table`` has an input: a ``data`` entry, or a forms export for audits, ratings, comments."""
        if (self.data or {}).get(table):
            return True
        return table in FORMS_TABLES and bool((self.forms or {}).get("files"))

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


def _params_fields() -> list[tuple[str, Any, dataclasses.Field]]:
    converted = {"period": Period, "output_dir": Path, "return_target": float}  # types after _build's conversion
    fields = [(key.attr or name, converted.get(name, _annotation(key)), dataclasses.field(metadata={"key": name}))
              for name, key in SCHEMA.items()]
    return [*fields,
            ("path", Path, dataclasses.field(metadata={"doc": "the params YAML file"})),
            ("base_dir", Path, dataclasses.field(metadata={"doc": "its folder: paths in it are relative to this"})),
            ("checked", Mapping, dataclasses.field(repr=False, compare=False,
                                                   metadata={"doc": "every key's value as checked (plain)"}))]


Params = dataclasses.make_dataclass(
    "Params", _params_fields(), bases=(_ParamsMethods,), frozen=True,
    namespace={"__module__": __name__, "__doc__": """Validated parameters of one run (frozen; generated from :data:`SCHEMA`).

    One attribute per schema key, typed as the schema says (lists as tuples, mappings read-only),
    except ``period`` (a :class:`~qa_lib.inputs.periods.Period`), ``return_target`` (a float) and
    ``output_dir``, which is ``output_root`` (the resolved folder) while :attr:`output_dir` is
    ``outputs/<period>/``; plus ``path`` (the YAML file) and ``base_dir`` (its folder). Build one
    with :func:`load_params`; change one with :meth:`replace`.
    """})


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _build(raw: Mapping[str, Any], path: Path) -> "Params":
    """Check ``raw`` (a params file's mapping) and build the frozen :class:`Params`."""
    file = path.name
    values = _check_mapping(raw, SCHEMA, "", file)
    _check_relations(values, file, path.parent)
    values["period"] = parse_period(str(values["period"]), where=f"{file} period").label
    values["return_target"] = float(values["return_target"])
    typed = {}
    for name, key in SCHEMA.items():
        typed[key.attr or name] = freeze(values[name])
    typed["period"] = parse_period(values["period"])
    typed["output_root"] = (path.parent / values["output_dir"]).resolve()
    params = Params(**typed, path=path, base_dir=path.parent, checked=FrozenMap(freeze(values)))
    for table in (*TABLES, "forms"):
        params.files(table)  # raises for missing files now, not mid-report
    return params


def load_params(path: str | os.PathLike, overrides: Mapping[str, Any] | None = None) -> "Params":
    """Read and validate a params YAML: the one validation path of ``validate`` and ``run``.

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
        Missing file, YAML syntax error, anchor or alias, unknown key, wrong type, a value out of
        range or not among the choices, a broken relation between keys, malformed period,
        invalid theme expression, numeric suppression mark, output folder that cannot be
        written, missing input file, unknown report name.
    """
    path = Path(path).resolve()
    raw = read_params_file(path)
    raw = {**raw, **{k: v for k, v in (overrides or {}).items() if v is not None}}
    return _build(raw, path)


# ------------------------------------------------------------------------------------------------
# generated documentation: params-help and the JSON Schema
# ------------------------------------------------------------------------------------------------
def _walk(schema: Mapping[str, Key] = SCHEMA, prefix: str = "") -> Iterator[tuple[str, Key]]:
    for name, key in schema.items():
        yield prefix + name, key
        if key.keys is not None:
            yield from _walk(key.keys, prefix + name + ".")


def _help_type(key: Key) -> str:
    text = _type_names(key.types)
    item = _as_key(key.items)
    if item is not None and list in key.types:
        text += f" of {_type_names(item.types)}"
    elif item is not None and key.free_keys:
        text += f" of label -> {_type_names(item.types)}"
    if key.minimum is not None or key.maximum is not None:
        low, high = key.minimum, key.maximum
        text += (f", {low:g} to {high:g}" if low is not None and high is not None
                 else f", at least {low:g}" if low is not None else f", at most {high:g}")
    return text


def params_help() -> str:
    """Every params key with its type, default, choices and help (``qa-workbook params-help``)."""
    lines = ["Params file keys (qa_lib/inputs/params.py SCHEMA; paths are relative to the params file).",
             "A file may start with 'extends: <another params file>' and state only what differs.", ""]
    for name, key in _walk():
        default = "required" if name == "period" else (
            "none" if key.default is None else f"default {json.dumps(key.default, ensure_ascii=False)}")
        kind = "a mapping of the keys below" if key.keys is not None else f"{_help_type(key)}; {default}"
        lines.append(f"{name}  ({kind})")
        lines.append(f"    {key.help}")
        if key.choices is not None:
            lines.append(f"    choices: {', '.join(map(str, key.choices))}")
    return "\n".join(lines) + "\n"


_JSON_TYPES = {str: "string", int: "integer", float: "number", bool: "boolean", list: "array", dict: "object"}


def _json_key(key: Key) -> dict[str, Any]:
    types = ["number"] if set(key.types) == {float, int} else [_JSON_TYPES[t] for t in key.types]
    out: dict[str, Any] = {}
    if key.help:
        out["description"] = key.help
    out["type"] = types[0] if len(types) == 1 else types
    if key.default is not None:
        out["default"] = key.default
    if key.choices is not None:
        if "array" in types:
            out["items"] = {"enum": list(key.choices)}
        else:
            out["enum"] = list(key.choices)
    if key.minimum is not None:
        out["minimum"] = key.minimum
    if key.maximum is not None:
        out["maximum"] = key.maximum
    item = _as_key(key.items)
    if item is not None and "array" in types:
        out.setdefault("items", {}).update(_json_key(item))
    if key.keys is not None:
        out["properties"] = {k: _json_key(sub) for k, sub in key.keys.items()}
        out["additionalProperties"] = False
    elif key.free_keys:
        out["additionalProperties"] = _json_key(item) if item is not None else True
    return out


def json_schema() -> dict[str, Any]:
    """The params schema as JSON Schema (draft 2020-12), for YAML editors (``params/params.schema.json``).

    It checks types, choices, ranges and key names as you type; the rules that tie keys together
    (e.g. ``good_or_better`` within the grade scale) and file checks are :func:`load_params`'s.
    """
    props = {name: _json_key(key) for name, key in SCHEMA.items()}
    props["extends"] = {"description": "another params file (relative path) whose keys this file takes; "
                                       "keys stated here replace the base file's", "type": "string"}
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://qa-workbook.invalid/params.schema.json",
        "title": "QA Workbook params file",
        "description": "One reporting period's settings. Generated by `qa-workbook params-schema --write` "
                       "from qa_lib/inputs/params.py SCHEMA: do not edit by hand.",
        "type": "object",
        "properties": props,
        "additionalProperties": False,
        "anyOf": [{"required": ["extends"]}, {"required": ["period", "data"]}, {"required": ["period", "forms"]}],
    }


def json_schema_text() -> str:
    """:func:`json_schema` as the text of ``params/params.schema.json``."""
    return json.dumps(json_schema(), indent=2, ensure_ascii=False) + "\n"

"""Issue 15: a corpus of bad (and good) inputs through both ``validate`` and the run path.

Every case is a small folder of input files and a params file. Each goes through
``qa-workbook validate`` (``cli.main``, in-process) and through the run path's own steps in-process
(:func:`run_path`: plan, output-folder check, input pre-flight, load and validation as the notebooks
do it, the whole-file rule that fails a report, and the exit code ``run`` gives), and asserts:

- no traceback, on stdout or stderr;
- the expected exit code, the same from ``validate`` and from the run path (0 clean; 1 rows or files
  set aside, or a failed report; 2 unusable params or arguments);
- a message naming the file at fault (and, where given, a phrase of the expected message);
- no silent change of rows: rows read into the clean tables + rows set aside = data rows in the file.

``test_corpus_through_the_real_cli`` (slow) runs a sample of the cases through the real
``qa-workbook run`` with a kernel and checks it agrees. ``corpus_table()`` prints the table of
cases, exit codes and first message lines (``python tests/inputs/test_input_corpus.py``).
"""

from __future__ import annotations

import errno
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import pandas as pd
import pytest
import yaml

from qa_lib.core.errors import QAError
from qa_lib.inputs.data import load_dataset
from qa_lib.inputs.params import load_params
from qa_lib.running import cli, render

ROOT = Path(__file__).resolve().parents[2]

HEAD = {
    "audits": "audit_id,case_id,audit_date,service_area,auditor_id",
    "ratings": "audit_id,rater_id,role,domain,grade",
    "allocations": "allocation_id,month,service_area,status",
    "feedback": "response_id,response_date,survey,question,answer",
    "actions": "action_id,audit_id,raised_date,due_date",
    "comments": "audit_id,domain,kind,text",
}
GOOD_AUDITS = HEAD["audits"] + "\nA1,C1,2024-07-01,Front Door,X1\nA2,C2,2024-07-02,Front Door,X2\nA3,C3,2024-08-05,Assessment,X1\n"


@dataclass
class Case:
    name: str
    code: int  # expected exit code of validate and of run
    files: dict[str, bytes] = field(default_factory=dict)  # table -> file content (others: header only, audits good)
    extra: dict = field(default_factory=dict)  # params keys
    says: str = ""  # a phrase the first message must hold
    names: str | None = None  # the file the message must name (default: the first file of the case)
    suffix: dict[str, str] = field(default_factory=dict)  # table -> file suffix (default .csv)
    rows: dict[str, int] | None = None  # table -> data rows in the file (default: counted from the text)
    setup: Callable[[Path, object], None] | None = None  # e.g. make the output folder unusable
    real_run: bool = False  # also through the real `qa-workbook run` (slow)


def a(*rows: str, head: str = HEAD["audits"], enc: str = "utf-8", nl: str = "\n") -> bytes:
    return (nl.join([head, *rows]) + nl).encode(enc)


def t(table: str, *rows: str, enc: str = "utf-8") -> bytes:
    return ("\n".join([HEAD[table], *rows]) + "\n").encode(enc)


def _date_cases() -> list[Case]:
    ok = [("iso", "2024-07-01"), ("iso-time", "2024-07-01T10:15:00"), ("uk-slash", "01/07/2024"),
          ("uk-dash", "1-7-2024"), ("uk-dots", "01.07.2024"), ("uk-short-year", "01/07/24"),
          ("uk-time", "01/07/2024 10:15"), ("named", "1 July 2024"), ("named-short", "1-Jul-24"),
          ("named-abbrev", "1 Jul 2024"), ("excel-serial", "45474"), ("us-named", "\"July 1, 2024\"")]
    cases = [Case(f"date {n}", 0, {"audits": a(f"A1,C1,{v},Front Door,X1")}) for n, v in ok]
    placeholders = [("9999-12-31", "9999-12-31"), ("3024-01-01", "3024-01-01"), ("31/12/9999", "31/12/9999"),
                    ("1900-01-01", "1900-01-01"), ("01/01/1900", "01/01/1900"), ("serial 2958465", "2958465"),
                    ("1753-01-01", "1753-01-01"), ("2999-01-01", "2999-01-01"), ("0001-01-01", "0001-01-01")]
    cases += [Case(f"placeholder date {n}", 1, {"audits": a(f"A1,C1,{v},Front Door,X1", "A2,C2,2024-07-01,Front Door,X1")},
                   says="looks like a 'no date' placeholder", real_run=n == "9999-12-31") for n, v in placeholders]
    cases += [
        Case("placeholder in every date column of actions", 1, {"actions": t(
            "actions", "P1,A1,9999-12-31,2024-09-01", "P2,A1,2024-07-01,3024-01-01")}, says="placeholder"),
        Case("placeholder completed_date, placeholder_dates: blank", 0, {"actions": (
            "action_id,audit_id,raised_date,due_date,completed_date\nP1,A1,2024-07-01,2024-09-01,9999-12-31\n").encode()},
            extra={"placeholder_dates": "blank"}, says="treated as blank"),
        Case("placeholder completed_date, default: rejected", 1, {"actions": (
            "action_id,audit_id,raised_date,due_date,completed_date\nP1,A1,2024-07-01,2024-09-01,9999-12-31\n").encode()},
            says="placeholder_dates: blank"),
        # issue 17: due_date is optional, so a blanked placeholder is no due date (due action_due_weeks after raising)
        Case("placeholder due_date, placeholder_dates: blank (optional: blank, with a warning)", 0, {"actions": t(
            "actions", "P1,A1,2024-07-01,9999-12-31")}, extra={"placeholder_dates": "blank"}, says="placeholder"),
        Case("placeholder month in allocations", 1, {"allocations": t("allocations", "L1,9999-12,Front Door,returned")},
             says="placeholder"),
        Case("US dates: day above 12 in second place", 1, {"audits": a(
            "A1,C1,07/23/2024,Front Door,X1", "A2,C2,07/04/2024,Front Door,X1", "A3,C3,2024-08-01,Front Door,X1")},
            says="writes dates month first", real_run=True),
        Case("US dates, date_format: month-first", 0, {"audits": a(
            "A1,C1,07/23/2024,Front Door,X1", "A2,C2,07/04/2024,Front Door,X1")}, extra={"date_format": "month-first"}),
        Case("UK dates, date_format: day-first", 0, {"audits": a("A1,C1,23/07/2024,Front Door,X1")},
             extra={"date_format": "day-first"}),
        Case("UK date with date_format: month-first", 1, {"audits": a("A1,C1,23/07/2024,Front Door,X1")},
             extra={"date_format": "month-first"}, says="month before day"),
        Case("dates both ways in one file", 1, {"audits": a(
            "A1,C1,23/07/2024,Front Door,X1", "A2,C2,07/23/2024,Front Door,X1", "A3,C3,04/07/2024,Front Door,X1")},
            says="some dates day first"),
        Case("US evidence in one actions column", 1, {"actions": t("actions", "P1,A1,07/01/2024,09/30/2024")},
             says="month first"),
        Case("US months in allocations", 1, {"allocations": t(
            "allocations", "L1,07/23/2024,Front Door,returned", "L2,2024-07,Front Door,returned")}, says="month first"),
        Case("ambiguous UK dates only (default day-first)", 0, {"audits": a("A1,C1,04/07/2024,Front Door,X1")}),
        Case("not a date", 1, {"audits": a("A1,C1,soon,Front Door,X1")}, says="is not a date"),
        Case("31 February", 1, {"audits": a("A1,C1,31/02/2024,Front Door,X1")}, says="is not a date"),
        Case("month 13 ISO", 1, {"audits": a("A1,C1,2024-13-01,Front Door,X1")}, says="is not a date"),
        Case("year only", 1, {"audits": a("A1,C1,2024,Front Door,X1")}, says="is not a date"),
        Case("blank required date", 1, {"audits": a("A1,C1,,Front Door,X1")}, says="is required"),
    ]
    return cases


def _encoding_cases() -> list[Case]:
    body = ["A1,C1,2024-07-01,Équipe Nord,X1", "A2,C2,2024-07-02,Front Door,X1"]
    stray = a("A1,C1,2024-07-01,Équipe Nord,X1")[:-1] + b"\nA2,C2,2024-07-02,\xc9quipe Sud,X1\nA3,C3,2024-07-03,Front Door,X1\n"
    cases = [
        Case("UTF-8", 0, {"audits": a(*body)}),
        Case("UTF-8 with BOM", 0, {"audits": b"\xef\xbb\xbf" + a(*body)}),
        Case("Windows-1252", 0, {"audits": a(*body, enc="cp1252")}),
        Case("UTF-8 BOM header, Windows-1252 body", 0, {"audits": b"\xef\xbb\xbf" + a(*body, enc="cp1252")}),
        Case("UTF-16 LE with BOM, tab-delimited (Excel Unicode text)", 0, {"audits": a(
            *[r.replace(",", "\t") for r in body], head=HEAD["audits"].replace(",", "\t"), enc="utf-16", nl="\r\n")},
            real_run=True),
        Case("UTF-16 LE with BOM, comma-delimited", 0, {"audits": a(*body, enc="utf-16")}),
        Case("UTF-16 BE with BOM", 0, {"audits": a(*body, enc="utf-16-be")[:0] + b"\xfe\xff" + a(*body, enc="utf-16-be")}),
        Case("UTF-16 LE without BOM, tab-delimited", 0, {"audits": a(
            *[r.replace(",", "\t") for r in body], head=HEAD["audits"].replace(",", "\t"), enc="utf-16-le")}),
        Case("UTF-32 with BOM", 0, {"audits": a(*body, enc="utf-32")}),
        Case("stray cp1252 byte in UTF-8", 1, {"audits": stray}, says="byte 0xC9 is not UTF-8", real_run=True),
        Case("stray bytes on two rows", 1, {"audits": stray.replace(b"Front Door", b"Front \x96 Door")},
             says="row 3"),
        Case("UTF-16 BOM then bad bytes", 1, {"audits": b"\xff\xfe" + a(*body, enc="utf-16-le")[:-3]},
             says="not UTF-16"),
        Case("binary content named .csv", 1, {"audits": b"\x00\x01\x02\x03\x04binary\x00\x00\x07" * 40},
             says="binary"),
        Case("zip bytes named .csv", 1, {"audits": b"PK\x03\x04" + bytes(range(256)) * 4}, says="audits.csv"),
        Case("empty file", 1, {"audits": b""}, says="empty file"),
        Case("whitespace only", 1, {"audits": b"  \n\n \n"}, says="empty file"),
        Case("CRLF line ends", 0, {"audits": a(*body, nl="\r\n")}),
        Case("CR-only line ends (old Mac)", 0, {"audits": a(*body, nl="\r")}),
        Case("bytes Windows-1252 cannot decode (charset-normalizer decides)", 0, {"comments": (
            HEAD["comments"] + "\nA1,Chronology,strength,caf\x81 \x8d good\n").encode("latin-1")}),
    ]
    return cases


def _column_cases() -> list[Case]:
    semi = a("A1;C1;2024-07-01;Front Door;X1", head="Audit Ref;Case;Audit date;Service area;Auditor")
    return [
        Case("semicolon delimiter", 1, {"audits": semi}, says="is the delimiter ';'", real_run=True),
        Case("semicolon delimiter with delimiter: ;", 0, {"audits": a(
            "A1;C1;2024-07-01;Front Door;X1", head=HEAD["audits"].replace(",", ";"))}, extra={"delimiter": ";"}),
        Case("pipe delimiter", 1, {"audits": a("A1|C1|2024-07-01|Front Door|X1", head=HEAD["audits"].replace(",", "|"))},
             says="is the delimiter '|'"),
        Case("pipe delimiter with delimiter: |", 0, {"audits": a("A1|C1|2024-07-01|Front Door|X1",
                                                                 head=HEAD["audits"].replace(",", "|"))},
             extra={"delimiter": "|"}),
        Case("tab delimiter in UTF-8", 0, {"audits": a("A1\tC1\t2024-07-01\tFront Door\tX1",
                                                        head=HEAD["audits"].replace(",", "\t"))}),
        Case("renamed header", 1, {"audits": a("A1,C1,2024-07-01,Front Door,X1",
                                               head="Audit Ref,case_id,audit_date,service_area,auditor_id")},
             says="closest: map 'Audit Ref: audit_id'"),
        Case("renamed header mapped in params", 0, {"audits": a("A1,C1,2024-07-01,Front Door,X1",
                                                                head="Audit Ref,case_id,audit_date,service_area,auditor_id")},
             extra={"columns": {"audits": {"Audit Ref": "audit_id"}}}),
        Case("header in other case and spacing", 0, {"audits": a("A1,C1,2024-07-01,Front Door,X1",
                                                                 head="Audit ID, Case ID ,AUDIT DATE,Service Area,Auditor ID")}),
        Case("title rows above the header", 0, {"audits": b"Audit export\nRun 2024-10-01\n\n" + a("A1,C1,2024-07-01,Front Door,X1")}),
        Case("two columns claim audit_id", 1, {"audits": a("A1,A1,C1,2024-07-01,Front Door,X1",
                                                           head="audit_id,Audit ID,case_id,audit_date,service_area,auditor_id")},
             says="more than once"),
        Case("missing required column", 1, {"audits": a("A1,C1,2024-07-01,X1", head="audit_id,case_id,audit_date,auditor_id")},
             says="service_area not found"),
        Case("header only (no rows)", 0, {"audits": a(head=HEAD["audits"])}),
        Case("ragged row (extra cells)", 0, {"audits": a("A2,C2,2024-07-01,Front Door,X1",
                                                         "A1,C1,2024-07-01,Front Door,X1,extra,cells")},
             says="cells under no header"),
        Case("short row (missing cells)", 1, {"audits": a("A1,C1,2024-07-01")}, says="is required"),
        Case("blank lines between rows", 0, {"audits": a("A1,C1,2024-07-01,Front Door,X1", "", "",
                                                         "A2,C2,2024-07-01,Front Door,X1")}),
        Case("quoted line break in a cell", 0, {"comments": t("comments", 'A1,Chronology,strength,"line one\nline two"')}),
        Case("quoted delimiter in a cell", 0, {"comments": t("comments", 'A1,Chronology,strength,"good, clear plan"')}),
        Case("blank header cell (merged cells)", 0, {"audits": a("A1,C1,2024-07-01,Front Door,X1,note",
                                                                 head=HEAD["audits"] + ",")}, says="cells under no header"),
        Case("xlsx that is not a workbook", 1, {"audits": b"this is not a spreadsheet"}, suffix={"audits": ".xlsx"},
             says="audits.xlsx"),
        Case("wide ratings without ratings_wide.domains", 2, {"ratings": t("ratings", "A1,X1,auditor,Overall,Good")},
             extra={"ratings_format": "wide"}, says="ratings_wide.domains", names="params.yaml"),
    ]


def _choice_and_value_cases() -> list[Case]:
    return [
        Case("status column all blank", 1, {"allocations": t("allocations", "L1,2024-07,Front Door,", "L2,2024-07,Front Door,")},
             says="status is required"),
        Case("role column all blank", 1, {"ratings": t("ratings", "A1,X1,,Overall,Good", "A2,X1,,Overall,Good")},
             says="role is required"),
        Case("kind column all blank", 1, {"comments": t("comments", "A1,Chronology,,text")}, says="kind is required"),
        Case("polarity column all blank", 1, {"indicators": (
            "indicator,period,value,polarity\nRe-referrals,2024-07,22.4,\nRe-referrals,2024-08,21.0,\n").encode()},
            says="polarity is required"),
        Case("every cell of a row blank but commas", 0, {"audits": a("A1,C1,2024-07-01,Front Door,X1", ",,,,")}),
        Case("unknown role", 1, {"ratings": t("ratings", "A1,X1,boss,Overall,Good")}, says="a value of 4 characters (letters) is not valid (expected auditor, moderator or peer)"),
        Case("unknown status", 1, {"allocations": t("allocations", "L1,2024-07,Front Door,maybe")}, says="a value of 5 characters"),
        Case("unknown grade", 1, {"ratings": t("ratings", "A1,X1,auditor,Overall,Gd?")}, says="3 characters"),
        Case("grade alias RI", 0, {"ratings": t("ratings", "A1,X1,auditor,Overall,RI")}),
        Case("rating of an unknown audit", 1, {"ratings": t("ratings", "A9,X1,auditor,Overall,Good")},
             says="not an audit in the audits table"),
        Case("duplicate audit id", 1, {"audits": a("A1,C1,2024-07-01,Front Door,X1", "A1,C2,2024-07-02,Front Door,X1")},
             says="repeats the audit id"),
        Case("duplicate grade", 1, {"ratings": t("ratings", "A1,X1,auditor,Overall,Good", "A1,X1,auditor,Overall,Good")},
             says="repeats"),
        Case("bad yes/no (warning only)", 0, {"allocations": (
            "allocation_id,month,service_area,status,practitioner_took_part\nL1,2024-07,Front Door,returned,perhaps\n").encode()},
            says="is not yes or no"),
        Case("non-numeric indicator value", 1, {"indicators": (
            "indicator,period,value,polarity\nRe-referrals,2024-07,lots,lower is better\n").encode()}, says="is not a number"),
        Case("leading/trailing spaces everywhere", 0, {"audits": a("  A1 , C1 , 2024-07-01 , Front Door , X1 ")}),
        Case("thousand rows, one bad", 1, {"audits": a(*[f"B{i},C{i},2024-07-01,Front Door,X1" for i in range(999)],
                                                       "B999,C999,31/31/2024,Front Door,X1")}, says="row 1001"),
    ]


def _params_cases() -> list[Case]:
    def output_is_file(folder: Path, _):
        (folder / "out").write_text("I am a file, not a folder")

    def output_inside_file(folder: Path, _):
        (folder / "out").write_text("I am a file")

    return [
        Case("missing input file", 2, {}, extra={"data": {"audits": "audits.csv", "ratings": "nosuch.csv"}},
             says="nosuch.csv", names="nosuch.csv", real_run=True),
        Case("missing audits glob", 2, {}, extra={"data": {"audits": "audits-*.xlsx"}}, says="matches no file",
             names="audits-*.xlsx"),
        Case("unknown params key", 2, {}, extra={"colums": {}}, says="colums", names="params.yaml"),
        Case("bad period", 2, {}, extra={"period": "Summer"}, says="Summer", names="params.yaml"),
        Case("bad date_format", 2, {}, extra={"date_format": "american"}, says="american", names="params.yaml"),
        Case("bad delimiter", 2, {}, extra={"delimiter": "x"}, says="delimiter", names="params.yaml"),
        Case("output_dir is a file", 2, {}, setup=output_is_file, says="is a file", names="params.yaml",
             real_run=True),
        Case("output_dir below a file", 2, {}, extra={"output_dir": "out/reports"}, setup=output_inside_file,
             says="is a file", names="params.yaml"),
        Case("strict run with a rejected row", 1, {"audits": a("A1,C1,soon,Front Door,X1")}, extra={"strict": True},
             says="is not a date"),
    ]


def _multi_file_cases() -> list[Case]:
    return [
        Case("two audits files, one semicolon", 1, {"audits": GOOD_AUDITS.encode(), "audits2": a(
            "B1;C1;2024-07-01;Front Door;X1", head=HEAD["audits"].replace(",", ";"))}, says="is the delimiter ';'",
            names="audits2.csv"),
        Case("two audits files, one US dated", 1, {"audits": GOOD_AUDITS.encode(), "audits2": a(
            "B1,C1,07/23/2024,Front Door,X1", "B2,C2,07/04/2024,Front Door,X1")}, says="month first", names="audits2.csv"),
        Case("two audits files, one UK one ISO", 0, {"audits": GOOD_AUDITS.encode(), "audits2": a(
            "B1,C1,23/07/2024,Front Door,X1")}),
        Case("two audits files, one cp1252 one UTF-8", 0, {"audits": GOOD_AUDITS.encode(), "audits2": a(
            "B1,C1,2024-07-01,Équipe,X1", enc="cp1252")}),
    ]


CASES = _date_cases() + _encoding_cases() + _column_cases() + _choice_and_value_cases() + _params_cases() + \
    _multi_file_cases()


def build(case: Case, folder: Path) -> Path:
    """Write the case's files (audits good unless given; other tables header-only) and its params."""
    folder.mkdir(parents=True, exist_ok=True)
    files = {"audits": GOOD_AUDITS.encode(), **{k: v for k, v in case.files.items()}}
    data: dict[str, object] = {}
    for table in HEAD:
        content = files.get(table, (HEAD[table] + "\n").encode())
        name = f"{table}{case.suffix.get(table, '.csv')}"
        (folder / name).write_bytes(content)
        data[table] = name
    for table in ("indicators",):
        if table in files:
            (folder / f"{table}.csv").write_bytes(files[table])
            data[table] = f"{table}.csv"
    if "audits2" in files:
        (folder / "audits2.csv").write_bytes(files["audits2"])
        data["audits"] = ["audits.csv", "audits2.csv"]
    params = {"period": "2024-25 Q2", "data": data, "output_dir": "out", "reports": ["quarterly"]}
    extra = dict(case.extra)
    if "data" in extra:
        params["data"] = {**data, **extra.pop("data")}
    params.update(extra)
    path = folder / "params.yaml"
    path.write_text(yaml.safe_dump(params, sort_keys=False, allow_unicode=True), encoding="utf-8")
    if case.setup:
        case.setup(folder, None)
    return path


def run_path(params_path: Path) -> tuple[int, str, object]:
    """What ``qa-workbook run`` does for this params file up to the kernel, in-process and with the same
    functions: plan (load_params), the output-folder check, the input pre-flight, the notebook's load
    and validation, the whole-file rule that fails a report, then the exit code ``run`` would give
    (:func:`cli.run_exit_code`). Returns (code, first message line, dataset or None)."""
    try:
        params = load_params(params_path)
    except QAError as exc:
        res = render.JobResult(str(params_path), "?", "*", "failed", error=str(exc))
        return cli.run_exit_code([res]), str(exc), None
    try:
        render.check_output_dir(params)
        render.check_inputs(params)
        ds = load_dataset(params)
    except QAError as exc:
        res = render.JobResult(str(params.path), params.period.label, "quarterly", "failed", error=str(exc))
        return cli.run_exit_code([res]), str(exc), None
    issues = ds.issues
    whole = issues[issues["rule"].isin(render.WHOLE_FILE_RULES)] if len(issues) else issues
    rejected = issues[issues["severity"] == "rejected"] if len(issues) else issues
    if len(whole):
        res = render.JobResult(str(params.path), params.period.label, "quarterly", "failed",
                               error="input file(s) could not be used: " + "; ".join(whole["message"]))
        return cli.run_exit_code([res]), str(whole["message"].iloc[0]), ds
    res = render.JobResult(str(params.path), params.period.label, "quarterly", "ok", html="x.html")
    first = str(issues["message"].iloc[0]) if len(issues) else "ok"
    return cli.run_exit_code([res], {"x": len(rejected)} if len(rejected) else None), first, ds


def data_rows(content: bytes, path: Path) -> int:
    """Data records in a file, counted independently of qa_lib: pandas on the decoded text, after the header,
    blank records left out."""
    from qa_lib.inputs.io import decode_file

    text = decode_file(path, content).text.replace("\r\n", "\n").replace("\r", "\n")
    first = next(line for line in text.splitlines() if line.strip())
    sep = max(("\t", ";", "|", ","), key=lambda d: (first.count(d), d == ","))
    import csv
    import io as _io

    records = [r for r in csv.reader(_io.StringIO(text), delimiter=sep) if any(c.strip() for c in r)]
    known = {c for h in HEAD.values() for c in h.split(",")} | {"polarity", "indicator"}
    head = next(i for i, r in enumerate(records) if any(c.strip().lower().replace(" ", "_") in known for c in r))
    return len(records) - head - 1


def check_rows(case: Case, folder: Path, ds) -> None:
    """read + rejected = rows in the file, for each table the case wrote (file-level rejections count
    their rows; an unreadable file counts as all of its rows)."""
    if ds is None or case.extra.get("ratings_format") == "wide":
        return
    issues = ds.issues
    for table in [k for k in case.files if k in ("audits", "allocations", "actions", "comments", "ratings", "audits2")]:
        name = "audits" if table == "audits2" else table
        clean = getattr(ds, name)
        rej = issues[(issues["table"] == name) & (issues["severity"] == "rejected")] if len(issues) else issues
        files = ["audits.csv", "audits2.csv"] if name == "audits" and "audits2" in case.files else \
            [f"{name}{case.suffix.get(name, '.csv')}"]
        total_rows = 0
        for fname in files:
            path = folder / fname
            content = path.read_bytes()
            try:
                total_rows += data_rows(content, path)
            except Exception:  # noqa: BLE001 - undecodable or binary: the loader must have set the file aside
                assert (rej["file"] == fname).any() and rej.loc[rej["file"] == fname, "rule"].eq("unreadable_file").all()
                return
        if (rej["rule"] == "unreadable_file").any():
            return  # the whole file is set aside and named; its rows cannot be counted by the loader
        n_rows = rej["n_rows"] if "n_rows" in rej.columns else pd.Series(pd.NA, index=rej.index)
        whole = n_rows.notna().to_numpy()
        set_aside = int(n_rows[whole].astype(int).sum()) + int((~whole).sum())
        assert len(clean) + set_aside == total_rows, (case.name, name, len(clean), set_aside, total_rows)


@pytest.fixture
def one_load(monkeypatch):
    """validate and the run path load the same inputs: load once per (params file, strict) and share it."""
    import qa_lib.running.cli as cli_mod

    memo: dict = {}
    original = load_dataset

    def load(params):
        key = (str(params.path), bool(params.strict))
        if key not in memo:
            memo[key] = original(params)
        return memo[key]
    monkeypatch.setattr(cli_mod, "load_dataset", load)
    monkeypatch.setattr(sys.modules[__name__], "load_dataset", load)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_corpus_case(case: Case, tmp_path, capsys, one_load):
    folder = tmp_path / "case"
    params = build(case, folder)
    v_code = cli.main(["validate", str(params)])
    out = capsys.readouterr()
    text = out.out + out.err
    assert "Traceback" not in text
    r_code, r_first, ds = run_path(params)
    assert v_code == case.code, (case.name, text[:2000])
    assert r_code == case.code, (case.name, r_first)
    named = case.names or (next((f"{k}{case.suffix.get(k, '.csv')}" for k in case.files if k != "audits"), None)
                           if any(k != "audits" for k in case.files) and "audits2" not in case.files
                           else ("audits2.csv" if "audits2" in case.files else f"audits{case.suffix.get('audits', '.csv')}"))
    if case.code:
        assert named in text, (case.name, named, text[:1500])
        assert named in r_first or named in text, (case.name, r_first)
    if case.says:
        assert case.says in text, (case.name, case.says, text[:2000])
    check_rows(case, folder, ds)


def test_corpus_is_large_and_varied():
    assert len(CASES) >= 100, len(CASES)
    assert {c.code for c in CASES} == {0, 1, 2}
    assert len({c.name for c in CASES}) == len(CASES)


@pytest.mark.parametrize("why, exc", [("read-only", OSError(errno.EROFS, "Read-only file system")),
                                      ("no permission", PermissionError(errno.EACCES, "Permission denied")),
                                      ("disk full", OSError(errno.ENOSPC, "No space left on device"))])
def test_output_folder_faults_are_one_line_and_exit_2(tmp_path, monkeypatch, why, exc):
    """As root, chmod cannot make a folder read-only: the write probe is made to fail as the OS would."""
    params = build(Case("x", 0), tmp_path / "case")

    def refuse(*a, **k):
        raise exc
    monkeypatch.setattr(render.tempfile, "mkstemp", refuse)
    code, first, _ = run_path(params)
    assert code == 2 and "\n" not in first and "params.yaml output_dir" in first
    assert {"read-only": "read-only file system", "no permission": "permission denied", "disk full": "disk full"}[why] in first


def test_disk_full_in_a_notebook_is_named(tmp_path):
    err = RuntimeError("Notebook does not appear to be JSON")
    err.__context__ = OSError(errno.ENOSPC, "No space left on device")
    assert render._disk_full(err)
    assert "disk full" in render.os_error_text(OSError(errno.ENOSPC, "x"), tmp_path)


def test_internal_error_exits_3_with_a_log_beside_the_outputs(tmp_path, capsys, monkeypatch):
    params = build(Case("x", 0), tmp_path / "case")

    def boom(*a, **k):
        raise ValueError("something the code did not expect")
    monkeypatch.setattr(cli, "load_dataset", boom)
    assert cli.main(["validate", str(params)]) == 3
    err = capsys.readouterr().err
    assert "Traceback" not in err and "please report it" in err
    log = tmp_path / "case" / "out" / cli.ERROR_LOG
    assert log.is_file() and "Traceback" in log.read_text() and str(log) in err


# -- slow: the real `qa-workbook run`, with a kernel, agrees ----------------------------------------
@pytest.mark.slow
@pytest.mark.parametrize("case", [c for c in CASES if c.real_run], ids=[c.name for c in CASES if c.real_run])
def test_corpus_through_the_real_cli(case: Case, tmp_path):
    params = build(case, tmp_path / "case")
    proc = subprocess.run([sys.executable, "-m", "qa_lib.running.cli", "run", str(params), "--jobs", "1", "--quiet"],
                          capture_output=True, text=True, cwd=ROOT, timeout=600)
    text = proc.stdout + proc.stderr
    assert "Traceback" not in text
    assert proc.returncode == case.code, text[-3000:]
    if case.code:
        assert (case.names or "") in text
    html = tmp_path / "case" / "out" / "2024-25-Q2" / "quarterly.html"
    whole_file = case.says in ("is the delimiter ';'",)
    assert html.is_file() == (case.code in (0, 1) and not whole_file), text[-2000:]


@pytest.mark.slow
def test_one_unusable_output_folder_fails_only_its_params_file(tmp_path):
    good = build(Case("good", 0), tmp_path / "good")
    bad_folder = tmp_path / "bad"
    bad = build(Case("bad", 2), bad_folder)
    (bad_folder / "out").write_text("a file where the output folder should be")
    proc = subprocess.run([sys.executable, "-m", "qa_lib.running.cli", "run", str(bad), str(good), "--jobs", "2",
                           "--quiet"], capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert "Traceback" not in proc.stdout + proc.stderr
    assert proc.returncode == 2
    out = tmp_path / "good" / "out"
    assert (out / "2024-25-Q2" / "quarterly.html").is_file()
    assert (out / "2024-25-Q2" / "manifest.json").is_file() and (out / "index.html").is_file()
    failed = [l for l in proc.stderr.splitlines() if "is a file" in l]
    assert len(failed) == 1 and "params.yaml" in failed[0]


def corpus_table() -> str:
    """The cases with their exit codes (validate / run path) and the first line of the message."""
    import contextlib
    import io as _io
    import tempfile

    rows = ["| case | expected | validate | run | first line of message |", "|---|---:|---:|---:|---|"]
    for case in CASES:
        with tempfile.TemporaryDirectory() as tmp:
            params = build(case, Path(tmp) / "case")
            buf_out, buf_err = _io.StringIO(), _io.StringIO()
            with contextlib.redirect_stdout(buf_out), contextlib.redirect_stderr(buf_err):
                v = cli.main(["validate", str(params)])
            r, first, _ = run_path(params)
            lines = [l for l in (buf_err.getvalue() + buf_out.getvalue()).splitlines() if l.strip()]
            msg = first if r else (lines[0] if lines else "")
            msg = msg.replace(str(Path(tmp)), "…").replace("|", "\\|").splitlines()[0][:150]
            rows.append(f"| {case.name} | {case.code} | {v} | {r} | {msg} |")
    return "\n".join(rows)


if __name__ == "__main__":
    print(corpus_table())

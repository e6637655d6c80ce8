"""``qa-workbook``: the command line.

    qa-workbook run PARAMS... [--jobs N] [--only REPORT[,REPORT...]] [--force] [--executor dask --scheduler ADDRESS]
                                     render every report of each params file into outputs/, in parallel,
                                     skipping jobs whose inputs are unchanged; options may come before,
                                     between or after the params files
    qa-workbook validate PARAMS...   check the params (as run does) and print the input issues table;
                                     exit 1 when there are issues, 2 when a params file is unusable
    qa-workbook params-help          every params key with its type, default, choices and help
    qa-workbook params-schema [--write]
                                     the params JSON Schema (for YAML editors); --write updates
                                     params/params.schema.json
    qa-workbook demo                 render the demo period (what `make demo` runs)
    qa-workbook sample --cases CASES.csv --history AUDITS.csv --month 2022-11
                                     draw next month's audit allocation (qa_lib.inputs.sampling)
    qa-workbook input-contract [--write]
                                     the input data contract (tables, required and optional columns) as
                                     Markdown; --write updates README.md's section
    qa-workbook --version            the installed version

Exit codes (every command; see EXIT_CODES):
    0  clean: every report rendered or skipped, no input issue
    1  data issues found (validate), or reports failed (run)
    2  unusable params or arguments (a missing params or input file, a bad key or value)
    3  internal error: a bug in QA Workbook; the message asks you to report it and names the log
       file beside the outputs that keeps the traceback
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as _dt
import os
import sys
import tempfile
import time
import traceback
from pathlib import Path

import pandas as pd

import qa_lib
from qa_lib.core.atomic import CSV_ENCODING, atomic_write_text
from qa_lib.core.errors import ParamsError, QAError
from qa_lib.inputs import sampling
from qa_lib.inputs.data import load_dataset, rejects_path
from qa_lib.inputs.io import contract_markdown, with_contract
from qa_lib.inputs.params import REPORTS, SCHEMA_FILE, json_schema_text, load_params, params_help
from qa_lib.running.batch import default_jobs, run_batch, summary
from qa_lib.running.render import WHOLE_FILE_RULES, output_dir_problem

ROOT = Path(__file__).resolve().parents[2]  # the checkout: qa_lib/running/ -> ../..
#: What the exit status means (README "Exit codes" and ``--help`` say the same).
EXIT_OK, EXIT_ISSUES, EXIT_UNUSABLE, EXIT_INTERNAL = 0, 1, 2, 3
EXIT_CODES = {EXIT_OK: "clean: every report rendered or skipped, no input issue",
              EXIT_ISSUES: "data issues found (validate), or reports failed (run)",
              EXIT_UNUSABLE: "unusable params or arguments (a missing params or input file, a bad key or value)",
              EXIT_INTERNAL: "internal error: a bug in QA Workbook; the message names a log file with the traceback "
                             "(beside the outputs) to send with your report"}
#: Name of the log an internal error leaves beside the outputs.
ERROR_LOG = "qa-workbook-error.log"
DEMO_PARAMS = ROOT / "params" / "demo.yaml"


def _print_results(results) -> int:
    failed = [r for r in results if r.status == "failed"]
    for r in results:
        if r.status == "ok":
            print(f"  ok      {r.period:<12} {r.report:<12} {r.seconds:5.1f}s  {r.html}")
        elif r.status == "skipped":
            print(f"  skipped {r.period:<12} {r.report:<12} (inputs unchanged)")
    if failed:
        print("\nFailed jobs:", file=sys.stderr)
        for r in failed:
            where = f" — failing cell: {r.failed_cell}" if r.failed_cell else ""
            print(f"  FAILED  {r.period:<12} {r.report:<12} {Path(r.params_file).name}: {r.error}{where}", file=sys.stderr)
    return 1 if failed else 0


def cmd_run(args) -> int:

    jobs = args.jobs or default_jobs()
    where = f"Dask cluster {args.scheduler}" if args.executor == "dask" else f"{jobs} worker process(es)"
    print(f"Rendering {len(args.params)} params file(s) on {where}{' (--force: every job)' if args.force else ''} ...",
          file=sys.stderr)
    results = run_batch(args.params, reports=args.only, jobs=jobs, force=args.force, executor=args.executor,
                  scheduler=args.scheduler, progress=not args.quiet)
    for r in results:
        if r.status == "ok":
            print(f"  ok      {r.period:<12} {r.report:<12} {r.seconds:5.1f}s  {r.html}")
        elif r.status == "skipped":
            print(f"  skipped {r.period:<12} {r.report:<12} inputs, params, notebook and qa_lib unchanged "
                  "since the last run (--force to re-run)")
    for note in sorted({n for r in results for n in r.notes}):
        print(f"  note: {note}")
    text = summary(results)
    print("\n" + text, file=sys.stderr if any(r.status == "failed" for r in results) else sys.stdout)
    roots = sorted({str(Path(r.html).parent.parent) for r in results if r.html})
    for root in roots:
        print(f"Index of reports: {Path(root) / 'index.html'}")
    set_aside = rows_set_aside(results)
    for path, n in set_aside.items():
        print(f"{n} input row(s) set aside for {path.parent.name}: listed with file, row and reason in {path} "
              "(a working file: never published)")
    return run_exit_code(results, set_aside)


def rows_set_aside(results) -> dict[Path, int]:
    """Rejected input rows per params file of the rendered (or skipped) reports, from its rejects file
    (``qa-working/<period>/rejects.csv``, outside the published output folder), keyed by that file."""
    out: dict[Path, int] = {}
    for params_file in sorted({r.params_file for r in results if r.html and r.status in ("ok", "skipped")}):
        try:
            path = rejects_path(load_params(params_file))
            rejects = pd.read_csv(path, dtype=str, keep_default_na=False, encoding=CSV_ENCODING)
        except (QAError, OSError, ValueError):
            continue
        n = int((rejects.get("severity", pd.Series(dtype=str)) == "rejected").sum()) if len(rejects) else 0
        if n:
            out[path] = n
    return out


def run_exit_code(results, set_aside: dict | None = None) -> int:
    """2 when a params file could not be used at all (it failed to load: the same error ``validate``
    exits 2 for, or its output folder cannot be written); else 1 when any job failed or any input row
    was set aside (the data issues ``validate`` exits 1 for); else 0."""
    failed = [r for r in results if r.status == "failed"]
    if any(r.report == "*" or str(r.error).startswith(f"{Path(r.params_file).name} output_dir:") for r in failed):
        return EXIT_UNUSABLE
    return EXIT_ISSUES if failed or set_aside else EXIT_OK


def cmd_validate(args) -> int:

    worst = 0
    for path in args.params:
        try:
            params = load_params(path)
            where = output_dir_problem(params)  # a run would fail every report of this params file
            if where:
                raise ParamsError(where)
            ds = load_dataset(params.replace(strict=False))
        except QAError as exc:
            text = str(exc)
            print(text if Path(path).name in text.split(":")[0] else f"{path}: {text}", file=sys.stderr)
            worst = max(worst, EXIT_UNUSABLE)
            continue
        issues = ds.issues
        if issues.empty:
            print(f"{path}: no issues ({', '.join(f'{t} {n}' for t, n in ds.read_counts.items())} rows read)")
            continue
        rejected = int((issues["severity"] == "rejected").sum())
        # a warning keeps its row (as a run does): exit 1 only when rows or files are set aside, so
        # validate and run agree on the same inputs
        worst = max(worst, EXIT_ISSUES if rejected else EXIT_OK)
        # issue 15: a file that fails as a whole (unreadable, column check) is said first: its reports will fail
        whole = issues[issues["rule"].isin(WHOLE_FILE_RULES)]
        for message in whole["message"]:
            print(f"{path}: FILE SET ASIDE, its reports will fail: {message}")
        issues = pd.concat([whole, issues.drop(whole.index)], ignore_index=True) if len(whole) else issues
        print(f"{path}: {len(issues)} issue(s), {rejected} setting rows aside"
              + ("" if rejected else " (warnings only: every row is used)"))
        with pd.option_context("display.max_rows", 200, "display.max_colwidth", 200, "display.width", 200):
            print(issues[["table", "rule", "severity", "file", "row", "column", "message"]].to_string(index=False))
    return worst


def cmd_params_help(args) -> int:

    print(params_help(), end="")
    return 0


def cmd_params_schema(args) -> int:

    text = json_schema_text()
    if args.write:
        SCHEMA_FILE.write_text(text, encoding="utf-8")
        print(f"wrote {SCHEMA_FILE}")
    else:
        print(text, end="")
    return 0


def cmd_input_contract(args) -> int:

    if args.write:
        readme = ROOT / "README.md"
        atomic_write_text(readme, with_contract(readme.read_text(encoding="utf-8")))
        print(f"wrote the input data contract into {readme}")
    else:
        print(contract_markdown(), end="")
    return 0


def cmd_demo(args) -> int:

    t0 = time.perf_counter()
    print(f"Rendering the demo period's reports from the bundled synthetic data ({DEMO_PARAMS.relative_to(ROOT)}) ...")
    published = ROOT / "params" / "demo-published.yaml"  # issue 8: the same data with disclosure control

    monthly = ROOT / "params" / "demo-highlight.yaml"  # issue 16: the monthly highlight report
    monthly_published = ROOT / "params" / "demo-highlight-published.yaml"  # ... and its published version
    extra = [p for p in (published, monthly, monthly_published) if p.is_file()]
    results = run_batch([DEMO_PARAMS, *extra], jobs=default_jobs())
    code = _print_results(results)
    for note in sorted({n for r in results for n in r.notes}):
        print(f"  note: {note}")
    ok = [r for r in results if r.status == "ok"]
    if ok:
        print(f"\nReports written in {time.perf_counter() - t0:.1f}s:")
        for r in ok:
            print(f"  {r.html}")
    return code


def cmd_sample(args) -> int:

    cases = sampling.read_caseload(args.cases)
    history = sampling.read_history(args.history) if args.history else None
    sample = sampling.draw(cases, history, month=args.month, per_unit=args.per_team, by=args.by,
                           exclude_months=args.exclude_months, cohort=args.cohort, seed=args.seed)
    paths = sampling.write(sample, args.out or Path(args.cases).resolve().parent)
    print(sampling.describe(sample))
    for name, path in paths.items():
        print(f"  wrote {name:<15} {path}")
    return 0


def _at_least(low: int):
    """An argparse type: a whole number of at least ``low`` (argparse exits 2 with the message otherwise)."""
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number of at least {low}, got {text!r}") from None
        if value < low:
            raise argparse.ArgumentTypeError(f"expected a whole number of at least {low}, got {value}")
        return value
    parse.__name__ = f"a whole number of at least {low}"
    return parse


def _names(text: str) -> list[str]:
    """``--only quarterly,moderation``: the comma-separated names of one ``--only`` value."""
    return [t.strip() for t in text.split(",") if t.strip()]


def _looks_like_params(text: str) -> bool:
    return text not in REPORTS and (Path(text).suffix.lower() in (".yaml", ".yml") or Path(text).is_file())


def _gather_params(args, extras: list[str], parser: argparse.ArgumentParser) -> None:
    """Put every params file in ``args.params``, wherever it was written on the command line.

    ``run --only quarterly params/demo.yaml``: ``--only`` takes one or more names, so argparse gives it
    the file too; a value of ``--only`` that is a params file (a ``.yaml``/``.yml`` path, or an
    existing file, and not a report name) is moved back. ``run a.yaml --force b.yaml``: argparse leaves
    ``b.yaml`` over; a leftover that is not an option is a params file too. A leftover option is an error.
    """
    unknown = [e for e in extras if e.startswith("-") and e != "-"]
    if unknown:
        parser.error(f"unrecognized arguments: {' '.join(unknown)}")
    params = list(getattr(args, "params", None) or [])
    only = getattr(args, "only", None)
    if only is not None:
        only = [name for text in only for name in _names(text)]
        moved = [o for o in only if _looks_like_params(o)]
        args.only = [o for o in only if o not in moved] or None
        if not args.only:
            parser.error(f"--only: expected report names from {', '.join(REPORTS)} (e.g. --only quarterly,moderation), "
                         f"got only params file(s) {', '.join(moved)}")
        params += moved
    params += extras
    if not params:
        parser.error(f"{args.command}: expected one or more params YAML files, e.g. "
                     f"qa-workbook {args.command} params/demo.yaml")
    args.params = params


def build_parser() -> argparse.ArgumentParser:
    epilog = "exit codes:\n" + "\n".join(f"  {code}  {text}" for code, text in EXIT_CODES.items())
    parser = argparse.ArgumentParser(prog="qa-workbook", description="QA Workbook: quarterly case-file audit reports.",
                                     epilog=epilog, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"qa-workbook {qa_lib.__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("run", help="render the reports of each params file into outputs/", epilog=epilog,
                       formatter_class=argparse.RawDescriptionHelpFormatter,
                       description="Options may come before, between or after the params files.")
    p.add_argument("params", nargs="*", help="params YAML file(s)")
    p.add_argument("--only", nargs="+", action="extend", metavar="REPORT",
                   help="render only these reports: --only quarterly,moderation or --only quarterly --only "
                        "moderation (from: " + ", ".join(REPORTS) + ")")
    p.add_argument("--jobs", "-j", type=_at_least(1), default=None, metavar="N",
                   help="worker processes, at least 1 (default: the machine's cores)")
    p.add_argument("--force", action="store_true", help="re-run jobs whose inputs are unchanged")
    p.add_argument("--executor", choices=("local", "dask"), default="local",
                   help="local worker processes, or a Dask cluster (with --scheduler)")
    p.add_argument("--scheduler", metavar="ADDRESS", help="Dask scheduler address, e.g. tcp://10.0.0.5:8786")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress display")
    p.set_defaults(func=cmd_run, _parser=p)
    p = sub.add_parser("validate", help="check the params as run does and print the input issues table; "
                       "exit 1 when there are issues, 2 when a params file is unusable", epilog=epilog,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("params", nargs="*", help="params YAML file(s)")
    p.set_defaults(func=cmd_validate, _parser=p)
    p = sub.add_parser("params-help", help="list every params key with its type, default, choices and help")
    p.set_defaults(func=cmd_params_help)
    p = sub.add_parser("params-schema", help="print the params JSON Schema (for YAML editors)")
    p.add_argument("--write", action="store_true", help=f"write it to {SCHEMA_FILE.parent.name}/{SCHEMA_FILE.name}")
    p.set_defaults(func=cmd_params_schema)
    p = sub.add_parser("input-contract", help="print the input data contract (tables and columns) as Markdown")
    p.add_argument("--write", action="store_true", help="write it into README.md's 'Input data contract' section")
    p.set_defaults(func=cmd_input_contract)
    p = sub.add_parser("demo", help="render the demo period's reports")
    p.set_defaults(func=cmd_demo)
    p = sub.add_parser("sample", help="draw next month's audit allocation from an open-caseload extract")
    p.add_argument("--cases", required=True, help="open-caseload extract (CSV/XLSX; columns in qa_lib.inputs.sampling)")
    p.add_argument("--history", help="audits file: cases audited recently are not drawn again")
    p.add_argument("--month", required=True, help="the month to allocate, e.g. 2022-11")
    p.add_argument("--per-team", type=_at_least(1), default=1, metavar="N",
                   help="cases per team (or service area), default 1")
    p.add_argument("--by", choices=("team", "service_area"), default="team", help="quota unit (default team)")
    p.add_argument("--exclude-months", type=_at_least(0), default=6, metavar="M",
                   help="skip cases audited in the last M months (default 6)")
    p.add_argument("--cohort", help="only cases of this cohort, e.g. 'Child protection'")
    p.add_argument("--seed", type=int, default=0, help="random seed: same inputs and seed, same allocation")
    p.add_argument("--out", help="folder for the allocation and summary CSVs (default: beside the caseload)")
    p.set_defaults(func=cmd_sample)
    return parser


def _error_log_folder(args) -> Path:
    """Beside the outputs of the first params file that names them; else the working folder; else temp."""
    for path in getattr(args, "params", None) or []:
        try:
            folder = load_params(path).output_root
            folder.mkdir(parents=True, exist_ok=True)
            if os.access(folder, os.W_OK):
                return folder
        except Exception:  # noqa: BLE001 - any failure here just means: look elsewhere
            continue
    cwd = Path.cwd()
    return cwd if os.access(cwd, os.W_OK) else Path(tempfile.gettempdir())


def internal_error(args, exc: BaseException) -> int:
    """Keep the traceback in a log file beside the outputs and say, in one message, that this is a bug."""
    text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    stamp = _dt.datetime.now(_dt.timezone.utc).replace(microsecond=0).isoformat()
    log = None
    try:
        log = _error_log_folder(args) / ERROR_LOG
        with open(log, "a", encoding="utf-8") as fh:
            fh.write(f"--- {stamp} qa-workbook {' '.join(sys.argv[1:])}\n{text}\n")
    except OSError:
        log = None
    where = f"The traceback is in {log}." if log else "The traceback follows:\n" + text
    print(f"qa-workbook: internal error ({type(exc).__name__}: {str(exc)[:200]}). This is a bug in QA Workbook, "
          f"not a problem with your data or params: please report it, attaching the log. {where}", file=sys.stderr)
    return EXIT_INTERNAL


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args, extras = parser.parse_known_args(argv)
    if args.command in ("run", "validate"):
        _gather_params(args, extras, args._parser)  # options before, between or after the params files
    elif extras:
        parser.error(f"unrecognized arguments: {' '.join(extras)}")
    try:
        return args.func(args)
    except QAError as exc:
        print(f"qa-workbook: {exc}", file=sys.stderr)
        return EXIT_UNUSABLE
    except BrokenPipeError:  # the output went to a pager or `head` that stopped reading: not a bug
        with contextlib.suppress(OSError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_ISSUES
    except KeyboardInterrupt:
        print("qa-workbook: interrupted; outputs already in place are complete, nothing half-written was kept.", file=sys.stderr)
        return 130
    except Exception as exc:  # noqa: BLE001 - the one place an unexpected error becomes exit 3 and a log
        return internal_error(args, exc)


if __name__ == "__main__":
    sys.exit(main())

"""``qa-workbook``: the command line.

    qa-workbook run PARAMS... [--jobs N] [--only REPORT...] [--force] [--executor dask --scheduler ADDRESS]
                                     render every report of each params file into outputs/, in parallel,
                                     skipping jobs whose inputs are unchanged
    qa-workbook validate PARAMS...   check the params (as run does) and print the input issues table;
                                     exit 1 when there are issues, 2 when a params file is unusable
    qa-workbook params-help          every params key with its type, default, choices and help
    qa-workbook params-schema [--write]
                                     the params JSON Schema (for YAML editors); --write updates
                                     params/params.schema.json
    qa-workbook demo                 render the demo period (what `make demo` runs)
    qa-workbook sample --cases CASES.csv --history AUDITS.csv --month 2022-11
                                     draw next month's audit allocation (qa_lib.inputs.sampling)
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import pandas as pd

from qa_lib.core.errors import QAError
from qa_lib.inputs import sampling
from qa_lib.inputs.data import load_dataset
from qa_lib.inputs.params import SCHEMA_FILE, json_schema_text, load_params, params_help
from qa_lib.running.batch import default_jobs, run_batch, summary

ROOT = Path(__file__).resolve().parents[2]  # the checkout: qa_lib/running/ -> ../..
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
    if any(r.status == "failed" and r.report == "*" for r in results):
        return 2  # a params file could not be used (its message is in the failure table)
    return 1 if any(r.status == "failed" for r in results) else 0


def cmd_validate(args) -> int:

    worst = 0
    for path in args.params:
        try:
            params = load_params(path)
            ds = load_dataset(params.replace(strict=False))
        except QAError as exc:
            print(f"{path}: {exc}", file=sys.stderr)
            worst = 2
            continue
        issues = ds.issues
        if issues.empty:
            print(f"{path}: no issues ({', '.join(f'{t} {n}' for t, n in ds.read_counts.items())} rows read)")
            continue
        worst = max(worst, 1)
        print(f"{path}: {len(issues)} issue(s)")
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


def cmd_demo(args) -> int:

    t0 = time.perf_counter()
    print(f"Rendering the demo period's reports from the bundled synthetic data ({DEMO_PARAMS.relative_to(ROOT)}) ...")
    published = ROOT / "params" / "demo-published.yaml"  # issue 8: the same data with disclosure control

    monthly = ROOT / "params" / "demo-highlight.yaml"  # issue 16: the monthly highlight report
    extra = [p for p in (published, monthly) if p.is_file()]
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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="qa-workbook", description="QA Workbook: quarterly case-file audit reports.")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("run", help="render the reports of each params file into outputs/")
    p.add_argument("params", nargs="+", help="params YAML file(s)")
    p.add_argument("--only", nargs="+", metavar="REPORT", help="render only these reports")
    p.add_argument("--jobs", "-j", type=int, default=None, metavar="N",
                   help="worker processes (default: the machine's cores)")
    p.add_argument("--force", action="store_true", help="re-run jobs whose inputs are unchanged")
    p.add_argument("--executor", choices=("local", "dask"), default="local",
                   help="local worker processes, or a Dask cluster (with --scheduler)")
    p.add_argument("--scheduler", metavar="ADDRESS", help="Dask scheduler address, e.g. tcp://10.0.0.5:8786")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress display")
    p.set_defaults(func=cmd_run)
    p = sub.add_parser("validate", help="check the params as run does and print the input issues table; "
                       "exit 1 when there are issues, 2 when a params file is unusable")
    p.add_argument("params", nargs="+", help="params YAML file(s)")
    p.set_defaults(func=cmd_validate)
    p = sub.add_parser("params-help", help="list every params key with its type, default, choices and help")
    p.set_defaults(func=cmd_params_help)
    p = sub.add_parser("params-schema", help="print the params JSON Schema (for YAML editors)")
    p.add_argument("--write", action="store_true", help=f"write it to {SCHEMA_FILE.parent.name}/{SCHEMA_FILE.name}")
    p.set_defaults(func=cmd_params_schema)
    p = sub.add_parser("demo", help="render the demo period's reports")
    p.set_defaults(func=cmd_demo)
    p = sub.add_parser("sample", help="draw next month's audit allocation from an open-caseload extract")
    p.add_argument("--cases", required=True, help="open-caseload extract (CSV/XLSX; columns in qa_lib.inputs.sampling)")
    p.add_argument("--history", help="audits file: cases audited recently are not drawn again")
    p.add_argument("--month", required=True, help="the month to allocate, e.g. 2022-11")
    p.add_argument("--per-team", type=int, default=1, metavar="N", help="cases per team (or service area), default 1")
    p.add_argument("--by", choices=("team", "service_area"), default="team", help="quota unit (default team)")
    p.add_argument("--exclude-months", type=int, default=6, metavar="M",
                   help="skip cases audited in the last M months (default 6)")
    p.add_argument("--cohort", help="only cases of this cohort, e.g. 'Child protection'")
    p.add_argument("--seed", type=int, default=0, help="random seed: same inputs and seed, same allocation")
    p.add_argument("--out", help="folder for the allocation and summary CSVs (default: beside the caseload)")
    p.set_defaults(func=cmd_sample)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except QAError as exc:
        print(f"qa-workbook: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("qa-workbook: interrupted; outputs already in place are complete, nothing half-written was kept.", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())

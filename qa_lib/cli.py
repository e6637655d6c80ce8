"""``qa-workbook``: the command line.

    qa-workbook run PARAMS...        render every report of each params file into outputs/
    qa-workbook validate PARAMS...   print the input issues table; exit 1 when there are any
    qa-workbook demo                 render the demo period (what `make demo` runs)
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import pandas as pd

from qa_lib.errors import QAError

ROOT = Path(__file__).resolve().parent.parent
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
    from qa_lib.run import run

    results = run(args.params, reports=args.only)
    return _print_results(results)


def cmd_validate(args) -> int:
    from qa_lib.data import load_dataset
    from qa_lib.params import load_params

    worst = 0
    for path in args.params:
        try:
            params = load_params(path)
            ds = load_dataset(params.__class__({**params._values, "strict": False}, path=params.path))
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


def cmd_demo(args) -> int:
    from qa_lib.run import run

    t0 = time.perf_counter()
    print(f"Rendering the demo period's reports from the bundled synthetic data ({DEMO_PARAMS.relative_to(ROOT)}) ...")
    results = run([DEMO_PARAMS])
    code = _print_results(results)
    ok = [r for r in results if r.status == "ok"]
    if ok:
        print(f"\nReports written in {time.perf_counter() - t0:.1f}s:")
        for r in ok:
            print(f"  {r.html}")
    return code


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="qa-workbook", description="QA Workbook: quarterly case-file audit reports.")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("run", help="render the reports of each params file into outputs/")
    p.add_argument("params", nargs="+", help="params YAML file(s)")
    p.add_argument("--only", nargs="+", metavar="REPORT", help="render only these reports")
    p.set_defaults(func=cmd_run)
    p = sub.add_parser("validate", help="print the input issues table; exit 1 when there are issues")
    p.add_argument("params", nargs="+", help="params YAML file(s)")
    p.set_defaults(func=cmd_validate)
    p = sub.add_parser("demo", help="render the demo period's reports")
    p.set_defaults(func=cmd_demo)
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

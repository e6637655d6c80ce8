"""`make bench`: the workbook's figures, measured side by side in one run, written to
bench/RESULTS.md and into the README's "Performance" section.

1. The full demo pack (every report of every params/demo*.yaml) with the default formats (params
   ``formats``: html, csv, xlsx) at ``--jobs 1`` and ``--jobs 2``, against the floor: the same
   number of papermill runs of a notebook that only imports the libraries the report notebooks
   import (issue 18 target: ``--jobs 1`` ≤ 1.3 × the floor). Beside it, PDF and DOCX timed per
   report: each printed from the pack's rendered HTML by the code a run uses
   (:func:`qa_lib.running.formats.print_pdf_and_docx`), one format at a time.
2. Large data: 100,000 audits and 1,000,000 ratings (bench/large_data.py) through load,
   validation and every report's computations, in a fresh process: time and peak RSS.
3. XLSX ingest of a 100,000-row export: calamine (what qa_lib.inputs.io uses) vs openpyxl.
4. bench/bench_agreement.py and bench/bench_trend.py (other engineers' benchmarks), verbatim.

Options: ``--quick`` (skips large data and XLSX), ``--pack-only`` (the demo pack and the PDF/DOCX
times only), ``--repeat N`` (best of N for the pack).
Speed is measured here, never asserted in pytest (STYLE.md).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from qa_lib.inputs.params import SCHEMA, portable_values  # noqa: E402
from qa_lib.running.render import KERNEL_ARGUMENTS  # noqa: E402
BENCH = ROOT / "bench"
PY = sys.executable
README_START, README_END = "<!-- bench:start -->", "<!-- bench:end -->"


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


#: the formats a params file gets when it names none (the pack is timed with these)
DEFAULT_FORMATS = list(SCHEMA["formats"].default)


def copy_params(folder: Path, outputs: Path) -> list[Path]:
    paths = []
    for src in sorted((ROOT / "params").glob("demo*.yaml")):
        values = portable_values(src)
        values["formats"] = DEFAULT_FORMATS  # params/demo.yaml asks for PDF and DOCX too: timed apart below
        # keep variants that write to their own folder (outputs/published) apart, as in the repo
        sub = Path(values["output_dir"]).name
        values["output_dir"] = str(outputs if sub == "outputs" else outputs / sub)
        path = folder / src.name
        path.write_text(yaml.safe_dump(values, sort_keys=False), encoding="utf-8")
        paths.append(path)
    return paths


def pack_run(params: list[Path], jobs: int) -> tuple[float, dict]:
    t0 = time.perf_counter()
    proc = subprocess.run([PY, "-m", "qa_lib.running.cli", "run", *map(str, params), "--jobs", str(jobs), "--force", "--quiet"],
                          capture_output=True, text=True, cwd=ROOT)
    wall = time.perf_counter() - t0
    counts = {s: len(re.findall(rf"^\s+{s}\s", proc.stdout, re.M)) for s in ("ok", "skipped")}
    counts["failed"] = len(re.findall(r"^\s+\S+ \S+\s+\S+\s+\S+\.yaml", proc.stderr, re.M))
    m = re.search(r"(\d+) job\(s\): (\d+) rendered, (\d+) skipped.*?, (\d+) failed", proc.stdout + proc.stderr)
    if m:
        counts = {"jobs": int(m.group(1)), "ok": int(m.group(2)), "skipped": int(m.group(3)), "failed": int(m.group(4))}
    return wall, counts


def import_lines() -> list[str]:
    """Every import statement of the report notebooks (the floor imports the same libraries)."""
    from qa_lib.inputs.params import REPORTS
    from qa_lib.running.render import load_notebook

    lines: list[str] = []
    for report in REPORTS:
        try:
            nb = load_notebook(report)
        except Exception:  # noqa: BLE001 - a report without a notebook has nothing to import
            continue
        for cell in nb.cells:
            if cell.cell_type != "code":
                continue
            for line in cell.source.splitlines():
                if re.match(r"^(from\s+\S+\s+import\s+[^(]+$|import\s+\S+)", line) and line not in lines:
                    lines.append(line)
    return lines


def floor_runs(n: int, folder: Path) -> float:
    """``n`` papermill runs, one after another, of a notebook that only imports the same libraries."""
    import nbformat
    import papermill as pm
    from nbformat.v4 import new_code_cell, new_notebook

    nb = new_notebook(cells=[new_code_cell('params_path = ""\noutput_dir = ""', metadata={"tags": ["parameters"]}),
                             new_code_cell("\n".join(import_lines()))])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    src = folder / "floor.ipynb"
    nbformat.write(nb, src)
    t0 = time.perf_counter()
    for i in range(n):
        pm.execute_notebook(str(src), str(folder / f"floor-{i}.ipynb"), parameters={"params_path": "x", "output_dir": "y"},
                            progress_bar=False, kernel_name="python3", cwd=str(ROOT / "notebooks"),
                            extra_arguments=KERNEL_ARGUMENTS)  # the same kernel as the reports
    return time.perf_counter() - t0


def bench_pack(repeat: int) -> dict:
    with tempfile.TemporaryDirectory(prefix="qa-bench-") as tmp:
        folder = Path(tmp)
        params = copy_params(folder, folder / "outputs")
        log(f"demo pack: {len(params)} params files, formats {', '.join(DEFAULT_FORMATS)}; "
            "warming up (one run renders nothing twice) ...")
        _, counts = pack_run(params, 2)  # warm-up: file caches, compiled bytecode
        n = counts.get("jobs", 0)
        best = {"floor": float("inf"), "jobs1": float("inf"), "jobs2": float("inf")}
        for r in range(repeat):
            log(f"  round {r + 1}/{repeat}: floor ({n} papermill runs) ...")
            best["floor"] = min(best["floor"], floor_runs(n, folder))
            log("  --jobs 1 ...")
            wall, c1 = pack_run(params, 1)
            best["jobs1"] = min(best["jobs1"], wall)
            log("  --jobs 2 ...")
            wall, c2 = pack_run(params, 2)
            best["jobs2"] = min(best["jobs2"], wall)
        log("PDF and DOCX per report (one at a time, from the pack's HTML) ...")
        printed = bench_print(folder / "outputs")
        ratio = round(best["jobs1"] / best["floor"], 2)
        log(f"demo pack --jobs 1 = {ratio} × the floor (target ≤ 1.3)")
        return {"jobs": n, "counts": c2, "rounds": repeat, "formats": DEFAULT_FORMATS,
                **{k: round(v, 2) for k, v in best.items()}, "ratio_jobs1_floor": ratio,
                "speedup_jobs2": round(best["jobs1"] / best["jobs2"], 2), "print": printed}


def bench_print(outputs: Path) -> dict:
    """PDF and DOCX of each report of the pack's main period, each timed on its own (seconds), from the
    HTML the pack rendered; ``{"error": ...}`` without a browser."""
    from qa_lib.running.formats import find_browser, print_pdf_and_docx

    browser = find_browser()
    if browser is None:
        return {"error": "no Chromium or Chrome"}
    manifests = sorted(outputs.glob("*/manifest.json"))
    if not manifests:
        return {"error": f"no rendered period under {outputs}"}
    period_dir = max(manifests, key=lambda m: m.parent.name).parent  # the latest period (the demo's)
    manifest = json.loads((period_dir / "manifest.json").read_text(encoding="utf-8"))
    out: dict = {"period": manifest.get("period", period_dir.name), "reports": {}}
    with tempfile.TemporaryDirectory(prefix="qa-print-") as tmp:
        for entry in manifest.get("reports", []):
            report, title = entry["report"], entry.get("title", entry["report"])
            html_path = period_dir / f"{report}.html"
            if not html_path.is_file():
                continue
            times = {}
            for fmt in ("pdf", "docx"):
                target = Path(tmp) / f"{report}.{fmt}"
                t0 = time.perf_counter()
                print_pdf_and_docx(html_path, title=title, period=out["period"], browser=browser,
                                   pdf=target if fmt == "pdf" else None, docx=target if fmt == "docx" else None)
                times[fmt] = round(time.perf_counter() - t0, 2)
                times[f"{fmt}_kb"] = round(target.stat().st_size / 1024)
            out["reports"][report] = times
            log(f"  {report}: PDF {times['pdf']:.1f} s, DOCX {times['docx']:.1f} s")
    return out


def bench_large() -> dict:
    with tempfile.TemporaryDirectory(prefix="qa-large-") as tmp:
        log("large data: generating 100,000 audits and 1,000,000 ratings ...")
        subprocess.run([PY, str(BENCH / "large_data.py"), "write", tmp, "100000"], check=True, cwd=ROOT,
                       capture_output=True)
        log("large data: load, validation and every report's computations (fresh process) ...")
        proc = subprocess.run([PY, str(BENCH / "large_data.py"), "measure", str(Path(tmp) / "params.yaml")],
                              capture_output=True, text=True, cwd=ROOT)
        lines = [l for l in proc.stdout.splitlines() if l.startswith("{")]
        if not lines:
            return {"error": (proc.stderr or proc.stdout)[-500:]}
        return json.loads(lines[-1])


XLSX_CODE = r"""
import sys, time, json
import numpy as np, pandas as pd
sys.path.insert(0, sys.argv[2])
from qa_lib.inputs.io import _read_one
from pathlib import Path
path = Path(sys.argv[1])
if not path.exists():
    rng = np.random.default_rng(5)
    n = 100_000
    frame = pd.DataFrame({"Audit Ref": [f"QA{i:07d}" for i in range(n)], "Case ID": (3_000_000 + rng.permutation(n)).astype(str),
                          "Audit date": pd.Timestamp("2024-04-01") + pd.to_timedelta(rng.integers(0, 180, n), unit="D"),
                          "Service area": rng.choice(["Front Door", "Assessment", "Children in Care"], n),
                          "Auditor": [f"AUD{i:03d}" for i in rng.integers(1, 99, n)], "Team": rng.choice(["A", "B", "C"], n),
                          "Cohort": rng.choice(["Child in need", "Child protection"], n), "Overall grade": rng.choice(["Good", "RI"], n)})
    frame.to_excel(path, index=False, engine="openpyxl")
which = sys.argv[3]
t0 = time.perf_counter()
if which == "calamine":
    df = _read_one(path)
else:
    df = pd.read_excel(path, dtype=str, engine="openpyxl", keep_default_na=False, na_values=[""])
print(json.dumps({"engine": which, "rows": len(df), "seconds": round(time.perf_counter() - t0, 2)}))
"""


def bench_xlsx() -> dict:
    with tempfile.TemporaryDirectory(prefix="qa-xlsx-") as tmp:
        path = Path(tmp) / "audits-export.xlsx"
        log("XLSX: writing a 100,000-row export ...")
        out = {}
        for engine in ("calamine", "openpyxl"):
            log(f"XLSX: reading with {engine} ...")
            proc = subprocess.run([PY, "-c", XLSX_CODE, str(path), str(ROOT), engine], capture_output=True, text=True)
            lines = [l for l in proc.stdout.splitlines() if l.startswith("{")]
            out[engine] = json.loads(lines[-1]) if lines else {"error": proc.stderr[-300:]}
        return out


def other_bench(name: str) -> str:
    log(f"{name} ...")
    proc = subprocess.run([PY, str(BENCH / name)], capture_output=True, text=True, cwd=ROOT,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    return (proc.stdout.strip() or f"(no output; exit {proc.returncode}: {proc.stderr.strip()[-300:]})")


def explorer_bench(quick: bool) -> str:
    """bench/bench_explorer.py's table: first-load and interaction ratios against a bare Voilà page, kernels left."""
    log("explorer: a bare Voilà page and the explorer in headless Chromium ...")
    proc = subprocess.run([PY, str(BENCH / "bench_explorer.py"), *(["--no-large"] if quick else [])],
                          capture_output=True, text=True, cwd=ROOT)
    rows = [line for line in proc.stdout.splitlines() if line.startswith("|")]
    if proc.returncode or not rows:
        return f"explorer bench failed (exit {proc.returncode}): {(proc.stderr or proc.stdout).strip()[-400:]}"
    for line in rows[2:]:
        log("  " + line)
    return "\n".join(rows)


def verdict(ok: bool) -> str:
    return "met" if ok else "**not met**"


def render(pack: dict, large: dict | None, xlsx: dict | None, others: dict[str, str]) -> tuple[str, str]:
    when = time.strftime("%Y-%m-%d %H:%M", time.gmtime())
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    head = (f"Measured {when} UTC on {os.cpu_count()} cores, Python {platform.python_version()} "
            f"(load average {load:.1f} at the end: other processes share this machine). Command: `make bench`.")
    rows = ["| figure | value | target |", "|---|---:|---|",
            f"| demo pack: jobs (params × report); rounds, best of | {pack['jobs']}; {pack.get('rounds', 1)} | |",
            f"| floor: {pack['jobs']} papermill runs of an import-only notebook | {pack['floor']:.1f} s | |",
            f"| demo pack `--jobs 1`, formats {', '.join(pack.get('formats', []))} | {pack['jobs1']:.1f} s | "
            f"≤ 1.3 × floor: {pack['ratio_jobs1_floor']:.2f} × ({verdict(pack['ratio_jobs1_floor'] <= 1.3)}) |",
            f"| demo pack `--jobs 2` | {pack['jobs2']:.1f} s | ≥ 1.6 × faster than `--jobs 1`: {pack['speedup_jobs2']:.2f} × "
            f"({verdict(pack['speedup_jobs2'] >= 1.6)}) |"]
    printed = pack.get("print") or {}
    if "error" in printed:
        rows.append(f"| PDF and DOCX per report | skipped: {printed['error']} | |")
    for report, t in printed.get("reports", {}).items():
        rows.append(f"| `{report}` ({printed['period']}): PDF; DOCX, printed by headless Chromium, each on its own | "
                    f"{t['pdf']:.1f} s ({t['pdf_kb']:,} KB); {t['docx']:.1f} s ({t['docx_kb']:,} KB) | |")
    if large and "error" not in large:
        total_ok = large["total_s"] < 15
        ratio = large.get("load_ratio")
        rows += [f"| large data: {large['ratings']:,} ratings, {large['audits']:,} audits — load + validation | "
                 f"{large['load_validate_s']:.1f} s | |",
                 f"| large data: plain `pandas.read_csv` of the same files (same process, same run) | "
                 f"{large.get('plain_read_s', float('nan')):.2f} s | |",
                 f"| large data: load + validation as a multiple of the plain read | "
                 f"{ratio if ratio is not None else '?'} × | ≤ 8 × ({verdict(ratio is not None and ratio <= 8)}) |",
                 f"| large data: the same in CPU time (all threads; steadier on a shared machine) | "
                 f"{large.get('load_ratio_cpu', '?')} × ({large.get('load_cpu_s', '?')} s against "
                 f"{large.get('plain_read_cpu_s', '?')} s) | |"]
        log(f"large data: load + validation = {ratio} × a plain pandas.read_csv of the same files (target ≤ 8); "
            f"CPU time {large.get('load_ratio_cpu')} ×")
        for rep, sec in large["reports_s"].items():
            rows.append(f"| large data: `{rep}` report computations (cells in-process, no kernel) | "
                        f"{sec if isinstance(sec, str) else f'{sec:.1f} s'} | |")
        rows += [f"| large data: load + validation + every report | {large['total_s']:.1f} s | < 15 s ({verdict(total_ok)}) |",
                 f"| large data: peak memory (max RSS) | {large['peak_rss_mb']:,} MB | ≤ 2,048 MB "
                 f"({verdict(large['peak_rss_mb'] <= 2048)}) |"]
    elif large:
        rows.append(f"| large data | failed: {large['error'][:200]} | |")
    if xlsx:
        for engine in ("calamine", "openpyxl"):
            r = xlsx.get(engine, {})
            rows.append(f"| XLSX ingest, 100,000 rows, {engine} | "
                        f"{(str(r.get('seconds')) + ' s') if 'seconds' in r else r.get('error', '?')[:80]} | |")
    table = "\n".join(rows)
    body = [f"# Benchmark results\n\n{head}\n\n{table}\n"]
    for name, text in others.items():
        body.append(f"## {name}\n\n```\n{text}\n```\n" if not text.lstrip().startswith("|") else f"## {name}\n\n{text}\n")
    return "\n".join(body), f"{head}\n\n{table}\n"


def update_readme(section: str) -> None:
    readme = ROOT / "README.md"
    text = readme.read_text(encoding="utf-8")
    block = f"{README_START}\n{section}\nFull figures, including the statistics benchmarks: `bench/RESULTS.md`.\n{README_END}"
    if README_START in text and README_END in text:
        text = re.sub(re.escape(README_START) + r".*?" + re.escape(README_END), lambda _: block, text, flags=re.S)
    else:
        text = text.rstrip() + "\n\n## Performance\n\n" + block + "\n"
    tmp = readme.with_suffix(".md.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, readme)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="demo pack and the statistics benchmarks only")
    ap.add_argument("--pack-only", action="store_true",
                    help="the demo pack and PDF/DOCX times only; prints them, writes neither RESULTS.md nor README")
    # best of 2: on a shared 2-core machine one round of the floor or the pack varies by ±10%
    ap.add_argument("--repeat", type=int, default=2, help="rounds of the demo pack figures (best of; default 2)")
    ap.add_argument("--no-readme", action="store_true", help="do not update README.md")
    args = ap.parse_args()
    pack = bench_pack(args.repeat)
    if args.pack_only:
        print(render(pack, None, None, {})[1])
        return 0
    large = None if args.quick else bench_large()
    xlsx = None if args.quick else bench_xlsx()
    others = {name: other_bench(name) for name in ("bench_agreement.py", "bench_trend.py") if (BENCH / name).exists()}
    full, section = render(pack, large, xlsx, others)
    explorer = explorer_bench(args.quick)  # issue 18: the explorer against a bare Voilà page, in this run
    full, section = full + f"\n## Explorer (bench/bench_explorer.py)\n\n{explorer}\n", section + f"\n{explorer}\n"
    (BENCH / "RESULTS.md").write_text(full, encoding="utf-8")
    if not args.no_readme:
        update_readme(section)
    print(full)
    return 0


if __name__ == "__main__":
    sys.exit(main())

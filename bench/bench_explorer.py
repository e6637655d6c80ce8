"""The explorer against a bare Voilà page, in one run, in Debian's headless Chromium (issue 18).

Both pages are served the same way (:func:`qa_lib.running.explore_app.serve`: the same Voilà, template,
token login and pre-started kernel pool), so the ratios measure what the explorer itself adds:

- **bare page**: one Dropdown and one Output; choosing an option prints it in the Output.
- **first load**: from ``page.goto`` to the page's content drawn (bare: the dropdown; explorer: the
  table caption and the chart), with a pre-started kernel waiting; median of ``--loads`` loads.
- **interaction**: from choosing an option to the page showing the result (bare: the Output's text;
  explorer: the live region's text, which the app sets last, after the chart and the table);
  ``--steps`` interactions, median and max.
- **large**: the same interactions on 1,000,000 ratings (bench/large_data.py, 100,000 audits).
- **kernels**: 5 explorer pages opened and closed (``beforeunload`` runs, as when a tab closes),
  then the kernel processes still running 10 s later, and their memory.

``python bench/bench_explorer.py`` prints a Markdown table and, last, one JSON line;
``bench/run_bench.py`` (``make bench``) runs it and adds the table to bench/RESULTS.md and the README.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat
import yaml
from nbformat.v4 import new_code_cell, new_notebook

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))
from browser import browser_page  # noqa: E402
from qa_lib.inputs.params import portable_values  # noqa: E402
from qa_lib.running.explore_app import build_notebook, serve  # noqa: E402

BARE = '''import ipywidgets as w
from IPython.display import display

choice = w.Dropdown(options=[f"Option {i}" for i in range(12)], value="Option 0", description="Choice")
out = w.Output()
choice.add_class("bare-choice")
out.add_class("bare-out")


def show(change):
    with out:
        out.clear_output(wait=True)
        print(f"Chose {change['new']}")


choice.observe(show, names="value")
display(w.VBox([choice, out]))'''

#: explorer interactions: (control class, option label or index); each changes what the live region says
STEPS = [("qa-service-area", "SEND"), ("qa-service-area", "Front Door"), ("qa-team", 1), ("qa-team", 0),
         ("qa-measure", "Grade distribution"), ("qa-measure", "Return rate"),
         ("qa-measure", "Agreement (auditor vs moderator)"), ("qa-by", "Service area"), ("qa-by", "Team"),
         ("qa-measure", "% Good or better"), ("qa-by", "Domain"), ("qa-by", "Period"), ("qa-cohort", 2),
         ("qa-cohort", 0), ("qa-service-area", 0)]


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def bare_server(folder: Path):
    nb = new_notebook(cells=[new_code_cell(BARE)])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    path = folder / "bare.ipynb"
    nbformat.write(nb, path)
    return serve(path, folder)


def explorer_server(params: Path, folder: Path):
    return serve(build_notebook(params, folder, export_dir=str(folder / "exports")), folder)


def wait_kernels(srv, at_most: int, seconds: float) -> int:
    deadline = time.monotonic() + seconds
    while len(srv.kernels()) > at_most and time.monotonic() < deadline:
        time.sleep(0.25)
    return len(srv.kernels())


def first_loads(srv, ready: str, loads: int, settle: float) -> list[float]:
    """``loads`` page loads, each with the pool refilled and its notebook run (``settle`` s after the last close)."""
    times = []
    with browser_page(viewport={"width": 1280, "height": 900}) as page:
        context = page.context
        page.close()
        for k in range(loads + 1):  # the first load warms the browser's and the server's caches
            wait_kernels(srv, 1, 60)
            time.sleep(settle)
            page = context.new_page()
            t0 = time.perf_counter()
            page.goto(srv.url)
            page.locator(ready).first.wait_for(timeout=300_000)
            if k:
                times.append(time.perf_counter() - t0)
            page.close(run_before_unload=True)
    return times


def _choose(page, cls: str, option) -> None:
    select = page.locator(f".{cls} select")
    if isinstance(option, int):
        select.select_option(index=option)
    else:
        select.select_option(label=option)


def interactions(srv, ready: str, live: str, steps: list, timeout_ms: int = 120_000) -> list[float]:
    """Seconds from choosing an option to the ``live`` element's text changing, per step."""
    times = []
    with browser_page(viewport={"width": 1280, "height": 900}) as page:
        page.goto(srv.url, timeout=600_000)  # 1,000,000 ratings: the page waits for its kernel to load them
        page.locator(ready).first.wait_for(timeout=600_000)
        page.wait_for_timeout(1000)
        for cls, option in steps:
            before = page.locator(live).inner_text()
            t0 = time.perf_counter()
            _choose(page, cls, option)
            page.wait_for_function("([sel, text]) => document.querySelector(sel).textContent !== text",
                                   arg=[live, before], timeout=timeout_ms, polling="raf")
            times.append(time.perf_counter() - t0)
        page.close(run_before_unload=True)
    return times


def closed_pages(srv, ready: str, pages: int = 5) -> dict:
    with browser_page(viewport={"width": 1280, "height": 900}) as first:
        context = first.context
        first.close()
        for _ in range(pages):
            page = context.new_page()
            page.goto(srv.url, timeout=300_000)
            page.locator(ready).first.wait_for(timeout=300_000)
            page.close(run_before_unload=True)
        time.sleep(10)
        procs = srv.kernels()
        rss = 0
        for p in procs:
            try:
                rss += p.memory_info().rss
            except Exception:  # noqa: BLE001 - a kernel that ended while being counted holds no memory
                pass
    return {"pages": pages, "kernels_after_10s": len(procs), "kernel_rss_mb": round(rss / 2**20)}


def demo_params(folder: Path) -> Path:
    values = portable_values(ROOT / "params" / "demo.yaml")
    values["output_dir"] = str(folder / "outputs")
    path = folder / "demo.yaml"
    path.write_text(yaml.safe_dump(values, sort_keys=False), encoding="utf-8")
    return path


def summary(times: list[float]) -> dict:
    return {"median_ms": round(1000 * statistics.median(times)), "max_ms": round(1000 * max(times)), "n": len(times)}


def run(loads: int = 3, large: bool = True) -> dict:
    out: dict = {}
    explorer_ready, explorer_live = ".qa-table caption", ".qa-live"
    with tempfile.TemporaryDirectory(prefix="qa-bench-explorer-") as tmp:
        tmp = Path(tmp)
        (tmp / "bare").mkdir()
        log("explorer bench: bare Voilà page (one Dropdown, one Output) ...")
        srv = bare_server(tmp / "bare")
        try:
            srv.wait_until_ready(120)
            out["bare_first_load_s"] = statistics.median(first_loads(srv, ".bare-choice select", loads, settle=3))
            bare = interactions(srv, ".bare-choice select", ".bare-out",
                                [("bare-choice", f"Option {1 + k % 11}") for k in range(len(STEPS))])
            out["bare_interaction"] = summary(bare)
        finally:
            srv.stop()
        log("explorer bench: the explorer on the demo data ...")
        (tmp / "demo").mkdir()
        srv = explorer_server(demo_params(tmp / "demo"), tmp / "demo")
        try:
            srv.wait_until_ready(120)
            out["explorer_first_load_s"] = statistics.median(first_loads(srv, explorer_ready, loads, settle=8))
            out["explorer_interaction"] = summary(interactions(srv, explorer_ready, explorer_live, STEPS))
            log("explorer bench: 5 pages opened and closed ...")
            wait_kernels(srv, 1, 60)
            out["kernels"] = closed_pages(srv, explorer_ready)
        finally:
            srv.stop()
        if large:
            log("explorer bench: generating 1,000,000 ratings ...")
            big = tmp / "large"
            subprocess.run([sys.executable, str(ROOT / "bench" / "large_data.py"), "write", str(big), "100000"],
                           check=True, cwd=ROOT, capture_output=True)
            log("explorer bench: the explorer on 1,000,000 ratings (the kernel loads them once) ...")
            srv = explorer_server(big / "params.yaml", big)
            try:
                srv.wait_until_ready(300)
                out["large_interaction"] = summary(interactions(srv, explorer_ready, explorer_live, STEPS))
            except Exception as exc:  # noqa: BLE001 - report the demo figures even if the large run fails
                out["large_error"] = f"{type(exc).__name__}: {str(exc)[:200]}"
            finally:
                srv.stop()
    b, e = out["bare_interaction"], out["explorer_interaction"]
    out["ratio_first_load"] = round(out["explorer_first_load_s"] / out["bare_first_load_s"], 2)
    out["ratio_interaction_median"] = round(e["median_ms"] / b["median_ms"], 2)
    out["ratio_interaction_max"] = round(e["max_ms"] / b["median_ms"], 2)
    return out


def _verdict(ok: bool) -> str:
    return "met" if ok else "**not met**"


def table(r: dict) -> str:
    b, e = r["bare_interaction"], r["explorer_interaction"]
    rows = ["| explorer figure (Voilà 0.5, headless Chromium, same server setup for both pages) | value | target |",
            "|---|---:|---|",
            f"| bare page (one Dropdown, one Output): first load | {r['bare_first_load_s']:.2f} s | |",
            f"| explorer: first load (demo data) | {r['explorer_first_load_s']:.2f} s | ≤ 1.5 × bare: "
            f"{r['ratio_first_load']:.2f} × ({_verdict(r['ratio_first_load'] <= 1.5)}) |",
            f"| bare page: dropdown round trip, median / max of {b['n']} | {b['median_ms']} / {b['max_ms']} ms | |",
            f"| explorer: interaction, median of {e['n']} (demo data) | {e['median_ms']} ms | ≤ 3 × bare median: "
            f"{r['ratio_interaction_median']:.2f} × ({_verdict(r['ratio_interaction_median'] <= 3)}) |",
            f"| explorer: interaction, max of {e['n']} (demo data) | {e['max_ms']} ms | ≤ 5 × bare median: "
            f"{r['ratio_interaction_max']:.2f} × ({_verdict(r['ratio_interaction_max'] <= 5)}) |"]
    if "large_error" in r:
        rows.append(f"| explorer: interaction on 1,000,000 ratings | failed: {r['large_error'][:120]} | median ≤ 500 ms |")
    if "large_interaction" in r:
        g = r["large_interaction"]
        rows.append(f"| explorer: interaction on 1,000,000 ratings, median / max of {g['n']} | "
                    f"{g['median_ms']} / {g['max_ms']} ms | median ≤ 500 ms ({_verdict(g['median_ms'] <= 500)}) |")
    k = r["kernels"]
    rows.append(f"| kernels running 10 s after {k['pages']} explorer pages were opened and closed | "
                f"{k['kernels_after_10s']} ({k['kernel_rss_mb']:,} MB) | ≤ 1 ({_verdict(k['kernels_after_10s'] <= 1)}) |")
    return "\n".join(rows)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--loads", type=int, default=3, help="first loads per page (median; default 3)")
    ap.add_argument("--no-large", action="store_true", help="skip the 1,000,000-rating run")
    args = ap.parse_args()
    result = run(loads=args.loads, large=not args.no_large)
    print(table(result))
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Benchmark of qa_lib.stats.trend: SPC on many short series and the trend tests on large tables.

Run: ``python bench/bench_trend.py`` (or ``make bench``). Prints a small table of wall
times; speed is measured here, never by a timed test. Data are synthetic and seeded.
"""

from __future__ import annotations

import time

import numpy as np

from qa_lib.stats.trend import cochran_armitage, linear_by_linear, spc


def _time(fn, repeat: int = 3) -> float:
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def main() -> None:
    rng = np.random.default_rng(20240401)
    n_series, n_points = 1_000, 24
    xmr = rng.normal(70, 8, size=(n_series, n_points))
    totals = rng.integers(20, 51, size=(n_series, n_points))
    events = rng.binomial(totals, 0.75)

    def run_xmr():
        for row in xmr:
            spc(row)

    def run_p():
        for x, n in zip(events, totals):
            spc(x, denominators=n, target=0.8)

    k = 200
    ca_tot = rng.integers(20, 5_000, size=k)
    ca_ev = rng.binomial(ca_tot, np.linspace(0.6, 0.7, k))
    lbl_tab = rng.integers(0, 10_000, size=(200, 4))

    rows = [
        (f"spc xmr, {n_series} series x {n_points} points", _time(run_xmr, 1), n_series),
        (f"spc p + target, {n_series} series x {n_points} points", _time(run_p, 1), n_series),
        (f"cochran_armitage, {k} periods, N={ca_tot.sum():,}", _time(lambda: cochran_armitage(ca_ev, ca_tot)), 1),
        (f"linear_by_linear, 200x4 table, N={lbl_tab.sum():,}", _time(lambda: linear_by_linear(lbl_tab)), 1),
        ("cochran_armitage exact, 6 periods x 30 audits",
         _time(lambda: cochran_armitage([2, 3, 4, 6, 8, 9], [30] * 6, exact=True)), 1),
    ]
    width = max(len(r[0]) for r in rows)
    print(f"{'task':<{width}}  {'total s':>9}  {'per call ms':>11}")
    for name, secs, calls in rows:
        print(f"{name:<{width}}  {secs:>9.3f}  {1000 * secs / calls:>11.3f}")


if __name__ == "__main__":
    main()

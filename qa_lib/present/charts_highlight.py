"""Charts of the highlight report (issue 16): the "past 12 months" view as an SPC chart when there are
enough months, else a run chart whose title says why it is not SPC."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from qa_lib.core import fmt
from qa_lib.present.charts import PALETTE, Chart, to_chart
from qa_lib.present.charts_spc import spc_chart
from qa_lib.sections.change import SPCView
from qa_lib.sections.highlight import PastMonths

__all__ = ["past_months_chart"]


def past_months_chart(view: PastMonths) -> Chart | None:
    """SPC p chart (:func:`qa_lib.present.charts_spc.spc_chart`) at 12 or more months with audits; else a
    run chart of the monthly % Good or better with its median, the reason in the title and alt text."""
    f = view.frame
    if f.empty:
        return None
    if view.is_spc:
        return spc_chart(SPCView(view.measure, view.spc, view.summary, "", tuple(str(m) for m in f.index)))
    months = [str(m) for m in f.index]
    y = f["good_or_better_share"].to_numpy(dtype=float)
    median = float(np.median(y))
    fig, ax = plt.subplots(figsize=(7.5, 3.2))
    ax.plot(range(len(y)), y, marker="o", color=PALETTE[0], linewidth=1.5)
    ax.axhline(median, color=PALETTE[4], linestyle="--", linewidth=1)
    ax.text(len(y) - 0.5, median, f"median {fmt.pct(median)}", va="bottom", ha="right", fontsize=8)
    for i, (v, n) in enumerate(zip(y, f["n"])):
        ax.annotate(f"{fmt.pct(v)}\nn={int(n)}", (i, v), textcoords="offset points", xytext=(0, 6), ha="center", fontsize=7)
    ax.set_xticks(range(len(y)), months, rotation=45, ha="right", fontsize=8)
    ax.set_ylim(0, 1)
    ax.yaxis.set_major_formatter(plt.matplotlib.ticker.PercentFormatter(1.0))
    title = f"{view.measure} (run chart: fewer than 12 months with audits, so no SPC limits)"
    ax.set_title(title, loc="left", fontsize=9)
    points = "; ".join(f"{m} {fmt.pct(v)} of {int(n)}" for m, v, n in zip(months, y, f["n"]))
    alt = f"Run chart of {view.measure.lower()}: {points}. Median {fmt.pct(median)}. {view.reading}"
    return to_chart(fig, alt=alt, title=title)

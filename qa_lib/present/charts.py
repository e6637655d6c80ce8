"""Charts as compact SVG with alt text generated from the data they show.

Colours are the UK Government Analysis Function categorical palette; every chart also carries
its values as text (bar labels, legend order), so no meaning rests on colour alone.
"""

from __future__ import annotations

import base64
import io
from dataclasses import dataclass

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from qa_lib.core import fmt

#: Analysis Function categorical palette (dark blue, turquoise, dark pink, orange, dark grey, light purple).
PALETTE = ["#12436D", "#28A197", "#801650", "#F46A25", "#3D3D3D", "#A285D1"]
#: Grade colours, best first (dark blue, turquoise, orange, dark pink).
GRADE_COLOURS = ["#12436D", "#28A197", "#F46A25", "#801650"]
TEXT_ON = {"#12436D": "white", "#28A197": "black", "#F46A25": "black", "#801650": "white",
           "#3D3D3D": "white", "#A285D1": "black"}

#: Making Data Count point type → (colour, marker, legend text): one vocabulary for every SPC chart
#: (audit measures and performance indicators), shape as well as colour so no meaning rests on colour.
POINT_STYLE = {
    "common_cause": ("#3D3D3D", "o", "Common cause"),
    "special_cause_improvement": ("#12436D", "^", "Special cause – improving"),
    "special_cause_concern": ("#F46A25", "v", "Special cause – concern"),
    "special_cause_neutral_high": ("#A285D1", "D", "Special cause – high"),
    "special_cause_neutral_low": ("#A285D1", "D", "Special cause – low"),
}

plt.rcParams.update({"font.family": "DejaVu Sans", "font.size": 9, "svg.fonttype": "none",
                     "axes.spines.top": False, "axes.spines.right": False, "figure.dpi": 100,
                     "text.parse_math": False})  # labels come from data: "$...$" is text, never mathtext


@dataclass(frozen=True)
class Chart:
    """An SVG chart and the alt text that says what it shows."""

    svg: str
    alt: str
    title: str
    #: True when the chart prints every cell's count (heat maps): a published report withholds it, since
    #: the pack's suppression hides some of those cells (issue 14)
    shows_counts: bool = False

    def data_uri(self) -> str:
        return "data:image/svg+xml;base64," + base64.b64encode(self.svg.encode("utf-8")).decode("ascii")


def to_chart(fig, *, alt: str, title: str) -> Chart:
    """Write ``fig`` as SVG cropped to what it draws, and close it.

    ``savefig(bbox_inches="tight")`` draws a figure twice: once to measure, once to write. Measuring
    with the Agg renderer instead (the same font metrics, no drawing) gives the same crop, within a
    pixel or two, for half the cost of each chart: a report with 20 charts saves about 0.25 s.
    """
    bbox = fig.get_tightbbox(fig.canvas.get_renderer()).padded(plt.rcParams["savefig.pad_inches"])
    buf = io.StringIO()
    fig.savefig(buf, format="svg", bbox_inches=bbox, metadata={"Date": None, "Creator": None})
    plt.close(fig)
    return Chart(svg=buf.getvalue(), alt=alt, title=title)


def stacked_grades(counts: pd.DataFrame, grades: list[str], *, title: str, what: str) -> Chart | None:
    """Horizontal 100% stacked bars of the grade mix, one bar per row of ``counts``.

    ``counts`` has one column per grade (best first) and one row per group (period, domain...).
    Returns ``None`` when there is nothing to draw. Bars label their percentage where wide enough.
    """
    counts = counts[grades]
    counts = counts[counts.sum(axis=1) > 0]
    if counts.empty:
        return None
    shares = counts.div(counts.sum(axis=1), axis=0)
    fig, ax = plt.subplots(figsize=(7.5, 0.45 * len(counts) + 1.3))
    left = np.zeros(len(counts))
    labels = [str(i) for i in counts.index]
    for g, colour in zip(grades, GRADE_COLOURS * 2):
        vals = shares[g].to_numpy()
        ax.barh(labels, vals, left=left, color=colour, label=g, edgecolor="white", linewidth=0.6)
        for y, (x0, w) in enumerate(zip(left, vals)):
            if w >= 0.07:
                ax.text(x0 + w / 2, y, fmt.pct(w), ha="center", va="center", color=TEXT_ON.get(colour, "black"), fontsize=8)
        left += vals
    ax.invert_yaxis()
    ax.set_xlim(0, 1)
    ax.xaxis.set_major_formatter(matplotlib.ticker.PercentFormatter(1.0))
    ax.legend(ncol=len(grades), loc="upper center", bbox_to_anchor=(0.5, -0.12), frameon=False)
    ax.set_title(title, loc="left", fontsize=10)
    n = counts.sum(axis=1)
    parts = [f"{lab}: " + ", ".join(f"{g} {fmt.pct(shares.loc[idx, g])}" for g in grades) + f" (n = {int(n[idx])})"
             for lab, idx in zip(labels, counts.index)]
    alt = f"Stacked bar chart of {what}. " + "; ".join(parts) + "."
    return to_chart(fig, alt=alt, title=title)

"""Charts of the Moderation reliability report: agreement forest plot and confusion heat maps.

Both are SVG through :func:`qa_lib.present.charts.to_chart` with alt text generated from the numbers.
No meaning rests on colour alone: the forest plot writes each estimate and interval beside its
row, and every heat-map cell carries its count (the diagonal, where grades agree, is also
outlined).
"""

from __future__ import annotations

import dataclasses
import math

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.collections import PatchCollection
from matplotlib.patches import Rectangle

from qa_lib.core import fmt
from qa_lib.present.charts import PALETTE, Chart, to_chart

__all__ = ["agreement_forest", "confusion_heatmaps", "HEAT_COLOURS"]

#: Light-to-dark ramp of the Analysis Function dark blue, for counts (text colour switches on dark cells).
HEAT_COLOURS = ["#FFFFFF", "#D4DEE8", "#A0B4C8", "#5E7E9E", "#12436D"]


def _fmt(x: float) -> str:
    return "undefined" if not math.isfinite(x) else fmt.number(x, 2)


def agreement_forest(table: pd.DataFrame, *, measure: str = "ac1", measure_label: str = "AC1",
                     title: str, what: str) -> Chart | None:
    """Forest-style chart: one row per group (domain, period...), point estimate and 95% CI.

    Parameters
    ----------
    table : pandas.DataFrame
        An agreement table (:func:`qa_lib.sections.reliability.agreement_by_domain` or similar): index =
        groups in display order, columns ``n``, ``measure``, ``measure_ci_low``,
        ``measure_ci_high``.
    measure, measure_label : str
        Column to plot and its name in the chart.
    title, what : str
        Chart title; what the rows are (for the alt text, e.g. "practice domain").

    Returns
    -------
    Chart or None
        ``None`` when no row has a defined estimate. Rows with an undefined estimate are
        listed as such (text, no point).
    """
    if table is None or table.empty or measure not in table.columns:
        return None
    t = table[table["n"] > 0]
    est = t[measure].astype(float)
    if not np.isfinite(est).any():
        return None
    lo, hi = t[f"{measure}_ci_low"].astype(float), t[f"{measure}_ci_high"].astype(float)
    labels = [str(i) for i in t.index]
    y = np.arange(len(t))
    fig, ax = plt.subplots(figsize=(7.5, 0.38 * len(t) + 1.2))
    for x0 in (0.0, 0.2, 0.4, 0.6, 0.8, 1.0):
        ax.axvline(x0, color="#BFBFBF", linewidth=0.6, linestyle=":" if x0 else "-", zorder=0)
    ok = np.isfinite(est.to_numpy())
    ax.hlines(y[ok], lo.to_numpy()[ok], hi.to_numpy()[ok], color=PALETTE[0], linewidth=1.6)
    ax.plot(est.to_numpy()[ok], y[ok], "o", color=PALETTE[0], markersize=5)
    for yi, e, l, h, n in zip(y, est, lo, hi, t["n"]):
        words = (f"{fmt.number(e)} ({fmt.number_range(l, h)}), n = {int(n)}" if math.isfinite(e) and math.isfinite(l)
                 else f"{_fmt(e)}, n = {int(n)}")
        ax.text(1.04, yi, words, va="center", ha="left", fontsize=8, transform=ax.get_yaxis_transform())
    ax.set_yticks(y, labels)
    ax.invert_yaxis()
    lo_lim = min(-0.05, float(np.nanmin(lo.to_numpy())) - 0.05) if np.isfinite(lo).any() else -0.05
    ax.set_xlim(max(-1.0, lo_lim), 1.0)
    ax.set_xlabel(f"{measure_label} with 95% confidence interval")
    ax.set_title(title, loc="left", fontsize=10)
    parts = [(f"{lab}: {fmt.number(e)} (95% CI {fmt.number_range(l, h)}, n = {int(n)})" if math.isfinite(e) and math.isfinite(l)
              else f"{lab}: {_fmt(e)} (n = {int(n)})") for lab, e, l, h, n in zip(labels, est, lo, hi, t["n"])]
    weakest = est.idxmin() if ok.any() else None
    alt = (f"Forest chart of {measure_label} by {what}, each with its 95% confidence interval. " + "; ".join(parts)
           + (f". Lowest: {weakest}." if weakest is not None else "."))
    return to_chart(fig, alt=alt, title=title)


def _cell_colour(value: float, vmax: float) -> str:
    if vmax <= 0 or value <= 0:
        return HEAT_COLOURS[0]
    k = 1 + min(len(HEAT_COLOURS) - 2, int((len(HEAT_COLOURS) - 1) * value / (vmax + 1e-9)))
    return HEAT_COLOURS[k]


def confusion_heatmaps(confusion: pd.DataFrame, *, title: str, columns: int = 2) -> Chart | None:
    """Small-multiple heat maps of auditor (rows) × moderator (columns) counts, one per domain.

    Parameters
    ----------
    confusion : pandas.DataFrame
        :func:`qa_lib.sections.reliability.confusion_by_domain`: MultiIndex (domain, auditor grade),
        one column per moderator grade, full scale (unused grades kept).
    title : str
    columns : int
        Panels per row.

    Returns
    -------
    Chart or None
        ``None`` when there are no pairs. Every cell shows its count; the agreement diagonal is
        outlined; the alt text gives, per domain, n, the same-grade count, downgrades and
        upgrades and the most common disagreement.
    """
    if confusion is None or confusion.empty:
        return None
    grades = [str(c) for c in confusion.columns]
    q = len(grades)
    short = {"Requires improvement": "RI"}
    ticks = [short.get(g, g) for g in grades]
    domains = list(dict.fromkeys(confusion.index.get_level_values(0)))
    cols = max(1, min(columns, len(domains)))
    rows = math.ceil(len(domains) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(3.6 * cols, 3.2 * rows), squeeze=False)
    parts = []
    for k, d in enumerate(domains):
        ax = axes[k // cols][k % cols]
        t = confusion.loc[d].to_numpy(dtype=float)
        vmax = float(t.max())
        colours = [[_cell_colour(t[i, j], vmax) for j in range(q)] for i in range(q)]
        # one collection per panel for the cells and one for the diagonal outline: a patch per
        # cell made this chart the slowest in the reports (each patch is an artist to lay out)
        ax.add_collection(PatchCollection([Rectangle((j, i), 1, 1) for i in range(q) for j in range(q)],
                                          facecolors=[c for row in colours for c in row], edgecolors="#BFBFBF",
                                          linewidths=0.5))
        ax.add_collection(PatchCollection([Rectangle((i, i), 1, 1) for i in range(q)], facecolors="none",
                                          edgecolors=PALETTE[3], linewidths=1.6))
        for i in range(q):
            for j in range(q):
                dark = colours[i][j] in HEAT_COLOURS[3:]
                ax.text(j + 0.5, i + 0.5, f"{int(t[i, j])}", ha="center", va="center", fontsize=9,
                        color="white" if dark else "black", fontweight="bold" if i == j else "normal")
        ax.set_xlim(0, q)
        ax.set_ylim(q, 0)
        ax.set_xticks(np.arange(q) + 0.5, ticks, fontsize=7, rotation=30, ha="right")
        ax.set_yticks(np.arange(q) + 0.5, ticks, fontsize=7)
        ax.set_xlabel("Moderator grade", fontsize=8)
        ax.set_ylabel("Auditor grade", fontsize=8)
        ax.set_title(str(d), fontsize=9, loc="left")
        ax.spines[:].set_visible(False)
        ax.tick_params(length=0)
        n = int(t.sum())
        same = int(np.trace(t))
        down = int(np.triu(t, 1).sum())
        up = int(np.tril(t, -1).sum())
        off = t.copy()
        np.fill_diagonal(off, -1)
        i, j = np.unravel_index(int(np.argmax(off)), off.shape)
        common = (f"; most common disagreement auditor {grades[i]} → moderator {grades[j]} ({int(t[i, j])})"
                  if off[i, j] > 0 else "")
        parts.append(f"{d}: {n} pairs, {same} same grade, {down} moderated lower, {up} moderated higher{common}")
    for k in range(len(domains), rows * cols):
        axes[k // cols][k % cols].axis("off")
    key = ", ".join(f"{v} = {g}" for g, v in short.items() if g in grades)
    fig.suptitle(title + (f" ({key})" if key else ""), x=0.02, ha="left", fontsize=10)
    fig.tight_layout()
    alt = ("Heat maps of auditor grade (rows) against moderator grade (columns) with the count written in every "
           "cell; the outlined diagonal is agreement, cells right of it are moderator downgrades. "
           + "; ".join(parts) + ".")
    return dataclasses.replace(to_chart(fig, alt=alt, title=title), shows_counts=True)

"""Making Data Count chart of one performance indicator (p-chart or XmR) as SVG with alt text.

Points are coloured *and* shaped by their MDC type (○ common cause, ▲ improvement, ▼ concern,
◆ neutral special cause; the same shapes as :mod:`qa_lib.present.charts_spc`), and the variation and
assurance icons are drawn as a shape with words, so nothing rests on colour alone. Rates are
shown as percentages; XmR indicators in their own unit.
"""

from __future__ import annotations

import html
import math
from typing import Any

import matplotlib
import matplotlib.pyplot as plt
import numpy as np

from qa_lib.core import fmt
from qa_lib.present.charts import PALETTE, POINT_STYLE, Chart, to_chart
from qa_lib.present.report import HTML
from qa_lib.sections import indicators
from qa_lib.sections.indicators import IndicatorResult

DARK_BLUE, TURQUOISE, DARK_PINK, ORANGE, DARK_GREY, LIGHT_PURPLE = PALETTE



def _fmt(v: float, percent: bool) -> str:
    if v is None or not math.isfinite(v):
        return "–"
    return fmt.pct(v, 1) if percent else fmt.significant(v, 3)


def indicator_chart(result) -> Chart | None:
    """Chart an :class:`~qa_lib.sections.indicators.IndicatorResult`; ``None`` when it has no chart (fewer than 2 periods)."""
    df = result.spc
    if df is None or df.empty:
        return None
    percent = result.chart in ("p", "p-prime")
    x = np.arange(len(df))
    labels = [str(i) for i in df.index]
    y = df["value"].to_numpy(dtype=float)
    fig, ax = plt.subplots(figsize=(8.2, 3.6))
    ax.plot(x, y, color=DARK_GREY, linewidth=1.0, zorder=2)
    step = "mid" if percent else "post"
    ax.step(x, df["upl"], where=step, color=DARK_GREY, linestyle="--", linewidth=0.9, label="Process limits")
    ax.step(x, df["lpl"], where=step, color=DARK_GREY, linestyle="--", linewidth=0.9)
    centre = float(df["centre"].iloc[-1])
    ax.plot(x, df["centre"], color=DARK_GREY, linewidth=0.9, alpha=0.7, label=f"Mean {_fmt(centre, percent)}")
    target = result.target / 100 if (result.target is not None and percent) else result.target
    if target is not None:
        ax.axhline(target, color=DARK_PINK, linewidth=1.2, linestyle=":", label=f"Target {_fmt(target, percent)}")
    for ptype, (colour, marker, text) in POINT_STYLE.items():
        sel = (df["point_type"] == ptype).to_numpy()
        if sel.any():
            ax.scatter(x[sel], y[sel], color=colour, marker=marker, s=40, zorder=3, edgecolors="white",
                       linewidths=0.5, label=text)
    every = max(1, len(x) // 15)
    ax.set_xticks(x[::every])
    ax.set_xticklabels(labels[::every], rotation=45, ha="right", fontsize=7.5)
    lo = np.nanmin([np.nanmin(y), np.nanmin(df["lpl"]), target if target is not None else np.inf])
    hi = np.nanmax([np.nanmax(y), np.nanmax(df["upl"]), target if target is not None else -np.inf])
    span = (hi - lo) or abs(hi) or 1.0
    bottom = lo - 0.08 * span
    if percent:
        bottom = max(0.0, bottom)
    ax.set_ylim(bottom, hi + 0.3 * span)  # headroom for the icon labels
    if percent:
        ax.yaxis.set_major_formatter(matplotlib.ticker.PercentFormatter(1.0))
    # MDC icons as shape + words
    colour, marker, _ = POINT_STYLE.get(result.variation, POINT_STYLE["common_cause"])
    ax.scatter([0.015], [0.94], transform=ax.transAxes, marker=marker, color=colour, s=60, clip_on=False)
    ax.text(0.035, 0.94, "Variation: " + result.variation_label, transform=ax.transAxes, va="center", fontsize=8)
    ax.text(0.035, 0.86, "Assurance: " + result.assurance_label, transform=ax.transAxes, va="center", fontsize=8)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.3), ncol=3, frameon=False, fontsize=8)
    kind = "p-chart" if percent else "XmR chart"
    trial = " (trial limits)" if bool(df["trial_limits"].iloc[-1]) else ""
    title = f"{result.indicator}: {kind}{trial}"
    ax.set_title(title, loc="left", fontsize=10)
    return to_chart(fig, alt=_alt(result, percent, kind), title=title)


def _alt(result, percent: bool, kind: str) -> str:
    df = result.spc
    last = df.iloc[-1]
    special = df[df["special_cause"]]
    if len(special):
        shown = special.tail(8)
        flagged = "; ".join(f"{i} {_fmt(v, percent)} ({POINT_STYLE[t][2].lower()}, {r.lower()})"
                            for i, v, t, r in zip(shown.index.astype(str), shown["value"], shown["point_type"], shown["rule"]))
        more = f" and {len(special) - len(shown)} earlier" if len(special) > len(shown) else ""
        flagged = f"{len(special)} point(s) with special cause: {flagged}{more}."
    else:
        flagged = "No point shows special cause variation."
    better = {"higher": "higher is better", "lower": "lower is better"}.get(result.polarity, "no direction is better")
    target = f" Target {result.target_text()}." if result.target is not None else ""
    return (f"Making Data Count {kind} of {result.indicator} ({better}), {len(df)} periods from {df.index[0]} to "
            f"{df.index[-1]}. Latest {df.index[-1]}: {result.latest_text()}. Mean {_fmt(float(last['centre']), percent)}; "
            f"latest process limits {_fmt(float(last['lpl']), percent)} to {_fmt(float(last['upl']), percent)}.{target} "
            f"{flagged} Variation icon: {result.variation_label}. Assurance icon: {result.assurance_label}.")


def indicator_panels(rpt: Any, results: list[IndicatorResult] | None = None) -> Any:
    """Every indicator's chart with its icons (shape and words) and one-line reading, as one HTML block."""
    results = indicators.assess(rpt.dataset) if results is None else results
    if not results:
        return HTML('<p class="no-data">No performance indicators are configured for this run.</p>')
    parts = []
    for r in sorted(results, key=indicators._priority):
        reading = rpt.guard(r.reading) if hasattr(rpt, "guard") else r.reading  # issue 14: no small count
        chart = rpt.chart(indicator_chart(r), empty=reading).markup
        parts.append(f'<section class="indicator"><h3>{html.escape(r.indicator)}</h3>{chart}'
                     f'<p class="icons"><strong>Variation:</strong> {html.escape(r.variation_label)}; '
                     f'<strong>Assurance:</strong> {html.escape(r.assurance_label)}</p>'
                     f'<p class="reading">{html.escape(reading)}</p></section>')
    return HTML("".join(parts))

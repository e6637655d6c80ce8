"""Making Data Count SPC charts as SVG (through :func:`qa_lib.present.charts.to_chart`).

A chart shows the monthly values, the centre line, the process limits (each month's own limits
on a p chart) and the target. Points are coloured *and* shaped by their MDC type, and the two MDC
icons are drawn as a shape with a text label, so nothing rests on colour alone:

==========================  ========================  ======  ===========================
point type                  colour (Analysis Function)  shape   text
==========================  ========================  ======  ===========================
common cause                dark grey                 circle  "Common cause"
special cause, improvement  dark blue                 ▲       "Special cause – improving"
special cause, concern      orange                    ▼       "Special cause – concern"
special cause, neutral      light purple              ◆       "Special cause – high/low"
==========================  ========================  ======  ===========================

The alt text is generated from the data: what is charted, over which months, the latest value,
the centre and limits, the points with special cause and the reading (variation and assurance).
"""

from __future__ import annotations


import matplotlib.pyplot as plt
import numpy as np

from qa_lib.core import fmt
from qa_lib.sections.change import SPCView
from qa_lib.present.charts import PALETTE, POINT_STYLE, Chart, to_chart

__all__ = ["POINT_STYLE", "VARIATION_LABEL", "ASSURANCE_LABEL", "spc_chart"]

DARK_BLUE, TURQUOISE, DARK_PINK, ORANGE, DARK_GREY, LIGHT_PURPLE = PALETTE

#: MDC variation icon as text (the icon's letter/shape is drawn beside it)
VARIATION_LABEL = {
    "common_cause": "Variation: common cause – no significant change",
    "special_cause_improvement": "Variation: special cause – improvement",
    "special_cause_concern": "Variation: special cause – concern",
    "special_cause_neutral_high": "Variation: special cause – higher",
    "special_cause_neutral_low": "Variation: special cause – lower",
}
#: MDC assurance icon as text (P pass, F fail, ? hit and miss)
ASSURANCE_LABEL = {
    "consistent_pass": ("P", "Assurance: consistently meets the target"),
    "consistent_fail": ("F", "Assurance: consistently misses the target"),
    "inconsistent": ("?", "Assurance: hit and miss – the target is inside the limits"),
}


def _pct(v: float) -> str:
    return fmt.pct(v)


def _alt(view: SPCView) -> str:
    f, s = view.frame, view.summary
    months = list(f.index.astype(str))
    special = f[f["special_cause"]]
    if len(special):
        flagged = "; ".join(f"{m} {_pct(v)} ({POINT_STYLE[t][2].lower()}, {r.lower()})"
                            for m, v, t, r in zip(special.index.astype(str), special["value"], special["point_type"],
                                                  special["rule"]))
        flagged = f"Points with special cause: {flagged}."
    else:
        flagged = "No point shows special cause variation."
    target = f" Target {_pct(s.target)}." if s.target is not None else ""
    return (f"Statistical process control p chart of {view.measure.lower()}, {len(months)} months from {months[0]} to "
            f"{months[-1]}. Latest month {months[-1]}: {_pct(s.latest_value)} of {int(f['denominator'].iloc[-1])}. "
            f"Centre line {_pct(s.centre)}; latest process limits {_pct(s.lpl)} to {_pct(s.upl)}.{target} {flagged} "
            f"Reading: {s.reading}")


def spc_chart(view: SPCView) -> Chart | None:
    """Draw an :class:`~qa_lib.sections.change.SPCView` (``None`` when it was not drawn; ``view.reason`` says why).

    Returns
    -------
    Chart or None
        SVG with alt text; the title carries the variation (and assurance) reading in words.
    """
    if view is None or not view.drawn:
        return None
    f, s = view.frame, view.summary
    x = np.arange(len(f))
    labels = list(f.index.astype(str))
    fig, ax = plt.subplots(figsize=(8.2, 3.9))
    ax.plot(x, f["value"], color=DARK_GREY, linewidth=1.1, zorder=2)
    ax.step(x, f["upl"], where="mid", color=DARK_GREY, linestyle="--", linewidth=0.9, label="Process limits")
    ax.step(x, f["lpl"], where="mid", color=DARK_GREY, linestyle="--", linewidth=0.9)
    ax.plot(x, f["centre"], color=DARK_GREY, linewidth=0.9, linestyle="-", alpha=0.7, label=f"Mean {_pct(s.centre)}")
    if s.target is not None:
        ax.axhline(s.target, color=DARK_PINK, linewidth=1.2, linestyle=":", label=f"Target {_pct(s.target)}")
    for ptype, (colour, marker, text) in POINT_STYLE.items():
        sel = (f["point_type"] == ptype).to_numpy()
        if sel.any():
            ax.scatter(x[sel], f["value"].to_numpy()[sel], color=colour, marker=marker, s=42, zorder=3,
                       edgecolors="white", linewidths=0.5, label=text)
    ax.set_xticks(x)
    ax.set_xticklabels(labels, rotation=45, ha="right", fontsize=7.5)
    lo = min(float(np.nanmin(f["lpl"])), float(np.nanmin(f["value"])), s.target if s.target is not None else 1.0)
    hi = max(float(np.nanmax(f["upl"])), float(np.nanmax(f["value"])), s.target if s.target is not None else 0.0)
    pad = 0.05
    ax.set_ylim(max(0.0, lo - pad), min(1.0, hi + pad) + 0.12)
    ax.yaxis.set_major_locator(plt.matplotlib.ticker.MultipleLocator(0.1))  # headroom for the icon labels
    ax.set_yticks([t for t in ax.get_yticks() if -1e-9 <= t <= 1 + 1e-9 and t <= hi + pad])  # no ticks above 100%
    ax.yaxis.set_major_formatter(plt.matplotlib.ticker.PercentFormatter(1.0))
    ax.set_ylabel(view.measure)
    # MDC icons as shape + text (never colour alone)
    colour, marker, _ = POINT_STYLE[s.variation]
    ax.scatter([0.015], [0.955], transform=ax.transAxes, marker=marker, color=colour, s=60, clip_on=False)
    ax.text(0.035, 0.955, VARIATION_LABEL[s.variation], transform=ax.transAxes, va="center", fontsize=8.5)
    if s.assurance:
        letter, text = ASSURANCE_LABEL[s.assurance]
        ax.text(0.56, 0.955, letter, transform=ax.transAxes, va="center", ha="center", fontsize=8, fontweight="bold",
                color="white", bbox={"boxstyle": "circle,pad=0.25", "facecolor": DARK_GREY, "edgecolor": "none"})
        ax.text(0.58, 0.955, text, transform=ax.transAxes, va="center", fontsize=8.5)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.28), ncol=3, frameon=False, fontsize=8)
    trial = " (trial limits)" if s.trial_limits else ""
    title = f"{view.measure}{trial}: {VARIATION_LABEL[s.variation].split(': ', 1)[1]}"
    if s.assurance:
        title += f"; {ASSURANCE_LABEL[s.assurance][1].split(': ', 1)[1]}"
    ax.set_title(title, loc="left", fontsize=10)
    return to_chart(fig, alt=_alt(view), title=title)

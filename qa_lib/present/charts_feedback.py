"""Issue 17: family feedback charts: each question's positive share over the periods shown, with intervals.

One panel per survey (a chart per survey, drawn as small multiples in one figure so a notebook cell
stays one call): each question a row, each period a marker with its 95% Wilson interval as a line,
periods told apart by marker shape as well as colour. The alt text lists every value.
"""

from __future__ import annotations

import textwrap

import numpy as np
import pandas as pd

from qa_lib.core import fmt
from qa_lib.present.charts import PALETTE, Chart, plt, to_chart
from qa_lib.sections import feedback

MARKERS = ["o", "s", "^", "D", "v", "P"]


def positive_share_panels(shares: pd.DataFrame, *, periods: list[str], title: str, min_n: int = 10) -> Chart | None:
    """Small multiples of % positive by question and period (``shares`` from
    :func:`qa_lib.sections.feedback.positive_shares`); hollow markers where n < ``min_n``."""
    shares = shares[shares["answered"] > 0]
    if shares.empty:
        return None
    periods = [p for p in periods if p in set(shares["period"])]
    surveys = list(dict.fromkeys(shares["survey"]))
    rows = [len(shares.loc[shares["survey"] == s, "question"].unique()) for s in surveys]
    fig, axes = plt.subplots(len(surveys), 1, figsize=(8, 0.5 * sum(rows) + 1.2 * len(surveys) + 0.6),
                             gridspec_kw={"height_ratios": rows}, squeeze=False)
    alt_parts = []
    step = 0.7 / max(1, len(periods))
    for ax, survey in zip(axes[:, 0], surveys):
        s = shares[shares["survey"] == survey]
        questions = list(dict.fromkeys(s["question"]))
        for k, p in enumerate(periods):
            sp = s[s["period"] == p].set_index("question").reindex(questions)
            y = np.arange(len(questions)) + (k - (len(periods) - 1) / 2) * step
            ok = sp["share"].notna().to_numpy()
            colour, marker = PALETTE[k % len(PALETTE)], MARKERS[k % len(MARKERS)]
            ax.hlines(y[ok], sp["ci_low"].to_numpy()[ok], sp["ci_high"].to_numpy()[ok], color=colour, linewidth=1.2)
            small = (sp["answered"].fillna(0).to_numpy() < min_n) & ok
            ax.scatter(sp["share"].to_numpy()[ok & ~small], y[ok & ~small], color=colour, marker=marker, zorder=3, label=p)
            ax.scatter(sp["share"].to_numpy()[small], y[small], facecolors="white", edgecolors=colour, marker=marker, zorder=3,
                       label=f"{p} (n < {min_n})" if small.any() else None)
        ax.set_yticks(np.arange(len(questions)), [textwrap.shorten(q, 70, placeholder="…") for q in questions], fontsize=8)
        ax.invert_yaxis()
        ax.set_xlim(0, 1)
        ax.xaxis.set_major_formatter(plt.matplotlib.ticker.PercentFormatter(1.0))
        ax.set_title(survey, loc="left", fontsize=10)
        ax.legend(loc="lower left", fontsize=7, frameon=False, ncol=min(4, 2 * len(periods)))
        for q in questions:
            vals = []
            for p in periods:
                r = s[(s["question"] == q) & (s["period"] == p)]
                if len(r) and pd.notna(r["share"].iloc[0]):
                    vals.append(f"{p} {fmt.pct(r['share'].iloc[0])} (95% range {fmt.pct_range(r['ci_low'].iloc[0], r['ci_high'].iloc[0])}, "
                                f"n = {int(r['answered'].iloc[0])})")
            alt_parts.append(f"{survey}, {q}: " + "; ".join(vals))
    fig.suptitle(title, x=0.01, ha="left", fontsize=10)
    alt = "Dot-and-interval chart of % positive by question and period, one panel per survey. " + ". ".join(alt_parts) + "."
    return to_chart(fig, alt=alt, title=title)


def positive_share_chart(ds) -> Chart | None:
    """The chart per survey of each question's % positive over the shown periods, with intervals."""
    periods = [p.label for p in ds.period.history(ds.params.history_periods)]
    return positive_share_panels(feedback.positive_shares(ds), periods=periods,
                                 title="% positive by question and period, with 95% ranges", min_n=int(ds.params.min_n))

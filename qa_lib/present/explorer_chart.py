"""The explorer's charts as plain SVG text: a few milliseconds each, so an interaction only slices.

Matplotlib took 150–300 ms a chart, most of an explorer interaction. These two chart kinds are
simple enough to write directly: dots with 95% interval bars (a share per group) and 100% stacked
grade bars. Both use a fixed 0–100% axis and a fixed size per row ``slots``, so in comparison mode
chart A and chart B, drawn with the same ``slots``, are the same size on the same axis. Colours are
the reports' (:data:`qa_lib.present.charts.PALETTE`, :data:`~qa_lib.present.charts.GRADE_COLOURS`);
every value is also in the chart's alt text and in the table beside it.
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence

from qa_lib.core import fmt
from qa_lib.present.charts import GRADE_COLOURS, PALETTE, TEXT_ON, Chart


def _n(value: float) -> str:
    """An SVG coordinate to one decimal (not shown to readers: figures go through qa_lib.core.fmt)."""
    return format(value, ".1f")

__all__ = ["WIDTH", "ROW", "dot_chart", "stack_chart"]

WIDTH = 640  #: viewBox width; the image scales to its column
ROW = 28  #: height of one row
_LEFT, _RIGHT = 190, 500  #: the plot area's x range (0% and 100%)
_TOP = 30  #: the axis labels above the first row
_LABEL_CHARS = 28
_TOTAL = "Total"


def _esc(text: object) -> str:
    return html.escape(str(text), quote=True)


def _short(label: str) -> str:
    return label if len(label) <= _LABEL_CHARS else label[: _LABEL_CHARS - 1] + "…"


def _x(share: float) -> float:
    return _LEFT + (_RIGHT - _LEFT) * min(max(share, 0.0), 1.0)


def _frame(slots: int, body: list[str], title: str, legend: str = "") -> str:
    height = _TOP + ROW * slots + (26 if legend else 8)
    axis = []
    for tick in (0, 0.25, 0.5, 0.75, 1):
        x = _x(tick)
        axis.append(f'<line x1="{_n(x)}" y1="{_TOP - 6}" x2="{_n(x)}" y2="{_TOP + ROW * slots}" stroke="#b1b4b6" '
                    f'stroke-width="1"/>')
        axis.append(f'<text x="{_n(x)}" y="{_TOP - 10}" text-anchor="middle">{fmt.pct(tick)}</text>')
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" width="{WIDTH}" '
            f'height="{height}" font-family="Arial, Helvetica, sans-serif" font-size="13" fill="#0b0c0c">'
            f'<title>{_esc(title)}</title><rect width="{WIDTH}" height="{height}" fill="white"/>'
            + "".join(axis) + "".join(body) + legend + "</svg>")


def dot_chart(labels: Sequence[str], estimate: Sequence[float], low: Sequence[float], high: Sequence[float],
              n: Sequence[int], *, title: str, measure: str, slots: int | None = None,
              target: float | None = None) -> Chart:
    """Dots with 95% interval bars, one row per label, the share and n written to the right.

    ``slots`` (≥ ``len(labels)``) sets the height, so two charts with the same ``slots`` match;
    ``target`` draws a dashed line (the return-rate target). The ``Total`` row is drawn in grey.
    """
    slots = max(slots or 0, len(labels), 1)
    body = []
    for k, (lab, p, a, b, m) in enumerate(zip(labels, estimate, low, high, n)):
        y = _TOP + ROW * k + ROW / 2
        colour = PALETTE[4] if lab == _TOTAL else PALETTE[0]
        body.append(f'<text x="{_LEFT - 8}" y="{_n(y + 4)}" text-anchor="end">{_esc(_short(str(lab)))}</text>')
        if all(math.isfinite(v) for v in (a, b)):
            body.append(f'<line x1="{_n(_x(a))}" y1="{_n(y)}" x2="{_n(_x(b))}" y2="{_n(y)}" stroke="{colour}" '
                        f'stroke-width="3"/>')
        if math.isfinite(p):
            body.append(f'<circle cx="{_n(_x(p))}" cy="{_n(y)}" r="5" fill="{colour}"/>')
        body.append(f'<text x="{_RIGHT + 10}" y="{_n(y + 4)}">{_esc(fmt.pct(p))} (n = {int(m)})</text>')
    if target is not None and math.isfinite(target):
        x = _x(target)
        body.append(f'<line x1="{_n(x)}" y1="{_TOP}" x2="{_n(x)}" y2="{_TOP + ROW * slots}" stroke="{GRADE_COLOURS[2]}" '
                    f'stroke-width="2" stroke-dasharray="6 4"/>')
    parts = [f"{lab}: {fmt.pct(p)} (95% interval {fmt.pct(a)} to {fmt.pct(b)}, n = {int(m)})"
             for lab, p, a, b, m in zip(labels, estimate, low, high, n)]
    alt = f"Dot chart of {measure} with 95% interval bars, axis 0% to 100%. " + "; ".join(parts) + "."
    if target is not None:
        alt += f" Dashed line: the target of {fmt.pct(target)}."
    return Chart(svg=_frame(slots, body, title), alt=alt, title=title)


def stack_chart(labels: Sequence[str], shares: dict[str, Sequence[float]], n: Sequence[int], *, title: str,
                slots: int | None = None) -> Chart:
    """100% stacked bars of the grade mix (``shares``: grade → share per label, best grade first)."""
    grades = list(shares)
    slots = max(slots or 0, len(labels), 1)
    body = []
    for k, (lab, m) in enumerate(zip(labels, n)):
        y = _TOP + ROW * k + 5
        body.append(f'<text x="{_LEFT - 8}" y="{_n(y + 13)}" text-anchor="end">{_esc(_short(str(lab)))}</text>')
        x = 0.0
        for g, colour in zip(grades, GRADE_COLOURS):
            share = float(shares[g][k]) if math.isfinite(float(shares[g][k])) else 0.0
            if share > 0:
                x0, x1 = _x(x), _x(x + share)
                body.append(f'<rect x="{_n(x0)}" y="{_n(y)}" width="{_n(x1 - x0)}" height="{ROW - 10}" fill="{colour}"/>')
                if x1 - x0 > 34:
                    body.append(f'<text x="{_n((x0 + x1) / 2)}" y="{_n(y + 13)}" text-anchor="middle" font-size="11" '
                                f'fill="{TEXT_ON[colour]}">{fmt.pct(share)}</text>')
            x += share
        body.append(f'<text x="{_RIGHT + 10}" y="{_n(y + 13)}">n = {int(m)}</text>')
    legend, lx = [], 10
    y = _TOP + ROW * slots + 10
    for g, colour in zip(grades, GRADE_COLOURS):
        legend.append(f'<rect x="{lx}" y="{y}" width="12" height="12" fill="{colour}"/>'
                      f'<text x="{lx + 16}" y="{y + 11}" font-size="12">{_esc(g)}</text>')
        lx += 24 + 7 * len(g)
    parts = [f"{lab} (n = {int(m)}): " + ", ".join(f"{g} {fmt.pct(shares[g][k])}" for g in grades)
             for k, (lab, m) in enumerate(zip(labels, n))]
    alt = "100% stacked bars of the grade mix in each group of the selection. " + "; ".join(parts) + "."
    return Chart(svg=_frame(slots, body, title, "".join(legend)), alt=alt, title=title)

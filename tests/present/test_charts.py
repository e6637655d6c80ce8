"""qa_lib.present.charts.to_chart: the SVG is cropped to what the figure draws, as savefig's tight crop is."""

from __future__ import annotations

import io
import re

import matplotlib.pyplot as plt
import pandas as pd
from qa_lib.present import charts

GRADES = ["Outstanding", "Good", "Requires improvement", "Inadequate"]


def _figure():
    counts = pd.DataFrame([[3, 10, 6, 1], [0, 4, 9, 5]], columns=GRADES,
                          index=["Children in care and care leavers (long label)", "Front Door"])
    fig, ax = plt.subplots(figsize=(7.5, 2.2))
    left = [0.0, 0.0]
    for g in GRADES:
        ax.barh(list(counts.index), counts[g], left=left, label=g)
        left = [a + b for a, b in zip(left, counts[g])]
    ax.set_title("A title wider than the axes would be if it were very long indeed, as titles get")
    ax.legend(ncol=4, loc="upper center", bbox_to_anchor=(0.5, -0.25), frameon=False)
    return fig


def _size(svg: str) -> tuple[float, float]:
    w, h = re.search(r'viewBox="0 0 ([\d.]+) ([\d.]+)"', svg).groups()
    return float(w), float(h)


def test_crop_matches_savefig_tight_and_keeps_every_label():
    fig = _figure()
    buf = io.StringIO()
    fig.savefig(buf, format="svg", bbox_inches="tight")
    plt.close(fig)
    expected = _size(buf.getvalue())
    chart = charts.to_chart(_figure(), alt="a", title="t")
    got = _size(chart.svg)
    # never tighter than savefig's own crop (nothing clipped), and at most 2% more white space:
    # text is measured at the figure's dpi rather than the SVG's 72, which hints a little wider
    for g, e in zip(got, expected):
        assert e - 1.0 <= g <= e * 1.02 + 1.0
    assert got[0] > 7.5 * 72 * 0.9  # not cropped to the axes
    for text in ("Children in care and care leavers (long label)", "Requires improvement", "as titles get"):
        assert text in chart.svg

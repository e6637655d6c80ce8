"""One formatter, one rounding rule (half up) for every figure a reader sees.

Issue 13: ``present.pct`` rounded half to even while ``change``/``trend``/``feedback`` rounded half
up, so 5 of 8 (62.5%) showed as 62% in a table and 63% in the summary beside it. These tests pin
the rule and render 5 of 8 through every surface: table cells, sentences, chart labels, alt text.
"""

from __future__ import annotations

import datetime as dt
import math
import re

import numpy as np
import pandas as pd
import pytest

from qa_lib.core import fmt
from qa_lib.present import charts, charts_spc, html_tables
from qa_lib.sections import change
from qa_lib.stats import verdicts


@pytest.mark.parametrize("value, expected", [
    (5 / 8, "63%"),      # 62.5 → 63 (Python's f"{0.625:.0%}" gives '62%')
    (0.285, "29%"),      # 28.499999999999996 in binary: the printed decimal is 28.5 → 29
    (0.125, "13%"),
    (0.135, "14%"),
    (1 / 3, "33%"),
    (0.0, "0%"),
    (1.0, "100%"),
    (0.004999, "0%"),
    (float("nan"), "–"),
    (None, "–"),
    (pd.NA, "–"),
])
def test_pct_half_up(value, expected):
    assert fmt.pct(value) == expected


def test_python_default_would_round_half_even():
    """The reason for the module: the default formatter disagrees with readers on halves."""
    assert f"{0.625:.0%}" == "62%" and round(62.5) == 62
    assert fmt.pct(0.625) == "63%"


@pytest.mark.parametrize("call, expected", [
    (lambda: fmt.number(0.125), "0.13"),
    (lambda: fmt.number(-0.125), "\u22120.13"),
    (lambda: fmt.number(2.675), "2.68"),         # 2.67499999... in binary
    (lambda: fmt.number(0.5, 0), "1"),
    (lambda: fmt.points(0.255), "+26"),
    (lambda: fmt.points(-0.14), "\u221214"),
    (lambda: fmt.points(0.004), "0"),
    (lambda: fmt.pct(0.625, 1), "62.5%"),
    (lambda: fmt.pct_range(0.4, 0.8125), "40–81%"),
    (lambda: fmt.points_range(0.05, 0.445), "+5 to +45"),
    (lambda: fmt.number_range(-0.0251, 0.615), "\u22120.03 to 0.62"),
    (lambda: fmt.pvalue(0.0175), "p = 0.018"),
    (lambda: fmt.pvalue(0.0004), "p < 0.001"),
    (lambda: fmt.pvalue(float("nan")), "not testable"),
    (lambda: fmt.significant(0.0123456), "0.0123"),
    (lambda: fmt.significant(123.456), "123"),
    (lambda: fmt.count(12345), "12,345"),
    (lambda: fmt.count_of(5, 8), "5 of 8 (63%)"),
    (lambda: fmt.count_of(0, 0), "0 of 0"),
    (lambda: fmt.date(dt.date(2021, 11, 1)), "1 November 2021"),
    (lambda: fmt.date("2021-12-31"), "31 December 2021"),
    (lambda: fmt.date(None), "–"),
])
def test_formats(call, expected):
    assert call() == expected


def test_signed_text_never_starts_like_a_formula():
    """A negative figure starts with U+2212, which no spreadsheet reads as a formula."""
    for text in (fmt.points(-0.3), fmt.number(-1.5), fmt.number_range(-0.2, -0.1)):
        assert not text.startswith(("-", "=", "@")), text


def _figures(text: str) -> list[str]:
    return re.findall(r"\d+(?:\.\d+)?%", text)


def test_five_of_eight_reads_63_percent_on_every_surface():
    """Table cell, interval cell, sentences, chart bar label, alt text: the same 63%."""
    seen = {}
    # table cells (the reader's view of a report table)
    seen["table cell"] = html_tables.format_cell(5 / 8, "good_or_better_share")
    frame = pd.DataFrame({"n": [8], "good_or_better": [5], "good_or_better_share": [5 / 8],
                          "good_or_better_low_share": [0.31], "good_or_better_high_share": [0.86]},
                         index=pd.Index(["Overall"], name="domain"))
    compacted, _notes = html_tables.compact(frame)
    seen["table with range"] = " ".join(map(str, compacted.iloc[0].tolist()))
    # sentences
    seen["describe_proportion"] = verdicts.describe_proportion(5, 8)
    seen["proportion_text"] = change.proportion_text(5, 8)
    seen["count_of"] = fmt.count_of(5, 8)
    # chart: bar labels (the SVG text) and alt text
    chart = charts.stacked_grades(pd.DataFrame({"Good": [5], "Requires improvement": [3]}, index=["Q1"]),
                                  ["Good", "Requires improvement"], title="t", what="grades")
    seen["chart alt text"] = chart.alt
    seen["SPC chart label"] = charts_spc._pct(5 / 8)
    for surface, text in seen.items():
        assert "63%" in text, f"{surface}: {text!r}"
        assert "62%" not in text, f"{surface}: {text!r}"
    # the SVG draws the bar label as glyph paths or text; matplotlib writes the string in a comment
    assert "63%" in chart.svg and "62%" not in chart.svg


def test_no_second_rounding_rule_in_the_library():
    """Every percentage, p-value and coefficient a reader sees goes through qa_lib.core.fmt: no
    f-string percentage or fixed-decimal format elsewhere (they round half to even)."""
    from pathlib import Path

    root = Path(fmt.__file__).resolve().parents[1]  # qa_lib/; running/ prints timings, not figures
    pattern = re.compile(r"\{[^{}]*:[^{}]*\.\d+[%f]\}")
    offenders = []
    for path in [p for layer in ("core", "inputs", "stats", "sections", "present") for p in (root / layer).rglob("*.py")]:
        if path.name == "fmt.py":
            continue
        for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if pattern.search(line) and "# not shown to readers" not in line:
                offenders.append(f"{path.relative_to(root.parent)}:{i}: {line.strip()}")
    assert not offenders, "format through qa_lib.core.fmt instead:\n" + "\n".join(offenders)


def test_finite_guard():
    assert math.isnan(float("nan")) and fmt.number(np.float64("inf")) == "–"

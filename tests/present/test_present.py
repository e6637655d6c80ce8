"""The reader's view of a table: estimates with their intervals in one cell, small n marked."""

import math

import pandas as pd

from qa_lib.present.html_tables import compact, html_table, pct


def _frame():
    return pd.DataFrame({
        "n": [24, 8], "good_or_better": [18, 2], "good_or_better_share": [0.75, 0.25],
        "good_or_better_low_share": [0.5505, 0.0715], "good_or_better_high_share": [0.8804, 0.5907],
        "good_or_better_summary": ["18 of 24", "2 of 8"], "small_n": [False, True],
        "kappa": [0.5, math.nan], "kappa_ci_low": [0.2, math.nan], "kappa_ci_high": [0.8, math.nan],
    }, index=pd.Index(["A", "B"], name="service_area"))


def test_estimates_merge_with_their_interval_and_counts_do_not():
    shown, notes = compact(_frame())
    assert list(shown.columns) == ["Audits (n)", "Good or better", "% Good or better (95% range)", "Kappa (95% range)"]
    assert shown.loc["A", "% Good or better (95% range)"] == "75% (55–88%)"
    assert shown.loc["A", "Good or better"] == "18"
    assert shown.loc["A", "Kappa (95% range)"] == "0.50 (0.20 to 0.80)"
    assert shown.loc["B", "Kappa (95% range)"] == "–"


def test_small_n_marked_with_footnote():
    shown, notes = compact(_frame())
    assert shown.loc["B", "% Good or better (95% range)"].endswith("†")
    assert not shown.loc["A", "% Good or better (95% range)"].endswith("†")
    assert any(n.startswith("†") for n in notes)


def test_suppressed_cells_stay_suppressed():
    f = _frame().astype(object)
    f.loc["B", "good_or_better_share"] = "c"
    shown, _ = compact(f)
    assert shown.loc["B", "% Good or better (95% range)"] == "c"


def test_html_escapes_and_marks_headers():
    f = pd.DataFrame({"n": [3]}, index=pd.Index(["<script>alert(1)</script>"], name="team"))
    out = html_table(f, caption="Teams <b>")
    assert "<script>" not in out and "&lt;script&gt;" in out and "Teams &lt;b&gt;" in out
    assert '<th scope="row">' in out and '<th scope="col">' in out


def test_pct():
    assert pct(0.456) == "46%" and pct(float("nan")) == "–"

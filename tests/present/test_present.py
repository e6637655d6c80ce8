"""The reader's view of a table: estimates with their intervals in one cell, small n marked."""

import math
import re

import numpy as np
import pandas as pd

from qa_lib.present.html_tables import compact, html_table, is_number_column, number_columns, pct, render_table


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


def _column_classes(table_html: str) -> list[set[str]]:
    """The ``class`` of each body ``<td>`` column, over every row (a set per column)."""
    rows = re.findall(r"<tr[^>]*>(.*?)</tr>", table_html.split("<tbody>")[1])
    cols: list[set[str]] = []
    for row in rows:
        for k, m in enumerate(re.finditer(r"<td( class=\"([^\"]*)\")?>", row)):
            if k == len(cols):
                cols.append(set())
            cols[k].add(m.group(2) or "")
    return cols


def test_alignment_follows_the_column_type_not_the_first_character():
    """Issue 18: a text column is left-aligned (class "text") even when its cells begin with a digit,
    a minus or "<"; a number column is right-aligned even when its cells are suppression marks or "–"."""
    frame = pd.DataFrame({
        "reading": ["30.2% (42 of 139) in 2024-09. Latest point: special cause", "-3 points since last quarter",
                    "<5 audits: too few to say"],  # text that starts like a number
        "team": ["North", "South", "East"],  # text that starts like text
        "n": [24, 8, 3],
        "difference": [-3.5, 0.25, math.nan],  # negative, missing
        "published_n": np.array([12, "c", "c"], dtype=object),  # counts after disclosure control
        "met_target": [True, False, True],  # Yes / No: words
        "cohort": pd.Categorical(["1 Child in need", "2 Child protection", "1 Child in need"]),
        "good_or_better_share": [0.75, 0.25, 0.5],
        "good_or_better_low_share": [0.55, 0.07, 0.2], "good_or_better_high_share": [0.88, 0.59, 0.8],
    }, index=pd.Index(["A", "B", "C"], name="service_area"))
    out = html_table(frame, caption="t")
    found = re.findall(r'<th scope="col"(?: class="(text)")?>([^<]*)</th>', out)
    assert found[0] == ("text", "Service area")  # the row labels' header is text
    heads = [h for _, h in found[1:]]
    kinds = dict(zip(heads, _column_classes(out)))
    # each header is aligned with its column: class "text" over a text column, none over numbers
    assert {h: {c} for c, h in found[1:]} == kinds
    assert kinds == {"Reading": {"text"}, "Team": {"text"}, "Audits (n)": {""}, "Difference (points, likely range)": {""},
                     "Published n": {""}, "Target met": {"text"}, "Cohort": {"text"},
                     "% Good or better (95% range)": {""}}
    assert "30.2% (42 of 139)" in out and "<td>c</td>" in out and "<td>–</td>" in out


def test_is_number_column_by_dtype():
    assert is_number_column(pd.Series([1, 2], dtype="Int64")) and is_number_column(pd.Series([0.5, np.nan]))
    assert is_number_column(pd.Series(["c", 3, "c"], dtype=object))  # a number column with marks
    assert not is_number_column(pd.Series(["12", "13"], dtype="string"))  # digits as text stay text
    assert not is_number_column(pd.Series(["12", "13"], dtype=object))
    assert not is_number_column(pd.Series([True, False]))
    assert not is_number_column(pd.Series([math.nan, "c"], dtype=object))  # nothing but marks and blanks
    assert not is_number_column(pd.Series(pd.to_datetime(["2024-01-01"])))


def test_render_table_takes_the_types_of_the_full_table():
    """A text version of a table (the explorer's) keeps its columns: the full table's types align it;
    without them, formatted text is text (the default reads the type of what it is given)."""
    full = pd.DataFrame({"team": ["9 North", "South"], "n": [1200, 35]})
    shown = pd.DataFrame({"Team": ["9 North", "South"], "Audits": ["1,200", "35"]})
    assert _column_classes(render_table(shown, caption="t", numeric=number_columns(full))) == [{"text"}, {""}]
    assert _column_classes(render_table(shown, caption="t")) == [{"text"}, {"text"}]
    assert _column_classes(render_table(full, caption="t")) == [{"text"}, {""}]

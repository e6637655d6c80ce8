"""The † small-sample mark comes from the real n, never from a suppressed flag column (issue 14,
Deliver 6 and Must-show 4).

Before the fix the published reports put † on rows with n = 27, 14, 35 and 29: disclosure control
hides every derived column of a row with a hidden count, so ``small_n`` held ``c``, and
``fillna(False).astype(bool)`` read ``"c"`` as True.
"""

from __future__ import annotations

from html.parser import HTMLParser

import pandas as pd
import pytest

from qa_lib.present.html_tables import SMALL_N_MARK, compact, small_n_flags
from qa_lib.present.report import Report

GRADES = ["Outstanding", "Good", "Requires improvement", "Inadequate"]
AUDITS = "audit_id,case_id,audit_date,service_area,auditor_id\nA1,C1,2024-07-02,Front Door,X1\n"
RATINGS = "audit_id,rater_id,role,domain,grade\nA1,X1,auditor,Overall,Good\n"


def _table() -> pd.DataFrame:
    """Counts a reader can check: row "n = 27" has a count of 2 (hidden when published) and 27 audits,
    far above the minimum of 10; row "n = 7" is small (7 < 10) with every count shown (0 is shown)."""
    counts = pd.DataFrame({"Outstanding": [5, 0, 10], "Good": [10, 7, 10], "Requires improvement": [10, 0, 10],
                           "Inadequate": [2, 0, 10]}, index=pd.Index(["n = 27", "n = 7", "n = 40"], name="service_area"))
    out = counts.assign(n=counts.sum(axis=1), good_or_better=counts["Outstanding"] + counts["Good"])
    out["good_or_better_share"] = out["good_or_better"] / out["n"]
    out["good_or_better_low_share"] = out["good_or_better_share"] - 0.1  # any interval: only the mark is tested
    out["good_or_better_high_share"] = (out["good_or_better_share"] + 0.1).clip(upper=1)
    out["small_n"] = (out["n"] > 0) & (out["n"] < 10)
    return out


class _Cells(HTMLParser):
    """(caption, row header, column header) -> cell text of every table on a page."""

    def __init__(self):
        super().__init__()
        self.cells, self._table, self._row, self._cell, self._in_caption = {}, None, None, None, False

    def handle_starttag(self, tag, attrs):
        if tag == "table":
            self._table = {"caption": "", "head": None}
        elif tag == "caption":
            self._in_caption = True
        elif tag == "tr" and self._table is not None:
            self._row = []
        elif tag in ("td", "th") and self._row is not None:
            self._cell = ""

    def handle_endtag(self, tag):
        if tag == "caption":
            self._in_caption = False
        elif tag in ("td", "th") and self._cell is not None:
            self._row.append(self._cell)
            self._cell = None
        elif tag == "tr" and self._row is not None:
            t = self._table
            if t["head"] is None:
                t["head"] = self._row
            else:
                for j, value in enumerate(self._row[1:], start=1):
                    self.cells[(t["caption"], self._row[0], t["head"][j] if j < len(t["head"]) else j)] = value
            self._row = None
        elif tag == "table":
            self._table = None

    def handle_data(self, data):
        if self._in_caption and self._table is not None:
            self._table["caption"] += data
        elif self._cell is not None:
            self._cell += data


def cells(markup: str) -> dict:
    parser = _Cells()
    parser.feed(markup)
    return parser.cells


def marked(markup: str) -> set:
    return {k for k, v in cells(markup).items() if SMALL_N_MARK in v}


def test_a_suppressed_flag_is_not_a_flag():
    frame = _table().astype(object)
    frame["small_n"] = ["c", False, "c"]  # what disclosure control leaves in the column
    shown, notes = compact(frame)
    assert not any(SMALL_N_MARK in v for v in shown["% Good or better (95% range)"])
    assert list(small_n_flags(frame)) == [False, False, False]


def test_flags_given_from_the_real_n_mark_only_shown_estimates():
    frame = _table().astype(object)
    frame.loc["n = 7", "good_or_better_share"] = "<5"  # a hidden estimate never gets a mark, whatever the symbol
    shown, _ = compact(frame, small=[False, True, False])
    assert shown.loc["n = 7", "% Good or better (95% range)"] == "<5"
    shown, notes = compact(_table(), small=[False, True, False])
    assert [v.endswith(SMALL_N_MARK) for v in shown["% Good or better (95% range)"]] == [False, True, False]
    assert any(n.startswith(SMALL_N_MARK) for n in notes)
    with pytest.raises(ValueError):
        compact(_table(), small=[True])


@pytest.mark.parametrize("audience", ["internal", "published"])
def test_report_table_marks_from_the_real_n(make_dataset, tmp_path, audience):
    # suppression scope table: "marks" is not a pack table, and the pack withholds those (fail closed)
    ds = make_dataset(audits=AUDITS, ratings=RATINGS, extra={"audience": audience, "min_n": 10,
                                                             "suppression": {"scope": "table"}})
    rpt = Report(ds.params, "quarterly", output_dir=tmp_path / audience)
    rpt._dataset = ds
    markup = rpt.table(_table(), "marks", "Marks").markup
    rows = {k[1] for k in marked(markup)}
    assert rows == {"n = 7"}, f"{audience}: † on {sorted(rows)}"
    if audience == "published":  # the n = 27 row really has a hidden cell: the old code marked it
        assert "<td>c</td>" in markup


@pytest.mark.slow
def test_published_marks_agree_with_internal_on_the_demo(demo_run, demo_published_run):
    checked = 0
    for report in ("quarterly", "moderation", "feedback", "indicators"):
        internal = cells((demo_run["out"] / f"{report}.html").read_text(encoding="utf-8"))
        published = cells((demo_published_run["out"] / f"{report}.html").read_text(encoding="utf-8"))
        extra = [(k, published[k], internal.get(k)) for k in published
                 if SMALL_N_MARK in published[k] and SMALL_N_MARK not in (internal.get(k) or "")]
        assert not extra, f"{report}: † in the published report only: {extra[:5]}"
        for key, value in internal.items():
            if SMALL_N_MARK in value and key in published:
                checked += 1
                shown = published[key]
                assert SMALL_N_MARK in shown or shown.strip() in ("c", "–"), \
                    f"{report}: {key} is marked internally ({value}) and shown unmarked when published ({shown})"
    assert checked, "the internal demo reports have no † mark to compare"

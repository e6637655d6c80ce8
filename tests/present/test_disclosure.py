"""Disclosure control (issue 8): small counts hidden as c, and no hidden count recoverable from totals.

Expected cells in the unit tests are worked out by hand from the rule in qa_lib/present/disclosure.py
(primary: 0 < x < threshold; secondary: a line with exactly one hidden cell gets its smallest
other non-zero member hidden). The demo tests re-derive every table's totals independently of
qa_lib.present.disclosure and solve for each hidden cell with linear programming.
"""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import pytest
from scipy.optimize import linprog

from qa_lib.present import disclosure as d
from qa_lib.core.errors import ParamsError
from qa_lib.inputs.params import load_params
from conftest import write_inputs

RULE = d.SuppressionRule(threshold=5)
GRADES = ["Outstanding", "Good", "Requires improvement", "Inadequate"]


def _hidden(result) -> set[tuple[str, str]]:
    m = result.hidden
    return {(str(i), c) for i in m.index for c in m.columns if m.loc[i, c]}


def test_two_by_two_with_totals_hand_worked():
    frame = pd.DataFrame({"A": [10, 6, 16], "B": [3, 8, 11], "n": [13, 14, 29]},
                         index=pd.Index(["r1", "r2", "Total"], name="area"))
    out = d.suppress(frame, RULE, grades=["A", "B"])
    # B/r1 = 3 is primary; row r1 then hides A/r1 (10); column B hides B/r2 (8); column A hides A/r2 (6)
    assert _hidden(out) == {("r1", "A"), ("r1", "B"), ("r2", "A"), ("r2", "B")}
    assert (out.primary, out.secondary) == (1, 3)
    assert out.frame.loc["Total"].tolist() == [16, 11, 29] and out.frame.loc["r1", "n"] == 13
    # by hand: B/r1 = t, A/r1 = 13 - t, A/r2 = 3 + t, B/r2 = 11 - t, all >= 0  ->  t in [0, 11]
    lines = d.structure(frame, grades=["A", "B"]).lines
    iv = d.feasible_intervals(frame, lines, {(0, "B"), (0, "A"), (1, "A"), (1, "B")})
    assert iv[(0, "B")] == pytest.approx((0.0, 11.0))
    assert iv[(1, "A")] == pytest.approx((3.0, 14.0))


def test_shares_of_hidden_counts_are_hidden_and_share_denominators_count_as_totals():
    frame = pd.DataFrame({"practitioners": [6, 5, 3]}, index=pd.Index(["x", "y", "z"], name="reason"))
    frame["share"] = frame["practitioners"] / 14
    out = d.suppress(frame, RULE)
    # z = 3 is primary; the shares make the sum 14 public, so y (5, the smallest other) is hidden too
    assert out.frame["practitioners"].tolist() == [6, "c", "c"]
    assert out.frame["share"].tolist() == [pytest.approx(6 / 14), "c", "c"]


def test_rate_hidden_when_a_denominator_part_is_hidden_and_text_quoting_small_counts():
    frame = pd.DataFrame({"allocated": [20, 30], "returned": [16, 25], "not returned": [2, 5], "exempt": [2, 0]},
                         index=pd.Index(["a", "b"], name="service_area"))
    frame["return_rate"] = frame["returned"] / (frame["allocated"] - frame["exempt"])
    frame["summary"] = ["16 of 18", "3 of 30"]
    out = d.suppress(frame, RULE)
    assert out.frame.loc["a", "not returned"] == "c" and out.frame.loc["a", "exempt"] == "c"
    assert out.frame.loc["a", "return_rate"] == "c"            # exempt is in its denominator
    assert out.frame.loc["b", "return_rate"] == pytest.approx(25 / 30)
    assert out.frame.loc["b", "summary"] == "c"                 # quotes a count of 3
    assert out.frame.loc["a", "summary"] == "c"                 # its row has hidden counts


def test_threshold_from_params_and_zero_shown(tmp_path):
    frame = pd.DataFrame({"audits": [0, 2, 3, 7]}, index=["a", "b", "c", "d"])
    out = d.suppress(frame, d.SuppressionRule(threshold=3))
    assert out.frame["audits"].tolist() == [0, "c", 3, 7]
    path = write_inputs(tmp_path / "t", extra={"audience": "published", "suppression": {"threshold": 10}})
    assert d.rule_from_params(load_params(path)).threshold == 10
    # the mark is the params' (the spec's house style "<5" as well as the ONS "c"); never a number
    styled = write_inputs(tmp_path / "s", extra={"audience": "published", "suppression": {"threshold": 5, "symbol": "<5"}})
    rule = d.rule_from_params(load_params(styled))
    assert d.suppress(frame, rule).frame["audits"].tolist() == [0, "<5", "<5", 7]
    assert "shown as <5" in rule.describe()
    for mark in ("3", "", "1,000"):
        numeric = write_inputs(tmp_path / f"n{len(mark)}", extra={"suppression": {"symbol": mark}})
        with pytest.raises(ParamsError, match="suppression.symbol"):
            d.rule_from_params(load_params(numeric))
    bad = write_inputs(tmp_path / "u", extra={"suppression": {"threshold": 0}})
    with pytest.raises(ParamsError, match="suppression.threshold"):
        load_params(bad)
    bad = write_inputs(tmp_path / "v", extra={"suppression": {"limit": 5}})
    with pytest.raises(ParamsError, match="suppression.limit"):
        load_params(bad)


# --------------------------------------------------------------------------- the published demo

NOT_COUNTS = re.compile(r"(^|_| )(df|raters)$")


def _read(out, name):
    return pd.read_csv(out / "tables" / f"{name}.csv", dtype=str, keep_default_na=False, encoding="utf-8-sig")


@pytest.mark.slow
def test_published_demo_renders_and_states_its_rule(demo_published_run):
    failed = [(r.report, r.error) for r in demo_published_run["results"] if r.status != "ok"]
    assert not failed, failed
    out = demo_published_run["out"]
    page = (out / "quarterly.html").read_text(encoding="utf-8")
    header = page.split("</header>")[0]
    assert "Audience: published" in header and "Counts from 1 to 4 are shown as c" in header
    assert "<td>c</td>" in page and "c = not shown to protect confidentiality" in page
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["audience"] == "published" and "Counts from 1 to 4" in manifest["disclosure"]
    assert manifest["provenance"]["params"]["suppression"] == {"threshold": 5, "symbol": "c", "scope": "pack"}


@pytest.mark.slow
def test_no_visible_count_below_the_threshold_in_any_published_table(demo_published_run):
    out = demo_published_run["out"]
    checked = 0
    for csv in sorted((out / "tables").glob("*.csv")):
        frame = pd.read_csv(csv, dtype=str, keep_default_na=False, encoding="utf-8-sig")
        for col in frame.columns:
            vals = frame[col][(frame[col] != "c") & (frame[col] != "")]
            if NOT_COUNTS.search(col) or vals.empty or not vals.str.fullmatch(r"-?\d+").all():
                continue  # not a column of whole numbers
            checked += 1
            small = vals.astype(int).between(1, 4)
            assert not small.any(), f"{csv.name} column {col!r} shows {vals[small].tolist()}"
        for col in frame.columns:  # counts quoted in text, e.g. "3 of 14"
            for text in frame[col]:
                for a, b in re.findall(r"(?<![\d.])(\d+)\s*(?:of|/)\s*(\d+)(?![\d.])", text):
                    assert not (1 <= int(a) <= 4 or 1 <= int(b) <= 4), f"{csv.name} {col!r}: {text!r}"
    assert checked > 20


# Each published table's linear relations, written from qa_lib/sections/tables.py's definitions (not from
# qa_lib.present.disclosure): a relation is a list of (coefficient, row label, column) summing to zero.
def _relations(name: str, frame: pd.DataFrame) -> list[list[tuple[float, str, str]]]:
    rows = list(frame.index)
    rel = []
    def col_sum(total, parts, row):
        rel.append([(1.0, row, p) for p in parts] + [(-1.0, row, total)])
    def ratio(share_col, num, dens, row, minus=()):
        s = frame.loc[row, share_col]
        if s not in ("c", ""):
            rel.append([(1.0, row, num)] + [(-float(s), row, c) for c in dens] + [(float(s), row, c) for c in minus])
    def total_row(cols, total="Total"):
        if total in rows:
            for c in cols:
                rel.append([(1.0, r, c) for r in rows if r != total] + [(-1.0, total, c)])
    if name in ("grades_by_service_area", "grades_by_cohort", "overall_by_period", "grades_by_domain"):
        for r in rows:
            col_sum("n", GRADES, r)
            col_sum("good_or_better", GRADES[:2], r)
            ratio("good_or_better_share", "good_or_better", ["n"], r)
        total_row(GRADES + ["n", "good_or_better"])
    elif name in ("returns_by_month", "returns_by_service_area"):
        for r in rows:
            col_sum("allocated", ["returned", "not returned", "exempt"], r)
            ratio("return_rate", "returned", ["allocated"], r, minus=["exempt"])
        total_row(["allocated", "returned", "not returned", "exempt"])
    elif name == "participation":
        for r in rows:
            ratio("participation_rate", "took_part", ["recorded"], r)
        total_row(["returned", "recorded", "took_part"])
    elif name == "moderation_outcomes":
        rel.append([(1.0, "Moderated", "audits")] + [(-1.0, r, "audits") for r in ("Same grade", "Downgraded", "Upgraded")])
        for head in ("Downgraded", "Upgraded"):
            rel.append([(1.0, head, "audits")] + [(-1.0, r, "audits") for r in rows if r.startswith(head + " ")])
        for r in rows:  # share = audits / audits of the Moderated row
            s = frame.loc[r, "share"]
            if r != "Moderated" and s not in ("c", ""):
                rel.append([(1.0, r, "audits"), (-float(s), "Moderated", "audits")])
    elif name == "non_participation_reasons":
        for r in rows:  # share = practitioners / (sum of practitioners)
            s = frame.loc[r, "share"]
            if s not in ("c", ""):
                rel.append([(1.0, r, "practitioners")] + [(-float(s), q, "practitioners") for q in rows])
    elif name == "audit_volume":
        for r in rows:
            ratio("moderated_share", "moderated", ["audits"], r)
    return rel


INDEXED = {"grades_by_service_area": "service_area", "grades_by_cohort": "cohort", "overall_by_period": "period",
           "grades_by_domain": "domain", "returns_by_month": "month_label", "returns_by_service_area": "service_area",
           "participation": "service_area", "moderation_outcomes": "outcome", "non_participation_reasons": "reason",
           "audit_volume": "month"}


def _intervals(frame: pd.DataFrame, relations) -> dict[tuple[str, str], tuple[float, float]]:
    unknown = sorted({(r, c) for rel in relations for _, r, c in rel if frame.loc[r, c] == "c"})
    pos = {u: k for k, u in enumerate(unknown)}
    a_eq, b_eq = [], []
    for rel in relations:
        row, rhs = np.zeros(len(unknown)), 0.0
        for coef, r, c in rel:
            if (r, c) in pos:
                row[pos[(r, c)]] += coef
            else:
                rhs -= coef * float(frame.loc[r, c])
        if row.any():
            a_eq.append(row)
            b_eq.append(rhs)
    out = {}
    for u in unknown:
        obj = np.zeros(len(unknown))
        obj[pos[u]] = 1
        lo = linprog(obj, A_eq=a_eq or None, b_eq=b_eq or None, bounds=(0, None), method="highs")
        hi = linprog(-obj, A_eq=a_eq or None, b_eq=b_eq or None, bounds=(0, None), method="highs")
        assert lo.status == 0, f"the published table is inconsistent: {lo.message}"
        out[u] = (lo.fun, -hi.fun if hi.status == 0 else np.inf)
    return out


@pytest.mark.slow
def test_no_suppressed_cell_can_be_recovered_from_the_totals(demo_published_run):
    out = demo_published_run["out"]
    report = {}
    for name, index in INDEXED.items():
        path = out / "tables" / f"quarterly-{name}.csv"
        if not path.is_file():
            continue
        frame = _read(out, f"quarterly-{name}").set_index(index)
        intervals = _intervals(frame, _relations(name, frame))
        report[name] = len(intervals)
        pinned = {u: iv for u, iv in intervals.items() if iv[1] - iv[0] < 1 - 1e-6}
        assert not pinned, f"{name}: hidden cells pinned by the totals: {pinned}"
    # the demo has small counts in these tables, so the check is not vacuous
    assert report.get("grades_by_service_area", 0) >= 4 and report.get("moderation_outcomes", 0) >= 2, report


def test_the_lp_check_catches_a_recoverable_cell():
    # control: with only the primary cell hidden, the row total pins it (13 - 10 = 3)
    frame = pd.DataFrame({"Outstanding": ["10"], "Good": ["c"], "Requires improvement": ["0"], "Inadequate": ["0"],
                          "n": ["13"], "good_or_better": ["c"], "good_or_better_share": ["c"]}, index=["r1"])
    iv = _intervals(frame, _relations("grades_by_service_area", frame))
    assert iv[("r1", "Good")] == pytest.approx((3.0, 3.0))


@pytest.mark.slow
def test_internal_demo_is_not_suppressed(demo_run):
    frame = _read(demo_run["out"], "quarterly-grades_by_service_area")
    assert "c" not in set(frame["Outstanding"])
    page = (demo_run["out"] / "quarterly.html").read_text(encoding="utf-8")
    assert "Audience: internal" in page.split("</header>")[0]


def test_chart_alt_text_judged_for_small_counts():
    # hand arithmetic: 2% of 150 = 3 audits (hidden); 10% of 150 = 15 (shown); n = 4 itself is small
    assert d.chart_discloses("Stacked bar chart of x. A: Good 98%, Inadequate 2% (n = 150).", RULE)
    assert not d.chart_discloses("Stacked bar chart of x. A: Good 90%, Inadequate 10% (n = 150).", RULE)
    assert d.chart_discloses("Stacked bar chart of x. A: Good 100% (n = 4); B: Good 50%, RI 50% (n = 40).", RULE)
    assert not d.chart_discloses("A p-chart of the return rate by month.", RULE)


# -- issue 14: pack-level protection over a linear system of named counts ---------------------------------

def test_protect_links_two_tables_hand_worked():
    """Table 1: a + b = 12 (a = 2 primary, b = 10); table 2 prints b again (b2 = 10) beside c = 7, total 17.
    Per table, hiding a and b protects a. Across the pack b2 = b pins b, so b2's table must hide b2 and a
    partner: c (the only other member; 7 >= 5). Every hidden range then spans >= 5 values."""
    values = {"a": 2, "b": 10, "t1": 12, "b2": 10, "c": 7, "t2": 17}
    rels = [d.Relation(("a", "b"), "t1"), d.Relation(("b",), "b2"), d.Relation(("b2", "c"), "t2")]
    got = d.protect(values, rels, 5)
    assert got.primary == {"a"}
    assert got.hidden == {"a", "b", "b2", "c"}
    # a in [0, 12]: a = 12 − b, b = b2 = 17 − c with c >= 0 and b <= 12 (a >= 0)
    assert got.intervals["a"] == (0.0, 12.0)
    assert all(hi - lo >= 4 for lo, hi in got.intervals.values())


def test_protect_widens_a_range_that_is_too_narrow():
    """a = 1 and b = 2 hidden in a + b = 3: each is bounded to [0, 3], four values, fewer than 5, so a
    third cell of their relations (here the total, the only one left) is hidden too."""
    got = d.protect({"a": 1, "b": 2, "t": 3, "u": 20, "s": 23}, [d.Relation(("a", "b"), "t"),
                                                                 d.Relation(("t", "u"), "s")], 5)
    assert {"a", "b"} <= got.hidden and "t" in got.hidden
    assert all(hi - lo >= 4 for lo, hi in got.intervals.values())


def test_guard_text_hides_small_counts_and_small_complements():
    rule = d.SuppressionRule(threshold=5)
    assert d.guard_text("Latest 2024-09: 15.4% (4 of 26).", rule) == "Latest 2024-09: c."
    assert d.guard_text("the highest was Children in Care (27 of 28).", rule) == "the highest was Children in Care (c)."
    assert d.guard_text("96 of 159 (60%)", rule) == "96 of 159 (60%)"
    assert d.quotes_small("2023-24 Q2: 5/11 (45%)", 5) is False and d.quotes_small("18 of 21", 5) is True


# --------------------------------------------------------------------------- fail closed (issue 17)
def test_published_pack_withholds_a_table_with_counts_it_does_not_control(make_dataset, tmp_path):
    """A table with counts that is not one of the pack's (PACK_TABLES) is withheld from a published report,
    with a note saying so and why, not published under per-table suppression; internal reports, tables
    without counts and per-table scope are unaffected."""
    from qa_lib.present.pack import PACK_TABLES
    from qa_lib.present.report import Report

    audits = "audit_id,case_id,audit_date,service_area,auditor_id\nA1,C1,2024-07-02,Front Door,X1\n"
    ratings = "audit_id,rater_id,role,domain,grade\nA1,X1,auditor,Overall,Good\n"
    counts = pd.DataFrame({"audits": [12, 3], "moderated": [6, 1]}, index=pd.Index(["Front Door", "Assessment"],
                                                                                 name="service_area"))
    words = pd.DataFrame({"theme": ["Chronology", "Voice"], "example": ["a theme", "another"]}).set_index("theme")
    assert "quarterly-new_counts" not in PACK_TABLES

    def render(audience, frame, *, scope="pack"):
        ds = make_dataset(audits=audits, ratings=ratings,
                          extra={"audience": audience, "suppression": {"threshold": 5, "symbol": "c", "scope": scope}})
        rpt = Report(ds.params, "quarterly", output_dir=tmp_path / f"{audience}-{scope}-{len(frame.columns)}")
        rpt._dataset = ds
        markup = rpt.table(frame, "new_counts", "New counts").markup
        return markup, (rpt.tables_dir / "quarterly-new_counts.csv").is_file()

    markup, written = render("published", counts)
    assert "withheld in the published version" in markup and "PACK_TABLES" in markup and not written
    assert "<table" not in markup and ">12<" not in markup
    markup, written = render("internal", counts)
    assert "<table" in markup and ">3<" in markup and written
    markup, written = render("published", words)  # no counts: nothing to protect
    assert "<table" in markup and written
    markup, written = render("published", counts, scope="table")  # per-table scope: the old behaviour
    assert "<table" in markup and ">c<" in markup and written


def test_grade_shares_are_hidden_only_where_their_grade_is():
    """Issue 17: the domain x quarter table's "<grade> share" is that grade's count / n: a row whose counts
    are all shown keeps its shares (they add nothing), a row with a hidden grade loses that grade's share."""
    counts = pd.DataFrame({"Good": [3, 40], "Inadequate": [30, 10]}, index=["Q1", "Q2"])
    frame = counts.assign(n=counts.sum(axis=1))
    for g in ("Good", "Inadequate"):
        frame[f"{g} share"] = frame[g] / frame["n"]
    out = d.suppress(frame, RULE, grades=["Good", "Inadequate"]).frame
    assert out.loc["Q1", "Good"] == "c" and out.loc["Q1", "Good share"] == "c"
    assert out.loc["Q2", "Good share"] == pytest.approx(0.8) and out.loc["Q2", "Inadequate share"] == pytest.approx(0.2)


def test_a_blank_text_cell_is_not_an_error():
    """A published table whose text column has a blank (a domain with strengths but no learning comment) used to
    stop the report (ArrowInvalid on the string array); a blank quotes nothing."""
    frame = pd.DataFrame({"comments": [12, 3], "most frequent learning theme": pd.array(["Voice", pd.NA], dtype="string"),
                          "summary": pd.array(["2 of 12", pd.NA], dtype="string")}, index=["A", "B"])
    out = d.suppress(frame, RULE).frame
    assert out.loc["B", "comments"] == "c" and out.loc["A", "summary"] == "c"  # quotes a count of 2
    assert out.loc["A", "most frequent learning theme"] == "Voice"

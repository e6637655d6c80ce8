"""Moderation reliability tables, charts and report (issue 3).

Expected values are hand arithmetic: the textbook formulas (Cohen 1960/1968, Gwet 2008,
Fleiss 1971, Wilson 1927, Benjamini–Hochberg 1995) are written out in the test on small
hand-built pair sets, never taken from qa_lib's own output.
"""

from __future__ import annotations

import math
import re

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from conftest import ROOT, input_identifiers
from qa_lib.core import fmt
from qa_lib.present import charts_reliability
from qa_lib.sections import reliability
from qa_lib.inputs.params import load_params
from qa_lib.present.html_tables import html_table
from qa_lib.present.report import Report

GRADES = ["Outstanding", "Good", "Requires improvement", "Inadequate"]
O, G, R, I = GRADES
DOMAINS = ["Chronology", "Voice of the child"]


def _inputs(pairs_by_domain: dict[str, list[tuple[str, str | None]]], *, auditors: list[str] | None = None,
            peers: dict[str, list[str]] | None = None, service_area: str = "Front Door"):
    """Audits and ratings CSV frames: audit k gets pair k of every domain (auditor, moderator or None)."""
    n = max(len(v) for v in pairs_by_domain.values())
    auditors = auditors or ["AUD001"] * n
    audits = pd.DataFrame({"audit_id": [f"QA{k:05d}" for k in range(n)], "case_id": [f"C{k:06d}" for k in range(n)],
                           "audit_date": "2024-08-15", "service_area": service_area, "auditor_id": auditors})
    rows = []
    for domain, prs in pairs_by_domain.items():
        for k, (a, m) in enumerate(prs):
            rows.append((f"QA{k:05d}", auditors[k], "auditor", domain, a))
            if m is not None:
                rows.append((f"QA{k:05d}", "MOD777", "moderator", domain, m))
    for domain, grades in (peers or {}).items():
        for k, g in enumerate(grades):
            rows.append((f"QA{k // 2:05d}", f"PEER{k % 2}", "peer", domain, g))
    ratings = pd.DataFrame(rows, columns=["audit_id", "rater_id", "role", "domain", "grade"])
    return audits, ratings


def _expand(counts: dict[tuple[str, str], int]) -> list[tuple[str, str]]:
    return [pair for pair, k in counts.items() for _ in range(k)]


# 10 pairs on the Overall grade: 4 Good/Good, 3 RI/RI, 2 Good→RI (downgraded), 1 RI→Good (upgraded)
OVERALL_PAIRS = _expand({(G, G): 4, (R, R): 3, (G, R): 2, (R, G): 1})
# 12 pairs on Chronology, three grades used, Inadequate unused
CHRONO_PAIRS = _expand({(O, O): 2, (O, G): 1, (G, O): 1, (G, G): 3, (G, R): 2, (R, G): 1, (R, R): 2})


def textbook_kappa(table: np.ndarray, weights: str | None) -> float:
    """Cohen (1960/1968) written out: p_o = Σ w p_ij, p_e = Σ w p_i. p_.j, κ = (p_o − p_e)/(1 − p_e)."""
    q = table.shape[0]
    n = table.sum()
    po = pe = 0.0
    for i in range(q):
        for j in range(q):
            w = {None: 1.0 if i == j else 0.0, "linear": 1 - abs(i - j) / (q - 1),
                 "quadratic": 1 - (i - j) ** 2 / (q - 1) ** 2}[weights]
            po += w * table[i, j] / n
            pe += w * (table[i, :].sum() / n) * (table[:, j].sum() / n)
    return (po - pe) / (1 - pe)


def textbook_ac1(table: np.ndarray) -> float:
    """Gwet (2008): π_k = (p_k. + p_.k)/2, p_e = Σ π_k(1 − π_k)/(q − 1) over the declared q grades."""
    q = table.shape[0]
    n = table.sum()
    po = np.trace(table) / n
    pi = [(table[k, :].sum() + table[:, k].sum()) / (2 * n) for k in range(q)]
    pe = sum(p * (1 - p) for p in pi) / (q - 1)
    return (po - pe) / (1 - pe)


def wilson(x: int, n: int) -> tuple[float, float]:
    z = stats.norm.ppf(0.975)
    p = x / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return centre - half, centre + half


def table_of(pairs: list[tuple[str, str]]) -> np.ndarray:
    t = np.zeros((4, 4))
    for a, m in pairs:
        t[GRADES.index(a), GRADES.index(m)] += 1
    return t


@pytest.fixture
def small_ds(make_dataset):
    chrono = CHRONO_PAIRS
    overall = OVERALL_PAIRS + [(G, None), (G, None)]  # two audits not moderated on Overall
    audits, ratings = _inputs({"Overall": overall, "Chronology": chrono, "Voice of the child": [(G, G)] * 5 + [(G, None)] * 7})
    return make_dataset(audits=audits, ratings=ratings, extra={"domains": DOMAINS})


def test_overall_row_matches_hand_arithmetic(small_ds):
    t = reliability.agreement_by_domain(small_ds)
    assert list(t.index) == ["Overall", "Chronology", "Voice of the child"]
    row = t.loc["Overall"]
    assert row["n"] == 10
    # p_o = 7/10; margins auditor Good .6 RI .4, moderator Good .5 RI .5 → p_e = .5, κ = .2/.5 = 0.4
    assert row["agreement_share"] == pytest.approx(0.7)
    assert row["kappa"] == pytest.approx(0.4)
    # two adjacent grades only: any weights rescale the single off-diagonal step, κ_w = κ = 0.4
    assert row["kappa_linear"] == pytest.approx(0.4)
    assert row["kappa_quadratic"] == pytest.approx(0.4)
    # AC1: π_Good = .55, π_RI = .45; p_e = (2 × .55 × .45)/3 = .165; (0.7 − .165)/.835
    assert row["ac1"] == pytest.approx((0.7 - 0.165) / 0.835)
    lo, hi = wilson(7, 10)
    assert row["agreement_low_share"] == pytest.approx(lo) and row["agreement_high_share"] == pytest.approx(hi)
    assert row["net_downgraded_share"] == pytest.approx((2 - 1) / 10)
    assert row["small_n"] == False  # noqa: E712  (n = 10 is not below min_n 10)
    for m in ("kappa", "kappa_quadratic", "ac1"):
        assert row[f"{m}_ci_low"] < row[m] < row[f"{m}_ci_high"]


def test_three_grade_table_matches_textbook_formulas(small_ds):
    row = reliability.agreement_by_domain(small_ds).loc["Chronology"]
    tab = table_of(CHRONO_PAIRS)
    assert row["n"] == 12
    assert row["agreement_share"] == pytest.approx(7 / 12)
    assert row["kappa"] == pytest.approx(textbook_kappa(tab, None))
    assert row["kappa_linear"] == pytest.approx(textbook_kappa(tab, "linear"))
    assert row["kappa_quadratic"] == pytest.approx(textbook_kappa(tab, "quadratic"))
    assert row["ac1"] == pytest.approx(textbook_ac1(tab))
    # the unused grade (Inadequate) stays in the scale: AC1 with q = 3 would differ (methods.md §4)
    assert row["ac1"] != pytest.approx(textbook_ac1(tab[:3, :3]))
    # by hand for the unweighted one: p_o = 7/12, rows (3,6,3)/12, columns (3,5,4)/12 → p_e = 51/144,
    # κ = (84 − 51)/(144 − 51) = 33/93
    assert row["kappa"] == pytest.approx(33 / 93)


def test_one_grade_only_is_undefined_not_zero(small_ds):
    t = reliability.agreement_by_domain(small_ds)
    row = t.loc["Voice of the child"]
    assert row["n"] == 5 and row["small_n"]
    assert math.isnan(row["kappa"]) and math.isnan(row["kappa_quadratic"])
    assert "undefined" in row["note"] and "small n" in row["note"]
    assert row["ac1"] == pytest.approx(1.0)  # AC1 stays defined: p_a = 1, p_e = 0
    shown = html_table(t, caption="x")
    cells = re.findall(r"<tr><th scope=\"row\">Voice of the child</th>(.*?)</tr>", shown)[0]
    assert "undefined" in cells
    headers = re.findall(r'<th scope="col"[^>]*>(.*?)</th>', shown)[1:]  # after the index header
    kappa_cell = re.findall(r"<td>(.*?)</td>", cells)[headers.index("Kappa (95% range)")]
    assert kappa_cell == "–"  # never 0


def test_confusion_keeps_unused_grades(small_ds):
    c = reliability.confusion_by_domain(small_ds)
    assert list(c.columns) == GRADES
    over = c.loc["Overall"]
    assert list(over.index) == GRADES
    assert over.loc[G, R] == 2 and over.loc[R, G] == 1 and over.loc[G, G] == 4 and over.loc[R, R] == 3
    assert over.loc[O].sum() == 0 and over[I].sum() == 0


def test_drift_hand_computed_tests_and_bh(make_dataset):
    # Overall: 2 down, 1 up; Chronology: 5 down, 0 up
    chrono = _expand({(G, R): 5, (R, R): 5})
    audits, ratings = _inputs({"Overall": OVERALL_PAIRS, "Chronology": chrono})
    ds = make_dataset(audits=audits, ratings=ratings, extra={"domains": ["Chronology"]})
    d = reliability.drift_by_domain(ds)
    o, c = d.loc["Overall"], d.loc["Chronology"]
    assert (o["n_downgraded"], o["n_upgraded"]) == (2, 1)
    # McNemar-type sign test, exact: P(2 of 3 | ½) two-sided = 1; P(5 of 5) two-sided = 2/32
    assert o["mcnemar_p"] == pytest.approx(1.0) and c["mcnemar_p"] == pytest.approx(2 / 32)
    # BH over 2 tests: smaller p × 2/1 = 0.125 (≤ the larger's q = 1)
    assert c["mcnemar_q"] == pytest.approx(0.125) and o["mcnemar_q"] == pytest.approx(1.0)
    # only Good and RI disagree: Stuart–Maxwell and Bowker reduce to (b − c)²/(b + c) on 1 df
    assert o["stuart_maxwell"] == pytest.approx(1 / 3) and o["stuart_maxwell_df"] == 1
    assert o["bowker"] == pytest.approx(1 / 3) and o["bowker_df"] == 1
    assert c["stuart_maxwell"] == pytest.approx(5.0)
    # mean (moderator − auditor) steps: (+1 +1 −1)/10 = 0.1; SD² = (2·0.9² + 1.1² + 7·0.1²)/9
    se = math.sqrt((2 * 0.81 + 1.21 + 7 * 0.01) / 9 / 10)
    half = stats.t.ppf(0.975, 9) * se
    assert o["mean_difference"] == pytest.approx(0.1)
    assert o["mean_difference_ci_low"] == pytest.approx(0.1 - half)
    assert o["mean_difference_ci_high"] == pytest.approx(0.1 + half)
    assert c["direction"] == "No clear direction"  # q = 0.125


def test_direction_named_when_significant(make_dataset):
    chrono = _expand({(G, R): 12, (R, R): 8, (R, G): 1})
    audits, ratings = _inputs({"Overall": chrono, "Chronology": chrono})
    ds = make_dataset(audits=audits, ratings=ratings, extra={"domains": ["Chronology"]})
    d = reliability.drift_by_domain(ds)
    # exact two-sided p for 12 of 13: 2·(1 + 13)/2^13 = 28/8192; both rows equal so q = p
    assert d.loc["Chronology", "mcnemar_q"] == pytest.approx(28 / 8192)
    assert d.loc["Chronology", "direction"].startswith("Moderators lower")
    assert any("auditors more generous" in s and "Chronology" in s for s in reliability.summary(ds))


def test_kappa_paradox_table(make_dataset):
    # 18 RI/RI, 1 RI→Good, 1 Good→RI: p_o = .9, both margins RI .95 Good .05 → p_e = .905, κ < 0
    pr = _expand({(R, R): 18, (R, G): 1, (G, R): 1})
    audits, ratings = _inputs({"Overall": pr})
    ds = make_dataset(audits=audits, ratings=ratings)
    k = reliability.kappa_paradox(ds).loc["Overall"]
    assert k["p_o"] == pytest.approx(0.9)
    assert k["p_e"] == pytest.approx(0.95 ** 2 + 0.05 ** 2)
    assert k["kappa"] == pytest.approx((0.9 - 0.905) / (1 - 0.905))
    # Gwet: p_e = (.95·.05 + .05·.95)/3
    pe1 = 2 * 0.95 * 0.05 / 3
    assert k["ac1"] == pytest.approx((0.9 - pe1) / (1 - pe1))
    assert k["Requires improvement share"] == pytest.approx(0.95) and k["skewed"]
    text = reliability.paradox_text(reliability.kappa_paradox(ds))
    assert "95%" in text and "Requires improvement" in text and "kappa paradox" in text
    assert fmt.number(k['kappa']) in text and fmt.number(k['ac1']) in text  # half up, real minus sign


def test_auditor_labels_are_pseudonymous_and_ordered(make_dataset, tmp_path):
    pr = _expand({(G, G): 3, (R, R): 2, (G, R): 1})
    auditors = ["AUD7", "AUD7", "AUD7", "AUD9", "AUD9", "AUD2"]
    audits, ratings = _inputs({"Overall": pr}, auditors=auditors)
    ds = make_dataset(audits=audits, ratings=ratings)
    t = reliability.agreement_by_auditor(ds)
    assert list(t.index) == ["Auditor 01", "Auditor 02", "Auditor 03"]
    assert list(t["n"]) == [3, 2, 1]
    assert t["small_n"].all()
    text = t.to_csv() + html_table(t, caption="x")
    for raw in ("AUD7", "AUD9", "AUD2", "MOD777"):
        assert raw not in text
    labels = reliability.auditor_labels(reliability.pairs(ds))
    assert not set(labels.values) & set(auditors)


def test_auditor_table_is_person_level_in_the_notebook_and_withheld_when_published(make_dataset, tmp_path):
    source = (ROOT / "notebooks" / "moderation.py").read_text(encoding="utf-8")
    cell = [c for c in source.split("# %%") if "agreement_by_auditor" in c]
    assert cell and all("person_level=True" in c for c in cell)
    audits, ratings = _inputs({"Overall": OVERALL_PAIRS})
    params_dir = tmp_path / "pub"
    from conftest import write_inputs
    path = write_inputs(params_dir, audits=audits, ratings=ratings, extra={"audience": "published"})
    rpt = Report(load_params(path), "moderation", output_dir=tmp_path / "out")
    shown = rpt.table(reliability.agreement_by_auditor(rpt.dataset), "agreement_by_auditor", "By auditor",
                      person_level=True).markup
    assert "withheld" in shown and "Auditor 01" not in shown


def test_no_moderated_audits_says_so(make_dataset, tmp_path):
    audits, ratings = _inputs({"Overall": [(G, None), (R, None)], "Chronology": [(G, None), (G, None)]})
    ds = make_dataset(audits=audits, ratings=ratings)
    assert reliability.agreement_by_domain(ds).empty
    assert reliability.drift_by_domain(ds).empty and reliability.confusion_by_domain(ds).empty
    assert reliability.kappa_paradox(ds).empty and reliability.quarterly_agreement(ds).empty
    assert charts_reliability.agreement_forest(reliability.agreement_by_domain(ds), title="t", what="d") is None
    assert charts_reliability.confusion_heatmaps(reliability.confusion_by_domain(ds), title="t") is None
    (line,) = reliability.summary(ds)
    assert line.startswith("No audits were moderated in 2024-25 Q2")
    rpt = Report(ds.params, "moderation", output_dir=tmp_path / "out")
    shown = rpt.table(reliability.agreement_by_domain(ds), "agreement_by_domain", "Agreement",
                      empty="No audits were moderated this period.").markup
    assert "No audits were moderated this period." in shown


def test_multirater_fleiss_and_ac1_by_hand(make_dataset):
    # 4 SEND case files, auditor + 2 peers: (G,G,G) (G,G,RI) (RI,RI,RI) (O,G,G); a moderator on case 1
    # grades Inadequate and must be left out.
    audits, ratings = _inputs({"Overall": [(G, I), (G, None), (R, None), (O, None)]},
                              peers={"Overall": [G, G, G, R, R, R, G, G]}, service_area="SEND")
    ds = make_dataset(audits=audits, ratings=ratings)
    m = reliability.multirater(ds, n_boot=200)
    row = m.loc[("SEND", "Overall")]
    assert row["n"] == 4 and row["raters"] == 3 and row["small_n"]
    # Fleiss (1971): P_i = 1, 1/3, 1, 1/3 → P̄ = 2/3; p_j = (1, 7, 4)/12 → P̄_e = 66/144; κ = 5/13
    assert row["fleiss_kappa"] == pytest.approx(5 / 13)
    # Gwet AC1: p_e = [(1·11 + 7·5 + 4·8)/144]/3 = 78/432
    assert row["ac1"] == pytest.approx((2 / 3 - 78 / 432) / (1 - 78 / 432))
    again = reliability.multirater(ds, n_boot=200)
    assert again.loc[("SEND", "Overall"), "alpha_ordinal_ci_low"] == row["alpha_ordinal_ci_low"]  # seeded


def test_multirater_empty_without_peers(small_ds):
    assert reliability.multirater(small_ds).empty


def test_charts_carry_numbers_in_alt_text(small_ds):
    t = reliability.agreement_by_domain(small_ds)
    chart = charts_reliability.agreement_forest(t, title="AC1 by domain", what="practice domain")
    ov = t.loc["Overall"]
    assert f"Overall: {ov['ac1']:.2f} (95% CI {ov['ac1_ci_low']:.2f} to {ov['ac1_ci_high']:.2f}, n = 10)" in chart.alt
    assert chart.svg.startswith("<?xml") and "<svg" in chart.svg
    heat = charts_reliability.confusion_heatmaps(reliability.confusion_by_domain(small_ds), title="Heat maps")
    assert "Overall: 10 pairs, 7 same grade, 2 moderated lower, 1 moderated higher" in heat.alt
    # every one of the 16 cells of each of the 3 panels writes its count as text (tick labels are words)
    counts = [int(x) for x in re.findall(r"<text[^>]*>\s*(\d+)\s*</text>", heat.svg)]
    assert len(counts) == 3 * 16
    assert sum(counts) == 10 + 12 + 5


@pytest.mark.slow
def test_moderation_report_names_weakest_domains_with_intervals(demo_run):
    out = demo_run["out"]
    page_path = out / "moderation.html"
    assert page_path.is_file()
    page = page_path.read_text(encoding="utf-8")
    table = pd.read_csv(out / "tables" / "moderation-agreement_by_domain.csv", index_col=0, encoding="utf-8-sig")
    domains = table.drop(index="Overall")
    weakest = domains["ac1"].astype(float).nsmallest(3)
    for d in weakest.index:
        r = domains.loc[d]
        words = f"{d} (AC1 {r['ac1']:.2f}, 95% CI {r['ac1_ci_low']:.2f} to {r['ac1_ci_high']:.2f}"
        assert words in page.replace("&#x27;", "'"), words
    for h in ("Agreement by domain", "Agreement by auditor", "Confusion matrices", "Direction of disagreement",
              "Peer review with several raters"):
        assert f">{h}<" in page or h in re.sub(r"<[^>]+>", "", page)
    assert "Auditor 01" in page
    ids = input_identifiers()
    pattern = re.compile(r"(?<![A-Za-z0-9])(" + "|".join(map(re.escape, sorted(ids, key=len, reverse=True)))
                         + r")(?![A-Za-z0-9])")
    for f in [page_path, *out.glob("tables/moderation-*.csv")]:
        found = pattern.findall(f.read_text(encoding="utf-8"))
        assert not found, f"{f.name} contains identifiers {sorted(set(found))[:5]}"
    quarterly = (out / "quarterly.html").read_text(encoding="utf-8")
    assert "quadratic weighted kappa" in quarterly and (out / "tables" / "quarterly-moderation_agreement.csv").is_file()


def test_b1_perfect_agreement_domain_is_not_called_unreliable(make_dataset):
    # Issue 19 B1: 83 of 83 agree on Chronology -> AC1 = 1, SE 0. The summary must not say an AC1
    # below 0.4 "cannot be ruled out" there; it must say every moderated audit agreed.
    chrono = [(G, G)] * 50 + [(R, R)] * 33
    overall = _expand({(G, G): 40, (R, R): 30, (G, R): 8, (R, G): 5})
    overall += [(G, G)] * (83 - len(overall))
    audits, ratings = _inputs({"Overall": overall, "Chronology": chrono, "Voice of the child": overall})
    ds = make_dataset(audits=audits, ratings=ratings, extra={"domains": DOMAINS})
    lines = reliability.summary(ds)
    text = " ".join(lines)
    ruled_out = [s for s in lines if "cannot be" in s and "ruled out" in s]
    assert all("Chronology" not in s for s in ruled_out)
    assert any("0.6 or higher in" in s and "Chronology" in s for s in lines)
    assert "Chronology (83 of 83)" in text
    # statement and table use the same bound: the printed AC1 CI lower limit of each domain
    byd = reliability.agreement_by_domain(ds)
    for d in DOMAINS:
        low = byd.loc[d, "ac1_ci_low"]
        if low >= 0.6:
            assert any("0.6 or higher in" in s and d in s for s in lines)


def test_auditor_bias_bh_matches_statsmodels_and_flags_calibration(make_dataset):
    # Two auditors: A downgraded on 9 of 10 disagreements (binom.test(9, 10) p = 22/1024), B 2 vs 2.
    from statsmodels.stats.multitest import multipletests
    a_pairs = [(G, R)] * 9 + [(R, G)] + [(G, G)] * 5
    b_pairs = [(G, R)] * 2 + [(R, G)] * 2 + [(G, G)] * 6
    prs = a_pairs + b_pairs
    auditors = ["AUDA"] * len(a_pairs) + ["AUDB"] * len(b_pairs)
    audits, ratings = _inputs({"Overall": prs}, auditors=auditors)
    ds = make_dataset(audits=audits, ratings=ratings, extra={"domains": DOMAINS})
    t = reliability.auditor_bias(ds)
    assert list(t.index) == ["Auditor 01", "Auditor 02"]  # most moderated first; ids never shown
    assert not any("AUD" in str(v) for v in t.to_numpy().ravel())
    p = [22 / 1024, 1.0]
    assert t["p_value"].tolist() == pytest.approx(p, rel=1e-12)
    assert t["q_value"].tolist() == pytest.approx(multipletests(p, method="fdr_bh")[1].tolist(), rel=1e-12)
    assert t.loc["Auditor 01", "calibrate"].startswith("Calibrate: moderators lower")
    assert t.loc["Auditor 02", "calibrate"] == "No clear direction"
    assert t.loc["Auditor 01", "net_downgraded_share"] == pytest.approx(8 / 15)
    assert "Auditor 01" in reliability.bias_text(t)


def test_domain_comparison_is_the_paired_test_over_case_files(make_dataset):
    # Issue 19 item 4.3: the domains of one audit are graded together, so each domain is compared with the
    # others on the same case files (compare_dependent_agreement, which reproduces R pairedCAC in
    # tests/stats/test_agreement_compare.py). With two domains, each is compared with the other: the
    # two rows are one test seen from both sides (t and −t, same p), and BH over two equal p's is p.
    chrono = _expand({(G, G): 8, (R, R): 6, (G, R): 1, (O, O): 3})
    voice = _expand({(G, G): 3, (R, R): 2, (G, R): 6, (R, G): 4, (O, G): 3})
    audits, ratings = _inputs({"Overall": chrono, "Chronology": chrono, "Voice of the child": voice})
    ds = make_dataset(audits=audits, ratings=ratings, extra={"domains": DOMAINS})
    t = reliability.domain_comparison(ds)
    from qa_lib.stats import agreement as ag
    ref = ag.compare_dependent_agreement(np.array(chrono, dtype=object), np.array(voice, dtype=object),
                                         categories=GRADES)
    assert list(t.index) == DOMAINS and "n" not in t.columns  # one count on every row: not printed (pack)
    assert t.loc["Chronology", "t"] == pytest.approx(ref.statistic, rel=1e-12)
    assert t.loc["Voice of the child", "t"] == pytest.approx(-ref.statistic, rel=1e-12)
    assert t["p_value"].tolist() == pytest.approx([ref.pvalue] * 2, rel=1e-12)
    assert t["q_value"].tolist() == pytest.approx([ref.pvalue] * 2, rel=1e-12)
    assert t.loc["Chronology", "ac1"] == pytest.approx(reliability.agreement_by_domain(ds).loc["Chronology", "ac1"])
    assert ref.pvalue < 0.05 and t.loc["Chronology", "differs"] == "Higher than the other domains"
    text = reliability.between_text(t, reliability.service_area_comparison(ds))
    assert "AC1 is higher than in the other domains in Chronology." in text
    assert "AC1 is lower than in the other domains in Voice of the child." in text
    assert "cannot be compared between service areas" in text  # one area only


def test_service_area_comparison_is_the_wald_test_against_the_other_areas(make_dataset):
    # Areas are separate case files: each against all the others together, z = (γ1 − γ2)/√(SE1² + SE2²)
    # (Fleiss 1981 §13.2), BH across the areas (statsmodels multipletests).
    from statsmodels.stats.multitest import multipletests
    from qa_lib.stats import agreement as ag
    a_pairs = _expand({(G, G): 9, (R, R): 6, (O, O): 2, (G, R): 1})
    b_pairs = _expand({(G, G): 3, (R, R): 2, (G, R): 5, (R, G): 4})
    c_pairs = _expand({(G, G): 5, (R, R): 3, (G, R): 2, (R, G): 1})
    prs = a_pairs + b_pairs + c_pairs
    audits, ratings = _inputs({"Overall": prs})
    audits["service_area"] = ["A"] * len(a_pairs) + ["B"] * len(b_pairs) + ["C"] * len(c_pairs)
    ds = make_dataset(audits=audits, ratings=ratings, extra={"domains": DOMAINS})
    t = reliability.service_area_comparison(ds)
    assert list(t.index) == ["A", "B", "C"] and t["n"].tolist() == [18, 14, 11] and t["rest_n"].tolist() == [25, 29, 32]

    def ac1(p):
        m = np.zeros((4, 4))
        for x, y in p:
            m[GRADES.index(x), GRADES.index(y)] += 1
        return ag.gwet_ac_table(m, categories=GRADES)

    ps = []
    for s, inside, rest in (("A", a_pairs, b_pairs + c_pairs), ("B", b_pairs, a_pairs + c_pairs),
                            ("C", c_pairs, a_pairs + b_pairs)):
        e1, e2 = ac1(inside), ac1(rest)
        z = (e1.estimate - e2.estimate) / math.sqrt(e1.se ** 2 + e2.se ** 2)
        assert t.loc[s, "z"] == pytest.approx(z, rel=1e-12)
        ps.append(2 * stats.norm.sf(abs(z)))
    assert t["p_value"].tolist() == pytest.approx(ps, rel=1e-10)
    assert t["q_value"].tolist() == pytest.approx(multipletests(ps, method="fdr_bh")[1].tolist(), rel=1e-12)
    words = {"A": "Higher than the other areas", "B": "Lower than the other areas"}
    for s in "ABC":
        q = t.loc[s, "q_value"]
        assert t.loc[s, "differs"] == (words[s] if q < 0.05 else "No clear difference")


def test_auditor_ordinal_pools_small_auditors_and_tests_the_effect(make_dataset):
    # Issue 19 item 4.1 (optional): the proportional-odds model of qa_lib.stats.ordinal.group_shift (checked
    # against R MASS::polr and statsmodels Logit in tests/stats/test_ordinal.py) on moderated pairs: the
    # moderator's grade given the auditor's own grade, one sum-to-zero effect per auditor; an auditor with
    # fewer than min_n (10) moderated audits is pooled with the other small ones.
    harsh = [(G, R)] * 8 + [(G, G)] * 4 + [(R, R)] * 3 + [(R, I)] * 3           # moderators lower AUDA often
    fair = [(G, G)] * 7 + [(R, R)] * 5 + [(G, R)] * 1 + [(R, G)] * 1 + [(O, O)] * 2
    kind = [(G, G)] * 5 + [(R, G)] * 5 + [(R, R)] * 3 + [(G, O)] * 2
    few = [(G, G), (R, R), (G, R)]
    prs = harsh + fair + kind + few
    auditors = ["AUDA"] * len(harsh) + ["AUDB"] * len(fair) + ["AUDC"] * len(kind) + ["AUDD"] * len(few)
    audits, ratings = _inputs({"Overall": prs}, auditors=auditors)
    ds = make_dataset(audits=audits, ratings=ratings, extra={"domains": DOMAINS})
    t = reliability.auditor_ordinal(ds)
    assert list(t.index) == ["Auditor 01", "Auditor 02", "Auditor 03", reliability.OTHER_AUDITORS]
    assert t["n"].tolist() == [18, 16, 15, 3]
    assert "1 auditors with fewer than 10" in t.loc[reliability.OTHER_AUDITORS, "note"]
    assert t["shift"].sum() == pytest.approx(0, abs=1e-8)  # sum-to-zero coding
    assert t.loc["Auditor 01", "shift"] > 0 > t.loc["Auditor 03", "shift"]  # harsh moderation of AUDA's grades
    assert not any("AUD" in str(v) for v in [*t.index, *t.to_numpy().ravel()])
    text = reliability.ordinal_text(ds)
    assert "on 3 df" in text and "52 moderated audits" in text
    assert "Auditor" not in reliability.ordinal_text(ds, named=False).split("so", 1)[1] or \
        "stand out" not in text


def test_moderation_report_renders_bias_planning_and_comparison(demo_run):
    html = (demo_run["out"] / "moderation.html").read_text(encoding="utf-8")
    for heading in ("Systematic bias by auditor", "Agreement compared with the previous period",
                    "How many to moderate next period", "Agreement compared between domains and service areas",
                    "Ordinal model of auditor effects", "likelihood-ratio"):
        assert heading in html
    assert "after Benjamini–Hochberg adjustment across the 9 domains tested" in html or \
        "than in the other domains in" in html
    tables_dir = demo_run["out"] / "tables"
    for name in ("moderation-auditor_bias.csv", "moderation-agreement_comparison.csv", "moderation-sample_planning.csv",
                 "moderation-domain_comparison.csv", "moderation-service_area_comparison.csv"):
        assert (tables_dir / name).exists(), name
    areas = pd.read_csv(tables_dir / "moderation-service_area_comparison.csv", index_col=0, encoding="utf-8-sig")
    byarea = pd.read_csv(tables_dir / "moderation-agreement_by_service_area.csv", index_col=0, encoding="utf-8-sig")
    assert areas["n"].tolist() == byarea.loc[areas.index, "n"].tolist()
    assert (areas["n"] + areas["rest_n"]).nunique() == 1
    plan = pd.read_csv(tables_dir / "moderation-sample_planning.csv", index_col=0, encoding="utf-8-sig")
    assert (plan["ac1_n_0.1"].dropna() >= plan["ac1_n_0.2"].dropna()).all()
    assert "AC2 with quadratic weights runs from" in html
    assert "Bowker p (full df)" in html


@pytest.mark.browser
def test_moderation_tables_fit_1280px(demo_run):
    # Issue 19 item 5: every column of every moderation table is visible at 1,280 px (no sideways scroll).
    from browser import browser_page

    page_file = demo_run["out"] / "moderation.html"
    with browser_page(viewport={"width": 1280, "height": 900}) as page:
        page.goto(page_file.as_uri())
        wide = page.evaluate("""() => [...document.querySelectorAll('table')].map(t => {
            const cap = t.querySelector('caption');
            const box = t.parentElement;
            return {caption: cap ? cap.textContent.slice(0, 70) : '', table: t.scrollWidth,
                    box: box.clientWidth, right: t.getBoundingClientRect().right};
        }).filter(r => r.table > r.box + 1 || r.right > 1280)""")
    assert wide == [], wide

"""Timing of qa_lib.stats.agreement on large inputs (run: python bench/bench_agreement.py).

Headline (issue 19, item 6): every two-rater measure with its SE on 1,000,000 auditor–moderator
pairs given as grade *labels* — tabulation (labels encoded to codes once) + kappa, linear and
quadratic weighted kappa, AC1, AC2 (linear, quadratic), Scott's pi, percent agreement,
Bowker, Stuart–Maxwell and McNemar — against scikit-learn's ``cohen_kappa_score`` for its
three kappa points (unweighted, linear, quadratic) on the same labels, and on integer codes
(scikit-learn's fastest input). The ratio qa_lib / scikit-learn is printed; the target is
≤ 0.5 against both. Then the older rows: statsmodels on the coded table, the Krippendorff
bootstrap on 2,000 case files x 3 raters. Prints markdown. Speed is measured here, never in a
timed test (STYLE.md).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sklearn.metrics import cohen_kappa_score
from statsmodels.stats.contingency_tables import SquareTable
from statsmodels.stats.inter_rater import cohens_kappa, to_table

from qa_lib.stats import agreement as ag

OFSTED = ["Outstanding", "Good", "Requires improvement", "Inadequate"]
Q = len(OFSTED)
TARGET = 0.5


def best_of(fn, repeats: int = 5) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def make_pairs(n: int, seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    aud = rng.choice(Q, size=n, p=[0.1, 0.45, 0.35, 0.1])
    shift = rng.choice([-1, 0, 1], size=n, p=[0.08, 0.8, 0.12])
    mod = np.clip(aud + shift, 0, Q - 1)
    return aud, mod


def ours_all_two_rater(auditor, moderator) -> list:
    """Every two-rater measure with SEs from two label arrays: encode once, tabulate once, O(q²) each."""
    t = ag.crosstab(auditor, moderator, categories=OFSTED)
    return [ag.cohen_kappa(t), ag.cohen_kappa(t, weights="linear"), ag.cohen_kappa(t, weights="quadratic"),
            ag.gwet_ac_table(t), ag.gwet_ac_table(t, weights="linear"), ag.gwet_ac_table(t, weights="quadratic"),
            ag.scott_pi_table(t), ag.percent_agreement(t), ag.bowker_symmetry(t), ag.stuart_maxwell(t),
            ag.mcnemar(t, exact=True)]


def sklearn_three_kappas(y1, y2) -> list:
    return [cohen_kappa_score(y1, y2, weights=w) for w in (None, "linear", "quadratic")]


def ours_two_rater_codes(aud, mod):
    t = ag.crosstab(aud, mod, categories=OFSTED, codes=True)
    return [ag.cohen_kappa(t), ag.cohen_kappa(t, weights="linear"), ag.cohen_kappa(t, weights="quadratic"),
            ag.gwet_ac_table(t), ag.gwet_ac_table(t, weights="quadratic"), ag.bowker_symmetry(t),
            ag.stuart_maxwell(t)]


def statsmodels_two_rater(aud, mod):
    t = to_table(np.column_stack([aud, mod]), bins=np.arange(Q + 1))[0]
    st = SquareTable(t, shift_zeros=False)
    return [cohens_kappa(t), cohens_kappa(t, wt="linear"), cohens_kappa(t, wt="quadratic"),
            st.symmetry(), st.homogeneity()]


def headline() -> list[str]:
    aud, mod = make_pairs(1_000_000)
    # grade labels as pandas 3 reads them from a CSV (the default "str" dtype), and as numpy object arrays
    col_a = pd.Series(np.asarray(OFSTED, dtype=object)[aud], dtype="str")
    col_m = pd.Series(np.asarray(OFSTED, dtype=object)[mod], dtype="str")
    obj_a, obj_m = col_a.to_numpy(dtype=object), col_m.to_numpy(dtype=object)
    # the same answers first (scikit-learn's kappas)
    ours = ours_all_two_rater(col_a, col_m)
    for e, k in zip(ours[:3], sklearn_three_kappas(aud, mod)):
        assert abs(e.estimate - k) < 1e-9, (e.estimate, k)
    t_ours = best_of(lambda: ours_all_two_rater(col_a, col_m), repeats=5)
    t_ours_obj = best_of(lambda: ours_all_two_rater(obj_a, obj_m), repeats=3)
    t_sk_codes = best_of(lambda: sklearn_three_kappas(aud, mod), repeats=3)
    t_sk_labels = best_of(lambda: sklearn_three_kappas(obj_a, obj_m), repeats=1)
    r_codes, r_labels = t_ours / t_sk_codes, t_ours / t_sk_labels
    ok = max(r_codes, r_labels) <= TARGET
    return [
        "| 1,000,000 auditor–moderator label pairs | seconds (best of repeats) |",
        "|---|---:|",
        f"| **qa_lib: encode + tabulate + 11 two-rater measures with SEs** (3 kappas, AC1, 2 AC2, Scott's pi, "
        f"% agreement, Bowker, Stuart–Maxwell, McNemar), pandas string columns | {t_ours:.4f} |",
        f"| the same from numpy object arrays of labels | {t_ours_obj:.4f} |",
        f"| scikit-learn cohen_kappa_score x3 (unweighted, linear, quadratic) on the labels | {t_sk_labels:.4f} |",
        f"| scikit-learn cohen_kappa_score x3 on integer codes (its fastest input) | {t_sk_codes:.4f} |",
        "",
        f"**agreement-vs-scikit-learn ratio: {r_codes:.2f} against scikit-learn on integer codes, {r_labels:.3f} "
        f"against scikit-learn on the labels (target ≤ {TARGET}: {'met' if ok else 'NOT met'})**",
        "",
    ]


def main() -> None:
    lines = headline()
    rows = []
    aud, mod = make_pairs(1_000_000)
    t = ag.crosstab(aud, mod, categories=OFSTED, codes=True)
    rows.append(("tabulate 1e6 coded pairs (np.bincount)", best_of(
        lambda: ag.crosstab(aud, mod, categories=OFSTED, codes=True))))
    rows.append(("7 two-rater measures with SEs on the 4x4 table", best_of(lambda: [
        ag.cohen_kappa(t), ag.cohen_kappa(t, weights="linear"), ag.cohen_kappa(t, weights="quadratic"),
        ag.gwet_ac_table(t), ag.gwet_ac_table(t, weights="quadratic"), ag.bowker_symmetry(t),
        ag.stuart_maxwell(t)])))
    rows.append(("qa_lib: tabulate + 7 measures, 1e6 coded pairs", best_of(lambda: ours_two_rater_codes(aud, mod))))
    rows.append(("statsmodels: to_table + 3 cohens_kappa + symmetry + homogeneity, 1e6 pairs",
                 best_of(lambda: statsmodels_two_rater(aud, mod), repeats=3)))
    tt = t.to_numpy(dtype=float)
    rows.append(("statsmodels cohens_kappa x3 on the same 4x4 table", best_of(lambda: [
        cohens_kappa(tt), cohens_kappa(tt, wt="linear"), cohens_kappa(tt, wt="quadratic")])))
    rows.append(("qa_lib cohen_kappa x3 on the same 4x4 table", best_of(lambda: [
        ag.cohen_kappa(t), ag.cohen_kappa(t, weights="linear"), ag.cohen_kappa(t, weights="quadratic")])))
    labels_a = np.asarray(OFSTED, dtype=object)[aud]
    labels_m = np.asarray(OFSTED, dtype=object)[mod]
    pairs = pd.DataFrame({"domain": np.random.default_rng(2).choice([f"D{i}" for i in range(8)], 1_000_000),
                          "auditor_grade": labels_a, "moderator_grade": labels_m})
    rows.append(("agreement_table by 8 domains, 1e6 string pairs", best_of(
        lambda: ag.agreement_table(pairs, by="domain", categories=OFSTED), repeats=3)))

    rng = np.random.default_rng(3)
    truth = rng.choice(Q, size=2000, p=[0.1, 0.45, 0.35, 0.1])
    r = np.where(rng.random((2000, 3)) < 0.75, truth[:, None], rng.integers(0, Q, (2000, 3))).astype(object)
    r = np.asarray(OFSTED, dtype=object)[r.astype(int)]
    r[rng.random((2000, 3)) < 0.05] = None
    ratings = pd.DataFrame(r, columns=["peer1", "peer2", "peer3"])
    for level in ("nominal", "ordinal", "interval"):
        rows.append((f"Krippendorff alpha ({level}) + 2,000-replicate bootstrap, 2,000 files x 3 raters",
                     best_of(lambda level=level: ag.krippendorff_alpha(ratings, level=level, categories=OFSTED, n_boot=2000),
                             repeats=3)))
    rows.append(("Fleiss kappa + Gwet SE, 2,000 files x 3 raters", best_of(
        lambda: ag.fleiss_kappa(ratings, categories=OFSTED))))
    rows.append(("Gwet AC2 (quadratic) raw + SE, 2,000 files x 3 raters", best_of(
        lambda: ag.gwet_ac(ratings, categories=OFSTED, weights="quadratic"))))
    rows.append(("Conger's kappa + SE, 2,000 files x 3 raters", best_of(
        lambda: ag.conger_kappa(ratings, categories=OFSTED))))

    print("\n".join(lines))
    print("| task | seconds (best of repeats) |")
    print("|---|---:|")
    for name, sec in rows:
        print(f"| {name} | {sec:.4f} |")


if __name__ == "__main__":
    main()

"""Timing of qa_lib.stats.agreement on large inputs (run: python bench/bench_agreement.py).

Two-rater measures with SEs on 1,000,000 generated auditor–moderator pairs (tabulation +
kappa + linear/quadratic weighted kappa + AC1 + AC2 + Bowker + Stuart–Maxwell) against
statsmodels (to_table + cohens_kappa x3 + SquareTable symmetry/homogeneity), and the
Krippendorff bootstrap (2,000 replicates) on 2,000 case files x 3 raters. Prints a
markdown table. Speed is measured here, never in a timed test (STYLE.md).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from statsmodels.stats.contingency_tables import SquareTable
from statsmodels.stats.inter_rater import cohens_kappa, to_table

from qa_lib.stats import agreement as ag

OFSTED = ["Outstanding", "Good", "Requires improvement", "Inadequate"]
Q = len(OFSTED)


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


def ours_two_rater(aud, mod):
    t = ag.crosstab(aud, mod, categories=OFSTED, codes=True)
    return [ag.cohen_kappa(t), ag.cohen_kappa(t, weights="linear"), ag.cohen_kappa(t, weights="quadratic"),
            ag.gwet_ac_table(t), ag.gwet_ac_table(t, weights="quadratic"), ag.bowker_symmetry(t),
            ag.stuart_maxwell(t)]


def statsmodels_two_rater(aud, mod):
    t = to_table(np.column_stack([aud, mod]), bins=np.arange(Q + 1))[0]
    st = SquareTable(t, shift_zeros=False)
    return [cohens_kappa(t), cohens_kappa(t, wt="linear"), cohens_kappa(t, wt="quadratic"),
            st.symmetry(), st.homogeneity()]


def main() -> None:
    rows = []
    aud, mod = make_pairs(1_000_000)
    t = ag.crosstab(aud, mod, categories=OFSTED, codes=True)
    rows.append(("tabulate 1e6 coded pairs (np.bincount)", best_of(
        lambda: ag.crosstab(aud, mod, categories=OFSTED, codes=True))))
    rows.append(("7 two-rater measures with SEs on the 4x4 table", best_of(lambda: [
        ag.cohen_kappa(t), ag.cohen_kappa(t, weights="linear"), ag.cohen_kappa(t, weights="quadratic"),
        ag.gwet_ac_table(t), ag.gwet_ac_table(t, weights="quadratic"), ag.bowker_symmetry(t),
        ag.stuart_maxwell(t)])))
    rows.append(("**qa_lib: tabulate + 7 measures, 1e6 pairs**", best_of(lambda: ours_two_rater(aud, mod))))
    rows.append(("statsmodels: to_table + 3 cohens_kappa + symmetry + homogeneity, 1e6 pairs",
                 best_of(lambda: statsmodels_two_rater(aud, mod), repeats=3)))
    tt = np.asarray(t, float)
    rows.append(("statsmodels cohens_kappa x3 on the same 4x4 table", best_of(lambda: [
        cohens_kappa(tt), cohens_kappa(tt, wt="linear"), cohens_kappa(tt, wt="quadratic")])))
    rows.append(("qa_lib cohen_kappa x3 on the same 4x4 table", best_of(lambda: [
        ag.cohen_kappa(tt), ag.cohen_kappa(tt, weights="linear"), ag.cohen_kappa(tt, weights="quadratic")])))
    labels_a = np.asarray(OFSTED, dtype=object)[aud]
    labels_m = np.asarray(OFSTED, dtype=object)[mod]
    rows.append(("crosstab from 1e6 *string* grade pairs (encode + bincount)", best_of(
        lambda: ag.crosstab(labels_a, labels_m, categories=OFSTED), repeats=3)))
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

    print("| task | seconds (best of repeats) |")
    print("|---|---:|")
    for name, sec in rows:
        print(f"| {name} | {sec:.4f} |")


if __name__ == "__main__":
    main()

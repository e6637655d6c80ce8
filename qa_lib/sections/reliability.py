"""Tables of the Moderation reliability report, computed from a :class:`~qa_lib.inputs.data.Dataset`.

Every function returns a tidy, full-precision DataFrame (shares as fractions 0–1) or a list of
plain-English sentences generated from those numbers; formatting happens in
:mod:`qa_lib.present.html_tables`. The grade scale always comes from ``ds.scale`` (unused grades kept).

Conventions (the report states them next to the tables)
-------------------------------------------------------
- Pairs: one auditor grade and one moderator grade of the same audit and domain
  (:func:`qa_lib.sections.tables.moderation_pairs`); rows = auditor, columns = moderator.
- Percent agreement: exact grade match, Wilson 95% CI. Cohen's kappa and weighted kappa
  (linear and quadratic weights on grade positions 1..q): FCE (1969) non-null SE with a
  Student t(n−1) 95% CI truncated to [−1, 1] (moderated samples are small). Gwet's AC1 and
  AC2 (quadratic weights): Gwet (2008) variance, t(n−1) CI truncated to [−1, 1].
- "Downgraded" = the moderator's grade is worse than the auditor's. ``net_downgraded_share``
  = share downgraded − share upgraded (positive: auditors more generous than moderators).
- Direction of drift: Stuart–Maxwell (marginal homogeneity), Bowker (symmetry) and the
  exact McNemar-type sign test of downgraded vs upgraded, with Benjamini–Hochberg q-values
  across the rows of the table (Overall and each domain).
- Auditors are never shown by id: :func:`auditor_labels` gives "Auditor 01", "Auditor 02"...
  numbered by how many of their audits were moderated (most first).
- Multi-rater reliability (peer-reviewed services): the auditor and the peers of each case
  file; Fleiss' kappa, Gwet's AC1/AC2 (Gwet 2014 variance, t CI) and Krippendorff's alpha
  with the ordinal (rank) metric and a seeded percentile bootstrap over case files.
"""

from __future__ import annotations

import math
from typing import Any, Sequence

import numpy as np
import pandas as pd
from scipy import stats

from qa_lib.core import fmt
from qa_lib.stats import agreement as ag
from qa_lib.stats import ordinal as ordinal_stats
from qa_lib.sections import tables
from qa_lib.inputs.data import Dataset
from qa_lib.stats.trend import adjust

__all__ = [
    "AGREEMENT_COLUMNS",
    "AUDITOR_NOTE",
    "DRIFT_NOTE",
    "METHODS",
    "MULTIRATER_NOTE",
    "QUARTERLY_NOTE",
    "TABLE_NOTE",
    "BOOT_SEED",
    "N_BOOT",
    "SKEWED_PREVALENCE",
    "pairs",
    "auditor_labels",
    "agreement_by_domain",
    "agreement_by_period",
    "agreement_by_service_area",
    "agreement_by_auditor",
    "quarterly_agreement",
    "confusion_by_domain",
    "drift_by_domain",
    "kappa_paradox",
    "paradox_text",
    "ac2_text",
    "drift_direction",
    "drift_tests",
    "paradox_coefficients",
    "grade_mix",
    "auditor_bias",
    "bias_text",
    "agreement_comparison",
    "comparison_text",
    "domain_comparison",
    "service_area_comparison",
    "between_text",
    "auditor_ordinal",
    "ordinal_text",
    "ORDINAL_NOTE",
    "OTHER_AUDITORS",
    "DOMAIN_COMPARISON_NOTE",
    "SERVICE_AREA_COMPARISON_NOTE",
    "sample_planning",
    "BIAS_NOTE",
    "COMPARISON_NOTE",
    "PLANNING_NOTE",
    "multirater",
    "summary",
]

OVERALL = "Overall"
#: Bootstrap replicates and seed for Krippendorff's alpha (results reproducible run to run).
N_BOOT = 2000
BOOT_SEED = 20240401
#: A grade holding at least this share of all ratings makes the kappa paradox likely.
SKEWED_PREVALENCE = 0.5
#: Significance level for the BH q-values that decide the "direction" wording.
Q_LEVEL = 0.05

TABLE_NOTE = ("Pairs = one auditor and one moderator grade of the same audit. % same grade: Wilson 95% CI. "
              "Kappa and weighted kappa (linear and quadratic weights on grade positions): Fleiss–Cohen–Everitt SE, "
              "Student t 95% CI truncated to [−1, 1]. AC1 and AC2 (quadratic weights): Gwet SE, t 95% CI truncated "
              "to [−1, 1]. A blank coefficient is undefined (see Note), never 0. % downgraded − % upgraded > 0: "
              "auditors more generous than moderators.")
QUARTERLY_NOTE = ("n = moderated audits. % same grade: Wilson 95% CI. Weighted kappa uses quadratic weights "
                  "(Fleiss–Cohen–Everitt SE, t 95% CI); AC1: Gwet SE, t 95% CI. AC1 is less affected than kappa "
                  "when most grades fall in one grade. The Moderation reliability report has the detail.")
AUDITOR_NOTE = ("Auditors are shown by pseudonym, numbered by how many of their audits were moderated; ids never "
                "appear. Most auditors have few moderated audits, so intervals are wide: use this table to choose "
                "whom to calibrate with, not to rank people. " + TABLE_NOTE)
DRIFT_NOTE = ("Mean grade change: moderator minus auditor in grade steps (positive = moderator lower), t 95% CI. "
              "Stuart–Maxwell tests whether the two grade distributions differ, Bowker whether the table is "
              "symmetric (grades or pairs of grades without disagreement are dropped and df reduced; Bowker p with "
              "the full q(q−1)/2 df, as statsmodels and SAS print it, is shown beside it). Exact p: the "
              "permutation distribution of swapping the two grades within case files (as R coin), enumerated for "
              "small tables, otherwise 20,000 seeded Monte Carlo draws. McNemar "
              "compares downgrades with upgrades (exact binomial). q = Benjamini–Hochberg adjusted across the rows "
              "of this table; the direction is stated when McNemar q < 0.05.")
MULTIRATER_NOTE = ("Raters: the auditor and the peers of each case file (moderators left out). Fleiss' kappa, AC1 "
                   "and AC2 (quadratic weights): Gwet (2014) SE, t 95% CI truncated to [−1, 1]. Krippendorff's alpha "
                   f"with the ordinal (rank) metric: percentile bootstrap 95% CI over case files ({N_BOOT} "
                   f"replicates, seed {BOOT_SEED}). n = case files with at least two ratings.")
METHODS = ("Agreement is measured on pairs of grades given to the same audit by its auditor and a moderator. "
           "Percent agreement is the share of exact matches. Kappa corrects it for agreement expected by chance "
           "from each rater's own grade mix; weighted kappa gives part credit for a grade one step away (linear "
           "or quadratic weights). Gwet's AC1 and AC2 use a chance term that does not balloon when one grade "
           "dominates, so they stay stable where kappa shows the 'kappa paradox'. Every coefficient has a 95% "
           "confidence interval; moderated samples are small, so read the interval, not the point.\n\n"
           "Statements that agreement is 'at least' a value use the lower end of the printed 95% confidence "
           "interval (so the sentence and the table always agree), never a label read off a point estimate. That "
           "lower end is a one-sided 97.5% bound; Gwet's benchmarking probability at 95% uses a one-sided 95% "
           "normal bound, which sits a little higher, so it is not used for these statements. "
           "Tests of direction are adjusted for testing many domains at once (Benjamini–Hochberg).")

_MEASURES = ("kappa", "kappa_linear", "kappa_quadratic", "ac1", "ac2_quadratic")
#: Columns of every agreement table, in display order.
AGREEMENT_COLUMNS = (
    ["n", "small_n", "agreement_share", "agreement_low_share", "agreement_high_share"]
    + [f"{m}{s}" for m in _MEASURES for s in ("", "_ci_low", "_ci_high")]
    + ["net_downgraded_share", "note"]
)


def _grades(ds: Dataset) -> list[str]:
    return list(ds.scale.grades)


def _min_n(ds: Dataset) -> int:
    return ds.params.min_n


def pairs(ds: Dataset, *, periods: Sequence[str] | None = None) -> pd.DataFrame:
    """Auditor–moderator pairs of ``periods`` (default the report period), one row per audit and domain.

    Thin alias of :func:`qa_lib.sections.tables.moderation_pairs` so a notebook needs one import.
    """
    return tables.moderation_pairs(ds, periods=list(periods) if periods else None)


def _undefined_words(name: str) -> str:
    return {"kappa": "kappa", "kappa_linear": "linear weighted kappa", "kappa_quadratic": "quadratic weighted kappa",
            "ac1": "AC1", "ac2_quadratic": "AC2"}[name]


def _agreement(p: pd.DataFrame, ds: Dataset, *, by: str, order: Sequence[Any]) -> pd.DataFrame:
    """Agreement table for groups ``order`` of column ``by`` (groups without pairs get n = 0)."""
    if p.empty:
        return pd.DataFrame(columns=AGREEMENT_COLUMNS, index=pd.Index([], name=by))
    t = ag.agreement_table(p, by=by, categories=_grades(ds), kappa_ci="t").set_index(by)
    t = t.reindex(list(order))
    t.index.name = by
    n = t["n"].fillna(0).astype("int64")
    n_missing = t["n_missing"].fillna(0).astype("int64")
    out = pd.DataFrame(index=t.index)
    out["n"] = n
    min_n = _min_n(ds)
    out["small_n"] = n < min_n
    out["agreement_share"] = t["percent_agreement"]
    out["agreement_low_share"] = t["percent_agreement_ci_low"]
    out["agreement_high_share"] = t["percent_agreement_ci_high"]
    for m in _MEASURES:
        for s in ("", "_ci_low", "_ci_high"):
            out[f"{m}{s}"] = t[f"{m}{s}"].astype(float)
    out["net_downgraded_share"] = t["net_downgraded"].astype(float)
    notes = []
    for key in out.index:
        row = out.loc[key]
        parts = []
        if row["n"] == 0:
            parts.append("no moderated audits")
        else:
            undefined = [_undefined_words(m) for m in _MEASURES if not math.isfinite(row[m])]
            if undefined:
                parts.append(", ".join(undefined) + " undefined: both raters used one grade only, so chance "
                             "agreement is 1 (not 0 and not perfect)")
            if row["small_n"]:
                parts.append(f"small n (fewer than {min_n}): intervals are wide, treat as indicative")
        if n_missing.loc[key]:
            parts.append(f"{int(n_missing.loc[key])} pair(s) with a missing grade left out")
        notes.append("; ".join(parts))
    out["note"] = notes
    return out[AGREEMENT_COLUMNS]


def agreement_by_domain(ds: Dataset, *, periods: Sequence[str] | None = None) -> pd.DataFrame:
    """Agreement between auditor and moderator for the Overall grade and each practice domain.

    Parameters
    ----------
    ds : Dataset
    periods : list of str, optional
        Period labels (default: the report period).

    Returns
    -------
    pandas.DataFrame
        Index ``domain`` (Overall first, then ``ds.domains`` order; domains without
        moderated pairs have n = 0); columns :data:`AGREEMENT_COLUMNS`. Empty when no audit
        was moderated. Computed once per dataset and periods (the summary, the quarterly report
        and the table all use it).
    """
    periods = list(periods or [ds.period.label])
    return tables.cached(ds, ("agreement_by_domain", tuple(periods)),
                         lambda: _agreement(pairs(ds, periods=periods), ds, by="domain", order=[OVERALL, *ds.domains]))


def agreement_by_period(ds: Dataset, *, domain: str = OVERALL) -> pd.DataFrame:
    """Agreement on ``domain`` (default Overall) for the report period and its history periods, oldest first."""
    shown = tables.periods_shown(ds)
    p = pairs(ds, periods=shown)
    return _agreement(p[p["domain"] == domain], ds, by="period", order=shown)


def agreement_by_service_area(ds: Dataset, *, domain: str = OVERALL) -> pd.DataFrame:
    """Agreement on ``domain`` by service area for the report period (areas with audits, A–Z)."""
    p = pairs(ds)
    areas = sorted(tables.audits_in(ds)["service_area"].dropna().astype(str).unique())
    return _agreement(p[p["domain"] == domain], ds, by="service_area", order=areas)


def auditor_labels(p: pd.DataFrame) -> pd.Series:
    """Pseudonymous label for each auditor id in pairs ``p``: "Auditor 01"... by number moderated.

    Parameters
    ----------
    p : pandas.DataFrame
        Pairs with an ``auditor_id`` column.

    Returns
    -------
    pandas.Series
        Index = auditor id, values = labels. Numbering follows the number of moderated pairs
        (most first); ties keep a fixed but arbitrary order (sorted ids), so the label carries
        no more than the count. Labels are stable within one run only.
    """
    counts = p["auditor_id"].dropna().astype(str).value_counts()
    frame = counts.rename("n").rename_axis("id").reset_index().sort_values(["n", "id"], ascending=[False, True])
    width = max(2, len(str(len(frame))))
    return pd.Series([f"Auditor {i:0{width}d}" for i in range(1, len(frame) + 1)], index=frame["id"].to_numpy(),
                     name="auditor")


def agreement_by_auditor(ds: Dataset, *, domain: str = OVERALL, periods: Sequence[str] | None = None) -> pd.DataFrame:
    """Agreement on ``domain`` by (pseudonymised) auditor, most moderated first.

    Parameters
    ----------
    ds : Dataset
    domain : str
        Default the Overall grade.
    periods : list of str, optional
        Default the report period and its history periods (one quarter gives each auditor
        only a handful of moderated audits).

    Returns
    -------
    pandas.DataFrame
        Index ``auditor`` ("Auditor 01"...), columns :data:`AGREEMENT_COLUMNS`. Never holds
        an auditor id. One row per person: show it with ``person_level=True``.
    """
    p = pairs(ds, periods=periods or tables.periods_shown(ds))
    p = p[p["domain"] == domain]
    if p.empty:
        return _agreement(p, ds, by="auditor", order=[])
    labels = auditor_labels(p)
    p = p.assign(auditor=p["auditor_id"].astype(str).map(labels)).drop(columns=["auditor_id", "moderator_id"])
    return _agreement(p, ds, by="auditor", order=list(labels))


def quarterly_agreement(ds: Dataset) -> pd.DataFrame:
    """The quarterly report's agreement table: n, % agreement, quadratic weighted kappa and AC1 with CIs.

    Index ``domain`` (Overall first); empty when nothing was moderated this period.
    """
    t = agreement_by_domain(ds)
    cols = ["n", "agreement_share", "agreement_low_share", "agreement_high_share",
            "kappa_quadratic", "kappa_quadratic_ci_low", "kappa_quadratic_ci_high", "ac1", "ac1_ci_low",
            "ac1_ci_high", "note"]
    return t[cols]


def confusion_by_domain(ds: Dataset, *, periods: Sequence[str] | None = None) -> pd.DataFrame:
    """Auditor × moderator counts per domain (Overall first), full scale, unused grades kept.

    Returns
    -------
    pandas.DataFrame
        MultiIndex (``domain``, ``Auditor grade``), one column per moderator grade (scale
        order), integer counts. Only domains with moderated pairs; empty when none. Computed
        once per dataset and periods (the drift, paradox and summary sections build on it).
    """
    periods = list(periods or [ds.period.label])
    return tables.cached(ds, ("confusion_by_domain", tuple(periods)), lambda: _confusion_by_domain(ds, periods))


def _confusion_by_domain(ds: Dataset, periods: list[str]) -> pd.DataFrame:
    p = pairs(ds, periods=periods)
    frames = {}
    for d in [OVERALL, *ds.domains]:
        sub = p[p["domain"] == d]
        if len(sub):
            frames[d] = tables.confusion(sub, ds)
    if not frames:
        idx = pd.MultiIndex.from_arrays([[], []], names=["domain", "Auditor grade"])
        return pd.DataFrame(columns=_grades(ds), index=idx, dtype="int64")
    out = pd.concat(frames, names=["domain", "Auditor grade"])
    out.columns = pd.Index(_grades(ds), name="Moderator grade")
    return out.astype("int64")


def _mean_difference(t: np.ndarray) -> tuple[float, float, float]:
    """Mean (moderator − auditor) grade position and its t(n−1) 95% CI from a q × q table."""
    q = t.shape[0]
    diff = np.arange(q)[None, :] - np.arange(q)[:, None]  # column (moderator) − row (auditor)
    n = t.sum()
    if n == 0:
        return math.nan, math.nan, math.nan
    mean = float((t * diff).sum() / n)
    if n < 2:
        return mean, math.nan, math.nan
    var = float((t * (diff - mean) ** 2).sum() / (n - 1))
    half = float(stats.t.isf(0.025, n - 1) * math.sqrt(var / n))
    return mean, mean - half, mean + half


def drift_by_domain(ds: Dataset, *, periods: Sequence[str] | None = None) -> pd.DataFrame:
    """Direction of disagreement per domain: do moderators grade systematically lower or higher?

    Returns
    -------
    pandas.DataFrame
        Index ``domain`` (Overall first, domains with moderated pairs only). Columns ``n``,
        ``n_downgraded``, ``n_upgraded``, ``net_downgraded_share``; ``mean_difference``
        (moderator − auditor in grade steps, positive = moderator lower) with a t(n−1) 95% CI;
        ``stuart_maxwell`` statistic, ``_df``, ``_p``, ``_q``; ``bowker`` statistic, ``_df``,
        ``_p``, ``_q``; ``mcnemar_p`` (exact binomial sign test, downgraded vs upgraded) and
        ``mcnemar_q``; ``direction`` in words (from ``mcnemar_q`` < 0.05). ``_q`` are
        Benjamini–Hochberg adjusted across the rows of the table. Empty when nothing was moderated.

    Notes
    -----
    Stuart–Maxwell and Bowker drop grades / pairs of grades with no disagreements and reduce
    df (see :func:`qa_lib.stats.agreement.stuart_maxwell`); a row with no disagreement at all has
    undefined tests (blank), which BH leaves out.
    """
    conf = confusion_by_domain(ds, periods=periods)
    cols = ["n", "n_downgraded", "n_upgraded", "net_downgraded_share", "mean_difference", "mean_difference_ci_low",
            "mean_difference_ci_high", "stuart_maxwell", "stuart_maxwell_df", "stuart_maxwell_p", "stuart_maxwell_q",
            "bowker", "bowker_df", "bowker_p", "bowker_full_df_p", "bowker_q", "stuart_maxwell_exact_p",
            "bowker_exact_p", "mcnemar_p", "mcnemar_q", "direction"]
    if conf.empty:
        return pd.DataFrame(columns=cols, index=pd.Index([], name="domain"))
    rows = {}
    for d in conf.index.get_level_values("domain").unique():
        t = conf.loc[d].to_numpy(dtype=float)
        grades = _grades(ds)
        dd = ag.direction_of_disagreement(t, categories=grades)
        sm, bw = ag.stuart_maxwell(t, categories=grades), ag.bowker_symmetry(t, categories=grades)
        mc = ag.mcnemar(t, categories=grades, exact=True)
        md = _mean_difference(t)
        ex = ag.symmetry_exact(t, categories=grades, n_mc=20_000)
        rows[d] = {"n": dd["n"], "n_downgraded": dd["n_downgraded"], "n_upgraded": dd["n_upgraded"],
                   "net_downgraded_share": dd["net_downgraded"], "mean_difference": md[0],
                   "mean_difference_ci_low": md[1], "mean_difference_ci_high": md[2],
                   "stuart_maxwell": sm.statistic, "stuart_maxwell_df": sm.df, "stuart_maxwell_p": sm.pvalue,
                   "bowker": bw.statistic, "bowker_df": bw.df, "bowker_p": bw.pvalue,
                   "bowker_full_df_p": bw.extra.get("pvalue_full_df", math.nan), "mcnemar_p": mc.pvalue,
                   "stuart_maxwell_exact_p": ex["stuart_maxwell_pvalue_exact"],
                   "bowker_exact_p": ex["bowker_pvalue_exact"]}
    out = pd.DataFrame.from_dict(rows, orient="index")
    out.index.name = "domain"
    for test in ("stuart_maxwell", "bowker", "mcnemar"):
        out[f"{test}_q"] = adjust(out[f"{test}_p"].astype(float), "fdr_bh")
    out["direction"] = [_direction(r) for _, r in out.iterrows()]
    return out[cols]


def _direction(row: pd.Series) -> str:
    if row["n_downgraded"] + row["n_upgraded"] == 0:
        return "No disagreements"
    if math.isfinite(row["mcnemar_q"]) and row["mcnemar_q"] < Q_LEVEL:
        return ("Moderators lower: auditors more generous" if row["net_downgraded_share"] > 0
                else "Moderators higher: auditors more severe")
    return "No clear direction"


def kappa_paradox(ds: Dataset, *, periods: Sequence[str] | None = None) -> pd.DataFrame:
    """Observed and chance agreement, kappa and AC1 beside the grade prevalence, per domain.

    Returns
    -------
    pandas.DataFrame
        Index ``domain`` (Overall first, domains with pairs). Columns ``n``, ``p_o``
        (observed agreement), ``p_e`` (kappa's chance agreement Σ p_i.p_.i), ``kappa``,
        ``ac1_p_e`` (Gwet's chance agreement Σ π_k(1 − π_k)/(q − 1)), ``ac1``, one
        ``<grade> share`` column per grade (share of all auditor and moderator grades,
        π_k), ``most_common_grade`` and ``skewed`` (most common grade holds at least
        :data:`SKEWED_PREVALENCE` of the grades).
    """
    conf = confusion_by_domain(ds, periods=periods)
    grades = _grades(ds)
    share_cols = [f"{g} share" for g in grades]
    cols = ["n", "p_o", "p_e", "kappa", "ac1_p_e", "ac1", *share_cols, "most_common_grade", "skewed"]
    if conf.empty:
        return pd.DataFrame(columns=cols, index=pd.Index([], name="domain"))
    rows = {}
    for d in conf.index.get_level_values("domain").unique():
        t = conf.loc[d].to_numpy(dtype=float)
        k = ag.cohen_kappa(t, categories=grades, ci="t")
        a = ag.gwet_ac_table(t, categories=grades)
        n = t.sum()
        pi = (t.sum(1) + t.sum(0)) / (2 * n)
        top = int(np.argmax(pi))
        rows[d] = {"n": int(n), "p_o": k.extra.get("p_o", math.nan), "p_e": k.extra.get("p_e", math.nan),
                   "kappa": k.estimate, "ac1_p_e": a.extra.get("p_e", math.nan), "ac1": a.estimate,
                   **dict(zip(share_cols, pi.tolist())), "most_common_grade": grades[top],
                   "skewed": bool(pi[top] >= SKEWED_PREVALENCE)}
    out = pd.DataFrame.from_dict(rows, orient="index")
    out.index.name = "domain"
    return out[cols]


def _num(x: float) -> str:
    return "undefined" if not math.isfinite(x) else fmt.number(x, 2)


def _pct(x: float) -> str:
    return fmt.pct(x)


def paradox_text(table: pd.DataFrame) -> str:
    """One consistent paragraph explaining kappa vs AC1 from a :func:`kappa_paradox` table.

    When some domain's grades are concentrated (one grade ≥ :data:`SKEWED_PREVALENCE`), it
    explains the kappa paradox on the most affected of them; otherwise it says that no
    domain is skewed and explains the gap by the two chance models — never both at once.
    """
    if table.empty:
        return "No audits were moderated, so there is no kappa to explain."
    needed = ["ac1", "kappa", "p_e", "p_o", "ac1_p_e", "most_common_grade"]
    shown = table.dropna(subset=[c for c in needed if c in table.columns])  # a published view hides some rows
    shown = shown[[pd.notna(r.get(f"{r['most_common_grade']} share")) for _, r in shown.iterrows()]] if len(shown) else shown
    if shown.empty:
        return ("Kappa and AC1 are not shown for domains whose moderation counts are hidden to protect "
                "confidentiality, so the gap between them is not explained here.")
    table = shown
    gap = (table["ac1"] - table["kappa"]).astype(float)
    skewed = table[table["skewed"].map(lambda v: bool(v) if pd.notna(v) else False).astype(bool)]
    focus = skewed if len(skewed) else table
    d = gap.loc[focus.index].fillna(-np.inf).idxmax()
    r = table.loc[d]
    share = float(r[f"{r['most_common_grade']} share"])
    numbers = (f"kappa's chance agreement is {_num(r['p_e'])} against observed agreement of {_num(r['p_o'])}, which "
               f"leaves kappa at {_num(r['kappa'])}, while AC1's chance agreement is {_num(r['ac1_p_e'])} and AC1 is "
               f"{_num(r['ac1'])}")
    if len(skewed):
        names = ", ".join(map(str, skewed.index))
        return (f"In {d}, {_pct(share)} of all grades were {r['most_common_grade']}, so raters would often agree by "
                f"chance: {numbers}. Grades are concentrated (one grade holds at least {fmt.pct(SKEWED_PREVALENCE)} of "
                f"them) in: {names}; there a low kappa with high agreement is the kappa paradox, not poor grading, so "
                "read AC1 and percent agreement beside kappa.")
    return (f"No domain has one grade holding {fmt.pct(SKEWED_PREVALENCE)} or more of the grades (the most common "
            f"grade's share is at most {_pct(float(table[[c for c in table.columns if c.endswith(' share')]].max().max()))}), "
            f"so this is not the kappa paradox. The gap between kappa and AC1 is largest in {d}: {numbers}. "
            "Kappa's chance term comes from each rater's own grade mix, AC1's from how far the grades are from an "
            "even spread, so AC1 sits above kappa whenever grades cluster in two or three of the four grades.")


def ac2_text(table: pd.DataFrame, q: int) -> str:
    """Why AC2 (quadratic) runs high beside kappa, from an :func:`agreement_by_domain` table."""
    t = table[(table["n"] > 0) & table["ac2_quadratic"].notna() & table["kappa"].notna()]
    if t.empty or q < 3:
        return ""
    w1 = 1 - 1 / (q - 1) ** 2
    w2 = 1 - 4 / (q - 1) ** 2
    return (f"AC2 with quadratic weights runs from {_num(t['ac2_quadratic'].min())} to {_num(t['ac2_quadratic'].max())} "
            f"while kappa runs from {_num(t['kappa'].min())} to {_num(t['kappa'].max())}. That is expected, not a "
            f"contradiction: on a {q}-grade scale quadratic weights give a grade one step away {_num(w1)} of full "
            f"credit (two steps {_num(w2)}), and most disagreements are one step, so weighted agreement is close to 1; "
            "AC2's chance term also stays small. Read AC2 as 'grades are rarely far apart', and kappa or AC1 as "
            "'grades are often not the same'.")


def _wide_ratings(r: pd.DataFrame) -> pd.DataFrame:
    """Units × rater slots (auditor first, then peers) for one domain; NaN where missing."""
    r = r.assign(_order=(r["role"] != "auditor").astype(int)).sort_values(["audit_id", "_order", "rater_id"])
    r = r.assign(slot=r.groupby("audit_id").cumcount())
    wide = r.pivot(index="audit_id", columns="slot", values="grade_text")
    wide.index = pd.RangeIndex(len(wide))  # no audit ids leave this function
    return wide


def multirater(ds: Dataset, *, periods: Sequence[str] | None = None, n_boot: int = N_BOOT,
               seed: int = BOOT_SEED) -> pd.DataFrame:
    """Reliability among several raters in peer-reviewed services (the auditor plus the peers).

    Parameters
    ----------
    ds : Dataset
    periods : list of str, optional
        Default the report period.
    n_boot, seed : int
        Bootstrap replicates and seed for Krippendorff's alpha.

    Returns
    -------
    pandas.DataFrame
        MultiIndex (``service_area``, ``domain``), for service areas whose audits carry
        ``peer`` ratings. Columns ``n`` (case files with at least two ratings), ``raters``
        (most raters on one case file), ``fleiss_kappa``, ``ac1``, ``ac2_quadratic``,
        ``alpha_ordinal``, each with ``_ci_low``/``_ci_high``, ``small_n`` and ``note``.
        Empty when no service uses peers in the period.

    Notes
    -----
    Moderator grades are left out (they are compared with the auditor elsewhere). Fleiss'
    kappa, AC1 and AC2 use Gwet's (2014) linearised SE with a t(n−1) CI truncated at 1;
    alpha uses Krippendorff's ordinal (rank) metric, which is data dependent and differs
    from Gwet's ordinal weights, with a percentile bootstrap over case files (``n_boot``
    replicates, ``seed``).
    """
    periods = list(periods) if periods else [ds.period.label]
    r = ds.ratings[ds.ratings["period"].isin(periods)]
    peer_audits = set(r.loc[r["role"] == "peer", "audit_id"])
    r = r[r["audit_id"].isin(peer_audits) & r["role"].isin(["auditor", "peer"])]
    measures = ["fleiss_kappa", "ac1", "ac2_quadratic", "alpha_ordinal"]
    cols = ["n", "raters", *[f"{m}{s}" for m in measures for s in ("", "_ci_low", "_ci_high")], "small_n", "note"]
    if r.empty:
        idx = pd.MultiIndex.from_arrays([[], []], names=["service_area", "domain"])
        return pd.DataFrame(columns=cols, index=idx)
    r = r.assign(grade_text=r["grade"].astype(object).where(r["grade"].notna(), np.nan))
    r = r.drop_duplicates(["audit_id", "domain", "rater_id"])
    grades = _grades(ds)
    min_n = _min_n(ds)
    rows = {}
    for area in sorted(r["service_area"].dropna().astype(str).unique()):
        ra = r[r["service_area"] == area]
        for d in [OVERALL, *ds.domains]:
            rd = ra[ra["domain"] == d]
            if rd.empty:
                continue
            wide = _wide_ratings(rd)
            lay = "units x raters"  # _wide_ratings: one row per case file, one column per rater slot
            ests = {"fleiss_kappa": ag.fleiss_kappa(wide, categories=grades, layout=lay),
                    "ac1": ag.gwet_ac(wide, categories=grades, layout=lay),
                    "ac2_quadratic": ag.gwet_ac(wide, categories=grades, weights="quadratic", layout=lay),
                    "alpha_ordinal": ag.krippendorff_alpha(wide, level="ordinal", categories=grades,
                                                           n_boot=n_boot, seed=seed, layout=lay)}
            n = int((wide.notna().sum(axis=1) >= 2).sum())
            row: dict[str, Any] = {"n": n, "raters": int(wide.notna().sum(axis=1).max())}
            notes = []
            for m, e in ests.items():
                row.update({m: e.estimate, f"{m}_ci_low": e.ci_low, f"{m}_ci_high": e.ci_high})
                if not e.defined:
                    notes.append(f"{m.replace('_', ' ')} undefined")
            row["small_n"] = n < min_n
            if row["small_n"]:
                notes.append(f"small n (fewer than {min_n}): intervals are wide")
            row["note"] = "; ".join(notes)
            rows[(area, d)] = row
    out = pd.DataFrame.from_dict(rows, orient="index")
    out.index = pd.MultiIndex.from_tuples(out.index, names=["service_area", "domain"])
    return out[cols]


def _interval_words(row: pd.Series, m: str) -> str:
    if not math.isfinite(row[m]):
        return "undefined"
    return f"{fmt.number(row[m])}, 95% CI {fmt.number_range(row[f'{m}_ci_low'], row[f'{m}_ci_high'])}"


def summary(ds: Dataset, *, weakest: int = 3, byd: pd.DataFrame | None = None) -> list[str]:
    """Plain-English findings on reliability, generated from the numbers of this period.

    Names the ``weakest`` domains by AC1 with their 95% intervals, says which domains are
    shown to be reliable from the lower end of AC1's printed 95% CI (thresholds, never a
    Landis–Koch label read off a point estimate), and reports the direction of
    disagreement after Benjamini–Hochberg adjustment.

    Returns
    -------
    list of str
        Sentences; one sentence saying so when nothing was moderated.
    """
    # byd: the published view of agreement_by_domain (hidden cells missing) when a published report passes it
    byd = agreement_by_domain(ds) if byd is None else byd
    period = ds.period.label
    if byd.empty or int(byd["n"].sum()) == 0:
        return [f"No audits were moderated in {period}, so agreement between auditors and moderators "
                "cannot be estimated for this period."]
    lines = []
    if OVERALL in byd.index and byd.loc[OVERALL, "n"] > 0 and pd.notna(byd.loc[OVERALL, "agreement_share"]) \
            and pd.notna(byd.loc[OVERALL, "ac1"]) and pd.notna(byd.loc[OVERALL, "kappa_quadratic"]):
        o = byd.loc[OVERALL]
        lines.append(
            f"{int(o['n'])} audits were moderated in {period}. Auditor and moderator gave the same overall grade "
            f"in {_pct(o['agreement_share'])} of them (95% CI {_pct(o['agreement_low_share'])} to "
            f"{_pct(o['agreement_high_share'])}); AC1 {_interval_words(o, 'ac1')}; quadratic weighted kappa "
            f"{_interval_words(o, 'kappa_quadratic')}.")
    dom = byd.drop(index=[OVERALL], errors="ignore")
    dom = dom[(pd.to_numeric(dom["n"], errors="coerce") > 0) & pd.to_numeric(dom["ac1"], errors="coerce").notna()]
    if len(dom):
        low = dom.sort_values("ac1", kind="stable").head(weakest)
        names = [f"{d} (AC1 {_interval_words(r, 'ac1')}; n = {int(r['n'])})" for d, r in low.iterrows()]
        lines.append("Agreement on the same grade is weakest in " + _and(names) + ".")
        # one bound for statement and table: the lower end of the printed two-sided 95% CI of AC1
        # (t(n-1), truncated), i.e. a one-sided 97.5% lower bound; a zero SE is a point mass (issue 19, B1)
        at_least = {d: float(r["ac1_ci_low"]) if math.isfinite(r["ac1_ci_low"]) else float(r["ac1"])
                    for d, r in dom.iterrows()}
        good = [d for d, v in at_least.items() if v >= 0.6]
        weak = [d for d, v in at_least.items() if v < 0.4]
        if good:
            lines.append("The 95% CI of AC1 starts at 0.6 or higher in " + _and(good) + ": grades in these domains "
                         "can be compared across teams with some confidence.")
        else:
            lines.append("In no domain does the 95% CI of AC1 start at 0.6 or higher.")
        if weak:
            lines.append("For " + _and(weak) + " the 95% CI of AC1 reaches below 0.4, so an AC1 below 0.4 cannot be "
                         "ruled out: these grades are not yet reliable enough to compare teams without moderation or "
                         "calibration.")
        middle = [d for d, v in at_least.items() if 0.4 <= v < 0.6]
        if middle:
            lines.append("In " + _and(middle) + " the 95% CI of AC1 starts at 0.4 or higher, but 0.6 or higher is not "
                         "established.")
        perfect = [f"{d} ({int(r['n'])} of {int(r['n'])})" for d, r in dom.iterrows()
                   if r["agreement_share"] == 1 and r["ac1_ci_low"] == r["ac1_ci_high"]]
        if perfect:
            lines.append("Auditor and moderator agreed on every moderated audit in " + _and(perfect) + ", so the "
                         "interval is a single point; with few audits, true agreement may still be lower.")
    drift = drift_by_domain(ds)
    name = {OVERALL: "the overall grade"}
    lower = [name.get(d, d) for d, r in drift.iterrows() if r["direction"].startswith("Moderators lower")]
    higher = [name.get(d, d) for d, r in drift.iterrows() if r["direction"].startswith("Moderators higher")]
    if lower:
        lines.append("Moderators graded lower than auditors more often than higher (auditors more generous; "
                     "Benjamini–Hochberg q < 0.05) in " + _and(lower) + ".")
    if higher:
        lines.append("Moderators graded higher than auditors more often than lower (q < 0.05) in " + _and(higher) + ".")
    if not lower and not higher:
        lines.append("No domain shows a systematic direction of disagreement after Benjamini–Hochberg adjustment.")
    small = [name.get(d, d) for d, r in byd.iterrows() if pd.notna(r["n"]) and 0 < r["n"] < _min_n(ds)]
    if small:
        lines.append("Fewer than " + str(_min_n(ds)) + " moderated audits in " + _and(small)
                     + ": treat those figures as indicative.")
    return lines


_and = fmt.join_and  # "a, b and c"


# --------------------------------------------------------------------------------------
# issue 19: per-auditor bias, agreement compared, how many to moderate
# --------------------------------------------------------------------------------------
BIAS_NOTE = ("Net downgrading = (audits the moderator graded lower − audits graded higher) / moderated audits. "
             "Exact 95% CI: Clopper–Pearson interval of the downgraded share of the disagreements, rescaled. "
             "p: exact two-sided sign test on the disagreements (agreements say nothing about direction); "
             "q: Benjamini–Hochberg across the auditors shown. 'Calibrate' marks auditors whose grades moderators "
             "lower more often than chance would (q < 0.05). Auditors by pseudonym only.")
COMPARISON_NOTE = ("AC1 this period against the previous period, per domain: difference with a 95% CI and a Wald z "
                   "test for independent samples (Fleiss 1981 §13.2), Benjamini–Hochberg q across the domains. "
                   "A blank test means a coefficient or its SE is missing (for example no moderation last period).")
PLANNING_NOTE = ("Case files to moderate next period for AC1 (or quadratic weighted kappa) to have a 95% CI no wider "
                 "than ± the half-width shown, carrying over this period's SE per case file (n·SE² ÷ half-width² × "
                 "1.96²), with the finite-population correction for sampling from the period's audits (irrCAC's N). "
                 "A blank means this period gives no basis (SE 0 or fewer than 2 moderated audits).")
#: Target half-widths of the sample-planning table.
HALF_WIDTHS = (0.1, 0.15, 0.2)


def auditor_bias(ds: Dataset, *, domain: str = OVERALL, periods: Sequence[str] | None = None) -> pd.DataFrame:
    """Per-auditor systematic bias: net downgrading with an exact CI, sign test and BH q.

    Returns
    -------
    pandas.DataFrame
        Index ``auditor`` (pseudonym, as :func:`agreement_by_auditor`), columns ``n``,
        ``n_downgraded``, ``n_upgraded``, ``net_downgraded_share`` with ``_low_share`` /
        ``_high_share`` (exact), ``p_value`` (exact sign test), ``q_value`` (BH across
        auditors), ``calibrate`` (words) and ``note``. Never holds an auditor id.
    """
    cols = ["n", "n_downgraded", "n_upgraded", "net_downgraded_share", "net_downgraded_low_share",
            "net_downgraded_high_share", "p_value", "q_value", "calibrate", "note"]
    p = pairs(ds, periods=periods or tables.periods_shown(ds))
    p = p[p["domain"] == domain]
    if p.empty:
        return pd.DataFrame(columns=cols, index=pd.Index([], name="auditor"))
    labels = auditor_labels(p)
    p = p.assign(auditor=p["auditor_id"].astype(str).map(labels))
    grades = _grades(ds)
    t = ag.agreement_table(p, by="auditor", categories=grades).set_index("auditor").reindex(list(labels))
    rows = {}
    for who, r in t.iterrows():
        e = ag.downgrade_bias(int(r["n_downgraded"]), int(r["n_upgraded"]), int(r["n"]))
        rows[who] = {"n": int(r["n"]), "n_downgraded": int(r["n_downgraded"]), "n_upgraded": int(r["n_upgraded"]),
                     "net_downgraded_share": e.estimate, "net_downgraded_low_share": e.ci_low,
                     "net_downgraded_high_share": e.ci_high, "p_value": e.pvalue, "note": e.note}
    out = pd.DataFrame.from_dict(rows, orient="index")
    out.index.name = "auditor"
    out["q_value"] = adjust(out["p_value"].astype(float), "fdr_bh")
    out["calibrate"] = ["Calibrate: moderators lower their grades more often than chance"
                        if (math.isfinite(q) and q < Q_LEVEL and d > 0) else
                        ("Calibrate: moderators raise their grades more often than chance"
                         if (math.isfinite(q) and q < Q_LEVEL and d < 0) else "No clear direction")
                        for q, d in zip(out["q_value"], out["net_downgraded_share"])]
    return out[cols]


def bias_text(table: pd.DataFrame) -> str:
    """One sentence naming the auditors to calibrate with (by pseudonym), from :func:`auditor_bias`."""
    if table.empty:
        return "No audits were moderated in the periods shown, so no auditor can be assessed."
    lower = [str(a) for a, r in table.iterrows() if r["calibrate"].startswith("Calibrate: moderators lower")]
    higher = [str(a) for a, r in table.iterrows() if r["calibrate"].startswith("Calibrate: moderators raise")]
    parts = []
    if lower:
        parts.append("Moderators lowered the grades of " + _and(lower) + " more often than chance would "
                     "(exact sign test, Benjamini–Hochberg q < 0.05): start calibration with them.")
    if higher:
        parts.append("Moderators raised the grades of " + _and(higher) + " more often than chance would (q < 0.05).")
    if not parts:
        parts.append(f"No auditor's grades are lowered (or raised) by moderators more often than chance would, after "
                     f"Benjamini–Hochberg adjustment across the {len(table)} auditors; with few moderated audits each, "
                     "this is weak evidence of no bias, not proof.")
    return " ".join(parts)


def agreement_comparison(ds: Dataset) -> pd.DataFrame:
    """AC1 this period against the previous period, per domain, with a difference test and BH q.

    Returns
    -------
    pandas.DataFrame
        Index ``domain`` (Overall first, domains moderated in either period). Columns ``n``,
        ``ac1``, ``previous_n``, ``previous_ac1``, ``ac1_difference`` with ``_ci_low``/``_ci_high``,
        ``z``, ``p_value``, ``q_value`` (BH across the rows) and ``differs`` (words).
    """
    cols = ["n", "ac1", "previous_n", "previous_ac1", "ac1_difference", "ac1_difference_ci_low",
            "ac1_difference_ci_high", "z", "p_value", "q_value", "differs"]
    prev = ds.period.shift(-1).label
    now_conf = confusion_by_domain(ds)
    prev_conf = confusion_by_domain(ds, periods=[prev])
    grades = _grades(ds)
    doms = [d for d in [OVERALL, *ds.domains]
            if d in now_conf.index.get_level_values("domain") or d in prev_conf.index.get_level_values("domain")]
    if not doms:
        return pd.DataFrame(columns=cols, index=pd.Index([], name="domain"))
    empty = ag.Estimate(math.nan)
    rows = {}
    for d in doms:
        a = (ag.gwet_ac_table(now_conf.loc[d].to_numpy(dtype=float), categories=grades)
             if d in now_conf.index.get_level_values("domain") else empty)
        b = (ag.gwet_ac_table(prev_conf.loc[d].to_numpy(dtype=float), categories=grades)
             if d in prev_conf.index.get_level_values("domain") else empty)
        test = ag.compare_agreement(a, b, what="AC1")
        rows[d] = {"n": a.n, "ac1": a.estimate, "previous_n": b.n, "previous_ac1": b.estimate,
                   "ac1_difference": test.extra.get("difference", math.nan),
                   "ac1_difference_ci_low": test.extra.get("ci_low", math.nan),
                   "ac1_difference_ci_high": test.extra.get("ci_high", math.nan), "z": test.statistic,
                   "p_value": test.pvalue}
    out = pd.DataFrame.from_dict(rows, orient="index")
    out.index.name = "domain"
    out["q_value"] = adjust(out["p_value"].astype(float), "fdr_bh")
    out["differs"] = ["Higher this period" if (math.isfinite(q) and q < Q_LEVEL and z > 0) else
                      "Lower this period" if (math.isfinite(q) and q < Q_LEVEL and z < 0) else
                      ("Not tested" if not math.isfinite(q) else "No clear difference")
                      for q, z in zip(out["q_value"], out["z"])]
    return out[cols]


def comparison_text(table: pd.DataFrame, ds: Dataset) -> str:
    """A sentence saying in which domains AC1 differs from the previous period (BH q < 0.05)."""
    prev = ds.period.shift(-1).label
    if table.empty or table["p_value"].notna().sum() == 0:
        return f"Agreement cannot be compared with {prev}: one of the two periods has no moderated audits."
    higher = [str(d) for d, r in table.iterrows() if r["differs"] == "Higher this period"]
    lower = [str(d) for d, r in table.iterrows() if r["differs"] == "Lower this period"]
    parts = []
    if higher:
        parts.append("AC1 is higher than in " + prev + " in " + _and(higher) + ".")
    if lower:
        parts.append("AC1 is lower than in " + prev + " in " + _and(lower) + ".")
    if not parts:
        parts.append(f"AC1 does not differ from {prev} in any domain after Benjamini–Hochberg adjustment across "
                     f"the {int(table['p_value'].notna().sum())} domains tested.")
    return " ".join(parts)


DOMAIN_COMPARISON_NOTE = ("Each domain's AC1 against the average AC1 of the other domains, on the same case files "
                          "(those moderated in every domain compared): the domains of one audit are graded "
                          "together, so their AC1s are correlated. Paired test over case files from Gwet's (2016) "
                          "linearised terms (as R pairedCAC), t 95% CI of the difference, Benjamini–Hochberg q across "
                          "the domains.")
SERVICE_AREA_COMPARISON_NOTE = ("AC1 on the overall grade in each service area against all other service areas "
                                "together this period. Separate case files, so a Wald z test for independent "
                                "samples (Fleiss 1981 §13.2) with a 95% CI of the difference, Benjamini–Hochberg q "
                                "across the areas. A blank test means a coefficient or its SE is missing.")


def _differs(q: float, stat: float, higher: str, lower: str) -> str:
    if not math.isfinite(q):
        return "Not tested"
    if q < Q_LEVEL:
        return higher if stat > 0 else lower
    return "No clear difference"


def _ratings_by_domain(ds: Dataset, domains: Sequence[str]) -> tuple[dict[str, np.ndarray], int]:
    """Auditor and moderator grade of each domain for the case files moderated in every one of ``domains``."""
    p = pairs(ds)
    p = p[p["domain"].isin(list(domains)) & p["auditor_grade"].notna() & p["moderator_grade"].notna()]
    wide = {}
    for d in domains:
        sub = p[p["domain"] == d].set_index("audit_id")
        wide[d] = pd.DataFrame({"auditor": sub["auditor_grade"].astype(object),
                                "moderator": sub["moderator_grade"].astype(object)})
    common = None
    for f in wide.values():
        ids = set(f.index)
        common = ids if common is None else common & ids
    ids = sorted(common or [])
    return {d: f.loc[ids].to_numpy(dtype=object) for d, f in wide.items()}, len(ids)


def domain_comparison(ds: Dataset) -> pd.DataFrame:
    """Does AC1 differ between domains? Each domain against the mean AC1 of the others, paired over case files.

    Returns
    -------
    pandas.DataFrame
        Index ``domain`` (practice domains moderated this period, ``ds.domains`` order; the
        Overall grade is not a domain). The case files are those moderated in every domain
        compared; their number is not printed (one count on every row would reveal each
        domain's n wherever the published pack hides it). Columns ``ac1``, ``ac1_others``
        (mean AC1 of the other domains on those case files), ``ac1_vs_others`` with ``_ci_low``/``_ci_high`` (t 95%),
        ``t``, ``p_value`` (:func:`qa_lib.stats.agreement.compare_dependent_agreement`),
        ``q_value`` (BH across the domains) and ``differs`` (words). Empty with fewer than two
        domains moderated.
    """
    cols = ["ac1", "ac1_others", "ac1_vs_others", "ac1_vs_others_ci_low", "ac1_vs_others_ci_high",
            "t", "p_value", "q_value", "differs"]
    conf = confusion_by_domain(ds)
    present = set(conf.index.get_level_values("domain"))
    doms = [d for d in ds.domains if d in present and d != OVERALL]
    if len(doms) < 2:
        return pd.DataFrame(columns=cols, index=pd.Index([], name="domain"))
    sets, n = _ratings_by_domain(ds, doms)
    grades = _grades(ds)
    rows = {}
    for d in doms:
        others = [sets[e] for e in doms if e != d]
        if n:
            test = ag.compare_dependent_agreement(sets[d], others, categories=grades, measure="ac1",
                                                  layout="units x raters")
        else:
            test = ag.TestResult(math.nan, math.nan)
        rows[d] = {"ac1": test.extra.get("coefficient_1", math.nan),
                   "ac1_others": test.extra.get("coefficient_2", math.nan),
                   "ac1_vs_others": test.extra.get("difference", math.nan),
                   "ac1_vs_others_ci_low": test.extra.get("ci_low", math.nan),
                   "ac1_vs_others_ci_high": test.extra.get("ci_high", math.nan),
                   "t": test.statistic, "p_value": test.pvalue}
    out = pd.DataFrame.from_dict(rows, orient="index")
    out.index.name = "domain"
    out["q_value"] = adjust(out["p_value"].astype(float), "fdr_bh")
    out["differs"] = [_differs(q, t, "Higher than the other domains", "Lower than the other domains")
                      for q, t in zip(out["q_value"], out["t"])]
    return out[cols]


def service_area_comparison(ds: Dataset, *, domain: str = OVERALL) -> pd.DataFrame:
    """Does AC1 differ between service areas? Each area against all the other areas, independent samples.

    Returns
    -------
    pandas.DataFrame
        Index ``service_area`` (areas with moderated audits this period, A–Z). Columns ``n``
        (the area's moderated audits), ``ac1``, ``rest_n`` and ``ac1_rest`` (all other areas
        together), ``ac1_vs_others`` with ``_ci_low``/``_ci_high``, ``z``, ``p_value``
        (:func:`qa_lib.stats.agreement.compare_agreement`), ``q_value`` (BH across the areas)
        and ``differs``. Empty with fewer than two areas moderated.
    """
    cols = ["n", "ac1", "rest_n", "ac1_rest", "ac1_vs_others", "ac1_vs_others_ci_low", "ac1_vs_others_ci_high",
            "z", "p_value", "q_value", "differs"]
    p = pairs(ds)
    p = p[(p["domain"] == domain) & p["service_area"].notna()]
    areas = sorted(p["service_area"].astype(str).unique())
    if len(areas) < 2:
        return pd.DataFrame(columns=cols, index=pd.Index([], name="service_area"))
    grades = _grades(ds)
    area = p["service_area"].astype(str)
    rows = {}
    for s in areas:
        inside, rest = p[area == s], p[area != s]
        a = ag.gwet_ac_table(tables.confusion(inside, ds).to_numpy(dtype=float), categories=grades)
        b = ag.gwet_ac_table(tables.confusion(rest, ds).to_numpy(dtype=float), categories=grades)
        test = ag.compare_agreement(a, b, what="AC1")
        rows[s] = {"n": int(len(inside)), "ac1": a.estimate, "rest_n": int(len(rest)), "ac1_rest": b.estimate,
                   "ac1_vs_others": test.extra.get("difference", math.nan),
                   "ac1_vs_others_ci_low": test.extra.get("ci_low", math.nan),
                   "ac1_vs_others_ci_high": test.extra.get("ci_high", math.nan), "z": test.statistic,
                   "p_value": test.pvalue}
    out = pd.DataFrame.from_dict(rows, orient="index")
    out.index.name = "service_area"
    out["q_value"] = adjust(out["p_value"].astype(float), "fdr_bh")
    out["differs"] = [_differs(q, z, "Higher than the other areas", "Lower than the other areas")
                      for q, z in zip(out["q_value"], out["z"])]
    return out[cols]


def between_text(domains: pd.DataFrame, areas: pd.DataFrame) -> str:
    """Sentences saying which domains and which service areas differ in AC1 (BH q < 0.05)."""
    parts = []
    for table, what, others in ((domains, "domain", "the other domains"), (areas, "service area", "the other areas")):
        tested = int(table["p_value"].notna().sum()) if len(table) else 0
        if not tested:
            parts.append(f"AC1 cannot be compared between {what}s this period: fewer than two have moderated audits "
                         "with a defined AC1 that can be shown.")
            continue
        higher = [str(k) for k, r in table.iterrows() if str(r["differs"]).startswith("Higher")]
        lower = [str(k) for k, r in table.iterrows() if str(r["differs"]).startswith("Lower")]
        if higher:
            parts.append(f"AC1 is higher than in {others} in {_and(higher)}.")
        if lower:
            parts.append(f"AC1 is lower than in {others} in {_and(lower)}.")
        if not (higher or lower):
            shown = "" if tested == len(table) else f" of the {tested} {what}s shown (Benjamini–Hochberg across all " \
                f"{len(table)})"
            parts.append(f"No {what}'s AC1 differs from {others} after Benjamini–Hochberg adjustment across the "
                         f"{tested} {what}s tested." if not shown else
                         f"AC1 differs from {others} in none{shown}; the other rows are not shown.")
    return " ".join(parts)


ORDINAL_NOTE = ("Proportional-odds (ordinal logistic) model of the moderator's grade given the auditor's own grade "
                "(its position on the scale, one slope), "
                "with an effect for each auditor (statsmodels OrderedModel, as R MASS::polr). Shift = how much worse "
                "(positive) or better (negative) moderators grade an auditor's audits than the auditor's own grade "
                "predicts, against the average auditor, on the latent log-odds scale; Wald 95% CI. Auditors with fewer "
                "moderated audits than the small-sample threshold are pooled. The likelihood-ratio test compares the "
                "model with and without the auditor effects. Auditors by pseudonym only.")
#: Label of the pooled group of auditors with few moderated audits in :func:`auditor_ordinal`.
OTHER_AUDITORS = "Other auditors"


def _ordinal(ds: Dataset, domain: str, periods: tuple[str, ...]) -> tuple[pd.DataFrame, Any]:
    cols = ["n", "shift", "shift_ci_low", "shift_ci_high", "p_value", "q_value", "note"]
    empty = pd.DataFrame(columns=cols, index=pd.Index([], name="auditor"))
    p = pairs(ds, periods=list(periods))
    p = p[(p["domain"] == domain) & p["auditor_grade"].notna() & p["moderator_grade"].notna()]
    if p.empty:
        return empty, None
    labels = auditor_labels(p)
    who = p["auditor_id"].astype(str).map(labels)
    counts = who.value_counts()
    few = counts[counts < _min_n(ds)].index
    group = who.where(~who.isin(few), OTHER_AUDITORS)
    grades = _grades(ds)
    # the auditor's own grade as its scale position (one slope: dummies per grade separate on small samples)
    own = pd.DataFrame({"auditor grade position": ds.scale.codes(p["auditor_grade"]).astype(float)})
    if group.nunique() < 2 or p["moderator_grade"].astype(object).nunique() < 2:
        return empty, None
    shifts, test = ordinal_stats.group_shift(p["moderator_grade"].astype(object).to_numpy(),
                                             own if own.iloc[:, 0].nunique() > 1 else None, group.to_numpy(),
                                             categories=grades)
    order = [a for a in labels if a in shifts.index] + ([OTHER_AUDITORS] if OTHER_AUDITORS in shifts.index else [])
    shifts = shifts.reindex(order)
    out = pd.DataFrame(index=pd.Index(order, name="auditor"))
    out["n"] = shifts["n"].astype("int64")
    out["shift"] = shifts["shift"]
    out["shift_ci_low"], out["shift_ci_high"] = shifts["ci_low"], shifts["ci_high"]
    out["p_value"] = shifts["p_value"]
    out["q_value"] = adjust(out["p_value"].astype(float), "fdr_bh")
    out["note"] = [f"{len(few)} auditors with fewer than {_min_n(ds)} moderated audits each, pooled"
                   if a == OTHER_AUDITORS else "" for a in order]
    return out[cols], test


def auditor_ordinal(ds: Dataset, *, domain: str = OVERALL, periods: Sequence[str] | None = None) -> pd.DataFrame:
    """Per-auditor shift of the moderator's grade on the latent scale of a proportional-odds model.

    Returns
    -------
    pandas.DataFrame
        Index ``auditor`` (pseudonyms as :func:`agreement_by_auditor`, then ``Other auditors``
        for those with fewer than ``min_n`` moderated audits, pooled). Columns ``n``, ``shift``
        (sum-to-zero coding: against the average auditor; positive = moderators grade worse
        than the auditor's own grade predicts), ``shift_ci_low``/``shift_ci_high`` (Wald 95%),
        ``p_value``, ``q_value`` (BH across the rows) and ``note``
        (:func:`qa_lib.stats.ordinal.group_shift`). Empty without two groups to compare.
    """
    key = (domain, tuple(periods or tables.periods_shown(ds)))
    cache_key = ("auditor_ordinal",) + key
    if cache_key not in ds.cache:
        ds.cache[cache_key] = _ordinal(ds, *key)
    return ds.cache[cache_key][0].copy()


def ordinal_text(ds: Dataset, *, domain: str = OVERALL, periods: Sequence[str] | None = None,
                 named: bool = True) -> str:
    """The likelihood-ratio test of any auditor effect in :func:`auditor_ordinal`, in one or two sentences.

    ``named=False`` (a published report, where the per-auditor table is withheld) gives how many
    auditors stand out instead of their pseudonyms.
    """
    table = auditor_ordinal(ds, domain=domain, periods=periods)
    test = ds.cache[("auditor_ordinal", domain, tuple(periods or tables.periods_shown(ds)))][1]
    if test is None or not math.isfinite(test.pvalue):
        return ("The ordinal model needs at least two groups of auditors with moderated audits and two different "
                "moderator grades in the periods shown, so it is not fitted.")
    verdict = ("moderators' grades depend on which auditor did the audit, beyond the auditor's own grade"
               if test.pvalue < Q_LEVEL else "there is no clear evidence that moderators' grades depend on which "
               "auditor did the audit, beyond the auditor's own grade")
    flagged = [str(a) for a, r in table.iterrows() if math.isfinite(r["q_value"]) and r["q_value"] < Q_LEVEL]
    text = (f"Ordinal model across {len(table)} auditor groups and {test.n} moderated audits: likelihood-ratio "
            f"χ² = {fmt.number(test.statistic, 1)} on {int(test.df)} df, {fmt.pvalue(test.pvalue)}, so "
            f"{verdict}.")
    if flagged and named:
        text += " Shifts that stand out after Benjamini–Hochberg adjustment: " + _and(flagged) + "."
    elif flagged:
        text += (f" The shifts of {len(flagged)} auditor group(s) stand out after Benjamini–Hochberg adjustment "
                 "(the per-auditor table is in the internal report).")
    if test.note:
        note = test.note.replace(" (named in extra['separated'])", "")
        text += f" Note: {note}."
        if named and test.extra.get("separated"):
            text += " Groups at one end of the scale: " + _and(list(test.extra["separated"])) + "."
    return text


def sample_planning(ds: Dataset, *, half_widths: Sequence[float] = HALF_WIDTHS) -> pd.DataFrame:
    """How many case files to moderate next period for a target CI half-width, per domain.

    Returns
    -------
    pandas.DataFrame
        Index ``domain`` (Overall first, domains moderated this period). Columns ``n`` (moderated
        this period), ``audits`` (audits this period, the population N), ``ac1``, ``ac1_se``,
        then ``ac1_n_<h>`` and ``kappa_quadratic_n_<h>`` for each half-width h (e.g.
        ``ac1_n_0.1``): case files needed, with the finite-population correction for N audits,
        or ``<NA>`` when this period gives no basis.
    """
    byd = agreement_by_domain(ds)
    conf = confusion_by_domain(ds)
    grades = _grades(ds)
    audits = int(len(tables.audits_in(ds)))
    hcols = [f"{m}_n_{h:g}" for m in ("ac1", "kappa_quadratic") for h in half_widths]
    cols = ["n", "audits", "ac1", "ac1_se", *hcols]
    domains = [d for d in byd.index if d in conf.index.get_level_values("domain")]
    if not domains:
        return pd.DataFrame(columns=cols, index=pd.Index([], name="domain"))
    rows = {}
    for d in domains:
        t = conf.loc[d].to_numpy(dtype=float)
        ests = {"ac1": ag.gwet_ac_table(t, categories=grades),
                "kappa_quadratic": ag.cohen_kappa(t, categories=grades, weights="quadratic", ci="t")}
        row: dict[str, Any] = {"n": int(t.sum()), "audits": audits, "ac1": ests["ac1"].estimate,
                               "ac1_se": ests["ac1"].se}
        for m, e in ests.items():
            for h in half_widths:
                k = ag.sample_size_for_precision(e.se, e.n, h, population=max(audits, e.n))
                row[f"{m}_n_{h:g}"] = k if k > 0 else pd.NA
        rows[d] = row
    out = pd.DataFrame.from_dict(rows, orient="index")
    out.index.name = "domain"
    for c in hcols:
        out[c] = out[c].astype("Int64")
    return out[cols]


#: Columns of the two halves of :func:`drift_by_domain` shown in the report (each fits 1,280 px).
DRIFT_DIRECTION_COLUMNS = ["n", "n_downgraded", "n_upgraded", "net_downgraded_share", "mean_difference",
                           "mean_difference_ci_low", "mean_difference_ci_high", "mcnemar_p", "mcnemar_q", "direction"]
DRIFT_TEST_COLUMNS = ["stuart_maxwell", "stuart_maxwell_df", "stuart_maxwell_p", "stuart_maxwell_exact_p",
                      "stuart_maxwell_q", "bowker", "bowker_df", "bowker_p", "bowker_full_df_p", "bowker_exact_p",
                      "bowker_q"]


def drift_direction(ds: Dataset, *, periods: Sequence[str] | None = None) -> pd.DataFrame:
    """The direction half of :func:`drift_by_domain`: counts, net downgrading, mean change, McNemar."""
    return drift_by_domain(ds, periods=periods)[DRIFT_DIRECTION_COLUMNS]


def drift_tests(ds: Dataset, *, periods: Sequence[str] | None = None) -> pd.DataFrame:
    """The symmetry half of :func:`drift_by_domain`: Stuart–Maxwell and Bowker (reduced and full df)."""
    return drift_by_domain(ds, periods=periods)[DRIFT_TEST_COLUMNS]


def paradox_coefficients(table: pd.DataFrame) -> pd.DataFrame:
    """The coefficient half of a :func:`kappa_paradox` table (n, p_o, both chance terms, kappa, AC1, skew)."""
    return table[[c for c in table.columns if not c.endswith(" share")]]


def paradox_join(coefficients: pd.DataFrame, mix: pd.DataFrame) -> pd.DataFrame:
    """The two halves of a :func:`kappa_paradox` table together again (e.g. each as a published report
    shows it, so :func:`paradox_text` says nothing either table hides)."""
    return coefficients.join(mix.drop(columns=["n"], errors="ignore"))


def grade_mix(table: pd.DataFrame) -> pd.DataFrame:
    """The grade-mix half of a :func:`kappa_paradox` table: each grade's share of all grades given."""
    return table[["n", *[c for c in table.columns if c.endswith(" share")]]]

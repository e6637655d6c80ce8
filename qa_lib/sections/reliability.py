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
              "symmetric (grades or pairs of grades without disagreement are dropped and df reduced); McNemar "
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
           "Statements that agreement is 'at least' a value use Gwet's benchmarking probability (at least 95% "
           "probability that the coefficient is above that value), never a label read off a point estimate. "
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
    return int(getattr(ds.params, "min_n", ag.TINY_N) or ag.TINY_N)


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
            "bowker", "bowker_df", "bowker_p", "bowker_q", "mcnemar_p", "mcnemar_q", "direction"]
    if conf.empty:
        return pd.DataFrame(columns=cols, index=pd.Index([], name="domain"))
    rows = {}
    for d in conf.index.get_level_values("domain").unique():
        t = conf.loc[d].to_numpy(dtype=float)
        dd = ag.direction_of_disagreement(t)
        sm, bw, mc = ag.stuart_maxwell(t), ag.bowker_symmetry(t), ag.mcnemar(t, exact=True)
        md = _mean_difference(t)
        rows[d] = {"n": dd["n"], "n_downgraded": dd["n_downgraded"], "n_upgraded": dd["n_upgraded"],
                   "net_downgraded_share": dd["net_downgraded"], "mean_difference": md[0],
                   "mean_difference_ci_low": md[1], "mean_difference_ci_high": md[2],
                   "stuart_maxwell": sm.statistic, "stuart_maxwell_df": sm.df, "stuart_maxwell_p": sm.pvalue,
                   "bowker": bw.statistic, "bowker_df": bw.df, "bowker_p": bw.pvalue, "mcnemar_p": mc.pvalue}
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
        k = ag.cohen_kappa(t, ci="t")
        a = ag.gwet_ac_table(t)
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
    """One or two sentences explaining kappa vs AC1 from a :func:`kappa_paradox` table."""
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
    lead = (f"In {d}, {_pct(share)} of all grades were {r['most_common_grade']}, so raters would often agree by "
            f"chance: kappa's chance agreement is {_num(r['p_e'])} against observed agreement of {_num(r['p_o'])}, "
            f"which leaves kappa at {_num(r['kappa'])} while AC1, whose chance term ({_num(r['ac1_p_e'])}) shrinks "
            f"when one grade dominates, is {_num(r['ac1'])}.")
    if len(skewed):
        names = ", ".join(map(str, skewed.index))
        tail = (f" Grades are concentrated (one grade holds at least {fmt.pct(SKEWED_PREVALENCE)} of them) in: {names}; "
                "there a low kappa with high agreement is the kappa paradox, not poor grading, so read AC1 "
                "and percent agreement beside kappa.")
    else:
        tail = (f" No domain has one grade holding {fmt.pct(SKEWED_PREVALENCE)} or more of the grades, so the gap between "
                "kappa and AC1 comes mostly from their different chance models, not from a skewed grade mix.")
    return lead + tail


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
            ests = {"fleiss_kappa": ag.fleiss_kappa(wide, categories=grades),
                    "ac1": ag.gwet_ac(wide, categories=grades),
                    "ac2_quadratic": ag.gwet_ac(wide, categories=grades, weights="quadratic"),
                    "alpha_ordinal": ag.krippendorff_alpha(wide, level="ordinal", categories=grades,
                                                           n_boot=n_boot, seed=seed)}
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
    shown to be reliable using Gwet's benchmarking probability (thresholds, never a
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
        conf = confusion_by_domain(ds)
        at_least = {}
        for d in dom.index:
            bp = ag.benchmark_probability(ag.gwet_ac_table(conf.loc[d].to_numpy(dtype=float)))
            sel = bp[bp["selected"]]
            at_least[d] = float(sel["lower"].iloc[0]) if len(sel) else -1.0
        good = [d for d, v in at_least.items() if v >= 0.6]
        weak = [d for d, v in at_least.items() if v < 0.4]
        if good:
            lines.append("With at least 95% probability (Gwet's benchmarking of AC1), agreement is 0.6 or higher in "
                         + _and(good) + ": grades in these domains can be compared across teams with some confidence.")
        else:
            lines.append("No domain is shown, with 95% probability, to reach an AC1 of 0.6 or higher.")
        if weak:
            lines.append("For " + _and(weak) + " an AC1 below 0.4 cannot be ruled out, so these grades are not yet "
                         "reliable enough to compare teams without moderation or calibration.")
        middle = [d for d, v in at_least.items() if 0.4 <= v < 0.6]
        if middle:
            lines.append("In " + _and(middle) + " agreement is at least 0.4 with 95% probability, but 0.6 or "
                         "higher is not established.")
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


def _and(items: Sequence[str]) -> str:
    items = [str(i) for i in items]
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]

"""Multi-agency QA of EHC plans: each agency grades each plan (e.g. on an MS Form), then they meet.

Tables for the moderation report's multi-agency section:

- :func:`grid`: the plan × agency grid for the monthly meeting (each plan, each agency's grade per
  domain, where they differ). One row per plan: **internal only** (``person_level``).
- :func:`agreement_by_domain`: agreement across agencies per domain: Fleiss' kappa, Gwet's AC1,
  Krippendorff's ordinal alpha (:mod:`qa_lib.stats.agreement`), with intervals only where the
  number of plans can carry one.
- :func:`agency_differs`: each agency's grades against the other agencies' consensus, exact sign
  test, Benjamini–Hochberg across agencies.
- :func:`versus_caseworker`: each agency against the LA caseworker's own grade.

Conventions
-----------
- A *unit* is one plan and domain. Plans are labelled "Plan 1", "Plan 2"... in order of their
  first submission: no plan reference reaches a report.
- Consensus of the other agencies = the median of their grades on the scale (position 1 = best);
  an agency "grades higher" on a unit when its grade is better than that median.
- Small n: Gwet's t(n−1) interval on three plans can be zero-width (every plan's linearised
  term equal) or span the whole range. With fewer plans than params ``multiagency_min_plans``
  (default 5), or a zero-width interval, no interval is shown and the table says it cannot be
  estimated; below ``min_n`` the estimate carries a small-n note.
"""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np
import pandas as pd
from scipy import stats

from qa_lib.core import fmt
from qa_lib.inputs.data import Dataset
from qa_lib.stats import agreement as ag
from qa_lib.stats import trend

OVERALL = "Overall"

METHODS = (
    "Each agency grades each newly finalised plan. A unit is one plan and domain. Agreement across "
    "agencies per domain: Fleiss' kappa and Gwet's AC1 (Gwet 2014 linearised SE, t interval) and "
    "Krippendorff's ordinal alpha (percentile bootstrap over plans). With few plans these intervals mean "
    "little: below the params' multiagency_min_plans plans (or where the interval has no width) the "
    "interval is not estimated and the table says so. Which agency differs: each agency's grade against "
    "the median grade of the other agencies on the same unit; an exact two-sided sign (binomial) test on "
    "the units where they differ, Benjamini–Hochberg across agencies. Each agency against the LA "
    "caseworker's own grade: the same sign test, with the share of units graded the same and its 95% "
    "Wilson interval.")

GRID_NOTE = ("One row per plan and domain, one column per agency. Spread = grade steps between the best "
             "and the worst grade given; 'differ' marks where agencies did not all give the same grade. "
             "Internal only: per plan.")

AGREEMENT_NOTE = ("Exact agreement = share of pairs of agencies grading a plan the same. Intervals are 95% "
                  "(t for kappa and AC1, bootstrap for alpha); 'not estimated' says why none is given.")
DIFFERS_NOTE = ("Higher / lower = the agency's grade better / worse than the median of the other agencies on "
                "the same plan and domain; mean steps > 0 = grades better. p: exact two-sided sign test on the "
                "units that differ; q: Benjamini–Hochberg across agencies; a finding needs q < 0.05.")
CASEWORKER_NOTE = ("Higher / lower = the agency's grade better / worse than the LA caseworker's on the same plan "
                   "and domain; share same with its 95% Wilson interval; p: exact sign test; q: Benjamini–Hochberg "
                   "across agencies.")


def _periods(ds: Dataset, periods: Sequence[str] | None) -> list[str]:
    return list(periods) if periods else [ds.period.label]


def agency_ratings(ds: Dataset, *, periods: Sequence[str] | None = None) -> pd.DataFrame:
    """Ratings that carry an agency, in ``periods`` (default the report period), with ``plan`` labels
    and ``code`` (grade position, 0 = best). One grade per plan, domain and agency (the first)."""
    r = ds.ratings
    if "agency" not in r.columns:
        return r.iloc[0:0].assign(plan=pd.Series(dtype="string"), code=pd.Series(dtype="int64"))
    r = r[r["agency"].notna() & (r["agency"] != "") & r["period"].isin(_periods(ds, periods)) & r["grade"].notna()]
    r = r[r["role"] != "moderator"].drop_duplicates(["audit_id", "domain", "agency"])
    a = ds.audits[ds.audits["audit_id"].isin(set(r["audit_id"]))].sort_values(["audit_date", "audit_id"], kind="stable")
    labels = {aid: f"Plan {i}" for i, aid in enumerate(a["audit_id"], start=1)}
    return r.assign(plan=r["audit_id"].map(labels).astype("string"), code=ds.scale.codes(r["grade"]))


def agencies(ds: Dataset, r: pd.DataFrame | None = None) -> list[str]:
    """Agencies in order of first appearance (caseworker agency last)."""
    r = agency_ratings(ds) if r is None else r
    names = list(dict.fromkeys(r["agency"].dropna().tolist()))
    cw = caseworker(ds)
    return [a for a in names if a != cw] + [a for a in names if a == cw]


def caseworker(ds: Dataset) -> str | None:
    """The agency whose grade is the LA caseworker's (params ``forms.caseworker``), as spelt in the data."""
    name = (ds.params.forms or {}).get("caseworker")
    if not name or "agency" not in ds.ratings.columns:
        return None
    seen = ds.ratings["agency"].dropna().unique().tolist()
    return next((a for a in seen if a.strip().lower() == name.strip().lower()), None)


def _domains(ds: Dataset, r: pd.DataFrame) -> list[str]:
    present = set(r["domain"])
    listed = [d for d in [OVERALL, *ds.domains] if d in present]
    return listed + [d for d in dict.fromkeys(r["domain"]) if d not in listed]


def _plans(r: pd.DataFrame) -> list[str]:
    return sorted(r["plan"].dropna().unique().tolist(), key=lambda p: int(p.split()[-1]))


def grid(ds: Dataset, *, periods: Sequence[str] | None = None) -> pd.DataFrame:
    """The plan × agency grid: index (plan, domain), one column per agency (grade label), then
    ``agencies`` (how many graded), ``spread`` (grade steps best to worst) and ``differ``."""
    r = agency_ratings(ds, periods=periods)
    if r.empty:
        return pd.DataFrame()
    names = agencies(ds, r)
    rows = []
    for plan in _plans(r):
        for d in _domains(ds, r):
            u = r[(r["plan"] == plan) & (r["domain"] == d)]
            if u.empty:
                continue
            by = dict(zip(u["agency"], u["grade"].astype(str)))
            codes = u["code"].to_numpy()
            spread = int(codes.max() - codes.min())
            row = {"plan": plan, "domain": d, **{a: by.get(a, "") for a in names}, "agencies": len(u),
                   "spread": spread, "differ": ("only one agency graded" if len(u) < 2
                                                else "differ" if spread else "all agree")}
            rows.append(row)
    return pd.DataFrame(rows).set_index(["plan", "domain"])


def _wide(r: pd.DataFrame, names: list[str]) -> pd.DataFrame:
    w = r.pivot(index="plan", columns="agency", values="grade_text").reindex(columns=names)
    w.index = pd.RangeIndex(len(w))
    return w


def _interval_ok(e, n: int, min_plans: int) -> str:
    """'' when the interval can be shown, else why not."""
    if not e.defined:
        return "undefined: " + (e.note.split(":", 1)[-1].strip() if e.note else "no variation")
    if n < min_plans:
        return f"not estimated: {n} plan(s), at least {min_plans} needed"
    if not (math.isfinite(e.ci_low) and math.isfinite(e.ci_high)) or e.ci_high - e.ci_low <= 1e-9:
        return f"not estimated: the interval has no width on {n} plans"
    return ""


def agreement_by_domain(ds: Dataset, *, periods: Sequence[str] | None = None, n_boot: int = 2000,
                        seed: int = 20240401) -> pd.DataFrame:
    """Agreement across agencies per domain (units = plans, raters = agencies).

    Columns ``plans`` (plans graded by two or more agencies), ``agencies``, ``agreement_share`` (share of
    agency pairs on a plan giving the same grade), and for ``fleiss_kappa``, ``ac1``,
    ``alpha_ordinal``: the estimate, ``_ci_low``/``_ci_high`` (NaN when not estimated) and
    ``_interval`` (blank, or why there is no interval); ``small_n`` and ``note``.
    """
    r = agency_ratings(ds, periods=periods)
    if r.empty:
        return pd.DataFrame()
    grades = list(ds.scale.grades)
    names = agencies(ds, r)
    min_plans = ds.params.multiagency_min_plans
    min_n = int(ds.params.min_n)
    r = r.assign(grade_text=r["grade"].astype(object))
    rows = {}
    for d in _domains(ds, r):
        w = _wide(r[r["domain"] == d], names)
        k = w.notna().sum(axis=1)
        w = w[k >= 2]
        n = len(w)
        if n == 0:
            continue
        pairs = same = 0
        for _, row in w.iterrows():
            vals = row.dropna().tolist()
            for i in range(len(vals)):
                for j in range(i + 1, len(vals)):
                    pairs += 1
                    same += vals[i] == vals[j]
        grid_ = "units x raters"  # rows = plans, columns = agencies
        ests = {"fleiss_kappa": ag.fleiss_kappa(w, categories=grades, layout=grid_),
                "ac1": ag.gwet_ac(w, categories=grades, layout=grid_),
                "alpha_ordinal": ag.krippendorff_alpha(w, level="ordinal", categories=grades, n_boot=n_boot, seed=seed,
                                                       layout=grid_)}
        out = {"plans": n, "agencies": int(k.max()), "agreement_share": same / pairs if pairs else math.nan}
        for m, e in ests.items():
            why = _interval_ok(e, n, min_plans)
            out[m] = e.estimate
            out[f"{m}_ci_low"] = e.ci_low if not why else math.nan
            out[f"{m}_ci_high"] = e.ci_high if not why else math.nan
            out[f"{m}_interval"] = why
        out["small_n"] = n < min_n
        out["note"] = f"small n (fewer than {min_n} plans): read as a description of these plans only" if n < min_n else ""
        rows[d] = out
    res = pd.DataFrame.from_dict(rows, orient="index")
    res.index.name = "domain"
    return res


def _sign_test(higher: int, lower: int) -> float:
    """Exact two-sided sign test (binomial, p = 1/2) on the units where the two differ."""
    n = higher + lower
    return float(stats.binomtest(higher, n, 0.5).pvalue) if n else math.nan


def _compare(units: pd.DataFrame) -> dict:
    """``units`` has ``code`` (the agency's) and ``other`` (the comparison's) per unit."""
    d = units["code"] - units["other"]
    higher, lower = int((d < 0).sum()), int((d > 0).sum())  # lower code = better grade
    same = int((d == 0).sum())
    n = len(units)
    return {"units": n, "higher": higher, "same": same, "lower": lower,
            "mean_steps": float((-d).mean()) if n else math.nan, "p_value": _sign_test(higher, lower)}


def _verdict(row: pd.Series, what: str) -> str:
    if not math.isfinite(row["p_value"]):
        return f"no difference from {what} on any unit"
    if row["q_value"] < 0.05:
        return f"grades higher than {what}" if row["higher"] > row["lower"] else f"grades lower than {what}"
    return f"no clear difference from {what}"


def agency_differs(ds: Dataset, *, periods: Sequence[str] | None = None) -> pd.DataFrame:
    """Each agency against the other agencies' consensus (median grade) on the same units.

    Index ``agency``; columns ``units`` (units the agency and at least one other graded), ``higher`` /
    ``same`` / ``lower`` (agency's grade better / equal / worse than the consensus), ``mean_steps``
    (positive = the agency grades better), ``p_value`` (exact sign test), ``q_value`` (BH across
    agencies) and ``finding``.
    """
    r = agency_ratings(ds, periods=periods)
    if r.empty:
        return pd.DataFrame()
    rows = {}
    for a in agencies(ds, r):
        mine = r[r["agency"] == a][["audit_id", "domain", "code"]]
        others = r[r["agency"] != a].groupby(["audit_id", "domain"])["code"].median().rename("other").reset_index()
        units = mine.merge(others, on=["audit_id", "domain"], how="inner")
        rows[a] = _compare(units)
    out = pd.DataFrame.from_dict(rows, orient="index")
    out.index.name = "agency"
    out["q_value"] = np.asarray(trend.adjust(out["p_value"].to_numpy(dtype=float)), dtype=float)
    out["finding"] = [_verdict(row, "the other agencies") for _, row in out.iterrows()]
    return out


def versus_caseworker(ds: Dataset, *, periods: Sequence[str] | None = None) -> pd.DataFrame:
    """Each agency against the LA caseworker's grade on the same units (params ``forms.caseworker``).

    Index ``agency``; ``units``, ``higher``/``same``/``lower`` (than the caseworker), ``same_share``
    with its Wilson ``same_low_share``/``same_high_share``, ``mean_steps``, ``p_value`` (exact sign test), ``q_value``
    (BH across agencies), ``finding``. Empty when no caseworker agency is named or graded.
    """
    cw = caseworker(ds)
    r = agency_ratings(ds, periods=periods)
    if cw is None or r.empty or not (r["agency"] == cw).any():
        return pd.DataFrame()
    base = r[r["agency"] == cw][["audit_id", "domain", "code"]].rename(columns={"code": "other"})
    rows = {}
    for a in agencies(ds, r):
        if a == cw:
            continue
        units = r[r["agency"] == a][["audit_id", "domain", "code"]].merge(base, on=["audit_id", "domain"], how="inner")
        rows[a] = _compare(units)
    if not rows:
        return pd.DataFrame()
    out = pd.DataFrame.from_dict(rows, orient="index")
    out.index.name = "agency"
    out["same_share"] = out["same"] / out["units"]
    lo, hi = trend.proportion_ci(out["same"].to_numpy(), out["units"].to_numpy())
    out["same_low_share"], out["same_high_share"] = np.atleast_1d(lo), np.atleast_1d(hi)
    out["q_value"] = np.asarray(trend.adjust(out["p_value"].to_numpy(dtype=float)), dtype=float)
    out["finding"] = [_verdict(row, f"the caseworker ({cw})") for _, row in out.iterrows()]
    return out[["units", "higher", "same", "lower", "same_share", "same_low_share", "same_high_share", "mean_steps",
                "p_value", "q_value", "finding"]]


def summary(ds: Dataset, *, periods: Sequence[str] | None = None) -> list[str]:
    """Plain-English findings of the multi-agency section."""
    r = agency_ratings(ds, periods=periods)
    if r.empty:
        return []
    n_plans, names = r["plan"].nunique(), agencies(ds, r)
    lines = [f"{fmt.count(n_plans)} plan(s) graded by {len(names)} agencies ({', '.join(names)}): "
             f"{fmt.count(len(r))} grades over {r['domain'].nunique()} domain(s)."]
    diff = agency_differs(ds, periods=periods)
    flagged = diff[diff["q_value"] < 0.05] if len(diff) else diff
    for a, row in flagged.iterrows():
        lines.append(f"{a} {row['finding'].replace('grades', 'graded')}: better on {row['higher']} of "
                     f"{row['units']} units, worse on {row['lower']} (exact sign test {fmt.pvalue(row['p_value'])}; "
                     f"Benjamini–Hochberg across {len(diff)} agencies: q {fmt.pvalue(row['q_value'])[2:]}).")
    if len(diff) and flagged.empty:
        lines.append("No agency grades clearly differently from the others (BH q ≥ 0.05 for every agency).")
    agree = agreement_by_domain(ds, periods=periods, n_boot=0)
    if len(agree) and agree["plans"].max() < ds.params.multiagency_min_plans:
        lines.append(f"Agreement coefficients rest on {int(agree['plans'].max())} plan(s): no interval is estimated, "
                     "so read them as a description of these plans, not of the agencies' grading in general.")
    return lines

"""Report tables: tidy, full-precision computations on a :class:`~qa_lib.inputs.data.Dataset`.

Each function returns a DataFrame of counts and shares (shares as fractions 0–1, never
rounded); formatting, percentages and suppression happen in :mod:`qa_lib.present.html_tables`. The grade
scale always supplies every category, so a grade nobody used this quarter still has its column.

Conventions
-----------
- The grade of an audit (overall or per domain) follows params ``audit_grade`` (issue 17):
  ``auditor`` (default: the auditor's grade, a peer's where no auditor graded), ``consensus``,
  ``median`` or ``moderator``; :func:`audit_grade_rule` names it under the tables that use it.
- Return rate = returned / (allocated − exempt): exemptions leave the denominator.
- "Good or better" = the first ``params.good_or_better`` grades of the scale (default
  Outstanding and Good).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from qa_lib.inputs.data import Dataset
from qa_lib.core import fmt

TOTAL = "Total"


def periods_shown(ds: Dataset) -> list[str]:
    """Labels of the report period and its ``history_periods`` predecessors, oldest first."""
    return [p.label for p in ds.period.history(ds.params.history_periods)]


def audits_in(ds: Dataset, periods: list[str] | None = None) -> pd.DataFrame:
    """Audits whose period is one of ``periods`` (default: the report period)."""
    periods = periods or [ds.period.label]
    return ds.audits[ds.audits["period"].isin(periods)]


AUDIT_GRADE_RULES = {
    "auditor": "the auditor's grade (a peer's where no auditor graded)",
    "consensus": "the most common grade among the auditor and peers (a tie goes to the lower grade)",
    "median": "the median grade among the auditor and peers (the lower of the two middle grades)",
    "moderator": "the moderator's grade where the audit was moderated, else the auditor's",
}


def audit_grade_rule(ds: Dataset, *more: str) -> str:
    """Issue 17: the params rule ``audit_grade`` in words, to name under every table that uses it;
    ``more`` are further notes of the table, appended when not empty."""
    rule = ds.params.audit_grade
    return " ".join([f"Audit grade = {AUDIT_GRADE_RULES[rule]} (params audit_grade: {rule}).", *(m for m in more if m)])


def audit_grades(ds: Dataset, *, domain: str = "Overall", periods: list[str] | None = None) -> pd.DataFrame:
    """One row per audit with its grade for ``domain``, by the params rule ``audit_grade``
    (:data:`AUDIT_GRADE_RULES`; default the auditor's, a peer's where no auditor graded)."""
    periods = periods or [ds.period.label]
    rule = ds.params.audit_grade
    r = ds.ratings
    r = r[(r["domain"] == domain) & r["period"].isin(periods)]
    first = r[r["role"].isin(["auditor", "peer"])].sort_values("role", kind="stable")  # "auditor" before "peer"
    first = first.drop_duplicates("audit_id", keep="first")
    if rule == "auditor" or first.empty:
        return first
    if rule == "moderator":
        mod = r[r["role"] == "moderator"].drop_duplicates("audit_id")
        return pd.concat([mod, first[~first["audit_id"].isin(set(mod["audit_id"]))]], ignore_index=True)
    pool = r[r["role"].isin(["auditor", "peer"])]
    codes = pool.assign(_code=ds.scale.codes(pool["grade"]))
    if rule == "median":  # the lower of two middle grades = the higher code
        pick = codes.groupby("audit_id")["_code"].agg(lambda c: int(np.sort(c.to_numpy())[len(c) // 2]))
    else:  # consensus: most common; a tie goes to the lower grade (higher code)
        pick = codes.groupby("audit_id")["_code"].agg(
            lambda c: int(max(c.value_counts().items(), key=lambda kv: (kv[1], kv[0]))[0]))
    grades = list(ds.scale.grades)
    chosen = pick.map(lambda k: grades[k])
    out = first.set_index("audit_id")
    out["grade"] = pd.Categorical(chosen.reindex(out.index), dtype=first["grade"].dtype)
    return out.reset_index()


def grade_counts(frame: pd.DataFrame, ds: Dataset, *, by: str | list[str] | None = None,
                 totals: bool = True) -> pd.DataFrame:
    """Crosstab of grade counts with every grade as a column, ``n`` and ``good_or_better`` share.

    Parameters
    ----------
    frame : DataFrame
        Rows with a ``grade`` column (ordered categorical) and the ``by`` columns.
    by : str or list, optional
        Grouping column(s); ``None`` gives one row.
    totals : bool
        Add a ``Total`` row (and ``n`` is always the row total).
    """
    grades = list(ds.scale.grades)
    if by is None:
        counts = frame["grade"].value_counts().reindex(grades, fill_value=0).to_frame().T
        counts.index = pd.Index([TOTAL], name="group")
    else:
        counts = pd.crosstab([frame[b] for b in ([by] if isinstance(by, str) else by)],
                             pd.Categorical(frame["grade"], dtype=ds.scale.dtype), dropna=False)
        counts = counts.reindex(columns=grades, fill_value=0)
        counts.columns = pd.Index(grades, name=None)
        if totals and len(counts):
            total = counts.sum().to_frame().T
            total.index = pd.Index([TOTAL] if counts.index.nlevels == 1 else [(TOTAL,) + ("",) * (counts.index.nlevels - 1)])
            total.index.names = counts.index.names
            counts = pd.concat([counts, total])
    counts = counts.astype("int64")
    counts["n"] = counts[grades].sum(axis=1)
    good = counts[list(ds.scale.good_grades)].sum(axis=1)
    counts["good_or_better"] = good
    counts["good_or_better_share"] = (good / counts["n"]).where(counts["n"] > 0)
    return counts


def review_counts(ds: Dataset, *, periods: list[str] | None = None) -> dict[str, int]:
    """Issue 17: how this period's audits (or ``periods``') were checked, from the ratings' roles, the one
    count every summary uses: ``audits``, ``moderated`` (a moderator graded it), ``peer_reviewed`` (a peer
    graded it), ``both`` and ``neither``."""
    periods = periods or [ds.period.label]
    ids = set(audits_in(ds, periods)["audit_id"])
    r = ds.ratings[ds.ratings["audit_id"].isin(ids)]
    mod = set(r.loc[r["role"] == "moderator", "audit_id"])
    peer = set(r.loc[r["role"] == "peer", "audit_id"])
    return {"audits": len(ids), "moderated": len(mod), "peer_reviewed": len(peer), "both": len(mod & peer),
            "neither": len(ids - mod - peer)}


def review_sentence(ds: Dataset) -> str:
    """"Of 26 audits in 2024-25 Q2, 0 were moderated and 26 peer-reviewed (0 both); …" with the audit grade rule:
    the quarterly and moderation reports say the same thing about moderation and peer review."""
    c = review_counts(ds)
    if c["audits"] == 0:
        return f"No audits in {ds.period.label}."
    return (f"Of {fmt.count(c['audits'])} audits in {ds.period.label}, {fmt.count(c['moderated'])} were moderated and "
            f"{fmt.count(c['peer_reviewed'])} peer-reviewed ({fmt.count(c['both'])} both, {fmt.count(c['neither'])} "
            f"neither). {audit_grade_rule(ds)}")


def audit_volume(ds: Dataset) -> pd.DataFrame:
    """Audits completed and moderated per month of the shown periods."""
    periods = periods_shown(ds)
    a = audits_in(ds, periods)
    moderated = ds.ratings.loc[ds.ratings["role"] == "moderator", "audit_id"].unique()
    out = a.assign(moderated=a["audit_id"].isin(moderated)).groupby(["period", "month"], sort=True).agg(
        audits=("audit_id", "size"), moderated=("moderated", "sum"))
    out["moderated_share"] = out["moderated"] / out["audits"]
    return out.reset_index()


def overall_by_period(ds: Dataset) -> pd.DataFrame:
    """Overall grade distribution for the report period and the previous periods (rows = periods)."""
    periods = periods_shown(ds)
    g = audit_grades(ds, periods=periods)
    g = g.assign(period=pd.Categorical(g["period"], categories=periods, ordered=True))
    return grade_counts(g, ds, by="period", totals=False)


def grades_by(ds: Dataset, by: str, *, domain: str = "Overall") -> pd.DataFrame:
    """Grade counts by ``by`` (service area, cohort, team) for the report period, with a Total row."""
    g = audit_grades(ds, domain=domain)
    if by not in g.columns:
        return grade_counts(g.iloc[0:0].assign(**{by: pd.Series(dtype="string")}), ds, by=by)
    return grade_counts(g.dropna(subset=[by]), ds, by=by)


def domain_audit_grades(ds: Dataset, *, periods: list[str] | None = None) -> pd.DataFrame:
    """One row per audit and practice domain (Overall excluded) with the audit's grade for that domain by
    the params rule ``audit_grade`` (:func:`audit_grades`), in ``periods`` (default the report period)."""
    frames = [audit_grades(ds, domain=d, periods=periods) for d in ds.domains if d != "Overall"]
    frames = [f for f in frames if len(f)]
    if not frames:
        r = ds.ratings
        return r.iloc[0:0]
    return pd.concat(frames, ignore_index=True)


def grades_by_domain(ds: Dataset) -> pd.DataFrame:
    """Grade counts per practice domain for the report period (the audit grade by the params rule
    ``audit_grade``, as every grade table), domains in report order."""
    r = domain_audit_grades(ds)
    counts = grade_counts(r, ds, by="domain", totals=False)
    order = [d for d in ds.domains if d in counts.index]
    return counts.reindex(order)


def returns_by(ds: Dataset, by: str | list[str]) -> pd.DataFrame:
    """Allocated, returned, not returned and exempt audits by ``by``, with the return rate vs target.

    Return rate = returned / (allocated − exempt); ``met_target`` compares it with
    ``params.return_target``. Restricted to the report period except when ``by`` includes
    ``period`` (then the shown periods).
    """
    by = [by] if isinstance(by, str) else list(by)
    periods = periods_shown(ds) if "period" in by else [ds.period.label]
    a = ds.allocations[ds.allocations["period"].isin(periods)]
    status = pd.crosstab([a[b] for b in by], a["status"]).reindex(columns=["returned", "not returned", "exempt"], fill_value=0)
    if len(status):
        total = status.sum().to_frame().T
        total.index = pd.Index([TOTAL] if len(by) == 1 else [(TOTAL,) + ("",) * (len(by) - 1)], name=by[0] if len(by) == 1 else None)
        if len(by) > 1:
            total.index.names = status.index.names
        status = pd.concat([status, total])
    status = status.astype("int64")
    status.insert(0, "allocated", status.sum(axis=1))
    due = status["allocated"] - status["exempt"]
    status["return_rate"] = (status["returned"] / due).where(due > 0)
    status["target"] = ds.params.return_target
    status["met_target"] = status["return_rate"] >= ds.params.return_target
    status.columns.name = None
    return status


def participation(ds: Dataset) -> pd.DataFrame:
    """Practitioner participation in returned audits of the report period, by service area.

    ``took_part`` / ``recorded`` where ``recorded`` counts returned audits with a yes/no answer.
    """
    a = ds.allocations
    a = a[(a["period"] == ds.period.label) & (a["status"] == "returned")]
    known = a["practitioner_took_part"].notna()
    out = a.assign(recorded=known, took_part=a["practitioner_took_part"].fillna(False).astype(bool)) \
        .groupby("service_area").agg(returned=("status", "size"), recorded=("recorded", "sum"), took_part=("took_part", "sum"))
    if len(out):
        out.loc[TOTAL] = out.sum()
    out = out.astype("int64")
    out["participation_rate"] = (out["took_part"] / out["recorded"]).where(out["recorded"] > 0)
    return out


def non_participation_reasons(ds: Dataset) -> pd.DataFrame:
    """Reasons practitioners did not take part in returned audits of the report period, most common first."""
    a = ds.allocations
    a = a[(a["period"] == ds.period.label) & (a["status"] == "returned") & (a["practitioner_took_part"] == False)]  # noqa: E712
    reasons = a["reason"].fillna("No reason recorded").replace("", "No reason recorded")
    out = reasons.value_counts().rename_axis("reason").to_frame("practitioners")
    out["share"] = out["practitioners"] / out["practitioners"].sum() if len(out) else []
    return out


def moderation_pairs(ds: Dataset, *, periods: list[str] | None = None) -> pd.DataFrame:
    """Auditor and moderator grade side by side: one row per moderated audit and domain.

    Columns: ``audit_id``, ``domain``, ``period``, ``service_area``, ``team``, ``cohort``,
    ``auditor_id``, ``moderator_id``, ``auditor_grade``, ``moderator_grade`` (ordered
    categoricals on the full scale) and ``change``: ``same`` / ``downgraded`` (moderator's grade
    worse) / ``upgraded``.

    Computed once per dataset and set of periods (several report sections ask for it); each call
    gets its own shallow copy, which copy-on-write keeps independent of the cached one.
    """
    periods = periods or [ds.period.label]
    return cached(ds, ("moderation_pairs", tuple(periods)), lambda: _moderation_pairs(ds, periods))


def cached(ds: Dataset, key: tuple, compute) -> pd.DataFrame:
    """``compute()`` once per dataset and ``key`` (tables several report sections ask for); each
    call gets its own shallow copy, which copy-on-write keeps independent of the cached one."""
    if key not in ds.cache:
        ds.cache[key] = compute()
    return ds.cache[key].copy(deep=False)


def _moderation_pairs(ds: Dataset, periods: list[str]) -> pd.DataFrame:
    r = ds.ratings[ds.ratings["period"].isin(periods)]
    aud = r[r["role"] == "auditor"].drop_duplicates(["audit_id", "domain"])
    mod = r[r["role"] == "moderator"].drop_duplicates(["audit_id", "domain"])
    keys = ["audit_id", "domain"]
    ctx = [c for c in ("period", "month", "service_area", "team", "cohort") if c in aud.columns]
    pairs = aud[keys + ctx + ["rater_id", "grade"]].rename(columns={"rater_id": "auditor_id", "grade": "auditor_grade"}).merge(
        mod[keys + ["rater_id", "grade"]].rename(columns={"rater_id": "moderator_id", "grade": "moderator_grade"}),
        on=keys, how="inner")
    a = ds.scale.codes(pairs["auditor_grade"])
    m = ds.scale.codes(pairs["moderator_grade"])
    pairs["change"] = np.select([m == a, m > a], ["same", "downgraded"], "upgraded")
    return pairs


def moderation_outcomes(ds: Dataset, *, domain: str = "Overall") -> pd.DataFrame:
    """Moderation outcome counts for the report period, as QA highlight reports publish them.

    One row per outcome: ``Moderated``, ``Same grade``, ``Downgraded`` and ``Upgraded`` totals, then
    one row per observed and possible move ``Downgraded Good → Requires improvement`` ... (all
    moves on the scale, zero counts included so the table has the same shape every quarter).
    """
    pairs = moderation_pairs(ds)
    pairs = pairs[pairs["domain"] == domain]
    grades = list(ds.scale.grades)
    rows = [("Moderated", len(pairs)), ("Same grade", int((pairs["change"] == "same").sum())),
            ("Downgraded", int((pairs["change"] == "downgraded").sum())),
            ("Upgraded", int((pairs["change"] == "upgraded").sum()))]
    moves = pairs.groupby(["auditor_grade", "moderator_grade"], observed=False).size()
    for direction in ("Downgraded", "Upgraded"):
        for i, frm in enumerate(grades):
            for j, to in enumerate(grades):
                if (direction == "Downgraded" and j > i) or (direction == "Upgraded" and j < i):
                    rows.append((f"{direction} {frm} → {to}", int(moves.get((frm, to), 0))))
    out = pd.DataFrame(rows, columns=["outcome", "audits"]).set_index("outcome")
    out["share"] = out["audits"] / len(pairs) if len(pairs) else np.nan
    out.loc["Moderated", "share"] = np.nan
    return out


def confusion(pairs: pd.DataFrame, ds: Dataset) -> pd.DataFrame:
    """Auditor (rows) × moderator (columns) count table on the full scale, unused grades kept."""
    t = pd.crosstab(pd.Categorical(pairs["auditor_grade"], dtype=ds.scale.dtype),
                    pd.Categorical(pairs["moderator_grade"], dtype=ds.scale.dtype), dropna=False)
    t = t.reindex(index=list(ds.scale.grades), columns=list(ds.scale.grades), fill_value=0)
    t.index.name, t.columns.name = "Auditor grade", "Moderator grade"
    return t

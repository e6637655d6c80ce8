"""Issue 17: SEND quarterly content: each section's grades quarter on quarter, the headline sentence
for one grade across quarters, and pieces of audit activity (audits × raters).

As ``000_*`` (a SEND quarterly QA report) writes them: "Breaking down the audit outcome into the
audited section" quarter on quarter; "'inadequate' was 8% in qtr4 (21/22) 13% in Qtr 1 (22/23) and 0
quarter 2 (22/23)"; "26 Case File Audits ... 78 pieces of Audit activity". Audit grades follow the
params rule ``audit_grade`` (:func:`qa_lib.sections.tables.audit_grade_rule`).
"""

from __future__ import annotations

import pandas as pd

from qa_lib.core import fmt
from qa_lib.inputs.data import Dataset
from qa_lib.sections import tables


def domain_by_quarter(ds: Dataset) -> pd.DataFrame:
    """Each domain's grade distribution over the shown periods: index (``domain``, ``period``),
    one count column per grade, ``n`` and each grade's share (``<grade> share``)."""
    periods = tables.periods_shown(ds)
    frames = [tables.audit_grades(ds, domain=d, periods=periods) for d in ["Overall", *ds.domains]]
    g = pd.concat([f for f in frames if len(f)], ignore_index=True) if any(len(f) for f in frames) else pd.DataFrame()
    if g.empty:
        return pd.DataFrame()
    grades = list(ds.scale.grades)
    g = g.assign(domain=pd.Categorical(g["domain"], categories=["Overall", *ds.domains], ordered=True),
                 period=pd.Categorical(g["period"], categories=periods, ordered=True))
    out = pd.crosstab([g["domain"], g["period"]], pd.Categorical(g["grade"].astype(str), categories=grades), dropna=False)
    out = out.reindex(columns=grades, fill_value=0)
    out.columns = grades
    out["n"] = out[grades].sum(axis=1)
    out = out[out["n"] > 0].astype("int64")
    for gr in grades:
        out[f"{gr} share"] = out[gr] / out["n"]
    out.index.names = ["domain", "period"]
    return out


def _pct_or_zero(x: int, n: int) -> str:
    return "0" if x == 0 else fmt.pct(x / n)


def grade_across_quarters(ds: Dataset, grade: str, *, domain: str = "Overall") -> str:
    """"Inadequate was 8% in 2021-22 Q4, 13% in 2022-23 Q1 and 0 in 2022-23 Q2" (n in brackets)."""
    periods = tables.periods_shown(ds)
    g = tables.audit_grades(ds, domain=domain, periods=periods)
    parts = []
    for p in periods:
        in_p = g[g["period"] == p]
        if len(in_p):
            x = int((in_p["grade"].astype(str) == grade).sum())
            parts.append(f"{_pct_or_zero(x, len(in_p))} in {p} ({x} of {len(in_p)})")
    if not parts:
        return f"No audits were graded in the periods shown, so there is no share of {grade} to report."
    listed = parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]
    what = "" if domain == "Overall" else f" in {domain}"
    return f"{grade}{what} was {listed}."


def audit_activity(ds: Dataset) -> pd.DataFrame:
    """Audits and pieces of audit activity (distinct audit × rater gradings) per shown period and in total."""
    periods = tables.periods_shown(ds)
    a = ds.audits[ds.audits["period"].isin(periods)]
    r = ds.ratings[ds.ratings["period"].isin(periods)].drop_duplicates(["audit_id", "rater_id", "role"])
    if a.empty:
        return pd.DataFrame()
    out = pd.DataFrame({"audits": a.groupby("period").size(), "pieces_of_activity": r.groupby("period").size()})
    out = out.reindex([p for p in periods if p in out.index]).fillna(0).astype("int64")
    out.loc[tables.TOTAL] = out.sum()
    out.index.name = "period"
    return out


def activity_sentence(ds: Dataset) -> str:
    """"26 audits over the periods shown, 78 pieces of audit activity; 6 audits this period, 18 pieces"."""
    t = audit_activity(ds)
    if t.empty:
        return "No audits in the periods shown."
    total = t.loc[tables.TOTAL]
    text = (f"{fmt.count(total['audits'])} audits over the periods shown, {fmt.count(total['pieces_of_activity'])} "
            "pieces of audit activity (each audit graded by each of its raters)")
    if ds.period.label in t.index:
        now = t.loc[ds.period.label]
        text += f"; {fmt.count(now['audits'])} audits this period, {fmt.count(now['pieces_of_activity'])} pieces"
    return text + "."

"""The monthly highlight report (issue 16): months as columns, tested arrows, cohort comparators, key
themes with counts, and verdicts that never claim more than the data shows.

Layout and conventions follow the case-file audit highlight reports QA teams publish (the example is
``shared/examples/004_*``: a quarter's three months side by side). A quarter run shows its three
months; a month run shows the month beside its ``history_periods`` months before. Every function
returns a tidy, full-precision frame (shares are fractions 0–1) or a list of sentences; the notebook
cell hands it to ``rpt.table`` / ``rpt.bullets``.

- **The programme.** Only audits of the monthly programme are counted: ``audit_type`` blank or
  ``monthly``, plus any type named in ``params.pool_audit_types``. Thematic and external audits are
  reported in :func:`other_audits`, with their trigger, and never pooled otherwise.
- **Return rate** = returned ÷ distributed, distributed = allocated − exempt (as 004 prints it).
- **Participation** = practitioners who took part ÷ returned audits with a yes/no recorded.
- **Domain figures**: auditor grades; G/O = the ``good_or_better`` best grades; "RI" = the next grade
  of the scale (Requires improvement on the Ofsted scale); n = audits graded in that domain that month.
- **Arrows** are the raw direction of the unrounded share against the month before (↑ ↓, = when
  equal); beside each is the tested reading (:func:`qa_lib.sections.change.describe_comparison`:
  Fisher or chi-squared, Newcombe interval, Benjamini–Hochberg across the domains of that month).
- Months with no audits are left out of the tables and named once in a note.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from qa_lib.core import fmt
from qa_lib.inputs.data import PROGRAMME_AUDIT_TYPE, Dataset, audit_types
from qa_lib.inputs.periods import Period, parse_period
from qa_lib.sections import actions, change, returns, tables, themes
from qa_lib.stats.agreement import mcnemar
from qa_lib.stats.trend import (SPCSummary, adjust, cochran_armitage, compare_two, proportion_ci, spc,
                                spc_summary)

__all__ = [
    "MONTHLY", "months", "month_name", "programme_audits", "empty_months_note", "context", "sampling_rules",
    "compliance", "compliance_sentences", "participation", "participation_sentences", "moderation",
    "moderation_sentences", "overall_by_month", "past_months", "grade_by_service_area", "performance_areas",
    "performance_display", "cohort_comparators", "cohort_sentences", "key_themes", "key_theme_sentences",
    "themes_and_actions", "actions_note", "other_audits", "scale_note",
]

MONTHLY = PROGRAMME_AUDIT_TYPE  #: the audit_type of the monthly programme (a blank audit_type counts as monthly)
NO_REASON = "No reason recorded"
PAST_MONTHS = 12  #: the "past 12 months" view of the overall grade (004 3.1.1)
#: the exact Cochran–Armitage p (few events) is computed up to this many occasions; beyond, asymptotic
EXACT_MAX_OCCASIONS = 6


# --------------------------------------------------------------------------------------
# months and the programme
# --------------------------------------------------------------------------------------
def month_name(label: str) -> str:
    """``"2021-11"`` → ``"November 2021"``."""
    return parse_period(label).long_label


_and = fmt.join_and  # "a, b and c"


#: a run of at least this many consecutive months is named by its ends ("every month from July 2023 to …")
RUN_OF_MONTHS = 4


def _names(labels: list[str]) -> str:
    """``"January, May and November 2021"`` (the year once when all are in one year); runs of
    :data:`RUN_OF_MONTHS` or more consecutive months by their ends: ``"every month from July 2023 to
    September 2024 (15 months)"``."""
    ps = [parse_period(x) for x in labels]
    if not ps:
        return ""
    runs: list[list] = []
    for p in ps:
        if runs and p.kind == "month" and runs[-1][-1].shift(1).label == p.label:
            runs[-1].append(p)
        else:
            runs.append([p])
    if any(len(r) >= RUN_OF_MONTHS for r in runs):
        parts = [(f"every month from {r[0].long_label} to {r[-1].long_label} ({len(r)} months)" if len(r) >= RUN_OF_MONTHS
                  else _and([x.long_label for x in r])) for r in runs]
        return _and(parts)
    if len({p.start.year for p in ps}) == 1:
        words = [f"{p.start:%B}" for p in ps]
        words[-1] += f" {ps[-1].start.year}"
    else:
        words = [p.long_label for p in ps]
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def months(ds: Dataset) -> list[str]:
    """The report's columns: a quarter's three months, or a month with its ``history_periods`` months before."""
    if ds.period.kind == "quarter":
        return [m.label for m in ds.period.months()]
    return [p.label for p in ds.period.history(ds.params.history_periods)]


def _month_before(label: str) -> str:
    return parse_period(label).shift(-1).label


def _audit_type(a: pd.DataFrame) -> pd.Series:
    return audit_types(a)


def programme_audits(ds: Dataset) -> pd.DataFrame:
    """Audits of the monthly programme (blank or ``monthly`` audit_type, plus ``params.pool_audit_types``):
    ``ds.audits``, since the others are set aside at load (:attr:`Dataset.other_audits`)."""
    pooled = {MONTHLY} | {str(t).strip().lower() for t in (ds.params.pool_audit_types or [])}
    a = ds.audits
    return a[_audit_type(a).isin(pooled)]


def _ratings(ds: Dataset, month_labels: list[str], *, role: str = "auditor") -> pd.DataFrame:
    ids = programme_audits(ds)["audit_id"]
    r = ds.ratings
    return r[r["month"].isin(month_labels) & r["audit_id"].isin(ids) & (r["role"] == role)].drop_duplicates(
        ["audit_id", "domain"])


def _audits_per_month(ds: Dataset, month_labels: list[str]) -> pd.Series:
    a = programme_audits(ds)
    return a[a["month"].isin(month_labels)].groupby("month").size().reindex(month_labels, fill_value=0)


def _allocations(ds: Dataset, month_labels: list[str]) -> pd.DataFrame:
    a = ds.allocations
    return a[a["month_label"].isin(month_labels)]


def shown_months(ds: Dataset) -> list[str]:
    """The report's months that have audits or allocations (the others are named by :func:`empty_months_note`)."""
    m = months(ds)
    audits = _audits_per_month(ds, m)
    allocated = _allocations(ds, m).groupby("month_label").size().reindex(m, fill_value=0)
    return [x for x in m if audits[x] > 0 or allocated[x] > 0]


def empty_months_note(ds: Dataset) -> str:
    """The one note naming the report's months with no audits and no allocations ("" when none)."""
    gone = [m for m in months(ds) if m not in shown_months(ds)]
    if not gone:
        return ""
    return (f"No audits or allocations were recorded in {_names(gone)}; "
            f"{'that month is' if len(gone) == 1 else 'those months are'} left out of the tables.")


def scale_note(ds: Dataset) -> str:
    """What the scale allows: with two grades the "RI" column would repeat G/O, so it is said so."""
    grades = list(ds.scale.grades)
    k = len(ds.scale.good_grades)
    if len(grades) - k < 2:
        return (f"The grade scale has {len(grades)} grades ({', '.join(grades)}), so every audit is either "
                f"{' or '.join(grades[:k])} or not: the second column ({grades[k]}) is 100% minus G/O and the "
                "Outstanding / Requires improvement / Inadequate breakdowns need a four-grade scale.")
    return ""


def _next_grade(ds: Dataset) -> str:
    """The grade just below the good ones ("Requires improvement" on the Ofsted scale)."""
    return list(ds.scale.grades)[len(ds.scale.good_grades)]


# --------------------------------------------------------------------------------------
# 1. context and sampling
# --------------------------------------------------------------------------------------
def _returns(ds: Dataset, month_labels: list[str]) -> pd.DataFrame:
    """:func:`qa_lib.sections.returns.monthly` for the given months (any kind of period)."""
    periods = sorted({(parse_period(m) if ds.period.kind == "month" else Period.containing(parse_period(m).start)).label
                      for m in month_labels})
    out = returns.monthly(ds, periods=periods)
    return out.reindex([m for m in month_labels if m in out.index])


def _cohorts(ds: Dataset, month_labels: list[str]) -> pd.Series:
    a = programme_audits(ds)
    a = a[a["month"].isin(month_labels)]
    if "cohort" not in a.columns or a["cohort"].isna().all():
        return pd.Series("", index=month_labels, dtype="string")

    def theme(s: pd.Series) -> str:
        counts = s.dropna().value_counts()
        return "; ".join(f"{c} ({k} of {len(s)})" if len(counts) > 1 else str(c) for c, k in counts.items())
    return a.groupby("month")["cohort"].agg(theme).reindex(month_labels).fillna("")


def context(ds: Dataset) -> pd.DataFrame:
    """Context and sampling, one row per month (004 section 1): audits distributed (allocated − exempt),
    returned, % returned against the target, exemptions, and the month's cohort theme."""
    m = shown_months(ds)
    r = _returns(ds, m)
    if r.empty:
        return pd.DataFrame()
    out = pd.DataFrame(index=pd.Index(r.index, name="month"))
    out["allocated"] = r["allocated"]
    out["exempt"] = r["exempt"]
    out["distributed"] = r["allocated"] - r["exempt"]
    out["returned"] = r["returned"]
    out["return_rate"] = r["return_rate"]
    out["return_rate_low_share"], out["return_rate_high_share"] = r["ci_low"], r["ci_high"]
    out["target"] = float(ds.params.return_target)
    out["met_target"] = out["return_rate"] >= out["target"]
    out["cohort"] = _cohorts(ds, m).reindex(out.index).fillna("")
    return out


def sampling_rules(ds: Dataset) -> list[str]:
    """The sampling rules, each checked against the data: one case per practitioner, the 6-month
    exclusion, and each month's cohort theme (from the cohort of that month's audits)."""
    m = shown_months(ds)
    a = programme_audits(ds)
    now = a[a["month"].isin(m)]
    out = []
    if "practitioner_id" in now.columns and now["practitioner_id"].notna().any():
        per = now.dropna(subset=["practitioner_id"]).groupby(["month", "practitioner_id"]).size()
        twice = per[per > 1]
        if twice.empty:
            out.append("One case per practitioner: held in every month (checked on the audits' practitioner ids), "
                       "so the widest number of staff are offered an audit consultation.")
        else:
            where = twice.groupby(level=0).size()
            out.append("One case per practitioner: not held in " + "; ".join(
                f"{month_name(k)} ({v} practitioner(s) with more than one case audited)" for k, v in where.items()) + ".")
    else:
        out.append("One case per practitioner: cannot be checked (the audits have no practitioner_id column).")
    dated = ds.audits.dropna(subset=["case_id", "audit_date"]).sort_values("audit_date")
    gaps = dated.groupby("case_id")["audit_date"].diff().dropna()
    repeat = dated.loc[gaps.index][gaps < pd.Timedelta(days=183)]
    repeat = repeat[repeat["month"].isin(m)]
    first, last = ds.audits["audit_date"].min(), ds.audits["audit_date"].max()
    span = f"{fmt.date(first)} to {fmt.date(last)}" if pd.notna(first) else "no dates"
    if repeat.empty:
        out.append(f"6-month exclusion: no case file audited in these months had been audited in the 6 months before "
                   f"(checked against every audit supplied, {span}).")
    else:
        out.append(f"6-month exclusion: {len(repeat)} case file(s) audited in these months had been audited less than "
                   "6 months before.")
    for month, theme in _cohorts(ds, m).items():
        if theme:
            out.append(f"{month_name(month)} cohort: {theme}.")
    return out


# --------------------------------------------------------------------------------------
# 2.1 compliance
# --------------------------------------------------------------------------------------
def _due_returned(ds: Dataset, month: str) -> tuple[int, int]:
    a = _allocations(ds, [month])
    return int((a["status"] == "returned").sum()), int((a["status"] != "exempt").sum())


def compliance(ds: Dataset) -> pd.DataFrame:
    """Per month: the service areas at 100% returns, and the return rate against the month before,
    with its raw direction, size and test (:func:`qa_lib.sections.change.describe_comparison`)."""
    m = shown_months(ds)
    a = _allocations(ds, m)
    rows = []
    for month in m:
        x = a[a["month_label"] == month]
        st = pd.crosstab(x["service_area"], x["status"]).reindex(columns=["returned", "not returned", "exempt"],
                                                                  fill_value=0)
        due = st["returned"] + st["not returned"]
        full = [str(s) for s in st.index if due[s] > 0 and st.loc[s, "returned"] == due[s]]
        ret, n = _due_returned(ds, month)
        prev = _month_before(month)
        pret, pn = _due_returned(ds, prev)
        rows.append({"month": month, "returned": ret, "distributed": n, "return_rate": ret / n if n else math.nan,
                     "areas_at_100": ", ".join(full) if full else "none", "previous_month": prev,
                     "previous_returned": pret, "previous_distributed": pn,
                     "previous_return_rate": pret / pn if pn else math.nan,
                     "change_points": (ret / n - pret / pn) * 100 if n and pn else math.nan,
                     "against_previous_month": change.describe_comparison(ret, n, pret, pn)})
    return pd.DataFrame(rows).set_index("month") if rows else pd.DataFrame()


def compliance_sentences(ds: Dataset, table: pd.DataFrame | None = None) -> list[str]:
    """004 section 2.1 in words: the return rate against the target and the month before; areas at 100%.

    ``table``: the published view of :func:`compliance` (``Report.view``); a month whose figures it hides is
    said to be suppressed instead of quoted."""
    c = compliance(ds) if table is None else table
    target = fmt.pct(ds.params.return_target)
    out = []
    for month, r in c.iterrows():
        name = month_name(month)
        if _hidden(r["returned"], r["distributed"], r["previous_returned"], r["previous_distributed"]):
            out.append(f"{name}: return rate {SUPPRESSED}.")
            continue
        if r["distributed"] == 0:
            out.append(f"{name}: no audits were distributed.")
            continue
        # the rates from the counts the table shows (a published table may hide a rate column it cannot pair)
        now = int(r["returned"]) / int(r["distributed"])
        then = int(r["previous_returned"]) / int(r["previous_distributed"]) if int(r["previous_distributed"]) else math.nan
        rate = f"{fmt.pct(now)} ({_count(ds, r['returned'])} of {_count(ds, r['distributed'])})"
        vs = "above" if now > ds.params.return_target else "at" if now == ds.params.return_target else "below"
        before = r["against_previous_month"]
        prev = month_name(r["previous_month"])
        if _hidden(before):
            out.append(f"{name}: {rate} of audits returned, {vs} the {target} target; against {prev}: {SUPPRESSED}.")
        elif before == change.NO_EARLIER:
            out.append(f"{name}: {rate} of audits returned, {vs} the {target} target; against {prev}: {before}.")
        else:
            out.append(f"{name}: {rate} of audits returned, {vs} the {target} target; against {prev} "
                       f"({fmt.pct(then)}): {before}.")
        areas = r["areas_at_100"]
        out.append(f"{_and(areas.split(', '))} completed 100% audit returns in {name}." if areas != "none" else
                   f"No service area completed 100% audit returns in {name}.")
    return out


# --------------------------------------------------------------------------------------
# 2.2 participation
# --------------------------------------------------------------------------------------
def participation(ds: Dataset) -> pd.DataFrame:
    """Practitioner participation by month with the most common reason(s) for not taking part (ties all named)."""
    m = shown_months(ds)
    r = _returns(ds, m)
    a = _allocations(ds, m)
    no = a[(a["status"] == "returned") & (a["practitioner_took_part"] == False)]  # noqa: E712
    reasons = no.assign(reason=no["reason"].fillna(NO_REASON).replace("", NO_REASON))
    rows = []
    for month in r.index:
        counts = reasons[reasons["month_label"] == month]["reason"].value_counts()
        top = [str(k) for k, v in counts.items() if v == counts.max()] if len(counts) else []
        rows.append({"month": month, "took_part": int(r.loc[month, "took_part"]), "recorded": int(r.loc[month, "recorded"]),
                     "participation_rate": r.loc[month, "participation_rate"],
                     "did_not_take_part": int(counts.sum()),
                     "most_common_reasons": "; ".join(top), "most_common_count": int(counts.max()) if len(counts) else 0})
    return pd.DataFrame(rows).set_index("month") if rows else pd.DataFrame()


def participation_sentences(ds: Dataset, table: pd.DataFrame | None = None) -> list[str]:
    """"The percentage of social workers engaged in audit for October 2021 was 55.3% (21 of 38) …".

    ``table``: the published view of :func:`participation`; hidden figures are not quoted."""
    out = []
    for month, r in (participation(ds) if table is None else table).iterrows():
        if _hidden(r["took_part"], r["recorded"], r["participation_rate"]):
            out.append(f"{month_name(month)}: participation {SUPPRESSED}.")
            continue
        if r["recorded"] == 0:
            out.append(f"{month_name(month)}: participation was not recorded.")
            continue
        text = (f"The percentage of practitioners engaged in audit for {month_name(month)} was "
                f"{fmt.pct(r['participation_rate'], 1)} ({_count(ds, r['took_part'])} of {_count(ds, r['recorded'])} returned audits)")
        reasons = r["most_common_reasons"]
        if reasons and not _hidden(reasons, r["most_common_count"], r["did_not_take_part"]):
            many = ";" in reasons
            listed = _and(reasons.split("; "))
            text += (f", with the most common reason{'s' if many else ''} for non-participation "
                     f"{'being' if not many else 'being'} {listed.lower() if listed != NO_REASON else 'no reason recorded'} "
                     f"({_count(ds, r['most_common_count'])} {'each' if many else ''} of "
                     f"{_count(ds, r['did_not_take_part'])})".replace("  ", " "))
        out.append(text + ".")
    return out


# --------------------------------------------------------------------------------------
# 2.3 moderation
# --------------------------------------------------------------------------------------
def _pairs(ds: Dataset, month_labels: list[str]) -> pd.DataFrame:
    periods = sorted(set(ds.audits.loc[ds.audits["month"].isin(month_labels), "period"].dropna()))
    p = tables.moderation_pairs(ds, periods=periods or [ds.period.label])
    ids = programme_audits(ds)["audit_id"]
    return p[(p["domain"] == "Overall") & p["month"].isin(month_labels) & p["audit_id"].isin(ids)]


def moderation(ds: Dataset) -> pd.DataFrame:
    """Moderation of the overall grade, months as columns: audits returned, moderated, same grade,
    downgraded, upgraded, then only the moves "X → Y" that occurred in some month (no rows of zeros).

    Rows are labelled as :func:`qa_lib.sections.tables.moderation_outcomes` labels them, so disclosure
    control sees Moderated = Same grade + Downgraded + Upgraded and Downgraded = the sum of its moves.
    """
    m = shown_months(ds)
    pairs = _pairs(ds, m)
    per = _audits_per_month(ds, m)
    grades = list(ds.scale.grades)
    moves = pairs[pairs["change"] != "same"].groupby(["auditor_grade", "moderator_grade", "month"], observed=True).size()
    seen = sorted({(f, t) for f, t, _ in moves.index},
                  key=lambda ft: (grades.index(ft[0]) > grades.index(ft[1]), grades.index(ft[0]), grades.index(ft[1])))
    rows: dict[str, list[int]] = {"Audits returned": [], "Moderated": [], "Same grade": [], "Downgraded": [],
                                  "Upgraded": []}
    labels = {ft: f"{'Downgraded' if grades.index(ft[1]) > grades.index(ft[0]) else 'Upgraded'} {ft[0]} → {ft[1]}"
              for ft in seen}
    for ft in seen:
        rows[labels[ft]] = []
    for month in m:
        p = pairs[pairs["month"] == month]
        rows["Audits returned"].append(int(per[month]))
        rows["Moderated"].append(len(p))
        for word, key in (("Same grade", "same"), ("Downgraded", "downgraded"), ("Upgraded", "upgraded")):
            rows[word].append(int((p["change"] == key).sum()))
        for ft in seen:
            rows[labels[ft]].append(int(moves.get((ft[0], ft[1], month), 0)))
    out = pd.DataFrame(rows, index=m).T.astype("int64")
    out.index.name = "outcome"
    out.columns.name = None
    return out


def _published(ds: Dataset) -> bool:
    return ds.params.audience == "published"


def _hidden(*values) -> bool:
    """True when any value is missing: in a published report's view of a table (``Report.view``) the cells
    disclosure control hides are missing, and a sentence must not say what its table hides."""
    return any(v is None or (not isinstance(v, str) and pd.isna(v)) for v in values)


SUPPRESSED = "figures suppressed in the published version (see the table)"


def _count(ds: Dataset, k: int) -> str:
    """A count as a sentence prints it: in a published report 1 to threshold − 1 reads "fewer than 5"."""
    k = int(k)
    if ds.params.audience == "published" and 0 < k < int(ds.params.suppression["threshold"]):
        return f"fewer than {int(ds.params.suppression['threshold'])}"
    return fmt.count(k)


def _direction(pairs: pd.DataFrame, ds: Dataset) -> str:
    t = tables.confusion(pairs, ds)
    down = int(np.triu(t.to_numpy(), 1).sum())
    up = int(np.tril(t.to_numpy(), -1).sum())
    n = len(pairs)
    if n == 0:
        return "no audits were moderated"
    if down + up == 0:
        return f"moderators kept all {n} grades: no direction to test"
    res = mcnemar(t.to_numpy(), exact=True, categories=list(ds.scale.grades))
    p = fmt.pvalue(res.pvalue)
    head = f"moderators lowered {_count(ds, down)} of {_count(ds, n)} grades and raised {_count(ds, up)}"
    if _published(ds):  # counts only in the (suppressed) table: a sentence's counts could undo its suppression
        head = ("moderators lowered more grades than they raised" if down > up else
                "moderators raised more grades than they lowered" if up > down else
                "moderators lowered as many grades as they raised")
        if res.pvalue < change.ALPHA:
            return f"{head}: auditors graded {'more generously' if down > up else 'more harshly'} than moderators ({p}, exact sign test)"
        return f"{head}, too few or too even to show a direction ({p}, exact sign test)"
    if res.pvalue < change.ALPHA:
        who = "more generously" if down > up else "more harshly"
        return f"{head}: auditors graded {who} than moderators ({p}, exact sign test on the {_count(ds, down + up)} changes)"
    return (f"{head}: too few changes, or too even, to show a direction ({p}, exact sign test on the "
            f"{_count(ds, down + up)} changes)")


def moderation_sentences(ds: Dataset, table: pd.DataFrame | None = None) -> list[str]:
    """Per month: "15 of 38 audits were moderated; 12 kept the same grade; …; moderators lowered 3 of 15 …".

    ``table``: the published view of :func:`moderation`. A published sentence quotes no outcome count, and
    tests a month's direction only where the table shows its downgraded and upgraded counts (the exact p
    would otherwise tell what the table hides)."""
    m = shown_months(ds)
    pairs = _pairs(ds, m)
    per = _audits_per_month(ds, m)
    out = []
    mod = moderation(ds) if table is None else table
    shown_moves = True
    for month in m:
        p = pairs[pairs["month"] == month]
        if per[month] == 0:
            continue
        col = mod[month]
        if _hidden(col["Audits returned"], col["Moderated"]):
            out.append(f"{month_name(month)}: moderation {SUPPRESSED}.")
            shown_moves = False
            continue
        if p.empty:
            out.append(f"{month_name(month)}: none of the {_count(ds, per[month])} audits was moderated.")
            continue
        if _published(ds):
            text = f"{month_name(month)}: {_count(ds, len(p))} of {_count(ds, per[month])} audits were moderated (outcomes in the table). "
        else:
            moves = [f"{_count(ds, k)} {o[0].lower() + o[1:]}" for o, k in col.items() if " → " in o and k > 0]
            text = (f"{month_name(month)}: {_count(ds, len(p))} of {_count(ds, per[month])} audits were moderated; "
                    f"{_count(ds, col['Same grade'])} kept the same grade"
                    + (f"; {'; '.join(moves)}" if moves else "; none was downgraded or upgraded") + ". ")
        if _hidden(col["Downgraded"], col["Upgraded"]):
            shown_moves = False
            out.append(text + "The direction of the changes is not tested here: its counts are suppressed.")
            continue
        direction = _direction(p, ds)
        out.append(text + direction[0].upper() + direction[1:] + ".")
    if len(pairs) and shown_moves:
        out.append("Across the months shown, " + _direction(pairs, ds) + ".")
    return out


# --------------------------------------------------------------------------------------
# 3.1.1 overall grades
# --------------------------------------------------------------------------------------
def overall_by_month(ds: Dataset, month_labels: list[str] | None = None) -> pd.DataFrame:
    """Overall grade counts per month (auditor grades), months with no graded audits left out."""
    m = month_labels or shown_months(ds)
    g = _ratings(ds, m)
    g = g[g["domain"] == "Overall"]
    out = tables.grade_counts(g.assign(month=pd.Categorical(g["month"], categories=m, ordered=True)), ds, by="month",
                              totals=False)
    return out[out["n"] > 0]


@dataclass(frozen=True)
class PastMonths:
    """The "past 12 months" view: an SPC p chart at ``SPC_MIN_POINTS`` months with audits, else a run chart.

    ``frame`` has ``good_or_better``, ``n`` and ``good_or_better_share`` per month with audits;
    ``spc`` is the :func:`qa_lib.stats.trend.spc` frame when drawn as SPC; ``reason`` says why it is a
    run chart; ``left_out`` the months with no audits (named once, not plotted).
    """

    measure: str
    frame: pd.DataFrame
    spc: pd.DataFrame | None
    summary: SPCSummary | None
    reason: str
    left_out: tuple[str, ...] = field(default_factory=tuple)

    @property
    def is_spc(self) -> bool:
        return self.spc is not None

    @property
    def reading(self) -> str:
        gap = (f" Months with no audits, not plotted: {_names(list(self.left_out))}." if self.left_out else "")
        if self.summary is not None:
            return f"{self.measure}: {self.summary.reading}{gap}"
        return self.reason + gap


def past_months(ds: Dataset) -> PastMonths:
    """% Good or better (overall grade) over the :data:`PAST_MONTHS` months ending with the report's last month."""
    last = parse_period(months(ds)[-1])
    window = [last.shift(-i).label for i in range(PAST_MONTHS - 1, -1, -1)]
    g = _ratings(ds, window)
    g = g[g["domain"] == "Overall"]
    by = g.assign(good=g["grade"].isin(set(ds.scale.good_grades))).groupby("month")["good"].agg(["sum", "size"])
    by = by.reindex(window, fill_value=0)
    have = by["size"] > 0
    gone = tuple(str(x) for x in by.index[~have])
    by = by[have]
    frame = pd.DataFrame({"good_or_better": by["sum"].astype(int), "n": by["size"].astype(int)}, index=by.index)
    frame["good_or_better_share"] = frame["good_or_better"] / frame["n"]
    frame.index.name = "month"
    measure = f"Monthly % Good or better, past {len(window)} months"
    if len(frame) >= change.SPC_MIN_POINTS:
        s = spc(frame["good_or_better"], denominators=frame["n"], chart="p", improvement="increase")
        return PastMonths(measure, frame, s, spc_summary(s), "", gone)
    reason = (f"Run chart, not SPC: only {len(frame)} of the past {len(window)} months had audits, and a Making Data "
              f"Count chart needs at least {change.SPC_MIN_POINTS} monthly points to set its limits.")
    return PastMonths(measure, frame, None, None, reason, gone)


# --------------------------------------------------------------------------------------
# grade by service area
# --------------------------------------------------------------------------------------
def _abbreviations(grades: list[str]) -> list[str]:
    short = ["".join(w[0] for w in g.replace("-", " ").split()).upper() for g in grades]
    return short if len(set(short)) == len(short) else list(grades)


def grade_by_service_area(ds: Dataset) -> pd.DataFrame:
    """Overall grade by service area over the report's months, as 004 prints it: O, G, RI, I, ALL, TOTAL row."""
    m = shown_months(ds)
    g = _ratings(ds, m)
    g = g[g["domain"] == "Overall"].dropna(subset=["service_area"])
    if g.empty:
        return pd.DataFrame()
    grades = list(ds.scale.grades)
    t = tables.grade_counts(g, ds, by="service_area")
    out = t[grades].copy()
    out.columns = _abbreviations(grades)
    out["ALL"] = t["n"]
    out = out.rename(index={tables.TOTAL: "TOTAL"})
    out.index.name = "Grade by service area"
    return out


# --------------------------------------------------------------------------------------
# 3.1.2 performance areas
# --------------------------------------------------------------------------------------
def _arrow(now: float, before: float) -> str:
    if not (math.isfinite(now) and math.isfinite(before)):
        return ""
    return "↑" if now > before else "↓" if now < before else "="


def performance_areas(ds: Dataset) -> pd.DataFrame:
    """See :func:`_performance_areas` (computed once per dataset)."""
    return tables.cached(ds, ("highlight.performance_areas",), lambda: _performance_areas(ds))


def _performance_areas(ds: Dataset) -> pd.DataFrame:
    """One row per practice domain and month: G/O and the next grade (RI) with counts, n, shares, the
    raw arrow against the month before and the tested reading (BH across the domains of the month).

    The month before the first column is included (``shown = False``) when it has audits, so the first
    month's arrows have something to compare with, as 004 shows September beside October.
    """
    m = shown_months(ds)
    if not m:
        return pd.DataFrame()
    before = _month_before(m[0])
    # the month before that too, so the comparison column's own reading compares real months (never a false
    # "no earlier data to compare" for a month that has it)
    g = _ratings(ds, [_month_before(before), before, *m])
    g = g[g["domain"] != "Overall"]
    cols = [before, *m] if (g["month"] == before).any() else list(m)
    g = g[g["month"].isin(cols) | (g["month"] == _month_before(cols[0]))]
    good = set(ds.scale.good_grades)
    ri = _next_grade(ds)
    counts = g.assign(go=g["grade"].isin(good), ri=g["grade"] == ri).groupby(["domain", "month"]).agg(
        n=("grade", "size"), go=("go", "sum"), ri=("ri", "sum"))
    domains = [d for d in ds.domains if d in counts.index.get_level_values(0)]
    rows = []
    for d in domains:
        for k, month in enumerate(cols):
            n, x, y = (int(counts.loc[(d, month), c]) if (d, month) in counts.index else 0 for c in ("n", "go", "ri"))
            prev = cols[k - 1] if k else _month_before(month)
            pn, px, py = (int(counts.loc[(d, prev), c]) if (d, prev) in counts.index else 0 for c in ("n", "go", "ri"))
            for measure, xe, pe in (("G/O", x, px), (_short(ri), y, py)):
                share = xe / n if n else math.nan
                pshare = pe / pn if pn else math.nan
                res = compare_two(xe, n, pe, pn) if n and pn else None
                rows.append({"domain": d, "month": month, "shown": month in m, "measure": measure, "count": xe,
                             "n": n, "share": share, "previous_month": prev, "previous_count": pe, "previous_n": pn,
                             "previous_share": pshare, "arrow": _arrow(share, pshare),
                             "difference_points": (share - pshare) * 100 if res else math.nan,
                             "p_value": res.pvalue if res else math.nan})
    if not rows:  # no domain graded in these months (only Overall)
        return pd.DataFrame()
    out = pd.DataFrame(rows)
    out["q_value"] = math.nan
    for _group, idx in out.groupby(["month", "measure"]).groups.items():
        p = out.loc[idx, "p_value"]
        ok = p.notna()
        if ok.any():
            out.loc[p[ok].index, "q_value"] = adjust(p[ok].astype(float), method="fdr_bh")
    k_by = out.groupby(["month", "measure"])["p_value"].transform(lambda s: int(s.notna().sum()))
    out["reading"] = [change.describe_comparison(r["count"], r["n"], r["previous_count"], r["previous_n"], q=r["q_value"],
                                                 k=int(k), what="areas")
                      for (_, r), k in zip(out.iterrows(), k_by)]
    return out.set_index(["domain", "month", "measure"])


def _short(grade: str) -> str:
    return _abbreviations([grade])[0] if grade == "Requires improvement" else grade


def performance_display(ds: Dataset, table: pd.DataFrame | None = None) -> pd.DataFrame:
    """The 004 layout: rows = domains, columns = month × (G/O, RI), cells "43% ↓ (16 of 37)".

    ``table``: the published view of :func:`performance_areas`; a cell whose count, n or share it hides
    shows the suppression symbol, arrow included (the arrow compares hidden shares)."""
    p = performance_areas(ds) if table is None else table
    if p.empty:
        return p
    p = p.reset_index()
    symbol = str(ds.params.suppression["symbol"])

    def cell(r) -> str:
        arrow = r["arrow"] if r["shown"] in (True, 1) else ""  # the comparison month is shown as 004 shows it, without arrows
        if _hidden(r["count"], r["n"], r["share"]) or (arrow and _hidden(r["previous_count"], r["previous_n"])):
            return symbol
        if r["n"] == 0:
            return "–"
        return f"{fmt.pct(r['share'])}{(' ' + arrow) if arrow else ''} ({int(r['count'])} of {int(r['n'])})"
    p["cell"] = [cell(r) for _, r in p.iterrows()]
    p["column"] = [f"{parse_period(mo).start:%b %Y} {me}" for mo, me in zip(p["month"], p["measure"])]
    order = list(dict.fromkeys(p["column"]))
    out = p.pivot(index="domain", columns="column", values="cell").reindex(columns=order)
    out = out.reindex([d for d in ds.domains if d in out.index])
    out.index.name = "Performance area"
    out.columns.name = None
    return out


# --------------------------------------------------------------------------------------
# 3.1.3 cohort comparators
# --------------------------------------------------------------------------------------
def cohort_comparators(ds: Dataset) -> pd.DataFrame:
    """See :func:`_cohort_comparators` (computed once per dataset)."""
    return tables.cached(ds, ("highlight.cohort_comparators",), lambda: _cohort_comparators(ds))


def _cohort_comparators(ds: Dataset) -> pd.DataFrame:
    """For each cohort audited in the report's months: its occasions (months with audits of it) over the
    past ``comparator_months``, by domain: G/O count, n, share with its Wilson 95% interval; then the
    first-vs-latest change (tested, BH across the domains) and a Cochran–Armitage trend over the
    occasions (months as scores, exact p when few events)."""
    m = shown_months(ds)
    a = programme_audits(ds)
    if "cohort" not in a.columns:
        return pd.DataFrame()
    cohorts = [c for c in a.loc[a["month"].isin(m), "cohort"].dropna().unique()]
    last = parse_period(m[-1]) if m else ds.period
    window = [last.shift(-i).label for i in range(int(ds.params.comparator_months) + len(m) - 1, -1, -1)]
    r = _ratings(ds, window)
    r = r[r["cohort"].isin(cohorts)]
    counts = r.assign(go=r["grade"].isin(set(ds.scale.good_grades))).groupby(["cohort", "domain", "month"])["go"].agg(
        ["sum", "size"])
    rows = []
    for cohort in cohorts:
        if cohort not in counts.index.get_level_values(0):
            continue
        cc = counts.loc[cohort]
        occ = [x for x in window if x in set(cc.index.get_level_values(1))]
        present = set(cc.index.get_level_values(0))
        for d in ["Overall", *[x for x in ds.domains if x in present]]:
            for month in occ:
                x, n = (int(cc.loc[(d, month), "sum"]), int(cc.loc[(d, month), "size"])) if (d, month) in cc.index else (0, 0)
                rows.append({"cohort": cohort, "domain": d, "occasion": month,
                             "good_or_better": x, "n": n, "good_or_better_share": x / n if n else math.nan})
    out = pd.DataFrame(rows)
    if len(out):
        lo, hi = proportion_ci(out["good_or_better"].to_numpy(), out["n"].to_numpy())
        # named after their ratio, so disclosure control hides a share and its range exactly where its counts are
        out["good_or_better_low_share"] = np.where(out["n"] > 0, lo, np.nan)
        out["good_or_better_high_share"] = np.where(out["n"] > 0, hi, np.nan)
    if out.empty:
        return out
    return out.set_index(["cohort", "domain", "occasion"])


def cohort_changes(ds: Dataset) -> pd.DataFrame:
    """See :func:`_cohort_changes` (computed once per dataset)."""
    return tables.cached(ds, ("highlight.cohort_changes",), lambda: _cohort_changes(ds))


def _cohort_changes(ds: Dataset) -> pd.DataFrame:
    """Per cohort and domain: first vs latest occasion (difference, Newcombe interval, p, BH q across the
    cohort's domains) and the trend over all occasions (Cochran–Armitage, month number as score)."""
    c = cohort_comparators(ds)
    if c.empty:
        return pd.DataFrame()
    rows = []
    for (cohort, d), g in c.groupby(level=[0, 1], sort=False):
        g = g.reset_index()
        used = g[g["n"] > 0]
        first, latest = used.iloc[0], used.iloc[-1]
        # the counts behind the two shares are printed beside them, so disclosure control (the pack) can hide
        # a share with its counts; n_occasions is the number of months, not of audits
        row = {"cohort": cohort, "domain": d, "occasions": _names(list(used["occasion"])), "n_occasions": len(used),
               "first": first["occasion"], "latest": latest["occasion"],
               "first_good_or_better": int(first["good_or_better"]), "first_n": int(first["n"]),
               "latest_good_or_better": int(latest["good_or_better"]), "latest_n": int(latest["n"]),
               "first_share": first["good_or_better_share"], "latest_share": latest["good_or_better_share"]}
        if len(used) >= 2:
            res = compare_two(int(latest["good_or_better"]), int(latest["n"]), int(first["good_or_better"]), int(first["n"]))
            row.update(difference_points=res.extra["difference"] * 100, difference_low=res.extra["diff_ci_low"] * 100,
                       difference_high=res.extra["diff_ci_high"] * 100, p_value=res.pvalue)
            ev, tot = used["good_or_better"].to_numpy(), used["n"].to_numpy()
            # months since the first occasion (the test is unchanged by shifting scores; small scores keep the
            # exact permutation distribution small)
            month_no = [parse_period(x).start.year * 12 + parse_period(x).start.month for x in used["occasion"]]
            scores = [x - month_no[0] for x in month_no]
            few = min(ev.sum(), (tot - ev).sum()) < change.EXACT_BELOW
            exact = bool(few) and len(used) <= EXACT_MAX_OCCASIONS
            tr = cochran_armitage(ev, tot, scores=scores, exact=exact)
            row.update(trend_p=tr.pvalue, trend_z=tr.extra.get("z", math.nan),
                       trend_method="Cochran–Armitage, month as score" + (", exact p" if exact else (
                           f", asymptotic p (exact skipped: more than {EXACT_MAX_OCCASIONS} occasions)" if few else "")))
        else:
            row.update(difference_points=math.nan, difference_low=math.nan, difference_high=math.nan, p_value=math.nan,
                       trend_p=math.nan, trend_z=math.nan, trend_method=change.NO_EARLIER)
        rows.append(row)
    out = pd.DataFrame(rows)
    out["q_value"] = math.nan
    for _cohort, idx in out.groupby("cohort").groups.items():
        sub = out.loc[idx]
        sub = sub[(sub["domain"] != "Overall") & sub["p_value"].notna()]
        if len(sub):
            out.loc[sub.index, "q_value"] = adjust(sub["p_value"].astype(float), method="fdr_bh")
    out.loc[out["domain"] == "Overall", "q_value"] = out.loc[out["domain"] == "Overall", "p_value"]
    return out.set_index(["cohort", "domain"])


def cohort_sentences(ds: Dataset, table: pd.DataFrame | None = None) -> list[str]:
    """Per cohort: when it was audited, which areas improved and declined (first vs latest), tested.

    ``table``: the published view of :func:`cohort_changes`; areas whose figures it hides are left out
    and said to be."""
    ch = cohort_changes(ds) if table is None else table
    out = []
    if ch.empty:
        return out
    for cohort, g in ch.groupby(level=0, sort=False):
        g = g.droplevel(0)
        overall = g.loc["Overall"] if "Overall" in g.index else g.iloc[0]
        if overall["n_occasions"] < 2:
            out.append(f"{cohort}: audited in {_names([overall['latest']])} only in the past "
                       f"{ds.params.comparator_months} months: {change.NO_EARLIER}.")
            continue
        dom = g.drop(index="Overall", errors="ignore")
        dom = dom[[not _hidden(a, b, c) for a, b, c in zip(dom["difference_points"], dom["q_value"], dom["p_value"])]]
        dom = dom.assign(difference_points=pd.to_numeric(dom["difference_points"]),
                         q_value=pd.to_numeric(dom["q_value"]))
        gone = len(g.drop(index="Overall", errors="ignore")) - len(dom)
        up = dom[dom["difference_points"] > 0]
        down = dom[dom["difference_points"] < 0]
        real_up = up[up["q_value"] < change.ALPHA]
        real_down = down[down["q_value"] < change.ALPHA]
        first, latest = month_name(overall["first"]), month_name(overall["latest"])
        # "rose in 5 areas … of the 9 compared", never "5 of 9 areas": a published sentence's "x of n" is a count
        # of audits to disclosure control
        not_compared = (f"{gone} area(s) not compared (figures suppressed, or audited on one occasion only)"
                        if gone else "")
        if len(dom):
            text = (f"{cohort}: audited in {overall['occasions']}. Against {first}, the share graded Good or better "
                    f"in {latest} rose in {len(up)} area(s)" + (f" ({'; '.join(up.index)})" if len(up) else "")
                    + f" and fell in {len(down)}" + (f" ({'; '.join(down.index)})" if len(down) else "")
                    + f", of the {len(dom)} compared" + (f"; {not_compared}" if gone else "") + ".")
        else:
            text = (f"{cohort}: audited in {overall['occasions']}. No area compared: "
                    + (not_compared if gone else "no practice area was graded on both occasions") + ".")
        if "Overall" in g.index and not _hidden(overall["p_value"], overall["first_share"], overall["latest_share"],
                                                overall["difference_points"], overall["trend_p"]) \
                and math.isfinite(overall["p_value"]):
            text += (f" Overall grade: {fmt.pct(overall['first_share'])} → {fmt.pct(overall['latest_share'])}, "
                     f"{fmt.points(overall['difference_points'] / 100)} points (likely "
                     f"{fmt.points_range(overall['difference_low'] / 100, overall['difference_high'] / 100)}), "
                     f"{fmt.pvalue(overall['p_value'])}; trend over the {int(overall['n_occasions'])} occasions "
                     f"{fmt.pvalue(overall['trend_p'])}.")
        if not len(dom):
            pass  # nothing compared: nothing to test
        elif len(real_up) or len(real_down):
            parts = []
            if len(real_up):
                parts.append("the rise in " + "; ".join(real_up.index))
            if len(real_down):
                parts.append("the fall in " + "; ".join(real_down.index))
            text += (f" Tested across the {len(dom)} areas (Benjamini–Hochberg), " + " and ".join(parts)
                     + " is unlikely to be chance; the other changes could be chance.")
        else:
            text += (f" Tested across the {len(dom)} areas (Benjamini–Hochberg), none of these changes is "
                     "distinguishable from chance.")
        out.append(text)
    return out


# --------------------------------------------------------------------------------------
# 3.2 key themes
# --------------------------------------------------------------------------------------
def key_themes(ds: Dataset) -> pd.DataFrame:
    """See :func:`_key_themes` (computed once per dataset)."""
    return tables.cached(ds, ("highlight.key_themes",), lambda: _key_themes(ds))


def _key_themes(ds: Dataset) -> pd.DataFrame:
    """Strengths and learning per month and domain with counts and the share of that month's audits:
    from domain grades (G/O for strengths; the lower grades for learning) and from the comments'
    domain and kind (audits with such a comment, and the taxonomy theme they mention most)."""
    m = shown_months(ds)
    per = _audits_per_month(ds, m)
    g = _ratings(ds, m)
    g = g[g["domain"] != "Overall"]
    grades = list(ds.scale.grades)
    k = len(ds.scale.good_grades)
    rows = []
    for (month, d), x in g.groupby(["month", "domain"]):
        rows.append({"month": month, "domain": d, "kind": "strength", "source": "grades",
                     "what": "graded " + " or ".join(grades[:k]), "audits": int(x["grade"].isin(grades[:k]).sum()),
                     "theme": ""})
        for grade in grades[k:]:
            rows.append({"month": month, "domain": d, "kind": "learning", "source": "grades", "what": f"graded {grade}",
                         "audits": int((x["grade"] == grade).sum()), "theme": ""})
    c = ds.comments
    if len(c):
        ids = programme_audits(ds)[["audit_id", "month"]]
        c = c.merge(ids, on="audit_id", how="inner")
        c = c[c["month"].isin(m)]
        pats = themes.compile_themes(ds.params.themes)
        for (month, d, kind), x in c.groupby(["month", "domain", "kind"]):
            text = x["text"].fillna("").astype(str)
            hits = {name: int(x.loc[text.str.contains(p, regex=True), "audit_id"].nunique()) for name, p in pats.items()}
            hits = {n: v for n, v in hits.items() if v}
            top = max(hits, key=hits.get) if hits else ""
            rows.append({"month": month, "domain": d, "kind": kind, "source": "comments",
                         "what": f"{kind} comment", "audits": int(x["audit_id"].nunique()), "theme": top})
    out = pd.DataFrame(rows)
    if out.empty:
        return out
    out["audits_in_month"] = out["month"].map(per).astype("int64")
    out["share_of_audits"] = out["audits"] / out["audits_in_month"]
    order = {d: i for i, d in enumerate(ds.domains)}
    out = out.assign(_o=out["domain"].map(order).fillna(len(order)), _k=out["kind"].map({"strength": 0, "learning": 1}))
    out = out.sort_values(["month", "_k", "_o", "source"], kind="stable").drop(columns=["_o", "_k"])
    return out.set_index(["month", "kind", "domain", "what"])


def _audits_word(k) -> str:
    return "audit" if int(k) == 1 else "audits"


def key_theme_sentences(ds: Dataset, table: pd.DataFrame | None = None, *, top: int = 3) -> list[str]:
    """Per month, the strongest and weakest areas in words: "25 (66%) audits had a strength comment on …".

    Strengths: the ``top`` domains with most audits graded G/O, and the ``top`` with most audits with a
    strength comment; learning: the same below G/O and with learning comments (every area is in the table). Shares are of the month's audits. ``table``: the published view of
    :func:`key_themes`; a count it hides is not quoted (nor summed into another).
    """
    t = key_themes(ds) if table is None else table
    if t.empty:
        return []
    t = t.reset_index()
    grades = list(ds.scale.grades)
    k = len(ds.scale.good_grades)
    out = []
    for month, x in t.groupby("month", sort=True):
        name = month_name(month)
        for kind, word in (("strength", "Strengths"), ("learning", "Learning")):
            y = x[x["kind"] == kind]
            graded = y[y["source"] == "grades"]
            if kind == "learning":
                graded = graded.assign(audits=pd.to_numeric(graded["audits"]),
                                       audits_in_month=pd.to_numeric(graded["audits_in_month"]))
                graded = graded.groupby("domain", sort=False).agg(
                    audits=("audits", lambda v: v.sum(skipna=False)),
                    audits_in_month=("audits_in_month", lambda v: v.sum(skipna=False) / len(v))).reset_index()
                graded["what"] = "graded " + " or ".join(grades[k:])
            graded = graded[~graded["audits"].isna() & ~graded["audits_in_month"].isna()]
            graded = graded.sort_values("audits", ascending=False, kind="stable").head(top)
            small = int(ds.params.suppression["threshold"]) if _published(ds) else 1
            items = [f"{d}: {fmt.count(a)} ({fmt.pct(a / n)}) {_audits_word(a)} {w}" for d, a, n, w in
                     zip(graded["domain"], graded["audits"], graded["audits_in_month"], graded["what"]) if a >= small]
            com = y[(y["source"] == "comments") & ~y["audits"].isna() & ~y["audits_in_month"].isna()]
            com = com[pd.to_numeric(com["audits"]) >= small]
            com = com.sort_values("audits", ascending=False, kind="stable").head(top)  # the rest are in the table
            items += [f"{d}: {fmt.count(a)} ({fmt.pct(a / n)}) {_audits_word(a)} had a {kind} comment"
                      + (f" (most often about {th.lower()})" if th else "")
                      for d, a, n, th in zip(com["domain"], com["audits"], com["audits_in_month"], com["theme"])]
            if items:
                out.append(f"{name} – {word}: " + "; ".join(items) + ".")
    return out


# --------------------------------------------------------------------------------------
# 4. themes and actions taken forward
# --------------------------------------------------------------------------------------
def actions_note(ds: Dataset) -> str:
    """Why there is no actions table: "no actions file was given" is not "no actions were raised"."""
    if not ds.params.files("actions"):
        return ("No actions file was given (params data.actions), so actions cannot be reported; this is not the same "
                "as no actions being raised.")
    return "No actions were raised from the audits of these months (the actions file has none)."


def themes_and_actions(ds: Dataset) -> pd.DataFrame:
    """Actions raised from the audits of the report's months (by the end of the last month), grouped by
    theme (actions column ``theme``) or else domain, with their status counts."""
    m = shown_months(ds)
    if not m or not ds.params.files("actions"):
        return pd.DataFrame()
    as_of = parse_period(m[-1]).end
    a = actions.action_status(ds, as_of=as_of)
    ids = programme_audits(ds)
    ids = ids.loc[ids["month"].isin(m), "audit_id"]
    later = ds.actions[ds.actions["audit_id"].isin(ids)]
    if len(later) and a.empty:  # actions raised after the months (as 004's were, at the report date)
        a = actions.action_status(ds, as_of=later["raised_date"].max())
    a = a[a["audit_id"].isin(ids)]
    if a.empty:
        return pd.DataFrame()
    by_theme = "theme" in a.columns and a["theme"].notna().any()
    key = a["theme"] if by_theme else a["domain"]
    a = a.assign(group=key.fillna("No theme or domain recorded"))
    out = pd.crosstab(a["group"], a["status"], dropna=False).reindex(columns=list(actions.STATUSES), fill_value=0)
    out.columns = pd.Index(list(actions.STATUSES))
    out.insert(0, "actions", out.sum(axis=1))
    if by_theme and "domain" in a.columns:  # grouped by domain, the column would repeat the row's name
        out["domains"] = a.groupby("group")["domain"].agg(lambda s: "; ".join(sorted(set(s.dropna().astype(str)))))
    out.index.name = "theme" if by_theme else "domain"
    return out


# --------------------------------------------------------------------------------------
# audit types: thematic and external audits in their own section
# --------------------------------------------------------------------------------------
def other_audits(ds: Dataset) -> pd.DataFrame:
    """Thematic, external and other non-programme audits in the report's months, one row per type and
    theme, with their trigger (``params.audit_triggers[theme]``), months, overall grades and G/O share.
    They are never pooled with the monthly programme unless ``params.pool_audit_types`` names the type."""
    m = months(ds)
    a = ds.other_audits
    if a.empty:
        return pd.DataFrame()
    a = a[a["month"].isin(m)]
    if a.empty:
        return pd.DataFrame()
    a = a.assign(audit_type=_audit_type(a), theme=(a["theme"] if "theme" in a.columns else pd.NA))
    a = a.assign(theme=a["theme"].astype("string").fillna("(no theme recorded)"))
    r = ds.other_ratings
    g = r[(r["domain"] == "Overall") & r["role"].isin(["auditor"])].drop_duplicates("audit_id")
    a = a.merge(g[["audit_id", "grade"]], on="audit_id", how="left")
    triggers = {str(k).strip().lower(): v for k, v in (ds.params.audit_triggers or {}).items()}
    rows = []
    grades = list(ds.scale.grades)
    for (kind, theme), x in a.groupby(["audit_type", "theme"], sort=True):
        counts = x["grade"].value_counts().reindex(grades, fill_value=0)
        n = int(counts.sum())
        go = int(counts[list(ds.scale.good_grades)].sum())
        rows.append({"audit_type": kind, "theme": theme,
                     "trigger": triggers.get(str(theme).strip().lower(), "not recorded (add it under params audit_triggers)"),
                     "months": _names(sorted(x["month"].dropna().unique())), "audits": len(x),
                     **{g_: int(counts[g_]) for g_ in grades}, "graded": n, "good_or_better": go,
                     "good_or_better_share": go / n if n else math.nan})
    return pd.DataFrame(rows).set_index(["audit_type", "theme"])

"""Interactive explorer: filter the audits, pick a measure, see a chart and a table, compare two slices.

The explorer is the analysts' tool (SPEC "Explorer"), not a batch report. Everything it shows comes
from pure functions in this module, each testable without a browser:

==========================================  =====================================================
question                                    function
==========================================  =====================================================
which rows does this selection keep?        :func:`filter_rows`
the table for a measure, by a breakdown     :func:`measure_table`
the chart for that table                    :func:`qa_lib.present.explorer_view.measure_chart`
selection A against selection B             :func:`compare_selections`
==========================================  =====================================================

The chart, the HTML and the ipywidgets app (:class:`qa_lib.present.explorer_view.Explorer`) are in
:mod:`qa_lib.present.explorer_view`: it calls these functions when a control changes and writes the
current table to ``<output root>/exports/``. ``notebooks/explore.py`` only builds an ``Explorer`` and
displays it; ``qa_lib.running.explore_app`` serves that notebook with Voilà.

Conventions are those of the quarterly report (:mod:`qa_lib.sections.tables`):

- "Audit grade" is the auditor's grade, or a peer's where no auditor graded that audit and domain
  (:func:`qa_lib.sections.tables.audit_grades`); the other rater choices show every grade given in that role.
- Return rate = returned ÷ (allocated − exempt); allocations carry month, service area and (when
  exported) team, so the cohort, domain and rater filters do not apply to it.
- Agreement compares the auditor's and the moderator's grade of each moderated audit and domain
  (:func:`qa_lib.sections.tables.moderation_pairs`).
- Proportions carry Wilson 95% intervals (:func:`qa_lib.stats.trend.proportion_ci`); a comparison uses
  :func:`qa_lib.stats.trend.compare_two` and Newcombe's interval (:func:`qa_lib.stats.trend.difference_ci`).
- A group value that is missing (no team recorded) forms its own row, ``Not recorded``: rows are
  never dropped silently.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from qa_lib.core import fmt
from qa_lib.sections import tables
from qa_lib.inputs.data import Dataset
from qa_lib.core.errors import QAError, problem
from qa_lib.inputs.periods import parse_period
from qa_lib.stats.agreement import agreement_table
from qa_lib.stats.trend import compare_two, difference_ci, proportion_ci

__all__ = [
    "ALL", "MEASURES", "ROLES", "BREAKDOWNS", "EMPTY_MESSAGE", "NOT_RECORDED", "SOURCES", "Selection",
    "available_periods", "filter_rows", "measure_table", "measure_notes", "events", "compare_selections",
    "comparison_sentence",
]

#: value of a filter control meaning "no restriction"
ALL = ""
EMPTY_MESSAGE = "No audits match these filters."
NOT_RECORDED = "Not recorded"
MEASURES = {
    "good": "% Good or better",
    "distribution": "Grade distribution",
    "returns": "Return rate",
    "agreement": "Agreement (auditor vs moderator)",
}
ROLES = {
    "audit": "Audit grade (auditor; peer where no auditor)",
    "auditor": "Auditor",
    "moderator": "Moderator",
    "peer": "Peer",
}
BREAKDOWNS = {
    "period": "Period",
    "month": "Month",
    "service_area": "Service area",
    "team": "Team",
    "cohort": "Cohort",
    "domain": "Domain",
}
#: which source table each measure counts
SOURCES = {"good": "grades", "distribution": "grades", "returns": "allocations", "agreement": "pairs"}
_ALLOCATION_BREAKDOWNS = {"period": "period", "month": "month_label", "service_area": "service_area", "team": "team"}

_LABELS = {
    "ci_low": "95% CI low", "ci_high": "95% CI high", "events": "Events", "estimate": "Estimate",
    "agreed": "Same grade", "percent_agreement": "% agreement", "kappa": "Cohen's kappa",
    "kappa_ci_low": "Kappa 95% CI low", "kappa_ci_high": "Kappa 95% CI high", "ac1": "Gwet's AC1",
    "ac1_ci_low": "AC1 95% CI low", "ac1_ci_high": "AC1 95% CI high", "n_downgraded": "Downgraded",
    "n_upgraded": "Upgraded", "p_value": "p-value", "test": "Test", "selection": "Selection",
    "due": "Due (allocated − exempt)",
}
_PERCENT_COLUMNS = {"ci_low", "ci_high", "percent_agreement", "estimate"}


# --------------------------------------------------------------------------------------
# selections
# --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Selection:
    """What one side of the explorer is filtered to.

    Attributes
    ----------
    periods : tuple of str
        Period labels kept (``"2024-25 Q2"``), oldest first.
    service_area, team, cohort : str
        One value, or :data:`ALL` (``""``) for no restriction.
    domain : str or None
        ``"Overall"`` or a practice domain; ``None`` keeps every practice domain (used when the
        table is broken down by domain).
    role : str
        A key of :data:`ROLES`.
    """

    periods: tuple[str, ...]
    service_area: str = ALL
    team: str = ALL
    cohort: str = ALL
    domain: str | None = "Overall"
    role: str = "audit"
    #: issue 17: the rater's agency (multi-agency QA); applies to grades only
    agency: str = ALL

    def describe(self) -> str:
        """One line a reader can check: ``2024-25 Q1 to 2024-25 Q2 · Front Door · all teams · ...``."""
        if not self.periods:
            span = "no periods"
        elif len(self.periods) == 1:
            span = self.periods[0]
        else:
            span = f"{self.periods[0]} to {self.periods[-1]}"
        parts = [span, self.service_area or "all service areas", self.team or "all teams",
                 self.cohort or "all cohorts", self.domain if self.domain is not None else "every practice domain",
                 ROLES.get(self.role, self.role)]
        if self.agency:
            parts.append(f"agency {self.agency}")
        return " · ".join(parts)


def available_periods(ds: Dataset) -> list[str]:
    """Every period label from the earliest audit or allocation to the latest (and the params period).

    Periods inside that span with no data are included, so a gap shows as a row with n = 0.
    """
    labels = set(ds.audits["period"].dropna().unique().tolist()) | set(ds.allocations["period"].dropna().unique().tolist())
    labels.add(ds.period.label)
    found = sorted(parse_period(lab) for lab in labels)
    first, last = found[0], found[-1]
    out, p = [], first
    while p <= last:
        out.append(p.label)
        p = p.shift(1)
    return out


def _check_choice(value: str, choices: dict, what: str) -> None:
    if value not in choices:
        raise problem(QAError, f"explorer {what}", expected="one of " + ", ".join(map(repr, choices)),
                      received=repr(value), fix=f"pick a {what} from the list")


def _restrict(frame: pd.DataFrame, column: str, value: str) -> pd.DataFrame:
    if value == ALL:
        return frame
    if column not in frame.columns:
        return frame.iloc[0:0]
    return frame[frame[column] == value]


def filter_rows(ds: Dataset, selection: Selection, source: str) -> pd.DataFrame:
    """The rows of ``source`` that ``selection`` keeps.

    Parameters
    ----------
    ds : Dataset
    selection : Selection
    source : {"grades", "allocations", "pairs"}
        ``grades``: one grade per row (for "Audit grade", one per audit and domain, as the
        quarterly report counts them); ``allocations``: allocated audits; ``pairs``: auditor and
        moderator grade of one moderated audit and domain.

    Returns
    -------
    pandas.DataFrame
        Possibly empty. Filters a table cannot carry (cohort or domain for allocations, rater for
        pairs) are not applied to it: :func:`measure_notes` says so.
    """
    periods = list(selection.periods)
    if source == "grades":
        _check_choice(selection.role, ROLES, "rater role")
        r = ds.ratings[ds.ratings["period"].isin(periods)]
        r = r[r["domain"] != "Overall"] if selection.domain is None else r[r["domain"] == selection.domain]
        r = _restrict(r, "agency", selection.agency)  # issue 17
        if selection.role == "audit":
            r = r[r["role"].isin(["auditor", "peer"])].sort_values("role", kind="stable")
            r = r.drop_duplicates(["audit_id", "domain"], keep="first").sort_index()
        else:
            r = r[r["role"] == selection.role]
        frame = r
    elif source == "allocations":
        frame = ds.allocations[ds.allocations["period"].isin(periods)]
        frame = _restrict(frame, "service_area", selection.service_area)
        return _restrict(frame, "team", selection.team)
    elif source == "pairs":
        pairs = tables.moderation_pairs(ds, periods=periods) if periods else tables.moderation_pairs(ds).iloc[0:0]
        frame = pairs[pairs["domain"] != "Overall"] if selection.domain is None else pairs[pairs["domain"] == selection.domain]
    else:
        raise problem(QAError, "filter_rows source", expected="'grades', 'allocations' or 'pairs'", received=repr(source))
    if not periods:
        frame = frame.iloc[0:0]
    for column in ("service_area", "team", "cohort"):
        frame = _restrict(frame, column, getattr(selection, column))
    return frame


# --------------------------------------------------------------------------------------
# tables
# --------------------------------------------------------------------------------------
def _group_column(measure: str, by: str) -> str | None:
    if SOURCES[measure] == "allocations":
        return _ALLOCATION_BREAKDOWNS.get(by)
    return by


def _groups(ds: Dataset, frame: pd.DataFrame, selection: Selection, by: str, column: str) -> tuple[pd.Series, list]:
    """The group of each row (missing → Not recorded) and the group order."""
    if by == "period":
        return frame[column].astype("string"), list(selection.periods)
    if by == "month":
        months = [m.label for p in selection.periods for m in parse_period(p).months()]
        return frame[column].astype("string"), list(dict.fromkeys(months))
    values = frame[column].astype("string").fillna(NOT_RECORDED) if column in frame.columns \
        else pd.Series(NOT_RECORDED, index=frame.index, dtype="string")
    seen = values.unique().tolist()
    if by == "domain":
        order = [d for d in ds.domains if d in seen] + sorted(v for v in seen if v not in ds.domains)
    else:
        order = sorted(v for v in seen if v != NOT_RECORDED) + ([NOT_RECORDED] if NOT_RECORDED in seen else [])
    return values, order


def _with_ci(out: pd.DataFrame, x: str, n: str) -> pd.DataFrame:
    lo, hi = proportion_ci(out[x].to_numpy(dtype=float), out[n].to_numpy(dtype=float))
    out["ci_low"], out["ci_high"] = np.atleast_1d(lo), np.atleast_1d(hi)
    return out


def _empty_table(ds: Dataset, measure: str, by: str) -> pd.DataFrame:
    cols = {
        "good": ["n", "good_or_better", "good_or_better_share", "ci_low", "ci_high"],
        "distribution": [*ds.scale.grades, "n", *[f"{g}_share" for g in ds.scale.grades],
                         "good_or_better", "good_or_better_share", "ci_low", "ci_high"],
        "returns": ["allocated", "returned", "not returned", "exempt", "due", "return_rate", "ci_low", "ci_high", "target"],
        "agreement": ["n", "agreed", "percent_agreement", "ci_low", "ci_high", "kappa", "kappa_ci_low", "kappa_ci_high",
                      "ac1", "ac1_ci_low", "ac1_ci_high", "n_downgraded", "n_upgraded"],
    }[measure]
    return pd.DataFrame(columns=cols, index=pd.Index([], name=by))


def measure_table(ds: Dataset, selection: Selection, measure: str, *, by: str = "period") -> pd.DataFrame:
    """The explorer's table: one row per group of ``by`` and a ``Total`` row, full precision.

    Parameters
    ----------
    ds : Dataset
    selection : Selection
        With ``by="domain"`` pass ``domain=None`` to see every practice domain.
    measure : str
        A key of :data:`MEASURES`.
    by : str
        A key of :data:`BREAKDOWNS`. Rows by period or month list every period/month of the
        selection, empty ones with n = 0.

    Returns
    -------
    pandas.DataFrame
        Index named ``by``; shares are fractions 0–1, never rounded. Columns:

        - ``good``: ``n``, ``good_or_better``, ``good_or_better_share``, ``ci_low``, ``ci_high``
        - ``distribution``: one count per grade of the scale, ``n``, ``<grade>_share`` per grade,
          then the ``good`` columns
        - ``returns``: ``allocated``, ``returned``, ``not returned``, ``exempt``, ``due``,
          ``return_rate``, ``ci_low``, ``ci_high``, ``target``
        - ``agreement``: ``n`` pairs, ``agreed``, ``percent_agreement``, ``ci_low``, ``ci_high``,
          ``kappa`` and ``ac1`` with their CIs, ``n_downgraded``, ``n_upgraded``

        Empty (no rows, same columns) when the selection keeps no data, or when ``by`` cannot
        apply (returns by cohort or domain).

    Notes
    -----
    Intervals for shares are Wilson 95% (``proportion_ci``); kappa is Cohen's with the FCE
    standard error and AC1 Gwet's, both as :func:`qa_lib.stats.agreement.agreement_table` computes them.
    """
    _check_choice(measure, MEASURES, "measure")
    _check_choice(by, BREAKDOWNS, "breakdown")
    column = _group_column(measure, by)
    frame = filter_rows(ds, selection, SOURCES[measure])
    if frame.empty or column is None:
        return _empty_table(ds, measure, by)
    groups, order = _groups(ds, frame, selection, by, column)
    frame = frame.assign(_group=pd.Categorical(groups, categories=order))
    if measure in ("good", "distribution"):
        counts = tables.grade_counts(frame, ds, by="_group")
        counts.index = counts.index.astype(object)
        counts.index.name = by
        out = counts.copy()
        if measure == "good":
            out = out[["n", "good_or_better", "good_or_better_share"]].copy()
        else:
            grades = list(ds.scale.grades)
            shares = {f"{g}_share": (out[g] / out["n"]).where(out["n"] > 0) for g in grades}
            out = pd.concat([out[grades + ["n"]], pd.DataFrame(shares), out[["good_or_better", "good_or_better_share"]]], axis=1)
        return _with_ci(out, "good_or_better", "n")
    if measure == "returns":
        status = pd.crosstab(frame["_group"], frame["status"], dropna=False)
        status = status.reindex(index=order, columns=["returned", "not returned", "exempt"], fill_value=0)
        status.loc[tables.TOTAL] = status.sum()
        status = status.astype("int64")
        status.insert(0, "allocated", status.sum(axis=1))
        status["due"] = status["allocated"] - status["exempt"]
        status["return_rate"] = (status["returned"] / status["due"]).where(status["due"] > 0)
        status = _with_ci(status, "returned", "due")
        status["target"] = ds.params.return_target
        status.index.name, status.columns.name = by, None
        return status
    # agreement

    grades = list(ds.scale.grades)
    per = agreement_table(frame, by="_group", categories=grades).set_index("_group")
    per = per.reindex(order)
    total = agreement_table(frame, by=None, categories=grades)
    total.index = [tables.TOTAL]
    table = pd.concat([per, total])
    agreed = frame.assign(_same=frame["change"] == "same").groupby("_group", observed=False)["_same"].sum()
    out = pd.DataFrame(index=table.index)
    out["n"] = table["n"].fillna(0).astype("int64")
    out["agreed"] = pd.concat([agreed.reindex(order).fillna(0), pd.Series({tables.TOTAL: agreed.sum()})]).astype("int64").to_numpy()
    out["percent_agreement"] = (out["agreed"] / out["n"]).where(out["n"] > 0)
    out = _with_ci(out, "agreed", "n")
    for name in ("kappa", "ac1"):
        for suffix in ("", "_ci_low", "_ci_high"):
            out[name + suffix] = table[name + suffix].to_numpy(dtype=float)
    for name in ("n_downgraded", "n_upgraded"):
        out[name] = table[name].fillna(0).astype("int64").to_numpy()
    out.index.name = by
    return out


def events(ds: Dataset, selection: Selection, measure: str) -> tuple[int, int]:
    """The counts a comparison tests: (events, total) of the selection.

    ``good`` and ``distribution``: grades Good or better out of grades; ``returns``: returned out
    of allocated − exempt; ``agreement``: pairs with the same grade out of moderated pairs.
    """
    _check_choice(measure, MEASURES, "measure")
    frame = filter_rows(ds, selection, SOURCES[measure])
    if measure == "returns":
        due = int((frame["status"] != "exempt").sum())
        return int((frame["status"] == "returned").sum()), due
    if measure == "agreement":
        return int((frame["change"] == "same").sum()), len(frame)
    return int(frame["grade"].isin(ds.scale.good_grades).sum()), len(frame)


def _keys(ds: Dataset, selection: Selection, measure: str) -> set:
    frame = filter_rows(ds, selection, SOURCES[measure])
    column = "allocation_id" if measure == "returns" else "audit_id"
    return set(frame[column].dropna())


def compare_selections(ds: Dataset, a: Selection, b: Selection, measure: str) -> pd.DataFrame:
    """Selection A against selection B: each share with its interval, and the difference tested.

    Returns
    -------
    pandas.DataFrame
        Rows ``A``, ``B`` and ``A − B``. Columns ``selection`` (description), ``events``, ``n``,
        ``estimate`` (share, or the difference of shares), ``ci_low``, ``ci_high`` (Wilson for A
        and B, Newcombe hybrid score for the difference), ``p_value`` and ``test`` (from
        :func:`~qa_lib.stats.trend.compare_two`: Fisher's exact test when an expected count is below 5,
        otherwise Pearson chi-squared without continuity correction), ``note``.

    Notes
    -----
    The grade distribution is compared through its % Good or better. The test assumes the two
    selections are independent; when they share audits (e.g. "all areas" against one area) the
    note says so and the p-value should not be used.
    """
    x1, n1 = events(ds, a, measure)
    x2, n2 = events(ds, b, measure)
    res = compare_two(x1, n1, x2, n2)
    lo, hi = difference_ci(x1, n1, x2, n2)
    (la, ha), (lb, hb) = proportion_ci(x1, n1), proportion_ci(x2, n2)
    shared = len(_keys(ds, a, measure) & _keys(ds, b, measure))
    note = res.note
    if shared:
        unit = "allocations" if measure == "returns" else "audits"
        note = (f"The two selections share {shared} {unit}: the test assumes independent groups, so do not "
                f"rely on its p-value. " + note).strip()
    rows = [
        {"selection": a.describe(), "events": x1, "n": n1, "estimate": x1 / n1 if n1 else math.nan,
         "ci_low": la, "ci_high": ha, "p_value": math.nan, "test": "", "note": ""},
        {"selection": b.describe(), "events": x2, "n": n2, "estimate": x2 / n2 if n2 else math.nan,
         "ci_low": lb, "ci_high": hb, "p_value": math.nan, "test": "", "note": ""},
        {"selection": "Difference, A minus B", "events": pd.NA, "n": pd.NA,
         "estimate": res.extra["difference"], "ci_low": lo, "ci_high": hi, "p_value": res.pvalue,
         "test": res.method, "note": note},
    ]
    out = pd.DataFrame(rows, index=pd.Index(["A", "B", "A − B"], name="row"))
    out["events"] = out["events"].astype("Int64")
    out["n"] = out["n"].astype("Int64")
    return out


def comparison_sentence(comparison: pd.DataFrame, measure: str, *, alpha: float = 0.05) -> str:
    """Plain words for a :func:`compare_selections` table."""
    diff = comparison.loc["A − B"]
    what = "% Good or better" if measure in ("good", "distribution") else MEASURES[measure]
    if not math.isfinite(float(diff["estimate"])):
        return f"{what}: one of the selections has no data, so there is nothing to compare."
    text = (f"{what}: A − B = {fmt.points(diff['estimate'])} percentage points "
            f"(95% interval {fmt.points_range(diff['ci_low'], diff['ci_high'])}).")
    p = float(diff["p_value"])
    if math.isfinite(p):
        verdict = "unlikely to be chance alone" if p < alpha else "could be chance"
        text += f" p = {fmt.significant(p, 3)}: the difference {verdict}."
    if diff["note"]:
        text += " " + str(diff["note"])
    return text


def measure_notes(ds: Dataset, selection: Selection, measure: str, table: pd.DataFrame, *, by: str) -> list[str]:
    """Caveats for what is on screen: filters that do not apply, breakdowns that cannot, small n."""
    notes = []
    if measure == "returns":
        ignored = [name for name, on in (("cohort", selection.cohort != ALL),
                                         ("domain", selection.domain not in ("Overall", None)),
                                         ("rater", selection.role != "audit")) if on]
        if ignored:
            notes.append("Allocations record month, service area and team only: the " + ", ".join(ignored)
                         + " filter does not apply to the return rate.")
        if _group_column(measure, by) is None:
            notes.append(f"Return rates cannot be broken down by {BREAKDOWNS[by].lower()}: allocations do not record it.")
    if measure == "agreement" and selection.role != "audit":
        notes.append("Agreement always compares the auditor's grade with the moderator's: the rater filter does not apply.")
    n_col = "due" if measure == "returns" else "n"
    if len(table) and n_col in table.columns:
        small = [str(i) for i, n in table[n_col].items() if 0 < n < ds.params.min_n]
        if small:
            notes.append(f"Fewer than {ds.params.min_n} in: {', '.join(small)}. Treat these percentages with caution.")
    return notes

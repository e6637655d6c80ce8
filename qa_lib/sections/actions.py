"""Audit actions: status as of the period end, by service area, and the overdue list.

An action is due on its recorded ``due_date``; where none is recorded it is due
``params.action_due_weeks`` weeks (default 8) after it was raised. As of a date *d* (default the
report period's last day) an action raised on or before *d* is:

- **Completed on time** — completed on or before *d* and on or before its due date;
- **Completed late** — completed on or before *d*, after its due date;
- **Open (not yet due)** — not completed by *d* and due on or after *d*;
- **Overdue** — not completed by *d* and due before *d*.

A completion recorded after *d* does not count as of *d* (the report shows the position at the
period end, whenever the extract was taken).
"""

from __future__ import annotations

import datetime as _dt

import pandas as pd

from qa_lib.core import fmt
from qa_lib.inputs.data import Dataset
from qa_lib.sections.tables import TOTAL, periods_shown
from qa_lib.stats import trend

STATUSES = ("Completed on time", "Completed late", "Open (not yet due)", "Overdue")


def action_status(ds: Dataset, *, as_of: _dt.date | None = None) -> pd.DataFrame:
    """One row per action raised on or before ``as_of``, with its status then.

    Returns
    -------
    DataFrame
        The actions table joined to its audit's ``service_area``, ``team`` and ``period``, plus
        ``due`` (effective due date), ``status`` (one of :data:`STATUSES`, ordered categorical)
        ``days_overdue`` (days between due and ``as_of`` for overdue actions, else 0) and
        ``beyond_standard`` (the due date is later than ``action_due_weeks`` after raising).
    """
    as_of = pd.Timestamp(as_of or ds.period.end)
    a = ds.actions
    ctx = [c for c in ("audit_id", "service_area", "team", "period") if c in ds.audits.columns]
    a = a.merge(ds.audits[ctx].rename(columns={"period": "audit_period"}), on="audit_id", how="left")
    a = a[a["raised_date"] <= as_of].copy()
    weeks = pd.Timedelta(weeks=ds.params.action_due_weeks)
    a["due"] = a["due_date"].fillna(a["raised_date"] + weeks)
    a["beyond_standard"] = a["due"] > a["raised_date"] + weeks
    done = a["completed_date"].notna() & (a["completed_date"] <= as_of)
    on_time = done & (a["completed_date"] <= a["due"])
    status = pd.Series("Open (not yet due)", index=a.index)
    status[done & on_time] = "Completed on time"
    status[done & ~on_time] = "Completed late"
    status[~done & (a["due"] < as_of)] = "Overdue"
    a["status"] = pd.Categorical(status, categories=list(STATUSES), ordered=True)
    a["days_overdue"] = ((as_of - a["due"]).dt.days).where(a["status"] == "Overdue", 0).astype("int64")
    if "domain" not in a.columns:
        a["domain"] = pd.NA
    return a


def status_by_service_area(ds: Dataset, *, as_of: _dt.date | None = None) -> pd.DataFrame:
    """Counts of each status by service area for actions raised in the shown periods, as of the period end.

    Columns: the four statuses, ``n``, ``overdue_share``, ``due_beyond_standard`` (actions given longer
    than ``params.action_due_weeks``) and ``on_time_share`` (completed on time ÷ completed); a ``Total`` row.
    """
    a = action_status(ds, as_of=as_of)
    raised_period = a["audit_period"] if "audit_period" in a.columns else pd.Series(pd.NA, index=a.index)
    a = a[raised_period.isin(periods_shown(ds))]
    if a.empty:
        return pd.DataFrame(columns=[*STATUSES, "n", "overdue_share", "due_beyond_standard", "on_time_share"])
    t = pd.crosstab(a["service_area"].fillna("Unknown"), a["status"], dropna=False).reindex(columns=list(STATUSES), fill_value=0)
    t.loc[TOTAL] = t.sum()
    t = t.astype("int64")
    t.columns = pd.Index(list(STATUSES))
    t.index.name = "service_area"
    t["n"] = t[list(STATUSES)].sum(axis=1)
    t["overdue_share"] = (t["Overdue"] / t["n"]).where(t["n"] > 0)
    beyond = a.groupby(a["service_area"].fillna("Unknown"))["beyond_standard"].sum()
    t["due_beyond_standard"] = beyond.reindex(t.index).fillna(0).astype("int64")
    t.loc[TOTAL, "due_beyond_standard"] = int(a["beyond_standard"].sum())
    completed = t["Completed on time"] + t["Completed late"]
    t["on_time_share"] = (t["Completed on time"] / completed).where(completed > 0)
    return t


def review_within_weeks(ds: Dataset, *, as_of: _dt.date | None = None) -> pd.DataFrame:
    """Issue 17: the 8-week review. Share of actions reviewed or completed within ``action_due_weeks``
    (default 8) of being raised, by service area, for actions raised in the shown periods.

    Only actions whose window has closed by ``as_of`` (raised at least that many weeks before the period
    end) are counted; those still inside it are ``window_open``. Reviewed = a ``reviewed_date`` or
    ``completed_date`` on or before raised + the window (and on or before ``as_of``).

    Columns ``window_closed``, ``reviewed_in_time``, ``reviewed_in_time_share`` with its 95% Wilson
    ``reviewed_in_time_low_share`` / ``reviewed_in_time_high_share``, ``window_open``; a ``Total`` row.
    """
    as_of = pd.Timestamp(as_of or ds.period.end)
    weeks = pd.Timedelta(weeks=ds.params.action_due_weeks)
    a = action_status(ds, as_of=as_of)
    raised_period = a["audit_period"] if "audit_period" in a.columns else pd.Series(pd.NA, index=a.index)
    a = a[raised_period.isin(periods_shown(ds))]
    cols = ["window_closed", "reviewed_in_time", "reviewed_in_time_share", "reviewed_in_time_low_share",
            "reviewed_in_time_high_share", "window_open"]
    if a.empty:
        return pd.DataFrame(columns=cols)
    reviewed = a["reviewed_date"] if "reviewed_date" in a.columns else pd.Series(pd.NaT, index=a.index)
    first = pd.concat([reviewed, a["completed_date"]], axis=1).min(axis=1)
    closed = a["raised_date"] + weeks <= as_of
    in_time = closed & first.notna() & (first <= a["raised_date"] + weeks) & (first <= as_of)
    area = a["service_area"].fillna("Unknown")
    t = pd.DataFrame({"window_closed": closed.groupby(area).sum(), "reviewed_in_time": in_time.groupby(area).sum(),
                      "window_open": (~closed).groupby(area).sum()}).astype("int64")
    t.loc[TOTAL] = t.sum()
    t.index.name = "service_area"
    t["reviewed_in_time_share"] = (t["reviewed_in_time"] / t["window_closed"]).where(t["window_closed"] > 0)
    lo, hi = trend.proportion_ci(t["reviewed_in_time"].to_numpy(), t["window_closed"].to_numpy())
    t["reviewed_in_time_low_share"] = pd.Series(lo, index=t.index).where(t["window_closed"] > 0)
    t["reviewed_in_time_high_share"] = pd.Series(hi, index=t.index).where(t["window_closed"] > 0)
    return t[cols]


def review_note(ds: Dataset) -> str:
    """The rule of :func:`review_within_weeks`, in words."""
    w = ds.params.action_due_weeks
    return (f"Reviewed in time = a review or completion recorded within {w} weeks of the action being raised "
            f"(params action_due_weeks). Only actions raised at least {w} weeks before the period end are counted; "
            "the others are still inside their window. Ranges are 95% Wilson intervals. An action with no due date "
            f"falls due {w} weeks after it was raised.")


def overdue_list(ds: Dataset, *, as_of: _dt.date | None = None) -> pd.DataFrame:
    """Every action overdue at the period end, longest overdue first, for the internal report.

    Pseudonymised: no action, audit or case id — ``service_area``, ``team``, ``domain``,
    ``raised_date``, ``due``, ``days_overdue``. Small teams can still point to a person, so show it
    with ``person_level=True`` (withheld from published reports).
    """
    a = action_status(ds, as_of=as_of)
    a = a[a["status"] == "Overdue"]
    cols = ["service_area", "team", "domain", "raised_date", "due", "days_overdue"]
    out = a.reindex(columns=cols).sort_values(["days_overdue", "service_area"], ascending=[False, True], kind="stable")
    out["raised_date"] = out["raised_date"].dt.strftime("%Y-%m-%d")
    out["due"] = out["due"].dt.strftime("%Y-%m-%d")
    return out.reset_index(drop=True)


def summary(ds: Dataset) -> str:
    """One paragraph: how many actions were overdue at the period end and how many were completed on time."""
    if not ds.params.files("actions"):  # issue 16: a missing file is not "no actions raised"
        return ("No actions file was given (params data.actions), so audit actions cannot be reported; this is not "
                "the same as no actions being raised.")
    a = action_status(ds)
    if a.empty:
        return "No audit actions were raised up to the end of this period."
    overdue = a[a["status"] == "Overdue"]
    done = a[a["status"].isin(STATUSES[:2])]
    text = f"At the end of {ds.period.label}, {len(overdue)} audit action(s) were overdue"
    if len(overdue):
        text += f" (median {int(overdue['days_overdue'].median())} days past their due date)"
    text += "."
    if len(done):
        on_time = int((done["status"] == STATUSES[0]).sum())
        text += f" Of {len(done)} completed actions, {on_time} ({fmt.pct(on_time / len(done))}) were completed on time."
    return text

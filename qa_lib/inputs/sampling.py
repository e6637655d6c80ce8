"""Draw next month's audit allocation from an open-caseload extract.

Caseload extract (CSV or XLSX; one row per open case, headers matched ignoring case and
punctuation):

======================== ========== ===================================================================
column                   required   meaning
======================== ========== ===================================================================
``case_id``              yes        the case (child or family) identifier
``practitioner_id``      yes        the allocated worker
``team``                 yes        the worker's team (the default quota unit)
``service_area``         yes        e.g. Front Door, Children in Care (the other quota unit)
``cohort``               no         e.g. Child protection, Children looked after (``--cohort`` theme)
``status``               no         ``open`` / ``closed`` (also: closed, closing, ended -> closed)
``closed``               no         yes/no flag, an alternative to ``status``
``practitioner_on_leave`` no        yes/no: long-term leave, sickness, maternity/paternity leave
======================== ========== ===================================================================

Audit history: the ``audits`` contract file (``case_id``, ``audit_date``; other columns ignored).

Rules, in order:

1. **Exemptions** — a case that is closed, or whose practitioner is on leave, is set aside with
   that reason (recorded in the summary, never silently dropped).
2. **Cohort theme** (optional) — only cases of the named cohort are eligible; the others are
   recorded as "not in this month's cohort theme".
3. **Recently audited** — a case audited in the ``exclude_months`` calendar months before the
   sample month (default 6: for a November 2022 sample, audits from 1 May 2022 onwards) is
   excluded with that reason.
4. **Quotas** — ``per_unit`` cases for every team (or service area) in the extract, drawn at
   random with a seeded generator; **at most one case per practitioner** across the whole draw.
   A unit with fewer eligible practitioners than its quota stops the draw with a
   :class:`SamplingError` naming the unit and the numbers (nothing partial is written).

Reproducible: the same extract, history, month, quota and seed give the same allocation,
whatever the row order of the files.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from qa_lib.core.atomic import atomic_to_csv
from qa_lib.core.errors import InputError, QAError, problem
from qa_lib.inputs.io import _read_one, header_key
from qa_lib.inputs.periods import Period, parse_period
from qa_lib.inputs.validate import YES_NO, parse_dates

CASELOAD_REQUIRED = ("case_id", "practitioner_id", "team", "service_area")
CASELOAD_OPTIONAL = ("cohort", "status", "closed", "practitioner_on_leave")
CLOSED_STATUS = {"closed", "closing", "ended", "case closed", "close"}
ALLOCATION_COLUMNS = ["allocation_id", "month", "service_area", "team", "practitioner_id", "status",
                      "practitioner_took_part", "reason", "case_id", "cohort"]

REASON_CLOSED = "Case closed"
REASON_LEAVE = "Practitioner on leave"
REASON_COHORT = "Not in this month's cohort theme"
REASON_RECENT = "Audited in the last {n} months"
REASON_NOT_DRAWN = "Eligible, not drawn"
REASON_SAME_PRACTITIONER = "Practitioner already has a case in this allocation"


class SamplingError(QAError):
    """The allocation rules cannot be met (e.g. fewer eligible cases than the quota)."""


@dataclass(frozen=True)
class Sample:
    """A drawn allocation.

    Attributes
    ----------
    allocations : DataFrame
        One row per drawn case, allocations-contract columns (``status`` ``not returned`` until
        the audit comes back) plus ``case_id`` and ``cohort`` for the auditor.
    excluded : DataFrame
        Every case not allocated with ``reason`` (exemptions by rule, recent audits, cohort,
        not drawn), keyed by ``case_id``, ``practitioner_id``, ``team``, ``service_area``.
    summary : DataFrame
        Per quota unit: ``open_cases``, one column per exclusion reason, ``eligible_cases``,
        ``eligible_practitioners``, ``quota``, ``allocated``.
    """

    allocations: pd.DataFrame
    excluded: pd.DataFrame
    summary: pd.DataFrame
    month: str
    seed: int
    #: issue 17: cases exempt by rule (closed, practitioner on leave) as allocations rows with ``status``
    #: ``exempt`` and the reason; :func:`write` adds them to the allocations file so returns count them
    exemptions: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=ALLOCATION_COLUMNS))


def read_caseload(path: str | Path) -> pd.DataFrame:
    """Read a caseload extract and map its headers to the column names above.

    Raises
    ------
    InputError
        Unreadable file, or a required column missing (the message lists the columns found).
    """
    path = Path(path)
    if not path.is_file():
        raise problem(InputError, str(path), expected="a caseload extract file (CSV or XLSX)", received="no such file")
    df = _read_one(path)
    df = df.rename(columns={c: header_key(c) for c in df.columns})
    missing = [c for c in CASELOAD_REQUIRED if c not in df.columns]
    if missing:
        raise problem(InputError, f"{path.name}", received=f"no column(s) {', '.join(missing)} (found: {', '.join(map(str, df.columns))})",
                      expected="a caseload extract with columns " + ", ".join(CASELOAD_REQUIRED),
                      fix="rename the headers to these names")
    return df


def read_history(path: str | Path) -> pd.DataFrame:
    """Read the audit history (``case_id``, ``audit_date``)."""
    path = Path(path)
    if not path.is_file():
        raise problem(InputError, str(path), expected="an audits file (CSV or XLSX)", received="no such file")
    df = _read_one(path)
    df = df.rename(columns={c: header_key(c) for c in df.columns})
    missing = [c for c in ("case_id", "audit_date") if c not in df.columns]
    if missing:
        raise problem(InputError, path.name, received=f"no column(s) {', '.join(missing)}",
                      expected="an audits file with case_id and audit_date", fix="use the audits contract file")
    return df


def _flag(values: pd.Series, where: str) -> pd.Series:
    s = values.astype(object).map(lambda v: v.strip().lower() if isinstance(v, str) else "")
    mapped = s.map(lambda v: YES_NO.get(v) if v else False)
    bad = mapped.isna()
    if bad.any():
        first = values[bad].iloc[0]
        raise problem(InputError, f"caseload column {where}", received=f"{first!r} ({int(bad.sum())} row(s))",
                      expected="yes or no", fix="correct the values, or leave them blank for no")
    return mapped.astype(bool)


def _text(frame: pd.DataFrame, col: str) -> pd.Series:
    if col not in frame.columns:
        return pd.Series(pd.NA, index=frame.index, dtype="string")
    return frame[col].astype("string").str.strip()


def draw(cases: pd.DataFrame, history: pd.DataFrame | None, *, month: str | Period, per_unit: int = 1,
         by: str = "team", exclude_months: int = 6, cohort: str | None = None, seed: int = 0) -> Sample:
    """Draw the allocation for ``month``.

    Parameters
    ----------
    cases : DataFrame
        The caseload extract (see the module docstring); text columns.
    history : DataFrame or None
        Earlier audits with ``case_id`` and ``audit_date``.
    month : str or Period
        The month being allocated, e.g. ``"2022-11"``.
    per_unit : int
        Cases to allocate in every team (or service area), at least 1.
    by : {"team", "service_area"}
        The quota unit.
    exclude_months : int
        A case audited in this many calendar months before ``month`` is not eligible (0: no rule).
    cohort : str, optional
        Only cases of this cohort (case-insensitive) are eligible; units with none are skipped
        rather than failing, and the summary says so.
    seed : int
        Seed of the random generator (numpy PCG64).

    Returns
    -------
    Sample

    Raises
    ------
    SamplingError
        A unit has fewer eligible practitioners than its quota, or the arguments are invalid.
    """
    period = parse_period(month, where="--month")
    if period.kind != "month":
        raise problem(SamplingError, "--month", received=repr(str(month)), expected="a month such as 2022-11")
    if by not in ("team", "service_area"):
        raise problem(SamplingError, "quota unit", received=repr(by), expected="team or service_area")
    if per_unit < 1:
        raise problem(SamplingError, "quota per unit", received=repr(per_unit), expected="a whole number of at least 1")
    if exclude_months < 0:
        raise problem(SamplingError, "--exclude-months", received=repr(exclude_months), expected="0 or more months")
    c = pd.DataFrame({col: _text(cases, col) for col in (*CASELOAD_REQUIRED, *CASELOAD_OPTIONAL)})
    for col in CASELOAD_REQUIRED:
        blank = c[col].isna() | (c[col] == "")
        if blank.any():
            raise problem(InputError, f"caseload column {col}", received=f"{int(blank.sum())} blank value(s)",
                          expected="a value on every row", fix="fill in or remove those rows")
    dup = c["case_id"].duplicated()
    if dup.any():
        raise problem(InputError, "caseload column case_id", received=f"{int(dup.sum())} repeated case(s)",
                      expected="each open case once", fix="remove the duplicate rows from the extract")
    c = c.sort_values("case_id", kind="stable").reset_index(drop=True)  # row order never matters
    closed = c["status"].str.lower().isin(CLOSED_STATUS).fillna(False).astype(bool) | _flag(c["closed"], "closed")
    leave = _flag(c["practitioner_on_leave"], "practitioner_on_leave")
    reason = pd.Series(pd.NA, index=c.index, dtype="string")
    reason[closed] = REASON_CLOSED
    reason[reason.isna() & leave] = REASON_LEAVE
    if cohort:
        present = sorted(c["cohort"].dropna().astype(str).str.strip().loc[lambda x: x != ""].unique().tolist())
        if cohort.strip().lower() not in {p.lower() for p in present}:  # issue 17: never a silent empty draw
            raise problem(SamplingError, "--cohort", received=repr(cohort),
                          expected="a cohort in the caseload: " + (", ".join(present) if present else "(the caseload has no cohort column values)"),
                          fix="give one of those cohorts, or leave --cohort out")
        reason[reason.isna() & (c["cohort"].str.lower() != cohort.strip().lower()).fillna(True)] = REASON_COHORT
    recent_label = REASON_RECENT.format(n=exclude_months)
    if history is not None and exclude_months > 0 and len(history):
        start = pd.Timestamp(period.shift(-exclude_months).start)
        dates = parse_dates(history["audit_date"])
        recent = set(history.loc[dates >= start, "case_id"].astype("string").str.strip())
        reason[reason.isna() & c["case_id"].isin(recent)] = recent_label
    rng = np.random.default_rng(seed)
    eligible = c[reason.isna()]
    used: set[str] = set()
    drawn_idx: list[int] = []
    units = sorted(c[by].unique())
    summary_rows = []
    for unit in units:
        pool = eligible[eligible[by] == unit]
        pool = pool[~pool["practitioner_id"].isin(used)]
        practitioners = pool["practitioner_id"].nunique()
        in_unit = c[c[by] == unit]
        row = {by: unit, "open_cases": len(in_unit)}
        for r in (REASON_CLOSED, REASON_LEAVE, REASON_COHORT, recent_label):
            row[r] = int((reason[in_unit.index] == r).sum())
        row["eligible_cases"] = int(len(eligible[eligible[by] == unit]))
        row["eligible_practitioners"] = practitioners
        if cohort and row["eligible_cases"] == 0 and row[REASON_COHORT] == len(in_unit):
            row.update(quota=0, allocated=0)
            summary_rows.append(row)
            continue
        if practitioners < per_unit:
            label = "team" if by == "team" else "service area"
            others = int(len(eligible[eligible[by] == unit]) - len(pool))
            raise problem(
                SamplingError, f"{label} {unit}",
                received=(f"{practitioners} eligible practitioner(s) with {len(pool)} eligible case(s) for a quota of "
                          f"{per_unit}" + (f" ({others} more case(s) belong to practitioners already drawn in another "
                                           f"{label})" if others else "")
                          + f"; of {len(in_unit)} open case(s), {row[REASON_CLOSED]} closed, {row[REASON_LEAVE]} with the "
                          f"practitioner on leave, {row[recent_label]} audited in the last {exclude_months} months"
                          + (f", {row[REASON_COHORT]} outside the cohort '{cohort}'" if cohort else "")),
                expected=f"at least {per_unit} eligible case(s) from {per_unit} different practitioner(s)",
                fix=f"lower --per-team to {practitioners}" + (" or fewer" if practitioners else " (or leave this unit out)")
                    + ", shorten --exclude-months, or drop the cohort theme")
        order = rng.permutation(len(pool))
        chosen: list[int] = []
        seen: set[str] = set()
        for i in order:
            idx = pool.index[i]
            prac = pool.at[idx, "practitioner_id"]
            if prac in seen:
                continue
            seen.add(prac)
            chosen.append(idx)
            if len(chosen) == per_unit:
                break
        used |= seen
        drawn_idx.extend(chosen)
        row.update(quota=per_unit, allocated=len(chosen))
        summary_rows.append(row)
    drawn = c.loc[drawn_idx]
    month_label = period.label
    width = max(3, int(math.log10(max(len(drawn), 1))) + 1)
    allocations = pd.DataFrame({
        "allocation_id": [f"AL-{month_label}-{i:0{width}d}" for i in range(1, len(drawn) + 1)],
        "month": month_label, "service_area": drawn["service_area"].to_numpy(), "team": drawn["team"].to_numpy(),
        "practitioner_id": drawn["practitioner_id"].to_numpy(), "status": "not returned",
        "practitioner_took_part": "", "reason": "", "case_id": drawn["case_id"].to_numpy(),
        "cohort": drawn["cohort"].fillna("").to_numpy()})[ALLOCATION_COLUMNS]
    rest = c.drop(index=drawn_idx)
    why = reason[rest.index].copy()
    why[why.isna() & rest["practitioner_id"].isin(used)] = REASON_SAME_PRACTITIONER
    why = why.fillna(REASON_NOT_DRAWN)
    excluded = rest[["case_id", "practitioner_id", "team", "service_area", "cohort"]].assign(reason=why).reset_index(drop=True)
    summary = pd.DataFrame(summary_rows).set_index(by)
    ex = c[reason.isin([REASON_CLOSED, REASON_LEAVE]).fillna(False).to_numpy()]
    exemptions = pd.DataFrame({
        "allocation_id": [f"AL-{month_label}-E{i:0{width}d}" for i in range(1, len(ex) + 1)],
        "month": month_label, "service_area": ex["service_area"].to_numpy(), "team": ex["team"].to_numpy(),
        "practitioner_id": ex["practitioner_id"].to_numpy(), "status": "exempt", "practitioner_took_part": "",
        "reason": reason[ex.index].to_numpy(), "case_id": ex["case_id"].to_numpy(),
        "cohort": ex["cohort"].fillna("").to_numpy()})[ALLOCATION_COLUMNS]
    return Sample(allocations=allocations, excluded=excluded, summary=summary, month=month_label, seed=seed,
                  exemptions=exemptions)


def write(sample: Sample, out_dir: str | Path) -> dict[str, Path]:
    """Write ``allocations-<month>.csv``, ``excluded-<month>.csv`` and ``sample-summary-<month>.csv``.

    These are working files for the QA team (they hold case and practitioner ids), never report
    outputs. Written atomically (a failure leaves nothing half-written) and spreadsheet-safe: a team
    name that begins like a formula is written as text (:func:`qa_lib.core.atomic.atomic_to_csv`).
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {}
    allocations = pd.concat([sample.allocations, sample.exemptions], ignore_index=True)  # issue 17: exempt rows too
    for name, frame, index in (("allocations", allocations, False), ("excluded", sample.excluded, False),
                               ("sample-summary", sample.summary, True)):
        path = out_dir / f"{name}-{sample.month}.csv"
        atomic_to_csv(frame, path, index=index, lineterminator="\n")
        paths[name] = path
    return paths


def describe(sample: Sample) -> str:
    """A few lines for the terminal: how many drawn, and who was excluded and why."""
    lines = [f"{len(sample.allocations)} case(s) allocated for {sample.month} (seed {sample.seed})."]
    if len(sample.exemptions):
        lines.append(f"{len(sample.exemptions)} exemption(s) written to the allocations file as status exempt, with the reason.")
    counts = sample.excluded["reason"].value_counts()
    if len(counts):
        lines.append("Not allocated:")
        lines += [f"  {n:5d}  {r}" for r, n in counts.items()]
    return "\n".join(lines)

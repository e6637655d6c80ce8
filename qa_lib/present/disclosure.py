"""Statistical disclosure control for published reports: small-count suppression that totals cannot undo.

A published report (params ``audience: published``) shows every count from 1 to ``threshold - 1``
(params ``suppression.threshold``, default 5) as ``c`` — the symbol the ONS and the Department
for Education use for "confidential" — and then hides further cells (*secondary suppression*) so
that no hidden count can be worked out by subtracting the shown cells of a row, a column or a
total. Percentages and rates whose numerator or denominator is hidden are hidden too.

How (``suppress``):

1. Structure. The table's linear relations are found from the columns and rows that
   :mod:`qa_lib.sections.tables` produces, each checked arithmetically before it is used (a relation
   that does not hold is not assumed):
   - a ``Total`` / ``All`` row is the sum of the other rows (every count column);
   - ``n`` is the sum of the grade columns, ``good_or_better`` the sum of the good grades,
     ``allocated`` = ``returned`` + ``not returned`` + ``exempt``, a ``Total`` column the sum
     of the other counts;
   - in moderation outcomes ``Moderated`` = ``Same grade`` + ``Downgraded`` + ``Upgraded``,
     and a row ``X`` is the sum of the rows labelled ``X ...`` (``Downgraded Good → RI``...);
   - ratios: ``good_or_better_share`` = good_or_better / n, ``moderated_share``,
     ``participation_rate``, ``return_rate`` = returned / (allocated − exempt), and ``share``
     (a count over its column's sum, or over the ``Moderated`` row). A share column makes its
     denominator public even when it is not printed, so that sum becomes a line too.
2. Primary suppression: every count ``0 < x < threshold``.
3. Secondary suppression, iterated to a fixed point: any line (members plus its total) with
   exactly one hidden cell gets its smallest other non-zero cell hidden (members before the
   total; a zero only when nothing else is left).
4. Audit and repair: a linear program (``scipy.optimize.linprog``) finds the least and greatest
   value each hidden cell can take given every shown cell, every line and non-negativity.
   Where a hidden cell is pinned (the interval is narrower than one), another cell of one of its
   lines is hidden and steps 3–4 repeat.
5. Derived cells: a ratio is hidden when its numerator or denominator is; any other derived
   column (a flag such as ``met_target``, an unknown share) is hidden in every row that has a
   hidden count.

Counts of zero are shown (a zero discloses no individual); integer columns are the counts.

Pack level (issue 14). Protecting each table on its own is not enough: the same count, total or
complement printed in another report of the period gives a hidden cell away. :func:`protect` runs
primary and secondary suppression over one linear system of named count variables (:class:`Relation`:
``sum(members) == total``) until every hidden variable's feasible interval (:func:`system_intervals`,
a linear program per connected group of hidden variables) spans at least ``threshold`` whole values.
:mod:`qa_lib.present.pack` builds that system for a period's whole published pack and passes each
table's part of the pattern back to :func:`suppress` (``hidden_counts``), which then applies only the
rules for derived cells above. :func:`guard_text` keeps small counts and small complements out of
published sentences and alt text.

References
----------
Office for National Statistics (2024), *Statistical disclosure control policy for tables*;
Hundepool, A. et al. (2012), *Statistical Disclosure Control*, Wiley, ch. 4 (cell suppression,
secondary suppression and the audit by linear programming of the feasibility interval);
Government Statistical Service (2021), *Symbols in tables* (``c`` = confidential).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Sequence

import numpy as np
import pandas as pd
from scipy.optimize import linprog

from qa_lib.inputs.io import FREE_TEXT_COLUMNS  # noqa: F401 - re-exported
from qa_lib.inputs.privacy import key_source

SYMBOL = "c"
TOTAL_LABELS = ("Total", "All")
#: column -> the columns it is the sum of ("grades"/"good grades" stand for the scale's).
COLUMN_SUMS: dict[str, tuple[str, ...]] = {
    "n": ("<grades>",),
    "good_or_better": ("<good grades>",),
    "allocated": ("returned", "not returned", "exempt"),
}
#: row label -> the rows it is the sum of (beyond the automatic "X" = sum of "X ..." rows).
ROW_SUMS: dict[str, tuple[str, ...]] = {"Moderated": ("Same grade", "Downgraded", "Upgraded")}
#: ratio column -> (numerator column, denominator columns added, denominator columns subtracted)
RATIOS: dict[str, tuple[str, tuple[str, ...], tuple[str, ...]]] = {
    "good_or_better_share": ("good_or_better", ("n",), ()),
    "moderated_share": ("moderated", ("audits",), ()),
    "participation_rate": ("took_part", ("recorded",), ()),
    "return_rate": ("returned", ("allocated",), ("exempt",)),
    # issue 17: the 8-week action review, the multi-agency comparison with the caseworker
    "reviewed_in_time_share": ("reviewed_in_time", ("window_closed",), ()),
    "same_share": ("same", ("units",), ()),
}
#: non-count columns that do not come from the counts (shown as they are).
NOT_DERIVED = ("target",)
#: integer columns that are attributes, not frequencies of people or case files (never suppressed).
NOT_COUNTS = ("raters", "df", "year", "n_occasions")
#: text that quotes a count ("7 of 14", "5/11"): such a cell is hidden when a count in it is small.
COUNT_TEXT = re.compile(r"(?<![\d.])(\d+)\s*(?:of|/)\s*(\d+)(?![\d.])")
#: columns of free text (comments, quotes): never shown in a published report.

Cell = tuple[int, str]


@dataclass(frozen=True)
class SuppressionRule:
    """The published-report rule: counts ``1 .. threshold - 1`` hidden as ``symbol``."""

    threshold: int = 5
    symbol: str = SYMBOL

    def describe(self) -> str:
        top = self.threshold - 1
        small = f"Counts from 1 to {top}" if top > 1 else "Counts of 1"
        return (f"{small} are shown as {self.symbol}, and further cells are shown as {self.symbol} so that no "
                f"hidden count can be worked out from the totals (secondary suppression); percentages and rates "
                f"of hidden counts are shown as {self.symbol} too. Tables with one row per person and "
                "free-text quotes are not published.")


def rule_from_params(params) -> SuppressionRule:
    """The rule of a run (params ``suppression.threshold`` and ``suppression.symbol``).

    Both are checked when the params are loaded (:data:`qa_lib.inputs.params.SCHEMA`: a threshold
    of at least 1; a mark that is short, not empty and never a number, so a hidden cell cannot
    read as a count), so ``qa-workbook validate`` refuses what a report would.
    """
    spec = params.suppression
    return SuppressionRule(threshold=spec["threshold"], symbol=spec["symbol"].strip())


def audience_note(params) -> str:
    """The sentence each output carries about its audience and the rule applied."""

    audience = params.audience
    ids = ("Case, child, practitioner, auditor and moderator ids are pseudonymised at load "
           f"({key_source(params)}) and no identifier is shown.")
    if audience == "published":
        return f"Audience: published (disclosure control applied). {rule_from_params(params).describe()} {ids}"
    return ("Audience: internal — not for publication: small counts are shown and tables may have one row per "
            f"person. {ids}")


@dataclass(frozen=True)
class Line:
    """``sum(members) == total`` (a cell), or ``== value`` when the total is public but not a cell."""

    members: tuple[Cell, ...]
    total: Cell | None = None
    value: float | None = None
    share_column: str | None = None  # for a line made public by a share column


@dataclass(frozen=True)
class Ratio:
    """Cell ``at`` = numerator / (sum(plus) − sum(minus)); ``public_denominator`` marks a share line."""

    at: Cell
    numerator: Cell
    plus: tuple[Cell, ...] = ()
    minus: tuple[Cell, ...] = ()
    line: Line | None = None


@dataclass
class Structure:
    """What :func:`structure` found in a table."""

    counts: list[str]
    lines: list[Line] = field(default_factory=list)
    ratios: list[Ratio] = field(default_factory=list)
    derived: list[str] = field(default_factory=list)  # other columns computed from the counts


@dataclass
class Suppressed:
    """A table after disclosure control."""

    frame: pd.DataFrame  # what is shown and written (hidden cells hold the symbol)
    hidden: pd.DataFrame  # boolean, True where a cell is hidden
    primary: int
    secondary: int
    structure: Structure

    @property
    def any(self) -> bool:
        return bool(self.hidden.to_numpy().any())


def _label(idx) -> str:
    return str(idx[0] if isinstance(idx, tuple) else idx).strip()


def is_count(series: pd.Series) -> bool:
    name = str(series.name)
    if name in NOT_COUNTS or name.endswith(("_df", " df")):
        return False
    return pd.api.types.is_integer_dtype(series.dtype) and not pd.api.types.is_bool_dtype(series.dtype)


def _is_share_name(name: object) -> bool:
    text = str(name).lower()
    return text.endswith(("share", "rate", "_pct", "percent", "%"))


def _pair(column: str, counts: Sequence[str]) -> str | None:
    """The count column a share column is the share of (``'2024-25 Q2 share'`` -> ``'2024-25 Q2 n'``)."""
    stem = re.sub(r"[ _]*(share|rate|pct|percent|%)$", "", str(column), flags=re.I)
    for cand in (f"{stem} n", f"{stem}_n", stem, f"{stem} count", f"{stem}_count"):
        if cand in counts:
            return cand
    return None


def _value(frame: pd.DataFrame, cell: Cell) -> float:
    v = frame[cell[1]].iloc[cell[0]]
    return np.nan if v is None or v is pd.NA or (isinstance(v, float) and np.isnan(v)) else float(v)


def _holds(frame: pd.DataFrame, members: Sequence[Cell], total: Cell) -> bool:
    vals = [_value(frame, c) for c in members]
    tot = _value(frame, total)
    return not np.isnan(tot) and not any(np.isnan(vals)) and abs(sum(vals) - tot) < 1e-9


def structure(frame: pd.DataFrame, *, grades: Sequence[str] = (), good_grades: Sequence[str] = ()) -> Structure:
    """Find the count columns, the additive lines and the ratios of ``frame`` (see the module notes)."""
    counts = [c for c in frame.columns if is_count(frame[c])]
    out = Structure(counts=counts)
    rows = list(range(len(frame)))
    labels = [_label(i) for i in frame.index]
    totals = [i for i in rows if labels[i] in TOTAL_LABELS]
    # column sums, row by row
    for col, parts in [*COLUMN_SUMS.items(), *[(t, ("<others>",)) for t in TOTAL_LABELS]]:
        if col not in counts:
            continue
        if parts == ("<grades>",):
            parts = tuple(g for g in grades if g in counts)
        elif parts == ("<good grades>",):
            parts = tuple(g for g in good_grades if g in counts)
        elif parts == ("<others>",):
            parts = tuple(c for c in counts if c != col and c not in COLUMN_SUMS)
        if not parts or not all(p in counts for p in parts):
            continue
        for i in rows:
            members = tuple((i, p) for p in parts)
            if _holds(frame, members, (i, col)):
                out.lines.append(Line(members, (i, col)))
    # row sums, column by column
    row_groups: list[tuple[int, list[int]]] = []
    for t in totals:
        row_groups.append((t, [i for i in rows if i not in totals]))
    for i, lab in enumerate(labels):
        if lab in ROW_SUMS:
            members = [j for j, other in enumerate(labels) if other in ROW_SUMS[lab]]
            if len(members) == len(ROW_SUMS[lab]):
                row_groups.append((i, members))
        children = [j for j, other in enumerate(labels) if j != i and other.startswith(lab + " ")]
        if children and lab not in TOTAL_LABELS:
            row_groups.append((i, children))
    for col in counts:
        for t, members in row_groups:
            cells = tuple((j, col) for j in members)
            if members and _holds(frame, cells, (t, col)):
                out.lines.append(Line(cells, (t, col)))
    # ratios with named parts
    handled = set()
    # issue 17: "<grade> share" = that grade's count / n (the domain x quarter table)
    ratios = {**RATIOS, **{f"{g} share": (str(g), ("n",), ()) for g in (grades or ())}}
    for col, (num, plus, minus) in ratios.items():
        if col in frame.columns and all(c in counts for c in (num, *plus, *minus)):
            handled.add(col)
            for i in rows:
                out.ratios.append(Ratio((i, col), (i, num), tuple((i, p) for p in plus), tuple((i, m) for m in minus)))
    # a "share" of the single count column: over a row (Moderated) or over the column's sum
    if "share" in frame.columns and len(counts) == 1 and pd.api.types.is_numeric_dtype(frame["share"].dtype):
        col = counts[0]
        share = pd.to_numeric(frame["share"], errors="coerce").to_numpy(dtype=float)
        vals = pd.to_numeric(frame[col], errors="coerce").to_numpy(dtype=float)
        ok = (share > 0) & (vals > 0)
        dens = vals[ok] / share[ok]
        if len(dens) and np.allclose(dens, dens[0]):
            den = dens[0]
            den_rows = [i for i in rows if abs(vals[i] - den) < 1e-6 and not (share[i] > 0 and share[i] < 1)]
            members = tuple((i, col) for i in rows if i not in totals)
            if den_rows:
                handled.add("share")
                d = den_rows[0]
                for i in rows:
                    if i != d:
                        out.ratios.append(Ratio((i, "share"), (i, col), ((d, col),)))
            elif abs(np.nansum([vals[i] for i in rows if i not in totals]) - den) < 1e-6:
                handled.add("share")
                line = Line(members, None, float(den), share_column="share")
                out.lines.append(line)
                for i in rows:
                    out.ratios.append(Ratio((i, "share"), (i, col), line=line))
    out.derived = [c for c in frame.columns if c not in counts and c not in handled and c not in NOT_DERIVED
                   and (pd.api.types.is_numeric_dtype(frame[c].dtype) or pd.api.types.is_bool_dtype(frame[c].dtype))]
    return out


def _secondary(frame: pd.DataFrame, lines: list[Line], hidden: set[Cell]) -> set[Cell]:
    """Hide cells until no line has exactly one hidden cell (fixed point)."""
    hidden = set(hidden)
    changed = True
    while changed:
        changed = False
        for line in lines:
            cells = list(line.members) + ([line.total] if line.total else [])
            if sum(c in hidden for c in cells) != 1:
                continue
            pick = _smallest([c for c in line.members if c not in hidden], frame) or \
                _smallest([line.total] if line.total and line.total not in hidden else [], frame)
            if pick is not None:
                hidden.add(pick)
                changed = True
    return hidden


def _smallest(cells: list[Cell], frame: pd.DataFrame) -> Cell | None:
    if not cells:
        return None
    vals = [(_value(frame, c), k, c) for k, c in enumerate(cells)]
    positive = [v for v in vals if v[0] > 0]
    return min(positive or vals)[2]


def feasible_intervals(frame: pd.DataFrame, lines: list[Line], hidden: set[Cell]) -> dict[Cell, tuple[float, float]]:
    """Least and greatest value of each hidden cell given the shown cells, the lines and x >= 0.

    Solved as two linear programs per hidden cell (``scipy.optimize.linprog``, HiGHS); an
    unbounded maximum is ``inf``.
    """

    cells = sorted(hidden)
    if not cells:
        return {}
    pos = {c: k for k, c in enumerate(cells)}
    a_eq, b_eq = [], []
    for line in lines:
        terms = [(c, 1.0) for c in line.members] + ([(line.total, -1.0)] if line.total else [])
        row = np.zeros(len(cells))
        rhs = -0.0 if line.total else float(line.value)
        touched = False
        for c, coef in terms:
            if c in pos:
                row[pos[c]] += coef
                touched = True
            else:
                rhs -= coef * _value(frame, c)
        if touched:
            a_eq.append(row)
            b_eq.append(rhs)
    out = {}
    for c in cells:
        obj = np.zeros(len(cells))
        obj[pos[c]] = 1.0
        if not a_eq:
            out[c] = (0.0, np.inf)
            continue
        lo = linprog(obj, A_eq=np.array(a_eq), b_eq=np.array(b_eq), bounds=(0, None), method="highs")
        hi = linprog(-obj, A_eq=np.array(a_eq), b_eq=np.array(b_eq), bounds=(0, None), method="highs")
        low = lo.fun if lo.status == 0 else 0.0
        high = -hi.fun if hi.status == 0 else np.inf
        out[c] = (float(low), float(high))
    return out


def _pinned(intervals: dict[Cell, tuple[float, float]]) -> list[Cell]:
    return [c for c, (lo, hi) in intervals.items() if hi - lo < 1 - 1e-7]


def suppress(frame: pd.DataFrame, rule: SuppressionRule, *, grades: Sequence[str] = (),
             good_grades: Sequence[str] = (), hidden_counts: set[Cell] | None = None,
             primary_counts: set[Cell] | None = None, extra: set[Cell] | None = None) -> Suppressed:
    """Apply primary and secondary suppression and hide the ratios of hidden counts.

    Parameters
    ----------
    frame : DataFrame
        A report table (counts as integer columns, shares as floats); the index is kept.
    rule : SuppressionRule
    grades, good_grades : sequence of str
        The grade scale and its "good or better" grades (to recognise ``n`` and ``good_or_better``).

    Returns
    -------
    Suppressed
        ``frame`` (hidden cells hold ``rule.symbol``; other cells keep their values), the
        ``hidden`` mask and how many cells were hidden as primary and secondary.

    Notes
    -----
    After suppression no hidden count can be pinned to a single value by the table's own
    lines: :func:`feasible_intervals` is checked and more cells are hidden until it holds.

    ``hidden_counts`` (with ``primary_counts``, the primary ones among them) is the pack's pattern for this
    table (:mod:`qa_lib.present.pack`): the count cells hidden are then exactly those, and only the rules for
    derived cells run here; ``extra`` are derived cells the pack hides (a statistic on a hidden group).
    """
    st = structure(frame, grades=grades, good_grades=good_grades)
    extra_cells = set(extra or ())
    primary: set[Cell] = set()
    for col in st.counts:
        vals = pd.to_numeric(frame[col], errors="coerce")
        for i, v in enumerate(vals):
            if pd.notna(v) and 0 < v < rule.threshold:
                primary.add((i, col))
    lines = list(st.lines)
    if hidden_counts is not None:
        primary = set(primary_counts if primary_counts is not None else primary) & set(hidden_counts)
        hidden = set(hidden_counts)
    else:
        hidden = _secondary(frame, lines, primary)
    for _ in range(0 if hidden_counts is not None else len(frame) * max(len(st.counts), 1) + 1):
        pinned = _pinned(feasible_intervals(frame, lines, hidden)) if hidden else []
        if not pinned:
            break
        extra = None
        for cell in pinned:
            for line in lines:
                if cell in line.members or cell == line.total:
                    extra = _smallest([c for c in line.members if c not in hidden], frame) or \
                        _smallest([line.total] if line.total and line.total not in hidden else [], frame)
                    if extra is not None:
                        break
            if extra is not None:
                break
        if extra is None:  # nothing left to hide in those lines: hide every count of the table
            hidden |= {(i, c) for c in st.counts for i in range(len(frame))}
            break
        hidden = _secondary(frame, lines, hidden | {extra})
    mask = pd.DataFrame(False, index=frame.index, columns=frame.columns)
    cols = list(frame.columns)
    for i, c in hidden | extra_cells:
        mask.iat[i, cols.index(c)] = True
    # ratios whose parts are hidden; lines of a share column hide the whole share column if exposed
    for r in st.ratios:
        parts = [r.numerator, *r.plus, *r.minus]
        exposed_line = r.line is not None and sum(c in hidden for c in r.line.members) == 1
        if any(p in hidden for p in parts) or exposed_line:
            mask.iat[r.at[0], cols.index(r.at[1])] = True
    row_hidden = (mask[st.counts].any(axis=1) if st.counts else pd.Series(False, index=frame.index)).to_numpy()
    # a row whose text quotes a small count (or a small complement) is a suppressed group too: its statistics go
    for c in frame.columns:
        if c not in st.counts and (pd.api.types.is_object_dtype(frame[c].dtype) or pd.api.types.is_string_dtype(frame[c].dtype)):
            small_text = frame[c].map(lambda t: quotes_small(t, rule.threshold)).to_numpy(dtype=bool)
            mask[c] = mask[c].to_numpy() | small_text
            row_hidden = row_hidden | small_text
    ratio_cols = {r.at[1] for r in st.ratios}
    for c in st.derived:
        follows = [r for r in ratio_cols if str(c).startswith(r.removesuffix("_share").removesuffix("_rate"))]
        if follows:  # an interval or summary of a known ratio: hidden where the ratio is
            mask[c] = mask[c] | mask[follows[0]].to_numpy()
        elif _is_share_name(c) and pd.api.types.is_numeric_dtype(frame[c].dtype):
            pair = _pair(c, st.counts)
            # a share of unknown denominator reveals that denominator: hide the whole column when any
            # count it could involve is hidden
            involved = mask[pair].to_numpy().any() if pair else mask[st.counts].to_numpy().any()
            mask[c] = mask[c] | (np.ones(len(frame), dtype=bool) if involved else row_hidden)
        else:
            mask[c] = mask[c] | row_hidden
    # text quoting counts ("7 of 14"): hidden in rows with hidden counts, and wherever a quoted count is small
    for c in frame.columns:
        if c in st.counts or not (pd.api.types.is_object_dtype(frame[c].dtype) or pd.api.types.is_string_dtype(frame[c].dtype)):
            continue
        # a blank cell (NA) quotes nothing; mapped as plain objects (a string array cannot hold the booleans)
        text = [t if isinstance(t, str) else None for t in frame[c].astype(object).tolist()]
        quotes = np.array([t is not None and bool(COUNT_TEXT.search(t)) for t in text], dtype=bool)
        if not quotes.any():
            continue
        small = np.array([t is not None and bool(quotes_small(t, rule.threshold)) for t in text], dtype=bool)
        mask[c] = mask[c].to_numpy() | (quotes & row_hidden) | small
    shown = frame.astype(object).where(~mask.to_numpy(), rule.symbol)
    return Suppressed(frame=shown, hidden=mask, primary=len(primary), secondary=len(hidden - primary),
                      structure=st)


def table_note(result: Suppressed, rule: SuppressionRule) -> str:
    """The note under a published table that has hidden cells."""
    top = rule.threshold - 1
    what = f"a count from 1 to {top}" if top > 1 else "a count of 1"
    return (f"{rule.symbol} = not shown to protect confidentiality: {what}, or a cell hidden so that such a count "
            "cannot be worked out from the totals, or a percentage of a hidden count.")


_ALT_PART = re.compile(r"\(n = ([\d,]+)\)")


def chart_discloses(alt: str, rule: SuppressionRule) -> bool:
    """True when a chart's alt text (as :func:`qa_lib.present.charts.stacked_grades` writes it: ``label: A 12%,
    B 30% (n = 40)``) implies a count from 1 to ``threshold - 1`` — the bars would show it too.
    Alt text without ``(n = ...)`` quotes no counts and is not judged here. Alt text quoting ``x of n`` with
    a small ``x`` or ``n − x`` discloses too (``15.4% (4 of 26)``)."""
    if quotes_small(alt, rule.threshold):
        return True
    for part in re.split(r";\s*", alt or ""):
        m = _ALT_PART.search(part)
        if not m:
            continue
        n = int(m.group(1).replace(",", ""))
        if 0 < n < rule.threshold:
            return True
        for pct in re.findall(r"(\d+(?:\.\d+)?)%", part):
            count = round(float(pct) / 100 * n)
            if 0 < count < rule.threshold or (float(pct) > 0 and count == 0):
                return True
    return False


# -- pack-level protection (issue 14): one linear system over every count one period's pack prints ------------

@dataclass(frozen=True)
class Relation:
    """``sum(members) == total`` over named count variables of a pack (a member may repeat: coefficient 2)."""

    members: tuple[str, ...]
    total: str


@dataclass
class Protection:
    """The suppression pattern of a linear system of counts: which variables are hidden, and why."""

    values: dict[str, float]
    relations: list[Relation]
    primary: set[str]
    hidden: set[str]
    intervals: dict[str, tuple[float, float]] = field(default_factory=dict)

    @property
    def secondary(self) -> set[str]:
        return self.hidden - self.primary


def _components(hidden: set[str], relations: list[Relation]) -> list[tuple[list[str], list[Relation]]]:
    """Groups of hidden variables linked through relations (each solved as its own small program)."""
    parent = {v: v for v in hidden}

    def find(v):
        while parent[v] != v:
            parent[v] = parent[parent[v]]
            v = parent[v]
        return v

    touching: list[tuple[Relation, list[str]]] = []
    for rel in relations:
        hid = [v for v in (*rel.members, rel.total) if v in hidden]
        if not hid:
            continue
        touching.append((rel, hid))
        for v in hid[1:]:
            parent[find(v)] = find(hid[0])
    groups: dict[str, tuple[list[str], list[Relation]]] = {}
    for v in sorted(hidden):
        groups.setdefault(find(v), ([], []))[0].append(v)
    for rel, hid in touching:
        groups[find(hid[0])][1].append(rel)
    return list(groups.values())


def system_intervals(values: dict[str, float], relations: list[Relation],
                     hidden: set[str], memo: dict | None = None) -> dict[str, tuple[float, float]]:
    """Least and greatest value of every hidden variable given the shown ones, the relations and x >= 0.

    Linear programs (``scipy.optimize.linprog``, HiGHS), two per hidden variable, solved one connected
    group of hidden variables at a time (``memo`` keeps the answer of a group that has not changed). A
    variable in no relation is unbounded above (``inf``).
    """
    out: dict[str, tuple[float, float]] = {}
    for cells, rels in _components(hidden, relations):
        sig = tuple(cells)
        if memo is not None and sig in memo:
            out.update(memo[sig])
            continue
        got = _component_intervals(values, cells, rels)
        if memo is not None:
            memo[sig] = got
        out.update(got)
    return out


def _component_intervals(values, cells, rels) -> dict[str, tuple[float, float]]:
    out: dict[str, tuple[float, float]] = {}
    cellset = set(cells)
    if all(len(rel.members) == 1 and rel.members[0] in cellset and rel.total in cellset for rel in rels):
        # only "the same count printed twice", every copy hidden: each is free from 0 up (what the LPs find)
        return {c: (0.0, np.inf) for c in cells}
    if True:
        pos = {c: k for k, c in enumerate(cells)}
        a_eq, b_eq = [], []
        for rel in rels:
            row = np.zeros(len(cells))
            rhs = 0.0
            for v, coef in [*((m, 1.0) for m in rel.members), (rel.total, -1.0)]:
                if v in pos:
                    row[pos[v]] += coef
                else:
                    rhs -= coef * values[v]
            if np.any(row):
                a_eq.append(row)
                b_eq.append(rhs)
        for c in cells:
            if not a_eq:
                out[c] = (0.0, np.inf)
                continue
            obj = np.zeros(len(cells))
            obj[pos[c]] = 1.0
            lo = linprog(obj, A_eq=np.array(a_eq), b_eq=np.array(b_eq), bounds=(0, None), method="highs")
            hi = linprog(-obj, A_eq=np.array(a_eq), b_eq=np.array(b_eq), bounds=(0, None), method="highs")
            out[c] = (float(lo.fun) if lo.status == 0 else 0.0, float(-hi.fun) if hi.status == 0 else np.inf)
    return out


def _partner(candidates: list[str], values: dict[str, float], threshold: int,
             aggregates: frozenset[str] = frozenset(), copies: dict[str, int] | None = None) -> str | None:
    """The cell to hide next among ``candidates``: the smallest count of at least ``threshold`` (it gives the
    hidden cell room to move at the least cost), else the largest non-zero one, else any. A cell that is
    itself a total (``aggregates``) is taken only when no other will do (totals are what readers need most),
    and among equals the one printed in the fewest other places (``copies``: hiding it hides every copy)."""
    if not candidates:
        return None
    copies = copies or {}
    big = sorted((c in aggregates, copies.get(c, 0), values[c], c) for c in candidates if values[c] >= threshold)
    if big:
        return big[0][3]
    return min((c in aggregates, copies.get(c, 0), -values[c], c) for c in candidates)[3]


def protect(values: dict[str, float], relations: list[Relation], threshold: int, *,
            primary: set[str] | None = None, max_rounds: int = 60) -> Protection:
    """Primary and secondary suppression over a whole linear system of counts.

    Primary: every variable with ``0 < value < threshold`` (or ``primary`` when given). Secondary, repeated
    to a fixed point: a relation with exactly one hidden variable gets another one hidden; then every hidden
    variable's feasible interval (:func:`system_intervals`) must span at least ``threshold`` whole values
    (``hi - lo >= threshold - 1``), and where it does not, a shown variable of one of its relations is hidden
    (the smallest count of at least ``threshold``). A group that cannot be repaired has every variable of its
    relations hidden.
    """
    primary = {v for v, x in values.items() if 0 < x < threshold} if primary is None else set(primary)
    hidden = set(primary)
    aggregates = frozenset(rel.total for rel in relations)
    copies: dict[str, int] = {}
    for rel in relations:
        if len(rel.members) == 1:  # the same count printed twice
            for v in (rel.members[0], rel.total):
                copies[v] = copies.get(v, 0) + 1
    by_var: dict[str, list[Relation]] = {}
    for rel in relations:
        for v in {*rel.members, rel.total}:
            by_var.setdefault(v, []).append(rel)

    def close(hidden: set[str]) -> set[str]:
        changed = True
        while changed:
            changed = False
            for rel in relations:
                cells = set(rel.members) | {rel.total}
                if len(cells & hidden) != 1:
                    continue
                members = [m for m in dict.fromkeys(rel.members) if m not in hidden and values[m] != 0]
                pick = _partner(members, values, threshold, aggregates, copies)
                if pick is None and rel.total not in hidden:
                    pick = rel.total
                if pick is None:
                    pick = next((m for m in rel.members if m not in hidden), None)
                if pick is not None:
                    hidden.add(pick)
                    changed = True
        return hidden

    hidden = close(hidden)
    intervals: dict[str, tuple[float, float]] = {}
    memo: dict = {}
    for _ in range(max_rounds):
        intervals = system_intervals(values, relations, hidden, memo)
        short = [v for v, (lo, hi) in intervals.items() if hi - lo < threshold - 1 - 1e-7]
        if not short:
            break
        added = set()
        for v in short:
            cands = [c for rel in by_var.get(v, []) for c in (*rel.members, rel.total)
                     if c not in hidden and c not in added and values[c] != 0]
            pick = _partner(list(dict.fromkeys(cands)), values, threshold, aggregates, copies)
            if pick is None:  # its own relations are all hidden: widen the group it belongs to
                group = next((c for c, _ in _components(hidden, relations) if v in c), [v])
                cands = [c for g in group for rel in by_var.get(g, []) for c in (*rel.members, rel.total)
                         if c not in hidden and c not in added and values[c] != 0]
                pick = _partner(list(dict.fromkeys(cands)), values, threshold, aggregates, copies)
            if pick is None:  # nothing non-zero left: hide the zeros too (they then add room)
                pick = next((c for rel in by_var.get(v, []) for c in (*rel.members, rel.total)
                             if c not in hidden and c not in added), None)
            if pick is not None:
                added.add(pick)
        if not added:  # cannot repair: hide everything the short cells are related to
            for v in short:
                for rel in by_var.get(v, []):
                    hidden |= {*rel.members, rel.total}
            intervals = system_intervals(values, relations, hidden)
            break
        hidden = close(hidden | added)
    return Protection(values=values, relations=relations, primary=primary & hidden, hidden=hidden,
                      intervals=intervals)


def quotes_small(text: object, threshold: int) -> bool:
    """True when ``text`` quotes a count ``x of n`` / ``x/n`` with ``x`` or ``n − x`` from 1 to ``threshold − 1``."""
    if not isinstance(text, str):
        return False
    for a, b in COUNT_TEXT.findall(text):
        x, n = int(a), int(b)
        if 0 < x < threshold or 0 < n < threshold or 0 < n - x < threshold:
            return True
    return False


def guard_text(text: str, rule: SuppressionRule) -> str:
    """A published sentence with every quoted count that is small, or has a small complement, replaced by the
    mark (``4 of 26`` → ``c``; its percentage too when it is written next to it)."""

    def repl(m: re.Match) -> str:
        return rule.symbol if quotes_small(m.group(0), rule.threshold) else m.group(0)

    text = re.sub(r"\d+(?:\.\d+)?%\s*\((\d+)\s*(?:of|/)\s*(\d+)\)",
                  lambda m: rule.symbol if quotes_small(f"{m.group(1)} of {m.group(2)}", rule.threshold) else m.group(0),
                  text)
    return COUNT_TEXT.sub(repl, text)

"""Issue 14: an integer-programming attack on the whole published pack of a period.

The attacker reads every CSV the published demo writes (all four reports) and the sentences and alt
text of its HTML, writes down every linear relation the pack prints, and bounds each hidden cell with
``scipy.optimize.milp`` (integers >= 0). This file builds those relations itself from the CSV layouts,
independently of ``qa_lib.present.pack`` (which must not be trusted to mark its own homework):

- within a table: Total rows, ``n`` = the grades, ``good_or_better`` = Outstanding + Good, ``allocated``
  = returned + not returned + exempt, Moderated = same + downgraded + upgraded, Downgraded = its rows;
- every shown share or rate times its denominator is its numerator (full precision in the CSVs);
- moderation outcomes = the Overall confusion matrix; drift counts = the triangles of each domain's
  matrix, net-downgraded share × n = downgraded − upgraded, mean difference × n = Σ steps × cells;
  kappa-paradox grade shares × 2n = row + column sums, p_o × n = the diagonal; % same grade × n = the
  diagonal; service areas partition the moderated audits and the diagonal; the period row of agreement by
  period = Overall; audit volume by month sums to the period;
- feedback answers: answered = the answers other than "Didn't need to" (= n by question = answered in the
  intervals and change tables), positive = "Yes", not applicable; every answer share × all answers;
- returned by service area = graded audits = participation's returned; recorded − took part ≥ 0 and
  their sum = the reasons given; return rate × (allocated − exempt) = returned; return-rate-by-period;
- "x of n" quoted in text cells (summaries, domain changes, audit evidence) = the cells they quote;
- the highlight report (issue 16), month by month: allocated = distributed + exempt and the same counts as
  returns by month; took part + did not = recorded, months summing to the quarter's participation;
  moderation outcomes per month (Moderated = same + downgraded + upgraded, each move row under its
  kind) summing over the months to the quarter's outcomes; overall grades per month (grades = n, months
  summing to the period, n = audits returned = the past-months view, whose whole quarters sum to the
  history rows); grade by service area (O + G + RI + I = ALL, areas = TOTAL, = the quarterly table);
  performance areas (share × n = count, previous month = its own row, the shown months summing to grades
  by domain; the display's "x of n" = its cells); key themes (graded G/O = the G/O count, graded RI = the
  RI count, graded rows = n, share × audits in month); cohort occasions (share × n, Overall months summing
  to grades by cohort, first and latest = their occasions); actions = their statuses.

The pack passes when no hidden cell is pinned and every hidden cell's integer range spans at least
``threshold`` values. The same attack on the pack protected table by table (``suppression.scope:
table``, the behaviour before issue 14) must find leaks, so the test cannot pass vacuously.
"""

from __future__ import annotations

import html as _html
import re
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse import lil_matrix

from qa_lib.inputs.params import load_params

from conftest import PUBLISHED_DEMO_KEY, ROOT, demo_params_copy

GRADES = ["Outstanding", "Good", "Requires improvement", "Inadequate"]
GOOD = ["Outstanding", "Good"]
UB = 100_000
SMALL_TEXT = re.compile(r"(?<![\d.])(\d+)\s*(?:of|/)\s*(\d+)(?![\d.])")
#: index columns of each CSV (default 1)
INDEX = {"quarterly-audit_volume": 2, "moderation-confusion_by_domain": 2, "feedback-feedback_answers": 3,
         "feedback-feedback_intervals": 3, "feedback-feedback_by_question": 2, "quarterly-feedback_by_question": 2,
         "feedback-feedback_change": 2, "quarterly-feedback_change": 2, "moderation-multirater": 2,
         "highlight-performance_areas": 3, "highlight-cohort_comparators": 3, "highlight-cohort_changes": 2,
         "highlight-key_themes": 4,
         "quarterly-domain_by_quarter": 2, "feedback-feedback_to_date": 2, "feedback-family_voice_themes": 2}
MONTH_COLUMN = re.compile(r"^([A-Z][a-z]{2} \d{4}) (.+)$")  # "Jul 2024 G/O" in the highlight's performance display


class Attack:
    """Integer variables for hidden cells (and unknown sums), linear equalities, then milp bounds."""

    def __init__(self, folder: Path, symbol: str = "c"):
        self.symbol = symbol
        self.t: dict[str, pd.DataFrame] = {}
        self.pos: dict[str, dict] = {}
        for csv in sorted((folder / "tables").glob("*.csv")):
            raw = pd.read_csv(csv, dtype=str, keep_default_na=False, encoding="utf-8-sig")
            k = INDEX.get(csv.stem, 1)
            raw.index = [tuple(r) if k > 1 else r[0] for r in raw.iloc[:, :k].itertuples(index=False)]
            self.t[csv.stem] = raw.iloc[:, k:]
            self.pos[csv.stem] = {r: i for i, r in enumerate(raw.index)}
        self.names: list[str] = []
        self.cells: dict[tuple, int] = {}
        self.eqs: list[tuple[dict[int, float], float]] = []

    # -- expressions: (coefficients by variable, constant) or None when the pack does not print it ---------
    def new(self, name: str) -> int:
        self.names.append(name)
        return len(self.names) - 1

    def get(self, table: str, row, col: str):
        f = self.t.get(table)
        if f is None or col not in f.columns or row not in self.pos[table]:
            return None
        v = f.iat[self.pos[table][row], f.columns.get_loc(col)]
        if v == self.symbol:
            key = (table, row, col)
            if key not in self.cells:
                self.cells[key] = self.new(f"{table}|{row}|{col}")
            return ({self.cells[key]: 1.0}, 0.0)
        try:
            return ({}, float(v))
        except ValueError:
            return None

    def num(self, table, row, col) -> float | None:
        e = self.get(table, row, col)
        return None if e is None or e[0] else e[1]

    @staticmethod
    def lin(*terms):
        """Sum of (coefficient, expression) pairs; None if any expression is missing."""
        out: dict[int, float] = {}
        const = 0.0
        for coef, e in terms:
            if e is None:
                return None
            for v, c in e[0].items():
                out[v] = out.get(v, 0.0) + coef * c
            const += coef * e[1]
        return (out, const)

    def eq(self, left, right) -> None:
        """left == right (expressions); skipped when either is not printed."""
        d = self.lin((1, left), (-1, right)) if left is not None and right is not None else None
        if d is not None and any(abs(c) > 1e-12 for c in d[0].values()):
            self.eqs.append(({v: c for v, c in d[0].items() if abs(c) > 1e-12}, -d[1]))

    def total(self, members, total) -> None:
        if members and all(m is not None for m in members) and total is not None:
            self.eq(self.lin(*[(1, m) for m in members]), total)

    def ratio(self, share, numerator, denominator) -> None:
        """A shown share makes share × denominator = numerator."""
        if share is not None and not share[0] and numerator is not None and denominator is not None:
            self.eq(numerator, self.lin((share[1], denominator)))

    def unknown(self, name: str):
        return ({self.new(name): 1.0}, 0.0)

    # -- the attack ----------------------------------------------------------------------------------------
    def bounds(self, threshold: int) -> dict[str, tuple[float, float]]:
        """Least and greatest integer value of every hidden cell, one linked group at a time."""
        n = len(self.names)
        parent = list(range(n))

        def find(v):
            while parent[v] != v:
                parent[v] = parent[parent[v]]
                v = parent[v]
            return v

        for coefs, _ in self.eqs:
            vs = list(coefs)
            for v in vs[1:]:
                parent[find(v)] = find(vs[0])
        groups: dict[int, list[int]] = {}
        for v in range(n):
            groups.setdefault(find(v), []).append(v)
        eq_of: dict[int, list[int]] = {}
        for k, (coefs, _) in enumerate(self.eqs):
            eq_of.setdefault(find(next(iter(coefs))), []).append(k)
        cell_vars = set(self.cells.values())
        out = {}
        for root, vs in groups.items():
            targets = [v for v in vs if v in cell_vars]
            if not targets:
                continue
            eqs = [self.eqs[k] for k in eq_of.get(root, [])]
            if not eqs:
                for v in targets:
                    out[self.names[v]] = (0.0, float(UB))
                continue
            pos = {v: i for i, v in enumerate(vs)}
            a = lil_matrix((len(eqs), len(vs)))
            b = np.zeros(len(eqs))
            for r, (coefs, rhs) in enumerate(eqs):
                for v, c in coefs.items():
                    a[r, pos[v]] = c
                b[r] = rhs
            cons = LinearConstraint(a.tocsr(), b - 1e-6, b + 1e-6)
            for v in targets:
                c = np.zeros(len(vs))
                c[pos[v]] = 1.0
                lo = milp(c, constraints=cons, integrality=np.ones(len(vs)), bounds=Bounds(0, UB))
                hi = milp(-c, constraints=cons, integrality=np.ones(len(vs)), bounds=Bounds(0, UB))
                assert lo.status == 0 and hi.status == 0, (self.names[v], lo.message, hi.message)
                out[self.names[v]] = (round(lo.fun), round(-hi.fun))
        return out


def build(folder: Path, period: str, previous: str, threshold: int) -> Attack:  # one relation per line
    A = Attack(folder)
    t = A.get
    # -- within-table relations of the grade tables
    for name in ("quarterly-overall_by_period", "quarterly-grades_by_service_area", "quarterly-grades_by_cohort",
                 "quarterly-grades_by_domain"):
        f = A.t.get(name)
        if f is None:
            continue
        for r in f.index:
            A.total([t(name, r, x) for x in GRADES], t(name, r, "n"))
            A.total([t(name, r, x) for x in GOOD], t(name, r, "good_or_better"))
            A.ratio(t(name, r, "good_or_better_share"), t(name, r, "good_or_better"), t(name, r, "n"))
            _quoted(A, f.loc[r].get("good_or_better_summary"), t(name, r, "good_or_better"), t(name, r, "n"))
        if "Total" in f.index:
            for col in [*GRADES, "n", "good_or_better"]:
                A.total([t(name, r, col) for r in f.index if r != "Total"], t(name, "Total", col))
    sa, co, dom, per = ("quarterly-grades_by_service_area", "quarterly-grades_by_cohort", "quarterly-grades_by_domain",
                        "quarterly-overall_by_period")
    for col in [*GRADES, "n", "good_or_better"]:
        A.eq(t(sa, "Total", col), t(co, "Total", col))
        A.eq(t(sa, "Total", col), t(per, period, col))
    for d in A.t.get(dom, pd.DataFrame()).index:
        A.eq(t(dom, d, "n"), t(sa, "Total", "n"))
    # texts quoting the grade cells
    for name in ("quarterly-domain_changes", "quarterly-overall_change"):
        f = A.t.get(name)
        for r in (f.index if f is not None else []):
            here = (dom, r) if name.endswith("domain_changes") else (sa, "Total")
            _quoted(A, f.loc[r, "this_period"], t(*here, "good_or_better"), t(*here, "n"))
            if name.endswith("overall_change"):
                _quoted(A, f.loc[r, "previous_period"], t(per, previous, "good_or_better"), t(per, previous, "n"))
    for name in ("indicators-audit_evidence",):
        f = A.t.get(name)
        for r in (f.index if f is not None else []):
            kind, _, target = str(f.loc[r, "linked_to"]).partition(": ")
            table = co if kind == "cohort" else dom
            _quoted(A, f.loc[r, "this_period"], t(table, target, "good_or_better"), t(table, target, "n"))
            for part in str(f.loc[r, "good_or_better_by_period"]).split("; "):
                p, _, q = part.partition(": ")
                if p == period:
                    _quoted(A, q, t(table, target, "good_or_better"), t(table, target, "n"))
    for name in ("indicators-need_a_look", "quarterly-indicators_need_a_look"):
        f = A.t.get(name)
        for r in (f.index if f is not None else []):
            m = re.match(r"Domain '([^']+)': (.*)", str(f.loc[r, "audit_evidence"]))
            if m:
                _quoted(A, m.group(2), t(dom, m.group(1), "good_or_better"), t(dom, m.group(1), "n"))
    # -- audit volume
    vol = "quarterly-audit_volume"
    f = A.t.get(vol)
    if f is not None:
        for p in dict.fromkeys(i[0] for i in f.index):
            months = [i for i in f.index if i[0] == p]
            A.total([t(vol, m, "audits") for m in months], t(per, p, "n"))
            if p == period:
                A.total([t(vol, m, "moderated") for m in months], t("quarterly-moderation_outcomes", "Moderated", "audits"))
            for m in months:
                A.ratio(t(vol, m, "moderated_share"), t(vol, m, "moderated"), t(vol, m, "audits"))
    # -- returns and participation
    for name in ("quarterly-returns_by_month", "quarterly-returns_by_service_area"):
        f = A.t.get(name)
        if f is None:
            continue
        for r in f.index:
            A.total([t(name, r, "returned"), t(name, r, "not returned"), t(name, r, "exempt")], t(name, r, "allocated"))
            A.ratio(t(name, r, "return_rate"), t(name, r, "returned"),
                    A.lin((1, t(name, r, "allocated")), (-1, t(name, r, "exempt"))) if t(name, r, "exempt") else None)
            _quoted(A, f.loc[r].get("return_rate_summary"), t(name, r, "returned"),
                    A.lin((1, t(name, r, "allocated")), (-1, t(name, r, "exempt"))))
        if "Total" in f.index:
            for col in ["allocated", "returned", "not returned", "exempt"]:
                A.total([t(name, r, col) for r in f.index if r != "Total"], t(name, "Total", col))
    rbm, rsa, part, npr = ("quarterly-returns_by_month", "quarterly-returns_by_service_area", "quarterly-participation",
                           "quarterly-non_participation_reasons")
    for col in ["allocated", "returned", "not returned", "exempt"]:
        A.eq(t(rbm, "Total", col), t(rsa, "Total", col))
    rbp = "quarterly-return_rate_by_period"
    A.eq(t(rbp, period, "returned"), t(rbm, "Total", "returned"))
    A.eq(t(rbp, period, "due"), A.lin((1, t(rbm, "Total", "allocated")), (-1, t(rbm, "Total", "exempt"))))
    for r in A.t.get(rbp, pd.DataFrame()).index:
        A.ratio(t(rbp, r, "return_rate"), t(rbp, r, "returned"), t(rbp, r, "due"))
    f = A.t.get(part)
    not_took = []
    if f is not None:
        for col in ["returned", "recorded", "took_part"]:
            A.total([t(part, r, col) for r in f.index if r != "Total"], t(part, "Total", col))
        for r in f.index:
            A.ratio(t(part, r, "participation_rate"), t(part, r, "took_part"), t(part, r, "recorded"))
            A.eq(t(part, r, "returned"), t(rsa, r, "returned"))
            A.eq(t(part, r, "returned"), t(sa, r, "n"))
            if r != "Total":
                s = A.unknown(f"{part}|{r}|did not take part")  # recorded − took part, >= 0
                A.eq(A.lin((1, t(part, r, "took_part")), (1, s)), t(part, r, "recorded"))
                not_took.append(s)
    f = A.t.get(npr)
    if f is not None and not_took:
        reasons = [t(npr, r, "practitioners") for r in f.index]
        all_reasons = A.lin(*[(1, x) for x in not_took])
        A.total(reasons, all_reasons)
        for r in f.index:
            A.ratio(t(npr, r, "share"), t(npr, r, "practitioners"), all_reasons)
    # -- moderation: confusion matrices and everything computed from them
    conf = "moderation-confusion_by_domain"
    f = A.t.get(conf)
    pos = {x: k for k, x in enumerate(GRADES)}
    if f is not None:
        for d in dict.fromkeys(i[0] for i in f.index):
            x = {(a, m): t(conf, (d, a), m) for a in GRADES for m in GRADES}
            n = A.lin(*[(1, v) for v in x.values()])
            diag = A.lin(*[(1, x[(a, a)]) for a in GRADES])
            down = A.lin(*[(1, v) for (a, m), v in x.items() if pos[m] > pos[a]])
            up = A.lin(*[(1, v) for (a, m), v in x.items() if pos[m] < pos[a]])
            steps = A.lin(*[(pos[m] - pos[a], v) for (a, m), v in x.items() if m != a])
            for name in ("moderation-drift_direction", "moderation-kappa_paradox", "moderation-grade_mix",
                         "moderation-agreement_by_domain", "quarterly-moderation_agreement"):
                A.eq(t(name, d, "n"), n)
            for name in ("moderation-agreement_comparison", "moderation-sample_planning"):
                A.eq(t(name, d, "n"), n)
                A.ratio(t(name, d, "agreement_share"), diag, n)
            dr = "moderation-drift_direction"
            A.eq(t(dr, d, "n_downgraded"), down)
            A.eq(t(dr, d, "n_upgraded"), up)
            A.ratio(t(dr, d, "net_downgraded_share"), A.lin((1, down), (-1, up)), n)
            A.ratio(t(dr, d, "mean_difference"), steps, n)
            A.ratio(t("moderation-agreement_by_domain", d, "net_downgraded_share"), A.lin((1, down), (-1, up)), n)
            kp = "moderation-kappa_paradox"
            A.ratio(t(kp, d, "p_o"), diag, n)
            for gr in GRADES:
                margin = A.lin(*[(1, x[(gr, m)]) for m in GRADES], *[(1, x[(a, gr)]) for a in GRADES])
                A.ratio(t("moderation-grade_mix", d, f"{gr} share"), margin, A.lin((2, n)))
            if d == "Overall":
                out = "quarterly-moderation_outcomes"
                A.eq(t(out, "Moderated", "audits"), n)
                A.eq(t(out, "Same grade", "audits"), diag)
                A.eq(t(out, "Downgraded", "audits"), down)
                A.eq(t(out, "Upgraded", "audits"), up)
                for (a, m), v in x.items():
                    if a != m:
                        A.eq(t(out, f"{'Downgraded' if pos[m] > pos[a] else 'Upgraded'} {a} → {m}", "audits"), v)
                for r in A.t.get(out, pd.DataFrame()).index:
                    A.ratio(t(out, r, "share"), t(out, r, "audits"), n)
                pk = "moderation-agreement_by_period"
                A.eq(t(pk, period, "n"), n)
                A.ratio(t(pk, period, "agreement_share"), diag, n)
                sak = "moderation-agreement_by_service_area"
                g_sa = A.t.get(sak)
                if g_sa is not None:
                    A.total([t(sak, s, "n") for s in g_sa.index], n)
                    agree = []
                    for s in g_sa.index:
                        a_s, rest = A.unknown(f"{sak}|{s}|same grade"), A.unknown(f"{sak}|{s}|different grade")
                        A.eq(A.lin((1, a_s), (1, rest)), t(sak, s, "n"))
                        A.ratio(t(sak, s, "agreement_share"), a_s, t(sak, s, "n"))
                        agree.append(a_s)
                    A.total(agree, diag)
                # each service area against the other areas: the area's n and the others' n make Overall
                sck = "moderation-service_area_comparison"
                for s in A.t.get(sck, pd.DataFrame()).index:
                    A.eq(t(sck, s, "n"), t(sak, s, "n"))
                    A.eq(A.lin((1, t(sck, s, "n")), (1, t(sck, s, "rest_n"))), n)
    out = "quarterly-moderation_outcomes"
    A.total([t(out, r, "audits") for r in ("Same grade", "Downgraded", "Upgraded")], t(out, "Moderated", "audits"))
    for word in ("Downgraded", "Upgraded"):
        A.total([t(out, r, "audits") for r in A.t.get(out, pd.DataFrame()).index if str(r).startswith(word + " ")],
                t(out, word, "audits"))
    # -- feedback
    ans = "feedback-feedback_answers"
    f = A.t.get(ans)
    if f is not None:
        periods = [c[:-2] for c in f.columns if c.endswith(" n")]
        for sq in dict.fromkeys(i[:2] for i in f.index):
            rows = [i for i in f.index if i[:2] == sq]
            for p in periods:
                col = f"{p} n"
                every = A.lin(*[(1, t(ans, r, col)) for r in rows])
                answered = A.lin(*[(1, t(ans, r, col)) for r in rows if r[2] != "Didn't need to"])
                yes = t(ans, (*sq, "Yes"), col)
                na = t(ans, (*sq, "Didn't need to"), col)
                for r in rows:
                    A.ratio(t(ans, r, f"{p} share"), t(ans, r, col), every)
                for name in ("feedback-feedback_by_question", "quarterly-feedback_by_question"):
                    A.eq(t(name, sq, col), answered)
                    A.ratio(t(name, sq, f"{p} positive share"), yes, answered)
                ik = "feedback-feedback_intervals"
                A.eq(t(ik, (*sq, p), "answered"), answered)
                A.eq(t(ik, (*sq, p), "positive"), yes)
                A.eq(t(ik, (*sq, p), "not_applicable"), na)
                A.ratio(t(ik, (*sq, p), "share"), yes, answered)
                when = "later" if p == period else ("earlier" if p == previous else None)
                if when:
                    for name in ("feedback-feedback_change", "quarterly-feedback_change"):
                        A.eq(t(name, sq, f"{when}_answered"), answered)
                        A.eq(t(name, sq, f"{when}_positive"), yes)
                        A.ratio(t(name, sq, f"{when}_share"), yes, answered)
    _highlight(A, period)
    _send_tables(A, period)
    return A


def _month_label(text: str) -> str:
    """ "Jul 2024" -> "2024-07" """
    return pd.Timestamp(f"1 {text}").strftime("%Y-%m")


def _highlight(A: Attack, period: str) -> None:
    """The highlight report's relations (issue 16), written from its CSV layouts."""
    t = A.get
    per, rbm, part, npr = ("quarterly-overall_by_period", "quarterly-returns_by_month", "quarterly-participation",
                           "quarterly-non_participation_reasons")
    ctx, comp, hp, mod = "highlight-context", "highlight-compliance", "highlight-participation", "highlight-moderation"
    obm, past, gsa, perf = ("highlight-overall_by_month", "highlight-past_months", "highlight-grade_by_service_area",
                            "highlight-performance_areas")
    kt, coh, cch, act = ("highlight-key_themes", "highlight-cohort_comparators", "highlight-cohort_changes",
                         "highlight-themes_and_actions")
    rows = lambda name: list(A.t[name].index) if name in A.t else []  # noqa: E731
    months = rows(obm)
    quarter = " Q" in period
    for m in rows(ctx):
        A.total([t(ctx, m, "distributed"), t(ctx, m, "exempt")], t(ctx, m, "allocated"))
        A.ratio(t(ctx, m, "return_rate"), t(ctx, m, "returned"), t(ctx, m, "distributed"))
        for col in ("allocated", "returned", "exempt"):
            A.eq(t(ctx, m, col), t(rbm, m, col))
    for m in rows(comp):
        A.eq(t(comp, m, "returned"), t(ctx, m, "returned"))
        A.eq(t(comp, m, "distributed"), t(ctx, m, "distributed"))
        A.ratio(t(comp, m, "return_rate"), t(comp, m, "returned"), t(comp, m, "distributed"))
        prev = A.t[comp].loc[m, "previous_month"]
        A.eq(t(comp, m, "previous_returned"), t(ctx, prev, "returned"))
        A.eq(t(comp, m, "previous_distributed"), t(ctx, prev, "distributed"))
        A.ratio(t(comp, m, "previous_return_rate"), t(comp, m, "previous_returned"), t(comp, m, "previous_distributed"))
    for m in rows(hp):
        A.total([t(hp, m, "took_part"), t(hp, m, "did_not_take_part")], t(hp, m, "recorded"))
        A.ratio(t(hp, m, "participation_rate"), t(hp, m, "took_part"), t(hp, m, "recorded"))
    if quarter and rows(hp):
        for col in ("took_part", "recorded"):
            A.total([t(hp, m, col) for m in rows(hp)], t(part, "Total", col))
        if npr in A.t:
            A.total([t(npr, r, "practitioners") for r in rows(npr)],
                    A.lin(*[(1, t(hp, m, "did_not_take_part")) for m in rows(hp)]))
    # moderation by month
    if mod in A.t:
        f = A.t[mod]
        for m in f.columns:
            A.total([t(mod, r, m) for r in ("Same grade", "Downgraded", "Upgraded")], t(mod, "Moderated", m))
            for word in ("Downgraded", "Upgraded"):
                A.total([t(mod, r, m) for r in f.index if str(r).startswith(word + " ")], t(mod, word, m))
        if quarter:
            for r in f.index:
                whole = t(per, period, "n") if r == "Audits returned" else t("quarterly-moderation_outcomes", r, "audits")
                A.total([t(mod, r, m) for m in f.columns], whole)
    # overall grades by month and the past months
    for m in months:
        A.total([t(obm, m, g) for g in GRADES], t(obm, m, "n"))
        A.total([t(obm, m, g) for g in GOOD], t(obm, m, "good_or_better"))
        A.ratio(t(obm, m, "good_or_better_share"), t(obm, m, "good_or_better"), t(obm, m, "n"))
        _quoted(A, A.t[obm].loc[m].get("good_or_better_summary"), t(obm, m, "good_or_better"), t(obm, m, "n"))
        A.eq(t(obm, m, "n"), t(mod, "Audits returned", m))
        A.eq(t(obm, m, "n"), t(past, m, "n"))
        A.eq(t(obm, m, "good_or_better"), t(past, m, "good_or_better"))
    if quarter and months:
        for col in [*GRADES, "n", "good_or_better"]:
            A.total([t(obm, m, col) for m in months], t(per, period, col))
    for m in rows(past):
        A.ratio(t(past, m, "good_or_better_share"), t(past, m, "good_or_better"), t(past, m, "n"))
    for p in rows(per):
        if not re.fullmatch(r"\d{4}-\d{2} Q[1-4]", str(p)):
            continue
        start = 4 + 3 * (int(p[-1]) - 1)  # financial quarters: Q1 = April to June
        ms = [f"{int(p[:4]) + (start + k - 1) // 12}-{(start + k - 1) % 12 + 1:02d}" for k in range(3)]
        if all(m in rows(past) for m in ms):
            for col in ("n", "good_or_better"):
                A.total([t(past, m, col) for m in ms], t(per, p, col))
    # grade by service area, as 004 prints it
    sa = "quarterly-grades_by_service_area"
    short = ["O", "G", "RI", "I"]
    for r in rows(gsa):
        A.total([t(gsa, r, c) for c in short], t(gsa, r, "ALL"))
        if quarter:
            for c, g in zip([*short, "ALL"], [*GRADES, "n"]):
                A.eq(t(gsa, r, c), t(sa, "Total" if r == "TOTAL" else r, g))
    for c in [*short, "ALL"]:
        A.total([t(gsa, r, c) for r in rows(gsa) if r != "TOTAL"], t(gsa, "TOTAL", c))
    # performance areas, their display and the key themes
    dom = "quarterly-grades_by_domain"
    if perf in A.t:
        f = A.t[perf]
        for (d, m, measure) in f.index:
            r = (d, m, measure)
            A.ratio(t(perf, r, "share"), t(perf, r, "count"), t(perf, r, "n"))
            A.ratio(t(perf, r, "previous_share"), t(perf, r, "previous_count"), t(perf, r, "previous_n"))
            A.eq(t(perf, r, "n"), t(perf, (d, m, "G/O"), "n"))
            prev = f.loc[[r], "previous_month"].iloc[0]
            A.eq(t(perf, r, "previous_count"), t(perf, (d, prev, measure), "count"))
            A.eq(t(perf, r, "previous_n"), t(perf, (d, prev, measure), "n"))
            if measure == "G/O":
                A.eq(t(kt, (m, "strength", d, "graded Outstanding or Good"), "audits"), t(perf, r, "count"))
                A.total([t(kt, (m, "strength", d, "graded Outstanding or Good"), "audits"),
                         t(kt, (m, "learning", d, "graded Requires improvement"), "audits"),
                         t(kt, (m, "learning", d, "graded Inadequate"), "audits")], t(perf, r, "n"))
            else:
                A.eq(t(kt, (m, "learning", d, "graded Requires improvement"), "audits"), t(perf, r, "count"))
        if quarter:
            shown = f["shown"] == "True"
            for d in dict.fromkeys(i[0] for i in f.index):
                for measure, col in (("G/O", "good_or_better"), ("RI", "Requires improvement")):
                    ms = [i for i in f.index if i[0] == d and i[2] == measure and shown[i]]
                    A.total([t(perf, i, "count") for i in ms], t(dom, d, col))
                    if measure == "G/O":
                        A.total([t(perf, i, "n") for i in ms], t(dom, d, "n"))
    disp = A.t.get("highlight-performance_areas_display")
    if disp is not None:
        for d in disp.index:
            for col in disp.columns:
                m = MONTH_COLUMN.match(col)
                if m:
                    r = (d, _month_label(m.group(1)), m.group(2))
                    _quoted(A, disp.loc[d, col], t(perf, r, "count"), t(perf, r, "n"))
    for r in rows(kt):
        A.ratio(t(kt, r, "share_of_audits"), t(kt, r, "audits"), t(kt, r, "audits_in_month"))
        A.eq(t(kt, r, "audits_in_month"), t(mod, "Audits returned", r[0]))
    # cohort occasions and their first-vs-latest changes
    for r in rows(coh):
        A.ratio(t(coh, r, "good_or_better_share"), t(coh, r, "good_or_better"), t(coh, r, "n"))
    if quarter and coh in A.t:
        for c in dict.fromkeys(i[0] for i in rows(coh)):
            ms = [i for i in rows(coh) if i[0] == c and i[1] == "Overall" and i[2] in months]
            if ms:
                for col in ("good_or_better", "n"):
                    A.total([t(coh, i, col) for i in ms], t("quarterly-grades_by_cohort", c, col))
    for (c, d) in rows(cch):
        for when in ("first", "latest"):
            occ = A.t[cch].loc[[(c, d)], when].iloc[0]
            A.eq(t(cch, (c, d), f"{when}_good_or_better"), t(coh, (c, d, occ), "good_or_better"))
            A.eq(t(cch, (c, d), f"{when}_n"), t(coh, (c, d, occ), "n"))
            A.ratio(t(cch, (c, d), f"{when}_share"), t(cch, (c, d), f"{when}_good_or_better"), t(cch, (c, d), f"{when}_n"))
    statuses = ["Completed on time", "Completed late", "Open (not yet due)", "Overdue"]
    for r in rows(act):
        A.total([t(act, r, s_) for s_ in statuses], t(act, r, "actions"))


def _send_tables(A: Attack, period: str) -> None:
    """Issue 17's published tables, from their CSV layouts (qa_lib/sections/quarters.py, feedback.py,
    actions.py, multiagency.py): what a reader can write down about them."""
    t = A.get
    per, dom = "quarterly-overall_by_period", "quarterly-grades_by_domain"
    # domain x quarter: each row's grades sum to n, each share x n is its grade; this period's rows are the
    # domain table's, the Overall rows are the overall-by-period table's
    dbq = "quarterly-domain_by_quarter"
    for r in A.t.get(dbq, pd.DataFrame()).index:
        d, p = r
        A.total([t(dbq, r, g) for g in GRADES], t(dbq, r, "n"))
        for g in GRADES:
            A.ratio(t(dbq, r, f"{g} share"), t(dbq, r, g), t(dbq, r, "n"))
        for col in [*GRADES, "n"]:
            if p == period:
                A.eq(t(dbq, r, col), t(dom, d, col))
            if d == "Overall":
                A.eq(t(dbq, r, col), t(per, p, col))
    # audits and pieces of audit activity: periods sum to Total; a period's audits = its graded audits
    act = "quarterly-audit_activity"
    f = A.t.get(act)
    if f is not None:
        for col in ("audits", "pieces_of_activity"):
            A.total([t(act, r, col) for r in f.index if r != "Total"], t(act, "Total", col))
        for r in f.index:
            if r != "Total":
                A.eq(t(act, r, "audits"), t(per, r, "n"))
    # the 8-week review: service areas sum to Total; the share x actions whose window closed = reviewed in time
    rv = "quarterly-actions_review_in_time"
    f = A.t.get(rv)
    if f is not None:
        for col in ("window_closed", "reviewed_in_time", "window_open"):
            A.total([t(rv, r, col) for r in f.index if r != "Total"], t(rv, "Total", col))
        for r in f.index:
            A.ratio(t(rv, r, "reviewed_in_time_share"), t(rv, r, "reviewed_in_time"), t(rv, r, "window_closed"))
    # families who responded: to date = the periods shown + the responses before them (unknown, >= 0)
    fam = "feedback-families_responded"
    f = A.t.get(fam)
    if f is not None:
        shown = [c for c in f.columns if c != "to date"]
        for r in f.index:
            A.total([*(t(fam, r, c) for c in shown), A.unknown(f"{fam}|{r}|before the periods shown")],
                    t(fam, r, "to date"))
    # answers to date: each option's share x n is its count to date, the counts sum to n, and each count is the
    # answers table's count for that option over the periods shown + the answers before them (unknown, >= 0)
    td, ans = "feedback-feedback_to_date", "feedback-feedback_answers"
    f = A.t.get(td)
    if f is not None:
        ans_cols = [c for c in A.t.get(ans, pd.DataFrame()).columns if c.endswith(" n")]
        for r in f.index:
            opts = [c[: -len(" share")] for c in f.columns if c.endswith(" share")]
            xs = []
            for opt in opts:
                x = A.unknown(f"{td}|{r}|{opt} count")
                A.ratio(t(td, r, f"{opt} share"), x, t(td, r, "n"))
                xs.append(x)
                if ans_cols and (*r, opt) in A.pos.get(ans, {}):
                    A.total([*(t(ans, (*r, opt), c) for c in ans_cols), A.unknown(f"{td}|{r}|{opt} before")], x)
            A.total(xs, t(td, r, "n"))
    # multi-agency comparisons: units = higher + same + lower; share same x units = same
    for name in ("moderation-multiagency_agency_differs", "moderation-multiagency_vs_caseworker"):
        for r in A.t.get(name, pd.DataFrame()).index:
            A.total([t(name, r, c) for c in ("higher", "same", "lower")], t(name, r, "units"))
            A.ratio(t(name, r, "same_share"), t(name, r, "same"), t(name, r, "units"))


def _quoted(A: Attack, text, numerator, denominator) -> None:
    """Text "x of n" (or "x/n") quoting two cells: each equals its number."""
    m = SMALL_TEXT.search(str(text or ""))
    if m and numerator is not None and denominator is not None:
        A.eq(numerator, ({}, float(m.group(1))))
        A.eq(denominator, ({}, float(m.group(2))))


def sentences(folder: Path) -> list[str]:
    """Every sentence, list item and alt text of the pack's HTML."""
    out = []
    for page in sorted(folder.glob("*.html")):
        text = page.read_text(encoding="utf-8")
        out += [_html.unescape(re.sub(r"<[^>]+>", "", m.group(2)))
                for m in re.finditer(r"<(p|li|figcaption|dd|td)[^>]*>(.*?)</\1>", text, re.S)]
        out += [_html.unescape(m.group(1)) for m in re.finditer(r'alt="([^"]*)"', text)]
    return out


def attack(folder: Path, threshold: int, period: str) -> dict:
    """Bound every hidden cell of the pack in ``folder`` (its ``tables/`` and HTML)."""
    t0 = time.perf_counter()
    prev = _previous_label(folder, period)
    A = build(folder, period, prev, threshold)
    got = A.bounds(threshold)
    pinned = sorted(k for k, (lo, hi) in got.items() if hi - lo < 1)
    narrow = sorted(k for k, (lo, hi) in got.items() if hi - lo < threshold - 1)
    small_text = [s for s in sentences(folder) if any(
        0 < int(a) < threshold or 0 < int(b) - int(a) < threshold for a, b in SMALL_TEXT.findall(s))]
    return {"hidden": len(got), "pinned": pinned, "narrow": narrow, "relations": len(A.eqs),
            "seconds": time.perf_counter() - t0, "small_text": small_text,
            "heat_maps": [s for s in sentences(folder) if s.startswith("Heat maps of auditor grade")]}


def _previous_label(folder: Path, period: str) -> str:
    f = pd.read_csv(folder / "tables" / "quarterly-overall_by_period.csv", dtype=str, encoding="utf-8-sig")
    labels = list(f["period"])
    return labels[labels.index(period) - 1]


@pytest.fixture(scope="module")
def table_scope_run(tmp_path_factory):
    """The published demo protected table by table (the behaviour before issue 14)."""
    from qa_lib.running.batch import run_batch as run

    folder = tmp_path_factory.mktemp("demo_table_scope")
    key_file = folder / "pseudonym.key"
    key_file.write_text(PUBLISHED_DEMO_KEY, encoding="utf-8")
    params_path = demo_params_copy(folder, source=ROOT / "params" / "demo-published.yaml",
                                   pseudonym_key_file=str(key_file),
                                   suppression={"threshold": 5, "symbol": "c", "scope": "table"})
    run([params_path])
    return folder / "outputs" / load_params(params_path).period.slug, load_params(params_path).period.label


@pytest.mark.slow
def test_attack_on_the_published_pack_pins_nothing(demo_published_run):
    got = attack(demo_published_run["out"], 5, load_params(demo_published_run["params"]).period.label)
    assert got["hidden"] > 100 and got["relations"] > 300  # it really attacks
    assert got["pinned"] == [], got["pinned"][:10]
    assert got["narrow"] == [], got["narrow"][:10]
    assert got["small_text"] == [], got["small_text"][:5]
    assert got["heat_maps"] == []  # the heat maps print every cell
    assert got["seconds"] < 120
    out = demo_published_run["out"]
    for page in ("quarterly", "moderation", "feedback", "indicators", "highlight"):  # the one-paragraph statement
        text = (out / f"{page}.html").read_text(encoding="utf-8")
        assert "What is suppressed and why" in text and "(primary suppression)" in text, page


#: published CSVs outside the pack's linear system: no count in them is printed anywhere else (indicator
#: values are checked as text: no small count or small complement is quoted), or they hold no counts
OUTSIDE_PACK = {"indicators-summary", "indicators-need_a_look", "indicators-audit_evidence", "indicators-benchmarks",
                "indicators-unmatched_benchmarks", "moderation-multirater", "quarterly-trend_tests",
                "quarterly-overall_change", "quarterly-domain_changes", "quarterly-indicators_need_a_look",
                # text cells "43% ↓ (16 of 37)" quoting the performance areas' counts (the attack reads them)
                "highlight-performance_areas_display"}


@pytest.mark.slow
def test_every_published_table_with_counts_is_in_the_pack(demo_published_run):
    from qa_lib.present.pack import PACK_TABLES

    stems = {p.stem for p in (demo_published_run["out"] / "tables").glob("*.csv")}
    assert stems - set(PACK_TABLES) <= OUTSIDE_PACK, sorted(stems - set(PACK_TABLES) - OUTSIDE_PACK)
    assert len(stems & set(PACK_TABLES)) >= 25


@pytest.mark.slow
def test_the_same_attack_breaks_table_by_table_protection(table_scope_run):
    got = attack(*table_scope_run[:1], 5, table_scope_run[1])
    # issue 14 measured 66 of 242 pinned with the attacker's relations; this attack finds them too
    assert len(got["pinned"]) >= 20, len(got["pinned"])
    assert any("moderation_outcomes" in k or "confusion" in k for k in got["pinned"])
    # (sentences and alt text are guarded in every published run, whatever the scope: see test above)


def test_attack_model_on_a_hand_made_pack(tmp_path):
    """Two tiny tables that agree on a total: a hidden cell each is safe alone, pinned together."""
    tables = tmp_path / "tables"
    tables.mkdir()
    pd.DataFrame({"service_area": ["A", "B", "Total"], "Outstanding": ["c", "c", "9"], "Good": ["c", "c", "12"],
                  "Requires improvement": ["0", "0", "0"], "Inadequate": ["0", "0", "0"],
                  "n": ["c", "c", "21"], "good_or_better": ["c", "c", "21"]}).to_csv(
        tables / "quarterly-grades_by_service_area.csv", index=False)
    a = build(tmp_path, "P", "P0", 5)
    got = a.bounds(5)
    assert got["quarterly-grades_by_service_area|A|Outstanding"] == (0, 9)
    # a second table prints A's n (11) and Outstanding for A (3): A's Good is then pinned at 8
    pd.DataFrame({"service_area": ["A"], "returned": ["11"], "recorded": ["11"], "took_part": ["11"],
                  "participation_rate": ["1.0"]}).to_csv(tables / "quarterly-participation.csv", index=False)
    pd.DataFrame({"domain": ["D"], "this_period": ["3 of 11 (27%)"]}).to_csv(
        tables / "quarterly-domain_changes.csv", index=False)
    pd.DataFrame({"domain": ["D"], "Outstanding": ["c"], "Good": ["0"], "Requires improvement": ["8"],
                  "Inadequate": ["0"], "n": ["11"], "good_or_better": ["c"]}).to_csv(
        tables / "quarterly-grades_by_domain.csv", index=False)
    got = build(tmp_path, "P", "P0", 5).bounds(5)
    assert got["quarterly-grades_by_service_area|A|n"] == (11, 11)
    assert got["quarterly-grades_by_domain|D|Outstanding"] == (3, 3)


@pytest.mark.slow
def test_attack_on_a_published_send_forms_programme(tmp_path):
    """Issue 17: the same attack on a published forms-only programme (3 plans x 4 agencies,
    tests/fixtures/handmade/send-forms), whose pack holds the multi-agency comparison tables and the SEND
    quarterly tables: nothing pinned or narrowed, and the plan x agency grid is not published."""
    import shutil

    import yaml

    from qa_lib.running.batch import run_batch as run

    src = ROOT / "tests" / "fixtures" / "handmade" / "send-forms"
    for f in src.glob("*.*"):
        shutil.copy(f, tmp_path)
    values = yaml.safe_load((tmp_path / "params.yaml").read_text(encoding="utf-8"))
    values.update(audience="published", formats=["html", "csv"])
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(values), encoding="utf-8")
    results = run([tmp_path / "params.yaml"], reports=["quarterly", "moderation"])
    assert all(r.status == "ok" for r in results), [(r.report, r.error) for r in results]
    params = load_params(tmp_path / "params.yaml")
    out = tmp_path / "out" / params.period.slug
    stems = {p.stem for p in (out / "tables").glob("*.csv")}
    assert {"moderation-multiagency_agency_differs", "moderation-multiagency_vs_caseworker",
            "quarterly-domain_by_quarter", "quarterly-audit_activity"} <= stems
    assert "moderation-multiagency_grid" not in stems
    got = build(out, params.period.label, params.period.shift(-1).label, 5).bounds(5)
    assert any(k.startswith("moderation-multiagency_") for k in got)  # small agency counts really are hidden
    assert [k for k, (lo, hi) in got.items() if hi - lo < 4] == []

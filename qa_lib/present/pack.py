"""Disclosure control for one period's whole published pack (issue 14), not table by table.

The published reports of a period (quarterly, moderation, feedback, indicators, highlight) print the same
counts in several tables and tie them together with totals, complements and shares. Suppressing each
table on its own lets a reader who combines them recover hidden cells. So the pack's pattern is
computed once, from the Dataset and the params, before any report is rendered:

1. :data:`PACK_TABLES` builds every published table that carries counts, exactly as the notebooks
   pass it to :meth:`qa_lib.present.report.Report.table`. Every count cell becomes a variable
   ``"<report>-<name>|<row>|<column>"``.
2. Relations (``sum(members) == total``): each table's own lines (:func:`disclosure.structure`) and
   the links between tables (:func:`_links`): the same count printed twice; the Overall confusion
   matrix = moderation outcomes (same grade = diagonal, each "Downgraded A → B" = one cell); drift
   counts = the triangles of each domain's matrix; the kappa-paradox grade shares = (row sum + column
   sum) / 2n; service areas and periods partitioning the moderated audits and their agreement counts;
   monthly audits and moderated audits summing to the period; feedback answers = answered + "didn't need
   to", positive = "Yes", answered in the other three feedback tables; returned audits by service area =
   graded audits = participation's returned; recorded − took part = the reasons given. Counts a share
   makes public without printing them (the agreement count behind "% same grade", a grade's marginal
   behind its share) are variables too, so hiding them hides the share.
3. :func:`disclosure.protect` hides every count from 1 to ``threshold − 1`` (primary), then hides
   further cells (secondary) until no hidden variable's feasible range, over every relation and
   non-negativity, spans fewer than ``threshold`` whole values.
4. Every report kernel computes the same pattern (it is a deterministic function of the data and the
   params) and :meth:`Report.table` hides exactly those cells, plus every statistic computed on a
   hidden group (GSS: print no statistic on a suppressed group), see :func:`statistic_cells`.

The test ``tests/present/test_pack_attack.py`` attacks the rendered pack with an integer program over
every CSV and checks the result.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable

import pandas as pd

from qa_lib.core.errors import QAError
from qa_lib.inputs.data import Dataset
from qa_lib.inputs.periods import parse_period
from qa_lib.present import disclosure
from qa_lib.present.disclosure import Protection, Relation, SuppressionRule
from qa_lib.sections import actions, change, feedback, highlight, multiagency, quarters, reliability, returns, tables, themes

#: "<report>-<name>" -> the frame the notebook passes to ``rpt.table`` (keep in step with notebooks/*.py;
#: ``tests/present/test_pack_attack.py`` checks that every published CSV with counts is listed here).
PACK_TABLES: dict[str, Callable[[Dataset], pd.DataFrame]] = {
    "quarterly-audit_volume": lambda ds: tables.audit_volume(ds).set_index(["period", "month"]),
    # as the notebook passes it: periods with no audits left out (a SEND programme's first quarters)
    "quarterly-overall_by_period": lambda ds: change.with_intervals(change.without_empty_periods(
        tables.overall_by_period(ds)), ds),
    "quarterly-grades_by_service_area": lambda ds: change.with_intervals(tables.grades_by(ds, "service_area"), ds),
    "quarterly-grades_by_domain": lambda ds: change.with_intervals(tables.grades_by_domain(ds), ds),
    "quarterly-grades_by_cohort": lambda ds: change.with_intervals(tables.grades_by(ds, "cohort"), ds),
    "quarterly-returns_by_month": lambda ds: change.returns_with_intervals(tables.returns_by(ds, "month_label"), ds),
    "quarterly-returns_by_service_area": lambda ds: tables.returns_by(ds, "service_area"),
    "quarterly-participation": lambda ds: tables.participation(ds),
    "quarterly-non_participation_reasons": lambda ds: tables.non_participation_reasons(ds),
    "quarterly-return_rate_by_period": lambda ds: returns.by_period(ds),
    "quarterly-moderation_outcomes": lambda ds: tables.moderation_outcomes(ds),
    "quarterly-moderation_agreement": lambda ds: reliability.quarterly_agreement(ds),
    "quarterly-feedback_by_question": lambda ds: feedback.by_question(ds),
    "quarterly-feedback_change": lambda ds: feedback.compare_periods(ds),
    "quarterly-comments_by_domain": lambda ds: themes.by_domain(ds),
    "quarterly-themes_by_period": lambda ds: themes.counts_by_period(ds),
    "quarterly-actions_by_service_area": lambda ds: actions.status_by_service_area(ds),
    "moderation-agreement_by_domain": lambda ds: reliability.agreement_by_domain(ds),
    "moderation-agreement_by_period": lambda ds: reliability.agreement_by_period(ds),
    "moderation-agreement_by_service_area": lambda ds: reliability.agreement_by_service_area(ds),
    "moderation-confusion_by_domain": lambda ds: reliability.confusion_by_domain(ds),
    "moderation-drift_direction": lambda ds: reliability.drift_direction(ds),
    "moderation-drift_tests": lambda ds: reliability.drift_tests(ds),
    "moderation-kappa_paradox": lambda ds: reliability.paradox_coefficients(reliability.kappa_paradox(ds)),
    "moderation-grade_mix": lambda ds: reliability.grade_mix(reliability.kappa_paradox(ds)),
    "moderation-agreement_comparison": lambda ds: reliability.agreement_comparison(ds),
    "moderation-sample_planning": lambda ds: reliability.sample_planning(ds),
    "moderation-domain_comparison": lambda ds: reliability.domain_comparison(ds),
    "moderation-service_area_comparison": lambda ds: reliability.service_area_comparison(ds),
    "feedback-feedback_by_question": lambda ds: feedback.by_question(ds),
    "feedback-feedback_intervals": lambda ds: feedback.positive_shares(ds).set_index(["survey", "question", "period"]),
    "feedback-feedback_answers": lambda ds: feedback.answers_table(ds),
    "feedback-feedback_change": lambda ds: feedback.compare_periods(ds),
    # issue 16: the highlight report (months as columns); its links to the quarterly tables are in _highlight_links
    "highlight-context": lambda ds: highlight.context(ds),
    "highlight-compliance": lambda ds: highlight.compliance(ds),
    "highlight-participation": lambda ds: highlight.participation(ds),
    "highlight-moderation": lambda ds: highlight.moderation(ds),
    "highlight-overall_by_month": lambda ds: change.with_intervals(highlight.overall_by_month(ds), ds),
    "highlight-past_months": lambda ds: highlight.past_months(ds).frame,
    "highlight-grade_by_service_area": lambda ds: highlight.grade_by_service_area(ds),
    "highlight-performance_areas": lambda ds: highlight.performance_areas(ds),
    "highlight-cohort_comparators": lambda ds: highlight.cohort_comparators(ds),
    "highlight-cohort_changes": lambda ds: highlight.cohort_changes(ds),
    "highlight-key_themes": lambda ds: highlight.key_themes(ds),
    "highlight-themes_and_actions": lambda ds: highlight.themes_and_actions(ds),
    "highlight-other_audits": lambda ds: highlight.other_audits(ds),
    # issue 17: SEND quarterly content, family voice, the 8-week review, multi-agency QA (the plan x agency grid
    # is person-level: withheld from published reports, so never part of the pack)
    "quarterly-domain_by_quarter": lambda ds: quarters.domain_by_quarter(ds),
    "quarterly-audit_activity": lambda ds: quarters.audit_activity(ds),
    "quarterly-actions_review_in_time": lambda ds: actions.review_within_weeks(ds),
    "feedback-families_responded": lambda ds: feedback.families_responded(ds),
    "feedback-feedback_to_date": lambda ds: feedback.to_date_table(ds),
    "feedback-family_voice_themes": lambda ds: feedback.family_voice_themes(ds),
    "moderation-multiagency_agreement": lambda ds: multiagency.agreement_by_domain(ds),
    "moderation-multiagency_agency_differs": lambda ds: multiagency.agency_differs(ds),
    "moderation-multiagency_vs_caseworker": lambda ds: multiagency.versus_caseworker(ds),
}

#: Published tables with counts that are deliberately outside the pack's linear system, each protected on its
#: own: no count in them is printed in another table (indicator values are checked as text), or their
#: counts are degrees of freedom. Any other published table with counts that is not in :data:`PACK_TABLES`
#: is withheld (fail closed, see :func:`unregistered`): a new table must be added to the pack first.
OUTSIDE_PACK = frozenset({
    "indicators-summary", "indicators-need_a_look", "indicators-audit_evidence", "indicators-benchmarks",
    "indicators-unmatched_benchmarks", "moderation-multirater", "quarterly-trend_tests", "quarterly-overall_change",
    "quarterly-domain_changes", "quarterly-indicators_need_a_look",
    # text cells "43% ↓ (16 of 37)" built from the suppressed view of highlight-performance_areas (in the pack)
    "highlight-performance_areas_display"})
#: the multi-agency comparison tables: units = higher + same + lower
MULTIAGENCY_COMPARE = ("moderation-multiagency_agency_differs", "moderation-multiagency_vs_caseworker")

#: statistics of an agreement table: hidden in a row whose n or agreement count is hidden
AGREEMENT_STATS = re.compile(r"^(agreement|kappa|ac1|ac2|alpha|p_o|p_e|ac1_p_e|net_downgraded|mean_difference|"
                             r"stuart|bowker|mcnemar|direction|most_common|skewed|previous_ac1|z$|t$|p_value|q_value|"
                             r"differs|"
                             r".* share$)")


def row_label(idx) -> str:
    return " / ".join(str(x) for x in idx) if isinstance(idx, tuple) else str(idx)


def var(key: str, row, col: str) -> str:
    return f"{key}|{row_label(row) if not isinstance(row, str) else row}|{col}"


@dataclass
class PackPattern:
    """The pack's suppression: the protection of its linear system and the frames it was computed on."""

    protection: Protection
    frames: dict[str, pd.DataFrame]
    counts: dict[str, list[str]]  # table key -> its count columns

    def hidden_cells(self, key: str, frame: pd.DataFrame) -> tuple[set, set] | None:
        """(hidden, primary) count cells ``(row position, column)`` of ``frame`` as table ``key``, or None
        when ``key`` is not a pack table. A ``frame`` whose counts differ from the frame the pattern was
        computed on is refused (QAError): protecting it on its own would undo the pack's protection."""
        ref = self.frames.get(key)
        if ref is None:
            return None
        if list(ref.index) != list(frame.index) or list(ref.columns) != list(frame.columns) or not all(
                pd.to_numeric(ref[c], errors="coerce").fillna(-1).tolist()
                == pd.to_numeric(frame[c], errors="coerce").fillna(-1).tolist() for c in self.counts[key]):
            raise QAError(f"published table '{key}' is not the table the pack's disclosure control was computed on. "
                          "Fix: build it in the notebook exactly as qa_lib.present.pack.PACK_TABLES does")
        hidden, primary = set(), set()
        for i, idx in enumerate(frame.index):
            for c in self.counts[key]:
                v = var(key, idx, c)
                if v in self.protection.hidden:
                    hidden.add((i, c))
                    if v in self.protection.primary:
                        primary.add((i, c))
        return hidden, primary


class _Builder:
    def __init__(self, ds: Dataset, frames: dict[str, pd.DataFrame]):
        self.ds = ds
        self.frames = frames
        self.values: dict[str, float] = {}
        self.relations: list[Relation] = []
        self.counts: dict[str, list[str]] = {}

    def has(self, key, row, col) -> bool:
        f = self.frames.get(key)
        return f is not None and col in self.counts.get(key, ()) and row in f.index

    def cell(self, key, row, col) -> str | None:
        return var(key, row, col) if self.has(key, row, col) else None

    def virtual(self, name: str, members: list[str]) -> str:
        """A count the pack makes public without printing it (the sum of ``members``)."""
        v = "virtual|" + name
        self.values[v] = float(sum(self.values[m] for m in members))
        self.relations.append(Relation(tuple(members), v))
        return v

    def same(self, a: str | None, b: str | None) -> None:
        if a and b and a != b and abs(self.values[a] - self.values[b]) < 1e-9:
            self.relations.append(Relation((a,), b))

    def sums(self, members: list[str | None], total: str | None) -> None:
        if total and members and all(members) and abs(sum(self.values[m] for m in members) - self.values[total]) < 1e-9:
            self.relations.append(Relation(tuple(members), total))


def _tables(b: _Builder, rule: SuppressionRule) -> None:
    grades, good = list(b.ds.scale.grades), list(b.ds.scale.good_grades)
    for key, frame in b.frames.items():
        st = disclosure.structure(frame, grades=grades, good_grades=good)
        b.counts[key] = list(st.counts)
        for c in st.counts:
            col = pd.to_numeric(frame[c], errors="coerce").astype("float64").fillna(0.0).to_numpy()
            for idx, x in zip(frame.index, col):
                b.values[var(key, idx, c)] = float(x)
        rows = list(frame.index)
        for line in st.lines:
            members = tuple(var(key, rows[i], c) for i, c in line.members)
            if line.total is not None:
                b.relations.append(Relation(members, var(key, rows[line.total[0]], line.total[1])))
            else:  # a share column's public denominator
                v = f"virtual|{key}|sum of {line.members[0][1]}"
                b.values[v] = float(line.value)
                b.relations.append(Relation(members, v))


def _links(b: _Builder) -> None:
    ds = b.ds
    grades = list(ds.scale.grades)
    period = ds.period.label
    total = tables.TOTAL
    # the same table printed in two reports
    for a, c in [("quarterly-feedback_by_question", "feedback-feedback_by_question"),
                 ("quarterly-feedback_change", "feedback-feedback_change")]:
        if a in b.frames and c in b.frames:
            for idx in b.frames[a].index:
                for col in b.counts[a]:
                    b.same(b.cell(a, idx, col), b.cell(c, idx, col))
    # -- audits of the period: service areas, cohorts, domains, periods, months
    sa, co, dom, per = ("quarterly-grades_by_service_area", "quarterly-grades_by_cohort",
                        "quarterly-grades_by_domain", "quarterly-overall_by_period")
    for col in [*grades, "n", "good_or_better"]:
        b.same(b.cell(sa, total, col), b.cell(co, total, col))
        b.same(b.cell(sa, total, col), b.cell(per, period, col))
    if dom in b.frames:
        for d in b.frames[dom].index:
            b.same(b.cell(dom, d, "n"), b.cell(sa, total, "n"))
    vol = "quarterly-audit_volume"
    if vol in b.frames:
        f = b.frames[vol]
        for p in dict.fromkeys(i[0] for i in f.index):
            months = [i for i in f.index if i[0] == p]
            b.sums([b.cell(vol, m, "audits") for m in months], b.cell(per, p, "n"))
            if p == period:
                b.sums([b.cell(vol, m, "moderated") for m in months], b.cell("quarterly-moderation_outcomes", "Moderated", "audits"))
    # returned audits = graded audits = participation's returned, by service area
    part, rsa, rbm, npr = ("quarterly-participation", "quarterly-returns_by_service_area",
                           "quarterly-returns_by_month", "quarterly-non_participation_reasons")
    if part in b.frames:
        for s in b.frames[part].index:
            b.same(b.cell(part, s, "returned"), b.cell(rsa, s, "returned"))
            b.same(b.cell(part, s, "returned"), b.cell(sa, s, "n"))
        not_took = []
        for s in b.frames[part].index:
            if s == total or not (b.has(part, s, "recorded") and b.has(part, s, "took_part")):
                continue
            v = f"virtual|{part}|{s}|did not take part"
            b.values[v] = b.values[b.cell(part, s, "recorded")] - b.values[b.cell(part, s, "took_part")]
            b.relations.append(Relation((b.cell(part, s, "took_part"), v), b.cell(part, s, "recorded")))
            not_took.append(v)
        if npr in b.frames and not_took:
            reasons = [b.cell(npr, r, "practitioners") for r in b.frames[npr].index]
            if all(reasons) and abs(sum(b.values[r] for r in reasons) - sum(b.values[v] for v in not_took)) < 1e-9:
                b.relations.append(Relation(tuple(reasons), b.virtual(f"{part}|not taking part", not_took)))
    for col in ["allocated", "returned", "not returned", "exempt"]:
        b.same(b.cell(rsa, total, col), b.cell(rbm, total, col))
    rbp = "quarterly-return_rate_by_period"
    if rbp in b.frames and b.has(rbm, total, "allocated"):
        b.same(b.cell(rbp, period, "returned"), b.cell(rbm, total, "returned"))
        due = b.cell(rbp, period, "due")
        if due:
            b.sums([due, b.cell(rbm, total, "exempt")], b.cell(rbm, total, "allocated"))
    # -- moderation: the confusion matrices and everything computed from them
    conf = "moderation-confusion_by_domain"
    if conf in b.frames:
        f = b.frames[conf]
        pos = {g: k for k, g in enumerate(grades)}
        for d in dict.fromkeys(i[0] for i in f.index):
            cells = {(a, m): b.cell(conf, (d, a), m) for a in grades for m in grades if b.has(conf, (d, a), m)}
            if len(cells) != len(grades) ** 2:
                continue
            label = "Overall" if d in ("Overall", "Overall grade") else d
            n = b.virtual(f"{conf}|{d}|n", list(cells.values()))
            diag = b.virtual(f"{conf}|{d}|same grade", [cells[(g, g)] for g in grades])
            # moderator grade later in the scale = moderated lower
            down = b.virtual(f"{conf}|{d}|downgraded", [v for (a, m), v in cells.items() if pos[m] > pos[a]])
            up = b.virtual(f"{conf}|{d}|upgraded", [v for (a, m), v in cells.items() if pos[m] < pos[a]])
            for key in ("moderation-drift_direction", "moderation-kappa_paradox", "moderation-grade_mix",
                        "moderation-agreement_by_domain", "quarterly-moderation_agreement",
                        "moderation-agreement_comparison", "moderation-sample_planning"):
                b.same(b.cell(key, label, "n"), n)
            b.same(b.cell("moderation-drift_direction", label, "n_downgraded"), down)
            b.same(b.cell("moderation-drift_direction", label, "n_upgraded"), up)
            if label == "Overall":
                out = "quarterly-moderation_outcomes"
                b.same(b.cell(out, "Moderated", "audits"), n)
                b.same(b.cell(out, "Same grade", "audits"), diag)
                b.same(b.cell(out, "Downgraded", "audits"), down)
                b.same(b.cell(out, "Upgraded", "audits"), up)
                for (a, m), v in cells.items():
                    if a != m:
                        word = "Downgraded" if pos[m] > pos[a] else "Upgraded"
                        b.same(b.cell(out, f"{word} {a} → {m}", "audits"), v)
                b.same(b.cell("moderation-agreement_by_period", period, "n"), n)
                # each service area against the rest: n = the area's moderated audits, rest_n = the others
                sck = "moderation-service_area_comparison"
                for s in b.frames.get(sck, pd.DataFrame()).index:
                    b.same(b.cell(sck, s, "n"), b.cell("moderation-agreement_by_service_area", s, "n"))
                    b.sums([b.cell(sck, s, "n"), b.cell(sck, s, "rest_n")], n)
                # service areas partition the moderated audits, and their agreement counts the diagonal
                sak = "moderation-agreement_by_service_area"
                if sak in b.frames:
                    areas = list(b.frames[sak].index)
                    b.sums([b.cell(sak, s, "n") for s in areas], n)
                    agree = [_agreement(b, sak, s) for s in areas]
                    if all(agree):
                        b.sums(agree, diag)
                pk = "moderation-agreement_by_period"
                if pk in b.frames and period in b.frames[pk].index:
                    b.same(_agreement(b, pk, period), diag)
            for key in ("moderation-agreement_by_domain", "quarterly-moderation_agreement"):
                b.same(_agreement(b, key, label), diag)
    for key in ("moderation-agreement_by_domain", "moderation-agreement_by_period",
                "moderation-agreement_by_service_area", "quarterly-moderation_agreement"):
        for idx in b.frames.get(key, pd.DataFrame()).index:
            _agreement(b, key, idx)
    # -- feedback: answers, answered, positive
    ans = "feedback-feedback_answers"
    if ans in b.frames:
        f = b.frames[ans]
        fb = ds.params.feedback  # defaults filled in by the schema
        na_labels = {str(x).lower() for x in fb["not_applicable"]}
        pos_labels = {str(x).lower() for x in fb["positive"]}
        periods = [c[:-2] for c in f.columns if str(c).endswith(" n")]
        for sq in dict.fromkeys(i[:2] for i in f.index):
            rows = [i for i in f.index if i[:2] == sq]
            for p in periods:
                col = f"{p} n"
                na = [b.cell(ans, r, col) for r in rows if str(r[2]).lower() in na_labels]
                posv = [b.cell(ans, r, col) for r in rows if str(r[2]).lower() in pos_labels]
                other = [b.cell(ans, r, col) for r in rows if str(r[2]).lower() not in na_labels]
                if not all(other) or not all(na):
                    continue
                answered = b.virtual(f"{ans}|{row_label(sq)}|{p}|answered", other)
                for key in ("feedback-feedback_by_question", "quarterly-feedback_by_question"):
                    b.same(b.cell(key, sq, col), answered)
                ik = "feedback-feedback_intervals"
                b.same(b.cell(ik, (*sq, p), "answered"), answered)
                if len(na) == 1:
                    b.same(b.cell(ik, (*sq, p), "not_applicable"), na[0])
                if len(posv) == 1:
                    b.same(b.cell(ik, (*sq, p), "positive"), posv[0])
                for key in ("feedback-feedback_change", "quarterly-feedback_change"):
                    when = "later" if p == period else ("earlier" if p == _previous(ds, periods) else None)
                    if when:
                        b.same(b.cell(key, sq, f"{when}_answered"), answered)
                        if len(posv) == 1:
                            b.same(b.cell(key, sq, f"{when}_positive"), posv[0])
    _send_links(b)


def _send_links(b: _Builder) -> None:
    """Issue 17's tables: the domain x quarter grades, audit activity, families responded, answers to date and
    the multi-agency comparisons, tied to the tables that print the same counts."""
    ds = b.ds
    grades = list(ds.scale.grades)
    period = ds.period.label
    dbq, dom, per = "quarterly-domain_by_quarter", "quarterly-grades_by_domain", "quarterly-overall_by_period"
    if dbq in b.frames:
        for d, p in b.frames[dbq].index:
            for col in [*grades, "n"]:
                if p == period:
                    b.same(b.cell(dbq, (d, p), col), b.cell(dom, d, col))
                if d == "Overall":
                    b.same(b.cell(dbq, (d, p), col), b.cell(per, p, col))
            b.same(b.cell(dbq, (d, p), "n"), b.cell(per, p, "n"))
    act = "quarterly-audit_activity"
    if act in b.frames:
        for p in b.frames[act].index:
            b.same(b.cell(act, p, "audits"), b.cell(per, p, "n"))
    fam = "feedback-families_responded"
    if fam in b.frames:  # to date = the periods shown, when no response came earlier
        f = b.frames[fam]
        shown = [c for c in b.counts[fam] if c != "to date"]
        for s in f.index:
            b.sums([b.cell(fam, s, c) for c in shown], b.cell(fam, s, "to date"))
    td, ans = "feedback-feedback_to_date", "feedback-feedback_answers"
    if td in b.frames:  # each option's count to date = its share x n (public without being printed)
        f = b.frames[td]
        for sq in f.index:
            if not b.has(td, sq, "n"):
                continue
            n = b.cell(td, sq, "n")
            opts = []
            for c in f.columns:
                if str(c).endswith(" share") and pd.notna(f.loc[sq, c]):
                    v = f"virtual|{td}|{row_label(sq)}|{str(c)[: -len(' share')]}"
                    b.values[v] = float(round(float(f.loc[sq, c]) * b.values[n]))
                    opts.append(v)
            if not opts:
                continue
            b.sums(opts, n)
            if ans in b.frames:  # and the per-period answers, when the periods shown hold every answer to date
                cols = [c for c in b.counts.get(ans, []) if str(c).endswith(" n")]
                for v in opts:
                    opt = v.rsplit("|", 1)[1]
                    if (*sq, opt) in b.frames[ans].index:
                        b.sums([b.cell(ans, (*sq, opt), c) for c in cols], v)
    for key in MULTIAGENCY_COMPARE:
        for a in b.frames.get(key, pd.DataFrame()).index:
            b.sums([b.cell(key, a, c) for c in ("higher", "same", "lower")], b.cell(key, a, "units"))


def _highlight_links(b: _Builder) -> None:
    """Issue 16: the highlight report's counts, month by month, tied to each other and to the quarterly tables
    (each link is added only where the printed values agree, see :meth:`_Builder.same` / :meth:`_Builder.sums`)."""
    ds = b.ds
    grades, good = list(ds.scale.grades), list(ds.scale.good_grades)
    period, total = ds.period.label, tables.TOTAL
    per, vol, sa = "quarterly-overall_by_period", "quarterly-audit_volume", "quarterly-grades_by_service_area"
    ctx, comp, part, mod = "highlight-context", "highlight-compliance", "highlight-participation", "highlight-moderation"
    obm, past, gsa, perf = ("highlight-overall_by_month", "highlight-past_months", "highlight-grade_by_service_area",
                            "highlight-performance_areas")
    coh, cch, kt, act = ("highlight-cohort_comparators", "highlight-cohort_changes", "highlight-key_themes",
                         "highlight-themes_and_actions")
    rows = lambda key: list(b.frames[key].index) if key in b.frames else []  # noqa: E731
    in_quarter = ds.period.kind == "quarter"
    # overall grades by month: the months sum to the quarter; each month = the past-months view = moderation's returned
    months = rows(obm)
    if in_quarter and months:
        for col in [*grades, "n", "good_or_better"]:
            b.sums([b.cell(obm, m, col) for m in months], b.cell(per, period, col))
    for m in months:
        b.same(b.cell(obm, m, "n"), b.cell(past, m, "n"))
        b.same(b.cell(obm, m, "good_or_better"), b.cell(past, m, "good_or_better"))
        b.same(b.cell(obm, m, "n"), b.cell(mod, "Audits returned", m))
        b.same(b.cell(obm, m, "n"), b.cell(vol, (period, m), "audits"))
    # the past 12 months: whole quarters of it sum to the quarterly history rows
    for p in rows(per):
        try:
            ms = [x.label for x in parse_period(str(p)).months()]
        except (QAError, ValueError, AttributeError):
            continue
        if all(b.has(past, x, "n") for x in ms):
            for col in ("n", "good_or_better"):
                b.sums([b.cell(past, x, col) for x in ms], b.cell(per, p, col))
    # grade by service area (O, G, RI, I, ALL, TOTAL) = the quarterly table
    if gsa in b.frames:
        f = b.frames[gsa]
        short = list(f.columns[:len(grades)])
        areas = [r for r in f.index if r != "TOTAL"]
        for r in f.index:
            b.sums([b.cell(gsa, r, c) for c in short], b.cell(gsa, r, "ALL"))
            b.sums([b.cell(gsa, r, c) for c, g in zip(short, grades) if g in good], b.cell(sa, r if r != "TOTAL" else total,
                                                                                              "good_or_better"))
            if in_quarter:
                for c, g in zip([*short, "ALL"], [*grades, "n"]):
                    b.same(b.cell(gsa, r, c), b.cell(sa, r if r != "TOTAL" else total, g))
        for c in [*short, "ALL"]:
            b.sums([b.cell(gsa, r, c) for r in areas], b.cell(gsa, "TOTAL", c))
    # moderation by month: each outcome's months sum to the quarter's outcome
    for r in rows(mod):
        ms = list(b.frames[mod].columns)
        if in_quarter:
            b.sums([b.cell(mod, r, m) for m in ms], b.cell("quarterly-moderation_outcomes", r, "audits"))
    # context and compliance: distributed = allocated − exempt; the same counts as returns by month
    rbm = "quarterly-returns_by_month"
    for m in rows(ctx):
        b.sums([b.cell(ctx, m, "distributed"), b.cell(ctx, m, "exempt")], b.cell(ctx, m, "allocated"))
        for col in ("allocated", "returned", "exempt"):
            b.same(b.cell(ctx, m, col), b.cell(rbm, m, col))
        for col in ("returned", "distributed"):
            b.same(b.cell(ctx, m, col), b.cell(comp, m, col))
    for m in rows(comp):
        prev = b.frames[comp].loc[m, "previous_month"]
        for col in ("returned", "distributed"):
            b.same(b.cell(comp, m, f"previous_{col}"), b.cell(ctx, prev, col) or b.cell(comp, prev, col))
    # participation: took part + did not = recorded; the months sum to the quarter's participation
    qp = "quarterly-participation"
    for m in rows(part):
        b.sums([b.cell(part, m, "took_part"), b.cell(part, m, "did_not_take_part")], b.cell(part, m, "recorded"))
    if in_quarter and rows(part):
        for col in ("took_part", "recorded"):
            b.sums([b.cell(part, m, col) for m in rows(part)], b.cell(qp, total, col))
    # performance areas: G/O and RI counts and n per domain and month; the shown months sum to grades by domain
    dom = "quarterly-grades_by_domain"
    ri = grades[len(good)] if len(grades) > len(good) else None
    if perf in b.frames:
        f = b.frames[perf]
        shown = f["shown"].astype(bool)
        for (d, m, measure) in f.index:
            b.same(b.cell(perf, (d, m, measure), "n"), b.cell(perf, (d, m, "G/O"), "n"))
            prev = f.loc[(d, m, measure), "previous_month"]
            if (d, prev, measure) in f.index:
                b.same(b.cell(perf, (d, m, measure), "previous_count"), b.cell(perf, (d, prev, measure), "count"))
                b.same(b.cell(perf, (d, m, measure), "previous_n"), b.cell(perf, (d, prev, measure), "n"))
            # key themes: "graded G/O" = the G/O count; "graded <RI>" = the RI count; the month's audits
            if measure == "G/O":
                what = "graded " + " or ".join(good)
                b.same(b.cell(kt, (m, "strength", d, what), "audits"), b.cell(perf, (d, m, "G/O"), "count"))
                graded = [b.cell(kt, (m, "strength", d, what), "audits"),
                          *[b.cell(kt, (m, "learning", d, f"graded {g}"), "audits") for g in grades[len(good):]]]
                b.sums(graded, b.cell(perf, (d, m, "G/O"), "n"))
            elif ri is not None:
                b.same(b.cell(kt, (m, "learning", d, f"graded {ri}"), "audits"), b.cell(perf, (d, m, measure), "count"))
        if in_quarter:
            for d in dict.fromkeys(i[0] for i in f.index):
                ms = [i for i in f.index if i[0] == d and i[2] == "G/O" and shown[i]]
                b.sums([b.cell(perf, i, "count") for i in ms], b.cell(dom, d, "good_or_better"))
                b.sums([b.cell(perf, i, "n") for i in ms], b.cell(dom, d, "n"))
                if ri is not None:
                    rs = [i for i in f.index if i[0] == d and i[2] != "G/O" and shown[i]]
                    b.sums([b.cell(perf, i, "count") for i in rs], b.cell(dom, d, ri))
    for i in rows(kt):
        b.same(b.cell(kt, i, "audits_in_month"), b.cell(mod, "Audits returned", i[0]))
    # cohorts: an occasion's Overall counts; the quarter's months sum to grades by cohort; changes = their occasions
    if coh in b.frames:
        f = b.frames[coh]
        for c in dict.fromkeys(i[0] for i in f.index):
            ms = [i for i in f.index if i[0] == c and i[1] == "Overall" and i[2] in months]
            if in_quarter and ms:
                b.sums([b.cell(coh, i, "good_or_better") for i in ms], b.cell("quarterly-grades_by_cohort", c, "good_or_better"))
                b.sums([b.cell(coh, i, "n") for i in ms], b.cell("quarterly-grades_by_cohort", c, "n"))
    for (c, d) in rows(cch):
        f = b.frames[cch]
        for when in ("first", "latest"):
            occ = f.loc[(c, d), when]
            b.same(b.cell(cch, (c, d), f"{when}_good_or_better"), b.cell(coh, (c, d, occ), "good_or_better"))
            b.same(b.cell(cch, (c, d), f"{when}_n"), b.cell(coh, (c, d, occ), "n"))
    # actions by theme or domain: actions = the statuses
    for r in rows(act):
        b.sums([b.cell(act, r, s) for s in actions.STATUSES], b.cell(act, r, "actions"))
    oth = "highlight-other_audits"
    for r in rows(oth):
        b.sums([b.cell(oth, r, g) for g in grades], b.cell(oth, r, "graded"))
        b.sums([b.cell(oth, r, g) for g in good], b.cell(oth, r, "good_or_better"))


def _previous(ds: Dataset, periods: list[str]) -> str | None:
    here = ds.period.label
    return periods[periods.index(here) - 1] if here in periods and periods.index(here) > 0 else None


def _agreement(b: _Builder, key: str, row) -> str | None:
    """The agreement count behind a row's "% same grade" (agreement_share × n), a virtual count."""
    f = b.frames.get(key)
    if f is None or row not in f.index or "agreement_share" not in f.columns or not b.has(key, row, "n"):
        return None
    share = f.loc[row, "agreement_share"]
    if pd.isna(share):
        return None
    v = f"virtual|{key}|{row_label(row)}|same grade"
    if v not in b.values:
        n = b.cell(key, row, "n")
        b.values[v] = float(round(float(share) * b.values[n]))
        w = f"virtual|{key}|{row_label(row)}|different grade"
        b.values[w] = b.values[n] - b.values[v]
        b.relations.append(Relation((v, w), n))
    return v


def pattern(ds: Dataset, rule: SuppressionRule) -> PackPattern:
    """The pack's suppression pattern (cached on the Dataset for the rest of the kernel)."""
    cache = ds.cache if isinstance(getattr(ds, "cache", None), dict) else {}
    key = ("pack-pattern", rule.threshold)
    if key in cache:
        return cache[key]
    frames = {}
    built: dict[tuple, pd.DataFrame] = {}
    for k, build in PACK_TABLES.items():
        # a table printed by two reports (the same name, built the same way) is built once
        code = build.__code__
        name = (k.split("-", 1)[1], code.co_code, code.co_names)
        frame = built[name] if name in built else build(ds)
        built[name] = frame
        if frame is not None and len(frame):
            frames[k] = frame
    b = _Builder(ds, frames)
    _tables(b, rule)
    _links(b)
    _highlight_links(b)
    prot = disclosure.protect(b.values, b.relations, rule.threshold)
    out = PackPattern(protection=prot, frames=frames, counts=b.counts)
    cache[key] = out
    return out


def statistic_cells(key: str, frame: pd.DataFrame, pat: PackPattern) -> set[tuple[int, str]]:
    """Derived cells of ``frame`` (table ``key``) computed on a group the pack hides: an agreement table's
    statistics where the row's n or agreement count is hidden; a drift or paradox row's statistics where
    any cell of its domain's confusion matrix, or its n, is hidden."""
    out: set[tuple[int, str]] = set()
    hidden = pat.protection.hidden
    if key.endswith("feedback_by_question"):  # % positive = Yes / answered, both counted in the answers table
        ans = "feedback-feedback_answers"
        for i, idx in enumerate(frame.index):
            for c in frame.columns:
                if str(c).endswith(" positive share"):
                    p = str(c)[: -len(" positive share")]
                    deps = [var(ans, (*idx, "Yes"), f"{p} n"), f"virtual|{ans}|{row_label(idx)}|{p}|answered"]
                    if any(d in hidden for d in deps):
                        out.add((i, c))
        return out
    if key == "feedback-feedback_to_date":  # an option's share = its count to date / n
        for i, idx in enumerate(frame.index):
            n_hidden = var(key, idx, "n") in hidden
            for c in frame.columns:
                if str(c).endswith(" share") and (
                        n_hidden or f"virtual|{key}|{row_label(idx)}|{str(c)[: -len(' share')]}" in hidden):
                    out.add((i, c))
        return out
    if key.startswith("moderation-multiagency_"):  # every statistic of a row rests on its counts
        counts = pat.counts.get(key, [])
        for i, idx in enumerate(frame.index):
            if any(var(key, idx, c) in hidden for c in counts):
                out |= {(i, c) for c in frame.columns if c not in counts}
        return out
    stats = [c for c in frame.columns if c not in pat.counts.get(key, []) and AGREEMENT_STATS.match(str(c))]
    if not stats:
        return out
    conf = "moderation-confusion_by_domain"
    for i, idx in enumerate(frame.index):
        label = row_label(idx)
        groups = [var(key, idx, "n")]
        if key.startswith("moderation-agreement") or key == "quarterly-moderation_agreement":
            groups += [f"virtual|{key}|{label}|same grade", f"virtual|{key}|{label}|different grade"]
        if key == "moderation-agreement_comparison":  # the previous period's AC1 rests on its own n
            groups.append(var(key, idx, "previous_n"))
        if key == "moderation-service_area_comparison":  # the area's agreement and the other areas' n
            sak = "moderation-agreement_by_service_area"
            groups += [var(key, idx, "rest_n"), var(sak, idx, "n"), f"virtual|{sak}|{label}|same grade",
                       f"virtual|{sak}|{label}|different grade", "virtual|" + conf + "|Overall|n"]
        if key == "moderation-domain_comparison":  # no count printed; every domain enters each row (the others' mean)
            groups += [v for v in hidden if v.startswith(f"{conf}|") and not v.startswith(f"{conf}|Overall")]
            groups += [f"virtual|{conf}|{d}|n" for d in frame.index]
        if key in ("moderation-drift_direction", "moderation-drift_tests", "moderation-kappa_paradox",
                   "moderation-grade_mix", "moderation-agreement_comparison", "moderation-sample_planning",
                   "moderation-domain_comparison"):
            groups += [v for v in hidden if v.startswith(f"{conf}|{label} / ")]
            groups.append(f"virtual|{conf}|{label}|downgraded")
            groups.append(f"virtual|{conf}|{label}|upgraded")
        if any(g in hidden for g in groups):
            out |= {(i, c) for c in stats}
            continue
        # downgraded − upgraded is linear in the matrix: hidden where either count is
        if f"virtual|{conf}|{label}|downgraded" in hidden or f"virtual|{conf}|{label}|upgraded" in hidden:
            out |= {(i, c) for c in stats if str(c).startswith(("net_downgraded", "mean_difference", "direction",
                                                                   "stuart", "bowker", "mcnemar"))}
    return out


def unregistered(key: str, frame: pd.DataFrame, pat: PackPattern, grades: list[str], good_grades: list[str]) -> str:
    """Why the published table ``key`` must be withheld ('' when it may be published): it carries counts
    but is neither one of :data:`PACK_TABLES` (computed on this data) nor reviewed as :data:`OUTSIDE_PACK`.
    Protecting such a table on its own could undo the pack's protection of the counts it shares with other
    tables, so the pack fails closed."""
    if key in pat.frames or key in OUTSIDE_PACK or frame is None or frame.empty:
        return ""
    if not disclosure.structure(frame, grades=grades, good_grades=good_grades).counts:
        return ""
    if key in PACK_TABLES:
        return ("its counts are not those the pack's disclosure control was computed on (the pack built this "
                "table empty)")
    return "its counts are not part of the pack's disclosure control (qa_lib.present.pack.PACK_TABLES)"


def cell_counts(pat: PackPattern, prefix: str = "") -> tuple[int, int]:
    """(primary, secondary) hidden count cells printed by the pack tables whose key starts with ``prefix``
    (a count printed in two tables counts twice: it is hidden in both)."""
    prot = pat.protection
    cells = [var(k, idx, c) for k in pat.frames if k.startswith(prefix)
             for idx in pat.frames[k].index for c in pat.counts[k]]
    prim = sum(v in prot.primary for v in cells)
    return prim, sum(v in prot.hidden for v in cells) - prim


def summary(pat: PackPattern, report: str, rule: SuppressionRule) -> str:
    """The paragraph each published report carries: what was suppressed and why."""
    prim, sec = cell_counts(pat, report + "-")
    all_prim, all_sec = cell_counts(pat)
    top = rule.threshold - 1
    small = f"counts from 1 to {top}" if top > 1 else "counts of 1"
    reports = sorted({k.split("-", 1)[0] for k in pat.frames} | {report})
    return (f"What is suppressed and why: the period's published reports ({', '.join(reports)}) are protected "
            f"together, so that "
            f"no hidden count can be worked out by combining any of their tables, totals, shares and sentences. "
            f"This report hides {prim} count cell(s) because they are {small} (primary suppression) and {sec} "
            f"more to protect them (secondary suppression); across the {len(reports)} reports, {all_prim} primary and "
            f"{all_sec} secondary. Statistics computed on a hidden group, and figures in text quoting \"x of n\" where "
            f"x or n − x is below {rule.threshold}, are shown as {rule.symbol} too.")


#: text columns of the indicator tables that quote a linked cohort's or domain's audit counts
EVIDENCE_TEXT = ("this_period", "good_or_better_by_period", "audit_trend", "trend_p", "audits_and_indicator",
                 "disagree", "audit_evidence", "suggestion")


def text_cells(key: str, frame: pd.DataFrame, pat: PackPattern) -> set[tuple[int, str]]:
    """Cells of an indicator table whose text quotes the audit counts of a cohort or domain that the pack
    hides in the grade tables ("7 of 14" for a cohort whose row is hidden): hidden with everything said
    about that group (its trend, the agreement sentence)."""
    out: set[tuple[int, str]] = set()
    if not key.startswith(("indicators-", "quarterly-indicators")):
        return out
    hidden = pat.protection.hidden
    cols = [c for c in frame.columns if c in EVIDENCE_TEXT]
    for i in range(len(frame)):
        row = frame.iloc[i]
        target = None
        if "linked_to" in frame.columns:
            kind, _, name = str(row["linked_to"]).partition(": ")
            target = ("quarterly-grades_by_cohort" if kind == "cohort" else "quarterly-grades_by_domain", name)
        elif "audit_evidence" in frame.columns:
            m = re.match(r"Domain '([^']+)'", str(row["audit_evidence"]))
            target = ("quarterly-grades_by_domain", m.group(1)) if m else None
            if target is None and str(row["audit_evidence"]).startswith("Cohort '"):
                target = ("quarterly-grades_by_cohort", str(row["audit_evidence"]).split("'")[1])
        if target and any(var(target[0], target[1], c) in hidden for c in ("good_or_better", "n")):
            out |= {(i, c) for c in cols}
    return out

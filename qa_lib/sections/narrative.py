"""The plain-English summary at the top of the quarterly report, generated from the tested results.

The rule the text follows (the same as the tables): a change is called real — "Improving" /
"Worsening", "unlikely to be chance" — only when its test supports it: the overall headline
comparison when p < 0.05, a practice domain only when its Benjamini–Hochberg q (across the
domains shown) is below 0.05, a trend only when its Cochran–Armitage / linear-by-linear p is
below 0.05. Everything else is "No clear change" and "could easily be chance". Counts and bases
are always given with the likely range.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from qa_lib.core import fmt
from qa_lib.sections import change
from qa_lib.inputs.data import Dataset, audit_types

__all__ = ["Statement", "statements", "summary", "set_aside_audit_types"]


@dataclass(frozen=True)
class Statement:
    """One sentence of the summary and the verdict it states.

    ``subject`` is what it is about (``"Overall"``, a domain name, ``"Trend: % Good or better"``,
    ``"SPC: ..."``); ``verdict`` is ``"Improving"`` / ``"Worsening"`` / ``"No clear change"`` (or
    ``""`` for a purely descriptive sentence); ``real`` is True when the sentence calls the change
    real (unlikely to be chance).
    """

    subject: str
    verdict: str
    text: str

    @property
    def real(self) -> bool:
        return self.verdict in ("Improving", "Worsening")


def _p(p: float) -> str:
    return fmt.pvalue(p)


def _chance(word: str) -> str:
    return "unlikely to be chance" if word in ("Improving", "Worsening") else "could easily be chance"


def _overall(ds: Dataset) -> list[Statement]:
    row = change.period_comparison(ds).iloc[0]
    last = change.previous_period_label(ds)
    if row["n_now"] == 0:
        return [Statement("Overall", "", "No audits were graded this period, so there is nothing to compare.")]
    if row["n_before"] == 0:
        return [Statement("Overall", "", f"% Good or better: {row['this_period']}. No audits were graded {last}, "
                                         "so no change can be tested.")]
    word = row["change"]
    diff = row["difference_share"]
    pts = f"{change._points(diff)} points, likely {change._points(row['difference_low_share'])} to " \
          f"{change._points(row['difference_high_share'])}"
    if row["test"] == "none":
        why = row["test_note"]
        return [Statement("Overall", word, f"{word} in % Good or better: {row['this_period']} vs {row['good_before']} of "
                                           f"{row['n_before']} {last}. {why}")]
    before = f"{row['good_before']} of {row['n_before']} ({change._pct(row['good_before'] / row['n_before'])})"
    return [Statement("Overall", word,
                      f"{word} in % Good or better: {row['this_period']} vs {before} {last} ({pts}; {_chance(word)}, "
                      f"{_p(row['p_value'])}).")]


def _domains(ds: Dataset) -> list[Statement]:
    d = change.domain_changes(ds)
    if d.empty:
        return []
    tested = d[d["q_value"].notna()]
    out = []
    called = d[d["change"].isin(["Improving", "Worsening"])]
    k = len(tested)
    for name, r in called.iterrows():
        out.append(Statement(str(name), r["change"],
                             f"{name}: {r['change']} – {r['this_period']} vs {r['good_before']} of {r['n_before']} "
                             f"({change._pct(r['good_before'] / r['n_before'])}) {change.previous_period_label(ds)} (unlikely to be chance after checking all {k} domains, "
                             f"q = {fmt.number(r['q_value'], 3)})."))
    raw_only = d[(d["p_value"] < change.ALPHA) & ~d["change"].isin(["Improving", "Worsening"])]
    # issue 16: a domain with no audits in one of the two periods has nothing to compare: said so, never "No clear change"
    nothing = d[(d["n_before"] == 0) | (d["n_now"] == 0)]
    if len(nothing):
        before = [str(n) for n in nothing.index if nothing.loc[n, "n_before"] == 0]
        now = [str(n) for n in nothing.index if nothing.loc[n, "n_before"] > 0]
        parts = []
        if before:
            parts.append(f"{change.NO_EARLIER.capitalize()} for {', '.join(before)}: no audits graded "
                         f"{'it' if len(before) == 1 else 'them'} {change.previous_period_label(ds)}.")
        if now:
            parts.append(f"No audits graded {', '.join(now)} this period, so there is nothing to compare.")
        out.append(Statement("Not compared", "", " ".join(parts)))
    quiet = [str(n) for n in d.index if n not in called.index and n not in nothing.index]
    if quiet:
        text = (f"No clear change in the other {len(quiet)} practice domain(s)" if len(called) or len(nothing) else
                f"No clear change in any of the {len(d)} practice domains") + f": {', '.join(quiet)}."
        if len(raw_only):
            names = ", ".join(str(n) for n in raw_only.index)
            text += (f" {names} moved on its own test (p < {change.ALPHA}), but with {k} domains checked at once that "
                     "could easily be chance (Benjamini–Hochberg q ≥ 0.05).")
        untested = d[d["q_value"].isna() & d["n_now"].gt(0) & d["n_before"].gt(0)]
        if len(untested):
            text += (f" {', '.join(str(n) for n in untested.index)}: no test possible – every audit (or none) was "
                     "Good or better in both periods.")
        out.append(Statement("Other domains", "No clear change", text))
        for n in quiet:
            out.append(Statement(n, "No clear change", ""))
    small = [str(n) for n in d.index[d["small_n"]]]
    if small:
        out.append(Statement("Small numbers", "", f"Fewer than {ds.params.min_n} audits in this or the previous period "
                                                  f"for {', '.join(small)}: treat those percentages with caution."))
    return out


def _trend(ds: Dataset) -> list[Statement]:
    t = change.trend_tests(ds)
    k = int(t["periods"].iloc[0])
    out = []
    for measure, r in t.iterrows():
        subject = f"Trend: {measure}"
        if not math.isfinite(r["p_value"]):
            out.append(Statement(subject, "", f"{measure} over the last {k} period(s): not tested. "
                                                               f"{r['note'].strip()}"))
            continue
        word = r["change"]
        what = "a steady rise" if word == "Improving" else "a steady fall" if word == "Worsening" else "no steady rise or fall"
        if measure == "Grade distribution":
            what = ("grades shifting towards Outstanding" if word == "Improving" else
                    "grades shifting towards Inadequate" if word == "Worsening" else "no steady shift in the grades")
        out.append(Statement(subject, word, f"{measure} over the last {k} periods: {word.lower()} – {what} "
                                            f"({_chance(word)}, {_p(r['p_value'])})."))
    return out


def _spc(ds: Dataset) -> list[Statement]:
    out = []
    for view in (change.good_or_better_spc(ds), change.return_rate_spc(ds)):
        out.append(Statement(f"SPC: {view.measure}", "", view.reading if view.drawn else view.reason))
    return out


def statements(ds: Dataset) -> list[Statement]:
    """Every sentence of the summary with its verdict, in report order (tests check these)."""
    return _overall(ds) + _domains(ds) + _trend(ds) + _spc(ds)


def summary(ds: Dataset) -> list[str]:
    """The summary bullets for ``rpt.bullets``: headline, domains, trend, SPC readings."""
    return [s.text for s in statements(ds) if s.text]


def set_aside_audit_types(ds: Dataset, *, published: bool) -> str:
    """Issue 16: the sentence every report prints when audits of another type (thematic, external...) were
    kept out of the monthly programme at load (:attr:`Dataset.other_audits`), so nothing is dropped silently.
    ``""`` when none were. A published report names the types without their counts (a thematic audit of a
    few cases is a small count); an internal one gives the count of each type."""
    other = ds.other_audits
    if other is None or not len(other):
        return ""
    counts = audit_types(other).value_counts().sort_index()
    if published:
        kinds = fmt.join_and([str(t) for t in counts.index])
        said = f"Audits of another type ({kinds})"
    else:
        said = fmt.join_and([f"{int(n):,} {t}" for t, n in counts.items()]) + " audit(s)"
    return (f"{said} are reported on their own, in the highlight report's section on thematic and external "
            "audits, and are not counted in this report's figures; list a type under pool_audit_types in "
            "the params to count it with the monthly programme.")

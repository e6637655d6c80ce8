"""Family feedback: each survey question by period, with n, Wilson intervals and plain-words changes.

One row of the ``feedback`` table is one family's answer to one question. The answer options of
each survey are explicit (params ``feedback.answers``; default Yes / Partly / No / Didn't need
to) and never inferred from the answers seen; a label that is not an option (nor an alias in
``feedback.answer_aliases``) is an issues-table row, not a crash. A question whose wording
changes between periods would otherwise be counted as two questions: it is flagged with the
mapping to add under ``feedback.question_aliases``.

Conventions
-----------
- "% positive" = answers in ``feedback.positive`` (default Yes) ÷ answers that are not in
  ``feedback.not_applicable`` (default "Didn't need to"). Per-answer shares use every answer.
- Intervals are 95% Wilson score (:func:`qa_lib.trend.proportion_ci`).
- Period-on-period: :func:`qa_lib.trend.compare_two` per question (Fisher's exact when an
  expected count is below 5, else Pearson chi-squared without Yates), Benjamini–Hochberg
  q-values across the questions compared (:func:`qa_lib.trend.adjust`), words from
  :func:`qa_lib.trend.classify_change` at q < 0.05.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from qa_lib import trend
from qa_lib.validate import ISSUE_COLUMNS, empty_issues

if TYPE_CHECKING:  # pragma: no cover
    from qa_lib.data import Dataset
    from qa_lib.params import Params

DEFAULT_ANSWERS = ("Yes", "Partly", "No", "Didn't need to")
#: Two wordings of one survey's questions this similar (difflib ratio, 0–1), never asked in the
#: same period, are flagged as a possible rewording.
REWORDING_RATIO = 0.75


def _key(text: Any) -> str:
    """Normalise a label for matching: case, spacing, curly quotes and trailing punctuation ignored."""
    s = str(text).replace("\u2019", "'").replace("\u2018", "'").replace("\u00a0", " ")
    return re.sub(r"\s+", " ", s).strip().strip(".").lower()


@dataclass(frozen=True)
class FeedbackSettings:
    """The ``feedback`` block of the params with defaults filled in."""

    answers: dict[str, tuple[str, ...]]
    positive: tuple[str, ...]
    not_applicable: tuple[str, ...]
    question_aliases: dict[str, str]
    answer_aliases: dict[str, str]

    @classmethod
    def from_params(cls, params: "Params") -> "FeedbackSettings":
        block = dict(getattr(params, "feedback", None) or {})
        return cls(answers={str(k): tuple(map(str, v)) for k, v in (block.get("answers") or {}).items()},
                   positive=tuple(map(str, block.get("positive") or ["Yes"])),
                   not_applicable=tuple(map(str, block.get("not_applicable") if block.get("not_applicable") is not None
                                            else ["Didn't need to"])),
                   question_aliases={str(k): str(v) for k, v in (block.get("question_aliases") or {}).items()},
                   answer_aliases={str(k): str(v) for k, v in (block.get("answer_aliases") or {}).items()})

    def options(self, survey: str) -> tuple[str, ...]:
        """The answer options of ``survey`` in report order."""
        for name, opts in self.answers.items():
            if _key(name) == _key(survey):
                return opts
        return DEFAULT_ANSWERS


def _issue_rows(rows: pd.DataFrame, *, rule: str, severity: str, column: str, messages: pd.Series,
                values: pd.Series) -> pd.DataFrame:
    return pd.DataFrame({"table": "feedback", "rule": rule, "severity": severity, "message": messages.astype("string"),
                         "file": rows["_file"].astype("string"), "row": rows["_row"].astype("Int64"),
                         "column": column, "value": values.astype("string")})[ISSUE_COLUMNS]


def check_feedback(feedback: pd.DataFrame, params: "Params") -> tuple[pd.DataFrame, pd.DataFrame]:
    """Map answers and reworded questions to their canonical labels; report what cannot be mapped.

    Parameters
    ----------
    feedback : DataFrame
        Validated feedback rows (``survey``, ``question``, ``answer``, ``period``, ``_file``, ``_row``).
    params : Params
        Supplies ``feedback.answers`` / ``answer_aliases`` / ``question_aliases``.

    Returns
    -------
    (clean, issues)
        ``clean``: rows with a known answer, ``answer`` set to the survey's option label and
        ``question`` to its canonical wording (the original kept as ``question_asked``).
        ``issues``: issues-table rows — ``unknown_answer`` (rejected: the row is set aside) and
        ``question_reworded`` (warning: the two wordings are reported as separate questions until
        mapped).
    """
    cfg = FeedbackSettings.from_params(params)
    if feedback.empty:
        return feedback.assign(question_asked=feedback["question"]), empty_issues()
    f = feedback.copy()
    qmap = {_key(k): v for k, v in cfg.question_aliases.items()}
    f["question_asked"] = f["question"]
    # each distinct wording and (survey, answer) pair is normalised once, not once per row
    questions = {q: qmap.get(_key(q), q) for q in f["question"].dropna().unique()}
    f["question"] = f["question"].map(questions).astype("string")
    lookups: dict[str, dict[str, str]] = {}
    for survey in f["survey"].dropna().unique():
        lookup = {_key(o): o for o in cfg.options(survey)}
        lookup.update({_key(k): v for k, v in cfg.answer_aliases.items() if _key(v) in lookup})
        lookups[survey] = lookup
    pairs = f[["survey", "answer"]].drop_duplicates().dropna()
    pair_map = {(sv, a): lookups.get(sv, {}).get(_key(a), pd.NA) for sv, a in zip(pairs["survey"], pairs["answer"])}
    mapped = pd.Series([pair_map.get((sv, a), pd.NA) for sv, a in zip(f["survey"], f["answer"])],
                       index=f.index, dtype="string")
    unknown = mapped.isna()
    parts = []
    if unknown.any():
        bad = f[unknown]
        msgs = (bad["_file"].astype("string") + " row " + bad["_row"].astype("string") + ", column answer: '"
                + bad["answer"].fillna("").astype("string") + "' is not a known answer to the survey '"
                + bad["survey"].astype("string") + "' (expected one of "
                + bad["survey"].map(lambda s: ", ".join(cfg.options(s))).astype("string")
                + "). Fix: correct the label, or map it under params feedback.answer_aliases, e.g. '"
                + bad["answer"].fillna("").astype("string") + ": " + bad["survey"].map(lambda s: cfg.options(s)[0]).astype("string")
                + "'; a survey with its own options lists them under params feedback.answers. The row is set aside")
        parts.append(_issue_rows(bad, rule="unknown_answer", severity="rejected", column="answer", messages=msgs,
                                 values=bad["answer"]))
    f = f.assign(answer=mapped)[~unknown]
    parts.extend(_reworded(f))
    issues = pd.concat(parts, ignore_index=True) if parts else empty_issues()
    return f.reset_index(drop=True), issues


def _reworded(f: pd.DataFrame) -> list[pd.DataFrame]:
    """Questions of one survey that look alike but were never asked in the same period."""
    out = []
    for survey, g in f.groupby("survey", sort=False):
        asked = g.groupby("question", sort=False)["period"].agg(lambda s: sorted(set(s.dropna())))
        first = g.drop_duplicates("question").set_index("question")
        questions = list(asked.index)
        for i, a in enumerate(questions):
            for b in questions[i + 1:]:
                if set(asked[a]) & set(asked[b]):
                    continue
                if difflib.SequenceMatcher(None, _key(a), _key(b)).ratio() < REWORDING_RATIO:
                    continue
                old, new = (a, b) if min(asked[a], default="") <= min(asked[b], default="") else (b, a)
                row = first.loc[[new]]
                msg = (f"{row['_file'].iloc[0]} row {row['_row'].iloc[0]}, column question: '{new}' (asked in "
                       f"{', '.join(asked[new])}) looks like a rewording of '{old}' (asked in {', '.join(asked[old])}) "
                       f"in the survey '{survey}' (expected one wording per question across periods, so that the "
                       f"periods can be compared); they are reported as two questions. Fix: if they are the same "
                       f"question, add it under params feedback.question_aliases, e.g. '{new}': '{old}'")
                out.append(_issue_rows(row.reset_index(), rule="question_reworded", severity="warning",
                                       column="question", messages=pd.Series([msg]), values=pd.Series([new])))
    return out


# ----------------------------------------------------------------------------------------------
# tables
# ----------------------------------------------------------------------------------------------
def _periods(ds: "Dataset", periods: list[str] | None) -> list[str]:
    return list(periods) if periods else [p.label for p in ds.period.history(ds.params.history_periods)]


def _order(ds: "Dataset", frame: pd.DataFrame) -> tuple[list[str], dict[str, list[str]]]:
    surveys = list(dict.fromkeys(ds.feedback["survey"].dropna()))
    questions = {s: list(dict.fromkeys(ds.feedback.loc[ds.feedback["survey"] == s, "question"].dropna())) for s in surveys}
    return surveys, questions


def answer_counts(ds: "Dataset", *, periods: list[str] | None = None) -> pd.DataFrame:
    """n and share of every answer option, per survey, question and period (tidy, full precision).

    Returns
    -------
    DataFrame
        Columns ``survey, question, period, answer, n, total, share, ci_low, ci_high``: every
        option of the survey appears (zero counts kept), ``total`` is all answers to that
        question in that period, the interval is Wilson 95%. Only (question, period) pairs with
        at least one answer appear.
    """
    periods = _periods(ds, periods)
    cfg = FeedbackSettings.from_params(ds.params)
    f = ds.feedback[ds.feedback["period"].isin(periods)]
    cols = ["survey", "question", "period", "answer", "n", "total", "share", "ci_low", "ci_high"]
    if f.empty:
        return pd.DataFrame(columns=cols)
    rows = []
    surveys, questions = _order(ds, f)
    counts = f.groupby(["survey", "question", "period", "answer"]).size()
    totals = f.groupby(["survey", "question", "period"]).size()
    for s in surveys:
        for q in questions[s]:
            for p in periods:
                total = int(totals.get((s, q, p), 0))
                if total == 0:
                    continue
                for a in cfg.options(s):
                    rows.append((s, q, p, a, int(counts.get((s, q, p, a), 0)), total))
    out = pd.DataFrame(rows, columns=cols[:6])
    out["share"] = out["n"] / out["total"]
    lo, hi = trend.proportion_ci(out["n"].to_numpy(), out["total"].to_numpy())
    out["ci_low"], out["ci_high"] = np.atleast_1d(lo), np.atleast_1d(hi)
    return out


def positive_shares(ds: "Dataset", *, periods: list[str] | None = None) -> pd.DataFrame:
    """'% positive' per survey, question and period with its Wilson interval (tidy).

    Returns
    -------
    DataFrame
        ``survey, question, period, positive, answered, not_applicable, share, ci_low, ci_high``
        where ``answered`` excludes the not-applicable answers.
    """
    cfg = FeedbackSettings.from_params(ds.params)
    counts = answer_counts(ds, periods=periods)
    cols = ["survey", "question", "period", "positive", "answered", "not_applicable", "share", "ci_low", "ci_high"]
    if counts.empty:
        return pd.DataFrame(columns=cols)
    pos = {_key(a) for a in cfg.positive}
    na = {_key(a) for a in cfg.not_applicable}
    c = counts.assign(is_pos=counts["answer"].map(lambda a: _key(a) in pos),
                      is_na=counts["answer"].map(lambda a: _key(a) in na))
    keys = ["survey", "question", "period"]
    c = c.assign(positive=c["n"].where(c["is_pos"], 0), answered=c["n"].where(~c["is_na"], 0),
                 not_applicable=c["n"].where(c["is_na"], 0))
    out = c.groupby(keys, sort=False)[["positive", "answered", "not_applicable"]].sum().reset_index()
    out[["positive", "answered", "not_applicable"]] = out[["positive", "answered", "not_applicable"]].astype("int64")
    out["share"] = (out["positive"] / out["answered"]).where(out["answered"] > 0)
    lo, hi = trend.proportion_ci(out["positive"].to_numpy(), out["answered"].to_numpy())
    out["ci_low"], out["ci_high"] = np.atleast_1d(lo), np.atleast_1d(hi)
    return out[cols]


def by_question(ds: "Dataset", *, periods: list[str] | None = None, survey: str | None = None) -> pd.DataFrame:
    """The published layout: one row per question, one column per period.

    For each period ``"<period> n"`` (answers counted in % positive) and ``"<period> positive share"``
    (a fraction 0–1; shown as a percentage), indexed by ``survey`` and ``question`` in the order the
    questions were first asked. Periods with no answers to a survey show as blank (NaN / 0).
    """
    shares = positive_shares(ds, periods=periods)
    if survey is not None:
        shares = shares[shares["survey"] == survey]
    if shares.empty:
        return pd.DataFrame()
    periods = [p for p in _periods(ds, periods) if p in set(shares["period"])]
    surveys, questions = _order(ds, shares)
    index = pd.MultiIndex.from_tuples([(s, q) for s in surveys for q in questions[s]
                                       if ((shares["survey"] == s) & (shares["question"] == q)).any()],
                                      names=["survey", "question"])
    s = shares.set_index(["survey", "question", "period"])
    out = pd.DataFrame(index=index)
    for p in periods:
        sub = s.xs(p, level="period") if p in s.index.get_level_values("period") else s.iloc[0:0]
        out[f"{p} n"] = sub["answered"].reindex(index).fillna(0).astype("int64")
        out[f"{p} positive share"] = sub["share"].reindex(index)
    return out


def answers_table(ds: "Dataset", *, periods: list[str] | None = None) -> pd.DataFrame:
    """n and % of every answer option: rows (survey, question, answer), columns per period."""
    counts = answer_counts(ds, periods=periods)
    if counts.empty:
        return pd.DataFrame()
    periods = [p for p in _periods(ds, periods) if p in set(counts["period"])]
    wide_n = counts.pivot_table(index=["survey", "question", "answer"], columns="period", values="n", sort=False, aggfunc="sum")
    wide_s = counts.pivot_table(index=["survey", "question", "answer"], columns="period", values="share", sort=False, aggfunc="sum")
    out = pd.DataFrame(index=wide_n.index)
    for p in periods:
        out[f"{p} n"] = wide_n[p].fillna(0).astype("int64")
        out[f"{p} share"] = wide_s[p]
    return out


def compare_periods(ds: "Dataset", *, earlier: str | None = None, later: str | None = None,
                    alpha: float = 0.05) -> pd.DataFrame:
    """Each question's % positive, this period against the previous one, with BH-adjusted verdicts.

    Parameters
    ----------
    earlier, later : str, optional
        Period labels; default the period before the report period and the report period.
    alpha : float
        Threshold on the Benjamini–Hochberg q-value for calling a change.

    Returns
    -------
    DataFrame
        Indexed by ``survey, question`` (questions asked in both periods): ``earlier_positive,
        earlier_answered, earlier_share, later_positive, later_answered, later_share, difference``
        (later − earlier), ``diff_ci_low, diff_ci_high`` (Newcombe), ``test`` (fisher / chi2),
        ``pvalue``, ``qvalue`` (BH across every question in the table), ``distinguishable``
        (q < alpha) and ``change`` (Improving / No clear change / Worsening).
    """
    later = later or ds.period.label
    earlier = earlier or ds.period.shift(-1).label
    shares = positive_shares(ds, periods=[earlier, later])
    cols = ["earlier_positive", "earlier_answered", "earlier_share", "later_positive", "later_answered", "later_share",
            "difference", "diff_ci_low", "diff_ci_high", "test", "pvalue", "qvalue", "distinguishable", "change"]
    if shares.empty:
        return pd.DataFrame(columns=cols)
    s = shares.set_index(["survey", "question", "period"])
    rows, index = [], []
    surveys, questions = _order(ds, shares)
    for sv in surveys:
        for q in questions[sv]:
            if (sv, q, earlier) not in s.index or (sv, q, later) not in s.index:
                continue
            e, l_ = s.loc[(sv, q, earlier)], s.loc[(sv, q, later)]
            if e["answered"] == 0 or l_["answered"] == 0:
                continue
            res = trend.compare_two(int(l_["positive"]), int(l_["answered"]), int(e["positive"]), int(e["answered"]))
            rows.append({"earlier_positive": int(e["positive"]), "earlier_answered": int(e["answered"]),
                         "earlier_share": e["share"], "later_positive": int(l_["positive"]),
                         "later_answered": int(l_["answered"]), "later_share": l_["share"],
                         "difference": res.extra["difference"], "diff_ci_low": res.extra["diff_ci_low"],
                         "diff_ci_high": res.extra["diff_ci_high"], "test": res.extra["test"], "pvalue": res.pvalue})
            index.append((sv, q))
    if not rows:
        return pd.DataFrame(columns=cols)
    out = pd.DataFrame(rows, index=pd.MultiIndex.from_tuples(index, names=["survey", "question"]))
    out["qvalue"] = trend.adjust(out["pvalue"])
    out["distinguishable"] = out["qvalue"] < alpha
    out["change"] = [str(trend.classify_change(q, d, alpha=alpha).label) for q, d in zip(out["qvalue"], out["difference"])]
    out.attrs.update(earlier=earlier, later=later, alpha=alpha)
    return out[cols]


def _pct(x: float) -> str:
    return f"{int(np.floor(100 * x + 0.5))}%"


def comparison_sentence(comparison: pd.DataFrame, *, earlier: str | None = None, later: str | None = None) -> str:
    """Plain words: which period-on-period differences are statistically distinguishable and which are not."""
    if comparison is None or comparison.empty:
        return "No question was asked in both periods, so no period-on-period comparison can be made."
    earlier = earlier or comparison.attrs.get("earlier", "the earlier period")
    later = later or comparison.attrs.get("later", "the later period")
    alpha = comparison.attrs.get("alpha", 0.05)
    n = len(comparison)
    real = comparison[comparison["distinguishable"]]
    head = (f"{len(real)} of {n} question(s) changed between {earlier} and {later} by more than chance would "
            f"explain (Benjamini–Hochberg adjusted q < {alpha:g} across the {n} questions)")
    if len(real):
        parts = [f"'{q}' ({'rose' if r['difference'] > 0 else 'fell'} from {_pct(r['earlier_share'])} to "
                 f"{_pct(r['later_share'])})" for (_, q), r in real.iterrows()]
        head += ": " + "; ".join(parts) + "."
    else:
        head += "."
    rest = n - len(real)
    if rest:
        head += (f" For the other {rest} question(s) the differences between {earlier} and {later} are not "
                 "statistically distinguishable from chance: read them as no clear change.")
    return head

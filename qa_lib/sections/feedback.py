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
- Intervals are 95% Wilson score (:func:`qa_lib.stats.trend.proportion_ci`).
- Period-on-period: :func:`qa_lib.stats.trend.compare_two` per question (Fisher's exact when an
  expected count is below 5, else Pearson chi-squared without Yates), Benjamini–Hochberg
  q-values across the questions compared (:func:`qa_lib.stats.trend.adjust`), words from
  :func:`qa_lib.stats.trend.classify_change` at q < 0.05.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from qa_lib.core import fmt
from qa_lib.inputs.data import identifier_values
from qa_lib.inputs.privacy import Redactor
from qa_lib.sections import themes
from qa_lib.stats import trend
from qa_lib.core.labels import key as _key
from qa_lib.inputs.feedback_checks import DEFAULT_ANSWERS, FeedbackSettings, check_feedback  # noqa: F401 - re-exported for qa_lib.feedback users

if TYPE_CHECKING:  # pragma: no cover
    from qa_lib.inputs.data import Dataset

# ----------------------------------------------------------------------------------------------
# tables
# ----------------------------------------------------------------------------------------------
def _periods(ds: "Dataset", periods: list[str] | None) -> list[str]:
    return list(periods) if periods else [p.label for p in ds.period.history(ds.params.history_periods)]


def _order(ds: "Dataset", frame: pd.DataFrame) -> tuple[list[str], dict[str, list[str]]]:
    surveys = list(dict.fromkeys(ds.feedback["survey"].dropna()))
    questions = {s: list(dict.fromkeys(ds.feedback.loc[ds.feedback["survey"] == s, "question"].dropna())) for s in surveys}
    return surveys, questions


def positive_note(ds: "Dataset") -> str:
    """The note under a '% positive' table, in the params' own answer labels
    (:meth:`~qa_lib.inputs.feedback_checks.FeedbackSettings.positive_note`)."""
    return FeedbackSettings.from_params(ds.params).positive_note()


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
    return fmt.pct(x)


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


# ----------------------------------------------------------------------------------------------
# issue 17: how many families responded, and the "to date" table
# ----------------------------------------------------------------------------------------------
def families_responded(ds: "Dataset", *, periods: list[str] | None = None) -> pd.DataFrame:
    """Families who responded (distinct responses) per survey: one column per shown period, then
    ``to date`` (every response up to the end of the report period, earlier periods included)."""
    periods = _periods(ds, periods)
    f = ds.feedback[ds.feedback["response_date"] <= pd.Timestamp(ds.period.end)]
    if f.empty:
        return pd.DataFrame()
    surveys = list(dict.fromkeys(f["survey"].dropna()))
    out = pd.DataFrame(index=pd.Index(surveys, name="survey"))
    for p in periods:
        out[p] = f[f["period"] == p].groupby("survey")["response_id"].nunique().reindex(surveys).fillna(0).astype("int64")
    out["to date"] = f.groupby("survey")["response_id"].nunique().reindex(surveys).astype("int64")
    return out


def to_date_table(ds: "Dataset", *, survey: str | None = None) -> pd.DataFrame:
    """Every answer option's share of all answers to date, per question (the published "to date" layout).

    Index (``survey``, ``question``); ``n`` = answers to date, then one ``<option> share`` column per
    answer option of the survey, in the params' order (an option nobody chose shows 0%).
    """
    cfg = FeedbackSettings.from_params(ds.params)
    f = ds.feedback[ds.feedback["response_date"] <= pd.Timestamp(ds.period.end)]
    if survey is not None:
        f = f[f["survey"] == survey]
    if f.empty:
        return pd.DataFrame()
    surveys, questions = _order(ds, f)
    rows = []
    for s in surveys:
        fs = f[f["survey"] == s]
        for q in questions[s]:
            a = fs.loc[fs["question"] == q, "answer"]
            if a.empty:
                continue
            row = {"survey": s, "question": q, "n": len(a)}
            counts = a.map(_key).value_counts()
            for opt in cfg.options(s):
                row[f"{opt} share"] = counts.get(_key(opt), 0) / len(a)
            rows.append(row)
    return pd.DataFrame(rows).set_index(["survey", "question"])


def small_n_note(ds: "Dataset") -> str:
    """The small-n caution of the feedback tables (params ``min_n``)."""
    return (f"Percentages from fewer than {ds.params.min_n} answers (params min_n) move a lot with one family's "
            "answer: treat them with caution.")


# ----------------------------------------------------------------------------------------------
# issue 17: the family's own words
# ----------------------------------------------------------------------------------------------
def family_voice_themes(ds: "Dataset", *, periods: list[str] | None = None) -> pd.DataFrame:
    """Free-text answers (params ``feedback.free_text``) mentioning each theme of the taxonomy, by
    survey and period (rows ``survey, theme``, one column per period); a "No theme matched" row."""
    t = getattr(ds, "feedback_text", None)
    periods = _periods(ds, periods)
    if t is None or t.empty:
        return pd.DataFrame()
    t = t[t["period"].isin(periods)]
    if t.empty:
        return pd.DataFrame()
    pats = themes.compile_themes(ds.params.themes)
    text = t["text"].fillna("").astype(str)
    rows = []
    for s in dict.fromkeys(t["survey"]):
        in_s = (t["survey"] == s).to_numpy()
        matched = np.zeros(len(t), dtype=bool)
        for name, pat in pats.items():
            hit = text.str.contains(pat, regex=True).to_numpy() & in_s
            matched |= hit
            if hit.any():
                rows.append({"survey": s, "theme": name, **{p: int((hit & (t["period"] == p).to_numpy()).sum()) for p in periods}})
        rest = in_s & ~matched
        if rest.any():
            rows.append({"survey": s, "theme": "No theme matched", **{p: int((rest & (t["period"] == p).to_numpy()).sum()) for p in periods}})
    return pd.DataFrame(rows).set_index(["survey", "theme"])


def family_quotes(ds: "Dataset", *, per_question: int = 3) -> pd.DataFrame:
    """Up to ``per_question`` free-text answers per survey and question this period, redacted
    (identifiers and long numbers), for internal reports only: empty under ``audience: published``."""
    t = getattr(ds, "feedback_text", None)
    if ds.params.audience == "published" or t is None or t.empty:
        return pd.DataFrame()
    t = t[(t["period"] == ds.period.label) & t["text"].notna() & (t["text"].str.strip() != "")]
    if t.empty:
        return pd.DataFrame()
    redactor = Redactor(identifier_values(ds))
    t = t.groupby(["survey", "question"], sort=False).head(per_question)
    return pd.DataFrame({"survey": t["survey"].to_numpy(), "question": t["question"].to_numpy(),
                         "quote": [redactor(x) for x in t["text"]]})


"""Family feedback at load: answers mapped to each survey's options, reworded questions flagged.

The answer options of each survey are explicit (params ``feedback.answers``; default Yes / Partly /
No / Didn't need to) and never inferred from the answers seen; a label that is not an option (nor an
alias in ``feedback.answer_aliases``) is an issues-table row, not a crash. A question whose wording
changes between periods would otherwise be counted as two questions: it is flagged with the mapping
to add under ``feedback.question_aliases``. :func:`qa_lib.inputs.data.load_dataset` calls
:func:`check_feedback`; the report tables are in :mod:`qa_lib.sections.feedback`.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pandas as pd

from qa_lib.core.labels import key as _key
from qa_lib.inputs.params import FEEDBACK_ANSWERS
from qa_lib.inputs.validate import ISSUE_COLUMNS, describe, empty_issues

if TYPE_CHECKING:  # pragma: no cover - type hints only
    from qa_lib.inputs.params import Params

#: The default answer options (the schema default of params ``feedback.default_answers``).
DEFAULT_ANSWERS = FEEDBACK_ANSWERS
#: Two wordings of one survey's questions this similar (difflib ratio, 0–1), never asked in the
#: same period, are flagged as a possible rewording.
REWORDING_RATIO = 0.75


@dataclass(frozen=True)
class FeedbackSettings:
    """The ``feedback`` block of the params (defaults are the schema's, filled in at load)."""

    answers: dict[str, tuple[str, ...]]
    default_answers: tuple[str, ...]
    positive: tuple[str, ...]
    not_applicable: tuple[str, ...]
    question_aliases: dict[str, str]
    answer_aliases: dict[str, str]

    @classmethod
    def from_params(cls, params: "Params") -> "FeedbackSettings":
        block = params.feedback
        return cls(answers={k: tuple(v) for k, v in block["answers"].items()},
                   default_answers=tuple(block["default_answers"]), positive=tuple(block["positive"]),
                   not_applicable=tuple(block["not_applicable"]), question_aliases=dict(block["question_aliases"]),
                   answer_aliases=dict(block["answer_aliases"]))

    def positive_note(self) -> str:
        """How '% positive' is worked out, in the council's own answer labels (a table note).

        With the defaults: ``% positive = Yes ÷ answers other than "Didn't need to" (as set in
        params feedback); n = those answers.``
        """
        positive = " or ".join(self.positive)
        base = ("answers other than " + " or ".join(f'"{a}"' for a in self.not_applicable)
                if self.not_applicable else "all answers")
        return f"% positive = {positive} \u00f7 {base} (as set in params feedback); n = those answers."

    def options(self, survey: str) -> tuple[str, ...]:
        """The answer options of ``survey`` in report order."""
        for name, opts in self.answers.items():
            if _key(name) == _key(survey):
                return opts
        return self.default_answers


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
    pairs = pairs.assign(_mapped=pd.array([lookups.get(sv, {}).get(_key(a), pd.NA)
                                           for sv, a in zip(pairs["survey"], pairs["answer"])], dtype="string"))
    # spread to the rows by a left merge on the pair (issue 15: no per-row Python); a row with a blank
    # survey or answer matches no pair (pairs has none) and stays unmapped
    mapped = pd.Series(f[["survey", "answer"]].merge(pairs, on=["survey", "answer"], how="left")["_mapped"]
                       .to_numpy(), index=f.index, dtype="string")
    unknown = mapped.isna()
    parts = []
    if unknown.any():
        bad = f[unknown]
        # issue 14: an answer that is not an option may be a family's own words (a child's name):
        # it is described, never quoted, here and in the issues table
        msgs = (bad["_file"].astype("string") + " row " + bad["_row"].astype("string") + ", column answer: "
                + describe(bad["answer"], "answer") + "that is not one of "
                + bad["survey"].map(lambda s: ", ".join(cfg.options(s))).astype("string")
                + " (the answers of the survey '" + bad["survey"].astype("string") + "'). Fix: correct the answer "
                  "in the file, or if it is another label for an option, map it under params "
                  "feedback.answer_aliases (the label as written: the option); a survey with its own options "
                  "lists them under params feedback.answers. The row is set aside")
        parts.append(_issue_rows(bad, rule="unknown_answer", severity="rejected", column="answer", messages=msgs,
                                 values=pd.Series(pd.NA, index=bad.index, dtype="string")))
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

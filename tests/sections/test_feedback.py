"""Family feedback (qa_lib.sections.feedback): the 12-question table over two quarters, verdicts, mapping hints.

The table in tests/fixtures/handmade/returns-feedback/feedback_table.csv is hand-made (invented
numbers in the layout QA reports publish; see its README) — not a published table. The
distinguishable / not verdicts are recomputed here with scipy directly.
"""

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from qa_lib.sections import feedback

HANDMADE = Path(__file__).resolve().parents[1] / "fixtures" / "handmade" / "returns-feedback"
SURVEY = "Family feedback (hand-made)"


def _half_up(x):
    return int(math.floor(100 * x + 0.5))


@pytest.fixture
def fb_ds(make_dataset):
    def build(**extra):
        return make_dataset(feedback=pd.read_csv(HANDMADE / "feedback.csv", dtype=str, keep_default_na=False),
                            extra={"history_periods": 1, **extra})
    return build


def test_by_question_reproduces_the_handmade_table(fb_ds):
    ds = fb_ds()
    got = feedback.by_question(ds)
    want = pd.read_csv(HANDMADE / "feedback_table.csv")
    assert list(got.index.get_level_values("question")) == list(want["question"])  # one row per question, asked order
    assert [c for c in got.columns] == ["2024-25 Q1 n", "2024-25 Q1 positive share", "2024-25 Q2 n", "2024-25 Q2 positive share"]
    for _, row in want.iterrows():
        g = got.loc[(SURVEY, row["question"])]
        assert (g["2024-25 Q1 n"], g["2024-25 Q2 n"]) == (row["q1_n"], row["q2_n"])
        assert _half_up(g["2024-25 Q1 positive share"]) == row["q1_pct_yes"]
        assert _half_up(g["2024-25 Q2 positive share"]) == row["q2_pct_yes"]
    assert not ds.issues["table"].eq("feedback").any()


def test_every_answer_counted_with_wilson_interval(fb_ds):
    counts = feedback.answer_counts(fb_ds())
    q2 = counts[(counts["question"] == "Did you feel listened to?") & (counts["period"] == "2024-25 Q2")]
    assert q2.set_index("answer")["n"].to_dict() == {"Yes": 38, "Partly": 4, "No": 2, "Didn't need to": 1}
    assert (q2["total"] == 45).all()
    yes = q2.set_index("answer").loc["Yes"]
    # Wilson 95% for 38/45 by the score formula (p + z²/2n ± z√(p(1−p)/n + z²/4n²)) / (1 + z²/n), z = 1.959964:
    # centre 0.887127/1.085366 = 0.817353, half-width 0.114172/1.085366 = 0.105193 -> 0.7122 to 0.9225
    assert round(yes["ci_low"], 4) == 0.7122 and round(yes["ci_high"], 4) == 0.9225


def test_verdicts_match_scipy_and_the_sentence_says_which(fb_ds):
    ds = fb_ds()
    comp = feedback.compare_periods(ds)
    want = pd.read_csv(HANDMADE / "feedback_table.csv")
    assert len(comp) == 12
    pvals = []
    for _, row in want.iterrows():
        x1, n1 = round(row["q1_pct_yes"] / 100 * row["q1_n"]), row["q1_n"]
        x2, n2 = round(row["q2_pct_yes"] / 100 * row["q2_n"]), row["q2_n"]
        table = np.array([[x2, n2 - x2], [x1, n1 - x1]])
        expected = stats.contingency.expected_freq(table)
        if expected.min() < 5:
            p = stats.fisher_exact(table).pvalue
        else:
            p = stats.chi2_contingency(table, correction=False)[1]
        pvals.append(p)
    q = stats.false_discovery_control(pvals, method="bh")
    got = comp.loc[SURVEY].reindex(want["question"])
    np.testing.assert_allclose(got["pvalue"].to_numpy(dtype=float), pvals, rtol=1e-9)
    np.testing.assert_allclose(got["qvalue"].to_numpy(dtype=float), q, rtol=1e-9)
    distinct = list(want["question"][q < 0.05])
    assert list(got.index[got["distinguishable"].astype(bool)]) == distinct
    assert 0 < len(distinct) < 12  # the fixture has both kinds
    sentence = feedback.comparison_sentence(comp)
    assert sentence.startswith(f"{len(distinct)} of 12 question(s) changed between 2024-25 Q1 and 2024-25 Q2")
    for question in distinct:
        assert f"'{question}'" in sentence
    for question in set(want["question"]) - set(distinct):
        assert f"'{question}'" not in sentence
    assert f"For the other {12 - len(distinct)} question(s)" in sentence and "not statistically distinguishable" in sentence


def _small(extra_rows):
    rows = [("R1", "2024-05-02", "S", "Did you feel listened to?", "Yes"),
            ("R2", "2024-05-03", "S", "Did you feel listened to?", "No"),
            ("R3", "2024-08-02", "S", "Did you feel listened to?", "Yes")] + extra_rows
    return pd.DataFrame(rows, columns=["response_id", "response_date", "survey", "question", "answer"])


def test_unknown_answer_label_is_an_issue_with_a_mapping_hint(make_dataset):
    ds = make_dataset(feedback=_small([("R4", "2024-08-03", "S", "Did you feel listened to?", "Mostly")]))
    issue = ds.issues[ds.issues["rule"] == "unknown_answer"]
    assert len(issue) == 1
    msg = issue["message"].iloc[0]
    # issue 14: the answer may be a family's own words: described by length, never quoted
    assert "feedback.csv row 5, column answer: an answer of 6 characters (letters) that is not one of " \
           "Yes, Partly, No, Didn't need to (the answers of the survey 'S')" in msg
    assert "Mostly" not in msg and issue["value"].isna().all()
    assert "params feedback.answer_aliases" in msg
    assert issue["severity"].iloc[0] == "rejected" and len(ds.feedback) == 3
    # the hint works: mapped, the row counts and the issue is gone
    ds = make_dataset(feedback=_small([("R4", "2024-08-03", "S", "Did you feel listened to?", "Mostly")]),
                      extra={"feedback": {"answer_aliases": {"mostly": "Partly"}}})
    assert not (ds.issues["rule"] == "unknown_answer").any()
    assert (ds.feedback["answer"] == "Partly").sum() == 1


def test_survey_with_its_own_options(make_dataset):
    rows = _small([])
    rows["answer"] = ["Agree", "Disagree", "Agree"]
    ds = make_dataset(feedback=rows, extra={"feedback": {"answers": {"S": ["Agree", "Neutral", "Disagree"]},
                                                          "positive": ["Agree"]}})
    assert ds.issues.empty
    counts = feedback.answer_counts(ds)
    assert list(counts["answer"].unique()) == ["Agree", "Neutral", "Disagree"]
    shares = feedback.positive_shares(ds).set_index("period")["share"]
    assert shares["2024-25 Q1"] == 0.5 and shares["2024-25 Q2"] == 1.0


def test_reworded_question_gets_a_message_and_mapping_hint(make_dataset):
    extra = [("R4", "2024-08-03", "S", "Do you feel you were listened to?", "Yes")]
    rows = _small(extra)
    rows = rows[rows["response_id"] != "R3"]  # the Q2 answer comes only under the new wording
    ds = make_dataset(feedback=rows, extra={"history_periods": 1})
    issue = ds.issues[ds.issues["rule"] == "question_reworded"]
    assert len(issue) == 1 and issue["severity"].iloc[0] == "warning"
    msg = issue["message"].iloc[0]
    assert "'Do you feel you were listened to?' (asked in 2024-25 Q2) looks like a rewording of " \
           "'Did you feel listened to?' (asked in 2024-25 Q1)" in msg
    assert "params feedback.question_aliases" in msg
    assert len(feedback.by_question(ds)) == 2  # reported as two questions until mapped
    ds = make_dataset(feedback=rows, extra={"history_periods": 1, "feedback": {
        "question_aliases": {"Do you feel you were listened to?": "Did you feel listened to?"}}})
    assert not (ds.issues["rule"] == "question_reworded").any()
    table = feedback.by_question(ds)
    assert len(table) == 1 and table.iloc[0]["2024-25 Q2 n"] == 1


def test_questions_asked_together_are_not_called_rewordings(make_dataset):
    rows = _small([("R1", "2024-05-02", "S", "Did you feel listened to by the team?", "Yes")])
    ds = make_dataset(feedback=rows)
    assert not (ds.issues["rule"] == "question_reworded").any()


@pytest.mark.slow
def test_demo_reports_have_issue5_sections_with_content(demo_run):
    import re

    page = (demo_run["out"] / "quarterly.html").read_text(encoding="utf-8")
    sections = dict(re.findall(r'<h2 id="[^"]*"[^>]*>(.*?)</h2>(.*?)(?=<h2 |\Z)', page, re.S))
    sections = {re.sub(r"<[^>]+>|¶", "", k).strip(): v for k, v in sections.items()}
    for title, must in (("Returns against target and practitioner participation", "Cochran–Armitage"),
                        ("Family feedback", "question(s) changed between"),
                        ("Strengths and learning themes", "[redacted]"),
                        ("Audit actions", "audit action(s) were overdue")):
        body = sections[title]
        assert body.count("<table") >= 2, title
        assert must in body, title
    assert "Every practitioner took part" in page or "No service area reached 100% participation" in page
    fb = (demo_run["out"] / "feedback.html").read_text(encoding="utf-8")
    assert fb.count("<table") >= 4 and "Benjamini–Hochberg" in fb

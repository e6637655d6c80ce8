"""Strengths and learning themes (qa_lib.sections.themes): taxonomy counts, redaction, internal-only quotes."""

import pandas as pd
import pytest

from qa_lib.sections import themes
from qa_lib.core.errors import ParamsError

AUDITS = pd.DataFrame({"audit_id": ["QA1", "QA2", "QA3"], "case_id": ["3104567", "C-77", "C-78"],
                       "audit_date": ["2024-07-03", "2024-08-03", "2024-04-10"], "service_area": "Assessment",
                       "auditor_id": ["AUD9", "AUD9", "AUD9"], "practitioner_id": ["P123", "P124", "P125"]})
COMMENTS = pd.DataFrame({
    "audit_id": ["QA1", "QA1", "QA2", "QA2", "QA3"],
    "domain": ["Chronology", "Planning", "Supervision", "Chronology", "Chronology"],
    "kind": ["learning", "learning", "strength", "strength", "learning"],
    "text": ["Case 3104567: no CHRONOLOGY on file; P123 told the auditor about drift.",
             "Outcomes are not SMART and show drift and delay.",
             "Reflective supervision recorded; ref 12345678 in C-77 notes.",
             "A clear chronology and genogram.",
             "Chronology out of date."],
})


def test_counts_by_theme_kind_and_period(make_dataset):
    ds = make_dataset(audits=AUDITS, comments=COMMENTS, extra={"history_periods": 1})
    t = themes.counts_by_period(ds)
    assert list(t.columns) == ["2024-25 Q1", "2024-25 Q2"]
    # by hand: Chronology learning = comment 1 (Q2) and comment 5 (Q1); strength = comment 4 (Q2)
    assert t.loc[("Chronology", "learning")].tolist() == [1, 1]
    assert t.loc[("Chronology", "strength")].tolist() == [0, 1]
    # "drift" in comments 1 and 2 (both Q2 learning): counted once per comment
    assert t.loc[("Drift and delay", "learning")].tolist() == [0, 2]
    assert t.loc[("SMART outcomes", "learning")].tolist() == [0, 1]
    assert t.loc[("Genogram", "strength")].tolist() == [0, 1]
    assert ("Recording", "strength") not in t.index  # themes nobody mentioned are left out


def test_custom_taxonomy_is_case_insensitive_regex(make_dataset):
    ds = make_dataset(audits=AUDITS, comments=COMMENTS, extra={"themes": {"Timeline": ["chrono\\w+"], "Delay": ["delay"]}})
    t = themes.counts_by_period(ds)
    assert t.loc[("Timeline", "learning"), "2024-25 Q2"] == 1 and t.loc[("Delay", "learning"), "2024-25 Q2"] == 1
    assert t.loc[("No theme matched", "strength"), "2024-25 Q2"] == 1  # the supervision comment


def test_bad_regex_is_a_params_error():
    with pytest.raises(ParamsError, match=r"themes.Broken.*valid regular expression"):
        themes.compile_themes({"Broken": ["chronolog(y"]})


def test_quotes_redact_identifiers_and_long_numbers(make_dataset):
    ds = make_dataset(audits=AUDITS, comments=COMMENTS)
    quotes = themes.example_quotes(ds, per_theme=5)
    text = " ".join(quotes["quote"])
    for secret in ("3104567", "P123", "12345678", "C-77"):
        assert secret not in text
    assert "Case [redacted]: no CHRONOLOGY on file; [redacted] told the auditor about drift." in set(quotes["quote"])
    assert "Reflective supervision recorded; ref [redacted] in [redacted] notes." in set(quotes["quote"])
    assert not set(quotes.columns) & {"audit_id", "case_id"}


def test_no_quotes_in_published_reports(make_dataset):
    ds = make_dataset(audits=AUDITS, comments=COMMENTS, extra={"audience": "published"})
    assert themes.example_quotes(ds).empty
    assert not themes.counts_by_period(ds).empty  # counts still shown


def test_redact_whole_tokens_only():
    assert themes.redact("P12 and P123 and XP123", {"P123"}) == "P12 and [redacted] and XP123"
    assert themes.redact("12345 and 123456", set()) == "12345 and [redacted]"


def test_by_domain(make_dataset):
    ds = make_dataset(audits=AUDITS, comments=COMMENTS)
    t = themes.by_domain(ds)
    assert t.loc["Chronology", ["strengths", "learning"]].tolist() == [1, 1]
    assert t.loc["Chronology", "most frequent learning theme"] == "Chronology"

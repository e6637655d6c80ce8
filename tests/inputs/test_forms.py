"""Issue 17: an MS Forms export read straight in (fixture: tests/fixtures/handmade/send-forms)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest
import yaml

from qa_lib.inputs.data import identifier_values, load_dataset
from qa_lib.inputs.forms import checklist_grade
from qa_lib.inputs.params import load_params
from qa_lib.inputs.privacy import Redactor

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "handmade" / "send-forms"
EXPORT = FIXTURE / "ehcp-multi-agency-qa.csv"


@pytest.fixture
def forms_params(tmp_path):
    def build(**changes):
        shutil.copy(EXPORT, tmp_path / EXPORT.name)
        values = yaml.safe_load((FIXTURE / "params.yaml").read_text(encoding="utf-8"))
        for k, v in changes.items():
            values["forms"][k] = v
        path = tmp_path / "params.yaml"
        path.write_text(yaml.safe_dump(values, sort_keys=False), encoding="utf-8")
        return load_params(path)
    return build


def test_the_export_carries_the_quirks_it_is_built_with():
    raw = EXPORT.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # UTF-8 with BOM, as Excel's "CSV UTF-8" writes
    header = pd.read_csv(EXPORT, encoding="utf-8-sig", nrows=0).columns.tolist()
    assert header[:5] == ["ID", "Start time", "Completion time", "Email", "Name"]
    assert "Total points" in header and "Plan reference " in header  # quiz column; trailing space
    assert any(h.endswith("aspirations? ") for h in header)  # question text as header, trailing space
    assert len(pd.read_csv(EXPORT, encoding="utf-8-sig")) == 12  # 3 plans x 4 agencies


def test_forms_export_becomes_audits_ratings_and_comments(forms_params):
    ds = load_dataset(forms_params())
    assert ds.issues.empty, ds.issues["message"].tolist()
    assert len(ds.audits) == 3 and set(ds.audits["service_area"]) == {"SEND"}
    assert str(ds.audits["audit_date"].min().date()) == "2025-01-14"  # day-first completion time, time dropped
    # 12 submissions x (4 graded questions + 1 checklist section)
    assert len(ds.ratings) == 60
    assert ds.ratings["agency"].value_counts().to_dict() == {"Education": 15, "Health": 15, "Social care": 15, "SEN team": 15}
    assert set(ds.ratings.loc[ds.ratings["agency"] == "SEN team", "role"]) == {"auditor"}
    assert set(ds.ratings.loc[ds.ratings["agency"] != "SEN team", "role"]) == {"peer"}
    # "Not yet good " (the form's label, trailing space) -> Requires improvement via forms.grade_labels
    assert "Requires improvement" in set(ds.ratings["grade"].astype(str))
    assert set(ds.comments["kind"]) == {"strength", "learning"}


def test_email_and_name_never_reach_the_dataset_and_quotes_are_redacted(forms_params):
    ds = load_dataset(forms_params())
    export = pd.read_csv(EXPORT, encoding="utf-8-sig", dtype=str)
    people = set(export["Email"]) | set(export["Name"]) | set(export["Plan reference "])
    for frame in (ds.audits, ds.ratings, ds.comments):
        cells = set(frame.astype("string").stack().dropna().tolist())
        assert not (cells & people)
    assert all(v.startswith("AUD-") for v in ds.ratings["rater_id"])
    assert all(v.startswith("PLAN-") for v in ds.audits["audit_id"])
    redact = Redactor(identifier_values(ds))
    quotes = " ".join(redact(t) for t in ds.comments["text"])
    assert "Dan " not in quotes and "EHCP-20" not in quotes  # the caseworker's first name, the plan reference
    assert "[redacted]" in quotes


def test_checklist_rule_gives_the_section_grade():
    grades = ["Outstanding", "Good", "Requires improvement", "Inadequate"]
    rule = {"Outstanding": 1.0, "Good": 0.75, "Requires improvement": 0.5}
    assert checklist_grade([2, 2, 2, 2], rule, grades) == "Outstanding"  # 8 of 8 points
    assert checklist_grade([2, 2, 2, 1], rule, grades) == "Good"  # 7/8 = 87.5%
    assert checklist_grade([2, 2, 1, 0], rule, grades) == "Requires improvement"  # 5/8 = 62.5%
    assert checklist_grade([2, 1, 0, 0], rule, grades) == "Inadequate"  # 3/8 = 37.5%
    assert checklist_grade([2, 2, 0, 0], rule, grades) == "Requires improvement"  # exactly 50%


def test_checklist_grades_in_the_dataset_follow_the_rule(forms_params):
    ds = load_dataset(forms_params())
    e = ds.ratings[ds.ratings["domain"] == "Section E"]
    # the SEN team's answers for the second plan are Met, Partly, Not met, Not met: 3 of 8 points
    plan2 = ds.audits.sort_values("audit_date")["audit_id"].iloc[1]
    assert e.loc[(e["audit_id"] == plan2) & (e["agency"] == "SEN team"), "grade"].astype(str).tolist() == ["Inadequate"]


def test_unknown_checklist_answer_and_missing_question_are_issues_not_crashes(forms_params, tmp_path):
    params = forms_params()
    text = EXPORT.read_text(encoding="utf-8-sig").replace("Not met", "Dunno", 1)
    (tmp_path / EXPORT.name).write_text(text, encoding="utf-8-sig")
    ds = load_dataset(params)
    bad = ds.issues[ds.issues["rule"] == "unknown_checklist_answer"]
    assert len(bad) == 1 and "row 2" in bad["message"].iloc[0] and "expected met, partly or not met" in bad["message"].iloc[0]
    params = forms_params(grades={"A question that is not on the form": "Section A"})
    ds = load_dataset(params)
    miss = ds.issues[ds.issues["rule"] == "missing_column"]
    assert len(miss) == 1 and "A question that is not on the form" in miss["message"].iloc[0]
    assert ds.ratings.empty


def test_agency_column_of_a_ratings_file_is_kept(make_dataset):
    audits = "audit_id,case_id,audit_date,service_area,auditor_id\nA1,C1,2024-07-10,SEND,U1\n"
    ratings = ("audit_id,rater_id,role,domain,grade,Agency\nA1,U1,auditor,Overall,Good,SEN team\n"
               "A1,P1,peer,Overall,Good,health\nA1,P2,peer,Section A,Good,Health \n")
    ds = make_dataset(audits=audits, ratings=ratings)
    assert ds.ratings["agency"].tolist() == ["SEN team", "health", "health"]  # one spelling per agency: the first seen


def test_a_month_first_export_is_named_not_misread(forms_params, tmp_path):
    """An export from a US-locale form writes 01/14/2025: with date_format auto the file is named in the issues
    (the plans' audits are set aside, so their ratings are too) and no date is misread; with date_format: month-first it reads as 14 January."""
    import re

    text = EXPORT.read_text(encoding="utf-8-sig")
    us = re.sub(r"(\d{2})/(\d{2})/(\d{4})", r"\2/\1/\3", text)
    assert "01/14/2025" in us
    params = forms_params()
    (tmp_path / EXPORT.name).write_text(us, encoding="utf-8-sig")
    ds = load_dataset(params)
    refused = ds.issues[ds.issues["message"].str.contains("month first", regex=False)]
    assert "audits" in set(refused["table"]) and ds.audits.empty and ds.ratings.empty
    assert refused["message"].str.contains(EXPORT.name, regex=False).all()
    ds = load_dataset(params.replace(date_format="month-first"))
    assert ds.issues.empty, ds.issues["message"].tolist()[:3]
    assert str(ds.audits["audit_date"].min().date()) == "2025-01-14" and len(ds.audits) == 3

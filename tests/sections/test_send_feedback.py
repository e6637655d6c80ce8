"""Issue 17: family feedback reproduces every published annual-review percentage of 000_*
(Worcestershire Children First, SEND QA report Q2 22/23; figures in
tests/fixtures/published/send-000-annual-reviews/published.csv), and shows which cannot all come
from one set of records."""

from __future__ import annotations

import csv
import shutil
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path


from qa_lib.core import fmt
from qa_lib.inputs.data import load_dataset
from qa_lib.inputs.params import load_params
from qa_lib.sections import feedback

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "published" / "send-000-annual-reviews"
PUBLISHED = list(csv.DictReader(open(FIXTURE / "published.csv", encoding="utf-8")))


def _load(tmp_path, which):
    for f in FIXTURE.glob("*.*"):
        shutil.copy(f, tmp_path)
    return load_dataset(load_params(tmp_path / f"params-{which}.yaml"))


def test_quarter_table_reproduces_every_published_percentage(tmp_path):
    ds = _load(tmp_path, "quarters")
    t = feedback.by_question(ds)
    assert len(t) == 12
    for row in PUBLISHED:
        got = t.loc[("Annual reviews", row["question"])]
        assert fmt.pct(got["2022-23 Q1 positive share"]) == row["q1_2223"] + "%"
        assert fmt.pct(got["2022-23 Q2 positive share"]) == row["q2_2223"] + "%"
    fam = feedback.families_responded(ds)
    assert fam.loc["Annual reviews"].to_dict() == {"2022-23 Q1": 11, "2022-23 Q2": 5, "to date": 16}


def test_to_date_table_reproduces_every_published_percentage(tmp_path):
    ds = _load(tmp_path, "to-date")
    t = feedback.to_date_table(ds)
    assert list(t.columns) == ["n", "Yes share", "Partly share", "I didn't need to share", "No share"]
    cols = {"Yes share": "to_date_yes", "Partly share": "to_date_partly",
            "I didn't need to share": "to_date_didnt_need", "No share": "to_date_no"}
    for row in PUBLISHED:
        got = t.loc[("Annual reviews", row["question"])]
        assert got["n"] == 14
        for col, pub in cols.items():
            expected = (row[pub] or "0") + "%"  # "N/A" in the published table: nobody chose it
            assert fmt.pct(got[col]) == expected, (row["question"], col)
    assert feedback.families_responded(ds).loc["Annual reviews", "to date"] == 14


def _pct(k, n):
    return int((Decimal(100 * k) / Decimal(n)).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def test_the_two_published_tables_cannot_come_from_one_set_of_records():
    # "14 families have given us feedback so far" and feedback began in Q1 22/23, so to date = Q1 + Q2.
    # Q1's percentages need at least 11 families and Q2's at least 5 (smallest denominators that give
    # every printed %), so to date is at least 16, not 14.
    smallest = {}
    for col in ("q1_2223", "q2_2223"):
        smallest[col] = next(n for n in range(1, 40)
                             if all(any(_pct(k, n) == int(r[col]) for k in range(n + 1)) for r in PUBLISHED))
    assert smallest == {"q1_2223": 11, "q2_2223": 5} and sum(smallest.values()) > 14
    # and a pooled share lies between its parts: "child had opportunities to share their views" is 93% to date
    # but 73% in Q1 and 60% in Q2
    row = next(r for r in PUBLISHED if r["question"].startswith("Do you feel your child had opportunities"))
    assert int(row["to_date_yes"]) > max(int(row["q1_2223"]), int(row["q2_2223"]))


def test_free_text_answers_are_quotes_not_unknown_answers(tmp_path):
    ds = _load(tmp_path, "quarters")
    assert not (ds.issues["rule"] == "unknown_answer").any()
    assert len(ds.feedback_text) == 3 and "Is there anything else" not in " ".join(ds.feedback["question"])
    quotes = feedback.family_quotes(ds)
    assert len(quotes) == 3
    assert "AR-Q2-003" not in " ".join(quotes["quote"]) and "[redacted]" in quotes["quote"].iloc[2]
    themes = feedback.family_voice_themes(ds)
    assert themes.loc[("Annual reviews", "Multi-agency working"), "2022-23 Q2"] == 1  # "school", "agencies"
    assert themes.loc[("Annual reviews", "No theme matched"), "2022-23 Q2"] == 2


def test_undeclared_free_text_is_detected_with_a_warning(tmp_path):
    import yaml

    for f in FIXTURE.glob("*.*"):
        shutil.copy(f, tmp_path)
    values = yaml.safe_load((tmp_path / "params-quarters.yaml").read_text(encoding="utf-8"))
    values["feedback"].pop("free_text")
    (tmp_path / "params-quarters.yaml").write_text(yaml.safe_dump(values), encoding="utf-8")
    ds = load_dataset(load_params(tmp_path / "params-quarters.yaml"))
    assert not (ds.issues["rule"] == "unknown_answer").any()
    warn = ds.issues[ds.issues["rule"] == "free_text_detected"]
    assert len(warn) == 1 and "params feedback.free_text" in warn["message"].iloc[0]
    assert warn["severity"].iloc[0] == "warning"


def test_quotes_are_not_shown_in_published_reports(tmp_path):
    ds = _load(tmp_path, "quarters")
    ds.params = ds.params.replace(audience="published")
    assert feedback.family_quotes(ds).empty

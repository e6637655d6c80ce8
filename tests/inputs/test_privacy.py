"""Pseudonymised identifiers (issue 8): keyed hash at load, joins intact, no identifier or key in any output."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

from qa_lib.inputs import privacy
from qa_lib.inputs.data import load_dataset
from qa_lib.core.errors import ParamsError
from qa_lib.inputs.params import load_params
from conftest import ROOT, input_identifiers, write_inputs

AUDITS = ("audit_id,case_id,audit_date,service_area,auditor_id,practitioner_id\n"
          "A1,C1,2024-07-01,Front Door,X1,P1\nA2,C2,2024-07-02,SEND,X2,P1\nA3,X1,2024-07-03,SEND,X1,P2\n")
RATINGS = ("audit_id,rater_id,role,domain,grade\nA1,X1,auditor,Overall,Good\nA1,M9,moderator,Overall,Good\n"
           "A2,X2,auditor,Overall,Inadequate\nA3,X1,auditor,Overall,Good\n")


def test_hmac_sha256_matches_rfc_4231_test_case_2():
    # RFC 4231 section 4.3: key "Jefe", data "what do ya want for nothing?"
    assert privacy.keyed_digest(b"Jefe", b"what do ya want for nothing?") == \
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"


def test_pseudonyms_are_stable_keyed_and_prefixed(monkeypatch):
    key = privacy.PseudonymKey(b"k" * 32, "test")
    s = pd.Series(["AUD011", "AUD011", "AUD022", None, ""], dtype="string")
    out = privacy.pseudonymise_series(s, family="rater", prefix="AUD", key=key)
    assert out[0] == out[1] != out[2]
    assert re.fullmatch(r"AUD-[0-9a-f]{12}", out[0])
    assert pd.isna(out[3]) and out[4] == ""
    # the pseudonym is the first 12 hex digits of HMAC-SHA256(key, family + US + id)
    assert out[0] == "AUD-" + privacy.keyed_digest(b"k" * 32, b"rater\x1fAUD011")[:12]
    other = privacy.pseudonymise_series(s, family="rater", prefix="AUD", key=privacy.PseudonymKey(b"j" * 32, "t"))
    assert other[0] != out[0]
    case = privacy.pseudonymise_series(s, family="case", prefix="CASE", key=key)
    assert case[0][5:] != out[0][4:]  # same text in another family: unrelated pseudonym
    assert "kkkk" not in repr(key)


def test_load_pseudonymises_ids_and_joins_still_work(tmp_path, monkeypatch):
    monkeypatch.setenv(privacy.ENV_VAR, "a-long-enough-test-key-0123")
    params = load_params(write_inputs(tmp_path / "in", audits=AUDITS, ratings=RATINGS))
    ds = load_dataset(params)
    flat = set(ds.audits[["case_id", "auditor_id", "practitioner_id"]].stack()) | set(ds.ratings["rater_id"])
    assert not flat & {"C1", "C2", "X1", "X2", "P1", "P2", "M9"}
    assert all(re.fullmatch(r"(CASE|AUD|PRAC)-[0-9a-f]{12}", v) for v in flat)
    # the auditor's id in audits and in ratings is the same pseudonym, so the join holds
    aud = ds.ratings[ds.ratings["role"] == "auditor"]
    assert (aud["rater_id"] == aud["audit_auditor_id"]).all() and len(aud) == 3
    assert ds.audits["practitioner_id"].nunique() == 2 and ds.audits["auditor_id"].nunique() == 2
    # case id "X1" and auditor id "X1" are different people: different pseudonyms
    assert ds.audits.loc[2, "case_id"][5:] != ds.audits.loc[0, "auditor_id"][4:]
    again = load_dataset(params)
    assert again.audits["case_id"].tolist() == ds.audits["case_id"].tolist()
    monkeypatch.setenv(privacy.ENV_VAR, "another-long-enough-test-key-9")
    assert load_dataset(params).audits["case_id"].tolist() != ds.audits["case_id"].tolist()


def test_random_key_without_configuration_and_provenance_says_so(tmp_path, monkeypatch):
    monkeypatch.delenv(privacy.ENV_VAR, raising=False)
    params = load_params(write_inputs(tmp_path / "in", audits=AUDITS))
    assert "random key generated for this run" in privacy.key_source(params)
    a = load_dataset(params).audits["case_id"].tolist()
    assert a == load_dataset(params).audits["case_id"].tolist()  # one key per process
    from qa_lib.present.report import provenance
    assert "random key" in provenance(params)["disclosure"]


def test_key_file_rules(tmp_path, monkeypatch):
    monkeypatch.delenv(privacy.ENV_VAR, raising=False)
    key = tmp_path / "secret.key"
    key.write_text("file-key-0123456789abcdef\n")
    params = load_params(write_inputs(tmp_path / "in", audits=AUDITS, extra={"pseudonym_key_file": str(key)}))
    resolved = privacy.resolve_key(params)
    assert resolved.key == b"file-key-0123456789abcdef" and "secret.key" in resolved.source
    short = tmp_path / "short.key"
    short.write_text("abc")
    with pytest.raises(ParamsError, match="at least 16"):
        load_dataset(load_params(write_inputs(tmp_path / "s", audits=AUDITS, extra={"pseudonym_key_file": str(short)})))
    # a file tracked by git is never a key source
    with pytest.raises(ParamsError, match="tracked by git"):
        load_dataset(load_params(write_inputs(tmp_path / "g", audits=AUDITS,
                                              extra={"pseudonym_key_file": str(ROOT / "pyproject.toml")})))
    monkeypatch.setenv(privacy.ENV_VAR, "short")
    with pytest.raises(ParamsError, match=privacy.ENV_VAR):
        load_dataset(params)


def _scan(folder: Path, needles: set[str]) -> dict[str, list[str]]:
    pattern = re.compile(r"(?<![A-Za-z0-9])(" + "|".join(map(re.escape, sorted(needles, key=len, reverse=True)))
                         + r")(?![A-Za-z0-9])")
    found = {}
    for f in sorted(folder.rglob("*")):
        if f.is_file():
            hits = pattern.findall(f.read_bytes().decode("utf-8", errors="replace"))
            if hits:
                found[str(f.relative_to(folder))] = sorted(set(hits))[:5]
    return found


@pytest.mark.slow
@pytest.mark.parametrize("which", ["demo_run", "demo_published_run"])
def test_no_input_identifier_in_any_output_of_a_full_demo_run(which, request):
    run = request.getfixturevalue(which)
    ids = input_identifiers()
    assert len(ids) > 1000
    out = run["out"]
    files = [f for f in out.rglob("*") if f.is_file()]
    names = {f.name for f in files}
    assert "manifest.json" in names and any(n.endswith(".html") for n in names)
    assert "rejects.csv" not in names  # issue 14: a working file beside the outputs, never in the pack
    assert (out.parent.parent / "qa-working" / out.name / "rejects.csv").is_file()
    assert sum(f.suffix == ".csv" for f in files) >= 10
    assert not _scan(out, ids)


@pytest.mark.slow
def test_pseudonym_key_never_written(demo_published_run):
    assert not _scan(demo_published_run["out"], {demo_published_run["key"]})
    manifest = (demo_published_run["out"] / "manifest.json").read_text(encoding="utf-8")
    assert "pseudonym.key" in manifest  # where the key came from is recorded, the key is not


def test_the_scan_finds_a_planted_identifier(tmp_path):
    (tmp_path / "x.html").write_text("<td>AUD011</td>")
    (tmp_path / "y.csv").write_text("a,b\nAUD0111,1\n")  # a longer token is not that id
    assert _scan(tmp_path, {"AUD011"}) == {"x.html": ["AUD011"]}


# -- issue 14: redaction that matches identifiers in every written form ------------------------------
def test_redactor_matches_multi_word_names_in_every_form():
    r = privacy.Redactor(["Jane Smith", "Tobias Vasquez-Thorne", "Siobhan O'Neill", "CASE-ZX0001"], first_names=False)
    cases = {
        "Jane Smith met the family.": "[redacted] met the family.",
        "JANE SMITH; jane smith, Smith's plan": "[redacted]; [redacted], [redacted]'s plan",
        "Vasquez-Thorne’s visit and vasquez thorne and VasquezThorne": "[redacted]’s visit and [redacted] and [redacted]",
        "siobhan o’neill, O'NEILL, ONeill and Neill": "[redacted], [redacted], [redacted] and [redacted]",
        "case zx0001 (CASE-ZX0001) and ZX0001": "[redacted] ([redacted]) and [redacted]",
        "the case was reviewed": "the case was reviewed",  # the word CASE alone is not an identifier
    }
    for text, want in cases.items():
        assert r(text) == want, text


def test_first_name_dictionary_catches_capitalised_childrens_names_only():
    r = privacy.Redactor([])
    assert r("Grace's case worker saw Oliver and AMELIA.") == "[redacted]'s case worker saw [redacted] and [redacted]."
    assert r("we will do it by grace and may review") == "we will do it by grace and may review"
    names = privacy.first_name_dictionary()
    assert len(names) > 20_000 and {"grace", "oliver", "muhammad", "siobhan", "zoe"} <= names
    assert "case" not in names and "the" not in names


def test_redact_terms_from_the_params_reach_quotes_and_the_cache(make_dataset):
    comments = ("audit_id,domain,kind,text\nA1,Overall,strength,Lovely work at Acorn Nursery with Bluebell's dad.\n")
    ds = make_dataset(audits=AUDITS, ratings=RATINGS, comments=comments,
                      extra={"redact_terms": ["Acorn Nursery", "bluebell"]})
    from qa_lib.inputs.data import redactor
    assert redactor(ds)(ds.comments["text"].iloc[0]) == "Lovely work at [redacted] with [redacted]'s dad."
    import pickle
    cached = pickle.loads(pickle.dumps(ds))
    assert "Acorn" not in cached.comments["text"].iloc[0] and "Bluebell" not in cached.comments["text"].iloc[0]


def test_messages_describe_free_text_and_reasons_are_redacted(make_dataset):
    feedback = ("response_id,response_date,survey,question,answer\n"
                "R1,2024-08-01,S,Did you feel listened to?,Yes\nR2,2024-08-01,S,Did you feel listened to?,"
                "Jane Smith was lovely to Grace\n")
    allocations = ("allocation_id,month,service_area,status,practitioner_id,practitioner_took_part,reason\n"
                   "AL1,2024-08,SEND,returned,Jane Smith,No,Jane Smith on leave\n"
                   "AL2,2024-08,SEND,Jane Smith,P2,Yes,\n")
    ds = make_dataset(audits=AUDITS, ratings=RATINGS, feedback=feedback, allocations=allocations)
    text = " ".join(ds.issues["message"].astype(str)) + " ".join(ds.issues["value"].dropna().astype(str))
    assert "Jane" not in text and "Smith" not in text and "Grace" not in text
    assert "an answer of 30 characters (letters) that is not one of Yes, Partly, No" in text
    assert "allocations.csv row 3, column status: a value of 10 characters (letters) is not valid" in text
    assert ds.allocations["reason"].dropna().tolist() == ["[redacted] on leave"]
    example = " ".join(ds.rejected_summary()["example"])
    assert "Jane" not in example and "answer of 30 characters" in example

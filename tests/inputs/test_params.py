"""Params: one frozen, typed object from SCHEMA; every check at load, shared by validate and run."""

import ast
import dataclasses
import json
import pickle
import re
from pathlib import Path

import jsonschema
import pytest
import yaml

from qa_lib.core.errors import ParamsError
from qa_lib.inputs import params as P
from qa_lib.inputs.feedback_checks import FeedbackSettings
from qa_lib.inputs.params import SCHEMA, load_params
from qa_lib.running.cli import main

ROOT = Path(__file__).resolve().parents[2]
PARAMS_FILES = sorted((ROOT / "params").glob("*.yaml"))


@pytest.mark.parametrize("path", PARAMS_FILES, ids=lambda p: p.name)
def test_every_params_file_loads(path):
    params = load_params(path)
    assert params.period.label
    assert params.files("audits"), "every shipped params file names its audits"


def _write(tmp_path, text: str | None = None, **values):
    (tmp_path / "audits.csv").write_text("audit_id\n")
    path = tmp_path / "p.yaml"
    if text is not None:
        path.write_text(text)
        return path
    base = {"period": "2024-25 Q2", "data": {"audits": "audits.csv"}, "output_dir": "out"}
    base.update(values)
    path.write_text(yaml.safe_dump(base))
    return path


def test_unknown_key_lists_valid_keys(tmp_path):
    with pytest.raises(ParamsError) as err:
        load_params(_write(tmp_path, retrun_target=0.8))
    assert "retrun_target" in str(err.value) and "return_target" in str(err.value)


def test_unknown_nested_key(tmp_path):
    with pytest.raises(ParamsError, match="data.audit"):
        load_params(_write(tmp_path, data={"audit": "audits.csv"}))


def test_wrong_type_names_expected_type(tmp_path):
    with pytest.raises(ParamsError) as err:
        load_params(_write(tmp_path, history_periods="four"))
    assert "history_periods" in str(err.value) and "whole number" in str(err.value)


def test_malformed_period(tmp_path):
    with pytest.raises(ParamsError) as err:
        load_params(_write(tmp_path, period="Summer 2024"))
    assert "Summer 2024" in str(err.value) and "Q2 22/23" in str(err.value)


def test_missing_file_is_named(tmp_path):
    with pytest.raises(ParamsError) as err:
        load_params(_write(tmp_path, data={"audits": "nowhere.csv"}))
    assert "nowhere.csv" in str(err.value) and "relative to the params file" in str(err.value)


def test_glob_expands_sorted(tmp_path):
    (tmp_path / "exports").mkdir()
    for m in ("2024-09", "2024-07", "2024-08"):
        (tmp_path / "exports" / f"audits-{m}.csv").write_text("audit_id\n")
    params = load_params(_write(tmp_path, data={"audits": "exports/audits-*.csv"}))
    assert [p.name for p in params.files("audits")] == ["audits-2024-07.csv", "audits-2024-08.csv", "audits-2024-09.csv"]


def test_missing_params_file():
    with pytest.raises(ParamsError, match="no such file"):
        load_params("does/not/exist.yaml")


# ------------------------------------------------------------------------------------------------
# extends
# ------------------------------------------------------------------------------------------------
def test_extends_takes_the_base_and_overrides_whole_keys(tmp_path):
    (tmp_path / "audits.csv").write_text("audit_id\n")
    (tmp_path / "base.yaml").write_text("period: 2024-25 Q2\nhistory_periods: 2\ndata: {audits: audits.csv}\n")
    (tmp_path / "variant.yaml").write_text("extends: base.yaml\nperiod: Q1 2024/25\naudience: published\n")
    params = load_params(tmp_path / "variant.yaml")
    assert params.period.label == "2024-25 Q1" and params.history_periods == 2 and params.audience == "published"


def test_extends_another_folder_keeps_the_base_paths_relative_to_the_base(tmp_path):
    shared = tmp_path / "shared"
    (shared / "data").mkdir(parents=True)
    (shared / "data" / "audits.csv").write_text("audit_id\n")
    (shared / "base.yaml").write_text("period: 2024-25 Q2\ndata: {audits: data/audits.csv}\noutput_dir: reports\n")
    (tmp_path / "council").mkdir()
    (tmp_path / "council" / "q3.yaml").write_text("extends: ../shared/base.yaml\nperiod: 2024-25 Q3\n")
    params = load_params(tmp_path / "council" / "q3.yaml")
    assert params.files("audits") == [(shared / "data" / "audits.csv").resolve()]
    assert params.output_root == (shared / "reports").resolve()
    assert params.period.label == "2024-25 Q3"


def test_extends_loop_and_missing_base_are_errors(tmp_path):
    (tmp_path / "a.yaml").write_text("extends: sub/b.yaml\n")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b.yaml").write_text("extends: ../a.yaml\n")
    with pytest.raises(ParamsError, match=r"without a loop") as err:
        load_params(tmp_path / "a.yaml")
    assert "a.yaml -> b.yaml -> a.yaml" in str(err.value)
    (tmp_path / "self.yaml").write_text("extends: self.yaml\n")
    with pytest.raises(ParamsError, match="without a loop"):
        load_params(tmp_path / "self.yaml")
    (tmp_path / "c.yaml").write_text("extends: nowhere/base.yaml\n")
    with pytest.raises(ParamsError, match="no such file"):
        load_params(tmp_path / "c.yaml")


def test_extends_a_relative_path_through_other_folders_with_a_longer_loop(tmp_path):
    """Issue 18: ``extends:`` takes a relative path to another folder (up and down), and a loop through
    three files in three folders is refused naming the chain, not followed for ever."""
    (tmp_path / "shared" / "base").mkdir(parents=True)
    (tmp_path / "shared" / "base" / "audits.csv").write_text("audit_id\n")
    (tmp_path / "shared" / "base" / "all.yaml").write_text("period: 2024-25 Q2\ndata: {audits: audits.csv}\nmin_n: 7\n")
    (tmp_path / "shared" / "region.yaml").write_text("extends: base/all.yaml\nhistory_periods: 3\n")
    (tmp_path / "council" / "q3").mkdir(parents=True)
    (tmp_path / "council" / "q3" / "p.yaml").write_text("extends: ../../shared/region.yaml\nperiod: 2024-25 Q3\n")
    params = load_params(tmp_path / "council" / "q3" / "p.yaml")
    assert (params.period.label, params.min_n, params.history_periods) == ("2024-25 Q3", 7, 3)
    assert params.files("audits") == [(tmp_path / "shared" / "base" / "audits.csv").resolve()]
    (tmp_path / "x").mkdir()
    (tmp_path / "y").mkdir()
    (tmp_path / "x" / "one.yaml").write_text("extends: ../y/two.yaml\n")
    (tmp_path / "y" / "two.yaml").write_text("extends: ../three.yaml\n")
    (tmp_path / "three.yaml").write_text("extends: x/one.yaml\n")
    with pytest.raises(ParamsError, match="without a loop") as err:
        load_params(tmp_path / "x" / "one.yaml")
    assert "one.yaml -> two.yaml -> three.yaml -> one.yaml" in str(err.value)


@pytest.mark.parametrize("written", ["Yes", "yes", "YES", "No", "no", "Y", "N", "On", "Off", "'Yes'", '"No"'])
def test_yes_and_no_read_as_text_however_written(tmp_path, written):
    """Issue 18: an answer label reads as the text written, quoted or not, in any case (YAML 1.2 booleans)."""
    text = (f"period: 2024-25 Q2\ndata: {{audits: audits.csv}}\noutput_dir: out\n"
            f"feedback:\n  answers:\n    Survey: [{written}, Other]\n  positive: [{written}]\n"
            f"  answer_aliases: {{{written}: Other}}\n")
    params = load_params(_write(tmp_path, text))
    label = written.strip("'\"")
    assert params.feedback["answers"]["Survey"] == (label, "Other")
    assert params.feedback["positive"] == (label,) and dict(params.feedback["answer_aliases"]) == {label: "Other"}


@pytest.mark.parametrize("written", ["true", "True", "FALSE"])
def test_a_true_or_false_label_gets_a_fix_that_works_when_pasted(tmp_path, written):
    """``true``/``false`` are YAML booleans; the message's fix is the quoted form, and that fix, pasted
    into the file in place of the value, loads (issue 18: it used to suggest 'Yes' for true)."""
    template = ("period: 2024-25 Q2\ndata: {{audits: audits.csv}}\noutput_dir: out\n"
                "feedback:\n  answers:\n    Survey: {answers}\n  positive: [Yes]\n")
    path = _write(tmp_path, template.format(answers=f"[{written}, Partly]"))
    with pytest.raises(ParamsError) as err:
        load_params(path)
    fix = re.search(r"put the value in quotes: (\[.*\])", str(err.value)).group(1)
    assert fix == f"['{written.lower()}', 'Partly']"
    path.write_text(template.format(answers=fix))
    assert load_params(path).feedback["answers"]["Survey"] == (written.lower(), "Partly")


# ------------------------------------------------------------------------------------------------
# unusable params: each case through load_params, `validate` and `run` (exit 2, the same message)
# ------------------------------------------------------------------------------------------------
BOMB = ('period: 2024-25 Q2\ndata: {audits: audits.csv}\noutput_dir: out\n'
        'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
        + "".join(f"{n}: &{n} [{','.join(['*' + p] * 9)}]\n" for p, n in zip("abcdefgh", "bcdefghi"))
        + "domains: *i\n")

BAD = {
    # name: (values or YAML text, text the message must contain)
    "symbol 5": ({"audience": "published", "suppression": {"symbol": "5"}}, "suppression.symbol: '5' is not valid"),
    "symbol 0": ({"suppression": {"symbol": "0"}}, "a short mark that is not a number"),
    "symbol empty": ({"suppression": {"symbol": " "}}, "suppression.symbol"),
    "symbol long": ({"suppression": {"symbol": "suppressed!!"}}, "suppression.symbol"),
    "threshold 0": ({"suppression": {"threshold": 0}}, "suppression.threshold: 0 is not valid (expected a whole number at least 1)"),
    "numeric grades": ({"grades": [1, 2, 3, 4]}, "put the value in quotes: ['1', '2', '3', '4']"),
    "one grade": ({"grades": ["Good"]}, "at least two grades"),
    "repeated grade": ({"grades": ["Good", "good", "Poor"]}, "listed twice"),
    "good_or_better 9": ({"good_or_better": 9}, "9 on a scale of 4 grades"),
    "good_or_better 0": ({"good_or_better": 0}, "good_or_better: 0 is not valid"),
    "alias to no grade": ({"grade_aliases": {"RI": "Requires Improvement!"}}, "grade_aliases.RI"),
    "alias numeric label": ({"grade_aliases": {1: "Outstanding"}}, "put the label in quotes: '1'"),
    "negative history": ({"history_periods": -1}, "history_periods: -1 is not valid (expected a whole number from 0 to 60)"),
    "negative min_n": ({"min_n": -3}, "min_n: -3 is not valid (expected a whole number at least 0)"),
    "zero due weeks": ({"action_due_weeks": 0}, "action_due_weeks"),
    "numeric domains": ({"domains": [1, 2]}, "domains item 1: 1 (a number) is not valid (expected text)"),
    "repeated domain": ({"domains": ["Chronology", "chronology"]}, "domains"),
    "empty item": ("period: 2024-25 Q2\ndata: {audits: audits.csv}\noutput_dir: out\ndomains: [Chronology, ]\n",
                   None),  # YAML flow lists allow a trailing comma: read as one item (checked below)
    "wide without domains": ({"ratings_format": "wide"}, "ratings_wide.domains: nothing is not valid"),
    "bad ratings format": ({"ratings_format": "tall"}, "one of long, wide"),
    "bad theme regex": ({"themes": {"Broken": ["chronolog(y"]}}, "themes.Broken: 'chronolog(y' is not valid"),
    "theme not a list": ({"themes": {"Broken": 5}}, "themes.Broken"),
    "return_target 80": ({"return_target": 80}, "return_target"),
    "return_target 0": ({"return_target": 0}, "return_target"),
    "unknown report": ({"reports": ["quarterly", "annual"]}, "'annual'"),
    "repeated report": ({"reports": ["quarterly", "quarterly"]}, "listed twice"),
    "strict yes": ("period: 2024-25 Q2\ndata: {audits: audits.csv}\noutput_dir: out\nstrict: yes\n", "write true or false"),
    "positive not an answer": ({"feedback": {"positive": ["Agree"]}}, "feedback.positive: 'Agree' is not valid"),
    "positive and n/a": ({"feedback": {"positive": ["Yes"], "not_applicable": ["Yes"]}}, "both positive and not applicable"),
    "answers of one option": ({"feedback": {"answers": {"Survey": ["Yes"]}}}, "feedback.answers.Survey"),
    "bad indicator link": ({"indicator_links": {"Re-referrals": {"team": "A"}}}, "indicator_links.Re-referrals"),
    "unknown key": ({"retrun_target": 0.8}, "unknown key(s) retrun_target"),
    "no period": ("data: {audits: audits.csv}\n", "period: nothing is not valid"),
    "no data": ("period: 2024-25 Q2\n", "at least one input table"),  # issue 17: any table, or a forms export
    "anchor bomb": (BOMB, "a YAML anchor or alias"),
    "merge key": ("base: &b {min_n: 5}\nperiod: 2024-25 Q2\ndata: {audits: audits.csv}\n<<: *b\n", "anchor or alias"),
    "syntax error": ("period: [2024-25 Q2\n", "valid YAML"),
    "not a mapping": ("- period\n", "a mapping of keys to values"),
    "output_dir is a file": ("FILE", "(is a file)"),
    "output_dir under a file": ("UNDER_FILE", "cannot be created"),
}


def _bad_params(tmp_path, name) -> tuple[Path, str | None]:
    spec, needle = BAD[name]
    if spec == "FILE":
        (tmp_path / "out").write_text("not a folder")
        return _write(tmp_path), needle
    if spec == "UNDER_FILE":
        (tmp_path / "blocker").write_text("not a folder")
        return _write(tmp_path, output_dir="blocker/reports"), needle
    if isinstance(spec, str):
        return _write(tmp_path, spec), needle
    return _write(tmp_path, **spec), needle


UNUSABLE = [n for n, (_, needle) in BAD.items() if needle is not None]


@pytest.mark.parametrize("name", UNUSABLE)
def test_unusable_params_fail_at_load_validate_and_run_alike(tmp_path, capsys, name):
    path, needle = _bad_params(tmp_path, name)
    with pytest.raises(ParamsError) as err:
        load_params(path)
    message = str(err.value)
    assert needle in message and "p.yaml" in message
    assert main(["validate", str(path)]) == 2
    out = capsys.readouterr()
    assert message in out.err and "Traceback" not in out.err + out.out
    assert main(["run", "--quiet", str(path)]) == 2
    out = capsys.readouterr()
    # run's failure table gives the same message (its first 300 characters: one line per failure)
    assert message[:300] in out.err + out.out and "Traceback" not in out.err + out.out


def test_the_anchor_bomb_is_small_and_refused_before_expanding(tmp_path):
    path, _ = _bad_params(tmp_path, "anchor bomb")
    assert len(path.read_bytes()) < 1000
    memo: dict[int, int] = {}

    def leaves(x):  # items once written out (the aliases share lists, which a dump expands)
        if not isinstance(x, list):
            return 1
        if id(x) not in memo:
            memo[id(x)] = sum(leaves(v) for v in x)
        return memo[id(x)]

    assert leaves(yaml.safe_load(path.read_text())["domains"]) == 9 ** 9  # what plain safe_load would accept
    with pytest.raises(ParamsError, match="line 4"):
        load_params(path)


def test_trailing_comma_is_one_item_not_a_blank(tmp_path):
    path, _ = _bad_params(tmp_path, "empty item")
    assert load_params(path).domains == ("Chronology",)
    (tmp_path / "q.yaml").write_text("period: 2024-25 Q2\ndata: {audits: audits.csv}\noutput_dir: out\n"
                                     "domains:\n  - Chronology\n  -\n")
    with pytest.raises(ParamsError, match="domains item 2: nothing"):
        load_params(tmp_path / "q.yaml")


def test_read_only_output_folder_is_refused(tmp_path, monkeypatch):
    # the tests may run as root, for whom every folder is writable: ask os.access as a user would be told
    (tmp_path / "out").mkdir()
    path = _write(tmp_path)
    real = P.os.access
    monkeypatch.setattr(P.os, "access", lambda p, mode: False if Path(p) == (tmp_path / "out").resolve() else real(p, mode))
    with pytest.raises(ParamsError, match=r"out \(cannot be written\)"):
        load_params(path)
    (tmp_path / "out" / "2024-25-Q2").write_text("a file where the period folder goes")
    monkeypatch.setattr(P.os, "access", real)
    with pytest.raises(ParamsError, match=r"2024-25-Q2 \(is a file\)"):
        load_params(path)


def test_output_folder_that_does_not_exist_yet_is_fine_and_not_created(tmp_path):
    params = load_params(_write(tmp_path, output_dir="new/reports"))
    assert params.output_dir == (tmp_path / "new" / "reports" / "2024-25-Q2").resolve()
    assert not (tmp_path / "new").exists()  # validate never creates folders


def test_yes_and_no_answer_labels_stay_text(tmp_path):
    text = ("period: 2024-25 Q2\ndata: {audits: audits.csv}\noutput_dir: out\nstrict: false\n"
            "feedback:\n  default_answers: [Yes, Partly, No, N/A]\n  positive: [Yes]\n  not_applicable: [N/A]\n"
            "  answer_aliases: {Y: Yes, N: No, On: Yes, Off: No}\n")
    params = load_params(_write(tmp_path, text))
    assert params.feedback["default_answers"] == ("Yes", "Partly", "No", "N/A")
    assert dict(params.feedback["answer_aliases"]) == {"Y": "Yes", "N": "No", "On": "Yes", "Off": "No"}
    assert params.strict is False


# ------------------------------------------------------------------------------------------------
# the Params object
# ------------------------------------------------------------------------------------------------
def test_params_is_frozen_typed_and_generated_from_the_schema(tmp_path):
    params = load_params(_write(tmp_path, grades=["A", "B", "C"], good_or_better=1))
    fields = {f.metadata.get("key") for f in dataclasses.fields(params)} - {None}
    assert fields == set(SCHEMA)  # one attribute per key, no more, no less
    with pytest.raises(dataclasses.FrozenInstanceError):
        params.min_n = 3
    with pytest.raises(TypeError):
        params.suppression["symbol"] = "x"
    assert params.grades == ("A", "B", "C") and params.suppression["threshold"] == 5
    assert isinstance(params.return_target, float) and params.output_root == (tmp_path / "out").resolve()
    assert pickle.loads(pickle.dumps(params)) == params  # datasets are cached and sent to workers
    assert params.as_dict()["grades"] == ["A", "B", "C"] and params.as_dict()["output_dir"] == "out"
    yaml.safe_dump(params.as_dict())  # plain values, for provenance and papermill
    with pytest.raises(AttributeError):
        params.no_such_key  # noqa: B018 - the attribute access is the test
    assert params.replace(strict=True).strict is True
    with pytest.raises(ParamsError, match="min_n"):
        params.replace(min_n=-1)  # a changed copy is checked like a file


def test_no_getattr_defaults_on_params_in_qa_lib():
    found = []
    for path in (ROOT / "qa_lib").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "getattr"
                    and "params" in ast.unparse(node.args[0])):
                found.append(f"{path.relative_to(ROOT)}:{node.lineno} {ast.unparse(node)}")
    assert found == []


def test_feedback_settings_come_from_the_schema_defaults(tmp_path):
    cfg = FeedbackSettings.from_params(load_params(_write(tmp_path)))
    fb = SCHEMA["feedback"].keys
    assert cfg.positive == tuple(fb["positive"].default) and cfg.not_applicable == tuple(fb["not_applicable"].default)
    assert cfg.options("Any survey") == tuple(fb["default_answers"].default)
    assert cfg.positive_note() == ('% positive = Yes \u00f7 answers other than "Didn\'t need to" (as set in params '
                                   'feedback); n = those answers.')


def test_feedback_note_shows_the_councils_own_labels(tmp_path):
    params = load_params(_write(tmp_path, feedback={"default_answers": ["Agree", "Not sure", "Disagree", "Not relevant"],
                                                    "positive": ["Agree"], "not_applicable": ["Not relevant"]}))
    note = FeedbackSettings.from_params(params).positive_note()
    assert note.startswith('% positive = Agree \u00f7 answers other than "Not relevant"') and "Didn't" not in note
    none = load_params(_write(tmp_path, feedback={"not_applicable": []}))
    assert "\u00f7 all answers" in FeedbackSettings.from_params(none).positive_note()
    for nb in ("feedback", "quarterly"):  # the notebooks take the note from the params
        assert "Didn't need to" not in (ROOT / "notebooks" / f"{nb}.py").read_text(encoding="utf-8")


# ------------------------------------------------------------------------------------------------
# generated documentation
# ------------------------------------------------------------------------------------------------
def test_params_help_lists_every_key_with_type_default_choices_and_help(capsys):
    assert main(["params-help"]) == 0
    out = capsys.readouterr().out
    for name, key in P._walk():
        line = next((ln for ln in out.splitlines() if ln.startswith(name + "  (")), None)
        assert line is not None, name
        assert key.help in out
        if key.keys is None and name not in ("period", "data.audits"):
            assert ("none" if key.default is None else json.dumps(key.default, ensure_ascii=False)) in line
        if key.choices:
            assert "choices: " + ", ".join(key.choices) in out
    assert "suppression.symbol  (text; default \"c\")" in out
    assert "history_periods  (a whole number, 0 to 60; default 4)" in out


def test_published_json_schema_is_in_step_with_schema():
    assert P.SCHEMA_FILE.read_text(encoding="utf-8") == P.json_schema_text(), \
        "params/params.schema.json is out of date: run `qa-workbook params-schema --write`"


@pytest.mark.parametrize("path", PARAMS_FILES, ids=lambda p: p.name)
def test_json_schema_validates_every_params_file(path):
    schema = json.loads(P.SCHEMA_FILE.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.validate(P.read_yaml(path), schema)
    first = path.read_text(encoding="utf-8").splitlines()[0]
    assert first == "# yaml-language-server: $schema=params.schema.json"  # VS Code's YAML extension


@pytest.mark.parametrize("values, where", [
    ({"audience": "public"}, "audience"), ({"history_periods": -1}, "history_periods"),
    ({"retrun_target": 0.8}, "retrun_target"), ({"suppression": {"symbol": 5}}, "symbol"),
    ({"grades": [1, 2]}, "grades"), ({"reports": ["annual"]}, "reports"),
])
def test_json_schema_refuses_what_load_refuses(values, where):
    schema = json.loads(P.SCHEMA_FILE.read_text(encoding="utf-8"))
    doc = {"period": "2024-25 Q2", "data": {"audits": "audits.csv"}, **values}
    with pytest.raises(jsonschema.ValidationError) as err:
        jsonschema.validate(doc, schema)
    assert where in str(err.value)

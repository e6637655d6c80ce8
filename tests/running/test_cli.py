"""The command line as people type it (issue 18, Deliver 5): ``--version``, options before or after the
params files, ``--jobs`` at least 1, and the exit codes of README "Exit codes" (0 clean, 1 data issues or
failed reports, 2 unusable params or arguments, 3 internal error)."""

from __future__ import annotations

from importlib.metadata import version
from pathlib import Path

import pytest

from qa_lib.running import cli
from qa_lib.running.render import JobResult

ROOT = Path(__file__).resolve().parents[2]
DEMO = str(ROOT / "params" / "demo.yaml")
PUBLISHED = str(ROOT / "params" / "demo-published.yaml")


@pytest.fixture
def calls(monkeypatch):
    """``run_batch`` replaced by a recorder: what the command line asked for, nothing rendered."""
    seen: list[dict] = []

    def fake(params, *, reports=None, jobs=None, **kwargs):
        seen.append({"params": list(params), "reports": reports, "jobs": jobs, "force": kwargs.get("force")})
        return []

    monkeypatch.setattr(cli, "run_batch", fake)
    return seen


@pytest.mark.parametrize("argv", [
    ["run", "--only", "quarterly", DEMO],  # issue 18: --only used to swallow the file
    ["run", DEMO, "--only", "quarterly"],
    ["run", "--jobs", "1", "--only", "quarterly", "--force", DEMO],
    ["run", "-j", "1", DEMO, "--only", "quarterly", "--force"],
    ["run", "--force", DEMO, "--only", "quarterly", "-j", "1"],
])
def test_options_before_or_after_the_params_file(calls, argv):
    assert cli.main([*argv, "--quiet"]) == 0
    assert calls[-1]["params"] == [DEMO] and calls[-1]["reports"] == ["quarterly"]


@pytest.mark.parametrize("argv", [
    ["run", "--only", "quarterly,moderation", DEMO, PUBLISHED],
    ["run", "--only", "quarterly", "moderation", DEMO, PUBLISHED],
    ["run", "--only", "quarterly", "--only", "moderation", DEMO, PUBLISHED],
    ["run", DEMO, "--only", "quarterly,", "moderation", PUBLISHED],
    ["run", DEMO, "--force", PUBLISHED, "--only", "quarterly", "moderation"],  # a file between options
])
def test_several_reports_and_several_files(calls, argv):
    assert cli.main(argv) == 0
    assert calls[-1]["params"] == [DEMO, PUBLISHED] and calls[-1]["reports"] == ["quarterly", "moderation"]


@pytest.mark.parametrize("value", ["-3", "0", "two", "1.5"])
def test_jobs_must_be_a_whole_number_of_at_least_one(calls, capsys, value):
    with pytest.raises(SystemExit) as exit_:
        cli.main(["run", DEMO, "--jobs", value])
    assert exit_.value.code == 2 and not calls
    err = capsys.readouterr().err
    assert "--jobs" in err and "at least 1" in err and value in err and "Traceback" not in err


def test_jobs_one_is_used(calls):
    assert cli.main(["run", "--jobs", "1", DEMO]) == 0 and calls[-1]["jobs"] == 1


def test_version_is_the_installed_distribution_s(capsys):
    with pytest.raises(SystemExit) as exit_:
        cli.main(["--version"])
    assert exit_.value.code == 0
    assert capsys.readouterr().out.strip() == f"qa-workbook {version('qa-workbook')}"


@pytest.mark.parametrize("argv, words", [
    (["run"], "expected one or more params YAML files"),
    (["run", "--only", "quarterly"], "expected one or more params YAML files"),
    (["run", "--only", DEMO], "expected report names from"),
    (["validate", DEMO, "--frobnicate"], "unrecognized arguments: --frobnicate"),
    (["params-help", "extra.yaml"], "unrecognized arguments: extra.yaml"),
])
def test_bad_arguments_exit_2_with_the_reason(calls, capsys, argv, words):
    with pytest.raises(SystemExit) as exit_:
        cli.main(argv)
    assert exit_.value.code == 2 and not calls
    assert words in capsys.readouterr().err


def test_unknown_report_exits_2_naming_the_reports(capsys):
    assert cli.main(["run", "--only", "quartely", DEMO, "--quiet"]) == cli.EXIT_UNUSABLE == 2
    err = capsys.readouterr().err
    assert "quartely" in err and "quarterly" in err and "moderation" in err and "Traceback" not in err


def test_missing_params_file_exits_2(tmp_path, capsys):
    assert cli.main(["run", "--quiet", str(tmp_path / "nope.yaml")]) == 2
    assert "nope.yaml" in capsys.readouterr().err


def test_a_failed_report_exits_1_and_a_bug_exits_3(monkeypatch, tmp_path, capsys):
    failed = JobResult(params_file=DEMO, period="2024-25 Q2", report="quarterly", status="failed", error="cell 4")
    monkeypatch.setattr(cli, "run_batch", lambda *a, **k: [failed])
    assert cli.main(["run", DEMO, "--quiet"]) == cli.EXIT_ISSUES == 1

    def broken(*a, **k):
        raise RuntimeError("a bug")

    monkeypatch.setattr(cli, "run_batch", broken)
    monkeypatch.setattr(cli, "_error_log_folder", lambda args: tmp_path)
    assert cli.main(["run", DEMO, "--quiet"]) == cli.EXIT_INTERNAL == 3
    assert "internal error" in capsys.readouterr().err and (tmp_path / cli.ERROR_LOG).is_file()


def test_help_states_the_exit_codes_and_option_order(capsys):
    with pytest.raises(SystemExit):
        cli.main(["run", "--help"])
    out = capsys.readouterr().out
    assert "before, between or after the params files" in out and "at least 1" in out
    assert all(f"  {code}  " in out for code in (0, 1, 2, 3))

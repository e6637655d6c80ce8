from pathlib import Path

import pytest
import yaml

from qa_lib.core.errors import ParamsError
from qa_lib.inputs.params import load_params

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("path", sorted((ROOT / "params").glob("*.yaml")), ids=lambda p: p.name)
def test_every_params_file_loads(path):
    params = load_params(path)
    assert params.period.label
    assert params.files("audits"), "every shipped params file names its audits"


def _write(tmp_path, **values):
    (tmp_path / "audits.csv").write_text("audit_id\n")
    base = {"period": "2024-25 Q2", "data": {"audits": "audits.csv"}}
    base.update(values)
    path = tmp_path / "p.yaml"
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


def test_target_out_of_range(tmp_path):
    with pytest.raises(ParamsError, match="return_target"):
        load_params(_write(tmp_path, return_target=80))


def test_missing_params_file():
    with pytest.raises(ParamsError, match="no such file"):
        load_params("does/not/exist.yaml")


def test_extends_takes_the_base_and_overrides_whole_keys(tmp_path):
    (tmp_path / "audits.csv").write_text("audit_id\n")
    (tmp_path / "base.yaml").write_text("period: 2024-25 Q2\nhistory_periods: 2\ndata: {audits: audits.csv}\n")
    (tmp_path / "variant.yaml").write_text("extends: base.yaml\nperiod: Q1 2024/25\naudience: published\n")
    params = load_params(tmp_path / "variant.yaml")
    assert params.period.label == "2024-25 Q1" and params.history_periods == 2 and params.audience == "published"


def test_extends_loop_and_other_folder_are_errors(tmp_path):
    (tmp_path / "a.yaml").write_text("extends: b.yaml\n")
    (tmp_path / "b.yaml").write_text("extends: a.yaml\n")
    with pytest.raises(ParamsError, match="without a loop"):
        load_params(tmp_path / "a.yaml")
    (tmp_path / "sub").mkdir()
    (tmp_path / "c.yaml").write_text("extends: sub/base.yaml\n")
    with pytest.raises(ParamsError, match="same folder"):
        load_params(tmp_path / "c.yaml")

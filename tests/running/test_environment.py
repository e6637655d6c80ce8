"""environment.yml (for conda users) must list exactly pyproject's dependencies with the same bounds."""

import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
# conda-forge names that differ from PyPI names
CONDA_NAMES = {"pyyaml": "pyyaml"}


def _normalise(spec: str) -> tuple[str, str]:
    m = re.match(r"^\s*([A-Za-z0-9_.\-]+)\s*(.*)$", spec)
    name, bound = m.group(1).lower().replace("_", "-"), m.group(2).replace(" ", "")
    return CONDA_NAMES.get(name, name), bound


def test_environment_yml_matches_pyproject():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = dict(_normalise(s) for s in project["dependencies"])
    for extra in project.get("optional-dependencies", {}).values():
        wanted.update(_normalise(s) for s in extra)
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    conda = dict(_normalise(s) for s in env["dependencies"] if isinstance(s, str) and s != "pip" and not re.match(r"python[<>=]", s))
    pip_part = [d for d in env["dependencies"] if isinstance(d, dict)]
    conda.update(_normalise(s) for d in pip_part for s in d.get("pip", []) if not s.startswith("-e"))
    assert conda == wanted, (
        "environment.yml and pyproject.toml disagree: "
        f"only in pyproject {sorted(set(wanted.items()) - set(conda.items()))}; "
        f"only in environment.yml {sorted(set(conda.items()) - set(wanted.items()))}")


def test_python_bound_matches():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    py = [s for s in env["dependencies"] if isinstance(s, str) and re.match(r"python[<>=]", s)]
    assert py == ["python" + project["requires-python"]]

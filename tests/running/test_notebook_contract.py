"""The papermill contract: every report notebook declares exactly the parameters the runner injects."""

import ast
import inspect

import nbformat
import papermill
import pytest

from qa_lib.inputs.params import REPORTS
from qa_lib.running import render


def injected_parameters() -> set[str]:
    """The keys of the ``parameters={...}`` that :func:`render.run_job` passes to papermill."""
    tree = ast.parse(inspect.getsource(render.run_job))
    found = [kw.value for node in ast.walk(tree) if isinstance(node, ast.Call)
             for kw in node.keywords if kw.arg == "parameters"]
    assert len(found) == 1 and isinstance(found[0], ast.Dict), "run_job passes papermill one literal parameters dict"
    return {ast.literal_eval(k) for k in found[0].keys}


def test_the_runner_injects_the_two_documented_parameters():
    assert injected_parameters() == {"params_path", "output_dir"}


@pytest.mark.parametrize("report", REPORTS)
def test_report_notebook_parameters_are_exactly_those_injected(tmp_path, report):
    nb = render.load_notebook(report)  # notebooks/<report>.py through jupytext, as the runner reads it
    path = tmp_path / f"{report}.ipynb"
    nbformat.write(nb, path)
    declared = papermill.inspect_notebook(str(path))
    assert set(declared) == injected_parameters()
    assert all(p["inferred_type_name"] == "str" for p in declared.values())

"""The explorer notebook: built outside the repository with the params injected, and it runs."""

import subprocess

import nbformat
import pytest
from nbclient import NotebookClient

from conftest import ROOT, demo_params_copy
from qa_lib.running import explore_app


def test_notebook_source_is_thin():
    src = (ROOT / "notebooks" / "explore.py").read_text(encoding="utf-8")
    assert '# %% tags=["parameters"]' in src
    assert "def " not in src and "import pandas" not in src


def test_built_notebook_injects_absolute_params_and_runs(tmp_path):
    params = demo_params_copy(tmp_path / "in")
    nb_path = explore_app.build_notebook(params, tmp_path / "build", export_dir=str(tmp_path / "exp"))
    assert nb_path == tmp_path / "build" / "explore.ipynb"
    nb = nbformat.read(nb_path, as_version=4)
    injected = [c for c in nb.cells if "injected-parameters" in c.metadata.get("tags", [])]
    assert len(injected) == 1 and f'params_path = "{params}"' in injected[0].source
    NotebookClient(nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]
    assert not [o for o in outputs if o.output_type == "error"]
    assert any("application/vnd.jupyter.widget-view+json" in o.get("data", {}) for o in outputs)


def test_build_rejects_a_missing_params_file(tmp_path):
    from qa_lib.core.errors import ParamsError

    with pytest.raises(ParamsError):
        explore_app.build_notebook(tmp_path / "nope.yaml", tmp_path / "build")
    assert not (tmp_path / "build").exists()


def test_voila_runs_localhost_only_with_a_token(tmp_path):
    cmd = explore_app.voila_command(tmp_path / "explore.ipynb", port=8123, token="t0k")
    assert "--Voila.ip=127.0.0.1" in cmd and "--no-browser" in cmd and "--token=t0k" in cmd
    # issue 18: our Voilà (the page sets the _xsrf cookie the tab-close beacon needs), a pre-started
    # kernel, and culling of kernels no page is connected to
    assert cmd[1:3] == ["-m", "qa_lib.running.voila_server"]
    assert "--VoilaConfiguration.preheat_kernel=True" in cmd and "--VoilaConfiguration.default_pool_size=1" in cmd
    assert "--MappingKernelManager.cull_idle_timeout=600" in cmd and "--MappingKernelManager.cull_connected=False" in cmd
    plain = explore_app.voila_command(tmp_path / "x.ipynb", port=1, token="t", pool_size=0, cull_idle_timeout=5)
    assert not [a for a in plain if "preheat" in a] and "--MappingKernelManager.cull_idle_timeout=5" in plain
    env = explore_app.voila_env()
    assert str(explore_app.JUPYTER_DATA) in env["JUPYTER_PATH"]
    assert (explore_app.JUPYTER_DATA / "voila" / "templates" / explore_app.TEMPLATE / "index.html.j2").is_file()


def test_no_notebook_is_tracked_in_git():
    tracked = subprocess.run(["git", "ls-files", "*.ipynb"], cwd=ROOT, capture_output=True, text=True).stdout.split()
    assert [t for t in tracked if not t.startswith("tests/fixtures/")] == []


def test_voila_server_replaces_only_the_page_handler(monkeypatch):
    """The notebook page handler is ours (it sets the _xsrf cookie); every other Voilà route is untouched."""
    from voila.app import Voila
    from voila.tornado.handler import TornadoVoilaHandler

    from qa_lib.running.voila_server import ExplorerVoila, XsrfVoilaHandler

    assert issubclass(XsrfVoilaHandler, TornadoVoilaHandler) and issubclass(ExplorerVoila, Voila)
    stock = [("/api/x", object, {}), ("/(.*)", TornadoVoilaHandler, {"notebook_path": "explore.ipynb"})]
    monkeypatch.setattr(Voila, "init_handlers", lambda self: stock)
    handlers = ExplorerVoila.init_handlers(object.__new__(ExplorerVoila))
    assert handlers == [("/api/x", object, {}), ("/(.*)", XsrfVoilaHandler, {"notebook_path": "explore.ipynb"})]

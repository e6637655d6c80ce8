"""Serve the explorer (``notebooks/explore.py``) as a standalone browser app with Voilà.

``make explore`` runs ``python -m qa_lib.running.explore_app --params params/demo.yaml``. The jupytext
source is turned into a temporary ``.ipynb`` *outside the repository* (executed notebooks carry
data and must never reach git), with the params path injected as papermill would, and Voilà serves
that file on 127.0.0.1 only, with a random access token, until Ctrl+C; the temporary folder is
removed on exit. Nothing is fetched from the network: Voilà's front end and the widget manager
ship in the voila and jupyterlab_widgets packages.

Kernels (issue 18): one kernel is pre-started and runs the notebook (data loaded, app built) before a
page asks for it (Voilà's preheated pool); a closed tab shuts its kernel down (Voilà's beacon, which
:mod:`qa_lib.running.voila_server` lets through the XSRF check under token login); a kernel no page
is connected to is culled after :data:`CULL_IDLE_TIMEOUT` seconds. :meth:`ExploreServer.kernels`
counts the kernel processes.
"""

from __future__ import annotations

import argparse
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import jupytext
import nbformat
import psutil
from papermill.parameterize import parameterize_notebook

from qa_lib.core.errors import QAError, problem
from qa_lib.inputs.params import load_params
from qa_lib.running.render import notebooks_dir

NOTEBOOK = "explore"
ROOT = Path(__file__).resolve().parents[2]  # the checkout: qa_lib/running/ -> ../..
DEMO_PARAMS = ROOT / "params" / "demo.yaml"
#: a Jupyter data folder holding the ``qa-explorer`` Voilà template (lab without CDN links)
JUPYTER_DATA = Path(__file__).resolve().parents[1] / "templates" / "jupyter"
TEMPLATE = "qa-explorer"


def build_notebook(params_path: str | os.PathLike, folder: str | os.PathLike, *, export_dir: str = "") -> Path:
    """Write ``<folder>/explore.ipynb`` from the jupytext source with ``params_path`` injected.

    Parameters
    ----------
    params_path : path-like
        The params YAML the explorer loads (made absolute, so the notebook may live anywhere).
    folder : path-like
        Where the ``.ipynb`` goes; use a temporary or git-ignored folder.
    export_dir : str
        Export folder for the app's export button; empty means ``<output root>/exports``.

    Returns
    -------
    Path
        The notebook written (not executed: Voilà executes it per visit).
    """
    params = load_params(params_path)  # fail here, with the params error, not inside the app
    src = notebooks_dir() / f"{NOTEBOOK}.py"
    nb = jupytext.read(src)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    for cell in nb.cells:
        cell.metadata.setdefault("tags", [])  # papermill reads every cell's tags
    nb.metadata["papermill"] = {}  # ... and records the parameters here
    nb = parameterize_notebook(nb, {"params_path": str(params.path),
                                    "export_dir": str(Path(export_dir).resolve()) if export_dir else ""})
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    out = folder / f"{NOTEBOOK}.ipynb"
    nbformat.write(nb, out)
    return out


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


#: kernels kept started and pre-rendered (dataset loaded, app built) for the next page
POOL_SIZE = 1
#: a kernel with no page connected for this long is stopped (the second line behind the tab-close beacon)
CULL_IDLE_TIMEOUT = 600
#: how often (seconds) the server looks for such kernels
CULL_INTERVAL = 30


def voila_command(notebook: Path, *, port: int, token: str, pool_size: int = POOL_SIZE,
                  cull_idle_timeout: int = CULL_IDLE_TIMEOUT, cull_interval: int = CULL_INTERVAL) -> list[str]:
    """The Voilà command line: localhost only, no browser, token required, offline template.

    Kernels: ``pool_size`` kernels are started and run the notebook before any page asks
    (Voilà's preheated pool, refilled a second after a page takes one); a closed tab shuts its
    kernel down (:mod:`qa_lib.running.voila_server` makes Voilà's beacon pass the XSRF check);
    a kernel no page is connected to is culled after ``cull_idle_timeout`` seconds idle.
    Run it with :func:`voila_env` so Voilà finds the ``qa-explorer`` template.
    """
    cmd = [sys.executable, "-m", "qa_lib.running.voila_server", str(notebook), "--no-browser", f"--port={port}",
           "--Voila.ip=127.0.0.1", f"--token={token}", f"--template={TEMPLATE}",
           "--VoilaConfiguration.show_tracebacks=True",
           f"--MappingKernelManager.cull_idle_timeout={int(cull_idle_timeout)}",
           f"--MappingKernelManager.cull_interval={int(cull_interval)}",
           "--MappingKernelManager.cull_connected=False"]
    if pool_size > 0:
        cmd += ["--VoilaConfiguration.preheat_kernel=True", f"--VoilaConfiguration.default_pool_size={int(pool_size)}",
                "--VoilaKernelManager.fill_delay=1"]
    return cmd


def voila_env() -> dict[str, str]:
    """Environment for Voilà: this Python's scripts first on PATH, and the explorer template on JUPYTER_PATH."""
    env = dict(os.environ)
    env["PATH"] = os.path.dirname(sys.executable) + os.pathsep + env.get("PATH", "")
    env["JUPYTER_PATH"] = os.pathsep.join(p for p in (str(JUPYTER_DATA), env.get("JUPYTER_PATH", "")) if p)
    return env


@dataclass
class ExploreServer:
    """A running Voilà process serving the explorer; stop it with :meth:`stop` (or use ``with``)."""

    process: subprocess.Popen
    port: int
    token: str
    folder: Path
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/?token={self.token}"

    def wait_until_ready(self, timeout: float = 90.0) -> None:
        """Block until Voilà answers HTTP on its port; raise with its log if it exits or times out."""
        deadline = time.monotonic() + timeout
        probe = f"http://127.0.0.1:{self.port}/api/status?token={self.token}"
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise problem(QAError, "voila", expected="a running server", received=f"exit code {self.process.returncode}",
                              fix="read the log: " + self.log.read_text(encoding="utf-8", errors="replace")[-3000:])
            try:
                with urllib.request.urlopen(probe, timeout=2) as resp:
                    if resp.status < 500:
                        return
            except urllib.error.HTTPError as exc:
                if exc.code < 500:
                    return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            time.sleep(0.3)
        raise problem(QAError, "voila", expected=f"an answer on port {self.port} within {timeout:.0f}s",
                      received="no answer", fix="read the log: " + self.log.read_text(encoding="utf-8", errors="replace")[-3000:])

    def kernels(self) -> list[psutil.Process]:
        """The kernel processes this server runs now (pool and pages), from the operating system."""
        try:
            children = psutil.Process(self.process.pid).children(recursive=True)
        except psutil.NoSuchProcess:
            return []
        out = []
        for child in children:
            try:
                if "ipykernel" in " ".join(child.cmdline()) and child.is_running() \
                        and child.status() != psutil.STATUS_ZOMBIE:
                    out.append(child)
            except (psutil.NoSuchProcess, psutil.AccessDenied):
                continue
        return out

    def stop(self) -> None:
        """Stop Voilà (its kernels with it) and remove the temporary notebook folder."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.terminate()
                try:
                    self.process.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    self.process.kill()
                    self.process.wait()
        shutil.rmtree(self.folder, ignore_errors=True)

    def __enter__(self) -> "ExploreServer":
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def serve(notebook: Path, folder: Path, *, port: int | None = None, quiet: bool = True, pool_size: int = POOL_SIZE,
          cull_idle_timeout: int = CULL_IDLE_TIMEOUT, cull_interval: int = CULL_INTERVAL) -> ExploreServer:
    """Start Voilà (as :func:`voila_command` sets it up) on ``notebook``, from ``folder`` (does not wait).

    ``folder`` is removed when the server stops. ``quiet`` sends Voilà's log to ``voila.log`` in that
    folder instead of the terminal.
    """
    port = port or free_port()
    token = secrets.token_hex(16)
    log = folder / "voila.log"
    out = open(log, "w", encoding="utf-8") if quiet else None
    cmd = voila_command(notebook, port=port, token=token, pool_size=pool_size, cull_idle_timeout=cull_idle_timeout,
                        cull_interval=cull_interval)
    proc = subprocess.Popen(cmd, cwd=str(folder), env=voila_env(), stdout=out,
                            stderr=subprocess.STDOUT if quiet else None, stdin=subprocess.DEVNULL)
    return ExploreServer(process=proc, port=port, token=token, folder=folder, log=log)


def start(params_path: str | os.PathLike = DEMO_PARAMS, *, port: int | None = None, export_dir: str = "",
          quiet: bool = True, **kernels) -> ExploreServer:
    """Build the explorer notebook in a new temporary folder and :func:`serve` it (does not wait).

    ``kernels``: ``pool_size``, ``cull_idle_timeout``, ``cull_interval`` (see :func:`voila_command`).
    """
    folder = Path(tempfile.mkdtemp(prefix="qa-explore-"))
    try:
        notebook = build_notebook(params_path, folder, export_dir=export_dir)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return serve(notebook, folder, port=port, quiet=quiet, **kernels)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m qa_lib.running.explore_app",
                                     description="Serve the QA explorer in the browser (Voilà, localhost only).")
    parser.add_argument("--params", default=str(DEMO_PARAMS), help="params YAML (default: the demo's)")
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (default: a free one)")
    parser.add_argument("--export-dir", default="", help="where the export button writes (default: outputs/exports)")
    args = parser.parse_args(argv)

    def _stop(_signum, _frame):  # `kill` or a closing terminal: clean up as Ctrl+C does
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _stop)
    try:
        server = start(args.params, port=args.port or None, export_dir=args.export_dir, quiet=True)
    except QAError as exc:
        print(exc, file=sys.stderr)
        return 2
    with server:
        try:
            server.wait_until_ready()
        except QAError as exc:
            print(exc, file=sys.stderr)
            return 1
        print(f"QA explorer running at {server.url}\n(open it in a browser on this machine; Ctrl+C stops it)", flush=True)
        try:
            while server.process.poll() is None:
                time.sleep(0.5)
        except KeyboardInterrupt:
            print("stopping the explorer")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""qa_lib — loading, cleaning, statistics and report running for QA Workbook.

The package is cut into layers; each imports only from the layers above it in this list
(``tests/test_layers.py`` enforces it):

=============  =================================================================================
``core``       errors, atomic writes, the one label key, the one number formatter (no qa_lib imports)
``inputs``     params, periods, grades, file reading, validation, privacy, the Dataset, sampling
``stats``      agreement, proportions, SPC, the change verdict, result types
``sections``   what a report says: tables, changes, narrative, reliability, returns, feedback...
``present``    HTML tables, charts, disclosure control, the Report object, the explorer's view
``running``    render one report, batch runs, the CLI, the explorer app, the demo data
=============  =================================================================================

The module names analysts already use keep working: ``from qa_lib import agreement, trend`` and
``import qa_lib.agreement`` resolve to the modules' new homes (:data:`MOVED`).
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.util
import sys
from importlib.metadata import PackageNotFoundError, version as _version

try:
    __version__ = _version("qa-workbook")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0+unknown"

from qa_lib.core.errors import InputError, ParamsError, QAError, StatisticsError

#: Former flat module names and where each now lives.
MOVED = {
    "errors": "core.errors", "atomic": "core.atomic",
    "params": "inputs.params", "periods": "inputs.periods", "grades": "inputs.grades", "io": "inputs.io",
    "validate": "inputs.validate", "privacy": "inputs.privacy", "data": "inputs.data", "sampling": "inputs.sampling",
    "results": "stats.results", "agreement": "stats.agreement", "trend": "stats.trend",
    "tables": "sections.tables", "change": "sections.change", "narrative": "sections.narrative",
    "reliability": "sections.reliability", "returns": "sections.returns", "feedback": "sections.feedback",
    "actions": "sections.actions", "themes": "sections.themes", "indicators": "sections.indicators",
    "explorer": "sections.explorer", "charts": "present.charts", "charts_spc": "present.charts_spc",
    "charts_reliability": "present.charts_reliability", "charts_indicators": "present.charts_indicators",
    "disclosure": "present.disclosure", "report": "present.report",
    "run": "running.render", "batch": "running.batch", "cli": "running.cli", "explore_app": "running.explore_app",
    "demo": "running.demo",
}


class _MovedFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """``import qa_lib.agreement`` gives the module at its new home (the same module object)."""

    def find_spec(self, fullname, path=None, target=None):
        head, _, name = fullname.partition(".")
        if head == "qa_lib" and name in MOVED:
            return importlib.util.spec_from_loader(fullname, self)
        return None

    def create_module(self, spec):
        module = importlib.import_module(f"qa_lib.{MOVED[spec.name.partition('.')[2]]}")
        sys.modules[spec.name] = module
        return module

    def exec_module(self, module):  # already executed at its new home
        pass


if not any(isinstance(f, _MovedFinder) for f in sys.meta_path):
    sys.meta_path.append(_MovedFinder())


def __getattr__(name: str):
    """``from qa_lib import trend`` and ``qa_lib.agreement`` for the former flat names."""
    if name in MOVED:
        return importlib.import_module(f"qa_lib.{MOVED[name]}")
    raise AttributeError(f"module 'qa_lib' has no attribute {name!r}")


__all__ = ["QAError", "InputError", "ParamsError", "StatisticsError", "__version__", "MOVED"]

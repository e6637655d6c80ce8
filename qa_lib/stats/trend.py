"""Trend statistics, one import: proportions and their tests, Making Data Count SPC, and the words.

``from qa_lib import trend`` (or ``qa_lib.stats.trend``) keeps the one name analysts know; the code
lives in three modules:

- :mod:`qa_lib.stats.proportions`: Wilson/Clopper–Pearson intervals, Newcombe differences,
  Fisher/chi-squared, Cochran–Armitage, homogeneity, linear-by-linear, Mann–Kendall, BH;
- :mod:`qa_lib.stats.spc`: NHS "Making Data Count" p-chart / XmR rules and readings;
- :mod:`qa_lib.stats.verdicts`: ``classify_change`` and ``describe_proportion``.
"""

from qa_lib.stats.proportions import *  # noqa: F403
from qa_lib.stats.proportions import __all__ as _proportions
from qa_lib.stats.proportions import _counts, _z  # noqa: F401 - used by tests of the internals
from qa_lib.stats.spc import *  # noqa: F403
from qa_lib.stats.spc import __all__ as _spc
from qa_lib.stats.verdicts import *  # noqa: F403
from qa_lib.stats.verdicts import __all__ as _verdicts

__all__ = [*_proportions, *_spc, *_verdicts]

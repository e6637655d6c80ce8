"""qa_lib — loading, cleaning, statistics and report running for QA Workbook."""

from importlib.metadata import PackageNotFoundError, version as _version

try:
    __version__ = _version("qa-workbook")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0+unknown"

from qa_lib.errors import InputError, ParamsError, QAError, StatisticsError  # noqa: E402

__all__ = ["QAError", "InputError", "ParamsError", "StatisticsError", "__version__"]

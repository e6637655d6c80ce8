"""One error family and one message wording for every problem the workbook reports.

Public boundaries ``raise`` (never ``assert``) through :func:`problem`, so every message
names the thing, what was expected, what was received and how to fix it.
Data-quality findings are *not* exceptions: validation returns them as rows of an issues
table (see :mod:`qa_lib.inputs.validate`); only a run that cannot go on raises.
"""

from __future__ import annotations


class QAError(Exception):
    """Base class of every error the workbook raises on purpose."""


class ParamsError(QAError):
    """A parameters file is missing, malformed or names something that does not exist."""


class InputError(QAError):
    """An input file cannot be read or used at all (missing file, missing column, strict run)."""


class StatisticsError(QAError):
    """A statistic was asked for with arguments it cannot work with (e.g. a non-square table)."""


def message(where: str, *, expected: str, received: str | None = None, fix: str | None = None) -> str:
    """Build the house-style message: ``where: received — expected ...; fix``.

    Parameters
    ----------
    where : str
        The thing at fault, as a person would find it: ``"ratings.csv row 14, column grade"``.
    expected : str
        What was expected there.
    received : str, optional
        What was found instead.
    fix : str, optional
        How to put it right.

    Returns
    -------
    str
        One sentence-like line, e.g. ``"ratings.csv row 14, column grade: 'Gd' is not valid
        (expected one of Outstanding, Good, ...). Fix: add it to params grade_aliases."``
    """
    text = f"{where}: "
    text += f"{received} is not valid (expected {expected})" if received is not None else f"expected {expected}"
    if fix:
        text += f". Fix: {fix}"
    return text


def problem(kind: type[QAError], where: str, *, expected: str, received: str | None = None,
            fix: str | None = None) -> QAError:
    """Return (for the caller to ``raise``) an error of ``kind`` worded by :func:`message`."""
    return kind(message(where, expected=expected, received=received, fix=fix))

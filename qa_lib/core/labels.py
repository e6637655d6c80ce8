"""The one label key: how a label typed by a person is matched to a label the params or scale know.

Grades (``RI``, ``Requires improvement ``), survey answers (``Didn’t need to``), questions and
performance-indicator names are all matched through :func:`key`, so one rule holds everywhere:

- Unicode compatibility forms folded (NFKC: a non-breaking space is a space, ``ﬁ`` is ``fi``);
- case ignored;
- apostrophes removed, straight or curly (``Didn’t`` = ``Didnt`` = ``didn't``);
- runs of spacing, underscores, dashes, slashes, brackets, quotes and the punctuation of
  phrasing (``. , : ;``) are one space, and the ends are trimmed;
- every other character is kept: ``+`` and ``%`` change an indicator's meaning (``% 16+``), and a
  grade typed as ``Gd?`` is a question, not a grade.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

import pandas as pd

_APOSTROPHES = re.compile(r"['\u2018\u2019\u02bc`]")
_SEPARATORS = re.compile(r"[\s_\-\u2010-\u2015/\\()\[\]{}.,:;\"\u201c\u201d]+")


def key(text: Any) -> str:
    """The match key of one label (see the module docstring for the rule)."""
    s = unicodedata.normalize("NFKC", str(text)).lower()
    return _SEPARATORS.sub(" ", _APOSTROPHES.sub("", s)).strip()


def keys(values: pd.Series) -> pd.Series:
    """:func:`key` of every value of a Series (each distinct value computed once); missing stays missing."""
    distinct = values.dropna().unique()
    lookup = {v: key(v) for v in distinct}
    return values.map(lookup).astype("string")

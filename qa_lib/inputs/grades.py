"""The grade scale and the aliases people type for each grade.

The scale comes from the params (default: the four Ofsted grades, best first) and is never
inferred from the grades seen: an unused grade changes weighted kappa and AC1.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping, Sequence

import numpy as np
import pandas as pd

from qa_lib.core.labels import key as label_key
from qa_lib.core.labels import keys as label_keys
from qa_lib.core.errors import ParamsError, problem

OFSTED = ("Outstanding", "Good", "Requires improvement", "Inadequate")

DEFAULT_ALIASES: dict[str, str] = {
    "o": "Outstanding", "out": "Outstanding", "outstanding": "Outstanding", "1": "Outstanding",
    "g": "Good", "gd": "Good", "good": "Good", "2": "Good",
    "ri": "Requires improvement", "r i": "Requires improvement", "r.i.": "Requires improvement",
    "req improvement": "Requires improvement", "req. improvement": "Requires improvement",
    "requires improvement": "Requires improvement", "requires improvement to be good": "Requires improvement",
    "requires improvement to become good": "Requires improvement", "requires improvements": "Requires improvement",
    "3": "Requires improvement",
    "i": "Inadequate", "inad": "Inadequate", "inadequate": "Inadequate", "4": "Inadequate",
}


@dataclass(frozen=True)
class GradeScale:
    """An ordered grade scale, best first, with aliases.

    Attributes
    ----------
    grades : tuple of str
        The grades in order, best first (``Outstanding`` … ``Inadequate``).
    good_or_better : int
        How many of the first grades count as "Good or better" (default 2).
    aliases : Mapping[str, str]
        Alias (any case/spacing) → grade. Numeric aliases ``1``–``4`` map by position only
        for the default Ofsted scale.
    """

    grades: tuple[str, ...] = OFSTED
    good_or_better: int = 2
    aliases: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_params(cls, grades: Sequence[str] | None = None, aliases: Mapping[str, str] | None = None,
                    good_or_better: int = 2) -> GradeScale:
        grades = tuple(grades or OFSTED)
        if len(set(map(label_key, grades))) != len(grades) or len(grades) < 2:
            raise problem(ParamsError, "params grades", received=repr(list(grades)),
                          expected="at least two distinct grades, best first")
        lookup: dict[str, str] = {}
        if grades == OFSTED:
            lookup.update({label_key(k): v for k, v in DEFAULT_ALIASES.items()})
        for g in grades:
            lookup[label_key(g)] = g
        for alias, target in (aliases or {}).items():
            if target not in grades:
                raise problem(ParamsError, f"params grade_aliases '{alias}'", received=repr(target),
                              expected="one of " + ", ".join(grades))
            lookup[label_key(alias)] = target
        return cls(grades=grades, good_or_better=good_or_better, aliases=lookup)

    @property
    def dtype(self) -> pd.CategoricalDtype:
        """Ordered categorical dtype with *all* grades, best first."""
        return pd.CategoricalDtype(list(self.grades), ordered=True)

    @property
    def good_grades(self) -> tuple[str, ...]:
        return self.grades[: self.good_or_better]

    @property
    def expected_text(self) -> str:
        return "one of " + ", ".join(self.grades) + " or an alias in params grade_aliases"

    def normalise(self, values: pd.Series) -> tuple[pd.Series, pd.Series]:
        """Map raw labels to grades.

        Returns
        -------
        grades : pandas.Series
            Ordered categorical (all grades as categories); NA where unknown or blank.
        unknown : pandas.Series of bool
            True where a non-blank label matched no grade or alias.
        """
        lookup = dict(self.aliases) if self.aliases else {label_key(g): g for g in self.grades}
        # the text work runs on the distinct labels only (a handful), then spreads by position
        codes, labels = pd.factorize(values.astype("string"))
        # numbers typed as 2.0 by spreadsheets, then the one label key (qa_lib.core.labels)
        keys = label_keys(pd.Series(labels, dtype="string").str.replace(r"^\s*(\d)\.0+\s*$", r"\1", regex=True))
        mapped_labels = keys.map(lookup)
        grade_codes = pd.Categorical(mapped_labels, dtype=self.dtype).codes
        grade_codes = np.append(grade_codes, -1)[codes]  # code -1 (a missing label) takes the appended -1
        unknown_labels = (mapped_labels.isna() & ~(keys.isna() | (keys == ""))).fillna(False).to_numpy(dtype=bool)
        unknown = np.append(unknown_labels, False)[codes]
        return (pd.Series(pd.Categorical.from_codes(grade_codes, dtype=self.dtype), index=values.index),
                pd.Series(unknown, index=values.index))

    def codes(self, grades: pd.Series) -> pd.Series:
        """Integer position of each grade (0 = best); -1 for NA."""
        return pd.Series(pd.Categorical(grades, dtype=self.dtype).codes, index=grades.index)

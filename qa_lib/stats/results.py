"""Result types shared by every statistic: small frozen dataclasses with ``to_frame()``.

Full precision is kept here; rounding, percentages and suppression happen only at
presentation (:mod:`qa_lib.sections.tables`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields
from typing import Any, Mapping

import pandas as pd

NAN = math.nan


@dataclass(frozen=True)
class Estimate:
    """A point estimate with its standard error and confidence interval.

    Attributes
    ----------
    estimate, se, ci_low, ci_high : float
        Full-precision values; ``nan`` where undefined (``note`` then says why).
    n : int
        Number of units (case files, pairs) the estimate rests on.
    method : str
        Formula, variance and interval convention, e.g.
        ``"Cohen's kappa; FCE (1969) ASE; normal 95% CI, not truncated"``.
    measure : str
        Short name of the quantity (``"kappa"``, ``"AC1"``...).
    statistic, df, pvalue : float
        Test of the null hypothesis where one is reported (``nan`` otherwise).
    note : str
        Plain-English caveat: undefined estimate, tiny n, etc.
    extra : Mapping
        Further named quantities (p_o, p_e, null SE...).
    level : float
        Confidence level of ``ci_low``/``ci_high`` (default 0.95).
    sided : str
        ``"two-sided"`` or ``"one-sided lower bound"`` (then ``ci_high`` is the top of the range).
    """

    estimate: float
    se: float = NAN
    ci_low: float = NAN
    ci_high: float = NAN
    n: int = 0
    method: str = ""
    measure: str = ""
    statistic: float = NAN
    df: float = NAN
    pvalue: float = NAN
    note: str = ""
    extra: Mapping[str, Any] = field(default_factory=dict)
    level: float = 0.95
    sided: str = "two-sided"

    @property
    def defined(self) -> bool:
        """True when the estimate is a finite number."""
        return self.estimate is not None and math.isfinite(self.estimate)

    def to_frame(self) -> pd.DataFrame:
        """One-row DataFrame of every field, ``extra`` spread into columns."""
        row = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "extra"}
        row.update(dict(self.extra))
        return pd.DataFrame([row])


@dataclass(frozen=True)
class TestResult:
    """A hypothesis test: statistic, degrees of freedom, p-value and the convention used."""

    statistic: float
    pvalue: float
    df: float = NAN
    n: int = 0
    method: str = ""
    note: str = ""
    extra: Mapping[str, Any] = field(default_factory=dict)

    __test__ = False  # not a pytest test class

    def to_frame(self) -> pd.DataFrame:
        """One-row DataFrame of every field, ``extra`` spread into columns."""
        row = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "extra"}
        row.update(dict(self.extra))
        return pd.DataFrame([row])

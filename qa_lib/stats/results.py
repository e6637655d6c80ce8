"""Result types shared by every statistic: small frozen dataclasses with ``to_frame()``.

Full precision is kept here; rounding, percentages and suppression happen only at
presentation (:mod:`qa_lib.sections.tables`).
"""

from __future__ import annotations

import html
import math
from dataclasses import dataclass, field, fields
from typing import Any, Mapping

import pandas as pd

from qa_lib.core import fmt

NAN = math.nan


def _cell(x: Any) -> str:
    if isinstance(x, bool) or x is None:
        return html.escape(str(x))
    if isinstance(x, int):
        return fmt.count(x)
    if isinstance(x, float):
        return fmt.significant(x, 4) if math.isfinite(x) else "—"
    return html.escape(str(x))


def _html(title: str, rows: list[tuple[str, Any]], note: str, method: str) -> str:
    body = "".join(f"<tr><th scope='row' style='text-align:left'>{html.escape(k)}</th>"
                   f"<td style='text-align:right'>{_cell(v)}</td></tr>" for k, v in rows)
    foot = "".join(f"<p style='margin:0.2em 0'><small>{html.escape(t)}</small></p>" for t in (method, note) if t)
    return (f"<div><table><caption style='text-align:left'><strong>{html.escape(title)}</strong></caption>"
            f"<tbody>{body}</tbody></table>{foot}</div>")


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

    def _repr_html_(self) -> str:
        """Jupyter display: estimate, SE, interval (with its level and sidedness), test, n, method, note."""
        pct = f"{100 * self.level:g}%"
        if self.sided == "two-sided":
            interval = (f"{pct} CI", f"{fmt.significant(self.ci_low, 4)} to {fmt.significant(self.ci_high, 4)}")
        else:
            interval = (f"one-sided {pct} lower bound", self.ci_low)
        rows = [(self.measure or "estimate", self.estimate), ("SE", self.se), interval, ("n", self.n)]
        if math.isfinite(self.pvalue):
            rows += [("statistic", self.statistic), ("p-value", self.pvalue)]
        return _html(self.measure or "Estimate", rows, self.note, self.method)


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

    def _repr_html_(self) -> str:
        """Jupyter display: statistic, df, p-value, n, method and note."""
        return _html("Test", [("statistic", self.statistic), ("df", self.df), ("p-value", self.pvalue), ("n", self.n)],
                     self.note, self.method)

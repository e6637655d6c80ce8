"""From a test to the words a report prints: Improving / No clear change / Worsening.

:func:`classify_change` is the one decision rule every report uses (a change is called only when
p, or the Benjamini–Hochberg q, is below alpha); :func:`describe_proportion` is the plain-words
proportion "18 of 24 (75%, likely 55–88%)".
"""

from __future__ import annotations

import math
from typing import Any

from qa_lib.core import fmt
from qa_lib.core.errors import StatisticsError, problem
from qa_lib.stats.proportions import _counts, proportion_ci
from qa_lib.stats.results import TestResult

__all__ = ["Change", "classify_change", "describe_proportion", "improvement_sign"]


# --------------------------------------------------------------------------------------
def improvement_sign(improvement: str) -> int:
    key = str(improvement).strip().lower()
    if key in ("increase", "higher", "up"):
        return 1
    if key in ("decrease", "lower", "down"):
        return -1
    if key == "neutral":
        return 0
    raise problem(StatisticsError, "improvement", expected="'increase', 'decrease' or 'neutral'",
                  received=repr(improvement), fix="say which direction is better, e.g. improvement='increase' for % Good")


# --------------------------------------------------------------------------------------
_SYMBOLS = {"Improving": "▲", "Worsening": "▼", "No clear change": "●", "Rising": "▲", "Falling": "▼"}


class Change(str):
    """The word a report prints ("Improving" / "No clear change" / "Worsening").

    A ``str`` (so ``change == "Improving"`` works) that also carries ``symbol`` (▲ ▼ ●),
    ``label`` (``"▲ Improving"``), ``pvalue`` and ``alpha``. The symbol encodes the verdict,
    not the direction of the numbers: ▲ always means better.
    """

    symbol: str
    label: str
    pvalue: float
    alpha: float

    def __new__(cls, word: str, pvalue: float, alpha: float) -> "Change":
        obj = super().__new__(cls, word)
        obj.symbol = _SYMBOLS[word]
        obj.label = f"{obj.symbol} {word}"
        obj.pvalue = pvalue
        obj.alpha = alpha
        return obj

    @property
    def word(self) -> str:
        return str.__str__(self)

    def __setattr__(self, name: str, value: Any) -> None:
        if name in self.__dict__:
            raise AttributeError("Change is immutable")
        super().__setattr__(name, value)


def _sign_of(direction: Any) -> int:
    if isinstance(direction, str):
        key = direction.strip().lower()
        if key in ("up", "increase", "increasing", "rising", "higher", "+"):
            return 1
        if key in ("down", "decrease", "decreasing", "falling", "lower", "-"):
            return -1
        if key in ("none", "flat", "0", ""):
            return 0
        raise problem(StatisticsError, "classify_change direction", expected="'up', 'down' or a signed number",
                      received=repr(direction), fix="pass the observed change, e.g. p_now - p_before or the trend z")
    try:
        v = float(direction)
    except (TypeError, ValueError) as exc:
        raise problem(StatisticsError, "classify_change direction", expected="'up', 'down' or a signed number",
                      received=repr(direction), fix="pass the observed change, e.g. p_now - p_before") from exc
    return 0 if not math.isfinite(v) or v == 0 else (1 if v > 0 else -1)


def classify_change(test_result_or_q: Any, direction: Any, *, alpha: float = 0.05,
                    improvement: str = "increase") -> Change:
    """Turn a test into the word a report prints: Improving, No clear change or Worsening.

    Parameters
    ----------
    test_result_or_q : TestResult or float
        A test (its ``pvalue`` is used) or an already adjusted p/q-value (see :func:`adjust`).
    direction : float or str
        The observed direction of change, later minus earlier: a signed number (difference in
        proportions, CA ``z``, MK ``S``, Sen slope) or ``"up"`` / ``"down"``.
    alpha : float
        Threshold on p (or q): a change is called only when p < alpha. Default 0.05.
    improvement : {"increase", "decrease", "neutral"}
        Which direction is better (``"decrease"`` for e.g. overdue actions). ``"neutral"``
        gives "Rising" / "Falling".

    Returns
    -------
    Change
        A ``str`` subclass: ``"Improving"``, ``"Worsening"`` or ``"No clear change"`` (also when
        p is ``nan``, i.e. the test was undefined), with ``.symbol`` and ``.label``
        (``"▲ Improving"``).
    """
    if isinstance(test_result_or_q, TestResult):
        p = test_result_or_q.pvalue
    else:
        try:
            p = float(test_result_or_q)
        except (TypeError, ValueError) as exc:
            raise problem(StatisticsError, "classify_change", expected="a TestResult or a p/q-value",
                          received=repr(test_result_or_q), fix="pass the result of compare_two / cochran_armitage") from exc
    if not (0 < alpha < 1):
        raise problem(StatisticsError, "classify_change alpha", expected="a number between 0 and 1",
                      received=repr(alpha), fix="use alpha=0.05")
    good = improvement_sign(improvement)
    sign = _sign_of(direction)
    if p is None or not math.isfinite(p) or p >= alpha or sign == 0:
        return Change("No clear change", p, alpha)
    if good == 0:
        return Change("Rising" if sign > 0 else "Falling", p, alpha)
    return Change("Improving" if sign == good else "Worsening", p, alpha)


def describe_proportion(x: int, n: int, *, level: float = 0.95, small_n: int = 10) -> str:
    """Plain-words proportion with its base and likely range: ``"18 of 24 (75%, likely 55–88%)"``.

    Parameters
    ----------
    x, n : int
        Events and total.
    level : float
        Level of the Wilson interval shown as the "likely" range.
    small_n : int
        Below this many audits a caution is appended (default 10).

    Returns
    -------
    str
        Percentages are rounded only here (presentation). 0% and 100% keep a real range
        (0 of 20 → "likely 0–16%"); ``n = 0`` gives "0 of 0 (no audits)".
    """
    _counts(x, n, "describe_proportion(x, n)")
    x, n = int(x), int(n)
    if n == 0:
        return "0 of 0 (no audits)"
    lo, hi = proportion_ci(x, n, method="wilson", level=level)
    text = f"{x} of {n} ({fmt.pct(x / n)}, likely {fmt.pct(lo, sign=False)}–{fmt.pct(hi)})"
    if n < small_n:
        text += f" — fewer than {small_n} audits, so treat this percentage with caution"
    return text

"""Every figure a reader sees, formatted one way: tables, sentences, chart labels and alt text.

One rounding rule, the one readers expect: **half up** (62.5% → 63%, 0.125 → 0.13), applied to
the decimal value as printed, so 5 of 8 reads "63%" in a table, in the summary bullet beside it,
on the chart and in the chart's alt text. (Python's ``round`` and ``f"{x:.0%}"`` round half to
even on the binary value and would print 62%.) Missing values print as an en dash.

Signed differences use a real minus sign (U+2212), never a hyphen, so a spreadsheet never reads
"−14 points" as a formula and a screen reader says "minus".
"""

from __future__ import annotations

import datetime as _dt
import math
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

MISSING = "–"
MINUS = "\u2212"


def _finite(x: Any) -> float | None:
    """``x`` as a float, or ``None`` when it is missing (None, NaN, pd.NA) or not a number."""
    if x is None or isinstance(x, bool):
        return None
    try:
        v = float(x)
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None


def round_half_up(x: float, digits: int = 0) -> Decimal:
    """``x`` rounded half up to ``digits`` decimals (the float's noise below 1e-9 ignored first)."""
    d = Decimal(repr(round(float(x), 9)))
    return d.quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP)


def _signed(d: Decimal, sign: bool) -> str:
    text = f"{abs(d):f}"
    if d == 0:
        return text
    if d < 0:
        return MINUS + text
    return ("+" + text) if sign else text


def number(x: Any, digits: int = 2, *, sign: bool = False) -> str:
    """A decimal number: ``number(0.125)`` → ``"0.13"``; ``sign=True`` prints ``+`` on positives."""
    v = _finite(x)
    return MISSING if v is None else _signed(round_half_up(v, digits), sign)


def significant(x: Any, figures: int = 3) -> str:
    """``x`` to ``figures`` significant figures, half up (``0.0123456`` → ``"0.0123"``)."""
    v = _finite(x)
    if v is None:
        return MISSING
    if v == 0:
        return "0"
    digits = max(0, figures - 1 - int(math.floor(math.log10(abs(v)))))
    return number(v, digits)


def pct(x: Any, digits: int = 0, *, sign: bool = True) -> str:
    """A share as a percentage: ``pct(5 / 8)`` → ``"63%"``; ``sign=False`` leaves the ``%`` off."""
    v = _finite(x)
    if v is None:
        return MISSING
    text = number(100 * v, digits)
    return f"{text}%" if sign else text


def points(diff: Any, digits: int = 0) -> str:
    """A difference of two shares in percentage points, signed: ``+14``, ``−3``, ``0``."""
    v = _finite(diff)
    if v is None:
        return MISSING
    return _signed(round_half_up(100 * v, digits), True)


def pct_range(low: Any, high: Any, digits: int = 0) -> str:
    """A 95% range of a share: ``"55–88%"``."""
    lo, hi = _finite(low), _finite(high)
    if lo is None or hi is None:
        return MISSING
    return f"{pct(lo, digits, sign=False)}–{pct(hi, digits)}"


def points_range(low: Any, high: Any, digits: int = 0) -> str:
    """A range of a difference in points: ``"+5 to +44"``."""
    lo, hi = _finite(low), _finite(high)
    if lo is None or hi is None:
        return MISSING
    return f"{points(lo, digits)} to {points(hi, digits)}"


def number_range(low: Any, high: Any, digits: int = 2) -> str:
    """A range of a coefficient: ``"0.41 to 0.62"``."""
    lo, hi = _finite(low), _finite(high)
    if lo is None or hi is None:
        return MISSING
    return f"{number(lo, digits)} to {number(hi, digits)}"


def pvalue(p: Any) -> str:
    """``"p = 0.017"``, ``"p < 0.001"``, or ``"not testable"`` when the test does not exist."""
    v = _finite(p)
    if v is None:
        return "not testable"
    return "p < 0.001" if v < 0.001 else f"p = {number(v, 3)}"


def count(n: Any) -> str:
    """A count with thousands separators: ``1,234``."""
    v = _finite(n)
    return MISSING if v is None else f"{int(round_half_up(v)):,}"


def count_of(x: Any, n: Any) -> str:
    """``"5 of 8 (63%)"``; ``"0 of 0"`` has no percentage."""
    xv, nv = _finite(x), _finite(n)
    if xv is None or nv is None:
        return MISSING
    if nv == 0:
        return f"{count(xv)} of 0"
    return f"{count(xv)} of {count(nv)} ({pct(xv / nv)})"


def date(d: Any) -> str:
    """``"1 November 2021"`` (no leading zero, month in words: unambiguous in the UK and elsewhere)."""
    if d is None or (isinstance(d, float) and math.isnan(d)):
        return MISSING
    try:
        value = d.date() if isinstance(d, _dt.datetime) else d
        if not isinstance(value, _dt.date):
            value = _dt.date.fromisoformat(str(d)[:10])
    except (AttributeError, ValueError):
        return str(d)
    if str(value) == "NaT":
        return MISSING
    return f"{value.day} {value:%B %Y}"


def join_and(items) -> str:
    """A list in words: ``"a"``, ``"a and b"``, ``"a, b and c"``; ``""`` for none."""
    items = [str(i) for i in items]
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]

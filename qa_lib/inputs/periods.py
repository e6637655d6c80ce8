"""UK financial-year reporting periods: quarters (Q1 April–June … Q4 January–March) and months.

Labels parse as people write them: ``2022-23 Q2``, ``Q2 22/23``, ``Quarter 4 21/22``,
``Qtr 1 2022/23``, ``2022/23 Q3``, ``FY2022-23 Q1``; months as ``2022-11``, ``Nov 2022``,
``November 2022``. The canonical label of a quarter is ``2022-23 Q2``; of a month ``2022-11``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from qa_lib.core.errors import ParamsError, problem

_MONTHS = {m.lower(): i for i, m in enumerate(
    ["January", "February", "March", "April", "May", "June", "July", "August",
     "September", "October", "November", "December"], start=1)}
_MONTHS.update({k[:3]: v for k, v in list(_MONTHS.items())})
_MONTHS["sept"] = 9

_Q = r"(?:q|qtr|quarter)\s*\.?\s*([1-4])"
_FY = r"(?:fy\s*)?(\d{2}|\d{4})\s*[-/]\s*(\d{2}|\d{4})"
_QUARTER_PATTERNS = [re.compile(rf"^{_FY}\s*,?\s*{_Q}$", re.I), re.compile(rf"^{_Q}\s*,?\s*{_FY}$", re.I)]
_ISO_MONTH = re.compile(r"^(\d{4})-(\d{1,2})$")
_NAMED_MONTH = re.compile(r"^([a-z]+)\.?\s+(\d{4})$", re.I)

EXPECTED_LABELS = ("a financial quarter such as '2022-23 Q2', 'Q2 22/23', 'Quarter 4 21/22' or "
                   "'Qtr 1 2022/23', or a month such as '2022-11' or 'Nov 2022'")


def _full_year(text: str, *, century_from: int | None = None) -> int:
    year = int(text)
    if len(text) == 2:
        year += 2000 if century_from is None else (century_from // 100) * 100
        if century_from is not None and year < century_from:
            year += 100
    return year


@dataclass(frozen=True, order=True)
class Period:
    """A reporting period: a financial quarter or a calendar month.

    Attributes
    ----------
    start : datetime.date
        First day of the period.
    kind : {"quarter", "month"}
    """

    start: date
    kind: str

    @classmethod
    def quarter(cls, fy_start_year: int, q: int) -> Period:
        """Quarter ``q`` (1–4) of the financial year starting in April of ``fy_start_year``."""
        month = 4 + 3 * (q - 1)
        year = fy_start_year + (month - 1) // 12
        return cls(date(year, (month - 1) % 12 + 1, 1), "quarter")

    @classmethod
    def month(cls, year: int, month: int) -> Period:
        return cls(date(year, month, 1), "month")

    @classmethod
    def containing(cls, day: date, kind: str = "quarter") -> Period:
        """The quarter (or month) that contains ``day``."""
        if kind == "month":
            return cls.month(day.year, day.month)
        fy = day.year if day.month >= 4 else day.year - 1
        return cls.quarter(fy, ((day.month - 4) % 12) // 3 + 1)

    @property
    def n_months(self) -> int:
        return 3 if self.kind == "quarter" else 1

    @property
    def end(self) -> date:
        """Last day of the period."""
        nxt = self.shift(1).start
        return date.fromordinal(nxt.toordinal() - 1)

    @property
    def fy_start_year(self) -> int:
        return self.start.year if self.start.month >= 4 else self.start.year - 1

    @property
    def q(self) -> int:
        return ((self.start.month - 4) % 12) // 3 + 1

    @property
    def label(self) -> str:
        """Canonical label: ``2022-23 Q2`` or ``2022-11``."""
        if self.kind == "month":
            return f"{self.start.year}-{self.start.month:02d}"
        fy = self.fy_start_year
        return f"{fy}-{(fy + 1) % 100:02d} Q{self.q}"

    @property
    def slug(self) -> str:
        """File-system-safe label: ``2022-23-Q2`` or ``2022-11``."""
        return self.label.replace(" ", "-")

    @property
    def long_label(self) -> str:
        """Human label with months: ``2022-23 Q2 (July–September 2022)``."""
        if self.kind == "month":
            return self.start.strftime("%B %Y")
        last = self.shift(1).start
        last_month = date(last.year - (last.month == 1), (last.month - 2) % 12 + 1, 1)
        return f"{self.label} ({self.start:%B}–{last_month:%B %Y})"

    def shift(self, k: int) -> Period:
        """The period ``k`` steps later (negative: earlier)."""
        months = self.start.year * 12 + self.start.month - 1 + k * self.n_months
        return Period(date(months // 12, months % 12 + 1, 1), self.kind)

    def history(self, k: int) -> list[Period]:
        """This period and the ``k`` before it, oldest first."""
        return [self.shift(-i) for i in range(k, -1, -1)]

    def months(self) -> list[Period]:
        """The calendar months in this period."""
        first = Period.month(self.start.year, self.start.month)
        return [first.shift(i) for i in range(self.n_months)]

    def __str__(self) -> str:
        return self.label


def parse_period(text: str | Period, *, where: str = "period") -> Period:
    """Parse a quarter or month label as people write it.

    Parameters
    ----------
    text : str
        E.g. ``"2022-23 Q2"``, ``"Q2 22/23"``, ``"Quarter 4 21/22"``, ``"Qtr 1 2022/23"``,
        ``"2022-11"``, ``"Nov 2022"``.
    where : str
        Where the label came from, for the error message.

    Returns
    -------
    Period

    Raises
    ------
    ParamsError
        When the label is not a recognisable quarter or month, or its two years are not
        consecutive (``2022-24 Q1``).
    """
    if isinstance(text, Period):
        return text
    raw = str(text)
    s = " ".join(raw.strip().replace("–", "-").split())
    for pattern in _QUARTER_PATTERNS:
        m = pattern.match(s)
        if m:
            groups = m.groups()
            if pattern is _QUARTER_PATTERNS[0]:
                y1, y2, q = groups
            else:
                q, y1, y2 = groups
            start = _full_year(y1)
            second = _full_year(y2, century_from=start)
            if second != start + 1:
                raise problem(ParamsError, where, received=repr(raw),
                              expected=f"a financial year of two consecutive years ({EXPECTED_LABELS})",
                              fix=f"write it as e.g. '{start}-{(start + 1) % 100:02d} Q{q}'")
            return Period.quarter(start, int(q))
    m = _ISO_MONTH.match(s)
    if m and 1 <= int(m.group(2)) <= 12:
        return Period.month(int(m.group(1)), int(m.group(2)))
    m = _NAMED_MONTH.match(s)
    if m and m.group(1).lower() in _MONTHS:
        return Period.month(int(m.group(2)), _MONTHS[m.group(1).lower()])
    raise problem(ParamsError, where, received=repr(raw), expected=EXPECTED_LABELS)


def _per_distinct(dates: pd.Series, label) -> pd.Series:
    """``label`` (a function of a datetime Series) of each distinct date, spread back by integer codes:
    a million rows hold a few hundred days (issue 15: no per-row string formatting)."""
    d = pd.Series(pd.to_datetime(dates))
    codes, uniques = pd.factorize(d)
    done = pa.array(label(pd.Series(uniques)).astype("string[pyarrow]").array)
    taken = pc.take(done, pa.array(codes, mask=codes < 0))
    return pd.Series(pd.array(taken, dtype="string"), index=d.index)


def quarter_labels(dates: pd.Series) -> pd.Series:
    """Vectorised canonical financial-quarter label (``2022-23 Q2``) of each date; NA stays NA."""
    def label(d: pd.Series) -> pd.Series:
        year = d.dt.year.astype("Int64")
        month = d.dt.month.astype("Int64")
        fy = year - (month < 4).astype("Int64")
        q = ((month - 4) % 12) // 3 + 1
        return (fy.astype("string") + "-" + ((fy + 1) % 100).astype("string").str.zfill(2)
                + " Q" + q.astype("string")).where(d.notna())
    return _per_distinct(dates, label)


def month_labels(dates: pd.Series) -> pd.Series:
    """Vectorised ``YYYY-MM`` label of each date; NA stays NA."""
    return _per_distinct(dates, lambda d: d.dt.strftime("%Y-%m").astype("string").where(d.notna()))


def period_labels(dates: pd.Series, kind: str) -> pd.Series:
    """Label each date with its quarter or month."""
    return quarter_labels(dates) if kind == "quarter" else month_labels(dates)


def period_index(labels: pd.Series, period: Period) -> pd.Series:
    """Position of each period label relative to ``period`` (0 = this period, -1 = previous...)."""
    base = period.start.year * 12 + period.start.month
    def to_pos(lab):
        if lab is None or lab is pd.NA or (isinstance(lab, float) and np.isnan(lab)):
            return pd.NA
        p = parse_period(lab)
        return ((p.start.year * 12 + p.start.month) - base) // period.n_months
    return labels.map(to_pos).astype("Int64")

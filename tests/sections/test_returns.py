"""Returns against target and participation (qa_lib.sections.returns).

Reference values: the hand-made monthly table in tests/fixtures/handmade/returns-feedback/
(invented numbers, hand arithmetic in its README — not a published table), Newcombe (1998)
Table I for the Wilson interval, and hand arithmetic for the trend slope.
"""

import math
import re
from pathlib import Path

import pandas as pd
import pytest

from qa_lib.sections import returns

HANDMADE = Path(__file__).resolve().parents[1] / "fixtures" / "handmade" / "returns-feedback"


def _half_up(x):
    return int(math.floor(100 * x + 0.5))


def test_monthly_table_reproduces_the_handmade_table(make_dataset):
    ds = make_dataset(allocations=pd.read_csv(HANDMADE / "allocations.csv", dtype=str, keep_default_na=False))
    got = returns.monthly(ds)
    want = pd.read_csv(HANDMADE / "returns_table.csv", dtype={"month": str}).set_index("month")
    assert list(got.index) == list(want.index)
    for month, row in want.iterrows():
        g = got.loc[month]
        assert (g["allocated"], g["returned"], g["exempt"]) == (row["allocated"], row["returned"], row["exemptions"])
        assert _half_up(g["return_rate"]) == row["return_pct"]
        assert _half_up(g["participation_rate"]) == row["participation_pct"]


def test_full_participation_named_in_a_sentence(make_dataset):
    ds = make_dataset(allocations=pd.read_csv(HANDMADE / "allocations.csv", dtype=str, keep_default_na=False))
    # by hand: Assessment 7+6+6 of 9+6+10 took part; Children in Care 8+7+8 of 9+7+11 — neither is 100%
    assert returns.full_participation(ds) == []
    alloc = pd.DataFrame({"allocation_id": ["A1", "A2", "A3", "B1", "B2"], "month": "2024-08",
                          "service_area": ["Care Leavers"] * 3 + ["Front Door"] * 2, "status": "returned",
                          "practitioner_took_part": ["yes", "yes", "yes", "yes", "no"]})
    ds = make_dataset(allocations=alloc)
    assert returns.full_participation(ds) == ["Care Leavers"]
    assert "Every practitioner took part in Care Leavers (100%)." in returns.summary(ds)


def test_return_rate_wilson_interval_and_target(make_dataset):
    # Newcombe (1998) Table I, example 81/263: Wilson score interval 0.2553 to 0.3662
    alloc = pd.DataFrame({"allocation_id": [f"A{i}" for i in range(263)], "month": "2024-07", "service_area": "X",
                          "status": ["returned"] * 81 + ["not returned"] * 182})
    est = returns.return_rate(make_dataset(allocations=alloc))
    assert (est.extra["returned"], est.n) == (81, 263)
    assert round(est.ci_low, 4) == 0.2553 and round(est.ci_high, 4) == 0.3662
    assert est.extra["position"] == "below target"


def test_trend_slope_by_hand():
    # (10/20, 12/20, 16/20), scores 1..3: N=60, pbar=38/60, sbar=2, sum n(s-sbar)^2 = 40, T = 6
    # b = 6/40 = 0.15; SE = sqrt((38/60)(22/60)/40) = 0.0761944; 0.15 -/+ 1.959964*SE = 0.000662, 0.299338
    b, lo, hi = returns.trend_slope([10, 12, 16], [20, 20, 20])
    assert b == pytest.approx(0.15)
    assert lo == pytest.approx(0.000662, abs=2e-6) and hi == pytest.approx(0.299338, abs=2e-6)


def test_return_trend_over_history_periods(make_dataset):
    rows = []
    for month, ret, due in (("2024-01", 10, 20), ("2024-04", 12, 20), ("2024-07", 16, 20)):
        rows += [dict(allocation_id=f"{month}-{i}", month=month, service_area="X",
                      status="returned" if i < ret else "not returned") for i in range(due)]
    ds = make_dataset(allocations=pd.DataFrame(rows), extra={"history_periods": 2})
    tr = returns.return_trend(ds)
    assert tr.extra["periods"] == ["2023-24 Q4", "2024-25 Q1", "2024-25 Q2"]
    # X^2 = T^2 / (pbar(1-pbar) sum n(s-sbar)^2) = 36 / ((38/60)(22/60)40) = 3.87560 (hand)
    assert tr.statistic == pytest.approx(3.87560, abs=1e-4)
    assert tr.pvalue < 0.05 and tr.extra["change"] == "Improving"
    text = returns.summary(ds)
    assert re.search(r"\+15\.0 percentage points a period \(95% CI \+0\.1 to \+29\.9\)", text)
    assert "unlikely to be chance" in text

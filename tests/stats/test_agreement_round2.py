"""Issue 19 (statistics, second round): bugs B1, the peer-style traps, convenience API, new analyses.

Every expected value is a peer library's answer computed in the test (statsmodels, scikit-learn,
krippendorff — named at each assertion), a published value (cited), or closed-form arithmetic
written out here. Nothing is pasted program output.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from qa_lib.core.errors import StatisticsError
from qa_lib.stats import agreement as ag
from qa_lib.stats.results import Estimate

OFSTED = ["Outstanding", "Good", "Requires improvement", "Inadequate"]


# ======================================================================================
# B1: zero SE is a point mass
# ======================================================================================
def test_b1_zero_se_is_a_point_mass_not_nan():
    # 83 of 83 agree: AC1 = 1 with SE 0 (Gwet 2008 variance: every case contributes alike).
    t = np.zeros((4, 4))
    t[1, 1], t[2, 2] = 60, 23
    e = ag.gwet_ac_table(t)
    assert e.estimate == pytest.approx(1.0) and e.se == 0
    bp = ag.benchmark_probability(e)
    # limit of Gwet's formula as se -> 0: all probability in the band holding the estimate
    assert bp["probability"].tolist() == [1.0, 0, 0, 0, 0, 0]
    assert bp.loc[bp["selected"], "band"].item() == "Almost perfect"
    # a point mass inside a band, and on a band's lower limit (goes to the band it reaches)
    assert ag.benchmark_probability(0.5, 0.0).loc[lambda f: f["selected"], "band"].item() == "Moderate"
    assert ag.benchmark_probability(0.6, 0.0).loc[lambda f: f["selected"], "band"].item() == "Substantial"
    # agrees with the limit of the normal formula for a tiny SE away from a boundary
    tiny = ag.benchmark_probability(0.5, 1e-9)
    assert tiny["probability"].to_numpy() == pytest.approx(ag.benchmark_probability(0.5, 0.0)["probability"].to_numpy())
    # only a missing SE gives NaN (and no band selected)
    nan = ag.benchmark_probability(0.5, math.nan)
    assert nan["probability"].isna().all() and not nan["selected"].any()

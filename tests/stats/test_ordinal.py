"""Issue 19 item 4.1 (optional): proportional-odds model with a group (auditor) effect.

Expected values: R ``MASS::polr`` on the UCLA ologit data (tests/reference/ordinal/README.md), and
for the likelihood-ratio test and the group shifts, statsmodels' binary ``Logit`` (a different
model class and optimiser): with two grades the proportional-odds logit *is* logistic regression,
P(Y = worse) = F(x′β − τ).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from statsmodels.discrete.discrete_model import Logit
from statsmodels.miscmodels.ordinal_model import OrderedModel

from qa_lib.core.errors import StatisticsError
from qa_lib.stats import ordinal

UCLA = Path(__file__).resolve().parents[1] / "reference" / "ordinal" / "ologit_ucla.csv"
LEVELS = ["unlikely", "somewhat likely", "very likely"]


def test_ordinal_logit_reproduces_r_polr_on_the_ucla_data():
    df = pd.read_csv(UCLA)
    fit = ordinal.ordinal_logit(df["apply"], df[["pared", "public", "gpa"]], categories=LEVELS)
    c = fit.coefficients
    # R MASS::polr (statsmodels results_ordinal_model.res_ord_logit)
    assert c["estimate"].tolist() == pytest.approx([1.04769011, -0.05878572, 0.61594057], abs=2e-4)
    assert c["se"].tolist() == pytest.approx([0.2658, 0.2979, 0.2606], abs=1e-4)
    assert list(fit.thresholds) == pytest.approx([2.203915, 4.299363], abs=1e-3)
    # p-values to the precision the estimates agree (public: R −0.058786 vs converged −0.058683)
    assert c["p_value"].tolist() == pytest.approx([8.087070e-05, 8.435464e-01, 1.811594e-02], abs=5e-4)
    assert fit.n == 400 and fit.converged
    assert list(fit.to_frame().index) == ["pared", "public", "gpa", "threshold 1", "threshold 2"]
    # the small gap is polr stopping early: the log-likelihood at R's estimates is not higher than ours
    y = pd.Series(pd.Categorical(df["apply"], categories=LEVELS, ordered=True))
    model = OrderedModel(y, df[["pared", "public", "gpa"]].astype(float), distr="logit")
    r_params = np.array([1.04769011, -0.05878572, 0.61594057, 2.203915, np.log(4.299363 - 2.203915)])
    assert fit.llf >= model.loglike(r_params) - 1e-9


def _binary_groups():
    rng = np.random.default_rng(7)
    g = np.repeat(["A", "B", "C"], [40, 35, 30])
    own = rng.integers(0, 2, g.size).astype(float)
    eta = -0.3 + 0.9 * own + np.select([g == "A", g == "B"], [0.8, -0.4], 0.0)
    worse = rng.random(g.size) < 1 / (1 + np.exp(-eta))
    return g, own, np.where(worse, "worse", "better")


def test_group_shift_lr_and_shifts_match_binary_logit():
    g, own, y = _binary_groups()
    cov = pd.DataFrame({"own": own})
    shifts, test = ordinal.group_shift(y, cov, g, categories=["better", "worse"])
    dummies = pd.get_dummies(pd.Series(g), dtype=float)[["B", "C"]]
    full = Logit((y == "worse").astype(float), pd.concat([pd.Series(1.0, index=dummies.index, name="const"),
                                                          cov, dummies], axis=1)).fit(disp=False, tol=1e-12)
    null = Logit((y == "worse").astype(float), pd.concat([pd.Series(1.0, index=cov.index, name="const"), cov],
                                                         axis=1)).fit(disp=False, tol=1e-12)
    lr = 2 * (full.llf - null.llf)
    assert test.statistic == pytest.approx(lr, rel=1e-5) and test.df == 2
    assert test.pvalue == pytest.approx(stats.chi2.sf(lr, 2), rel=1e-4)
    # treatment effects (A = 0, B, C) -> deviations from their mean = the sum-to-zero shifts
    a = np.array([0.0, full.params["B"], full.params["C"]])
    assert shifts["shift"].tolist() == pytest.approx((a - a.mean()).tolist(), abs=1e-4)
    assert shifts["shift"].sum() == pytest.approx(0, abs=1e-9)
    assert shifts["n"].tolist() == [40, 35, 30]
    # the SE of the derived (last) group's shift, √(1′V1), against the Logit covariance of c_C − mean(c)
    v = full.cov_params().loc[["B", "C"], ["B", "C"]].to_numpy()
    w = np.array([-1 / 3, 2 / 3])  # C − (0 + B + C)/3
    assert shifts.loc["C", "se"] == pytest.approx(float(np.sqrt(w @ v @ w)), rel=1e-3)


def test_group_shift_refuses_one_group_and_unknown_grades():
    with pytest.raises(StatisticsError, match="two groups"):
        ordinal.group_shift(["better", "worse"] * 5, None, ["A"] * 10, categories=["better", "worse"])
    with pytest.raises(StatisticsError, match="scale"):
        ordinal.ordinal_logit(["better", "Good"], pd.DataFrame({"x": [0.0, 1.0]}), categories=["better", "worse"])


def test_separation_gives_a_note_not_a_traceback():
    # group A is always "worse": its effect is +∞ (no finite MLE), the Hessian is singular; the shifts come
    # back without usable SEs and the note says why (bad data is a message, never an exception)
    y = ["worse"] * 10 + ["better", "worse"] * 5
    g = ["A"] * 10 + ["B"] * 10
    shifts, test = ordinal.group_shift(y, None, g, categories=["better", "worse"])
    assert "1 group(s) have every grade at one end" in test.note and test.extra["separated"] == ["A"]
    assert shifts["shift"].isna().all() and shifts["n"].tolist() == [10, 10]
    # the LR test is still the binary-logit one: the saturated two-group model against the margins
    # (statsmodels Logit cannot fit the separated model, so written out: ℓ1 = 10·0 + 10·ln ½, ℓ0 = 15 ln ¾ + 5 ln ¼)
    lr = 2 * (10 * np.log(0.5) - (15 * np.log(0.75) + 5 * np.log(0.25)))
    assert test.statistic == pytest.approx(lr, abs=1e-3) and test.df == 1

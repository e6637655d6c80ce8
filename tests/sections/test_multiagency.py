"""Issue 17: the multi-agency section on the 12-row MS Forms fixture (3 plans x 4 agencies, Health
built to grade every unit one grade better than the others' base grade)."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from statsmodels.stats.inter_rater import aggregate_raters, fleiss_kappa as sm_fleiss
from statsmodels.stats.multitest import multipletests

from qa_lib.inputs.data import load_dataset
from qa_lib.inputs.params import load_params
from qa_lib.sections import multiagency as ma

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "handmade" / "send-forms"


@pytest.fixture
def ds(tmp_path):
    shutil.copy(FIXTURE / "ehcp-multi-agency-qa.csv", tmp_path)
    shutil.copy(FIXTURE / "params.yaml", tmp_path)
    return load_dataset(load_params(tmp_path / "params.yaml"))


def test_grid_has_every_plan_domain_and_agency(ds):
    g = ma.grid(ds)
    assert len(g) == 15  # 3 plans x 5 domains
    assert list(g.columns[:4]) == ["Education", "Health", "Social care", "SEN team"]
    assert g.loc[("Plan 2", "Section B"), "Education"] == "Inadequate"
    assert g.loc[("Plan 2", "Section B"), "spread"] == 2  # Health Good, Education Inadequate
    assert (g["differ"] == "differ").all()  # Health differs on every unit
    assert not any(str(i).startswith(("EHCP", "PLAN-", "CASE-")) for i in g.index.get_level_values("plan"))


def test_the_agency_built_to_grade_higher_is_named(ds):
    d = ma.agency_differs(ds)
    assert d.loc["Health", "higher"] == 15 and d.loc["Health", "lower"] == 0
    # exact two-sided sign test, 15 of 15: 2 * 0.5**15 (binomial by hand)
    assert d.loc["Health", "p_value"] == pytest.approx(2 * 0.5 ** 15)
    # Benjamini-Hochberg across the 4 agencies, checked against statsmodels' multipletests
    q = multipletests(d["p_value"].to_numpy(), method="fdr_bh")[1]
    assert np.allclose(d["q_value"].to_numpy(), q)
    assert d.loc["Health", "finding"] == "grades higher than the other agencies"
    assert (d.drop("Health")["q_value"] >= 0.05).all()
    assert any(line.startswith("Health graded higher") for line in ma.summary(ds))


def test_agreement_is_checked_against_statsmodels_and_gives_no_interval_on_three_plans(ds):
    a = ma.agreement_by_domain(ds, n_boot=200)
    assert (a["plans"] == 3).all()
    r = ma.agency_ratings(ds)
    wide = r[r["domain"] == "Overall"].pivot(index="plan", columns="agency", values="code").to_numpy()
    table, _ = aggregate_raters(wide, n_cat=4)
    assert a.loc["Overall", "fleiss_kappa"] == pytest.approx(sm_fleiss(table, method="fleiss"))
    for m in ("fleiss_kappa", "ac1", "alpha_ordinal"):
        assert a[f"{m}_ci_low"].isna().all() and a[f"{m}_ci_high"].isna().all()
        assert (a[f"{m}_interval"] == "not estimated: 3 plan(s), at least 5 needed").all()
    # share of agency pairs giving the same Overall grade: per plan 3 of 6 pairs agree (Health differs)
    assert a.loc["Overall", "agreement_share"] == pytest.approx(0.5)


def test_an_interval_is_shown_only_when_it_has_width(ds):
    ds.params = ds.params.replace(multiagency_min_plans=2)
    a = ma.agreement_by_domain(ds, n_boot=200)
    for m in ("fleiss_kappa", "ac1"):
        shown = a[f"{m}_interval"] == ""
        assert ((a.loc[shown, f"{m}_ci_high"] - a.loc[shown, f"{m}_ci_low"]) > 0).all()
        assert (a.loc[~shown, f"{m}_interval"].str.startswith(("not estimated", "undefined"))).all()


def test_each_agency_against_the_caseworker(ds):
    v = ma.versus_caseworker(ds)
    assert list(v.index) == ["Education", "Health", "Social care"]
    assert v.loc["Health", "same"] == 0 and v.loc["Health", "higher"] == 15
    # Wilson 95% upper limit for 0 of 15: z^2 / (n + z^2) with z = 1.959964
    z2 = 1.959964 ** 2
    assert v.loc["Health", "same_high_share"] == pytest.approx(z2 / (15 + z2), abs=1e-6)
    assert v.loc["Education", "same"] == 14 and v.loc["Education", "lower"] == 1
    assert v.loc["Health", "finding"] == "grades higher than the caseworker (SEN team)"


def test_agency_is_an_explorer_filter(ds):
    from qa_lib.sections import explorer

    sel = explorer.Selection(periods=("2024-25 Q4",), domain="Overall", role="peer", agency="Health")
    rows = explorer.filter_rows(ds, sel, "grades")
    assert len(rows) == 3 and set(rows["agency"]) == {"Health"}
    assert "agency Health" in sel.describe()
    good = explorer.measure_table(ds, sel, "good")
    assert good.loc["2024-25 Q4", "good_or_better"] == 3  # Health graded every plan Good or better overall

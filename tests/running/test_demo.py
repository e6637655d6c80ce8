"""The shipped demo data is the seeded generator's output, and it has the shape the issue asks for."""

import pandas as pd
import pytest

from qa_lib.running import demo
from qa_lib.inputs.periods import quarter_labels


@pytest.fixture(scope="module")
def generated():
    return demo.generate(demo.DEFAULT_SEED)


def test_shipped_files_are_the_generators_output(generated, tmp_path):
    paths = demo.write(tmp_path)
    for name, path in paths.items():
        shipped = (demo.DEMO_DIR / f"{name}.csv").read_bytes()
        assert path.read_bytes() == shipped, f"qa_lib/demo_data/{name}.csv differs: run python -m qa_lib.running.demo"


def test_same_seed_same_data_other_seed_other_data(generated):
    again = demo.generate(demo.DEFAULT_SEED)
    other = demo.generate(demo.DEFAULT_SEED + 1)
    pd.testing.assert_frame_equal(generated["ratings"], again["ratings"])
    assert not generated["audits"].equals(other["audits"])


def test_demo_shape(generated):
    a, r, al = generated["audits"], generated["ratings"], generated["allocations"]
    dates = pd.to_datetime(a["audit_date"])
    assert quarter_labels(dates).nunique() >= 8
    assert a["service_area"].nunique() == 7 and a["cohort"].nunique() >= 3
    assert r.loc[r["domain"] != "Overall", "domain"].nunique() == 9
    per_month = a.groupby(dates.dt.to_period("M")).size()
    assert per_month.between(30, 85).all() and 40 <= per_month.mean() <= 80
    moderated = r.loc[r["role"] == "moderator", "audit_id"].unique()
    share = pd.Series(a["audit_id"].isin(moderated).to_numpy()).groupby(quarter_labels(dates).to_numpy()).mean()
    assert share.between(0.2, 0.6).all() and 0.3 <= share.mean() <= 0.5
    peers = r[r["role"] == "peer"].merge(a, on="audit_id")
    assert set(peers["service_area"]) == {"SEND"}
    assert (peers.groupby(["audit_id", "domain"]).size() == 2).all()  # auditor + 2 peers = 3 per case
    due = al[al["status"] != "exempt"]
    rate = (due["status"] == "returned").groupby(due["month"].str[:7]).mean()
    assert rate.between(0.45, 0.92).all()
    assert (al["status"] == "exempt").any() and al["reason"].replace("", pd.NA).notna().any()
    assert set(generated["feedback"]["survey"]) == set(demo.SURVEYS)
    assert set(generated["comments"]["kind"]) == {"strength", "learning"}
    assert (pd.to_datetime(generated["actions"]["due_date"]) > pd.to_datetime(generated["actions"]["raised_date"])).all()


def test_auditors_more_lenient_in_some_quarters(generated):
    r = generated["ratings"]
    r = r[r["domain"] == "Overall"].merge(generated["audits"][["audit_id", "audit_date"]], on="audit_id")
    wide = r.pivot_table(index=["audit_id", "audit_date"], columns="role", values="grade", aggfunc="first").dropna(subset=["moderator"])
    order = {g: i for i, g in enumerate(demo.GRADES)}
    diff = wide["moderator"].map(order) - wide["auditor"].map(order)  # > 0: moderator graded lower
    by_q = diff.groupby(quarter_labels(pd.to_datetime(wide.index.get_level_values("audit_date"))).to_numpy()).mean()
    lenient = by_q[list(demo.LENIENT_QUARTERS)]
    others = by_q.drop(list(demo.LENIENT_QUARTERS))
    assert lenient.min() > others.max()

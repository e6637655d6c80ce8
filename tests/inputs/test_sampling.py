"""Audit allocation sampling (qa_lib.inputs.sampling and `qa-workbook sample`)."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings, strategies as st

from qa_lib.inputs import sampling
from qa_lib.running.cli import main
from qa_lib.core.errors import QAError


def caseload(seed: int, *, teams: int = 4, practitioners: int = 6, cases: int = 5) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A seeded synthetic caseload: each practitioner holds several cases; some closed, some on leave."""
    rng = np.random.default_rng(seed)
    rows, hist = [], []
    k = 0
    for t in range(teams):
        for p in range(practitioners):
            on_leave = rng.random() < 0.15
            for _ in range(int(rng.integers(1, cases + 1))):
                k += 1
                case = f"C{k:05d}"
                rows.append(dict(case_id=case, practitioner_id=f"P{t}{p:02d}", team=f"Team {t}",
                                 service_area=f"Area {t % 2}", cohort=rng.choice(["Child protection", "Child in need"]),
                                 status="closed" if rng.random() < 0.1 else "open",
                                 practitioner_on_leave="yes" if on_leave else "no"))
                if rng.random() < 0.3:  # audited at some point in the 12 months before November 2022
                    day = pd.Timestamp("2021-11-01") + pd.Timedelta(days=int(rng.integers(0, 365)))
                    hist.append(dict(case_id=case, audit_date=day.strftime("%d/%m/%Y")))
    return pd.DataFrame(rows), pd.DataFrame(hist, columns=["case_id", "audit_date"])


@settings(max_examples=40, deadline=None)
@given(data_seed=st.integers(0, 10_000), draw_seed=st.integers(0, 2**32 - 1), per_team=st.integers(1, 3),
       exclude=st.integers(0, 9))
def test_property_one_case_per_practitioner_and_none_recently_audited(data_seed, draw_seed, per_team, exclude):
    cases, history = caseload(data_seed)
    try:
        s = sampling.draw(cases, history, month="2022-11", per_unit=per_team, exclude_months=exclude, seed=draw_seed)
    except sampling.SamplingError as exc:
        assert "quota of" in str(exc)
        return
    a = s.allocations
    assert not a["practitioner_id"].duplicated().any()
    cutoff = pd.Timestamp("2022-11-01") - pd.DateOffset(months=exclude)
    recent = set(history.loc[pd.to_datetime(history["audit_date"], dayfirst=True) >= cutoff, "case_id"]) if exclude else set()
    assert not set(a["case_id"]) & recent
    chosen = cases.set_index("case_id").loc[a["case_id"]]
    assert (chosen["status"] == "open").all() and (chosen["practitioner_on_leave"] == "no").all()
    assert (a.groupby("team").size() == per_team).all() and a["team"].nunique() == cases["team"].nunique()
    # every case is either allocated or excluded with a reason
    assert len(a) + len(s.excluded) == len(cases) and s.excluded["reason"].notna().all()


def test_reproducible_with_a_seed_whatever_the_row_order():
    cases, history = caseload(7)
    a1 = sampling.draw(cases, history, month="2022-11", per_unit=2, seed=42).allocations
    a2 = sampling.draw(cases.sample(frac=1, random_state=3), history, month="Nov 2022", per_unit=2, seed=42).allocations
    pd.testing.assert_frame_equal(a1, a2)
    a3 = sampling.draw(cases, history, month="2022-11", per_unit=2, seed=43).allocations
    assert not a1["case_id"].equals(a3["case_id"])


def test_exclusion_window_boundary():
    cases = pd.DataFrame({"case_id": ["A", "B"], "practitioner_id": ["P1", "P2"], "team": "T", "service_area": "S"})
    # 6 months before November 2022 starts on 1 May 2022: B (30 April) is eligible again, A (1 May) is not
    history = pd.DataFrame({"case_id": ["A", "B"], "audit_date": ["2022-05-01", "2022-04-30"]})
    s = sampling.draw(cases, history, month="2022-11", per_unit=1, seed=1)
    assert s.allocations["case_id"].tolist() == ["B"]
    assert s.excluded.set_index("case_id").loc["A", "reason"] == "Audited in the last 6 months"


def test_exemptions_recorded_with_reasons_and_cohort_theme():
    cases = pd.DataFrame({"case_id": ["A", "B", "C", "D"], "practitioner_id": ["P1", "P2", "P3", "P4"], "team": "T",
                          "service_area": "S", "status": ["Closed", "open", "open", "open"],
                          "practitioner_on_leave": ["no", "Yes", "no", "no"],
                          "cohort": ["Child protection", "Child protection", "Child in need", "Child protection"]})
    s = sampling.draw(cases, None, month="2022-11", per_unit=1, cohort="child protection", seed=5)
    assert s.allocations["case_id"].tolist() == ["D"]
    assert s.excluded.set_index("case_id")["reason"].to_dict() == {
        "A": "Case closed", "B": "Practitioner on leave", "C": "Not in this month's cohort theme"}
    row = s.summary.loc["T"]
    assert (row["open_cases"], row["Case closed"], row["Practitioner on leave"], row["eligible_cases"], row["allocated"]) == (4, 1, 1, 1, 1)


def test_quota_failure_names_the_team_and_numbers():
    cases = pd.DataFrame({"case_id": ["A", "B", "C", "D", "E"], "practitioner_id": ["P1", "P1", "P2", "P3", "P4"],
                          "team": ["North", "North", "North", "South", "South"], "service_area": "S",
                          "status": ["open", "open", "open", "open", "closed"]})
    with pytest.raises(sampling.SamplingError) as err:
        sampling.draw(cases, None, month="2022-11", per_unit=2, seed=0)
    msg = str(err.value)
    assert isinstance(err.value, QAError)
    assert msg.startswith("team South: 1 eligible practitioner(s) with 1 eligible case(s) for a quota of 2")
    assert "of 2 open case(s), 1 closed" in msg and "expected at least 2 eligible case(s) from 2 different practitioner(s)" in msg
    assert "lower --per-team to 1" in msg


def test_quota_by_service_area():
    cases, history = caseload(11)
    s = sampling.draw(cases, history, month="2022-11", per_unit=3, by="service_area", seed=9)
    assert s.allocations.groupby("service_area").size().to_dict() == {"Area 0": 3, "Area 1": 3}


def test_cli_writes_allocation_and_summary(tmp_path, capsys):
    cases, history = caseload(3)
    cases.to_csv(tmp_path / "cases.csv", index=False)
    history.to_csv(tmp_path / "audits.csv", index=False)
    code = main(["sample", "--cases", str(tmp_path / "cases.csv"), "--history", str(tmp_path / "audits.csv"),
                 "--month", "2022-11", "--per-team", "1", "--seed", "4", "--out", str(tmp_path / "out")])
    assert code == 0
    alloc = pd.read_csv(tmp_path / "out" / "allocations-2022-11.csv", dtype=str, keep_default_na=False, encoding="utf-8-sig")
    assert list(alloc.columns[:8]) == ["allocation_id", "month", "service_area", "team", "practitioner_id", "status",
                                       "practitioner_took_part", "reason"]
    drawn = alloc[alloc["status"] != "exempt"]  # issue 17: exemptions are written too, as status exempt
    assert (alloc["month"] == "2022-11").all() and (drawn["status"] == "not returned").all() and len(drawn) == 4
    assert (tmp_path / "out" / "excluded-2022-11.csv").is_file() and (tmp_path / "out" / "sample-summary-2022-11.csv").is_file()
    for name in ("allocations", "excluded", "sample-summary"):  # issue 18: UTF-8 with a BOM, for Excel
        assert (tmp_path / "out" / f"{name}-2022-11.csv").read_bytes().startswith(b"\xef\xbb\xbf"), name
    assert "4 case(s) allocated for 2022-11 (seed 4)" in capsys.readouterr().out
    code = main(["sample", "--cases", str(tmp_path / "cases.csv"), "--month", "2022-11", "--per-team", "99"])
    assert code == 2 and "quota of 99" in capsys.readouterr().err


def test_issue17_exemptions_are_written_as_exempt_allocations(tmp_path):
    cases = pd.DataFrame({"case_id": ["A", "B", "C", "D"], "practitioner_id": ["P1", "P2", "P3", "P4"],
                          "team": "T1", "service_area": "SEND", "status": ["closed", "open", "open", "open"],
                          "practitioner_on_leave": ["no", "yes", "no", "no"], "cohort": "EHCP"})
    s = sampling.draw(cases, None, month="2022-11", per_unit=1, seed=5)
    paths = sampling.write(s, tmp_path)
    alloc = pd.read_csv(paths["allocations"], dtype=str, keep_default_na=False)
    exempt = alloc[alloc["status"] == "exempt"].set_index("case_id")["reason"].to_dict()
    assert exempt == {"A": "Case closed", "B": "Practitioner on leave"}
    assert (alloc["status"] == "not returned").sum() == 1
    from qa_lib.inputs.io import read_table
    from qa_lib.inputs.validate import validate_allocations
    clean, issues, _ = validate_allocations(read_table("allocations", [paths["allocations"]]))
    assert issues.empty and (clean["status"] == "exempt").sum() == 2  # the returns table counts them


def test_issue17_unknown_cohort_lists_the_cohorts_present():
    cases = pd.DataFrame({"case_id": ["A", "B"], "practitioner_id": ["P1", "P2"], "team": "T1", "service_area": "SEND",
                          "cohort": ["EHCP", "Child protection"]})
    with pytest.raises(sampling.SamplingError) as err:
        sampling.draw(cases, None, month="2022-11", per_unit=1, cohort="Care leavers")
    assert "Child protection, EHCP" in str(err.value) and "'Care leavers'" in str(err.value)

"""Audit actions (qa_lib.sections.actions): status as of the period end and the pseudonymised overdue list.

Hand-written actions for period 2024-25 Q2 (ends 30 September 2024); expected statuses by hand.
"""

import pandas as pd

from qa_lib.sections import actions
from qa_lib.inputs.io import IDENTIFIER_COLUMNS

AUDITS = pd.DataFrame({"audit_id": ["Q1", "Q2"], "case_id": ["C1", "C2"], "audit_date": ["2024-07-01", "2024-08-01"],
                       "service_area": ["Assessment", "Front Door"], "auditor_id": ["A1", "A1"], "team": ["North", "MASH"]})
ACTIONS = pd.DataFrame({
    "action_id": ["X1", "X2", "X3", "X4", "X5", "X6"],
    "audit_id": ["Q1", "Q1", "Q1", "Q2", "Q2", "Q2"],
    "raised_date": ["2024-07-01", "2024-07-01", "2024-07-01", "2024-08-01", "2024-08-20", "2024-10-05"],
    "due_date": ["2024-08-26", "2024-08-26", "2024-08-26", "2024-09-26", "2024-10-15", "2024-11-30"],
    "completed_date": ["2024-08-26", "2024-09-10", "", "2024-10-02", "", ""],
    "domain": ["Chronology", "Supervision", "Chronology", "Voice of the child", "Recording", "Recording"],
})


def test_status_as_of_period_end(make_dataset):
    ds = make_dataset(audits=AUDITS, actions=ACTIONS)
    st = actions.action_status(ds).set_index("action_id")
    # X1 done on its due date: on time; X2 done after due: late; X3 not done, due 26 Aug < 30 Sep: overdue (35 days);
    # X4 completed 2 Oct, after the period end: as of 30 Sep it is overdue (due 26 Sep, 4 days);
    # X5 due 15 Oct: open; X6 raised after the period end: not counted.
    assert st["status"].astype(str).to_dict() == {"X1": "Completed on time", "X2": "Completed late", "X3": "Overdue",
                                                  "X4": "Overdue", "X5": "Open (not yet due)"}
    assert st.loc["X3", "days_overdue"] == 35 and st.loc["X4", "days_overdue"] == 4 and st.loc["X1", "days_overdue"] == 0


def test_by_service_area_with_total(make_dataset):
    t = actions.status_by_service_area(make_dataset(audits=AUDITS, actions=ACTIONS))
    assert t.loc["Assessment", list(actions.STATUSES)].tolist() == [1, 1, 0, 1]
    assert t.loc["Front Door", list(actions.STATUSES)].tolist() == [0, 0, 1, 1]
    assert t.loc["Total", "n"] == 5 and t.loc["Total", "overdue_share"] == 2 / 5
    assert t.loc["Assessment", "on_time_share"] == 0.5


def test_overdue_list_has_no_identifiers(make_dataset):
    od = actions.overdue_list(make_dataset(audits=AUDITS, actions=ACTIONS))
    assert list(od.columns) == ["service_area", "team", "domain", "raised_date", "due", "days_overdue"]
    assert not set(od.columns) & set(IDENTIFIER_COLUMNS)
    assert od["days_overdue"].tolist() == [35, 4]
    assert od.iloc[0].tolist() == ["Assessment", "North", "Chronology", "2024-07-01", "2024-08-26", 35]


def test_due_weeks_standard(make_dataset):
    # by hand, every counted action was given exactly 8 weeks (56 days): X1-X3 1 Jul -> 26 Aug, X4 1 Aug -> 26 Sep,
    # X5 20 Aug -> 15 Oct. With the default 8-week standard none is beyond it; with 6 weeks all five are.
    t8 = actions.status_by_service_area(make_dataset(audits=AUDITS, actions=ACTIONS))
    assert t8.loc["Total", "due_beyond_standard"] == 0
    t6 = actions.status_by_service_area(make_dataset(audits=AUDITS, actions=ACTIONS, extra={"action_due_weeks": 6}))
    assert t6.loc["Assessment", "due_beyond_standard"] == 3 and t6.loc["Total", "due_beyond_standard"] == 5

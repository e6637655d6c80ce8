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


def test_issue17_action_without_due_date_falls_due_8_weeks_after_raised(make_dataset):
    import pandas as pd

    audits = "audit_id,case_id,audit_date,service_area,auditor_id\nA1,C1,2024-07-10,Early help,U1\nA2,C2,2024-07-10,Early help,U1\n"
    actions = ("action_id,audit_id,raised_date,due_date,completed_date,reviewed_date\n"
               "X1,A1,2024-07-15,,,2024-09-01\nX2,A2,2024-07-15,2024-08-01,2024-09-30,\n")
    ds = make_dataset(audits=audits, actions=actions)
    a = ds.actions.set_index("action_id")
    assert a.loc["X1", "due_date"] == pd.Timestamp("2024-09-09")  # 15 July + 56 days
    assert a.loc["X1", "due_date_source"] == "default" and a.loc["X2", "due_date_source"] == "recorded"
    assert ds.issues.empty
    from qa_lib.sections import actions
    r = actions.review_within_weeks(ds)
    # X1 reviewed 1 Sep (48 days, within 8 weeks); X2 completed 30 Sep (77 days, not)
    assert r.loc["Early help", "window_closed"] == 2 and r.loc["Early help", "reviewed_in_time"] == 1
    assert r.loc["Early help", "reviewed_in_time_share"] == 0.5


def test_issue17_action_due_weeks_is_used(make_dataset):
    import pandas as pd

    audits = "audit_id,case_id,audit_date,service_area,auditor_id\nA1,C1,2024-07-10,Early help,U1\n"
    ds = make_dataset(audits=audits, actions="action_id,audit_id,raised_date\nX1,A1,2024-07-15\n",
                      extra={"action_due_weeks": 6})
    assert ds.actions["due_date"].iloc[0] == pd.Timestamp("2024-08-26")  # 15 July + 42 days

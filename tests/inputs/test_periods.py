from datetime import date

import pandas as pd
import pytest

from qa_lib.core.errors import ParamsError
from qa_lib.inputs.periods import Period, parse_period, quarter_labels


@pytest.mark.parametrize("text, label, start, end", [
    ("2022-23 Q2", "2022-23 Q2", date(2022, 7, 1), date(2022, 9, 30)),
    ("Q2 22/23", "2022-23 Q2", date(2022, 7, 1), date(2022, 9, 30)),
    ("Quarter 4 21/22", "2021-22 Q4", date(2022, 1, 1), date(2022, 3, 31)),
    ("Qtr 1 2022/23", "2022-23 Q1", date(2022, 4, 1), date(2022, 6, 30)),
    ("q3 2023-24", "2023-24 Q3", date(2023, 10, 1), date(2023, 12, 31)),
    ("FY2024-25 Q1", "2024-25 Q1", date(2024, 4, 1), date(2024, 6, 30)),
    ("  2022/23   Q2 ", "2022-23 Q2", date(2022, 7, 1), date(2022, 9, 30)),
    ("2022-11", "2022-11", date(2022, 11, 1), date(2022, 11, 30)),
    ("Nov 2022", "2022-11", date(2022, 11, 1), date(2022, 11, 30)),
    ("February 2024", "2024-02", date(2024, 2, 1), date(2024, 2, 29)),
])
def test_labels_people_write_parse(text, label, start, end):
    p = parse_period(text)
    assert (p.label, p.start, p.end) == (label, start, end)


@pytest.mark.parametrize("text", ["2022-24 Q1", "Q5 22/23", "2022 Q2", "Summer 2022", "2022-13", ""])
def test_bad_labels_are_clear_errors(text):
    with pytest.raises(ParamsError) as err:
        parse_period(text, where="params.yaml period")
    assert "params.yaml period" in str(err.value) and "2022-23 Q2" in str(err.value)


def test_history_and_shift_cross_financial_years():
    p = parse_period("2024-25 Q1")
    assert [x.label for x in p.history(2)] == ["2023-24 Q3", "2023-24 Q4", "2024-25 Q1"]
    assert [m.label for m in p.months()] == ["2024-04", "2024-05", "2024-06"]
    assert Period.containing(date(2024, 3, 31)).label == "2023-24 Q4"
    assert Period.containing(date(2024, 4, 1)).label == "2024-25 Q1"
    assert parse_period("2024-01").shift(-1).label == "2023-12"
    assert p.long_label == "2024-25 Q1 (April–June 2024)"


def test_vectorised_quarter_labels_keep_missing():
    s = pd.Series(pd.to_datetime(["2023-03-31", "2023-04-01", "2023-12-05", None]))
    assert quarter_labels(s).tolist()[:3] == ["2022-23 Q4", "2023-24 Q1", "2023-24 Q3"]
    assert pd.isna(quarter_labels(s).iloc[3])

import pandas as pd
import pytest

from qa_lib.core.errors import ParamsError
from qa_lib.inputs.grades import OFSTED, GradeScale


def test_aliases_case_and_space_insensitive():
    scale = GradeScale.from_params()
    raw = pd.Series(["RI", "Req. Improvement", "requires improvement to be good", "G", "O", "Inad",
                     "Outstanding ", "  good", "REQUIRES   IMPROVEMENT", "2.0", "Good\u00a0"])
    grades, unknown = scale.normalise(raw)
    assert grades.tolist() == ["Requires improvement"] * 3 + ["Good", "Outstanding", "Inadequate", "Outstanding",
                                                              "Good", "Requires improvement", "Good", "Good"]
    assert not unknown.any()


def test_unknown_and_blank_are_told_apart():
    grades, unknown = GradeScale.from_params().normalise(pd.Series(["Gd?", None, "", "Good"]))
    assert unknown.tolist() == [True, False, False, False]
    assert grades.isna().tolist() == [True, True, True, False]


def test_scale_keeps_every_grade_as_category():
    scale = GradeScale.from_params()
    grades, _ = scale.normalise(pd.Series(["Good", "Good"]))
    assert list(grades.cat.categories) == list(OFSTED) and grades.cat.ordered


def test_custom_scale_and_aliases_from_params():
    scale = GradeScale.from_params(["Good", "Adequate", "Poor"], {"OK": "Adequate"}, good_or_better=1)
    grades, unknown = scale.normalise(pd.Series(["ok", "poor", "RI"]))
    assert grades.tolist()[:2] == ["Adequate", "Poor"] and unknown.tolist() == [False, False, True]
    with pytest.raises(ParamsError, match="grade_aliases"):
        GradeScale.from_params(["Good", "Poor"], {"meh": "Adequate"})

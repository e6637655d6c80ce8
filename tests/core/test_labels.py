"""One label key for grades, survey answers, questions and indicator names (issue 13)."""

from __future__ import annotations

import pandas as pd
import pytest

from qa_lib.core.labels import key, keys
from qa_lib.inputs.grades import GradeScale


@pytest.mark.parametrize("a, b", [
    ("Didn't need to", "Didn’t need to"),          # curly apostrophe, as MS Forms exports it
    ("Didn't need to", "didnt need to"),
    ("Requires improvement", "  requires\u00a0IMPROVEMENT. "),
    ("% 16+ in EET", "% 16+ in eet"),
    ("Re-referrals within 12 months", "re referrals within 12 months"),
    ("Child in need", "child_in_need"),
])
def test_same_key(a, b):
    assert key(a) == key(b)


@pytest.mark.parametrize("a, b", [
    ("% 16+ in EET", "16 in EET"),   # + and % change an indicator's meaning
    ("Good", "Goods"),
    ("Good", "Gd?"),
    ("Équipe Nord", "Equipe Nord"),  # letters are letters: no accent folding
])
def test_different_key(a, b):
    assert key(a) != key(b)


def test_keys_vectorised_keeps_missing():
    out = keys(pd.Series(["Yes ", None, "YES"], dtype="string"))
    assert out.iloc[0] == out.iloc[2] == "yes" and pd.isna(out.iloc[1])


def test_grade_scale_uses_the_key():
    scale = GradeScale.from_params(["Outstanding", "Good", "Requires improvement", "Inadequate"], {}, 2)
    parsed, unknown = scale.normalise(pd.Series(["requires improvement.", "GOOD", "Inadequate ", "2.0", "Gd?"],
                                                dtype="string"))
    assert list(parsed[:3]) == ["Requires improvement", "Good", "Inadequate"]
    assert parsed[3] == "Good"  # spreadsheets type grade 2 as 2.0
    assert list(unknown) == [False, False, False, False, True]

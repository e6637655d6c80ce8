"""The loader's vectorised helpers (issue 15, loading at scale) give exactly what the plain pandas,
Python or RFC operations they replace give: each is checked against that operation on inputs with
blanks, duplicates, unmatched keys and awkward text. Speed itself is measured in ``make bench``."""

from __future__ import annotations

import hashlib
import hmac

import numpy as np
import pandas as pd
import pytest

from qa_lib.inputs import privacy
from qa_lib.inputs.data import attach
from qa_lib.inputs.io import _fast_csv, _read_cells, _read_one
from qa_lib.inputs.periods import month_labels, quarter_labels
from qa_lib.inputs.validate import duplicated, isin, spread

RNG = np.random.default_rng(15)


def _text(choices, n):
    return pd.Series(pd.array(RNG.choice(np.array(choices, dtype=object), n), dtype="string"))


def test_isin_is_pandas_isin_and_a_blank_is_never_in():
    values = _text(["a", "b", "c", None, "é"], 500)
    allowed = pd.Series(["b", "é", None], dtype="string")
    expected = values.isin(["b", "é"]) & values.notna()
    assert isin(values, allowed).tolist() == expected.tolist()
    assert isin(values.iloc[:0], allowed).tolist() == []


def test_spread_is_the_function_applied_row_by_row():
    values = _text([" Good ", "good", None, "RI", ""], 400)
    values.index = values.index + 100  # the index is kept
    out = spread(values, lambda u: u.str.strip().str.lower())
    assert out.index.equals(values.index)
    assert out.tolist() == values.str.strip().str.lower().tolist()
    assert spread(pd.Series([None, None], dtype="string"), lambda u: u.str.upper()).isna().all()  # all blank (issue 15)


@pytest.mark.parametrize("columns", [["a"], ["a", "b"], ["a", "b", "c", "d"], ["d"]])
def test_duplicated_is_pandas_duplicated(columns):
    n = 3000
    frame = pd.DataFrame({"a": _text(["x", "y", None], n), "b": _text(["1", "2", None, "3"], n),
                          "c": pd.Categorical(RNG.choice(["G", "R"], n)), "d": RNG.integers(0, 4, n)})
    assert duplicated(frame, columns).tolist() == frame[columns].duplicated(keep="first").tolist()


def test_duplicated_keeps_exact_with_many_distinct_values_per_column():
    # four columns of ~10^5 distinct values: their product overflows int64, so the key is renumbered
    n = 100_000
    frame = pd.DataFrame({c: pd.array(RNG.integers(0, 10**9, n).astype(str), dtype="string") for c in "abcd"})
    frame = pd.concat([frame, frame.iloc[::7]], ignore_index=True)  # planted duplicates
    got = duplicated(frame, list("abcd"))
    assert got.sum() == len(frame) - len(frame.drop_duplicates())
    assert got.tolist() == frame.duplicated().tolist()


def test_attach_is_a_left_merge():
    left = pd.DataFrame({"audit_id": _text(["A1", "A2", "A3", "A4"], 200), "grade": RNG.integers(0, 4, 200)})
    left.index = left.index * 3
    right = pd.DataFrame({"audit_id": pd.Series(["A1", "A2", "A3", "A4"], dtype="string"),
                          "period": pd.Series(["2024-25 Q1", None, "2024-25 Q2", "2024-25 Q2"], dtype="string"),
                          "team": pd.Series(["T1", "T2", None, "T1"], dtype="string")})
    pd.testing.assert_frame_equal(attach(left, right, on="audit_id"), left.merge(right, on="audit_id", how="left"))
    # unmatched keys, a repeated key and a clashing column: the merge itself
    for other in (right.iloc[1:], pd.concat([right, right.iloc[:1]]), right.assign(grade=1)):
        pd.testing.assert_frame_equal(attach(left, other, on="audit_id"), left.merge(other, on="audit_id", how="left"))


def test_month_and_quarter_labels_per_distinct_date_match_strftime():
    dates = pd.Series(pd.to_datetime(["2024-03-31", "2024-04-01", None, "2023-12-05", "2024-03-31", "2025-01-01"]))
    assert month_labels(dates).tolist() == ["2024-03", "2024-04", pd.NA, "2023-12", "2024-03", "2025-01"]
    # financial year April-March (DfE): 31 March 2024 is 2023-24 Q4, 1 April 2024 is 2024-25 Q1
    assert quarter_labels(dates).tolist() == ["2023-24 Q4", "2024-25 Q1", pd.NA, "2023-24 Q3", "2023-24 Q4",
                                              "2024-25 Q4"]


@pytest.mark.parametrize("key", [b"Jefe", b"k" * 64, b"\xaa" * 131, "clé secrète assez longue".encode()])
def test_pseudonyms_are_hmac_sha256_of_the_family_and_value(key):
    # RFC 2104 via the standard library's hmac, for short keys, a block-sized key and one longer than a block
    values = pd.Series(["3000001", "AUD001", "Zoë O’Neill", None, "3000001"], dtype="string")
    got = privacy.pseudonymise_series(values, family="case", prefix="CASE", key=privacy.PseudonymKey(key, "test"))
    want = ["CASE-" + hmac.new(key, f"case\x1f{v}".encode(), hashlib.sha256).hexdigest()[:12] if v is not pd.NA
            else pd.NA for v in values]
    assert got.tolist() == want


def test_for_texts_keeps_every_identifier_the_full_redactor_would_need():
    ids = ([f"QA{i:07d}" for i in range(5000)] + ["CASE-ZX0001", "ZX-12", "Jane Smith", "Zoë", "ab", "x\x1fy",
                                                  "Q-12-ABC", "9", "AUD007"])
    texts = ["Caseload pressures", "see QA0000123 and zx0001", "aud 007 was off; Q 12 abc", "Jane was off", "Zoe 9"]
    full, few = privacy.Redactor(ids), privacy.Redactor.for_texts(ids, texts)
    assert [few(t) for t in texts] == [full(t) for t in texts]
    assert len(few.keys) < len(full.keys) / 10  # built from the few that can occur
    import pyarrow as pa  # the loader passes its Arrow array of identifiers
    arrow = privacy.Redactor.for_texts(pa.array(ids, type=pa.large_string()), texts)
    assert [arrow(t) for t in texts] == [full(t) for t in texts]


@pytest.mark.parametrize("body", [
    "x,y\nÉquipe,1\n  ,  \n\n3,\n",  # blank and whitespace-only lines are records of blanks
    'x,y\n"a,b",1\n"c",2\n',  # quotes: lines counted
    "x,y\r\n1,2\r\n3,4\r\n",  # CRLF
    "\ufeffx,y\n1,2\n",  # BOM
    "x,y\n a ,\x1fb\x1f\n  ,1\n",  # ASCII with the separators Unicode trims as whitespace
    "x,y\n a , b\n  ,1\n",  # ASCII: the faster trim
])
def test_fast_read_gives_the_careful_read(tmp_path, body):
    path = tmp_path / "t.csv"
    path.write_bytes(body.encode("utf-8"))
    fast = _read_one(path, names=["x"])
    cells = _read_cells(path)
    careful = cells.iloc[1:].reset_index(drop=True)
    careful.columns = fast.columns
    pd.testing.assert_frame_equal(fast.reset_index(drop=True), careful, check_dtype=False)


@pytest.mark.parametrize("data", [b"x,y\n\xc9quipe,1\n", b'x,y\n"a\nb",1\n', b"x,y\r1,2\r", b"x,y\n1,2,3\n",
                                  b"x,y\n", b"x,y\n\xed\xa0\x80,1\n"])
def test_fast_read_declines_what_only_the_careful_read_gets_right(data):
    # a stray byte or a UTF-8 surrogate (not UTF-8), a quoted line break, bare CRs, a ragged row, no record
    assert _fast_csv(data, 0, 2, ",") is None

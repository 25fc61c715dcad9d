import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from schemas.checkdigits import (
    bsn_mask,
    complete_bsn,
    complete_onderwijsnummer,
    is_bsn,
    is_onderwijsnummer,
    onderwijsnummer_mask,
)


@pytest.mark.parametrize(
    ("number", "valid"),
    [
        ("111222333", True),  # the textbook example: 9+8+7+12+10+8+9+6-3 = 66
        ("123456782", True),
        ("123456789", False),
        ("000000000", False),  # sums to 0 but is no BSN
        ("11122233", False),  # eight digits
        ("1112223330", False),
        ("11122233a", False),
        ("１１１２２２３３３", False),  # full-width digits are not ASCII digits
        ("", False),
    ],
)
def test_bsn(number, valid):
    assert is_bsn(number) is valid
    assert bsn_mask(pd.Series([number]))[0] == valid


@pytest.mark.parametrize(
    ("number", "valid"),
    [
        ("101234564", True),  # remainder 5, starts with 10
        ("101234565", False),
        ("111222333", False),  # a BSN is never an onderwijsnummer
        ("201234564", False),  # wrong prefix
    ],
)
def test_onderwijsnummer(number, valid):
    assert is_onderwijsnummer(number) is valid
    assert onderwijsnummer_mask(pd.Series([number]))[0] == valid


@given(st.lists(st.text(alphabet="0123456789a ", min_size=0, max_size=11), max_size=30))
def test_vectorised_agrees_with_scalar(values):
    s = pd.Series(values, dtype="string")
    assert list(bsn_mask(s)) == [is_bsn(v) for v in values]
    assert list(onderwijsnummer_mask(s)) == [is_onderwijsnummer(v) for v in values]


@given(st.integers(10_000_000, 99_999_999))
def test_completed_numbers_pass_their_check(prefix):
    bsn = complete_bsn(np.array([prefix]))[0]
    if bsn >= 0:
        assert is_bsn(f"{bsn:09d}")
    else:  # no digit works: every completion fails
        assert not any(is_bsn(f"{prefix}{d}") for d in range(10))
    onr = complete_onderwijsnummer(np.array([10_000_000 + prefix % 1_000_000]))[0]
    if onr >= 0:
        assert is_onderwijsnummer(f"{onr:09d}")


def test_missing_values_are_invalid():
    s = pd.Series(["111222333", None], dtype="string")
    assert list(bsn_mask(s)) == [True, False]

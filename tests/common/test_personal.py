from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from common.personal import (
    InvalidIdNumber,
    age_on,
    id_check_char,
    keyed_hash,
    mask_id_number,
    mask_name,
    sex_of,
    validate_id_number,
)

VALID = "11010519491231002X"  # the GB 11643 example


def test_spec_example_is_valid() -> None:
    assert validate_id_number(VALID) == VALID
    assert validate_id_number("11010519491231002x ") == VALID
    assert sex_of(VALID) == "female"
    assert age_on(VALID, dt.date(2026, 11, 23)) == 76
    assert age_on(VALID, dt.date(2009, 12, 30)) == 59


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        ("110105194912310021", "check digit"),
        ("1101051949123100", "18 characters"),
        ("11010519491231002Y", "17 digits"),
        ("110105194913310028", None),  # month 13
    ],
)
def test_invalid_numbers_are_refused_without_echoing_them(raw: str, problem: str | None) -> None:
    if problem is None:  # make the check digit right so only the date is wrong
        raw = raw[:17] + id_check_char(raw[:17])
    with pytest.raises(InvalidIdNumber) as err:
        validate_id_number(raw)
    if problem:
        assert problem in str(err.value)
    assert raw[:10] not in str(err.value)


def test_masks() -> None:
    assert mask_id_number(VALID) == "110***********002X"
    assert mask_name("张三") == "张*"
    assert mask_name("张小三") == "张*三"
    assert mask_name("欧阳小明") == "欧**明"
    assert mask_name("John Smith") == "J*** S****"
    assert mask_name("") == ""


@given(st.text(alphabet="0123456789", min_size=17, max_size=17))
def test_check_char_makes_any_17_digits_pass_the_checksum(first17: str) -> None:
    number = first17 + id_check_char(first17)
    try:
        assert validate_id_number(number) == number
    except InvalidIdNumber as err:
        assert "birth date" in str(err)


def test_keyed_hash_depends_on_the_key_and_hides_the_number() -> None:
    a = keyed_hash(b"k1", VALID)
    assert a == keyed_hash(b"k1", VALID.lower())
    assert a != keyed_hash(b"k2", VALID)
    assert VALID not in a

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from common.personal import (
    InvalidIdNumber,
    age_on,
    clean_text,
    id_check_char,
    keyed_hash,
    mask_id_number,
    mask_name,
    scrub_free_text,
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
    assert mask_name("张小三") == "张**"
    assert mask_name("欧阳小明") == "欧***"
    assert mask_name("John Smith") == "J********"
    # short names too: nothing but the first character shows (issue "reliability" 13)
    assert mask_name("X") == "*"
    assert mask_name("Li A") == "L**"
    assert mask_name("王") == "*"
    assert mask_name("") == ""
    assert mask_name("张\u202e小三") == "张**"  # an invisible character is not a letter shown


def test_digits_of_other_scripts_never_make_another_number() -> None:
    # issue "reliability" 8: ٢ (Arabic-Indic two) passed \d and int(); one person, one number
    with pytest.raises(InvalidIdNumber):
        validate_id_number("1101051949123100٢X")
    with pytest.raises(InvalidIdNumber):
        validate_id_number("11010519491231002²")
    # full-width digits are the same number as ASCII ones (NFKC), so the same person
    assert validate_id_number("１１０１０５１９４９１２３１００２Ｘ") == "11010519491231002X"


def test_free_text_loses_invisible_characters_and_masks_numbers() -> None:
    # issue "reliability" 14: U+202E turned 05:37 into 73:50 on the counter page
    assert clean_text("等了 05:\u202e37 分钟\u200b") == "等了 05:37 分钟"
    assert clean_text("第一行\n第二行\t\x00 ") == "第一行 第二行"
    # 12: a typed ID number or phone in a help reason is masked before it is stored
    scrubbed = scrub_free_text("我的身份证 11010519491231002X，电话 138 1234 5678")
    assert "11010519491231002X" not in scrubbed and "110***********002X" in scrubbed
    assert "1234 5678" not in scrubbed and "138****5678" in scrubbed
    assert scrub_free_text("窗口 12 号，等了 30 分钟") == "窗口 12 号，等了 30 分钟"


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


def test_a_foreign_permanent_residence_number_is_a_person_too() -> None:
    # issue "a day in the hall" 5: the 2017 card (3 letters + 12 digits) was refused
    from common.personal import birth_date_of, validate_person_number

    number = "USA310512150016"  # USA, region 31, born (YYMMDD) 051215, sequence 0016
    assert validate_person_number(number.lower()) == number
    assert birth_date_of(number, dt.date(2026, 12, 2)) == dt.date(2005, 12, 15)
    elder = "CAN114805020011"  # born 1948-05-02
    assert age_on(elder, dt.date(2026, 12, 2)) == 78
    assert mask_id_number(number) == "USA********0016"
    for bad in ("USA31051215001", "US1310512150016", "USA311313150016", "USA31051215001٢"):
        with pytest.raises(InvalidIdNumber):
            validate_person_number(bad)
    assert validate_person_number(VALID) == VALID  # resident numbers as before

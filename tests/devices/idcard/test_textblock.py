"""Text block and card tests: blocks laid out by hand from the spec's offsets, the read
reply split, consistency checks, masking, and hypothesis round trips over all four
layouts. Pure: no ports, no threads."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from common.personal import id_check_char
from devices.idcard.card import CardType, IdCard
from devices.idcard.errors import BadCardData, InvalidCard, UnknownCardType
from devices.idcard.frames import (
    FrameParser,
    Reply,
    Status,
    build_read_data,
    build_reply,
    parse_read_data,
)
from devices.idcard.textblock import decode_address, decode_text, encode_address, encode_text

H = bytes.fromhex


def _field(value: str, size: int) -> bytes:
    raw = value.encode("utf-16-le")
    assert len(raw) <= size
    return raw + " ".encode("utf-16-le") * ((size - len(raw)) // 2)


def _hand_resident_block(id_number: str, *, sex: str = "1", valid_to: str = "20350601") -> bytes:
    # laid out from the spec's offsets, independently of encode_text
    block = (
        _field("张小三", 30)
        + _field(sex, 2)
        + _field("01", 4)
        + _field("19850317", 16)
        + _field("北京市朝阳区示例路88号", 70)
        + _field(id_number, 36)
        + _field("北京市公安局朝阳分局", 30)
        + _field("20150601", 16)
        + _field(valid_to, 16)
        + _field("", 36)
    )
    assert len(block) == 256
    return block


GOOD_ID = "11010519850317123" + id_check_char("11010519850317123")


def test_resident_block_laid_out_by_hand_decodes() -> None:
    card = decode_text(_hand_resident_block(GOOD_ID), b"\x01" * 1024)
    assert card.card_type is CardType.RESIDENT
    assert (card.name, card.sex, card.nation_code, card.nation) == ("张小三", "male", "01", "汉")
    assert card.birth_date == dt.date(1985, 3, 17)
    assert card.address == "北京市朝阳区示例路88号"
    assert card.id_number == GOOD_ID and card.authority == "北京市公安局朝阳分局"
    assert (card.valid_from, card.valid_to) == (dt.date(2015, 6, 1), dt.date(2035, 6, 1))
    assert card.photo_wlt == b"\x01" * 1024
    assert card.problems == ()
    assert card.require_consistent() is card


def test_long_term_validity_is_none() -> None:
    card = decode_text(_hand_resident_block(GOOD_ID, valid_to="长期"))
    assert card.valid_to is None and card.problems == ()


def test_j_block_by_hand() -> None:
    number = "81000019900101234" + id_check_char("81000019900101234")
    block = bytearray(
        _field("陈美玲", 30) + _field("2", 2) + _field("", 4) + _field("19900101", 16)
        + _field("上海市浦东新区", 70) + _field(number, 36) + _field("上海市公安局", 30)
        + _field("20200301", 16) + _field("20250301", 16)
        + _field("H12345678", 18) + _field("01", 4) + _field("", 6) + _field("J", 2)
        + _field("", 6)
    )  # fmt: skip
    card = decode_text(bytes(block))
    assert card.card_type is CardType.HMT_RESIDENCE
    assert (card.pass_number, card.issue_count, card.nation) == ("H12345678", 1, "")
    assert card.problems == ()


def test_i_block_by_hand() -> None:
    block = (
        _field("SMITH, JOHN", 120) + _field("1", 2) + _field("USA118506151234", 30)
        + _field("USA", 6) + _field("史约翰", 30) + _field("20170701", 16)
        + _field("20270701", 16) + _field("19850615", 16) + _field("01", 4)
        + _field("1100", 8) + _field("I", 2) + _field("", 6)
    )  # fmt: skip
    card = decode_text(block)
    assert card.card_type is CardType.FOREIGN_PERMANENT
    assert (card.name_en, card.name, card.nationality) == ("SMITH, JOHN", "史约翰", "USA")
    assert (card.id_number, card.card_version, card.authority) == ("USA118506151234", "01", "1100")
    assert card.birth_date == dt.date(1985, 6, 15) and card.problems == ()


def test_y_block_by_hand_joins_the_english_name() -> None:
    number = "91184019800202012" + id_check_char("91184019800202012")
    part1 = "GARCIA LOPEZ, MARIA FERNANDA ISABEL"  # exactly 35 characters
    block = (
        _field("玛丽亚", 30) + _field("2", 2) + _field("00", 4) + _field("19800202", 16)
        + _field(part1, 70) + _field(number, 36) + _field("", 30) + _field("20231201", 16)
        + _field("20331201", 16) + _field(" ELENA", 22) + _field("USA", 6) + _field("Y", 2)
        + _field("", 6)
    )  # fmt: skip
    card = decode_text(block)
    assert card.card_type is CardType.FOREIGN_PERMANENT_2023
    assert card.name_en == part1 + " ELENA"
    assert (card.issue_count, card.nationality, card.problems) == (0, "USA", ())


def test_inconsistent_cards_are_reported_without_personal_data() -> None:
    wrong_check = GOOD_ID[:17] + ("0" if GOOD_ID[17] != "0" else "1")
    card = decode_text(_hand_resident_block(wrong_check))
    assert card.problems == ("id_check_digit",)
    with pytest.raises(InvalidCard) as info:
        card.require_consistent()
    assert GOOD_ID[:17] not in str(info.value) and "张小三" not in str(info.value)
    # a valid number whose sex digit contradicts the sex field
    card = decode_text(_hand_resident_block(GOOD_ID, sex="2"))
    assert card.problems == ("sex_mismatch",)


def test_unknown_type_letter_and_bad_fields_raise_clear_errors() -> None:
    block = bytearray(_hand_resident_block(GOOD_ID))
    block[248:250] = "Z".encode("utf-16-le")
    with pytest.raises(UnknownCardType):
        decode_text(bytes(block))
    bad_date = _hand_resident_block(GOOD_ID, valid_to="2035x601")
    with pytest.raises(BadCardData) as info:
        decode_text(bad_date)
    assert "valid-to" in str(info.value)
    with pytest.raises(BadCardData):
        decode_text(b"\x00" * 100)


def test_read_reply_layout_matches_the_spec() -> None:
    text, photo = _hand_resident_block(GOOD_ID), bytes(range(256)) * 4
    frame = build_reply(Status.OK, build_read_data(text, photo))
    assert len(frame) == 1295 and frame[5:7] == H("05 08")
    assert frame[10:14] == H("01 00 04 00") and frame[14:270] == text and frame[270:1294] == photo
    parser = FrameParser()
    parser.feed(frame)
    (parsed,) = parser.pop_all()
    data = parse_read_data(Reply.from_frame(parsed).data)
    assert (data.text, data.photo) == (text, photo)
    with_fp = parse_read_data(build_read_data(text, photo, b""), with_fingerprint=True)
    assert (with_fp.text, with_fp.photo, with_fp.fingerprint) == (text, photo, b"")
    with pytest.raises(BadCardData):
        parse_read_data(build_read_data(text, photo)[:-1])


def test_address_round_trip() -> None:
    address = "广东省深圳市南山区样例街9号"
    assert decode_address(encode_address(address)) == address


def test_idcard_masks_itself() -> None:
    card = decode_text(_hand_resident_block(GOOD_ID), b"\x00" * 1024)
    for text in (repr(card), str(card), f"{card}", str([card])):
        assert GOOD_ID not in text and "张小三" not in text
        assert "110***********1231" in text and "张**" in text
    masked = card.to_json()
    assert masked["id_number"] == "110***********1231" and masked["name"] == "张**"
    assert masked["photo_wlt"] is None and masked["birth_date"] == "1985-**-**"
    full = card.to_json(show_id=True)
    assert full["id_number"] == GOOD_ID and full["valid_to"] == "2035-06-01"
    assert isinstance(full["photo_wlt"], str) and len(full["photo_wlt"]) > 1024


# hypothesis round trip over all four layouts ----------------------------------------------

_cjk = st.text(st.characters(min_codepoint=0x4E00, max_codepoint=0x9FA5), min_size=1, max_size=15)
_latin = st.text(st.sampled_from("ABCDEFGHIJKLMNOPQRSTUVWXYZ ,-"), min_size=1, max_size=46).map(
    lambda s: "A" + s.strip() if s.strip() else "A"
)
_dates = st.dates(dt.date(1900, 1, 1), dt.date(2099, 12, 31))


@st.composite
def cards(draw: st.DrawFn) -> IdCard:
    card_type = draw(st.sampled_from(list(CardType)))
    birth = draw(_dates)
    sex = draw(st.sampled_from(["male", "female"]))
    parity = 1 if sex == "male" else 0
    seq = draw(st.integers(0, 99)) * 10 + parity + draw(st.sampled_from([0, 2]))
    region = {
        CardType.RESIDENT: "110105",
        CardType.HMT_RESIDENCE: "810000",
        CardType.FOREIGN_PERMANENT_2023: "911840",
    }.get(card_type, "")
    if card_type is CardType.FOREIGN_PERMANENT:
        number = "USA11" + birth.strftime("%y%m%d") + f"{seq % 10000:04d}"
    else:
        first17 = region + birth.strftime("%Y%m%d") + f"{seq:03d}"
        number = first17 + id_check_char(first17)
    valid_from = draw(_dates)
    valid_to = draw(st.none() | st.dates(valid_from, dt.date(2099, 12, 31)))
    kw: dict[str, object] = {}
    if card_type is CardType.RESIDENT:
        kw = {"nation_code": "01", "nation": "汉", "address": draw(_cjk), "authority": draw(_cjk)}
    elif card_type is CardType.HMT_RESIDENCE:
        kw = {"address": draw(_cjk), "authority": draw(_cjk), "pass_number": "H12345678",
              "issue_count": draw(st.integers(0, 99))}  # fmt: skip
    elif card_type is CardType.FOREIGN_PERMANENT:
        kw = {"name_en": draw(_latin)[:60], "nationality": "USA", "card_version": "01",
              "authority": "1100"}  # fmt: skip
    else:
        kw = {"name_en": draw(_latin), "nationality": "USA",
              "issue_count": draw(st.integers(0, 99))}  # fmt: skip
    return IdCard(
        card_type=card_type,
        name=draw(_cjk),
        sex=sex,
        birth_date=birth,
        id_number=number,
        valid_from=valid_from,
        valid_to=valid_to,
        photo_wlt=draw(st.binary(min_size=1024, max_size=1024)),
        **kw,  # type: ignore[arg-type]
    )


@settings(max_examples=200)
@given(cards())
def test_text_block_round_trip(card: IdCard) -> None:
    block = encode_text(card)
    assert len(block) == 256
    assert decode_text(block, card.photo_wlt) == card
    assert card.problems == ()  # generated cards are consistent, and decoding agrees

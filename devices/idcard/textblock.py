"""The 256-byte text block of a card, per card type: ``decode_text`` / ``encode_text``, and
the 70-byte additional address of a 30 03 reply. Pure.

The block is UCS-2 LE padded with spaces, laid out per card type (resident, ``J``, ``I``,
``Y``); the type marker is character 124 (a space on resident cards). Unparseable fields
raise ``BadCardData``, an unknown marker ``UnknownCardType``; consistency problems are not
raised but listed in ``IdCard.problems`` (``card.check_card``).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import replace

from devices.idcard.card import NATIONS, SEX_NAMES, CardType, IdCard, check_card
from devices.idcard.errors import BadCardData, UnknownCardType
from devices.idcard.frames import TEXT_LEN

ADDRESS_LEN = 70
LONG_TERM = "长期"  # valid_to of a card without end date


# Field layouts: (name, byte offset, byte length) in the 256-byte text block.
_RESIDENT = (
    ("name", 0, 30),
    ("sex", 30, 2),
    ("nation", 32, 4),
    ("birth", 36, 16),
    ("address", 52, 70),
    ("id_number", 122, 36),
    ("authority", 158, 30),
    ("valid_from", 188, 16),
    ("valid_to", 204, 16),
)
_LAYOUTS: dict[CardType, tuple[tuple[str, int, int], ...]] = {
    CardType.RESIDENT: _RESIDENT,
    CardType.HMT_RESIDENCE: (
        *_RESIDENT,
        ("pass_number", 220, 18),
        ("issue_count", 238, 4),
        ("type", 248, 2),
    ),
    CardType.FOREIGN_PERMANENT: (
        ("name_en", 0, 120),
        ("sex", 120, 2),
        ("id_number", 122, 30),
        ("nationality", 152, 6),
        ("name", 158, 30),
        ("valid_from", 188, 16),
        ("valid_to", 204, 16),
        ("birth", 220, 16),
        ("card_version", 236, 4),
        ("authority", 240, 8),
        ("type", 248, 2),
    ),
    CardType.FOREIGN_PERMANENT_2023: (
        ("name", 0, 30),
        ("sex", 30, 2),
        ("issue_count", 32, 4),
        ("birth", 36, 16),
        ("name_en", 52, 70),
        ("id_number", 122, 36),
        ("valid_from", 188, 16),
        ("valid_to", 204, 16),
        ("name_en2", 220, 22),
        ("nationality", 242, 6),
        ("type", 248, 2),
    ),
}
_TYPE_MARKER_OFFSET = 248


def _ucs2(text: bytes) -> str:
    return text.decode("utf-16-le", errors="replace").rstrip(" \x00")


def card_type_of(text: bytes) -> CardType:
    """Type marker at character 124. A space/NUL (or any non-letter) means a resident
    card, as the spec says; an unlisted *letter* is a newer card type whose layout we do
    not know, and guessing the resident layout for it would misread every field."""
    marker = _ucs2(text[_TYPE_MARKER_OFFSET : _TYPE_MARKER_OFFSET + 2])
    for card_type in CardType:
        if card_type.value == marker:
            return card_type
    if len(marker) == 1 and marker.isascii() and marker.isalpha():
        raise UnknownCardType(f"card type marker {marker!r} is not one of I, J, Y")
    return CardType.RESIDENT


def _date(value: str, what: str) -> dt.date:
    if not re.fullmatch(r"\d{8}", value):
        raise BadCardData(f"{what} is not YYYYMMDD")
    try:
        return dt.date(int(value[:4]), int(value[4:6]), int(value[6:]))
    except ValueError as err:
        raise BadCardData(f"{what} is not a real date") from err


def decode_text(
    text: bytes, photo: bytes = b"", *, additional_address: str | None = None
) -> IdCard:
    """Decode a 256-byte text block (and keep the photo bytes) into an IdCard.

    Raises BadCardData for unparseable fields and UnknownCardType for an unknown marker.
    Consistency problems (check digit, birth, sex) do not raise: they are listed in
    ``IdCard.problems`` so the caller decides (the driver refuses such a card by default).
    """
    if len(text) != TEXT_LEN:
        raise BadCardData(f"text block is {len(text)} bytes, expected {TEXT_LEN}")
    card_type = card_type_of(text)
    raw = {name: _ucs2(text[off : off + size]) for name, off, size in _LAYOUTS[card_type]}

    sex = SEX_NAMES.get(raw["sex"])
    if sex is None:
        raise BadCardData("sex code is not one of 0, 1, 2, 9")
    birth = _date(raw["birth"], "birth date")
    valid_from = _date(raw["valid_from"], "valid-from date")
    valid_to = None if raw["valid_to"] == LONG_TERM else _date(raw["valid_to"], "valid-to date")
    issue_count = None
    if raw.get("issue_count"):
        if not raw["issue_count"].isdigit():
            raise BadCardData("issue count is not a number")
        issue_count = int(raw["issue_count"])
    nation_code = raw.get("nation", "")
    nation = ""
    if card_type is CardType.RESIDENT:
        if nation_code not in NATIONS:
            raise BadCardData("nation code is not in GB 3304")
        nation = NATIONS[nation_code]
    name_en = raw.get("name_en", "")
    if card_type is CardType.FOREIGN_PERMANENT_2023 and raw["name_en2"]:
        # part 1 is full when part 2 is used: keep its last character even if a space
        name_en = text[52:122].decode("utf-16-le", errors="replace") + raw["name_en2"]

    card = IdCard(
        card_type=card_type,
        name=raw["name"],
        name_en=name_en,
        sex=sex,
        nation_code=nation_code,
        nation=nation,
        birth_date=birth,
        address=raw.get("address", ""),
        id_number=raw["id_number"],
        authority=raw.get("authority", ""),
        valid_from=valid_from,
        valid_to=valid_to,
        pass_number=raw.get("pass_number", ""),
        issue_count=issue_count,
        nationality=raw.get("nationality", ""),
        card_version=raw.get("card_version", ""),
        photo_wlt=bytes(photo),
        additional_address=additional_address,
    )
    return replace(card, problems=check_card(card))


_SEX_CODES = {v: k for k, v in SEX_NAMES.items()}


def _put(block: bytearray, value: str, off: int, size: int, what: str) -> None:
    encoded = value.encode("utf-16-le")
    if len(encoded) > size:
        raise ValueError(f"{what} does not fit its {size // 2} characters")
    block[off : off + size] = encoded + " ".encode("utf-16-le") * ((size - len(encoded)) // 2)


def encode_text(card: IdCard) -> bytes:
    """The 256-byte text block for ``card`` (the simulator's side, and round-trip tests).
    Raises ValueError when a field does not fit: nothing is silently cut."""
    values = {
        "name": card.name,
        "name_en": card.name_en,
        "sex": _SEX_CODES[card.sex],
        "nation": card.nation_code,
        "birth": card.birth_date.strftime("%Y%m%d"),
        "address": card.address,
        "id_number": card.id_number,
        "authority": card.authority,
        "valid_from": card.valid_from.strftime("%Y%m%d"),
        "valid_to": LONG_TERM if card.valid_to is None else card.valid_to.strftime("%Y%m%d"),
        "pass_number": card.pass_number,
        "issue_count": "" if card.issue_count is None else f"{card.issue_count:02d}",
        "nationality": card.nationality,
        "card_version": card.card_version,
        "type": "" if card.card_type is CardType.RESIDENT else card.card_type.value,
    }
    if card.card_type is CardType.FOREIGN_PERMANENT_2023:
        values["name_en"], values["name_en2"] = card.name_en[:35], card.name_en[35:]
    block = bytearray(" ".encode("utf-16-le") * (TEXT_LEN // 2))
    for name, off, size in _LAYOUTS[card.card_type]:
        _put(block, values[name], off, size, name)
    return bytes(block)


def encode_address(address: str) -> bytes:
    """Data of a 30 03 reply: the additional address, 70 bytes UCS-2 LE."""
    block = bytearray(ADDRESS_LEN)
    _put(block, address, 0, ADDRESS_LEN, "additional address")
    return bytes(block)


def decode_address(data: bytes) -> str:
    return _ucs2(data)

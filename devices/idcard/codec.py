"""Pure codec of the resident ID card reader protocol (SAM module, GA 467 family). No I/O.

Frames (see ``../shared/protocols/idcard-reader.md``)::

    to reader  : AA AA AA 96 69 | LEN_H LEN_L | CMD  PARA      | data… | CHK
    from reader: AA AA AA 96 69 | LEN_H LEN_L | SW1  SW2  SW3  | data… | CHK

LEN counts the bytes after the LEN field, CHK included; CHK is the XOR of LEN_H … last
data byte. The read reply (30 01) carries ``text_len(2) photo_len(2) text photo``; the
256-byte text block is UCS-2 LE padded with spaces, laid out per card type (resident,
``J``, ``I``, ``Y``; marker at character 124).

``FrameParser`` takes arbitrary chunks and yields whole frames; noise before a preamble
is skipped (counted in ``discarded``), and every malformed frame raises ``FrameError``
and nothing else, after which the parser has resynchronised and keeps every later byte.
"""

from __future__ import annotations

import base64
import datetime as dt
import enum
import re
from dataclasses import dataclass, field, fields, replace

from common.personal import (
    InvalidIdNumber,
    birth_date_of,
    mask_id_number,
    mask_name,
    sex_of,
    validate_id_number,
)
from devices.idcard.errors import BadCardData, FrameError, InvalidCard, UnknownCardType

PREAMBLE = b"\xaa\xaa\xaa\x96\x69"
HEADER_LEN = 7  # preamble + LEN
# The largest real frame is 30 10 with a fingerprint (≈ 2330 bytes); anything far above
# is a corrupt LEN, and waiting for 65 535 bytes would stall the line.
MAX_LEN = 4096
TEXT_LEN = 256
PHOTO_LEN = 1024
ADDRESS_LEN = 70


class Command(enum.Enum):
    """(CMD, PARA) pairs of the requests a host sends."""

    RESET_SAM = (0x10, 0xFF)
    SAM_STATUS = (0x11, 0xFF)
    SAM_ID = (0x12, 0xFF)
    FIND_CARD = (0x20, 0x01)
    SELECT_CARD = (0x20, 0x02)
    READ_TEXT_PHOTO = (0x30, 0x01)
    READ_ADDITIONAL_ADDRESS = (0x30, 0x03)
    READ_TEXT_PHOTO_FINGERPRINT = (0x30, 0x10)


class Status(enum.IntEnum):
    """SW3 of a reply."""

    OK = 0x90
    NO_CONTENT = 0x91
    CARD_FOUND = 0x9F
    REQUEST_CHECKSUM = 0x10
    REQUEST_LENGTH = 0x11
    BAD_COMMAND = 0x21
    NOT_PERMITTED = 0x23
    UNKNOWN_ERROR = 0x24
    CARD_AUTH_SAM_FAILED = 0x31
    SAM_AUTH_CARD_FAILED = 0x32
    VERIFICATION_ERROR = 0x33
    UNKNOWN_CARD_TYPE = 0x40
    READ_FAILED = 0x41
    RANDOM_FAILED = 0x47
    SAM_SELF_TEST_FAILED = 0x60
    SAM_NOT_AUTHORISED = 0x66
    NO_CARD = 0x80
    SELECT_FAILED = 0x81


def checksum(body: bytes) -> int:
    """XOR of every byte of ``body`` (LEN_H … last data byte)."""
    chk = 0
    for b in body:
        chk ^= b
    return chk


def _frame(payload: bytes) -> bytes:
    body = (len(payload) + 1).to_bytes(2, "big") + payload
    return PREAMBLE + body + bytes([checksum(body)])


def build_request(command: Command, data: bytes = b"") -> bytes:
    cmd, para = command.value
    return _frame(bytes([cmd, para]) + data)


def build_reply(sw3: int, data: bytes = b"", *, sw1: int = 0, sw2: int = 0) -> bytes:
    return _frame(bytes([sw1, sw2, sw3]) + data)


@dataclass(frozen=True)
class Frame:
    """One checked frame: ``payload`` is everything between LEN and CHK."""

    payload: bytes


@dataclass(frozen=True)
class Request:
    cmd: int
    para: int
    data: bytes

    @property
    def command(self) -> Command | None:
        try:
            return Command((self.cmd, self.para))
        except ValueError:
            return None

    @classmethod
    def from_frame(cls, frame: Frame) -> Request:
        if len(frame.payload) < 2:
            raise FrameError("request frame lacks CMD and PARA", reason="short")
        return cls(frame.payload[0], frame.payload[1], frame.payload[2:])


@dataclass(frozen=True)
class Reply:
    sw1: int
    sw2: int
    sw3: int
    data: bytes

    @property
    def status(self) -> Status | None:
        try:
            return Status(self.sw3)
        except ValueError:
            return None

    @classmethod
    def from_frame(cls, frame: Frame) -> Reply:
        if len(frame.payload) < 3:
            raise FrameError("reply frame lacks SW1 SW2 SW3", reason="short")
        p = frame.payload
        return cls(p[0], p[1], p[2], p[3:])


class FrameParser:
    """Incremental frame parser: ``feed`` chunks, then ``pop`` frames until it returns None.

    ``pop`` raises FrameError for a malformed frame; it has then dropped the first byte of
    that frame's preamble, so a good frame that started inside the bad one is still found.
    """

    def __init__(self) -> None:
        self._buf = bytearray()
        self.discarded = 0  # noise bytes skipped before a preamble (diagnostics)

    def feed(self, data: bytes) -> None:
        self._buf += data

    def reset(self) -> None:
        self._buf.clear()

    @property
    def pending(self) -> int:
        """Bytes held: a partial frame (or a partial preamble)."""
        return len(self._buf)

    def _sync(self) -> None:
        start = self._buf.find(PREAMBLE)
        if start < 0:
            # keep a tail that may be the beginning of a preamble split across chunks
            keep = 0
            for n in range(min(len(PREAMBLE) - 1, len(self._buf)), 0, -1):
                if self._buf.endswith(PREAMBLE[:n]):
                    keep = n
                    break
            drop = len(self._buf) - keep
        else:
            drop = start
        if drop:
            del self._buf[:drop]
            self.discarded += drop

    def pop(self) -> Frame | None:
        self._sync()
        if len(self._buf) < HEADER_LEN:
            return None
        length = int.from_bytes(self._buf[5:7], "big")
        if length < 1 or length > MAX_LEN:
            self._drop_bad()
            raise FrameError(f"frame length {length} out of range 1..{MAX_LEN}", reason="length")
        if len(self._buf) < HEADER_LEN + length:
            return None
        body = bytes(self._buf[5 : HEADER_LEN + length - 1])
        chk = self._buf[HEADER_LEN + length - 1]
        if checksum(body) != chk:
            self._drop_bad()
            raise FrameError(
                f"frame checksum {chk:02X} != computed {checksum(body):02X}", reason="checksum"
            )
        del self._buf[: HEADER_LEN + length]
        return Frame(body[2:])

    def _drop_bad(self) -> None:
        del self._buf[:1]
        self.discarded += 1

    def pop_all(self) -> list[Frame]:
        """Every complete frame now buffered; raises on the first malformed one (frames
        before it are lost to the caller, so use ``pop`` where that matters)."""
        out: list[Frame] = []
        while (frame := self.pop()) is not None:
            out.append(frame)
        return out


# ---------------------------------------------------------------------------------------
# Read reply and text block


@dataclass(frozen=True)
class ReadData:
    text: bytes
    photo: bytes
    fingerprint: bytes = b""


def build_read_data(text: bytes, photo: bytes, fingerprint: bytes | None = None) -> bytes:
    """Data part of a 30 01 reply (or 30 10 when ``fingerprint`` is not None)."""
    head = len(text).to_bytes(2, "big") + len(photo).to_bytes(2, "big")
    if fingerprint is None:
        return head + text + photo
    return head + len(fingerprint).to_bytes(2, "big") + text + photo + fingerprint


def parse_read_data(data: bytes, *, with_fingerprint: bool = False) -> ReadData:
    head = 6 if with_fingerprint else 4
    if len(data) < head:
        raise BadCardData(f"read reply too short ({len(data)} bytes)")
    text_len = int.from_bytes(data[0:2], "big")
    photo_len = int.from_bytes(data[2:4], "big")
    fp_len = int.from_bytes(data[4:6], "big") if with_fingerprint else 0
    if len(data) != head + text_len + photo_len + fp_len:
        raise BadCardData(
            f"read reply holds {len(data)} bytes, its lengths say "
            f"{head + text_len + photo_len + fp_len}"
        )
    if text_len != TEXT_LEN:
        raise BadCardData(f"text block is {text_len} bytes, expected {TEXT_LEN}")
    text = data[head : head + text_len]
    photo = data[head + text_len : head + text_len + photo_len]
    return ReadData(text, photo, data[head + text_len + photo_len :])


class CardType(enum.Enum):
    RESIDENT = "resident"  # 居民身份证
    HMT_RESIDENCE = "J"  # 港澳台居民居住证
    FOREIGN_PERMANENT = "I"  # 外国人永久居留身份证 (2017)
    FOREIGN_PERMANENT_2023 = "Y"  # 外国人永久居留身份证 (2023)


SEX_NAMES = {"0": "unknown", "1": "male", "2": "female", "9": "unstated"}

# GB 3304 codes 01…56 in order; a plain string keeps the table readable
_NATION_NAMES = (
    "汉 蒙古 回 藏 维吾尔 苗 彝 壮 布依 朝鲜 满 侗 瑶 白 土家 哈尼 哈萨克 傣 黎 "
    "傈僳 佤 畲 高山 拉祜 水 东乡 纳西 景颇 柯尔克孜 土 达斡尔 仫佬 羌 布朗 撒拉 "
    "毛南 仡佬 锡伯 阿昌 普米 塔吉克 怒 乌孜别克 俄罗斯 鄂温克 德昂 保安 裕固 京 "
    "塔塔尔 独龙 鄂伦春 赫哲 门巴 珞巴 基诺"
)
NATIONS: dict[str, str] = {
    f"{i:02d}": name for i, name in enumerate(_NATION_NAMES.split(), start=1)
} | {"97": "其他", "98": "外国血统中国籍人士"}
assert len(NATIONS) == 58

LONG_TERM = "长期"


@dataclass(frozen=True, repr=False)
class IdCard:
    """One card as read. Masks itself in ``repr``/``str`` (and so in logs and tracebacks).

    ``sex`` is ``male``/``female``/``unknown``/``unstated``; ``valid_to`` is None for 长期.
    ``problems`` lists consistency checks that failed (GB 11643 check digit, birth, sex);
    empty for a good card. ``name`` is the Chinese name (may be empty on ``I``/``Y``
    cards), ``name_en`` the English one.
    """

    card_type: CardType
    name: str
    sex: str
    birth_date: dt.date
    id_number: str
    valid_from: dt.date
    valid_to: dt.date | None
    name_en: str = ""
    nation_code: str = ""
    nation: str = ""
    address: str = ""
    authority: str = ""
    pass_number: str = ""
    issue_count: int | None = None
    nationality: str = ""
    card_version: str = ""
    photo_wlt: bytes = b""
    additional_address: str | None = None
    problems: tuple[str, ...] = field(default=())

    @property
    def masked_id_number(self) -> str:
        return mask_id_number(self.id_number)

    @property
    def masked_name(self) -> str:
        return mask_name(self.name or self.name_en)

    def __repr__(self) -> str:
        return (
            f"IdCard(card_type={self.card_type.name}, name={self.masked_name!r}, "
            f"id_number={self.masked_id_number!r}, problems={list(self.problems)!r})"
        )

    __str__ = __repr__

    def require_consistent(self) -> IdCard:
        if self.problems:
            raise InvalidCard(
                "card data inconsistent: " + ", ".join(self.problems), problems=self.problems
            )
        return self

    def to_json(self, *, show_id: bool = False) -> dict[str, object]:
        """JSON-ready dict: dates as ISO strings, photo as base64, ``valid_to`` null for
        长期. Without ``show_id`` names, numbers and address are masked, the birth date
        keeps only its year and the photo is left out (``photo_wlt`` null)."""
        out: dict[str, object] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, CardType):
                value = value.value
            elif isinstance(value, dt.date):
                value = value.isoformat()
            elif isinstance(value, bytes):
                value = base64.b64encode(value).decode("ascii")
            elif isinstance(value, tuple):
                value = list(value)
            out[f.name] = value
        if not show_id:
            out["name"] = mask_name(self.name)
            out["name_en"] = mask_name(self.name_en)
            out["id_number"] = self.masked_id_number
            out["pass_number"] = mask_id_number(self.pass_number) if self.pass_number else ""
            out["address"] = _mask_address(self.address)
            if self.additional_address is not None:
                out["additional_address"] = _mask_address(self.additional_address)
            out["birth_date"] = f"{self.birth_date.year:04d}-**-**"
            out["photo_wlt"] = None
        out["photo_bytes"] = len(self.photo_wlt)
        return out


def _mask_address(address: str) -> str:
    # the first 6 characters (province/city) help a technician; the rest identifies a home
    return address[:6] + "*" * max(0, len(address) - 6)


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


def check_card(card: IdCard) -> tuple[str, ...]:
    """Consistency checks; returns problem names (never values)."""
    problems: list[str] = []
    number = card.id_number
    if card.card_type is CardType.FOREIGN_PERMANENT:
        # 15 characters: nationality (3 letters), region (2), birth YYMMDD (6), sequence
        # and check (4). The spec gives no check-digit rule for it, so check shape + birth.
        if not re.fullmatch(r"[A-Z]{3}\d{12}", number):
            problems.append("card_number_format")
        elif number[5:11] != card.birth_date.strftime("%y%m%d"):
            problems.append("birth_mismatch")
    else:
        # resident, J (81/82/83…) and Y (9…) numbers all follow GB 11643
        try:
            validate_id_number(number)
        except InvalidIdNumber:
            problems.append("id_check_digit")
        else:
            if birth_date_of(number) != card.birth_date:
                problems.append("birth_mismatch")
            if card.sex in ("male", "female") and sex_of(number) != card.sex:
                problems.append("sex_mismatch")
            if card.card_type is CardType.HMT_RESIDENCE and number[:2] not in ("81", "82", "83"):
                problems.append("region_mismatch")
            if card.card_type is CardType.FOREIGN_PERMANENT_2023 and not number.startswith("9"):
                problems.append("region_mismatch")
    if card.valid_to is not None and card.valid_to < card.valid_from:
        problems.append("validity_reversed")
    return tuple(problems)


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

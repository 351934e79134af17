"""The card as read: ``IdCard`` (masked in ``repr``, ``to_json``), its ``CardType``, and the
consistency checks of ``check_card`` (GB 11643 check digit, birth date, sex, region). Pure.

``IdCard`` carries no personal data into logs: ``repr``/``str`` show the masked name and
number only, and ``to_json`` masks unless asked not to.
"""

from __future__ import annotations

import base64
import datetime as dt
import enum
import re
from dataclasses import dataclass, field, fields

from common.personal import (
    InvalidIdNumber,
    birth_date_of,
    mask_id_number,
    mask_name,
    sex_of,
    validate_id_number,
)
from devices.idcard.errors import InvalidCard


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

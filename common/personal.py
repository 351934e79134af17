"""Personal data rules shared by every package (DESIGN.md, "Personal data").

ID numbers and names never leave memory whole: they are masked for display, logs and
errors (``110***********123X``, ``张*三``) and stored only as a keyed hash. The checks
here are pure (GB 11643 check digit, birth date, sex) so the hall, the devices and the
kiosk all use one implementation.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re

from common.errors import CodedError

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK_CHARS = "10X98765432"
_ID_RE = re.compile(r"^\d{17}[\dX]$")


class InvalidIdNumber(CodedError, ValueError):
    code = "invalid_id_number"

    """An ID number that fails GB 11643. The message never contains the number."""


def id_check_char(first17: str) -> str:
    """The GB 11643 check character for the first 17 digits."""
    total = sum(int(d) * w for d, w in zip(first17, _WEIGHTS, strict=True))
    return _CHECK_CHARS[total % 11]


def normalize_id_number(raw: str) -> str:
    """Upper-case, strip spaces; a lower-case x is a common keypad/OCR artefact."""
    return re.sub(r"\s+", "", raw).upper()


def validate_id_number(raw: str) -> str:
    """Return the normalised 18-character ID number or raise InvalidIdNumber."""
    number = normalize_id_number(raw)
    if len(number) != 18:
        raise InvalidIdNumber(f"ID number must have 18 characters, got {len(number)}")
    if not _ID_RE.match(number):
        raise InvalidIdNumber("ID number must be 17 digits followed by a digit or X")
    if id_check_char(number[:17]) != number[17]:
        raise InvalidIdNumber("ID number check digit is wrong (GB 11643)")
    try:
        birth_date_of(number)
    except ValueError as err:
        raise InvalidIdNumber("ID number holds an impossible birth date") from err
    return number


def birth_date_of(number: str) -> dt.date:
    """Birth date encoded in digits 7–14 of an 18-character ID number."""
    return dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))


def sex_of(number: str) -> str:
    """'male' for an odd sequence digit (17th character), 'female' for even."""
    return "male" if int(number[16]) % 2 else "female"


def age_on(number: str, day: dt.date) -> int:
    """Age in whole years on ``day`` of the holder of an ID number."""
    born = birth_date_of(number)
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


def mask_id_number(number: str) -> str:
    """Keep the first 3 and last 4 characters: 110***********123X."""
    number = normalize_id_number(number)
    if len(number) <= 7:
        return "*" * len(number)
    return number[:3] + "*" * (len(number) - 7) + number[-4:]


def mask_name(name: str) -> str:
    """张三 → 张*, 张小三 → 张*三, 欧阳小明 → 欧**明; Latin names keep initials only."""
    name = name.strip()
    if not name:
        return ""
    if name.isascii():
        return " ".join(part[0] + "*" * (len(part) - 1) for part in name.split())
    if len(name) == 1:
        return "*"
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]


def keyed_hash(secret: bytes, number: str) -> str:
    """HMAC-SHA256 of a normalised ID number: lets the hall match a person (daily limit,
    appointment check-in) without storing the number."""
    return hmac.new(secret, normalize_id_number(number).encode(), hashlib.sha256).hexdigest()

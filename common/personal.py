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
import unicodedata

from common.errors import CodedError

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK_CHARS = "10X98765432"
# ASCII digits only: ``\d`` would take any script's digits (``٢``), and int() reads them.
_ID_RE = re.compile(r"^[0-9]{17}[0-9X]$")


class InvalidIdNumber(CodedError, ValueError):
    """An ID number that fails GB 11643. The message never contains the number."""

    code = "invalid_id_number"


def id_check_char(first17: str) -> str:
    """The GB 11643 check character for the first 17 digits."""
    total = sum(int(d) * w for d, w in zip(first17, _WEIGHTS, strict=True))
    return _CHECK_CHARS[total % 11]


def normalize_id_number(raw: str) -> str:
    """NFKC (full-width １２３ and Ｘ become ASCII), spaces removed, upper-case (a lower-case
    x is a common keypad/OCR artefact). Digits of other scripts stay as they are, and
    :func:`validate_id_number` refuses them: one person, one number."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", raw)).upper()


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


# The 2017 外国人永久居留身份证: nationality (3 letters), region (2 digits), birth YYMMDD,
# sequence and check (4 digits); the standard gives no check-digit rule for it.
_FOREIGN_2017_RE = re.compile(r"^[A-Z]{3}[0-9]{12}$")


def validate_person_number(raw: str) -> str:
    """The number of any card the kiosk's reader accepts, normalised: a GB 11643 number
    (居民身份证, 港澳台居民居住证, the 2023 外国人永久居留身份证) or a 2017 foreign
    permanent-residence number (15 characters). Raises InvalidIdNumber otherwise."""
    number = normalize_id_number(raw)
    if len(number) == 15 and _FOREIGN_2017_RE.match(number):
        try:
            birth_date_of(number)
        except ValueError as err:
            raise InvalidIdNumber("card number holds an impossible birth date") from err
        return number
    return validate_id_number(number)


def birth_date_of(number: str, on: dt.date | None = None) -> dt.date:
    """Birth date in a card number: digits 7–14 of an 18-character number, YYMMDD at 6–11
    of a 2017 foreign permanent-residence number (a year after ``on``'s is 19YY)."""
    if len(number) == 15:
        yy, month, day = int(number[5:7]), int(number[7:9]), int(number[9:11])
        century = 2000 if 2000 + yy <= (on or dt.date.today()).year else 1900
        return dt.date(century + yy, month, day)
    return dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))


def sex_of(number: str) -> str:
    """'male' for an odd sequence digit (17th character), 'female' for even."""
    return "male" if int(number[16]) % 2 else "female"


def age_on(number: str, day: dt.date) -> int:
    """Age in whole years on ``day`` of the holder of an ID number."""
    born = birth_date_of(number, day)
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


def mask_id_number(number: str) -> str:
    """Keep the first 3 and last 4 characters: 110***********123X."""
    number = normalize_id_number(number)
    if len(number) <= 7:
        return "*" * len(number)
    return number[:3] + "*" * (len(number) - 7) + number[-4:]


def mask_name(name: str) -> str:
    """Every name shown keeps at most its first character: 张三 → 张*, 张小三 → 张**,
    Li A → L**, a one-character name (X) → *."""
    letters = "".join(clean_text(name).split())
    if len(letters) <= 1:
        return "*" if letters else ""
    return letters[0] + "*" * (len(letters) - 1)


# Format characters (Unicode category Cf: bidi overrides such as U+202E, zero-width
# joiners, BOMs) and controls reorder or hide what staff read: 05:37 shown as 73:50.
_INVISIBLE = {"Cf", "Cc", "Co", "Cs"}
# An ID number or a mobile number typed into free text (ASCII digits after NFKC).
_ID_IN_TEXT = re.compile(r"(?<![0-9])[0-9]{17}[0-9Xx](?![0-9A-Za-z])")
_PHONE_IN_TEXT = re.compile(r"(?<![0-9])(?:\+?86[- ]?)?1[3-9][0-9](?:[- ]?[0-9]{4}){2}(?![0-9])")


# Full-width digits and Latin letters as ASCII (１３８ → 138), so a number typed on a
# Chinese keyboard is found and masked; Chinese punctuation (，。) is left as it is.
_FULL_WIDTH = {
    cp: cp - 0xFEE0
    for r in ((0xFF10, 0xFF19), (0xFF21, 0xFF3A), (0xFF41, 0xFF5A))
    for cp in range(r[0], r[1] + 1)
}


def clean_text(text: str) -> str:
    """Free text as it is stored and shown: invisible and control characters removed (a
    newline or tab becomes a space), full-width digits and letters as ASCII, runs of
    spaces collapsed, trimmed."""
    kept = "".join(
        " " if ch in "\t\n\r" else ch
        for ch in text.translate(_FULL_WIDTH)
        if ch in "\t\n\r" or unicodedata.category(ch) not in _INVISIBLE
    )
    return re.sub(r" {2,}", " ", kept).strip()


def scrub_free_text(text: str) -> str:
    """:func:`clean_text`, then ID numbers and mobile numbers masked: a help reason or a
    comment may hold what a citizen typed (``110***********123X``, ``138****5678``)."""
    cleaned = clean_text(text)
    cleaned = _ID_IN_TEXT.sub(lambda m: mask_id_number(m.group()), cleaned)
    return _PHONE_IN_TEXT.sub(lambda m: mask_phone(m.group()), cleaned)


def mask_phone(contact: str) -> str:
    """A phone number (or any contact) as staff see it: 138****5678 (a +86 in front is
    dropped: the last 11 digits are the number); anything shorter than 7 digits shows only
    its last two characters."""
    digits = re.sub(r"[^0-9]", "", contact)[-11:]
    if len(digits) >= 7:
        return digits[:3] + "****" + digits[-4:]
    return "*" * max(0, len(contact) - 2) + contact[-2:]


def keyed_hash(secret: bytes, number: str) -> str:
    """HMAC-SHA256 of a normalised ID number: lets the hall match a person (daily limit,
    appointment check-in) without storing the number."""
    return hmac.new(secret, normalize_id_number(number).encode(), hashlib.sha256).hexdigest()

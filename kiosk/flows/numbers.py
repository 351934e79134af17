"""Ticket and ID numbers as a citizen types, sees and hears them (pure functions)."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

from devices.voice.errors import VoiceInputError
from devices.voice.normalize import speak_ticket_number

# The hall's numbers (hall/domain/tickets.py): a service prefix of 1–6 letters and digits
# (A, J, A2B), then the day's sequence of at least three digits (A012, A2B001, A1000);
# offline ones behind the kiosk's prefix and a dash (K1-A003).
_OFFLINE_RE = re.compile(r"^[A-Z0-9]{1,6}$")
# Without the hall's list of prefixes: the prefix ends at its last letter (A2B001).
_NUMBER_RE = re.compile(r"^([A-Z](?:[A-Z0-9]{0,4}[A-Z])?)([0-9]{1,8})$")


def normalize_ticket_number(typed: str, prefixes: Iterable[str] = ()) -> str | None:
    """What the citizen typed → the hall's spelling: ``a12`` → ``A012`` (numbers have at
    least three digits), ``a2b1`` → ``A2B001``, ``K1-A3`` → ``K1-A003``; None when it
    cannot be a number. ``prefixes`` (the hall's service prefixes) settle a prefix that
    ends in a digit: with ``A2`` known, ``A21`` is ``A2`` + 1."""
    text = unicodedata.normalize("NFKC", typed).strip().upper()  # full-width Ａ１２ too
    offline = ""
    if "-" in text:
        offline, _, text = text.partition("-")
        if not _OFFLINE_RE.match(offline):
            return None
    for prefix in sorted({p.upper() for p in prefixes if p}, key=len, reverse=True):
        rest = text[len(prefix) :]
        if text.startswith(prefix) and rest.isascii() and rest.isdigit() and len(rest) <= 8:
            return _spelt(offline, prefix, rest)
    m = _NUMBER_RE.match(text)
    if m is None:
        return None
    return _spelt(offline, m.group(1), m.group(2))


def _spelt(offline: str, prefix: str, digits: str) -> str:
    number = f"{prefix}{int(digits):03d}"
    return f"{offline}-{number}" if offline else number


def mask_typed_id(keys: str) -> str:
    """What the keypad shows of a typed ID number: the birth date (digits 7–14) as *, like
    the hall's mask, so a passer-by cannot read it; grouped 6-8-4 for checking."""
    shown = "".join("*" if 6 <= i < 14 else ch for i, ch in enumerate(keys))
    groups = [shown[:6], shown[6:14], shown[14:]]
    return " ".join(g for g in groups if g)


def spoken_number(number: str, lang: str) -> str:
    """A019 → "A 零 一 九" through the voice module's rules (espeak reads 019 as 十九); an
    offline K1-A001 is spoken part by part."""
    try:
        return " ".join(speak_ticket_number(part, lang) for part in number.split("-"))
    except VoiceInputError:
        return " ".join(number)


MONTHS_EN = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def opening_values(opens_at: str | None) -> dict[str, object] | None:
    """The catalogue's values for "11月23日 08:30" / "23 Nov 08:30" from the hall's local ISO
    time of opening (``2026-11-23T08:30:00+08:00``); None when it is missing or short."""
    if not opens_at or len(opens_at) < 16:
        return None
    month, day = int(opens_at[5:7]), int(opens_at[8:10])
    return {"month": month, "day": day, "month_en": MONTHS_EN[month - 1], "time": opens_at[11:16]}

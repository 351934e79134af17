"""Ticket and ID numbers as a citizen types, sees and hears them (pure functions)."""

from __future__ import annotations

import re

from devices.voice.errors import VoiceInputError
from devices.voice.normalize import speak_ticket_number

# A number as printed on the ticket: service prefix letters then digits (A012), optionally
# behind a kiosk's offline prefix and a dash (K1-A003).
_TICKET_NUMBER_RE = re.compile(r"^(?:([A-Z][A-Z0-9]{0,5})-)?([A-Z]{1,3})(\d{1,4})$")


def normalize_ticket_number(typed: str) -> str | None:
    """What the citizen typed → the hall's spelling: ``a12`` → ``A012`` (numbers have at
    least three digits), ``K1-A3`` → ``K1-A003``; None when it cannot be a number."""
    m = _TICKET_NUMBER_RE.match(typed.strip().upper())
    if m is None:
        return None
    offline, letters, digits = m.groups()
    number = f"{letters}{int(digits):03d}"
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

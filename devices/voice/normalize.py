"""Pure text normalisation: values → the exact words the synthesiser must speak.

espeak-ng reads "012" as 零十二 and a lone English "A" as "uh", so ticket numbers are spelled
token by token; counts and durations become natural Chinese (十二人, 约二十五分钟). All words
and sentence templates come from ``common/assets/locales/voice.toml``; this module only decides
which template and how numbers are spelled.

Ticket numbers (``TICKET_NUMBER_RE``): the hall's ``<prefix><sequence>`` — a service prefix of
up to four of A–Z, 0–9 then at least one digit (A001, A1000, B12001) — optionally behind an
offline kiosk's prefix (1–6 of A–Z, 0–9) and a dash (K1-J001). signage/board_state.py keeps
the same grammar for the board; tests/signage/test_numbers.py checks both accept every number
the hall and the kiosk can format.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from common.i18n import LANGUAGES, t
from devices.voice.errors import VoiceInputError

_DIGITS_ZH = "零一二三四五六七八九"
_SECTION_UNITS = ("", "十", "百", "千")
TICKET_NUMBER_RE = re.compile(r"^(?:([A-Z0-9]{1,6})-)?([A-Z0-9]{0,4}?)([0-9]{1,8})$")
_MAX_CHINESE_NUMBER = 99_999_999


def chinese_number(n: int, *, counting: bool = False) -> str:
    """Natural Chinese for 0 ≤ n ≤ 99,999,999: 12 → 十二, 105 → 一百零五, 10010 → 一万零一十.

    ``counting`` is for a count before a measure word: 2 → 两 (两人, 两小时, 两百人)."""
    if isinstance(n, bool) or not isinstance(n, int):
        raise VoiceInputError(f"not an integer: {n!r}")
    if not 0 <= n <= _MAX_CHINESE_NUMBER:
        raise VoiceInputError(f"number out of range 0..{_MAX_CHINESE_NUMBER}: {n}")
    if n == 0:
        return "零"
    high, low = divmod(n, 10_000)
    if high:
        text = _section(high) + "万"
        if low:
            # 一万零五百: a gap below the 千 place of the low section is read as 零.
            text += ("零" if low < 1000 else "") + _section(low)
    else:
        text = _section(low)
    if text.startswith("一十"):
        text = text[1:]  # 十二, 十二万, not 一十二 (but 一百一十 keeps its 一)
    if counting and text[0] == "二" and (n == 2 or text[1:2] in ("百", "千", "万")):
        text = "两" + text[1:]
    return text


def _section(n: int) -> str:
    """1 ≤ n ≤ 9999 with internal zeros collapsed to one 零 (1005 → 一千零五)."""
    out: list[str] = []
    pending_zero = False
    for place in range(3, -1, -1):
        digit = (n // 10**place) % 10
        if digit == 0:
            pending_zero = bool(out)
            continue
        if pending_zero:
            out.append("零")
            pending_zero = False
        out.append(_DIGITS_ZH[digit] + _SECTION_UNITS[place])
    return "".join(out)


def _check_lang(lang: str) -> str:
    # The catalogue would quietly fall back to Chinese templates while numbers were spelled
    # for another language: a mixed sentence. Refuse instead.
    if lang not in LANGUAGES:
        raise VoiceInputError(
            f"no spoken language {lang!r}; known: {LANGUAGES}", code="voice.bad_lang"
        )
    return lang


def _digit_names(lang: str) -> list[str]:
    names = t("voice", "digit_names", lang).split()
    if len(names) != 10:
        raise ValueError(f"voice.toml [digit_names] {lang!r} needs 10 words, has {len(names)}")
    return names


def _letter_names(lang: str) -> dict[str, str]:
    pairs = t("voice", "letter_names", lang).split()
    return dict(p.split("=", 1) for p in pairs)


def spell(chars: str, lang: str = "zh", letters: Mapping[str, str] | None = None) -> str:
    """Letters and digits one by one, as a listener says them: "K1" → "K 一" (zh), "K one"
    (en); "J" → "杰" in Chinese (voice.toml [letter_names]: espeak-ng reads a bare J as
    zhèi). ``letters``: the hall's own names, over the catalogue's."""
    _check_lang(lang)
    names = _letter_names(lang) | {k.upper(): v for k, v in (letters or {}).items()}
    digit_names = _digit_names(lang)
    out: list[str] = []
    for ch in chars.upper():
        if ch.isascii() and ch.isdigit():
            out.append(digit_names[int(ch)])
        elif ch.isascii() and ch.isalpha():
            out.append(names.get(ch, ch))
        else:
            raise VoiceInputError(f"cannot spell {ch!r} in {chars!r}")
    return " ".join(out)


def speak_ticket_number(
    number: str, lang: str = "zh", letters: Mapping[str, str] | None = None
) -> str:
    """ "A012" → "A 零 一 二" (zh) / "eh, zero one two" (en); an offline "K1-J001" →
    "K 一 号机，杰 零 零 一" / "K one dash J, zero zero one" (voice.toml [offline_number]).

    ``letters`` are the hall's own letter names (e.g. {"A": "诶"}); they override the
    catalogue's, and a letter named nowhere is spoken as itself."""
    _check_lang(lang)
    match = TICKET_NUMBER_RE.match(number.strip().upper()) if isinstance(number, str) else None
    if match is None:
        raise VoiceInputError(f"not a ticket number (A012, B12001, or offline K1-A001): {number!r}")
    kiosk, prefix, digits = match.groups()
    spoken = _hall_number(prefix, digits, lang, letters)
    if kiosk is None:
        return spoken
    return t("voice", "offline_number", lang, kiosk=spell(kiosk, lang, letters), number=spoken)


def _hall_number(prefix: str, digits: str, lang: str, letters: Mapping[str, str] | None) -> str:
    spoken_digits = spell(digits, lang)
    if not prefix:
        return spoken_digits
    return t(
        "voice",
        "ticket_number",
        lang,
        letters=spell(prefix, lang, letters),
        digits=spoken_digits,
    )


def speak_counter(name_or_number: str | int, lang: str = "zh") -> str:
    """3 or "3" → "三号窗口" / "counter 3"; a named counter ("综合窗口", "12号窗口") is kept,
    with digit runs read as natural Chinese numbers (十二号窗口, not 一二号窗口)."""
    if isinstance(name_or_number, bool) or not isinstance(name_or_number, int | str):
        raise VoiceInputError(f"not a counter name or number: {name_or_number!r}")
    _check_lang(lang)
    text = str(name_or_number).strip()
    if not text:
        raise VoiceInputError("empty counter name")
    if text.isascii() and text.isdigit():
        number = int(text)
        spoken = chinese_number(number) if lang == "zh" else str(number)
        return t("voice", "counter_numbered", lang, number=spoken)
    if lang == "zh":
        return re.sub(r"[0-9]+", lambda m: chinese_number(int(m.group())), text)
    if not text.isascii():
        # A Chinese name would be read out letter-less or as pinyin by the English voice:
        # "13号窗口" is "counter 13" in English (the board builds the same, "Counter 13").
        digits = re.search(r"[0-9]+", text)
        if digits is None:
            return t("voice", "counter_unnamed", lang)
        return t("voice", "counter_numbered", lang, number=str(int(digits.group())))
    return text


def call_sentence(
    number: str,
    counter: str | int,
    lang: str = "zh",
    letters: Mapping[str, str] | None = None,
    *,
    recall: bool = False,
) -> str:
    """ "请 A 零 一 二 号，到 三号窗口 办理" — the lobby call for one ticket."""
    return t(
        "voice",
        "recall" if recall else "call",
        lang,
        number=speak_ticket_number(number, lang, letters),
        counter=speak_counter(counter, lang),
    )


def brief_call_sentence(
    number: str, counter: str | int, lang: str = "zh", letters: Mapping[str, str] | None = None
) -> str:
    """ "A 零 一 二，三号窗口" — the call as the announcer says it when calls have queued up
    (signage/announcer.py): the number and the counter only, about 1 s shorter than
    :func:`call_sentence`, so a backlog drains before anyone waits 30 s."""
    return t(
        "voice",
        "call_brief",
        lang,
        number=speak_ticket_number(number, lang, letters),
        counter=speak_counter(counter, lang),
    )


def speak_duration(seconds: float, lang: str = "zh") -> str:
    """Waiting time as people say it: 1500 s → 约二十五分钟; 4800 s → 约一小时二十分钟."""
    if isinstance(seconds, bool) or not isinstance(seconds, int | float) or seconds != seconds:
        raise VoiceInputError(f"not a duration in seconds: {seconds!r}")
    if seconds < 0:
        raise VoiceInputError(f"negative duration: {seconds}")
    _check_lang(lang)
    if seconds < 60:
        return t("voice", "wait_short", lang)
    minutes_total = round(seconds / 60)
    if minutes_total >= 60:
        # An estimate beyond an hour is only good to about five minutes; saying "约一小时
        # 二十三分钟" would promise a precision the queue does not have.
        minutes_total = 5 * round(minutes_total / 5)
    hours, minutes = divmod(minutes_total, 60)

    def num(n: int) -> str:
        return chinese_number(n, counting=True) if lang == "zh" else str(n)

    if not hours:
        key = "wait_minute_one" if minutes == 1 else "wait_minutes"
        return t("voice", key, lang, minutes=num(minutes))
    one = "_one" if hours == 1 else ""  # English "1 hour" vs "2 hours"
    if not minutes:
        return t("voice", f"wait_hours{one}", lang, hours=num(hours))
    return t("voice", f"wait_hours{one}_minutes", lang, hours=num(hours), minutes=num(minutes))


def waiting_sentence(ahead: int, wait_s: float, lang: str = "zh") -> str:
    """ "前面还有十二人，预计等待约二十五分钟"; with nobody ahead, "您是下一位…"."""
    if isinstance(ahead, bool) or not isinstance(ahead, int) or ahead < 0:
        raise VoiceInputError(f"people ahead must be a non-negative integer: {ahead!r}")
    if _check_lang(lang) and ahead == 0:
        return t("voice", "waiting_next", lang)
    wait = speak_duration(wait_s, lang)
    count = chinese_number(ahead, counting=True) if lang == "zh" else str(ahead)
    return t("voice", "waiting_one" if ahead == 1 else "waiting", lang, ahead=count, wait=wait)

"""Every number the hall and its kiosks can print is shown on the board and spoken whole.

The numbers come from the real formatters: ``hall.domain.tickets.format_number`` (A001 … A999,
A1000, B12001) and the kiosk's offline journal (K1-J001). The board must take the call, the
voice must say every character in order: the spoken words are read back into the number.
"""

from __future__ import annotations

import datetime as dt
import json
import string
import tempfile
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from common.i18n import t
from devices.voice.normalize import call_sentence, speak_ticket_number
from hall.domain.tickets import format_number
from kiosk.journal import OfflineJournal
from signage.board_state import BoardState, apply, board_view, from_snapshot

NOW = 1_780_000_000.0
# Service prefixes and kiosk prefixes as the issue of the hall defines them (the config is
# stricter: a service prefix starts with a letter).
SERVICE_PREFIX = st.from_regex(r"[A-Z0-9]{1,4}", fullmatch=True)
KIOSK_PREFIX = st.from_regex(r"[A-Z0-9]{1,6}", fullmatch=True)
SEQUENCE = st.integers(min_value=1, max_value=99_999_999)  # a day never numbers more


def offline_number(kiosk: str, prefix: str, seq: int) -> str:
    """The kiosk's own next offline number after ``seq - 1`` (kiosk/journal.py)."""
    tz = ZoneInfo("Asia/Shanghai")
    now = dt.datetime(2026, 5, 29, 9, 0, tzinfo=tz)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "journal.jsonl"
        if seq > 1:  # the journal numbers on from the highest it has issued today
            earlier = {
                "kind": "issued",
                "day": now.date().isoformat(),
                "offline_number": f"{kiosk}-{prefix}{seq - 1}",
                "service": "X",
            }
            path.write_text(json.dumps(earlier) + "\n", encoding="utf-8")
        return OfflineJournal(path, kiosk).issue("X", prefix, now).offline_number


def board() -> BoardState:
    snapshot: dict[str, Any] = {
        "hall": {"name": "西城区政务服务中心", "timezone": "Asia/Shanghai"},
        "services": [{"code": "A", "name": "社保业务"}],
        "counters": [{"id": "13", "name": "13号窗口", "state": "open", "services": ["A"]}],
        "last_event_id": 1,
    }
    return from_snapshot(snapshot, now=NOW)


def shown(number: str) -> BoardState:
    ticket = {"id": 5, "number": number, "counter": "13", "counter_name": "13号窗口"}
    return apply(board(), 2, "ticket.called", {"ticket": ticket}, now=NOW)


def heard(number: str, lang: str) -> str:
    """The spoken words of ``number`` read back into characters, as a listener would."""
    digits = t("voice", "digit_names", lang).split()
    words = {w: str(i) for i, w in enumerate(digits)}
    for pair in t("voice", "letter_names", lang).split():
        letter, word = pair.split("=", 1)
        words[word] = letter
    words |= {ch: ch for ch in string.ascii_uppercase}
    words |= {"号机": "-", "dash": "-"}  # voice.toml [offline_number]
    spoken = speak_ticket_number(number, lang)
    return "".join(words[w] for w in spoken.replace(",", " ").replace("，", " ").split())


def check(number: str) -> None:
    state = shown(number)
    assert state.rejected == 0 and state.calls[0].number == number
    view = board_view(state, NOW)
    assert number in view.headline and number in view.headline_en
    assert state.counter("13") is not None and state.counter("13").current == number  # type: ignore[union-attr]
    for lang in ("zh", "en"):
        assert heard(number, lang) == number
        assert call_sentence(number, "13号窗口" if lang == "zh" else "Counter 13", lang)


@pytest.mark.parametrize(
    "number", ["A001", "A999", "A1000", "B12001", "AB01001", "A2B001", "K1-J001", "KIOSK2-A1000"]
)
def test_examples_are_shown_and_spoken(number: str) -> None:
    check(number)


def test_formatters_give_these_examples() -> None:
    assert format_number("A", 1) == "A001" and format_number("A", 1000) == "A1000"
    assert offline_number("K1", "J", 1) == "K1-J001"
    assert offline_number("K1", "J", 1000) == "K1-J1000"


@given(prefix=SERVICE_PREFIX, seq=SEQUENCE)
@settings(max_examples=300, deadline=None)
def test_every_hall_number_is_shown_and_spoken(prefix: str, seq: int) -> None:
    check(format_number(prefix, seq))


@given(kiosk=KIOSK_PREFIX, prefix=SERVICE_PREFIX, seq=SEQUENCE)
@settings(max_examples=150, deadline=None)
def test_every_offline_number_is_shown_and_spoken(kiosk: str, prefix: str, seq: int) -> None:
    check(offline_number(kiosk, prefix, seq))


@pytest.mark.parametrize(
    "junk", ["<script>", "A-", "-A001", "ABCDE001", "K1--A001", "KIOSK12-A001", "A 001", "Ａ001"]
)
def test_what_no_formatter_makes_is_still_refused(junk: str) -> None:
    state = shown(junk)
    assert state.rejected == 1 and state.calls == ()

"""The lobby board as plain data: a pure reducer of the hall's ``GET /board`` snapshot and
its events, and the texts a screen shows. No Kivy, no I/O, no clock of its own (``now`` is
passed in), so every rule is tested without a window.

Rules it keeps:
- an event at or below ``last_event_id`` is a replay (resume after a reconnect) and is
  ignored, so nothing is applied twice;
- a malformed event changes nothing but ``rejected`` (a counter the board can show to a
  technician); the state before it still holds;
- names are dropped at the door unless the hall turned on masked names, and even then only
  the masked form the hall sends is kept;
- ``connected`` False makes the board say so: a stale screen must not look live.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any
from zoneinfo import ZoneInfo

from common.errors import CodedError
from common.i18n import t

CALL_EVENTS = frozenset({"ticket.called", "ticket.recalled"})
# A ticket that leaves its counter in one of these stops being the counter's current one.
_LEAVES_COUNTER = frozenset(
    {"ticket.finished", "ticket.no_show", "ticket.parked", "ticket.transferred", "ticket.expired"}
)
_TICKET_EVENTS = (
    CALL_EVENTS
    | _LEAVES_COUNTER
    | frozenset({"ticket.issued", "ticket.started", "ticket.requeued", "ticket.evaluated"})
)
_COUNTER_STATE = {
    "counter.paused": "paused",
    "counter.resumed": "open",
    "counter.opened": "open",
    "counter.closed": "closed",
}
COUNTER_STATES = frozenset({"open", "paused", "closed"})
# Every number the hall and its kiosks print: a service prefix (up to four of A–Z, 0–9) then
# the sequence (A001, A1000, B12001), optionally behind an offline kiosk's prefix and a dash
# (K1-J001). The same grammar as devices/voice/normalize.py TICKET_NUMBER_RE (the board does
# not depend on the voice); tests/signage/test_numbers.py checks both on every format.
_NUMBER_RE = re.compile(r"^(?:[A-Z0-9]{1,6}-)?[A-Z0-9]{0,4}?[0-9]{1,8}$")
# The hall masks names as 张*三 / 张*; anything with more than two visible characters is not
# a masked name, and the board refuses to show it.
_MASKED_RE = re.compile(r"^\S\*+\S?$")


class BadEvent(CodedError, ValueError):
    """An event the board cannot use; the state is left as it was."""

    code = "signage.bad_event"


@dataclass(frozen=True)
class Call:
    ticket_id: int
    number: str
    service: str
    counter: str
    counter_name: str
    counter_name_en: str
    status: str
    recall_count: int
    name_masked: str | None
    event_id: int  # 0 for calls from the snapshot
    at: float  # epoch seconds when the board learnt of it (for the flash)


@dataclass(frozen=True)
class CounterState:
    id: str
    name: str
    name_en: str
    state: str  # open, paused, closed
    reason: str | None
    services: tuple[str, ...]
    current: str | None = None  # ticket number at the counter now
    current_id: int | None = None


@dataclass(frozen=True)
class ServiceState:
    code: str
    name: str
    name_en: str
    waiting: int


@dataclass(frozen=True)
class BoardState:
    hall_name: str
    hall_name_en: str
    notice: str
    timezone: str
    services: tuple[ServiceState, ...]
    counters: tuple[CounterState, ...]
    calls: tuple[Call, ...]  # newest first, at most ``recent + 1``
    last_event_id: int
    recent: int = 6
    show_names: bool = False
    flash_s: float = 8.0
    connected: bool = True
    rejected: int = 0
    version: int = 0  # bumps on every change, so a screen redraws only when needed
    extra_notice: str = field(default="")

    def counter(self, counter_id: str) -> CounterState | None:
        return next((c for c in self.counters if c.id == counter_id), None)


# --- reducer ------------------------------------------------------------------------------


def from_snapshot(
    board: Mapping[str, Any],
    *,
    now: float,
    recent: int = 6,
    show_names: bool = False,
    flash_s: float = 8.0,
) -> BoardState:
    """The state from ``GET /board``. Raises ``BadEvent`` if the snapshot is unusable."""
    try:
        hall = board["hall"]
        services = tuple(
            ServiceState(
                str(s["code"]),
                str(s["name"]),
                str(s.get("name_en") or ""),
                _count(board.get("waiting", {}).get(s["code"], 0)),
            )
            for s in board["services"]
        )
        counters = [
            CounterState(
                str(c["id"]),
                str(c["name"]),
                english_counter_name(str(c["name"]), c.get("name_en"), str(c["id"])),
                _counter_state(c.get("state")),
                _reason(c.get("reason")),
                tuple(str(x) for x in c.get("services", ())),
            )
            for c in board["counters"]
        ]
        calls = tuple(_call(tk, 0, now, show_names) for tk in board.get("recent_calls", ()))
        last = int(board.get("last_event_id") or 0)
    except (KeyError, TypeError, ValueError, AttributeError) as err:
        raise BadEvent(f"unusable board snapshot: {err!r}") from err
    # Snapshot calls are old news: never flash them.
    calls = tuple(replace(c, at=now - flash_s - 1) for c in calls)
    by_id = {c.id: c for c in counters}
    for call in reversed(calls):  # oldest first, so the newest call at a counter wins
        c = by_id.get(call.counter)
        if c is not None and call.status in ("called", "serving"):
            by_id[call.counter] = replace(c, current=call.number, current_id=call.ticket_id)
    return BoardState(
        hall_name=str(hall.get("name") or t("common", "hall_name_fallback", "zh")),
        hall_name_en=str(hall.get("name_en") or ""),
        notice=str(hall.get("notice") or ""),
        timezone=str(hall.get("timezone") or "Asia/Shanghai"),
        services=services,
        counters=tuple(by_id[c.id] for c in counters),
        calls=_trim(calls, recent),
        last_event_id=last,
        recent=recent,
        show_names=show_names,
        flash_s=flash_s,
    )


def apply(
    state: BoardState, event_id: int, event_type: str, data: Any, *, now: float
) -> BoardState:
    """The state after one event. Replays are ignored; a malformed event only counts."""
    if event_id <= state.last_event_id:
        return state
    try:
        new = _apply(state, event_type, data, event_id, now)
    except (BadEvent, KeyError, TypeError, ValueError, AttributeError):
        # The id is consumed all the same: resuming must not fetch the bad event again.
        return replace(
            state, rejected=state.rejected + 1, last_event_id=event_id, version=state.version + 1
        )
    return replace(new, last_event_id=event_id, version=state.version + 1)


def set_connected(state: BoardState, connected: bool) -> BoardState:
    if state.connected == connected:
        return state
    return replace(state, connected=connected, version=state.version + 1)


def _apply(state: BoardState, kind: str, data: Any, event_id: int, now: float) -> BoardState:
    if not isinstance(data, Mapping):
        raise BadEvent(f"{kind}: data is not an object")
    if kind in _COUNTER_STATE:
        cid = data["counter"]
        if not isinstance(cid, str):
            raise BadEvent("counter id is not a string")
        reason = _reason(data.get("reason")) if kind == "counter.paused" else None
        counters = tuple(
            replace(c, state=_COUNTER_STATE[kind], reason=reason) if c.id == cid else c
            for c in state.counters
        )
        return replace(state, counters=counters)
    if kind == "day.closed":  # a new day: yesterday's calls are not for today's citizens
        counters = tuple(replace(c, current=None, current_id=None) for c in state.counters)
        waiting = _waiting(state, data.get("waiting"))
        return replace(state, calls=(), counters=counters, services=waiting)
    if kind not in _TICKET_EVENTS:
        return state  # help.requested, device.health…: not for the lobby
    ticket = data["ticket"]
    if not isinstance(ticket, Mapping):
        raise BadEvent("ticket is not an object")
    waiting = _waiting(state, data.get("waiting"))
    if kind in CALL_EVENTS:
        call = _call(ticket, event_id, now, state.show_names)
        calls = (call, *(c for c in state.calls if c.ticket_id != call.ticket_id))
        # a counter that calls is open, whatever the board last heard of it
        counters = tuple(
            replace(c, current=call.number, current_id=call.ticket_id, state="open", reason=None)
            if c.id == call.counter
            else (
                replace(c, current=None, current_id=None) if c.current_id == call.ticket_id else c
            )
            for c in state.counters
        )
        return replace(state, calls=_trim(calls, state.recent), counters=counters, services=waiting)
    tid = _ticket_id(ticket)
    status = str(ticket.get("status") or "")
    calls = tuple(
        replace(c, status=status) if c.ticket_id == tid and status else c for c in state.calls
    )
    counters = state.counters
    if kind in _LEAVES_COUNTER:
        counters = tuple(
            replace(c, current=None, current_id=None) if c.current_id == tid else c
            for c in counters
        )
    return replace(state, calls=calls, counters=counters, services=waiting)


def _call(ticket: Mapping[str, Any], event_id: int, now: float, show_names: bool) -> Call:
    number = ticket["number"]
    if not isinstance(number, str) or not _NUMBER_RE.match(number):
        raise BadEvent(f"ticket number {number!r} is not like A012 or K1-A012")
    counter = ticket["counter"]
    if not isinstance(counter, str) or not counter:
        raise BadEvent("a call without a counter")
    name = ticket.get("name_masked")
    masked = name if (show_names and isinstance(name, str) and _MASKED_RE.match(name)) else None
    recalls = ticket.get("recall_count") or 0
    return Call(
        ticket_id=_ticket_id(ticket),
        number=number,
        service=str(ticket.get("service") or ""),
        counter=counter,
        counter_name=str(ticket.get("counter_name") or counter),
        counter_name_en=english_counter_name(
            str(ticket.get("counter_name") or ""), ticket.get("counter_name_en"), counter
        ),
        status=str(ticket.get("status") or "called"),
        recall_count=_count(recalls),
        name_masked=masked,
        event_id=event_id,
        at=now,
    )


def english_counter_name(name: str, name_en: Any, counter_id: str) -> str:
    """The counter's English name: the hall's ``name_en``, else "Counter 13" built from its
    number — the id when it is one, else the number in its Chinese name (13号窗口), else the
    id as it is. Shared by the board and the English announcement (signage/announcer.py)."""
    if isinstance(name_en, str) and name_en.strip():
        return name_en.strip()
    if counter_id.isascii() and counter_id.isdigit():
        number = str(int(counter_id))
    elif (digits := re.search(r"[0-9]+", name)) is not None:
        number = str(int(digits.group()))
    else:
        number = counter_id
    return t("signage", "counter_name_en", "en", number=number)


def _ticket_id(ticket: Mapping[str, Any]) -> int:
    tid = ticket["id"]
    if isinstance(tid, bool) or not isinstance(tid, int):
        raise BadEvent(f"ticket id {tid!r} is not an integer")
    return tid


def _count(n: Any) -> int:
    if isinstance(n, bool) or not isinstance(n, int) or n < 0:
        raise BadEvent(f"{n!r} is not a count")
    return n


def _waiting(state: BoardState, waiting: Any) -> tuple[ServiceState, ...]:
    """Events carry the counts of the services they touched only (the hall sends {"G": 0}
    for a call in G): merge them; every other service keeps its count."""
    if waiting is None:
        return state.services
    if not isinstance(waiting, Mapping):
        raise BadEvent("waiting is not an object")
    counts = {str(k): _count(v) for k, v in waiting.items()}
    return tuple(replace(s, waiting=counts.get(s.code, s.waiting)) for s in state.services)


def _counter_state(value: Any) -> str:
    return value if value in COUNTER_STATES else "closed"


REASON_MAX = 40  # characters of a pause reason the board keeps


def _reason(value: Any) -> str | None:
    return bounded_text(str(value), REASON_MAX) if value else None


def bounded_text(text: str, limit: int) -> str:
    """At most ``limit`` characters, never ending inside a word: a Latin word is dropped
    whole (CJK characters stand alone, so any of them may end it); "…" marks the cut."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    if text[limit - 1].isascii() and text[limit - 1].isalnum() and cut[-1:].isascii():
        # inside a Latin word: back to the last space or CJK character before it
        i = len(cut)
        while i > 0 and cut[i - 1].isascii() and cut[i - 1].isalnum():
            i -= 1
        cut = cut[:i] if i > 0 else cut
    return cut.rstrip(" ,.;:，。；：、") + "…"


def display_width(text: str) -> int:
    """Columns on the board: a CJK (wide) character counts two, anything else one."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _trim(calls: tuple[Call, ...], recent: int) -> tuple[Call, ...]:
    return calls[: recent + 1]  # the current call plus the last ``recent``


# --- view ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class CallRow:
    number: str
    counter: str
    counter_en: str
    name: str  # masked name or ""


@dataclass(frozen=True)
class ServiceRow:
    name: str
    name_en: str
    waiting: str


@dataclass(frozen=True)
class CounterTile:
    label: str
    label_en: str
    detail: str  # current number, 空闲, or the pause reason (when it fits)
    state: str  # open, paused, closed
    serving: bool = False  # open with a citizen called to it (the tile is lit)


@dataclass(frozen=True)
class BoardView:
    """Every text and flag the lobby screen shows; the screen only lays them out."""

    hall_name: str
    hall_name_en: str
    date: str
    clock: str
    headline: str  # 请 A012 号 到 3号窗口
    headline_en: str
    headline_name: str
    flashing: bool
    recent: tuple[CallRow, ...]
    services: tuple[ServiceRow, ...]
    counters: tuple[CounterTile, ...]
    notice: str
    status: str  # "" when live; the discreet reconnecting mark otherwise
    titles: dict[str, str]


_WEEKDAYS = "一二三四五六日"


TILE_COLUMNS = 6  # what one line of a counter tile holds at the grid's 40 px: 3 CJK, 6 Latin


def live_call(state: BoardState) -> Call | None:
    """The headline: the latest call its counter is still serving. Once that counter
    finished, paused or closed, the number leaves the headline (the recent list keeps it):
    a citizen must not walk to a window that is no longer waiting for them."""
    counters = {c.id: c for c in state.counters}
    for call in state.calls:
        c = counters.get(call.counter)
        if c is None:  # a counter the board's snapshot does not know: trust the ticket
            if call.status in ("called", "serving"):
                return call
        elif c.state == "open" and c.current_id == call.ticket_id:
            return call
    return None


def _tile_label(c: CounterState) -> str:
    """The grid's short label, 21号 for a numbered counter (the full name is in the
    headline and the recent calls): it must fit a tile at 40 px."""
    return f"{int(c.id)}号" if c.id.isascii() and c.id.isdigit() else c.name


def _tile_detail(c: CounterState) -> str:
    if c.state == "open":
        return c.current or t("signage", "counter_free", "zh")
    if c.reason and display_width(c.reason) <= TILE_COLUMNS:
        return c.reason
    return t("signage", f"tile_{c.state}", "zh")


def _long_reasons(state: BoardState) -> str:
    """Reasons too long for a tile go, whole, into the scrolling notice."""
    return " ".join(
        t("signage", "counter_reason_notice", "zh", counter=c.name, reason=c.reason)
        for c in state.counters
        if c.state != "open" and c.reason and display_width(c.reason) > TILE_COLUMNS
    )


def board_view(state: BoardState, now: float) -> BoardView:
    local = dt.datetime.fromtimestamp(now, ZoneInfo(state.timezone))
    current = live_call(state)
    if current is not None:
        headline = t(
            "signage", "call_headline", "zh", number=current.number, counter=current.counter_name
        )
        headline_en = t(
            "signage",
            "call_headline",
            "en",
            number=current.number,
            counter=current.counter_name_en,
        )
        flashing = now - current.at < state.flash_s
    else:
        headline, headline_en = t("signage", "no_call", "zh"), t("signage", "no_call", "en")
        flashing = False
    recent = tuple(
        CallRow(c.number, c.counter_name, c.counter_name_en, c.name_masked or "")
        for c in state.calls
        if c is not current
    )[: state.recent]
    services = tuple(ServiceRow(s.name, s.name_en, str(s.waiting)) for s in state.services)
    tiles = tuple(
        CounterTile(
            label=_tile_label(c),
            label_en=c.name_en,
            detail=_tile_detail(c),
            state=c.state,
            serving=c.state == "open" and c.current is not None,
        )
        for c in state.counters
    )
    notice = " ".join(x for x in (state.notice, state.extra_notice, _long_reasons(state)) if x)
    return BoardView(
        hall_name=state.hall_name,
        hall_name_en=state.hall_name_en,
        date=t(
            "signage",
            "date",
            "zh",
            year=local.year,
            month=local.month,
            day=local.day,
            weekday=_WEEKDAYS[local.weekday()],
        ),
        clock=local.strftime("%H:%M:%S"),
        headline=headline,
        headline_en=headline_en,
        headline_name=(current.name_masked or "") if current else "",
        flashing=flashing,
        recent=recent,
        services=services,
        counters=tiles,
        notice=notice,
        status="" if state.connected else t("signage", "reconnecting", "zh"),
        titles={
            key: t("signage", key, "zh") + " " + t("signage", key, "en")
            for key in ("title_recent", "title_waiting", "title_counters")
        },
    )


@dataclass(frozen=True)
class CounterView:
    """The small screen over one counter."""

    name: str
    name_en: str
    number: str
    line: str
    line_en: str
    state: str
    flashing: bool
    status: str


def counter_view(state: BoardState, counter_id: str, now: float) -> CounterView:
    c = state.counter(counter_id)
    status = "" if state.connected else t("signage", "reconnecting", "zh")
    if c is None:
        return CounterView(
            counter_id, "", "", t("signage", "counter_unknown", "zh"), "", "closed", False, status
        )
    if c.state != "open":
        key = f"counter_{c.state}"
        line = t("signage", key, "zh") + (f"：{c.reason}" if c.reason else "")
        return CounterView(
            c.name, c.name_en, "", line, t("signage", key, "en"), c.state, False, status
        )
    if c.current is None:
        return CounterView(
            c.name,
            c.name_en,
            "",
            t("signage", "counter_idle", "zh"),
            t("signage", "counter_idle", "en"),
            "open",
            False,
            status,
        )
    call = next((x for x in state.calls if x.ticket_id == c.current_id), None)
    flashing = call is not None and now - call.at < state.flash_s
    return CounterView(
        c.name,
        c.name_en,
        c.current,
        t("signage", "counter_serving", "zh"),
        t("signage", "counter_serving", "en"),
        "open",
        flashing,
        status,
    )

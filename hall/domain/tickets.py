"""Ticket states, priority classes and numbering: pure values, no I/O."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Literal
from zoneinfo import ZoneInfo

from common.tickets import Status as Status  # the hall's code names it from here

# A ticket a person still holds (counts against the daily limit).
OPEN_STATES = frozenset({Status.WAITING, Status.CALLED, Status.SERVING, Status.PARKED})
# A ticket at a counter right now.
AT_COUNTER_STATES = frozenset({Status.CALLED, Status.SERVING})
# States from which a counter may call a ticket out of order.
CALLABLE_STATES = frozenset({Status.WAITING, Status.PARKED, Status.NO_SHOW})
EVALUABLE_STATES = frozenset({Status.DONE, Status.TRANSFERRED})


CounterState = Literal["open", "paused", "closed"]
"""A counter (窗口) takes calls, has paused them, or is closed (nobody there)."""


class Klass(StrEnum):
    """Priority class; lower rank is called first."""

    APPOINTMENT = "appointment"
    PRIORITY = "priority"
    NORMAL = "normal"

    @property
    def rank(self) -> int:
        return _RANK[self]


_RANK = {Klass.APPOINTMENT: 0, Klass.PRIORITY: 1, Klass.NORMAL: 2}

# Reasons for the green channel (绿色通道) a kiosk or staff may give with a ticket.
PRIORITY_REASONS = ("elderly", "disabled", "military")


def format_number(prefix: str, seq: int) -> str:
    """A001 … A999, then A1000: past 999 the number grows rather than wrapping."""
    return f"{prefix}{seq:03d}"


def local_day(moment: dt.datetime, tz: ZoneInfo) -> dt.date:
    """The hall's business day of an aware instant: numbering restarts at local midnight."""
    return moment.astimezone(tz).date()


def offline_prefix_of(kiosk_id: str) -> str:
    """The start of a kiosk's offline numbers (K1-A001) from its id: its letters and digits,
    upper-cased, at most six. The kiosk numbers with it; the hall refuses other numbers."""
    return "".join(c for c in kiosk_id.upper() if c.isascii() and c.isalnum())[:6]


def is_offline_number(number: str, prefix: str) -> bool:
    """``K1-A001`` for prefix K1: never like the hall's own A001, never another kiosk's."""
    head, sep, rest = number.partition("-")
    return bool(sep) and head == prefix and bool(rest) and rest.isascii() and rest.isalnum()

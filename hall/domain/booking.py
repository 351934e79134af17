"""Online booking (预约) rules: which days and slots a service can be booked for, how many
places a slot offers, when a booking may still be cancelled, and the rules halls use against
hoarding (占号) and no-shows (爽约). Pure values and arithmetic, no I/O.

- Days: working days of the Chinese calendar (``hall.domain.workdays``: no bookings on
  法定节假日, bookings on 调休 working Saturdays/Sundays), Saturdays/Sundays the service is
  open only when the hall allows weekend booking, never a date the hall closes
  (``closed_dates`` or a closure an admin entered).
- Window: from ``first_day`` days after today up to the ``working_days_ahead``-th working
  day after today.
- Slots: the service's opening periods that day (or the weekday's own booking periods) cut
  into slots of ``slot_minutes``; each offers its capacity less the walk-in share.
- Person: at most ``per_service_per_day`` bookings per service and day, ``max_open`` open
  bookings in all; ``no_show_limit`` no-shows or ``cancel_limit`` cancellations in a calendar
  month block booking until the month's last day.
"""

from __future__ import annotations

import datetime as dt
import math
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from hall.domain.hours import WEEKDAYS, DayKind, Period, Week
from hall.domain.workdays import add_working_days, is_working_day

CODE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
"""Booking codes: no 0/O, 1/I to misread; 10 characters are 50 random bits."""
CODE_LENGTH = 10


class Status(StrEnum):
    BOOKED = "booked"
    CHECKED_IN = "checked_in"
    CANCELLED = "cancelled"
    NO_SHOW = "no_show"


class DayState(StrEnum):
    """Why a day can or cannot be booked (shown to the citizen in words)."""

    OPEN = "open"
    HOLIDAY = "holiday"  # 法定节假日
    WEEKEND = "weekend"
    CLOSED = "closed"  # the hall's closed_dates or an admin's closure
    NO_SLOTS = "no_slots"  # the service has no booking hours that day
    OUTSIDE_WINDOW = "outside_window"


class BlockReason(StrEnum):
    NO_SHOW = "no_show"
    CANCELLED = "cancelled"


@dataclass(frozen=True)
class ServiceRules:
    """How one service is booked."""

    slot_minutes: int = 30
    capacity: int = 4
    walk_in_share: float = 0.25
    weekdays: Mapping[str, tuple[Period, ...]] = field(default_factory=dict)
    """Booking periods per weekday (``mon`` … ``sun``) where they differ from opening hours."""

    @property
    def bookable(self) -> int:
        """Places per slot open to booking: the capacity less the walk-in share (rounded
        in favour of walk-ins)."""
        kept = math.ceil(round(self.capacity * self.walk_in_share, 6))
        return max(0, self.capacity - kept)


@dataclass(frozen=True)
class Window:
    first_day: int = 1
    """0: today's later slots too; 1: from tomorrow."""
    working_days_ahead: int = 5
    weekends: bool = False
    """Also Saturdays/Sundays the service is open (周末不打烊); never 法定节假日."""


@dataclass(frozen=True)
class Limits:
    per_service_per_day: int = 1
    max_open: int = 3
    no_show_limit: int = 2
    cancel_limit: int = 5


@dataclass(frozen=True)
class Slot:
    start: dt.datetime
    end: dt.datetime


@dataclass(frozen=True)
class History:
    """What the hall knows of one person (by the keyed hash of the ID number)."""

    same_service_day: int = 0
    """Open bookings for the service and day asked for."""
    open_bookings: int = 0
    no_shows_this_month: int = 0
    cancels_this_month: int = 0


@dataclass(frozen=True)
class Block:
    reason: BlockReason
    until: dt.date
    """The last day booking is blocked (the month's last day)."""


def last_day(today: dt.date, window: Window) -> dt.date:
    return add_working_days(today, window.working_days_ahead)


def first_day(today: dt.date, window: Window) -> dt.date:
    return today + dt.timedelta(days=window.first_day)


def day_state(
    day: dt.date,
    today: dt.date,
    week: Week,
    window: Window,
    closures: frozenset[dt.date] = frozenset(),
) -> DayState:
    """Whether ``day`` can be booked (before its slots are looked at)."""
    if not first_day(today, window) <= day <= last_day(today, window):
        return DayState.OUTSIDE_WINDOW
    kind = week.kind(day)
    if kind is DayKind.CLOSED or day in closures:
        return DayState.CLOSED
    if day in week.open_dates or is_working_day(day):
        return DayState.OPEN
    if kind is DayKind.HOLIDAY or (kind is DayKind.WORKDAY and day.weekday() < 5):
        return DayState.HOLIDAY  # a statutory holiday (or a weekday off, 调休)
    if window.weekends and kind in (DayKind.SATURDAY, DayKind.SUNDAY):
        return DayState.OPEN
    return DayState.WEEKEND


def periods(day: dt.date, week: Week, rules: ServiceRules) -> tuple[Period, ...]:
    """The day's booking periods: the weekday's own, else the service's opening periods.
    A 调休 working Saturday/Sunday has working-day hours (the weekend's do not apply)."""
    kind = week.kind(day)
    if kind is DayKind.WORKDAY and day.weekday() >= 5:
        return week.periods(day)
    own = rules.weekdays.get(WEEKDAYS[day.weekday()])
    return own if own is not None else week.periods(day)


def slots(day: dt.date, week: Week, rules: ServiceRules, tz: dt.tzinfo) -> list[Slot]:
    """The day's slots in order; a slot never runs past the end of its period."""
    out: list[Slot] = []
    step = dt.timedelta(minutes=rules.slot_minutes)
    for period in sorted(periods(day, week, rules)):
        start, end = period.bounds(day, tz)
        at = start
        while at + step <= end:
            if not out or at >= out[-1].end:  # overlapping periods never double a slot
                out.append(Slot(at, at + step))
            at += step
    return out


def slot_at(start: dt.datetime, week: Week, rules: ServiceRules, tz: dt.tzinfo) -> Slot | None:
    """The slot that starts at ``start`` (None: no slot starts then)."""
    day = start.astimezone(tz).date()
    return next((s for s in slots(day, week, rules, tz) if s.start == start), None)


def day_plan(
    day: dt.date,
    today: dt.date,
    week: Week,
    window: Window,
    rules: ServiceRules,
    tz: dt.tzinfo,
    closures: frozenset[dt.date] = frozenset(),
) -> tuple[DayState, list[Slot]]:
    """The day's state and, when it can be booked, its slots (none: ``NO_SLOTS``)."""
    state = day_state(day, today, week, window, closures)
    if state is not DayState.OPEN:
        return state, []
    found = slots(day, week, rules, tz) if rules.bookable else []
    return (DayState.OPEN, found) if found else (DayState.NO_SLOTS, [])


def cancel_until(slot_start: dt.datetime, cancel_before_min: int) -> dt.datetime:
    return slot_start - dt.timedelta(minutes=cancel_before_min)


def no_show_after(slot_end: dt.datetime, grace_min: int) -> dt.datetime:
    """A booking not checked in by then is a no-show (爽约)."""
    return slot_end + dt.timedelta(minutes=grace_min)


def month_end(day: dt.date) -> dt.date:
    first_next = (day.replace(day=1) + dt.timedelta(days=32)).replace(day=1)
    return first_next - dt.timedelta(days=1)


def month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


def block_of(history: History, limits: Limits, today: dt.date) -> Block | None:
    """The block on booking this month, if the person reached a limit."""
    if history.no_shows_this_month >= limits.no_show_limit:
        return Block(BlockReason.NO_SHOW, month_end(today))
    if history.cancels_this_month >= limits.cancel_limit:
        return Block(BlockReason.CANCELLED, month_end(today))
    return None


def over_limit(history: History, limits: Limits) -> str | None:
    """``"per_day"`` or ``"max_open"`` when one more booking would break a limit."""
    if history.same_service_day >= limits.per_service_per_day:
        return "per_day"
    if history.open_bookings >= limits.max_open:
        return "max_open"
    return None


def format_code(code: str) -> str:
    """``ABCDE23456`` → ``ABCDE-23456`` (as shown and read aloud)."""
    return f"{code[:5]}-{code[5:]}" if len(code) == CODE_LENGTH else code


def parse_code(text: str) -> str | None:
    """A code as typed or scanned (dashes, spaces, lower case, a URL ending in it), or
    None when it cannot be one."""
    tail = text.strip().rstrip("/").rsplit("/", 1)[-1]
    code = "".join(ch for ch in tail.upper() if ch not in "- ")
    if len(code) != CODE_LENGTH or any(ch not in CODE_ALPHABET for ch in code):
        return None
    return code


_MAKING = threading.Lock()


class PerAddress:
    """At most ``limit`` requests per address in any ``window_s`` (a sliding window), for
    the public booking routes; addresses not seen for a window are forgotten. ``now`` is a
    monotonic second count given by the caller (pure)."""

    def __init__(self, limit: int, window_s: float = 60.0, max_addresses: int = 100_000) -> None:
        self.limit, self.window_s, self.max_addresses = limit, window_s, max_addresses
        self._seen: dict[str, list[float]] = {}
        self._lock = threading.Lock()

    def allow(self, address: str, now: float) -> bool:
        with self._lock:
            return self._allow(address, now)

    @classmethod
    def of(cls, holder: object, limit: int) -> PerAddress:
        """The limiter kept on ``holder`` (the app's state), made on first use."""
        with _MAKING:
            found: PerAddress | None = getattr(holder, "booking_limiter", None)
            if found is None:
                found = cls(limit)
                setattr(holder, "booking_limiter", found)  # noqa: B010
            return found

    def _allow(self, address: str, now: float) -> bool:
        since = now - self.window_s
        if len(self._seen) >= self.max_addresses:  # a flood of addresses: drop the idle ones
            self._seen = {a: ts for a, ts in self._seen.items() if ts and ts[-1] > since}
        times = [x for x in self._seen.get(address, ()) if x > since]
        if len(times) >= self.limit:
            self._seen[address] = times
            return False
        times.append(now)
        self._seen[address] = times
        return True


def distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in metres between two WGS 84 points (haversine): the phone's
    reported position and the hall's, for 远程取号."""
    r = 6_371_008.8
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * r * math.asin(min(1.0, math.sqrt(a)))

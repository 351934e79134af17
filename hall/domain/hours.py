"""Opening hours (办理时间): when a service takes tickets, when the hall's day closes.

A week of periods for working days, Saturdays and Sundays; 延时服务 (extended hours) added
on named weekdays; the national calendar (法定节假日 closed, 调休 weekend working days open
with working-day hours) from the ``chinese-calendar`` package; extra closed or open dates.
Pure values and arithmetic on local times, no I/O.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from enum import StrEnum

import chinese_calendar

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_ALL_DAY = (dt.time(0, 0), None)  # None as an end: up to midnight


class DayKind(StrEnum):
    WORKDAY = "workday"  # Monday–Friday, and a 调休 Saturday or Sunday
    SATURDAY = "saturday"
    SUNDAY = "sunday"
    HOLIDAY = "holiday"  # 法定节假日
    CLOSED = "closed"  # a date the hall closes (closed_dates)


@dataclass(frozen=True, order=True)
class Period:
    """``start``–``end`` local time; ``end`` None means up to midnight."""

    start: dt.time
    end: dt.time | None
    extended: bool = False  # 延时服务: shown as such to citizens

    def bounds(self, day: dt.date, tz: dt.tzinfo) -> tuple[dt.datetime, dt.datetime]:
        start = dt.datetime.combine(day, self.start, tzinfo=tz)
        if self.end is None:
            end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), tzinfo=tz)
        else:
            end = dt.datetime.combine(day, self.end, tzinfo=tz)
        return start, end

    def label(self) -> str:
        end = "24:00" if self.end is None else self.end.strftime("%H:%M")
        return f"{self.start:%H:%M}-{end}"


def parse_period(text: str) -> Period:
    """``"08:30-12:00"`` (``24:00`` allowed as an end). Raises ValueError with the reason."""
    start_s, sep, end_s = text.strip().partition("-")
    if not sep:
        raise ValueError(f"{text!r} is not like 08:30-12:00")
    start = _time(start_s)
    end = None if end_s.strip() == "24:00" else _time(end_s)
    if end is not None and end <= start:
        raise ValueError(f"{text!r}: the end must be after the start")
    return Period(start, end)


def _time(text: str) -> dt.time:
    text = text.strip()
    if len(text) != 5 or text[2] != ":" or not (text[:2] + text[3:]).isascii():
        raise ValueError(f"{text!r} is not a time like 08:30")
    try:
        return dt.time(int(text[:2]), int(text[3:]))
    except ValueError as err:
        raise ValueError(f"{text!r} is not a time like 08:30") from err


@dataclass(frozen=True)
class Week:
    """A service's (or the hall's) opening hours."""

    workdays: tuple[Period, ...] = (Period(*_ALL_DAY),)
    saturday: tuple[Period, ...] = (Period(*_ALL_DAY),)
    sunday: tuple[Period, ...] = (Period(*_ALL_DAY),)
    holidays: tuple[Period, ...] = ()
    extended: Mapping[str, tuple[Period, ...]] = field(default_factory=dict)
    national_calendar: bool = True
    closed_dates: frozenset[dt.date] = frozenset()
    open_dates: frozenset[dt.date] = frozenset()  # open with working-day hours

    def kind(self, day: dt.date) -> DayKind:
        if day in self.closed_dates:
            return DayKind.CLOSED
        if day in self.open_dates:
            return DayKind.WORKDAY
        if self.national_calendar:
            known = _national(day)
            if known is not None:
                workday, statutory = known
                if workday:
                    return DayKind.WORKDAY
                if statutory:
                    return DayKind.HOLIDAY
        return (DayKind.WORKDAY, DayKind.SATURDAY, DayKind.SUNDAY)[max(0, day.weekday() - 4)]

    def periods(self, day: dt.date) -> tuple[Period, ...]:
        kind = self.kind(day)
        if kind is DayKind.CLOSED:
            return ()
        base = {
            DayKind.WORKDAY: self.workdays,
            DayKind.SATURDAY: self.saturday,
            DayKind.SUNDAY: self.sunday,
            DayKind.HOLIDAY: self.holidays,
        }[kind]
        extra: tuple[Period, ...] = ()
        if kind is DayKind.WORKDAY:
            extra = tuple(
                Period(p.start, p.end, extended=True)
                for p in self.extended.get(WEEKDAYS[day.weekday()], ())
            )
        return tuple(sorted(base + extra))

    def is_open(self, moment: dt.datetime, tz: dt.tzinfo) -> bool:
        local = moment.astimezone(tz)
        for day in (local.date() - dt.timedelta(days=1), local.date()):
            for p in self.periods(day):
                start, end = p.bounds(day, tz)
                if start <= local < end:
                    return True
        return False

    def next_opening(
        self, moment: dt.datetime, tz: dt.tzinfo, horizon_days: int = 31
    ) -> dt.datetime | None:
        """The first instant at or after ``moment`` the service takes tickets (``moment``
        itself when open now); None if closed for the whole horizon."""
        if self.is_open(moment, tz):
            return moment.astimezone(tz)
        local = moment.astimezone(tz)
        for start, _ in self._spans(local.date(), horizon_days, tz):
            if start >= local:
                return start
        return None

    def day_end(self, day: dt.date, tz: dt.tzinfo) -> dt.datetime | None:
        """When the day's last period ends (None: closed that day)."""
        spans = [p.bounds(day, tz) for p in self.periods(day)]
        return max((end for _, end in spans), default=None)

    def _spans(
        self, first: dt.date, days: int, tz: dt.tzinfo
    ) -> Iterator[tuple[dt.datetime, dt.datetime]]:
        for n in range(days + 1):
            day = first + dt.timedelta(days=n)
            for p in self.periods(day):
                yield p.bounds(day, tz)


@functools.lru_cache(maxsize=1024)
def _national(day: dt.date) -> tuple[bool, bool] | None:
    """(working day, 法定节假日) by the national calendar: a 调休 Saturday is a working day,
    National Day on a Saturday a holiday. None for a year the installed chinese-calendar has
    no data for (then the plain week applies and ``govhall doctor`` warns). Cached: every
    ticket asks whether its service is open, and the calendar's lookup was 5 % of an issue."""
    try:
        on_holiday, name = chinese_calendar.get_holiday_detail(day)
        return chinese_calendar.is_workday(day), bool(on_holiday and name)
    except NotImplementedError:
        return None


def calendar_covers(day: dt.date) -> bool:
    """Whether the installed chinese-calendar knows this day's year (doctor warns if not)."""
    return _national(day) is not None


def closing_instant(
    weeks: list[Week], day: dt.date, tz: dt.tzinfo, grace: dt.timedelta
) -> dt.datetime:
    """When the hall's day ``day`` closes and its open tickets expire: the last service
    period's end plus ``grace`` (staff finish those who waited), at the latest midnight."""
    midnight = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), tzinfo=tz)
    ends = [e for w in weeks if (e := w.day_end(day, tz)) is not None]
    if not ends:
        return midnight
    return min(max(ends) + grace, midnight)

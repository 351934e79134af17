"""Working days (工作日) for deadlines: 法定节假日 are not counted and 调休 Saturdays and
Sundays are, from the ``chinese-calendar`` package. A year the installed calendar has no data
for falls back to Monday–Friday (``govhall doctor`` warns: update chinese-calendar). Pure."""

from __future__ import annotations

import datetime as dt

import chinese_calendar


def is_working_day(day: dt.date) -> bool:
    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError:
        return day.weekday() < 5


def add_working_days(start: dt.date, n: int) -> dt.date:
    """The ``n``-th working day after ``start``, ``start`` itself not counted: a case opened
    on 2026-09-30 with 15 working days is due on 2026-10-27 (国庆 1–7 October not counted,
    the 调休 Saturday 10 October counted)."""
    if n < 1:
        raise ValueError("n must be at least 1")
    day, left = start, n
    while left:
        day += dt.timedelta(days=1)
        left -= is_working_day(day)
    return day


def working_days_between(start: dt.date, end: dt.date) -> int:
    """Working days after ``start`` up to and including ``end`` (0 when end ≤ start)."""
    count, day = 0, start
    while day < end:
        day += dt.timedelta(days=1)
        count += is_working_day(day)
    return count


def working_day_of_month(day: dt.date) -> int:
    """1 for the month's first working day, 2 for the second…; 0 when ``day`` is off."""
    if not is_working_day(day):
        return 0
    return sum(is_working_day(day.replace(day=d)) for d in range(1, day.day + 1))


def days_off_before(day: dt.date, cap: int = 14) -> int:
    """How many days off come right before ``day`` (2 after an ordinary weekend)."""
    n = 0
    prev = day - dt.timedelta(days=1)
    while n < cap and not is_working_day(prev):
        n += 1
        prev -= dt.timedelta(days=1)
    return n

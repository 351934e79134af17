"""Booking rules (hall/domain/booking.py), pure: days from the Chinese calendar across 国庆
and 春节 2026 with their 调休 days, slots from opening hours, the walk-in share, the window,
the cancel deadline and the blocks against hoarding and no-shows."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from hall.config import Booking, Hours
from hall.domain import booking as b
from hall.domain.hours import Period

TZ = ZoneInfo("Asia/Shanghai")
WEEK = Hours(
    workdays=("08:30-12:00", "13:30-17:30"),
    saturday=("09:00-12:00",),
    sunday=(),
    holidays=(),
    closed_dates=(dt.date(2026, 12, 31),),
).week()
RULES = b.ServiceRules(slot_minutes=30, capacity=4, walk_in_share=0.25)
WINDOW = b.Window(first_day=1, working_days_ahead=5)


def bookable_days(today: dt.date, window: b.Window = WINDOW) -> list[dt.date]:
    days = [today + dt.timedelta(days=n) for n in range(0, 40)]
    plans = {d: b.day_plan(d, today, WEEK, window, RULES, TZ) for d in days}
    return [d for d, (state, slots) in plans.items() if state is b.DayState.OPEN and slots]


def test_national_day_2026_no_bookings_on_the_holiday_but_on_the_tiaoxiu_saturday() -> None:
    # Wednesday 30 September: 1–7 October are 法定节假日; Saturday 10 October is a 调休 working day
    days = bookable_days(dt.date(2026, 9, 30))
    assert days == [
        dt.date(2026, 10, 8),
        dt.date(2026, 10, 9),
        dt.date(2026, 10, 10),  # 调休 Saturday: bookable, with working-day hours
        dt.date(2026, 10, 12),
        dt.date(2026, 10, 13),
    ]
    today = dt.date(2026, 9, 30)
    assert b.day_state(dt.date(2026, 10, 1), today, WEEK, WINDOW) is b.DayState.HOLIDAY
    assert b.day_state(dt.date(2026, 10, 5), today, WEEK, WINDOW) is b.DayState.HOLIDAY
    assert b.day_state(dt.date(2026, 10, 11), today, WEEK, WINDOW) is b.DayState.WEEKEND
    assert b.day_state(dt.date(2026, 10, 14), today, WEEK, WINDOW) is b.DayState.OUTSIDE_WINDOW
    tiaoxiu = b.slots(dt.date(2026, 10, 10), WEEK, RULES, TZ)
    assert tiaoxiu[0].start == dt.datetime(2026, 10, 10, 8, 30, tzinfo=TZ)  # not 09:00
    assert len(tiaoxiu) == 15  # 7 in the morning, 8 in the afternoon


def test_spring_festival_2026_tiaoxiu_saturdays_before_and_after() -> None:
    # Friday 13 February: Saturday 14 is a 调休 working day, 15–23 are 法定节假日
    days = bookable_days(dt.date(2026, 2, 13))
    assert days == [
        dt.date(2026, 2, 14),
        dt.date(2026, 2, 24),
        dt.date(2026, 2, 25),
        dt.date(2026, 2, 26),
        dt.date(2026, 2, 27),
    ]
    assert dt.date(2026, 2, 28) not in days  # the 6th working day: outside the window
    assert dt.date(2026, 2, 28) in bookable_days(dt.date(2026, 2, 14))


def test_weekends_only_when_the_hall_books_them_and_never_on_holidays() -> None:
    weekends = b.Window(first_day=1, working_days_ahead=5, weekends=True)
    days = bookable_days(dt.date(2026, 11, 27), weekends)  # a Friday
    assert dt.date(2026, 11, 28) in days  # Saturday, open 09:00-12:00
    sunday = b.day_plan(dt.date(2026, 11, 29), dt.date(2026, 11, 27), WEEK, weekends, RULES, TZ)
    assert sunday == (b.DayState.NO_SLOTS, [])  # Sunday: no opening hours
    assert len(b.slots(dt.date(2026, 11, 28), WEEK, RULES, TZ)) == 6
    national = bookable_days(dt.date(2026, 9, 30), weekends)
    assert dt.date(2026, 10, 3) not in national  # a holiday Saturday stays closed


def test_closed_dates_and_admin_closures_are_not_bookable() -> None:
    today = dt.date(2026, 12, 28)
    assert b.day_state(dt.date(2026, 12, 31), today, WEEK, WINDOW) is b.DayState.CLOSED
    closures = frozenset({dt.date(2026, 12, 30)})
    assert b.day_state(dt.date(2026, 12, 30), today, WEEK, WINDOW, closures) is b.DayState.CLOSED
    assert b.day_state(dt.date(2026, 12, 29), today, WEEK, WINDOW, closures) is b.DayState.OPEN
    assert b.day_state(today, today, WEEK, WINDOW) is b.DayState.OUTSIDE_WINDOW  # from tomorrow
    same_day = b.Window(first_day=0, working_days_ahead=5)
    assert b.day_state(today, today, WEEK, same_day) is b.DayState.OPEN


def test_slots_follow_opening_hours_and_weekday_overrides() -> None:
    day = dt.date(2026, 11, 24)  # a Tuesday
    slots = b.slots(day, WEEK, RULES, TZ)
    assert [s.start.strftime("%H:%M") for s in slots][:3] == ["08:30", "09:00", "09:30"]
    assert slots[6].end.strftime("%H:%M") == "12:00"
    assert slots[7].start.strftime("%H:%M") == "13:30"  # no slot over the lunch break
    hourly = b.ServiceRules(
        slot_minutes=45,
        weekdays={"tue": (Period(dt.time(9, 0), dt.time(11, 0)),), "wed": ()},
    )
    tue = b.slots(day, WEEK, hourly, TZ)
    assert [(s.start.strftime("%H:%M"), s.end.strftime("%H:%M")) for s in tue] == [
        ("09:00", "09:45"),
        ("09:45", "10:30"),  # 10:30–11:15 would run past 11:00
    ]
    assert b.slots(dt.date(2026, 11, 25), WEEK, hourly, TZ) == []
    assert b.slot_at(dt.datetime(2026, 11, 24, 9, 45, tzinfo=TZ), WEEK, hourly, TZ) == tue[1]
    assert b.slot_at(dt.datetime(2026, 11, 24, 9, 50, tzinfo=TZ), WEEK, hourly, TZ) is None


@pytest.mark.parametrize(
    ("capacity", "share", "bookable"),
    [(4, 0.25, 3), (4, 0.0, 4), (4, 1.0, 0), (5, 0.3, 3), (10, 0.3, 7), (1, 0.25, 0), (3, 0.5, 1)],
)
def test_the_walk_in_share_is_kept_rounded_in_favour_of_walk_ins(
    capacity: int, share: float, bookable: int
) -> None:
    assert b.ServiceRules(capacity=capacity, walk_in_share=share).bookable == bookable


def test_cancel_deadline_and_no_show_time() -> None:
    start = dt.datetime(2026, 11, 24, 9, 0, tzinfo=TZ)
    assert b.cancel_until(start, 120) == dt.datetime(2026, 11, 24, 7, 0, tzinfo=TZ)
    end = start + dt.timedelta(minutes=30)
    assert b.no_show_after(end, 15) == dt.datetime(2026, 11, 24, 9, 45, tzinfo=TZ)


def test_limits_against_hoarding() -> None:
    limits = b.Limits(per_service_per_day=1, max_open=3)
    assert b.over_limit(b.History(), limits) is None
    assert b.over_limit(b.History(same_service_day=1, open_bookings=1), limits) == "per_day"
    assert b.over_limit(b.History(open_bookings=3), limits) == "max_open"
    assert b.over_limit(b.History(open_bookings=2), limits) is None


def test_no_shows_and_cancellations_block_until_the_end_of_the_month() -> None:
    limits = b.Limits(no_show_limit=2, cancel_limit=5)
    today = dt.date(2026, 2, 10)
    assert b.block_of(b.History(no_shows_this_month=1, cancels_this_month=4), limits, today) is None
    blocked = b.block_of(b.History(no_shows_this_month=2), limits, today)
    assert blocked == b.Block(b.BlockReason.NO_SHOW, dt.date(2026, 2, 28))
    cancelled = b.block_of(b.History(cancels_this_month=5), limits, dt.date(2026, 12, 3))
    assert cancelled == b.Block(b.BlockReason.CANCELLED, dt.date(2026, 12, 31))
    assert b.month_end(dt.date(2028, 2, 1)) == dt.date(2028, 2, 29)


def test_codes_are_read_back_however_they_are_typed_or_scanned() -> None:
    assert b.format_code("ABCDE23456") == "ABCDE-23456"
    for text in ("ABCDE-23456", "abcde 23456", "https://hall.example/book/b/ABCDE23456/"):
        assert b.parse_code(text) == "ABCDE23456"
    for bad in ("ABCDE-2345", "ABCDE-23450", "OBCDE23456", ""):
        assert b.parse_code(bad) is None


def test_config_section_defaults_and_per_service_rules() -> None:
    cfg = Booking.model_validate(
        {"service": {"D": {"slot_minutes": 60, "capacity": 2, "weekdays": {"sat": []}}}}
    )
    assert cfg.working_days_ahead == 5 and cfg.cancel_before_min == 120
    assert (cfg.per_service_per_day, cfg.max_open, cfg.no_show_limit, cfg.cancel_limit) == (
        1,
        3,
        2,
        5,
    )
    d = cfg.rules("D")
    assert (d.slot_minutes, d.capacity, d.bookable, d.weekdays) == (60, 2, 1, {"sat": ()})
    assert cfg.rules("A") == b.ServiceRules(30, 4, 0.25, {})

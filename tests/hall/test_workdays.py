"""Working-day deadlines across 国庆 and 春节 with their 调休 weekend working days (issue
"好差评", cases): due on the n-th working day after the day a case opened."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hall.domain.workdays import add_working_days, is_working_day, working_days_between

D = dt.date


def test_national_day_2026_is_skipped_and_its_saturday_counted() -> None:
    # 国庆+中秋 2026: 1–7 Oct off; Sat 10 Oct is a working day (调休); Sun 20 Sep too
    assert not any(is_working_day(D(2026, 10, d)) for d in range(1, 8))
    assert is_working_day(D(2026, 10, 10)) and is_working_day(D(2026, 9, 20))
    # opened Wed 30 Sep: 8, 9, 10 (Sat), 12–16, 19–23, 26, 27 October → the 15th is Tue 27 Oct
    assert add_working_days(D(2026, 9, 30), 15) == D(2026, 10, 27)
    assert add_working_days(D(2026, 9, 30), 1) == D(2026, 10, 8)
    assert add_working_days(D(2026, 9, 30), 3) == D(2026, 10, 10)


def test_spring_festival_2026_is_skipped_and_its_weekends_counted() -> None:
    # 春节 2026: 15–23 Feb off; Sat 14 Feb and Sat 28 Feb are working days
    assert is_working_day(D(2026, 2, 14)) and is_working_day(D(2026, 2, 28))
    assert not is_working_day(D(2026, 2, 16)) and not is_working_day(D(2026, 2, 23))
    # opened Fri 13 Feb: 14 (Sat), 24, 25, 26, 27, 28 (Sat) → the 5th is Fri 27 Feb
    assert add_working_days(D(2026, 2, 13), 5) == D(2026, 2, 27)
    assert add_working_days(D(2026, 2, 13), 6) == D(2026, 2, 28)
    assert working_days_between(D(2026, 2, 13), D(2026, 2, 28)) == 6


def test_a_year_without_calendar_data_counts_monday_to_friday() -> None:
    assert add_working_days(D(2031, 1, 3), 1) == D(2031, 1, 6)  # Fri → Mon


def test_bad_counts_are_refused() -> None:
    with pytest.raises(ValueError):
        add_working_days(D(2026, 1, 5), 0)


@given(st.dates(D(2025, 1, 1), D(2026, 12, 31)), st.integers(1, 40))
def test_the_due_day_is_a_working_day_exactly_n_working_days_on(start: dt.date, n: int) -> None:
    due = add_working_days(start, n)
    assert is_working_day(due) and due > start
    assert working_days_between(start, due) == n
    assert working_days_between(start, due - dt.timedelta(days=1)) == n - 1

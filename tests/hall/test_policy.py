"""The calling policy, pure."""

from __future__ import annotations

import datetime as dt

from hall.domain.estimate import average_service_s, estimated_wait_s
from hall.domain.policy import Candidate, ahead_of, choose_next, order
from hall.domain.tickets import Klass, format_number, local_day
from hall.services.context import HallContext
from tests.support.hall import make_config

T0 = dt.datetime(2026, 11, 23, 1, 0, tzinfo=dt.UTC)


def c(
    i: int,
    minutes: float,
    klass: Klass = Klass.NORMAL,
    service: str = "A",
    pinned: str | None = None,
) -> Candidate:
    return Candidate(i, service, klass, T0 + dt.timedelta(minutes=minutes), pinned)


def test_class_first_then_fifo() -> None:
    cands = [c(1, 0), c(2, 1, Klass.PRIORITY), c(3, 2, Klass.APPOINTMENT), c(4, 3)]
    now = T0 + dt.timedelta(minutes=5)
    assert [x.id for x in order(cands, now, 1800)] == [3, 2, 1, 4]
    assert ahead_of(cands[3], cands, now, 1800) == 3
    assert ahead_of(cands[2], cands, now, 1800) == 0


def test_aged_tickets_are_no_longer_overtaken() -> None:
    cands = [c(1, 0), c(2, 20, Klass.APPOINTMENT)]
    assert choose_next(cands, "1", ["A"], T0 + dt.timedelta(minutes=29), 1800).id == 2
    assert choose_next(cands, "1", ["A"], T0 + dt.timedelta(minutes=30), 1800).id == 1


def test_services_and_pinning() -> None:
    cands = [c(1, 0, service="B"), c(2, 1, pinned="7"), c(3, 2)]
    now = T0 + dt.timedelta(minutes=3)
    assert choose_next(cands, "1", ["A"], now, 1800).id == 3
    assert choose_next(cands, "7", [], now, 1800).id == 2
    assert choose_next(cands, "1", ["C"], now, 1800) is None


def test_numbers_and_days() -> None:
    assert format_number("A", 1) == "A001"
    assert format_number("A", 999) == "A999"
    assert format_number("A", 1000) == "A1000"
    tz = make_config().tz
    assert local_day(dt.datetime(2026, 11, 23, 15, 59, tzinfo=dt.UTC), tz) == dt.date(2026, 11, 23)
    assert local_day(dt.datetime(2026, 11, 23, 16, 0, tzinfo=dt.UTC), tz) == dt.date(2026, 11, 24)


def test_estimate() -> None:
    assert average_service_s([], 300) == 300
    assert round(average_service_s([60], 300)) == 220  # one sample is blended with the default
    assert average_service_s([60, 60, 60], 300) == 60
    assert estimated_wait_s(4, 300, 2) == 600
    assert estimated_wait_s(4, 300, 0) == 1200


def test_clock_must_be_aware() -> None:
    import pytest

    ctx = HallContext.__new__(HallContext)
    ctx.clock = lambda: dt.datetime(2026, 1, 1)
    with pytest.raises(ValueError):
        ctx.now()

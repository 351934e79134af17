"""One hand-wound clock for every test that needs time to pass on demand."""

from __future__ import annotations

import datetime as dt

HALL_MORNING = dt.datetime(2026, 11, 23, 1, 0, tzinfo=dt.UTC)
"""09:00 Beijing time on a working day (a Monday)."""


class FakeClock:
    def __init__(self, start: dt.datetime = HALL_MORNING) -> None:
        self.now = start

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += dt.timedelta(seconds=seconds)

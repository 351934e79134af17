"""The printed wait range at the edges a real day reaches (the day test found the first):
staff who start and finish in the same second give a mean service time of 0, and a single
counter whose service never varies gives no spread."""

from __future__ import annotations

import pytest

from hall.domain.estimate import wait_range_s


@pytest.mark.parametrize("ahead", [0, 1, 30])
@pytest.mark.parametrize("counters", [0, 1, 4])
def test_no_service_time_yet_is_called_shortly_not_a_crash(ahead: int, counters: int) -> None:
    assert wait_range_s(ahead, 0.0, counters) == (0, 60)


def test_service_times_that_never_vary_give_the_exact_wait() -> None:
    lo, hi = wait_range_s(3, 300.0, 1, cv=0.0)  # 4 services of 5 min at one counter
    assert lo <= 20 * 60 <= hi and hi - lo <= 5 * 60

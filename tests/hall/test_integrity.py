"""Rating integrity (issue 19): each pattern of ratings that citizens did not give is
flagged for its staff member and month, and an honest month is not."""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

import pytest

from hall.domain.integrity import CheckFact, Pattern, RatingFact, Thresholds, assess

T0 = dt.datetime(2026, 11, 2, 1, 0, tzinfo=dt.UTC)


def honest(staff: str, n: int = 40, seed: int = 1, **over: Any) -> list[RatingFact]:
    """A believable month: mostly 5 and 4 with some 3s and a 1, the citizen turning to the
    pad 5–90 s after the finish, 3–20 minutes of service."""
    rnd = random.Random(seed)
    out = []
    for i in range(n):
        finished = T0 + dt.timedelta(hours=i)
        fact = dict(
            staff=staff,
            ticket=1000 * seed + i,
            channel="pad",
            score=rnd.choice([5, 5, 5, 5, 4, 4, 4, 3, 5, 1]),
            rated_at=finished + dt.timedelta(seconds=rnd.uniform(5, 90)),
            finished_at=finished,
            service_s=rnd.uniform(180, 1200),
        )
        fact.update({k: (v(i, rnd) if callable(v) else v) for k, v in over.items()})
        out.append(RatingFact(**fact))  # type: ignore[arg-type]
    return out


def patterns(result: list[Any], staff: str) -> set[Pattern]:
    return {f.pattern for s in result if s.staff == staff for f in s.findings}


def test_each_pattern_is_flagged_and_an_honest_month_is_not() -> None:
    ratings = (
        honest("honest", seed=1)
        + honest("quiet", n=8, seed=2)  # too few to say anything
        # the staff member taps the pad as the citizen stands up: 1 s after every finish
        + honest(
            "tapper",
            seed=3,
            rated_at=lambda i, rnd: T0 + dt.timedelta(hours=i, seconds=rnd.uniform(0.4, 1.5)),
        )
        # every one of 40 ratings 非常满意
        + honest("perfect", seed=4, score=5)
        # tickets "served" in seconds, then rated
        + honest(
            "drawer",
            seed=5,
            service_s=lambda i, rnd: rnd.uniform(4, 12) if i % 4 == 0 else rnd.uniform(200, 900),
        )
        + honest("doubted", seed=6)
    )
    checks = [CheckFact("doubted", 6000 + i, 5, s) for i, s in enumerate((1, 2, 2, 3, 1))]
    checks += [CheckFact("honest", 1000 + i, s, s - (i % 2)) for i, s in enumerate((5, 4, 5))]
    result = assess(ratings, checks)
    assert patterns(result, "honest") == set()
    assert patterns(result, "quiet") == set()
    assert patterns(result, "tapper") == {Pattern.INSTANT}
    assert patterns(result, "perfect") == {Pattern.UNIFORM}
    assert patterns(result, "drawer") == {Pattern.SHORT_SERVICE}
    assert patterns(result, "doubted") == {Pattern.PHONE_DISAGREES}
    assert [s.staff for s in result][:4] == ["doubted", "drawer", "perfect", "tapper"]
    tapper = next(s for s in result if s.staff == "tapper")
    assert (tapper.findings[0].count, tapper.findings[0].of) == (40, 40)


@pytest.mark.parametrize("seed", range(20))
def test_honest_months_are_not_flagged(seed: int) -> None:
    """Twenty believable months of different sizes: not one false alarm."""
    rnd = random.Random(seed)
    ratings = honest("someone", n=rnd.randint(20, 200), seed=seed + 100)
    assert assess(ratings, [])[0].findings == []


def test_the_thresholds_are_the_halls_to_set() -> None:
    ratings = honest("perfect", n=12, seed=4, score=5)
    assert assess(ratings, [])[0].findings == []  # 12 < 30: could be chance
    strict = Thresholds(uniform_min=10)
    assert patterns(assess(ratings, [], strict), "perfect") == {Pattern.UNIFORM}

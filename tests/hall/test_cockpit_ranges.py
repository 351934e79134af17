"""The printed wait range (issue 22): rounded outwards for reading, wider with more people
ahead, narrower with more counters, and its nominal level holds where its model does."""

from __future__ import annotations

import math
import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hall.domain.estimate import (
    _gamma_p,
    _gamma_quantile,
    coverage,
    estimated_wait_s,
    service_cv,
    wait_range_s,
)
from tests.support.hall import Api


def test_examples() -> None:
    assert wait_range_s(0, 300, 3) == (0, 180)  # first in line: within 3 min (one-sided)
    lo, hi = wait_range_s(10, 300, 3)
    assert (lo, hi) == (10 * 60, 30 * 60)  # "10–30 min" for an estimate of 16.7 min
    assert lo <= estimated_wait_s(10, 300, 3) <= hi


@given(st.integers(0, 300), st.floats(30, 3600), st.integers(0, 30))
def test_the_range_is_ordered_rounded_and_holds_the_estimate(
    ahead: int, service_s: float, counters: int
) -> None:
    lo, hi = wait_range_s(ahead, service_s, counters)
    assert 0 <= lo < hi and lo % 60 == 0 and hi % 60 == 0
    if ahead >= 1:
        assert lo <= estimated_wait_s(ahead, service_s, counters) <= hi + 60
    more = wait_range_s(ahead + 5, service_s, counters)
    assert more[1] >= hi
    if counters >= 1:
        assert wait_range_s(ahead, service_s, counters + 1)[1] <= hi


@given(st.integers(1, 60), st.floats(0.01, 200))
def test_the_gamma_cdf_agrees_with_the_erlang_closed_form(k: int, x: float) -> None:
    poisson = sum(math.exp(-x + i * math.log(x) - math.lgamma(i + 1)) for i in range(k))
    assert _gamma_p(k, x) == pytest.approx(1 - poisson, abs=1e-9)


def test_steadier_service_times_narrow_the_range() -> None:
    wide, narrow = wait_range_s(10, 300, 1), wait_range_s(10, 300, 1, cv=0.5)
    assert narrow[0] >= wide[0] and narrow[1] < wide[1]
    # many counters together finish like a Poisson stream: cv matters less
    assert wait_range_s(30, 300, 10, cv=0.5)[1] >= wait_range_s(30, 300, 10, cv=1.0)[1] - 300
    assert service_cv([300.0] * 5) == 1.0  # too few observed: the default
    assert service_cv([200.0, 400.0] * 10) == pytest.approx(1 / 3)


def test_coverage_of_its_own_model_is_at_least_nominal() -> None:
    rng = random.Random(4)
    cases = []
    for _ in range(4000):
        ahead, counters = rng.randrange(0, 40), rng.randrange(1, 6)
        theta = 400 / counters
        wait = sum(rng.expovariate(1 / theta) for _ in range(ahead + 1))
        cases.append((wait, *wait_range_s(ahead, 400, counters)))
    share, n = coverage(cases)
    assert n == 4000 and share is not None and 0.8 <= share <= 0.92
    assert coverage([]) == (None, 0)


def test_the_api_answers_the_range_with_the_ticket(api: Api) -> None:
    first = api.issue("B")
    for _ in range(9):
        last = api.issue("B")
    # 9 ahead × 200 s on one counter: estimate 30 min, range around it
    assert last["estimated_wait_s"] == 1800
    lo, hi = last["wait_range_min_s"], last["wait_range_max_s"]
    assert (lo, hi) == wait_range_s(9, 200, 1)
    assert lo <= 1800 <= hi and lo % 300 == 0 and hi % 300 == 0
    assert first["wait_range_min_s"] == 0
    called = api.call_next("1")
    assert called is not None and called["wait_range_min_s"] is None  # no longer waiting
    again = api.get(f"/tickets/{last['id']}", role="display").json()
    assert again["wait_range_max_s"] <= hi  # one fewer ahead


@pytest.mark.parametrize("shape", [1.0, 12.0, 199.0, 200.0, 1500.0, 40000.0])
@pytest.mark.parametrize("q", [0.1, 0.5, 0.9])
def test_the_range_quantile_is_the_gamma_quantile(shape: float, q: float) -> None:
    """Newton below WH_EXACT_SHAPE, Wilson–Hilferty alone from there (a long queue): either
    way P(shape, x) is the asked share to 1e-4, so a printed minute never moves."""
    x = _gamma_quantile(q, shape, 1.0)
    assert abs(_gamma_p(shape, x) - q) < 1e-4

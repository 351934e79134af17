"""Erlang C and the staffing plan (issue 22): known values, properties, the counter choice."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hall.domain.staffing import (
    CounterSpec,
    Target,
    assign,
    counter_hours,
    erlang_c,
    mean_wait_s,
    p_called_within,
    peak_rule,
    plan_day,
    servers_needed,
    staffed,
)


def erlang_c_textbook(c: int, a: float) -> float:
    """The closed form, term by term (independent of the recursion under test)."""
    top = a**c / math.factorial(c) * c / (c - a)
    return top / (sum(a**k / math.factorial(k) for k in range(c)) + top)


def test_known_values() -> None:
    assert erlang_c(1, 0.5) == pytest.approx(0.5)  # M/M/1: P(wait) = ρ
    assert erlang_c(2, 1.0) == pytest.approx(1 / 3)
    assert erlang_c(3, 2.0) == pytest.approx(4 / 9)
    # the textbook call-centre example: 10 Erlangs on 11 agents → 68.2 % wait
    assert erlang_c(11, 10.0) == pytest.approx(0.6821, abs=1e-4)
    assert erlang_c(3, 3.0) == 1.0 and erlang_c(5, 0.0) == 0.0


@given(st.integers(1, 40), st.floats(0.01, 0.99))
def test_recursion_agrees_with_the_closed_form(c: int, rho: float) -> None:
    a = c * rho
    assert erlang_c(c, a) == pytest.approx(erlang_c_textbook(c, a), rel=1e-9, abs=1e-12)


@given(st.integers(1, 30), st.floats(0.05, 0.95))
def test_more_counters_never_hurt(c: int, rho: float) -> None:
    a = c * rho
    assert erlang_c(c + 1, a) <= erlang_c(c, a) + 1e-12
    assert p_called_within(c + 1, a, 300, 600) >= p_called_within(c, a, 300, 600) - 1e-12


def test_mean_wait_of_mm1() -> None:
    # M/M/1, ρ = 0.5, service 300 s: Wq = ρ/(1−ρ) × 300 = 300 s
    assert mean_wait_s(1, 0.5, 300) == pytest.approx(300)
    assert mean_wait_s(2, 2.0, 300) == math.inf


def test_servers_needed_is_the_fewest_meeting_the_target() -> None:
    target = Target(wait_s=1200, level=0.9)
    # 60 citizens in 30 min at 10 min each: 20 Erlangs
    c = servers_needed(60, 600, target)
    a = 60 / 1800 * 600
    assert p_called_within(c, a, 600, 1200) >= 0.9 > p_called_within(c - 1, a, 600, 1200)
    assert servers_needed(0, 600, target) == 0
    assert servers_needed(0.2, 600, target) == 1


def test_assign_keeps_the_comprehensive_counter_free_for_the_scarce_service() -> None:
    counters = [
        CounterSpec("1", ("A", "B", "C")),  # 综合窗口
        CounterSpec("2", ("A",)),
        CounterSpec("3", ("A",)),
        CounterSpec("4", ("B",)),
    ]
    taken, short = assign({"A": 2, "B": 1, "C": 1}, counters)
    assert taken == {"1": "C", "4": "B", "2": "A", "3": "A"} and short == {}
    taken, short = assign({"A": 3, "C": 1}, counters)
    assert short == {"A": 1} and taken["1"] == "C"


def test_plan_and_peak_rule() -> None:
    counters = [CounterSpec(str(i), ("A", "B")) for i in range(1, 9)]
    arrivals = {"A": {18: 10.0, 19: 30.0, 20: 5.0}, "B": {18: 2.0, 19: 4.0, 20: 1.0}}
    plans = plan_day(arrivals, {"A": 300, "B": 600}, {}, counters)
    assert [p.slot for p in plans] == [18, 19, 20]
    assert plans[1].need["A"] > plans[0].need["A"] > 0
    peak = peak_rule(plans, counters)
    assert all(p.counters == peak[0].counters for p in peak)
    assert counter_hours(plans) < counter_hours(peak)


# -- the services each counter's staff can handle --------------------------------------------

HALL = [
    CounterSpec("1", ("A", "B", "C")),  # 综合窗口
    CounterSpec("2", ("A",)),
    CounterSpec("3", ("B", "C")),
    CounterSpec("4", ("C",)),
]


def test_a_counter_is_planned_only_for_what_its_staff_can_handle() -> None:
    skills = {
        "1": [["A"], ["A", "C"]],  # two people share counter 1: between them A and C, not B
        "3": [["A"]],  # its one person handles nothing counter 3 serves
        "4": [None],  # records nothing: everything counter 4 serves
    }
    out = {c.id: c.services for c in staffed(HALL, skills)}
    assert out == {"1": ("A", "C"), "2": ("A",), "4": ("C",)}  # 2: nobody assigned, as before
    # B now has no counter: the plan says it is short instead of sending counter 1's staff
    need = {"A": 1, "B": 1, "C": 1}
    assert assign(need, HALL)[1] == {}
    taken, short = assign(need, staffed(HALL, skills))
    assert short == {"B": 1} and "B" not in taken.values()
    assert taken == {"2": "A", "4": "C"}


def test_staff_who_record_nothing_change_nothing() -> None:
    assert staffed(HALL, {}) == HALL
    assert staffed(HALL, {"1": [None, ["A"]], "3": []}) == HALL  # one of counter 1's is open


@given(
    st.dictionaries(
        st.sampled_from(["1", "2", "3", "4"]),
        st.lists(st.one_of(st.none(), st.lists(st.sampled_from("ABCD"), max_size=3))),
    )
)
def test_staffed_never_adds_a_service(skills: dict[str, list[list[str] | None]]) -> None:
    before = {c.id: set(c.services) for c in HALL}
    for c in staffed(HALL, skills):
        assert c.services and set(c.services) <= before[c.id]
        people = skills.get(c.id)
        if people and all(p is not None for p in people):
            assert set(c.services) <= set().union(*(set(p) for p in people if p is not None))

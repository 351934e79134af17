"""The arrivals forecast (issue 22) on a generated history with a known process: it
recovers the planted weekday, month-start and after-holiday factors, skips holidays, counts
调休 weekends, and its held-out slot error is small for a busy service."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hall.domain.forecast import (
    days_off_before,
    fit,
    forecast,
    holdout_error,
    next_working_days,
    pooled_profiles,
    slot_label,
    slot_of,
    wape,
    working_day_of_month,
)
from hall.domain.simulation import HALL_PROFILE, SyntheticService, synthetic_history

D = dt.date
SOCIAL = SyntheticService(
    "A", per_day=400, service_s=420, month_start=1.6, after_break=1.4, trend_per_year=1.1
)
QUIET = SyntheticService("B", per_day=40, service_s=600)


@pytest.fixture(scope="module")
def history() -> dict[dt.date, dict[str, dict[int, int]]]:
    return synthetic_history([SOCIAL, QUIET], D(2026, 1, 5), D(2026, 10, 30), seed=11)


def test_calendar_helpers() -> None:
    assert working_day_of_month(D(2026, 10, 8)) == 1  # after 国庆: the first working day
    assert working_day_of_month(D(2026, 10, 10)) == 3  # the 调休 Saturday counts
    assert working_day_of_month(D(2026, 10, 3)) == 0
    assert days_off_before(D(2026, 10, 8)) == 7 and days_off_before(D(2026, 11, 23)) == 2
    assert next_working_days(D(2026, 9, 29), 3) == [D(2026, 9, 30), D(2026, 10, 8), D(2026, 10, 9)]
    assert slot_of(dt.time(8, 45)) == 17 and slot_label(17) == "08:30–09:00"


def test_holidays_are_skipped_and_the_adjusted_saturday_is_planned(
    history: dict[dt.date, dict[str, dict[int, int]]],
) -> None:
    assert D(2026, 10, 1) not in history and D(2026, 10, 10) in history
    result = forecast(history, ["A", "B"], D(2026, 9, 29))
    assert result.days == (D(2026, 9, 30), D(2026, 10, 8), D(2026, 10, 9), D(2026, 10, 10),
                           D(2026, 10, 12))  # fmt: skip


def test_it_recovers_the_planted_factors(
    history: dict[dt.date, dict[str, dict[int, int]]],
) -> None:
    m = fit(history, ["A", "B"])["A"]
    f = m.factors()
    # Monday 1.25 is the baseline: Tue 1.0/1.25 = 0.8, Fri 0.85/1.25 = 0.68
    assert f["tue"] == pytest.approx(0.8, rel=0.05)
    assert f["fri"] == pytest.approx(0.68, rel=0.05)
    assert f["month_1"] == pytest.approx(1.6, rel=0.08)
    assert f["month_2_3"] == pytest.approx(1.6, rel=0.08)
    assert f["after_break"] == pytest.approx(1.4, rel=0.15)
    assert f["trend"] == pytest.approx(1.1, rel=0.06)
    # the slot profile: the 10:00 peak is the busiest slot
    assert max(m.profile, key=lambda s: m.profile[s]) == 20


def test_month_start_and_monday_forecasts_are_higher(
    history: dict[dt.date, dict[str, dict[int, int]]],
) -> None:
    result = forecast(history, ["A"], D(2026, 10, 30), n_days=5)  # Mon 2 Nov … Fri 6 Nov
    totals = {d: result.total(d, "A") for d in result.days}
    assert result.days[0] == D(2026, 11, 2)
    assert totals[D(2026, 11, 2)] > totals[D(2026, 11, 5)] * 1.5  # Monday and 1st working day
    assert totals[D(2026, 11, 4)] > totals[D(2026, 11, 5)] * 1.3  # 3rd working day


def test_the_held_out_error_is_small_for_the_busy_service(
    history: dict[dt.date, dict[str, dict[int, int]]],
) -> None:
    err = holdout_error(history, ["A", "B"], weeks=4)
    assert err["A"] < 0.2
    assert err["B"] < 0.6  # a quiet service is mostly Poisson noise: printed, not promised


@given(st.lists(st.floats(0, 1e4), min_size=1, max_size=30))
def test_wape_is_zero_for_a_perfect_forecast(xs: list[float]) -> None:
    assert wape(xs, xs) == 0.0


def test_a_short_history_forecasts_the_mean_day() -> None:
    short = {D(2026, 11, 23): {"A": {18: 10}}, D(2026, 11, 24): {"A": {18: 20}}}
    result = forecast(short, ["A"], D(2026, 11, 24), n_days=1)
    assert result.total(D(2026, 11, 25), "A") == pytest.approx(15)


# -- the slot profile, pulled toward the hall's -------------------------------------------

AFTERNOON = {27: 0.05, 28: 0.10, 29: 0.25, 30: 0.30, 31: 0.20, 32: 0.10}
MORNING = {18: 0.2, 19: 0.3, 20: 0.3, 21: 0.2}


def _shape(profile: dict[int, float]) -> dict[int, float]:
    total = sum(profile.values())
    return {s: v / total for s, v in profile.items()}


def _distance(a: dict[int, float], b: dict[int, float]) -> float:
    return sum(abs(a.get(s, 0.0) - b.get(s, 0.0)) for s in set(a) | set(b))


def _slot_totals(history: dict[dt.date, dict[str, dict[int, int]]]) -> dict[str, dict[int, float]]:
    out: dict[str, dict[int, float]] = {}
    for counts in history.values():
        for service, per in counts.items():
            for slot, n in per.items():
                out.setdefault(service, {})[slot] = out.setdefault(service, {}).get(slot, 0) + n
    return out


def test_a_quiet_service_shaped_like_the_hall_takes_the_halls_better_counted_shape() -> None:
    # 40 days: the quiet service's 1,600 tickets over 12 slots are noisy shares
    history = synthetic_history(
        [SOCIAL, QUIET, SyntheticService("C", per_day=40, service_s=600)],
        D(2026, 9, 1), D(2026, 10, 30), seed=5,
    )  # fmt: skip
    counts = _slot_totals(history)
    true = _shape(dict(HALL_PROFILE))
    pooled = pooled_profiles(counts)
    for service in ("B", "C"):
        raw = _shape(counts[service])
        assert sum(pooled[service].values()) == pytest.approx(1.0)
        assert _distance(pooled[service], true) < 0.6 * _distance(raw, true)


def test_a_service_with_its_own_shape_keeps_it() -> None:
    history = synthetic_history([SOCIAL], D(2026, 9, 1), D(2026, 10, 30), seed=6)
    late = synthetic_history(
        [SyntheticService("P", per_day=60, service_s=600)],
        D(2026, 9, 1), D(2026, 10, 30), seed=7, profile=AFTERNOON,
    )  # fmt: skip
    early = synthetic_history(
        [SyntheticService("M", per_day=30, service_s=600)],
        D(2026, 9, 1), D(2026, 10, 30), seed=8, profile=MORNING,
    )  # fmt: skip
    counts = _slot_totals(history) | _slot_totals(late) | _slot_totals(early)
    pooled = pooled_profiles(counts)
    p = pooled["P"]
    assert max(p, key=lambda s: p[s]) == 30  # its 15:00 peak, not the hall's 10:00
    assert _distance(p, AFTERNOON) < 0.15
    # open only in the morning: no share of the afternoon, however busy the hall is then
    assert set(pooled["M"]) <= set(MORNING)
    assert sum(pooled["M"].values()) == pytest.approx(1.0)


def test_profiles_of_one_service_or_none() -> None:
    assert pooled_profiles({"A": {18: 3.0, 19: 1.0}}) == {"A": {18: 0.75, 19: 0.25}}
    assert pooled_profiles({"A": {}}) == {"A": {}}

"""The cockpit's services (issue 22) on a hall with five months of generated history in its
database: the 5-day plan, the what-if, the range's coverage, staff performance, and today's
attainment and advice from tickets issued and called through the real services."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest

from hall.domain.simulation import SyntheticService
from hall.services import cockpit, counters, performance, tickets
from hall.services.context import HallContext
from hall.services.tickets import IssueRequest
from hall.storage import migrate
from hall.storage.engine import make_engine
from tests.support.clock import FakeClock
from tests.support.hall import make_config
from tests.support.history import history_hall

SERVICES = [
    SyntheticService("A", per_day=50, service_s=300, month_start=1.5, after_break=1.3),
    SyntheticService("B", per_day=25, service_s=200),
    SyntheticService("C", per_day=20, service_s=300),
]


@pytest.fixture(scope="module")
def hall(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HallContext]:
    path = tmp_path_factory.mktemp("cockpit") / "hall.db"
    with history_hall(path, dt.date(2026, 7, 1), dt.date(2026, 11, 20), SERVICES) as (ctx, n):
        assert n > 8_000
        yield ctx  # Mon 23 Nov 2026 09:00


def test_history_is_read_by_working_day(hall: HallContext) -> None:
    hist = cockpit.load_history(hall)
    assert dt.date(2026, 10, 1) not in hist.arrivals  # 国庆
    assert dt.date(2026, 10, 10) in hist.arrivals  # the 调休 Saturday
    assert hist.service_s["A"] == pytest.approx(300, rel=0.1)


@pytest.mark.slow
def test_the_plan_covers_five_working_days_and_beats_the_peak_rule(hall: HallContext) -> None:
    plan = cockpit.plan(hall, fresh=True)
    days = [d["day"] for d in plan["days"]]
    assert days == ["2026-11-24", "2026-11-25", "2026-11-26", "2026-11-27", "2026-11-30"]
    for d in plan["days"]:
        assert 0 < d["counter_hours"] <= d["peak_rule_counter_hours"]
        assert d["simulated_share"] is not None and d["simulated_share"] >= 0.8
        assert all(set(s["open"]) <= {"1", "2", "3"} for s in d["slots"])
        assert any(s["label"] == "10:00–10:30" for s in d["slots"])
    assert plan["factors"]["A"]["month_1"] > 1.2
    assert 0 < plan["forecast_error"]["A"] < 0.5  # printed on the page, per service
    # what if counter 2 closes at 10:00 on the first day: fewer called within target
    first = plan["days"][0]["day"]
    result = cockpit.what_if(hall, first, "2", "10:00")
    assert result["after"] < result["base"]
    assert set(result["by_service"]) == {"A"}


def test_coverage_of_the_printed_range_is_measured(hall: HallContext) -> None:
    cov = cockpit.range_coverage(hall, days=28)
    assert cov["tickets"] > 1500 and cov["level"] == 0.8
    assert 0.5 <= cov["share"] <= 1.0
    # with someone ahead (a real range, not "called at once") it is near the nominal 80 %
    assert cov["queued_tickets"] > 100 and 0.65 <= cov["queued_share"] <= 0.95
    assert set(cov["by_service"]) == {"A", "B", "C"}


def test_performance_per_counter_and_month(hall: HallContext) -> None:
    rows = {r["counter"]: r for r in performance.period(hall, month="2026-10")["rows"]}
    assert set(rows) == {"1", "2", "3"}
    one = rows["1"]
    assert one["served"] > 300 and one["signed_in_min"] > 100 * 60
    assert 0 <= one["idle_waiting_min"] < one["signed_in_min"]
    assert one["evaluations"] > 50 and one["satisfied_pct"] > 80
    assert sum(r["pauses"] for r in rows.values()) > 0
    assert all(r["pause_reasons"] == {"离岗": r["pauses"]} for r in rows.values() if r["pauses"])
    assert sum(r["no_show"] for r in rows.values()) > 0
    day = performance.period(hall, day="2026-10-12")
    assert day["from"] == day["to"] == "2026-10-12"


def test_today_attainment_and_advice_follow_the_live_queue(
    tmp_path: Path,
) -> None:
    clock = FakeClock()
    engine = make_engine(f"sqlite:///{tmp_path / 'hall.db'}")
    migrate.upgrade(engine)
    ctx = HallContext(make_config(), engine, clock)
    ctx.ensure_rows()
    for _ in range(12):
        tickets.issue(ctx, IssueRequest(service="B"))
    counters.call_next(ctx, "1")  # called at once: within target
    clock.advance(1500)  # 25 minutes later
    counters.call_next(ctx, "1")  # waited 25 min: missed 20
    day = cockpit.attainment_today(ctx)
    b = day["by_service"]["B"]
    assert (b["within"], b["missed"], b["pending"]) == (1, 11, 0)
    assert b["share"] == round(1 / 12, 3) and day["share"] == b["share"]
    # 10 waiting × 200 s on one open counter = 33 min ≥ 80 % of 20 min: advise
    advice = cockpit.advice(ctx)
    assert [a["service"] for a in advice] == ["B"]
    assert advice[0]["counters"] == [] and advice[0]["more"] >= 1  # counter 1 is B's only one
    assert "建议增开窗口" in advice[0]["zh"] and "医保" in advice[0]["zh"]
    assert cockpit.advice(ctx, "3") == []  # counter 3 serves C only
    ctx.engine.dispose()


def test_idle_while_the_queue_waited_is_counted_from_the_events(tmp_path: Path) -> None:
    clock = FakeClock()
    engine = make_engine(f"sqlite:///{tmp_path / 'hall.db'}")
    migrate.upgrade(engine)
    ctx = HallContext(make_config(), engine, clock)
    ctx.ensure_rows()
    tickets.issue(ctx, IssueRequest(service="B"))
    tickets.issue(ctx, IssueRequest(service="B"))
    counters.call_next(ctx, "1")  # opens counter 1 and calls the first
    clock.advance(300)
    counters.finish(ctx, "1")
    clock.advance(600)  # ten minutes signed in, the second citizen waiting, nobody called
    counters.call_next(ctx, "1")
    clock.advance(200)
    counters.finish(ctx, "1")
    counters.pause(ctx, "1", "午休")
    clock.advance(1800)
    counters.resume(ctx, "1")
    clock.advance(60)
    counters.close(ctx, "1")
    row = next(r for r in performance.period(ctx)["rows"] if r["counter"] == "1")
    assert row["served"] == 2 and row["service_avg_min"] == pytest.approx(250 / 60, abs=0.1)
    assert row["idle_waiting_min"] == pytest.approx(10, abs=1)  # by the minute
    assert row["signed_in_min"] == pytest.approx((300 + 600 + 200 + 60) / 60, abs=1)
    assert (row["pauses"], row["paused_min"], row["pause_reasons"]) == (1, 30, {"午休": 1})
    ctx.engine.dispose()

"""The hall's day closes (issue "reliability", item 1): yesterday's queue is never called in
the morning, a ticket outside opening hours is refused with the opening time, and the
business day never goes back with the clock.

What must hold throughout: a number is called at most once a day, every ticket issued
yesterday and still open ends as ``expired`` (with an event, counted in the statistics),
and today's waiting counts, estimates and call-next see only today's tickets."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from hall.app import create_app
from hall.services.context import HallContext
from hall.storage import tables as t
from tests.support.clock import FakeClock
from tests.support.hall import Api, make_config

BEIJING = dt.timezone(dt.timedelta(hours=8))
HOURS = {
    "workdays": ["08:30-12:00", "13:30-17:30"],
    "saturday": [],
    "sunday": [],
    "holidays": [],
    "extended": {"tue": ["17:30-19:00"]},
    "expire_after_min": 60,
}


def at(y: int, m: int, d: int, hh: int, mm: int = 0) -> dt.datetime:
    return dt.datetime(y, m, d, hh, mm, tzinfo=BEIJING).astimezone(dt.UTC)


def waiting(api: Api) -> dict[str, int]:
    return {s["code"]: s["waiting"] for s in api.get("/services", role="kiosk").json()}


def events(api: Api, kind: str) -> list[dict]:
    ctx: HallContext = api.client.app.state.ctx  # type: ignore[attr-defined]
    e = t.events
    with ctx.engine.connect() as conn:
        rows = conn.execute(
            select(e.c.data).where(e.c.hall_id == ctx.hall_id, e.c.type == kind).order_by(e.c.id)
        ).all()
    return [json.loads(r.data) for r in rows]


@pytest.fixture
def hours_api(tmp_path: Path, clock: FakeClock) -> Iterator[Api]:
    app = create_app(
        make_config(hours=HOURS), database=f"sqlite:///{tmp_path / 'hall.db'}", clock=clock
    )
    with TestClient(app) as client:
        yield Api(client)


def test_yesterdays_queue_is_not_called_in_the_morning(api: Api, clock: FakeClock) -> None:
    y1, y2, y3 = api.issue("B"), api.issue("B"), api.issue("C")
    assert api.call_next("1")["number"] == "B001"  # called, never finished
    assert [y1["number"], y2["number"], y3["number"]] == ["B001", "B002", "C001"]
    clock.now = at(2026, 11, 24, 8, 0)  # the next morning
    assert waiting(api) == {"A": 0, "B": 0, "C": 0, "X": 0}
    assert api.get("/counters/1").json()["current"] is None
    t1, t2 = api.issue("B"), api.issue("B")
    assert [t1["number"], t2["number"]] == ["B001", "B002"]
    assert t1["waiting_ahead"] == 0 and waiting(api)["B"] == 2
    # call-next gives today's B001 and B002, never yesterday's
    called = [api.call_next("1"), api.call_next("1"), api.call_next("1")]
    assert [c["id"] if c else None for c in called] == [t1["id"], t2["id"], None]
    for old in (y1, y2, y3):
        assert api.get(f"/tickets/{old['id']}").json()["status"] == "expired"
    expired = events(api, "ticket.expired")
    assert sorted(e["ticket"]["id"] for e in expired) == sorted([y1["id"], y2["id"], y3["id"]])
    assert all(e["ticket"]["status"] == "expired" for e in expired)
    closed = events(api, "day.closed")
    assert [(c["day"], c["expired"]) for c in closed] == [("2026-11-23", 3)]
    day1 = api.get("/stats?from=2026-11-23&to=2026-11-23").json()["total"]
    assert (day1["issued"], day1["expired"], day1["waiting_now"]) == (3, 3, 0)


def test_a_missed_ticket_cannot_come_back_the_next_day(api: Api, clock: FakeClock) -> None:
    ticket = api.issue("B")
    api.call_next("1")
    assert api.post("/counters/1/no-show").status_code == 200
    clock.now = at(2026, 11, 24, 0, 5)  # within the re-queue window, but another day
    r = api.post(f"/tickets/{ticket['id']}/requeue")
    assert r.status_code == 409 and r.json()["error"] == "requeue_window_passed"
    assert api.call_next("1") is None


def test_the_clock_stepping_back_does_not_reopen_yesterday(api: Api, clock: FakeClock) -> None:
    clock.now = at(2026, 11, 23, 23, 59)
    assert api.issue("B")["number"] == "B001"
    clock.now = at(2026, 11, 24, 0, 1)
    today = api.issue("B")
    assert today["number"] == "B001" and waiting(api)["B"] == 1
    clock.now = at(2026, 11, 23, 23, 58)  # NTP steps the clock back across midnight
    back = api.issue("B")
    assert back["number"] == "B002"  # today's numbering, not yesterday's B002 again
    clock.now = at(2026, 11, 24, 0, 3)
    # each number is called once (the order follows the clock's times, as FIFO does)
    numbers = [api.call_next("1")["number"], api.call_next("1")["number"]]
    assert sorted(numbers) == ["B001", "B002"] and api.call_next("1") is None


def test_a_restart_during_the_night_closes_the_day(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'hall.db'}"
    clock = FakeClock(at(2026, 11, 23, 16, 0))
    with TestClient(create_app(make_config(), database=url, clock=clock)) as client:
        evening = Api(client)
        ids = [evening.issue("B")["id"], evening.issue("C")["id"]]
    clock.now = at(2026, 11, 24, 3, 0)  # the server comes back at 03:00
    with TestClient(create_app(make_config(), database=url, clock=clock)) as client:
        morning = Api(client)
        assert waiting(morning) == {"A": 0, "B": 0, "C": 0, "X": 0}
        assert [morning.get(f"/tickets/{i}").json()["status"] for i in ids] == ["expired"] * 2
        assert morning.issue("B")["number"] == "B001"


def test_outside_opening_hours_a_ticket_is_refused_with_the_opening_time(
    hours_api: Api, clock: FakeClock
) -> None:
    api = hours_api
    clock.now = at(2026, 11, 23, 12, 30)  # lunch break on a Monday
    r = api.post("/tickets", {"service": "B"}, role="kiosk")
    assert r.status_code == 409 and r.json()["error"] == "outside_hours"
    assert r.json()["opens_at"] == "2026-11-23T13:30+08:00"
    assert r.json()["zh"] and r.json()["en"]
    services = {s["code"]: s for s in api.get("/services", role="kiosk").json()}
    assert services["B"]["open"] is False and services["B"]["opens_at"] == "2026-11-23T13:30+08:00"
    assert services["B"]["hours_today"] == ["08:30-12:00", "13:30-17:30"]
    clock.now = at(2026, 11, 23, 13, 30)
    assert api.issue("B")["number"] == "B001"
    # 延时服务 on Tuesday evenings
    clock.now = at(2026, 11, 24, 18, 0)
    assert api.issue("B")["number"] == "B001"
    assert "17:30-19:00+" in api.get("/services", role="kiosk").json()[1]["hours_today"]
    clock.now = at(2026, 11, 23, 18, 0)  # not on a Monday (the clock stepped back, too)
    r = api.post("/tickets", {"service": "B"}, role="kiosk")
    assert r.status_code == 409 and r.json()["opens_at"] == "2026-11-24T08:30+08:00"


def test_national_holidays_and_working_weekends(hours_api: Api, clock: FakeClock) -> None:
    api = hours_api
    clock.now = at(2026, 10, 1, 10, 0)  # 国庆节
    r = api.post("/tickets", {"service": "B"}, role="kiosk")
    assert r.status_code == 409 and r.json()["opens_at"] == "2026-10-08T08:30+08:00"
    clock.now = at(2026, 10, 10, 10, 0)  # a Saturday that is a 调休 working day
    assert api.issue("B")["number"] == "B001"
    clock.now = at(2026, 10, 17, 10, 0)  # an ordinary Saturday: closed here
    r = api.post("/tickets", {"service": "B"}, role="kiosk")
    assert r.status_code == 409 and r.json()["opens_at"] == "2026-10-19T08:30+08:00"


def test_open_tickets_expire_an_hour_after_closing(hours_api: Api, clock: FakeClock) -> None:
    api = hours_api
    clock.now = at(2026, 11, 23, 17, 0)
    late = api.issue("B")
    clock.now = at(2026, 11, 23, 18, 29)  # staff still serve those who waited
    assert waiting(api)["B"] == 1
    clock.now = at(2026, 11, 23, 18, 30)
    assert waiting(api)["B"] == 0
    assert api.get(f"/tickets/{late['id']}").json()["status"] == "expired"
    assert api.call_next("1") is None


def test_a_service_can_keep_its_own_hours(tmp_path: Path, clock: FakeClock) -> None:
    config = make_config(hours=HOURS)
    raw_services = [s.model_dump() for s in config.services]
    assert raw_services  # the helper's hall has services to change
    from hall.config import Hours

    c_hours = Hours.model_validate({"workdays": ["09:00-11:00"]})
    services = tuple(
        s.model_copy(update={"hours": c_hours}) if s.code == "C" else s for s in config.services
    )
    config = config.model_copy(update={"services": services})
    app = create_app(config, database=f"sqlite:///{tmp_path / 'h.db'}", clock=clock)
    with TestClient(app) as client:
        api = Api(client)
        clock.now = at(2026, 11, 23, 11, 30)
        assert api.issue("B")["number"] == "B001"
        r = api.post("/tickets", {"service": "C"}, role="kiosk")
        assert r.status_code == 409 and r.json()["opens_at"] == "2026-11-24T09:00+08:00"

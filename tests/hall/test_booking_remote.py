"""远程取号 (issue 21): near the hall by the browser's position a normal ticket marked
remote is issued; far away it is refused with ``too_far``; it is not called until it is
confirmed on arrival, keeps its place in time once confirmed, and expires when not
confirmed in time. With location off, a daily limit per person instead."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from hall.app import create_app
from hall.config import RemoteTickets
from hall.domain.booking import distance_m
from hall.storage import tables as t
from tests.hall.test_booking_api import person
from tests.support.clock import FakeClock
from tests.support.hall import YOUNG, Api, make_config

HALL = (39.9123, 116.3661)
NEAR = {"lat": 39.9140, "lon": 116.3670}  # about 200 m
FAR = {"lat": 39.9300, "lon": 116.3661}  # about 2 km


def remote_api(database: tuple[str, str], clock: FakeClock, **remote: object) -> Iterator[Api]:
    url, hall_id = database
    cfg = make_config(hall_id)
    settings = {"enabled": True, "latitude": HALL[0], "longitude": HALL[1], **remote}
    cfg = cfg.model_copy(update={"remote": RemoteTickets.model_validate(settings)})
    booking = cfg.booking.model_copy(update={"rate_per_minute": 10000})
    app = create_app(cfg.model_copy(update={"booking": booking}), database=url, clock=clock)
    with TestClient(app) as client:
        yield Api(client)


@pytest.fixture
def hall(database: tuple[str, str], clock: FakeClock) -> Iterator[Api]:
    yield from remote_api(database, clock)


def take(
    api: Api, who: str = YOUNG, position: dict[str, float] | None = NEAR, service: str = "A"
) -> Any:
    body: dict[str, object] = {"service": service, "id_number": who}
    if position is not None:
        body["position"] = position
    return api.post("/remote-tickets", body, role=None)


def test_distance() -> None:
    assert 150 < distance_m(*HALL, NEAR["lat"], NEAR["lon"]) < 250
    assert 1800 < distance_m(*HALL, FAR["lat"], FAR["lon"]) < 2000


def test_near_is_issued_far_is_refused(hall: Api) -> None:
    far = take(hall, position=FAR)
    assert far.status_code == 403 and far.json()["error"] == "too_far"
    assert YOUNG not in far.text
    none = take(hall, position=None)
    assert none.status_code == 422 and none.json()["error"] == "position_required"
    near = take(hall)
    assert near.status_code == 201, near.text
    t = near.json()
    assert t["remote"] is True and t["confirmed"] is False and t["priority"] == "normal"
    assert t["confirm_by"] == "2026-11-23T10:00:00+08:00" and t["id_masked"].startswith("110")
    assert take(hall).json()["error"] == "daily_limit"  # one open ticket per service


def test_not_called_until_confirmed_then_in_its_place(hall: Api, clock: FakeClock) -> None:
    remote = take(hall).json()
    clock.advance(60)
    walk_in = hall.issue("A", id_number=person(25))  # born 1985: no green channel
    assert hall.call_next("2")["id"] == walk_in["id"]  # the remote one is passed by
    assert hall.call_next("2") is None
    walk_in2 = hall.issue("A", id_number=person(26))
    r = hall.post(f"/remote-tickets/{remote['public_token']}/confirm", role="kiosk")
    assert r.status_code == 200 and r.json()["confirmed"] and r.json()["confirm_by"] is None
    again = hall.post(f"/remote-tickets/{remote['public_token']}/confirm", role="counter")
    assert again.status_code == 200  # a second scan changes nothing
    hall.post("/counters/2/finish")
    assert hall.call_next("2")["id"] == remote["id"]  # taken before walk_in2: first
    hall.post("/counters/2/finish")
    assert hall.call_next("2")["id"] == walk_in2["id"]
    nobody = hall.post(f"/remote-tickets/{remote['public_token']}/confirm", role=None)
    assert nobody.status_code == 401
    plain = hall.post(f"/remote-tickets/{walk_in['public_token']}/confirm", role="kiosk")
    assert plain.status_code == 409 and plain.json()["error"] == "not_remote"


def test_unconfirmed_in_time_expires(hall: Api, clock: FakeClock) -> None:
    remote = take(hall).json()
    clock.advance(61 * 60)
    late = hall.post(f"/remote-tickets/{remote['public_token']}/confirm", role="kiosk")
    assert late.status_code == 409 and late.json()["error"] == "remote_expired"
    assert hall.get(f"/tickets/{remote['id']}").json()["status"] == "expired"
    assert take(hall).status_code == 201  # the expired one no longer holds the day's ticket


def test_unconfirmed_in_time_expires_by_itself(database: tuple[str, str], clock: FakeClock) -> None:
    """Nobody confirms and no counter calls it: the hall's own sweep expires it, with its
    event, so boards and the phone page stop counting it as waiting."""
    url, hall_id = database
    cfg = make_config(hall_id)
    settings = {"enabled": True, "latitude": HALL[0], "longitude": HALL[1]}
    cfg = cfg.model_copy(update={"remote": RemoteTickets.model_validate(settings)})
    app = create_app(cfg, database=url, clock=clock, remote_sweep_s=0.05)
    with TestClient(app) as client:
        api = Api(client)
        remote = take(api).json()
        time.sleep(0.3)  # several sweeps: not yet due, so still waiting
        assert api.get(f"/tickets/{remote['id']}").json()["status"] == "waiting"
        clock.advance(61 * 60)
        deadline = time.monotonic() + 10
        while api.get(f"/tickets/{remote['id']}").json()["status"] != "expired":
            assert time.monotonic() < deadline, "the sweep did not expire the ticket"
            time.sleep(0.05)
        with app.state.ctx.read() as conn:
            kinds = conn.execute(
                select(t.events.c.data).where(
                    t.events.c.hall_id == hall_id, t.events.c.type == "ticket.expired"
                )
            ).scalars()
            assert ['"remote_unconfirmed"' in data for data in kinds] == [True]


def test_outside_opening_hours_is_refused(database: tuple[str, str], clock: FakeClock) -> None:
    url, hall_id = database
    cfg = make_config(hall_id, hours={"workdays": ["13:00-17:00"], "saturday": [], "sunday": []})
    remote = RemoteTickets(enabled=True, latitude=HALL[0], longitude=HALL[1])
    app = create_app(cfg.model_copy(update={"remote": remote}), database=url, clock=clock)
    with TestClient(app) as client:
        r = take(Api(client))
        assert r.status_code == 409 and r.json()["error"] == "outside_hours"


def test_location_off_means_a_daily_limit(database: tuple[str, str], clock: FakeClock) -> None:
    for api in remote_api(database, clock, use_location=False, latitude=None, longitude=None):
        assert take(api, position=None).status_code == 201
        second = take(api, position=None, service="B")
        assert second.status_code == 409 and second.json()["error"] == "remote_limit"
        assert take(api, person(9), position=None, service="B").status_code == 201


def test_off_unless_the_hall_turns_it_on(api: Api) -> None:
    r = take(api)
    assert r.status_code == 409 and r.json()["error"] == "remote_disabled"


def test_a_counter_calling_an_unconfirmed_remote_ticket_confirms_it(
    hall: Api, clock: FakeClock
) -> None:
    remote = take(hall).json()
    walk_in = hall.issue("A", id_number=person(25))
    clock.advance(60)
    called = hall.post("/counters/2/call", {"ticket": remote["id"]})  # its holder is here
    assert called.status_code == 200, called.text
    assert called.json()["status"] == "called" and called.json()["counter"] == "2"
    ctx = hall.client.app.state.ctx  # type: ignore[attr-defined]
    with ctx.engine.connect() as conn:
        T, E = t.tickets, t.events
        row = conn.execute(select(T).where(T.c.id == remote["id"])).one()
        kinds = conn.execute(
            select(E.c.type).where(E.c.hall_id == ctx.hall_id).order_by(E.c.id)
        ).scalars()
        assert (row.confirm_by, row.confirmed_at) == (None, clock.now)  # recorded as arrived
        assert [k for k in kinds if k in ("ticket.confirmed", "ticket.called")] == [
            "ticket.confirmed",
            "ticket.called",
        ]
    hall.post("/counters/2/finish")
    assert hall.call_next("2")["id"] == walk_in["id"]


def test_calling_a_remote_ticket_after_its_confirmation_time_is_refused(
    hall: Api, clock: FakeClock
) -> None:
    remote = take(hall).json()
    clock.advance(61 * 60)
    late = hall.post("/counters/2/call", {"ticket": remote["id"]})
    assert late.status_code == 409 and late.json()["error"] == "remote_expired"
    assert late.json()["zh"] and late.json()["en"]
    assert hall.get(f"/tickets/{remote['id']}").json()["status"] == "expired"

"""Appointments (预约) and check-in; help requests and device heartbeats."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from tests.hall.test_booking_api import person
from tests.support.clock import FakeClock
from tests.support.hall import YOUNG, YOUNG2, Api

TZ = ZoneInfo("Asia/Shanghai")


def slot(clock: FakeClock, minutes: int) -> str:
    return (clock.now + dt.timedelta(minutes=minutes)).isoformat()


def at(start: dt.datetime, minutes: int) -> str:
    return (start + dt.timedelta(minutes=minutes)).isoformat()


def test_check_in_on_time_gives_an_appointment_ticket_first_in_line(
    api: Api, clock: FakeClock
) -> None:
    api.issue("A", id_number=YOUNG2)
    r = api.post(
        "/appointments",
        {"service": "A", "id_number": YOUNG, "slot_start": slot(clock, 30)},
        role="admin",
    )
    assert r.status_code == 201 and r.json()["id_masked"] == "110***********0016"
    assert YOUNG not in r.text
    t = api.post("/appointments/check-in", {"id_number": YOUNG}, role="kiosk")
    assert t.status_code == 201 and t.json()["priority"] == "appointment"
    assert t.json()["waiting_ahead"] == 0
    assert api.call_next("2")["id"] == t.json()["id"]
    again = api.post("/appointments/check-in", {"id_number": YOUNG}, role="kiosk")
    assert again.status_code == 409 and again.json()["error"] == "already_checked_in"


def test_late_check_in_is_normal_and_early_is_refused(api: Api, clock: FakeClock) -> None:
    api.post(
        "/appointments",
        {"service": "B", "id_number": YOUNG, "slot_start": slot(clock, 120)},
        role="admin",
    )
    r = api.post("/appointments/check-in", {"id_number": YOUNG}, role="kiosk")
    assert r.status_code == 409 and r.json()["error"] == "too_early"
    assert "10:00" in r.json()["message"]  # opens 1 h before the 11:00 slot
    clock.advance(120 * 60 + 16 * 60)
    t = api.post("/appointments/check-in", {"id_number": YOUNG}, role="kiosk").json()
    assert t["priority"] == "normal" and t["priority_reason"] == "late"


def test_check_in_without_appointment_and_bad_input(api: Api, clock: FakeClock) -> None:
    r = api.post("/appointments/check-in", {"id_number": YOUNG}, role="kiosk")
    assert r.status_code == 404 and r.json()["error"] == "no_appointment"
    r = api.post("/appointments/check-in", {"id_number": "123"}, role="kiosk")
    assert r.status_code == 422 and r.json()["error"] == "invalid_id_number"
    r = api.post(
        "/appointments",
        {"service": "A", "id_number": YOUNG, "slot_start": slot(clock, 30)},
        role="kiosk",
    )
    assert r.status_code == 403
    r = api.post(
        "/appointments",
        {"service": "A", "id_number": YOUNG, "slot_start": "tomorrow"},
        role="admin",
    )
    assert r.status_code == 422


def test_help_request_and_heartbeat_are_stored_and_published(api: Api, clock: FakeClock) -> None:
    r = api.post("/help-requests", {"kiosk": "K1", "reason": "不会操作"}, role="kiosk")
    assert r.status_code == 201
    assert [h["kiosk"] for h in api.get("/help-requests", role="counter").json()] == ["K1"]
    api.post(f"/help-requests/{r.json()['id']}/resolve", role="counter")
    assert api.get("/help-requests", role="counter").json() == []
    hb = {"device": "K1", "parts": {"printer": "ok", "reader": "ok"}}
    assert api.post("/devices/heartbeat", hb, role="kiosk").json()["changed"] is True
    assert api.post("/devices/heartbeat", hb, role="kiosk").json()["changed"] is False
    hb["parts"]["printer"] = "error"
    assert api.post("/devices/heartbeat", hb, role="kiosk").json()["changed"] is True
    bad = api.post(
        "/devices/heartbeat", {"device": "K1", "parts": {"printer": "on fire"}}, role="kiosk"
    )
    assert bad.status_code == 422
    devices = api.get("/devices", role="counter").json()
    assert devices[0]["parts"]["printer"] == "error" and devices[0]["online"]
    clock.advance(31)
    assert api.get("/devices", role="admin").json()[0]["online"] is False


def test_retried_check_in_gets_the_same_ticket(api: Api, clock: FakeClock) -> None:
    api.post(
        "/appointments",
        {"service": "A", "id_number": YOUNG, "slot_start": slot(clock, 10)},
        role="admin",
    )
    h = {"Idempotency-Key": "checkin-1"}
    first = api.post("/appointments/check-in", {"id_number": YOUNG}, role="kiosk", headers=h)
    again = api.post("/appointments/check-in", {"id_number": YOUNG}, role="kiosk", headers=h)
    assert first.status_code == again.status_code == 201
    assert first.json()["id"] == again.json()["id"]
    assert again.headers.get("Idempotent-Replayed") == "true"
    other = api.post("/appointments/check-in", {"id_number": YOUNG2}, role="kiosk", headers=h)
    assert other.status_code == 409 and other.json()["error"] == "idempotency_key_reused"
    fresh = api.post("/appointments/check-in", {"id_number": YOUNG}, role="kiosk")
    assert fresh.status_code == 409 and fresh.json()["error"] == "already_checked_in"
    assert api.get("/services", role="kiosk").json()[0]["waiting"] == 1


def test_check_in_by_appointment_id_needs_the_card_that_booked_it(
    api: Api, clock: FakeClock
) -> None:
    # issue "reliability" 7: {"service": "J", "appointment_id": N} checked in anyone's
    # appointment N, for another service, by trying ids
    booked = api.post(
        "/appointments",
        {"service": "A", "id_number": YOUNG, "slot_start": slot(clock, 30)},
        role="admin",
    ).json()
    for body in (
        {"service": "B", "appointment_id": booked["id"]},  # no card at all
        {"service": "B", "appointment_id": booked["id"], "id_number": YOUNG2},  # another's
    ):
        r = api.post("/tickets", body, role="kiosk")
        assert r.status_code in (404, 422), r.text
        assert r.json()["error"] in ("id_required", "no_appointment")
    r = api.post(
        "/tickets",
        {"service": "B", "appointment_id": booked["id"], "id_number": YOUNG},
        role="kiosk",
    )
    assert r.status_code == 409 and r.json()["error"] == "appointment_other_service"
    # what still holds: the appointment is still there for its holder, for its service
    t = api.post(
        "/tickets",
        {"service": "A", "appointment_id": booked["id"], "id_number": YOUNG},
        role="kiosk",
    )
    assert t.status_code == 201 and t.json()["service"] == "A"
    assert t.json()["priority"] == "appointment"


def test_a_ticket_carries_how_its_holder_was_verified(api: Api) -> None:
    face = api.issue("A", id_number=YOUNG, verification="face")
    manual = api.issue("A", id_number=YOUNG2, verification="manual")
    plain = api.issue("B")
    assert (face["verification"], manual["verification"], plain["verification"]) == (
        "face",
        "manual",
        None,
    )
    r = api.post("/tickets", {"service": "B", "verification": "photo"}, role="kiosk")
    assert r.status_code == 422
    total = api.get("/stats").json()["total"]
    assert (total["face_verified"], total["manual_verification"]) == (1, 1)
    called = api.call_next("1")
    assert called["id"] == face["id"] and called["verification"] == "face"


def test_admin_appointments_take_the_places_of_their_slot(api: Api, clock: FakeClock) -> None:
    """POST /appointments counts against the slot its time falls in, as citizens' bookings
    do: 3 bookable places of a 30-minute slot (capacity 4, a quarter kept for walk-ins)."""
    tue = dt.datetime(2026, 11, 24, 9, 0, tzinfo=TZ)
    for n, minute in enumerate((5, 20)):  # inside the 09:00 slot, not at its start
        r = api.post(
            "/appointments",
            {"service": "A", "id_number": person(n), "slot_start": at(tue, minute)},
            role="admin",
        )
        assert r.status_code == 201, r.text
    slots = api.get("/booking/slots", params={"service": "A"}, role=None).json()
    nine = next(s for s in slots["days"][0]["slots"] if s["start"] == at(tue, 0))
    assert nine["left"] == 1
    body = {"service": "A", "slot_start": at(tue, 0), "name": "张三", "phone": "13812345678"}
    assert api.post("/bookings", body | {"id_number": person(2)}, role=None).status_code == 201
    full = api.post("/bookings", body | {"id_number": person(3)}, role=None)
    assert full.status_code == 409 and full.json()["error"] == "slot_full"
    desk = api.post(
        "/appointments",
        {"service": "A", "id_number": person(4), "slot_start": at(tue, 25)},
        role="admin",
    )
    assert desk.status_code == 409 and desk.json()["error"] == "slot_full"
    assert desk.json()["zh"] == "该时段已约满，请选择其他时段" and desk.json()["en"]
    other = api.post(  # the next slot has its own places
        "/appointments",
        {"service": "A", "id_number": person(4), "slot_start": at(tue, 30)},
        role="admin",
    )
    assert other.status_code == 201, other.text


def test_a_full_slot_today_refuses_the_next_admin_appointment(api: Api, clock: FakeClock) -> None:
    for n in range(3):
        r = api.post(
            "/appointments",
            {"service": "B", "id_number": person(10 + n), "slot_start": slot(clock, 60)},
            role="admin",
        )
        assert r.status_code == 201, r.text
    fourth = api.post(
        "/appointments",
        {"service": "B", "id_number": person(13), "slot_start": slot(clock, 70)},
        role="admin",
    )
    assert fourth.status_code == 409 and fourth.json()["error"] == "slot_full"

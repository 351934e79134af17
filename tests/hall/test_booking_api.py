"""Online booking through Hall API v1 (issue 21): slots, book, view, cancel, reschedule,
the limits and the month's block, closures with notice, arrival by code and by ID card,
the staff's day, the per-address limit. The test hall is open around the clock; the clock
starts on Monday 2026-11-23 09:00 (Beijing), so the window is Tue 24 … Mon 30 November."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from zoneinfo import ZoneInfo

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from common.personal import id_check_char
from hall.app import create_app
from hall.config import Booking, HallConfig
from hall.storage import tables as t
from tests.support.clock import FakeClock
from tests.support.hall import YOUNG, Api, make_config

TZ = ZoneInfo("Asia/Shanghai")
PHONE = "13812345678"


def person(n: int) -> str:
    """A valid ID number of its own for every n (born 1960–1999)."""
    first17 = f"110105{1960 + n % 40}{n % 12 + 1:02d}{n % 28 + 1:02d}{n % 1000:03d}"
    return first17 + id_check_char(first17)


def at(day: int, hh: int, mm: int = 0) -> str:
    return dt.datetime(2026, 11, day, hh, mm, tzinfo=TZ).isoformat()


def config(hall_id: str, **booking: object) -> HallConfig:
    base = make_config(hall_id)
    return base.model_copy(update={"booking": Booking.model_validate(booking)})


@pytest.fixture
def hall(database: tuple[str, str], clock: FakeClock) -> Iterator[Api]:
    url, hall_id = database
    app = create_app(config(hall_id, rate_per_minute=10000), database=url, clock=clock)
    with TestClient(app) as client:
        yield Api(client)


def book(
    api: Api, slot: str, who: str = YOUNG, service: str = "A", role: str | None = None, **kw: object
) -> httpx.Response:
    body = {"service": service, "slot_start": slot, "name": "张三", "id_number": who}
    body |= {"phone": PHONE, **kw}
    return api.post("/bookings", body, role=role)


def test_slots_book_view_cancel(hall: Api) -> None:
    r = hall.get("/booking/slots", params={"service": "A"}, role=None)
    assert r.status_code == 200, r.text
    days = r.json()["days"]
    assert [d["day"][-2:] for d in days] == ["24", "25", "26", "27", "28", "29", "30"]
    assert [d["state"] for d in days][4:6] == ["weekend", "weekend"]
    tue = days[0]["slots"]
    assert tue[18] == {"start": at(24, 9), "end": at(24, 9, 30), "capacity": 3, "left": 3}
    assert r.json()["materials"] == ["身份证"]

    made = book(hall, at(24, 9))
    assert made.status_code == 201, made.text
    b = made.json()
    assert (b["status"], b["name_masked"], b["id_masked"], b["phone_masked"]) == (
        "booked",
        "张*",
        "110***********0016",
        "138****5678",
    )
    assert b["channel"] == "online" and b["can_change"] and len(b["code"]) == 10
    assert b["cancel_until"] == at(24, 7) and b["check_in_from"] == at(24, 8)
    for text in (made.text, hall.get(f"/bookings/{b['code']}", role=None).text):
        assert YOUNG not in text and "张三" not in text and PHONE not in text
    left = hall.get("/booking/slots", params={"service": "A"}, role=None).json()
    assert left["days"][0]["slots"][18]["left"] == 2

    shown = hall.get(f"/bookings/{b['code'][:5]}-{b['code'][5:].lower()}", role=None)
    assert shown.status_code == 200 and shown.json()["code"] == b["code"]
    gone = hall.post(f"/bookings/{b['code']}/cancel", role=None)
    assert gone.status_code == 200 and gone.json()["status"] == "cancelled"
    assert gone.json()["cancel_reason"] == "citizen" and not gone.json()["can_change"]
    again = hall.post(f"/bookings/{b['code']}/cancel", role=None)
    assert again.status_code == 409 and again.json()["error"] == "booking_not_open"
    left = hall.get("/booking/slots", params={"service": "A"}, role=None).json()
    assert left["days"][0]["slots"][18]["left"] == 3
    assert hall.get("/bookings/ABCDE23456", role=None).json()["error"] == "booking_not_found"


def test_a_full_slot_refuses_and_the_walk_in_share_stays_free(hall: Api) -> None:
    for n in range(3):
        assert book(hall, at(24, 10), person(n)).status_code == 201
    full = book(hall, at(24, 10), person(3))
    assert full.status_code == 409 and full.json()["error"] == "slot_full"
    assert full.json()["zh"] == "该时段已约满，请选择其他时段"


def test_one_per_service_and_day_and_three_open_in_all(hall: Api) -> None:
    assert book(hall, at(24, 9)).status_code == 201
    same_day = book(hall, at(24, 15))
    assert same_day.status_code == 409 and same_day.json()["error"] == "limit_reached"
    assert book(hall, at(24, 15), service="B").status_code == 201  # another service
    assert book(hall, at(25, 9)).status_code == 201
    fourth = book(hall, at(26, 9))
    assert fourth.status_code == 409 and fourth.json()["error"] == "limit_reached"


def test_two_no_shows_block_booking_until_the_end_of_the_month(hall: Api, clock: FakeClock) -> None:
    one = book(hall, at(24, 9)).json()
    book(hall, at(25, 9))
    clock.now = dt.datetime(2026, 11, 24, 9, 44, tzinfo=TZ)  # slot end 09:30 + 15 min grace
    assert hall.get(f"/bookings/{one['code']}", role=None).json()["status"] == "booked"
    clock.now = dt.datetime(2026, 11, 24, 9, 46, tzinfo=TZ)
    assert hall.get(f"/bookings/{one['code']}", role=None).json()["status"] == "no_show"
    late = hall.post(f"/bookings/{one['code']}/check-in", role="kiosk")
    assert late.status_code == 409 and late.json()["error"] == "booking_missed"
    assert book(hall, at(26, 9)).status_code == 201  # one no-show: still allowed
    clock.now = dt.datetime(2026, 11, 25, 10, 0, tzinfo=TZ)
    blocked = book(hall, at(27, 9))
    assert blocked.status_code == 409, blocked.text
    body = blocked.json()
    assert (body["error"], body["block_reason"], body["blocked_until"]) == (
        "blocked",
        "no_show",
        "2026-11-30",
    )
    assert book(hall, at(27, 9), person(7)).status_code == 201  # others are not blocked
    day = hall.get("/bookings", params={"day": "2026-11-24"}, role="counter").json()
    a = next(s for s in day["services"] if s["service"] == "A")
    assert (a["booked"], a["arrived"], a["no_show"]) == (0, 0, 1)
    clock.now = dt.datetime(2026, 12, 1, 8, 0, tzinfo=TZ)  # a new month
    assert book(hall, "2026-12-02T09:00:00+08:00").status_code == 201


def test_five_cancellations_block_and_cancel_deadline(hall: Api, clock: FakeClock) -> None:
    for n in range(5):
        code = book(hall, at(24 + n % 3, 9 + n)).json()["code"]
        assert hall.post(f"/bookings/{code}/cancel", role=None).status_code == 200
    blocked = book(hall, at(26, 16))
    assert blocked.json()["error"] == "blocked" and blocked.json()["block_reason"] == "cancelled"

    code = book(hall, at(24, 9), person(1)).json()["code"]
    clock.now = dt.datetime(2026, 11, 24, 7, 1, tzinfo=TZ)  # 09:00 − 2 h has passed
    late = hall.post(f"/bookings/{code}/cancel", role=None)
    assert late.status_code == 409 and late.json()["error"] == "cancel_too_late"
    assert hall.get(f"/bookings/{code}", role=None).json()["can_change"] is False
    staff = hall.post(f"/bookings/{code}/cancel", role="admin")
    assert staff.status_code == 200 and staff.json()["cancel_reason"] == "staff"


def test_reschedule_moves_the_booking_and_frees_its_place(hall: Api) -> None:
    for n in range(2):
        book(hall, at(25, 9), person(n))
    b = book(hall, at(24, 9)).json()
    moved = hall.post(f"/bookings/{b['code']}/reschedule", {"slot_start": at(25, 9)}, role=None)
    assert moved.status_code == 200, moved.text
    assert moved.json()["slot_start"] == at(25, 9) and moved.json()["code"] == b["code"]
    slots = hall.get("/booking/slots", params={"service": "A"}, role=None).json()["days"]
    assert slots[0]["slots"][18]["left"] == 3 and slots[1]["slots"][18]["left"] == 0
    full = hall.post(f"/bookings/{b['code']}/reschedule", {"slot_start": at(25, 9)}, role=None)
    assert full.status_code == 200  # its own place counts once
    sunday = hall.post(f"/bookings/{b['code']}/reschedule", {"slot_start": at(29, 9)}, role=None)
    assert sunday.status_code == 409 and sunday.json()["error"] == "not_bookable"


def test_closing_a_day_cancels_its_bookings_with_the_notice(hall: Api) -> None:
    b = book(hall, at(25, 9)).json()
    other = book(hall, at(25, 9), person(1), service="B").json()
    notice = "因系统升级，11月25日暂停预约办理，请改约其他日期"
    r = hall.post(
        "/booking/closures", {"day": "2026-11-25", "service": "A", "notice": notice}, role="admin"
    )
    assert r.status_code == 201 and r.json()["cancelled"] == 1
    shown = hall.get(f"/bookings/{b['code']}", role=None).json()
    assert (shown["status"], shown["cancel_reason"], shown["notice"]) == (
        "cancelled",
        "closed",
        notice,
    )
    assert hall.get(f"/bookings/{other['code']}", role=None).json()["status"] == "booked"
    day = hall.get("/booking/slots", params={"service": "A"}, role=None).json()["days"][1]
    assert (day["state"], day["notice"], day["slots"]) == ("closed", notice, [])
    assert book(hall, at(25, 10), person(2)).json()["error"] == "not_bookable"
    assert (
        hall.post(
            "/booking/closures", {"day": "2026-11-25", "notice": "x"}, role="counter"
        ).status_code
        == 403
    )


def test_arrival_by_code_and_by_id_card(hall: Api, clock: FakeClock) -> None:
    b = book(hall, at(24, 9)).json()
    card = book(hall, at(24, 9), person(1)).json()
    early = hall.post(f"/bookings/{b['code']}/check-in", role="kiosk")
    assert early.status_code == 409 and early.json()["error"] == "booking_not_today"
    clock.now = dt.datetime(2026, 11, 24, 8, 40, tzinfo=TZ)
    t = hall.post(
        f"/bookings/{b['code']}/check-in", role="kiosk", headers={"Idempotency-Key": "qr-1"}
    )
    assert t.status_code == 201 and t.json()["priority"] == "appointment", t.text
    replay = hall.post(
        f"/bookings/{b['code']}/check-in", role="kiosk", headers={"Idempotency-Key": "qr-1"}
    )
    assert replay.json()["id"] == t.json()["id"]
    twice = hall.post(f"/bookings/{b['code']}/check-in", role="kiosk")
    assert twice.json()["error"] == "already_checked_in"
    assert hall.get(f"/bookings/{b['code']}", role=None).json()["status"] == "checked_in"
    by_card = hall.post("/appointments/check-in", {"id_number": person(1)}, role="kiosk")
    assert by_card.status_code == 201 and by_card.json()["priority"] == "appointment"
    assert (
        hall.get(f"/bookings/{card['code']}", role=None).json()["ticket_id"] == by_card.json()["id"]
    )
    assert hall.post(f"/bookings/{b['code']}/check-in", role=None).status_code == 401
    day = hall.get("/bookings", role="counter").json()
    a = next(s for s in day["services"] if s["service"] == "A")
    assert (a["booked"], a["arrived"], a["capacity"]) == (0, 2, 48 * 3)
    assert all(YOUNG not in str(e) for e in day["bookings"])


def test_desk_booking_for_a_citizen_without_a_phone(hall: Api) -> None:
    r = book(hall, at(24, 9), phone=None, role="admin")
    assert r.status_code == 201 and r.json()["channel"] == "desk"
    assert r.json()["phone_masked"] is None
    public = book(hall, at(24, 9), person(2), phone=None)
    assert public.status_code == 422 and public.json()["error"] == "invalid_phone"
    assert book(hall, at(24, 9), person(3), role="kiosk").status_code == 403


@pytest.mark.parametrize(
    ("change", "status", "code"),
    [
        ({"id_number": "110105200001010017"}, 422, "invalid_id_number"),
        ({"phone": "12345678901"}, 422, "invalid_phone"),
        ({"name": "110105200001010016"}, 422, "invalid_name"),
        ({"service": "Q"}, 404, "unknown_service"),
        ({"service": "X"}, 409, "not_bookable"),  # a closed service
        ({"slot_start": at(24, 9, 10)}, 409, "not_bookable"),  # no slot starts at 09:10
        ({"slot_start": at(23, 18)}, 409, "not_bookable"),  # today: from tomorrow
        ({"slot_start": "2026-12-01T09:00:00+08:00"}, 409, "not_bookable"),  # 6th working day
        ({"slot_start": "2026-11-24T09:00:00"}, 422, "invalid_request"),  # no offset
    ],
)
def test_bad_bookings_are_refused_with_their_code(
    hall: Api, change: dict[str, str], status: int, code: str
) -> None:
    change = dict(change)  # the parameters are shared by the sqlite and postgres runs
    slot = change.pop("slot_start", at(24, 9))
    r = book(hall, slot, **change)
    assert (r.status_code, r.json()["error"]) == (status, code), r.text
    assert "110105200001010016" not in r.text


def test_phone_numbers_are_read_as_people_type_them(hall: Api) -> None:
    for n, phone in enumerate(("+86 138-1234-5678", "86 13812345678", "１３８ １２３４ ５６７８")):
        r = book(hall, at(24, 9 + n), person(n), phone=phone)
        assert r.status_code == 201 and r.json()["phone_masked"] == "138****5678", r.text


def test_public_routes_are_limited_per_address(database: tuple[str, str], clock: FakeClock) -> None:
    url, hall_id = database
    app = create_app(config(hall_id, rate_per_minute=5), database=url, clock=clock)
    with TestClient(app) as client:
        api = Api(client)
        answers = [api.get("/bookings/ABCDE23456", role=None).status_code for _ in range(7)]
        assert answers == [404] * 5 + [429] * 2
        assert api.get("/booking/slots", params={"service": "A"}, role=None).status_code == 200


def _stored(api: Api) -> list[tuple[str, str | None]]:
    """(status, phone) of every booking as the database holds it (not as a page shows it)."""
    ctx = api.client.app.state.ctx  # type: ignore[attr-defined]
    A = t.appointments
    with ctx.engine.connect() as conn:
        rows = conn.execute(
            select(A.c.status, A.c.phone).where(A.c.hall_id == ctx.hall_id).order_by(A.c.id)
        ).all()
    return [(r.status, r.phone) for r in rows]


def test_the_days_closing_writes_down_missed_bookings_and_two_block(
    hall: Api, clock: FakeClock
) -> None:
    """Nobody calls mark_no_shows: the hall's day does. A booking not checked in by its
    slot's end + grace is stored as a no-show when the day closes (its number dropped), and
    two of them block booking for the rest of the month."""
    book(hall, at(24, 9))
    book(hall, at(25, 9))
    clock.now = dt.datetime(2026, 11, 24, 12, 0, tzinfo=TZ)
    assert _stored(hall) == [("booked", PHONE), ("booked", PHONE)]  # shown missed, not closed
    clock.now = dt.datetime(2026, 11, 25, 0, 5, tzinfo=TZ)  # the 24th has closed
    hall.get("/booking/slots", params={"service": "A"}, role=None)  # after the closing
    assert _stored(hall) == [("no_show", None), ("booked", PHONE)]
    clock.now = dt.datetime(2026, 11, 26, 0, 5, tzinfo=TZ)
    hall.get("/booking/slots", params={"service": "A"}, role=None)
    assert _stored(hall) == [("no_show", None), ("no_show", None)]
    blocked = book(hall, at(27, 9))
    assert blocked.status_code == 409 and blocked.json()["error"] == "blocked"
    assert blocked.json()["block_reason"] == "no_show" and blocked.json()["zh"]

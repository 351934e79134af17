"""Booking through the nginx front (issue 21): the booking pages, their public reads and
writes and their files pass; the staff's day list and the kiosk's check-in do not; the
booking code stays out of nginx's access log."""

from __future__ import annotations

import time

import pytest
import requests

from tests.hall.test_booking_api import person
from tests.ops.test_nginx import Front, front  # noqa: F401 (the module's nginx front)

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(180)]


def test_booking_passes_through_nginx_and_staff_routes_do_not(front: Front) -> None:  # noqa: F811
    cert = str(front.cert)
    home = front.get("/book/")
    assert home.status_code == 200 and "预约办事" in home.text
    for path in ("/web/static/book.css", "/web/static/book.js", "/web/static/companion.js"):
        assert front.get(path).status_code == 200, path
    slots = front.get("/api/v1/booking/slots?service=A")
    assert slots.status_code == 200, slots.text
    day = next(d for d in slots.json()["days"] if d["state"] == "open")
    body = {
        "service": "A",
        "slot_start": day["slots"][0]["start"],
        "name": "张三",
        "id_number": person(700),
        "phone": "13812345678",
    }
    made = requests.post(front.url + "/api/v1/bookings", json=body, verify=cert, timeout=10)
    assert made.status_code == 201, made.text
    code = made.json()["code"]
    assert front.get(f"/book/b/{code}").status_code == 200
    assert front.get(f"/api/v1/bookings/{code}").json()["status"] == "booked"
    # staff and kiosk routes stay on the hall's LAN
    assert front.get("/api/v1/bookings?day=2026-01-05").status_code in (403, 404)
    r = requests.post(front.url + f"/api/v1/bookings/{code}/check-in", verify=cert, timeout=10)
    assert r.status_code == 404
    deadline = time.monotonic() + 5
    while "/book/b/*" not in (log := front.access_log.read_text(encoding="utf-8")):
        assert time.monotonic() < deadline, log[-2000:]
        time.sleep(0.05)
    assert code not in log

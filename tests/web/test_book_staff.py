"""Staff and bookings (issue 21) in headless Chromium against a real hall: the dashboard's
今日预约 counts per service (expected, arrived), the desk books for a citizen without a
phone, closing a day cancels its bookings with a notice the citizen sees; the counter page
shows the same counts (no admin forms). No screenshot shows a whole ID number or name."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import requests
from playwright.sync_api import expect

from tests.hall.test_booking_api import person
from tests.support.hall_server import TOKENS, HallProcess
from tests.web.conftest import ID_NUMBER, NAME, login, shot

pytestmark = pytest.mark.e2e
ADMIN = {"Authorization": f"Bearer {TOKENS['admin']}"}


def test_dashboard_counts_desk_booking_and_closing_a_day(
    hall: HallProcess, context: Any, browser: Any
) -> None:
    soon = (dt.datetime.now(dt.UTC) + dt.timedelta(minutes=10)).replace(microsecond=0)
    for who in (ID_NUMBER, person(1)):  # two appointments today (the API's, booked by staff)
        body = {"service": "A", "id_number": who, "slot_start": soon.isoformat()}
        r = requests.post(f"{hall.url}/api/v1/appointments", json=body, headers=ADMIN, timeout=10)
        assert r.status_code == 201, r.text
    kiosk = {"Authorization": f"Bearer {TOKENS['kiosk']}"}
    arrived = requests.post(
        f"{hall.url}/api/v1/appointments/check-in",
        json={"id_number": ID_NUMBER},
        headers=kiosk,
        timeout=10,
    )
    assert arrived.status_code == 201, arrived.text

    page = context.new_page()
    login(page, hall, "boss", "/web/dashboard")
    row = page.locator("#bk-counts tr[data-service='A']")
    expect(row.locator("td[data-k='booked']")).to_have_text("1")
    expect(row.locator("td[data-k='arrived']")).to_have_text("1")
    assert "今日预约" in page.inner_text("#bk-title")

    # the desk books tomorrow for a citizen who has no phone
    days = requests.get(f"{hall.url}/api/v1/booking/slots", params={"service": "B"}, timeout=10)
    day = next(d for d in days.json()["days"] if d["state"] == "open")
    page.select_option("#bk-desk-service", "B")
    page.fill("#bk-desk-day", day["day"])
    page.locator("#bk-desk-day").dispatch_event("change")
    slot = day["slots"][20]["start"]
    page.wait_for_selector(f"#bk-desk-slot option[value='{slot}']", state="attached")
    page.select_option("#bk-desk-slot", slot)
    page.fill("#bk-desk-name", NAME)
    page.fill("#bk-desk-id", person(2))
    page.click("#bk-desk-submit")
    expect(page.locator("#bk-result")).to_contain_text("已预约，预约码")
    code = page.inner_text("#bk-result").split("预约码 ")[1][:11]
    assert page.input_value("#bk-desk-name") == "" and page.input_value("#bk-desk-id") == ""
    desk = requests.get(f"{hall.url}/api/v1/bookings/{code}", timeout=10).json()
    assert (desk["status"], desk["channel"], desk["phone_masked"]) == ("booked", "desk", None)
    assert desk["name_masked"] == "张**"

    # closing that day for B, with a notice
    notice = "B类业务系统升级，当日暂停预约，请改约其他日期"
    page.fill("#bk-close-day", day["day"])
    page.select_option("#bk-close-service", "B")
    page.fill("#bk-close-notice", notice)
    page.click("#bk-close-submit")
    expect(page.locator("#bk-result")).to_contain_text("已暂停，1个预约已取消并通知")
    html = page.content()
    assert ID_NUMBER not in html and NAME not in html and person(2) not in html
    page.locator("#bk-panel").scroll_into_view_if_needed()
    shot(page, "book-staff-dashboard")
    closed = requests.get(f"{hall.url}/api/v1/bookings/{code}", timeout=10).json()
    assert (closed["status"], closed["cancel_reason"], closed["notice"]) == (
        "cancelled",
        "closed",
        notice,
    )
    citizen = context.new_page()
    citizen.goto(f"{hall.url}/book/b/{code}")
    assert notice in citizen.inner_text("#notice")

    staff = browser.new_context(viewport={"width": 1600, "height": 900}, locale="zh-CN")
    counter = staff.new_page()
    login(counter, hall, "wang", "/web/counter?c=1")
    row = counter.locator("#bk-counts tr[data-service='A']")
    expect(row.locator("td[data-k='arrived']")).to_have_text("1")
    assert counter.locator("#bk-admin").is_hidden()
    assert counter.locator("#bk-desk").count() == 0
    shot(counter, "book-staff-counter")
    staff.close()

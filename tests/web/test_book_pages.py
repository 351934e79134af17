"""The citizen's booking pages (/book/, issue 21) in headless Chromium at a phone's size:
book with the ID check digit verified as it is typed, the booking code and QR code (read
back from the screenshot with zxing-cpp), reschedule, cancel on a page of its own (no
pop-up), and the block after two no-shows with its reason and end date. The sample hall
served over real HTTP by uvicorn in this process, on a hand-wound clock (Monday 2026-11-23
09:00), so no-shows can happen. No screenshot shows a whole ID number or name."""

from __future__ import annotations

import datetime as dt
import threading
import time
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import requests
import uvicorn
import zxingcpp
from PIL import Image

from hall.app import create_app
from hall.config import Hours, load_config
from tests.support.clock import FakeClock
from tests.support.hall_server import SAMPLE, SAMPLE_FILE, TOKENS, free_port
from tests.web.conftest import ID_NUMBER, NAME, shot

pytestmark = pytest.mark.slow
TZ = ZoneInfo("Asia/Shanghai")
PHONE = "13812345678"
PHONE_VIEW = {"width": 390, "height": 844}


class Served:
    def __init__(self, tmp: Path, clock: FakeClock) -> None:
        config = load_config(SAMPLE)
        booking = config.booking.model_copy(update={"rate_per_minute": 10000})
        # the sample's own opening hours (the test sample is open around the clock)
        hours = Hours.model_validate(tomllib.loads(SAMPLE_FILE.read_text("utf-8"))["hours"])
        app = create_app(
            config.model_copy(update={"booking": booking, "hours": hours}),
            database=f"sqlite:///{tmp / 'hall.db'}",
            clock=clock,
        )
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.server = uvicorn.Server(uvicorn.Config(app, port=self.port, log_level="warning"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> Served:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started and time.monotonic() < deadline:
            time.sleep(0.05)
        assert self.server.started
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(10)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def served(tmp_path: Path, clock: FakeClock) -> Iterator[Served]:
    with Served(tmp_path, clock) as s:
        yield s


@pytest.fixture
def phone(browser: Any) -> Iterator[Any]:
    ctx = browser.new_context(
        viewport=PHONE_VIEW, device_scale_factor=1, is_mobile=True, has_touch=True, locale="zh-CN"
    )
    ctx.set_default_timeout(15_000)
    yield ctx.new_page()
    ctx.close()


def no_personal_data(page: Any) -> None:
    html = page.content()
    assert ID_NUMBER not in html and NAME not in html and PHONE not in html
    body = page.inner_text("body")
    assert ID_NUMBER not in body and NAME not in body and PHONE not in body


def check_elderly_layout(page: Any) -> None:
    """适老化: body type ≥ 20 px, line spacing ≥ 1.3, nothing wider than the phone."""
    size, line = page.evaluate(
        "() => { const s = getComputedStyle(document.body);"
        " return [parseFloat(s.fontSize), parseFloat(s.lineHeight)]; }"
    )
    assert size >= 20 and line / size >= 1.3, (size, line)
    wide = page.evaluate("() => document.documentElement.scrollWidth")
    assert wide <= PHONE_VIEW["width"], wide


def choose_slot_and_fill(page: Any, served: Served, name: str, prefix: str) -> None:
    """On the slots page: 10:00, the ID (wrong check digit first), the phone, the name."""
    page.locator("label.slot", has_text="10:00–10:30").click()
    page.fill("#phone", "1381234")  # the rest after the screenshots: no whole number in them
    page.locator("#id_number").press_sequentially(ID_NUMBER[:10])
    assert "还差 8 位" in page.inner_text("#id-check")
    page.locator("#id_number").press_sequentially(ID_NUMBER[10:17] + "9")  # wrong check digit
    assert "号码最后一位不对" in page.inner_text("#id-check")
    check_elderly_layout(page)
    shot(page, f"{prefix}-id-check-wrong")
    page.locator("#id_number").press("Backspace")
    page.locator("#id_number").press_sequentially(ID_NUMBER[17])
    assert "号码校验正确" in page.inner_text("#id-check")
    no_personal_data(page)  # the ID field hides what is typed
    shot(page, f"{prefix}-form-checked")
    page.fill("#phone", PHONE)
    page.locator("#phone").dispatch_event("input")
    assert "手机号码格式正确" in page.inner_text("#phone-check"), page.input_value("#phone")
    page.fill("#name", name)


def qr_of(path: Path) -> str:
    found = zxingcpp.read_barcodes(Image.open(path).convert("L"))
    assert found, "no QR code in the screenshot"
    return found[0].text


def test_book_reschedule_and_cancel_on_a_phone(served: Served, phone: Any) -> None:
    page = phone
    page.goto(f"{served.url}/book/")
    check_elderly_layout(page)
    shot(page, "book-1-home")
    page.click("text=社保业务")
    assert "本人居民身份证原件" in page.inner_text("#materials")  # 一次告知 first
    days = page.locator("#days .choice")
    assert "11月24日 星期二" in days.first.inner_text()
    assert page.locator("#days .choice.off", has_text="11月28日").count() == 1  # Saturday
    shot(page, "book-2-service-days")
    page.click("a.day[data-day='2026-11-24']")
    choose_slot_and_fill(page, served, NAME, "book-3")
    page.click("#submit")

    page.wait_for_url("**/book/b/**")
    assert "预约成功" in page.inner_text("#banner")
    code = page.inner_text("#code")
    assert len(code) == 11 and code[5] == "-"
    assert "张**" in page.inner_text("#person") and "110***********0016" in page.inner_text(
        "#person"
    )
    assert "11月24日 10:00–10:30" in page.inner_text("#time")
    no_personal_data(page)
    check_elderly_layout(page)
    booked = shot(page, "book-4-booked-code-and-qr")
    assert qr_of(booked).endswith("/book/b/" + code.replace("-", ""))
    api = requests.get(f"{served.url}/api/v1/bookings/{code}", timeout=10).json()
    assert api["status"] == "booked" and api["slot_start"] == "2026-11-24T10:00:00+08:00"

    page.click("#move")
    page.click("a.day[data-day='2026-11-25']")
    page.locator("label.slot", has_text="14:00–14:30").click()
    page.click("#submit")
    page.wait_for_url("**moved=1")
    assert "11月25日 14:00–14:30" in page.inner_text("#time")
    shot(page, "book-5-moved")

    page.click("#cancel")
    assert "确定要取消这个预约吗" in page.inner_text("h1")
    shot(page, "book-6-cancel-confirm")
    page.click("#cancel-yes")
    page.wait_for_url("**cancelled=1")
    assert "已取消" in page.inner_text("#status")
    assert page.locator("#qr").count() == 0 and page.locator("#cancel").count() == 0
    no_personal_data(page)
    shot(page, "book-7-cancelled")


def test_a_full_slot_and_two_no_shows_are_refused_in_words(
    served: Served, phone: Any, clock: FakeClock
) -> None:
    def book(slot: str, who: str) -> requests.Response:
        body = {
            "service": "A",
            "slot_start": slot,
            "name": "王芳",
            "id_number": who,
            "phone": PHONE,
        }
        return requests.post(f"{served.url}/api/v1/bookings", json=body, timeout=10)

    assert book("2026-11-24T09:00:00+08:00", ID_NUMBER).status_code == 201
    assert book("2026-11-25T09:00:00+08:00", ID_NUMBER).status_code == 201
    clock.now = dt.datetime(2026, 11, 25, 12, 0, tzinfo=TZ)  # both missed: 爽约 twice

    page = phone
    page.goto(f"{served.url}/book/s/A/2026-11-26")
    choose_slot_and_fill(page, served, NAME, "book-block")
    page.click("#submit")
    refusal = page.inner_text("#refusal")
    assert "您本月已爽约2次，预约功能暂停至2026年11月30日" in refusal, refusal
    assert page.input_value("#id_number") == ""  # the ID number is not sent back
    no_personal_data(page)
    check_elderly_layout(page)
    shot(page, "book-8-blocked")


def test_remote_ticket_refused_when_far_and_taken_when_near(served: Served, browser: Any) -> None:
    far = {"latitude": 39.9300, "longitude": 116.3661}  # 2 km from the sample hall
    ctx = browser.new_context(
        viewport=PHONE_VIEW,
        is_mobile=True,
        has_touch=True,
        locale="zh-CN",
        geolocation=far,
        permissions=["geolocation"],
    )
    ctx.set_default_timeout(15_000)
    try:
        page = ctx.new_page()
        page.goto(f"{served.url}/book/")
        page.click("#remote-link")
        assert "500米内" in page.inner_text(".lead")

        def take() -> None:
            page.locator("#remote-services label.slot", has_text="社保业务").click()
            page.locator("#id_number").press_sequentially(ID_NUMBER)
            assert "号码校验正确" in page.inner_text("#id-check")
            page.click("#remote-submit")

        take()
        page.wait_for_selector("#refusal")
        assert "您不在大厅附近" in page.inner_text("#refusal")
        no_personal_data(page)
        check_elderly_layout(page)
        shot(page, "book-9-remote-too-far")

        ctx.set_geolocation({"latitude": 39.9140, "longitude": 116.3670})  # about 200 m
        take()
        page.wait_for_url("**/book/remote/**")
        assert page.inner_text("#number") == "A001"
        assert "10:00 前到厅" in page.inner_text("#confirm-by")
        no_personal_data(page)
        done = shot(page, "book-10-remote-taken")
        link = qr_of(done)
        token = link.rsplit("/t/", 1)[1]
        assert page.get_attribute("#follow", "href") == f"/t/{token}"
        kiosk = {"Authorization": f"Bearer {TOKENS['kiosk']}"}
        ok = requests.post(
            f"{served.url}/api/v1/remote-tickets/{token}/confirm", headers=kiosk, timeout=10
        )
        assert ok.status_code == 200 and ok.json()["confirmed"] is True
    finally:
        ctx.close()


def test_the_ticket_page_alerts_when_3_are_ahead_and_when_called(
    served: Served, browser: Any
) -> None:
    kiosk = {"Authorization": f"Bearer {TOKENS['kiosk']}"}
    staff = {"Authorization": f"Bearer {TOKENS['counter']}"}

    def post(path: str, body: object = None, headers: dict[str, str] = staff) -> Any:
        r = requests.post(f"{served.url}/api/v1{path}", json=body, headers=headers, timeout=10)
        assert r.status_code in (200, 201, 204), r.text
        return r.json() if r.status_code != 204 else None

    mine = [post("/tickets", {"service": "J"}, kiosk) for _ in range(5)][-1]
    ctx = browser.new_context(
        viewport=PHONE_VIEW, is_mobile=True, locale="zh-CN", permissions=["notifications"]
    )
    ctx.set_default_timeout(15_000)
    try:
        page = ctx.new_page()
        page.goto(f"{served.url}/t/{mine['public_token']}")
        page.wait_for_selector("#c-notify:not([hidden])")
        page.click("#c-notify")
        assert "提醒已开启" in page.inner_text("#c-notify-state")
        assert page.locator("#c-alert").is_hidden()  # 4 ahead: not yet
        post("/counters/22/call-next")
        alert = page.locator("#c-alert")
        alert.wait_for(state="visible")
        assert "前面还有 3 位" in alert.inner_text()
        share = page.evaluate(
            "() => fetch(document.getElementById('c-share-qr').src).then(r => r.status)"
        )
        assert share == 200
        page.click("#c-share summary")
        shot(page, "book-11-three-ahead")
        for counter in ("1", "2"):
            post(f"/counters/{counter}/call-next")
        for counter in ("22", "1"):  # 22 finishes and calls the 4th, 1 finishes and calls mine
            post(f"/counters/{counter}/start")
            post(f"/counters/{counter}/finish")
            post(f"/counters/{counter}/call-next")
        page.wait_for_function(
            "() => document.getElementById('c-alert').dataset.kind === 'notify_called'"
        )
        assert "请到 1号综合窗口 办理" in page.inner_text("#c-alert")
        assert "Please go to Counter 1 (one-stop)" in page.inner_text("#c-alert")
        assert page.locator("#c-notify").is_hidden()
        qr = qr_of(shot(page, "book-12-called"))
        assert qr.endswith(f"/t/{mine['public_token']}")
    finally:
        ctx.close()

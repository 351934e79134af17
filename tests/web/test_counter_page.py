"""The counter page (叫号) and the evaluation pad (评价器) in headless Chromium against a
real hall process: every call the staff make is seen on the lobby board's event stream."""

from __future__ import annotations

import datetime as dt
import json
import re
import time
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import requests
from playwright.sync_api import expect
from sqlalchemy import create_engine, text

from hall.client import HallClient
from tests.support.hall_server import TOKENS, HallProcess
from tests.web.conftest import (
    ID_NUMBER,
    KIOSK_PLACE,
    NAME,
    EventLog,
    kiosk,
    login,
    shot,
)

pytestmark = pytest.mark.e2e


def wait_for(predicate: Any, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError("condition not met in time")


def current_number(page: Any) -> str:
    return page.inner_text("#current-number").strip()


def test_counter_calls_recalls_transfers_finishes_and_pad_rates(
    hall: HallProcess, board_events: EventLog, context: Any
) -> None:
    k = kiosk(hall)
    first = k.issue_ticket("A", id_number=ID_NUMBER, name=NAME)  # social security needs an ID
    second = k.issue_ticket("J")
    assert first.number == "A001" and second.number == "J001"

    page = context.new_page()
    login(page, hall, "wang", "/web/counter")
    page.wait_for_selector("body[data-ready]")
    assert page.inner_text("#counter-name").startswith("1号综合窗口")
    assert page.inner_text("#waiting tr[data-service='A'] .waiting-count") == "1"

    # 下一位 by keyboard shortcut: the oldest ticket, with masked personal data only
    page.keyboard.press("n")
    expect(page.locator("#current-number")).to_have_text("A001")
    html = page.content()
    assert ID_NUMBER not in html and NAME not in html
    assert "110105**********16" in html or re.search(r"110\*+\d*16", html), "masked ID shown"
    wait_for(lambda: [d["ticket"]["number"] for d in board_events.of("ticket.called")] == ["A001"])
    shot(page, "counter")

    # 重呼 (button), then 开始办理 by key
    page.click("#btn-recall")
    wait_for(lambda: len(board_events.of("ticket.recalled")) == 1)
    assert board_events.of("ticket.recalled")[0]["ticket"]["counter"] == "1"
    expect(page.locator("#current")).to_contain_text("已重呼 1 次")  # the page has caught up
    page.keyboard.press("s")
    page.wait_for_selector("#current .badge.open")

    # 转移 to 医保 (B): the ticket leaves this counter and waits in B at its old place
    page.keyboard.press("t")
    page.wait_for_selector("#transfer-modal:not(.hidden)")
    shot(page, "counter-transfer")
    page.click("#transfer-choices [data-service='B']")
    page.wait_for_selector("#current-number.empty")
    transferred = board_events.of("ticket.transferred")
    wait_for(lambda: len(board_events.of("ticket.transferred")) == 1)
    transferred = board_events.of("ticket.transferred")[0]
    assert transferred["ticket"]["service"] == "B" and transferred["ticket"]["number"] == "A001"
    page.wait_for_selector("#waiting tr[data-service='B'] .waiting-count:text-is('1')")

    # 下一位 again: A001 queued before J001, so it comes back first (now for service B)
    page.click("#btn-call-next")
    expect(page.locator("#current-number")).to_have_text("A001")
    wait_for(lambda: len(board_events.of("ticket.called")) == 2)

    # 办结, and the citizen rates the service on the pad bound to counter 1
    pad = context.new_page()
    pad.goto(f"{hall.url}/web/pad?c=1")
    pad.wait_for_selector("#pad-welcome:not(.hidden)")
    # who serves: wang's name and 工号, from his account
    expect(pad.locator("#pad-staff")).to_contain_text("为您服务：王五")
    expect(pad.locator("#pad-staff")).to_contain_text("工号 0231")
    shot(pad, "pad-welcome")
    page.keyboard.press("f")
    page.wait_for_selector("#current-number.empty")
    wait_for(lambda: len(board_events.of("ticket.finished")) == 1)
    pad.wait_for_selector("#pad-ask:not(.hidden)")
    assert "A001" in pad.inner_text("#pad-ask")
    shot(pad, "pad-ask")
    pad.click("button.face.s5")
    pad.wait_for_selector("#pad-indicators:not(.hidden)")  # the optional second step
    pad.click("#pad-skip")
    pad.wait_for_selector("#pad-thanks:not(.hidden)")
    shot(pad, "pad-thanks")
    wait_for(lambda: len(board_events.of("ticket.evaluated")) == 1)
    assert board_events.of("ticket.evaluated")[0]["score"] == 5
    admin = HallClient(hall.url, TOKENS["admin"])
    assert admin.stats().by_counter["1"].satisfaction_avg == 5

    # today's figures on the counter page follow
    expect(page.locator("#today-served")).to_have_text("1")
    assert page.inner_text("#today-called") == "2"

    # next citizen; 过号 by key X
    page.keyboard.press("n")
    expect(page.locator("#current-number")).to_have_text("J001")
    page.keyboard.press("x")
    page.wait_for_selector("#current-number.empty")
    wait_for(lambda: len(board_events.of("ticket.no_show")) == 1)
    called = [d["ticket"]["number"] for d in board_events.of("ticket.called")]
    assert called == ["A001", "A001", "J001"]
    assert all(d["ticket"]["counter"] == "1" for d in board_events.of("ticket.called"))

    # nobody left: 下一位 says so and nothing is called
    page.keyboard.press("n")
    page.wait_for_selector("#toast:not(.hidden)")
    assert "没有等候" in page.inner_text("#toast")

    # pause with a reason shows on the board; resume
    page.keyboard.press("p")
    page.click("[data-reason^='午休']")
    page.wait_for_selector("#counter-state.paused")
    wait_for(lambda: len(board_events.of("counter.paused")) == 1)
    assert page.is_disabled("#btn-call-next")
    shot(page, "counter-paused")
    page.keyboard.press("p")
    page.wait_for_selector("#counter-state.open")

    # the server log never holds the ID number or the name
    log_text = hall.log.read_text(encoding="utf-8", errors="replace") if hall.log else ""
    assert ID_NUMBER not in log_text and NAME not in log_text


def test_a_key_pressed_while_the_last_action_is_on_its_way_is_kept(
    hall: HallProcess, board_events: EventLog, context: Any
) -> None:
    """重呼 then 开始办理 at once: the hall holds the recall's request, the second key waits
    for it and then goes out; it is not dropped. A second 重呼 meanwhile stays one action."""
    kiosk(hall).issue_ticket("J")
    page = context.new_page()
    login(page, hall, "wang", "/web/counter")
    page.wait_for_selector("body[data-ready]")
    page.keyboard.press("n")
    expect(page.locator("#current-number")).to_have_text("J001")

    held: list[Any] = []

    def hold(route: Any) -> None:  # the recall's request waits here
        held.append(route)

    page.route("**/do/recall", hold)
    sent: list[str] = []
    page.on("request", lambda r: sent.append(r.url.rsplit("/", 1)[-1]) if "/do/" in r.url else None)
    page.keyboard.press("r")
    while not held:
        page.wait_for_timeout(50)
    page.keyboard.press("r")  # a double press: one recall
    page.keyboard.press("s")
    page.wait_for_timeout(300)
    assert sent == ["recall"]  # 开始办理 waits for the recall instead of racing it
    held[0].continue_()
    page.wait_for_selector("#current .badge.open")  # 开始办理 went out after the recall
    assert sent == ["recall", "start"]
    wait_for(lambda: len(board_events.of("ticket.recalled")) == 1)


def test_help_request_shows_live_on_counter_page(hall: HallProcess, context: Any) -> None:
    page = context.new_page()
    login(page, hall, "li", "/web/counter")
    page.wait_for_selector("#help-panel.none")
    kiosk(hall).help_request("K1", "citizen_asked")  # what the kiosk's 求助 button sends
    page.wait_for_selector("#help-panel:not(.none)")
    # where the kiosk stands and why, in words: never the kiosk's code
    item = page.locator("#help-list .help-item").first
    expect(item.locator(".help-where")).to_have_text(f"自助机 K1 · {KIOSK_PLACE}")
    expect(item.locator(".help-reason")).to_contain_text("群众在自助机上请求帮助")
    assert "citizen_asked" not in page.inner_text("body")
    kiosk(hall).help_request("K1", "老人需要帮办")  # words a person typed stay as they are
    expect(page.locator("#help-list .help-item")).to_have_count(2)
    expect(page.locator("#help-list")).to_contain_text("老人需要帮办")
    shot(page, "counter-help")
    page.click("#help-list button >> nth=0")
    expect(page.locator("#help-list .help-item")).to_have_count(1)
    page.click("#help-list button")
    page.wait_for_selector("#help-panel.none")
    r = requests.get(
        f"{hall.url}/api/v1/help-requests",
        headers={"Authorization": f"Bearer {TOKENS['admin']}"},
        timeout=5,
    )
    assert r.json() == []


def test_staff_take_a_passport_holders_ticket_from_the_counter_page(
    hall: HallProcess, context: Any
) -> None:
    page = context.new_page()
    login(page, hall, "li", "/web/counter")
    page.wait_for_selector("#help-panel.none")
    kiosk(hall).help_request("K1", "passport:A")  # the kiosk's 持护照等其他证件
    item = page.locator("#help-list .help-item").first
    expect(item.locator(".help-reason")).to_contain_text("持护照等证件的群众需帮办取号")
    expect(item).to_contain_text("社保")
    assert "passport:A" not in page.inner_text("body")  # the code, never shown
    page.click("[data-help-ticket]")
    expect(page.locator("#help-ticket")).to_contain_text("已取号 A")
    page.wait_for_selector("#help-panel.none")  # resolved with it
    shot(page, "counter-passport-ticket")


def test_pad_asks_why_after_a_low_score(hall: HallProcess, context: Any) -> None:
    """不满意: the pad asks why (tappable reasons and the citizen's own words) before it
    thanks, and the reasons reach the hall with the score."""
    ticket = kiosk(hall).issue_ticket("J")
    counter = HallClient(hall.url, TOKENS["counter"])
    pad = context.new_page()
    login(pad, hall, "wang", "/web/pad?c=1")
    pad.wait_for_selector("#pad-welcome:not(.hidden)")
    counter.call_next("1")
    counter.counter_action("1", "finish")
    pad.wait_for_selector("#pad-ask:not(.hidden)")
    pad.click("button.face.s2")
    pad.wait_for_selector("#pad-reasons:not(.hidden)")
    assert not pad.is_visible("#pad-thanks")  # nothing sent yet: the reasons come first
    pad.click("[data-reason='long_wait']")
    pad.click("[data-reason='unclear_requirements']")
    pad.click("[data-reason='other']")
    pad.click("[data-reason='other']")  # a second tap takes it back
    expect(pad.locator("[data-reason='long_wait']")).to_have_attribute("aria-pressed", "true")
    expect(pad.locator("[data-reason='other']")).to_have_attribute("aria-pressed", "false")
    pad.fill("#pad-comment", "没有提前告知需要户口本")
    shot(pad, "pad-reasons")
    pad.click("#pad-send")
    pad.wait_for_selector("#pad-indicators:not(.hidden)")  # the optional second step
    pad.click("#pad-skip")
    pad.wait_for_selector("#pad-thanks:not(.hidden)")
    admin = HallClient(hall.url, TOKENS["admin"])
    wait_for(lambda: admin.stats().by_counter["1"].evaluations == 1)
    assert admin.stats().by_counter["1"].satisfaction_avg == 2
    engine = create_engine(hall.database)
    try:
        with engine.connect() as conn:
            row = conn.execute(
                text("SELECT comment, reasons, channel FROM evaluations WHERE ticket_id = :id"),
                {"id": ticket.id},
            ).one()
    finally:
        engine.dispose()
    assert row.comment == "没有提前告知需要户口本" and row.channel == "pad"
    assert json.loads(row.reasons) == ["long_wait", "unclear_requirements"]


def test_the_clock_shows_the_halls_time_not_the_browsers(hall: HallProcess, browser: Any) -> None:
    """A browser set to another zone (a laptop brought from elsewhere, a PC left on UTC)
    still shows the hall's time: [hall].timezone, Asia/Shanghai in the sample."""
    context = browser.new_context(
        viewport={"width": 1600, "height": 900}, locale="zh-CN", timezone_id="America/New_York"
    )
    try:
        page = context.new_page()
        login(page, hall, "wang", "/web/counter")
        page.wait_for_selector("body[data-ready]")
        assert page.evaluate("Intl.DateTimeFormat().resolvedOptions().timeZone") == (
            "America/New_York"
        )
        shown = page.inner_text("#clock").strip()
        hall_now = dt.datetime.now(ZoneInfo("Asia/Shanghai"))
        near = {(hall_now + dt.timedelta(seconds=s)).strftime("%H:%M") for s in (-60, 0, 60)}
        assert re.fullmatch(r"\d\d:\d\d:\d\d", shown) and shown[:5] in near, shown
        expect(page.locator("#who")).to_have_text("王五 · 工号 0231")
    finally:
        context.close()

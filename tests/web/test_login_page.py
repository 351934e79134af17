"""Logging in through the browser: wrong passwords are told apart from a locked account,
and a staff member lands on their own counter."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from tests.support.hall_server import HallProcess
from tests.web.conftest import PASSWORD, kiosk, login, shot

pytestmark = pytest.mark.e2e


def test_login_errors_then_lock(hall: HallProcess, context: Any) -> None:
    page = context.new_page()
    page.goto(f"{hall.url}/web/counter")
    page.wait_for_url("**/web/login?next=/web/counter")
    shot(page, "login")
    for _ in range(3):  # the free tries
        page.fill("#username", "wang")
        page.fill("#password", "not-my-password")
        page.click("#login-button")
        expect(page.locator("#login-error")).to_contain_text("用户名或密码错误")
    assert "not-my-password" not in page.url  # the password never goes in a URL
    # then each try waits longer (1 s, 2 s …) and the fifth wrong one locks the account;
    # the page says which, and until when
    for _ in range(8):
        page.fill("#username", "wang")
        page.fill("#password", "not-my-password")
        page.click("#login-button")
        expect(page.locator("#login-error")).not_to_be_empty()
        text = page.locator("#login-error").inner_text()
        if "锁定至" in text:
            break
        assert "用户名或密码错误" in text or "请稍候几秒再试" in text, text
        page.wait_for_timeout(1100)
    page.fill("#username", "wang")
    page.fill("#password", PASSWORD)
    page.click("#login-button")
    expect(page.locator("#login-error")).to_contain_text("账号已锁定至")
    expect(page.locator("#login-error")).to_contain_text("locked until")
    shot(page, "login-locked")
    assert "/web/login" in page.url


def test_park_and_call_back_from_the_counter_page(hall: HallProcess, context: Any) -> None:
    kiosk(hall).issue_ticket("J")
    page = context.new_page()
    login(page, hall, "wang", "/web/counter")
    page.wait_for_selector("body[data-ready]")
    page.keyboard.press("n")
    expect(page.locator("#current-number")).to_have_text("J001")
    page.keyboard.press("h")  # 挂起: the citizen fetches a document
    expect(page.locator("#parked")).to_contain_text("J001")
    expect(page.locator("#current-number")).to_have_class("empty")
    page.click("#parked button")  # 回呼
    expect(page.locator("#current-number")).to_have_text("J001")
    expect(page.locator("#parked")).not_to_contain_text("J001")

    # the same browser session cannot act for counter 2, with or without the CSRF token
    csrf = context.request.get(f"{hall.url}/web/api/me").json()["csrf"]
    other = f"{hall.url}/web/api/counters/2/do/call-next"
    r = context.request.post(other, headers={"X-CSRF-Token": csrf, "Origin": hall.url})
    assert r.status == 403 and r.json()["error"] == "wrong_counter"
    r = context.request.post(f"{hall.url}/web/api/counters/1/do/finish")
    assert r.status == 403 and r.json()["error"] == "csrf_failed"
    expect(page.locator("#current-number")).to_have_text("J001")  # still being served

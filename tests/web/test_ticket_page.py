"""The citizen's ticket page (/t/<token>) on a phone-sized headless Chromium: number,
state, people ahead, updating live as counters call; nothing personal on it."""

from __future__ import annotations

from typing import Any

import pytest
import requests
from playwright.sync_api import expect

from hall.client import HallClient
from tests.support.hall_server import TOKENS, HallProcess
from tests.web.conftest import ID_NUMBER, NAME, kiosk, shot

pytestmark = pytest.mark.e2e


def test_ticket_page_counts_down_and_calls_the_citizen(hall: HallProcess, browser: Any) -> None:
    k = kiosk(hall)
    k.issue_ticket("A", id_number="11010519491231002X", name="李四")  # someone ahead
    mine = k.issue_ticket("A", id_number=ID_NUMBER, name=NAME)
    token = mine.public_token
    assert len(token) >= 20  # unguessable

    phone = browser.new_context(
        viewport={"width": 390, "height": 800},
        locale="zh-CN",
        is_mobile=True,
        has_touch=True,
        device_scale_factor=2,
    )
    page = phone.new_page()
    page.goto(f"{hall.url}/t/{token}")
    expect(page.locator("#t-number")).to_have_text(mine.number)
    expect(page.locator("#t-ahead")).to_have_text("1")
    expect(page.locator("#t-state")).to_contain_text("等候中")
    # the wait as the paper prints it: the hall's range, not a second, different figure
    lo, hi = (round((s or 0) / 60) for s in (mine.wait_range_min_s, mine.wait_range_max_s))
    expect(page.locator("#t-wait")).to_have_text(f"{lo}–{hi} 分钟" if lo else f"≤ {hi} 分钟")
    shot(page, "ticket-waiting")

    counter = HallClient(hall.url, TOKENS["counter"])
    counter.call_next("3")  # counter 3 serves A: the elder first
    expect(page.locator("#t-ahead")).to_have_text("0")  # live, no reload
    counter.call_next("4")
    expect(page.locator("#t-state")).to_contain_text("请到 4号窗口 办理")
    shot(page, "ticket-called")

    html = page.content()
    assert ID_NUMBER not in html and NAME not in html
    assert "张" not in html and "0016" not in html, "not even masked data on a public page"
    state = requests.get(f"{hall.url}/t/{token}/state", timeout=5).json()
    assert "id_masked" not in state and "name_masked" not in state and "id" not in state

    counter.counter_action("4", "finish")
    expect(page.locator("#t-state")).to_contain_text("业务已办结")
    phone.close()


def test_unknown_ticket_link_says_so(hall: HallProcess, browser: Any) -> None:
    page = browser.new_page()
    page.goto(f"{hall.url}/t/AAAAAAAAAAAAAAAAAAAAAAAA")
    expect(page.locator("#t-missing")).to_be_visible()
    assert requests.get(f"{hall.url}/t/bad%20token/state", timeout=5).status_code == 404
    page.close()

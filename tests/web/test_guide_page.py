"""The public guide /guide/ (智能导办, issue 20) in headless Chromium on a phone-sized
screen against a real hall process: search as you type, the answer's checklist, the
情形引导 buttons that make it exact (and ride in the address for the printed QR code), and
where to go for what the hall does not do. No login: it is a citizen page."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.support.hall_server import HallProcess
from tests.web.conftest import shot

pytestmark = [pytest.mark.slow, pytest.mark.e2e]


@pytest.fixture
def phone(browser: Any) -> Iterator[Any]:
    ctx = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN")
    ctx.set_default_timeout(10_000)
    page = ctx.new_page()
    yield page
    ctx.close()


def test_search_answer_and_situation_on_a_phone(hall: HallProcess, phone: Any) -> None:
    from playwright.sync_api import expect

    phone.goto(f"{hall.url}/guide/")
    expect(phone.locator("#g-results .g-hit")).to_have_count(9)  # the popular matters
    phone.fill("#g-q", "sbkgs")  # initials of 社保卡挂失, typed as on a phone without IME
    expect(phone.locator("#g-list-title")).to_contain_text("您可能要办")
    first = phone.locator("#g-results .g-hit").first
    expect(first).to_contain_text("社会保障卡挂失与补换")
    expect(first).to_contain_text("社保业务")
    shot(phone, "guide-search")
    first.click()
    phone.wait_for_url("**/guide/sb-04")
    expect(phone.locator("#g-name")).to_contain_text("社会保障卡挂失与补换")
    expect(phone.locator("#g-checklist li")).to_have_count(2)  # 原社会保障卡 only if broken
    phone.locator('[data-tag="broken"]').click()
    phone.wait_for_url("**/guide/sb-04?tags=broken")
    expect(phone.locator("#g-checklist li")).to_have_count(3)
    expect(phone.locator("#g-checklist")).to_contain_text("原社会保障卡")
    expect(phone.locator("#g-queue")).to_contain_text("3号窗口")


def test_a_printed_link_opens_the_exact_checklist(hall: HallProcess, phone: Any) -> None:
    from playwright.sync_api import expect

    phone.goto(f"{hall.url}/guide/gjj-01?tags=used,loan")
    expect(phone.locator("#g-name")).to_contain_text("住房公积金购房提取")
    expect(phone.locator('[data-tag="used"]')).to_have_attribute("aria-pressed", "true")
    checklist = phone.locator("#g-checklist")
    expect(checklist).to_contain_text("借款合同及还款明细")
    expect(checklist).to_contain_text("不动产权证书")
    expect(checklist).not_to_contain_text("购房发票")
    expect(phone.locator("#g-facts")).to_contain_text("法定3个工作日")
    expect(phone.locator("#g-facts")).to_contain_text("《住房公积金管理条例》")
    shot(phone, "guide-matter-situation")
    phone.locator('[data-tag="new"]').click()  # change the answer: the list follows
    expect(checklist).to_contain_text("购房发票")
    expect(checklist).not_to_contain_text("不动产权证书")


def test_elsewhere_and_unknown(hall: HallProcess, phone: Any) -> None:
    from playwright.sync_api import expect

    phone.goto(f"{hall.url}/guide/?q=结婚登记")
    expect(phone.locator("#g-elsewhere")).to_contain_text("婚姻登记处")
    expect(phone.locator("#g-results .g-hit")).to_have_count(0)
    phone.goto(f"{hall.url}/guide/zz-99")
    expect(phone.locator("#g-missing")).to_be_visible()

"""The manager's cockpit in headless Chromium against a real hall (the sample: 22 counters,
9 services) with four months of generated history in its database: today's promise, the
advice to open counters on the cockpit, the dashboard and the counter page of staff who can
serve the service (and not of those who cannot), the 5-day staffing plan, a what-if, the
range's coverage, staff performance and the 通报 downloads. Screenshots looked at."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from playwright.sync_api import expect

from hall.config import load_config
from hall.storage import migrate
from hall.storage.engine import make_engine
from tests.support.hall_server import HallProcess, free_port, write_config
from tests.support.history import fill_history, services_for
from tests.web.conftest import add_accounts, kiosk, login, shot, start_slowly

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


@pytest.fixture(scope="module")
def hall(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HallProcess]:
    """The sample hall open around the clock (the test may run at night), its history from
    August to yesterday."""
    tmp_path = tmp_path_factory.mktemp("cockpit-web")
    port = free_port()
    cfg = write_config(tmp_path / "hall.toml", port, policy={"recall_cooldown_s": 0})
    assert "\n[hours]\n" not in cfg.read_text(encoding="utf-8")  # written with its policy
    database = f"sqlite:///{tmp_path / 'hall.db'}"
    add_accounts(cfg, database)
    config = load_config(cfg)
    engine = make_engine(database)
    migrate.upgrade(engine)
    yesterday = dt.datetime.now(config.tz).date() - dt.timedelta(days=1)
    fill_history(
        engine, config, yesterday - dt.timedelta(days=120), yesterday,
        services=services_for(config, scale=0.8),
    )  # fmt: skip
    engine.dispose()
    proc = start_slowly(HallProcess(cfg, port, database))
    yield proc
    proc.stop()


def test_cockpit_plan_what_if_advice_and_performance(hall: HallProcess, context: Any) -> None:
    k = kiosk(hall)
    for _ in range(8):  # 综合咨询 (J) with nobody at a counter: heading past its promise
        k.issue_ticket("J")
    page = context.new_page()
    login(page, hall, "boss", "/web/cockpit")
    expect(page.locator("#ck-advice .advice-item[data-service=J]")).to_contain_text("建议增开窗口")
    expect(page.locator("#ck-promise tr[data-service=J]")).to_be_visible()
    # the plan: five working days, half-hour slots, counters named
    expect(page.locator("#ck-days button")).to_have_count(5, timeout=60_000)
    expect(page.locator("#ck-plan tr[data-slot]").first).to_be_visible()
    expect(page.locator("#ck-plan")).to_contain_text("10:00–10:30")
    expect(page.locator("#ck-day-summary")).to_contain_text("窗口·小时")
    expect(page.locator("#ck-forecast-error")).to_contain_text("社保业务")
    expect(page.locator("#ck-coverage")).to_contain_text("%")
    # performance of last month, with the downloads
    expect(page.locator("#ck-perf tr[data-counter='1']")).to_be_visible()
    assert page.locator("#ck-perf tr[data-counter]").count() == 22
    shot(page, "cockpit-plan")
    # one day's figures: yesterday (the history's last day)
    yesterday = dt.datetime.now(load_config(hall.config).tz).date() - dt.timedelta(days=1)
    page.fill("#perf-day", yesterday.isoformat())
    with page.expect_response("**/cockpit/performance?day=*") as answer:
        page.click("#perf-day-show")
    assert answer.value.ok
    expect(page.locator("#ck-perf tr[data-counter='1']")).to_be_visible()
    # what if counter 3 (社保 only) closes at 10:00 on the first planned day
    page.select_option("#wi-counter", "3")
    page.fill("#wi-at", "10:00")
    page.click("#wi-run")
    expect(page.locator("#wi-result")).to_contain_text("→", timeout=60_000)
    page.locator("#ck-what-if").scroll_into_view_if_needed()
    shot(page, "cockpit-what-if")
    cookies = {c["name"]: c["value"] for c in context.cookies()}
    pdf = requests.get(page.locator("#bulletin-pdf").get_attribute("href") and
                       hall.url + page.locator("#bulletin-pdf").get_attribute("href"),
                       cookies=cookies, timeout=60)  # fmt: skip
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    csv = requests.get(hall.url + page.locator("#perf-csv").get_attribute("href"),
                       cookies=cookies, timeout=30)  # fmt: skip
    assert csv.status_code == 200 and csv.text.startswith("\ufeff窗口号,名称,工作人员")
    # the dashboard says it too, and links to the cockpit
    page.goto(hall.url + "/web/dashboard")
    expect(page.locator("#cockpit-advice")).to_be_visible(timeout=30_000)
    expect(page.locator("#cockpit-advice .advice-item[data-service=J]")).to_contain_text("综合咨询")
    expect(page.locator("#cockpit-link")).to_be_visible()
    expect(page.locator("#cockpit-promise")).to_be_visible()  # today's promise, live
    shot(page, "cockpit-dashboard-advice")
    # wang's counter 1 serves 综合咨询: his page advises
    staff = context.browser.new_context(viewport={"width": 1600, "height": 900}, locale="zh-CN")
    try:
        p = staff.new_page()
        login(p, hall, "wang", "/web/counter")
        expect(p.locator("#cockpit-advice .advice-item[data-service=J]")).to_be_visible(
            timeout=30_000
        )
        expect(p.locator("#cockpit-promise")).to_be_hidden()  # the manager's figure
        shot(p, "cockpit-counter-advice")
    finally:
        staff.close()


def test_staff_may_not_read_the_cockpit(hall: HallProcess, context: Any) -> None:
    page = context.new_page()
    login(page, hall, "wang", "/web/counter")
    expect(page.locator("#btn-call-next")).to_be_visible()  # logged in, on his page
    page.goto(hall.url + "/web/cockpit")
    assert "/web/counter" in page.url and "/web/cockpit" not in page.url
    r = page.request.get(hall.url + "/web/api/cockpit/plan")
    assert r.status == 403
    r = page.request.get(hall.url + "/web/api/cockpit/advice?counter=5")
    assert r.status == 403  # not wang's counter


def test_the_cockpit_credits_the_staff_member_who_served(hall: HallProcess, context: Any) -> None:
    kiosk(hall).issue_ticket("J")
    staff = context.browser.new_context(viewport={"width": 1600, "height": 900}, locale="zh-CN")
    try:
        p = staff.new_page()
        login(p, hall, "wang", "/web/counter")
        p.click("#btn-call-next")
        p.wait_for_selector("#current-number:not(.empty)")
        p.click("#btn-finish")
        p.wait_for_selector("#current-number.empty")
    finally:
        staff.close()
    page = context.new_page()
    login(page, hall, "boss", "/web/cockpit")
    today = dt.datetime.now(load_config(hall.config).tz).date()
    page.fill("#perf-day", today.isoformat())
    with page.expect_response("**/cockpit/performance?day=*") as answer:
        page.click("#perf-day-show")
    assert answer.value.ok
    # wang pressed the keys on his counter page: he is credited, by name and 工号
    row = page.locator("#ck-perf-staff tr[data-account='wang']")
    expect(row).to_contain_text("王五")
    expect(row).to_contain_text("0231")
    assert row.locator("td").nth(3).inner_text() == "1"  # served
    expect(page.locator("#ck-perf tr[data-counter='1']")).to_contain_text("王五（0231）")
    expect(page.locator("#ck-perf-staff-none")).to_be_hidden()
    page.locator("#ck-perf-staff").scroll_into_view_if_needed()
    shot(page, "cockpit-staff-performance")

"""The manager dashboard in headless Chromium against a real hall: live counts follow the
counters, device health and help requests show, reports chart the day and export CSV,
configuration is read-only, and an admin resets a staff password."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import pytest
import requests
from playwright.sync_api import expect

from hall.client import HallClient
from tests.support.hall_server import TOKENS, HallProcess
from tests.web.conftest import PASSWORD, kiosk, login, shot

pytestmark = pytest.mark.e2e


def test_dashboard_live_reports_config_and_accounts(hall: HallProcess, context: Any) -> None:
    k = kiosk(hall)
    for _ in range(3):
        k.issue_ticket("J")
    k.issue_ticket("G")
    counter = HallClient(hall.url, TOKENS["counter"])
    counter.call_next("22")
    counter.counter_action("22", "finish")
    counter.call_next("22")
    counter.pause("5", "午休 Lunch break")
    k.heartbeat("K1", {"printer": "ok", "reader": "error", "camera": "ok", "speaker": "ok"})
    k.help_request("K1", "老人需要帮办")

    page = context.new_page()
    login(page, hall, "boss", "/web/dashboard")
    kpi = page.locator("[data-kpi='issued'] .v")
    expect(kpi).to_have_text("4")
    expect(page.locator("[data-kpi='called'] .v")).to_have_text("2")
    expect(page.locator("[data-kpi='served'] .v")).to_have_text("1")
    expect(page.locator("#live-services tr[data-service='J'] .waiting-count")).to_have_text("1")
    expect(page.locator("#live-counters tr[data-counter='5']")).to_contain_text("午休")
    expect(page.locator("#live-devices tr[data-device='K1']")).to_contain_text("读卡器 故障")
    expect(page.locator("#live-help")).to_contain_text("老人需要帮办")
    shot(page, "dashboard-live")

    # live: the next call moves the counts without a reload
    counter.call_next("22")
    expect(page.locator("[data-kpi='called'] .v")).to_have_text("3")
    expect(page.locator("#live-services tr[data-service='J'] .waiting-count")).to_have_text("0")

    # reports: charts for today, CSV with the same totals
    page.click("[data-tab='reports']")
    expect(page.locator("#report-kpis [data-kpi='issued'] .v")).to_have_text("4")
    expect(page.locator("#chart-wait svg rect")).to_have_count(6)
    shot(page, "dashboard-reports")
    href = page.get_attribute("#report-csv", "href")
    assert href and href.startswith("/web/api/report.csv?from=")
    with page.expect_download() as dl:
        page.click("#report-csv")
    text = Path(dl.value.path()).read_text(encoding="utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    total = next(r for r in rows if r["dimension"] == "total")
    assert total["issued"] == "4" and total["called"] == "3" and total["served"] == "2"

    page.click("[data-tab='config']")
    expect(page.locator("#cfg-counters")).to_contain_text("22号咨询台")
    html = page.content()
    assert TOKENS["kiosk"] not in html and TOKENS["admin"] not in html  # names only
    expect(page.locator("#cfg-devices")).to_contain_text("[devices] printer")
    assert "2468" not in page.inner_text("#cfg-devices")  # the kiosk's admin PIN is hidden
    shot(page, "dashboard-config")

    # accounts: create a counter account, reset wang's password
    page.click("[data-tab='accounts']")
    page.fill("#acc-username", "zhao")
    page.fill("#acc-display", "赵六")
    page.fill("#acc-counters", "7")
    page.fill("#acc-password", "zhao-password-1")
    page.click("#acc-create")
    expect(page.locator("#accounts tr[data-account='zhao']")).to_contain_text("7")
    page.click("[data-reset='wang']")
    page.fill("#pw-new", "wang-new-password")
    page.click("#pw-save")
    expect(page.locator("#password-modal")).to_be_hidden()
    shot(page, "dashboard-accounts")
    s = requests.Session()
    r = s.post(
        f"{hall.url}/web/api/login", json={"username": "wang", "password": PASSWORD}, timeout=10
    )
    assert r.status_code == 401
    r = s.post(
        f"{hall.url}/web/api/login",
        json={"username": "wang", "password": "wang-new-password"},
        timeout=10,
    )
    assert r.status_code == 200
    r = s.post(
        f"{hall.url}/web/api/login",
        json={"username": "zhao", "password": "zhao-password-1"},
        timeout=10,
    )
    assert r.status_code == 200 and r.json()["counters"] == ["7"]

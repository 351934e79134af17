"""The manager dashboard in headless Chromium against a real hall: live counts follow the
counters, device health lists the kiosk, the lobby board and a counter screen that went
silent, help requests say where and why, reports chart the day and export CSV (Chinese
headers, English below), configuration is read-only and labelled in words, and an admin
resets a staff password."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from playwright.sync_api import expect

from hall.client import HallClient
from hall.config import load_config
from hall.web.export import read_report_csv
from signage.config import parse_signage
from signage.feed import BoardFeed
from signage.heartbeat import Heartbeat, PartStates, device_id
from tests.support.hall_server import TOKENS, HallProcess
from tests.web.conftest import KIOSK_PLACE, PASSWORD, kiosk, login, shot, start_web_hall

pytestmark = pytest.mark.e2e
SILENT_S = 4  # [policy].device_silent_s of this hall: a counter screen goes quiet
SCREEN_TOKEN = "test-screen-token-21-3c9e0f"
SCREEN_PLACE = "22号窗口上方"
SCREEN = f"""
[[token]]
name = "screen-22"
role = "display"
device = "S22"
location = "{SCREEN_PLACE}"
token = "{SCREEN_TOKEN}"
"""


@pytest.fixture
def hall(tmp_path: Path) -> Iterator[HallProcess]:
    proc = start_web_hall(tmp_path, policy={"device_silent_s": SILENT_S}, extra=SCREEN)
    yield proc
    proc.stop()


class Speaker:
    """The announcer as the heartbeat reads it: nothing said yet, nothing failed."""

    def __init__(self) -> None:
        self.history: list[Any] = []

    def on_event(self, event_id: int, event_type: str, data: object) -> None:
        pass


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
    k.help_request("K1", "老人需要帮办")
    k.help_request("K1", "citizen_asked")

    # the devices: kiosk K1 (its reader broken) and the lobby board (the signage box's
    # own heartbeat, as `govhall signage` sends it) keep beating; the screen over counter
    # 22 says one word and goes quiet
    parts = {"printer": "ok", "reader": "error", "camera": "ok", "speaker": "ok"}
    beats = [Heartbeat(k, "K1", lambda: parts, 0.5).start()]
    display = HallClient(hall.url, TOKENS["display"])
    feed = BoardFeed(display, parse_signage({"server": hall.url, "token": TOKENS["display"]}))
    feed.start()
    lobby = device_id(load_config(hall.config), TOKENS["display"])
    assert lobby == "lobby-1"
    board_parts = PartStates(feed, [Speaker()], speaker_wanted=True)
    beats.append(Heartbeat(display, lobby, board_parts, 0.5).start())
    screen = HallClient(hall.url, SCREEN_TOKEN)
    assert Heartbeat(screen, "S22", lambda: {"screen": "ok", "led": "ok"}, 60).beat()
    time.sleep(SILENT_S + 1)
    try:
        page = context.new_page()
        login(page, hall, "boss", "/web/dashboard")
        dashboard(page, hall, counter)
    finally:
        for beat in beats:
            beat.stop()
        feed.stop(1.0)


def dashboard(page: Any, hall: HallProcess, counter: HallClient) -> None:
    kpi = page.locator("[data-kpi='issued'] .v")
    expect(kpi).to_have_text("4")
    expect(page.locator("[data-kpi='called'] .v")).to_have_text("2")
    expect(page.locator("[data-kpi='served'] .v")).to_have_text("1")
    expect(page.locator("#live-services tr[data-service='J'] .waiting-count")).to_have_text("1")
    expect(page.locator("#live-counters tr[data-counter='5']")).to_contain_text("午休")
    k1 = page.locator("#live-devices tr[data-device='K1']")
    expect(k1).to_contain_text("读卡器 故障")
    expect(k1).to_contain_text("自助取号机")
    expect(k1).to_contain_text(KIOSK_PLACE)
    expect(k1).to_have_attribute("data-online", "1")
    board = page.locator("#live-devices tr[data-device='lobby-1']")
    expect(board).to_contain_text("大厅叫号屏")
    expect(board).to_contain_text("叫号屏 正常")
    expect(board).to_contain_text("音箱 正常")
    expect(board).to_contain_text("窗口条屏 未接")
    expect(board).to_contain_text("在线")
    quiet = page.locator("#live-devices tr[data-device='S22']")
    expect(quiet).to_have_attribute("data-online", "0")
    expect(quiet).to_contain_text("窗口屏")
    expect(quiet).to_contain_text("失联")
    expect(quiet).to_contain_text("最后上报")
    expect(quiet).to_contain_text(SCREEN_PLACE)
    expect(quiet).to_contain_text("屏幕 离线")  # its parts are not known while it is silent
    help_ = page.locator("#live-help")
    expect(help_).to_contain_text(f"自助机 K1 · {KIOSK_PLACE}")
    expect(help_).to_contain_text("老人需要帮办")
    expect(help_).to_contain_text("群众在自助机上请求帮助")
    live_text = page.inner_text("#tab-live")
    for code in ("citizen_asked", "part_", "device_kind_", "display", "error"):
        assert code not in live_text, code
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
    raw = Path(dl.value.path()).read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf") and b"\r\n" in raw  # UTF-8 with a BOM, CRLF
    text = raw.decode("utf-8")
    assert text.splitlines()[0].startswith("\ufeff统计维度,代码,名称,取号数,叫号数,")
    assert text.splitlines()[1].startswith("Dimension,Code,Name,Tickets issued,Calls,")
    rows = read_report_csv(text)
    total = next(r for r in rows if r["csv_dimension"] == "合计 Total")
    assert total["metric_issued"] == "4" and total["metric_called"] == "3"
    assert total["metric_served"] == "2"
    by_counter = {r["csv_key"]: r for r in rows if r["csv_dimension"] == "窗口 Counter"}
    assert by_counter["22"]["csv_name"] == "22号咨询台"
    assert by_counter["22"]["metric_served"] == "2"  # every one served there

    page.click("[data-tab='config']")
    expect(page.locator("#cfg-counters")).to_contain_text("22号咨询台")
    html = page.content()
    assert TOKENS["kiosk"] not in html and TOKENS["admin"] not in html  # names only
    # a label in words for every setting, Chinese first; the file's key small beside it
    policy = page.locator("#cfg-policy [data-key='elderly_age']")
    expect(policy).to_contain_text("老年人绿色通道年龄")
    expect(policy.locator("code.key")).to_have_text("elderly_age")
    expect(page.locator("#cfg-policy [data-key='device_silent_s']")).to_contain_text("失联")
    printer = page.locator("#cfg-devices [data-key='printer']")
    expect(printer).to_contain_text("小票打印机")
    expect(page.locator("#cfg-devices")).to_contain_text("外接设备")
    expect(page.locator("#cfg-tokens")).to_contain_text(f"K1 · {KIOSK_PLACE}")
    expect(page.locator("#cfg-tokens")).to_contain_text("叫号屏")
    assert "2468" not in page.inner_text("#cfg-devices")  # the kiosk's admin PIN is hidden
    shot(page, "dashboard-config")

    # accounts: create a counter account, reset wang's password
    page.click("[data-tab='accounts']")
    page.fill("#acc-username", "zhao")
    page.fill("#acc-display", "赵六")
    page.fill("#acc-staff-no", "XC-1024")
    page.fill("#acc-counters", "7")
    page.fill("#acc-services", "A，C")  # the services zhao can handle, for the staffing plan
    page.fill("#acc-password", "zhao-password-1")
    page.click("#acc-create")
    expect(page.locator("#accounts tr[data-account='zhao']")).to_contain_text("7")
    expect(page.locator("#accounts tr[data-account='zhao']")).to_contain_text("XC-1024")
    expect(page.locator("[data-services='zhao']")).to_have_value("A,C")
    # wang's services changed in place; a code the hall lacks is refused in its words
    page.fill("[data-services='wang']", "B")
    # the table is drawn again from the hall after a save: wait for that, or the next fill
    # goes to the row being replaced
    with page.expect_response("**/web/api/accounts"):
        page.click("[data-save-services='wang']")
    expect(page.locator("[data-services='wang']")).to_have_value("B")
    page.fill("[data-services='wang']", "B,ZZ")
    with page.expect_response("**/web/api/accounts/wang") as refused:
        page.click("[data-save-services='wang']")
    assert refused.value.status == 422
    expect(page.locator("#toast")).to_contain_text("没有该事项")
    page.reload()
    page.click("[data-tab='accounts']")
    expect(page.locator("[data-services='wang']")).to_have_value("B")
    # the same again: refused, in the hall's words for the code (the page has none of its own)
    page.fill("#acc-username", "zhao")
    page.fill("#acc-counters", "7")
    page.fill("#acc-password", "zhao-password-1")
    page.click("#acc-create")
    expect(page.locator("#toast")).to_contain_text("该账号已存在")
    assert "account_exists" not in page.inner_text("#toast")
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

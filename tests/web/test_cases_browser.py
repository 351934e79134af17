"""好差评 in headless Chromium against a real hall process (issue 19): the counter registers
the 办件编号 of a visit of two matters, the pad asks one rating per matter with the optional
second step (服务效率, 服务水平, 服务态度) and a 差评's reasons; staff invite, never rate."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
import requests
from playwright.sync_api import expect
from sqlalchemy import create_engine, text

from hall.client import HallClient
from tests.support.hall_server import TOKENS, HallProcess
from tests.web.conftest import kiosk, login, shot

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def rows(hall: HallProcess, sql: str, **params: Any) -> list[Any]:
    engine = create_engine(hall.database)
    try:
        with engine.connect() as conn:
            return list(conn.execute(text(sql), params))
    finally:
        engine.dispose()


def test_two_matters_two_ratings_with_the_second_step(hall: HallProcess, context: Any) -> None:
    ticket = kiosk(hall).issue_ticket("J")
    counter = context.new_page()
    login(counter, hall, "wang", "/web/counter?c=1")
    counter.wait_for_selector("body[data-ready]")
    pad = context.new_page()
    pad.goto(f"{hall.url}/web/pad?c=1")
    pad.wait_for_selector("#pad-welcome:not(.hidden)")

    counter.click("#btn-call-next")
    expect(counter.locator("#matters-ticket")).to_have_text(ticket.number)
    counter.fill("#matter-no", "XC20261202-0042")  # a scanner types the number and Enter
    counter.press("#matter-no", "Enter")
    expect(counter.locator("[data-matter='XC20261202-0042']")).to_be_visible()
    counter.click("#matter-generate")
    expect(counter.locator("#matters-list .matter")).to_have_count(2)
    counter.click("#btn-finish")
    shot(counter, "cases-counter-matters")

    # first matter: 非常满意, then the three indicators
    pad.wait_for_selector("#pad-ask:not(.hidden)")
    expect(pad.locator("#pad-matter")).to_contain_text("办件 1/2：XC20261202-0042")
    shot(pad, "cases-pad-ask-matter")
    pad.click("button.face.s5")
    pad.wait_for_selector("#pad-indicators:not(.hidden)")
    pad.click("[data-indicator='efficiency'] [data-level='4']")
    pad.click("[data-indicator='attitude'] [data-level='3']")
    pad.click("[data-indicator='attitude'] [data-level='5']")  # a change of mind: one level
    expect(pad.locator("[data-indicator='attitude'] [aria-pressed='true']")).to_have_count(1)
    shot(pad, "cases-pad-indicators")
    pad.click("#pad-ind-send")
    pad.wait_for_selector("#pad-thanks:not(.hidden)")

    # second matter: 不满意 → reasons (a phone number in the words is masked) → skip step 2
    pad.wait_for_selector("#pad-ask:not(.hidden)", timeout=20_000)
    expect(pad.locator("#pad-matter")).to_contain_text("办件 2/2")
    pad.click("button.face.s2")
    pad.wait_for_selector("#pad-reasons:not(.hidden)")
    pad.click("[data-reason='repeat_visits']")
    pad.fill("#pad-comment", "跑了三次，请回电13812345678")
    pad.click("#pad-send")
    pad.wait_for_selector("#pad-indicators:not(.hidden)")
    pad.click("#pad-skip")
    pad.wait_for_selector("#pad-thanks:not(.hidden)")

    def evaluations() -> list[Any]:
        return rows(
            hall,
            "SELECT matter_no, score, efficiency, competence, attitude, reasons, comment, channel"
            " FROM evaluations WHERE ticket_id = :id ORDER BY id",
            id=ticket.id,
        )

    # the pad thanks the citizen at once; its request may land a moment later
    deadline = time.monotonic() + 15
    while len(got := evaluations()) < 2 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert len(got) == 2, got
    assert (got[0].matter_no, got[0].score, got[0].channel) == ("XC20261202-0042", 5, "pad")
    assert (got[0].efficiency, got[0].competence, got[0].attitude) == (4, None, 5)
    assert got[1].score == 2 and got[1].matter_no.endswith("-2") and got[1].efficiency is None
    assert json.loads(got[1].reasons) == ["repeat_visits"]
    assert "13812345678" not in got[1].comment and "138" in got[1].comment
    assert len(rows(hall, "SELECT id FROM cases WHERE evaluation_id IS NOT NULL")) == 1

    # the counter page shows both rated; and it has no way to give a score
    counter.reload()
    counter.wait_for_selector("body[data-ready]")
    assert counter.locator("[data-score]").count() == 0


HEAD = ("head", "赵科长")  # the department head of J (综合咨询) and B


def add_supervisor(hall: HallProcess) -> None:
    from hall.config import load_config
    from hall.services.context import HallContext
    from hall.storage.engine import make_engine
    from hall.web import accounts
    from hall.web.settings import web_settings
    from tests.web.conftest import PASSWORD

    config = load_config(hall.config)
    engine = make_engine(hall.database)
    try:
        ctx = HallContext(config, engine)
        accounts.create_account(
            ctx,
            web_settings(config),
            HEAD[0],
            PASSWORD,
            "supervisor",
            [],
            HEAD[1],
            None,
            ["J", "B"],
        )
    finally:
        engine.dispose()


def admin_post(hall: HallProcess, path: str, body: dict[str, Any]) -> dict[str, Any]:
    r = requests.post(
        f"{hall.url}/api/v1{path}",
        json=body,
        headers={"Authorization": f"Bearer {TOKENS['admin']}"},
        timeout=10,
    )
    assert r.status_code in (200, 201), r.text
    data: dict[str, Any] = r.json()
    return data


def test_case_pages_list_overdue_red_and_handle_a_bad_review(
    hall: HallProcess, context: Any
) -> None:
    add_supervisor(hall)
    counter = HallClient(hall.url, TOKENS["counter"])
    cases = []
    for score in (1, 2):
        ticket = kiosk(hall).issue_ticket("J")
        counter.call_next("1")
        counter.counter_action("1", "finish")
        cases.append(counter.evaluate(ticket.id, score, "等了很久，电话13812345678").case)
    late = admin_post(
        hall,
        "/cases",
        {
            "kind": "cannot_handle",
            "service": "B",
            "contact": "13900001111",
            "description": "医保转移办不成",
        },
    )
    # one case opened weeks ago: due long past (the deadline arithmetic is tested elsewhere)
    engine = create_engine(hall.database)
    with engine.begin() as conn:
        conn.execute(
            text("UPDATE cases SET opened_on = '2026-10-09', due_on = '2026-10-30' WHERE id = :id"),
            {"id": late["id"]},
        )
    engine.dispose()

    page = context.new_page()
    login(page, hall, HEAD[0], "/web/cases")
    page.wait_for_selector("body[data-ready]")
    expect(page.locator("#case-table tr[data-case]")).to_have_count(3)
    overdue = page.locator(f"#case-table tr[data-case='{late['id']}']")
    expect(overdue).to_have_class("overdue")
    assert (
        overdue.locator("td").first.evaluate("e => getComputedStyle(e).color") == "rgb(198, 40, 40)"
    )
    expect(overdue).to_contain_text("超期")
    assert "13812345678" not in page.content() and "13900001111" not in page.content()
    shot(page, "cases-list")
    page.select_option("#f-overdue", "true")
    expect(page.locator("#case-table tr[data-case]")).to_have_count(1)
    page.select_option("#f-overdue", "")

    # a 差评: the six steps, 核实, one extension, 回访
    page.click(f"#case-table tr[data-case='{cases[0]}']")
    page.wait_for_selector("#case-detail-view:not(.hidden)")
    expect(page.locator("#case-flow li")).to_have_count(5)
    page.fill("[data-guidance='calm']", "请群众到休息区坐下，致歉")
    page.fill("[data-guidance='cause']", "高峰期只开一个综合窗口")
    page.fill("[data-guidance='solution']", "高峰时段增开窗口")
    page.click("#guidance-save")
    expect(page.locator("#case-steps tr[data-step='guide']")).to_have_count(1)
    page.select_option("#step-kind", "verify")
    page.fill("#step-note", "调取叫号记录，等候 52 分钟属实")
    page.click("#step-save")
    expect(page.locator("#case-flow li.done[data-flow='verify']")).to_be_visible()
    page.fill("#extend-to", "2027-02-26")
    page.fill("#extend-reason", "需人社局协调增派人员")
    page.click("#extend-save")
    expect(page.locator("#case-facts")).to_contain_text("2027-02-26（需人社局协调增派人员）")
    expect(page.locator("#extend-panel")).to_be_hidden()  # once only
    page.select_option("#step-kind", "follow_up")
    page.select_option("#step-satisfied", "true")
    page.fill("#step-note", "电话回访，群众满意")
    page.click("#step-save")
    expect(page.locator("#case-steps tr[data-step='follow_up']")).to_contain_text("满意")
    shot(page, "cases-detail")

    # staff appeal the second 差评; the head decides
    staff_context = context.browser.new_context(
        viewport={"width": 1600, "height": 900}, locale="zh-CN"
    )
    staff = staff_context.new_page()
    login(staff, hall, "wang", f"/web/cases?id={cases[1]}")
    staff.wait_for_selector("body[data-ready]")
    expect(staff.locator("#step-panel")).to_be_hidden()  # counter staff do not handle cases
    staff.fill("#appeal-note", "群众未办理业务即离开后评价")
    staff.click("#appeal-send")
    expect(staff.locator("#appeal-state")).to_contain_text("申诉待复核")
    staff_context.close()
    page.goto(f"{hall.url}/web/cases?id={cases[1]}")
    page.wait_for_selector("body[data-ready]")
    page.fill("#decision-note", "核实监控，误评")
    page.click("#appeal-uphold")
    expect(page.locator("#appeal-state")).to_contain_text("申诉成立")
    shot(page, "cases-appeal")

    # the public page, no login: the upheld 差评 is not counted
    month = page.evaluate("document.querySelector('#ledger-month').value")
    public = context.browser.new_context(viewport={"width": 1400, "height": 800}, locale="zh-CN")
    try:
        p = public.new_page()
        p.goto(f"{hall.url}/p/evaluations?month={month}")
        p.wait_for_selector("body[data-ready]")
        expect(p.locator("[data-kpi='ratings'] .v")).to_have_text("1")
        expect(p.locator("[data-kpi='bad'] .v")).to_have_text("1")
        expect(p.locator("[data-kpi='good_rate_pct'] .v")).to_have_text("0.0%")
        expect(p.locator("#public-table tr[data-service='J']")).to_be_visible()
        shot(p, "cases-public")
    finally:
        public.close()


def test_the_phone_page_offers_the_rating_once_served(hall: HallProcess, browser: Any) -> None:
    ticket = kiosk(hall).issue_ticket("J")
    counter = HallClient(hall.url, TOKENS["counter"])
    phone = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN")
    try:
        page = phone.new_page()
        page.goto(f"{hall.url}/t/{ticket.public_token}")
        page.wait_for_selector("body[data-rating='none']")
        expect(page.locator("#t-rating")).to_be_hidden()  # still waiting: nothing to rate
        counter.call_next("1")
        counter.counter_action("1", "finish")
        page.reload()
        page.wait_for_selector("body[data-rating='rate']")
        page.click("[data-phone-score='2']")
        page.click("[data-phone-reason='unclear_requirements']")
        page.fill("#t-rating-comment", "材料清单和窗口说的不一样")
        shot(page, "cases-phone-rating")
        page.click("#t-rating-send")
        page.wait_for_selector("body[data-rating='sent']")
        expect(page.locator("#t-rating-thanks")).to_be_visible()
    finally:
        phone.close()
    got = rows(
        hall, "SELECT channel, score, reasons FROM evaluations WHERE ticket_id = :id", id=ticket.id
    )
    assert [(r.channel, r.score, json.loads(r.reasons)) for r in got] == [
        ("phone", 2, ["unclear_requirements"])
    ]
    assert len(rows(hall, "SELECT id FROM cases WHERE ticket_id = :id", id=ticket.id)) == 1


def test_the_kiosk_client_rates_the_last_visit(hall: HallProcess) -> None:
    """评价上次办理 through hall.client, as the kiosk's journey will call it."""
    from hall.client import HallApiError

    k = kiosk(hall)
    ticket = k.issue_ticket("J")
    counter = HallClient(hall.url, TOKENS["counter"])
    counter.call_next("1")
    counter.counter_action("1", "finish")
    visit = k.find_ratable(number=ticket.number)
    assert (visit.ticket, visit.service_name) == (ticket.id, "综合咨询")
    rated = k.evaluate(visit.ticket, 2, channel="kiosk", reasons=["long_wait"], matter_no=None)
    assert (rated.channel, rated.grade) == ("kiosk", "bad") and rated.case is not None
    with pytest.raises(HallApiError) as refused:
        k.find_ratable(number=ticket.number)
    assert refused.value.code == "visit_not_found"

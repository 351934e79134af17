"""好差评 in headless Chromium against a real hall process (issue 19): the counter registers
the 办件编号 of a visit of two matters, the pad asks one rating per matter with the optional
second step (服务效率, 服务水平, 服务态度) and a 差评's reasons; staff invite, never rate."""

from __future__ import annotations

import json
from typing import Any

import pytest
from playwright.sync_api import expect
from sqlalchemy import create_engine, text

from tests.support.hall_server import HallProcess
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

    got = rows(
        hall,
        "SELECT matter_no, score, efficiency, competence, attitude, reasons, comment, channel"
        " FROM evaluations WHERE ticket_id = :id ORDER BY id",
        id=ticket.id,
    )
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

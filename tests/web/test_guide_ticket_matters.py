"""A ticket taken through 我要办 carries its matters (issue 20): ``POST /api/v1/tickets``
with ``matters`` registers each as a matter of the ticket in the same transaction, the
counter page lists them by name, and the pad asks one rating per matter; a code the hall's
catalogue does not have, or a matter of another queue, is a coded 422 and no ticket."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from playwright.sync_api import expect
from sqlalchemy import func, select

from hall.app import create_app
from hall.config import load_config
from hall.services.context import HallContext
from hall.storage import tables as t
from hall.web import accounts
from tests.support.hall_server import SAMPLE, TOKENS, HallProcess
from tests.web.conftest import PASSWORD, Web, kiosk, login, shot

BIRTH = ["hj-01", "yb-01", "sb-03"]  # 新生儿出生一件事 (yjs-01), a ticket for the 综合窗口 (J)


@pytest.fixture
def web(tmp_path: Path) -> Iterator[Web]:
    """The sample hall (its queues are the catalogue's), its counter 1 staffed by wang."""
    app = create_app(load_config(SAMPLE), database=f"sqlite:///{tmp_path / 'hall.db'}")
    with TestClient(app) as client:
        state = app.state.web
        accounts.create_account(state.ctx, state.settings, "wang", PASSWORD, "counter", ["1"])
        yield Web(client)


def post_ticket(web: Web, body: dict[str, Any], key: str | None = None) -> Any:
    headers = {"Authorization": f"Bearer {TOKENS['kiosk']}"}
    if key:
        headers["Idempotency-Key"] = key
    return web.client.post("/api/v1/tickets", json=body, headers=headers)


def count(web: Web, table: Any) -> int:
    ctx: HallContext = web.client.app.state.ctx  # type: ignore[attr-defined]
    with ctx.engine.connect() as conn:
        return int(
            conn.execute(
                select(func.count()).select_from(table).where(table.c.hall_id == ctx.hall_id)
            ).scalar_one()
        )


def test_a_bundles_ticket_carries_its_matters_to_the_counter_and_each_is_rated_once(
    web: Web,
) -> None:
    r = post_ticket(web, {"service": "J", "matters": BIRTH}, key="birth-1")
    assert r.status_code == 201, r.text
    ticket = r.json()
    again = post_ticket(web, {"service": "J", "matters": BIRTH}, key="birth-1")
    assert again.json()["id"] == ticket["id"]  # a replay registers nothing twice
    assert count(web, t.ticket_matters) == 3

    web.login("wang")
    web.post("/counters/1/do/call-next")
    body = web.get("/counters/1/matters").json()
    assert body["number"] == ticket["number"]
    matters = body["matters"]
    assert [m["code"] for m in matters] == BIRTH
    assert [m["name"] for m in matters] == ["新生儿出生登记", "医保参保登记", "社会保障卡申领"]
    assert matters[0]["name_en"] and all(m["source"] == "guide" for m in matters)
    assert [m["rated"] for m in matters] == [False, False, False]
    numbers = [m["matter_no"] for m in matters]
    assert len(set(numbers)) == 3 and all(ticket["number"] in n for n in numbers)
    web.post("/counters/1/do/finish")

    asked = []
    for score in (5, 4, 5):
        pad = web.get("/counters/1/pad").json()["ticket"]
        asked.append((pad["matter_no"], pad["matter_index"], pad["matters"]))
        rating = {"ticket": ticket["id"], "score": score, "matter_no": pad["matter_no"]}
        assert web.post("/counters/1/evaluate", rating).status_code == 201
    assert asked == [(n, i + 1, 3) for i, n in enumerate(numbers)]
    assert web.get("/counters/1/pad").json()["ticket"] is None  # each matter once
    assert [m["rated"] for m in web.get("/counters/1/matters").json()["matters"]] == [True] * 3


def test_one_matter_goes_with_its_own_queues_ticket(web: Web) -> None:
    body = {"service": "A", "id_number": "11010519491231002X", "matters": ["sb-04", "sb-04"]}
    r = post_ticket(web, body)
    assert r.status_code == 201, r.text
    web.login("wang")
    web.post("/counters/1/do/call-next")
    (matter,) = web.get("/counters/1/matters").json()["matters"]  # given twice, kept once
    assert (matter["code"], matter["name"]) == ("sb-04", "社会保障卡挂失与补换")


def test_a_matter_the_catalogue_lacks_or_of_another_queue_is_refused_without_a_ticket(
    web: Web,
) -> None:
    for matters, code in (
        (["hj-01", "xx-99"], "guide_matter_unknown"),
        (["yjs-01"], "guide_matter_unknown"),  # a bundle's code: its matters are sent
        (["gjj-02"], "guide_matter_elsewhere"),  # 租房提取 is the 公积金 queue's, in no J bundle
    ):
        r = post_ticket(web, {"service": "J", "matters": matters})
        assert r.status_code == 422, r.text
        err = r.json()
        assert err["error"] == code and err["zh"] and err["en"], err
        assert err["zh"] != err["en"]
    r = post_ticket(web, {"service": "J", "matters": ["x" * 17]})
    assert r.status_code == 422  # bounded by the body's model
    assert count(web, t.tickets) == 0 and count(web, t.ticket_matters) == 0
    assert post_ticket(web, {"service": "J"}).status_code == 201  # no matters: as before
    assert count(web, t.ticket_matters) == 0


@pytest.mark.e2e
def test_the_counter_page_names_the_matters_the_kiosk_sent(hall: HallProcess, context: Any) -> None:
    """In Chromium against a real hall process: the kiosk's client sends the bundle's
    matters, and once called the counter's 办件编号 panel lists each by name."""
    ticket = kiosk(hall).issue_ticket("J", matters=BIRTH)
    page = context.new_page()
    login(page, hall, "wang", "/web/counter")
    page.wait_for_selector("body[data-ready]")
    page.keyboard.press("n")
    expect(page.locator("#current-number")).to_have_text(ticket.number)
    rows = page.locator("#matters-list .matter")
    expect(rows).to_have_count(3)
    expect(rows.locator(".matter-name .zh")).to_have_text(
        ["新生儿出生登记", "医保参保登记", "社会保障卡申领"]
    )
    expect(rows.first).to_contain_text("自助机导办")
    expect(rows.first.locator(".matter-name .en")).to_have_text(
        "Registering a newborn's birth (hukou)"
    )
    shot(page, "counter-guide-matters")


def test_the_business_systems_numbers_take_the_place_of_the_kiosks(web: Web) -> None:
    """Staff key in the business system's 办件编号: each takes the place of a matter the
    ticket named (in order, its name kept), so the bundle is still rated three times; a
    number beyond them is one matter more."""
    ticket = post_ticket(web, {"service": "J", "matters": BIRTH}).json()
    web.login("wang")
    web.post("/counters/1/do/call-next")
    assert web.post("/counters/1/matters", {"matter_no": "HJ-2026-0001"}).status_code == 201
    r = web.post("/counters/1/matters", {"matter_no": "YB-2026-0002"})
    matters = r.json()["matters"]
    assert [(m["matter_no"], m["code"], m["source"]) for m in matters] == [
        ("HJ-2026-0001", "hj-01", "entered"),
        ("YB-2026-0002", "yb-01", "entered"),
        (matters[2]["matter_no"], "sb-03", "guide"),
    ]
    assert matters[0]["name"] == "新生儿出生登记"
    web.post("/counters/1/matters", {})  # 生成编号: one matter more, in the hall's format
    web.post("/counters/1/matters", {"matter_no": "SB-2026-0003"})
    web.post("/counters/1/matters", {"matter_no": "X-4"})  # none left to replace: one more
    matters = web.get("/counters/1/matters").json()["matters"]
    assert [m["source"] for m in matters] == [
        "entered",
        "entered",
        "entered",
        "generated",
        "entered",
    ]
    assert [m["code"] for m in matters] == ["hj-01", "yb-01", "sb-03", None, None]
    web.post("/counters/1/do/finish")
    asked = []
    while (pad := web.get("/counters/1/pad").json()["ticket"]) is not None:
        asked.append(pad["matter_no"])
        rating = {"ticket": ticket["id"], "score": 5, "matter_no": pad["matter_no"]}
        assert web.post("/counters/1/evaluate", rating).status_code == 201
    assert asked == [m["matter_no"] for m in matters] and len(asked) == 5

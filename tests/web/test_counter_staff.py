"""Counter actions from the counter page record the staff member who did them (issue 22):
the account and its 工号 ride on every event (beside the event's old fields) and on the
ticket and pause rows, and the performance figures credit that person — not the accounts
that merely list the counter. Actions with a counter device's token carry no person and
count for the counter only."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select

from hall.services import performance
from hall.storage import tables as t
from hall.web import accounts
from tests.support.clock import FakeClock
from tests.support.hall import TOKENS as API_TOKENS
from tests.web.conftest import PASSWORD, Web


def _events(web: Web) -> list[tuple[str, dict[str, Any]]]:
    ctx = web.client.app.state.web.ctx  # type: ignore[attr-defined]
    with ctx.read() as conn:
        # this hall's only: on PostgreSQL the tests' halls share one database
        rows = conn.execute(
            select(t.events.c.type, t.events.c.data)
            .where(t.events.c.hall_id == ctx.hall_id)
            .order_by(t.events.c.id)
        )
        return [(r.type, json.loads(r.data)) for r in rows]


def _api(web: Web, path: str, body: object = None) -> Any:
    r = web.client.post(
        "/api/v1" + path,
        json=body if body is not None else {},
        headers={"Authorization": f"Bearer {API_TOKENS['counter']}"},
    )
    assert r.status_code in (200, 201), r.text
    return r.json()


def _ok(r: Any) -> Any:
    assert r.status_code == 200, r.text
    return r.json()


def test_every_counter_page_action_carries_the_person(web: Web, clock: FakeClock) -> None:
    ctx = web.client.app.state.web.ctx  # type: ignore[attr-defined]
    accounts.update_account(ctx, "wang", staff_no="0231", display_name="王五")
    wang = next(a for a in accounts.list_accounts(ctx) if a["username"] == "wang")
    me = {"account": wang["id"], "staff_no": "0231"}
    for _ in range(4):
        web.issue("B")
    web.login("wang")
    first = _ok(web.post("/counters/1/do/call-next"))["ticket"]
    _ok(web.post("/counters/1/do/start"))
    _ok(web.post("/counters/1/do/call-next"))  # finishes the first, calls the second
    clock.advance(10)
    _ok(web.post("/counters/1/do/recall"))
    _ok(web.post("/counters/1/do/no-show"))
    _ok(web.post("/counters/1/call", {"ticket": first["id"] + 2}))
    _ok(web.post("/counters/1/transfer", {"service": "A"}))
    _ok(web.post("/counters/1/do/call-next"))
    _ok(web.post("/counters/1/do/park"))
    _ok(web.post("/counters/1/pause", {"reason": "午休"}))
    _ok(web.post("/counters/1/do/resume"))
    seen = _events(web)
    acted = [(type_, data) for type_, data in seen if type_ != "ticket.issued"]
    assert [type_ for type_, _ in acted] == [
        "counter.opened",
        "ticket.called",
        "ticket.started",
        "ticket.finished",
        "ticket.called",
        "ticket.recalled",
        "ticket.no_show",
        "ticket.called",
        "ticket.transferred",
        "ticket.called",
        "ticket.parked",
        "counter.paused",
        "counter.resumed",
    ]
    for type_, data in acted:
        assert data["staff"] == me, type_
    # the old fields are all still there, under their old names
    called = next(d for ty, d in acted if ty == "ticket.called")
    assert {"ticket", "waiting"} <= set(called) and called["ticket"]["id"] == first["id"]
    paused = next(d for ty, d in acted if ty == "counter.paused")
    assert paused["counter"] == "1" and paused["reason"] == "午休"
    transferred = next(d for ty, d in acted if ty == "ticket.transferred")
    assert {"ticket", "from", "from_service"} <= set(transferred)
    with ctx.read() as conn:
        rows = conn.execute(
            select(t.tickets.c.id, t.tickets.c.staff_account, t.tickets.c.staff_no).where(
                t.tickets.c.hall_id == ctx.hall_id, t.tickets.c.called_at.is_not(None)
            )
        ).all()
        pause = conn.execute(select(t.pauses).where(t.pauses.c.hall_id == ctx.hall_id)).one()
    assert rows and all((r.staff_account, r.staff_no) == (wang["id"], "0231") for r in rows)
    assert (pause.staff_account, pause.staff_no) == (wang["id"], "0231")


def test_a_counter_device_token_acts_for_nobody(web: Web, clock: FakeClock) -> None:
    ctx = web.client.app.state.web.ctx  # type: ignore[attr-defined]
    web.issue("B")
    web.issue("B")
    _api(web, "/counters/1/call-next")
    _api(web, "/counters/1/start")
    _api(web, "/counters/1/finish")
    _api(web, "/counters/1/pause", {"reason": "离岗"})
    for type_, data in _events(web):
        assert "staff" not in data, type_
    with ctx.read() as conn:
        row = conn.execute(
            select(t.tickets.c.staff_account).where(
                t.tickets.c.hall_id == ctx.hall_id, t.tickets.c.status == "done"
            )
        ).one()
        assert row.staff_account is None
        paused_by = select(t.pauses.c.staff_account).where(t.pauses.c.hall_id == ctx.hall_id)
        assert conn.execute(paused_by).scalar_one() is None
    # a ticket a device called and a person then finished is that person's
    _api(web, "/counters/1/resume")
    _api(web, "/counters/1/call-next")
    web.login("wang")
    done = _ok(web.post("/counters/1/do/finish"))["ticket"]
    with ctx.read() as conn:
        who = conn.execute(
            select(t.tickets.c.staff_account).where(t.tickets.c.id == done["id"])
        ).scalar_one()
    assert who is not None


def test_performance_credits_the_person_who_did_the_work(web: Web, clock: FakeClock) -> None:
    ctx = web.client.app.state.web.ctx  # type: ignore[attr-defined]
    settings = web.client.app.state.web.settings  # type: ignore[attr-defined]
    accounts.update_account(ctx, "wang", staff_no="0231", display_name="王五")
    # zhao is listed on counter 1 too but does nothing today: no credit, no row
    accounts.create_account(ctx, settings, "zhao", PASSWORD, "counter", ["1"], "赵六", "0777")
    for _ in range(5):
        web.issue("B")
    web.login("wang")
    _ok(web.post("/counters/1/do/call-next"))
    clock.advance(120)
    _ok(web.post("/counters/1/do/start"))
    clock.advance(300)
    _ok(web.post("/counters/1/do/finish"))
    _ok(web.post("/counters/1/pause", {"reason": "离岗"}))
    clock.advance(600)
    _ok(web.post("/counters/1/do/resume"))
    _ok(web.post("/counters/1/do/call-next"))
    clock.advance(10)
    _ok(web.post("/counters/1/do/no-show"))
    # the administrator steps in at the same counter for one citizen
    web.login("boss")
    _ok(web.post("/counters/1/do/call-next"))
    clock.advance(240)
    _ok(web.post("/counters/1/do/finish"))
    # and a counter device serves one with no person at all
    _api(web, "/counters/1/call-next")
    clock.advance(60)
    _api(web, "/counters/1/finish")

    result = performance.period(ctx)
    staff = {r["username"]: r for r in result["staff"]}
    assert set(staff) == {"wang", "boss"}  # zhao did nothing; the device is nobody
    w, b = staff["wang"], staff["boss"]
    assert (w["person"], w["staff_no"], w["counters"]) == ("王五", "0231", ["1"])
    assert (w["served"], w["called"], w["no_show"]) == (1, 2, 1)
    assert w["service_avg_min"] == 5.0
    assert (w["pauses"], w["paused_min"], w["pause_reasons"]) == (1, 10, {"离岗": 1})
    assert w["signed_in_min"] >= 5  # opened by wang's first call, until the pause
    assert (b["served"], b["called"], b["service_avg_min"]) == (1, 1, 4.0)
    assert b["pauses"] == 0
    one = next(r for r in result["rows"] if r["counter"] == "1")
    assert (one["served"], one["called"]) == (3, 4)  # the counter has all of it
    assert "王五（0231）" in one["staff"] and "boss" in one["staff"]
    assert "赵六" not in one["staff"]
    two = next(r for r in result["rows"] if r["counter"] == "2")
    assert two["staff"] == ""


def test_the_performance_downloads_have_the_staff_table(web: Web, clock: FakeClock) -> None:
    ctx = web.client.app.state.web.ctx  # type: ignore[attr-defined]
    accounts.update_account(ctx, "wang", staff_no="0231", display_name="王五")
    web.login("boss")
    csv_before = web.get("/cockpit/performance.csv").text
    assert "人员绩效" not in csv_before and "工号" not in csv_before  # nobody worked yet
    web.issue("B")
    web.login("wang")
    _ok(web.post("/counters/1/do/call-next"))
    clock.advance(180)
    _ok(web.post("/counters/1/do/finish"))
    web.login("boss")
    lines = web.get("/cockpit/performance.csv").text.lstrip("\ufeff").splitlines()
    assert lines[0].startswith("窗口号,名称,工作人员")  # the counters first, as before
    blank = lines.index("")
    assert lines[blank + 1].startswith("账号编号,账号,姓名,工号,所在窗口,办结量")
    person = lines[blank + 3].split(",")
    assert person[1:6] == ["wang", "王五", "0231", "1", "1"]  # …, counters 1, served 1
    xlsx = web.get("/cockpit/performance.xlsx")
    assert xlsx.status_code == 200
    from io import BytesIO

    from openpyxl import load_workbook

    book = load_workbook(BytesIO(xlsx.content))
    assert [ws.title.split()[0] for ws in book.worksheets] == ["窗口绩效", "人员绩效"]
    sheet = book.worksheets[1]
    assert [c.value for c in sheet[3]][1:4] == ["wang", "王五", "0231"]

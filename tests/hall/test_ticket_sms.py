"""无声叫号 by SMS (issue 21): a ticket from a booking's check-in, or a remote ticket taken
with a mobile number, sends ``ticket_soon`` once when 3 or fewer are ahead and
``ticket_called`` once when a counter calls it — through the SMS outbox and the real HTTP
gateway adapter to a local gateway that fails and times out. The number is never shown
whole nor logged, and is gone once the messages are sent or the ticket ends uncalled.

The test hall is open around the clock; the clock starts on Monday 2026-11-23 09:00."""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Iterator
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event, select

from hall.app import create_app
from hall.config import RemoteTickets, Sms
from hall.services import (
    appointments,
    bookings,
    counters,
    notices,
    remote_tickets,
    sms,
    ticket_rows,
    tickets,
)
from hall.services.context import HallContext
from hall.storage import tables as t
from tests.hall.test_booking_api import person
from tests.hall.test_booking_sms import gateway  # noqa: F401 (the failing local gateway)
from tests.hall.test_delivery import Receiver
from tests.support.clock import FakeClock
from tests.support.hall import Api, make_config

TZ = ZoneInfo("Asia/Shanghai")
PHONE = "13912345678"
REMOTE = RemoteTickets(enabled=True, use_location=False, daily_limit=1)


@pytest.fixture
def hall(ctx: HallContext) -> HallContext:
    """The test hall with 远程取号 on (no location check)."""
    ctx.config = ctx.config.model_copy(update={"remote": REMOTE})
    return ctx


def outbox(ctx: HallContext) -> list[dict]:
    with ctx.engine.connect() as conn:
        S = t.sms_outbox
        found = conn.execute(select(S).where(S.c.hall_id == ctx.hall_id).order_by(S.c.id))
        return [dict(r._mapping) for r in found]


def ticket_notices(ctx: HallContext) -> list[dict]:
    return [r for r in outbox(ctx) if r["template"].startswith("ticket_")]


def due(ctx: HallContext) -> dict[str, dict]:
    """Messages released to the gateway (not held), by key, with their parameters."""
    return {
        r["key"]: json.loads(r["params"])
        for r in outbox(ctx)
        if r["next_at"] != notices.HELD and r["template"].startswith("ticket_")
    }


def walk_ins(ctx: HallContext, n: int, first: int = 100) -> list[int]:
    made = [
        tickets.issue(ctx, tickets.IssueRequest(service="A", id_number=person(first + i)))[0]
        for i in range(n)
    ]
    return [m.id for m in made]


def test_a_remote_ticket_is_told_once_when_3_are_ahead_and_once_when_called(
    hall: HallContext, clock: FakeClock
) -> None:
    walk_ins(hall, 5)
    clock.advance(60)
    mine = remote_tickets.issue(hall, "A", person(1), None, phone="139 1234 5678")
    assert mine.waiting_ahead == 5 and PHONE not in mine.model_dump_json()
    (soon, called) = outbox(hall)
    assert (soon["key"], called["key"]) == (f"ticket_soon-{mine.id}", f"ticket_called-{mine.id}")
    assert soon["phone_masked"] == "139****5678" and due(hall) == {}  # held: not sent yet
    counters.call_next(hall, "2")  # 4 ahead now
    assert due(hall) == {}
    counters.call_next(hall, "2")  # 3 ahead: the notice is due
    assert due(hall) == {
        f"ticket_soon-{mine.id}": {"number": "A006", "service": "社保", "ahead": 3}
    }
    counters.call_next(hall, "1")
    counters.call_next(hall, "2")  # 1 ahead: nothing more
    assert len(due(hall)) == 1
    ticket = counters.call_ticket(hall, "2", mine.id)  # the holder is at counter 2
    assert ticket.status == "called"
    assert due(hall)[f"ticket_called-{mine.id}"] == {
        "number": "A006",
        "service": "社保",
        "counter": "2号窗口",
        "counter_en": "2号窗口",
    }
    counters.no_show(hall, "2")
    counters.call_ticket(hall, "2", mine.id)  # called again after 过号: no second message
    assert [r["key"] for r in outbox(hall)] == [
        f"ticket_soon-{mine.id}",
        f"ticket_called-{mine.id}",
    ]


def test_a_booking_checked_in_takes_its_number_to_the_ticket_and_drops_it_from_the_booking(
    hall: HallContext, clock: FakeClock
) -> None:
    start = dt.datetime(2026, 11, 24, 9, 0, tzinfo=TZ)
    req = bookings.BookRequest("A", start, "王芳", person(2), phone=PHONE)
    code = bookings.book(hall, req).code
    clock.now = dt.datetime(2026, 11, 24, 8, 30, tzinfo=TZ)
    walk_ins(hall, 2)
    ticket, _ = appointments.check_in(hall, person(2))
    assert ticket.priority == "appointment" and ticket.waiting_ahead == 0
    with hall.engine.connect() as conn:
        A = t.appointments
        assert conn.execute(select(A.c.phone).where(A.c.code == code)).scalar_one() is None
    assert due(hall) == {  # 0 ahead at once: told at check-in
        f"ticket_soon-{ticket.id}": {"number": ticket.number, "service": "社保", "ahead": 0}
    }
    assert counters.call_next(hall, "1").id == ticket.id  # type: ignore[union-attr]
    assert due(hall)[f"ticket_called-{ticket.id}"]["counter"] == "1号综合窗口"
    counters.finish(hall, "1")  # served before the gateway took them (none is configured)
    assert ticket_notices(hall) == []  # the number went with the ticket's end


def test_called_before_3_are_ahead_sends_only_the_call(hall: HallContext, clock: FakeClock) -> None:
    walk_ins(hall, 6)
    mine = remote_tickets.issue(hall, "A", person(3), None, phone=PHONE)
    counters.call_ticket(hall, "1", mine.id)
    assert list(due(hall)) == [f"ticket_called-{mine.id}"]
    assert [r["key"] for r in outbox(hall)] == [f"ticket_called-{mine.id}"]


def test_a_ticket_ending_uncalled_forgets_the_number(hall: HallContext, clock: FakeClock) -> None:
    start = dt.datetime(2026, 11, 24, 10, 0, tzinfo=TZ)
    bookings.book(hall, bookings.BookRequest("B", start, "李四", person(5), PHONE, "desk"))
    clock.now = dt.datetime(2026, 11, 24, 9, 30, tzinfo=TZ)
    walk_ins(hall, 6)
    late = remote_tickets.issue(hall, "A", person(4), None, phone=PHONE)
    kept, _ = appointments.check_in(hall, person(5))
    assert len(ticket_notices(hall)) == 4
    clock.advance(61 * 60)  # the remote ticket was not confirmed in time
    assert remote_tickets.expire_overdue(hall) == 1
    assert [r["key"] for r in ticket_notices(hall)] == [
        f"ticket_soon-{kept.id}",
        f"ticket_called-{kept.id}",
    ]
    assert due(hall) == {
        f"ticket_soon-{kept.id}": {"number": kept.number, "service": "医保", "ahead": 0}
    }
    assert late.id != kept.id
    clock.now = dt.datetime(2026, 11, 25, 0, 10, tzinfo=TZ)  # the day closes, B001 uncalled
    with hall.read():
        pass
    assert ticket_notices(hall) == []  # nothing to tell any more: the number is gone


def test_no_number_outlives_its_day(hall: HallContext, clock: FakeClock) -> None:
    """A 过号 ticket's called notice the gateway never took (none is configured) goes
    with the day's closing."""
    mine = remote_tickets.issue(hall, "A", person(6), None, phone=PHONE)
    counters.call_ticket(hall, "2", mine.id)
    counters.no_show(hall, "2")
    assert [r["phone"] for r in ticket_notices(hall)] == [PHONE, PHONE]  # 0 ahead, called
    clock.now = dt.datetime(2026, 11, 23, 23, 50, tzinfo=TZ)
    with hall.read():
        pass
    assert len(ticket_notices(hall)) == 2  # the day has not closed yet
    clock.now = dt.datetime(2026, 11, 24, 0, 10, tzinfo=TZ)
    with hall.read():
        pass
    assert ticket_notices(hall) == []


@pytest.mark.slow
def test_notices_go_once_each_through_a_failing_gateway(
    hall: HallContext,
    clock: FakeClock,
    gateway: Receiver,  # noqa: F811
    caplog: pytest.LogCaptureFixture,
) -> None:
    walk_ins(hall, 4)
    mine = [
        remote_tickets.issue(hall, "A", person(10 + n), None, phone=f"1390000{n:04d}")
        for n in range(3)
    ]
    caplog.set_level(logging.INFO)
    config = Sms(
        url=f"http://127.0.0.1:{gateway.port}/",
        templates={"ticket_soon": "SMS_0003", "ticket_called": "SMS_0004"},
        timeout_s=0.5,
        rate_per_minute=1000,
    )
    sender = sms.HttpSmsGateway(config)

    def drain() -> None:
        for _ in range(40):
            if all(r["sent_at"] for r in outbox(hall) if r["next_at"] != notices.HELD):
                return
            sms.deliver_due(hall, sender, config)
            clock.advance(5)
        raise AssertionError("the outbox was not sent")

    for _ in range(4):  # the walk-ins: 3 ahead of each remote ticket in turn
        counters.call_next(hall, "2")
        drain()
    for m in mine:  # then each remote ticket directly, its holder at the counter
        counters.call_ticket(hall, "1", m.id)
        drain()
    sent = outbox(hall)
    assert len(sent) == 6 and all(r["sent_at"] and r["phone"] is None for r in sent)
    got = gateway.records()
    expected = [f"ticket_{kind}-{m.id}" for m in mine for kind in ("soon", "called")]
    assert sorted(g["key"] for g in got) == sorted(expected)  # once each
    first = next(g for g in got if g["key"] == f"ticket_called-{mine[0].id}")
    assert first["phone"] == "13900000000" and first["template_id"] == "SMS_0004"
    assert {g["template_id"] for g in got} == {"SMS_0003", "SMS_0004"}
    assert all(f"1390000{n:04d}" not in caplog.text for n in range(3))


@pytest.fixture
def api(database: tuple[str, str], clock: FakeClock) -> Iterator[Api]:
    url, hall_id = database
    cfg = make_config(hall_id).model_copy(update={"remote": REMOTE})
    cfg = cfg.model_copy(
        update={"booking": cfg.booking.model_copy(update={"rate_per_minute": 1000})}
    )
    with TestClient(create_app(cfg, database=url, clock=clock)) as client:
        yield Api(client)


def test_the_remote_ticket_route_takes_an_optional_phone(api: Api) -> None:
    bad = api.post(
        "/remote-tickets", {"service": "A", "id_number": person(1), "phone": "12"}, role=None
    )
    assert bad.status_code == 422 and bad.json()["error"] == "invalid_phone" and bad.json()["zh"]
    made = api.post(
        "/remote-tickets", {"service": "A", "id_number": person(1), "phone": PHONE}, role=None
    )
    assert made.status_code == 201, made.text
    assert PHONE not in made.text and "phone" not in made.json()
    plain = api.post("/remote-tickets", {"service": "B", "id_number": person(2)}, role=None)
    assert plain.status_code == 201
    ctx = api.client.app.state.ctx  # type: ignore[attr-defined]
    assert [r["key"] for r in outbox(ctx)] == [
        f"ticket_soon-{made.json()['id']}",
        f"ticket_called-{made.json()['id']}",
    ]


def test_the_remote_ticket_page_takes_an_optional_phone(api: Api) -> None:
    form = api.client.get("/book/remote")
    assert form.status_code == 200 and 'name="phone"' in form.text
    taken = api.client.post(
        "/book/remote",
        data={"service": "A", "id_number": person(3), "phone": PHONE},
        follow_redirects=False,
    )
    assert taken.status_code == 303, taken.text
    ctx = api.client.app.state.ctx  # type: ignore[attr-defined]
    assert {r["template"] for r in outbox(ctx)} == {"ticket_soon", "ticket_called"}
    bad = api.client.post(
        "/book/remote", data={"service": "B", "id_number": person(4), "phone": "1234"}
    )
    assert bad.status_code == 422 and "手机" in bad.text and PHONE not in bad.text


def test_a_served_remote_ticket_forgets_its_number_and_a_kiosk_ticket_never_asks(
    hall: HallContext, clock: FakeClock
) -> None:
    """Finishing looks for notices only where there can be some (``notices.may_hold``):
    a remote ticket's number goes when it is served; a kiosk ticket's call reads the
    outbox once (for the others' 3-ahead notices) and its finish not at all. What still
    holds: the served ticket's number is gone, the walk-in's call and finish are done."""
    statements: list[str] = []

    def seen(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        statements.append(statement)

    mine = remote_tickets.issue(hall, "A", person(3), None, phone=PHONE)
    counters.call_ticket(hall, "1", mine.id)
    # nobody was ahead: both are due, and unsent (no gateway here)
    assert sorted(due(hall)) == [f"ticket_called-{mine.id}", f"ticket_soon-{mine.id}"]
    counters.finish(hall, "1")
    assert ticket_notices(hall) == []  # served: the unsent notice and its number are gone
    walk_in = walk_ins(hall, 1)[0]
    event.listen(hall.engine, "before_cursor_execute", seen)
    try:
        called = counters.call_next(hall, "1")
        counters.finish(hall, "1")
    finally:
        event.remove(hall.engine, "before_cursor_execute", seen)
    assert called is not None and called.id == walk_in
    outbox_statements = [s for s in statements if "sms_outbox" in s]
    assert len(outbox_statements) == 1, outbox_statements  # the call's one read
    assert outbox_statements[0].lstrip().upper().startswith("SELECT")


def test_only_a_booking_or_a_remote_ticket_holds_notices(hall: HallContext) -> None:
    walk_in = walk_ins(hall, 1)[0]
    with hall.write() as tx:
        row = ticket_rows.load(tx.conn, hall, walk_in)
        assert not notices.may_hold(row)
        with pytest.raises(ValueError):
            notices.hold(tx.conn, hall.config, tx.now, row, PHONE)

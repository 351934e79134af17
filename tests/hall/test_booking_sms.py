"""The SMS outbox (issue 21): a booking's confirmation is in the outbox from the booking's
own transaction and sent once through the real HTTP gateway adapter to a local gateway
process that fails every third request and answers every fifth too late (the adapter
times out and sends it again under the same key); at most ``rate_per_minute`` go out a
minute; a sent message keeps no number; no number is ever logged whole."""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Iterator
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from hall.config import Sms
from hall.services import bookings, sms
from hall.services.context import HallContext
from hall.storage import tables as t
from tests.hall.test_booking_api import person
from tests.hall.test_delivery import Receiver
from tests.support.clock import FakeClock

pytestmark = pytest.mark.slow
TZ = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def gateway(tmp_path: Path) -> Iterator[Receiver]:
    r = Receiver(
        tmp_path / "sms.jsonl", "--fail-every", "3", "--slow-every", "5", "--slow-s", "1.0"
    ).start()
    yield r
    r.kill()


def phone(n: int) -> str:
    return f"139{n:08d}"


def book(ctx: HallContext, n: int) -> str:
    start = dt.datetime(2026, 11, 24, 8, 0, tzinfo=TZ) + dt.timedelta(minutes=30 * (n // 3))
    made = bookings.book(
        ctx,
        bookings.BookRequest(
            service="A", slot_start=start, name="王芳", id_number=person(500 + n), phone=phone(n)
        ),
    )
    return made.code


def rows(ctx: HallContext) -> list[dict]:
    with ctx.engine.connect() as conn:
        S = t.sms_outbox
        found = conn.execute(select(S).where(S.c.hall_id == ctx.hall_id).order_by(S.c.id))
        return [dict(r._mapping) for r in found]


def test_confirmations_are_sent_once_each_through_a_failing_gateway(
    ctx: HallContext, clock: FakeClock, gateway: Receiver, caplog: pytest.LogCaptureFixture
) -> None:
    codes = [book(ctx, n) for n in range(8)]
    config = Sms(
        url=f"http://127.0.0.1:{gateway.port}/",
        signature="【西城区政务服务中心】",
        templates={"booking_booked": "SMS_0001"},
        timeout_s=0.5,
        rate_per_minute=1000,
    )
    sender = sms.HttpSmsGateway(config)
    caplog.set_level(logging.INFO)
    for _ in range(40):
        if all(r["sent_at"] for r in rows(ctx)):
            break
        sms.deliver_due(ctx, sender, config)
        clock.advance(5)
    outbox = rows(ctx)
    assert len(outbox) == 8 and all(r["sent_at"] and r["phone"] is None for r in outbox)
    assert sum(r["attempts"] for r in outbox) >= 1  # the gateway failed some on purpose
    got = gateway.records()
    assert sorted(g["key"] for g in got) == sorted(f"booked-{c}" for c in codes)  # once each
    first = next(g for g in got if g["key"] == f"booked-{codes[0]}")
    assert first["phone"] == phone(0) and first["template_id"] == "SMS_0001"
    assert first["sign"] == "【西城区政务服务中心】"
    assert first["params"] == {
        "code": f"{codes[0][:5]}-{codes[0][5:]}",
        "service": "社保",
        "time": "11月24日 08:00",
    }
    assert all(phone(n) not in caplog.text for n in range(8))


def test_the_rate_limit_holds_messages_back(
    ctx: HallContext, clock: FakeClock, gateway: Receiver
) -> None:
    for n in range(5):
        book(ctx, n)
    config = Sms(url=f"http://127.0.0.1:{gateway.port}/", timeout_s=3, rate_per_minute=2)

    class Taken:
        def __init__(self) -> None:
            self.keys: list[str] = []

        def send(self, key: str, phone: str, template: str, params: dict) -> None:
            self.keys.append(key)

    sender = Taken()
    first = sms.deliver_due(ctx, sender, config)
    assert (first.sent, first.waiting) == (2, 3)
    assert sms.deliver_due(ctx, sender, config).sent == 0  # the same minute
    clock.advance(61)
    assert sms.deliver_due(ctx, sender, config).sent == 2
    assert len(set(sender.keys)) == 4


def test_a_booking_without_a_phone_sends_nothing_and_numbers_are_masked(
    ctx: HallContext,
) -> None:
    bookings.book(
        ctx,
        bookings.BookRequest(
            service="A",
            slot_start=dt.datetime(2026, 11, 24, 9, 0, tzinfo=TZ),
            name="李四",
            id_number=person(600),
            channel="desk",
        ),
    )
    assert rows(ctx) == []
    book(ctx, 1)
    (row,) = rows(ctx)
    assert row["phone_masked"] == "139****0001" and json.loads(row["params"])["code"]


def test_closing_a_day_tells_everyone_booked_by_sms_and_forgets_their_numbers(
    ctx: HallContext,
) -> None:
    codes = [book(ctx, n) for n in range(3)]  # 24 November
    bookings.cancel(ctx, codes[2])  # cancelled before: not told, number already gone
    closure = bookings.close_day(ctx, dt.date(2026, 11, 24), None, "系统升级，暂停办理", "boss")
    assert closure.cancelled == 2
    closed = [r for r in rows(ctx) if r["template"] == "booking_closed"]
    assert sorted(r["key"] for r in closed) == sorted(f"closed-{c}" for c in codes[:2])
    assert json.loads(closed[0]["params"])["notice"] == "系统升级，暂停办理"
    with ctx.engine.connect() as conn:
        A = t.appointments
        kept = conn.execute(select(A.c.phone).where(A.c.hall_id == ctx.hall_id)).scalars().all()
    assert kept == [None, None, None]

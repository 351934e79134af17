"""Prepared hot statements (hall.storage.prepared) give exactly what SQLAlchemy's own
execution gives, on SQLite and PostgreSQL: same rows, same types, aware UTC datetimes, and
values written that read back the same as values SQLAlchemy wrote."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import select, text

from hall.services import counters, queries, tickets
from hall.services.core import HallContext
from hall.storage import prepared
from hall.storage import tables as t
from tests.hall.conftest import FakeClock

ID_1 = "11010519491231002X"  # valid check digit (GB 11643), elderly
ID_2 = "110105198001010016"


def _busy_hall(ctx: HallContext, clock: FakeClock) -> None:
    """Rows in many states, with NULLs and datetimes in most columns."""
    tickets.issue(ctx, tickets.IssueRequest("A", id_number=ID_1, idempotency_key="k:1"))
    tickets.issue(ctx, tickets.IssueRequest("A", id_number=ID_2, name="张三"))
    for _ in range(3):
        tickets.issue(ctx, tickets.IssueRequest("B"))
        clock.advance(7)
    counters.call_next(ctx, "1")
    clock.advance(30)
    counters.start(ctx, "1")
    clock.advance(90)
    counters.finish(ctx, "1")
    counters.call_next(ctx, "1")


def _params(ctx: HallContext, row: Any) -> list[tuple[Any, dict[str, Any]]]:
    now = ctx.now()
    counter = ctx.config.counter("1")
    assert counter is not None
    ahead = {
        "hall": ctx.hall_id,
        "service": row.service,
        "id": row.id,
        "qt": row.queue_time,
        "bound": now - dt.timedelta(seconds=600),
        "pinned": "1",
    }
    return [
        (tickets._LOAD, {"hall": ctx.hall_id, "id": row.id}),
        (tickets._BY_ID, {"id": row.id}),
        (tickets._BY_KEY, {"hall": ctx.hall_id, "key": "k:1"}),
        (tickets._BY_KEY, {"hall": ctx.hall_id, "key": "nope"}),
        (
            tickets._HELD,
            {"hall": ctx.hall_id, "day": ctx.today(), "id_hash": row.id_hash, "service": "A"},
        ),
        (queries._WAITING_ONE, {"hall": ctx.hall_id, "service": "B"}),
        (queries._SERVICE_TIMES, {"hall": ctx.hall_id, "day": ctx.today(), "service": "B"}),
        (queries._COUNTER_STATES, {"hall": ctx.hall_id}),
        (counters._STATE, {"hall": ctx.hall_id, "counter": "1"}),
        (counters._CURRENT, {"hall": ctx.hall_id, "counter": "1"}),
        (counters._heads_statement(ctx.hall_id, counter), {}),
        *((stmt, ahead) for stmt in queries._AHEAD.values()),
    ]


def test_prepared_reads_equal_sqlalchemy(ctx: HallContext, clock: FakeClock) -> None:
    _busy_hall(ctx, clock)
    with ctx.read() as conn:
        rows = conn.execute(select(t.tickets).where(t.tickets.c.hall_id == ctx.hall_id)).all()
        assert len(rows) == 5
        for row in rows:
            for stmt, params in _params(ctx, row):
                want = [tuple(r) for r in conn.execute(stmt, params).all()]
                got = [tuple(r) for r in prepared.run(conn, stmt, params).all()]
                assert got == want, str(stmt)
                for w, g in zip(want, got, strict=True):
                    for a, b in zip(w, g, strict=True):
                        assert type(a) is type(b)
                        if isinstance(a, dt.datetime):
                            assert b.tzinfo is not None and b.utcoffset() == dt.timedelta(0)


def test_rows_read_by_column_name(ctx: HallContext, clock: FakeClock) -> None:
    _busy_hall(ctx, clock)
    with ctx.read() as conn:
        params = {"hall": ctx.hall_id, "counter": "1"}
        row = prepared.run(conn, counters._CURRENT, params).one()
        want = conn.execute(counters._CURRENT, params).one()
        assert row.status == "called" and row.counter_id == "1"
        for name in (c.name for c in t.tickets.c):
            assert getattr(row, name) == getattr(want, name)
        with pytest.raises(AttributeError):
            _ = row.no_such_column


def test_prepared_update_writes_what_sqlalchemy_writes(ctx: HallContext, clock: FakeClock) -> None:
    """A datetime written by a prepared UPDATE is stored in SQLAlchemy's format (on SQLite
    a string whose order is time order), so SQL comparisons mix both safely."""
    tickets.issue(ctx, tickets.IssueRequest("B"))
    tickets.issue(ctx, tickets.IssueRequest("B"))
    moment = dt.datetime(2026, 11, 23, 9, 30, 15, 123456, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    with ctx.write() as tx:
        mine = select(t.tickets.c.id).where(t.tickets.c.hall_id == ctx.hall_id)
        first, second = tx.conn.execute(mine.order_by(t.tickets.c.id)).scalars()
        tx.run(counters._update_for(("called_at",)), {"b_id": first, "called_at": moment})
        tx.conn.execute(t.tickets.update().where(t.tickets.c.id == second).values(called_at=moment))
    with ctx.read() as conn:
        a, b = conn.execute(
            select(t.tickets.c.called_at)
            .where(t.tickets.c.hall_id == ctx.hall_id)
            .order_by(t.tickets.c.id)
        ).scalars()
        assert a == b == moment
        raw = conn.execute(
            text("SELECT called_at FROM tickets WHERE hall_id = :h ORDER BY id"), {"h": ctx.hall_id}
        ).scalars()
        assert len(set(raw)) == 1


def test_missing_parameter_is_a_clear_error(sqlite_ctx: HallContext) -> None:
    with sqlite_ctx.read() as conn, pytest.raises(KeyError, match="service"):
        prepared.run(conn, queries._WAITING_ONE, {"hall": sqlite_ctx.hall_id})


def test_expanding_parameters_are_refused(sqlite_ctx: HallContext) -> None:
    with sqlite_ctx.read() as conn, pytest.raises(ValueError, match="expanding"):
        prepared.run(conn, queries._WAITING_IN, {"hall": "h", "services": ["A"]})

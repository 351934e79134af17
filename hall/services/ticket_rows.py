"""Ticket rows: the queries and inserts every change that touches tickets shares (issue,
offline import, counters, appointments), and the two views of a row the API answers with
(:class:`Ticket`) and events carry (:class:`EventTicket`)."""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any

from sqlalchemy import Connection, bindparam, insert, select, update

from hall.domain.tickets import Klass, Status, format_number
from hall.errors import Conflict, NotFound
from hall.schemas import Ticket
from hall.services import queries
from hall.services.context import HallContext, Tx
from hall.services.views import event_fields, event_ticket
from hall.storage import tables as t
from hall.storage.rows import TicketRow

T = t.tickets


def ticket_json(
    ctx: HallContext, conn: Connection, row: TicketRow, *, now: dt.datetime | None = None
) -> Ticket:
    """A ticket as the API answers it: what events carry, plus queue position, estimate
    and the fields only the ticket's holder and staff need (masked ID, tracking token)."""
    now = now or ctx.now()
    svc = ctx.config.service(row.service)
    ahead = queries.waiting_ahead(conn, ctx.hall_id, row, now, ctx.config.policy.aging_bound_s)
    if row.status == Status.WAITING.value:
        seen = queries.outlook(conn, ctx.config, row.day, row.service)
        estimate = seen.estimate_s(ahead)
        wait_range: tuple[int | None, int | None] = seen.range_s(
            ahead, ctx.config.cockpit.range_level
        )
    else:
        estimate, wait_range = 0, (None, None)
    return Ticket(
        **event_fields(ctx.config, row),
        service_name=svc.name if svc else row.service,
        service_name_en=svc.name_en if svc else "",
        priority_reason=row.priority_reason,
        issued_at=ctx.local(row.issued_at).isoformat(),
        called_at=ctx.local(row.called_at).isoformat() if row.called_at else None,
        waiting_ahead=ahead,
        estimated_wait_s=estimate,
        id_masked=row.id_masked,
        note=row.note,
        transferred_to=row.transferred_to,
        public_token=row.public_token,
        offline_number=row.offline_number,
        wait_range_min_s=wait_range[0],
        wait_range_max_s=wait_range[1],
    )


_LOAD = select(T).where(T.c.hall_id == bindparam("hall"), T.c.id == bindparam("id"))
_BY_KEY = select(T).where(T.c.hall_id == bindparam("hall"), T.c.idempotency_key == bindparam("key"))


def load(conn: Connection, ctx: HallContext, ticket_id: int) -> TicketRow:
    row = conn.execute(_LOAD, {"hall": ctx.hall_id, "id": ticket_id}).first()
    if row is None:
        raise NotFound(f"no ticket with id {ticket_id}", code="ticket_not_found")
    return TicketRow.of(row)


def by_idempotency_key(conn: Connection, ctx: HallContext, key: str) -> TicketRow | None:
    """The ticket a request with this (token-scoped) Idempotency-Key already made."""
    row = conn.execute(_BY_KEY, {"hall": ctx.hall_id, "key": key}).first()
    return TicketRow.of(row) if row is not None else None


def check_requeue_window(ctx: HallContext, row: TicketRow, now: dt.datetime) -> None:
    """A 过号 ticket comes back (re-queued or called directly) only within the window."""
    window = dt.timedelta(seconds=ctx.config.policy.no_show_requeue_s)
    if row.day != ctx.today(now):
        raise Conflict(
            f"ticket {row.number} was missed on an earlier day; please take a new ticket",
            code="requeue_window_passed",
        )
    if row.finished_at is None or now - row.finished_at > window:
        raise Conflict(
            f"ticket {row.number} was missed more than {int(window.total_seconds() // 60)} "
            "min ago; please take a new ticket",
            code="requeue_window_passed",
        )


_BY_ID = select(T).where(T.c.id == bindparam("id"))


def reload(tx: Tx, ticket_id: int) -> TicketRow:
    return TicketRow.of(tx.conn.execute(_BY_ID, {"id": ticket_id}).one())


def emit_ticket(
    ctx: HallContext,
    tx: Tx,
    type_: str,
    row: TicketRow,
    *,
    also: str | None = None,
    extra: dict[str, Any] | None = None,
    waiting: dict[str, int] | None = None,
) -> None:
    """A ticket event with the new waiting counts of the services it touched (a board
    applies them as updates; ``GET /board`` has all of them): ``waiting`` when the
    caller read them with its change (a call, a finish), else counted here."""
    if waiting is None:
        services = [row.service] + ([also] if also and also != row.service else [])
        waiting = queries.waiting_counts(tx.conn, ctx.hall_id, services)
    ticket = event_ticket(ctx.config, row).model_dump(mode="json")
    tx.emit(type_, {"ticket": ticket, "waiting": waiting, **(extra or {})})


_S = t.sequences
_NEXT_SEQ = (
    update(_S)
    .where(
        _S.c.hall_id == bindparam("b_hall"),
        _S.c.day == bindparam("b_day"),
        _S.c.service == bindparam("b_service"),
    )
    .values(last_seq=_S.c.last_seq + 1)
    .returning(_S.c.last_seq)
)


def next_sequence(tx: Tx, hall_id: str, day: dt.date, service: str) -> int:
    params = {"b_hall": hall_id, "b_day": day, "b_service": service}
    seq: int | None = tx.conn.execute(_NEXT_SEQ, params).scalar_one_or_none()
    if seq is None:  # first ticket of this service today
        tx.conn.execute(insert(_S).values(hall_id=hall_id, day=day, service=service, last_seq=1))
        return 1
    return seq


def insert_ticket(
    ctx: HallContext,
    tx: Tx,
    *,
    service: str,
    klass: Klass,
    reason: str | None,
    queue_time: dt.datetime,
    issued_at: dt.datetime | None = None,
    number: str | None = None,
    **values: Any,
) -> TicketRow:
    issued_at = issued_at or tx.now
    day = ctx.today(issued_at)
    if number is None:
        svc = ctx.config.service(service)
        assert svc is not None
        number = format_number(svc.prefix, next_sequence(tx, ctx.hall_id, day, service))
    params = values | dict(
        hall_id=ctx.hall_id,
        day=day,
        number=number,
        service=service,
        klass=klass.value,
        priority_reason=reason,
        status=Status.WAITING.value,
        issued_at=issued_at,
        queue_time=queue_time,
        recall_count=0,
        public_token=secrets.token_urlsafe(18),
    )
    return TicketRow.of(tx.conn.execute(_INSERT_TICKET, params).one())


_INSERT_TICKET = insert(T).returning(*T.c)

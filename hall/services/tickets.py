"""Issuing tickets, offline import, look-up and evaluation (好差评)."""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, bindparam, func, insert, or_, select, update

from common.personal import (
    InvalidIdNumber,
    age_on,
    keyed_hash,
    mask_id_number,
    mask_name,
    validate_id_number,
)
from hall.config import Service
from hall.domain.tickets import (
    EVALUABLE_STATES,
    OPEN_STATES,
    PRIORITY_REASONS,
    Klass,
    Status,
    format_number,
)
from hall.errors import Conflict, Invalid, NotFound
from hall.schemas import Evaluation, EventTicket, Ticket
from hall.services import queries
from hall.services.context import HallContext, Tx
from hall.storage import tables as t
from hall.storage.rows import TicketRow

T = t.tickets


@dataclass(frozen=True)
class IssueRequest:
    service: str
    id_number: str | None = None
    name: str | None = None
    priority: str | None = None
    appointment_id: int | None = None
    idempotency_key: str | None = None
    kiosk: str | None = None


def ticket_json(
    ctx: HallContext, conn: Connection, row: TicketRow, *, now: dt.datetime | None = None
) -> Ticket:
    """A ticket as the API answers it: what events carry, plus queue position, estimate
    and the fields only the ticket's holder and staff need (masked ID, tracking token)."""
    now = now or ctx.now()
    svc = ctx.config.service(row.service)
    ahead = queries.waiting_ahead(conn, ctx.hall_id, row, now, ctx.config.policy.aging_bound_s)
    estimate = (
        queries.estimate_for(conn, ctx.config, row.day, row.service, ahead)
        if row.status == Status.WAITING.value
        else 0
    )
    return Ticket(
        **_event_fields(ctx, row),
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
    )


def event_ticket(ctx: HallContext, row: TicketRow) -> EventTicket:
    """What events carry about a ticket: no ID data, the masked name only."""
    return EventTicket(**_event_fields(ctx, row))


def _event_fields(ctx: HallContext, row: TicketRow) -> dict[str, Any]:
    counter = ctx.config.counter(row.counter_id) if row.counter_id else None
    return {
        "id": row.id,
        "number": row.number,
        "service": row.service,
        "priority": row.klass,
        "status": Status(row.status),
        "counter": row.counter_id,
        "counter_name": counter.name if counter else None,
        "counter_name_en": counter.name_en if counter else None,
        "name_masked": row.name_masked,
        "recall_count": row.recall_count,
    }


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
) -> None:
    """A ticket event with the new waiting counts of the services it touched (a board
    applies them as updates; ``GET /board`` has all of them)."""
    services = [row.service] + ([also] if also and also != row.service else [])
    waiting = queries.waiting_counts(tx.conn, ctx.hall_id, services)
    ticket = event_ticket(ctx, row).model_dump(mode="json")
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


def classify(
    ctx: HallContext, priority: str | None, id_number: str | None, day: dt.date
) -> tuple[Klass, str | None]:
    if priority not in (None, "", "normal", *PRIORITY_REASONS):
        raise Invalid(
            f"priority must be one of normal, {', '.join(PRIORITY_REASONS)}",
            code="invalid_priority",
        )
    if priority in PRIORITY_REASONS:
        return Klass.PRIORITY, priority
    if id_number and age_on(id_number, day) >= ctx.config.policy.elderly_age:
        return Klass.PRIORITY, "elderly"
    return Klass.NORMAL, None


def _check_service(ctx: HallContext, code: str) -> Service:
    svc = ctx.config.service(code)
    if svc is None:
        raise NotFound(f"no service with code {code!r}", code="unknown_service")
    if not svc.open:
        raise Conflict(f"service {code!r} ({svc.name}) is not open today", code="service_closed")
    return svc


def _person(ctx: HallContext, id_number: str | None) -> tuple[str | None, str | None, str | None]:
    """(valid number, keyed hash, masked) — the number itself is never stored."""
    if not id_number:
        return None, None, None
    try:
        number = validate_id_number(id_number)
    except InvalidIdNumber as err:
        raise Invalid(str(err), code="invalid_id_number") from err
    return number, keyed_hash(ctx.config.secret, number), mask_id_number(number)


def issue(ctx: HallContext, req: IssueRequest) -> tuple[Ticket, bool]:
    """Issue a ticket. Returns (ticket, created); a replayed Idempotency-Key returns the
    ticket of the first request with created False."""
    svc = _check_service(ctx, req.service)
    number, id_hash, id_masked = _person(ctx, req.id_number)
    if svc.requires_id and not number:
        raise Invalid(
            f"service {svc.code!r} ({svc.name}) requires an ID number", code="id_required"
        )
    name_masked = mask_name(req.name)[:64] if req.name else None
    row, created = _issue_row(ctx, req, svc, number, id_hash, id_masked, name_masked)
    # The answer's queue position and estimate are read after the commit, outside the
    # write lock: the next citizen's change need not wait for this one's arithmetic.
    with ctx.read() as conn:
        return ticket_json(ctx, conn, row), created


def _issue_row(
    ctx: HallContext,
    req: IssueRequest,
    svc: Service,
    number: str | None,
    id_hash: str | None,
    id_masked: str | None,
    name_masked: str | None,
) -> tuple[TicketRow, bool]:
    with ctx.write() as tx:
        if req.idempotency_key:
            prior = by_idempotency_key(tx.conn, ctx, req.idempotency_key)
            if prior is not None:
                if prior.service != req.service:
                    raise Conflict(
                        "this Idempotency-Key was used for another request",
                        code="idempotency_key_reused",
                    )
                return prior, False
        day = ctx.today(tx.now)
        if req.appointment_id is not None:
            from hall.services.appointments import check_in_row

            return check_in_row(
                ctx,
                tx,
                appointment_id=req.appointment_id,
                id_hash=id_hash,
                idempotency_key=req.idempotency_key,
                name_masked=name_masked,
            ), True
        klass, reason = classify(ctx, req.priority, number, day)
        if id_hash:
            _check_limit(ctx, tx, day, svc.code, id_hash, svc.daily_limit)
        row = insert_ticket(
            ctx,
            tx,
            service=svc.code,
            klass=klass,
            reason=reason,
            queue_time=tx.now,
            id_hash=id_hash,
            id_masked=id_masked,
            name_masked=name_masked,
            idempotency_key=req.idempotency_key,
            kiosk=req.kiosk,
        )
        emit_ticket(ctx, tx, "ticket.issued", row)
        return row, True


_HELD = select(func.count()).where(
    T.c.hall_id == bindparam("hall"),
    T.c.day == bindparam("day"),
    T.c.id_hash == bindparam("id_hash"),
    T.c.service == bindparam("service"),
    or_(*(T.c.status == s.value for s in OPEN_STATES)),
)


def _check_limit(
    ctx: HallContext, tx: Tx, day: dt.date, service: str, id_hash: str, service_limit: int | None
) -> None:
    limit = service_limit if service_limit is not None else ctx.config.policy.daily_limit
    params = {"hall": ctx.hall_id, "day": day, "id_hash": id_hash, "service": service}
    held: int = tx.conn.execute(_HELD, params).scalar_one()
    if held >= limit:
        raise Conflict(
            f"this person already holds {held} open ticket(s) for service "
            f"{service!r} today (limit {limit})",
            code="daily_limit",
        )


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


def get(ctx: HallContext, ticket_id: int) -> Ticket:
    with ctx.read() as conn:
        return ticket_json(ctx, conn, load(conn, ctx, ticket_id))


def get_by_number(ctx: HallContext, number: str) -> Ticket:
    """Today's ticket with this number (the one still in play after a transfer)."""
    with ctx.read() as conn:
        row = conn.execute(
            select(T)
            .where(
                T.c.hall_id == ctx.hall_id,
                T.c.day == ctx.today(),
                T.c.number == number.upper(),
            )
            .order_by(T.c.id.desc())
            .limit(1)
        ).first()
        if row is None:
            raise NotFound(f"no ticket {number.upper()} today", code="ticket_not_found")
        return ticket_json(ctx, conn, TicketRow.of(row))


def cancel_by_key(ctx: HallContext, idempotency_key: str) -> Ticket:
    """Withdraw a ticket whose issue answer never reached the kiosk (it then printed an
    offline ticket instead): cancelled if still waiting, so nobody is called for it.
    Repeating it is harmless; a ticket already called is left alone (409)."""
    with ctx.write() as tx:
        row = by_idempotency_key(tx.conn, ctx, idempotency_key)
        if row is None:
            raise NotFound(
                "no ticket was issued with this Idempotency-Key", code="ticket_not_found"
            )
        if row.status == Status.WAITING.value:
            tx.conn.execute(
                update(T)
                .where(T.c.id == row.id)
                .values(status=Status.CANCELLED.value, finished_at=tx.now)
            )
            row = reload(tx, row.id)
            emit_ticket(ctx, tx, "ticket.cancelled", row)
        elif row.status != Status.CANCELLED.value:
            raise Conflict(f"ticket {row.number} is already {row.status}", code="not_cancellable")
        return ticket_json(ctx, tx.conn, row, now=tx.now)


def get_by_public_token(ctx: HallContext, token: str) -> Ticket:
    with ctx.read() as conn:
        found = conn.execute(
            select(T).where(T.c.hall_id == ctx.hall_id, T.c.public_token == token)
        ).first()
        if found is None:
            raise NotFound("no ticket for this link", code="ticket_not_found")
        row = TicketRow.of(found)
        # The citizen's page follows a transferred ticket to its new queue.
        while row.transferred_to is not None:
            row = load(conn, ctx, row.transferred_to)
        return ticket_json(ctx, conn, row)


def import_offline(ctx: HallContext, items: list[dict[str, Any]]) -> list[Ticket]:
    """Tickets a kiosk issued while the hall was unreachable. They join their queues by
    issue time; (day, kiosk, offline_number) makes a repeated upload harmless."""
    out: list[Ticket] = []
    for item in items:
        _check_service(ctx, item["service"])
    with ctx.write() as tx:
        for item in items:
            issued_at: dt.datetime = item["issued_at"]
            if issued_at.tzinfo is None:
                raise Invalid("issued_at needs a time zone offset", code="invalid_time")
            if issued_at > tx.now + dt.timedelta(minutes=5):
                raise Invalid(
                    f"offline ticket {item['offline_number']} was issued in the "
                    "future; check the kiosk's clock",
                    code="invalid_time",
                )
            day = ctx.today(issued_at)
            if day != ctx.today(tx.now):
                raise Invalid(
                    f"offline ticket {item['offline_number']} is from another day "
                    "and cannot join today's queue",
                    code="stale_ticket",
                )
            kiosk = item["kiosk"]
            prior = tx.conn.execute(
                select(T).where(
                    T.c.hall_id == ctx.hall_id,
                    T.c.day == day,
                    T.c.kiosk == kiosk,
                    T.c.offline_number == item["offline_number"],
                )
            ).first()
            if prior is not None:
                out.append(ticket_json(ctx, tx.conn, TicketRow.of(prior), now=tx.now))
                continue
            klass, reason = classify(ctx, item.get("priority"), None, day)
            name = item.get("name_masked")
            row = insert_ticket(
                ctx,
                tx,
                service=item["service"],
                klass=klass,
                reason=reason,
                queue_time=issued_at,
                issued_at=issued_at,
                number=item["offline_number"],
                kiosk=kiosk,
                offline_number=item["offline_number"],
                name_masked=mask_name(name)[:64] if name else None,
            )
            emit_ticket(ctx, tx, "ticket.issued", row, extra={"offline": True})
            out.append(ticket_json(ctx, tx.conn, row, now=tx.now))
    return out


def evaluate(ctx: HallContext, ticket_id: int, score: int, comment: str | None) -> Evaluation:
    if not 1 <= score <= 5:
        raise Invalid("score must be 1 (非常不满意) … 5 (非常满意)", code="invalid_score")
    with ctx.write() as tx:
        row = load(tx.conn, ctx, ticket_id)
        if Status(row.status) not in EVALUABLE_STATES:
            raise Conflict(
                f"ticket {row.number} is {row.status}; it can be evaluated once it has been served",
                code="not_served",
            )
        e = t.evaluations
        if tx.conn.execute(
            select(e.c.id).where(e.c.hall_id == ctx.hall_id, e.c.ticket_id == ticket_id)
        ).first():
            raise Conflict(
                f"ticket {row.number} has already been evaluated", code="already_evaluated"
            )
        tx.conn.execute(
            insert(e).values(
                hall_id=ctx.hall_id,
                ticket_id=ticket_id,
                score=score,
                comment=comment,
                service=row.service,
                counter_id=row.counter_id,
                created_at=tx.now,
            )
        )
        ticket = event_ticket(ctx, row).model_dump(mode="json")
        tx.emit("ticket.evaluated", {"ticket": ticket, "score": score})
        return Evaluation(ticket=ticket_id, number=row.number, score=score, counter=row.counter_id)


def requeue(ctx: HallContext, ticket_id: int) -> Ticket:
    """A citizen who missed the call (过号) returns within the window: back in the queue,
    behind the people waiting now (fair to those who stayed)."""
    with ctx.write() as tx:
        row = load(tx.conn, ctx, ticket_id)
        if row.status != Status.NO_SHOW.value:
            raise Conflict(
                f"ticket {row.number} is {row.status}, not 过号 (no_show)", code="not_no_show"
            )
        check_requeue_window(ctx, row, tx.now)
        tx.conn.execute(
            update(T)
            .where(T.c.id == ticket_id)
            .values(
                status=Status.WAITING.value,
                queue_time=tx.now,
                counter_id=None,
                called_at=None,
                finished_at=None,
                recall_count=0,
            )
        )
        row = reload(tx, ticket_id)
        emit_ticket(ctx, tx, "ticket.requeued", row)
        return ticket_json(ctx, tx.conn, row, now=tx.now)

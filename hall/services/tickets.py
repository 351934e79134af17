"""Issuing tickets, offline import, look-up, cancel and re-queue."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import bindparam, or_, select, update

from common.errors import text
from common.personal import (
    InvalidIdNumber,
    age_on,
    keyed_hash,
    mask_id_number,
    mask_name,
    validate_person_number,
)
from guide.catalogue import Matter as GuideMatter
from hall.config import Service, Token
from hall.domain.tickets import (
    OPEN_STATES,
    PRIORITY_REASONS,
    Klass,
    Status,
    is_offline_number,
)
from hall.errors import (
    Conflict,
    DailyLimit,
    Forbidden,
    HallError,
    Invalid,
    NotFound,
    OutsideHours,
)
from hall.schemas import ImportItemResult, ImportOutcome, Ticket
from hall.services import closing, evaluations, hallinfo, notices
from hall.services.appointments import check_in_row
from hall.services.context import HallContext, Tx
from hall.services.ticket_rows import (
    by_idempotency_key,
    check_requeue_window,
    emit_ticket,
    insert_ticket,
    load,
    reload,
    ticket_json,
)
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
    verification: str | None = None
    """How the kiosk verified the holder: "face" (the face check passed) or "manual"
    (declined, failed or unavailable: staff check the ID card at the counter, 人工核验)."""
    assisted: bool = False
    """帮办: staff take the ticket for a citizen whose document the kiosk cannot read (a
    passport): no ID number is needed, and the counter checks the document (manual)."""
    matters: tuple[str, ...] = ()
    """The catalogue's matters the citizen came for (the kiosk's 我要办: a 一件事一次办
    bundle's, or the one matter), registered with the ticket for the counter and 一次一评."""


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


def _check_service(ctx: HallContext, code: str, now: dt.datetime | None = None) -> Service:
    """The service, if it takes tickets at ``now`` (None: only that it exists and is open
    today — an offline ticket was issued earlier)."""
    svc = ctx.config.service(code)
    if svc is None:
        raise NotFound(f"no service with code {code!r}", code="unknown_service")
    if not svc.open:
        raise Conflict(f"service {code!r} ({svc.name}) is not open today", code="service_closed")
    if now is not None:
        open_now, opens_at = closing.availability(ctx.config, code, now)
        if not open_now:
            raise OutsideHours(
                f"service {code!r} ({svc.name}) is not taking tickets now; "
                + (f"it opens at {opens_at}" if opens_at else "it does not open this month"),
                opens_at,
            )
    return svc


def _person(ctx: HallContext, id_number: str | None) -> tuple[str | None, str | None, str | None]:
    """(valid number, keyed hash, masked) — the number itself is never stored."""
    if not id_number:
        return None, None, None
    try:
        number = validate_person_number(id_number)
    except InvalidIdNumber as err:
        raise Invalid(str(err), code="invalid_id_number") from err
    return number, keyed_hash(ctx.config.secret, number), mask_id_number(number)


def issue(ctx: HallContext, req: IssueRequest) -> tuple[Ticket, bool]:
    """Issue a ticket. Returns (ticket, created); a replayed Idempotency-Key returns the
    ticket of the first request with created False."""
    svc = _check_service(ctx, req.service, ctx.now())
    number, id_hash, id_masked = _person(ctx, req.id_number)
    if svc.requires_id and not number and not req.assisted:
        raise Invalid(
            f"service {svc.code!r} ({svc.name}) requires an ID number", code="id_required"
        )
    name_masked = mask_name(req.name)[:64] if req.name else None
    matters = evaluations.check_ticket_matters(svc.code, req.matters)
    row, created = _issue_row(ctx, req, svc, number, id_hash, id_masked, name_masked, matters)
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
    matters: tuple[GuideMatter, ...] = (),
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
            return check_in_row(
                ctx,
                tx,
                appointment_id=req.appointment_id,
                id_hash=id_hash,
                idempotency_key=req.idempotency_key,
                name_masked=name_masked,
                service=req.service,
                verification=req.verification,
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
            verification=req.verification,
        )
        if matters:  # in the ticket's own transaction: a ticket never lacks its matters
            evaluations.add_ticket_matters(ctx, tx, row, matters, by=req.kiosk or "kiosk")
        emit_ticket(ctx, tx, "ticket.issued", row)
        return row, True


_HELD = (
    select(T.c.id, T.c.number)
    .where(
        T.c.hall_id == bindparam("hall"),
        T.c.day == bindparam("day"),
        T.c.id_hash == bindparam("id_hash"),
        T.c.service == bindparam("service"),
        or_(*(T.c.status == s.value for s in OPEN_STATES)),
    )
    .order_by(T.c.id)
)


def _check_limit(
    ctx: HallContext, tx: Tx, day: dt.date, service: str, id_hash: str, service_limit: int | None
) -> None:
    limit = service_limit if service_limit is not None else ctx.config.policy.daily_limit
    params = {"hall": ctx.hall_id, "day": day, "id_hash": id_hash, "service": service}
    held = tx.conn.execute(_HELD, params).all()
    if len(held) >= limit:
        # the citizen is told the number they hold (and may have it reprinted, once)
        raise DailyLimit(
            f"this person already holds {len(held)} open ticket(s) for service "
            f"{service!r} today (limit {limit}): {held[0].number}",
            held_number=held[0].number,
            held_ticket=held[0].id,
        )


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
            notices.forget(tx.conn, ctx.hall_id, [row.id])  # a booking's SMS (issue 21)
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


@dataclass(frozen=True)
class OfflineTicket:
    """One ticket a kiosk printed while the hall was unreachable (validated by the API)."""

    kiosk: str
    offline_number: str
    service: str
    issued_at: dt.datetime
    priority: str | None = None
    name_masked: str | None = None
    verification: str | None = None


MAX_IMPORT = 200
"""Offline tickets per upload; the kiosk sends them in smaller chunks, oldest first."""


def import_offline(
    ctx: HallContext, token: Token, items: list[OfflineTicket]
) -> list[ImportItemResult]:
    """Tickets a kiosk issued while the hall was unreachable, answered one by one: each is
    imported (it joins its queue by issue time), a duplicate of an earlier upload
    ((day, kiosk, offline number) makes a repeated upload harmless), or refused with a code
    — and a refused one never stops the others.

    An offline ticket issued outside its service's hours is still taken: a citizen holds
    it on paper. It must be today's, carry its kiosk's prefix (K1-A001, never like the
    hall's A001) and come from the kiosk the token speaks for."""
    with ctx.write() as tx:
        return [_import_one(ctx, tx, token, item) for item in items]


def _import_one(ctx: HallContext, tx: Tx, token: Token, item: OfflineTicket) -> ImportItemResult:
    try:
        row, created = _import_row(ctx, tx, token, item)
    except HallError as err:
        # for the dashboard: which kiosk's paper ticket did not join, and why
        tx.emit(
            "ticket.import_refused",
            {"kiosk": item.kiosk, "offline_number": item.offline_number, "error": err.code},
        )
        return ImportItemResult(
            offline_number=item.offline_number,
            outcome=ImportOutcome.REFUSED,
            error=err.code,
            message=err.message,
            zh=text(err.code, "zh"),
            en=text(err.code, "en"),
        )
    return ImportItemResult(
        offline_number=item.offline_number,
        outcome=ImportOutcome.IMPORTED if created else ImportOutcome.DUPLICATE,
        ticket=ticket_json(ctx, tx.conn, row, now=tx.now),
    )


def _import_row(
    ctx: HallContext, tx: Tx, token: Token, item: OfflineTicket
) -> tuple[TicketRow, bool]:
    if not token.speaks_for(item.kiosk):
        raise Forbidden(
            f"token {token.name} speaks for kiosk {token.device}, not {item.kiosk}",
            code="wrong_device",
        )
    prefix = token.offline_prefix_for(item.kiosk)
    if not is_offline_number(item.offline_number, prefix):
        raise Invalid(
            f"offline number {item.offline_number} does not start with this kiosk's "
            f"prefix {prefix}- (like {prefix}-A001)",
            code="not_offline_number",
        )
    _check_service(ctx, item.service)
    if item.issued_at > tx.now + dt.timedelta(minutes=5):
        raise Invalid(
            f"offline ticket {item.offline_number} was issued in the future; "
            "check the kiosk's clock",
            code="invalid_time",
        )
    day = ctx.today(tx.now)
    if ctx.day_of(item.issued_at) != day:
        raise Invalid(
            f"offline ticket {item.offline_number} is from another day and cannot join "
            "today's queue",
            code="stale_ticket",
        )
    prior = tx.conn.execute(
        select(T).where(
            T.c.hall_id == ctx.hall_id,
            T.c.day == day,
            T.c.kiosk == item.kiosk,
            T.c.offline_number == item.offline_number,
        )
    ).first()
    if prior is not None:
        return TicketRow.of(prior), False
    klass, reason = classify(ctx, item.priority, None, day)
    row = insert_ticket(
        ctx,
        tx,
        service=item.service,
        klass=klass,
        reason=reason,
        queue_time=item.issued_at,
        issued_at=item.issued_at,
        number=item.offline_number,
        kiosk=item.kiosk,
        offline_number=item.offline_number,
        name_masked=mask_name(item.name_masked)[:64] if item.name_masked else None,
        verification=item.verification,
    )
    emit_ticket(ctx, tx, "ticket.issued", row, extra={"offline": True})
    return row, True


def reprint(ctx: HallContext, ticket_id: int, id_number: str) -> Ticket:
    """补打: the holder (shown by the card that took it) gets a lost ticket printed again,
    once; a ``ticket.reprinted`` event records it (no personal data)."""
    _, id_hash, _ = _person(ctx, id_number)
    with ctx.write() as tx:
        row = load(tx.conn, ctx, ticket_id)
        if row.id_hash is None or row.id_hash != id_hash:
            raise NotFound(f"no ticket with id {ticket_id} for this card", code="ticket_not_found")
        if Status(row.status) not in OPEN_STATES or row.day != ctx.today(tx.now):
            raise Conflict(f"ticket {row.number} is {row.status}", code="not_reprintable")
        if row.reprinted_at is not None:
            raise Conflict(f"ticket {row.number} was reprinted already", code="already_reprinted")
        tx.conn.execute(update(T).where(T.c.id == row.id).values(reprinted_at=tx.now))
        row = reload(tx, row.id)
        emit_ticket(ctx, tx, "ticket.reprinted", row)
        return ticket_json(ctx, tx.conn, row, now=tx.now)


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


PASSPORT_HELP = "passport:"
"""A kiosk's help request for a citizen with a passport (or another document its reader does
not take): ``passport:<service code>``."""


def assisted_ticket(ctx: HallContext, help_id: int) -> Ticket:
    """帮办取号 for a passport holder's help request: a ticket for the service they chose,
    verified by staff at the counter, then the request is resolved. Pressing twice (or again
    after a lost answer) gives the same ticket: it carries the request as its key."""
    h = t.help_requests
    with ctx.read() as conn:
        row = conn.execute(select(h).where(h.c.hall_id == ctx.hall_id, h.c.id == help_id)).first()
    if row is None:
        raise NotFound(f"no help request {help_id}", code="help_not_found")
    if not str(row.reason).startswith(PASSPORT_HELP):
        raise Conflict(f"help request {help_id} is not for a passport", code="not_passport_help")
    req = IssueRequest(
        service=str(row.reason).removeprefix(PASSPORT_HELP),
        idempotency_key=f"help-{ctx.hall_id}-{help_id}",
        kiosk=row.kiosk,
        verification="manual",
        assisted=True,
    )
    ticket, _ = issue(ctx, req)
    hallinfo.resolve_help(ctx, help_id)
    return ticket

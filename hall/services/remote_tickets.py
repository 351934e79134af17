"""远程取号 (issue 21): a citizen takes a normal ticket on the phone while the service takes
tickets — only within ``[remote].radius_m`` of the hall by the browser's location, or, when
the hall turns location off, up to ``daily_limit`` a day per person. The ticket is marked
remote and waits unconfirmed: call-next passes it by (``confirm_by`` set) until it is
confirmed on arrival at a kiosk or a counter; not confirmed by ``confirm_by`` it expires.
People are recognised by the keyed hash of their ID number only."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Connection, func, select, update

from hall.domain.booking import distance_m
from hall.domain.tickets import Klass, Status
from hall.errors import Conflict, Forbidden, Invalid, NotFound
from hall.schemas import RemoteTicket
from hall.services import bookings, notices, tickets
from hall.services.context import HallContext, Tx
from hall.services.ticket_rows import emit_ticket, insert_ticket, ticket_json
from hall.storage import tables as t
from hall.storage.rows import TicketRow

T = t.tickets


def remote_json(ctx: HallContext, conn: Connection, row: TicketRow) -> RemoteTicket:
    base = ticket_json(ctx, conn, row)
    return RemoteTicket(
        **base.model_dump(),
        confirm_by=ctx.local(row.confirm_by).isoformat() if row.confirm_by else None,
        confirmed=row.confirmed_at is not None,
    )


def _expire_overdue(ctx: HallContext, tx: Tx) -> int:
    """Remote tickets not confirmed in time end as expired (with their event)."""
    rows = [
        TicketRow.of(r)
        for r in tx.conn.execute(
            select(T).where(
                T.c.hall_id == ctx.hall_id,
                T.c.status == Status.WAITING.value,
                T.c.confirm_by.is_not(None),
                T.c.confirm_by < tx.now,
            )
        ).all()
    ]
    for row in rows:
        tx.conn.execute(
            update(T)
            .where(T.c.id == row.id)
            .values(status=Status.EXPIRED.value, finished_at=tx.now, confirm_by=None)
        )
        fresh = TicketRow.of(tx.conn.execute(select(T).where(T.c.id == row.id)).one())
        emit_ticket(ctx, tx, "ticket.expired", fresh, extra={"reason": "remote_unconfirmed"})
    notices.forget(tx.conn, ctx.hall_id, [r.id for r in rows])
    return len(rows)


def expire_overdue(ctx: HallContext) -> int:
    with ctx.write() as tx:
        return _expire_overdue(ctx, tx)


def issue(
    ctx: HallContext,
    service: str,
    id_number: str,
    position: tuple[float, float] | None,
    phone: str | None = None,
) -> RemoteTicket:
    """``phone``: a mobile number for the 3-ahead and called SMS (kept only until they
    are sent or the ticket ends)."""
    cfg = ctx.config.remote
    if not cfg.enabled:
        raise Conflict("this hall takes no remote tickets", code="remote_disabled")
    mobile = bookings.valid_phone(phone) if phone else None
    svc = tickets._check_service(ctx, service, ctx.now())
    number, id_hash, id_masked = tickets._person(ctx, id_number)
    if not number or not id_hash:
        raise Invalid("a remote ticket needs an ID number", code="id_required")
    if cfg.use_location:
        if position is None:
            raise Invalid("the browser's position is needed", code="position_required")
        assert cfg.latitude is not None and cfg.longitude is not None  # the config checks it
        away = distance_m(position[0], position[1], cfg.latitude, cfg.longitude)
        if away > cfg.radius_m:
            raise Forbidden(
                f"{away:.0f} m from the hall, more than {cfg.radius_m:.0f} m", code="too_far"
            )
    with ctx.write() as tx:
        _expire_overdue(ctx, tx)
        day = ctx.today(tx.now)
        if not cfg.use_location:
            taken = tx.conn.execute(
                select(func.count())
                .select_from(T)
                .where(
                    T.c.hall_id == ctx.hall_id,
                    T.c.day == day,
                    T.c.id_hash == id_hash,
                    T.c.remote == 1,
                )
            ).scalar_one()
            if taken >= cfg.daily_limit:
                raise Conflict(
                    f"{taken} remote ticket(s) taken today (limit {cfg.daily_limit})",
                    code="remote_limit",
                )
        tickets._check_limit(ctx, tx, day, svc.code, id_hash, svc.daily_limit)
        row = insert_ticket(
            ctx,
            tx,
            service=svc.code,
            klass=Klass.NORMAL,
            reason=None,
            queue_time=tx.now,
            id_hash=id_hash,
            id_masked=id_masked,
            remote=1,
            confirm_by=tx.now + dt.timedelta(minutes=cfg.confirm_within_min),
        )
        emit_ticket(ctx, tx, "ticket.issued", row, extra={"remote": True})
        if mobile:
            notices.hold(tx.conn, ctx.config, tx.now, row, mobile)
            notices.queue_moved(tx.conn, ctx.config, tx.now, row.service)
    with ctx.read() as conn:
        return remote_json(ctx, conn, row)


def confirm(ctx: HallContext, public_token: str) -> RemoteTicket:
    """The citizen has arrived (its /t/ QR code at a kiosk, or staff at a counter): from
    now on it is called like any ticket, in its place since it was taken."""
    expire_overdue(ctx)  # committed on its own: a late confirmation finds it expired
    with ctx.write() as tx:
        found = tx.conn.execute(
            select(T).where(T.c.hall_id == ctx.hall_id, T.c.public_token == public_token)
        ).first()
        if found is None:
            raise NotFound("no ticket for this link", code="ticket_not_found")
        row = TicketRow.of(found)
        if not row.remote:
            raise Conflict("not a remote ticket", code="not_remote")
        if row.status == Status.EXPIRED.value and row.confirmed_at is None:
            raise Conflict("the remote ticket was not confirmed in time", code="remote_expired")
        if row.confirm_by is not None:
            row = confirm_row(ctx, tx, row)
        return remote_json(ctx, tx.conn, row)


def confirm_row(ctx: HallContext, tx: Tx, row: TicketRow) -> TicketRow:
    """Record the arrival of a remote ticket's holder (a kiosk scan, a counter's
    confirmation, or a counter calling it directly): from now on call-next calls it."""
    tx.conn.execute(update(T).where(T.c.id == row.id).values(confirm_by=None, confirmed_at=tx.now))
    row = TicketRow.of(tx.conn.execute(select(T).where(T.c.id == row.id)).one())
    emit_ticket(ctx, tx, "ticket.confirmed", row)
    return row


def get(ctx: HallContext, public_token: str) -> RemoteTicket:
    with ctx.read() as conn:
        found = conn.execute(
            select(T).where(T.c.hall_id == ctx.hall_id, T.c.public_token == public_token)
        ).first()
        if found is None or not TicketRow.of(found).remote:
            raise NotFound("no remote ticket for this link", code="ticket_not_found")
        return remote_json(ctx, conn, TicketRow.of(found))

"""Appointments (预约): booked by staff or an online system, checked in at a kiosk by ID
number. On time → an ``appointment`` class ticket; later than slot + grace → a normal one."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import insert, select, update

from common.personal import InvalidIdNumber, keyed_hash, mask_id_number, validate_person_number
from hall.domain import booking as b
from hall.domain.tickets import Klass
from hall.errors import Conflict, Invalid, NotFound
from hall.schemas import Appointment, Ticket
from hall.services import bookings, notices
from hall.services.context import HallContext, Tx
from hall.services.ticket_rows import by_idempotency_key, emit_ticket, insert_ticket, ticket_json
from hall.storage import tables as t
from hall.storage.rows import AppointmentRow, TicketRow

A = t.appointments


def _hash(ctx: HallContext, id_number: str) -> tuple[str, str]:
    try:
        number = validate_person_number(id_number)
    except InvalidIdNumber as err:
        raise Invalid(str(err), code="invalid_id_number") from err
    return keyed_hash(ctx.config.secret, number), mask_id_number(number)


def appointment_json(ctx: HallContext, row: AppointmentRow) -> Appointment:
    return Appointment(
        id=row.id,
        service=row.service,
        slot_start=ctx.local(row.slot_start).isoformat(),
        status=row.status,
        id_masked=row.id_masked,
        ticket_id=row.ticket_id,
        code=row.code,
    )


def create(ctx: HallContext, service: str, id_number: str, slot_start: dt.datetime) -> Appointment:
    """An appointment booked by an admin token (a desk or another system). It takes a
    place of the slot its time falls in, as a citizen's booking does: a full slot is
    refused with ``slot_full``; a time outside every slot has no places to count."""
    svc = ctx.config.service(service)
    if svc is None:
        raise NotFound(f"no service with code {service!r}", code="unknown_service")
    if slot_start.tzinfo is None:
        slot_start = slot_start.replace(tzinfo=ctx.config.tz)
    id_hash, id_masked = _hash(ctx, id_number)
    with ctx.write() as tx:
        if slot_start < tx.now - dt.timedelta(seconds=ctx.config.policy.appointment_grace_s):
            raise Invalid("slot_start is in the past", code="slot_in_past")
        day = ctx.today(slot_start)
        dup = tx.conn.execute(
            select(A.c.id).where(
                A.c.hall_id == ctx.hall_id,
                A.c.day == day,
                A.c.id_hash == id_hash,
                A.c.service == service,
                A.c.status == "booked",
            )
        ).first()
        if dup:
            raise Conflict(
                "this person already has an appointment for this service that day",
                code="duplicate_appointment",
            )
        slot = bookings.slot_containing(ctx, service, slot_start)
        if slot is not None:  # the places citizens book count these too (issue 21)
            bookings.check_capacity(ctx, tx, service, slot)
        minutes = ctx.config.booking.rules(service).slot_minutes
        new_id = tx.conn.execute(
            insert(A)
            .values(
                hall_id=ctx.hall_id,
                service=service,
                slot_start=slot_start,
                slot_end=slot_start + dt.timedelta(minutes=minutes),
                code=bookings.new_code(tx, ctx),
                channel="api",
                day=day,
                status="booked",
                id_hash=id_hash,
                id_masked=id_masked,
                created_at=tx.now,
            )
            .returning(A.c.id)
        ).scalar_one()
        row = AppointmentRow.of(tx.conn.execute(select(A).where(A.c.id == new_id)).one())
        return appointment_json(ctx, row)


def check_in(
    ctx: HallContext, id_number: str, idempotency_key: str | None = None
) -> tuple[Ticket, bool]:
    """Returns (ticket, created). A retried check-in with the same Idempotency-Key gets the
    ticket of the first one (its answer may have been lost), not "already checked in"."""
    id_hash, _ = _hash(ctx, id_number)
    with ctx.write() as tx:
        if idempotency_key:
            prior = by_idempotency_key(tx.conn, ctx, idempotency_key)
            if prior is not None:
                if prior.id_hash != id_hash:
                    raise Conflict(
                        "this Idempotency-Key was used for another request",
                        code="idempotency_key_reused",
                    )
                return ticket_json(ctx, tx.conn, prior, now=tx.now), False
        row = check_in_row(ctx, tx, id_hash=id_hash, idempotency_key=idempotency_key)
        return ticket_json(ctx, tx.conn, row, now=tx.now), True


def check_in_row(
    ctx: HallContext,
    tx: Tx,
    *,
    id_hash: str | None,
    appointment_id: int | None = None,
    idempotency_key: str | None = None,
    name_masked: str | None = None,
    service: str | None = None,
    verification: str | None = None,
) -> TicketRow:
    """The ticket of today's booked appointment of this person (``appointment_id``: that
    one; ``service``: the ticket asked for, which must be the appointment's)."""
    pol = ctx.config.policy
    where = [A.c.hall_id == ctx.hall_id, A.c.day == ctx.today(tx.now)]
    # The ID number that booked it, always: an appointment id alone can be guessed.
    if id_hash is None:
        raise Invalid("an ID number is needed to check in", code="id_required")
    where.append(A.c.id_hash == id_hash)
    if appointment_id is not None:
        where.append(A.c.id == appointment_id)
    rows = [
        AppointmentRow.of(r)
        for r in tx.conn.execute(select(A).where(*where).order_by(A.c.slot_start)).all()
    ]
    states = [bookings.effective_status(ctx, r, tx.now) for r in rows]
    booked = [r for r, state in zip(rows, states, strict=True) if state == b.Status.BOOKED]
    if not booked:
        if b.Status.CHECKED_IN in states:
            raise Conflict(
                "this appointment has already been checked in", code="already_checked_in"
            )
        if b.Status.NO_SHOW in states:  # not checked in by its slot's end + grace
            raise Conflict("the booked time has passed", code="booking_missed")
        raise NotFound("no appointment today for this ID card", code="no_appointment")
    appt = booked[0]
    if service is not None and service != appt.service:
        raise Conflict(
            f"appointment {appt.id} is for service {appt.service!r}, not {service!r}",
            code="appointment_other_service",
        )
    opens = appt.slot_start - dt.timedelta(seconds=pol.appointment_early_s)
    if tx.now < opens:
        local = ctx.local(opens).strftime("%H:%M")
        raise Conflict(f"check-in for this appointment opens at {local}", code="too_early")
    late = tx.now > appt.slot_start + dt.timedelta(seconds=pol.appointment_grace_s)
    klass = Klass.NORMAL if late else Klass.APPOINTMENT
    row = insert_ticket(
        ctx,
        tx,
        service=appt.service,
        klass=klass,
        reason="late" if late else None,
        queue_time=tx.now,
        appointment_id=appt.id,
        id_hash=appt.id_hash,
        id_masked=appt.id_masked,
        name_masked=name_masked,
        idempotency_key=idempotency_key,
        verification=verification,
    )
    tx.conn.execute(
        update(A)
        .where(A.c.id == appt.id)
        .values(status="checked_in", checked_in_at=tx.now, ticket_id=row.id, phone=None)
    )
    emit_ticket(ctx, tx, "ticket.issued", row, extra={"appointment": appt.id})
    if appt.phone:  # the booking's number moves to the ticket's SMS notices (issue 21)
        notices.hold(tx.conn, ctx.config, tx.now, row, appt.phone)
        notices.queue_moved(tx.conn, ctx.config, tx.now, row.service)
    return row


def check_in_by_code(
    ctx: HallContext, code: str, idempotency_key: str | None = None
) -> tuple[Ticket, bool]:
    """Arrival by the booking's QR code at the kiosk camera: the code is the key (50
    random bits), as the ID card is for :func:`check_in`."""
    with ctx.write() as tx:
        if idempotency_key:
            prior = by_idempotency_key(tx.conn, ctx, idempotency_key)
            if prior is not None:
                return ticket_json(ctx, tx.conn, prior, now=tx.now), False
        row = bookings.by_code(tx.conn, ctx, code)
        status = bookings.effective_status(ctx, row, tx.now)
        if status == b.Status.CHECKED_IN:
            raise Conflict("this booking has already been checked in", code="already_checked_in")
        if status == b.Status.NO_SHOW:
            raise Conflict("the booked time has passed", code="booking_missed")
        if status != b.Status.BOOKED:
            raise Conflict("this booking is no longer open", code="booking_not_open")
        if row.day != ctx.today(tx.now):
            raise Conflict(f"this booking is for {row.day.isoformat()}", code="booking_not_today")
        ticket = check_in_row(
            ctx, tx, id_hash=row.id_hash, appointment_id=row.id, idempotency_key=idempotency_key
        )
        return ticket_json(ctx, tx.conn, ticket, now=tx.now), True

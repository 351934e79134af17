"""Online booking (预约) on top of the appointments table: a citizen (phone), staff (desk)
or a system (API) books a slot of a service; the booking code is the citizen's key (its
QR code opens the booking page and checks in at the kiosk camera). Rules in
:mod:`hall.domain.booking`; check-in in :mod:`hall.services.appointments`.

Capacity is never exceeded: a slot's bookings are counted and the new one inserted in one
``ctx.write()`` (the hall's write lock: the process lock plus ``BEGIN IMMEDIATE`` on SQLite
or the hall row ``FOR UPDATE`` on PostgreSQL), so concurrent bookers are serialised.

People are recognised by the keyed hash of their ID number only; the name, ID number and
phone are stored masked (``张*``, ``110***********0016``, ``138****5678``)."""

from __future__ import annotations

import datetime as dt
import re
import secrets
from dataclasses import dataclass

from sqlalchemy import Connection, and_, func, insert, or_, select, update

from common.personal import (
    InvalidIdNumber,
    clean_text,
    keyed_hash,
    mask_id_number,
    mask_name,
    mask_phone,
    validate_person_number,
)
from hall.config import Service
from hall.domain import booking as b
from hall.domain.hours import Week
from hall.errors import BookingBlocked, Conflict, Invalid, NotFound
from hall.schemas import (
    BookableService,
    Booking,
    BookingClosure,
    BookingCount,
    BookingDay,
    BookingDaySummary,
    BookingEntry,
    BookingSlot,
    BookingSlots,
)
from hall.services import closing, sms
from hall.services.context import HallContext, Tx
from hall.storage import tables as t
from hall.storage.rows import AppointmentRow

A = t.appointments
C = t.booking_closures
TAKEN = (b.Status.BOOKED.value, b.Status.CHECKED_IN.value, b.Status.NO_SHOW.value)
"""Statuses that hold a place in their slot (a cancelled booking frees it)."""
MAX_DAYS = 62
_MOBILE = re.compile(r"^1[3-9][0-9]{9}$")


@dataclass(frozen=True)
class BookRequest:
    service: str
    slot_start: dt.datetime
    name: str
    id_number: str
    phone: str | None = None
    channel: str = "online"  # online | desk | api


# -- reading the config ------------------------------------------------------------------


def bookable_service(ctx: HallContext, code: str) -> Service:
    svc = ctx.config.service(code)
    if svc is None:
        raise NotFound(f"no service with code {code!r}", code="unknown_service")
    if not ctx.config.booking.bookable(svc):
        raise Conflict(f"service {code!r} cannot be booked", code="not_bookable")
    return svc


def services(ctx: HallContext) -> list[BookableService]:
    return [
        BookableService(
            code=s.code,
            name=s.name,
            name_en=s.name_en,
            materials=list(s.materials),
            materials_en=list(s.materials_en),
            requires_id=s.requires_id,
        )
        for s in ctx.config.services
        if ctx.config.booking.bookable(s)
    ]


def _week(ctx: HallContext, service: str) -> Week:
    return ctx.config.week(service)


def _grace(ctx: HallContext) -> dt.timedelta:
    return dt.timedelta(minutes=ctx.config.booking.no_show_grace_min)


def _slot_end(ctx: HallContext, row: AppointmentRow) -> dt.datetime:
    if row.slot_end is not None:
        return row.slot_end
    return row.slot_start + dt.timedelta(minutes=ctx.config.booking.rules(row.service).slot_minutes)


def effective_status(ctx: HallContext, row: AppointmentRow, now: dt.datetime) -> str:
    """A booking not checked in by its slot's end + grace is a no-show, whether or not a
    write has marked it yet."""
    if row.status == b.Status.BOOKED and now > _slot_end(ctx, row) + _grace(ctx):
        return b.Status.NO_SHOW.value
    return row.status


# -- slots -------------------------------------------------------------------------------


def _closures(
    conn: Connection, ctx: HallContext, first: dt.date, last: dt.date, service: str | None
) -> dict[dt.date, str]:
    rows = conn.execute(
        select(C.c.day, C.c.notice)
        .where(
            C.c.hall_id == ctx.hall_id,
            C.c.day >= first,
            C.c.day <= last,
            or_(C.c.service.is_(None), C.c.service == service) if service else C.c.id.is_not(None),
        )
        .order_by(C.c.id)
    ).all()
    return {r.day: r.notice for r in rows}


def _taken(
    conn: Connection, ctx: HallContext, service: str, start: dt.datetime, end: dt.datetime
) -> dict[dt.datetime, int]:
    rows = conn.execute(
        select(A.c.slot_start, func.count())
        .where(
            A.c.hall_id == ctx.hall_id,
            A.c.service == service,
            A.c.slot_start >= start,
            A.c.slot_start < end,
            A.c.status.in_(TAKEN),
        )
        .group_by(A.c.slot_start)
    ).all()
    return {r[0]: int(r[1]) for r in rows}


def _taken_in(taken: dict[dt.datetime, int], slot: b.Slot) -> int:
    """Bookings in ``slot`` (an API appointment may start inside it, not at its start)."""
    return sum(n for start, n in taken.items() if slot.start <= start < slot.end)


def _day_bounds(ctx: HallContext, first: dt.date, last: dt.date) -> tuple[dt.datetime, dt.datetime]:
    tz = ctx.config.tz
    return (
        dt.datetime.combine(first, dt.time(), tzinfo=tz),
        dt.datetime.combine(last + dt.timedelta(days=1), dt.time(), tzinfo=tz),
    )


def slots(
    ctx: HallContext, service: str, first: dt.date | None = None, last: dt.date | None = None
) -> BookingSlots:
    svc = bookable_service(ctx, service)
    cfg = ctx.config.booking
    rules, window, week, tz = cfg.rules(service), cfg.window(), _week(ctx, service), ctx.config.tz
    now = ctx.now()
    today = ctx.today(now)
    window_first, window_last = b.first_day(today, window), b.last_day(today, window)
    first = first or window_first
    last = last or window_last
    if last < first or (last - first).days > MAX_DAYS:
        raise Invalid(f"from..to must be 0 to {MAX_DAYS} days", code="bad_range")
    with ctx.read() as conn:
        closures = _closures(conn, ctx, first, last, service)
        taken = _taken(conn, ctx, service, *_day_bounds(ctx, first, last))
    days = []
    day = first
    while day <= last:
        state, found = b.day_plan(day, today, week, window, rules, tz, frozenset(closures))
        out = [
            BookingSlot(
                start=ctx.local(s.start).isoformat(),
                end=ctx.local(s.end).isoformat(),
                capacity=rules.bookable,
                left=max(0, rules.bookable - _taken_in(taken, s)),
            )
            for s in found
            if s.start > now
        ]
        if state is b.DayState.OPEN and not out:
            state = b.DayState.NO_SLOTS
        days.append(
            BookingDay(day=day.isoformat(), state=state.value, notice=closures.get(day), slots=out)
        )
        day += dt.timedelta(days=1)
    return BookingSlots(
        service=svc.code,
        service_name=svc.name,
        service_name_en=svc.name_en,
        materials=list(svc.materials),
        materials_en=list(svc.materials_en),
        first_day=window_first.isoformat(),
        last_day=window_last.isoformat(),
        days=days,
    )


# -- the booking as its holder sees it ----------------------------------------------------


def booking_json(ctx: HallContext, row: AppointmentRow, now: dt.datetime) -> Booking:
    svc = ctx.config.service(row.service)
    cfg = ctx.config.booking
    status = effective_status(ctx, row, now)
    until = b.cancel_until(row.slot_start, cfg.cancel_before_min)
    opens = row.slot_start - dt.timedelta(seconds=ctx.config.policy.appointment_early_s)
    return Booking(
        code=row.code or "",
        service=row.service,
        service_name=svc.name if svc else row.service,
        service_name_en=svc.name_en if svc else "",
        slot_start=ctx.local(row.slot_start).isoformat(),
        slot_end=ctx.local(_slot_end(ctx, row)).isoformat(),
        status=status,
        name_masked=row.name_masked,
        id_masked=row.id_masked,
        phone_masked=row.phone_masked,
        channel=row.channel,
        cancel_until=ctx.local(until).isoformat(),
        can_change=status == b.Status.BOOKED and now <= until,
        cancel_reason=row.cancel_reason,
        notice=row.notice,
        check_in_from=ctx.local(opens).isoformat(),
        ticket_id=row.ticket_id,
    )


def by_code(conn: Connection, ctx: HallContext, code: str) -> AppointmentRow:
    parsed = b.parse_code(code)
    row = (
        conn.execute(select(A).where(A.c.hall_id == ctx.hall_id, A.c.code == parsed)).first()
        if parsed
        else None
    )
    if row is None:
        raise NotFound("no booking with this code", code="booking_not_found")
    return AppointmentRow.of(row)


def get(ctx: HallContext, code: str) -> Booking:
    now = ctx.now()
    with ctx.read() as conn:
        return booking_json(ctx, by_code(conn, ctx, code), now)


def valid_phone(raw: str) -> str:
    """A mainland mobile number (11 digits from 13…19; +86, spaces and dashes dropped)."""
    digits = re.sub(r"[\s()-]", "", clean_text(raw))
    digits = digits.removeprefix("+86") if digits.startswith("+86") else digits
    if len(digits) == 13 and digits.startswith("86"):
        digits = digits[2:]
    if not _MOBILE.match(digits):
        raise Invalid("not a mainland mobile number", code="invalid_phone")
    return digits


def valid_name(raw: str) -> str:
    """The name masked as it is kept (张*); digits are refused (an ID typed in the wrong box)."""
    name = clean_text(raw)
    if not name or sum(ch.isdigit() for ch in name) or len(name) > 30:
        raise Invalid("a name of letters, 1 to 30 long, is needed", code="invalid_name")
    return mask_name(name)


# -- the person's record -------------------------------------------------------------------


def person_hash(ctx: HallContext, id_number: str) -> tuple[str, str]:
    try:
        number = validate_person_number(id_number)
    except InvalidIdNumber as err:
        raise Invalid(str(err), code="invalid_id_number") from err
    return keyed_hash(ctx.config.secret, number), mask_id_number(number)


def history(
    conn: Connection,
    ctx: HallContext,
    id_hash: str,
    now: dt.datetime,
    service: str,
    day: dt.date,
    *,
    excluding: int | None = None,
) -> b.History:
    today = ctx.today(now)
    month_first = b.month_start(today)
    month_since = dt.datetime.combine(month_first, dt.time(), tzinfo=ctx.config.tz)
    mine = [A.c.hall_id == ctx.hall_id, A.c.id_hash == id_hash]
    if excluding is not None:
        mine.append(A.c.id != excluding)
    rows = conn.execute(
        select(
            A.c.service, A.c.day, A.c.status, A.c.slot_end, A.c.cancel_reason, A.c.cancelled_at
        ).where(
            *mine,
            or_(
                A.c.status == b.Status.BOOKED.value,
                and_(A.c.status == b.Status.CHECKED_IN.value, A.c.day >= today),
                and_(A.c.status == b.Status.NO_SHOW.value, A.c.day >= month_first),
                and_(A.c.status == b.Status.CANCELLED.value, A.c.cancelled_at >= month_since),
            ),
        )
    ).all()
    grace = _grace(ctx)
    same = opened = no_shows = cancels = 0
    for r in rows:
        missed = r.status == b.Status.BOOKED and r.slot_end is not None and now > r.slot_end + grace
        status = b.Status.NO_SHOW.value if missed else r.status
        if (
            status in (b.Status.BOOKED, b.Status.CHECKED_IN)
            and r.service == service
            and r.day == day
        ):
            same += 1
        if status == b.Status.BOOKED:
            opened += 1
        if status == b.Status.NO_SHOW and r.day >= month_first:
            no_shows += 1
        if status == b.Status.CANCELLED and r.cancel_reason == "citizen":
            cancels += 1
    return b.History(same, opened, no_shows, cancels)


def _check_person(ctx: HallContext, hist: b.History, today: dt.date) -> None:
    limits = ctx.config.booking.limits()
    block = b.block_of(hist, limits, today)
    if block is not None:
        raise BookingBlocked(
            f"booking blocked until {block.until.isoformat()} ({block.reason.value})",
            reason=block.reason.value,
            until=block.until.isoformat(),
        )
    which = b.over_limit(hist, limits)
    if which == "per_day":
        raise Conflict(
            "this person already has a booking for this service that day", code="limit_reached"
        )
    if which == "max_open":
        raise Conflict(
            f"this person already holds {limits.max_open} open bookings", code="limit_reached"
        )


def _slot_for(
    ctx: HallContext, tx: Tx, service: str, start: dt.datetime, *, excluding: int | None = None
) -> b.Slot:
    """The slot starting at ``start`` if it can be booked now and has a place left."""
    cfg = ctx.config.booking
    rules, tz = cfg.rules(service), ctx.config.tz
    day = start.astimezone(tz).date()
    today = ctx.today(tx.now)
    closures = _closures(tx.conn, ctx, day, day, service)
    state, found = b.day_plan(
        day, today, _week(ctx, service), cfg.window(), rules, tz, frozenset(closures)
    )
    if state is not b.DayState.OPEN:
        raise Conflict(f"{day.isoformat()} cannot be booked ({state.value})", code="not_bookable")
    slot = next((s for s in found if s.start == start), None)
    if slot is None or slot.start <= tx.now:
        raise Conflict("no bookable slot starts at this time", code="not_bookable")
    check_capacity(ctx, tx, service, slot, excluding=excluding)
    return slot


def slot_containing(ctx: HallContext, service: str, moment: dt.datetime) -> b.Slot | None:
    """The slot of the service's day that ``moment`` falls in (None: outside every slot)."""
    rules, tz = ctx.config.booking.rules(service), ctx.config.tz
    day = moment.astimezone(tz).date()
    found = b.slots(day, _week(ctx, service), rules, tz)
    return next((s for s in found if s.start <= moment < s.end), None)


def check_capacity(
    ctx: HallContext, tx: Tx, service: str, slot: b.Slot, *, excluding: int | None = None
) -> None:
    """``slot_full`` when the slot's bookable places are taken, by every kind of booking:
    the citizen's, the desk's and the API's (``POST /appointments``, whose time may fall
    inside a slot rather than at its start). Run in the booking's ``ctx.write()``, so
    concurrent bookers are counted one after the other."""
    where = [
        A.c.hall_id == ctx.hall_id,
        A.c.service == service,
        A.c.slot_start >= slot.start,
        A.c.slot_start < slot.end,
        A.c.status.in_(TAKEN),
    ]
    if excluding is not None:
        where.append(A.c.id != excluding)
    taken = tx.conn.execute(select(func.count()).select_from(A).where(*where)).scalar_one()
    if taken >= ctx.config.booking.rules(service).bookable:
        raise Conflict("this slot is fully booked", code="slot_full")


def new_code(tx: Tx, ctx: HallContext) -> str:
    while True:  # 50 random bits: a second round is all but never needed
        code = "".join(secrets.choice(b.CODE_ALPHABET) for _ in range(b.CODE_LENGTH))
        clash = tx.conn.execute(
            select(A.c.id).where(A.c.hall_id == ctx.hall_id, A.c.code == code)
        ).first()
        if clash is None:
            return code


def _emit(tx: Tx, row: AppointmentRow, what: str) -> None:
    """Staff pages refresh on it; no personal data, not even masked."""
    tx.emit(
        "booking.changed",
        {"service": row.service, "day": row.day.isoformat(), "status": row.status, "what": what},
    )


def _reload(tx: Tx, ctx: HallContext, booking_id: int) -> AppointmentRow:
    return AppointmentRow.of(
        tx.conn.execute(select(A).where(A.c.hall_id == ctx.hall_id, A.c.id == booking_id)).one()
    )


# -- changes --------------------------------------------------------------------------------


def book(ctx: HallContext, req: BookRequest) -> Booking:
    bookable_service(ctx, req.service)
    start = req.slot_start
    if start.tzinfo is None:
        start = start.replace(tzinfo=ctx.config.tz)
    start = start.astimezone(dt.UTC)
    id_hash, id_masked = person_hash(ctx, req.id_number)
    name = valid_name(req.name)
    phone = mask_phone(valid_phone(req.phone)) if req.phone else None
    if phone is None and req.channel == "online":
        raise Invalid("a mobile number is needed", code="invalid_phone")
    with ctx.write() as tx:
        day = start.astimezone(ctx.config.tz).date()
        hist = history(tx.conn, ctx, id_hash, tx.now, req.service, day)
        _check_person(ctx, hist, ctx.today(tx.now))
        slot = _slot_for(ctx, tx, req.service, start)
        new_id = tx.conn.execute(
            insert(A)
            .values(
                hall_id=ctx.hall_id,
                service=req.service,
                slot_start=slot.start,
                slot_end=slot.end,
                day=day,
                status=b.Status.BOOKED.value,
                id_hash=id_hash,
                id_masked=id_masked,
                name_masked=name,
                phone_masked=phone,
                phone=valid_phone(req.phone) if req.phone else None,
                channel=req.channel,
                code=new_code(tx, ctx),
                created_at=tx.now,
            )
            .returning(A.c.id)
        ).scalar_one()
        row = _reload(tx, ctx, new_id)
        _emit(tx, row, "booked")
        if req.phone and row.code:  # the confirmation by SMS, sent once from the outbox
            svc = ctx.config.service(row.service)
            local = ctx.local(slot.start)
            sms.enqueue(
                tx,
                f"booked-{row.code}",
                valid_phone(req.phone),
                "booking_booked",
                {
                    "code": b.format_code(row.code),
                    "service": svc.name if svc else row.service,
                    "time": f"{local.month}月{local.day}日 {local:%H:%M}",
                },
            )
        return booking_json(ctx, row, tx.now)


def _open_for_change(ctx: HallContext, tx: Tx, code: str, *, staff: bool) -> AppointmentRow:
    row = by_code(tx.conn, ctx, code)
    if effective_status(ctx, row, tx.now) != b.Status.BOOKED:
        raise Conflict("this booking is no longer open", code="booking_not_open")
    until = b.cancel_until(row.slot_start, ctx.config.booking.cancel_before_min)
    if not staff and tx.now > until:
        local = ctx.local(until).strftime("%Y-%m-%d %H:%M")
        raise Conflict(f"changes were possible until {local}", code="cancel_too_late")
    return row


def cancel(ctx: HallContext, code: str, *, staff: bool = False) -> Booking:
    """The citizen's cancellation (counted for the month's limit) or staff's (not)."""
    with ctx.write() as tx:
        row = _open_for_change(ctx, tx, code, staff=staff)
        tx.conn.execute(
            update(A)
            .where(A.c.id == row.id)
            .values(
                status=b.Status.CANCELLED.value,
                cancelled_at=tx.now,
                cancel_reason="staff" if staff else "citizen",
                phone=None,
            )
        )
        row = _reload(tx, ctx, row.id)
        _emit(tx, row, "cancelled")
        return booking_json(ctx, row, tx.now)


def reschedule(ctx: HallContext, code: str, slot_start: dt.datetime) -> Booking:
    """Move a booking to another slot of its service (same code; not a cancellation)."""
    if slot_start.tzinfo is None:
        slot_start = slot_start.replace(tzinfo=ctx.config.tz)
    start = slot_start.astimezone(dt.UTC)
    with ctx.write() as tx:
        row = _open_for_change(ctx, tx, code, staff=False)
        day = start.astimezone(ctx.config.tz).date()
        if row.id_hash is not None:
            hist = history(tx.conn, ctx, row.id_hash, tx.now, row.service, day, excluding=row.id)
            _check_person(ctx, hist, ctx.today(tx.now))
        slot = _slot_for(ctx, tx, row.service, start, excluding=row.id)
        tx.conn.execute(
            update(A)
            .where(A.c.id == row.id)
            .values(slot_start=slot.start, slot_end=slot.end, day=day)
        )
        row = _reload(tx, ctx, row.id)
        _emit(tx, row, "rescheduled")
        return booking_json(ctx, row, tx.now)


def close_day(
    ctx: HallContext, day: dt.date, service: str | None, notice: str, by: str
) -> BookingClosure:
    """The hall closes ``day`` (for one service, or all) for booking: the bookings on it
    are cancelled with the notice, which their holders see on their booking page."""
    if service is not None and ctx.config.service(service) is None:
        raise NotFound(f"no service with code {service!r}", code="unknown_service")
    with ctx.write() as tx:
        if day < ctx.today(tx.now):
            raise Conflict("the day is in the past", code="not_bookable")
        tx.conn.execute(
            insert(C).values(
                hall_id=ctx.hall_id,
                day=day,
                service=service,
                notice=notice,
                created_by=by,
                created_at=tx.now,
            )
        )
        where = [A.c.hall_id == ctx.hall_id, A.c.day == day, A.c.status == b.Status.BOOKED.value]
        if service is not None:
            where.append(A.c.service == service)
        told = tx.conn.execute(select(A.c.code, A.c.phone, A.c.service).where(*where)).all()
        n = tx.conn.execute(
            update(A)
            .where(*where)
            .values(
                status=b.Status.CANCELLED.value,
                cancelled_at=tx.now,
                cancel_reason="closed",
                notice=notice,
                phone=None,
            )
        ).rowcount
        for r in told:  # everyone booked that day hears of it by SMS, once
            if r.phone and r.code:
                svc = ctx.config.service(r.service)
                params = {
                    "code": b.format_code(r.code),
                    "service": svc.name if svc else r.service,
                    "day": f"{day.month}月{day.day}日",
                    "notice": notice,
                }
                sms.enqueue(tx, f"closed-{r.code}", r.phone, "booking_closed", params)
        tx.emit(
            "booking.changed",
            {"service": service, "day": day.isoformat(), "status": "cancelled", "what": "closed"},
        )
        return BookingClosure(
            day=day.isoformat(), service=service, notice=notice, created_by=by, cancelled=n
        )


# -- staff ------------------------------------------------------------------------------------


def day_summary(ctx: HallContext, day: dt.date | None = None) -> BookingDaySummary:
    now = ctx.now()
    day = day or ctx.today(now)
    with ctx.read() as conn:
        rows = [
            AppointmentRow.of(r)
            for r in conn.execute(
                select(A)
                .where(A.c.hall_id == ctx.hall_id, A.c.day == day)
                .order_by(A.c.slot_start, A.c.id)
            ).all()
        ]
        closures = conn.execute(
            select(C).where(C.c.hall_id == ctx.hall_id, C.c.day == day).order_by(C.c.id)
        ).all()
    cfg = ctx.config.booking
    counts = []
    for svc in ctx.config.services:
        mine = [r for r in rows if r.service == svc.code]
        if not mine and not cfg.bookable(svc):
            continue
        statuses = [effective_status(ctx, r, now) for r in mine]
        slots_that_day = b.slots(day, _week(ctx, svc.code), cfg.rules(svc.code), ctx.config.tz)
        counts.append(
            BookingCount(
                service=svc.code,
                service_name=svc.name,
                booked=statuses.count(b.Status.BOOKED.value),
                arrived=statuses.count(b.Status.CHECKED_IN.value),
                no_show=statuses.count(b.Status.NO_SHOW.value),
                cancelled=statuses.count(b.Status.CANCELLED.value),
                capacity=len(slots_that_day) * cfg.rules(svc.code).bookable,
            )
        )
    return BookingDaySummary(
        day=day.isoformat(),
        services=counts,
        closures=[
            BookingClosure(
                day=c.day.isoformat(),
                service=c.service,
                notice=c.notice,
                created_by=c.created_by,
                cancelled=0,
            )
            for c in closures
        ],
        bookings=[
            BookingEntry(
                code=b.format_code(r.code) if r.code else "",
                service=r.service,
                slot_start=ctx.local(r.slot_start).isoformat(),
                status=effective_status(ctx, r, now),
                name_masked=r.name_masked,
                id_masked=r.id_masked,
                channel=r.channel,
            )
            for r in rows
        ],
    )


def mark_no_shows(ctx: HallContext) -> int:
    """Writes down the no-shows :func:`effective_status` already shows (for statistics and
    the month's limit); the day's closing does it too (``closing.mark_no_shows``)."""
    with ctx.write() as tx:
        return closing.mark_no_shows(tx.conn, ctx.config, tx.now, tx.emit)

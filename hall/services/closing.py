"""The end of the hall's day: every ticket still open when the hall closes ends as expired.

The rule the rest of the hall relies on: only the current business day's tickets are ever
open. ``HallContext`` runs :func:`close_due` at the start of every read and write once the
day's closing instant (the last service period plus ``[hours].expire_after_min``, at the
latest local midnight) has passed, so call-next, counts, estimates and boards never see an
earlier day, whether the server ran through the night, was restarted in it, or its clock
stepped. Each expired ticket gets a ``ticket.expired`` event.

This module sits below the context (it gets a connection and an ``emit``), so the context
can call it without a cycle.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from sqlalchemy import Connection, func, select, update

from hall.config import HallConfig
from hall.domain import hours
from hall.domain.booking import Status as Booked
from hall.domain.tickets import OPEN_STATES, Status
from hall.services import notices, queries
from hall.services.views import event_ticket
from hall.storage import tables as t
from hall.storage.rows import TicketRow

T = t.tickets
A = t.appointments
Emit = Callable[[str, dict[str, Any]], None]


def closing_instant(config: HallConfig, day: dt.date) -> dt.datetime:
    """When ``day`` closes: its open tickets expire then."""
    weeks = [config.week(), *(config.week(s.code) for s in config.services)]
    grace = dt.timedelta(minutes=config.hours.expire_after_min)
    return hours.closing_instant(weeks, day, config.tz, grace)


def next_check(config: HallConfig, now: dt.datetime, day: dt.date) -> dt.datetime:
    """The next instant :func:`close_due` may have work: the business day's closing while
    it is ahead, else the next local midnight (a ticket imported after closing is today's
    and expires with the day)."""
    closes = closing_instant(config, day)
    if now < closes:
        return closes
    local = now.astimezone(config.tz)
    return dt.datetime.combine(local.date() + dt.timedelta(days=1), dt.time(), tzinfo=config.tz)


def latest_day(conn: Connection, hall_id: str) -> dt.date | None:
    """The latest business day the hall has numbered tickets for: the day never goes back
    to an earlier one, even when the clock does."""
    s = t.sequences
    day: dt.date | None = conn.execute(
        select(func.max(s.c.day)).where(s.c.hall_id == hall_id)
    ).scalar_one()
    return day


def close_due(
    conn: Connection,
    config: HallConfig,
    now: dt.datetime,
    day: dt.date,
    emit: Emit,
) -> list[TicketRow]:
    """Expire the open tickets of days before ``day``, and of ``day`` itself once it has
    closed. Idempotent (a second server process finds nothing left)."""
    closed = now >= closing_instant(config, day)
    due = T.c.day <= day if closed else T.c.day < day
    stmt = (
        update(T)
        .where(
            T.c.hall_id == config.hall_id,
            T.c.status.in_([s.value for s in OPEN_STATES]),
            due,
        )
        .values(status=Status.EXPIRED.value, finished_at=now)
        .returning(*T.c)
    )
    rows = [TicketRow.of(r) for r in conn.execute(stmt)]
    notices.forget(conn, config.hall_id, [r.id for r in rows])  # their SMS will not be due
    # and no ticket's number outlives its day (a notice the gateway never took)
    midnight = dt.datetime.combine(day, dt.time(), tzinfo=config.tz)
    notices.forget_before(conn, config.hall_id, now if closed else midnight)
    if rows:
        waiting = queries.waiting_counts(conn, config.hall_id, {r.service for r in rows})
        for row in sorted(rows, key=lambda r: r.id):
            ticket = event_ticket(config, row).model_dump(mode="json")
            emit(
                "ticket.expired", {"ticket": ticket, "waiting": {row.service: waiting[row.service]}}
            )
    return rows


def mark_no_shows(conn: Connection, config: HallConfig, now: dt.datetime, emit: Emit) -> int:
    """Bookings not checked in by their slot's end + ``[booking].no_show_grace_min`` are
    written down as no-shows (爽约; the month's limit counts them), their numbers dropped
    with the booking's end. Run with every day's closing (so a real day marks them even
    with nobody looking at the bookings) and by the hourly housekeeping."""
    grace = dt.timedelta(minutes=config.booking.no_show_grace_min)
    n: int = conn.execute(
        update(A)
        .where(
            A.c.hall_id == config.hall_id,
            A.c.status == Booked.BOOKED.value,
            A.c.slot_end < now - grace,
        )
        .values(status=Booked.NO_SHOW.value, phone=None)
    ).rowcount
    if n:
        emit("booking.changed", {"status": "no_show", "what": "no_show", "count": n})
    return n


def announce(conn: Connection, config: HallConfig, day: dt.date, expired: int, emit: Emit) -> None:
    """``day.closed``: boards drop the day's calls and show the new counts."""
    waiting = queries.waiting_counts(conn, config.hall_id, [s.code for s in config.services])
    emit("day.closed", {"day": day.isoformat(), "expired": expired, "waiting": waiting})


def availability(config: HallConfig, code: str, now: dt.datetime) -> tuple[bool, str | None]:
    """(takes tickets now, when it next opens as local ISO time): a service configured
    closed (``open = false``) never opens; outside its hours it opens at the next period."""
    svc = config.service(code)
    if svc is None or not svc.open:
        return False, None
    week = config.week(code)
    if week.is_open(now, config.tz):
        return True, None
    opens = week.next_opening(now, config.tz)
    return False, opens.isoformat(timespec="minutes") if opens else None


def hours_today(config: HallConfig, code: str, day: dt.date) -> list[str]:
    """Today's periods of a service as shown to citizens (延时服务 marked "+")."""
    return [p.label() + ("+" if p.extended else "") for p in config.week(code).periods(day)]

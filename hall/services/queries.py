"""Read queries shared by the services: waiting counts, people ahead, service times.

The policy's order is evaluated in SQL with the same rule as ``hall.domain.policy`` (a
property test checks the two agree), so nothing here loads a whole queue into memory.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, bindparam, func, or_, select, tuple_

from hall.config import HallConfig
from hall.domain.estimate import average_service_s, estimated_wait_s, service_cv, wait_range_s
from hall.domain.tickets import Klass, Status
from hall.storage import tables as t
from hall.storage.rows import TicketRow

T = t.tickets
WAITING = Status.WAITING.value
# A ticket's place in time (FIFO order), and the same for the ticket asked about: typed
# binds, because a tuple comparison does not pass the columns' types on.
_QUEUE_POSITION = tuple_(T.c.queue_time, T.c.id)
_GIVEN_POSITION = tuple_(bindparam("qt", type_=t.UTCDateTime), bindparam("id", type_=t.Id))

_WAITING_COUNTS = (
    select(T.c.service, func.count())
    .where(T.c.hall_id == bindparam("hall"), T.c.status == WAITING)
    .group_by(T.c.service)
)
_WAITING_ONE = select(func.count()).where(
    T.c.hall_id == bindparam("hall"), T.c.status == WAITING, T.c.service == bindparam("service")
)


def waiting_counts(
    conn: Connection, hall_id: str, services: Iterable[str] | None = None
) -> dict[str, int]:
    """Waiting tickets per service: all services, or only those named (zeros included)."""
    if services is None:
        return {s: n for s, n in conn.execute(_WAITING_COUNTS, {"hall": hall_id})}
    # one or two services (a ticket event): a count each, no expanding IN to render
    return {
        s: conn.execute(_WAITING_ONE, {"hall": hall_id, "service": s}).scalar_one()
        for s in sorted(set(services))
    }


def _ahead_statement(klass: Klass, pinned: bool, aged: bool) -> Any:
    """People ahead of a waiting ticket of ``klass``, as one count per class over an index
    range of ix_tickets_waiting (no per-row expression, so no row is read but index
    entries). The policy, class by class, for a ticket T that has not aged:
    better classes are all ahead, T's own class if earlier, worse classes only once aged
    (then they are earlier than T too). An aged T is overtaken only by earlier tickets."""
    earlier = _QUEUE_POSITION < _GIVEN_POSITION

    def count(k: Klass, *cond: Any) -> Any:
        return (
            select(func.count())
            .where(
                T.c.hall_id == bindparam("hall"),
                T.c.status == WAITING,
                T.c.service == bindparam("service"),
                T.c.pinned_counter == bindparam("pinned")
                if pinned
                else T.c.pinned_counter.is_(None),
                T.c.klass == k.value,
                *cond,
            )
            .scalar_subquery()
        )

    parts = []
    for k in Klass:
        if aged or k.rank == klass.rank:
            parts.append(count(k, earlier))
        elif k.rank < klass.rank:
            parts.append(count(k))
        else:
            parts.append(count(k, T.c.queue_time <= bindparam("bound")))
    total = parts[0]
    for part in parts[1:]:
        total = total + part
    return select(total.label("ahead"))


_AHEAD = {
    (k, p, a): _ahead_statement(k, p, a)
    for k in Klass
    for p in (False, True)
    for a in (False, True)
}


def waiting_ahead(
    conn: Connection,
    hall_id: str,
    row: TicketRow,
    now: dt.datetime,
    aging_bound_s: float,
) -> int:
    """Tickets of the same queue that the policy calls before ``row`` (a waiting ticket)."""
    if row.status != WAITING:
        return 0
    bound = now - dt.timedelta(seconds=aging_bound_s)
    aged = row.queue_time <= bound
    pinned = row.pinned_counter is not None
    stmt = _AHEAD[(Klass(row.klass), pinned, aged)]
    params = {"hall": hall_id, "service": row.service, "id": row.id, "qt": row.queue_time}
    if pinned:
        params["pinned"] = row.pinned_counter
    if not aged and Klass(row.klass).rank < max(k.rank for k in Klass):
        params["bound"] = bound
    ahead: int = conn.execute(stmt, params).scalar_one()
    return ahead


_SERVICE_TIMES = (
    select(T.c.called_at, T.c.started_at, T.c.finished_at)
    .where(
        T.c.hall_id == bindparam("hall"),
        T.c.day == bindparam("day"),
        T.c.service == bindparam("service"),
        or_(T.c.status == Status.DONE.value, T.c.status == Status.TRANSFERRED.value),
        T.c.finished_at.is_not(None),
        T.c.called_at.is_not(None),
    )
    .order_by(T.c.finished_at.desc())
    .limit(50)
)


def service_times_today(conn: Connection, hall_id: str, day: dt.date, service: str) -> list[float]:
    params = {"hall": hall_id, "day": day, "service": service}
    rows = conn.execute(_SERVICE_TIMES, params).all()
    return [((f - (s or c)).total_seconds()) for c, s, f in rows if f >= (s or c)]


_COUNTER_STATES = select(t.counters.c.id, t.counters.c.state).where(
    t.counters.c.hall_id == bindparam("hall")
)


def open_counters_for(conn: Connection, config: HallConfig, service: str) -> int:
    states = {c: s for c, s in conn.execute(_COUNTER_STATES, {"hall": config.hall_id})}
    return sum(1 for c in config.counters if service in c.services and states.get(c.id) == "open")


@dataclass(frozen=True)
class Outlook:
    """What a wait is estimated from, for one service now: today's mean service time
    (the configured default until a few are observed), its variation, the open counters."""

    avg_service_s: float
    cv: float
    open_counters: int

    def estimate_s(self, ahead: int) -> int:
        return estimated_wait_s(ahead, self.avg_service_s, self.open_counters)

    def range_s(self, ahead: int, level: float) -> tuple[int, int]:
        """The range printed for a ticket with ``ahead`` before it (``[cockpit].range_level``)."""
        return wait_range_s(ahead, self.avg_service_s, self.open_counters, level, self.cv)


def outlook(conn: Connection, config: HallConfig, day: dt.date, service: str) -> Outlook:
    """One read of the day's service times and the counters' states, shared by the
    estimate and the printed range (each ticket answer needs both)."""
    svc = config.service(service)
    default = svc.avg_service_s if svc else 300.0
    observed = service_times_today(conn, config.hall_id, day, service)
    return Outlook(
        average_service_s(observed, default),
        service_cv(observed),
        open_counters_for(conn, config, service),
    )


def estimate_for(
    conn: Connection, config: HallConfig, day: dt.date, service: str, ahead: int
) -> int:
    """Seconds of wait for ``ahead`` people: today's observed service times of ``service``
    shared among its open counters."""
    return outlook(conn, config, day, service).estimate_s(ahead)

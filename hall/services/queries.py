"""Read queries shared by the services: waiting counts, people ahead, service times.

The policy's order is evaluated in SQL with the same rule as ``hall.domain.policy`` (a
property test checks the two agree), so nothing here loads a whole queue into memory.
Hot statements are built once with bind parameters: building SQLAlchemy expressions per
request cost more than running them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from sqlalchemy import Connection, Integer, and_, bindparam, case, func, or_, select

from hall.config import HallConfig
from hall.domain.estimate import average_service_s, estimated_wait_s
from hall.domain.tickets import Klass, Status
from hall.storage import tables as t

T = t.tickets
WAITING = Status.WAITING.value
RANK_SQL = case(
    (T.c.klass == Klass.APPOINTMENT.value, Klass.APPOINTMENT.rank),
    (T.c.klass == Klass.PRIORITY.value, Klass.PRIORITY.rank),
    else_=Klass.NORMAL.rank,
)

_WAITING_COUNTS = (
    select(T.c.service, func.count())
    .where(T.c.hall_id == bindparam("hall"), T.c.status == WAITING)
    .group_by(T.c.service)
)
_WAITING_IN = (
    select(T.c.service, func.count())
    .where(
        T.c.hall_id == bindparam("hall"),
        T.c.status == WAITING,
        T.c.service.in_(bindparam("services", expanding=True)),
    )
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
        return dict(conn.execute(_WAITING_COUNTS, {"hall": hall_id}).all())
    wanted = sorted(set(services))
    if len(wanted) == 1:  # the common case (one ticket event): no expanding IN to build
        n = conn.execute(_WAITING_ONE, {"hall": hall_id, "service": wanted[0]}).scalar_one()
        return {wanted[0]: n}
    found = dict(conn.execute(_WAITING_IN, {"hall": hall_id, "services": wanted}).all())
    return {s: found.get(s, 0) for s in wanted}


def _ahead_statement(pinned: bool, aged: bool) -> Any:
    same_queue = [
        T.c.hall_id == bindparam("hall"),
        T.c.status == WAITING,
        T.c.service == bindparam("service"),
        T.c.id != bindparam("id"),
        T.c.pinned_counter == bindparam("pinned") if pinned else T.c.pinned_counter.is_(None),
    ]
    earlier = or_(
        T.c.queue_time < bindparam("qt"),
        and_(T.c.queue_time == bindparam("qt"), T.c.id < bindparam("id")),
    )
    if aged:  # an aged ticket is overtaken only by older (also aged) tickets
        cond = earlier
    else:
        rank = bindparam("rank", type_=Integer)
        cond = or_(
            T.c.queue_time <= bindparam("bound"),
            and_(
                T.c.queue_time > bindparam("bound"),
                or_(rank > RANK_SQL, and_(rank == RANK_SQL, earlier)),
            ),
        )
    return select(func.count()).where(*same_queue, cond)


_AHEAD = {(p, a): _ahead_statement(p, a) for p in (False, True) for a in (False, True)}


def waiting_ahead(
    conn: Connection, hall_id: str, row: Any, now: dt.datetime, aging_bound_s: float
) -> int:
    """Tickets of the same queue that the policy calls before ``row`` (a waiting ticket)."""
    if row.status != WAITING:
        return 0
    bound = now - dt.timedelta(seconds=aging_bound_s)
    aged = row.queue_time <= bound
    stmt = _AHEAD[(row.pinned_counter is not None, aged)]
    params = {
        "hall": hall_id,
        "service": row.service,
        "id": row.id,
        "qt": row.queue_time,
        "bound": bound,
        "rank": Klass(row.klass).rank,
        "pinned": row.pinned_counter,
    }
    return conn.execute(stmt, params).scalar_one()


_SERVICE_TIMES = (
    select(T.c.called_at, T.c.started_at, T.c.finished_at)
    .where(
        T.c.hall_id == bindparam("hall"),
        T.c.day == bindparam("day"),
        T.c.service == bindparam("service"),
        T.c.status.in_([Status.DONE.value, Status.TRANSFERRED.value]),
        T.c.finished_at.is_not(None),
        T.c.called_at.is_not(None),
    )
    .order_by(T.c.finished_at.desc())
    .limit(50)
)


def service_times_today(conn: Connection, hall_id: str, day: dt.date, service: str) -> list[float]:
    rows = conn.execute(_SERVICE_TIMES, {"hall": hall_id, "day": day, "service": service}).all()
    return [((f - (s or c)).total_seconds()) for c, s, f in rows if f >= (s or c)]


_COUNTER_STATES = select(t.counters.c.id, t.counters.c.state).where(
    t.counters.c.hall_id == bindparam("hall")
)


def open_counters_for(conn: Connection, config: HallConfig, service: str) -> int:
    states = dict(conn.execute(_COUNTER_STATES, {"hall": config.hall_id}).all())
    return sum(1 for c in config.counters if service in c.services and states.get(c.id) == "open")


def estimate_for(
    conn: Connection,
    config: HallConfig,
    day: dt.date,
    service: str,
    ahead: int,
    cache: dict[tuple[dt.date, str], tuple[float, int]] | None = None,
) -> int:
    """Seconds of wait for ``ahead`` people. ``cache`` (per hall context, cleared whenever a
    service ends or a counter opens, pauses or closes) holds (average service time, open
    counters) so issuing a ticket does not re-read both every time."""
    key = (day, service)
    cached = cache.get(key) if cache is not None else None
    if cached is None:
        svc = config.service(service)
        default = svc.avg_service_s if svc else 300.0
        avg = average_service_s(service_times_today(conn, config.hall_id, day, service), default)
        cached = (avg, open_counters_for(conn, config, service))
        if cache is not None:
            cache[key] = cached
    return estimated_wait_s(ahead, *cached)

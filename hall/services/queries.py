"""Read queries shared by the services: waiting counts, people ahead, service times.

The policy's order is evaluated in SQL with the same rule as ``hall.domain.policy`` (a
property test checks the two agree), so nothing here loads a whole queue into memory.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Connection, and_, case, func, or_, select

from hall.config import HallConfig
from hall.domain.estimate import average_service_s, estimated_wait_s
from hall.domain.tickets import Klass, Status
from hall.storage import tables as t

T = t.tickets
RANK_SQL = case(
    (T.c.klass == Klass.APPOINTMENT.value, Klass.APPOINTMENT.rank),
    (T.c.klass == Klass.PRIORITY.value, Klass.PRIORITY.rank),
    else_=Klass.NORMAL.rank,
)


def waiting_counts(conn: Connection, hall_id: str) -> dict[str, int]:
    rows = conn.execute(
        select(T.c.service, func.count()).where(T.c.hall_id == hall_id,
                                                T.c.status == Status.WAITING.value)
        .group_by(T.c.service)
    ).all()
    return {service: n for service, n in rows}


def waiting_ahead(conn: Connection, hall_id: str, row: Any, now: dt.datetime,
                  aging_bound_s: float) -> int:
    """Tickets of the same queue that the policy calls before ``row`` (a waiting ticket)."""
    if row.status != Status.WAITING.value:
        return 0
    bound = now - dt.timedelta(seconds=aging_bound_s)
    same_queue = [T.c.hall_id == hall_id, T.c.status == Status.WAITING.value,
                  T.c.service == row.service, T.c.id != row.id]
    same_queue.append(T.c.pinned_counter.is_(None) if row.pinned_counter is None
                      else T.c.pinned_counter == row.pinned_counter)
    earlier = or_(T.c.queue_time < row.queue_time,
                  and_(T.c.queue_time == row.queue_time, T.c.id < row.id))
    rank = Klass(row.klass).rank
    if row.queue_time <= bound:  # aged: only older (also aged) tickets come first
        cond = earlier
    else:
        cond = or_(
            T.c.queue_time <= bound,
            and_(T.c.queue_time > bound,
                 or_(RANK_SQL < rank, and_(RANK_SQL == rank, earlier))),  # noqa: SIM300
        )
    return conn.execute(select(func.count()).where(*same_queue, cond)).scalar_one()


def service_times_today(conn: Connection, hall_id: str, day: dt.date, service: str
                        ) -> list[float]:
    rows = conn.execute(
        select(T.c.called_at, T.c.started_at, T.c.finished_at).where(
            T.c.hall_id == hall_id, T.c.day == day, T.c.service == service,
            T.c.status.in_([Status.DONE.value, Status.TRANSFERRED.value]),
            T.c.finished_at.is_not(None), T.c.called_at.is_not(None),
        ).order_by(T.c.finished_at.desc()).limit(50)
    ).all()
    return [((f - (s or c)).total_seconds()) for c, s, f in rows if f >= (s or c)]


def open_counters_for(conn: Connection, config: HallConfig, service: str) -> int:
    states = dict(conn.execute(
        select(t.counters.c.id, t.counters.c.state).where(t.counters.c.hall_id == config.hall_id)
    ).all())
    return sum(1 for c in config.counters
               if service in c.services and states.get(c.id) == "open")


def estimate_for(conn: Connection, config: HallConfig, day: dt.date, service: str,
                 ahead: int) -> int:
    svc = config.service(service)
    default = svc.avg_service_s if svc else 300.0
    avg = average_service_s(service_times_today(conn, config.hall_id, day, service), default)
    return estimated_wait_s(ahead, avg, open_counters_for(conn, config, service))

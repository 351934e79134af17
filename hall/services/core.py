"""The hall's service context: config, database, clock, event bus and the write path.

Every state change runs in ``ctx.write()``: one transaction that holds the hall's write
lock (a process lock plus ``BEGIN IMMEDIATE`` on SQLite or ``SELECT … FOR UPDATE`` of the
hall row on PostgreSQL, so several server processes on one PostgreSQL stay correct). The
events it records are inserted in the same transaction and published only after the
commit: an answered request is durable, and an event is never seen for a change that was
rolled back.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, func, insert, select
from sqlalchemy.engine import Engine

from hall.config import HallConfig
from hall.domain.tickets import Klass, Status, local_day
from hall.events import Event, EventBus
from hall.storage import tables as t

Clock = Callable[[], dt.datetime]


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass
class Tx:
    conn: Connection
    now: dt.datetime
    events: list[Event] = field(default_factory=list)
    hall_id: str = ""

    def emit(self, type_: str, data: dict[str, Any]) -> None:
        payload = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
        event_id = self.conn.execute(
            insert(t.events).values(hall_id=self.hall_id, type=type_, data=payload,
                                    created_at=self.now).returning(t.events.c.id)
        ).scalar_one()
        self.events.append(Event(event_id, type_, data))


class HallContext:
    def __init__(self, config: HallConfig, engine: Engine, clock: Clock = utc_now,
                 bus: EventBus | None = None) -> None:
        self.config = config
        self.engine = engine
        self.clock = clock
        self.bus = bus or EventBus()
        self.hall_id = config.hall_id
        self._lock = threading.RLock()
        self._pg = engine.dialect.name == "postgresql"

    # -- time ------------------------------------------------------------------------
    def now(self) -> dt.datetime:
        now = self.clock()
        if now.tzinfo is None:
            raise ValueError("clock must return aware datetimes")
        return now

    def today(self, now: dt.datetime | None = None) -> dt.date:
        return local_day(now or self.now(), self.config.tz)

    def local(self, moment: dt.datetime) -> dt.datetime:
        return moment.astimezone(self.config.tz)

    # -- transactions ----------------------------------------------------------------
    @contextmanager
    def write(self) -> Iterator[Tx]:
        with self._lock, self.engine.begin() as conn:
            if self._pg:
                conn.execute(select(t.halls.c.id).where(t.halls.c.id == self.hall_id)
                             .with_for_update())
            tx = Tx(conn, self.now(), hall_id=self.hall_id)
            yield tx
        # Only reached after a successful commit.
        self.bus.publish(tx.events)

    @contextmanager
    def read(self) -> Iterator[Connection]:
        with self.engine.connect() as conn:
            conn = conn.execution_options(readonly=True)
            with conn.begin():
                yield conn

    # -- start-up --------------------------------------------------------------------
    def ensure_rows(self) -> None:
        """The hall row and one row per configured counter (state ``closed``)."""
        with self.write() as tx:
            c = tx.conn
            if c.execute(select(t.halls.c.id).where(t.halls.c.id == self.hall_id)).first() is None:
                c.execute(insert(t.halls).values(id=self.hall_id, name=self.config.name,
                                                 created_at=tx.now))
            known = set(c.execute(select(t.counters.c.id)
                                  .where(t.counters.c.hall_id == self.hall_id)).scalars())
            for counter in self.config.counters:
                if counter.id not in known:
                    c.execute(insert(t.counters).values(hall_id=self.hall_id, id=counter.id,
                                                        state="closed", since=tx.now))

    def last_event_id(self) -> int:
        with self.read() as conn:
            return conn.execute(select(func.coalesce(func.max(t.events.c.id), 0))
                                .where(t.events.c.hall_id == self.hall_id)).scalar_one()


RANK = {k.value: k.rank for k in Klass}
WAITING = Status.WAITING.value

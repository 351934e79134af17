"""The hall's service context: config, database, clock, event bus and the write path.

Every state change runs in ``ctx.write()``: one transaction under the hall's write lock —
a process lock, plus ``BEGIN IMMEDIATE`` on SQLite or ``SELECT … FOR UPDATE`` of the hall
row on PostgreSQL, so several server processes on one database stay correct. The events
it records are inserted in the same transaction and published after the commit, still
under the lock, so subscribers see them in commit order; an answered request is durable,
and no event is ever seen for a change that was rolled back.

Every wait is bounded by ``[server].storage_timeout_s``: the lock, the pool, the database
call (``hall.storage.deadline``). A stalled or failing database is ``StorageUnavailable``
(503), never a hung request or a 500.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import math
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import psycopg
from sqlalchemy import Connection, func, insert, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError, IntegrityError, SQLAlchemyError

from hall.config import HallConfig
from hall.domain.tickets import local_day
from hall.errors import StorageUnavailable
from hall.events import Event, EventBus
from hall.services import closing
from hall.storage import tables as t
from hall.storage.deadline import Watchdog, abort_for
from hall.storage.engine import deadline as engine_deadline

log = logging.getLogger("hall.storage")

Clock = Callable[[], dt.datetime]


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass
class Tx:
    """One state change in progress: its connection, its moment, the events it records."""

    conn: Connection
    now: dt.datetime
    hall_id: str
    events: list[Event] = field(default_factory=list)

    def emit(self, type_: str, data: dict[str, Any]) -> None:
        payload = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
        params = {"hall_id": self.hall_id, "type": type_, "data": payload, "created_at": self.now}
        event_id = self.conn.execute(_INSERT_EVENT, params).scalar_one()
        self.events.append(Event(event_id, type_, data, payload))


# Statements run on every change are built once: SQLAlchemy then reuses their compiled
# form (building one per call cost more than running it).
_INSERT_EVENT = insert(t.events).returning(t.events.c.id)
_LOCK_HALL = "SELECT id FROM halls WHERE id = %s FOR UPDATE"


class HallContext:
    def __init__(
        self,
        config: HallConfig,
        engine: Engine,
        clock: Clock = utc_now,
        bus: EventBus | None = None,
    ) -> None:
        self.config = config
        self.engine = engine
        self.clock = clock
        self.bus = bus or EventBus()
        self.hall_id = config.hall_id
        self.timeout_s = config.server.storage_timeout_s
        self._lock = threading.Lock()
        self._pg = engine.dialect.name == "postgresql"
        self._watchdog = Watchdog()
        # The day's closing (hall.services.closing): the next instant it may have work,
        # and the latest business day seen (the day never goes back with the clock).
        self._check_close_at: dt.datetime | None = None
        self._floor: dt.date | None = None
        self._open_day: dt.date | None = None

    # -- time ------------------------------------------------------------------------
    def now(self) -> dt.datetime:
        now = self.clock()
        if now.tzinfo is None:
            raise ValueError("clock must return aware datetimes")
        return now

    def today(self, now: dt.datetime | None = None) -> dt.date:
        """The business day at ``now``: its local date, but never a day before the latest
        one the hall has opened (a clock stepping back does not reopen a closed day)."""
        day = local_day(now or self.now(), self.config.tz)
        return max(day, self._floor) if self._floor else day

    def day_of(self, moment: dt.datetime) -> dt.date:
        """The local calendar date of an instant (an offline ticket's issue time)."""
        return local_day(moment, self.config.tz)

    def local(self, moment: dt.datetime) -> dt.datetime:
        return moment.astimezone(self.config.tz)

    # -- transactions ----------------------------------------------------------------
    @contextmanager
    def write(self) -> Iterator[Tx]:
        """One state change: commit when the body returns, roll back when it raises."""
        deadline = time.monotonic() + self.timeout_s
        if not self._lock.acquire(timeout=self.timeout_s):  # another change holds it
            raise self._unavailable(None)
        try:
            with self._connection(deadline, readonly=False) as conn:
                if self._pg:
                    self._lock_hall(conn)
                tx = Tx(conn, self.now(), self.hall_id)
                self._close_due(tx)
                yield tx
                conn.commit()
            self.bus.publish(tx.events)
        finally:
            self._lock.release()

    def _lock_hall(self, conn: Connection) -> None:
        """The hall row's lock on PostgreSQL, which every change of this hall in any
        process takes first. psycopg would send its BEGIN and wait for it before the
        SELECT; its pipeline mode sends both at once. Every round trip under the write
        lock counts: at 50 tickets/s with 30 counters the lock is held most of the time
        on PostgreSQL (bench/hall_load.py)."""
        raw = conn.connection.dbapi_connection
        try:
            with raw.pipeline():  # type: ignore[union-attr]
                raw.execute(_LOCK_HALL, (self.hall_id,))  # type: ignore[union-attr]
        except psycopg.Error as err:  # the driver's own error: SQLAlchemy did not run it
            conn.invalidate()
            raise self._unavailable(err) from err

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A read-only transaction (never waits for the write lock, except once a day when
        the day's closing is due: then the closing's change commits first)."""
        if self._closing_due(self.now()):
            with self.write():
                pass
        with self._connection(time.monotonic() + self.timeout_s, readonly=True) as conn:
            yield conn

    @contextmanager
    def _connection(self, deadline: float, *, readonly: bool) -> Iterator[Connection]:
        """A connection in a transaction, every call on it bounded by ``deadline``; any
        storage failure leaves as ``StorageUnavailable`` (the transaction rolled back)."""
        if deadline <= time.monotonic():  # the wait for the write lock took it all
            raise self._unavailable(None)
        try:
            with engine_deadline(deadline), self.engine.connect() as conn:
                if readonly:
                    conn = conn.execution_options(readonly=True)
                raw = conn.connection.dbapi_connection
                # SQLite waits for a lock another process holds up to the connection's
                # timeout (the full storage timeout); after a wait for the write lock
                # here, only what is left of the deadline.
                left = deadline - time.monotonic()
                shortened = not self._pg and left < self.timeout_s - 0.05
                if shortened:
                    raw.execute(f"PRAGMA busy_timeout={max(1, int(left * 1000))}")  # type: ignore[union-attr]
                try:
                    with self._watchdog.guard(deadline, abort_for(raw)):
                        conn.begin()
                        yield conn
                finally:
                    if shortened:
                        self._restore_busy_timeout(conn, raw)
        except (DBAPIError, SQLAlchemyError) as err:
            raise self._unavailable(err) from err

    def _restore_busy_timeout(self, conn: Connection, raw: Any) -> None:
        # After the commit: a failure here must not turn a committed change into an error.
        try:
            raw.execute(f"PRAGMA busy_timeout={int(self.timeout_s * 1000)}")
        except Exception:  # the connection is not reused with a short wait
            conn.invalidate()

    def _unavailable(self, err: BaseException | None) -> StorageUnavailable:
        # The cause for the operator; never the statement's parameters (personal data).
        log.error("storage unavailable: %s", type(err).__name__ if err else "write lock busy")
        orig = getattr(err, "orig", None)
        if orig is not None:
            log.error("storage error: %s", (str(orig).splitlines() or [""])[0][:200])
        return StorageUnavailable(max(1, math.ceil(self.timeout_s)))

    # -- the day's closing -----------------------------------------------------------
    def _closing_due(self, now: dt.datetime) -> bool:
        return self._check_close_at is None or now >= self._check_close_at

    def _close_due(self, tx: Tx) -> None:
        if not self._closing_due(tx.now):
            return
        latest = closing.latest_day(tx.conn, self.hall_id)
        self._floor = max(d for d in (latest, self._floor, self.day_of(tx.now)) if d)
        day = self.today(tx.now)
        expired = closing.close_due(tx.conn, self.config, tx.now, day, tx.emit)
        missed = closing.mark_no_shows(tx.conn, self.config, tx.now, tx.emit)
        if missed:
            log.info("bookings: %d no-show(s) written down", missed)
        previous, self._open_day = self._open_day, day
        if expired or (previous is not None and day > previous):
            log.info("day closed: %d open ticket(s) expired", len(expired))
            closing.announce(tx.conn, self.config, previous or day, len(expired), tx.emit)
        self._check_close_at = closing.next_check(self.config, tx.now, day)

    # -- start-up --------------------------------------------------------------------
    def ensure_rows(self) -> None:
        """The hall row and one row per configured counter (state ``closed``). The hall
        row first, in a transaction of its own: on PostgreSQL ``write()`` locks it."""
        with self.read() as conn:
            known_hall = conn.execute(
                select(t.halls.c.id).where(t.halls.c.id == self.hall_id)
            ).first()
        if known_hall is None:
            try:
                with self.engine.begin() as conn:
                    conn.execute(
                        insert(t.halls).values(
                            id=self.hall_id, name=self.config.name, created_at=self.now()
                        )
                    )
            except IntegrityError:  # another server process of this hall was first
                pass
        with self.write() as tx:
            known = set(
                tx.conn.execute(
                    select(t.counters.c.id).where(t.counters.c.hall_id == self.hall_id)
                ).scalars()
            )
            for counter in self.config.counters:
                if counter.id not in known:
                    tx.conn.execute(
                        insert(t.counters).values(
                            hall_id=self.hall_id, id=counter.id, state="closed", since=tx.now
                        )
                    )

    def last_event_id(self) -> int:
        with self.read() as conn:
            last: int = conn.execute(
                select(func.coalesce(func.max(t.events.c.id), 0)).where(
                    t.events.c.hall_id == self.hall_id
                )
            ).scalar_one()
            return last

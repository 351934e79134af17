"""The hall's service context: config, database, clock, event bus and the write path.

Every state change runs in ``ctx.write()``: one transaction that holds the hall's write
lock (a process lock plus ``BEGIN IMMEDIATE`` on SQLite or ``SELECT … FOR UPDATE`` of the
hall row on PostgreSQL, so several server processes on one PostgreSQL stay correct). The
events it records are inserted in the same transaction and published only after the
commit: an answered request is durable, and an event is never seen for a change that was
rolled back.

The API's changes run on the writer (``submit``): a thread here, or in ``govhall hall``
a process of its own (``hall.services.writer_process``) running the same ``run_jobs``.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import datetime as dt
import functools
import json
import queue
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, func, insert, select
from sqlalchemy.engine import Engine
from starlette.concurrency import run_in_threadpool

from hall.config import HallConfig
from hall.domain.tickets import local_day
from hall.events import Event, EventBus
from hall.storage import prepared
from hall.storage import tables as t
from hall.storage.prepared import Result

if TYPE_CHECKING:
    from hall.services.writer_process import WriterLink

Clock = Callable[[], dt.datetime]


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass
class Tx:
    conn: Connection
    now: dt.datetime
    events: list[Event] = field(default_factory=list)
    hall_id: str = ""
    estimates_changed: bool = False
    """Set when open counters changed: the whole estimate cache is cleared after the
    commit (not before, or a concurrent read could refill it with old data)."""
    services_finished: set[str] = field(default_factory=set)
    """Services whose observed service times changed: their cached estimates go."""

    def run(self, statement: Any, params: dict[str, Any] | None = None) -> Result:
        """A prebuilt hot statement, prepared once (hall.storage.prepared)."""
        return prepared.run(self.conn, statement, params)

    def emit(self, type_: str, data: dict[str, Any]) -> None:
        payload = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
        event_id = self.run(
            _INSERT_EVENT,
            {
                "hall_id": self.hall_id,
                "type": type_,
                "data": payload,
                "created_at": self.now,
            },
        ).scalar_one()
        self.events.append(Event(event_id, type_, data, payload))


_INSERT_EVENT = insert(t.events).returning(t.events.c.id)
MAX_BATCH_AGE_S = 0.004
"""A batch older than this commits even if more writers wait: its first caller is waiting
for the commit, and an fsync costs about a millisecond, so there is nothing to gain."""


class _Batch:
    def __init__(self, conn: Connection, trans: Any) -> None:
        self.conn, self.trans = conn, trans
        self.opened = time.monotonic()
        self.events: list[Event] = []
        self.size = 0
        self.failed_first = False
        self.estimates_changed = False
        self.services_finished: set[str] = set()
        self.done = threading.Event()
        self.error: BaseException | None = None


Replier = Callable[[list[tuple[Any, bool, Any]]], None]
"""Answers (key, ok, value) for changes the writer ran, to whoever asked: the event loop
of an in-process request, or the front process over its socket (writer_process)."""
_Done = tuple["_Batch | None", Replier, Any, bool, Any]
"""A change the writer ran: its batch (None if it wrote nothing), where to answer (the
replier and the key it knows the request by), outcome."""
STOP = object()
"""The job that ends the writer loop: what is queued before it runs and is answered."""


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
        self._lock = threading.Lock()
        self._waiting_lock = threading.Lock()
        self._waiting = 0
        self._batch: _Batch | None = None
        self._pg = engine.dialect.name == "postgresql"
        self._estimates: dict[Any, Any] = {}
        self._jobs: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._more_jobs: Callable[[], bool] = self._queued
        self._replier: tuple[asyncio.AbstractEventLoop | None, Replier | None] = (None, None)
        self._writer: threading.Thread | None = None
        self._writer_ident: int | None = None
        self._writer_running = False
        self._job_batch: _Batch | None = None
        self._estimates_at = dt.datetime.min.replace(tzinfo=dt.UTC)
        self.writer_link: WriterLink | None = None
        """The writer process's link (``hall.services.writer_process``) in the server's
        front process: state changes go there, this process only reads."""
        self.on_commit: Callable[[list[Event], bool, set[str]], None] | None = None
        """Called after each commit with its events and what it changed of the estimates;
        the writer process tells the front with it. Default: publish here."""

    def estimate_cache(self) -> dict[Any, Any]:
        """Cached inputs of the wait estimate; refreshed at least every 15 s so another
        server process's changes (PostgreSQL deployments) show up soon."""
        now = self.now()
        if (now - self._estimates_at).total_seconds() > 15 or now < self._estimates_at:
            self._estimates = {}
            self._estimates_at = now
        return self._estimates

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

    # -- the writer ---------------------------------------------------------------------
    def start_writer(self) -> None:
        """Start the thread the API runs its changes on (``submit``)."""
        if self._writer is None:
            self._writer = threading.Thread(target=self._writer_loop, name="hall-writer")
            self._writer.daemon = True
            self._writer_running = True
            self._writer.start()

    def stop_writer(self) -> None:
        if self.writer_link is not None:
            self.writer_link.close()
        if self._writer is not None:
            self._writer_running = False  # new requests to the pool; queued ones run first
            self._jobs.put(STOP)
            self._writer.join(10)
            self._writer = None

    async def submit(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Run ``fn`` (a service call holding one ``write()``) on the writer; the answer
        comes after the commit that holds its change. One queue and one thread in place of
        a thread-pool hop per request: the hop, not the work, was what the request path
        spent most on in issue 2's benchmark. In ``govhall hall`` the writer is a process
        of its own (``writer_link``); without a running writer (tests driving the app
        without its lifespan) it runs in the thread pool."""
        if self.writer_link is not None:
            return await self.writer_link.submit(fn, args, kwargs)
        if not self._writer_running:
            return await run_in_threadpool(fn, *args, **kwargs)
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        known, replier = self._replier  # one per loop, so a batch's answers share a wake-up
        if known is not loop or replier is None:
            replier = functools.partial(_call_soon, loop)
            self._replier = (loop, replier)
        self._jobs.put((functools.partial(fn, *args, **kwargs), replier, future))
        return await future

    def run(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """``fn(*args, **kwargs)`` for a caller on a plain thread (staff pages' handlers):
        here, or in the writer process when there is one, waiting for its answer. A state
        change with events must come this way: only the writer publishes events, so
        subscribers see them in commit order."""
        if self.writer_link is not None:
            return self.writer_link.call(fn, args, kwargs)
        return fn(*args, **kwargs)

    def _writer_loop(self) -> None:
        try:
            self.run_jobs(self._jobs.get, self._queued)
        finally:  # whatever stopped it, requests go to the thread pool from now on
            self._writer_running = False

    def _queued(self) -> bool:
        return not self._jobs.empty()

    def run_jobs(self, next_job: Callable[[], Any], more: Callable[[], bool]) -> None:
        """The writer: run each job ``(call, replier, key)`` from ``next_job`` until
        ``STOP``, group-committing them; ``more`` says whether another job is waiting
        (then the batch stays open for it while young)."""
        self._writer_ident = threading.get_ident()
        self._more_jobs = more
        pending: list[_Done] = []
        while True:
            job = next_job()
            if job is STOP:
                self._flush()
                _answer_committed(pending)
                return
            call, replier, key = job
            self._job_batch = None
            try:
                value, ok = call(), True
            except BaseException as err:  # handed to the request, as the pool would
                value, ok = err, False
            pending.append((self._job_batch, replier, key, ok, value))
            batch = self._batch
            if not more() or (batch is not None and self._old(batch)):
                self._flush()
            pending = _answer_committed(pending)

    @staticmethod
    def _old(batch: _Batch) -> bool:
        return time.monotonic() - batch.opened >= MAX_BATCH_AGE_S

    def _flush(self) -> None:
        """Commit the writer's open batch: no more changes are queued for it, or it is old.
        Forced: a thread that joined it waits for whoever commits, and with jobs queued
        that would be this thread, which must not leave it open for a later turn."""
        with self._lock:
            if self._batch is not None:
                self._commit_if_last(self._batch, force=True)

    # -- transactions ----------------------------------------------------------------
    @contextmanager
    def write(self) -> Iterator[Tx]:
        """One state change. Changes that arrive while another is being written share its
        transaction (group commit): each runs in its own SAVEPOINT, so a refused change
        rolls back alone, and one commit (one fsync) makes the whole batch durable. The
        caller is answered only after the commit that holds its change: a thread here
        waits for it; the writer thread goes on to the next queued change and answers
        its callers once the batch is committed."""
        writer = threading.get_ident() == self._writer_ident
        with self._waiting_lock:
            self._waiting += 1
        self._lock.acquire()
        with self._waiting_lock:
            self._waiting -= 1
        try:
            batch = self._batch or self._open_batch()
            # The first change of a batch needs no SAVEPOINT: if it fails, the batch holds
            # nothing else and is rolled back whole.
            savepoint = batch.size > 0
            if savepoint:  # plain SQL: begin_nested() compiled and cache-keyed every time
                batch.conn.exec_driver_sql("SAVEPOINT govhall_change")
            tx = Tx(batch.conn, self.now(), hall_id=self.hall_id)
            try:
                yield tx
                if tx.events and self.writer_link is not None:
                    # Only the writer publishes, so subscribers see events in commit order.
                    raise RuntimeError(
                        "a state change with events ran in the front process; it belongs "
                        "in the writer process (ctx.run or ctx.submit)"
                    )
            except BaseException:
                if savepoint:
                    batch.conn.exec_driver_sql("ROLLBACK TO SAVEPOINT govhall_change")
                else:
                    batch.failed_first = True
                self._commit_if_last(batch)
                raise
            if savepoint:
                batch.conn.exec_driver_sql("RELEASE SAVEPOINT govhall_change")
            batch.events.extend(tx.events)
            batch.size += 1
            batch.estimates_changed |= tx.estimates_changed
            batch.services_finished |= tx.services_finished
            if writer:
                self._job_batch = batch
            self._commit_if_last(batch)
        finally:
            self._lock.release()
        if writer:
            return
        batch.done.wait()
        if batch.error is not None:
            raise batch.error

    def _open_batch(self) -> _Batch:
        conn = self.engine.connect()
        try:
            trans = conn.begin()
            if self._pg:
                conn.execute(
                    select(t.halls.c.id).where(t.halls.c.id == self.hall_id).with_for_update()
                )
        except BaseException:
            conn.close()
            raise
        self._batch = _Batch(conn, trans)
        return self._batch

    def _commit_if_last(self, batch: _Batch, *, force: bool = False) -> None:
        """Commit unless another writer is already queued to join this batch, while the
        batch is young (so a steady stream of writers cannot delay a commit forever).
        ``force``: the writer thread, which would be the one to come back, commits now."""
        with self._waiting_lock:
            others = self._waiting or self._more_jobs()
        if not force and others and not batch.failed_first and not self._old(batch):
            return
        self._batch = None
        try:
            if batch.size and not batch.failed_first:
                batch.trans.commit()
            else:
                batch.trans.rollback()
        except BaseException as err:
            batch.error = err
        finally:
            batch.conn.close()
        if batch.error is None:
            self.forget_estimates(batch.estimates_changed, batch.services_finished)
            if self.on_commit is not None:
                self.on_commit(batch.events, batch.estimates_changed, batch.services_finished)
            else:
                self.bus.publish(batch.events)
        batch.done.set()

    def forget_estimates(self, every: bool, services: set[str]) -> None:
        """Drop cached estimate inputs a commit made stale: all (open counters changed) or
        those of services whose observed service times changed."""
        if every:
            self._estimates = {}
        elif services:
            # list() in one step: readers on other threads may add entries meanwhile
            for key in [k for k in list(self._estimates) if k[1] in services]:
                self._estimates.pop(key, None)

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
                c.execute(
                    insert(t.halls).values(
                        id=self.hall_id, name=self.config.name, created_at=tx.now
                    )
                )
            known = set(
                c.execute(
                    select(t.counters.c.id).where(t.counters.c.hall_id == self.hall_id)
                ).scalars()
            )
            for counter in self.config.counters:
                if counter.id not in known:
                    c.execute(
                        insert(t.counters).values(
                            hall_id=self.hall_id, id=counter.id, state="closed", since=tx.now
                        )
                    )

    def last_event_id(self) -> int:
        with self.read() as conn:
            return conn.execute(
                select(func.coalesce(func.max(t.events.c.id), 0)).where(
                    t.events.c.hall_id == self.hall_id
                )
            ).scalar_one()


def _answer_committed(pending: list[_Done]) -> list[_Done]:
    """Answer every change whose batch has committed (or that wrote nothing); return the
    rest. Under a steady stream batches commit by age while the queue never empties, so
    this runs after every change, not only when the queue is drained."""
    ready: dict[Replier, list[tuple[Any, bool, Any]]] = {}
    rest: list[_Done] = []
    for d in pending:  # one look at each: a batch may commit (another thread) meanwhile
        batch, replier, key, ok, value = d
        if batch is not None and not batch.done.is_set():
            rest.append(d)
            continue
        if ok and batch is not None and batch.error is not None:
            ok, value = False, batch.error  # its batch failed to commit
        ready.setdefault(replier, []).append((key, ok, value))
    for replier, items in ready.items():
        replier(items)
    return rest


def _call_soon(loop: asyncio.AbstractEventLoop, items: list[tuple[Any, bool, Any]]) -> None:
    """The in-process replier: resolve the requests' futures on their event loop."""
    # RuntimeError: that loop has closed, nobody is waiting for these answers
    with contextlib.suppress(RuntimeError):
        loop.call_soon_threadsafe(_resolve, items)


def _resolve(items: list[tuple[asyncio.Future[Any], bool, Any]]) -> None:
    for future, ok, value in items:
        settle(future, ok, value)


def settle(
    future: asyncio.Future[Any] | concurrent.futures.Future[Any], ok: bool, value: Any
) -> None:
    """Hand a change's outcome to whoever waits for it."""
    if future.cancelled():  # the client went away; its change stands
        return
    if ok:
        future.set_result(value)
    else:
        future.set_exception(value)

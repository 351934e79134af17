"""A bound on every database call: a call still running at its deadline is aborted.

A stalled database (a PostgreSQL server that stopped answering, a disk that hangs) must
not hang a request, or the thread serving it, for longer than the configured storage
timeout. Server-side timeouts cannot do this (a stopped server enforces nothing), so one
watchdog thread aborts the call from the client's side: on PostgreSQL it shuts the
connection's socket down (the blocked read returns at once, psycopg raises and SQLAlchemy
discards the connection); on SQLite it interrupts the running statement. Either way the
transaction rolls back and the caller gets a storage error.
"""

from __future__ import annotations

import contextlib
import heapq
import itertools
import logging
import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

log = logging.getLogger("hall.storage")

Abort = Callable[[], None]


def abort_for(dbapi_connection: Any) -> Abort:
    """How to abort a call in progress on this DBAPI connection."""
    if hasattr(dbapi_connection, "interrupt"):  # sqlite3
        return dbapi_connection.interrupt  # type: ignore[no-any-return]
    fileno = dbapi_connection.fileno()  # psycopg

    def shut_down() -> None:
        # A duplicate of the descriptor: shutting it down stops the socket itself (for
        # the thread blocked on it too), and closing the duplicate leaves psycopg's alone.
        with contextlib.suppress(OSError), socket.socket(fileno=os.dup(fileno)) as sock:
            sock.shutdown(socket.SHUT_RDWR)

    return shut_down


class Watchdog:
    """One thread that runs the abort of every guarded call that outlives its deadline."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._heap: list[tuple[float, int]] = []
        self._aborts: dict[int, Abort] = {}
        self._ids = itertools.count()
        self._thread: threading.Thread | None = None

    @contextlib.contextmanager
    def guard(self, deadline: float, abort: Abort) -> Iterator[None]:
        """Run the body; if it is still running at ``deadline`` (``time.monotonic()``),
        call ``abort`` from the watchdog thread."""
        key = next(self._ids)
        with self._cond:
            self._aborts[key] = abort
            # Wake the thread only when it must wait less: it sleeps until the earliest
            # deadline (a finished call's too, popped then). Every transaction notified it
            # before, hundreds of thread switches a second for nothing under load.
            sooner = not self._heap or deadline < self._heap[0][0]
            heapq.heappush(self._heap, (deadline, key))
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="hall-db-watchdog")
                self._thread.daemon = True
                self._thread.start()
            if sooner:
                self._cond.notify()
        try:
            yield
        finally:
            with self._cond:
                self._aborts.pop(key, None)

    def _run(self) -> None:
        while True:
            with self._cond:
                while self._heap and self._heap[0][1] not in self._aborts:
                    heapq.heappop(self._heap)  # finished in time
                if not self._heap:
                    self._cond.wait()
                    continue
                deadline, key = self._heap[0]
                wait = deadline - time.monotonic()
                if wait > 0:
                    self._cond.wait(wait)
                    continue
                heapq.heappop(self._heap)
                abort = self._aborts.pop(key)
            log.warning("storage: a database call passed its deadline and was aborted")
            try:
                abort()
            except Exception:  # the call ends on its own; nothing more to do here
                log.exception("storage: aborting a database call failed")

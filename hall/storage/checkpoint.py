"""Background WAL checkpoints for SQLite.

SQLite copies the write-ahead log back into the database file (a checkpoint, with its own
fsync) in whichever connection commits when the log passes 1000 pages: in the hall that
is the writer thread, so every few seconds one batch of citizens waited for a checkpoint
as well as their own commit (issue 2's p99). A PASSIVE checkpoint from another connection
does the same work without blocking writers or readers; run often, it keeps the log below
the automatic threshold, which stays as the fallback when this thread is not running
(command-line tools, tests without the server's lifespan).
"""

from __future__ import annotations

import logging
import threading

from sqlalchemy.engine import Engine

log = logging.getLogger("hall.storage")


class WalCheckpointer:
    def __init__(self, engine: Engine, interval_s: float = 0.25) -> None:
        self.engine, self.interval_s = engine, interval_s
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.runs = 0

    def start(self) -> None:
        if self.engine.dialect.name != "sqlite" or self._thread is not None:
            return
        self._thread = threading.Thread(target=self._loop, name="hall-wal-checkpoint")
        self._thread.daemon = True
        self._thread.start()

    def stop(self) -> None:
        if self._thread is not None:
            self._stop.set()
            self._thread.join(10)
            self._thread = None

    def checkpoint(self) -> tuple[int, int, int]:
        """(busy, log pages, pages checkpointed), as SQLite reports them."""
        raw = self.engine.raw_connection()
        try:
            cur = raw.cursor()
            row = cur.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
            cur.close()
        finally:
            raw.close()
        self.runs += 1
        return tuple(row)  # type: ignore[return-value]

    def _loop(self) -> None:
        while not self._stop.wait(self.interval_s):
            try:
                self.checkpoint()
            except Exception:  # the automatic checkpoint still runs; try again later
                log.exception("WAL checkpoint failed")

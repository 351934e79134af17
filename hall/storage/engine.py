"""Engine factory: SQLite in WAL mode by default, PostgreSQL when the URL names one.

Built by the app factory, never at import time, so every test gets its own database.
"""

from __future__ import annotations

import contextlib
import math
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.pool import NullPool


def normalise_url(url: str) -> str:
    """``postgresql://`` means psycopg 3 here (psycopg2 is not a dependency)."""
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


_deadline = threading.local()


@contextlib.contextmanager
def deadline(at: float) -> Iterator[None]:
    """Connections opened in this thread meanwhile give up by ``at`` (``time.monotonic()``):
    the pool's time-outs are fixed when the engine is made; a request's deadline is not."""
    _deadline.at = at
    try:
        yield
    finally:
        _deadline.at = None


def remaining_s(default: float) -> float:
    """Seconds left before this thread's deadline (``default`` outside one)."""
    at = getattr(_deadline, "at", None)
    return default if at is None else at - time.monotonic()


def make_engine(
    url: str, *, sqlite_synchronous: str = "FULL", timeout_s: float = 5.0, **kwargs: Any
) -> Engine:
    """``timeout_s`` bounds the waits the driver itself can bound: SQLite's busy wait for a
    lock another process holds, PostgreSQL's connect and lock waits, a pool checkout. The
    pools hold more connections than FastAPI has worker threads (40), so a request never
    waits for a pool slot while the database stalls."""
    url = normalise_url(url)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url,
            # timeout: SQLite's busy wait (a lock held by another process)
            connect_args={"check_same_thread": False, "timeout": timeout_s},
            pool_size=16,
            max_overflow=32,
            pool_timeout=timeout_s,
            **kwargs,
        )

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            # Python's sqlite3 opens transactions lazily; take control so BEGIN IMMEDIATE
            # below is the only transaction start.
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute(f"PRAGMA synchronous={sqlite_synchronous}")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn: Any) -> None:
            # Writers take the lock at BEGIN, so two transactions never both read the
            # queue and then both try to write.
            # Read-only work asks for a deferred BEGIN so it never waits for the write lock.
            deferred = conn.get_execution_options().get("readonly", False)
            conn.exec_driver_sql("BEGIN" if deferred else "BEGIN IMMEDIATE")

        return engine
    # No pool_pre_ping: its ping would run before the service's deadline guard covers the
    # connection, so a stalled server could hang it; a dead connection is discarded when
    # its first statement fails (one 503), and the pool then reconnects.
    ms = int(timeout_s * 1000)
    connect_args = kwargs.setdefault("connect_args", {})
    connect_args.setdefault("options", f"-c lock_timeout={ms}")
    if kwargs.pop("nullpool", False):
        kwargs["poolclass"] = NullPool
    else:
        kwargs.setdefault("pool_size", 10)
        kwargs.setdefault("max_overflow", 50)
        kwargs.setdefault("pool_timeout", timeout_s)
    engine = create_engine(url, **kwargs)

    @event.listens_for(engine, "do_connect")
    def _connect_by_deadline(_d: Any, _r: Any, _args: Any, params: dict[str, Any]) -> None:
        # libpq's connect_timeout is whole seconds, at least 2
        params["connect_timeout"] = max(2, math.ceil(remaining_s(timeout_s)))

    return engine

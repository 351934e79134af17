"""Background WAL checkpoints: the log is copied back into the database file off the
write path, without blocking a writer, and nothing written is lost by it."""

from __future__ import annotations

import time

from sqlalchemy import func, select

from hall.services import tickets
from hall.services.core import HallContext
from hall.storage import tables as t
from hall.storage.checkpoint import WalCheckpointer


def test_checkpoint_empties_the_log_and_keeps_every_row(sqlite_ctx: HallContext) -> None:
    for _ in range(20):
        tickets.issue(sqlite_ctx, tickets.IssueRequest("B"))
    cp = WalCheckpointer(sqlite_ctx.engine)
    busy, log_pages, done = cp.checkpoint()
    assert busy == 0 and log_pages > 0 and done == log_pages
    with sqlite_ctx.read() as conn:
        assert conn.execute(select(func.count()).select_from(t.tickets)).scalar_one() == 20


def test_checkpoint_does_not_wait_for_an_open_write(sqlite_ctx: HallContext) -> None:
    tickets.issue(sqlite_ctx, tickets.IssueRequest("B"))
    cp = WalCheckpointer(sqlite_ctx.engine)
    with sqlite_ctx.write():  # holds the write lock (BEGIN IMMEDIATE) throughout
        start = time.monotonic()
        cp.checkpoint()
        assert time.monotonic() - start < 1  # busy_timeout is 30 s: it did not wait
    tickets.issue(sqlite_ctx, tickets.IssueRequest("B"))  # and writing goes on after


def test_thread_runs_until_stopped(sqlite_ctx: HallContext) -> None:
    cp = WalCheckpointer(sqlite_ctx.engine, interval_s=0.02)
    cp.start()
    deadline = time.monotonic() + 5
    while cp.runs < 3 and time.monotonic() < deadline:
        tickets.issue(sqlite_ctx, tickets.IssueRequest("B"))
    cp.stop()
    assert cp.runs >= 3
    runs = cp.runs
    time.sleep(0.1)
    assert cp.runs == runs

"""Personal data is purged after the retention period; statistics stay."""

from __future__ import annotations

from sqlalchemy import select

from hall.services import counters, evaluations, retention, stats, tickets
from hall.services.context import HallContext
from hall.storage import tables as t
from tests.support.clock import FakeClock
from tests.support.hall import YOUNG


def test_purge_clears_names_and_hashes_after_retention(ctx: HallContext, clock: FakeClock) -> None:
    old, _ = tickets.issue(ctx, tickets.IssueRequest(service="A", id_number=YOUNG, name="李四"))
    counters.call_next(ctx, "1")
    counters.finish(ctx, "1")
    evaluations.evaluate(ctx, old.id, 5, None)
    day_of_old = ctx.today()
    assert retention.purge(ctx) == 0  # nothing is old yet

    clock.advance(31 * 86400)
    recent, _ = tickets.issue(ctx, tickets.IssueRequest(service="A", id_number=YOUNG, name="李四"))
    assert retention.purge(ctx) == 1
    with ctx.read() as conn:
        rows = {r.id: r for r in conn.execute(select(t.tickets)).all()}
    assert (rows[old.id].id_hash, rows[old.id].id_masked, rows[old.id].name_masked) == (
        None,
        None,
        None,
    )
    assert rows[recent.id].id_hash and rows[recent.id].name_masked == "李*"
    # the day's statistics are unchanged by the purge
    s = stats.compute(ctx, day_of_old.isoformat(), day_of_old.isoformat()).total
    assert (s.issued, s.served, s.satisfaction_avg) == (1, 1, 5)

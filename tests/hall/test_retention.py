"""Personal data is purged after the retention period from every table that can hold it
(issue "reliability", item 12: the event log and help requests were missed); the
statistics of the purged days stay as they were."""

from __future__ import annotations

from sqlalchemy import select

from hall.services import counters, evaluations, hallinfo, retention, stats, tickets
from hall.services.context import HallContext
from hall.storage import tables as t
from tests.support.clock import FakeClock
from tests.support.hall import YOUNG


def test_purge_clears_names_and_hashes_after_retention(ctx: HallContext, clock: FakeClock) -> None:
    old, _ = tickets.issue(ctx, tickets.IssueRequest(service="A", id_number=YOUNG, name="李四"))
    counters.call_next(ctx, "1")
    counters.finish(ctx, "1")
    evaluations.evaluate(ctx, old.id, 5, "李四说窗口很好")
    old_help = hallinfo.help_request(ctx, "K1", "李四需要帮助")
    day_of_old = ctx.today()
    assert retention.purge(ctx) == 0  # nothing is old yet

    clock.advance(31 * 86400)
    recent, _ = tickets.issue(ctx, tickets.IssueRequest(service="A", id_number=YOUNG, name="李四"))
    new_help = hallinfo.help_request(ctx, "K1", "需要帮助")
    assert retention.purge(ctx) > 1
    with ctx.read() as conn:
        rows = {r.id: r for r in conn.execute(select(t.tickets)).all()}
        # this test's hall only (on PostgreSQL many tests' halls share the database)
        events = (
            conn.execute(select(t.events.c.data).where(t.events.c.hall_id == ctx.hall_id))
            .scalars()
            .all()
        )
        comments = (
            conn.execute(
                select(t.evaluations.c.comment).where(t.evaluations.c.hall_id == ctx.hall_id)
            )
            .scalars()
            .all()
        )
        helps = (
            conn.execute(
                select(t.help_requests.c.id).where(t.help_requests.c.hall_id == ctx.hall_id)
            )
            .scalars()
            .all()
        )
    # the event log keeps only the recent ticket's events; the old ones named 李*
    assert events and all(str(recent.id) in e for e in events if "ticket" in e)
    assert sum("李*" in e for e in events) == 1  # the recent ticket.issued
    assert comments == [None] and helps == [new_help.id] and old_help.id not in helps
    assert (rows[old.id].id_hash, rows[old.id].id_masked, rows[old.id].name_masked) == (
        None,
        None,
        None,
    )
    assert rows[recent.id].id_hash and rows[recent.id].name_masked == "李*"
    # the day's statistics are unchanged by the purge
    s = stats.compute(ctx, day_of_old.isoformat(), day_of_old.isoformat()).total
    assert (s.issued, s.served, s.satisfaction_avg) == (1, 1, 5)

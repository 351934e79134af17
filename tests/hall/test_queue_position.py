"""People ahead of a new ticket count only those the policy calls first, also with tickets
pinned to a counter and tickets queued with a later queue time in the same service."""

from __future__ import annotations

import datetime as dt

from hall.domain.tickets import Klass
from hall.services import queries, ticket_rows, tickets
from hall.services.context import HallContext
from tests.support.clock import FakeClock


def test_new_ticket_position_with_pinned_and_later_tickets(
    ctx: HallContext, clock: FakeClock
) -> None:
    for _ in range(3):
        tickets.issue(ctx, tickets.IssueRequest("B"))
        clock.advance(5)
    with ctx.write() as tx:
        # returned after a transfer: waits for counter 1 only, not in the common queue
        ticket_rows.insert_ticket(
            ctx,
            tx,
            service="B",
            klass=Klass.NORMAL,
            reason=None,
            queue_time=tx.now,
            number="B900",
            pinned_counter="1",
        )
        # an offline ticket stamped by a kiosk whose clock ran ahead: queued after the next
        ticket_rows.insert_ticket(
            ctx,
            tx,
            service="B",
            klass=Klass.NORMAL,
            reason=None,
            queue_time=tx.now + dt.timedelta(minutes=5),
            number="B901",
        )
    clock.advance(5)
    issued, _ = tickets.issue(ctx, tickets.IssueRequest("B"))
    assert issued.waiting_ahead == 3  # not the pinned one, not the one queued later
    with ctx.read() as conn:
        row = ticket_rows.load(conn, ctx, issued.id)
        n = queries.waiting_counts(conn, ctx.hall_id, ["B"])["B"]
        assert n == 6
        assert queries.waiting_ahead(conn, ctx.hall_id, row, ctx.now(), 1800) == 3

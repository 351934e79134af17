"""Every ticket event carries its services' waiting counts, which a board applies as they
come. A call and a finish read that count in the statement that changes the ticket
(hall.services.counters._leave_queue); this checks, on both databases, that each event's
counts are the queue as it stands after the change — for a call from the queue, a call
of a parked ticket, a call-next that finishes the ticket still at the counter, a finish
and a no-show — and that the counts of other services are never touched."""

from __future__ import annotations

import json

from sqlalchemy import select

from hall.services import counters, queries, tickets
from hall.services.context import HallContext
from hall.storage import tables as t


def events_after(ctx: HallContext, after: int) -> list[tuple[int, str, dict]]:
    E = t.events
    with ctx.engine.connect() as conn:
        rows = conn.execute(
            select(E.c.id, E.c.type, E.c.data)
            .where(E.c.hall_id == ctx.hall_id, E.c.id > after)
            .order_by(E.c.id)
        ).all()
    return [(r.id, r.type, json.loads(r.data)) for r in rows]


def test_each_ticket_event_counts_the_queue_as_it_is_after_the_change(ctx: HallContext) -> None:
    def issue(service: str) -> int:
        return tickets.issue(ctx, tickets.IssueRequest(service=service))[0].id

    issue("B")
    b2 = issue("B")
    issue("B")
    issue("C")
    last = events_after(ctx, 0)[-1][0]
    steps = [
        ("call-next", lambda: counters.call_next(ctx, "1")),  # b1 called
        ("finish", lambda: counters.finish(ctx, "1")),
        ("call-next", lambda: counters.call_next(ctx, "1")),  # b2
        ("park", lambda: counters.park(ctx, "1")),
        ("call-next", lambda: counters.call_next(ctx, "1")),  # b3
        ("call parked, finishing b3", lambda: counters.call_ticket(ctx, "1", b2)),
        ("no-show", lambda: counters.no_show(ctx, "1")),
        ("call-next on an empty queue", lambda: counters.call_next(ctx, "1")),
    ]
    seen: list[str] = []
    for what, step in steps:
        step()
        with ctx.read() as conn:
            now = queries.waiting_counts(conn, ctx.hall_id)
        new = events_after(ctx, last)
        for _id, type_, data in new:
            if "waiting" in data and type_.startswith("ticket."):
                seen.append(type_)
                # counts only of the services the event touched, each as it is now
                assert data["waiting"] == {s: now.get(s, 0) for s in data["waiting"]}, what
                assert set(data["waiting"]) == {data["ticket"]["service"]}, what
        last = new[-1][0] if new else last
    assert seen.count("ticket.called") == 4 and "ticket.finished" in seen
    with ctx.read() as conn:
        assert queries.waiting_counts(conn, ctx.hall_id) == {"C": 1}

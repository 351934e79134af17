"""Evaluations (好差评) of a served ticket."""

from __future__ import annotations

from sqlalchemy import insert, select

from hall.domain.tickets import EVALUABLE_STATES, Status
from hall.errors import Conflict, Invalid
from hall.schemas import Evaluation
from hall.services.context import HallContext
from hall.services.ticket_rows import load
from hall.services.views import event_ticket
from hall.storage import tables as t


def evaluate(ctx: HallContext, ticket_id: int, score: int, comment: str | None) -> Evaluation:
    if not 1 <= score <= 5:
        raise Invalid("score must be 1 (非常不满意) … 5 (非常满意)", code="invalid_score")
    with ctx.write() as tx:
        row = load(tx.conn, ctx, ticket_id)
        if Status(row.status) not in EVALUABLE_STATES:
            raise Conflict(
                f"ticket {row.number} is {row.status}; it can be evaluated once it has been served",
                code="not_served",
            )
        e = t.evaluations
        if tx.conn.execute(
            select(e.c.id).where(e.c.hall_id == ctx.hall_id, e.c.ticket_id == ticket_id)
        ).first():
            raise Conflict(
                f"ticket {row.number} has already been evaluated", code="already_evaluated"
            )
        tx.conn.execute(
            insert(e).values(
                hall_id=ctx.hall_id,
                ticket_id=ticket_id,
                score=score,
                comment=comment,
                service=row.service,
                counter_id=row.counter_id,
                created_at=tx.now,
            )
        )
        ticket = event_ticket(ctx.config, row).model_dump(mode="json")
        tx.emit("ticket.evaluated", {"ticket": ticket, "score": score})
        return Evaluation(ticket=ticket_id, number=row.number, score=score, counter=row.counter_id)

"""Evaluations (好差评) of a served ticket, the way halls are assessed (GB/T 39734-2020):
five levels, the optional fixed indicators, a 差评's reasons; one rating per handled matter
(一次一评, bound to its 办件编号); every 差评 opens a case with a deadline; every rating
goes to the outbox for the province."""

from __future__ import annotations

from sqlalchemy import insert, select

from hall.domain.evaluation import CaseKind, Channel, Grade, Indicator, Reason, grade_of
from hall.domain.tickets import EVALUABLE_STATES, Status
from hall.errors import Conflict, Invalid
from hall.schemas import Evaluation
from hall.services import cases, outbox
from hall.services.context import HallContext
from hall.services.ticket_rows import load
from hall.services.views import event_ticket
from hall.storage import tables as t


def evaluate(
    ctx: HallContext,
    ticket_id: int,
    score: int,
    comment: str | None,
    *,
    indicators: dict[Indicator, int] | None = None,
    reasons: list[Reason] | None = None,
    channel: Channel = Channel.API,
    matter_no: str | None = None,
    by: str = "citizen",
) -> Evaluation:
    if not 1 <= score <= 5:
        raise Invalid("score must be 1 (非常不满意) … 5 (非常满意)", code="invalid_score")
    for value in (indicators or {}).values():
        if not 1 <= value <= 5:
            raise Invalid("each indicator is 1 … 5", code="invalid_score")
    grade = grade_of(score)
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
        matter = matter_no or f"{ctx.hall_id}-{row.day:%Y%m%d}-{row.number}"
        given = {i.value: v for i, v in (indicators or {}).items()}
        evaluation_id: int = tx.conn.execute(
            insert(e)
            .values(
                hall_id=ctx.hall_id,
                ticket_id=ticket_id,
                score=score,
                comment=comment,
                service=row.service,
                counter_id=row.counter_id,
                created_at=tx.now,
                matter_no=matter,
                channel=channel.value,
                reasons=[r.value for r in reasons or []],
                **given,
            )
            .returning(e.c.id)
        ).scalar_one()
        outbox.add(
            tx,
            f"rating-{evaluation_id}",
            "rating",
            {
                "matter_no": matter,
                "service": row.service,
                "counter": row.counter_id,
                "channel": channel.value,
                "score": score,
                "grade": grade.value,
                "indicators": given,
                "reasons": [r.value for r in reasons or []],
                "at": tx.now.isoformat(),
            },
        )
        case_id = None
        if grade is Grade.BAD:
            case_id = cases.open_case(
                ctx,
                tx,
                kind=CaseKind.BAD_REVIEW,
                description=comment or "、".join(r.value for r in reasons or []) or "差评",
                by=by,
                ticket_id=ticket_id,
                evaluation_id=evaluation_id,
                service=row.service,
                counter_id=row.counter_id,
            )
        ticket = event_ticket(ctx.config, row).model_dump(mode="json")
        tx.emit("ticket.evaluated", {"ticket": ticket, "score": score})
        return Evaluation(
            ticket=ticket_id,
            number=row.number,
            score=score,
            counter=row.counter_id,
            grade=grade.value,
            channel=channel.value,
            matter_no=matter,
            case=case_id,
        )

"""The evaluation pad beside a counter (评价器): which ticket to ask about, and the score."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field

from hall.inputs import Id
from hall.schemas import Evaluation
from hall.services import evaluations
from hall.web import queries
from hall.web.deps import Staff, StaffWrite, Web, counter_for
from hall.web.errors import WrongCounter

router = APIRouter()


@router.get("/counters/{counter_id}/pad")
def pad_state(web: Web, session: Staff, counter_id: str) -> dict[str, Any]:
    counter_for(session, web, counter_id)
    counter = web.ctx.config.counter(counter_id)
    assert counter is not None
    return {
        "counter": counter_id,
        "counter_name": counter.name,
        "counter_name_en": counter.name_en,
        "ticket": queries.pad_ticket(web.ctx, counter_id),
        "last_event_id": web.ctx.bus.last_id,
    }


class EvaluationIn(BaseModel):
    ticket: Id
    score: int = Field(ge=1, le=5)


@router.post("/counters/{counter_id}/evaluate", status_code=201)
def pad_evaluate(web: Web, session: StaffWrite, counter_id: str, body: EvaluationIn) -> Evaluation:
    counter_for(session, web, counter_id)
    # A pad rates only what was served at its own counter.
    if queries.ticket_counter(web.ctx, body.ticket) != counter_id:
        raise WrongCounter(f"ticket {body.ticket} was not served at counter {counter_id}")
    return evaluations.evaluate(web.ctx, body.ticket, body.score, None)

"""The evaluation pad beside a counter (评价器): which ticket to ask about, who served (the
name and 工号 of the account logged in on the pad), and the score, with the reasons for a
low one (不满意, 非常不满意)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field, model_validator

from hall.domain.evaluation import Channel, Reason
from hall.inputs import Id, Note
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
        "staff": {"name": session.display_name, "staff_no": session.staff_no},
        "last_event_id": web.ctx.bus.last_id,
    }


LOW_SCORE = 2  # 不满意, 非常不满意: a 差评, whose reasons the pad asks for


class EvaluationIn(BaseModel):
    ticket: Id
    score: int = Field(ge=1, le=5)
    reasons: list[Reason] = Field(default_factory=list, max_length=len(Reason))
    """Tapped after 不满意 or 非常不满意 (score 1–2) only: the GB/T 39734 categories
    (``pad_reason_<code>`` in web.toml), stored as the evaluation's reasons."""
    comment: Note | None = None
    """The citizen's own words after a low score (ID and phone numbers are masked)."""

    @model_validator(mode="after")
    def _reasons_for_a_low_score(self) -> EvaluationIn:
        if self.score > LOW_SCORE and (self.reasons or (self.comment or "").strip()):
            raise ValueError("reasons and a comment go with a score of 1 or 2 (不满意)")
        return self


@router.post("/counters/{counter_id}/evaluate", status_code=201)
def pad_evaluate(web: Web, session: StaffWrite, counter_id: str, body: EvaluationIn) -> Evaluation:
    counter_for(session, web, counter_id)
    # A pad rates only what was served at its own counter.
    if queries.ticket_counter(web.ctx, body.ticket) != counter_id:
        raise WrongCounter(f"ticket {body.ticket} was not served at counter {counter_id}")
    return evaluations.evaluate(
        web.ctx,
        body.ticket,
        body.score,
        (body.comment or "").strip() or None,
        reasons=list(dict.fromkeys(body.reasons)),
        channel=Channel.PAD,
    )

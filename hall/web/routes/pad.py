"""The evaluation pad beside a counter (评价器): which ticket and matter (办件编号) to ask
about, who served (the name and 工号 of the account logged in on the pad), the score with
the reasons for a low one (不满意, 非常不满意) and, as an optional second step, the three
fixed indicators (服务效率, 服务水平, 服务态度). The counter page registers the matters of
its ticket (entered, scanned or generated) and may ask the pad to invite a rating; it never
gives a score itself."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter
from pydantic import BaseModel, Field, StringConstraints, model_validator

from hall.domain.evaluation import Channel, Indicator, Reason
from hall.inputs import Id, Note
from hall.schemas import CounterMatters, Evaluation
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
        "ticket": evaluations.pad_ask(web.ctx, counter_id, queries.PAD_WINDOW_S),
        "staff": {"name": session.display_name, "staff_no": session.staff_no},
        "last_event_id": web.ctx.bus.last_id,
    }


LOW_SCORE = 2  # 不满意, 非常不满意: a 差评, whose reasons the pad asks for


MatterNo = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[A-Za-z0-9-]{1,40}$")]
Level = Annotated[int, Field(ge=1, le=5)]
Phone = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^\+?[0-9 -]{7,20}$")]


class EvaluationIn(BaseModel):
    ticket: Id
    score: int = Field(ge=1, le=5)
    """整体满意度: 5 非常满意 … 1 非常不满意."""
    matter_no: MatterNo | None = None
    """The matter the pad asked about (a visit of several is rated once per matter)."""
    indicators: dict[Indicator, Level] = Field(default_factory=dict, max_length=len(Indicator))
    """The optional second step: 服务效率, 服务水平, 服务态度, 1–5 each, any of them."""
    contact: Phone | None = None
    """After a 差评: a mobile number the citizen leaves for the follow-up call (回访)."""
    reasons: list[Reason] = Field(default_factory=list, max_length=len(Reason))
    """Tapped after 不满意 or 非常不满意 (score 1–2) only: the GB/T 39734 categories
    (``pad_reason_<code>`` in web.toml), stored as the evaluation's reasons."""
    comment: Note | None = None
    """The citizen's own words after a low score (ID and phone numbers are masked)."""

    @model_validator(mode="after")
    def _reasons_for_a_low_score(self) -> EvaluationIn:
        if self.score > LOW_SCORE and (
            self.reasons or (self.comment or "").strip() or self.contact
        ):
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
        indicators=body.indicators or None,
        channel=Channel.PAD,
        matter_no=body.matter_no,
        contact=body.contact,
        staff=session.username,  # the account on the pad (integrity: per staff member)
    )


class MatterIn(BaseModel):
    matter_no: MatterNo | None = None
    """The 办件编号 from the business system (typed, or scanned: a scanner types it and
    Enter); none: the hall makes one in its format (``[cases] matter_no_format``)."""


@router.get("/counters/{counter_id}/matters")
def counter_matters(web: Web, session: Staff, counter_id: str) -> CounterMatters:
    counter_for(session, web, counter_id)
    return evaluations.counter_matters(web.ctx, counter_id)


@router.post("/counters/{counter_id}/matters", status_code=201)
def add_matter(web: Web, session: StaffWrite, counter_id: str, body: MatterIn) -> CounterMatters:
    counter_for(session, web, counter_id)
    return evaluations.add_matter(web.ctx, counter_id, body.matter_no, by=session.username)


class Invited(BaseModel):
    ticket: int


@router.post("/counters/{counter_id}/pad/invite")
def invite_rating(web: Web, session: StaffWrite, counter_id: str) -> Invited:
    """邀请评价: the pad asks the citizen; staff cannot give the score."""
    counter_for(session, web, counter_id)
    return Invited(ticket=evaluations.invite(web.ctx, counter_id, by=session.username))

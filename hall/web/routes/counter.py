"""The counter's calling page (叫号): its snapshot, the queue actions, and resolving a
citizen's help request."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter
from pydantic import BaseModel, Field

from hall.inputs import Id, Note, PathId, Reason
from hall.schemas import HelpResolved, Ticket
from hall.services import counters, hallinfo, stats, tickets
from hall.services.actor import Actor
from hall.web import queries
from hall.web.accounts import Session
from hall.web.deps import Staff, StaffWrite, Web, counter_for

router = APIRouter()


def actor(session: Session) -> Actor:
    """The signed-in staff member, recorded on the action's event and rows."""
    return Actor(session.account_id, session.staff_no)


@router.get("/counters/{counter_id}")
def counter_snapshot(web: Web, session: Staff, counter_id: str) -> dict[str, Any]:
    counter_for(session, web, counter_id)
    mine = stats.compute(web.ctx).by_counter.get(counter_id)
    return {
        "status": counters.get_status(web.ctx, counter_id),
        "today": {
            "served": mine.served if mine else 0,
            "called": mine.called if mine else 0,
            "no_show": mine.no_show if mine else 0,
            "service_avg_s": mine.service_avg_s if mine else None,
        },
        "services": queries.service_queues(web.ctx),
        "help": queries.help_requests(web.ctx),
        "last_event_id": web.ctx.bus.last_id,
    }


Action = Literal["call-next", "recall", "start", "finish", "no-show", "park", "resume"]
_ACTIONS = {
    "call-next": counters.call_next,
    "recall": counters.recall,
    "start": counters.start,
    "finish": counters.finish,
    "no-show": counters.no_show,
    "park": counters.park,
    "resume": counters.resume,
}


@router.post("/counters/{counter_id}/do/{action}")
def counter_action(
    web: Web, session: StaffWrite, counter_id: str, action: Action
) -> dict[str, Any]:
    counter_for(session, web, counter_id)
    result = _ACTIONS[action](web.ctx, counter_id, by=actor(session))
    return {"ticket": result} if action != "resume" else {"status": result}


class CallIn(BaseModel):
    ticket: Id


@router.post("/counters/{counter_id}/call")
def counter_call(web: Web, session: StaffWrite, counter_id: str, body: CallIn) -> dict[str, Any]:
    counter_for(session, web, counter_id)
    return {"ticket": counters.call_ticket(web.ctx, counter_id, body.ticket, by=actor(session))}


class PauseIn(BaseModel):
    reason: Reason


@router.post("/counters/{counter_id}/pause")
def counter_pause(web: Web, session: StaffWrite, counter_id: str, body: PauseIn) -> dict[str, Any]:
    counter_for(session, web, counter_id)
    reason = body.reason.strip() or "—"
    return {"status": counters.pause(web.ctx, counter_id, reason, by=actor(session))}


class TransferIn(BaseModel):
    service: str = Field(min_length=1, max_length=8)
    note: Note | None = None
    return_here: bool = False


@router.post("/counters/{counter_id}/transfer")
def counter_transfer(
    web: Web, session: StaffWrite, counter_id: str, body: TransferIn
) -> dict[str, Any]:
    counter_for(session, web, counter_id)
    ticket = counters.transfer(
        web.ctx, counter_id, body.service, body.note, body.return_here, by=actor(session)
    )
    return {"ticket": ticket}


@router.post("/help/{help_id}/ticket", status_code=201)
def help_ticket(web: Web, _: StaffWrite, help_id: PathId) -> Ticket:
    """帮办取号: a ticket for a passport holder's help request (see tickets.assisted_ticket)."""
    return tickets.assisted_ticket(web.ctx, help_id)


@router.post("/help/{help_id}/resolve")
def help_resolve(web: Web, _: StaffWrite, help_id: PathId) -> HelpResolved:
    return hallinfo.resolve_help(web.ctx, help_id)

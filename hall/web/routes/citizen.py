"""The citizen's ticket page ``/t/{token}`` (the QR code on the ticket), its state and
its live "something changed" stream. No session: the token in the link is the only key,
and nothing personal is shown, not even masked (the link may be photographed)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse, StreamingResponse
from fastapi.sse import KEEPALIVE_COMMENT, format_sse_event
from pydantic import BaseModel, Field

from hall.domain.evaluation import Reason
from hall.errors import NotFound
from hall.inputs import Note
from hall.services import evaluations, tickets
from hall.streams import EventStream, next_event
from hall.web.deps import Web, WebState, same_origin
from hall.web.render import page_response

router = APIRouter(include_in_schema=False)
TOKEN_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
# What the state shows of a ticket.
PUBLIC_FIELDS = (
    "number",
    "service",
    "service_name",
    "service_name_en",
    "status",
    "issued_at",
    "called_at",
    "waiting_ahead",
    "estimated_wait_s",
    "wait_range_min_s",
    "wait_range_max_s",
    "counter",
    "counter_name",
    "recall_count",
)


def _check_token(token: str) -> str:
    if not 8 <= len(token) <= 64 or not set(token) <= TOKEN_CHARS:
        raise NotFound("no ticket for this link", code="ticket_not_found")
    return token


@router.get("/t/{token}")
def ticket_page(web: Web, token: str) -> HTMLResponse:
    _check_token(token)  # an unknown but well-formed token shows the page's own message
    return page_response("ticket", web.ctx.config.name, web.ctx.config.timezone)


def _public_ticket(web: WebState, token: str) -> dict[str, Any]:
    tk = tickets.get_by_public_token(web.ctx, _check_token(token))
    out = tk.model_dump(mode="json", include=set(PUBLIC_FIELDS))
    counter = web.ctx.config.counter(tk.counter) if tk.counter else None
    out["counter_name_en"] = counter.name_en if counter else None
    out["hall"] = web.ctx.config.name
    out["hall_en"] = web.ctx.config.name_en
    return out


@router.get("/t/{token}/state")
def ticket_state(web: Web, token: str) -> Response:
    return Response(
        json.dumps(_public_ticket(web, token), ensure_ascii=False),
        media_type="application/json",
        headers={"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"},
    )


async def _changes(web: WebState, heartbeat_s: float) -> AsyncIterator[bytes]:
    """Only "something changed in service X": the page re-reads its own state. No ticket
    data of other citizens goes to a public page."""
    sub = web.ctx.bus.subscribe()
    try:
        yield format_sse_event(retry=3000)
        while True:
            ev = await next_event(sub, heartbeat_s)
            if ev is None:
                if sub.cut_off:
                    return
                yield KEEPALIVE_COMMENT  # b": ping\n\n"
                continue
            if ev.type.startswith(("ticket.", "counter.")):
                service = (ev.data.get("ticket") or {}).get("service", "")
                yield format_sse_event(event="changed", data_str=json.dumps({"service": service}))
            if sub.cut_off:
                return  # too slow: EventSource reconnects and the page re-reads its state
    finally:
        sub.close()


@router.get("/t/{token}/events")
async def ticket_events(request: Request, web: Web, token: str) -> StreamingResponse:
    _check_token(token)
    return EventStream(_changes(web, request.app.state.sse_heartbeat_s))


# -- 好差评 from the citizen's own phone (channel ``phone``) ---------------------------------


@router.get("/t/{token}/rating")
def rating_offer(web: Web, token: str) -> Response:
    """Once service finished, for ``[cases] phone_rating_days``: ``rate`` a matter no one
    rated, or ``check`` (the pad rated the visit: the citizen is asked again, kept apart as
    a check of the pad's rating); ``null`` otherwise."""
    offer = evaluations.phone_offer(web.ctx, _check_token(token))
    return Response(
        json.dumps(offer, ensure_ascii=False),
        media_type="application/json",
        headers={"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"},
    )


class PhoneRatingIn(BaseModel):
    score: int = Field(ge=1, le=5)
    reasons: list[Reason] = Field(default_factory=list, max_length=len(Reason))
    comment: Note | None = None


@router.post("/t/{token}/rating", status_code=201)
def rate_by_phone(request: Request, web: Web, token: str, body: PhoneRatingIn) -> Response:
    same_origin(request)
    done = evaluations.rate_by_phone(
        web.ctx,
        _check_token(token),
        body.score,
        reasons=list(dict.fromkeys(body.reasons)),
        comment=(body.comment or "").strip() or None,
    )
    return Response(json.dumps(done), status_code=201, media_type="application/json")

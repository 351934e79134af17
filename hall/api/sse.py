"""``GET /api/v1/events``: the hall's event stream for boards, counter screens and the
admin (the wire format is described in ``hall.streams``)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Query, Request

from hall.api.auth import require
from hall.config import Token
from hall.streams import MAX_EVENT_ID, EventStream, stream_events

router = APIRouter(prefix="/api/v1")

_FRAME_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "One frame; comment frames (`: ping`, `: live from event N`) carry none "
    "of these fields, the first frame only `retry`.",
    "properties": {
        "id": {"type": "string", "description": "the event's id, a decimal number"},
        "event": {"type": "string", "description": "the event type, e.g. ticket.called"},
        "data": {"type": "string", "description": "the event's data as compact JSON"},
        "retry": {"type": "integer", "minimum": 0},
    },
}


@router.get(
    "/events",
    summary="Server-Sent Events (text/event-stream)",
    # Not response_class=EventSourceResponse: FastAPI then streams the endpoint's return
    # value as a generator of items (see the module's docstring).
    responses={200: {"content": {"text/event-stream": {"itemSchema": _FRAME_SCHEMA}}}},
)
async def events(
    request: Request,
    _: Annotated[Token, Depends(require("display", "counter", "admin"))],
    last_event_id: Annotated[
        str | None,
        Header(description="resume after this event id; ignored unless a decimal number"),
    ] = None,
    last_event_id_q: Annotated[
        int | None,
        Query(alias="last_event_id", ge=0, le=MAX_EVENT_ID, description="as Last-Event-ID"),
    ] = None,
) -> EventStream:
    return stream_events(request, request.app.state.ctx, last_event_id, last_event_id_q)

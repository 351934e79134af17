"""The hall's event stream for a logged-in browser: the counter page, the pad and the
dashboard follow it to stay current."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import StreamingResponse

from hall.streams import stream_events
from hall.web.deps import Staff, Web

router = APIRouter()


@router.get("/events")
async def staff_events(
    request: Request,
    web: Web,
    _: Staff,
    last_event_id: Annotated[int | None, Query(ge=0, le=2**62)] = None,
) -> StreamingResponse:
    """The hall's event stream for a logged-in browser (EventSource sends the cookie;
    ``Last-Event-ID`` on reconnect, or ``?last_event_id=`` from the page's snapshot)."""
    header = request.headers.get("last-event-id")
    return stream_events(request, web.ctx, header, last_event_id)

"""``GET /api/v1/events``: Server-Sent Events.

A client that sends ``Last-Event-ID`` (browsers do on reconnect; our client does always)
first gets every event after that id — from memory when recent, else from the events
table, so this works across a server restart — then the live stream. A comment line every
``heartbeat_s`` keeps proxies from closing the connection and lets clients detect a dead
link."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi.responses import StreamingResponse
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from hall.api.auth import require
from hall.config import Token
from hall.events import Event
from hall.services.core import HallContext
from hall.storage import tables as t

router = APIRouter(prefix="/api/v1")
REPLAY_PAGE = 1000
SEND_GAP_S = 0.025


def _replay_from_db(ctx: HallContext, after: int) -> list[Event]:
    e = t.events
    with ctx.read() as conn:
        rows = conn.execute(
            select(e.c.id, e.c.type, e.c.data)
            .where(e.c.hall_id == ctx.hall_id, e.c.id > after)
            .order_by(e.c.id)
            .limit(REPLAY_PAGE)
        ).all()
    return [Event(r.id, r.type, json.loads(r.data), r.data) for r in rows]


async def stream_events(
    request: Request, ctx: HallContext, last_id: int | None
) -> AsyncIterator[bytes]:
    """The event stream body; also served to staff pages behind their session login."""
    heartbeat_s: float = request.app.state.sse_heartbeat_s
    loop = asyncio.get_running_loop()
    last_send = 0.0
    sub = ctx.bus.subscribe()  # before the replay, so nothing falls between the two
    try:
        yield b"retry: 2000\n\n"
        if last_id is None:
            last = ctx.bus.last_id
            yield f": live from event {last}\n\n".encode()
        else:
            last = last_id
            while True:
                backlog = ctx.bus.recent_after(last)
                if backlog is None:
                    backlog = await run_in_threadpool(_replay_from_db, ctx, last)
                for ev in backlog:
                    yield ev.sse()
                    last = ev.id
                if len(backlog) < REPLAY_PAGE:
                    break
        while True:
            try:
                async with asyncio.timeout(heartbeat_s):
                    ev = await sub.queue.get()
            except TimeoutError:
                if sub.overflowed:
                    return
                yield b": ping\n\n"
                continue
            # At most one write per subscriber every SEND_GAP_S: when events come faster,
            # what arrives meanwhile goes in the same chunk. A socket write per subscriber
            # per commit was a tenth of the server's CPU at 300 tickets/s (issue 2); a
            # quiet hall's events still go out at once, and nobody sees 25 ms on a board.
            wait = last_send + SEND_GAP_S - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
            last_send = loop.time()
            chunk = []
            while True:
                if ev.id > last:
                    chunk.append(ev.wire)
                    last = ev.id
                if sub.queue.empty() or len(chunk) >= 500:
                    break
                ev = sub.queue.get_nowait()
            if chunk:
                yield b"".join(chunk)
            if sub.overflowed and sub.queue.empty():
                return  # too slow: the client reconnects with Last-Event-ID
    finally:
        sub.close()


@router.get(
    "/events",
    summary="Server-Sent Events (text/event-stream)",
    responses={200: {"content": {"text/event-stream": {}}}},
)
async def events(
    request: Request,
    _: Annotated[Token, Depends(require("display", "counter", "admin"))],
    last_event_id: Annotated[str | None, Header(max_length=20)] = None,
    last_event_id_q: Annotated[int | None, Query(alias="last_event_id", ge=0)] = None,
) -> StreamingResponse:
    ctx: HallContext = request.app.state.ctx
    last: int | None = last_event_id_q
    if last_event_id is not None and last_event_id.strip().isdigit():
        last = int(last_event_id.strip())
    return StreamingResponse(
        stream_events(request, ctx, last),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )

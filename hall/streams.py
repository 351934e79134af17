"""The hall's Server-Sent Events streams, shared by ``GET /api/v1/events`` (``hall.api.sse``)
and the staff and citizen pages (``hall.web``).

A client that sends ``Last-Event-ID`` (browsers do on reconnect; our client does always)
first gets every event after that id — from memory when recent, else from the events
table, so this works across a server restart — then the live stream. A ``: ping`` comment
after ``app.state.sse_heartbeat_s`` seconds of silence keeps proxies from closing the
connection and lets clients detect a dead link.

Frames are encoded by FastAPI's ``fastapi.sse.format_sse_event`` and sent as a
``fastapi.sse.EventSourceResponse``::

    retry: 2000

    : live from event 41

    event: ticket.issued
    data: {"ticket":{"id":7,...}}
    id: 42

    : ping

The endpoints return the response themselves rather than being ``yield`` endpoints with
``response_class=EventSourceResponse``: that path's keep-alive runs on one process-wide
timer (``fastapi.sse._PING_INTERVAL``, 15 s), while the heartbeat here is the app's own
(tests run 0.2 s halls beside 15 s ones in one process), and the staff and citizen pages'
streams (``hall.web.routes``) share this plumbing.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections.abc import AsyncGenerator, AsyncIterator
from typing import Final

from fastapi import Request
from fastapi.sse import KEEPALIVE_COMMENT, EventSourceResponse, format_sse_event
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool
from starlette.types import Receive, Scope, Send

from hall.errors import StorageUnavailable
from hall.events import Event, Subscription
from hall.services.context import HallContext
from hall.storage import tables as t

log = logging.getLogger("hall.sse")

REPLAY_PAGE: Final = 1000
SEND_GAP_S: Final = 0.025
"""At most one write per subscriber this often (seconds); see ``_frames``."""
RETRY_MS: Final = 2000
MAX_EVENT_ID: Final = 2**62
HEADERS: Final = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
PING: Final = KEEPALIVE_COMMENT
"""``b": ping\\n\\n"``, the same comment FastAPI's own SSE routes send."""

# ASCII digits only: str.isdigit() also accepts "²" and "٣", which int() then refuses.
_EVENT_ID = re.compile(r"[0-9]{1,19}")


def parse_event_id(value: str | None) -> int | None:
    """A ``Last-Event-ID`` header as an event id, or None when it is not a plain decimal
    number in 0..2**62 (then the client is treated as one that sent none)."""
    if value is None:
        return None
    value = value.strip(" \t")
    if not _EVENT_ID.fullmatch(value):
        return None
    number = int(value)
    return number if number <= MAX_EVENT_ID else None


def resume_point(header: str | None, query: int | None) -> int | None:
    """Where a stream resumes: ``Last-Event-ID`` (what EventSource sends on reconnect) if
    usable, else ``?last_event_id=`` (a page's snapshot), else None: live only."""
    from_header = parse_event_id(header)
    return from_header if from_header is not None else query


def frame(event: Event) -> bytes:
    """One event on the wire; ``data`` is the JSON exactly as stored. Formatted once per
    event, not once per subscriber: fifty boards get the same bytes."""
    wire: bytes | None = event.__dict__.get("_wire")
    if wire is None:
        wire = format_sse_event(id=str(event.id), event=event.type, data_str=event.payload)
        object.__setattr__(event, "_wire", wire)  # a cache on a frozen value, not a change
    return wire


class EventStream(EventSourceResponse):
    """``text/event-stream`` with the hall's headers.

    The first frame is taken before the headers go out: by then the stream has subscribed
    to the bus, so a client that has the headers misses no event. The frame generator is
    closed when the response ends however it ends (client gone, server stopping, an
    error), so its subscription is always released."""

    def __init__(self, frames: AsyncIterator[bytes]) -> None:
        super().__init__(frames, headers=HEADERS)
        self.frames = frames

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        body = None
        try:
            body = _chain(await anext(self.frames, None), self.frames)
            self.body_iterator = body
            await super().__call__(scope, receive, send)
        finally:
            if body is not None:
                await body.aclose()
            if isinstance(self.frames, AsyncGenerator):
                await self.frames.aclose()


async def _chain(first: bytes | None, rest: AsyncIterator[bytes]) -> AsyncGenerator[bytes, None]:
    if first is None:
        return
    yield first
    async for item in rest:
        yield item


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


async def _frames(
    ctx: HallContext, heartbeat_s: float, last_id: int | None
) -> AsyncGenerator[bytes, None]:
    loop = asyncio.get_running_loop()
    last_send = 0.0
    sub = ctx.bus.subscribe()  # before the replay, so nothing falls between the two
    # Read after subscribing: every event after this one reaches the queue. Read before the
    # first frame, which goes out before the headers (EventStream).
    live_from = ctx.bus.last_id
    try:
        yield format_sse_event(retry=RETRY_MS)
        if last_id is None:
            last = live_from
            yield format_sse_event(comment=f"live from event {last}")
        else:
            last = last_id
            while True:
                backlog = ctx.bus.recent_after(last)
                if backlog is None:
                    try:
                        backlog = await run_in_threadpool(_replay_from_db, ctx, last)
                    except StorageUnavailable:
                        # The client reconnects after `retry` and resumes from `last`.
                        log.warning("event replay after %d failed: storage unavailable", last)
                        return
                for past in backlog:
                    yield frame(past)
                    last = past.id
                if len(backlog) < REPLAY_PAGE:
                    break
        while True:
            ev = await next_event(sub, heartbeat_s)
            if ev is None:
                if sub.cut_off:
                    return
                yield PING
                continue
            # At most one write per subscriber every SEND_GAP_S: what arrives meanwhile goes
            # in the same chunk. A socket write per subscriber per event was a quarter of
            # the server's CPU with 50 boards at 50 issues/s (bench/hall_load.py); in a
            # quiet hall each event still goes out at once.
            wait = last_send + SEND_GAP_S - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
            last_send = loop.time()
            chunk = []
            while True:
                if ev.id > last:  # the replay may already have sent it
                    chunk.append(frame(ev))
                    last = ev.id
                if sub.queue.empty() or len(chunk) >= 500:
                    break
                ev = sub.queue.get_nowait()
            if chunk:
                yield b"".join(chunk)
            if sub.cut_off and sub.queue.empty():
                return  # too slow: the client reconnects with Last-Event-ID
    finally:
        sub.close()


async def next_event(sub: Subscription, heartbeat_s: float) -> Event | None:
    """The subscription's next event, or None after ``heartbeat_s`` of silence (time for a
    ping, or for ending a stream that was cut off)."""
    try:
        async with asyncio.timeout(heartbeat_s):
            return await sub.queue.get()
    except TimeoutError:
        return None


def stream_events(
    request: Request, ctx: HallContext, last_event_id: str | None, last_event_id_q: int | None
) -> EventStream:
    """The hall's event stream, resuming per ``resume_point``; also served to staff pages
    behind their session login (``/web/api/events``)."""
    heartbeat_s: float = request.app.state.sse_heartbeat_s
    return EventStream(_frames(ctx, heartbeat_s, resume_point(last_event_id, last_event_id_q)))

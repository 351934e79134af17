"""The event streams byte for byte, over a real server: the first frames, an event frame
with its JSON exactly as stored, the heartbeat, resume from memory and from the database
after a restart, the overflow cut-off, and ``Last-Event-ID`` values that are no id."""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import uvicorn
from fastapi import FastAPI
from sqlalchemy import select

from hall.app import create_app
from hall.client import SseEvent, parse_sse
from hall.events import Event, EventBus
from hall.services.context import HallContext
from hall.storage import migrate
from hall.storage import tables as t
from hall.storage.engine import make_engine
from hall.streams import _frames
from hall.web import accounts
from tests.support.hall import TOKENS, make_config
from tests.support.hall_server import free_port

HEARTBEAT_S = 0.3
DISPLAY = {"Authorization": f"Bearer {TOKENS['display']}"}
KIOSK = {"Authorization": f"Bearer {TOKENS['kiosk']}"}
COUNTER = {"Authorization": f"Bearer {TOKENS['counter']}"}


class Server:
    """One app under uvicorn in a thread."""

    def __init__(self, db: Path) -> None:
        self.app: FastAPI = create_app(
            make_config(), database=f"sqlite:///{db}", sse_heartbeat_s=HEARTBEAT_S
        )
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.srv = uvicorn.Server(uvicorn.Config(self.app, port=self.port, log_level="warning"))
        self.thread = threading.Thread(target=self.srv.run, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.srv.started and time.monotonic() < deadline:
            time.sleep(0.05)
        assert self.srv.started

    @property
    def ctx(self) -> HallContext:
        ctx: HallContext = self.app.state.ctx
        return ctx

    def stop(self) -> None:
        self.srv.should_exit = True
        self.thread.join(10)

    def issue(self, service: str = "B") -> dict[str, Any]:
        r = requests.post(self.url + "/api/v1/tickets", json={"service": service}, headers=KIOSK)
        assert r.status_code == 201, r.text
        body: dict[str, Any] = r.json()
        return body

    def stored(self) -> dict[int, tuple[str, str]]:
        """The events table: id → (type, data as stored)."""
        e = t.events
        with self.ctx.read() as conn:
            rows = conn.execute(select(e.c.id, e.c.type, e.c.data).order_by(e.c.id)).all()
        return {r.id: (r.type, r.data) for r in rows}


class Stream:
    """An open event stream, read as whole frames (each ends with a blank line)."""

    def __init__(self, url: str, headers: dict[str, Any], session: Any = requests) -> None:
        self.resp = session.get(url, headers=headers, stream=True, timeout=(5, 5))
        self._chunks = self.resp.iter_content(chunk_size=None)
        self.buf = b""

    def frames(self, n: int) -> list[bytes]:
        while self.buf.count(b"\n\n") < n:
            self.buf += next(self._chunks)
        out = []
        for _ in range(n):
            frame, _, self.buf = self.buf.partition(b"\n\n")
            out.append(frame + b"\n\n")
        return out

    def events(self, n: int) -> list[bytes]:
        """The next ``n`` event frames, skipping heartbeats: on a loaded machine a request
        can take longer than the test's 0.3 s heartbeat, and a ping between two events is
        the stream working, not a fault."""
        out: list[bytes] = []
        while len(out) < n:
            out += [f for f in self.frames(1) if f != b": ping\n\n"]
        return out

    def close(self) -> None:
        self.resp.close()


def event_frame(event_id: int, stored: tuple[str, str]) -> bytes:
    type_, data = stored
    return f"event: {type_}\ndata: {data}\nid: {event_id}\n\n".encode()


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    srv = Server(tmp_path / "h.db")
    yield srv
    srv.stop()


def test_live_stream_bytes(server: Server) -> None:
    server.issue()
    last = server.ctx.bus.last_id
    s = Stream(server.url + "/api/v1/events", DISPLAY)
    assert s.resp.status_code == 200
    assert s.resp.headers["content-type"].startswith("text/event-stream")
    assert s.resp.headers["cache-control"] == "no-cache"
    assert s.resp.headers["x-accel-buffering"] == "no"
    assert s.frames(2) == [b"retry: 2000\n\n", f": live from event {last}\n\n".encode()]
    ticket = server.issue()
    stored = server.stored()
    (issued,) = s.events(1)
    assert issued == event_frame(last + 1, stored[last + 1])
    assert issued.startswith(b'event: ticket.issued\ndata: {"ticket":{"id":%d,' % ticket["id"])
    r = requests.post(server.url + "/api/v1/counters/1/call-next", headers=COUNTER, timeout=5)
    assert r.status_code == 200, r.text
    stored = server.stored()
    opened, called = s.events(2)
    assert opened == event_frame(last + 2, stored[last + 2])
    assert called == event_frame(last + 3, stored[last + 3])
    # the JSON exactly as stored: compact, Chinese as UTF-8 (not \u escapes)
    assert '"counter_name":"1号综合窗口",'.encode() in called
    t0 = time.monotonic()
    assert s.frames(2) == [b": ping\n\n", b": ping\n\n"]  # quiet: one per heartbeat
    assert time.monotonic() - t0 < 10 * HEARTBEAT_S
    s.close()


def test_resume_from_memory(server: Server) -> None:
    for _ in range(3):
        server.issue()
    stored = server.stored()
    first, *rest = sorted(stored)
    s = Stream(server.url + "/api/v1/events", DISPLAY | {"Last-Event-ID": str(first)})
    frames = s.frames(1 + len(rest) + 1)
    assert frames == [
        b"retry: 2000\n\n",
        *(event_frame(i, stored[i]) for i in rest),
        b": ping\n\n",  # no "live from" comment on a resume
    ]
    s.close()
    # the query parameter (a page's snapshot) does the same
    q = Stream(f"{server.url}/api/v1/events?last_event_id={first}", DISPLAY)
    assert q.frames(1 + len(rest)) == frames[:-1]
    q.close()


def test_resume_from_database_after_restart(tmp_path: Path) -> None:
    db = tmp_path / "h.db"
    one = Server(db)
    live = Stream(one.url + "/api/v1/events", DISPLAY)
    live.frames(2)
    for _ in range(3):
        one.issue()
    sent = live.events(3)  # a heartbeat may come between two issues on a loaded machine
    first = min(one.stored())
    live.close()
    one.stop()

    two = Server(db)  # a new process: nothing in memory
    try:
        assert two.ctx.bus.recent_after(first) is None
        s = Stream(two.url + "/api/v1/events", DISPLAY | {"Last-Event-ID": str(first)})
        assert s.frames(1) == [b"retry: 2000\n\n"]
        assert s.events(2) == sent[1:]  # the same bytes as live
        s.close()
    finally:
        two.stop()


def test_database_replay_goes_by_pages(tmp_path: Path) -> None:
    db = tmp_path / "h.db"
    engine = make_engine(f"sqlite:///{db}")
    migrate.upgrade(engine)
    ctx = HallContext(make_config(), engine)
    ctx.ensure_rows()
    with ctx.write() as tx:
        for i in range(2345):
            tx.emit("device.health", {"device": f"k{i}", "online": True, "名": "大厅"})
    engine.dispose()
    srv = Server(db)
    try:
        s = Stream(srv.url + "/api/v1/events", DISPLAY | {"Last-Event-ID": "0"})
        frames = s.frames(1 + 2345)
        stored = srv.stored()
        assert frames[1:] == [event_frame(i, stored[i]) for i in sorted(stored)]
        assert s.frames(1) == [b": ping\n\n"]
        s.close()
    finally:
        srv.stop()


@pytest.mark.parametrize(
    "value", ["²", "١٢", "1" * 5000, "-1", "1e3", "0x10", "abc", str(2**62 + 1), "1 2"]
)
def test_a_last_event_id_that_is_no_id_is_ignored(server: Server, value: str) -> None:
    server.issue()
    raw = value.encode()  # as sent: UTF-8 bytes, whatever the server decodes them as
    s = Stream(server.url + "/api/v1/events", DISPLAY | {"Last-Event-ID": raw})
    assert s.resp.status_code == 200
    last = server.ctx.bus.last_id
    assert s.frames(2) == [b"retry: 2000\n\n", f": live from event {last}\n\n".encode()]
    s.close()


@pytest.mark.parametrize("value", ["²", "١٢", "1" * 5000, "-1", "abc", str(2**62 + 1)])
def test_a_last_event_id_query_that_is_no_id_is_422(server: Server, value: str) -> None:
    r = requests.get(
        server.url + "/api/v1/events", params={"last_event_id": value}, headers=DISPLAY, timeout=5
    )
    assert r.status_code == 422, r.text


def test_largest_id_is_accepted(server: Server) -> None:
    s = Stream(server.url + "/api/v1/events", DISPLAY | {"Last-Event-ID": str(2**62)})
    assert s.frames(2) == [b"retry: 2000\n\n", b": ping\n\n"]
    s.close()


def test_a_closed_stream_releases_its_subscription(server: Server) -> None:
    streams = [Stream(server.url + "/api/v1/events", DISPLAY) for _ in range(3)]
    for s in streams:
        s.frames(2)
    assert server.ctx.bus.subscriber_count == 3
    for s in streams:
        s.close()
    deadline = time.monotonic() + 5
    while server.ctx.bus.subscriber_count and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.ctx.bus.subscriber_count == 0


def test_staff_stream(server: Server) -> None:
    state = server.app.state.web
    accounts.create_account(state.ctx, state.settings, "wang", "correct-horse-9", "counter", ["1"])
    web = requests.Session()
    r = web.post(
        server.url + "/web/api/login",
        json={"username": "wang", "password": "correct-horse-9"},
        timeout=5,
    )
    assert r.status_code == 200, r.text
    assert requests.get(server.url + "/web/api/events", timeout=5).status_code == 401
    for _ in range(2):
        server.issue()
    stored = server.stored()
    first, second = sorted(stored)
    url = server.url + "/web/api/events"
    s = Stream(url, {"Last-Event-ID": str(first)}, web)
    assert s.resp.headers["cache-control"] == "no-cache"
    assert s.frames(3) == [b"retry: 2000\n\n", event_frame(second, stored[second]), b": ping\n\n"]
    s.close()
    s = Stream(f"{url}?last_event_id={first}", {"Last-Event-ID": "²"}, web)
    assert s.frames(2) == [b"retry: 2000\n\n", event_frame(second, stored[second])]
    s.close()
    for value in ("²", "1" * 5000, str(2**62 + 1)):
        r = web.get(url, params={"last_event_id": value}, timeout=5)
        assert r.status_code == 422, value


def test_citizen_stream_bytes(server: Server) -> None:
    assert requests.get(server.url + "/t/bad/events", timeout=5).status_code == 404
    s = Stream(server.url + "/t/abcdefgh1234/events", {})
    assert s.resp.headers["content-type"].startswith("text/event-stream")
    assert s.resp.headers["cache-control"] == "no-cache"
    assert s.resp.headers["x-accel-buffering"] == "no"
    assert s.frames(1) == [b"retry: 3000\n\n"]
    server.issue("C")
    # only the service, never a ticket; then the heartbeat keeps the quiet stream open
    assert s.events(1) == [b'event: changed\ndata: {"service": "C"}\n\n']
    assert s.frames(1) == [b": ping\n\n"]
    s.close()
    deadline = time.monotonic() + 5
    while server.ctx.bus.subscriber_count and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.ctx.bus.subscriber_count == 0


def test_an_overflowed_subscriber_is_cut_off_after_draining(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'h.db'}")
    migrate.upgrade(engine)
    ctx = HallContext(make_config(), engine, bus=EventBus(queue_size=3))

    async def run() -> list[bytes]:
        ctx.bus.bind(asyncio.get_running_loop(), 0)
        frames = _frames(ctx, 60.0, None)
        out = [await anext(frames), await anext(frames)]  # subscribed
        ctx.bus.publish([Event(i, "device.health", {"n": i}) for i in range(1, 11)])
        async with asyncio.timeout(5):  # ends by itself, no heartbeat wait
            out += [f async for f in frames]
        return out

    try:
        # a loop of its own: a browser test's sync Playwright may keep one running here
        with concurrent.futures.ThreadPoolExecutor(1) as pool:
            frames = pool.submit(asyncio.run, run()).result(10)
    finally:
        engine.dispose()
    # what was queued (3 of 10) goes out, in one write, then the stream ends
    assert b"".join(frames) == b"".join(
        [
            b"retry: 2000\n\n",
            b": live from event 0\n\n",
            *(f'event: device.health\ndata: {{"n":{i}}}\nid: {i}\n\n'.encode() for i in (1, 2, 3)),
        ]
    )
    assert ctx.bus.subscriber_count == 0


def test_clients_parse_the_frames_as_before() -> None:
    """The hall client's parser (kiosk, board) reads fields in any order: the frames as
    they are now (id last) and as they were (id first) give the same events."""
    now = b'retry: 2000\n\n: live from event 6\n\nevent: ticket.issued\ndata: {"a":1}\nid: 7\n\n'
    before = b'retry: 2000\n\n: live from event 6\n\nid: 7\nevent: ticket.issued\ndata: {"a":1}\n\n'
    expected = [SseEvent(7, "ticket.issued", {"a": 1})]
    assert list(parse_sse(iter(now.split(b"\n")))) == expected
    assert list(parse_sse(iter(before.split(b"\n")))) == expected


def test_openapi_describes_the_stream(server: Server) -> None:
    # The schema of every route is built on the first request: seconds on a loaded machine.
    schema = requests.get(server.url + "/openapi.json", timeout=60).json()
    op = schema["paths"]["/api/v1/events"]
    content = op["get"]["responses"]["200"]["content"]
    assert "text/event-stream" in content
    names = {(p["in"], p["name"]) for p in op["get"]["parameters"]}
    assert {("header", "last-event-id"), ("query", "last_event_id")} <= names

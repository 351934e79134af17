"""The event stream sends heartbeat comments while the hall is quiet, so a board notices a
dead link, and several subscribers each get every event."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
import uvicorn

from hall.app import create_app
from hall.client import HallClient
from tests.support.hall import TOKENS, make_config
from tests.support.hall_server import free_port


@pytest.fixture
def server(tmp_path: Path) -> Iterator[str]:
    app = create_app(make_config(), database=f"sqlite:///{tmp_path / 'h.db'}", sse_heartbeat_s=0.2)
    port = free_port()
    srv = uvicorn.Server(uvicorn.Config(app, port=port, log_level="warning"))
    th = threading.Thread(target=srv.run, daemon=True)
    th.start()
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 10
    while not srv.started and time.monotonic() < deadline:
        time.sleep(0.05)
    yield url
    srv.should_exit = True
    th.join(10)


def test_quiet_stream_sends_heartbeats(server: str) -> None:
    with requests.get(
        server + "/api/v1/events",
        stream=True,
        timeout=5,
        headers={"Authorization": f"Bearer {TOKENS['display']}"},
    ) as r:
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("text/event-stream")
        pings = 0
        start = time.monotonic()
        for line in r.iter_lines():
            if line == b": ping":
                pings += 1
            if pings == 3:
                break
        assert time.monotonic() - start < 3


def test_every_subscriber_gets_every_event(server: str) -> None:
    got: dict[int, list[int]] = {i: [] for i in range(5)}
    ready = [threading.Event() for _ in range(5)]

    def follow(i: int) -> None:
        client = HallClient(server, TOKENS["display"])
        for ev in client.events(None, on_connect=ready[i].set, read_timeout=5):
            if ev.type == "ticket.issued":
                got[i].append(ev.data["ticket"]["id"])
            if len(got[i]) == 10:
                return

    threads = [threading.Thread(target=follow, args=(i,), daemon=True) for i in range(5)]
    for th in threads:
        th.start()
    # No pause: a stream subscribes to the bus before it sends its headers.
    assert all(r.wait(5) for r in ready)
    kiosk = HallClient(server, TOKENS["kiosk"])
    ids = [kiosk.issue_ticket("B").id for _ in range(10)]
    for th in threads:
        th.join(10)
    assert all(v == ids for v in got.values()), got

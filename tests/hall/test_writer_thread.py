"""The API's writer thread: concurrent requests share group-commit batches on one thread,
a refused change is answered with its own error and rolls back alone, and every answer
comes after the commit that holds it (the numbering has no gap and no duplicate)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
import uvicorn
from sqlalchemy import func, select

from hall.api.app import create_app
from hall.services import queries, tickets
from hall.services.core import HallContext
from hall.storage import tables as t
from tests.hall.conftest import TOKENS, YOUNG, YOUNG2, make_config
from tests.support.hall_server import free_port


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, HallContext]]:
    app = create_app(make_config(), database=f"sqlite:///{tmp_path / 'h.db'}")
    port = free_port()
    srv = uvicorn.Server(uvicorn.Config(app, port=port, log_level="warning"))
    th = threading.Thread(target=srv.run, daemon=True)
    th.start()
    deadline = time.monotonic() + 10
    while not srv.started and time.monotonic() < deadline:
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}", app.state.ctx
    srv.should_exit = True
    th.join(10)


def test_concurrent_requests_through_the_writer(served: tuple[str, HallContext]) -> None:
    url, ctx = served
    assert ctx._writer is not None and ctx._writer.is_alive()
    numbers: list[str] = []
    refused: list[str] = []
    lock = threading.Lock()
    start = threading.Barrier(12)

    def kiosk(i: int) -> None:
        s = requests.Session()
        s.headers["Authorization"] = f"Bearer {TOKENS['kiosk']}"
        start.wait()
        for j in range(15):
            body = (
                {"service": "A", "id_number": YOUNG if (i + j) % 2 else YOUNG2}
                if j % 3 == 0
                else {"service": "B"}
            )
            r = s.post(url + "/api/v1/tickets", json=body, timeout=20)
            with lock:
                if r.status_code == 201:
                    numbers.append(r.json()["number"])
                else:
                    assert r.status_code == 409, r.text
                    refused.append(r.json()["error"])

    def staff_page() -> None:
        """The web pages call the services from their own threads: those changes join or
        open batches beside the writer's, and nobody waits for a commit that never comes."""
        start.wait()
        for _ in range(30):
            tickets.issue(ctx, tickets.IssueRequest("C"))

    threads = [threading.Thread(target=kiosk, args=(i,)) for i in range(10)]
    threads += [threading.Thread(target=staff_page) for _ in range(2)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(60)
        assert not th.is_alive(), "a request never got its answer"
    assert sorted(n for n in numbers if n.startswith("A")) == ["A001", "A002"]
    assert sorted(n for n in numbers if n.startswith("B")) == [f"B{i:03d}" for i in range(1, 101)]
    assert refused == ["daily_limit"] * (10 * 5 - 2)
    # answered means committed: every answered ticket is in the database now
    with ctx.read() as conn:
        assert conn.execute(select(func.count()).select_from(t.tickets)).scalar_one() == 162
        assert queries.waiting_counts(conn, ctx.hall_id, ["C"]) == {"C": 60}

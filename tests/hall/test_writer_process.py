"""``govhall hall`` runs its state changes in a writer process of its own: concurrent
requests keep numbering exact through it, refusals cross back with their code and change
nothing, staff pages' changes go the same way, a dead writer stops the server (systemd
starts it again) without losing an answered ticket, and the writer never outlives the
front, whether it stops or is killed."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests

from hall.client import HallApiError, HallClient
from hall.services import counters
from hall.services.core import HallContext
from hall.storage import tables as t
from tests.hall.conftest import YOUNG
from tests.support.hall_server import TOKENS, HallProcess, free_port, start_hall, write_config

pytestmark = pytest.mark.e2e


def writer_pid(hall: HallProcess) -> int:
    assert hall.proc is not None
    children = Path(f"/proc/{hall.proc.pid}/task/{hall.proc.pid}/children").read_text().split()
    assert len(children) == 1, children
    return int(children[0])


def gone(pid: int, within: float = 5.0) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        # a zombie is gone too: it is only waiting for its parent to read its status
        if Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z":
            return True
        time.sleep(0.02)
    return False


@pytest.fixture
def hall(tmp_path: Path) -> Iterator[HallProcess]:
    proc = start_hall(tmp_path, policy={"daily_limit": 1})
    yield proc
    proc.stop()


def test_concurrent_requests_through_the_writer_process(hall: HallProcess) -> None:
    writer = writer_pid(hall)
    assert writer != hall.proc.pid  # type: ignore[union-attr]
    kiosk = HallClient(hall.url, TOKENS["kiosk"], retries=0)

    def issue(_: int) -> str:
        return HallClient(hall.url, TOKENS["kiosk"], retries=0).issue_ticket("J")["number"]

    with ThreadPoolExecutor(8) as pool:
        numbers = list(pool.map(issue, range(80)))
    assert sorted(numbers) == [f"J{i:03d}" for i in range(1, 81)]  # no gap, no duplicate

    # Refusals come back from the writer as the same JSON errors, and change nothing.
    kiosk.issue_ticket("A", id_number=YOUNG)
    with pytest.raises(HallApiError) as limit:
        kiosk.issue_ticket("A", id_number=YOUNG)
    assert (limit.value.status, limit.value.code) == (409, "daily_limit")
    with pytest.raises(HallApiError) as unknown:
        kiosk.issue_ticket("ZZ")
    assert (unknown.value.status, unknown.value.code) == (404, "unknown_service")
    r = requests.post(
        hall.url + "/api/v1/counters/99/call-next",
        headers={"Authorization": f"Bearer {TOKENS['counter']}"},
        timeout=5,
    )
    assert r.status_code == 404 and r.json()["error"] == "unknown_counter"
    waiting = {s["code"]: s["waiting"] for s in kiosk.services()}
    assert waiting["J"] == 80 and waiting["A"] == 1
    assert kiosk.issue_ticket("J")["number"] == "J081"
    assert writer_pid(hall) == writer  # one writer all along


def test_a_dead_writer_stops_the_server_and_loses_no_answered_ticket(
    hall: HallProcess,
) -> None:
    kiosk = HallClient(hall.url, TOKENS["kiosk"], retries=0, timeout=3)
    answered = [kiosk.issue_ticket("J")["number"] for _ in range(5)]
    os.kill(writer_pid(hall), signal.SIGKILL)
    assert hall.proc is not None
    # The front notices at once and exits 1: systemd (Restart=always) starts both again.
    assert hall.proc.wait(10) == 1
    log = hall.log.read_text() if hall.log else ""
    assert "writer process" in log and "went away" in log
    hall.start()
    kiosk = HallClient(hall.url, TOKENS["kiosk"], retries=0, timeout=3)
    assert [kiosk.ticket_by_number(n)["number"] for n in answered] == answered
    assert kiosk.issue_ticket("J")["number"] == "J006"


def test_the_writer_ends_with_the_front(hall: HallProcess) -> None:
    assert hall.proc is not None
    writer = writer_pid(hall)
    HallClient(hall.url, TOKENS["kiosk"]).issue_ticket("J")
    hall.proc.terminate()  # systemctl stop: graceful, the writer finishes and exits first
    hall.proc.wait(10)
    assert gone(writer)

    hall.start()
    writer = writer_pid(hall)
    hall.kill()  # kill -9 of the front: the kernel kills the writer with it
    assert gone(writer)
    hall.start()
    assert HallClient(hall.url, TOKENS["kiosk"]).issue_ticket("J")["number"] == "J002"


def test_staff_pages_change_state_through_the_writer(tmp_path: Path) -> None:
    """A staff page's call is run by the writer, and its event reaches subscribers."""
    from tests.web.conftest import PASSWORD, add_accounts

    port = free_port()
    cfg = write_config(tmp_path / "hall.toml", port)
    database = f"sqlite:///{tmp_path / 'hall.db'}"
    add_accounts(cfg, database)  # wang serves counter 1 (A, B, C, J)
    hall = HallProcess(cfg, port, database).start()
    try:
        kiosk = HallClient(hall.url, TOKENS["kiosk"])
        ticket = kiosk.issue_ticket("J")
        display = HallClient(hall.url, TOKENS["display"])
        got: list[str] = []
        ready = threading.Event()

        def follow() -> None:
            for ev in display.events(None, on_connect=ready.set, read_timeout=10):
                got.append(ev.type)
                if ev.type == "ticket.called":
                    return

        reader = threading.Thread(target=follow, daemon=True)
        reader.start()
        assert ready.wait(5)
        staff = requests.Session()
        r = staff.post(
            hall.url + "/web/api/login",
            json={"username": "wang", "password": PASSWORD},
            timeout=10,
        )
        assert r.status_code == 200, r.text
        staff.headers["X-CSRF-Token"] = r.json()["csrf"]
        r = staff.post(hall.url + "/web/api/counters/1/do/call-next", timeout=10)
        assert r.status_code == 200, r.text
        assert r.json()["ticket"]["number"] == ticket["number"]
        reader.join(5)
        assert got[-1] == "ticket.called"
        assert kiosk.ticket(ticket["id"])["status"] == "called"
    finally:
        hall.stop()


def test_a_front_process_change_with_events_is_refused(ctx: HallContext) -> None:
    """Only the writer publishes: a change with events attempted beside a writer process
    fails before it commits, and the queue is as it was."""
    from hall.services import tickets

    tickets.issue(ctx, tickets.IssueRequest(service="C"))
    ctx.writer_link = object()  # what start() sets in the front; this test forks nothing
    try:
        with pytest.raises(RuntimeError, match="writer process"):
            counters.call_next(ctx, "3")
    finally:
        ctx.writer_link = None
    with ctx.read() as conn:
        query = t.tickets.select().where(t.tickets.c.hall_id == ctx.hall_id)
        statuses = [r.status for r in conn.execute(query)]
    assert statuses == ["waiting"]


def test_frames_split_anywhere_are_read_whole() -> None:
    """The wire's framing: however the stream is cut, each message comes out once, whole,
    and a partial one waits in the buffer for the rest."""
    from hall.services.writer_process import _frame, _frames

    stream = b"".join(_frame(k, ("answers", [(k, True, "票" * k)])) for k in (1, 2, 300))
    for cut in (1, 5, 12, 13, len(stream) // 2, len(stream) - 1):
        buf = bytearray()
        got = []
        for piece in (stream[:cut], stream[cut:]):
            buf += piece
            got += _frames(buf)
        assert [k for k, _ in got] == [1, 2, 300]
        assert buf == bytearray()
    buf = bytearray(stream[:-1])
    assert [k for k, _ in _frames(buf)] == [1, 2] and len(buf) > 0


def test_jobs_over_a_socket_get_the_writers_context(ctx: HallContext) -> None:
    """The writer's side of the wire on a real socket pair: a job arrives with the hall
    context put back in, ``more`` tells a waiting job from an idle socket, and EOF ends
    the loop after what was sent."""
    import socket

    from hall.services import core
    from hall.services.writer_process import CTX, _frame, _Jobs, alive

    front, back = socket.socketpair()
    try:
        jobs = _Jobs(ctx, back)
        assert not jobs.more()
        front.sendall(_frame(7, (alive, (CTX,), {})) + _frame(8, (alive, (), {"ctx": CTX})))
        call, _, key = jobs.next_job()
        assert key == 7 and call.args == (ctx,) and call() is True
        assert jobs.more()  # the second is already here
        call, _, key = jobs.next_job()
        assert key == 8 and call.keywords == {"ctx": ctx}
        assert not jobs.more()
        half = _frame(9, (alive, (CTX,), {}))
        front.sendall(half[:6])
        assert jobs.more()  # arriving: the batch may wait for it
        front.sendall(half[6:])
        front.shutdown(socket.SHUT_WR)
        assert jobs.next_job()[2] == 9
        assert jobs.next_job() is core.STOP
    finally:
        front.close()
        back.close()


def test_a_job_that_cannot_be_read_is_answered_with_an_error(ctx: HallContext) -> None:
    """A garbled job is refused on its own key (its caller gets an error, not silence) and
    the next job on the socket is read as usual."""
    import socket

    from hall.services.writer_process import _HEAD, CTX, _frame, _Jobs, alive

    front, back = socket.socketpair()
    try:
        jobs = _Jobs(ctx, back)
        garbage = b"not a pickle"
        front.sendall(_HEAD.pack(len(garbage) + 8, 5) + garbage + _frame(6, (alive, (CTX,), {})))
        call, _, key = jobs.next_job()
        assert key == 5
        with pytest.raises(RuntimeError, match="could not read the request"):
            call()
        call, _, key = jobs.next_job()
        assert key == 6 and call() is True
    finally:
        front.close()
        back.close()

"""``hall.client`` against a real ``govhall hall`` process (typed answers, safe retries,
the event stream across a restart) and against tiny loopback servers that answer what a
real hall never does (a 200 that is not JSON, scripted 503s, a socket that hangs up)."""

from __future__ import annotations

import datetime as dt
import http.server
import os
import signal
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from hall.client import (
    Appointment,
    Board,
    CounterStatus,
    DeviceHealth,
    Evaluation,
    HallApiError,
    HallBadResponse,
    HallClient,
    HallUnavailable,
    Health,
    HeartbeatAck,
    HelpRequest,
    HelpResolved,
    ImportOutcome,
    ServiceInfo,
    SseEvent,
    Stats,
    Ticket,
)
from tests.support.hall_server import TOKENS, HallProcess, start_hall

ELDER = "11010519491231002X"


# -- a real hall ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def hall(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HallProcess]:
    proc = start_hall(tmp_path_factory.mktemp("hall"))
    yield proc
    proc.stop()


@pytest.fixture
def own_hall(tmp_path: Path) -> Iterator[HallProcess]:
    """A hall of this test's own, for tests that stop or freeze it."""
    proc = start_hall(tmp_path)
    yield proc
    proc.stop()


def role(hall: HallProcess, name: str, **kw: Any) -> HallClient:
    return HallClient(hall.url, TOKENS[name], **kw)


@pytest.mark.e2e
def test_answers_are_the_schema_models(hall: HallProcess) -> None:
    kiosk, counter, admin = role(hall, "kiosk"), role(hall, "counter"), role(hall, "admin")
    health = kiosk.health()
    assert isinstance(health, Health) and health.status == "ok" and health.storage == "ok"

    services = kiosk.services()
    assert services and all(isinstance(s, ServiceInfo) for s in services)
    assert {"A", "J"} <= {s.code for s in services}

    mine = kiosk.issue_ticket("A", id_number=ELDER, name="李四")
    assert isinstance(mine, Ticket) and mine.number.startswith("A") and mine.service == "A"
    assert mine.status == "waiting" and mine.id_masked and "49123" not in mine.id_masked
    assert kiosk.ticket(mine.id).id == kiosk.ticket_by_number(mine.number).id == mine.id

    called = counter.call_next("3")
    assert isinstance(called, Ticket) and called.id == mine.id and called.counter == "3"
    status = counter.counter("3")
    assert isinstance(status, CounterStatus) and status.current and status.current.id == mine.id
    assert isinstance(counter.counter_action("3", "start"), Ticket)
    finished = counter.counter_action("3", "finish")
    assert isinstance(finished, Ticket) and finished.status == "done"
    assert isinstance(counter.pause("3", "午休"), CounterStatus)
    resumed = counter.counter_action("3", "resume")
    assert isinstance(resumed, CounterStatus) and resumed.state == "open"
    rated = counter.evaluate(mine.id, 5)
    assert isinstance(rated, Evaluation) and rated.score == 5

    board = role(hall, "display").board()
    assert isinstance(board, Board) and any(c.id == mine.id for c in board.recent_calls)
    stats = admin.stats()
    assert isinstance(stats, Stats) and stats.total.issued >= 1 and stats.from_
    csv = admin.stats(csv=True)
    assert isinstance(csv, str) and "issued" in csv.splitlines()[0]

    ack = kiosk.heartbeat("K1", {"printer": "ok", "reader": "ok"})
    assert isinstance(ack, HeartbeatAck) and ack.parts["printer"] == "ok"
    devices = admin.devices()
    assert all(isinstance(d, DeviceHealth) for d in devices) and "K1" in {d.device for d in devices}
    help_req = kiosk.help_request("K1", "老人需要帮办")
    assert isinstance(help_req, HelpRequest)
    assert help_req.id in {h.id for h in counter.help_requests()}
    resolved = counter.resolve_help(help_req.id)
    assert isinstance(resolved, HelpResolved) and resolved.resolved

    slot = dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()
    booked = admin.book("B", "110105198503171231", slot)
    assert isinstance(booked, Appointment) and booked.service == "B"

    imported = kiosk.import_tickets(
        [
            {
                "kiosk": "K1",
                "offline_number": "K1-J001",
                "service": "J",
                "issued_at": dt.datetime.now(dt.UTC).isoformat(),
            }
        ]
    )
    assert [r.outcome for r in imported.results] == [ImportOutcome.IMPORTED]
    ticket = imported.results[0].ticket
    assert isinstance(ticket, Ticket) and ticket.offline_number == "K1-J001"

    key = "test-cancel-key"
    issued = kiosk.issue_ticket("J", idempotency_key=key)
    cancelled = kiosk.cancel_ticket(key)
    assert cancelled.id == issued.id and cancelled.status == "cancelled"


@pytest.mark.e2e
def test_call_next_with_nobody_waiting_is_none(hall: HallProcess) -> None:
    counter = role(hall, "counter")
    while counter.call_next("5") is not None:  # counter 5: empty it whatever ran before
        counter.counter_action("5", "finish")
    assert counter.call_next("5") is None


@pytest.mark.e2e
def test_refusals_keep_their_status_and_code(hall: HallProcess) -> None:
    kiosk = role(hall, "kiosk")
    with pytest.raises(HallApiError) as err:
        kiosk.ticket(2**40)
    assert err.value.status == 404 and err.value.code == "ticket_not_found"
    with pytest.raises(HallApiError) as err:
        kiosk.issue_ticket("NOPE")
    assert err.value.status in (404, 422)
    with pytest.raises(HallApiError) as err:
        HallClient(hall.url, "wrong-token-0000000000").services()
    assert err.value.status == 401


@pytest.mark.e2e
def test_a_retried_issue_with_its_key_returns_the_same_ticket(own_hall: HallProcess) -> None:
    """The hall is frozen (SIGSTOP) when the kiosk sends: the first attempt times out while
    the request waits in the socket; the hall wakes, processes it, and the retry with the
    same Idempotency-Key gets that ticket again rather than a second one."""
    kiosk = role(own_hall, "kiosk", timeout=1.0, retries=4, backoff_s=0.05)
    assert own_hall.proc is not None
    os.kill(own_hall.proc.pid, signal.SIGSTOP)
    waker = threading.Timer(1.5, os.kill, (own_hall.proc.pid, signal.SIGCONT))
    waker.start()
    try:
        start = time.monotonic()
        ticket = kiosk.issue_ticket("J", idempotency_key="retried-key")
        took = time.monotonic() - start
    finally:
        waker.cancel()
        os.kill(own_hall.proc.pid, signal.SIGCONT)
    assert took > 1.0  # it did time out once, and a retry answered
    assert ticket.number == "J001"
    assert next(s for s in kiosk.services() if s.code == "J").waiting == 1
    assert kiosk.issue_ticket("J", idempotency_key="retried-key") == ticket


@pytest.mark.e2e
def test_nothing_listening_is_unavailable_after_the_retries(tmp_path: Path) -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    c = HallClient(f"http://127.0.0.1:{port}", TOKENS["kiosk"], retries=3, backoff_s=0.05)
    start = time.monotonic()
    with pytest.raises(HallUnavailable) as err:
        c.issue_ticket("J")
    assert err.value.code == "unreachable" and err.value.status is None
    with pytest.raises(HallUnavailable):
        c.services()
    with pytest.raises(HallUnavailable):
        list(c.events())
    # three retries each, 0 + 0.1 + 0.2 s of backoff: no hand-written loop going on
    assert time.monotonic() - start < 5


@pytest.mark.e2e
def test_events_resume_with_last_event_id_across_a_restart(own_hall: HallProcess) -> None:
    kiosk, display = role(own_hall, "kiosk"), role(own_hall, "display")
    got: list[SseEvent] = []
    states: list[bool] = []
    stop = threading.Event()
    connected = threading.Event()
    may_reconnect = threading.Event()

    def on_state(ok: bool) -> None:
        states.append(ok)
        if ok:
            connected.set()
        else:  # the board stays away until the test has issued a ticket meanwhile
            may_reconnect.wait(30)

    def run() -> None:
        for ev in display.follow(stop=stop, max_backoff_s=0.5, on_state=on_state):
            got.append(ev)

    reader = threading.Thread(target=run, daemon=True)
    reader.start()
    try:
        assert connected.wait(10)
        first = kiosk.issue_ticket("J")
        wait(lambda: len(got) >= 1)
        own_hall.stop()
        wait(lambda: states[-1] is False)
        connected.clear()
        own_hall.start()
        # issued before the board is back: replayed from the events table after
        # Last-Event-ID, then the live stream
        second = kiosk.issue_ticket("J")
        may_reconnect.set()
        assert connected.wait(10)
        third = kiosk.issue_ticket("J")
        wait(lambda: len([e for e in got if e.type == "ticket.issued"]) >= 3)
    finally:
        stop.set()
    issued = [e.data["ticket"]["id"] for e in got if e.type == "ticket.issued"]
    assert issued == [first.id, second.id, third.id]
    ids = [e.id for e in got]
    assert ids == sorted(set(ids))  # each event once, in order
    assert states == [True, False, True]
    # stop: the stream ends at the next frame, which is not handed on
    kiosk.issue_ticket("J")
    reader.join(5)
    assert not reader.is_alive()
    assert len([e for e in got if e.type == "ticket.issued"]) == 3


def wait(cond: Callable[[], object], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return
        time.sleep(0.02)
    raise AssertionError("condition not met in time")


# -- servers that misbehave ----------------------------------------------------------------
@dataclass
class Scripted:
    """Loopback HTTP server answering each request with the next scripted answer (the last
    one repeats); records what it was sent."""

    answers: list[tuple[int, dict[str, str], bytes]]
    seen: list[tuple[str, str, dict[str, str]]] = field(default_factory=list)
    server: http.server.ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self) -> Scripted:
        script = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def answer(self) -> None:
                n = int(self.headers.get("Content-Length") or 0)
                self.rfile.read(n)
                script.seen.append((self.command, self.path, dict(self.headers)))
                status, headers, body = script.answers[
                    min(len(script.seen), len(script.answers)) - 1
                ]
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = answer

            def log_message(self, *args: object) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        assert self.server is not None
        self.server.shutdown()
        self.server.server_close()


TEXT = {"Content-Type": "text/plain"}
JSON = {"Content-Type": "application/json"}
STORAGE_DOWN = (
    503,
    {**JSON, "Retry-After": "1"},
    b'{"error":"storage_unavailable","message":"the hall\'s database is not answering"}',
)


def ticket_json() -> bytes:
    return (
        b'{"id":7,"number":"J007","service":"J","priority":"normal","status":"waiting",'
        b'"counter":null,"counter_name":null,"counter_name_en":null,"name_masked":null,'
        b'"recall_count":0,"service_name":"x","service_name_en":"x","priority_reason":null,'
        b'"issued_at":"2026-01-05T09:00:00+08:00","called_at":null,"waiting_ahead":0,'
        b'"estimated_wait_s":0,"id_masked":null,"note":null,"transferred_to":null,'
        b'"public_token":"abc","offline_number":null}'
    )


def test_a_2xx_that_is_not_json_is_a_bad_response() -> None:
    with Scripted([(200, TEXT, b"not json")]) as srv:
        c = HallClient(srv.url, "t", retries=0)
        with pytest.raises(HallBadResponse) as err:
            c.issue_ticket("J")
        assert err.value.code == "bad_response" and err.value.status == 200
        assert "not JSON" in str(err.value)
        # the kiosk issues offline on it, as on any hall it cannot use
        assert isinstance(err.value, HallUnavailable)
        with pytest.raises(HallBadResponse):
            c.services()
        with pytest.raises(HallBadResponse):
            c.call_next("1")
        with pytest.raises(HallBadResponse):
            list(c.events())  # 200, but not an event stream


def test_a_2xx_json_that_is_not_the_model_is_a_bad_response() -> None:
    with Scripted([(201, JSON, b'{"id": "seven"}')]) as srv:
        with pytest.raises(HallBadResponse) as err:
            HallClient(srv.url, "t", retries=0).issue_ticket("J")
        assert "does not match Ticket" in str(err.value)
    with Scripted([(200, JSON, b'[{"code": "J"}]')]) as srv, pytest.raises(HallBadResponse):
        HallClient(srv.url, "t", retries=0).services()


def test_storage_unavailable_is_retried_with_the_same_key_then_answers() -> None:
    with Scripted([STORAGE_DOWN, (201, JSON, ticket_json())]) as srv:
        c = HallClient(srv.url, "t", retries=2, backoff_s=0.01)
        start = time.monotonic()
        ticket = c.issue_ticket("J")
        took = time.monotonic() - start
    assert ticket.number == "J007"
    assert [m for m, _, _ in srv.seen] == ["POST", "POST"]
    keys = {h["Idempotency-Key"] for _, _, h in srv.seen}
    assert len(keys) == 1  # the retry is the same request
    assert took >= 0.9  # Retry-After: 1 was respected


def test_storage_unavailable_to_the_end_is_hall_unavailable() -> None:
    with Scripted([STORAGE_DOWN]) as srv:
        c = HallClient(srv.url, "t", retries=2, backoff_s=0.01, retry_after_max_s=0)
        with pytest.raises(HallUnavailable) as err:
            c.issue_ticket("J")
        assert err.value.status == 503 and err.value.code == "storage_unavailable"
        assert err.value.retry_after_s == 1
        assert len(srv.seen) == 3
        # a POST that is not safe to repeat is sent once
        srv.seen.clear()
        with pytest.raises(HallUnavailable):
            c.call_next("1")
        assert len(srv.seen) == 1
        # a refusal is not retried either
    with Scripted([(409, JSON, b'{"error":"conflict","message":"no"}')]) as srv:
        with pytest.raises(HallApiError) as api_err:
            HallClient(srv.url, "t", retries=2).services()
        assert (api_err.value.status, api_err.value.code, len(srv.seen)) == (409, "conflict", 1)


def test_health_answers_a_degraded_hall() -> None:
    body = b'{"status":"degraded","storage":"down","hall":"xc","name":"n","last_event_id":4}'
    with Scripted([(503, JSON, body)]) as srv:
        health = HallClient(srv.url, "t", retries=0).health()
    assert health.status == "degraded" and health.storage == "down"
    with Scripted([(503, TEXT, b"Service Unavailable")]) as srv, pytest.raises(HallUnavailable):
        HallClient(srv.url, "t", retries=0).health()


def test_a_server_that_hangs_up_is_retried_for_reads_then_unavailable() -> None:
    accepted = 0
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(8)
        port = sock.getsockname()[1]

        def hang_up() -> None:
            nonlocal accepted
            while True:
                try:
                    conn, _ = sock.accept()
                except OSError:
                    return
                accepted += 1
                conn.recv(65536)
                conn.close()

        threading.Thread(target=hang_up, daemon=True).start()
        c = HallClient(f"http://127.0.0.1:{port}", "t", retries=2, backoff_s=0.01)
        with pytest.raises(HallUnavailable):
            c.services()
        assert accepted == 3
        with pytest.raises(HallUnavailable):
            c.call_next("1")  # not safe: once
        assert accepted == 4

"""The kiosk never stays on "issuing" for ever.

An effect that fails in a way nobody foresaw used to vanish: ``Runtime.execute`` logged it
and returned no continuation, ``tick`` skips the busy screens and ``back`` is refused there,
so the citizen faced "正在取号" until a technician came. Now a failed effect reaches the flow
(``on_effect_failed``) and every busy screen has a deadline.

Each fault is real: a local HTTP server that answers what a captive portal or a broken proxy
would, the real ``HallClient``, the runtime with the printer simulator behind its driver,
and an offline journal on a disk that refuses the write. What must still hold, besides not
being stuck: no ticket is lost (the citizen holds a recorded ticket, or is clearly told
there is none) and none is issued twice.
"""

from __future__ import annotations

import http.server
import json
import resource
import shutil
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from common.i18n import t
from devices.open import open_idcard, open_player, open_printer
from devices.printer.decode import decode_text
from hall.client import HallClient
from kiosk.flows.flow import KioskFlow
from kiosk.flows.model import (
    HALL_WAIT,
    CardData,
    CheckIn,
    HallWait,
    IssueOffline,
    IssueTicket,
    PrintTicket,
    Screen,
)
from kiosk.journal import OfflineJournal
from kiosk.runtime import DeviceSet, Runtime, SyncRunner
from tests.kiosk.conftest import make_settings, sample_tiles
from tests.support.clock import FakeClock
from tests.support.hall_server import free_port

TZ = ZoneInfo("Asia/Shanghai")
ISSUE_FAILED = t("kiosk", "issue_failed", "zh")
CITIZEN = CardData("110105198503171231", "张小三", "张**", b"P" * 1024)


# -- a hall that answers badly ------------------------------------------------------------
class FaultyHall(http.server.ThreadingHTTPServer):
    """Answers ``POST /api/v1/tickets`` with ``fault``; records each such request's
    Idempotency-Key. Everything else: the hall's own 404."""

    daemon_threads = True

    def __init__(self, fault: str) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.fault = fault
        self.issue_keys: list[str] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: FaultyHall

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        if self.path != "/api/v1/tickets":
            self._send(404, "application/json", b'{"error": "not_found", "message": "no"}')
            return
        self.server.issue_keys.append(self.headers.get("Idempotency-Key", ""))
        if self.server.fault == "portal":  # a captive portal's login page, with a 200
            page = "<html><body>请登录 Wi-Fi / please log in</body></html>".encode()
            self._send(200, "text/html; charset=utf-8", page)
        elif self.server.fault == "deep":  # "JSON" nested deeper than any parser goes
            self._send(201, "application/json", b"[" * 100_000)
        elif self.server.fault == "chunked":  # a chunked answer whose stream breaks
            self.send_response(201)
            self.send_header("Content-Type", "application/json")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            self.wfile.write(b'7\r\n{"id": 7\r\n')  # a good first chunk …
            self.wfile.write(b"zz\r\n")  # … then a chunk size that is not hexadecimal
            self.wfile.flush()
            self.close_connection = True
        else:
            raise AssertionError(self.server.fault)

    def _send(self, status: int, content_type: str, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@contextmanager
def faulty_hall(fault: str) -> Iterator[FaultyHall]:
    server = FaultyHall(fault)
    thread = threading.Thread(target=server.serve_forever, name="faulty-hall", daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


# -- the kiosk, as the app builds it --------------------------------------------------------
class Kiosk:
    def __init__(self, tmp: Path, server_url: str) -> None:
        settings = make_settings(tmp, server=server_url)
        wait = HALL_WAIT  # the app's client, whose waits set the flow's deadline
        self.client = HallClient(
            server_url,
            settings.token,
            timeout=wait.timeout_s,
            retries=wait.retries,
            backoff_s=wait.backoff_s,
            retry_after_max_s=wait.retry_after_max_s,
        )
        self.journal_path = tmp / "journal" / "offline-journal.jsonl"
        self.journal = OfflineJournal(self.journal_path, settings.offline_prefix)
        self.devices = DeviceSet(
            reader=open_idcard("sim", "sim"),
            printer=open_printer("sim"),
            player=open_player("none"),
        )
        self.runtime = Runtime(
            settings,
            self.client,
            self.journal,
            self.devices,
            hall_name="西城区政务服务中心",
            hall_name_en="Xicheng",
            tz=TZ,
            load_face_models=False,
        )
        self.flow = KioskFlow(
            settings,
            "西城区政务服务中心",
            "Xicheng",
            sample_tiles(),
            clock=self.runtime.now,
            hall_id="xc",
            hall_wait=wait,
        )
        self.runner = SyncRunner(self.flow, self.runtime)
        self.flow.wake()

    def run(self, effects: list) -> KioskFlow:
        return self.runner.run(effects)

    def printed(self) -> list[str]:
        sim = self.devices.printer.simulator
        return [decode_text(job.data) for job in sim.printed if job.printed]

    def journal_lines(self) -> list[dict]:
        if not self.journal_path.exists():
            return []
        text = self.journal_path.read_text(encoding="utf-8")
        return [json.loads(line) for line in text.splitlines()]

    def close(self) -> None:
        self.runtime.close()
        self.devices.close()
        self.client.close()


MakeKiosk = Callable[[str], Kiosk]


@pytest.fixture
def make_kiosk(tmp_path: Path) -> Iterator[MakeKiosk]:
    made: list[Kiosk] = []

    def make(server_url: str) -> Kiosk:
        made.append(Kiosk(tmp_path, server_url))
        return made[-1]

    yield make
    for k in made:
        k.close()


# -- the hall answers something no client error describes ------------------------------------
@pytest.mark.parametrize("fault", ["portal", "deep"])
def test_a_success_status_without_json_gives_the_offline_ticket(
    make_kiosk: MakeKiosk, fault: str
) -> None:
    """A 2xx whose body is not JSON (a captive portal's page; JSON nested too deep to
    parse): the hall may have issued the ticket or not, so the citizen gets the offline one,
    journaled with the key that withdraws the hall's, if any, later."""
    with faulty_hall(fault) as hall:
        kiosk = make_kiosk(hall.url)
        kiosk.run(kiosk.flow.tap_service("G"))
        keys = set(hall.issue_keys)
    view = kiosk.flow.view
    assert view.screen is Screen.TICKET, view.screen  # not stuck on "issuing"
    assert view.ticket.offline and view.ticket.number == "K1-G001" and view.offline
    # no ticket lost: the paper the citizen holds is in the journal, with the one key every
    # request carried, so the hall can hold at most one ticket and it will be withdrawn
    (line,) = kiosk.journal_lines()
    assert line["offline_number"] == "K1-G001" and keys == {line["withdraw_key"]}
    assert kiosk.flow.pending_withdrawals == 1 and kiosk.flow.pending_uploads == 1
    # none issued twice: one ticket printed, one IssueTicket, one IssueOffline
    (paper,) = kiosk.printed()
    assert "K1-G001" in paper
    log = kiosk.runner.log
    assert [type(e) for e in log if isinstance(e, IssueTicket | IssueOffline)] == [
        IssueTicket,
        IssueOffline,
    ]


def test_a_broken_chunked_answer_gives_the_offline_ticket(make_kiosk: MakeKiosk) -> None:
    """The answer's chunked stream breaks after its first chunk (ChunkedEncodingError in
    requests): like a lost answer, the offline ticket with the withdraw key."""
    with faulty_hall("chunked") as hall:
        kiosk = make_kiosk(hall.url)
        kiosk.run(kiosk.flow.tap_service("G"))
        keys = set(hall.issue_keys)
    view = kiosk.flow.view
    assert view.screen is Screen.TICKET and view.ticket.offline
    (line,) = kiosk.journal_lines()  # recorded, with the key of every request sent
    assert keys == {line["withdraw_key"]} and line["offline_number"] == view.ticket.number
    assert len(kiosk.printed()) == 1  # printed once


# -- the offline journal cannot write ------------------------------------------------------
@contextmanager
def disk_full(path: Path) -> Iterator[None]:
    """No file of this process may grow past ``path``'s size: the kernel refuses the
    journal's write (EFBIG) as a full disk would (ENOSPC), whoever runs the test (root
    ignores a read-only mode, not this limit; Python ignores the SIGXFSZ)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    resource.setrlimit(resource.RLIMIT_FSIZE, (path.stat().st_size, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))


@pytest.mark.parametrize("fault", ["disk_full", "directory_gone"])
def test_a_journal_that_cannot_write_says_so_and_shows_no_number(
    make_kiosk: MakeKiosk, fault: str
) -> None:
    """The hall is unreachable and the offline journal's write fails (OSError): there is no
    ticket, so none is shown or printed, and the citizen is sent to the service desk. Once
    the disk is back, the next citizen gets an offline ticket, numbered from the start."""
    kiosk = make_kiosk(f"http://127.0.0.1:{free_port()}")  # nothing listens: refused
    if fault == "disk_full":
        kiosk.journal_path.write_text("", encoding="utf-8")
        with disk_full(kiosk.journal_path):
            kiosk.run(kiosk.flow.tap_service("G"))
    else:  # the data directory went away (an unmounted card, a cleaned-up folder)
        shutil.rmtree(kiosk.journal_path.parent)
        kiosk.run(kiosk.flow.tap_service("G"))
        kiosk.journal_path.parent.mkdir()
    view = kiosk.flow.view
    assert view.screen is Screen.MESSAGE and view.message == ISSUE_FAILED  # not stuck
    assert view.message_error and view.ticket is None
    # no ticket lost: none was recorded, none shown, none printed; nothing left to withdraw
    # (the hall refused the connection) and nothing claimed as pending
    assert kiosk.journal_lines() == [] and kiosk.printed() == []
    assert kiosk.flow.pending_withdrawals == 0 and kiosk.flow.pending_uploads == 0
    assert kiosk.journal.withdrawals() == []

    kiosk.run(kiosk.flow.home())
    kiosk.run(kiosk.flow.tap_service("G"))
    assert kiosk.flow.view.screen is Screen.TICKET
    assert kiosk.flow.view.ticket.number == "K1-G001"
    (line,) = kiosk.journal_lines()
    assert line["offline_number"] == "K1-G001" and "withdraw_key" not in line
    assert len(kiosk.printed()) == 1


# -- the deadline of the busy screens (pure, with a hand-wound clock) -----------------------
def of(effects: list, kind: type) -> list:
    return [e for e in effects if isinstance(e, kind)]


def test_the_deadline_grows_with_the_clients_waits() -> None:
    """Twice the longest call of the client: every attempt's connect and read timeouts and
    the sleeps between them, so a slow but answering hall is never given up on."""
    assert HALL_WAIT.busy_deadline_s == 2 * (2 * 2 * 2.0 + 1 * 1)
    slower = HallWait(timeout_s=5.0, retries=2, backoff_s=0.5, retry_after_max_s=3)
    assert slower.busy_deadline_s == 2 * (3 * 2 * 5.0 + 2 * 3)


def test_an_issue_without_answer_moves_on_to_the_offline_ticket(
    flow: KioskFlow, clock: FakeClock
) -> None:
    """No answer at all (a worker that hung, a result lost on the way): at the deadline the
    citizen gets the offline ticket, exactly as for an unreachable hall."""
    (sent,) = of(flow.tap_service("G"), IssueTicket)
    clock.advance(flow.busy_deadline_s - 1)
    assert of(flow.tick(), IssueOffline) == [] and flow.view.screen is Screen.ISSUING
    assert flow.back() == [] and flow.view.screen is Screen.ISSUING  # still cannot leave
    clock.advance(1)
    effects = flow.tick()
    (offline,) = of(effects, IssueOffline)
    assert offline.withdraw_key == sent.idempotency_key  # the hall's ticket, if any, goes
    assert "离线" in " ".join(e.text for e in effects if hasattr(e, "text"))
    assert flow.view.offline and flow.pending_withdrawals == 1
    assert of(effects, IssueTicket) == []  # no second online attempt
    # none issued twice: the online answer that comes late is not shown (its withdraw key is
    # journaled with the offline ticket), the offline ticket is
    late = {"id": 9, "number": "G001", "service": "G", "issued_at": "2025-05-06T10:00:00+08:00"}
    assert flow.on_issued(sent.token, late) == []
    assert flow.view.screen is Screen.ISSUING and flow.view.ticket is None
    journaled = {"number": "K1-G001", "service": "G", "issued_at": clock()}
    (job,) = of(flow.on_issued(offline.token, journaled, offline=True), PrintTicket)
    assert job.ticket.number == "K1-G001" and flow.view.screen is Screen.TICKET
    # and a late "unreachable" for the given-up session changes nothing
    assert flow.on_hall_unavailable(sent.token) == []
    assert flow.view.ticket.number == "K1-G001"


def test_a_journal_that_never_answers_ends_in_a_clear_message(
    flow: KioskFlow, clock: FakeClock
) -> None:
    flow.offline = True
    (offline,) = of(flow.tap_service("G"), IssueOffline)
    clock.advance(flow.busy_deadline_s)
    effects = flow.tick()
    assert flow.view.screen is Screen.MESSAGE and flow.view.message == ISSUE_FAILED
    assert of(effects, IssueOffline) == [] and flow.view.ticket is None  # told: no ticket
    # no ticket lost: should the journal write the ticket after all, it is shown
    journaled = {"number": "K1-G001", "service": "G", "issued_at": clock()}
    assert of(flow.on_issued(offline.token, journaled, offline=True), PrintTicket)
    assert flow.view.screen is Screen.TICKET


def test_a_given_up_issue_whose_offline_ticket_failed_is_shown_if_it_comes(
    flow: KioskFlow, clock: FakeClock
) -> None:
    """The deadline gave the online issue up for an offline ticket, and the journal failed
    to record that one: nothing will withdraw the hall's ticket, so if it arrives after all
    it is the citizen's, and shown."""
    (sent,) = of(flow.tap_service("G"), IssueTicket)
    clock.advance(flow.busy_deadline_s)
    (offline,) = of(flow.tick(), IssueOffline)
    flow.on_effect_failed(offline)
    assert flow.view.screen is Screen.MESSAGE and flow.view.message == ISSUE_FAILED
    assert flow.pending_withdrawals == 0  # nothing journaled, nothing to withdraw
    late = {"id": 9, "number": "G001", "service": "G", "issued_at": "2025-05-06T10:00:00+08:00"}
    (job,) = of(flow.on_issued(sent.token, late), PrintTicket)
    assert job.ticket.number == "G001" and flow.view.screen is Screen.TICKET


def test_a_check_in_without_answer_ends_in_the_offline_message(
    flow: KioskFlow, clock: FakeClock
) -> None:
    flow.tap_checkin()
    (sent,) = of(flow.on_card(flow.token, CITIZEN), CheckIn)
    clock.advance(flow.busy_deadline_s)
    effects = flow.tick()
    assert flow.view.screen is Screen.MESSAGE and "签到" in flow.view.message
    assert of(effects, IssueTicket) == [] and of(effects, IssueOffline) == []
    assert flow.on_refused(sent.token, "no_appointment") == []  # the old session's answer
    assert flow.view.screen is Screen.MESSAGE and "签到" in flow.view.message


def test_a_failed_effect_reaches_its_journey(flow: KioskFlow) -> None:
    """What ``on_effect_failed`` makes of an effect the runtime could not carry out."""
    # an issue: the hall may hold the ticket, so the offline one with its key (not lost, and
    # the hall's withdrawn: not twice)
    (sent,) = of(flow.tap_service("G"), IssueTicket)
    (offline,) = of(flow.on_effect_failed(sent), IssueOffline)
    assert offline.withdraw_key == sent.idempotency_key
    assert flow.view.screen is Screen.ISSUING and flow.pending_withdrawals == 1
    # the print of the ticket it gave: the ticket stays on screen with its QR code
    journaled = {"number": "K1-G001", "service": "G", "issued_at": "2025-05-06T10:00:00+08:00"}
    (job,) = of(flow.on_issued(offline.token, journaled, offline=True), PrintTicket)
    flow.on_effect_failed(job)
    assert flow.view.screen is Screen.TICKET and flow.view.ticket.print_failed
    assert flow.parts["printer"] == "error"
    # a check-in: said, nothing issued
    flow.home()
    flow.offline = False
    flow.tap_checkin()
    (check_in,) = of(flow.on_card(flow.token, CITIZEN), CheckIn)
    effects = flow.on_effect_failed(check_in)
    assert flow.view.screen is Screen.MESSAGE and "签到" in flow.view.message
    assert of(effects, IssueTicket) == [] and of(effects, IssueOffline) == []

"""The flow driven through the real runtime: a real hall server process on loopback, the
real HallClient, the printer and ID-card simulators behind their real drivers, and the
offline journal on disk. Asserts the printed bytes and the hall's state.

One server per module (tests/support/multi_hall.py); every test has a hall of its
own in it (its own ``hall_id``: numbers start at 001, queues and daily limits are empty), so
no test depends on another. Stopping or freezing "the hall" stops or freezes the server
process; the ``hall`` fixture brings it back up for the next test whatever a failed one left."""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from devices.idcard.simulator import IdCardSimulator
from devices.open import open_idcard, open_player, open_printer
from devices.printer.decode import decode_text
from devices.printer.simulator import PrinterSimulator
from hall.client import HallApiError, HallClient, Ticket
from kiosk.flows.flow import KioskFlow
from kiosk.flows.model import Heartbeat, PollDevices, Screen, tile_from_api
from kiosk.journal import OfflineJournal
from kiosk.runtime import DeviceSet, Runtime, SyncRunner
from tests.kiosk.conftest import make_settings
from tests.support.hall_server import TOKENS
from tests.support.multi_hall import Hall, MultiHallServer, start_multi_hall

TZ = ZoneInfo("Asia/Shanghai")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MultiHallServer]:
    halls = start_multi_hall(tmp_path_factory.mktemp("halls"))
    yield halls
    halls.close()


@pytest.fixture
def hall(server: MultiHallServer, request: pytest.FixtureRequest) -> Hall:
    """A hall of this test's own, in the module's server (running, not frozen)."""
    return server.hall_for("kiosk", request.node.name)


class Kiosk:
    def __init__(self, tmp: Path, hall: Hall, *, timeout: float = 5.0) -> None:
        self.settings = make_settings(tmp, server=hall.url, token=TOKENS["kiosk"])
        self.client = HallClient(
            hall.url, TOKENS["kiosk"], timeout=timeout, retries=2, backoff_s=0.05
        )
        self.journal = OfflineJournal(tmp / "journal.jsonl", "K1")
        self.devices = DeviceSet(
            reader=open_idcard("sim", "sim"),
            printer=open_printer("sim"),
            player=open_player("none"),
        )
        self.runtime = Runtime(
            self.settings,
            self.client,
            self.journal,
            self.devices,
            hall_name="西城区政务服务中心",
            hall_name_en="Xicheng",
            tz=TZ,
            load_face_models=False,
        )
        tiles = [tile_from_api(s.model_dump()) for s in self.client.services()]
        self.flow = KioskFlow(
            self.settings,
            "西城区政务服务中心",
            "Xicheng",
            tiles,
            clock=self.runtime.now,
            hall_id=hall.hall_id,
        )
        self.runner = SyncRunner(self.flow, self.runtime)
        self.run(self.flow.tick())  # first poll + heartbeat, as at start-up
        self.run(self.flow.wake())

    def run(self, effects: list) -> KioskFlow:
        return self.runner.run(effects)

    @property
    def printer_sim(self) -> PrinterSimulator:
        return self.devices.printer.simulator

    @property
    def reader_sim(self) -> IdCardSimulator:
        return self.devices.reader.simulator

    def printed(self) -> list[str]:
        return [decode_text(j.data) for j in self.printer_sim.printed if j.printed]

    def close(self) -> None:
        self.runtime.close()
        self.devices.close()


@pytest.fixture
def kiosk(tmp_path: Path, hall: Hall) -> Iterator[Kiosk]:
    k = Kiosk(tmp_path, hall)
    yield k
    k.close()


def test_ticket_without_id_is_issued_printed_and_in_the_hall(kiosk: Kiosk) -> None:
    assert kiosk.flow.parts == {
        "printer": "ok",
        "reader": "ok",
        "camera": "absent",
        "speaker": "absent",
    }
    kiosk.run(kiosk.flow.tap_service("G"))
    tk = kiosk.flow.view.ticket
    assert kiosk.flow.view.screen is Screen.TICKET and tk.number == "G001"
    assert not tk.printing and not tk.print_failed
    (text,) = kiosk.printed()
    assert "G001" in text and "企业开办" in text
    # where to go, for how long it is good and what happens if the call is missed — and no
    # database id that would let anyone look up other people's tickets
    assert "办理窗口/Counter:" in text and "本号当日有效" in text and "过号后30分钟内" in text
    assert "查询码" not in text
    state = kiosk.client.ticket(tk.ticket_id)
    assert state.status == "waiting" and state.number == "G001"


def test_ticket_with_id_card_sends_number_and_masks_it_everywhere(kiosk: Kiosk) -> None:
    kiosk.reader_sim.place("resident")
    kiosk.run(kiosk.flow.tap_service("A"))
    tk = kiosk.flow.view.ticket
    assert tk.number == "A001" and not tk.print_failed
    state = kiosk.client.ticket(tk.ticket_id)
    assert state.id_masked == "110***********1231" and state.name_masked == "张**"
    text = kiosk.printed()[0]
    assert "110105198503171231" not in text and "张小三" not in text
    # the same person again: the hall's daily limit, said and nothing printed
    kiosk.run(kiosk.flow.home())
    kiosk.run(kiosk.flow.tap_service("A"))
    assert kiosk.flow.view.screen is Screen.MESSAGE and "已取过" in kiosk.flow.view.message
    assert len(kiosk.printed()) == 1


def test_an_elderly_card_gets_the_green_lane_on_screen_and_paper(kiosk: Kiosk) -> None:
    kiosk.reader_sim.place("elderly")
    kiosk.run(kiosk.flow.tap_service("A"))
    tk = kiosk.flow.view.ticket
    assert (tk.priority, tk.priority_reason) == ("priority", "elderly")
    (text,) = kiosk.printed()
    assert "绿色通道（老年人）优先办理" in text and "Priority lane (senior)" in text


def test_the_wait_is_shown_and_printed_as_the_halls_range(kiosk: Kiosk) -> None:
    for _ in range(6):  # people ahead, so there is a wait to speak of
        kiosk.run(kiosk.flow.tap_service("H"))
        kiosk.run(kiosk.flow.home())
    kiosk.run(kiosk.flow.tap_service("H"))
    tk = kiosk.flow.view.ticket
    state = kiosk.client.ticket(tk.ticket_id)
    assert tk.wait_range_s == (state.wait_range_min_s, state.wait_range_max_s)
    lo, hi = (round(s / 60) for s in tk.wait_range_s)
    text = " ".join(kiosk.printed()[-1].split())
    assert (f"预计等待 {lo}–{hi} 分钟" if lo else f"预计 {hi} 分钟内叫号") in text


def test_a_held_ticket_is_named_and_reprinted_once(kiosk: Kiosk) -> None:
    kiosk.reader_sim.place("resident")
    kiosk.run(kiosk.flow.tap_service("A"))
    first = kiosk.flow.view.ticket
    kiosk.run(kiosk.flow.home())
    # lost it: the same card again is told the number it holds and offered 补打
    kiosk.run(kiosk.flow.tap_service("A"))
    view = kiosk.flow.view
    assert view.screen is Screen.MESSAGE and first.number in view.message and view.can_reprint
    kiosk.run(kiosk.flow.tap_reprint())
    assert kiosk.flow.view.screen is Screen.TICKET
    assert kiosk.flow.view.ticket.number == first.number
    _, again = kiosk.printed()
    assert first.number in again and "办理窗口" in again
    # the hall logged it, and a second reprint is refused in words, nothing printed
    kiosk.run(kiosk.flow.home())
    kiosk.run(kiosk.flow.tap_service("A"))
    kiosk.run(kiosk.flow.tap_reprint())
    view = kiosk.flow.view
    assert view.screen is Screen.MESSAGE and "已补打过" in view.message and not view.can_reprint
    assert len(kiosk.printed()) == 2
    assert kiosk.client.ticket(first.ticket_id).status == "waiting"  # still the one ticket


def test_printer_out_of_paper_shows_ticket_and_tells_the_hall(kiosk: Kiosk) -> None:
    kiosk.printer_sim.set_fault("paper_end")
    kiosk.run(kiosk.flow.tap_service("J"))
    tk = kiosk.flow.view.ticket
    assert kiosk.flow.view.screen is Screen.TICKET and tk.print_failed and tk.number == "J001"
    beats = [e for e in kiosk.runner.log if isinstance(e, Heartbeat)]
    assert beats[-1].parts["printer"] == "error" and not kiosk.flow.view.offline
    assert kiosk.printed() == []
    assert kiosk.client.ticket(tk.ticket_id).status == "waiting"  # valid though unprinted


def drain_queue(hall: Hall, counter: str) -> list[str]:
    staff = HallClient(hall.url, TOKENS["counter"])
    numbers = []
    while (ticket := staff.call_next(counter)) is not None:
        numbers.append(ticket.number)
        staff.counter_action(counter, "start")
        staff.counter_action(counter, "finish")
    return numbers


def test_offline_tickets_survive_and_join_the_queue_once(
    kiosk: Kiosk, hall: Hall, tmp_path: Path
) -> None:
    kiosk.run(kiosk.flow.tap_service("G"))  # online: G001
    kiosk.run(kiosk.flow.home())
    hall.stop()
    numbers = []
    for code in ("G", "G", "H"):
        kiosk.run(kiosk.flow.tap_service(code))
        tk = kiosk.flow.view.ticket
        assert tk.offline and tk.estimated_wait_s is None and not tk.print_failed
        numbers.append(tk.number)
        kiosk.run(kiosk.flow.home())
    assert numbers == ["K1-G001", "K1-G002", "K1-H001"]
    assert kiosk.flow.view.offline and kiosk.flow.view.pending_uploads == 3
    printed = kiosk.printed()
    assert "K1-G002" in printed[2] and "暂无法" in printed[2]
    # the journal survives a restart of the kiosk process and holds no ID number
    lines = (tmp_path / "journal.jsonl").read_text(encoding="utf-8").splitlines()
    assert [json.loads(x)["offline_number"] for x in lines] == numbers
    assert len(OfflineJournal(tmp_path / "journal.jsonl", "K1").pending()) == 3

    hall.start()
    kiosk.flow._last_heartbeat = None
    kiosk.run(kiosk.flow.tick())  # heartbeat succeeds → upload
    assert not kiosk.flow.view.offline and kiosk.flow.view.pending_uploads == 0
    assert kiosk.journal.pending() == []
    # uploading again (a lost reply, a restart) must not duplicate anything
    kiosk.client.import_tickets(
        [
            {
                "kiosk": "K1",
                "offline_number": "K1-G001",
                "service": "G",
                "issued_at": kiosk.runtime.now().isoformat(),
            }
        ]
    )
    called = drain_queue(hall, "17") + drain_queue(hall, "19")
    assert sorted(called) == sorted(["G001", *numbers])
    assert called.count("K1-G001") == 1
    # new online numbers continue the hall's own sequence, no collision
    kiosk.run(kiosk.flow.home())
    kiosk.run(kiosk.flow.tap_service("G"))
    assert kiosk.flow.view.ticket.number == "G002"


def test_help_request_and_status(kiosk: Kiosk) -> None:
    kiosk.run(kiosk.flow.tap_help())
    assert "已通知" in kiosk.flow.view.message
    kiosk.run(kiosk.flow.home())
    kiosk.run(kiosk.flow.tap_service("J"))
    kiosk.run(kiosk.flow.home())
    kiosk.run(kiosk.flow.tap_status())
    for ch in "J1":
        kiosk.run(kiosk.flow.key(ch))
    kiosk.run(kiosk.flow.key_ok())
    assert kiosk.flow.view.screen is Screen.STATUS
    assert kiosk.flow.view.status_lines[:2] == ("号码 J001", "等候中")


def query_status(kiosk: Kiosk, typed: str) -> None:
    kiosk.run(kiosk.flow.home())
    kiosk.run(kiosk.flow.tap_status())
    for ch in typed:
        kiosk.run(kiosk.flow.key(ch))
    kiosk.run(kiosk.flow.key_ok())


def test_status_by_the_number_printed_big_on_the_ticket(kiosk: Kiosk, hall: Hall) -> None:
    for _ in range(3):
        kiosk.run(kiosk.flow.tap_service("J"))
        kiosk.run(kiosk.flow.home())
    query_status(kiosk, "J2")  # the citizen types what they read, the kiosk pads it
    assert kiosk.flow.view.screen is Screen.STATUS
    assert kiosk.flow.view.status_lines == ("号码 J002", "等候中", "前面还有 1 人")
    staff = HallClient(hall.url, TOKENS["counter"])
    assert staff.call_next("22").number == "J001"
    query_status(kiosk, "J001")
    assert kiosk.flow.view.status_lines[1:] == ("已叫号", "请到 22号咨询台 办理")
    query_status(kiosk, "J9")  # no such number today: said, and typed again
    assert kiosk.flow.view.screen is Screen.KEYPAD and kiosk.flow.view.message_error
    # an offline ticket, once uploaded, is found by the number on its paper
    hall.stop()
    kiosk.run(kiosk.flow.home())
    kiosk.run(kiosk.flow.tap_service("J"))
    assert kiosk.flow.view.ticket.number == "K1-J001"
    hall.start()
    reconnect(kiosk)
    query_status(kiosk, "K1-J1")
    assert kiosk.flow.view.status_lines[:2] == ("号码 K1-J001", "等候中")


def test_guide_prints_materials(kiosk: Kiosk) -> None:
    kiosk.run(kiosk.flow.tap_guide())
    kiosk.run(kiosk.flow.tap_guide_service("B"))
    kiosk.run(kiosk.flow.print_guide())
    assert "已打印" in kiosk.flow.view.message
    assert "医保电子凭证" in kiosk.printed()[0]


def test_reader_unplugged_falls_back_to_keypad(kiosk: Kiosk) -> None:
    kiosk.reader_sim.unplug()
    kiosk.run([PollDevices(0)])  # the periodic device poll notices the missing reader
    assert kiosk.flow.parts["reader"] == "offline"
    beats = [e for e in kiosk.runner.log if isinstance(e, Heartbeat)]
    assert beats[-1].parts["reader"] == "offline"  # the hall hears of it at once
    kiosk.run(kiosk.flow.tap_service("E"))
    assert kiosk.flow.view.screen is Screen.KEYPAD and "手动输入" in kiosk.flow.view.message
    for ch in "110105198503171231":
        kiosk.run(kiosk.flow.key(ch))
    kiosk.run(kiosk.flow.key_ok())
    assert kiosk.flow.view.ticket.number == "E001"


def frozen_issue(kiosk: Kiosk, hall: Hall, service: str) -> str:
    """Tap ``service`` while the hall process is frozen (SIGSTOP: a stalled disk, a long GC).
    The kernel still accepts the connection and buffers the request, so the kiosk's read
    times out; on SIGCONT the hall processes the buffered request and issues a ticket whose
    answer nobody reads. Returns the offline number the citizen was given instead."""
    assert hall.proc is not None
    os.kill(hall.proc.pid, signal.SIGSTOP)
    try:
        kiosk.run(kiosk.flow.tap_service(service))
    finally:
        os.kill(hall.proc.pid, signal.SIGCONT)
    tk = kiosk.flow.view.ticket
    assert kiosk.flow.view.screen is Screen.TICKET and tk.offline
    return tk.number


def hall_ticket(hall: Hall, number: str) -> Ticket:
    """The hall's own view of ``number`` once it has caught up with buffered requests."""
    staff = HallClient(hall.url, TOKENS["admin"], timeout=5.0)
    deadline = time.monotonic() + 10
    while True:
        try:
            return staff.ticket_by_number(number)
        except HallApiError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def reconnect(kiosk: Kiosk) -> None:
    kiosk.flow._last_heartbeat = None
    kiosk.run(kiosk.flow.tick())  # heartbeat answered → withdraw phantoms, upload journal


def test_lost_answer_ticket_is_withdrawn_before_the_offline_one_joins(
    tmp_path: Path, hall: Hall
) -> None:
    kiosk = Kiosk(tmp_path, hall, timeout=0.5)
    try:
        kiosk.reader_sim.place("resident")
        offline_number = frozen_issue(kiosk, hall, "A")
        assert offline_number == "K1-A001" and kiosk.flow.view.offline
        phantom = hall_ticket(hall, "A001")
        assert phantom.status == "waiting"  # the hall did issue it: the answer was lost
        # the journal holds the key, never the ID number or the whole name
        journal = (tmp_path / "journal.jsonl").read_text(encoding="utf-8")
        (line,) = [json.loads(x) for x in journal.splitlines()]
        assert line["withdraw_key"] and line["offline_number"] == offline_number
        assert "110105198503171231" not in journal and "张小三" not in journal
        assert kiosk.flow.pending_withdrawals == 1

        reconnect(kiosk)
        assert hall_ticket(hall, "A001").status == "cancelled"
        assert kiosk.flow.pending_withdrawals == 0 and kiosk.flow.pending_uploads == 0
        assert kiosk.journal.withdrawals() == [] and kiosk.journal.pending() == []
        # afterwards: the citizen is called once, for the paper they hold
        assert drain_queue(hall, "1") == [offline_number]
        # and settling again (a restart, a lost reply) changes nothing
        kiosk.journal.issue("A", "A", kiosk.runtime.now(), withdraw_key="never-sent")
        reconnect(kiosk)
        assert hall_ticket(hall, "A001").status == "cancelled"
    finally:
        kiosk.close()


def test_lost_answer_ticket_already_called_is_left_alone(tmp_path: Path, hall: Hall) -> None:
    kiosk = Kiosk(tmp_path, hall, timeout=0.5)
    try:
        offline_number = frozen_issue(kiosk, hall, "G")
        hall_ticket(hall, "G001")
        assert drain_queue(hall, "17") == ["G001"]  # a counter was quicker than the kiosk
        reconnect(kiosk)
        # two tickets for one citizen is acceptable; what must hold: nothing pending
        # forever, the offline ticket joins, and the journal records why
        assert kiosk.journal.withdrawals() == [] and kiosk.flow.pending_withdrawals == 0
        lines = [
            json.loads(x)
            for x in (tmp_path / "journal.jsonl").read_text(encoding="utf-8").splitlines()
        ]
        assert [r["outcome"] for r in lines if r["kind"] == "withdrawn"] == ["already_called"]
        assert drain_queue(hall, "17") == [offline_number]
    finally:
        kiosk.close()


def test_unreached_hall_leaves_a_key_that_settles_as_not_issued(tmp_path: Path, hall: Hall) -> None:
    kiosk = Kiosk(tmp_path, hall, timeout=0.5)
    try:
        hall.stop()  # refused: the request never left, but the kiosk cannot know that
        kiosk.run(kiosk.flow.tap_service("G"))
        assert kiosk.flow.view.ticket.offline
        hall.start()
        reconnect(kiosk)
        # a 404 soon after the failure is not believed yet: the request might be in flight
        assert kiosk.flow.pending_uploads == 0 and kiosk.flow.pending_withdrawals == 1
        (w,) = kiosk.journal.withdrawals()
        later = w.failed_at + dt.timedelta(seconds=31)
        kiosk.runtime.now = lambda: later  # type: ignore[method-assign]
        reconnect(kiosk)
        assert kiosk.journal.withdrawals() == [] and kiosk.flow.pending_withdrawals == 0
        assert drain_queue(hall, "17") == ["K1-G001"]
    finally:
        kiosk.close()

"""The signage box's heartbeat against a real hall server process: the lobby board speaks
as the device its display token names, with its board, speaker and LED strips; a failing
part shows as error, a device it may not speak for is refused once and the beats end, and
a hall that is down costs a beat, not the thread."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from hall.client import HallClient
from hall.config import load_config
from signage.config import parse_signage
from signage.feed import BoardFeed
from signage.heartbeat import Heartbeat, PartStates, device_id, interval_s, speaker_state
from tests.support.hall_server import SAMPLE, TOKENS, HallProcess, start_hall


def wait(pred: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return
        time.sleep(0.02)
    raise AssertionError("condition not reached in time")


@dataclass
class Item:
    status: str


@dataclass
class FakeAnnouncer:
    """What PartStates reads of signage.announcer.Announcer: its history."""

    history: list[Item] = field(default_factory=list)

    def on_event(self, event_id: int, event_type: str, data: object) -> None:
        pass


@dataclass
class FakeLeds:
    """What PartStates reads of signage.led.LedStrips: its count of failed writes."""

    failures: int = 0

    def on_event(self, event_id: int, event_type: str, data: object) -> None:
        pass


@pytest.fixture(scope="module")
def hall(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HallProcess]:
    h = start_hall(tmp_path_factory.mktemp("hall"))
    yield h
    h.stop()


def test_no_kivy() -> None:
    import signage.heartbeat  # noqa: F401

    assert "kivy" not in sys.modules


def test_the_device_is_the_one_the_display_token_names() -> None:
    hall = load_config(SAMPLE)
    assert device_id(hall, TOKENS["display"]) == "lobby-1"  # [[token]] lobby-board
    assert device_id(hall, TOKENS["display"], "3") == "lobby-1"
    # not in this box's file (or bound to "*"): a name of its own
    assert device_id(hall, "not-a-token-of-this-hall") == "lobby"
    assert device_id(hall, "not-a-token-of-this-hall", "3") == "screen-3"
    assert 2 <= interval_s(hall) <= hall.policy.device_silent_s / 2


def test_speaker_state_is_the_last_finished_announcement() -> None:
    assert speaker_state(FakeAnnouncer()) == "ok"
    assert speaker_state(FakeAnnouncer([Item("done"), Item("failed")])) == "error"
    # still queued or playing does not count; silenced calls are not a fault
    assert speaker_state(FakeAnnouncer([Item("failed"), Item("done"), Item("queued")])) == "ok"
    assert speaker_state(FakeAnnouncer([Item("failed"), Item("silenced")])) == "error"


def test_the_board_reports_its_parts_and_the_hall_lists_it(hall: HallProcess) -> None:
    cfg = parse_signage({"server": hall.url, "token": TOKENS["display"]})
    client = HallClient(hall.url, TOKENS["display"])
    feed = BoardFeed(client, cfg, max_backoff_s=0.5)
    announcer, leds = FakeAnnouncer(), FakeLeds()
    parts = PartStates(feed, [announcer, leds], speaker_wanted=True)
    beat = Heartbeat(client, device_id(load_config(hall.config), cfg.token), parts, 60)
    admin = HallClient(hall.url, TOKENS["admin"])

    def health() -> dict[str, str]:
        return next(d for d in admin.devices() if d.device == "lobby-1").parts

    # no snapshot yet: what the board shows is not the hall's state
    assert beat.beat() and health() == {"board": "warning", "speaker": "ok", "led": "ok"}
    feed.start()
    try:
        wait(lambda: feed.state is not None)
        assert beat.beat() and health() == {"board": "ok", "speaker": "ok", "led": "ok"}
        announcer.history.append(Item("failed"))  # aplay failed on the last call
        leds.failures += 3  # a strip does not answer
        assert beat.beat() and health() == {"board": "ok", "speaker": "error", "led": "error"}
        assert beat.beat() and health()["led"] == "ok"  # no new failures since the last beat
        row = next(d for d in admin.devices() if d.device == "lobby-1")
        assert row.role == "display" and row.online
    finally:
        feed.stop(1.0)


def test_a_counter_screen_without_speaker_or_strips(hall: HallProcess) -> None:
    cfg = parse_signage({"server": hall.url, "token": TOKENS["display"]})
    client = HallClient(hall.url, TOKENS["display"])
    parts = PartStates(BoardFeed(client, cfg), [], counter="21", speaker_wanted=False)
    assert parts() == {"screen": "warning", "led": "absent"}
    lobby = PartStates(BoardFeed(client, cfg), [], speaker_wanted=True)
    assert lobby()["speaker"] == "error"  # announcing is on, but the announcer did not start
    silent = PartStates(BoardFeed(client, cfg), [], speaker_wanted=False)
    assert silent()["speaker"] == "absent"


def test_a_device_it_may_not_speak_for_ends_the_beats(hall: HallProcess) -> None:
    client = HallClient(hall.url, TOKENS["display"])
    beat = Heartbeat(client, "K1", lambda: {"board": "ok"}, 0.05).start()
    wait(lambda: beat.last_error is not None)
    assert beat._thread is not None
    beat._thread.join(2)
    assert not beat._thread.is_alive() and beat.sent == 0 and "wrong_device" in beat.last_error


def test_a_hall_that_is_down_costs_a_beat_not_the_thread(tmp_path: Path) -> None:
    client = HallClient("http://127.0.0.1:9", TOKENS["display"], retries=0, timeout=0.5)
    beat = Heartbeat(client, "lobby-1", lambda: {"board": "ok"}, 0.05).start()
    try:
        wait(lambda: beat.last_error is not None)
        time.sleep(0.2)
        assert beat._thread is not None and beat._thread.is_alive()
    finally:
        beat.stop()
    assert beat._thread is not None and not beat._thread.is_alive()

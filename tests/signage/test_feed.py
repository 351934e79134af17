"""The signage feed against a real hall server process: calls made through the API reach the
board state and the announcer; a server cut shows as disconnected and resumes without loss."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from hall.client import HallClient
from signage.board_state import BoardState
from signage.config import parse_signage
from signage.feed import BoardFeed
from tests.support.hall_server import TOKENS, HallProcess, start_hall


def wait(pred: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return
        time.sleep(0.02)
    raise AssertionError("condition not reached in time")


class Sink:
    def __init__(self) -> None:
        self.events: list[tuple[int, str]] = []

    def on_event(self, event_id: int, event_type: str, data: object) -> None:
        self.events.append((event_id, event_type))


@pytest.fixture
def hall(tmp_path: Path) -> Iterator[HallProcess]:
    h = start_hall(tmp_path)
    yield h
    h.stop()


def test_no_kivy() -> None:
    assert "kivy" not in sys.modules


@pytest.mark.slow  # a hall process, stopped and started again
def test_calls_reach_the_board_and_survive_a_server_restart(hall: HallProcess) -> None:
    kiosk = HallClient(hall.url, TOKENS["kiosk"])
    counter = HallClient(hall.url, TOKENS["counter"])
    for _ in range(3):
        kiosk.issue_ticket("J")
    first = counter.call_next("22")
    cfg = parse_signage({"server": hall.url, "token": TOKENS["display"]})
    sink = Sink()
    feed = BoardFeed(HallClient(hall.url, TOKENS["display"]), cfg, sinks=(sink,), max_backoff_s=0.5)
    states: list[BoardState] = []
    feed.listen(states.append)
    feed.start()
    try:
        wait(lambda: feed.state is not None)
        assert feed.state.calls[0].number == first.number  # from the snapshot
        second = counter.call_next("22")
        wait(lambda: feed.state.calls[0].number == second.number)
        assert feed.state.counter("22").current == second.number
        assert dict((s.code, s.waiting) for s in feed.state.services)["J"] == 1
        assert [t for _, t in sink.events if t.startswith("ticket.called")] == ["ticket.called"]

        hall.stop()
        wait(lambda: not feed.state.connected)
        hall.start()
        counter.pause("21", "午休")
        third = counter.call_next("22")
        wait(lambda: feed.state.connected and feed.state.calls[0].number == third.number)
        assert feed.state.counter("21").state == "paused"
        ids = [i for i, _ in sink.events]
        assert ids == sorted(set(ids))  # every event once, in order, across the restart
        assert [c.number for c in feed.state.calls[:3]] == [
            third.number,
            second.number,
            first.number,
        ]
        assert feed.listener_errors == 0 and feed.state.rejected == 0
    finally:
        feed.stop()


@pytest.mark.slow  # a second of refused retries, then a hall process start
def test_hall_down_at_start_is_retried(tmp_path: Path) -> None:
    from tests.support.hall_server import free_port, write_config

    port = free_port()
    cfg_path = write_config(tmp_path / "hall.toml", port)
    cfg = parse_signage({"server": f"http://127.0.0.1:{port}", "token": TOKENS["display"]})
    feed = BoardFeed(HallClient(cfg.server, cfg.token, retries=0), cfg, max_backoff_s=0.5)
    feed.start()
    try:
        time.sleep(1.0)
        assert feed.state is None  # nothing to show yet, and no crash
        hall = HallProcess(cfg_path, port, f"sqlite:///{tmp_path / 'hall.db'}").start()
        try:
            wait(lambda: feed.state is not None and feed.state.connected)
            assert len(feed.state.counters) == 22
        finally:
            hall.stop()
    finally:
        feed.stop()

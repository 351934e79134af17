"""The real signage app (Kivy, offscreen) against a real hall server: calls made through the
API appear on the lobby board. Screenshots at 1920×1080 and 3840×2160 go to
build/screenshots/signage/ for a person to look at.

Kivy allows one window per process: run with ``pytest -m gui tests/signage`` in a process of
its own (scripts/test.sh does)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from hall.client import HallClient
from signage.config import parse_signage
from signage.feed import BoardFeed
from tests.support.hall_server import TOKENS, HallProcess, start_hall

pytestmark = pytest.mark.gui

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "build" / "screenshots" / "signage"


def pump(pred: Callable[[], bool], timeout: float = 10.0) -> None:
    """Run Kivy frames until ``pred`` holds."""
    from kivy.base import EventLoop

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        EventLoop.idle()
        if pred():
            return
        time.sleep(0.01)
    raise AssertionError("condition not reached in time")


def frames(seconds: float) -> None:
    from kivy.base import EventLoop

    end = time.monotonic() + seconds
    while time.monotonic() < end:
        EventLoop.idle()
        time.sleep(0.01)


def screenshot(name: str) -> Path:
    from kivy.core.window import Window

    SHOTS.mkdir(parents=True, exist_ok=True)
    written = Path(Window.screenshot(name=str(SHOTS / f"{name}.png")))
    final = SHOTS / f"{name}.png"
    shutil.move(written, final)  # Kivy appends 0001 to the name
    return final


@pytest.fixture(scope="module")
def hall(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HallProcess]:
    h = start_hall(tmp_path_factory.mktemp("hall"))
    yield h
    h.stop()


@pytest.fixture(scope="module")
def app(hall: HallProcess) -> Iterator[Any]:
    from kivy.config import Config

    Config.set("graphics", "width", "1920")
    Config.set("graphics", "height", "1080")
    from kivy.core.window import Window

    from signage.app import make_app

    Window.size = (1920, 1080)
    cfg = parse_signage(
        {"server": hall.url, "token": TOKENS["display"], "recent_calls": 6, "flash_s": 3}
    )
    feed = BoardFeed(HallClient(hall.url, TOKENS["display"]), cfg, max_backoff_s=0.5)
    application = make_app(feed)
    application._run_prepare()
    yield application
    application.stop()
    feed.stop(1.0)


def test_font_renders_simplified_chinese_not_boxes(app: Any) -> None:  # needs the GL window
    from kivy.core.text import Label as CoreLabel

    from signage.app import register_fonts

    register_fonts()

    def ink(text: str) -> bytes:
        lbl = CoreLabel(text=text, font_name="CJK", font_size=64)
        lbl.refresh()
        return bytes(lbl.texture.pixels)

    # A font without the glyphs draws the same box (tofu) for every character.
    assert ink("请") != ink("号") != ink("窗")
    assert ink("请") != ink("\uffff")


def test_calls_through_the_api_appear_on_the_board(app: Any, hall: HallProcess) -> None:
    kiosk = HallClient(hall.url, TOKENS["kiosk"])
    counter = HallClient(hall.url, TOKENS["counter"])
    for service in ["J", "J", "J", "G", "G", "H", "H", "H", "J", "G", "H", "J"]:
        kiosk.issue_ticket(service)
    pump(lambda: app.state is not None and app.screen.view is not None)
    calls = [counter.call_next(c) for c in ["22", "17", "19", "1", "18", "20", "2"]]
    counter.pause("21", "午休")
    last = calls[-1]
    pump(lambda: app.screen.view.headline == f"请 {last.number} 号 到 {last.counter_name}")
    view = app.screen.view
    assert view.flashing  # a new call flashes
    assert [r.number for r in view.recent] == [c.number for c in reversed(calls[:-1])]
    tiles = {t.label: t for t in view.counters}
    pump(lambda: {t.label: t for t in app.screen.view.counters}["21号"].state == "paused")
    tiles = {t.label: t for t in app.screen.view.counters}
    assert tiles["21号"].detail == "午休"
    assert tiles["22号"].detail == calls[0].number
    waiting = {s.name: s.waiting for s in app.screen.view.services}
    # J: 5 issued, 3 called; G: 3 issued, 2 called; H: 4 issued, 2 called.
    assert (waiting["综合咨询"], waiting["企业开办"], waiting["税务业务"]) == ("2", "1", "2")
    assert waiting["社保业务"] == "0"
    # The widgets show it (not only the view-model).
    assert app.screen.ids.headline.text == view.headline
    assert len(app.screen.ids.recent_box.children) == 6
    frames(0.9)  # let the flash show
    screenshot("lobby_1920x1080_flash")
    frames(3.5)  # flash over
    assert not app.screen.view.flashing and not app.screen.flash_on
    shot = screenshot("lobby_1920x1080")
    assert shot.stat().st_size > 50_000


def test_the_counter_grid_is_readable_from_the_seats(app: Any, hall: HallProcess) -> None:
    """Day in the hall 10: every text of the 22-counter grid ≥ 40 px at 1080p, nothing
    shortened, every tile on the screen above the notice strip."""
    from kivy.core.text import Label as CoreLabel

    pump(lambda: app.screen.view is not None and len(app.screen.ids.counters_box.children) == 22)
    # counter 1 finishes its citizen and waits for the next: its tile says 空闲
    HallClient(hall.url, TOKENS["counter"]).counter_action("1", "finish")
    pump(lambda: {t.label: t for t in app.screen.view.counters}["1号"].detail == "空闲")
    frames(0.5)
    strip = app.screen.ids.notice_strip
    for tile in app.screen.ids.counters_box.children:
        assert tile.y >= strip.top - 1, tile.label  # not under the notice strip
        for part in (tile.ids.label, tile.ids.detail):
            assert part.font_size >= 40, (tile.label, part.text)
            full = CoreLabel(
                text=part.text, font_size=part.font_size, font_name="CJK", bold=part.bold
            )
            full.refresh()
            width, height = full.texture.size
            assert width <= part.width and height <= part.height + 2, (part.text, part.size)
    screenshot("lobby_counter_grid")


def test_offline_numbers_are_shown_whole_in_the_recent_calls(app: Any, hall: HallProcess) -> None:
    """Day in the hall 2 and 10: a ticket printed during an outage (K1-J001, K1-J1000) is
    called and listed whole under the headline in type readable from the seats, not cut to
    "K1-…" (the day test's closing screenshot showed every offline call so)."""
    import datetime as dt

    kiosk = HallClient(hall.url, TOKENS["kiosk"])
    counter = HallClient(hall.url, TOKENS["counter"])
    now = dt.datetime.now(dt.UTC).isoformat()
    numbers = ["K1-J001", "K1-J1000"]
    imported = kiosk.import_tickets(
        [{"kiosk": "K1", "offline_number": n, "service": "J", "issued_at": now} for n in numbers]
    )
    tickets = [r.ticket for r in imported.results]
    assert all(tk is not None for tk in tickets), imported.results
    tickets.append(kiosk.issue_ticket("J"))  # then a hall number, so both are in the list

    def drawn(label: Any) -> str:
        """What Kivy laid out, after its shortening: the whole number, not "K1-J10…"."""
        return "".join(w.text for line in label._label._cached_lines for w in line.words)

    def tile() -> Any:
        return next(t for t in app.screen.ids.counters_box.children if t.label == "1号")

    for tk in tickets:
        if counter.counter("1").current is not None:
            counter.counter_action("1", "finish")
        counter.call("1", tk.id)  # type: ignore[union-attr]
        if tk.number == numbers[-1]:  # type: ignore[union-attr]
            # the counter's tile while it serves the longest: whole, if smaller than 46 px
            pump(lambda: tile().detail == numbers[-1])
            frames(0.3)
            assert drawn(tile().ids.detail) == numbers[-1], tile().ids.detail.font_size
    pump(lambda: [r.number for r in app.screen.view.recent][:2] == numbers[::-1])
    frames(0.5)
    rows = {row.number: row for row in app.screen.ids.recent_box.children}
    for number in numbers:
        label = next(w for w in rows[number].children if getattr(w, "text", None) == number)
        assert drawn(label) == number, (drawn(label), label.font_size, label.size)
        assert label.font_size >= 40, (number, label.font_size)  # px at 1080p
    screenshot("lobby_offline_numbers")


def run_signage(hall: HallProcess, shot: Path, *args: str) -> None:
    """``govhall signage`` as its own process (Kivy: one window size per process)."""
    shot.unlink(missing_ok=True)
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "govhall.cli",
            "signage",
            "--config",
            str(hall.config),
            "--silent",
            "--screenshot",
            str(shot),
            "--after",
            "2.5",
            *args,
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "SDL_VIDEODRIVER": "offscreen"},
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert shot.is_file(), proc.stderr[-2000:]


def test_board_at_4k_from_the_command_line(app: Any, hall: HallProcess) -> None:
    from kivy.core.image import Image as CoreImage

    shot = SHOTS / "lobby_3840x2160.png"
    run_signage(hall, shot, "--size", "3840x2160")
    image = CoreImage(str(shot))
    assert image.size == (3840, 2160)
    assert shot.stat().st_size > 150_000  # a full board, not a blank frame


def ink(image: Any) -> Any:
    """Where something is drawn on a screenshot (BGR): pixels far from the background, the
    colour of its top-left corner (black, or yellow while a call flashes)."""
    import numpy as np

    background = image[2, 2].astype(int)
    return ((np.abs(image.astype(int) - background).sum(axis=2) > 150) * 255).astype(np.uint8)


def drawn(text: str, font_size: float) -> Any:
    """``text`` as the board draws it (its CJK font, bold): 255 where the glyphs are."""
    import numpy as np
    from kivy.core.text import Label as CoreLabel

    from signage.app import register_fonts

    register_fonts()
    label = CoreLabel(text=text, font_name="CJK", font_size=font_size, bold=True)
    label.refresh()
    tex = label.texture
    alpha = np.frombuffer(tex.pixels, np.uint8).reshape(tex.height, tex.width, 4)[..., 3]
    glyphs = ((alpha > 127) * 255).astype(np.uint8)
    rows, cols = np.nonzero(glyphs)  # cropped to the ink: the label pads its texture
    return glyphs[rows.min() : rows.max() + 1, cols.min() : cols.max() + 1]


def shows(image: Any, text: str, font_size: float) -> float:
    """How well ``text`` at ``font_size`` px matches somewhere on the screenshot (1: exactly)."""
    import cv2

    template = drawn(text, font_size)
    scores = [
        cv2.matchTemplate(ink(image), t, cv2.TM_CCOEFF_NORMED).max()
        for t in (template, template[::-1])  # whichever way up the texture is stored
    ]
    return float(max(scores))


def test_counter_screen_from_the_command_line(app: Any, hall: HallProcess) -> None:
    """``govhall signage --counter 22`` shows counter 22's name and the number it serves now
    (found in the screenshot by drawing both with the board's font at the screen's sizes,
    signage/screens/counter.kv), and the screen of counter 21 shows neither."""
    import cv2

    HallClient(hall.url, TOKENS["kiosk"]).issue_ticket("J")
    serving = HallClient(hall.url, TOKENS["counter"]).call_next("22")
    assert serving is not None and serving.counter_name == "22号咨询台"
    shot = SHOTS / "counter_22_1280x720.png"
    run_signage(hall, shot, "--counter", "22", "--size", "1280x720")
    shot2 = SHOTS / "counter_21_1280x720.png"
    run_signage(hall, shot2, "--counter", "21", "--size", "1280x720")
    c22, c21 = cv2.imread(str(shot)), cv2.imread(str(shot2))
    assert c22.shape == c21.shape == (720, 1280, 3)
    assert 0.02 < (ink(c22) > 0).mean() < 0.5  # neither blank nor one colour
    assert shows(c22, "22号咨询台", 64) > 0.9 and shows(c22, serving.number, 260) > 0.9
    assert shows(c21, "21号窗口", 64) > 0.9
    assert shows(c21, "22号咨询台", 64) < 0.6 and shows(c21, serving.number, 260) < 0.6


def test_server_cut_shows_reconnecting_then_recovers(app: Any, hall: HallProcess) -> None:
    hall.stop()
    pump(lambda: app.screen.view.status != "", timeout=15)
    assert "重新连接" in app.screen.ids.status.text
    frames(0.3)
    screenshot("lobby_1920x1080_reconnecting")
    hall.start()
    HallClient(hall.url, TOKENS["kiosk"]).issue_ticket("J")  # someone to call, whatever ran before
    counter = HallClient(hall.url, TOKENS["counter"])
    called = counter.call_next("22")
    assert called is not None
    pump(
        lambda: (
            app.screen.view.status == ""
            and app.screen.view.headline.startswith(f"请 {called.number} ")
        ),
        timeout=20,
    )
    assert app.feed.state.rejected == 0

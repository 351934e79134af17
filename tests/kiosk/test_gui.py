"""The real kiosk app (offscreen SDL window) with simulated touches, against a real hall server
on loopback and the device simulators behind the real drivers. Screenshots of every screen,
portrait and landscape, go to build/screenshots/kiosk/.

Run alone (Kivy allows one window per process): ``pytest -m gui tests/kiosk``.
"""

from __future__ import annotations

import dataclasses
import functools
import os
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.hall_server import ROOT, TOKENS, HallProcess, free_port, write_config

pytestmark = pytest.mark.gui
SHOTS = ROOT / "build" / "screenshots" / "kiosk"
PHOTOS = ROOT / "build" / "face-photos"


@dataclasses.dataclass
class Gui:
    app: Any
    hall: HallProcess
    tmp: Path

    # -- driving ---------------------------------------------------------------------------
    def pump(self, until: Callable[[], bool] = lambda: True, timeout: float = 20.0) -> None:
        from kivy.base import EventLoop

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            EventLoop.idle()
            if until():
                for _ in range(3):
                    EventLoop.idle()
                return
            time.sleep(0.005)
        raise AssertionError(f"timed out; screen={self.screen}, busy={self.app.busy}")

    def tap(self, widget: Any) -> None:
        from kivy.base import EventLoop
        from kivy.tests.common import UnitTestTouch

        x, y = widget.to_window(*widget.center)
        touch = UnitTestTouch(x, y)
        touch.touch_down()
        EventLoop.idle()
        touch.touch_up()
        EventLoop.idle()

    def tap_xy(self, x: float, y: float) -> None:
        from kivy.base import EventLoop
        from kivy.tests.common import UnitTestTouch

        touch = UnitTestTouch(x, y)
        touch.touch_down()
        touch.touch_up()
        EventLoop.idle()

    @property
    def screen(self) -> str:
        return self.app.flow.view.screen.value

    def current(self) -> Any:
        return self.app.root_widget.ids.sm.get_screen(self.screen)

    def button(self, text: str) -> Any:
        """The visible button showing ``text`` on the current screen or in the header."""
        from kivy.uix.button import Button

        for root in (self.current(), self.app.root_widget):
            for w in root.walk():
                if isinstance(w, Button) and w.text == text and w.opacity > 0 and not w.disabled:
                    return w
        raise LookupError(f"no button {text!r} on {self.screen}")

    def tile(self, code: str) -> Any:
        for w in self.current().ids.tiles.children:
            if w.code == code:
                return w
        raise LookupError(code)

    def shot(self, name: str) -> Path:
        from kivy.core.window import Window

        from tests.kiosk.layout import check_targets

        self.pump()
        problems = check_targets(self.current(), self.app.root_widget.ids.header)
        assert not problems, f"{name}: {problems}"  # every shot: big, uncovered targets

        orient = "portrait" if Window.height >= Window.width else "landscape"
        SHOTS.mkdir(parents=True, exist_ok=True)
        stem = SHOTS / f"{orient}-{name}"
        for _ in range(3):
            from kivy.base import EventLoop

            EventLoop.idle()
        written = Window.screenshot(name=str(stem) + ".png")
        final = stem.with_suffix(".png")
        os.replace(written, final)
        return final

    def home(self) -> None:
        self.app.act("home")
        self.pump(lambda: self.screen == "home")

    def printed(self) -> list[str]:
        from devices.printer.decode import decode_text

        sim = self.app.parts.devices.printer.simulator
        return [decode_text(j.data) for j in sim.printed if j.printed]


@pytest.fixture(scope="session")
def gui(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gui]:
    tmp = tmp_path_factory.mktemp("kiosk-gui")
    port = free_port()
    cfg = write_config(tmp / "hall.toml", port)
    camera = f"sim:{live_frame(tmp)}" if (PHOTOS / "obama3.jpg").exists() else "sim"
    text = cfg.read_text(encoding="utf-8")
    text = text.replace('camera = "sim"', f'camera = "{camera}"')
    text = text.replace("fullscreen = true", "fullscreen = false")
    text = text.replace("heartbeat_s = 5", "heartbeat_s = 1")
    cfg.write_text(text, encoding="utf-8")
    hall = HallProcess(cfg, port, f"sqlite:///{tmp / 'hall.db'}").start()

    from kiosk.app import build_parts, make_app, prepare_kivy

    prepare_kivy(fullscreen=False, size=(1080, 1920))
    from kivy.core.window import Window

    Window.size = (1080, 1920)
    app = make_app(build_parts(cfg))
    app._run_prepare()
    g = Gui(app, hall, tmp)
    try:
        g.pump(lambda: app.flow.parts.get("printer") == "ok", timeout=30)
    except AssertionError:
        raise AssertionError(f"parts {app.flow.parts}") from None
    try:
        yield g
    finally:
        app.stop()
        hall.stop()


@functools.cache
def _checker() -> Any:
    from devices.camera.face import FaceChecker

    return FaceChecker()


def _face_box(image: Any) -> tuple[int, int, int, int]:
    import cv2

    b = _checker().find_faces(cv2.cvtColor(image, cv2.COLOR_BGR2RGB))[0]
    return (b.left, b.top, b.right, b.bottom)


def live_frame(tmp: Path) -> Path:
    """What the simulated camera shows: a citizen (public test photo) at kiosk distance."""
    import cv2

    from tests.devices.camera.photos import kiosk_frame

    image = cv2.imread(str(PHOTOS / "obama3.jpg"))
    path = tmp / "camera" / "live.png"
    path.parent.mkdir(exist_ok=True)
    cv2.imwrite(str(path), kiosk_frame(image, 200, face_box=_face_box(image)))
    return path


def face_card() -> Any:
    """The sample resident card carrying a card-sized photo of the same person (a different
    public photo), so the face check compares like a real card against a live face."""
    import cv2

    from devices.idcard.photo import encode_sim_photo
    from devices.idcard.simulator import load_card
    from tests.devices.camera.photos import card_crop

    image = cv2.imread(str(PHOTOS / "obama.jpg"))
    wlt = encode_sim_photo(card_crop(image, _face_box(image)))
    return dataclasses.replace(load_card("resident"), photo_wlt=wlt)


def test_1_attract_and_home(gui: Gui) -> None:
    assert gui.screen == "attract"
    gui.shot("attract")
    gui.tap_xy(540, 960)
    gui.pump(lambda: gui.screen == "home")
    gui.pump(lambda: all(t.waiting is not None for t in gui.app.flow.view.tiles))
    gui.shot("home")
    # the tiles are big touch targets (≥ 15 mm ≈ 140 px on a 43-inch 1080p panel)
    assert all(w.height >= 140 for w in gui.current().ids.tiles.children)
    # no label keeps the SDL surface its text was drawn on once the texture has it
    from kivy.uix.label import Label

    labels = [w for w in gui.current().walk() if isinstance(w, Label) and w.text]
    assert labels and all(w.texture is not None and w.texture.width > 1 for w in labels)
    assert [w.text for w in labels if getattr(w._label, "_surface", None) is not None] == []


def test_2_full_ticket_with_id_card_face_check_and_print(
    gui: Gui, monkeypatch: pytest.MonkeyPatch
) -> None:
    from hall.client import HallClient
    from kiosk import memory

    if not (PHOTOS / "obama.jpg").exists():
        pytest.skip("face photos not fetched (run tests/devices/camera first)")
    trims: list[str] = []
    release = memory.release_free_memory

    def counted() -> bool:
        trims.append(threading.current_thread().name)
        return release()

    monkeypatch.setattr(memory, "release_free_memory", counted)
    reader = gui.app.parts.devices.reader.simulator
    gui.tap(gui.tile("D"))
    gui.pump(lambda: gui.screen == "id_card")
    gui.shot("id_card")
    assert "请将身份证放在感应区" in gui.app.runtime.spoken
    # the tap started loading the face models (lazily, ~1.5 s, while the card is read)
    runtime = gui.app.runtime
    assert runtime._checker_ready.wait(30) and runtime._checker is not None
    # hold the decision (it takes well under a second) until the face screen is photographed
    runtime._checker_ready.clear()
    try:
        reader.place(face_card())
        gui.pump(lambda: gui.screen == "face", timeout=10)
        face = gui.current()
        gui.pump(lambda: face.ids.preview.texture is not None)
        gui.shot("face")
    finally:
        runtime._checker_ready.set()
    gui.pump(
        lambda: (
            gui.screen in ("ticket", "message")
            and not (gui.app.flow.view.ticket and gui.app.flow.view.ticket.printing)
        ),
        timeout=60,
    )
    assert gui.screen == "ticket", gui.app.flow.view.message
    reader.remove()
    tk = gui.app.flow.view.ticket
    assert tk.number == "D001" and not tk.print_failed
    gui.shot("ticket")
    text = gui.printed()[-1]
    assert "D001" in text and "不动产登记" in text and "110105198503171231" not in text
    state = HallClient(gui.hall.url, TOKENS["admin"]).ticket(tk.ticket_id)
    assert state.status == "waiting" and state.id_masked == "110***********1231"
    assert any("D 零 零 一" in s for s in gui.app.runtime.spoken)
    # the screen shows what the hall holds, and the citizen's name is masked
    assert gui.current().ids.number.text == "D001"
    gui.app.act("done") if False else gui.tap(gui.button("完成"))
    gui.pump(lambda: gui.screen == "home")
    assert gui.app.flow.view.greeting == "" and gui.app.flow._card is None
    # freed memory went back to the system after the face check and when the session ended
    gui.pump(lambda: "MainThread" in trims, timeout=5)
    assert any(name.startswith("kiosk") for name in trims), trims


def test_3_keypad_refusal_and_message(gui: Gui) -> None:
    reader = gui.app.parts.devices.reader.simulator
    gui.tap(gui.tile("A"))
    gui.pump(lambda: gui.screen == "id_card")
    gui.tap(gui.button("没有身份证？手动输入"))
    gui.pump(lambda: gui.screen == "keypad")
    keys = gui.current().ids.keygrid
    by_text = {w.text: w for w in keys.children}
    for ch in "110105198503171232":  # wrong check digit
        gui.tap(by_text[ch])
    gui.pump()
    gui.tap(gui.button("确定"))
    gui.pump(lambda: gui.app.flow.view.message_error)
    gui.shot("keypad")
    assert gui.app.flow.view.keypad_text == "110105 ******** 1232"
    gui.tap(gui.button("删除"))
    gui.tap(by_text["1"])
    gui.tap(gui.button("确定"))
    gui.pump(lambda: gui.screen == "ticket" and not gui.app.flow.view.ticket.printing)
    assert gui.app.flow.view.ticket.number == "A001"
    gui.home()
    # the same person again: refused by the hall's daily limit, said on a message screen
    reader.place("resident")
    gui.tap(gui.tile("A"))
    gui.pump(lambda: gui.screen == "message", timeout=10)
    reader.remove()
    assert "已取过" in gui.app.flow.view.message
    gui.shot("message")
    gui.home()


def test_4_guide_status_help(gui: Gui) -> None:
    gui.tap(gui.button("办事指南"))
    gui.pump(lambda: gui.screen == "guide_list")
    gui.shot("guide_list")
    gui.tap(gui.tile("A"))
    gui.pump(lambda: gui.screen == "guide")
    gui.tap(gui.button("打印材料清单"))
    gui.pump(lambda: "已打印" in gui.app.flow.view.message)
    gui.shot("guide")
    assert "社会保障卡" in gui.printed()[-1]
    gui.home()
    gui.tap(gui.button("排队查询"))
    gui.pump(lambda: gui.screen == "keypad")
    letters = {w.text: w for w in gui.current().ids.lettergrid.children}
    keys = {w.text: w for w in gui.current().ids.keygrid.children}
    assert set(letters) == set("ABCDEFGHJK") and "-" in keys
    # every key a big target, letters included (≥ 15 mm ≈ 140 px)
    assert all(w.height >= 140 and w.width >= 140 for w in [*letters.values(), *keys.values()])
    gui.shot("keypad-status")
    gui.tap(letters["A"])  # the number printed big on the ticket, as the citizen reads it
    gui.tap(keys["1"])
    gui.tap(gui.button("确定"))
    gui.pump(lambda: gui.screen == "status")
    assert gui.app.flow.view.status_lines[0] == "号码 A001"
    gui.shot("status")
    gui.home()
    # the query code (ticket id) still works, and the last query is gone
    gui.tap(gui.button("排队查询"))
    gui.pump(lambda: gui.screen == "keypad" and gui.app.flow.view.keypad_text == "")
    gui.tap({w.text: w for w in gui.current().ids.keygrid.children}["1"])
    gui.tap(gui.button("确定"))
    gui.pump(lambda: gui.screen == "status")
    gui.home()
    gui.tap(gui.button("帮办代办"))
    gui.pump(lambda: "已通知" in gui.app.flow.view.message)
    gui.home()


def test_5_printer_fault_shows_qr(gui: Gui) -> None:
    sim = gui.app.parts.devices.printer.simulator
    sim.set_fault("paper_end")
    try:
        gui.tap(gui.tile("J"))
        gui.pump(lambda: gui.screen == "ticket" and gui.app.flow.view.ticket.print_failed)
        gui.shot("ticket-printer-fault")
        assert gui.current().ids.qr.texture is not None
        gui.pump(lambda: gui.app.flow._sent_parts.get("printer") == "error")
    finally:
        sim.clear_faults()
    gui.home()


def test_6_maintenance_behind_corner_and_pin(gui: Gui) -> None:
    from kivy.core.window import Window

    for _ in range(5):
        gui.tap_xy(10, Window.height - 10)
    gui.pump(lambda: gui.screen == "keypad")
    keys = {w.text: w for w in gui.current().ids.keygrid.children}
    for ch in "2468":
        gui.tap(keys[ch])
    gui.tap(gui.button("确定"))
    gui.pump(lambda: gui.screen == "maintenance")
    gui.tap(gui.button("测试打印"))
    gui.pump(lambda: "测试小票" in gui.app.flow.view.message)
    gui.shot("maintenance")
    gui.home()


def test_7_offline_tickets_join_the_queue_once_and_are_called(gui: Gui) -> None:
    from hall.client import HallClient

    gui.hall.stop()
    numbers = []
    for code in ("G", "H"):
        gui.tap(gui.tile(code))
        gui.pump(
            lambda: gui.screen == "ticket" and not gui.app.flow.view.ticket.printing, timeout=20
        )
        numbers.append(gui.app.flow.view.ticket.number)
        if code == "G":
            gui.shot("ticket-offline")
        gui.home()
    assert numbers == ["K1-G001", "K1-H001"]
    assert gui.app.flow.view.offline
    gui.shot("home-offline")
    assert "K1-G001" in gui.printed()[-2]
    gui.hall.start()
    gui.pump(
        lambda: not gui.app.flow.view.offline and gui.app.flow.view.pending_uploads == 0, timeout=30
    )
    staff = HallClient(gui.hall.url, TOKENS["counter"])
    called = []
    for counter in ("17", "19"):
        while (t := staff.call_next(counter)) is not None:
            called.append(t.number)
            staff.counter_action(counter, "start")
            staff.counter_action(counter, "finish")
    assert sorted(n for n in called if n.startswith("K1-")) == numbers  # each once


def test_8_elderly_and_english(gui: Gui) -> None:
    gui.tap(gui.button("长者模式"))
    gui.pump(lambda: gui.app.elderly)
    gui.shot("home-elderly")
    gui.tap(gui.button("标准模式"))
    gui.tap(gui.button("English"))
    gui.pump(lambda: gui.app.lang == "en")
    gui.shot("home-english")
    gui.tap(gui.button("中文"))
    gui.pump(lambda: gui.app.lang == "zh")


def test_9_landscape_screens(gui: Gui) -> None:
    """Landscape in its own process: the offscreen window cannot be resized in place."""
    import subprocess
    import sys

    proc = subprocess.run(
        [sys.executable, "-m", "tests.kiosk.shots", str(gui.hall.config), "1920x1080", "landscape"],
        cwd=ROOT,
        capture_output=True,
        timeout=100,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert proc.returncode == 0, proc.stderr.decode()[-3000:]
    for name in (
        "home",
        "ticket",
        "id_card",
        "keypad",
        "keypad-status",
        "guide",
        "message",
        "maintenance",
        "home-english",
    ):
        assert (SHOTS / f"landscape-{name}.png").stat().st_size > 10_000


def all_texts(gui: Gui) -> str:
    """Every text the app holds in any screen (shown or not) and the header."""
    out = []
    for root in [gui.app.root_widget, *gui.app.root_widget.ids.sm.screens]:
        for w in root.walk():
            text = getattr(w, "text", None)
            if isinstance(text, str):
                out.append(text)
    return "\n".join(out)


def test_10_idle_warning_then_home_with_nothing_personal_left(gui: Gui) -> None:
    flow = gui.app.flow
    settings = flow.settings
    flow.settings = dataclasses.replace(settings, idle_timeout_s=6.0, idle_warning_s=3.0)
    try:
        gui.tap(gui.tile("C"))
        gui.pump(lambda: gui.screen == "id_card")
        gui.tap(gui.button("没有身份证？手动输入"))
        gui.pump(lambda: gui.screen == "keypad")
        keys = {w.text: w for w in gui.current().ids.keygrid.children}
        for ch in "110105198503171231":
            gui.tap(keys[ch])
        gui.pump(lambda: gui.app.flow.view.keypad_text == "110105 ******** 1231")
        gui.pump(lambda: gui.app.idle_warning, timeout=10)  # then nobody touches anything
        assert any("秒后将返回首页" in s for s in gui.app.runtime.spoken)
        gui.shot("idle-warning")
        assert gui.button("我还在，继续办理")  # a big button to stay, in the warning bar
        gui.pump(lambda: gui.screen == "home", timeout=10)
        assert "您的信息已清除" in gui.app.runtime.spoken[-1]
        gui.shot("home-after-timeout")
        # what must still hold: not a digit of the number, in any screen, shown or hidden
        assert not gui.app.idle_warning and flow._manual_id is None and flow._keys == ""
        texts = all_texts(gui)
        assert "110105" not in texts and "1231" not in texts and "****" not in texts
    finally:
        flow.settings = settings
        gui.home()


def test_11_appointment_check_in_gives_a_priority_ticket(gui: Gui) -> None:
    import datetime as dt

    from hall.client import HallClient

    admin = HallClient(gui.hall.url, TOKENS["admin"])
    now = dt.datetime.now(gui.app.runtime.tz).replace(microsecond=0)
    admin.book("B", "110105198503171231", now.isoformat())
    reader = gui.app.parts.devices.reader.simulator
    gui.tap(gui.button("预约签到"))
    gui.pump(lambda: gui.screen == "id_card")
    assert "预约签到" in all_texts(gui)  # the card screen says what the card is for
    reader.place("resident")
    try:
        gui.pump(
            lambda: (
                gui.screen in ("ticket", "message")
                and not (gui.app.flow.view.ticket and gui.app.flow.view.ticket.printing)
            ),
            timeout=15,
        )
    finally:
        reader.remove()
    assert gui.screen == "ticket", gui.app.flow.view.message
    tk = gui.app.flow.view.ticket
    gui.shot("ticket-checkin")
    state = admin.ticket(tk.ticket_id)
    assert state.priority == "appointment" and state.number == tk.number
    assert tk.number.startswith("B") and tk.number in gui.printed()[-1]
    assert "110105198503171231" not in gui.printed()[-1]
    # checking in twice is refused and said, and no second ticket is printed
    gui.home()
    printed = len(gui.printed())
    reader.place("resident")
    gui.tap(gui.button("预约签到"))
    try:
        gui.pump(lambda: gui.screen == "message", timeout=15)
    finally:
        reader.remove()
    assert "已签到" in gui.app.flow.view.message and len(gui.printed()) == printed
    gui.home()

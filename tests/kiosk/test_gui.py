"""The real kiosk app (offscreen SDL window) with simulated touches, against a real hall server
on loopback and the device simulators behind the real drivers. Screenshots of every screen,
portrait and landscape, go to build/screenshots/kiosk/.

One app and one hall per module (a Kivy window per process; a hall start takes seconds), but
no test depends on another: each starts from the state ``Gui.reset`` brings the running app to
(the hall up and connected, devices without faults or a card, standard mode in Chinese, a
fresh session on the attract screen, nothing said or printed yet), and expects numbers
relative to what the shared hall has already issued (``Gui.next_number``).

Run alone (Kivy allows one window per process): ``pytest -m gui tests/kiosk``.
"""

from __future__ import annotations

import dataclasses
import functools
import os
import re
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.hall_server import ROOT, TOKENS, HallProcess, free_port, write_config

pytestmark = pytest.mark.gui
SHOTS = ROOT / "build" / "screenshots" / "kiosk"
RESIDENT_ID = "110105198503171231"  # the sample resident card's number
_DIGITS = dict(zip("0123456789", "零一二三四五六七八九", strict=True))
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")


def spoken_number(number: str) -> str:
    """How the kiosk reads a ticket number out: D001 → "D 零 零 一"."""
    return " ".join(_DIGITS.get(ch, ch) for ch in number)


def photos() -> Path:
    from tests.devices.camera.photos import photos_dir

    return photos_dir()


@dataclasses.dataclass
class Gui:
    app: Any
    hall: HallProcess
    tmp: Path
    settings: Any = None
    """The flow's settings as the app started (a test may shorten its timeouts)."""
    _jobs: int = 0

    # -- the state every test starts from ----------------------------------------------------
    def reset(self) -> None:
        """Bring the running app to where every test starts, whatever the last test left."""
        flow = self.app.flow
        flow.settings = self.settings
        if self.hall.proc is None or self.hall.proc.poll() is not None:
            self.hall.start()  # a test that stopped it failed before starting it again
        devices = self.app.parts.devices
        printer, reader = devices.printer.simulator, devices.reader.simulator
        printer.clear_faults()
        reader.clear_faults()
        reader.remove()
        self.pump(lambda: self.app.busy == 0, timeout=30)
        self.app.act("home")  # a fresh session: the last citizen's card, number, ticket gone
        if flow.view.elderly:
            self.app.act("elderly")
        if flow.view.lang != "zh":
            self.app.act("language")
        self.pump(
            lambda: (
                self.app.busy == 0
                and not flow.view.offline
                and flow.view.pending_uploads == 0
                and flow.parts.get("printer") == "ok"
                and flow.parts.get("reader") == "ok"
            ),
            timeout=30,
        )
        # nobody at the kiosk: home turns into the attract screen (after 120 s; here at once)
        flow.settings = dataclasses.replace(self.settings, attract_after_s=0.01)
        try:
            self.pump(lambda: self.screen == "attract", timeout=10)
        finally:
            flow.settings = self.settings
        self.app.runtime.spoken.clear()
        self._jobs = len(printer.jobs)

    def wake(self) -> None:
        """A touch on the attract screen: home, with the hall's waiting counts on the tiles."""
        assert self.screen == "attract"
        self.tap_xy(540, 960)
        self.pump(lambda: self.screen == "home")
        self.pump(lambda: all(t.waiting is not None for t in self.app.flow.view.tiles))

    def next_number(self, prefix: str) -> str:
        """The number after the last the hall issued today with ``prefix`` (``A`` → A004,
        ``K1-G`` → K1-G002): the module's tests share its hall."""
        from hall.client import HallApiError, HallClient

        admin = HallClient(self.hall.url, TOKENS["admin"])
        for n in range(1, 1000):
            number = f"{prefix}{n:03d}"
            try:
                admin.ticket_by_number(number)
            except HallApiError as err:
                if err.status == 404:
                    return number
                raise
        raise AssertionError(f"no free number for {prefix}")

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
        """What the printer printed since this test started."""
        from devices.printer.decode import decode_text

        sim = self.app.parts.devices.printer.simulator
        return [decode_text(j.data) for j in sim.jobs[self._jobs :] if j.printed]

    def shown_texts(self) -> list[str]:
        """The texts of the labels and buttons shown now on the screen and in the header,
        markup removed."""
        from kivy.uix.label import Label

        out = []
        for root in (self.current(), self.app.root_widget.ids.header):
            for w in root.walk(restrict=True):
                if isinstance(w, Label) and w.text and not hidden(w, root):
                    out.append(re.sub(r"\[/?[a-z]+(=[^\]]*)?\]", "", w.text))
        return out


def hidden(widget: Any, root: Any) -> bool:
    node = widget
    while node is not None and node is not root.parent:
        if node.opacity == 0:
            return True
        node = node.parent
    return False


@pytest.fixture(scope="module")
def running_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gui]:
    tmp = tmp_path_factory.mktemp("kiosk-gui")
    port = free_port()
    cfg = write_config(tmp / "hall.toml", port)
    text = cfg.read_text(encoding="utf-8")
    for old, new in (
        ('camera = "sim"', f'camera = "{camera_source()}"'),  # a face to check
        ("fullscreen = true", "fullscreen = false"),
        ("heartbeat_s = 5", "heartbeat_s = 1"),
    ):
        assert old in text, f"the sample hall no longer has {old}"
        text = text.replace(old, new)
    cfg.write_text(text, encoding="utf-8")
    hall = HallProcess(cfg, port, f"sqlite:///{tmp / 'hall.db'}").start()

    from kiosk.app import build_parts, make_app, prepare_kivy

    prepare_kivy(fullscreen=False, size=(1080, 1920))
    from kivy.core.window import Window

    Window.size = (1080, 1920)
    from devices.camera.liveness import Challenge, LivenessConfig

    app = make_app(build_parts(cfg))
    # the simulated citizen turns left when they turn: the kiosk asks for that movement
    app.runtime.liveness = LivenessConfig(challenges=(Challenge.TURN_LEFT,))
    app._run_prepare()
    g = Gui(app, hall, tmp, settings=app.flow.settings)
    try:
        g.pump(lambda: app.flow.parts.get("printer") == "ok", timeout=30)
    except AssertionError:
        raise AssertionError(f"parts {app.flow.parts}") from None
    try:
        yield g
    finally:
        app.stop()
        hall.stop()


@pytest.fixture
def gui(running_app: Gui) -> Gui:
    running_app.reset()
    return running_app


@functools.cache
def _checker() -> Any:
    from devices.camera.face import FaceChecker

    return FaceChecker()


def _face_box(image: Any) -> tuple[int, int, int, int]:
    import cv2

    b = _checker().find_faces(cv2.cvtColor(image, cv2.COLOR_BGR2RGB))[0]
    return (b.left, b.top, b.right, b.bottom)


def camera_source() -> str:
    """What the simulated camera shows: a citizen (public test photo) who faces the kiosk and
    turns their head left when asked (the camera simulator's liveness mode)."""
    import cv2

    image = cv2.imread(str(photos() / "obama3.jpg"))
    box = ",".join(map(str, _face_box(image)))
    return f"sim:{photos() / 'obama3.jpg'}?mode=turn_left&face={box}"


def face_card() -> Any:
    """The sample resident card carrying a card-sized photo of the same person (a different
    public photo), so the face check compares like a real card against a live face."""
    import cv2

    from devices.idcard.cards import load_card
    from devices.idcard.photo import encode_sim_photo
    from tests.devices.camera.photos import card_crop

    image = cv2.imread(str(photos() / "obama.jpg"))
    wlt = encode_sim_photo(card_crop(image, _face_box(image)))
    return dataclasses.replace(load_card("resident"), photo_wlt=wlt)


def test_a_touch_on_the_attract_screen_opens_home_with_big_tiles(gui: Gui) -> None:
    assert gui.screen == "attract"
    gui.shot("attract")
    gui.wake()
    gui.shot("home")
    # the tiles are big touch targets (≥ 15 mm ≈ 140 px on a 43-inch 1080p panel)
    assert all(w.height >= 140 for w in gui.current().ids.tiles.children)
    # no label keeps the SDL surface its text was drawn on once the texture has it
    from kivy.uix.label import Label

    labels = [w for w in gui.current().walk() if isinstance(w, Label) and w.text]
    assert labels and all(w.texture is not None and w.texture.width > 1 for w in labels)
    assert [w.text for w in labels if getattr(w._label, "_surface", None) is not None] == []


def test_ticket_with_id_card_consent_and_face_check_is_printed_with_the_number_masked(
    gui: Gui, monkeypatch: pytest.MonkeyPatch
) -> None:
    from hall.client import HallClient
    from kiosk import memory

    trims: list[str] = []
    release = memory.release_free_memory

    def counted() -> bool:
        trims.append(threading.current_thread().name)
        return release()

    monkeypatch.setattr(memory, "release_free_memory", counted)
    reader = gui.app.parts.devices.reader.simulator
    number = gui.next_number("D")
    gui.wake()
    gui.tap(gui.tile("D"))
    gui.pump(lambda: gui.screen == "id_card")
    gui.shot("id_card")
    assert "请将身份证放在读卡区" in gui.app.runtime.spoken
    # the tap started loading the face models (lazily, ~1.5 s, while the card is read)
    runtime = gui.app.runtime
    assert runtime._checker_ready.wait(30) and runtime._checker is not None
    reader.place(face_card())
    gui.pump(lambda: gui.screen == "face_consent", timeout=10)  # asked first, said too
    gui.tap(gui.button("同意，开始人脸核验"))
    face = gui.current()
    gui.pump(
        lambda: (
            gui.screen == "face"
            and gui.app.flow.view.challenge is not None
            and face.ids.preview.texture is not None
        ),
        timeout=20,
    )
    gui.shot("face")
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
    assert tk.number == number and not tk.print_failed and tk.verification == "face"
    gui.shot("ticket")
    (text,) = gui.printed()
    assert number in text and "不动产登记" in text and RESIDENT_ID not in text
    state = HallClient(gui.hall.url, TOKENS["admin"]).ticket(tk.ticket_id)
    assert state.status == "waiting" and state.id_masked == "110***********1231"
    assert any(spoken_number(number) in s for s in gui.app.runtime.spoken)
    # the screen shows what the hall holds
    assert gui.current().ids.number.text == number
    gui.tap(gui.button("完成"))
    gui.pump(lambda: gui.screen == "home")
    assert gui.app.flow.view.greeting == "" and gui.app.flow._card is None
    # freed memory went back to the system after the face check and when the session ended
    gui.pump(lambda: "MainThread" in trims, timeout=5)
    assert any(name.startswith("kiosk") for name in trims), trims


def test_mistyped_id_number_is_refused_and_one_person_gets_one_ticket_a_day(gui: Gui) -> None:
    reader = gui.app.parts.devices.reader.simulator
    number = gui.next_number("A")
    gui.wake()
    gui.tap(gui.tile("A"))
    gui.pump(lambda: gui.screen == "id_card")
    gui.tap(gui.button("没有身份证？手动输入"))
    gui.pump(lambda: gui.screen == "keypad")
    keys = gui.current().ids.keygrid
    by_text = {w.text: w for w in keys.children}
    for ch in RESIDENT_ID[:-1] + "2":  # wrong check digit
        gui.tap(by_text[ch])
    gui.pump()
    gui.tap(gui.button("确定"))
    gui.pump(lambda: gui.app.flow.view.message_error)
    gui.shot("keypad")
    assert gui.app.flow.view.keypad_text == "110105 ******** 1232"
    assert gui.printed() == []
    gui.tap(gui.button("删除"))
    gui.tap(by_text["1"])
    gui.tap(gui.button("确定"))
    gui.pump(lambda: gui.screen == "ticket" and not gui.app.flow.view.ticket.printing)
    assert gui.app.flow.view.ticket.number == number
    gui.home()
    # the same person again, now with the card: refused by the hall's daily limit, said on a
    # message screen, nothing printed
    reader.place("resident")
    gui.tap(gui.tile("A"))
    gui.pump(lambda: gui.screen == "message", timeout=10)
    reader.remove()
    assert "已取过" in gui.app.flow.view.message
    assert len(gui.printed()) == 1
    gui.shot("message")


def test_guide_prints_the_materials_list(gui: Gui) -> None:
    gui.wake()
    gui.tap(gui.button("办事指南"))
    gui.pump(lambda: gui.screen == "guide_list")
    gui.shot("guide_list")
    gui.tap(gui.tile("A"))
    gui.pump(lambda: gui.screen == "guide")
    gui.tap(gui.button("打印材料清单"))
    gui.pump(lambda: "已打印" in gui.app.flow.view.message)
    gui.shot("guide")
    (text,) = gui.printed()
    assert "社会保障卡" in text


def test_status_finds_a_ticket_by_its_printed_number_and_not_by_its_database_id(gui: Gui) -> None:
    gui.wake()
    gui.tap(gui.tile("J"))
    gui.pump(lambda: gui.screen == "ticket" and not gui.app.flow.view.ticket.printing)
    tk = gui.app.flow.view.ticket
    gui.home()
    gui.tap(gui.button("排队查询"))
    gui.pump(lambda: gui.screen == "keypad")
    letters = {w.text: w for w in gui.current().ids.lettergrid.children}
    keys = {w.text: w for w in gui.current().ids.keygrid.children}
    assert set(letters) == set("ABCDEFGHJK") and "-" in keys
    # every key a big target, letters included (≥ 15 mm ≈ 140 px)
    assert all(w.height >= 140 and w.width >= 140 for w in [*letters.values(), *keys.values()])
    gui.shot("keypad-status")
    # the number printed big on the ticket, as the citizen reads it: J007 typed as J7
    gui.tap(letters[tk.number[0]])
    for ch in str(int(tk.number[1:])):
        gui.tap(keys[ch])
    gui.tap(gui.button("确定"))
    gui.pump(lambda: gui.screen == "status")
    assert gui.app.flow.view.status_lines[:2] == (f"号码 {tk.number}", "等候中")
    gui.shot("status")
    gui.home()
    # the ticket's database id is no way in (it used to be printed as 查询码), and the last
    # query is gone
    gui.tap(gui.button("排队查询"))
    gui.pump(lambda: gui.screen == "keypad" and gui.app.flow.view.keypad_text == "")
    keys = {w.text: w for w in gui.current().ids.keygrid.children}
    for ch in str(tk.ticket_id):
        gui.tap(keys[ch])
    gui.tap(gui.button("确定"))
    gui.pump(lambda: gui.app.flow.view.message_error)
    assert gui.screen == "keypad"


def test_help_request_reaches_the_hall(gui: Gui) -> None:
    from hall.client import HallClient

    admin = HallClient(gui.hall.url, TOKENS["admin"])
    before = {h.id for h in admin.help_requests()}
    gui.wake()
    gui.tap(gui.button("帮办代办"))
    gui.pump(lambda: "已通知" in gui.app.flow.view.message)
    assert [h.kiosk for h in admin.help_requests() if h.id not in before] == ["K1"]


def test_printer_out_of_paper_shows_the_ticket_with_a_qr_code(gui: Gui) -> None:
    sim = gui.app.parts.devices.printer.simulator
    sim.set_fault("paper_end")
    try:
        gui.wake()
        gui.tap(gui.tile("J"))
        gui.pump(lambda: gui.screen == "ticket" and gui.app.flow.view.ticket.print_failed)
        gui.shot("ticket-printer-fault")
        assert gui.current().ids.qr.texture is not None
        assert gui.printed() == []
        gui.pump(lambda: gui.app.flow._sent_parts.get("printer") == "error")
    finally:
        sim.clear_faults()


def test_maintenance_opens_behind_the_corner_and_pin_and_prints_a_test_ticket(gui: Gui) -> None:
    from kivy.core.window import Window

    gui.wake()
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
    (text,) = gui.printed()
    assert "A000" in text and "测试小票" in text


def test_offline_tickets_join_the_queue_once_and_are_called(gui: Gui) -> None:
    from hall.client import HallClient

    expected = [gui.next_number("K1-G"), gui.next_number("K1-H")]
    gui.wake()
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
    assert numbers == expected
    assert gui.app.flow.view.offline
    gui.shot("home-offline")
    assert numbers[0] in gui.printed()[-2]
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


def test_elderly_mode_shows_larger_type_and_keeps_every_button(gui: Gui) -> None:
    from kivy.uix.label import Label

    gui.wake()
    home = gui.current()
    heading = next(w for w in home.walk() if isinstance(w, Label) and w.text == "请选择办理业务")
    tiles = {w.code: w for w in home.ids.tiles.children}
    before = {c: w.font_size for c, w in tiles.items()}
    heading_size, heading_ink = heading.font_size, heading.texture_size[1]
    assert all("[size=" in w.text for w in tiles.values())  # with the English names below
    gui.tap(gui.button("长者模式"))
    gui.pump(lambda: gui.app.elderly)
    gui.shot("home-elderly")
    # 1.5× type everywhere, drawn so: the heading's rendered text is taller
    assert heading.font_size == pytest.approx(1.5 * heading_size)
    assert heading.texture_size[1] >= 1.4 * heading_ink
    assert all(w.font_size == pytest.approx(1.5 * before[c]) for c, w in tiles.items())
    # each tile its Chinese name only (no English line), still fitting (checked by shot)
    flow_tiles = {t.code: t for t in gui.app.flow.view.tiles}
    for code, w in tiles.items():
        tile = flow_tiles[code]
        assert f"[b]{tile.name}[/b]" in w.text and tile.name_en not in w.text
    # 办事指南 and 排队查询 stay (day in the hall 6): the elderly need them most
    shown = gui.shown_texts()
    assert "排队查询" in shown and "办事指南" in shown and "帮办代办" in shown
    assert "标准模式" in shown
    gui.tap(gui.button("标准模式"))
    gui.pump(lambda: not gui.app.elderly)
    assert heading.font_size == pytest.approx(heading_size)
    assert all(w.font_size == pytest.approx(before[c]) for c, w in tiles.items())


def test_after_elderly_mode_the_buttons_at_the_bottom_answer(gui: Gui) -> None:
    # issue "a day in the hall" 1: the hidden idle bar's button grew back to 150 px when the
    # font factor changed and swallowed every touch in the bottom right
    gui.wake()
    gui.tap(gui.button("长者模式"))
    gui.pump(lambda: gui.app.elderly)
    gui.tap(gui.button("标准模式"))
    gui.pump(lambda: not gui.app.elderly)
    gui.tap(gui.button("办事指南"))  # bottom right on the portrait home screen
    gui.pump(lambda: gui.screen == "guide_list", timeout=5)


def test_english_mode_translates_everything_on_the_home_screen(gui: Gui) -> None:
    gui.wake()
    gui.tap(gui.button("English"))
    gui.pump(lambda: gui.app.lang == "en")
    gui.shot("home-english")
    header = gui.app.root_widget.ids.header
    assert gui.app.runtime.hall_name_en in [w.text for w in header.walk() if hasattr(w, "text")]
    tiles = {w.code: w for w in gui.current().ids.tiles.children}
    assert tiles["J"].text.startswith("[b]General Enquiries[/b]")
    assert tiles["A"].text.startswith("[b]Social Security[/b]")
    # not a Chinese character left on the screen, but the button back to Chinese
    shown = gui.shown_texts()
    assert [t for t in shown if _CJK.search(t)] == ["中文"], shown
    assert "Please choose a service" in shown and any(t.startswith("Taxation") for t in shown)
    gui.tap(gui.button("中文"))
    gui.pump(lambda: gui.app.lang == "zh")
    assert tiles["J"].text.startswith("[b]综合咨询[/b]")


def test_landscape_screens_in_a_process_of_their_own(gui: Gui) -> None:
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


def test_idle_warning_then_home_with_nothing_personal_left(gui: Gui) -> None:
    flow = gui.app.flow
    flow.settings = dataclasses.replace(gui.settings, idle_timeout_s=6.0, idle_warning_s=3.0)
    gui.wake()
    gui.tap(gui.tile("C"))
    gui.pump(lambda: gui.screen == "id_card")
    gui.tap(gui.button("没有身份证？手动输入"))
    gui.pump(lambda: gui.screen == "keypad")
    keys = {w.text: w for w in gui.current().ids.keygrid.children}
    for ch in RESIDENT_ID:
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


def test_appointment_check_in_gives_a_priority_ticket_once(gui: Gui) -> None:
    import datetime as dt

    from hall.client import HallClient

    admin = HallClient(gui.hall.url, TOKENS["admin"])
    now = dt.datetime.now(gui.app.runtime.tz).replace(microsecond=0)
    admin.book("B", RESIDENT_ID, now.isoformat())
    reader = gui.app.parts.devices.reader.simulator
    gui.wake()
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
    (text,) = gui.printed()
    assert tk.number.startswith("B") and tk.number in text and RESIDENT_ID not in text
    # checking in twice is refused and said, and no second ticket is printed
    gui.home()
    reader.place("resident")
    gui.tap(gui.button("预约签到"))
    try:
        gui.pump(lambda: gui.screen == "message", timeout=15)
    finally:
        reader.remove()
    assert "已签到" in gui.app.flow.view.message and len(gui.printed()) == 1


# -- every button, both modes (day in the hall 1) ----------------------------------------------
# The catalogue key of a button's text → the action the flow must get when it is tapped.
BUTTON_ACTIONS = {
    "btn_home": ("home",),
    "btn_done": ("home",),
    "btn_back": ("back",),
    "btn_checkin": ("checkin",),
    "btn_help": ("help",),
    "btn_status": ("status",),
    "btn_guide": ("guide",),
    "btn_manual": ("manual",),
    "btn_passport": ("passport",),
    "btn_ok": ("key_ok",),
    "btn_delete": ("key_delete",),
    "btn_print_guide": ("print_guide",),
    "btn_reprint": ("reprint",),
    "btn_rate": ("rate",),
    "btn_consent_agree": ("consent_agree",),
    "btn_consent_decline": ("consent_decline",),
    "btn_elderly_on": ("elderly",),
    "btn_elderly_off": ("elderly",),
    "btn_language": ("language",),
}


def expected_action(button: Any) -> tuple[Any, ...] | None:
    """What tapping ``button`` must do, from what it shows; None: any one action (screens
    whose buttons this table does not name)."""
    from kivy.uix.screenmanager import Screen

    from common.i18n import t

    code = getattr(button, "code", "")
    node, name = button, ""
    for _ in range(50):  # up to its screen; the header's buttons have none
        node = getattr(node, "parent", None)
        if node is None:
            break
        if isinstance(node, Screen):
            name = node.name
            break
    if code and name == "home":
        return ("service", code)
    if code and name == "guide_list":
        return ("guide_service", code)
    for key, action in BUTTON_ACTIONS.items():
        if button.text == t("kiosk", key, "zh"):
            return action
    if name == "keypad" and len(button.text) == 1:
        return ("key", button.text)
    return None


@pytest.mark.slow
@pytest.mark.parametrize("elderly", [False, True], ids=["standard", "elderly"])
def test_every_button_on_every_screen_does_what_it_says(gui: Gui, elderly: bool) -> None:
    """Each visible button of each screen, tapped through Kivy's real touch path at its
    centre, reaches the flow as the action its text names: nothing invisible lies over it
    (the idle bar's hidden button once swallowed the bottom right in elderly mode)."""
    from devices.idcard.cards import load_card
    from tests.kiosk.layout import visible_buttons

    act = gui.app.act
    gui.wake()
    if elderly:
        gui.tap(gui.button("长者模式"))
        gui.pump(lambda: gui.app.elderly)
    reader = gui.app.parts.devices.reader.simulator

    def go(*steps: tuple[Any, ...], screen: str, idle: bool = True) -> None:
        """Reach ``screen`` as a citizen would (the card reader keeps waiting on some)."""
        act("home")
        gui.pump(lambda: gui.screen == "home" and gui.app.busy == 0)
        for step in steps:
            act(*step)
        gui.pump(lambda: gui.screen == screen and (gui.app.busy == 0 or not idle), timeout=30)
        assert gui.app.flow.view.elderly is elderly

    routes: list[tuple[str, Callable[[], None]]] = [
        ("home", lambda: go(screen="home")),
        ("id_card", lambda: go(("service", "A"), screen="id_card", idle=False)),
        ("keypad", lambda: go(("service", "A"), ("manual",), screen="keypad", idle=False)),
        ("keypad", lambda: go(("status",), screen="keypad")),
        ("ticket", lambda: go(("service", "J"), screen="ticket")),
        ("guide_list", lambda: go(("guide",), screen="guide_list")),
        ("guide", lambda: go(("guide",), ("guide_service", "A"), screen="guide")),
        ("message", lambda: go(("help",), screen="message")),
    ]

    def consent() -> None:
        reader.place(load_card("resident"))
        try:
            go(("service", "D"), screen="face_consent", idle=False)
        finally:
            reader.remove()

    routes.append(("face_consent", consent))
    tapped: list[str] = []
    for name, route in routes:
        route()
        gui.pump()
        for button in visible_buttons(gui.current()) + visible_buttons(
            gui.app.root_widget.ids.header
        ):
            calls: list[tuple[Any, ...]] = []
            gui.app.act = lambda *a, _calls=calls: _calls.append(a)  # record, do nothing
            try:
                gui.tap(button)
            finally:
                gui.app.act = act
            want = expected_action(button)
            label = f"{name}: {button.text[:24]!r}"
            assert len(calls) == 1, f"{label} → {calls}"
            if want is not None:
                assert calls[0] == want, f"{label} → {calls[0]}, wanted {want}"
            tapped.append(label)
    gui.shot("every-button-" + ("elderly" if elderly else "standard"))
    act("home")
    if elderly:
        act("elderly")
    assert len(tapped) >= 40, tapped  # every screen had its buttons found and tapped


def test_the_last_visit_is_rated_by_its_ticket_number(gui: Gui) -> None:
    """评价上次办理 (issue 19): the number typed on the keypad finds the visit served a
    moment ago; 不满意 asks why; the hall records channel kiosk and opens a case."""
    from hall.client import HallClient

    admin = HallClient(gui.hall.url, TOKENS["admin"])
    counter = HallClient(gui.hall.url, TOKENS["counter"])
    kiosk_client = HallClient(gui.hall.url, TOKENS["kiosk"])
    served = kiosk_client.issue_ticket("J")
    called = counter.call("22", served.id)
    counter.counter_action("22", "finish")
    assert called.number == served.number
    gui.wake()
    gui.tap(gui.button("评价上次办理"))
    gui.pump(lambda: gui.screen == "id_card")
    assert "评价上次办理" in gui.shown_texts()
    gui.tap(gui.button("没有身份证？手动输入"))
    gui.pump(lambda: gui.screen == "keypad")
    letters = {w.text: w for w in gui.current().ids.lettergrid.children}
    keys = {w.text: w for w in gui.current().ids.keygrid.children}
    gui.tap(letters[served.number[0]])
    for ch in str(int(served.number[1:])):
        gui.tap(keys[ch])
    gui.tap(gui.button("确定"))
    gui.pump(lambda: gui.screen == "rate", timeout=15)
    assert f"号码 {served.number}　综合咨询" in gui.shown_texts()
    gui.shot("rate")
    gui.tap(gui.current().ids.level_2)
    gui.pump(lambda: gui.app.flow.view.rating.asking_reasons)
    gui.tap(gui.current().ids.reason_long_wait)
    gui.pump(lambda: gui.app.flow.view.rating.reasons == ("long_wait",))
    gui.shot("rate-reasons")
    gui.tap(gui.current().ids.send)
    gui.pump(lambda: gui.screen == "message" and "感谢" in gui.app.flow.view.message, timeout=15)
    with pytest.raises(Exception, match="visit_not_found"):
        kiosk_client.find_ratable(number=served.number)
    rated = admin.stats()
    assert rated.total.evaluations >= 1

"""The face step in the real kiosk app (offscreen SDL window) with simulated touches, against
a real hall server on loopback, the ID-card simulator and the camera simulator's liveness
modes behind the real drivers, and the real face models: the consent screen, the liveness
screen (arrow, large text, seconds left, the live preview), a retry, 人工核验 by declining
and by withdrawing on the face screen. Screenshots go to build/screenshots/kiosk/.

Kivy allows one window per process and ``test_gui.py``'s app keeps its own in the pytest
process, so the app runs in a process of its own (``python -m tests.kiosk.test_gui_face``),
as ``test_landscape_screens_in_a_process_of_their_own`` does; the test checks its exit and
what the hall recorded. The child uses test_gui.py's helpers' approach (pump, real touches
on a widget's centre, screenshots with the layout checks)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.support.hall_server import ROOT, TOKENS, HallProcess, free_port, write_config

pytestmark = pytest.mark.gui
SHOTS = ROOT / "build" / "screenshots" / "kiosk"
LIVE, CARD = "obama3.jpg", "obama.jpg"  # two public photos of one person
MANUAL_LINE = "请到窗口人工核验身份"
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")


def _box(name: str) -> tuple[int, int, int, int]:
    import cv2

    from devices.camera.face import FaceChecker
    from tests.devices.camera.photos import photos_dir

    image = cv2.imread(str(photos_dir() / name))
    (b,) = FaceChecker().find_faces(cv2.cvtColor(image, cv2.COLOR_BGR2RGB))
    return (b.left, b.top, b.right, b.bottom)


def camera_source(mode: str) -> str:
    """The citizen in front of the camera, in a liveness mode of the simulator: framed from
    the committed photo in memory (no image is written)."""
    from tests.devices.camera.photos import photos_dir

    box = ",".join(map(str, _box(LIVE)))
    return f"sim:{photos_dir() / LIVE}?mode={mode}&face={box}"


@pytest.fixture(scope="module")
def hall(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HallProcess]:
    tmp = tmp_path_factory.mktemp("kiosk-gui-face")
    port = free_port()
    # one card takes several tickets for service D here (the sample allows one a day)
    cfg = write_config(tmp / "hall.toml", port, policy={"daily_limit": 10})
    text = cfg.read_text(encoding="utf-8")
    # a printed photo of the citizen to begin with: the child changes the scene as it goes
    text = text.replace('camera = "sim"', f'camera = "{camera_source("still")}"')
    text = text.replace("fullscreen = true", "fullscreen = false")
    cfg.write_text(text, encoding="utf-8")
    hall = HallProcess(cfg, port, f"sqlite:///{tmp / 'hall.db'}").start()
    try:
        yield hall
    finally:
        hall.stop()


def run_child(hall: HallProcess, size: str, script: str) -> dict[str, Any]:
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "tests.kiosk.test_gui_face",
            str(hall.config),
            size,
            script,
            camera_source("turn_left"),
        ],
        cwd=ROOT,
        capture_output=True,
        timeout=240,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    out = proc.stdout.decode()
    assert proc.returncode == 0, (out + proc.stderr.decode())[-4000:]
    (line,) = [ln for ln in out.splitlines() if ln.startswith("RESULT ")]
    result: dict[str, Any] = json.loads(line.removeprefix("RESULT "))
    return result


def test_consent_liveness_retry_pass_and_decline_portrait(hall: HallProcess) -> None:
    from hall.client import HallClient

    result = run_child(hall, "1080x1920", "portrait")
    admin = HallClient(hall.url, TOKENS["admin"])
    assert admin.ticket(result["face_ticket"]).verification == "face"
    assert admin.ticket(result["manual_ticket"]).verification == "manual"
    for name in result["shots"]:
        assert (SHOTS / f"{name}.png").stat().st_size > 10_000


def test_consent_and_liveness_landscape_and_withdrawing_on_the_face_screen(
    hall: HallProcess,
) -> None:
    from hall.client import HallClient

    result = run_child(hall, "1920x1080", "landscape")
    admin = HallClient(hall.url, TOKENS["admin"])
    assert admin.ticket(result["manual_ticket"]).verification == "manual"
    for name in result["shots"]:
        assert (SHOTS / f"{name}.png").stat().st_size > 10_000


# -- the child: the real app, driven by touches ------------------------------------------
class Gui:
    def __init__(self, app: Any, prefix: str) -> None:
        self.app, self.prefix = app, prefix
        self.shots: list[str] = []

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
        view = self.app.flow.view
        raise AssertionError(f"timed out; screen={view.screen}, message={view.message!r}")

    def tap(self, widget: Any) -> None:
        from kivy.base import EventLoop
        from kivy.tests.common import UnitTestTouch

        x, y = widget.to_window(*widget.center)
        touch = UnitTestTouch(x, y)
        touch.touch_down()
        EventLoop.idle()
        touch.touch_up()
        EventLoop.idle()

    @property
    def screen(self) -> str:
        return str(self.app.flow.view.screen.value)

    def current(self) -> Any:
        return self.app.root_widget.ids.sm.get_screen(self.screen)

    def button(self, text: str) -> Any:
        from kivy.uix.button import Button

        for root in (self.current(), self.app.root_widget):
            for w in root.walk():
                if isinstance(w, Button) and w.text == text and w.opacity > 0 and not w.disabled:
                    return w
        raise LookupError(f"no button {text!r} on {self.screen}")

    def tile(self, code: str) -> Any:
        return next(w for w in self.current().ids.tiles.children if w.code == code)

    def shown_texts(self) -> list[str]:
        from kivy.uix.label import Label

        out = []
        for root in (self.current(), self.app.root_widget.ids.header):
            for w in root.walk(restrict=True):
                if isinstance(w, Label) and w.text and not _hidden(w, root):
                    out.append(re.sub(r"\[/?[a-z]+(=[^\]]*)?\]", "", w.text))
        return out

    def spilled_labels(self) -> list[str]:
        """Texts drawn outside the screen (under the header) or taller than their label:
        the landscape consent once pushed its heading under the header."""
        from kivy.uix.button import Button
        from kivy.uix.label import Label

        screen = self.current()
        sx0, sy0 = screen.to_window(screen.x, screen.y)
        sx1, sy1 = sx0 + screen.width, sy0 + screen.height
        out = []
        for w in screen.walk(restrict=True):
            if not isinstance(w, Label) or isinstance(w, Button) or not w.text:
                continue
            if _hidden(w, screen):
                continue
            x0, y0 = w.to_window(w.x, w.y)
            if x0 < sx0 - 1 or y0 < sy0 - 1 or x0 + w.width > sx1 + 1 or y0 + w.height > sy1 + 1:
                out.append(f"{w.text[:20]!r} is outside the screen")
            elif w.texture_size[1] > w.height + 1:
                out.append(f"{w.text[:20]!r} text {w.texture_size} > {w.size}")
        return out

    def shot(self, name: str) -> None:
        from kivy.base import EventLoop
        from kivy.core.window import Window

        from tests.kiosk.layout import check_targets

        self.pump()
        problems = check_targets(self.current(), self.app.root_widget.ids.header)
        problems += self.spilled_labels()
        assert not problems, f"{name}: {problems}"  # big, uncovered, text that fits
        SHOTS.mkdir(parents=True, exist_ok=True)
        stem = f"{self.prefix}-{name}"
        for _ in range(3):
            EventLoop.idle()
        written = Window.screenshot(name=str(SHOTS / f"{stem}.png"))
        os.replace(written, SHOTS / f"{stem}.png")
        self.shots.append(stem)


def _hidden(widget: Any, root: Any) -> bool:
    node = widget
    while node is not None and node is not root.parent:
        if node.opacity == 0:
            return True
        node = node.parent
    return False


def _face_card() -> Any:
    import dataclasses

    import cv2

    from devices.idcard.cards import load_card
    from devices.idcard.photo import encode_sim_photo
    from tests.devices.camera.photos import card_crop, photos_dir

    image = cv2.imread(str(photos_dir() / CARD))
    wlt = encode_sim_photo(card_crop(image, _box(CARD)))
    return dataclasses.replace(load_card("resident"), photo_wlt=wlt)


def _to_consent(g: Gui) -> Any:
    """Home → the face-checked service D with the card on the reader → the consent."""
    reader = g.app.parts.devices.reader.simulator
    reader.remove()
    reader.place(_face_card())
    g.tap(g.tile("D"))
    g.pump(lambda: g.screen == "face_consent", timeout=15)
    return reader


def _wake(g: Gui) -> None:
    g.pump(lambda: g.screen == "attract")
    g.tap(g.app.root_widget)  # the middle of the window: the attract screen is one button
    g.pump(lambda: g.screen == "home")
    g.pump(lambda: all(t.waiting is not None for t in g.app.flow.view.tiles))


def _ticket_shown(g: Gui) -> Any:
    g.pump(
        lambda: g.screen == "ticket" and not g.app.flow.view.ticket.printing,
        timeout=45,
    )
    return g.app.flow.view.ticket


def _printed(g: Gui) -> str:
    from devices.printer.decode import decode_text

    jobs = [j for j in g.app.parts.devices.printer.simulator.jobs if j.printed]
    return " ".join(decode_text(jobs[-1].data).split())


def portrait(g: Gui, turn_source: str) -> dict[str, Any]:
    from devices.camera.driver import CameraState

    app, flow, camera = g.app, g.app.flow, g.app.camera
    assert camera.state is CameraState.STOPPED  # off from the start, not only when idle
    g.pump(lambda: g.screen == "attract")
    assert app.tr("camera_notice") in g.shown_texts()  # the kiosk says it has a camera
    g.shot("attract-camera-notice")
    _wake(g)
    result: dict[str, Any] = {}

    reader = _to_consent(g)
    assert camera.state is CameraState.STOPPED and camera.latest() is None  # not yet
    texts = g.shown_texts()
    for key in ("consent_intro", "consent_what", "consent_where", "consent_alternative"):
        assert app.tr(key) in texts, key
    agree, decline = g.button("同意，开始人脸核验"), g.button("不同意，到窗口人工核验")
    assert agree.height == decline.height >= 140 and agree.width == decline.width  # equal
    assert any("不保存" in s and "人工核验" in s for s in app.runtime.spoken)  # said too
    g.shot("face-consent")

    g.tap(agree)
    face = g.current()
    g.pump(
        lambda: (
            g.screen == "face"
            and flow.view.challenge is not None
            and face.ids.preview.texture is not None
            and face.ids.cue.text == "向左转头"
        ),
        timeout=20,
    )
    assert camera.state is CameraState.RUNNING  # on now, after the consent
    assert face.ids.arrow.width > 0 and face.ids.seconds.text.startswith("还剩")
    assert "请慢慢向左转头，再转回来" in app.runtime.spoken
    g.shot("face-liveness")
    # a printed photo is held up: the movement never comes. The next try, the citizen
    # turns (the simulator's scene changes; the camera restarts for each attempt).
    camera.source = turn_source
    g.pump(lambda: any("没有看到转头动作" in s for s in app.runtime.spoken), timeout=30)
    g.pump(lambda: g.screen == "face" and flow.view.challenge is not None, timeout=20)
    assert "没有看到转头动作" in flow.view.message  # the second try says so
    g.shot("face-liveness-retry")
    tk = _ticket_shown(g)
    reader.remove()
    assert tk.verification == "face" and MANUAL_LINE not in g.shown_texts()
    assert MANUAL_LINE not in _printed(g)
    assert camera.state is CameraState.STOPPED and camera.latest() is None  # off again
    g.shot("ticket-face")
    result["face_ticket"] = tk.ticket_id

    g.tap(g.button("完成"))
    g.pump(lambda: g.screen == "home")
    _to_consent(g)
    g.tap(g.button("English"))
    g.pump(lambda: app.lang == "en")
    shown = g.shown_texts()
    assert [t for t in shown if _CJK.search(t)] == ["中文"], shown
    assert "I do not agree: check at the counter" in shown
    g.shot("face-consent-english")
    g.tap(g.button("中文"))
    g.pump(lambda: app.lang == "zh")
    g.tap(g.button("不同意，到窗口人工核验"))
    tk = _ticket_shown(g)
    assert tk.verification == "manual" and MANUAL_LINE in g.shown_texts()
    assert MANUAL_LINE in _printed(g)
    assert camera.state is CameraState.STOPPED  # declined: it never started
    g.shot("ticket-manual")
    result["manual_ticket"] = tk.ticket_id

    # elderly mode: 1.3× type, and the consent must still fit with its buttons
    g.tap(g.button("完成"))
    g.pump(lambda: g.screen == "home")
    _to_consent(g)
    g.tap(g.button("长者模式"))
    g.pump(lambda: app.elderly)
    g.shot("face-consent-elderly")
    assert app.runtime.face_counts["consent_given"] == 1
    assert app.runtime.face_counts["consent_declined"] == 1
    return result


def landscape(g: Gui, turn_source: str) -> dict[str, Any]:
    from devices.camera.driver import CameraState

    app, flow, camera = g.app, g.app.flow, g.app.camera
    g.pump(lambda: g.screen == "attract")
    assert app.tr("camera_notice") in g.shown_texts()
    g.shot("attract-camera-notice")
    _wake(g)
    reader = _to_consent(g)
    g.shot("face-consent")
    g.tap(g.button("同意，开始人脸核验"))
    face = g.current()
    g.pump(
        lambda: flow.view.challenge is not None and face.ids.preview.texture is not None,
        timeout=20,
    )
    g.shot("face-liveness")
    # consent withdrawn on the face screen: the camera goes off, the ticket is manual
    g.tap(g.button("不用人脸识别，到窗口人工核验"))
    tk = _ticket_shown(g)
    reader.remove()
    assert tk.verification == "manual" and MANUAL_LINE in g.shown_texts()
    assert camera.state is CameraState.STOPPED and camera.latest() is None
    assert app.runtime.face_counts["consent_withdrawn"] == 1
    g.shot("ticket-manual")
    return {"manual_ticket": tk.ticket_id}


def main(argv: list[str]) -> int:
    config, size, script, turn_source = argv
    w, h = (int(x) for x in size.split("x"))
    os.environ.update(
        KIVY_NO_ARGS="1",
        KIVY_NO_CONSOLELOG="1",
        KIVY_NO_FILELOG="1",
        SDL_VIDEODRIVER="offscreen",
        SDL_AUDIODRIVER="dummy",
        KIVY_HOME=tempfile.mkdtemp(prefix="govhall-kivy-"),
    )
    from kiosk.app import build_parts, make_app, prepare_kivy

    prepare_kivy(fullscreen=False, size=(w, h))
    from kivy.core.window import Window

    Window.size = (w, h)
    app = make_app(build_parts(config))
    app._run_prepare()
    from devices.camera.liveness import Challenge, LivenessConfig

    # the simulated citizen turns left when they turn: the kiosk asks for that movement
    app.runtime.liveness = LivenessConfig(challenges=(Challenge.TURN_LEFT,))
    g = Gui(app, script)
    try:
        g.pump(lambda: app.flow.parts.get("printer") == "ok", timeout=30)
        result = {"portrait": portrait, "landscape": landscape}[script](g, turn_source)
    except BaseException:
        # Kivy has replaced sys.stderr by its logger, which is off: the real one.
        traceback.print_exc(file=sys.__stderr__)
        return 1
    finally:
        app.stop()
    result["shots"] = g.shots
    print("RESULT " + json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""Screenshots of the kiosk at another window size, in a process of its own (an offscreen
SDL window cannot be resized in place, and Kivy allows one window per process).

    python -m tests.kiosk.shots CONFIG WIDTHxHEIGHT PREFIX
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

SHOTS = Path(__file__).resolve().parents[2] / "build" / "screenshots" / "kiosk"


def main(argv: list[str]) -> int:
    config, size, prefix = argv
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
    from kivy.base import EventLoop
    from kivy.core.window import Window

    app = make_app(build_parts(config))  # face models load lazily: nothing to switch off
    app._run_prepare()

    def pump(until: object = None, timeout: float = 15.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            EventLoop.idle()
            if until is None or until():  # type: ignore[operator]
                break
            time.sleep(0.01)
        for _ in range(5):
            EventLoop.idle()

    problems: list[str] = []

    def shot(name: str) -> None:
        from tests.kiosk.layout import check_targets

        sm = app.root_widget.ids.sm
        problems.extend(
            f"{name}: {p}" for p in check_targets(sm.current_screen, app.root_widget.ids.header)
        )
        SHOTS.mkdir(parents=True, exist_ok=True)
        written = Window.screenshot(name=str(SHOTS / f"{prefix}-{name}.png"))
        os.replace(written, SHOTS / f"{prefix}-{name}.png")

    flow = app.flow
    pump(lambda: flow.parts.get("printer") == "ok")
    shot("attract")
    app.act("wake")
    pump(lambda: all(t.waiting is not None for t in flow.view.tiles))
    shot("home")
    app.act("service", "J")
    pump(lambda: flow.view.ticket is not None and not flow.view.ticket.printing)
    shot("ticket")
    app.act("home")
    app.act("service", "A")
    pump(lambda: flow.view.screen.value == "id_card")
    shot("id_card")
    app.act("manual")
    for ch in "1101051985":
        app.act("key", ch)
    pump()
    shot("keypad")
    app.act("home")
    app.act("guide")
    pump()
    shot("guide_list")
    app.act("guide_service", "D")
    pump()
    shot("guide")
    app.act("home")
    app.act("help")
    pump(lambda: "已通知" in flow.view.message)
    shot("message")
    app.act("home")
    app.act("elderly")
    pump()
    shot("home-elderly")
    app.act("elderly")
    app.act("language")
    pump()
    shot("home-english")
    app.act("language")
    app.act("status")
    pump()
    shot("keypad-status")
    app.act("key", "J")
    app.act("key", "1")
    app.act("key_ok")
    pump(lambda: flow.view.screen.value == "status")
    shot("status")
    app.act("home")
    for _ in range(5):
        app.act("corner")
    for ch in flow.settings.admin_pin:
        app.act("key", ch)
    app.act("key_ok")
    pump(lambda: flow.view.parts.get("printer") == "ok")
    shot("maintenance")
    app.act("home")
    pump()
    app.stop()
    if problems:
        # sys.__stderr__: Kivy has taken sys.stderr over for its logger
        print("\n".join(problems), file=sys.__stderr__)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

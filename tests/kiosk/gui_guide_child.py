"""The child of tests/kiosk/test_gui_guide.py: the real kiosk app in a process of its own,
driven by real touches through 智能导办 (Kivy allows one window per process). It imports
neither pytest nor the hall's test support, so the RSS it reports is the kiosk's own.

    python -m tests.kiosk.gui_guide_child HALL_CONFIG 1080x1920 portrait|landscape
"""

from __future__ import annotations

import json
import os
import re
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

SHOTS = Path(__file__).resolve().parents[2] / "build" / "screenshots" / "kiosk"
HAN = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uff00-\uffef]")
"""Chinese characters and punctuation: none on an English screen"""


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

    @property
    def guide(self) -> Any:
        return self.app.flow.view.guide_view

    def current(self) -> Any:
        return self.app.root_widget.ids.sm.get_screen(self.screen)

    def button(self, text: str) -> Any:
        from kivy.uix.button import Button

        for root in (self.current(), self.app.root_widget):
            for w in root.walk():
                if isinstance(w, Button) and w.text == text and w.opacity > 0 and not w.disabled:
                    return w
        raise LookupError(f"no button {text!r} on {self.screen}")

    def hit(self, code: str) -> Any:
        return next(w for w in self.current().ids.hits.children if w.code == code)

    def type(self, letters: str) -> None:
        for ch in letters:
            self.tap(self.button(ch))
        self.pump(lambda: self.guide is not None and self.guide.query == letters)

    def spilled_labels(self) -> list[str]:
        """Texts drawn outside the screen or taller than their label (a ScrollView's
        content is meant to be taller than the screen: only its width counts)."""
        from kivy.uix.button import Button
        from kivy.uix.label import Label
        from kivy.uix.scrollview import ScrollView

        screen = self.current()
        sx0, sy0 = screen.to_window(screen.x, screen.y)
        sx1, sy1 = sx0 + screen.width, sy0 + screen.height
        out = []
        for w in screen.walk(restrict=True):
            if not isinstance(w, Label) or isinstance(w, Button) or not w.text:
                continue
            if _hidden(w, screen):
                continue
            if isinstance(w.parent, ScrollView):
                if w.texture_size[0] > w.width + 1:
                    out.append(f"{w.text[:20]!r} is wider than its scroll view")
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
        stem = f"{self.prefix}-guide-{name}"
        for _ in range(3):
            EventLoop.idle()
        written = Window.screenshot(name=str(SHOTS / f"{stem}.png"))
        os.replace(written, SHOTS / f"{stem}.png")
        self.shots.append(stem)

    def printed(self) -> list[str]:
        from devices.printer.decode import decode_text

        jobs = [j for j in self.app.parts.devices.printer.simulator.jobs if j.printed]
        return [" ".join(decode_text(j.data).split()) for j in jobs]

    def home(self) -> None:
        self.app.act("home")
        self.pump(lambda: self.screen == "home")


def _hidden(widget: Any, root: Any) -> bool:
    node = widget
    while node is not None and node is not root.parent:
        if node.opacity == 0:
            return True
        node = node.parent
    return False


def _wake(g: Gui) -> None:
    g.pump(lambda: g.screen == "attract")
    g.tap(g.app.root_widget)
    g.pump(lambda: g.screen == "home")
    g.pump(lambda: all(t.waiting is not None for t in g.app.flow.view.tiles))


def _open_guide(g: Gui) -> None:
    ids = g.current().ids  # above the tiles in portrait, beside the buttons in landscape
    g.tap(ids.guide_search if ids.guide_search.opacity else ids.guide_search_side)
    g.pump(lambda: g.screen == "guide_search" and g.guide is not None)
    g.pump(lambda: len(g.current().ids.hits.children) > 0)


def _rss_mb() -> float:
    with open("/proc/self/statm") as f:
        pages = int(f.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def _settled(g: Gui) -> float:
    """The RSS once home has given the session's memory back (0.5 s after, kiosk/app.py)
    and every worker is done: waited for, not timed, as a loaded machine (CI beside other
    jobs) runs the app's own timers late; then until two readings 0.5 s apart agree."""
    until = time.monotonic() + 1.5
    g.pump(lambda: time.monotonic() > until and g.app.busy == 0, timeout=30)
    last = _rss_mb()
    for _ in range(20):
        end = time.monotonic() + 0.5
        g.pump(lambda end=end: time.monotonic() > end, timeout=5)
        now = _rss_mb()
        if abs(now - last) < 1.0:
            return now
        last = now
    return last


def portrait(g: Gui) -> dict[str, Any]:
    app = g.app
    _wake(g)
    g.shot("home")
    _open_guide(g)
    assert g.guide.popular and len(g.current().ids.hits.children) == 6
    assert any("请问您要办什么" in s for s in app.runtime.spoken)
    g.shot("search-popular")

    # pinyin initials of 异地就医, typed on the screen's letters: the match appears at once
    g.type("ydjy")
    assert g.guide.hits[0].code == "yb-02"
    g.shot("search-typed")
    g.tap(g.hit("yb-02"))
    g.pump(lambda: g.screen == "guide_matter" and g.guide.question != "")
    assert "长期住在外地" in g.guide.question
    g.shot("question")
    g.tap(g.button("长期居住或工作"))
    g.pump(lambda: g.guide.question == "" and bool(g.guide.checklist))
    assert any("个人承诺书" in line for line in g.guide.checklist)
    assert not any("转诊转院证明" in line for line in g.guide.checklist)
    assert any("个人承诺书" in s for s in app.runtime.spoken)  # the list is read out
    g.shot("checklist")

    # 打印告知单: the printer's paper says it, with the guide's QR code
    g.tap(g.button("打印告知单"))
    g.pump(lambda: "告知单已打印" in app.flow.view.message, timeout=30)
    paper = g.printed()[-1]
    assert "一次告知单" in paper and "异地就医备案" in paper and "个人承诺书" in paper
    assert "您的情形：长期居住或工作" in paper
    jobs = [j for j in app.parts.devices.printer.simulator.jobs if j.printed]
    assert b"/guide/yb-02?tags=long" in jobs[-1].data  # the QR code's payload
    g.shot("printed")

    # 取号: the ticket for 医保业务, through the card reader as from its tile
    from devices.idcard.cards import load_card

    reader = app.parts.devices.reader.simulator
    reader.remove()
    reader.place(load_card("resident"))
    g.tap(g.button("取号"))
    g.pump(lambda: g.screen == "ticket" and not app.flow.view.ticket.printing, timeout=45)
    reader.remove()
    matter_ticket = app.flow.view.ticket.ticket_id
    assert app.flow.view.ticket.number.startswith("B")
    g.tap(g.button("完成"))
    g.pump(lambda: g.screen == "home")

    # elderly mode: 1.5× type, fewer and larger matches; a bundle, one ticket for 综合窗口
    g.tap(g.button("长者模式"))
    g.pump(lambda: app.elderly)
    g.shot("home-elderly")
    _open_guide(g)
    g.type("haizichusheng")  # 孩子出生
    assert g.guide.hits[0].code == "yjs-01"
    g.shot("search-elderly")
    g.tap(g.hit("yjs-01"))
    g.pump(lambda: g.screen == "guide_matter" and bool(g.guide.checklist))
    assert any("出生医学证明" in line for line in g.guide.checklist)
    g.shot("bundle-elderly")
    g.tap(g.button("取号"))
    g.pump(lambda: g.screen == "ticket" and not app.flow.view.ticket.printing, timeout=45)
    assert app.flow.view.ticket.number.startswith("J")
    bundle_ticket = app.flow.view.ticket.ticket_id
    g.tap(g.button("完成"))
    g.pump(lambda: g.screen == "home")
    g.tap(g.button("标准模式"))
    g.pump(lambda: not app.elderly)

    # English: the screens speak English, the search takes English words
    g.tap(g.button("English"))
    g.pump(lambda: app.lang == "en")
    _open_guide(g)
    g.type("passport")
    assert g.guide.hits[0].code == "crj-01"
    g.shot("search-english")
    g.tap(g.hit("crj-01"))
    g.pump(lambda: g.screen == "guide_matter" and bool(g.guide.checklist))
    assert g.guide.name == "Applying for an ordinary passport"
    shown = g.current().ids.checklist.text  # the materials by their English names
    assert "Resident ID card" in shown and not HAN.search(shown), shown
    g.shot("checklist-english")
    g.home()
    g.tap(g.button("中文"))
    g.pump(lambda: app.lang == "zh")

    # nothing found: where to go instead
    _open_guide(g)
    g.type("jiehundengji")
    assert "婚姻登记处" in g.guide.note and g.current().ids.hits.children == []
    g.shot("search-elsewhere")
    g.home()
    return {"matter_ticket": matter_ticket, "bundle_ticket": bundle_ticket, "rss_mb": _settled(g)}


def landscape(g: Gui) -> dict[str, Any]:
    app = g.app
    _wake(g)
    g.shot("home")
    _open_guide(g)
    g.shot("search-popular")
    g.type("gongjijin")
    g.shot("search-typed")
    codes = [h.code for h in g.guide.hits[:4]]
    g.tap(g.hit("gjj-01" if "gjj-01" in codes else codes[0]))
    g.pump(lambda: g.screen == "guide_matter")
    if g.guide.question:
        g.shot("question")
        while g.guide.question:
            g.tap(g.button(g.guide.options[-1][1]))
            g.pump()
    g.pump(lambda: bool(g.guide.checklist))
    g.shot("checklist")
    g.tap(g.button("长者模式"))
    g.pump(lambda: app.elderly)
    g.shot("checklist-elderly")
    g.tap(g.button("返回"))
    g.pump(lambda: g.screen == "guide_search")
    g.shot("search-elderly")
    g.home()
    return {"rss_mb": _settled(g)}


def main(argv: list[str]) -> int:
    config, size, script = argv
    w, h = (int(x) for x in size.split("x"))
    from kiosk import memory

    memory.configure_process()  # as ``govhall kiosk`` does, before Kivy and any thread
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
    g = Gui(app, script)
    try:
        g.pump(lambda: app.flow.parts.get("printer") == "ok", timeout=30)
        result = {"portrait": portrait, "landscape": landscape}[script](g)
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

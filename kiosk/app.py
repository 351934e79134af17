"""``govhall kiosk --config FILE``: the self-service kiosk (Kivy).

Wiring only: the flow (kiosk/flows) decides, the runtime (kiosk/runtime.py) talks to the hall
and the devices on worker threads, and results come back to the UI thread through
``Clock.schedule_once``. Full screen, no cursor, no way out but the maintenance page; a crash
exits non-zero and systemd starts it again on the home screen.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import functools
import logging
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kiosk import memory

log = logging.getLogger("kiosk")

EXIT_RESTART = 75  # systemd: Restart=always brings the kiosk back with the new config


def cjk_font() -> str:
    from common.fonts import INSTALL_HINT, find_cjk_font

    path = find_cjk_font()
    if path is None:
        raise SystemExit(f"govhall kiosk: no Chinese font found; {INSTALL_HINT}")
    return str(path)


def prepare_kivy(*, fullscreen: bool, size: tuple[int, int] | None) -> None:
    """Kivy reads its settings at import: set them before the first kivy import."""
    os.environ.setdefault("KIVY_NO_ARGS", "1")
    from kivy.config import Config

    Config.set("kivy", "exit_on_escape", "0")
    # No multisample anti-aliasing (Kivy's default is 2): Mesa's software renderer rounds it
    # up to 4 samples, a 1080×1920 colour and depth buffer of 32 MB each (64 MB of the
    # 300 MB budget, bench/kiosk_flow.py); on a GPU it is video memory and fill rate. Text
    # and images do not use it; the few curved shapes are drawn with Kivy's Smooth* shapes.
    Config.set("graphics", "multisamples", "0")
    Config.set("input", "mouse", "mouse,disable_multitouch")
    Config.set("graphics", "show_cursor", "0")
    if fullscreen:
        Config.set("graphics", "fullscreen", "auto")
        Config.set("graphics", "borderless", "1")
    elif size:
        Config.set("graphics", "width", str(size[0]))
        Config.set("graphics", "height", str(size[1]))
    from kivy.core.text import LabelBase

    # Every label uses the CJK font: Kivy's Roboto has no Chinese (tofu boxes).
    LabelBase.register(name="Roboto", fn_regular=cjk_font())
    drop_text_surfaces()


def drop_text_surfaces() -> None:
    """Kivy 2.3's SDL2 text provider keeps every label's last SDL surface (as large as the
    label's texture) after copying its pixels out for the texture; its pygame provider
    deletes it. Let it go once copied: the texture holds the text, and a re-render makes a
    new surface. About 10 MB of the kiosk's memory (bench/kiosk_flow.py)."""
    from kivy.core.text import Label as CoreLabel

    render_end = getattr(CoreLabel, "_render_end", None)
    if CoreLabel.__name__ != "LabelSDL2" or render_end is None:
        return
    if getattr(render_end, "drops_surface", False):
        return  # already wrapped (prepare_kivy ran before in this process)

    def _render_end(self: Any) -> Any:
        try:
            return render_end(self)
        finally:
            self._surface = None

    _render_end.drops_surface = True  # type: ignore[attr-defined]
    CoreLabel._render_end = _render_end


@dataclass
class Parts:
    """Everything the app runs on, built from the config (also used by tests and bench)."""

    flow: Any
    runtime: Any
    devices: Any
    hall: Any


def build_parts(config_path: str | Path, *, load_face_models: bool = True) -> Parts:
    from hall.client import HallClient
    from hall.config import load_config
    from kiosk.flows.flow import KioskFlow
    from kiosk.flows.model import HALL_WAIT, tile_from_config
    from kiosk.journal import OfflineJournal
    from kiosk.runtime import DeviceSet, Runtime
    from kiosk.settings import parse_kiosk

    cfg = load_config(config_path)
    settings, dev_cfg = parse_kiosk(cfg)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    # Short timeouts: a citizen waits for the answer; offline issuing takes over quickly
    # (a hall whose database is down says Retry-After: storage timeout; one second here).
    # The flow's busy screens take their deadline from the same numbers.
    wait = HALL_WAIT
    hall = HallClient(
        settings.server,
        settings.token,
        timeout=wait.timeout_s,
        retries=wait.retries,
        backoff_s=wait.backoff_s,
        retry_after_max_s=wait.retry_after_max_s,
    )
    journal = OfflineJournal(settings.data_dir / "offline-journal.jsonl", settings.offline_prefix)
    devices = DeviceSet.open(dev_cfg, settings.data_dir / "sim-printer")
    runtime = Runtime(
        settings,
        hall,
        journal,
        devices,
        hall_name=cfg.name,
        hall_name_en=cfg.name_en,
        tz=cfg.tz,
        voice_cache=settings.data_dir / "voice-cache",
        load_face_models=load_face_models,
    )
    tiles = [tile_from_config(s) for s in cfg.services]
    flow = KioskFlow(
        settings,
        cfg.name,
        cfg.name_en,
        tiles,
        clock=runtime.now,
        elderly_age=cfg.policy.elderly_age,
        hall_id=cfg.hall_id,
        public_url=cfg.public_url,
        hall_wait=wait,
    )
    flow.pending_uploads = len(journal.pending())
    flow.pending_withdrawals = len(journal.withdrawals())
    return Parts(flow, runtime, devices, hall)


def make_app(parts: Parts) -> Any:
    """The Kivy App class is defined here so importing this module does not import Kivy."""
    from kivy.app import App
    from kivy.clock import Clock
    from kivy.core.window import Window
    from kivy.properties import BooleanProperty, NumericProperty, StringProperty
    from kivy.uix.boxlayout import BoxLayout
    from kivy.uix.screenmanager import NoTransition, ScreenManager

    from common.i18n import t
    from kiosk.flows.model import RESTING_SCREENS
    from kiosk.screens import load_kv
    from kiosk.screens.attract import AttractScreen
    from kiosk.screens.face import FaceScreen
    from kiosk.screens.face_consent import FaceConsentScreen
    from kiosk.screens.guide import GuideScreen
    from kiosk.screens.guide_list import GuideListScreen
    from kiosk.screens.guide_matter import GuideMatterScreen
    from kiosk.screens.guide_search import GuideSearchScreen
    from kiosk.screens.home import HomeScreen
    from kiosk.screens.id_card import IdCardScreen
    from kiosk.screens.issuing import IssuingScreen
    from kiosk.screens.keypad import KeypadScreen
    from kiosk.screens.maintenance import MaintenanceScreen
    from kiosk.screens.message import MessageScreen
    from kiosk.screens.rating import RatingScreen
    from kiosk.screens.status import StatusScreen
    from kiosk.screens.ticket import TicketScreen

    screen_classes = (
        AttractScreen,
        HomeScreen,
        IdCardScreen,
        KeypadScreen,
        FaceScreen,
        FaceConsentScreen,
        IssuingScreen,
        TicketScreen,
        MessageScreen,
        GuideListScreen,
        GuideScreen,
        GuideSearchScreen,
        GuideMatterScreen,
        StatusScreen,
        MaintenanceScreen,
        RatingScreen,
    )

    class KioskRoot(BoxLayout):
        def on_touch_down(self, touch: Any) -> bool:
            # The hidden corner: top-left square; five quick taps open the PIN pad.
            corner = self.height * 0.07
            if touch.x < corner and touch.y > self.top - corner:
                App.get_running_app().act("corner")
            return super().on_touch_down(touch)

    class KioskApp(App):
        u = NumericProperty(1.0)  # px per design unit: layouts are drawn for 1080 px short side
        fz = NumericProperty(1.0)  # font factor: 1.5 in elderly mode
        portrait = BooleanProperty(True)
        elderly = BooleanProperty(False)
        offline = BooleanProperty(False)
        idle_warning = BooleanProperty(False)
        hall_name = StringProperty("")
        clock_text = StringProperty("")
        lang = StringProperty("zh")

        def __init__(self, parts: Parts, **kw: Any) -> None:
            super().__init__(**kw)
            self.parts = parts
            self.flow = parts.flow
            self.runtime = parts.runtime
            self.camera = parts.devices.camera.driver
            self.pool = concurrent.futures.ThreadPoolExecutor(8, thread_name_prefix="kiosk")
            self.exit_code = 0
            self.title = "govhall kiosk"
            self.runtime.on_quit = self._quit
            self.busy = 0  # effects in flight: tests wait for zero
            self.memory_settings: dict[str, str] = {}  # what start() set (kiosk/memory.py)

        def tr(self, key: str, **values: Any) -> str:
            return t("kiosk", key, self.lang, **values)

        def build(self) -> Any:
            load_kv()
            Window.show_cursor = False
            Window.clearcolor = (1, 1, 1, 1)
            Window.bind(size=self._resized)
            root = KioskRoot()
            sm: ScreenManager = root.ids.sm
            sm.transition = NoTransition()
            for cls in screen_classes:
                sm.add_widget(cls())
            self.root_widget = root
            self._resized(Window, Window.size)
            return root

        def on_start(self) -> None:
            self.refresh()
            self.run_effects(self.flow.tick())
            Clock.schedule_interval(lambda _dt: self.run_effects(self.flow.tick()), 1.0)
            # systemd (govhall-kiosk.service): READY=1, then WATCHDOG=1 from this UI clock
            from common import sdnotify

            sdnotify.kivy_started(Clock)

        def on_stop(self) -> None:
            self.pool.shutdown(wait=False, cancel_futures=True)
            self.runtime.close()
            self.parts.devices.close()

        def _resized(self, _win: Any, size: tuple[int, int]) -> None:
            w, h = size
            self.portrait = h >= w
            self.u = min(w, h) / 1080

        def _quit(self, restart: bool) -> None:
            self.exit_code = EXIT_RESTART if restart else 0
            Clock.schedule_once(lambda _dt: self.stop(), 0)

        # -- flow wiring --------------------------------------------------------------------
        def act(self, name: str, *args: Any) -> None:
            """A tap: the flow decides, the effects run."""
            f = self.flow
            handlers = {
                "wake": f.wake,
                "home": f.home,
                "back": f.back,
                "service": f.tap_service,
                "checkin": f.tap_checkin,
                "status": f.tap_status,
                "guide": f.tap_guide,
                "guide_service": f.tap_guide_service,
                "print_guide": f.print_guide,
                "guide_search": f.tap_guide_search,  # 我要办 (智能导办, issue 20)
                "guide_act": f.guide_act,
                "help": f.tap_help,
                "elderly": f.toggle_elderly,
                "language": f.toggle_language,
                "manual": f.manual_entry,
                "key": f.key,
                "key_delete": f.key_delete,
                "key_ok": f.key_ok,
                "corner": f.corner_tap,
                "maintenance": f.maintenance_action,
                "still_here": f.still_here,
                "consent_agree": f.consent_agree,
                "consent_decline": f.consent_decline,
                "face_withdraw": f.face_withdraw,
                "reprint": f.tap_reprint,
                "passport": f.tap_passport,
                "rate": f.tap_rate,  # 评价上次办理 (issue 19)
                "rate_score": f.rate,
                "rate_reason": f.rate_reason,
                "rate_send": f.rate_send,
            }
            self.run_effects(handlers[name](*args))

        def run_effects(self, effects: list[Any]) -> None:
            self.refresh()
            for effect in effects:
                self.busy += 1
                fut = self.pool.submit(self.runtime.execute, effect)
                fut.add_done_callback(functools.partial(self._done, effect=effect))

        def _done(self, fut: concurrent.futures.Future[Any], effect: Any) -> None:
            # ``execute`` answers a failed effect with ``on_effect_failed`` itself; should it
            # raise all the same, the flow still hears of it. Cancelled: the app is stopping.
            def failed(flow: Any) -> Any:
                return flow.on_effect_failed(effect)

            cont: Callable[[Any], Any] | None = None
            if fut.cancelled():
                pass
            elif fut.exception() is not None:
                cont = failed
            else:
                cont = fut.result()

            def apply(_dt: float) -> None:
                self.busy -= 1
                if cont is not None:
                    self.run_effects(cont(self.flow))
                else:
                    self.refresh()

            Clock.schedule_once(apply, 0)

        def refresh(self) -> None:
            view = self.flow.view
            now = self.runtime.now()
            self.clock_text = now.strftime("%H:%M")
            self.lang = view.lang
            self.elderly = view.elderly
            self.fz = 1.5 if view.elderly else 1.0
            self.offline = view.offline
            self.idle_warning = view.idle_warning
            self.hall_name = (
                self.runtime.hall_name_en if view.lang == "en" else self.runtime.hall_name
            )
            sm = self.root_widget.ids.sm
            screen = sm.get_screen(view.screen.value)
            screen.render(view)
            if sm.current != view.screen.value:
                left = sm.current_screen
                sm.current = view.screen.value
                # The screen left behind keeps widgets (a typed ID number, a masked name)
                # until shown again: it forgets its view now, so nothing of a citizen waits.
                if left is not None and left is not screen:
                    left.forget()
                # A session ended: once its screens have dropped their textures, the pages
                # of what it freed go back to the system (~1 ms).
                ended = left is not None and left.name not in RESTING_SCREENS
                if ended and view.screen in RESTING_SCREENS:
                    Clock.schedule_once(lambda _dt: memory.release_free_memory(), 0.5)

    return KioskApp(parts)


def main(argv: list[str] | None = None) -> int:
    app = start(argv if argv is not None else sys.argv[1:])
    app.run()
    return app.exit_code


def start(argv: list[str]) -> Any:
    """Everything ``govhall kiosk`` does before its event loop runs, allocator settings first;
    returns the app. bench/kiosk_flow.py measures the app this builds, driving its loop."""
    # Before Kivy, NumPy or any thread exists: the allocator settings (kiosk/memory.py).
    in_force = memory.configure_process()
    p = argparse.ArgumentParser(prog="govhall kiosk", description=__doc__.splitlines()[0])
    p.add_argument("--config", required=True, help="hall config file with [kiosk] and [devices]")
    p.add_argument("--windowed", metavar="WxH", help="a window instead of full screen (dev)")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    log.info("malloc: %s", memory.describe(in_force))
    from hall.config import ConfigError, load_config
    from kiosk.settings import KioskConfigError, parse_kiosk

    try:
        settings, _ = parse_kiosk(load_config(args.config))
    except (ConfigError, KioskConfigError, OSError) as err:
        print(f"govhall kiosk: {err}", file=sys.stderr)
        raise SystemExit(2) from None
    size = None
    if args.windowed:
        w, _, h = args.windowed.partition("x")
        size = (int(w), int(h))
    elif settings.orientation == "landscape":
        size = (1920, 1080)
    prepare_kivy(fullscreen=settings.fullscreen and not args.windowed, size=size or (1080, 1920))
    started = time.monotonic()
    parts = build_parts(args.config)
    app = make_app(parts)
    app.memory_settings = in_force
    log.info("kiosk %s starting (%.2f s to build)", settings.kiosk_id, time.monotonic() - started)
    return app


if __name__ == "__main__":
    sys.exit(main())

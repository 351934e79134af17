"""``govhall signage --config FILE [--counter ID] [--size WxH]``: the lobby board and
announcer (default) or the HDMI screen over one counter.

Wiring only: ``BoardFeed`` follows the hall on its own thread and hands each new state to
the Kivy thread with ``Clock.schedule_once``; the screens render ``board_view`` /
``counter_view``; the announcer and the LED strips are event sinks of the same feed; a
``signage.heartbeat.Heartbeat`` tells the hall how the board, speaker and strips are.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
from pathlib import Path
from typing import Any

from common.fonts import INSTALL_HINT, find_cjk_font
from hall.client import HallClient
from hall.config import ConfigError, load_config
from signage.board_state import BoardState, board_view, counter_view
from signage.config import SignageConfig, load_signage
from signage.feed import BoardFeed, EventSink
from signage.heartbeat import Heartbeat, PartStates, device_id, interval_s

# Kivy reads sys.argv and writes ~/.kivy/logs unless told otherwise before its first import
# (none of the imports above imports Kivy).
os.environ.setdefault("KIVY_NO_ARGS", "1")
os.environ.setdefault("KIVY_NO_FILELOG", "1")

log = logging.getLogger("govhall.signage")


def cjk_font() -> Path:
    # (that wqy-microhei's first face is Simplified Chinese is checked by rendering in
    # tests/signage/test_gui.py)
    path = find_cjk_font()
    if path is None:
        raise RuntimeError(f"no Chinese font found: {INSTALL_HINT}")
    return path


def register_fonts() -> None:
    from kivy.core.text import LabelBase

    font = str(cjk_font())
    LabelBase.register("CJK", font, fn_bold=font)


def make_app(
    feed: BoardFeed,
    counter: str | None = None,
    screenshot: Path | None = None,
    screenshot_after_s: float = 3.0,
) -> Any:
    """The Kivy App; imported lazily so the window settings can be made first."""
    from kivy.app import App
    from kivy.clock import Clock

    register_fonts()
    from signage.screens.counter import CounterScreen
    from signage.screens.lobby import LobbyBoard

    class SignageApp(App):
        title = "govhall signage"

        def __init__(self) -> None:
            super().__init__()
            self.feed = feed
            self.counter = counter
            self.state: BoardState | None = None
            self.screen: Any = None
            self.rendered_version = -1
            self._latest: BoardState | None = None
            self._trigger: Any = None

        def build(self) -> Any:
            self.screen = CounterScreen() if counter else LobbyBoard()
            return self.screen

        def on_start(self) -> None:
            # Feed thread → Kivy thread: only the latest state matters, so re-posting is fine.
            # Many events in one frame make one render of the newest state.
            self._trigger = Clock.create_trigger(lambda _dt: self.set_state(self._latest))
            self.feed.listen(self._post)
            if self.feed._thread is None:
                self.feed.start()
            Clock.schedule_interval(lambda _dt: self.render(), 0.5)  # the clock, the flash end
            # systemd (govhall-signage.service): READY=1, then WATCHDOG=1 from this UI clock
            from common import sdnotify

            sdnotify.kivy_started(Clock)
            if screenshot is not None:
                Clock.schedule_once(self._screenshot, screenshot_after_s)

        def _screenshot(self, _dt: float) -> None:
            """Save the screen and quit: for installers checking a screen, and for tests."""
            from kivy.core.window import Window

            assert screenshot is not None
            screenshot.parent.mkdir(parents=True, exist_ok=True)
            written = Window.screenshot(name=str(screenshot))  # Kivy inserts 0001
            if written:
                os.replace(written, screenshot)
            self.stop()

        def on_stop(self) -> None:
            self.feed.stop(timeout=1.0)
            if self.screen is not None:
                self.screen.stop()

        def _post(self, state: BoardState) -> None:
            """Feed thread: keep the newest state, wake the Kivy thread once."""
            self._latest = state
            self._trigger()

        def set_state(self, state: BoardState | None) -> None:
            if state is None or state is self.state:
                return
            self.state = state
            self.render()

        def render(self) -> None:
            if self.state is None or self.screen is None:
                return
            now = time.time()
            if self.counter:
                self.screen.view = counter_view(self.state, self.counter, now)
            else:
                self.screen.view = board_view(self.state, now)
            self.rendered_version = self.state.version

    return SignageApp()


def build_sinks(cfg: SignageConfig, cache_dir: Path, lobby: bool) -> list[EventSink]:
    """Announcer (lobby box only) and LED strips, each optional and each failing alone."""
    sinks: list[EventSink] = []
    if lobby and cfg.announce:
        try:
            sinks.append(make_announcer(cfg, cache_dir))
        except Exception as err:  # no speaker must not mean no board
            log.error("announcer unavailable, the board runs silent: %s", err)
            print(f"signage: announcer unavailable ({err}); the board runs silent", file=sys.stderr)
    if cfg.led_port and cfg.led_addresses:
        from signage.led import LedStrips

        sinks.append(
            LedStrips(cfg.led_port, cfg.led_addresses, baud=cfg.led_baud, encoding=cfg.led_encoding)
        )
    return sinks


def make_announcer(cfg: SignageConfig, cache_dir: Path, player: Any = None) -> Any:
    from devices.voice.player import AplayPlayer
    from devices.voice.voice import Voice
    from signage.announcer import Announcer
    from signage.chime import ensure_chime

    player = player or AplayPlayer(device=cfg.audio_device)
    voice = Voice(cfg.voice_profile, "zh", cache_dir / "voice", player)
    chime = cfg.chime or ensure_chime(cache_dir)
    return Announcer(
        voice,
        player,
        chime,
        repeat=cfg.repeat,
        english=cfg.announce_english,
        volume=cfg.volume,
        silent_hours=cfg.silent_hours,
        timezone=cfg.timezone,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="govhall signage", description=__doc__.split("\n")[0])
    parser.add_argument("--config", required=True, help="hall config file (TOML)")
    parser.add_argument("--counter", help="run the screen over this counter, not the lobby")
    parser.add_argument("--size", help="window size WxH instead of full screen")
    parser.add_argument("--silent", action="store_true", help="no announcer")
    parser.add_argument(
        "--screenshot",
        type=Path,
        help="save the screen to this PNG after --after seconds, then quit",
    )
    parser.add_argument("--after", type=float, default=3.0)
    parser.add_argument(
        "--cache-dir",
        default=os.environ.get("GOVHALL_CACHE", ""),
        help="where the chime and synthesised calls are cached",
    )
    args = parser.parse_args(argv)
    try:
        hall_cfg = load_config(args.config)
        cfg = load_signage(hall_cfg)
    except (ConfigError, OSError) as err:
        print(f"signage: {err}", file=sys.stderr)
        return 2
    if args.counter and hall_cfg.counter(args.counter) is None:
        print(f"signage: no [[counter]] with id {args.counter!r} in {args.config}", file=sys.stderr)
        return 2
    try:
        cjk_font()
    except RuntimeError as err:
        print(f"signage: {err}", file=sys.stderr)
        return 2
    cache_dir = (
        Path(args.cache_dir)
        if args.cache_dir
        else (Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "govhall")
    )

    from kivy.config import Config

    if args.size:
        try:
            w, h = (int(x) for x in args.size.lower().split("x"))
        except ValueError:
            print(f"signage: --size {args.size!r} is not like 1920x1080", file=sys.stderr)
            return 2
        Config.set("graphics", "width", str(w))
        Config.set("graphics", "height", str(h))
    else:
        Config.set("graphics", "fullscreen", "auto")
    Config.set("graphics", "show_cursor", "0")

    lobby = not (args.counter or args.silent)
    sinks = build_sinks(cfg, cache_dir, lobby=lobby)
    client = HallClient(cfg.server, cfg.token)
    feed = BoardFeed(client, cfg, sinks=tuple(sinks))
    # the dashboard's device health: this board (or counter screen), its speaker and strips
    parts = PartStates(feed, sinks, counter=args.counter, speaker_wanted=lobby and cfg.announce)
    device = device_id(hall_cfg, cfg.token, args.counter)
    beat = Heartbeat(client, device, parts, interval_s(hall_cfg)).start()
    make_app(feed, args.counter, args.screenshot, args.after).run()
    beat.stop()
    for sink in sinks:
        close = getattr(sink, "close", None)
        if close:
            close()
    return 0

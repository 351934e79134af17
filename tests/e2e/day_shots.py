"""Screenshots of a day in the hall at its moments: the lobby board (``govhall signage
--screenshot``) and a second kiosk's home screen, each a process of its own against the
day's hall (Kivy draws one window per process, and the day test's process has none).

    python -m tests.e2e.day_shots kiosk CONFIG OUT.png   (the kiosk part, run by ``shoot``)

The pictures go to build/screenshots/day/ for a person to look at. What they show of the
hall (calls, queues, counters, opening hours) is the day's; the clock drawn in their corner
is the machine's own, as the two apps read the wall clock.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "build" / "screenshots" / "day"
SAMPLE_SERVER = "http://127.0.0.1:8700"


def config_for(config: Path, url: str, folder: Path) -> Path:
    """The day's config with the board and the kiosk pointed at the day's hall."""
    folder.mkdir(parents=True, exist_ok=True)
    out = folder / "hall.toml"
    out.write_text(config.read_text(encoding="utf-8").replace(SAMPLE_SERVER, url), "utf-8")
    return out


def shoot(config: Path, url: str, name: str, folder: Path) -> list[Path]:
    """The board at 1920×1080 and the kiosk's home screen, now; both PNGs, or an
    AssertionError with what the processes said."""
    cfg = config_for(config, url, folder)
    SHOTS.mkdir(parents=True, exist_ok=True)
    board, kiosk = SHOTS / f"{name}-board.png", SHOTS / f"{name}-kiosk.png"
    env = {**os.environ, "SDL_VIDEODRIVER": "offscreen", "PYTHONPATH": str(ROOT)}
    kiosk_proc = _start(["-m", "tests.e2e.day_shots", "kiosk", str(cfg), str(kiosk)], env)
    # On a loaded machine the board's window may not have drawn its first frame by the
    # time it saves the screen (a black picture): it is asked again, given longer.
    for after in ("4", "8", "12"):
        board.unlink(missing_ok=True)
        _wait(
            _start(
                [
                    "-m",
                    "govhall.cli",
                    "signage",
                    "--config",
                    str(cfg),
                    "--silent",
                    "--size",
                    "1920x1080",
                    "--screenshot",
                    str(board),
                    "--after",
                    after,
                ],
                env,
            )
        )
        if board.stat().st_size > BLANK_BYTES:
            break
    _wait(kiosk_proc)
    return [board, kiosk]


BLANK_BYTES = 20_000  # a 1920×1080 PNG of one colour is about 10 kB; a drawn board 150 kB+


def _start(args: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, *args], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )


def _wait(proc: subprocess.Popen[bytes]) -> None:
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, (out + err).decode(errors="replace")[-2000:]


def kiosk_home(config: str, out: str) -> int:
    os.environ.update(
        KIVY_NO_ARGS="1",
        KIVY_NO_CONSOLELOG="1",
        KIVY_NO_FILELOG="1",
        SDL_AUDIODRIVER="dummy",
        KIVY_HOME=tempfile.mkdtemp(prefix="govhall-kivy-"),
    )
    from kiosk.app import build_parts, make_app, prepare_kivy

    prepare_kivy(fullscreen=False, size=(1080, 1920))
    from kivy.base import EventLoop
    from kivy.core.window import Window

    app = make_app(build_parts(config, load_face_models=False))
    app._run_prepare()
    flow = app.flow
    deadline = time.monotonic() + 30
    app.act("wake")
    while time.monotonic() < deadline:  # the hall's queues on the tiles
        EventLoop.idle()
        if flow.view.tiles and all(t.waiting is not None for t in flow.view.tiles):
            break
        time.sleep(0.02)
    for _ in range(10):
        EventLoop.idle()
    written = Window.screenshot(name=out)
    os.replace(written, out)
    app.stop()
    return 0


if __name__ == "__main__":
    if sys.argv[1:2] != ["kiosk"] or len(sys.argv) != 4:
        print(__doc__, file=sys.__stderr__)
        sys.exit(2)
    sys.exit(kiosk_home(sys.argv[2], sys.argv[3]))

"""``govhall demo --config FILE``: the whole system on simulated devices.

Starts the hall server, a kiosk (ID-card reader, printer, camera and speaker simulated in
its process, through the real drivers) and the lobby board with its announcer, each in its
own process (Kivy allows one window per process), and stops them all together. With no
display it starts a virtual one (Xvfb) so the apps really run.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import requests

from hall.config import DEMO_VARIABLE, ConfigError, load_config


def _virtual_display() -> subprocess.Popen[bytes] | None:
    if os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"):
        return None
    if shutil.which("Xvfb") is None:
        os.environ.setdefault("SDL_VIDEODRIVER", "offscreen")
        print("demo: no display and no Xvfb: the kiosk and board run offscreen")
        return None
    # -displayfd: Xvfb picks a free display itself and writes its number to the pipe, so
    # two programs starting virtual displays at once never race for the same one.
    read_fd, write_fd = os.pipe()
    proc = subprocess.Popen(
        ["Xvfb", "-displayfd", str(write_fd), "-screen", "0", "3000x1920x24", "-nolisten", "tcp"],
        pass_fds=(write_fd,),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    os.close(write_fd)
    with os.fdopen(read_fd) as f:
        n = f.readline().strip()
    if not n.isdigit():
        proc.kill()
        os.environ.setdefault("SDL_VIDEODRIVER", "offscreen")
        print("demo: Xvfb did not start: the kiosk and board run offscreen")
        return None
    os.environ["DISPLAY"] = f":{n}"
    print(f"demo: no display here, so the kiosk and board run on the virtual display :{n}")
    return proc


def _wait_healthy(url: str, proc: subprocess.Popen[bytes], timeout: float = 30) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return False
        try:
            if requests.get(url + "/healthz", timeout=1).status_code == 200:
                return True
        except requests.RequestException:
            pass
        time.sleep(0.2)
    return False


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="govhall demo", description=__doc__.splitlines()[0])
    p.add_argument("--config", required=True, help="hall config file (e.g. the sample hall)")
    p.add_argument("--dir", default="var/demo", help="where the demo keeps its database and logs")
    p.add_argument(
        "--seconds",
        type=float,
        default=0,
        help="stop after this many seconds (0: run until Ctrl-C)",
    )
    args = p.parse_args(argv)
    try:
        cfg = load_config(args.config, demo=True)  # the sample's tokens are fine here
    except ConfigError as err:
        print(f"govhall demo: {err}", file=sys.stderr)
        return 2
    work = Path(args.dir).resolve()
    work.mkdir(parents=True, exist_ok=True)
    url = f"http://{cfg.server.host}:{cfg.server.port}"
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "GOVHALL_CACHE": str(work / "cache")}
    env[DEMO_VARIABLE] = "1"  # and in the parts it starts (hall, board, kiosk)
    xvfb = _virtual_display()
    env["DISPLAY"] = os.environ.get("DISPLAY", "")
    if "SDL_VIDEODRIVER" in os.environ:
        env["SDL_VIDEODRIVER"] = os.environ["SDL_VIDEODRIVER"]
    py = [sys.executable, "-m", "govhall.cli"]
    children: list[tuple[str, subprocess.Popen[bytes]]] = []

    def start(name: str, cmd: list[str]) -> subprocess.Popen[bytes]:
        log = (work / f"{name}.log").open("ab")
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env)
        children.append((name, proc))
        return proc

    def stop_all() -> None:
        for _, proc in reversed(children):
            if proc.poll() is None:
                proc.terminate()
        for _, proc in children:
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
        if xvfb is not None:
            xvfb.terminate()

    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    try:
        hall = start(
            "hall",
            [*py, "hall", "--config", args.config, "--database", f"sqlite:///{work / 'hall.db'}"],
        )
        if not _wait_healthy(url, hall):
            print(
                f"govhall demo: the hall server did not start; see {work / 'hall.log'}",
                file=sys.stderr,
            )
            stop_all()
            return 1
        print(f"demo: hall server   {url}   (API docs {url}/docs, staff pages {url}/web/)")
        start(
            "signage",
            [
                *py,
                "signage",
                "--config",
                args.config,
                "--size",
                "1280x720",
                "--cache-dir",
                str(work / "cache"),
            ],
        )
        print("demo: lobby board   running (window 1280×720)")
        start("kiosk", [*py, "kiosk", "--config", args.config, "--windowed", "608x1080"])
        print(
            "demo: kiosk         running (window 608×1080) with simulated reader, printer, "
            "camera and speaker"
        )
        print(f"demo: logs in {work}; Ctrl-C stops everything")
        deadline = time.monotonic() + args.seconds if args.seconds else None
        while deadline is None or time.monotonic() < deadline:
            for name, proc in children:
                if proc.poll() is not None:
                    print(
                        f"govhall demo: {name} stopped (exit {proc.returncode}); see "
                        f"{work / (name + '.log')}",
                        file=sys.stderr,
                    )
                    stop_all()
                    return 1
            time.sleep(0.5)
    except KeyboardInterrupt:
        print("\ndemo: stopping")
    stop_all()
    return 0

"""Kiosk benchmark: tap on a service tile → ticket bytes confirmed at the simulated printer
(median; without ID, and with an ID card through the simulated reader at 115200 baud), cold
start of the real app to the home screen (offscreen window), and its RSS.

Targets (issue 7): < 500 ms without ID, < 1.2 s with ID card, cold start < 5 s, RSS < 300 MB.
Runs against a real hall server process on loopback.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

COLD_START = r"""
import os, sys, threading, time, tempfile
t0 = float(sys.argv[2])
os.environ.update(KIVY_NO_ARGS="1", KIVY_NO_CONSOLELOG="1", KIVY_NO_FILELOG="1",
                  SDL_VIDEODRIVER="offscreen", SDL_AUDIODRIVER="dummy",
                  KIVY_HOME=tempfile.mkdtemp())
from kiosk.app import build_parts, make_app, prepare_kivy
prepare_kivy(fullscreen=False, size=(1080, 1920))
from kivy.base import EventLoop
app = make_app(build_parts(sys.argv[1]))
app._run_prepare()
app.act("wake")
while app.root_widget.ids.sm.current != "home":
    EventLoop.idle()
EventLoop.idle()  # the home screen drawn once
elapsed = time.time() - t0

def rss():
    return int([l for l in open("/proc/self/status") if l.startswith("VmRSS")][0].split()[1]) / 1024

def settle(seconds):  # ticks, device polls, heartbeats and services refresh as in the hall
    deadline = time.time() + seconds
    while time.time() < deadline:
        EventLoop.idle(); time.sleep(0.02)

settle(10)
rss_start = rss()
# A face check right after a citizen taps a face service whose card is read at once (the
# worst case for lazy models): the load overlaps the gathering of live frames.
from devices.idcard.simulator import load_card
photo = bytes(load_card("resident").photo_wlt)
rt = app.runtime
took = []
for _ in range(2):
    t = time.perf_counter()
    rt.prepare_face()
    decision = rt.face_decision(photo, threading.Event())
    took.append(time.perf_counter() - t)
settle(3)
print(f"{elapsed:.3f} {rss_start:.1f} {rss():.1f} {took[0]:.2f} {took[1]:.2f} {decision}")
app.stop()
"""


def main() -> int:
    from devices.open import open_idcard, open_player, open_printer
    from hall.client import HallClient
    from kiosk.flows.flow import KioskFlow
    from kiosk.flows.journal import OfflineJournal
    from kiosk.flows.model import tile_from_api
    from kiosk.runtime import DeviceSet, Runtime, SyncRunner
    from kiosk.settings import KioskSettings
    from tests.support.hall_server import TOKENS, start_hall

    tmp = Path(tempfile.mkdtemp(prefix="govhall-bench-kiosk-"))
    hall = start_hall(tmp, policy={"daily_limit": 100000})
    try:
        settings = KioskSettings("K1", hall.url, TOKENS["kiosk"], "K1", "2468", data_dir=tmp)
        client = HallClient(hall.url, TOKENS["kiosk"], timeout=2.0, retries=1)
        devices = DeviceSet(
            reader=open_idcard("sim", "sim"),
            printer=open_printer("sim"),
            player=open_player("none"),
        )
        runtime = Runtime(
            settings,
            client,
            OfflineJournal(tmp / "j.jsonl", "K1"),
            devices,
            hall_name="西城区政务服务中心",
            hall_name_en="Xicheng",
            tz=ZoneInfo("Asia/Shanghai"),
            load_face_models=False,
        )
        flow = KioskFlow(
            settings,
            "西城区政务服务中心",
            "Xicheng",
            [tile_from_api(s) for s in client.services()],
            clock=runtime.now,
        )
        runner = SyncRunner(flow, runtime)
        runner.run(flow.tick())
        runner.run(flow.wake())
        printer = devices.printer.simulator
        reader = devices.reader.simulator

        def one(code: str) -> float:
            before = len(printer.printed)
            start = time.perf_counter()
            runner.run(flow.tap_service(code))
            assert len(printer.printed) == before + 1 and flow.view.ticket is not None
            assert not flow.view.ticket.print_failed
            took = time.perf_counter() - start
            runner.run(flow.home())
            return took

        one("J")  # warm-up: first connections
        no_id = [one("J") for _ in range(30)]
        reader.place("resident")
        with_id = [one("A") for _ in range(15)]
        reader.remove()
        print(
            f"tap → ticket printed, no ID:       median {statistics.median(no_id) * 1000:7.1f} ms"
            f"  (p90 {sorted(no_id)[int(0.9 * len(no_id))] * 1000:.1f} ms, n={len(no_id)};"
            " target < 500 ms)"
        )
        print(
            f"tap → ticket printed, ID card:     median {statistics.median(with_id) * 1000:7.1f}"
            f" ms  (p90 {sorted(with_id)[int(0.9 * len(with_id))] * 1000:.1f} ms,"
            f" n={len(with_id)}; reader at {reader.baudrate} baud; target < 1200 ms)"
        )
        runtime.close()
        devices.close()

        cfg = tmp / "hall.toml"
        text = cfg.read_text(encoding="utf-8").replace("fullscreen = true", "fullscreen = false")
        cfg.write_text(text, encoding="utf-8")
        out = subprocess.run(
            [sys.executable, "-c", COLD_START, str(cfg), str(time.time())],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )
        if out.returncode != 0:
            print(out.stderr[-2000:])
            return 1
        cold, rss, rss_face, face1, face2, decision = out.stdout.split()[-6:]
        print(
            f"cold start → home screen:          {float(cold):7.2f} s   (process start to the"
            " first frame of home, offscreen; target < 5 s)"
        )
        print(
            f"RSS after start, home for 10 s:    {float(rss):7.1f} MB  (target < 300 MB; face"
            " models not loaded until a face service is chosen)"
        )
        print(f"RSS after the first face check:    {float(rss_face):7.1f} MB  (dlib models loaded)")
        print(
            f"face check (5 frames + verify):    {float(face1):7.2f} s first, models loading"
            f" meanwhile; {float(face2):.2f} s warm (decision '{decision}': the sample card"
            " photo is a drawing; the worst case, the card read the instant the tile was"
            " tapped)"
        )
    finally:
        hall.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())

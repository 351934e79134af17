"""Kiosk benchmark: tap on a service tile → ticket bytes confirmed at the simulated printer
(median; without ID, and with an ID card through the simulated reader at 115200 baud), cold
start of the real app to the home screen (offscreen window), and its memory.

Targets (issue 7): < 500 ms without ID, < 1.2 s with ID card, cold start < 5 s, RSS < 300 MB.
Runs against a real hall server process on loopback.

Memory is measured in a kiosk process of its own, built by ``kiosk.app.start`` as ``govhall
kiosk`` builds it (allocator settings first, then the config, Kivy and the app), and driven
through its screens as a citizen would: home for 10 s; two face-checked tickets (tap the
tile, the ID card is read at once, the face screen shows the camera, the ticket prints; the
card photo and the camera's frames are public photos of one person, so the whole check runs:
detection, landmarks and the ResNet embedding); then idle until the attract screen and back.
RSS is VmRSS of that process plus any process it started (it starts none here); peak is its
VmHWM. The GL driver here is Mesa's llvmpipe (no GPU): its libLLVM and window buffers count
in the kiosk's RSS.
"""

from __future__ import annotations

import json
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

ATTRACT_AFTER_S = 15  # the sample's 120 s shortened; home is measured at 10 s, before it

KIOSK = r"""
import json, logging, os, sys, threading, time, tempfile
t0 = float(sys.argv[2])
os.environ.update(KIVY_NO_ARGS="1", KIVY_NO_CONSOLELOG="1", KIVY_NO_FILELOG="1",
                  SDL_VIDEODRIVER="offscreen", SDL_AUDIODRIVER="dummy",
                  KIVY_HOME=tempfile.mkdtemp())
logging.disable(logging.INFO)
from kiosk.app import start
app = start(["--config", sys.argv[1], "--windowed", "1080x1920"])  # as govhall kiosk does
from kivy.base import EventLoop
app._run_prepare()  # app.run() without its loop: the loop is driven below
sm = app.root_widget.ids.sm
app.act("wake")
while sm.current != "home":
    EventLoop.idle()
EventLoop.idle()  # the home screen drawn once
cold = time.time() - t0

def status(pid, key):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith(key + ":"):
            return int(line.split()[1]) / 1024
    return 0.0

def children(pid):
    kids = []
    for tid in os.listdir(f"/proc/{pid}/task"):
        with open(f"/proc/{pid}/task/{tid}/children") as f:
            kids += [int(k) for k in f.read().split()]
    return kids + [g for k in kids for g in children(k)]

def rss():  # the kiosk and every process it started
    kids = children(os.getpid())
    return status(os.getpid(), "VmRSS") + sum(status(k, "VmRSS") for k in kids), len(kids)

def pump(until=lambda: False, timeout=0.0):  # frames, ticks, polls and heartbeats as in the hall
    deadline = time.time() + timeout
    while time.time() < deadline:
        EventLoop.idle(); time.sleep(0.02)
        if until():
            return True
    return until()

pump(timeout=10)
rss_start = rss()

from devices.idcard.cards import load_card
import dataclasses
card = load_card("resident")
if sys.argv[3] != "-":
    card = dataclasses.replace(card, photo_wlt=open(sys.argv[3], "rb").read())
reader = app.parts.devices.reader.simulator
runtime = app.runtime
checks, decisions, tickets = [], [], []
face_decision = runtime.face_decision
def timed(*args):
    t = time.perf_counter()
    decision = face_decision(*args)
    checks.append(time.perf_counter() - t)
    decisions.append(decision)
    return decision
runtime.face_decision = timed
for _ in range(2):  # the worst case for lazy models: the card read the instant of the tap
    t = time.perf_counter()
    app.act("service", "D")
    assert pump(lambda: sm.current == "id_card", 10), sm.current
    reader.place(card)
    # the face step asks for consent first (DESIGN.md: a face check needs it): agree
    assert pump(lambda: sm.current in ("face_consent", "face", "ticket", "message"), 20), sm.current
    if sm.current == "face_consent":
        app.act("consent_agree")
    done = lambda: sm.current in ("ticket", "message") and not (
        app.flow.view.ticket and app.flow.view.ticket.printing)
    assert pump(done, 60), sm.current
    tickets.append(time.perf_counter() - t if sm.current == "ticket" else None)
    reader.remove()
    app.act("home")
    assert pump(lambda: sm.current == "home", 10), sm.current
pump(timeout=3)
face = rss()
assert pump(lambda: sm.current == "attract", 60), sm.current  # idle, as between citizens
pump(timeout=2)
app.act("wake")
assert pump(lambda: sm.current == "home", 10)
pump(timeout=3)
cycle = rss()

GL = ("libLLVM", "/dri/", "libz3", "/libGL", "/libEGL", "libglapi", "libgallium")
def group(path):
    if any(m in path for m in GL):
        return "GL driver (Mesa llvmpipe, libLLVM)"
    if any(m in path for m in ("cv2", "opencv", "numpy")):
        return "OpenCV + NumPy libraries"
    if "dlib" in path:
        return "dlib library"
    if path in ("[heap]", "[anon]"):
        return "heap + anonymous (Python, Kivy, textures, face models)"
    return "other libraries" if path.startswith("/") else "stacks and other"
groups = {}
name = "[anon]"
for line in open("/proc/self/smaps"):
    parts = line.split()
    if len(parts) >= 5 and "-" in parts[0] and not parts[0].endswith(":"):
        name = parts[5] if len(parts) > 5 else "[anon]"
    elif parts[0] == "Rss:":
        key = group(name)
        groups[key] = groups.get(key, 0) + int(parts[1]) / 1024
print(json.dumps({
    "in_force": app.memory_settings, "cold": cold, "start": rss_start, "face": face, "cycle": cycle,
    "peak": status(os.getpid(), "VmHWM"), "checks": checks, "decisions": decisions,
    "tickets": tickets, "groups": groups,
}))
app.stop()
"""


def face_photos(tmp: Path) -> tuple[str, str]:
    """(camera source, card photo file): a public photo of one person as the live camera and
    a card-size crop of another photo of him as the card's; ("sim", "-") without photos."""
    try:
        import cv2

        from devices.camera.face import FaceChecker
        from devices.idcard.photo import encode_sim_photo
        from tests.devices.camera.photos import card_crop, kiosk_frame, photos_dir

        photos = photos_dir()
        checker = FaceChecker()
    except Exception as err:  # no photos (no registry), no models: the check stops earlier
        print(f"(no face photos: {err}; the face check stops at the drawn card photo)")
        return "sim", "-"

    def box(image: object) -> tuple[int, int, int, int]:
        b = checker.find_faces(cv2.cvtColor(image, cv2.COLOR_BGR2RGB))[0]
        return (b.left, b.top, b.right, b.bottom)

    live = cv2.imread(str(photos / "obama3.jpg"))
    (tmp / "camera").mkdir()
    cv2.imwrite(str(tmp / "camera" / "live.png"), kiosk_frame(live, 200, face_box=box(live)))
    portrait = cv2.imread(str(photos / "obama.jpg"))
    (tmp / "card.wlt").write_bytes(encode_sim_photo(card_crop(portrait, box(portrait))))
    return f"sim:{tmp / 'camera' / 'live.png'}", str(tmp / "card.wlt")


def main() -> int:
    from devices.open import open_idcard, open_player, open_printer
    from hall.client import HallClient
    from kiosk.flows.flow import KioskFlow
    from kiosk.flows.model import tile_from_api
    from kiosk.journal import OfflineJournal
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
            [tile_from_api(s.model_dump()) for s in client.services()],
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

        camera, card = face_photos(tmp)
        cfg = tmp / "hall.toml"
        text = cfg.read_text(encoding="utf-8").replace("fullscreen = true", "fullscreen = false")
        text = text.replace("attract_after_s = 120", f"attract_after_s = {ATTRACT_AFTER_S}")
        text = text.replace('camera = "sim"', f'camera = "{camera}"')
        cfg.write_text(text, encoding="utf-8")
        out = subprocess.run(
            [sys.executable, "-c", KIOSK, str(cfg), str(time.time()), card],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=300,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )
        if out.returncode != 0:
            print(out.stderr[-3000:])
            return 1
        m = json.loads(out.stdout.strip().splitlines()[-1])
        (rss, kids), (rss_face, _), (rss_cycle, _) = m["start"], m["face"], m["cycle"]
        print(
            f"cold start → home screen:          {m['cold']:7.2f} s   (process start to the"
            " first frame of home, offscreen; target < 5 s)"
        )
        print(
            "memory settings in force:          "
            + ", ".join(f"{k} {v}" for k, v in m["in_force"].items())
            + " (kiosk/memory.py); Kivy multisamples 0 (kiosk/app.py)"
        )
        print(
            f"RSS after start, home for 10 s:    {rss:7.1f} MB  (target < 300 MB; kiosk process"
            f" + {kids} child processes; face models not loaded until a face service is chosen)"
        )
        print(
            f"RSS after two face-checked tickets: {rss_face:6.1f} MB  (dlib models loaded;"
            f" decisions {', '.join(m['decisions'])})"
        )
        print(
            f"RSS after idle → attract → home:   {rss_cycle:7.1f} MB  (every screen of the"
            " session and the attract screen drawn)"
        )
        print(
            f"peak RSS (VmHWM) over all of it:   {m['peak']:7.1f} MB  (during a face check or"
            " a screen's first drawing)"
        )
        print(
            "where it is (smaps, MB):           "
            + ", ".join(f"{k} {v:.0f}" for k, v in sorted(m["groups"].items(), key=lambda i: -i[1]))
        )
        first, warm = m["checks"]
        t1, t2 = m["tickets"]
        print(
            f"face check (5 frames + verify):    {first:7.2f} s first, models loading"
            f" meanwhile; {warm:.2f} s warm (card read the instant the tile was tapped: the"
            " worst case for lazy models)"
        )
        if t1 is not None and t2 is not None:
            print(
                f"tap → face-checked ticket printed: {t1:7.2f} s first, {t2:.2f} s warm"
                " (card read, 5 live frames, verify, issue, print)"
            )
    finally:
        hall.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())

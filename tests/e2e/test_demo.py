"""`govhall demo` (what `make run` starts) really brings up the system: the hall answers,
the kiosk reports its simulated devices healthy, the lobby board follows the event
stream, and a ticket issued and called flows through — then everything stops cleanly.

The demo runs as a citizen of the repository would start it, on the sample hall as shipped
(its own tokens, its opening hours; only the port differs), from a working directory of
its own: everything it keeps must land under ``var/demo`` there, nothing beside the
config and nothing in the source tree. A second terminal's ``govhall demo card elderly``
puts the elderly card on the kiosk's reader, and the kiosk, tapped on its virtual display,
reads it; the README's staff-account command, run exactly as printed, works on the demo's
database; tickets are taken at any hour."""

from __future__ import annotations

import ctypes
import ctypes.util
import datetime as dt
import os
import re
import signal
import subprocess
import sys
import time
import tomllib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests

from govhall.demo import write_demo_config
from hall.client import HallApiError, HallClient, Ticket
from hall.config import load_config, parse_config
from tests.support.hall_server import ROOT, SAMPLE_FILE, SAMPLE_TOKENS, free_port

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.timeout(240)]

PASSWORD = "demo-admin-pass-1"
DEMO = [sys.executable, "-m", "govhall.cli", "demo"]
# 社保业务, the first tile of the kiosk's home screen (kiosk/screens/home.kv: a grid of two
# columns under the heading and the 我要办 button), as a share of the 608×1080 demo window:
# its middle (the tile spans 0.25–0.35 of the height).
TILE_A = (0.26, 0.30)
ATTRACT_BLUE = (11, 78, 162)  # kiosk/screens/attract.kv: 0.043, 0.306, 0.635


def wait_for(check: Callable[[], Any], timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        try:
            last = check()
            if last:
                return last
        except (requests.RequestException, HallApiError) as err:
            last = err
        time.sleep(0.5)
    raise AssertionError(f"{what} did not happen in {timeout} s (last: {last!r})")


def _created_here() -> set[str]:
    """Untracked and ignored paths of the source tree where the demo once wrote (the
    sample's directory, var/): a demo run must add none."""
    out = subprocess.run(
        ["git", "status", "--porcelain", "--ignored", "--untracked-files=all", "--", "."],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return {
        line[3:]
        for line in out.splitlines()
        if line[:2] in ("??", "!!")
        and line[3:].startswith(("common/", "var/", "devices/"))
        and "__pycache__" not in line  # any import anywhere may write those
    }


@dataclass
class Demo:
    proc: subprocess.Popen[bytes]
    cwd: Path
    source: Path
    output: Path
    url: str
    before: set[str]

    @property
    def work(self) -> Path:
        return self.cwd / "var" / "demo"

    def text(self) -> str:
        return self.output.read_text(encoding="utf-8", errors="replace")

    def client(self, role: str) -> HallClient:
        return HallClient(self.url, SAMPLE_TOKENS[role])


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    base = tmp_path_factory.mktemp("demo")
    port = free_port()
    text = SAMPLE_FILE.read_text(encoding="utf-8")
    assert "port = 8700" in text and "http://127.0.0.1:8700" in text and "\n[hours]\n" in text
    text = text.replace("port = 8700", f"port = {port}")
    text = text.replace("http://127.0.0.1:8700", f"http://127.0.0.1:{port}")
    source = base / "sample" / "hall.sample.toml"
    source.parent.mkdir()
    source.write_text(text, encoding="utf-8")
    cwd = base / "checkout"
    cwd.mkdir()
    (cwd / ".venv").symlink_to(ROOT / ".venv")  # so the README's .venv/bin/govhall runs here
    before = _created_here()
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    env.pop("SDL_VIDEODRIVER", None)  # the demo picks Xvfb (or offscreen) itself
    env.pop("GOVHALL_DEMO", None)
    output = base / "demo.out"
    with output.open("wb") as out:
        proc = subprocess.Popen(
            [*DEMO, "--config", str(source), "--seconds", "400"],
            cwd=cwd,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    d = Demo(proc, cwd, source, output, f"http://127.0.0.1:{port}", before)
    try:
        wait_for(lambda: requests.get(d.url + "/healthz", timeout=1).ok, 40, "hall start")
        wait_for(lambda: "Ctrl-C stops everything" in d.text(), 40, "the demo's start")
        yield d
    finally:
        if proc.poll() is None:
            proc.terminate()
            proc.wait(30)


def kiosk_ready(d: Demo) -> None:
    """The kiosk's heartbeat with its devices (its first may come before they reported)."""
    devices = wait_for(
        lambda: [
            x
            for x in d.client("admin").devices()
            if x.role == "kiosk" and x.online and "printer" in x.parts
        ],
        90,
        "a kiosk heartbeat with its devices",
    )
    parts = devices[0].parts
    assert parts.get("printer") in ("ok", "warning") and parts.get("reader") == "ok", parts


def test_demo_runs_the_whole_system(demo: Demo) -> None:
    kiosk_ready(demo)
    wait_for(
        lambda: (
            'govhall_event_stream_subscribers{hall="xc-district"} 1'
            in requests.get(demo.url + "/metrics", timeout=1).text
        ),
        60,
        "the board subscribing",
    )
    ticket = demo.client("kiosk").issue_ticket("J")
    called = demo.client("counter").call_next("22")
    assert called is not None and called.id == ticket.id
    text = demo.text()
    assert f"{demo.url}/web/dashboard" in text, text
    assert "open around the clock; the sample's [hours] apply in a real hall" in text, text
    assert "lobby board" in text and "kiosk" in text


def test_tickets_are_taken_at_any_hour_unless_hours_is_given(demo: Demo, tmp_path: Path) -> None:
    # the sample's own hours (workdays 08:30–17:30, Saturday mornings, holidays closed) …
    sample = parse_config(tomllib.loads(SAMPLE_FILE.read_text(encoding="utf-8")), demo=True)
    tz = sample.tz
    night = dt.datetime(2026, 12, 6, 3, 0, tzinfo=tz)  # a Sunday, 03:00
    monday_night = dt.datetime(2026, 12, 7, 23, 0, tzinfo=tz)
    assert not sample.week().is_open(night, tz) and not sample.week().is_open(monday_night, tz)
    national_day = dt.datetime(2026, 10, 1, 10, 0, tzinfo=tz)
    # … are not the demo's: every service, every half hour of a week and a holiday
    cfg = load_config(demo.work / "hall.toml", demo=True)
    assert cfg.path == demo.work / "hall.toml"
    moments = [
        dt.datetime(2026, 12, 5, tzinfo=tz) + dt.timedelta(minutes=30 * n) for n in range(8 * 48)
    ]
    moments += [national_day, national_day.replace(hour=23, minute=59)]
    for svc in cfg.services:
        closed = [m for m in moments if not cfg.week(svc.code).is_open(m, tz)]
        assert not closed, (svc.code, closed[:3])
    # and the running hall takes a ticket now, whatever the hour
    ticket = demo.client("kiosk").issue_ticket("H")
    assert ticket.number.startswith("H") and ticket.status == "waiting"
    # --hours: the demo keeps the sample's hours
    work = tmp_path / "var" / "demo"
    work.mkdir(parents=True)
    kept, had_hours = write_demo_config(demo.source, work, hours=True)
    strict = load_config(kept, demo=True)
    assert had_hours and not strict.week("A").is_open(night, tz)
    assert strict.week("A").is_open(dt.datetime(2026, 12, 7, 9, 0, tzinfo=tz), tz)  # a Monday


# -- the virtual display: where the windows are, and a finger for the kiosk ----------------


class _Attributes(ctypes.Structure):
    _fields_ = [  # XWindowAttributes (Xlib.h)
        ("x", ctypes.c_int),
        ("y", ctypes.c_int),
        ("width", ctypes.c_int),
        ("height", ctypes.c_int),
        ("border_width", ctypes.c_int),
        ("depth", ctypes.c_int),
        ("visual", ctypes.c_void_p),
        ("root", ctypes.c_ulong),
        ("c_class", ctypes.c_int),
        ("bit_gravity", ctypes.c_int),
        ("win_gravity", ctypes.c_int),
        ("backing_store", ctypes.c_int),
        ("backing_planes", ctypes.c_ulong),
        ("backing_pixel", ctypes.c_ulong),
        ("save_under", ctypes.c_int),
        ("colormap", ctypes.c_ulong),
        ("map_installed", ctypes.c_int),
        ("map_state", ctypes.c_int),
        ("all_event_masks", ctypes.c_long),
        ("your_event_mask", ctypes.c_long),
        ("do_not_propagate_mask", ctypes.c_long),
        ("override_redirect", ctypes.c_int),
        ("screen", ctypes.c_void_p),
    ]


class Display:
    """The few Xlib and XTest calls the test needs, through ctypes."""

    def __init__(self, name: str) -> None:
        self.x11 = ctypes.CDLL(ctypes.util.find_library("X11") or "libX11.so.6")
        tst = ctypes.util.find_library("Xtst") or "libXtst.so.6"
        try:
            self.xtst = ctypes.CDLL(tst)
        except OSError as err:
            pytest.fail(f"{tst}: {err} (apt-get install libxtst6; scripts/setup.sh does)")
        x, t, vp, ul = self.x11, self.xtst, ctypes.c_void_p, ctypes.c_ulong
        x.XOpenDisplay.restype = vp
        x.XOpenDisplay.argtypes = [ctypes.c_char_p]
        x.XDefaultRootWindow.restype = ul
        x.XDefaultRootWindow.argtypes = [vp]
        window_list = ctypes.POINTER(ctypes.POINTER(ul))
        x.XQueryTree.argtypes = [
            vp,
            ul,
            ctypes.POINTER(ul),
            ctypes.POINTER(ul),
            window_list,
            ctypes.POINTER(ctypes.c_uint),
        ]
        x.XInternAtom.restype = ul
        x.XInternAtom.argtypes = [vp, ctypes.c_char_p, ctypes.c_int]
        x.XGetWindowProperty.argtypes = [
            vp, ul, ul, ctypes.c_long, ctypes.c_long, ctypes.c_int, ul,
            ctypes.POINTER(ul), ctypes.POINTER(ctypes.c_int), ctypes.POINTER(ul),
            ctypes.POINTER(ul), ctypes.POINTER(ctypes.POINTER(ctypes.c_ubyte)),
        ]  # fmt: skip
        x.XGetWindowAttributes.argtypes = [vp, ul, ctypes.POINTER(_Attributes)]
        x.XFree.argtypes = [vp]
        x.XFlush.argtypes = [vp]
        x.XCloseDisplay.argtypes = [vp]
        t.XTestFakeMotionEvent.argtypes = [vp, ctypes.c_int, ctypes.c_int, ctypes.c_int, ul]
        t.XTestFakeButtonEvent.argtypes = [vp, ctypes.c_uint, ctypes.c_int, ul]
        self.dpy = x.XOpenDisplay(name.encode())
        assert self.dpy, f"cannot open the X display {name}"

    def windows(self) -> dict[str, tuple[int, int, int, int]]:
        """Top-level windows by title: (left, top, width, height) on the screen."""
        x, ul = self.x11, ctypes.c_ulong
        root, parent = ul(), ul()
        children = ctypes.POINTER(ul)()
        count = ctypes.c_uint()
        root_window = x.XDefaultRootWindow(self.dpy)
        assert x.XQueryTree(
            self.dpy, root_window, root, parent, ctypes.byref(children), ctypes.byref(count)
        )
        found: dict[str, tuple[int, int, int, int]] = {}
        for i in range(count.value):
            title = self._title(children[i])
            if not title:
                continue
            a = _Attributes()
            x.XGetWindowAttributes(self.dpy, children[i], ctypes.byref(a))
            if a.map_state == 2:  # IsViewable
                found[title] = (a.x, a.y, a.width, a.height)
        if children:
            x.XFree(children)
        return found

    def _title(self, window: int) -> str:
        """_NET_WM_NAME, as SDL sets it (UTF-8: XFetchName finds no STRING name)."""
        x, ul = self.x11, ctypes.c_ulong
        kind, fmt, n, after = ul(), ctypes.c_int(), ul(), ul()
        data = ctypes.POINTER(ctypes.c_ubyte)()
        atom = x.XInternAtom(self.dpy, b"_NET_WM_NAME", 0)
        any_type = 0
        x.XGetWindowProperty(
            self.dpy, window, atom, 0, 1024, 0, any_type, kind, fmt, n, after, ctypes.byref(data)
        )
        if not data:
            return ""
        title = ctypes.string_at(data, n.value).decode(errors="replace")
        x.XFree(data)
        return title

    def tap(self, x: int, y: int) -> None:
        self.xtst.XTestFakeMotionEvent(self.dpy, -1, x, y, 0)
        self.x11.XFlush(self.dpy)
        time.sleep(0.2)
        for press in (1, 0):
            self.xtst.XTestFakeButtonEvent(self.dpy, 1, press, 0)
            self.x11.XFlush(self.dpy)
            time.sleep(0.15)

    def close(self) -> None:
        self.x11.XCloseDisplay(self.dpy)


def _pixel(display: str, at: tuple[int, int]) -> tuple[int, int, int]:
    from PIL import ImageGrab

    x, y = at
    rgb = ImageGrab.grab(bbox=(x, y, x + 1, y + 1), xdisplay=display).convert("RGB")
    r, g, b = rgb.getpixel((0, 0))  # type: ignore[misc]
    return (r, g, b)


def _screenshot(display: str, path: Path) -> str:
    try:
        from PIL import ImageGrab

        ImageGrab.grab(xdisplay=display).save(path)
        return f"(the screen: {path})"
    except Exception as err:  # only a hint for the failure message
        return f"(no screenshot: {err})"


def _card(d: Demo, name: str) -> subprocess.CompletedProcess[str]:
    """``govhall demo card NAME``, from a second terminal in the same directory."""
    return subprocess.run(
        [str(ROOT / ".venv" / "bin" / "govhall"), "demo", "card", name],
        cwd=d.cwd,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_govhall_demo_card_puts_the_card_the_kiosk_reads(demo: Demo, tmp_path: Path) -> None:
    found = re.search(r"virtual display (:\d+)", demo.text())
    if found is None:
        pytest.skip("no Xvfb here: the demo runs offscreen, where nobody can tap the kiosk")
    name = found.group(1)
    display = Display(name)
    try:
        kiosk_ready(demo)
        windows = wait_for(
            lambda: (
                (w := display.windows()) and {"govhall kiosk", "govhall signage"} <= set(w) and w
            ),
            30,
            "the kiosk and board windows",
        )
        kx, ky, kw, kh = windows["govhall kiosk"]
        bx, by, bw, bh = windows["govhall signage"]
        assert (kw, kh) == (608, 1080) and (bw, bh) == (1280, 720), windows
        assert kx + kw <= bx and ky == by, f"not side by side: {windows}"

        placed = _card(demo, "elderly")
        assert placed.returncode == 0, placed.stderr
        assert "elderly" in placed.stdout and "王**" in placed.stdout, placed.stdout
        probe = (kx + 8, ky + int(kh * 0.45))  # the attract screen's blue, the home's margin

        def attract() -> bool:
            return all(
                abs(a - b) <= 4 for a, b in zip(_pixel(name, probe), ATTRACT_BLUE, strict=True)
            )

        wait_for(attract, 30, "the kiosk's attract screen")
        display.tap(kx + kw // 2, ky + kh // 2)  # any touch starts
        wait_for(lambda: not attract(), 30, "the kiosk's home screen")
        display.tap(kx + int(kw * TILE_A[0]), ky + int(kh * TILE_A[1]))  # 社保业务 needs a card

        def elderly_ticket() -> Ticket:
            return demo.client("admin").ticket_by_number("A001")

        try:
            ticket = wait_for(elderly_ticket, 30, "a ticket from the card the kiosk read")
        except AssertionError as err:
            shot = _screenshot(name, tmp_path / "kiosk.png")
            raise AssertionError(f"{err} {shot}") from None
        assert ticket.service == "A" and ticket.priority == "priority", ticket
        assert ticket.priority_reason == "elderly" and ticket.name_masked == "王**", ticket
        assert ticket.id_masked is not None and ticket.id_masked.endswith("002X"), ticket

        removed = _card(demo, "remove")
        assert removed.returncode == 0 and "off the reader" in removed.stdout, removed
        unknown = _card(demo, "nobody")
        assert unknown.returncode == 2 and "elderly" in unknown.stderr, unknown
    finally:
        display.close()


def _readme_add_user() -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    commands = re.findall(r"`([^`]*\bweb add-user\b[^`]*)`", readme)
    assert len(commands) == 1, commands
    return commands[0]


def test_the_readmes_add_user_command_works_on_the_demos_database(demo: Demo) -> None:
    command = _readme_add_user()
    assert "--config var/demo/hall.toml" in command, command
    # the demo prints the same command (its govhall is this checkout's, by absolute path)
    printed = demo.text().replace(str(ROOT / ".venv" / "bin" / "govhall"), ".venv/bin/govhall")
    assert command in printed, printed
    env = {k: v for k, v in os.environ.items() if k != "GOVHALL_DEMO"}
    done = subprocess.run(
        ["bash", "-c", command],
        cwd=demo.cwd,
        env=env,
        input=f"{PASSWORD}\n{PASSWORD}\n",
        capture_output=True,
        text=True,
        timeout=60,
        start_new_session=True,  # no terminal: the password prompts read stdin
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "account admin created" in done.stdout, done.stdout
    # the running hall knows the account: the dashboard opens
    with requests.Session() as web:
        login = web.post(
            demo.url + "/web/api/login",
            json={"username": "admin", "password": PASSWORD},
            timeout=10,
        )
        assert login.status_code == 200, login.text
        page = web.get(demo.url + "/web/dashboard", allow_redirects=False, timeout=10)
        assert page.status_code == 200, (page.status_code, page.headers.get("location"))


def test_the_demo_stops_and_kept_everything_under_var_demo(demo: Demo) -> None:
    demo.proc.send_signal(signal.SIGTERM)  # as systemd or Ctrl-C would
    assert demo.proc.wait(60) == 0, demo.text()
    text = demo.text()
    assert "stopping" in text, text
    with pytest.raises(requests.ConnectionError):
        requests.get(demo.url + "/healthz", timeout=1)
    assert sorted(p.name for p in demo.source.parent.iterdir()) == ["hall.sample.toml"]
    assert sorted(p.name for p in demo.cwd.iterdir()) == [".venv", "var"]
    assert [p.name for p in (demo.cwd / "var").iterdir()] == ["demo"]
    kept = {p.name for p in demo.work.iterdir()}
    assert {"hall.toml", "hall.db", "hall.secret", "kiosk-data", "cache"} <= kept, kept
    assert {"hall.log", "kiosk.log", "signage.log"} <= kept, kept
    assert not {"control.sock", "idcard"} & kept, kept  # the reader and its socket are gone
    assert (demo.work / "kiosk-data").is_dir()
    assert _created_here() == demo.before, "the demo wrote into the source tree"

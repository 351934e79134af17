"""``govhall demo``: the whole system on simulated devices.

    govhall demo --config FILE [--dir var/demo] [--hours] [--seconds S]
    govhall demo card resident|elderly|foreign|remove [--dir var/demo]

The first starts the hall server, a kiosk (printer, camera and speaker simulated in its
process, through the real drivers) and the lobby board with its announcer, each in its own
process (Kivy allows one window per process), side by side, and stops them all together.
With no display it starts a virtual one (Xvfb) so the apps really run.

Everything the demo keeps is under ``--dir`` (default ``var/demo``, relative to the working
directory), never beside FILE (the sample hall sits in an installed package):

- ``hall.toml``: the config the demo runs, written from FILE at every start: its own
  database (``hall.db``), ID-number secret (``hall.secret``) and kiosk data
  (``kiosk-data/``) beside it, the ID-card reader the demo simulates, and no opening
  hours unless ``--hours`` (the sample's ``[hours]`` would refuse every ticket at night).
  ``govhall web add-user --config var/demo/hall.toml …`` works on the demo's database.
- ``cache/`` (chime and synthesised calls), ``*.log`` (one per part).
- ``idcard``: the simulated ID-card reader, a pty the kiosk's driver opens as it would a
  real reader; the reader runs in the demo's own process and takes cards from
  ``govhall demo card`` through ``control.sock``.
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import datetime as dt
import json
import os
import re
import shlex
import shutil
import signal
import socket
import socketserver
import subprocess
import sys
import threading
import time
import tomllib
from pathlib import Path
from typing import Any

import requests

from hall.config import DEMO_VARIABLE, ConfigError, HallConfig, load_config

DEMO_DIR = "var/demo"
CONFIG_NAME = "hall.toml"
CONTROL_NAME = "control.sock"
READER_NAME = "idcard"
CARD_ALIASES = {"foreign": "foreign_permanent_2023", "resident": "demo_resident"}
"""``govhall demo card`` names besides the sample cards' own (``devices/idcard/cards``):
``resident`` is the card whose photo shows the demo camera's citizen."""
DEMO_CITIZEN = "camera/demo/demo_citizen.jpg"
"""In ``devices``: the person the demo's camera shows, turning left when asked (photos in
devices/idcard/cards/photos/README.md)."""
KIOSK_SIZE = (608, 1080)
BOARD_SIZE = (1280, 720)
WINDOW_TOP = 32
WINDOW_GAP = 16
ENV_NOT_PASSED = ("GOVHALL_SERVER_DATABASE", "GOVHALL_HALL_SECRET")
"""A hall's own database and secret, should the shell have them: never the demo's."""


# -- the config the demo runs -------------------------------------------------------------


def demo_tables(
    raw: dict[str, Any], *, source_dir: Path, reader: Path, hours: bool
) -> dict[str, Any]:
    """The demo's config from a hall config's tables (``raw`` is not changed): the
    database, the ID-number secret and the kiosk's data beside the written file, the
    ID-card reader at ``reader``, and around the clock unless ``hours``."""
    out = copy.deepcopy(raw)
    for section, key in (("server", "database"), ("hall", "secret")):
        table = out.get(section)
        if isinstance(table, dict):
            table.pop(key, None)
    if not hours:
        out.pop("hours", None)
        for service in out.get("service") or ():
            if isinstance(service, dict):
                service.pop("hours", None)
    kiosk = out.get("kiosk")
    if isinstance(kiosk, dict):
        kiosk["data_dir"] = "kiosk-data"
    devices = out.setdefault("devices", {})
    if isinstance(devices, dict):
        devices["idcard"] = str(reader)
        if devices.get("camera", "sim") == "sim":
            # the resident card's holder stands at the camera and turns left when asked:
            # the whole face path (consent, liveness, match) can be tried
            devices["camera"] = f"sim:{demo_citizen()}?mode=turn_left"
            if isinstance(kiosk, dict):
                kiosk["liveness"] = ["turn_left"]
    # A chime is read beside the config, which moved.
    signage = out.get("signage")
    chime = signage.get("chime") if isinstance(signage, dict) else None
    if isinstance(signage, dict) and isinstance(chime, str) and chime:
        signage["chime"] = str((source_dir / chime).resolve())
    return out


def demo_citizen() -> Path:
    from importlib.resources import files

    return Path(str(files("devices").joinpath(DEMO_CITIZEN)))


def has_hours(raw: dict[str, Any]) -> bool:
    """Whether a config's tables set opening hours (the hall's or a service's)."""
    services = raw.get("service") or ()
    return "hours" in raw or any(isinstance(s, dict) and "hours" in s for s in services)


_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


def _key(key: str) -> str:
    return key if _BARE_KEY.match(key) else _string(key)


def _string(value: str) -> str:
    # A JSON string is a TOML basic string, but for DEL, which TOML wants escaped.
    return json.dumps(value, ensure_ascii=False).replace("\x7f", "\\u007f")


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        text = repr(value)
        return {"nan": "nan", "inf": "inf", "-inf": "-inf"}.get(text, text)
    if isinstance(value, str):
        return _string(value)
    if isinstance(value, dt.date | dt.time):  # datetime is a date
        return value.isoformat()
    if isinstance(value, list):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    if isinstance(value, dict):
        items = ", ".join(f"{_key(k)} = {_value(v)}" for k, v in value.items())
        return "{ " + items + " }" if items else "{}"
    raise TypeError(f"{type(value).__name__} has no TOML form")


def _is_table_array(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(v, dict) for v in value)


def toml_text(raw: dict[str, Any]) -> str:
    """``raw`` (as ``tomllib`` reads it) as TOML: top-level tables as ``[table]``, arrays
    of tables as ``[[item]]``, anything deeper inline. Checked by reading it back."""
    lines = [f"{_key(k)} = {_value(v)}" for k, v in raw.items() if not _section(v)]
    for key, value in raw.items():
        if isinstance(value, dict):
            lines += ["", f"[{_key(key)}]"]
            lines += [f"{_key(k)} = {_value(v)}" for k, v in value.items()]
        elif _is_table_array(value):
            for item in value:
                lines += ["", f"[[{_key(key)}]]"]
                lines += [f"{_key(k)} = {_value(v)}" for k, v in item.items()]
    text = "\n".join(lines) + "\n"
    if tomllib.loads(text) != raw:
        raise ValueError("the config does not read back as written")
    return text


def _section(value: Any) -> bool:
    return isinstance(value, dict) or _is_table_array(value)


def write_demo_config(source: Path, work: Path, *, hours: bool) -> tuple[Path, bool]:
    """Write the demo's config (``work/hall.toml``, mode 0600: it holds the tokens) from
    the hall config ``source``; returns its path and whether ``source`` sets hours."""
    try:
        raw = tomllib.loads(source.read_text(encoding="utf-8"))
    except FileNotFoundError as err:
        raise ConfigError(f"{source}: no such config file") from err
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(f"{source}: not valid TOML: {err}") from err
    except UnicodeDecodeError as err:
        raise ConfigError(f"{source}: not UTF-8 text") from err
    except OSError as err:
        raise ConfigError(f"{source}: cannot be read ({err.strerror})") from err
    tables = demo_tables(
        raw, source_dir=source.resolve().parent, reader=work / READER_NAME, hours=hours
    )
    kept = "kept" if hours else "left out (govhall demo --hours keeps them)"
    header = (
        f"# Written by govhall demo at its start from\n#   {source.resolve()}\n"
        "# (edit that file, not this one). Beside this file: the demo's database (hall.db),\n"
        f"# ID-number secret (hall.secret) and kiosk data (kiosk-data/). Opening hours: {kept}.\n\n"
    )
    path = work / CONFIG_NAME
    tmp = path.with_name(f".{CONFIG_NAME}.{os.getpid()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(header + toml_text(tables))
    os.replace(tmp, path)
    return path, has_hours(raw)


# -- the ID card reader and its control socket -------------------------------------------


def _socket_address(path: Path) -> str:
    """The shorter of ``path`` absolute or relative to here: a Unix socket's address is
    at most 107 bytes, and a demo directory can sit deep."""
    absolute = str(path.resolve())
    relative = os.path.relpath(absolute)
    return min(absolute, relative, key=len)


class CardControl:
    """``govhall demo card`` talks to the demo's reader simulator here: one request line
    (``place NAME_OR_PATH`` or ``remove``), one answer line (``ok …`` or ``error …``)."""

    def __init__(self, sim: Any, path: Path) -> None:
        self.sim = sim
        self.path = path
        self._server: socketserver.UnixStreamServer | None = None
        self._thread: threading.Thread | None = None

    def answer(self, line: str) -> str:
        from devices.idcard.cards import load_card

        words = line.strip().split(maxsplit=1)
        if words == ["remove"]:
            self.sim.remove()
            return "ok removed"
        if len(words) == 2 and words[0] == "place":
            try:
                card = load_card(words[1])
            except (OSError, ValueError, KeyError) as err:
                return f"error {words[1]}: not a card ({err})"
            self.sim.place(card)
            return f"ok {card.masked_name}"
        return f"error unknown request {line.strip()!r}"

    def start(self) -> None:
        control = self

        class Handler(socketserver.StreamRequestHandler):
            timeout = 5

            def handle(self) -> None:
                try:
                    line = self.rfile.readline(4096).decode("utf-8", "replace")
                except OSError:
                    return
                self.wfile.write((control.answer(line) + "\n").encode())

        address = _socket_address(self.path)
        with contextlib.suppress(FileNotFoundError):
            os.unlink(address)  # left by a demo that was killed
        self._server = socketserver.UnixStreamServer(address, Handler)
        os.chmod(address, 0o600)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            with contextlib.suppress(FileNotFoundError):
                self.path.unlink()


def _demo_running(work: Path) -> bool:
    """Whether a demo answers on ``work``'s control socket."""
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.connect(_socket_address(work / CONTROL_NAME))
        return True
    except OSError:
        return False


def card_main(argv: list[str]) -> int:
    """``govhall demo card NAME|remove``: put a card on the running demo's reader."""
    from devices.idcard.cards import sample_card_names

    names = sorted({*CARD_ALIASES, *sample_card_names()})
    p = argparse.ArgumentParser(
        prog="govhall demo card",
        description="Place a simulated ID card on the running demo's kiosk reader, or take it off.",
    )
    p.add_argument(
        "card",
        metavar="CARD",
        help=f"remove, a sample card ({', '.join(names)}) or a card JSON file",
    )
    p.add_argument("--dir", default=DEMO_DIR, help="the demo's directory (default var/demo)")
    args = p.parse_args(argv)
    if args.card == "remove":
        request = "remove"
    elif args.card in names:
        request = f"place {CARD_ALIASES.get(args.card, args.card)}"
    elif args.card.endswith(".json") and Path(args.card).is_file():
        request = f"place {Path(args.card).resolve()}"
    else:
        print(
            f"govhall demo card: no card {args.card!r}; one of: remove, {', '.join(names)}, "
            "or a card JSON file",
            file=sys.stderr,
        )
        return 2
    work = Path(args.dir)
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(10)
            s.connect(_socket_address(work / CONTROL_NAME))
            s.sendall(request.encode() + b"\n")
            reply = s.makefile(encoding="utf-8").readline().strip()
    except OSError:
        print(
            f"govhall demo card: no demo is running in {work} (start one with `make run`, "
            "or give its --dir)",
            file=sys.stderr,
        )
        return 1
    status, _, detail = reply.partition(" ")
    if status != "ok":
        print(f"govhall demo card: {detail or 'no answer'}", file=sys.stderr)
        return 1
    if request == "remove":
        print("demo: the ID card is off the reader")
    else:
        print(
            f"demo: ID card {args.card} ({detail}) is on the kiosk's reader: a service that "
            "needs an ID card reads it; `govhall demo card remove` takes it off"
        )
    return 0


# -- running it ---------------------------------------------------------------------------


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


def _shown(path: Path) -> str:
    """A path as a command line here shows it: relative when under the working directory."""
    absolute = Path(os.path.abspath(path))
    try:
        text = str(absolute.relative_to(Path.cwd()))
    except ValueError:
        text = str(absolute)
    return shlex.quote(text)


def add_user_command(config: Path) -> str:
    """The command that makes a staff account in the demo's database (as README.md says)."""
    script = Path(sys.executable).parent / "govhall"
    govhall = (
        _shown(script) if script.exists() else f"{_shown(Path(sys.executable))} -m govhall.cli"
    )
    return (
        f"{DEMO_VARIABLE}=1 {govhall} web add-user --config {_shown(config)} "
        "--username admin --role admin"
    )


def _staff_logins(cfg: HallConfig) -> list[str]:
    """The demo database's active staff accounts, as ``name (role)``."""
    from hall.services.context import HallContext
    from hall.storage.engine import make_engine
    from hall.web import accounts

    engine = make_engine(cfg.server.database)
    try:
        found = accounts.list_accounts(HallContext(cfg, engine))
    except Exception:  # the hall server migrated it; a failure here only hides the hint
        return []
    finally:
        engine.dispose()
    return [f"{a['username']} ({a['role']})" for a in found if a["active"]]


def _window_env(left: int) -> dict[str, str]:
    """Where a Kivy window opens (its [graphics] settings from the environment)."""
    return {
        "KCFG_GRAPHICS_POSITION": "custom",
        "KCFG_GRAPHICS_LEFT": str(left),
        "KCFG_GRAPHICS_TOP": str(WINDOW_TOP),
    }


def main(argv: list[str] | None = None) -> int:
    args_in = list(sys.argv[1:] if argv is None else argv)
    if args_in[:1] == ["card"]:
        return card_main(args_in[1:])
    p = argparse.ArgumentParser(
        prog="govhall demo",
        description="The whole system on simulated devices "
        "(`govhall demo card NAME|remove` from another terminal: the kiosk's ID card).",
    )
    p.add_argument("--config", required=True, help="hall config file (e.g. the sample hall)")
    p.add_argument(
        "--dir", default=DEMO_DIR, help="where the demo keeps all its data (default var/demo)"
    )
    p.add_argument(
        "--hours",
        action="store_true",
        help="keep the config's opening hours (default: open around the clock)",
    )
    p.add_argument(
        "--seconds",
        type=float,
        default=0,
        help="stop after this many seconds (0: run until Ctrl-C)",
    )
    args = p.parse_args(args_in)
    source = Path(args.config)
    work = Path(args.dir).resolve()
    if _demo_running(work):
        print(f"govhall demo: a demo is already running in {work}", file=sys.stderr)
        return 1
    work.mkdir(parents=True, exist_ok=True)
    try:
        config, source_hours = write_demo_config(source, work, hours=args.hours)
        cfg = load_config(config, demo=True)  # the sample's tokens are fine here
    except ConfigError as err:
        print(
            f"govhall demo: {str(err).replace(str(work / CONFIG_NAME), str(source))}",
            file=sys.stderr,
        )
        return 2
    url = f"http://{cfg.server.host}:{cfg.server.port}"
    env = {k: v for k, v in os.environ.items() if k not in ENV_NOT_PASSED}
    env |= {"PYTHONUNBUFFERED": "1", "GOVHALL_CACHE": str(work / "cache")}
    env[DEMO_VARIABLE] = "1"  # and in the parts it starts (hall, board, kiosk)
    xvfb = _virtual_display()
    env["DISPLAY"] = os.environ.get("DISPLAY", "")
    if "SDL_VIDEODRIVER" in os.environ:
        env["SDL_VIDEODRIVER"] = os.environ["SDL_VIDEODRIVER"]
    py = [sys.executable, "-m", "govhall.cli"]
    children: list[tuple[str, subprocess.Popen[bytes]]] = []

    from devices.idcard.simulator import IdCardSimulator

    reader = IdCardSimulator(transport="pty", link=work / READER_NAME)
    control = CardControl(reader, work / CONTROL_NAME)

    def start(name: str, cmd: list[str], more_env: dict[str, str] | None = None) -> None:
        log = (work / f"{name}.log").open("ab")
        proc = subprocess.Popen(
            cmd, stdout=log, stderr=subprocess.STDOUT, env={**env, **(more_env or {})}
        )
        children.append((name, proc))

    def stop_all() -> None:
        for _, proc in reversed(children):
            if proc.poll() is None:
                proc.terminate()
        for _, proc in children:
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
        control.stop()
        reader.stop()
        if xvfb is not None:
            xvfb.terminate()

    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    try:
        reader.start()
        control.start()
        print(f"demo: config        {_shown(config)} (from {source}); all its data beside it")
        if source_hours and not args.hours:
            whose = "the sample's" if source.name == "hall.sample.toml" else f"{source}'s"
            print(
                f"demo: open around the clock; {whose} [hours] apply in a real hall "
                "(govhall demo --hours keeps them)"
            )
        elif source_hours:
            print(f"demo: opening hours as in {source} ([hours]): closed hours refuse tickets")
        start("hall", [*py, "hall", "--config", str(config)])
        if not _wait_healthy(url, children[0][1]):
            print(
                f"govhall demo: the hall server did not start; see {work / 'hall.log'}",
                file=sys.stderr,
            )
            stop_all()
            return 1
        print(f"demo: hall server   {url}   (API docs {url}/docs)")
        logins = _staff_logins(cfg)
        print(f"demo: dashboard     {url}/web/dashboard   (counter page {url}/web/counter)")
        if logins:
            print(f"demo: staff login   {', '.join(logins)}")
        else:
            print(f"demo: staff login   none yet; make one with\n    {add_user_command(config)}")
        kiosk_w, kiosk_h = KIOSK_SIZE
        board_w, board_h = BOARD_SIZE
        board_left = kiosk_w + WINDOW_GAP
        start(
            "signage",
            [
                *py,
                "signage",
                "--config",
                str(config),
                "--size",
                f"{board_w}x{board_h}",
                "--cache-dir",
                str(work / "cache"),
            ],
            _window_env(board_left),
        )
        print(
            f"demo: lobby board   running (window {board_w}×{board_h} at {board_left},{WINDOW_TOP})"
        )
        start(
            "kiosk",
            [*py, "kiosk", "--config", str(config), "--windowed", f"{kiosk_w}x{kiosk_h}"],
            _window_env(0),
        )
        print(
            f"demo: kiosk         running (window {kiosk_w}×{kiosk_h} at 0,{WINDOW_TOP}) with "
            "simulated reader, printer, camera and speaker"
        )
        print(
            "demo: ID card       from another terminal: govhall demo card "
            "resident|elderly|foreign|remove"
            + ("" if args.dir == DEMO_DIR else f" --dir {shlex.quote(args.dir)}")
        )
        print(f"demo: logs in {_shown(work)}; Ctrl-C stops everything")
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
        print(f"demo: {args.seconds:g} s are up: stopping")
    except KeyboardInterrupt:
        print("\ndemo: stopping")
    except OSError as err:
        print(f"govhall demo: {err}", file=sys.stderr)
        stop_all()
        return 1
    stop_all()
    return 0

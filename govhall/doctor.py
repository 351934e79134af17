"""``govhall doctor [--config FILE]``: is this machine ready to run its part of the hall?

One line per check — ✓ fine, ✗ wrong (with a hint on the next line), – not applicable
here — and exit status 1 if any check failed, so a technician (or a monitoring script)
sees at once what to fix. Checks: the config file (every section validated by its owner,
errors name file and key), the hall server reachable with this machine's token, a Chinese
font, voice synthesis, each configured device (reader SAM status, printer DLE EOT, camera
frames, AVX for the face model), disk space, clock and time zone.

Never printed: tokens, passwords in database URLs, anything read from a card (the reader
is only asked for its SAM status; no card is read).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import email.utils
import io
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from common.fonts import INSTALL_HINT, find_cjk_font
from hall.config import CURRENT_VERSION, ConfigError, HallConfig, load_config

DEFAULT_CONFIG = "/etc/govhall/hall.toml"
MIN_FREE_BYTES = 1 << 30  # a year of tickets is ~100 MB; 1 GiB leaves room for backups
MAX_SKEW_S = 30.0  # offline tickets are merged by issue time: kiosk clocks must agree
TEST_PHRASE = "请A001号到1号窗口办理"
OK, FAIL, SKIP = "✓", "✗", "–"


@dataclass(frozen=True)
class Check:
    name: str
    mark: str  # OK, FAIL or SKIP
    detail: str
    hint: str = ""

    @property
    def failed(self) -> bool:
        return self.mark == FAIL


def ok(name: str, detail: str) -> Check:
    return Check(name, OK, detail)


def fail(name: str, detail: str, hint: str) -> Check:
    return Check(name, FAIL, detail, hint)


def skip(name: str, detail: str) -> Check:
    return Check(name, SKIP, detail)


# -- config -----------------------------------------------------------------------------------


def validate_config(path: str | Path) -> HallConfig:
    """Load ``path`` and validate every section with its owner's validator, so every
    command refuses a bad file the same way; ConfigError names file, key and problem, one
    line per problem, of every section at once."""
    from hall.configkit import file_name
    from hall.web.settings import web_settings
    from kiosk.settings import parse_devices, parse_kiosk
    from signage.config import load_signage

    config = load_config(path)
    checks: list[Callable[[HallConfig], object]] = [web_settings]
    if "kiosk" in config.sections:
        checks.append(parse_kiosk)
    elif "devices" in config.sections:
        checks.append(lambda c: parse_devices(c.sections["devices"], file_name(c.path)))
    if "signage" in config.sections:
        checks.append(load_signage)
    problems: list[str] = []
    for check in checks:
        try:
            check(config)
        except ConfigError as err:  # KioskConfigError is one too
            problems.append(str(err))
    if problems:
        raise ConfigError("\n".join(problems))
    return config


def check_config(path: Path) -> tuple[Check, HallConfig | None]:
    try:
        config = validate_config(path)
    except ConfigError as err:
        return fail(
            "config",
            str(err),
            "fix those keys (see common/assets/hall.sample.toml for every "
            "key with a comment), then run govhall doctor again",
        ), None
    parts = [
        "hall server" if not ({"kiosk", "signage"} & set(config.sections)) else "",
        "kiosk" if "kiosk" in config.sections else "",
        "signage" if "signage" in config.sections else "",
    ]
    old = (
        f"; written for config version {config.version}, read as version {CURRENT_VERSION} "
        f"(add version = {CURRENT_VERSION} at its top)"
        if config.version < CURRENT_VERSION
        else ""
    )
    return ok(
        "config",
        f"{path} valid: hall {config.hall_id!r}, {len(config.services)} "
        f"services, {len(config.counters)} counters; sections for "
        f"{', '.join(p for p in parts if p)}{old}",
    ), config


# -- hall server ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Endpoint:
    who: str  # which section's server/token this is
    url: str
    token: str
    token_name: str


def endpoints(config: HallConfig) -> list[Endpoint]:
    """The server and token each part on this machine uses (never the token in output)."""
    names = {t.token: t.name for t in config.tokens}
    out: list[Endpoint] = []
    for section in ("kiosk", "signage"):
        table = config.sections.get(section)
        if table:
            token = str(table.get("token", ""))
            out.append(
                Endpoint(
                    f"[{section}]",
                    str(table.get("server", "")).rstrip("/"),
                    token,
                    names.get(token, "a token not in [[token]]"),
                )
            )
    if not out and config.tokens:
        host = config.server.host
        host = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host
        tok = config.tokens[0]
        out.append(Endpoint("[server]", f"http://{host}:{config.server.port}", tok.token, tok.name))
    return out


def check_hall(config: HallConfig, skews: list[float]) -> list[Check]:
    import requests

    from hall.client import HallApiError, HallClient, HallUnavailable

    checks = []
    for ep in endpoints(config):
        name = f"hall {ep.who}"
        client = HallClient(ep.url, ep.token, timeout=3.0, retries=0)
        try:
            t0 = time.time()
            resp = requests.get(ep.url + "/healthz", timeout=3.0)
            t1 = time.time()
            health = resp.json()
            client.services()  # an authenticated read every role may make
        except (HallUnavailable, requests.RequestException, ValueError) as err:
            checks.append(
                fail(
                    name,
                    f"{ep.url} does not answer ({type(err).__name__})",
                    "is the hall server running (systemctl status govhall-hall)? "
                    f"Is {ep.who} server the right address, port open in the "
                    "firewall?",
                )
            )
            continue
        except HallApiError as err:
            hint = (
                (
                    f"the token of {ep.who} must be one of the hall server's [[token]] "
                    "entries (copy it from the server's config)"
                )
                if err.status == 401
                else "the server refused this machine's role"
            )
            checks.append(
                fail(
                    name,
                    f"{ep.url} refused token {ep.token_name!r} ({err.status} {err.code})",
                    hint,
                )
            )
            continue
        finally:
            client.session.close()
        date = resp.headers.get("date")
        if date:
            server_t = email.utils.parsedate_to_datetime(date).timestamp()
            # the Date header has 1 s resolution: count only what exceeds it
            skews.append(0.0 if t0 - 1 <= server_t <= t1 + 1 else server_t - (t0 + t1) / 2)
        if health.get("hall") != config.hall_id:
            checks.append(
                fail(
                    name,
                    f"{ep.url} is hall {health.get('hall')!r}, this config "
                    f"is for {config.hall_id!r}",
                    "point this machine at its own hall's server, or fix [hall].id",
                )
            )
            continue
        checks.append(ok(name, f"{ep.url} answers, token {ep.token_name!r} accepted"))
    return checks


# -- font and voice ---------------------------------------------------------------------------


def check_font() -> Check:
    from PIL import Image, ImageDraw, ImageFont

    def drawn(font: Any, char: str) -> bytes:
        img = Image.new("L", (48, 48))
        ImageDraw.Draw(img).text((0, 0), char, font=font, fill=255)
        return img.tobytes()

    # the font the kiosk, board and printer will really open (common.fonts)
    path = find_cjk_font()
    if path is None:
        return fail("font", "no Chinese font found (text would show as boxes)", INSTALL_HINT)
    try:
        font = ImageFont.truetype(str(path), 32)
        # a font without the glyph draws its "missing" box for both
        if drawn(font, "政") != drawn(font, "\U0010fffd"):
            return ok("font", f"Chinese font {path}")
    except OSError:
        pass
    return fail(
        "font", f"{path} has no Chinese characters (text would show as boxes)", INSTALL_HINT
    )


def voice_needed(config: HallConfig | None) -> bool:
    if config is None:
        return True
    devices = config.sections.get("devices", {})
    if "kiosk" in config.sections and str(devices.get("voice", "sim")).lower() != "none":
        return True
    signage = config.sections.get("signage") or {}
    return bool(signage) and bool(signage.get("announce", True))


def check_voice(config: HallConfig | None) -> Check:
    if not voice_needed(config):
        return skip(
            "voice", "no speaker on this machine (no [kiosk] voice, no [signage] announcements)"
        )
    from devices.voice.errors import VoiceError
    from devices.voice.synth import VOICES, Synthesizer

    synth = Synthesizer()
    try:
        with tempfile.TemporaryDirectory(prefix="govhall-doctor-") as tmp:
            t0 = time.monotonic()
            # pyttsx3 prints "Audio saved to …" on stdout: not part of the report
            with contextlib.redirect_stdout(io.StringIO()):
                audio = synth.synthesize_to(
                    TEST_PHRASE, Path(tmp) / "test.wav", voice=VOICES["zh"], rate=165, volume=0.8
                )
            ms = (time.monotonic() - t0) * 1000
    except VoiceError as err:
        return fail(
            "voice",
            f"cannot synthesise a test phrase ({err.code})",
            "apt-get install espeak-ng; check `espeak-ng -v cmn-latn-pinyin 你好`",
        )
    finally:
        synth.close()
    detail = (
        f"test phrase synthesised ({audio.duration_s:.1f} s of speech in {ms:.0f} ms, "
        f"{synth.last_backend})"
    )
    spec = str(config.sections.get("devices", {}).get("voice", "")) if config else ""
    if spec.startswith(("aplay", "espeak")) and shutil.which("aplay") is None:
        return fail("voice", detail + "; but aplay is missing", "apt-get install alsa-utils")
    return ok("voice", detail)


# -- devices ----------------------------------------------------------------------------------


def _device_specs(config: HallConfig | None) -> dict[str, str]:
    if config is None or not ({"kiosk", "devices"} & set(config.sections)):
        return {}
    from kiosk.settings import parse_devices

    d = parse_devices(config.sections.get("devices", {}), str(config.path))
    return {"idcard": d.idcard, "printer": d.printer, "camera": d.camera}


def _is_none(spec: str) -> bool:
    return spec.strip().lower() in ("none", "", "absent")


def check_idcard(spec: str) -> Check:
    from devices.idcard.driver import IdCardReader
    from devices.idcard.errors import IdCardError, SamFault
    from devices.open import open_idcard

    if _is_none(spec):
        return skip("id-card reader", 'not fitted (idcard = "none")')
    opened = None
    try:
        if spec == "sim":
            opened = open_idcard("sim", "none")
            reader, where = opened.driver, "simulator"
        else:
            reader, where = IdCardReader(spec, reply_timeout=1.0), spec
        try:
            state = reader.status()
            return ok("id-card reader", f"{where} answers the SAM status command ({state.value})")
        except SamFault as err:
            return fail(
                "id-card reader",
                f"{where}: security module fault ({err.code})",
                "the reader's SAM is faulty: power-cycle it, else call the vendor",
            )
        except IdCardError as err:
            return fail(
                "id-card reader",
                f"{where}: no answer to the SAM status command ({err.code})",
                "check the cable and the port name (ls -l /dev/serial/by-id/); the "
                "kiosk user must be in group dialout",
            )
        finally:
            reader.close()
    finally:
        if opened is not None:
            opened.close()


def check_printer(spec: str) -> Check:
    from devices.printer.codec import WARNING_STATES, PrinterStatus
    from devices.printer.driver import PrinterError, TicketPrinter
    from devices.printer.simulator import PrinterSimulator

    if _is_none(spec):
        return skip("printer", 'not fitted (printer = "none")')
    sim = None
    try:
        if spec == "sim":
            sim = PrinterSimulator(None, render_png=False)
            url, where = sim.start_tcp(), "simulator"
        else:
            url, where = spec, spec
        try:
            printer = TicketPrinter.from_url(url)
            state = printer.status()
        except PrinterError as err:
            return fail(
                "printer",
                f"{where}: {err.code}",
                "use tcp://HOST:9100, serial:///dev/ttyUSB0 or usb://VID:PID "
                "(a CUPS queue cannot report paper out)",
            )
        with contextlib.suppress(OSError):
            printer.close()
        if state is PrinterStatus.OK or state in WARNING_STATES:
            note = "" if state is PrinterStatus.OK else f"; warning: {state.value}"
            return ok("printer", f"{where} answers DLE EOT: {state.value}{note}")
        if state is PrinterStatus.NOT_THERE:
            return fail(
                "printer",
                f"{where}: no answer to DLE EOT",
                "is it switched on and connected? For a network printer: ping it and "
                "check port 9100; for USB/serial: cable and port name",
            )
        return fail(
            "printer",
            f"{where} answers DLE EOT: {state.value}",
            "load paper / close the cover / clear the jam, then check again",
        )
    finally:
        if sim is not None:
            sim.stop()


def check_camera(spec: str, wait_s: float = 5.0) -> Check:
    from devices.camera.driver import Camera, CameraState
    from devices.camera.errors import CameraError
    from devices.open import open_camera

    if _is_none(spec):
        return skip("camera", 'not fitted (camera = "none")')
    try:
        camera = open_camera("sim").driver if spec == "sim" else Camera(spec).start()
    except CameraError as err:
        return fail(
            "camera",
            f"{spec}: {err.code}",
            'camera is "0", "/dev/video0", an rtsp:// URL, "sim" or "none"',
        )
    where = "simulator" if spec == "sim" else spec
    try:
        if camera.wait_state({CameraState.RUNNING}, timeout=wait_s):
            w, h = camera.resolution or (0, 0)
            return ok("camera", f"{where} delivers frames ({w}×{h})")
        return fail(
            "camera",
            f"{where}: no frames within {wait_s:.0f} s",
            "check the USB cable (ls /dev/video*); the kiosk user must be in group "
            "video; no other program may hold the camera",
        )
    finally:
        camera.stop()  # frames are dropped with it: nothing is kept or written


def check_avx(config: HallConfig | None, camera_spec: str) -> Check:
    from devices.camera.cpu import has_avx

    needs_face = config is not None and any(s.requires_face for s in config.services)
    if _is_none(camera_spec) or not needs_face or config is None or "kiosk" not in config.sections:
        return skip("cpu", "no face check on this machine")
    avx = has_avx()
    if avx is None:
        return ok("cpu", "not an x86 CPU: the face model's AVX need does not apply")
    if avx:
        return ok("cpu", "supports AVX (needed by the face model)")
    return fail(
        "cpu",
        "no AVX: the face model cannot run on this CPU",
        'use a kiosk PC with an AVX CPU (Intel since 2011), or set camera = "none" '
        "and face_fallback in [kiosk]",
    )


# -- machine ----------------------------------------------------------------------------------


def check_disk(paths: list[Path], min_free: int = MIN_FREE_BYTES) -> Check:
    worst: tuple[int, Path] | None = None
    for p in paths:
        while not p.exists() and p != p.parent:
            p = p.parent
        free = shutil.disk_usage(p).free
        if worst is None or free < worst[0]:
            worst = (free, p)
    assert worst is not None
    free, where = worst
    text = f"{free / (1 << 30):.1f} GiB free at {where}"
    if free < min_free:
        return fail(
            "disk",
            text,
            f"free at least {min_free / (1 << 30):.0f} GiB: delete old "
            "backups (*.bak beside the database) and journals (journalctl "
            "--vacuum-time=90d)",
        )
    return ok("disk", text)


def _ntp_synchronised() -> bool | None:
    if shutil.which("timedatectl") is None:
        return None
    try:
        out = subprocess.run(
            ["timedatectl", "show", "-p", "NTPSynchronized", "--value"],
            capture_output=True,
            text=True,
            timeout=5,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    value = out.stdout.strip()
    return {"yes": True, "no": False}.get(value) if out.returncode == 0 else None


def check_clock(skews: list[float], now: Callable[[], float] = time.time) -> Check:
    t = dt.datetime.fromtimestamp(now(), dt.UTC)
    if t.year < 2024:
        return fail(
            "clock",
            f"the clock says {t:%Y-%m-%d}",
            "set the time (timedatectl set-ntp true); replace the CMOS battery if it "
            "is lost at every power cut",
        )
    worst = max(skews, key=abs, default=0.0)
    if abs(worst) > MAX_SKEW_S:
        return fail(
            "clock",
            f"{abs(worst):.0f} s {'behind' if worst > 0 else 'ahead of'} the hall server",
            "use the same NTP server on every machine of the hall "
            "(timedatectl set-ntp true; /etc/systemd/timesyncd.conf)",
        )
    ntp = _ntp_synchronised()
    if ntp is False:
        return fail(
            "clock",
            "not synchronised with NTP",
            "timedatectl set-ntp true, and give the hall's NTP server in "
            "/etc/systemd/timesyncd.conf",
        )
    sync = {True: "NTP synchronised", None: "NTP state unknown"}[ntp]
    agree = "; agrees with the hall server" if skews else ""
    return ok("clock", f"{t:%Y-%m-%d %H:%M:%S} UTC, {sync}{agree}")


def check_timezone(config: HallConfig | None) -> Check:
    zone = config.timezone if config else "Asia/Shanghai"
    from zoneinfo import ZoneInfo

    now = dt.datetime.now(dt.UTC)
    want = now.astimezone(ZoneInfo(zone)).utcoffset()
    have = dt.timedelta(seconds=time.localtime().tm_gmtoff)
    if want != have:
        return fail(
            "timezone",
            f"system UTC offset {_offset(have)} but [hall].timezone {zone} is {_offset(want)}",
            f"timedatectl set-timezone {zone} (journal times and the daily reset "
            "are then read alike)",
        )
    return ok("timezone", f"system time zone matches {zone} ({_offset(want)})")


def _offset(delta: dt.timedelta | None) -> str:
    minutes = int((delta or dt.timedelta()).total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    return f"UTC{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


# -- main -------------------------------------------------------------------------------------


def _disk_paths(config: HallConfig | None, config_path: Path) -> list[Path]:
    paths = [config_path.parent]
    if config is not None:
        from sqlalchemy.engine import make_url

        url = make_url(config.server.database)
        if (
            url.get_backend_name() == "sqlite"
            and url.database
            and "kiosk" not in config.sections
            and "signage" not in config.sections
        ):
            paths.append(Path(url.database).parent)
    return paths


def run_checks(config_path: Path) -> list[Check]:
    checks: list[Check] = []
    check, config = check_config(config_path)
    checks.append(check)
    skews: list[float] = []
    if config is not None:
        checks += check_hall(config, skews)
    checks.append(check_font())
    checks.append(check_voice(config))
    specs = _device_specs(config)
    if specs:
        checks.append(check_idcard(specs["idcard"]))
        checks.append(check_printer(specs["printer"]))
        checks.append(check_camera(specs["camera"]))
    checks.append(check_avx(config, specs.get("camera", "none")))
    checks.append(check_disk(_disk_paths(config, config_path)))
    checks.append(check_clock(skews))
    checks.append(check_timezone(config))
    return checks


def render(checks: list[Check]) -> str:
    width = max(len(c.name) for c in checks)
    lines = []
    for c in checks:
        first, *more = c.detail.splitlines() or [""]
        lines.append(f"{c.mark} {c.name:<{width}}  {first}")
        lines += [f"  {' ' * width}  {line}" for line in more]  # e.g. one per config problem
        if c.hint:
            lines.append(f"  {' ' * width}  → {c.hint}")
    failed = sum(c.failed for c in checks)
    lines.append(f"{failed} problem(s) found" if failed else "all checks passed")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="govhall doctor", description="Check this machine's govhall installation."
    )
    parser.add_argument(
        "--config",
        default=os.environ.get("GOVHALL_CONFIG", DEFAULT_CONFIG),
        help=f"hall config file (default $GOVHALL_CONFIG or {DEFAULT_CONFIG})",
    )
    args = parser.parse_args(argv)
    checks = run_checks(Path(args.config))
    out: Any = sys.stdout
    try:
        print(render(checks), file=out, flush=True)
    except UnicodeEncodeError:  # a console without UTF-8: still readable
        print(render(checks).replace(OK, "OK").replace(FAIL, "FAIL").replace(SKIP, "-"))
    return 1 if any(c.failed for c in checks) else 0


if __name__ == "__main__":
    sys.exit(main())

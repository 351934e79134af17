"""This machine itself: a Chinese font, disk space, the clock and the time zone."""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from common.fonts import INSTALL_HINT, find_cjk_font
from common.health import Check, Text, fail, ok, text, verbatim
from hall.config import HallConfig

MIN_FREE_BYTES = 1 << 30  # a year of tickets is ~100 MB; 1 GiB leaves room for backups
MAX_SKEW_S = 30.0  # offline tickets are merged by issue time: kiosk clocks must agree
GIB = 1 << 30


def check_font() -> Check:
    from PIL import Image, ImageDraw, ImageFont

    def drawn(font: Any, char: str) -> bytes:
        img = Image.new("L", (48, 48))
        ImageDraw.Draw(img).text((0, 0), char, font=font, fill=255)
        return img.tobytes()

    hint = text("font_hint", install=INSTALL_HINT)
    # the font the kiosk, board and printer will really open (common.fonts)
    path = find_cjk_font()
    if path is None:
        return fail("font", text("font_missing"), hint)
    try:
        font = ImageFont.truetype(str(path), 32)
        # a font without the glyph draws its "missing" box for both
        if drawn(font, "政") != drawn(font, "\U0010fffd"):
            return ok("font", text("font_ok", path=path))
    except OSError:
        pass
    return fail("font", text("font_no_chinese", path=path), hint)


def disk_paths(config: HallConfig | None, config_path: Path) -> list[Path]:
    """Where this machine writes: beside its config, and the hall server's SQLite database."""
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
    detail = text("disk_free", gib=free / GIB, where=verbatim(where))
    if free < min_free:
        return fail("disk", detail, text("disk_hint", min_gib=min_free / GIB))
    return ok("disk", detail)


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
    """``skews``: s by which each hall server's clock is ahead of this one's."""
    t = dt.datetime.fromtimestamp(now(), dt.UTC)
    if t.year < 2024:
        return fail("clock", text("clock_lost", date=f"{t:%Y-%m-%d}"), text("clock_lost_hint"))
    worst = max(skews, key=abs, default=0.0)
    if abs(worst) > MAX_SKEW_S:
        detail = text("clock_behind" if worst > 0 else "clock_ahead", seconds=abs(worst))
        return fail("clock", detail, text("clock_skew_hint"))
    ntp = _ntp_synchronised()
    if ntp is False:
        return fail("clock", text("clock_no_ntp"), text("clock_no_ntp_hint"))
    sync = text("clock_ntp_synced") if ntp else text("clock_ntp_unknown")
    agree = text("clock_agrees") if skews else Text("", "")
    return ok("clock", text("clock_ok", time=f"{t:%Y-%m-%d %H:%M:%S}", sync=sync, agree=agree))


def check_timezone(config: HallConfig | None) -> Check:
    zone = config.timezone if config else "Asia/Shanghai"
    from zoneinfo import ZoneInfo

    now = dt.datetime.now(dt.UTC)
    want = now.astimezone(ZoneInfo(zone)).utcoffset()
    have = dt.timedelta(seconds=time.localtime().tm_gmtoff)
    if want != have:
        return fail(
            "timezone",
            text("timezone_mismatch", have=_offset(have), zone=zone, want=_offset(want)),
            text("timezone_hint", zone=zone),
        )
    return ok("timezone", text("timezone_ok", zone=zone, offset=_offset(want)))


def _offset(delta: dt.timedelta | None) -> str:
    minutes = int((delta or dt.timedelta()).total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    return f"UTC{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"

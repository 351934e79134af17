"""Shared kiosk test helpers: a hand-wound clock, settings, and the sample hall's tiles."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from hall.config import load_config
from kiosk.flows.flow import KioskFlow
from kiosk.flows.model import Tile, tile_from_config
from kiosk.settings import KioskSettings
from tests.support.clock import FakeClock
from tests.support.hall_server import SAMPLE

TZ = ZoneInfo("Asia/Shanghai")


def sample_tiles() -> list[Tile]:
    cfg = load_config(SAMPLE)
    return [tile_from_config(s, waiting=3) for s in cfg.services]


def make_settings(tmp: Path | None = None, **kw: object) -> KioskSettings:
    base: dict[str, object] = dict(
        kiosk_id="K1",
        server="http://127.0.0.1:1",
        token="x" * 20,
        offline_prefix="K1",
        admin_pin="2468",
    )
    if tmp is not None:
        base["data_dir"] = tmp
    base.update(kw)
    return KioskSettings(**base)  # type: ignore[arg-type]


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(dt.datetime(2025, 5, 6, 10, 0, tzinfo=TZ))


@pytest.fixture
def flow(clock: FakeClock) -> KioskFlow:
    f = KioskFlow(
        make_settings(),
        "西城区政务服务中心",
        "Xicheng",
        sample_tiles(),
        clock=clock,
        elderly_age=60,
        hall_id="xc",
    )
    f.parts.update(printer="ok", reader="ok", camera="ok", speaker="ok")
    f.wake()
    return f

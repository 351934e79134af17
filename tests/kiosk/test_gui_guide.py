"""智能导办 in the real kiosk app (offscreen SDL window) with real touches, against a real
hall server on loopback and the printer and ID-card simulators behind the real drivers: the
我要办 tile, letters typed on the screen keyboard with the matches offered while typing,
a matter's situation questions ending in its checklist, the printed 一次告知单 with its QR
code, 取号 into the matter's queue, a 一件事一次办 bundle's ticket for the 综合窗口, English
and elderly mode (1.5× type must still fit: every shot runs the layout checks), and the
kiosk's RSS after all of it. Screenshots go to build/screenshots/kiosk/ (guide-*).

Kivy allows one window per process and ``test_gui.py``'s app keeps its own in the pytest
process, so, as ``test_gui_face.py`` does, the app runs in a process of its own
(``python -m tests.kiosk.gui_guide_child``, which imports neither pytest nor the hall's test
support, so its RSS is the kiosk's) and the test checks its exit, the hall and the RSS."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest

from tests.support.hall_server import ROOT, TOKENS, HallProcess, free_port, write_config

pytestmark = [pytest.mark.gui, pytest.mark.slow]
SHOTS = ROOT / "build" / "screenshots" / "kiosk"
RSS_TARGET_MB = 300
"""Issue 20's target for the kiosk after the guide: printed by these tests (DESIGN: memory
targets are measured and printed, not asserted), with the share of it used."""


@pytest.fixture(scope="module")
def hall(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HallProcess]:
    tmp = tmp_path_factory.mktemp("kiosk-gui-guide")
    port = free_port()
    cfg = write_config(tmp / "hall.toml", port)
    text = cfg.read_text(encoding="utf-8").replace("fullscreen = true", "fullscreen = false")
    cfg.write_text(text, encoding="utf-8")
    hall = HallProcess(cfg, port, f"sqlite:///{tmp / 'hall.db'}").start()
    try:
        yield hall
    finally:
        hall.stop()


def size_of(result: dict[str, Any]) -> str:
    return "portrait" if "matter_ticket" in result else "landscape"


def run_child(hall: HallProcess, size: str, script: str) -> dict[str, Any]:
    proc = subprocess.run(
        [sys.executable, "-m", "tests.kiosk.gui_guide_child", str(hall.config), size, script],
        cwd=ROOT,
        capture_output=True,
        timeout=300,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    out = proc.stdout.decode()
    assert proc.returncode == 0, (out + proc.stderr.decode())[-4000:]
    (line,) = [ln for ln in out.splitlines() if ln.startswith("RESULT ")]
    result: dict[str, Any] = json.loads(line.removeprefix("RESULT "))
    return result


def test_guide_portrait_search_situation_print_ticket_bundle_elderly(hall: HallProcess) -> None:
    from hall.client import HallClient

    result = run_child(hall, "1080x1920", "portrait")
    admin = HallClient(hall.url, TOKENS["admin"])
    assert admin.ticket(result["matter_ticket"]).service == "B"  # 异地就医备案 → 医保业务
    assert admin.ticket(result["bundle_ticket"]).service == "J"  # 新生儿出生一件事 → 综合窗口
    print(
        f"kiosk RSS after the guide ({size_of(result)}): {result['rss_mb']:.0f} MB"
        f" (target {RSS_TARGET_MB} MB)"
    )
    assert result["rss_mb"] > 50  # a figure of the real kiosk process, not of nothing
    for name in result["shots"]:
        assert (SHOTS / f"{name}.png").stat().st_size > 10_000


def test_guide_landscape_and_elderly(hall: HallProcess) -> None:
    result = run_child(hall, "1920x1080", "landscape")
    print(
        f"kiosk RSS after the guide ({size_of(result)}): {result['rss_mb']:.0f} MB"
        f" (target {RSS_TARGET_MB} MB)"
    )
    assert result["rss_mb"] > 50  # a figure of the real kiosk process, not of nothing
    for name in result["shots"]:
        assert (SHOTS / f"{name}.png").stat().st_size > 10_000

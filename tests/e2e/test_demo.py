"""`govhall demo` (what `make run` starts) really brings up the system: the hall answers,
the kiosk reports its simulated devices healthy, the lobby board follows the event
stream, and a ticket issued and called flows through — then everything stops cleanly."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import requests

from hall.client import HallClient
from tests.support.hall_server import ROOT, TOKENS, free_port, write_config

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def wait_for(check: Callable[[], Any], timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        try:
            last = check()
            if last:
                return last
        except requests.RequestException as err:
            last = err
        time.sleep(0.5)
    raise AssertionError(f"{what} did not happen in {timeout} s (last: {last!r})")


def test_demo_runs_the_whole_system(tmp_path: Path) -> None:
    port = free_port()
    cfg = write_config(tmp_path / "hall.toml", port)
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    env.pop("SDL_VIDEODRIVER", None)  # the demo picks Xvfb (or offscreen) itself
    demo = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "govhall.cli",
            "demo",
            "--config",
            str(cfg),
            "--dir",
            str(tmp_path / "demo"),
            "--seconds",
            "120",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: requests.get(url + "/healthz", timeout=1).ok, 30, "hall start")
        admin = HallClient(url, TOKENS["admin"])
        # the kiosk's first heartbeat may come before its devices have reported
        devices = wait_for(
            lambda: [
                d
                for d in admin.devices()
                if d.role == "kiosk" and d.online and "printer" in d.parts
            ],
            60,
            "a kiosk heartbeat with its devices",
        )
        parts = devices[0].parts
        assert parts.get("printer") in ("ok", "warning") and parts.get("reader") == "ok", parts
        wait_for(
            lambda: (
                'govhall_event_stream_subscribers{hall="xc-district"} 1'
                in requests.get(url + "/metrics", timeout=1).text
            ),
            60,
            "the board subscribing",
        )
        ticket = HallClient(url, TOKENS["kiosk"]).issue_ticket("J")
        called = HallClient(url, TOKENS["counter"]).call_next("22")
        assert called is not None and called.id == ticket.id
        demo.send_signal(signal.SIGTERM)  # as systemd or Ctrl-C would
        out, _ = demo.communicate(timeout=60)
    finally:
        if demo.poll() is None:
            demo.terminate()
            demo.wait(20)
    text = out.decode()
    assert demo.returncode == 0, text
    assert "lobby board" in text and "kiosk" in text and "stopping" in text
    with pytest.raises(requests.ConnectionError):
        requests.get(url + "/healthz", timeout=1)

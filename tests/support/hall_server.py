"""A real hall server in its own process for end-to-end tests (kiosk, signage, web, hall):
``govhall hall`` on a free loopback port with a config written from the sample hall."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "assets" / "hall.sample.toml"
TOKENS = {
    "kiosk": "sample-kiosk-token-change-me",
    "display": "sample-display-token-change-me",
    "counter": "sample-counter-token-change-me",
    "admin": "sample-admin-token-change-me",
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def write_config(
    path: Path, port: int, *, policy: dict[str, Any] | None = None, extra: str = ""
) -> Path:
    """The sample hall on ``port`` with its database beside the file."""
    text = SAMPLE.read_text(encoding="utf-8").replace("port = 8700", f"port = {port}")
    text = text.replace("http://127.0.0.1:8700", f"http://127.0.0.1:{port}")
    if policy:
        raw = tomllib.loads(text)
        for k, v in policy.items():
            raw["policy"][k] = v
        lines = "\n".join(f"{k} = {v!r}" for k, v in raw["policy"].items())
        start = text.index("[policy]")
        end = text.index("[[service]]")
        text = text[:start] + "[policy]\n" + lines + "\n\n" + text[end:]
    path.write_text(text + extra, encoding="utf-8")
    return path


@dataclass
class HallProcess:
    config: Path
    port: int
    database: str
    proc: subprocess.Popen[bytes] | None = None
    log: Path | None = None
    args: tuple[str, ...] = ()
    """More ``govhall hall`` options, e.g. ``("--writer", "thread")``."""

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 20.0) -> HallProcess:
        self.log = self.config.with_suffix(".log")
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "govhall.cli",
                "hall",
                "--config",
                str(self.config),
                "--port",
                str(self.port),
                "--database",
                self.database,
                "--log-level",
                "warning",
                *self.args,
            ],
            stdout=self.log.open("ab"),
            stderr=subprocess.STDOUT,
            env=env,
            cwd=ROOT,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"hall server exited: {self.log.read_text()[-2000:]}")
            try:
                if requests.get(self.url + "/healthz", timeout=0.5).status_code == 200:
                    return self
            except requests.RequestException:  # not up yet, or slow to answer while starting
                pass
            time.sleep(0.05)
        raise RuntimeError("hall server did not start in time")

    def kill(self) -> None:
        """kill -9: no shutdown handler runs."""
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()


def start_hall(tmp: Path, database: str | None = None, **config_kw: Any) -> HallProcess:
    port = free_port()
    cfg = write_config(tmp / "hall.toml", port, **config_kw)
    return HallProcess(cfg, port, database or f"sqlite:///{tmp / 'hall.db'}").start()

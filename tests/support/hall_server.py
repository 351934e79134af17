"""A real hall server in its own process for end-to-end tests (kiosk, signage, web, hall):
``govhall hall`` on a free loopback port with a config written from the sample hall.

The sample's own tokens are refused outside ``govhall demo``, so tests use the sample with
``TOKENS`` in their place: ``write_config`` writes it, and ``SAMPLE`` is a copy of it for
tests that load the sample hall directly (``SAMPLE_FILE`` is the shipped file itself)."""

from __future__ import annotations

import hashlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parents[2]
SAMPLE_FILE = ROOT / "common" / "assets" / "hall.sample.toml"
SAMPLE_TOKENS = {
    "kiosk": "sample-kiosk-token-change-me",
    "display": "sample-display-token-change-me",
    "counter": "sample-counter-token-change-me",
    "admin": "sample-admin-token-change-me",
}
"""role → the shipped sample's token (public: refused by ``govhall hall``)."""
TOKENS = {
    "kiosk": "test-kiosk-token-4f9c2a7e1b",
    "display": "test-display-token-8d3b6e0c5a",
    "counter": "test-counter-token-2e7a9f4d1c",
    "admin": "test-admin-token-6b1d8c3f7e",
}
"""role → the token of that role in every config the tests write from the sample."""


def sample_text() -> str:
    """The sample hall's TOML with ``TOKENS`` in place of the sample's tokens."""
    text = SAMPLE_FILE.read_text(encoding="utf-8")
    for role, token in SAMPLE_TOKENS.items():
        assert token in text, f"{SAMPLE_FILE} no longer has the {role} token {token!r}"
        text = text.replace(token, TOKENS[role])
    # The tests' hall takes tickets around the clock: the sample's [hours] would refuse
    # them at night, when CI may run. Tests of opening hours write their own [hours].
    start = text.index("\n[hours]\n")
    end = text.index("\n[", start + 1)
    return text[:start] + text[end:]


def _test_sample() -> Path:
    """``sample_text()`` in a file of its own (its secret is made beside it), written once
    per content and atomically, so concurrent test runs share it."""
    text = sample_text()
    digest = hashlib.sha256(text.encode()).hexdigest()[:12]
    folder = Path(tempfile.gettempdir()) / f"govhall-test-sample-{os.getuid()}-{digest}"
    path = folder / "hall.sample.toml"
    if not path.exists():
        folder.mkdir(parents=True, exist_ok=True)
        tmp = folder / f".hall.sample.toml.{os.getpid()}"
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    return path


SAMPLE = _test_sample()
"""The sample hall with ``TOKENS``, for tests that load it directly."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def write_config(
    path: Path, port: int, *, policy: dict[str, Any] | None = None, extra: str = ""
) -> Path:
    """The sample hall on ``port`` with ``TOKENS`` and its database beside the file."""
    text = sample_text().replace("port = 8700", f"port = {port}")
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
    """More ``govhall hall`` options, e.g. ``("--host", "0.0.0.0")``."""

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

"""sd_notify: READY=1 and WATCHDOG=1 reach a real notify socket, from the loop that proves
the process works (a stopped process stops pinging, so systemd would restart it)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from common import sdnotify
from tests.support.hall_server import ROOT, free_port, write_config


@pytest.fixture
def notify_socket(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[socket.socket]:
    path = tmp_path / "notify.sock"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(path))
    sock.settimeout(10)
    monkeypatch.setenv("NOTIFY_SOCKET", str(path))
    yield sock
    sock.close()


def _receive(sock: socket.socket, until: float) -> list[tuple[float, str]]:
    got = []
    while time.monotonic() < until:
        sock.settimeout(max(0.01, until - time.monotonic()))
        try:
            got.append((time.monotonic(), sock.recv(4096).decode()))
        except TimeoutError:
            break
    return got


def test_messages_and_watchdog_interval(
    notify_socket: socket.socket, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert sdnotify.ready("up")
    assert notify_socket.recv(100) == b"READY=1\nSTATUS=up"
    assert sdnotify.ping() and notify_socket.recv(100) == b"WATCHDOG=1"
    monkeypatch.setenv("WATCHDOG_USEC", "20000000")
    assert sdnotify.watchdog_interval() == 10.0
    monkeypatch.setenv("WATCHDOG_PID", "1")  # the watchdog is another process's
    assert sdnotify.watchdog_interval() is None
    monkeypatch.delenv("NOTIFY_SOCKET")
    assert not sdnotify.ready()  # outside systemd: nothing, and no error


def test_abstract_socket_and_dead_socket(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    name = f"govhall-test-{os.getpid()}"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind("\0" + name)
        monkeypatch.setenv("NOTIFY_SOCKET", "@" + name)
        assert sdnotify.ping()
        assert sock.recv(100) == b"WATCHDOG=1"
    monkeypatch.setenv("NOTIFY_SOCKET", str(tmp_path / "gone.sock"))
    assert not sdnotify.ping()  # systemd gone: the service keeps running


@pytest.mark.e2e
def test_hall_server_is_ready_then_pings_from_its_loop(
    tmp_path: Path, notify_socket: socket.socket
) -> None:
    port = free_port()
    cfg = write_config(tmp_path / "hall.toml", port)
    env = {**os.environ, "WATCHDOG_USEC": "400000"}  # ping every 0.2 s
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "govhall.cli",
            "hall",
            "--config",
            str(cfg),
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        first = notify_socket.recv(4096).decode()
        assert first.startswith("READY=1")
        with socket.create_connection(("127.0.0.1", port), timeout=2):
            pass  # READY came once it listens
        pings = _receive(notify_socket, time.monotonic() + 1.5)
        assert sum(m == "WATCHDOG=1" for _, m in pings) >= 4

        os.kill(proc.pid, signal.SIGSTOP)  # a frozen server …
        time.sleep(0.1)
        _receive(notify_socket, time.monotonic() + 0.05)  # drain what was in flight
        assert _receive(notify_socket, time.monotonic() + 1.0) == []  # … sends nothing
        os.kill(proc.pid, signal.SIGCONT)
        assert any(m == "WATCHDOG=1" for _, m in _receive(notify_socket, time.monotonic() + 1.0))

        proc.terminate()
        tail = [m for _, m in _receive(notify_socket, time.monotonic() + 5)]
        assert "STOPPING=1" in tail
        # uvicorn re-raises the SIGTERM it handled gracefully: systemd counts that as clean
        assert proc.wait(10) in (0, -signal.SIGTERM)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()

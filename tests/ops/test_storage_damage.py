"""A damaged, emptied or full database (issue "reliability", items 10 and 11), against a real
``govhall hall`` process.

What must hold: a damaged or zero-length database file is refused at start with one line
saying what is wrong and how to restore (never a server that answers 500 to every issue,
never a silently new hall); a full disk gives 503 ``storage_unavailable`` with Retry-After
and the connection kept, never a 500; every ticket answered 201 is there afterwards,
exactly once; and the server recovers by itself when space comes back."""

from __future__ import annotations

import os
import resource
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from tests.support.hall_server import ROOT, TOKENS, HallProcess, free_port, write_config

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(120)]
KIOSK = {"Authorization": f"Bearer {TOKENS['kiosk']}"}
ADMIN = {"Authorization": f"Bearer {TOKENS['admin']}"}


def run_hall(cfg: Path, db: Path) -> subprocess.CompletedProcess[str]:
    """``govhall hall`` that is expected to refuse to start (it would otherwise run on)."""
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "govhall.cli",
            "hall",
            "--config",
            str(cfg),
            "--database",
            f"sqlite:///{db}",
            "--port",
            str(free_port()),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
    )


def a_hall_with_tickets(tmp_path: Path, n: int = 20) -> tuple[Path, Path, list[int]]:
    port = free_port()
    cfg = write_config(tmp_path / "hall.toml", port)
    db = tmp_path / "hall.db"
    hall = HallProcess(cfg, port, f"sqlite:///{db}").start()
    try:
        ids = [
            requests.post(
                f"{hall.url}/api/v1/tickets", json={"service": "J"}, headers=KIOSK, timeout=10
            ).json()["id"]
            for _ in range(n)
        ]
    finally:
        hall.stop()
    return cfg, db, ids


def test_a_damaged_database_is_refused_at_start_with_the_restore_command(
    tmp_path: Path,
) -> None:
    cfg, db, _ = a_hall_with_tickets(tmp_path)
    size = db.stat().st_size
    with db.open("r+b") as f:  # 40 KB of noise in the middle of the file
        f.seek(max(4096, size // 2 - 20_000))
        f.write(os.urandom(40_000))
    done = run_hall(cfg, db)
    assert done.returncode == 2, done.stderr
    line = done.stderr.strip().splitlines()[-1]
    assert "damaged" in line or "cannot be read" in line, line
    assert f"govhall restore --config {cfg}" in line
    # govhall doctor says the same before anyone tries to start the hall
    doctor = subprocess.run(
        [sys.executable, "-m", "govhall.cli", "doctor", "--config", str(cfg)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
    )
    report = doctor.stdout
    assert doctor.returncode != 0
    assert "✗ database" in report and "数据库不可用" in report, report
    assert f"govhall restore --config {cfg}" in report


def test_an_emptied_database_is_not_silently_a_new_hall(tmp_path: Path) -> None:
    cfg, db, _ = a_hall_with_tickets(tmp_path, n=2)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    db.write_bytes(b"")
    done = run_hall(cfg, db)
    assert done.returncode == 2
    assert "is empty (0 bytes)" in done.stderr and "govhall restore" in done.stderr
    assert db.stat().st_size == 0  # left as it was, for whoever restores it


def test_a_full_disk_is_503_and_the_hall_recovers_by_itself(tmp_path: Path) -> None:
    port = free_port()
    cfg = write_config(tmp_path / "hall.toml", port)
    db = tmp_path / "hall.db"
    hall = HallProcess(cfg, port, f"sqlite:///{db}").start()
    assert hall.proc is not None
    session = requests.Session()
    try:
        issue = lambda: session.post(  # noqa: E731
            f"{hall.url}/api/v1/tickets", json={"service": "J"}, headers=KIOSK, timeout=15
        )
        answered = [issue().json()["id"] for _ in range(3)]
        # the disk fills up: no file of the server may grow past its size now
        biggest = max(
            Path(f"{db}{s}").stat().st_size for s in ("", "-wal") if Path(f"{db}{s}").exists()
        )
        resource.prlimit(
            hall.proc.pid, resource.RLIMIT_FSIZE, (biggest + 8192, resource.RLIM_INFINITY)
        )
        statuses = []
        for _ in range(200):
            r = issue()
            statuses.append(r.status_code)
            assert r.status_code in (201, 503), r.text
            if r.status_code == 201:
                answered.append(r.json()["id"])
            else:
                assert r.json()["error"] == "storage_unavailable" and r.headers["Retry-After"]
                assert r.headers.get("connection", "").lower() != "close"
                break
        assert statuses[-1] == 503, "the limit never bit: the test filled nothing"
        health = session.get(f"{hall.url}/healthz", timeout=15)
        assert health.status_code in (200, 503)  # it answers, whatever it reports
        # space comes back: the next issue works without a restart
        resource.prlimit(
            hall.proc.pid, resource.RLIMIT_FSIZE, (resource.RLIM_INFINITY, resource.RLIM_INFINITY)
        )
        for _ in range(50):
            r = issue()
            if r.status_code == 201:
                answered.append(r.json()["id"])
                break
        assert r.status_code == 201, r.text
    finally:
        hall.stop()
    hall = HallProcess(cfg, port, f"sqlite:///{db}").start()
    try:
        for ticket_id in answered:
            r = requests.get(f"{hall.url}/api/v1/tickets/{ticket_id}", headers=ADMIN, timeout=10)
            assert r.status_code == 200
        stats = requests.get(f"{hall.url}/api/v1/stats", headers=ADMIN, timeout=10).json()
        assert stats["total"]["issued"] == len(answered) == len(set(answered))
    finally:
        hall.stop()

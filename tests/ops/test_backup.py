"""govhall backup / restore on real databases and a real hall process."""

from __future__ import annotations

import shutil
import sqlite3
import threading
from contextlib import closing
from pathlib import Path

import pytest
import requests

from hall.backup import BackupError, inspect_sqlite
from hall.storage.migrate import head_revision
from tests.ops.conftest import PG_URL, count, digest, govhall, make_hall_db
from tests.support.hall_server import TOKENS, start_hall

KIOSK = {"Authorization": f"Bearer {TOKENS['kiosk']}"}


def _sequences_match_tickets(db: Path) -> None:
    """Every issued number was taken from its daily sequence in the same transaction, so in
    a consistent snapshot each sequence equals the tickets of its service and day."""
    with closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True)) as conn:
        seqs = dict(
            ((day, svc), n)
            for day, svc, n in conn.execute("SELECT day, service, last_seq FROM sequences")
        )
        issued = dict(
            ((day, svc), n)
            for day, svc, n in conn.execute(
                "SELECT day, service, count(*) FROM tickets GROUP BY day, service"
            )
        )
    assert seqs == issued


@pytest.mark.e2e
@pytest.mark.slow
def test_backup_while_the_hall_issues_tickets_then_restore(tmp_path: Path) -> None:
    hall = start_hall(tmp_path)
    db = tmp_path / "hall.db"
    stop = threading.Event()
    issued: list[dict] = []
    errors: list[str] = []

    def writer() -> None:
        with requests.Session() as s:
            while not stop.is_set():
                r = s.post(
                    hall.url + "/api/v1/tickets", json={"service": "J"}, headers=KIOSK, timeout=10
                )
                if r.status_code != 201:
                    errors.append(r.text)
                    return
                issued.append(r.json())

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        backups = []
        for i in range(3):
            while len(issued) < 20 * (i + 1):
                assert thread.is_alive(), errors
                threading.Event().wait(0.02)
            dest = tmp_path / "backups" / f"hall-{i}.db"
            run = govhall("backup", str(dest), "--config", str(hall.config))
            assert run.returncode == 0, run.stderr
            backups.append(dest)
    finally:
        stop.set()
        thread.join(30)
    assert not errors
    live_total = len(issued)

    counts = []
    for dest in backups:
        info = inspect_sqlite(dest)  # intact, govhall, known migration
        assert info.revision == head_revision() and info.halls == ("xc-district",)
        _sequences_match_tickets(dest)
        counts.append(info.tickets)
        assert not list(dest.parent.glob(".*partial*"))
    assert 0 < counts[0] < counts[1] < counts[2] <= live_total

    # restore with the server running: refused, and the live database untouched
    before = digest(db)
    run = govhall("restore", str(backups[0]), "--config", str(hall.config))
    assert run.returncode == 1 and "stop the hall server" in run.stderr
    assert digest(db) == before and count(db) == live_total
    assert not list(tmp_path.glob("hall.db.before-restore-*"))

    hall.stop()
    run = govhall("restore", str(backups[0]), "--config", str(hall.config))
    assert run.returncode == 0, run.stderr
    safety = list(tmp_path.glob("hall.db.before-restore-*.bak"))
    assert len(safety) == 1 and count(safety[0]) == live_total  # nothing lost by restoring
    assert count(db) == counts[0]

    # the server starts on the restored database and goes on from its sequence
    hall.start()
    try:
        kept = issued[counts[0] - 1]
        gone = issued[-1]
        assert (
            requests.get(
                f"{hall.url}/api/v1/tickets/{kept['id']}", headers=KIOSK, timeout=5
            ).status_code
            == 200
        )
        assert (
            requests.get(
                f"{hall.url}/api/v1/tickets/{gone['id']}", headers=KIOSK, timeout=5
            ).status_code
            == 404
        )
        r = requests.post(
            hall.url + "/api/v1/tickets", json={"service": "J"}, headers=KIOSK, timeout=10
        )
        assert r.status_code == 201
        assert r.json()["number"] == f"J{counts[0] + 1:03d}"
    finally:
        hall.stop()


@pytest.mark.slow  # eight `govhall backup`/`restore` processes
def test_restore_refuses_what_is_not_this_halls_backup(tmp_path: Path) -> None:
    cfg, db = make_hall_db(tmp_path)
    before = digest(db)
    bad = tmp_path / "bad"
    bad.mkdir()

    text_file = bad / "notes.db"
    text_file.write_text("not a database", encoding="utf-8")
    foreign = bad / "other.db"
    with closing(sqlite3.connect(foreign)) as conn, conn:
        conn.execute("CREATE TABLE t (x)")
    other_hall = bad / "other-hall.db"
    newer = bad / "newer.db"
    for dest in (other_hall, newer):
        assert govhall("backup", str(dest), "--config", str(cfg)).returncode == 0
    with closing(sqlite3.connect(other_hall)) as conn, conn:
        conn.execute("UPDATE halls SET id = 'hd-district'")
    with closing(sqlite3.connect(newer)) as conn, conn:
        conn.execute("UPDATE alembic_version SET version_num = '9999'")

    cases = {
        bad / "missing.db": "no such file",
        text_file: "not an SQLite database",
        foreign: "not a govhall database",
        other_hall: "belongs to hall(s) hd-district",
        newer: "made by a newer govhall",
    }
    for path, message in cases.items():
        run = govhall("restore", str(path), "--config", str(cfg))
        assert run.returncode == 1, (path, run.stdout)
        assert message in run.stderr, run.stderr
    # what must still hold: the live database unchanged and no safety copies littered
    assert digest(db) == before
    assert not list(tmp_path.glob("hall.db.before-restore-*"))

    # the other hall's backup can be taken on purpose
    run = govhall("restore", str(other_hall), "--config", str(cfg), "--other-hall")
    assert run.returncode == 0, run.stderr


def test_backup_never_overwrites_and_reports_bad_config(tmp_path: Path) -> None:
    cfg, _db = make_hall_db(tmp_path)
    dest = tmp_path / "b.db"
    dest.write_bytes(b"an older backup")
    run = govhall("backup", str(dest), "--config", str(cfg))
    assert run.returncode == 1 and "already exists" in run.stderr
    assert dest.read_bytes() == b"an older backup"

    broken = tmp_path / "broken.toml"
    broken.write_text(
        cfg.read_text(encoding="utf-8").replace("[server]", "[server]\nprot = 1"), encoding="utf-8"
    )
    run = govhall("backup", str(tmp_path / "c.db"), "--config", str(broken))
    assert run.returncode == 2 and "[server].prot: unknown key" in run.stderr
    assert not (tmp_path / "c.db").exists()

    with pytest.raises(BackupError, match="does not exist"):
        from hall.backup import backup_sqlite

        backup_sqlite(tmp_path / "none.db", tmp_path / "d.db")


@pytest.mark.postgres
def test_postgres_backup_runs_pg_dump_and_restore_gives_guidance(tmp_path: Path) -> None:
    if not PG_URL:
        pytest.skip("PostgreSQL not configured (GOVHALL_TEST_POSTGRES_URL; scripts/test.sh)")
    if shutil.which("pg_dump") is None:
        pytest.skip("pg_dump not installed (Debian postgresql-client)")
    cfg, _db = make_hall_db(tmp_path)
    dest = tmp_path / "city.dump"
    run = govhall("backup", str(dest), "--config", str(cfg), "--database", PG_URL)
    assert run.returncode == 0, run.stderr
    assert dest.read_bytes()[:5] == b"PGDMP"
    run = govhall("restore", str(dest), "--config", str(cfg), "--database", PG_URL)
    assert run.returncode == 1 and "pg_restore --clean" in run.stderr

"""Ops fixtures: a hall database made the way the server makes it, and helpers that run
the real ``govhall`` console script in a subprocess (what a technician types)."""

from __future__ import annotations

import hashlib
import os
import sqlite3
import subprocess
import sys
from contextlib import closing
from pathlib import Path

from hall.config import load_config
from hall.services.context import HallContext
from hall.storage import migrate
from hall.storage.engine import make_engine
from tests.support.hall_server import ROOT, free_port, write_config

PG_URL = os.environ.get("GOVHALL_TEST_POSTGRES_URL")


def govhall(*args: str, timeout: float = 60.0) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "govhall.cli", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=ROOT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )


def make_hall_db(tmp: Path) -> tuple[Path, Path]:
    """The sample hall's config in ``tmp`` and its migrated database beside it."""
    cfg = write_config(tmp / "hall.toml", free_port())
    config = load_config(cfg)
    engine = make_engine(config.server.database)
    migrate.upgrade(engine)
    HallContext(config, engine).ensure_rows()
    engine.dispose()
    return cfg, tmp / "hall.db"


def digest(path: Path) -> str:
    """Content of a SQLite database as rows (not bytes: WAL files make bytes unstable)."""
    h = hashlib.sha256()
    with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as conn:
        tables = [
            r[0]
            for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table' ORDER BY name")
        ]
        for table in tables:
            for row in conn.execute(f'SELECT * FROM "{table}" ORDER BY 1'):
                h.update(repr((table, row)).encode())
    return h.hexdigest()


def count(path: Path, sql: str = "SELECT count(*) FROM tickets") -> int:
    with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as conn:
        return conn.execute(sql).fetchone()[0]

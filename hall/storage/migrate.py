"""Schema migrations with Alembic, run at server start (and by ``govhall backup``'s
restore). Before migrating an existing SQLite database, a copy is taken next to it."""

from __future__ import annotations

import logging
import sqlite3
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Engine

log = logging.getLogger("hall.storage")
MIGRATIONS = Path(__file__).resolve().parents[1] / "migrations"


def alembic_config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade(engine: Engine, *, backup: bool = True) -> str | None:
    """Bring the schema to head. Returns the path of the pre-migration backup, if any."""
    current = current_revision(engine)
    head = head_revision()
    if current == head:
        return None
    saved = None
    db = engine.url.database
    if (
        backup
        and current is not None
        and engine.dialect.name == "sqlite"
        and db
        and db != ":memory:"
    ):
        saved = f"{db}.before-{head}.bak"
        _sqlite_backup(db, saved)
        log.info("database backed up to %s before migrating %s → %s", saved, current, head)
    cfg = alembic_config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")
    return saved


def _sqlite_backup(src: str, dst: str) -> None:
    """SQLite's online backup: consistent even while the server writes."""
    Path(dst).parent.mkdir(parents=True, exist_ok=True)
    with sqlite3.connect(src) as s, sqlite3.connect(dst) as d:
        s.backup(d)

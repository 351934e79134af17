"""Is the hall's SQLite file fit to start on? Checked before the server starts and by
``govhall doctor`` (SQLite's ``quick_check``: seconds for a hall's database, it reads every
page), so a damaged or emptied file is refused with a reason and the restore command
instead of answering every request with an error, or silently becoming a new, empty hall."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

from sqlalchemy.engine import make_url

from common.errors import CodedError

_SQLITE_MAGIC = b"SQLite format 3\x00"


class StorageDamaged(CodedError):
    code = "storage_damaged"


def sqlite_file(url: str) -> Path | None:
    """The file of a SQLite URL (None for PostgreSQL or an in-memory database)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database:
        return None
    if parsed.database == ":memory:" or parsed.database.startswith("file::memory:"):
        return None
    return Path(parsed.database)


def check_sqlite(url: str, config_path: Path | str | None = None) -> None:
    """Raise ``StorageDamaged`` (one line: what is wrong, and how to restore) if the
    database file exists but is empty, not SQLite, or fails ``PRAGMA quick_check``. A
    missing file is a new hall and fine."""
    path = sqlite_file(url)
    if path is None or not path.exists():
        return
    config = str(config_path) if config_path else "/etc/govhall/hall.toml"
    restore = f"restore the last backup: govhall restore --config {config} BACKUP_FILE"
    size = path.stat().st_size
    if size == 0:
        raise StorageDamaged(
            f"{path} is empty (0 bytes): the hall's data is gone; {restore} "
            "(or delete the file to start a new, empty hall)"
        )
    with path.open("rb") as f:
        if f.read(16) != _SQLITE_MAGIC:
            raise StorageDamaged(f"{path} is not an SQLite database; {restore}")
    try:
        with closing(sqlite3.connect(f"file:{path.resolve()}?mode=ro", uri=True)) as conn:
            rows = [r[0] for r in conn.execute("PRAGMA quick_check(5)")]
    except sqlite3.DatabaseError as err:
        raise StorageDamaged(f"{path} cannot be read ({err}); {restore}") from err
    if rows != ["ok"]:
        raise StorageDamaged(f"{path} is damaged ({'; '.join(rows)[:200]}); {restore}")

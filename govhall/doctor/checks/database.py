"""Is the hall's database fit to start on? The same check ``govhall hall`` makes before it
starts (``hall.storage.check``: an emptied file, not SQLite, or a failing ``quick_check``),
so the technician hears it before the hall refuses to start."""

from __future__ import annotations

from pathlib import Path

from common.health import Check, fail, ok, skip, text, verbatim
from hall.config import HallConfig
from hall.storage.check import StorageDamaged, check_sqlite, sqlite_file


def check_database(config: HallConfig | None, config_path: Path) -> Check:
    name = "database"
    if config is None:
        return skip(name, text("database_no_config"))
    url = config.server.database
    path = sqlite_file(url)
    if path is None:
        return skip(name, text("database_not_sqlite"))
    if not path.exists():
        return ok(name, text("database_new", path=verbatim(path)))
    try:
        check_sqlite(url, config_path)
    except StorageDamaged as err:
        return fail(
            name,
            text("database_damaged", reason=verbatim(err)),
            text("database_damaged_hint", config=verbatim(config_path)),
        )
    return ok(name, text("database_ok", path=verbatim(path)))

"""``govhall backup FILE --config CFG`` / ``govhall restore FILE --config CFG``.

SQLite (the default): the backup is taken with SQLite's online backup API while the hall
server keeps serving; it copies one consistent snapshot (a ticket and its daily sequence
always together), is checked (``integrity_check``, a govhall schema at a known migration)
and only then renamed to FILE, so a half-written backup never carries the final name.

Restore needs the server stopped (a running server keeps its own idea of the queue). It
first checks that FILE is a govhall database of this hall at a migration this release
knows, then takes a safety copy of the current database, then copies FILE in through the
same backup API inside one SQLite transaction: if anything fails, the current database is
unchanged. A backup from an older release is migrated when the server next starts.

PostgreSQL: ``pg_dump`` is run when it is installed (custom format, restorable with
``pg_restore``); restore only prints the ``pg_restore`` steps, because on a shared city
database it must be done by the database administrator (see docs/multi-hall.md).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import shutil
import sqlite3
import subprocess
import sys
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import make_url

from common.errors import CodedError
from hall.config import ConfigError, HallConfig, load_config

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
_SQLITE_MAGIC = b"SQLite format 3\x00"
_PAGES_PER_STEP = -1  # whole database in one step: one snapshot, never a mix of two moments


class BackupError(CodedError):
    """A backup or restore that was refused or failed; nothing was changed."""

    code = "backup_failed"


@dataclass(frozen=True)
class DbInfo:
    """What a database file holds, as far as a restore needs to know."""

    revision: str
    halls: tuple[str, ...]
    tickets: int


# -- checks ---------------------------------------------------------------------------------


def known_revisions() -> list[str]:
    """Migration ids of this release, oldest first."""
    from alembic.script import ScriptDirectory

    from hall.storage.migrate import alembic_config

    script = ScriptDirectory.from_config(alembic_config())
    return [rev.revision for rev in reversed(list(script.walk_revisions()))]


def inspect_sqlite(path: Path) -> DbInfo:
    """Check that ``path`` is an intact govhall database; BackupError says what is wrong."""
    if not path.is_file():
        raise BackupError(f"{path}: no such file")
    with path.open("rb") as f:
        if f.read(16) != _SQLITE_MAGIC:
            raise BackupError(f"{path}: not an SQLite database")
    # read-only URI: inspecting a file must never change it (nor create -wal/-shm beside it)
    uri = f"file:{path.resolve()}?mode=ro"
    try:
        with closing(sqlite3.connect(uri, uri=True)) as conn:
            ok = conn.execute("PRAGMA integrity_check").fetchone()[0]
            if ok != "ok":
                raise BackupError(f"{path}: damaged database ({ok})")
            names = {
                r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
            }
            if "alembic_version" not in names or "halls" not in names:
                raise BackupError(f"{path}: not a govhall database (no govhall tables)")
            rows = conn.execute("SELECT version_num FROM alembic_version").fetchall()
            halls = tuple(r[0] for r in conn.execute("SELECT id FROM halls ORDER BY id"))
            tickets = (
                conn.execute("SELECT count(*) FROM tickets").fetchone()[0]
                if "tickets" in names
                else 0
            )
    except sqlite3.DatabaseError as err:
        raise BackupError(f"{path}: cannot be read as a database ({err})") from err
    if len(rows) != 1:
        raise BackupError(f"{path}: not a govhall database (no migration recorded)")
    revision = rows[0][0]
    if revision not in known_revisions():
        raise BackupError(
            f"{path}: made by a newer govhall (migration {revision!r}; this "
            f"release knows {', '.join(known_revisions())}); upgrade govhall "
            "first"
        )
    return DbInfo(revision, halls, tickets)


def _sqlite_path(url: str) -> Path | None:
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return None
    if not parsed.database or parsed.database == ":memory:":
        raise BackupError(f"database {url!r} is in memory: there is nothing to back up")
    return Path(parsed.database)


def _safe_url(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)


def open_processes(db: Path) -> list[int]:
    """Pids of processes that have ``db`` open (Linux /proc; empty where unreadable)."""
    target = {str(db.resolve()), str(db.resolve()) + "-wal"}
    pids: list[int] = []
    for proc in Path("/proc").glob("[0-9]*"):
        if int(proc.name) == os.getpid():
            continue
        try:
            fds = list((proc / "fd").iterdir())
        except OSError:
            continue
        for fd in fds:
            try:
                if os.readlink(fd) in target:
                    pids.append(int(proc.name))
                    break
            except OSError:
                continue
    return pids


# -- backup ---------------------------------------------------------------------------------


def backup_sqlite(db: Path, dest: Path) -> DbInfo:
    """Online, consistent copy of ``db`` to ``dest`` (which must not exist yet)."""
    if not db.is_file():
        raise BackupError(f"{db}: the hall database does not exist (has the server ever run?)")
    if dest.exists():
        raise BackupError(
            f"{dest}: already exists; choose a new file name (nothing is overwritten)"
        )
    if dest.resolve() == db.resolve():
        raise BackupError(f"{dest}: is the live database itself")
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(f".{dest.name}.partial-{os.getpid()}")
    try:
        # timeout: a writer holding the lock for a moment makes the copy wait, not fail
        with closing(sqlite3.connect(db, timeout=30)) as src, closing(sqlite3.connect(tmp)) as out:
            src.backup(out, pages=_PAGES_PER_STEP)
            # a backup is one self-contained file, whatever the live database's journal mode
            out.execute("PRAGMA journal_mode=DELETE")
        with tmp.open("rb+") as f:
            os.fsync(f.fileno())
        info = inspect_sqlite(tmp)
        os.replace(tmp, dest)
        _fsync_dir(dest.parent)
        return info
    except sqlite3.Error as err:
        raise BackupError(f"backup of {db} failed: {err}") from err
    finally:
        tmp.unlink(missing_ok=True)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def backup_postgres(url: str, dest: Path) -> str:
    """Run pg_dump (custom format) when installed; return what was done."""
    pg_dump = shutil.which("pg_dump")
    if pg_dump is None:
        raise BackupError(
            "pg_dump is not installed on this machine. On the database server run:\n"
            f"  pg_dump --format=custom --file {dest} '{_safe_url(url)}'\n"
            "(Debian package postgresql-client; the dump holds every hall of a shared city "
            "database)"
        )
    if dest.exists():
        raise BackupError(f"{dest}: already exists; choose a new file name")
    tmp = dest.with_name(f".{dest.name}.partial-{os.getpid()}")
    try:
        # the password goes to pg_dump in its environment, never on argv (visible in ps)
        parsed = make_url(url)
        env = dict(os.environ)
        if parsed.password:
            env["PGPASSWORD"] = str(parsed.password)
        libpq = parsed.set(drivername="postgresql", password=None).render_as_string()
        proc = subprocess.run(
            [pg_dump, "--format=custom", "--file", str(tmp), "--dbname", libpq],
            env=env,
            capture_output=True,
            text=True,
            timeout=3600,
        )
        if proc.returncode != 0:
            raise BackupError(f"pg_dump failed: {proc.stderr.strip()[-500:]}")
        os.replace(tmp, dest)
    finally:
        tmp.unlink(missing_ok=True)
    return f"pg_dump of {_safe_url(url)}"


# -- restore --------------------------------------------------------------------------------


def restore_sqlite(
    backup: Path, db: Path, config: HallConfig, *, force_hall: bool = False
) -> tuple[DbInfo, Path | None]:
    """Replace ``db`` by ``backup``; returns what was restored and the safety copy."""
    info = inspect_sqlite(backup)
    if config.hall_id not in info.halls and not force_hall:
        raise BackupError(
            f"{backup}: belongs to hall(s) {', '.join(info.halls) or 'none'}, "
            f"not to {config.hall_id!r} of this config ([hall].id); "
            "use --other-hall if that is intended"
        )
    holders = open_processes(db) if db.exists() else []
    if holders:
        raise BackupError(
            f"{db}: still open by process {', '.join(map(str, holders))}; "
            "stop the hall server first (systemctl stop govhall-hall)"
        )
    safety: Path | None = None
    if db.exists():
        stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
        safety = db.with_name(f"{db.name}.before-restore-{stamp}.bak")
        try:
            backup_sqlite(db, safety)
        except BackupError as err:
            raise BackupError(
                f"could not take the safety copy of {db}, nothing restored: {err}"
            ) from err
    db.parent.mkdir(parents=True, exist_ok=True)
    try:
        # The backup API writes the destination in one transaction (and through its WAL,
        # if any): a failure part way leaves the current database as it was.
        with (
            closing(sqlite3.connect(f"file:{backup.resolve()}?mode=ro", uri=True)) as src,
            closing(sqlite3.connect(db, timeout=30)) as dst,
        ):
            src.backup(dst, pages=_PAGES_PER_STEP)
            dst.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    except sqlite3.Error as err:
        raise BackupError(f"restore into {db} failed, the database is unchanged: {err}") from err
    return inspect_sqlite(db), safety


# -- command line -----------------------------------------------------------------------------


def _common(prog: str, what: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=prog, description=what)
    parser.add_argument("file", help="backup file")
    parser.add_argument("--config", required=True, help="hall config file (TOML)")
    parser.add_argument("--database", help="SQLAlchemy URL (default from [server].database)")
    return parser


def _load(args: argparse.Namespace, prog: str) -> tuple[HallConfig, str] | None:
    try:
        config = load_config(args.config)
    except ConfigError as err:
        print(f"{prog}: {err}", file=sys.stderr)
        return None
    return config, args.database or config.server.database


def backup_main(argv: list[str] | None = None) -> int:
    prog = "govhall backup"
    args = _common(prog, "Back up the hall database while the server runs.").parse_args(argv)
    loaded = _load(args, prog)
    if loaded is None:
        return EXIT_USAGE
    _config, url = loaded
    dest = Path(args.file)
    try:
        db = _sqlite_path(url)
        if db is None:
            done = backup_postgres(url, dest)
            print(f"{prog}: {done} written to {dest}")
            return EXIT_OK
        info = backup_sqlite(db, dest)
    except BackupError as err:
        print(f"{prog}: {err}", file=sys.stderr)
        return EXIT_FAILED
    print(
        f"{prog}: {db} → {dest} (migration {info.revision}, {info.tickets} tickets, "
        f"{dest.stat().st_size} bytes, integrity ok)"
    )
    return EXIT_OK


def restore_main(argv: list[str] | None = None) -> int:
    prog = "govhall restore"
    parser = _common(prog, "Restore the hall database from a backup (server stopped).")
    parser.add_argument(
        "--other-hall",
        action="store_true",
        help="accept a backup whose hall id differs from [hall].id",
    )
    args = parser.parse_args(argv)
    loaded = _load(args, prog)
    if loaded is None:
        return EXIT_USAGE
    config, url = loaded
    try:
        db = _sqlite_path(url)
        if db is None:
            print(
                f"{prog}: {_safe_url(url)} is PostgreSQL; restore it with pg_restore as the "
                "database administrator, with every hall server on it stopped:\n"
                f"  pg_restore --clean --if-exists --single-transaction --dbname "
                f"'{_safe_url(url)}' {args.file}\n"
                "then start the hall servers (they migrate the schema if the dump is "
                "older). See docs/operations.md.",
                file=sys.stderr,
            )
            return EXIT_FAILED
        info, safety = restore_sqlite(Path(args.file), db, config, force_hall=args.other_hall)
    except BackupError as err:
        print(f"{prog}: {err}", file=sys.stderr)
        return EXIT_FAILED
    if safety is not None:
        print(f"{prog}: the database before the restore is kept in {safety}")
    print(
        f"{prog}: {args.file} → {db} (migration {info.revision}, {info.tickets} tickets); "
        "start the hall server now"
    )
    return EXIT_OK

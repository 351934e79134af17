"""Upgrades: Alembic migrations from an empty database and from the previous release's
schema (0001, before web accounts) with a day of data in it, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from alembic import command
from sqlalchemy import create_engine, insert, inspect, select, text
from sqlalchemy.engine import Engine, make_url

from hall.backup import inspect_sqlite
from hall.storage import migrate
from hall.storage import tables as t
from hall.storage.engine import make_engine
from tests.ops.conftest import PG_URL
from tests.support.hall_server import TOKENS, start_hall

PREVIOUS = "0001"  # the schema of the previous release
HALL = "xc-district"  # the sample config's [hall].id


def _to(engine: Engine, revision: str) -> None:
    cfg = migrate.alembic_config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)


def _fill_previous_release(engine: Engine) -> dict[str, int]:
    """A morning in the hall as release 0001 stored it: tickets, a rating, a pause."""
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    day = now.astimezone(dt.timezone(dt.timedelta(hours=8))).date()
    with engine.begin() as conn:
        conn.execute(insert(t.halls).values(id=HALL, name="西城区政务服务中心", created_at=now))
        conn.execute(insert(t.counters).values(hall_id=HALL, id="1", state="open", since=now))
        conn.execute(insert(t.sequences).values(hall_id=HALL, day=day, service="J", last_seq=2))
        ids = []
        for n, status in ((1, "done"), (2, "waiting")):
            ids.append(
                conn.execute(
                    insert(t.tickets)
                    .values(
                        hall_id=HALL,
                        day=day,
                        number=f"J{n:03d}",
                        service="J",
                        klass="normal",
                        status=status,
                        issued_at=now,
                        queue_time=now,
                        recall_count=0,
                        public_token=uuid.uuid4().hex,
                        counter_id="1" if status == "done" else None,
                        finished_at=now if status == "done" else None,
                    )
                    .returning(t.tickets.c.id)
                ).scalar_one()
            )
        conn.execute(
            insert(t.evaluations).values(
                hall_id=HALL, ticket_id=ids[0], score=5, service="J", counter_id="1", created_at=now
            )
        )
        conn.execute(
            insert(t.pauses).values(
                hall_id=HALL, counter_id="1", reason="午休", started_at=now, ended_at=now
            )
        )
    return {"done": ids[0], "waiting": ids[1]}


def _rows(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {
            name: conn.execute(select(t.metadata.tables[name].c.hall_id)).all().__len__()
            for name in ("tickets", "evaluations", "pauses", "counters", "sequences")
        }


def test_empty_sqlite_database_migrates_to_head_without_a_backup(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'hall.db'}")
    assert migrate.upgrade(engine) is None  # nothing to save in an empty database
    assert migrate.current_revision(engine) == migrate.head_revision()
    assert set(t.metadata.tables) <= set(inspect(engine).get_table_names())
    assert migrate.upgrade(engine) is None  # a second start changes nothing
    assert not list(tmp_path.glob("*.bak"))
    engine.dispose()


@pytest.mark.e2e
def test_previous_release_database_is_backed_up_and_kept_by_the_server(tmp_path: Path) -> None:
    db = tmp_path / "hall.db"
    engine = make_engine(f"sqlite:///{db}")
    _to(engine, PREVIOUS)
    ids = _fill_previous_release(engine)
    before = _rows(engine)
    engine.dispose()

    hall = start_hall(tmp_path)  # the upgrade runs at server start
    try:
        saved = tmp_path / f"hall.db.before-{migrate.head_revision()}.bak"
        assert saved.is_file(), "the migration ran without its backup"
        info = inspect_sqlite(saved)  # the backup holds the data as it was, at 0001
        assert (info.revision, info.tickets) == (PREVIOUS, 2)
        headers = {"Authorization": f"Bearer {TOKENS['kiosk']}"}
        for ticket_id in ids.values():
            r = requests.get(f"{hall.url}/api/v1/tickets/{ticket_id}", headers=headers, timeout=5)
            assert r.status_code == 200, r.text
        # the day's sequence continues after the migrated tickets
        r = requests.post(
            hall.url + "/api/v1/tickets", json={"service": "J"}, headers=headers, timeout=10
        )
        assert r.status_code == 201 and r.json()["number"] == "J003"
    finally:
        hall.stop()
    engine = make_engine(f"sqlite:///{db}")
    assert migrate.current_revision(engine) == migrate.head_revision()
    after = _rows(engine)
    # the server adds rows for the counters it is configured with, and keeps the old ones
    assert after == {**before, "tickets": before["tickets"] + 1, "counters": 22}
    engine.dispose()


@pytest.fixture
def fresh_pg_database() -> Iterator[str]:
    """A database of its own on the test PostgreSQL: an upgrade test needs an old schema,
    which the shared test database (already at head) cannot give."""
    if not PG_URL:
        pytest.skip("PostgreSQL not configured (GOVHALL_TEST_POSTGRES_URL; scripts/test.sh)")
    name = f"govhall_upgrade_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.mark.postgres
def test_postgres_from_empty_and_from_previous_release(fresh_pg_database: str) -> None:
    engine = make_engine(fresh_pg_database, nullpool=True)
    _to(engine, PREVIOUS)
    _fill_previous_release(engine)
    before = _rows(engine)
    assert migrate.upgrade(engine) is None  # PostgreSQL: backup with pg_dump (docs)
    assert migrate.current_revision(engine) == migrate.head_revision()
    assert _rows(engine) == before
    assert {"web_accounts", "web_sessions"} <= set(inspect(engine).get_table_names())
    engine.dispose()


def _drift(engine: Engine) -> list[object]:
    """What Alembic's autogenerate would change to make the migrated schema match
    hall/storage/tables.py: nothing, or a migration is missing."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        return compare_metadata(MigrationContext.configure(conn), t.metadata)


def test_migrations_build_the_schema_the_code_declares(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'hall.db'}")
    migrate.upgrade(engine)
    assert _drift(engine) == []
    index_names = {i["name"] for i in inspect(engine).get_indexes("tickets")}
    assert {"ix_tickets_waiting", "ix_tickets_pinned", "ix_tickets_finished"} <= index_names
    engine.dispose()


@pytest.mark.postgres
def test_postgres_migrations_build_the_schema_the_code_declares(fresh_pg_database: str) -> None:
    engine = make_engine(fresh_pg_database, nullpool=True)
    migrate.upgrade(engine)
    assert _drift(engine) == []
    engine.dispose()

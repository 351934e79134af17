"""Hall test fixtures: a small hall config, a controllable clock, and isolated databases
(a fresh SQLite file per test; on PostgreSQL a fresh hall_id per test, which is the
multi-hall layout every row's hall_id exists for)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from hall.app import create_app
from hall.services.context import HallContext
from hall.storage import migrate
from hall.storage.engine import make_engine
from tests.support.clock import FakeClock
from tests.support.hall import PG_URL, Api, make_config

__all__ = ["FakeClock"]  # the fixtures' type, for tests that annotate with it


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[str, str]:
    """(URL, hall_id) for one test."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'hall.db'}", "test-hall"
    if not PG_URL:
        pytest.skip(
            "PostgreSQL not configured (set GOVHALL_TEST_POSTGRES_URL; "
            "scripts/test.sh starts one when PostgreSQL is installed)"
        )
    return PG_URL, f"hall-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def ctx(database: tuple[str, str], clock: FakeClock) -> Iterator[HallContext]:
    url, hall_id = database
    engine = make_engine(url)
    migrate.upgrade(engine)
    context = HallContext(make_config(hall_id), engine, clock)
    context.ensure_rows()
    yield context
    engine.dispose()


@pytest.fixture
def sqlite_ctx(tmp_path: Path, clock: FakeClock) -> Iterator[HallContext]:
    engine = make_engine(f"sqlite:///{tmp_path / 'hall.db'}")
    migrate.upgrade(engine)
    context = HallContext(make_config(), engine, clock)
    context.ensure_rows()
    yield context
    engine.dispose()


@pytest.fixture
def api(database: tuple[str, str], clock: FakeClock) -> Iterator[Api]:
    url, hall_id = database
    app = create_app(make_config(hall_id), database=url, clock=clock)
    with TestClient(app) as client:
        yield Api(client)

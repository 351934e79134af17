"""The multi-hall layout: two hall servers on one database (the city's shared
PostgreSQL, or one SQLite file), each seeing only its own rows, and a city report across
both. On PostgreSQL the hall ids are fresh per test, as in the storage tests."""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from hall.app import create_app
from hall.report import COLUMNS
from tests.ops.conftest import PG_URL, govhall
from tests.support.clock import FakeClock
from tests.support.hall import Api, make_config


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def shared(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[str, str, str]:
    """(database URL, hall A id, hall B id)."""
    suffix = uuid.uuid4().hex[:8]
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'city.db'}", f"xc-{suffix}", f"hd-{suffix}"
    if not PG_URL:
        pytest.skip("PostgreSQL not configured (GOVHALL_TEST_POSTGRES_URL; scripts/test.sh)")
    return PG_URL, f"xc-{suffix}", f"hd-{suffix}"


@pytest.fixture
def two_halls(shared: tuple[str, str, str]) -> Iterator[tuple[str, str, str, Api, Api]]:
    url, a, b = shared
    clock = FakeClock()  # 2026-11-23 09:00 Beijing
    with (
        TestClient(create_app(make_config(a), database=url, clock=clock)) as ca,
        TestClient(create_app(make_config(b), database=url, clock=clock)) as cb,
    ):
        yield url, a, b, Api(ca), Api(cb)


def _serve(api: Api) -> dict:
    t = api.call_next("1")
    assert t is not None
    assert api.post("/counters/1/start").status_code == 200
    assert api.post("/counters/1/finish").status_code == 200
    return t


def test_halls_share_a_database_but_not_their_queues(
    two_halls: tuple[str, str, str, Api, Api],
) -> None:
    url, a, b, hall_a, hall_b = two_halls
    a_tickets = [hall_a.issue("B") for _ in range(3)]
    b_tickets = [hall_b.issue("B") for _ in range(2)]
    # each hall numbers its own day: both start at B001
    assert [t["number"] for t in a_tickets] == ["B001", "B002", "B003"]
    assert [t["number"] for t in b_tickets] == ["B001", "B002"]
    # a ticket of one hall is not visible through the other
    assert hall_b.get(f"/tickets/{a_tickets[0]['id']}").status_code == 404
    served = _serve(hall_a)
    assert served["id"] == a_tickets[0]["id"]  # hall A's counter never calls hall B's ticket
    r = hall_a.post(f"/tickets/{served['id']}/evaluation", {"score": 5})
    assert r.status_code in (200, 201), r.text
    assert hall_a.post("/counters/1/call-next").status_code == 200
    assert hall_a.post("/counters/1/no-show").status_code == 200

    run = govhall(
        "report",
        "--database",
        url,
        "--from",
        "2026-11-23",
        "--to",
        "2026-11-23",
        "--hall",
        a,
        "--hall",
        b,
    )
    assert run.returncode == 0, run.stderr
    lines = {line.split()[0]: line.split() for line in run.stdout.splitlines()[2:]}
    assert lines[a][1:4] == ["3", "1", "1"]  # issued, served, no-show
    assert lines[b][1:4] == ["2", "0", "0"]
    assert lines[a][-2:] == ["1", "100.0%"]
    assert lines["all"][2:5] == ["5", "1", "1"]

    csv_run = govhall(
        "report",
        "--database",
        url,
        "--from",
        "2026-11-23",
        "--to",
        "2026-11-23",
        "--hall",
        a,
        "--csv",
    )
    # for Excel: a BOM, then the column names in Chinese, then in English, then the halls
    assert csv_run.stdout.startswith("\ufeff中心编号,中心名称,取号数,")
    head_zh, head_en, *halls = csv.reader(io.StringIO(csv_run.stdout.removeprefix("\ufeff")))
    assert len(head_zh) == len(head_en) == len(COLUMNS)
    assert head_en[:3] == ["Hall id", "Hall name", "Tickets issued"]
    assert [row[:6] for row in halls] == [[a, "测试政务服务中心", "3", "1", "1", "0"]]
    assert halls[0][COLUMNS.index("satisfied_pct")] == "100.0"

    other_day = govhall(
        "report", "--database", url, "--from", "2026-11-24", "--to", "2026-11-30", "--hall", a
    )
    assert other_day.stdout.splitlines()[2].split()[1] == "0"


def test_report_refuses_bad_input(tmp_path: Path) -> None:
    run = govhall(
        "report",
        "--database",
        f"sqlite:///{tmp_path / 'typo.db'}",
        "--from",
        "2026-11-01",
        "--to",
        "2026-11-30",
    )
    assert run.returncode == 2 and "no such database" in run.stderr
    assert not (tmp_path / "typo.db").exists()  # a typo creates nothing
    run = govhall(
        "report", "--database", "sqlite:///x.db", "--from", "2026-11-31", "--to", "2026-12-01"
    )
    assert run.returncode == 2 and "is not a day" in run.stderr
    run = govhall(
        "report", "--database", "sqlite:///x.db", "--from", "2026-12-01", "--to", "2026-11-01"
    )
    assert run.returncode == 2 and "before --from" in run.stderr

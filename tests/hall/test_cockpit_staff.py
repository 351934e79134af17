"""The staffing plan and the live advice use the services staff accounts can handle (issue
22: "where staff accounts carry them, each person's matters"): a counter is planned and
recommended only for services its assigned staff can handle; accounts that record none
change nothing. Through the services, on a hall with two months of generated history."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest

from hall.domain.simulation import SyntheticService
from hall.errors import Invalid
from hall.services import cockpit, counters, tickets
from hall.services.actor import Actor
from hall.services.context import HallContext
from hall.services.tickets import IssueRequest
from hall.storage import migrate
from hall.storage.engine import make_engine
from hall.web import accounts
from hall.web.settings import web_settings
from tests.support.clock import FakeClock
from tests.support.hall import make_config
from tests.support.history import history_hall

PASSWORD = "counter-pass-1234"
# counter 1 (A, B) is the only counter for B; counter 2 serves A, counter 3 C
SERVICES = [
    SyntheticService("A", per_day=60, service_s=300),
    SyntheticService("B", per_day=15, service_s=300),
    SyntheticService("C", per_day=20, service_s=300),
]


@pytest.fixture(scope="module")
def hall(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HallContext]:
    path = tmp_path_factory.mktemp("staff") / "hall.db"
    with history_hall(path, dt.date(2026, 9, 14), dt.date(2026, 11, 20), SERVICES) as (ctx, _):
        yield ctx  # Mon 23 Nov 2026 09:00


def _uses(plan: dict[str, object], counter: str) -> set[str]:
    return {
        slot["open"][counter]
        for day in plan["days"]  # type: ignore[attr-defined]
        for slot in day["slots"]
        if counter in slot["open"]
    }


def _short(plan: dict[str, object], service: str) -> int:
    return sum(
        slot["short"].get(service, 0)
        for day in plan["days"]  # type: ignore[attr-defined]
        for slot in day["slots"]
    )


def test_the_plan_opens_a_counter_only_for_its_staffs_services(hall: HallContext) -> None:
    settings = web_settings(hall.config)
    before = cockpit.plan(hall, fresh=True)
    assert "B" in _uses(before, "1")
    assert before["counters"]["1"] == ["A", "B"]
    # sun, the one person at counter 1, handles A only: B has no counter left in the plan
    accounts.create_account(hall, settings, "sun", PASSWORD, "counter", ["1"], services=["A"])
    # an account that records nothing (counter 3) and an admin change nothing
    accounts.create_account(hall, settings, "qian", PASSWORD, "counter", ["3"])
    accounts.create_account(hall, settings, "boss", PASSWORD, "admin", [], services=["B"])
    after = cockpit.plan(hall)  # not the cached plan: the staff changed since
    assert after["counters"] == {"1": ["A"], "2": ["A"], "3": ["C"]}
    assert _uses(after, "1") == {"A"}
    assert _short(after, "B") > _short(before, "B")  # said, not hidden
    assert _uses(after, "3") == _uses(before, "3") == {"C"}
    # a second person at counter 1 who handles B gives it back
    accounts.create_account(hall, settings, "zhou", PASSWORD, "counter", ["1"], services=["B"])
    again = cockpit.plan(hall, fresh=True)
    assert again["counters"]["1"] == ["A", "B"] and _short(again, "B") == _short(before, "B")
    # disabled: no longer assigned
    accounts.update_account(hall, "zhou", active=False)
    assert cockpit.plan(hall)["counters"]["1"] == ["A"]
    accounts.update_account(hall, "sun", services=[])  # removed: counter 1 as configured
    assert cockpit.plan(hall)["counters"]["1"] == ["A", "B"]


def test_the_advice_names_only_counters_whose_staff_can_serve(tmp_path: Path) -> None:
    clock = FakeClock()
    engine = make_engine(f"sqlite:///{tmp_path / 'hall.db'}")
    migrate.upgrade(engine)
    ctx = HallContext(make_config(), engine, clock)
    ctx.ensure_rows()
    settings = web_settings(ctx.config)
    for _ in range(12):
        tickets.issue(ctx, IssueRequest(service="B"))
    counters.call_next(ctx, "3")  # counter 3 is open (for C): no B there
    advice = cockpit.advice(ctx)
    assert [a["service"] for a in advice] == ["B"] and advice[0]["counters"] == ["1"]
    assert [a["service"] for a in cockpit.advice(ctx, "1")] == ["B"]
    # sun, counter 1's one person, handles A only: counter 1 is no help for B
    accounts.create_account(ctx, settings, "sun", PASSWORD, "counter", ["1"], services=["A"])
    advice = cockpit.advice(ctx)
    assert [a["service"] for a in advice] == ["B"] and advice[0]["counters"] == []
    assert cockpit.advice(ctx, "1") == []  # nor is counter 1's page told about B
    accounts.update_account(ctx, "sun", services=["A", "B"])
    assert cockpit.advice(ctx)[0]["counters"] == ["1"]
    # zhou (A only) shares counter 1 and is the one there now, on a break: counter 1 is no
    # help for B until it is closed (anyone assigned may come: sun can serve B)
    accounts.update_account(ctx, "sun", services=["B"])
    zhou = accounts.create_account(
        ctx, settings, "zhou", PASSWORD, "counter", ["1"], services=["A"]
    )
    assert cockpit.advice(ctx)[0]["counters"] == ["1"]  # closed: sun or zhou
    counters.pause(ctx, "1", "离岗", by=Actor(zhou["id"], None))
    advice = cockpit.advice(ctx)
    assert advice[0]["service"] == "B" and advice[0]["counters"] == []
    assert cockpit.advice(ctx, "1") == []
    counters.resume(ctx, "1")  # a device's key: nobody known there, so sun may be (B)
    assert cockpit.advice(ctx)[0]["counters"] == []  # open for B already: none to open
    assert cockpit.advice(ctx)[0]["open"] == 1
    counters.pause(ctx, "1", "午休", by=Actor(zhou["id"], None))
    counters.close(ctx, "1")
    assert cockpit.advice(ctx)[0]["counters"] == ["1"]
    engine.dispose()


def test_an_accounts_services_are_the_halls(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'hall.db'}")
    migrate.upgrade(engine)
    ctx = HallContext(make_config(), engine, FakeClock())
    ctx.ensure_rows()
    settings = web_settings(ctx.config)
    with pytest.raises(Invalid) as err:
        accounts.create_account(ctx, settings, "sun", PASSWORD, "counter", ["1"], services=["Z"])
    assert err.value.code == "account_unknown_service"
    made = accounts.create_account(
        ctx, settings, "sun", PASSWORD, "counter", ["1"], services=["B", "A", "B"]
    )
    assert made["services"] == ["B", "A"]
    with pytest.raises(Invalid):
        accounts.update_account(ctx, "sun", services=["A", "Q"])
    assert accounts.update_account(ctx, "sun", services=["C"])["services"] == ["C"]
    assert accounts.update_account(ctx, "sun", staff_no="0231")["services"] == ["C"]  # kept
    assert accounts.update_account(ctx, "sun", services=[])["services"] == []
    engine.dispose()

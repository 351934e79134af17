"""好差评 and its cases (issue "好差评 and cases"): the national levels and indicators, one
rating per matter, every 差评 opening a case due on the 15th working day, steps with who and
when, one extension, overdue, the public monthly figures and the outbox for the province.

What must hold: a rating is never lost or doubled, a 差评 always has a case, a deadline
skips 法定节假日 and counts 调休 days, and personal data (a contact, a typed ID number) is
masked wherever it is shown."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from hall.app import create_app
from hall.services.context import HallContext
from hall.storage import tables as t
from tests.support.clock import FakeClock
from tests.support.hall import Api, make_config

BEIJING = dt.timezone(dt.timedelta(hours=8))


def served(api: Api, service: str = "B") -> dict:
    ticket = api.issue(service)
    api.call_next("1")
    assert api.post("/counters/1/finish").status_code == 200
    return ticket


def outbox(api: Api) -> list[tuple[str, str, dict]]:
    ctx: HallContext = api.client.app.state.ctx  # type: ignore[attr-defined]
    with ctx.engine.connect() as conn:
        rows = conn.execute(
            select(t.outbox).where(t.outbox.c.hall_id == ctx.hall_id).order_by(t.outbox.c.id)
        ).all()
    return [(r.key, r.kind, json.loads(r.payload)) for r in rows]


def test_a_good_rating_is_recorded_once_with_its_matter_and_channel(api: Api) -> None:
    ticket = served(api)
    body = {
        "score": 5,
        "indicators": {"efficiency": 5, "competence": 4, "attitude": 5},
        "channel": "pad",
        "matter_no": "XC20261123-0042",
    }
    r = api.post(f"/tickets/{ticket['id']}/evaluation", body)
    assert r.status_code == 201, r.text
    got = r.json()
    assert (got["grade"], got["channel"], got["matter_no"], got["case"]) == (
        "good",
        "pad",
        "XC20261123-0042",
        None,
    )
    again = api.post(f"/tickets/{ticket['id']}/evaluation", {"score": 1})
    assert again.status_code == 409 and again.json()["error"] == "already_evaluated"  # 一次一评
    bad_indicator = api.post(
        f"/tickets/{served(api)['id']}/evaluation", {"score": 4, "indicators": {"speed": 5}}
    )
    assert bad_indicator.status_code == 422  # no other indicators may be added
    (rating,) = [p for _, kind, p in outbox(api) if kind == "rating"]
    assert rating["matter_no"] == "XC20261123-0042" and rating["indicators"]["competence"] == 4


@pytest.fixture
def national_day(tmp_path: Path) -> Iterator[tuple[Api, FakeClock]]:
    """A hall whose day starts on Wed 30 Sep 2026, the eve of 国庆 (the business day never
    goes back with the clock, so the clock starts there)."""
    clock = FakeClock(dt.datetime(2026, 9, 30, 10, 0, tzinfo=BEIJING).astimezone(dt.UTC))
    app = create_app(make_config(), database=f"sqlite:///{tmp_path / 'h.db'}", clock=clock)
    with TestClient(app) as client:
        yield Api(client), clock


def test_a_bad_rating_opens_a_case_due_on_the_15th_working_day(
    national_day: tuple[Api, FakeClock],
) -> None:
    api, clock = national_day
    ticket = served(api)
    r = api.post(
        f"/tickets/{ticket['id']}/evaluation",
        {"score": 2, "reasons": ["long_wait", "attitude"], "comment": "我的电话13812345678"},
    )
    assert r.status_code == 201 and r.json()["grade"] == "bad"
    case_id = r.json()["case"]
    case = api.get(f"/cases/{case_id}").json()
    # 国庆 1–7 Oct not counted, Sat 10 Oct (调休) counted
    assert case["kind"] == "bad_review" and case["due_on"] == "2026-10-27"
    assert case["overdue"] is False and "13812345678" not in json.dumps(case)
    clock.now = dt.datetime(2026, 10, 28, 9, 0, tzinfo=BEIJING).astimezone(dt.UTC)
    assert api.get(f"/cases/{case_id}").json()["overdue"] is True
    assert [c["id"] for c in api.get("/cases?overdue=true").json()] == [case_id]
    # one extension, with a reason and a later date; a second is refused
    ext = api.post(
        f"/cases/{case_id}/steps",
        {"step": "extend", "note": "需要部门协调", "extend_to": "2026-11-06"},
        role="admin",
    )
    assert ext.status_code == 201 and ext.json()["extended_to"] == "2026-11-06"
    assert ext.json()["overdue"] is False
    again = api.post(
        f"/cases/{case_id}/steps",
        {"step": "extend", "note": "再延", "extend_to": "2026-11-20"},
        role="admin",
    )
    assert again.status_code == 409 and again.json()["error"] == "already_extended"
    for step, fields in (
        ("verify", {"cause": "高峰时段窗口不足"}),
        ("rectify", {"solution": "增开弹性窗口"}),
        ("follow_up", {"satisfied": True}),
        ("close", {}),
    ):
        r = api.post(
            f"/cases/{case_id}/steps",
            {"step": step, "note": "已处理", "fields": fields},
            role="admin",
        )
        assert r.status_code == 201, r.text
    closed = r.json()
    assert closed["status"] == "closed" and [s["step"] for s in closed["steps"]] == [
        "extend",
        "verify",
        "rectify",
        "follow_up",
        "close",
    ]
    assert all(s["by"] == "admin-1" for s in closed["steps"])
    late = api.post(f"/cases/{case_id}/steps", {"step": "verify", "note": "x"}, role="admin")
    assert late.status_code == 409 and late.json()["error"] == "case_closed"
    kinds = [k for _, k, _ in outbox(api)]
    assert kinds.count("case.opened") == 1 and kinds.count("case.step") == 5
    keys = [k for k, _, _ in outbox(api)]
    assert len(keys) == len(set(keys))  # each record once by its key


def test_citizens_and_staff_open_cases(api: Api) -> None:
    r = api.post(
        "/cases",
        {
            "kind": "cannot_handle",
            "service": "A",
            "contact": "13912345678",
            "description": "材料齐全但系统不支持，身份证11010519491231002X",
        },
        role="kiosk",
    )
    assert r.status_code == 201, r.text
    case = r.json()
    assert case["contact_masked"] == "139****5678"
    assert "11010519491231002X" not in case["description"]
    assert (
        api.post("/cases", {"kind": "complaint", "description": "x"}, role="display").status_code
        == 403
    )
    assert (
        api.post("/cases", {"kind": "praise", "description": "x"}, role="kiosk").status_code == 422
    )


def test_the_public_page_discloses_the_month(api: Api, clock: FakeClock) -> None:
    for score in (5, 5, 4, 3, 1):
        ticket = served(api)
        assert api.post(f"/tickets/{ticket['id']}/evaluation", {"score": score}).status_code == 201
    month = clock.now.astimezone(BEIJING).strftime("%Y-%m")
    r = api.get(f"/public/evaluations?month={month}", role=None)  # no token
    assert r.status_code == 200, r.text
    total = r.json()["total"]
    assert (total["ratings"], total["good"], total["neutral"], total["bad"]) == (5, 3, 1, 1)
    assert total["good_rate_pct"] == 60.0 and total["bad_cases"] == 1
    # the one 差评 is within its deadline: not yet late, not counted either way
    assert total["rectified_on_time_pct"] is None
    clock.advance(30 * 86400)  # past its 15 working days, still open: late
    late = api.get(f"/public/evaluations?month={month}", role=None).json()["total"]
    assert late["rectified_on_time_pct"] == 0.0
    assert api.get("/public/evaluations?month=0001-01", role=None).status_code == 422
    assert api.get("/public/evaluations?month=２０２６-11", role=None).status_code == 422


def test_the_kiosk_finds_the_last_visit_to_rate_by_number_or_id_card(
    api: Api, clock: FakeClock
) -> None:
    """评价上次办理: by the ticket's number or the ID card it was taken with, the last
    finished visit with a matter left to rate; rated with channel kiosk, then not again."""
    id_number = "110105200001010016"
    r = api.post("/tickets", {"service": "A", "id_number": id_number}, role="kiosk")
    ticket = r.json()
    assert api.post("/ratings/lookup", {"id_number": id_number}, role="kiosk").status_code == 404
    api.call_next("1")
    assert api.post("/counters/1/finish").status_code == 200
    by_card = api.post("/ratings/lookup", {"id_number": id_number}, role="kiosk")
    assert by_card.status_code == 200, by_card.text
    visit = by_card.json()
    assert (visit["ticket"], visit["number"], visit["matters"]) == (ticket["id"], "A001", 1)
    assert id_number not in by_card.text
    by_number = api.post("/ratings/lookup", {"number": "a001"}, role="kiosk").json()
    assert by_number == visit
    r = api.post(
        f"/tickets/{ticket['id']}/evaluation", {"score": 4, "channel": "kiosk"}, role="kiosk"
    )
    assert r.status_code == 201 and r.json()["channel"] == "kiosk"
    gone = api.post("/ratings/lookup", {"number": "A001"}, role="kiosk")
    assert gone.status_code == 404 and gone.json()["error"] == "visit_not_found"
    for bad in ({}, {"number": "A001", "id_number": id_number}, {"id_number": "123"}):
        assert api.post("/ratings/lookup", bad, role="kiosk").status_code == 422, bad
    assert api.post("/ratings/lookup", {"number": "A001"}, role="display").status_code == 403

"""好差评 on the staff pages (issue 19): the 办件编号 the counter registers (entered, scanned
or made in the hall's format), one rating per matter on the pad with the optional second
step (the three fixed indicators), staff inviting a rating but never giving one; the case
pages, the supervisor's departments, appeals and the ledger."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from hall.services.context import HallContext
from hall.storage import tables as t
from tests.support.clock import FakeClock
from tests.web.conftest import Web


def ratings(web: Web) -> list[Any]:
    ctx: HallContext = web.client.app.state.ctx  # type: ignore[attr-defined]
    with ctx.engine.connect() as conn:
        return list(
            conn.execute(
                select(t.evaluations)
                .where(t.evaluations.c.hall_id == ctx.hall_id)
                .order_by(t.evaluations.c.id)
            )
        )


def test_a_visit_of_two_matters_is_rated_once_per_matter(web: Web, clock: FakeClock) -> None:
    ticket = web.issue("B")
    web.login("wang")
    assert web.get("/counters/1/matters").json() == {"ticket": None, "number": None, "matters": []}
    web.post("/counters/1/do/call-next")
    # one number scanned from the business system, one the hall makes in its format
    r = web.post("/counters/1/matters", {"matter_no": " XC20261202-0007 "})
    assert r.status_code == 201, r.text
    r = web.post("/counters/1/matters", {})
    made = r.json()["matters"][1]["matter_no"]
    day = ticket["issued_at"][:10].replace("-", "")
    assert made == f"test-hall-{day}-{ticket['number']}-2"
    assert [m["source"] for m in r.json()["matters"]] == ["entered", "generated"]
    again = web.post("/counters/1/matters", {"matter_no": "XC20261202-0007"})
    assert again.status_code == 409 and again.json()["error"] == "matter_exists"
    assert web.post("/counters/1/matters", {"matter_no": "有空格 1"}).status_code == 422
    web.post("/counters/1/do/finish")

    first = web.get("/counters/1/pad").json()["ticket"]
    assert (first["matter_no"], first["matter_index"], first["matters"]) == (
        "XC20261202-0007",
        1,
        2,
    )
    body = {"ticket": ticket["id"], "score": 5, "matter_no": first["matter_no"]}
    body["indicators"] = {"efficiency": 5, "competence": 4, "attitude": 5}
    assert web.post("/counters/1/evaluate", body).status_code == 201
    second = web.get("/counters/1/pad").json()["ticket"]
    assert (second["matter_no"], second["matter_index"]) == (made, 2)
    r = web.post("/counters/1/evaluate", {"ticket": ticket["id"], "score": 2, "matter_no": made})
    assert r.status_code == 201 and r.json()["case"] is not None  # a 差评 opens a case
    assert web.get("/counters/1/pad").json()["ticket"] is None  # both rated
    r = web.post("/counters/1/evaluate", {"ticket": ticket["id"], "score": 4, "matter_no": made})
    assert r.status_code == 409 and r.json()["error"] == "already_evaluated"
    r = web.post("/counters/1/evaluate", {"ticket": ticket["id"], "score": 4, "matter_no": "X-1"})
    assert r.status_code == 404 and r.json()["error"] == "unknown_matter"
    rows = ratings(web)
    assert [(r.matter_no, r.score, r.channel) for r in rows] == [
        ("XC20261202-0007", 5, "pad"),
        (made, 2, "pad"),
    ]
    assert (rows[0].efficiency, rows[0].competence, rows[0].attitude) == (5, 4, 5)
    assert rows[1].efficiency is None  # the second step skipped
    matters = web.get("/counters/1/matters").json()["matters"]
    assert [m["rated"] for m in matters] == [True, True]


def test_indicators_are_the_fixed_three_from_one_to_five(web: Web) -> None:
    ticket = web.issue("B")
    web.login("wang")
    web.post("/counters/1/do/call-next")
    web.post("/counters/1/do/finish")
    for bad in ({"speed": 5}, {"efficiency": 6}, {"attitude": 0}):
        r = web.post(
            "/counters/1/evaluate", {"ticket": ticket["id"], "score": 4, "indicators": bad}
        )
        assert r.status_code == 422, bad
    assert ratings(web) == []


def test_staff_invite_the_pad_to_ask_but_the_score_is_the_citizens(
    web: Web, clock: FakeClock
) -> None:
    ticket = web.issue("B")
    web.login("wang")
    r = web.post("/counters/1/pad/invite")
    assert r.status_code == 409 and r.json()["error"] == "nothing_to_rate"
    web.post("/counters/1/do/call-next")
    web.post("/counters/1/do/finish")
    clock.advance(600)  # the pad's own window (5 min) is over: it asks no more
    assert web.get("/counters/1/pad").json()["ticket"] is None
    assert web.post("/counters/1/pad/invite").json() == {"ticket": ticket["id"]}
    assert web.get("/counters/1/pad").json()["ticket"]["id"] == ticket["id"]
    assert web.post("/counters/2/pad/invite").status_code == 403  # not wang's counter
    clock.advance(301)  # an invitation lasts as long as the pad's window
    assert web.get("/counters/1/pad").json()["ticket"] is None
    assert ratings(web) == []  # inviting gives no score

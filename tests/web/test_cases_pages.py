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
from tests.support.hall import TOKENS as API_TOKENS
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


def test_a_visit_of_two_matters_is_rated_once_per_matter(
    web: Web, clock: FakeClock, web_database: tuple[str, str]
) -> None:
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
    hall_id = web_database[1]  # the hall's id: test-hall, or a fresh one per test on PostgreSQL
    assert made == f"{hall_id}-{day}-{ticket['number']}-2"
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


# -- the case pages' API: scope, steps, appeal, ledger -------------------------------------

HEAD = "head"  # supervisor (department head) of B


def add_supervisor(web: Web, departments: list[str]) -> None:
    from hall.web import accounts
    from tests.web.conftest import PASSWORD

    state = web.client.app.state.web  # type: ignore[attr-defined]
    accounts.create_account(
        state.ctx, state.settings, HEAD, PASSWORD, "supervisor", [], "赵科长", None, departments
    )


def bad_review(web: Web, service: str = "B", contact: str | None = None) -> int:
    """A 差评 on the pad of counter 1 (wang), with a contact left for 回访: its case id."""
    ticket = web.issue(service, **({"id_number": "110105200001010016"} if service == "A" else {}))
    web.login("wang")
    web.post("/counters/1/do/call-next")
    web.post("/counters/1/do/finish")
    body: dict[str, Any] = {"ticket": ticket["id"], "score": 1, "reasons": ["attitude"]}
    if contact:
        body["contact"] = contact
    r = web.post("/counters/1/evaluate", body)
    assert r.status_code == 201, r.text
    case: int = r.json()["case"]
    return case


def test_a_supervisor_sees_and_handles_the_cases_of_its_departments(
    web: Web, clock: FakeClock
) -> None:
    add_supervisor(web, ["B"])
    mine = bad_review(web, "B", contact="13812345678")
    other = bad_review(web, "A")
    web.login(HEAD)
    assert web.get("/me").json()["departments"] == ["B"]
    listed = web.get("/cases").json()
    assert [c["id"] for c in listed] == [mine]
    assert listed[0]["contact_masked"] == "138****5678"
    assert web.get(f"/cases/{other}").status_code == 403
    r = web.post(f"/cases/{other}/steps", {"step": "verify", "note": "x"})
    assert r.status_code == 403 and r.json()["error"] == "not_your_department"
    guidance = {"calm": "先请群众坐下，倒水", "cause": "材料清单不清", "solution": "一次性告知单"}
    r = web.post(f"/cases/{mine}/steps", {"step": "guide", "guidance": guidance})
    assert r.status_code == 200, r.text
    assert r.json()["steps"][-1]["fields"] == guidance
    bad = web.post(f"/cases/{mine}/steps", {"step": "guide", "guidance": {"mood": "x"}})
    assert bad.status_code == 422 and bad.json()["error"] == "bad_step"
    assert web.post(f"/cases/{mine}/steps", {"step": "follow_up"}).json()["error"] == "bad_step"
    r = web.post(f"/cases/{mine}/steps", {"step": "follow_up", "satisfied": True, "note": "已回电"})
    assert r.json()["steps"][-1]["fields"] == {"satisfied": True}
    # counter staff: the cases of their own counter, read-only
    web.login("wang")
    assert {c["id"] for c in web.get("/cases").json()} == {mine, other}
    assert web.post(f"/cases/{mine}/steps", {"step": "close"}).status_code == 403
    web.login("li")  # counter 2: none of these
    assert web.get("/cases").json() == []
    web.login("boss")
    assert {c["id"] for c in web.get("/cases").json()} == {mine, other}


def test_an_upheld_appeal_leaves_the_figures_and_stays_in_the_ledger(
    web: Web, clock: FakeClock
) -> None:
    add_supervisor(web, ["B"])
    case = bad_review(web, "B", contact="13812345678")
    month = web.get("/me").json()["today"][:7]
    before = web.client.get(f"/p/evaluations.json?month={month}").json()["figures"]["total"]
    assert (before["ratings"], before["bad"]) == (1, 1)
    web.login("boss")
    assert web.get(f"/integrity?month={month}").json()["bad_with_contact"] == 1
    web.login("wang")
    r = web.post(f"/cases/{case}/appeal", {"note": "该群众未办理即评价，系误评"})
    assert r.status_code == 200 and r.json()["steps"][-1]["fields"] == {"requested": True}
    assert (
        web.post(f"/cases/{case}/appeal/decision", {"upheld": True, "note": "x"}).status_code == 403
    )
    web.login(HEAD)
    r = web.post(f"/cases/{case}/appeal/decision", {"upheld": True, "note": "监控核实，误评"})
    assert r.status_code == 200, r.text
    again = web.post(f"/cases/{case}/appeal/decision", {"upheld": False, "note": "x"})
    assert again.status_code == 409 and again.json()["error"] == "appeal_decided"
    after = web.client.get(f"/p/evaluations.json?month={month}").json()["figures"]["total"]
    assert (after["ratings"], after["bad"], after["bad_cases"]) == (0, 0, 0)
    # the dashboard's 回访 count agrees with the public page: nobody follows up a removed rating
    web.login("boss")
    integrity = web.get(f"/integrity?month={month}").json()
    assert (integrity["bad_with_contact"], integrity["followed_up"]) == (0, 0)
    web.login(HEAD)
    csv_text = web.get(f"/cases/ledger.csv?month={month}").text
    assert csv_text.startswith("\ufeff工单编号,类型,状态,事项（部门）")
    assert (
        "申诉成立（不计入统计）" in csv_text and "非常不满意" in csv_text and "态度不好" in csv_text
    )


def test_the_ledger_exports_csv_and_xlsx_with_chinese_headers_and_masked_data(
    web: Web, clock: FakeClock
) -> None:
    import csv
    import io

    from openpyxl import load_workbook

    add_supervisor(web, ["B"])
    r = web.client.post(
        "/api/v1/cases",
        json={
            "kind": "cannot_handle",
            "service": "B",
            "contact": "+86 139 0000 1111",
            "description": "身份证110105200001010016补办不了，电话13900001111",
        },
        headers={"Authorization": "Bearer " + API_TOKENS["admin"]},
    )
    assert r.status_code == 201, r.text
    case = r.json()["id"]
    web.login(HEAD)
    web.post(
        f"/cases/{case}/steps", {"step": "extend", "note": "需公安协查", "extend_to": "2027-03-31"}
    )
    web.post(
        f"/cases/{case}/steps",
        {"step": "refer", "category": "petition", "referred_to": "区信访局", "note": "转信访"},
    )
    month = web.get("/me").json()["today"][:7]
    text_ = web.get(f"/cases/ledger.csv?month={month}").text
    rows = list(csv.reader(io.StringIO(text_.removeprefix("\ufeff"))))
    head, row = rows[0], dict(zip(rows[0], rows[1], strict=True))
    assert head[:3] == ["工单编号", "类型", "状态"] and "处理过程" in head
    assert (row["类型"], row["状态"], row["转办类别"]) == ("办不成事", "已转办", "信访")
    assert row["联系电话（脱敏）"] == "139****1111" and row["延期至"] == "2027-03-31"
    assert "110105200001010016" not in text_ and "13900001111" not in text_
    assert "延期" in row["处理过程"] and "head" in row["处理过程"]
    r = web.get(f"/cases/ledger.xlsx?month={month}")
    assert r.status_code == 200 and r.headers["content-type"].startswith(
        "application/vnd.openxmlformats"
    )
    sheet = load_workbook(io.BytesIO(r.content)).active
    assert [c.value for c in sheet[1]][:3] == ["工单编号", "类型", "状态"]
    assert sheet.cell(row=2, column=2).value == "办不成事"
    web.login("wang")
    assert web.get(f"/cases/ledger.csv?month={month}").status_code == 403


def test_the_dashboard_panel_flags_a_pad_rated_as_every_finish_happens(
    web: Web, clock: FakeClock
) -> None:
    """Through the real pages: wang's pad is rated one second after each of 20 finishes;
    the panel names him with the 'instant' sign, and counts the open cases."""
    web.login("wang")
    for _ in range(20):
        ticket = web.issue("B")
        web.post("/counters/1/do/call-next")
        clock.advance(240)
        web.post("/counters/1/do/finish")
        clock.advance(1)
        assert (
            web.post("/counters/1/evaluate", {"ticket": ticket["id"], "score": 5}).status_code
            == 201
        )
    ticket = web.issue("B")
    web.post("/counters/1/do/call-next")
    clock.advance(300)
    web.post("/counters/1/do/finish")
    clock.advance(20)
    web.post("/counters/1/evaluate", {"ticket": ticket["id"], "score": 1})
    assert web.get("/integrity").status_code == 403  # admin only
    web.login("boss")
    r = web.get("/integrity")
    assert r.status_code == 200, r.text
    report = r.json()
    wang = next(s for s in report["staff"] if s["staff"] == "wang")
    assert wang["ratings"] == 21
    assert [f["pattern"] for f in wang["findings"]] == ["instant"]
    assert (wang["findings"][0]["count"], wang["findings"][0]["of"]) == (20, 21)
    assert (report["open_cases"], report["overdue_cases"]) == (1, 0)


def test_the_phone_rates_once_service_finished_for_three_days(web: Web, clock: FakeClock) -> None:
    ticket = web.issue("B")
    page = f"/t/{ticket['public_token']}/rating"
    assert web.client.get(page).json() == {"offer": None, "until": None}  # still waiting
    web.login("wang")
    web.post("/counters/1/do/call-next")
    web.post("/counters/1/do/finish")
    assert web.client.get(page).json()["offer"] == "rate"
    r = web.client.post(page, json={"score": 2, "reasons": ["long_wait"], "comment": "x"})
    assert r.status_code == 201 and r.json() == {"recorded": "rating", "grade": "bad"}
    assert web.client.get(page).json()["offer"] is None  # 一次一评
    assert web.client.post(page, json={"score": 5}).status_code == 409
    row = ratings(web)[-1]
    assert (row.channel, row.score, row.reasons, row.staff) == ("phone", 2, ["long_wait"], None)

    # rated on the pad: the phone asks again, as a check kept apart from the ratings
    other = web.issue("B")
    web.post("/counters/1/do/call-next")
    web.post("/counters/1/do/finish")
    web.post("/counters/1/evaluate", {"ticket": other["id"], "score": 5})
    page = f"/t/{other['public_token']}/rating"
    assert web.client.get(page).json()["offer"] == "check"
    r = web.client.post(page, json={"score": 1})
    assert r.status_code == 201 and r.json()["recorded"] == "check"
    assert web.client.get(page).json()["offer"] is None
    assert len(ratings(web)) == 2  # the check is not a second rating
    third = web.issue("B")
    web.post("/counters/1/do/call-next")
    web.post("/counters/1/do/finish")
    clock.advance(3 * 86400 + 60)  # three days on: the offer has ended
    assert web.client.get(f"/t/{third['public_token']}/rating").json()["offer"] is None
    cross = web.client.post(
        f"/t/{third['public_token']}/rating", json={"score": 5}, headers={"Origin": "http://evil"}
    )
    assert cross.status_code == 403


def test_a_transfer_is_rated_once_per_counter_that_handled_it(web: Web, clock: FakeClock) -> None:
    """一次一评 per matter handled: counter 1 handles its part and transfers to C; its pad
    asks about that part, counter 3's pad about the rest."""
    from tests.support.hall import TOKENS as API

    ticket = web.issue("B")
    web.login("wang")
    web.post("/counters/1/do/call-next")
    r = web.post("/counters/1/transfer", {"service": "C"})
    assert r.status_code == 200, r.text
    asked = web.get("/counters/1/pad").json()["ticket"]
    assert asked["id"] == ticket["id"]
    assert web.post("/counters/1/evaluate", {"ticket": ticket["id"], "score": 4}).status_code == 201
    assert web.get("/counters/1/pad").json()["ticket"] is None
    counter = {"Authorization": f"Bearer {API['counter']}"}
    called = web.client.post("/api/v1/counters/3/call-next", headers=counter).json()
    assert called["number"] == ticket["number"] and called["id"] != ticket["id"]
    web.client.post("/api/v1/counters/3/finish", headers=counter)
    r = web.client.post(
        f"/api/v1/tickets/{called['id']}/evaluation", json={"score": 5}, headers=counter
    )
    assert r.status_code == 201
    assert [(row.ticket_id, row.counter_id) for row in ratings(web)] == [
        (ticket["id"], "1"),
        (called["id"], "3"),
    ]

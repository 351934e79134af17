"""Ticket issue over the API: the contract of DESIGN.md, including every kind of bad input
(each a 4xx with a clear message, the queue unchanged)."""

from __future__ import annotations

from tests.support.clock import FakeClock
from tests.support.hall import ELDER, TOKENS, YOUNG, YOUNG2, Api


def waiting(api: Api) -> dict[str, int]:
    return {s["code"]: s["waiting"] for s in api.get("/services", role="kiosk").json()}


def test_issue_numbers_and_waiting_ahead(api: Api) -> None:
    t1 = api.issue("B")
    t2 = api.issue("B")
    t3 = api.issue("C")
    assert (t1["number"], t2["number"], t3["number"]) == ("B001", "B002", "C001")
    assert t1["status"] == "waiting" and t1["priority"] == "normal"
    assert (t1["waiting_ahead"], t2["waiting_ahead"], t3["waiting_ahead"]) == (0, 1, 0)
    # one counter assumed before any is open: 1 ahead × 200 s configured default
    assert t2["estimated_wait_s"] == 200
    assert set(t1) >= {
        "id",
        "number",
        "service",
        "priority",
        "status",
        "issued_at",
        "waiting_ahead",
        "estimated_wait_s",
    }
    assert t1["issued_at"].endswith("+08:00")
    assert waiting(api) == {"A": 0, "B": 2, "C": 1, "X": 0}
    got = api.get(f"/tickets/{t2['id']}", role="display").json()
    assert got["number"] == "B002" and got["waiting_ahead"] == 1


def test_id_is_masked_and_elderly_get_the_green_channel(api: Api) -> None:
    t = api.issue("A", id_number=ELDER, name="王小明")
    assert t["priority"] == "priority" and t["priority_reason"] == "elderly"
    assert t["id_masked"] == "110***********002X"
    assert t["name_masked"] == "王**"
    assert ELDER not in str(t) and "王小明" not in str(t)
    young = api.issue("A", id_number=YOUNG)
    assert young["priority"] == "normal"
    # the elder is called first even though issued first anyway: check with a later elder
    assert api.issue("B", priority="disabled")["priority"] == "priority"


def test_idempotency_key_returns_the_same_ticket(api: Api) -> None:
    h = {"Idempotency-Key": "kiosk-1-req-42"}
    r1 = api.post("/tickets", {"service": "B"}, role="kiosk", headers=h)
    r2 = api.post("/tickets", {"service": "B"}, role="kiosk", headers=h)
    assert r1.status_code == r2.status_code == 201
    assert r1.json()["id"] == r2.json()["id"]
    assert r2.headers.get("Idempotent-Replayed") == "true"
    r3 = api.post("/tickets", {"service": "C"}, role="kiosk", headers=h)
    assert r3.status_code == 409 and r3.json()["error"] == "idempotency_key_reused"
    assert waiting(api)["B"] == 1 and waiting(api)["C"] == 0


def test_daily_limit_per_person_per_service(api: Api) -> None:
    api.issue("A", id_number=YOUNG)
    r = api.post("/tickets", {"service": "A", "id_number": YOUNG.lower()}, role="kiosk")
    assert r.status_code == 409 and r.json()["error"] == "daily_limit"
    assert YOUNG not in r.text
    api.issue("A", id_number=YOUNG2)  # another person is not affected
    api.issue("B", id_number=YOUNG)  # nor another service
    assert waiting(api)["A"] == 2


def test_bad_input_is_refused_and_the_queue_is_unchanged(api: Api) -> None:
    api.issue("B")
    before = waiting(api)
    cases = [
        ({"service": "Q"}, 404, "unknown_service"),
        ({"service": "X"}, 409, "service_closed"),
        ({"service": "A"}, 422, "id_required"),
        ({"service": "A", "id_number": "110105194912310021"}, 422, "invalid_id_number"),
        ({"service": "A", "id_number": "abc"}, 422, "invalid_id_number"),
        ({"service": 7}, 422, "invalid_request"),
        ({"service": "B", "priority": "vip"}, 422, "invalid_request"),
        ({"service": "B", "extra": 1}, 422, "invalid_request"),
        ({}, 422, "invalid_request"),
        (["B"], 422, "invalid_request"),
    ]
    for body, status, code in cases:
        r = api.post("/tickets", body, role="kiosk")
        assert r.status_code == status, (body, r.text)
        assert r.json()["error"] == code, (body, r.text)
        assert r.json()["message"]
        assert "110105194912310021" not in r.text
    r = api.client.post(
        "/api/v1/tickets",
        content=b'{"service": "B"',
        headers={"Authorization": f"Bearer {TOKENS['kiosk']}", "Content-Type": "application/json"},
    )
    assert r.status_code == 400 and r.json()["error"] == "malformed_json"
    r = api.client.post(
        "/api/v1/tickets",
        content=b"x" * 70000,
        headers={"Authorization": f"Bearer {TOKENS['kiosk']}", "Content-Type": "application/json"},
    )
    assert r.status_code == 413 and r.json()["error"] == "body_too_large"
    assert waiting(api) == before


def test_tokens_and_roles(api: Api) -> None:
    assert api.post("/tickets", {"service": "B"}, role=None).status_code == 401
    r = api.client.post(
        "/api/v1/tickets",
        json={"service": "B"},
        headers={"Authorization": "Bearer wrong-token-000000000"},
    )
    assert r.status_code == 401 and r.json()["error"] == "unauthorized"
    assert r.headers["WWW-Authenticate"] == "Bearer"
    r = api.post("/tickets", {"service": "B"}, role="display")
    assert r.status_code == 403 and r.json()["error"] == "forbidden"
    assert api.post("/counters/1/call-next", role="kiosk").status_code == 403
    assert api.get("/stats", role="counter").status_code == 403
    assert api.get("/events", role="kiosk").status_code == 403
    assert api.get("/board", role="display").status_code == 200
    assert api.client.get("/healthz").json()["status"] == "ok"
    assert waiting(api)["B"] == 0


def test_unknown_ticket_and_route(api: Api) -> None:
    r = api.get("/tickets/999", role="kiosk")
    assert r.status_code == 404 and r.json()["error"] == "ticket_not_found"
    assert api.get("/tickets/abc", role="kiosk").status_code == 422
    r = api.get("/nope", role="kiosk")
    assert r.status_code == 404 and r.json()["error"] == "not_found"


def test_offline_import_joins_by_issue_time_and_is_idempotent(api: Api, clock: FakeClock) -> None:
    import datetime as dt

    early = (clock.now - dt.timedelta(minutes=10)).isoformat()
    api.issue("B")  # issued now, after the offline ticket
    items = [{"kiosk": "K1", "offline_number": "K1-B001", "service": "B", "issued_at": early}]
    r1 = api.post("/tickets/import", items, role="kiosk")
    r2 = api.post("/tickets/import", items, role="kiosk")
    assert r1.status_code == r2.status_code == 200
    first, again = r1.json()["results"][0], r2.json()["results"][0]
    assert (first["outcome"], again["outcome"]) == ("imported", "duplicate")
    assert first["ticket"]["id"] == again["ticket"]["id"]
    assert first["ticket"]["number"] == "K1-B001" and first["ticket"]["waiting_ahead"] == 0
    assert waiting(api)["B"] == 2
    assert api.call_next("1")["number"] == "K1-B001"


def test_numbering_restarts_at_local_midnight_and_never_reuses(api: Api, clock: FakeClock) -> None:
    for _ in range(3):
        api.issue("C")
    clock.advance(15 * 3600 - 1)  # 23:59:59 Beijing
    assert api.issue("C")["number"] == "C004"
    clock.advance(2)  # 00:00:01 next day
    assert api.issue("C")["number"] == "C001"


def test_lookup_by_number_and_cancel_by_key(api: Api) -> None:
    h = {"Idempotency-Key": "lost-answer-1"}
    t = api.post("/tickets", {"service": "B"}, role="kiosk", headers=h).json()
    assert api.get("/tickets/by-number/b001", role="kiosk").json()["id"] == t["id"]
    r = api.get("/tickets/by-number/Z999", role="kiosk")
    assert r.status_code == 404 and r.json()["error"] == "ticket_not_found"
    assert api.get("/tickets/by-number/bad!", role="kiosk").status_code == 422
    r = api.post("/tickets/cancel", role="kiosk", headers=h)
    assert r.status_code == 200 and r.json()["status"] == "cancelled"
    assert api.post("/tickets/cancel", role="kiosk", headers=h).json()["status"] == "cancelled"
    assert (
        api.post(
            "/tickets/cancel", role="kiosk", headers={"Idempotency-Key": "never-used"}
        ).status_code
        == 404
    )
    assert api.post("/tickets/cancel", role="counter", headers=h).status_code == 403
    assert waiting(api)["B"] == 0
    assert api.call_next("1") is None  # nobody is called for the withdrawn ticket
    u = api.post(
        "/tickets", {"service": "B"}, role="kiosk", headers={"Idempotency-Key": "k2"}
    ).json()
    api.call_next("1")
    r = api.post("/tickets/cancel", role="kiosk", headers={"Idempotency-Key": "k2"})
    assert r.status_code == 409 and r.json()["error"] == "not_cancellable"
    assert api.get(f"/tickets/{u['id']}").json()["status"] == "called"


def test_a_foreign_resident_takes_a_ticket_with_the_daily_limit_on_their_card(api: Api) -> None:
    # issue "a day in the hall" 5: the 2017 foreign permanent-residence card was refused as
    # an invalid ID number; now any card the reader accepts can take a ticket
    t = api.issue("A", id_number="USA310512150016", name="John Smith")
    assert t["id_masked"] == "USA********0016" and t["name_masked"] == "J********"
    r = api.post("/tickets", {"service": "A", "id_number": "usa310512150016"}, role="kiosk")
    assert r.status_code == 409 and r.json()["error"] == "daily_limit"
    elder = api.issue("B", id_number="CAN114805020011")
    assert elder["priority"] == "priority" and elder["priority_reason"] == "elderly"


def test_a_duplicate_is_told_its_number_and_may_reprint_it_once(api: Api) -> None:
    # issue "a day in the hall" 11: the refusal names the ticket the person holds, and
    # offers 补打 (once, logged)
    held = api.issue("A", id_number=YOUNG)
    r = api.post("/tickets", {"service": "A", "id_number": YOUNG}, role="kiosk")
    assert r.status_code == 409 and r.json()["error"] == "daily_limit"
    assert r.json()["held_number"] == held["number"] == "A001"
    ticket_id = int(r.json()["held_ticket"])
    wrong = api.post(f"/tickets/{ticket_id}/reprint", {"id_number": YOUNG2}, role="kiosk")
    assert wrong.status_code == 404  # another card cannot fetch it
    again = api.post(f"/tickets/{ticket_id}/reprint", {"id_number": YOUNG}, role="kiosk")
    assert again.status_code == 200 and again.json()["number"] == "A001"
    assert again.json()["public_token"] == held["public_token"]
    twice = api.post(f"/tickets/{ticket_id}/reprint", {"id_number": YOUNG}, role="kiosk")
    assert twice.status_code == 409 and twice.json()["error"] == "already_reprinted"
    assert YOUNG not in r.text + again.text

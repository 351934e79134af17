"""What staff do at a counter, over the API: call, recall, no-show, park, transfer, pause,
evaluation. Each refusal leaves the queue as it was."""

from __future__ import annotations

from tests.support.clock import FakeClock
from tests.support.hall import ELDER, YOUNG, Api


def test_call_next_follows_class_then_fifo_and_204_when_empty(api: Api) -> None:
    assert api.call_next("1") is None
    n1 = api.issue("B")
    n2 = api.issue("A", id_number=YOUNG)
    elder = api.issue("A", id_number=ELDER)
    assert api.call_next("1")["number"] == elder["number"]
    assert api.call_next("1")["number"] == n1["number"]
    assert api.call_next("1")["number"] == n2["number"]
    assert api.call_next("1") is None
    # calling next finished the previous ticket
    assert api.get(f"/tickets/{n2['id']}").json()["status"] == "done"


def test_counter_only_gets_its_services(api: Api) -> None:
    api.issue("C")
    assert api.call_next("1") is None
    assert api.call_next("3")["service"] == "C"
    r = api.post("/counters/99/call-next")
    assert r.status_code == 404 and r.json()["error"] == "unknown_counter"


def test_aging_bound_stops_overtaking(api: Api, clock: FakeClock) -> None:
    normal = api.issue("B")
    clock.advance(1801)
    api.issue("B", priority="military")
    assert api.call_next("1")["id"] == normal["id"]


def test_recall_cooldown_and_automatic_no_show(api: Api, clock: FakeClock) -> None:
    t = api.issue("B")
    api.call_next("1")
    r = api.post("/counters/1/recall")
    assert r.status_code == 429 and r.json()["error"] == "recall_cooldown"
    clock.advance(6)
    assert api.post("/counters/1/recall").json()["recall_count"] == 1
    clock.advance(6)
    assert api.post("/counters/1/recall").json()["recall_count"] == 2
    clock.advance(6)
    r = api.post("/counters/1/recall")  # limit 2 reached: 过号
    assert r.status_code == 200 and r.json()["status"] == "no_show"
    r = api.post("/counters/1/recall")
    assert r.status_code == 409 and r.json()["error"] == "no_current_ticket"
    assert api.get(f"/tickets/{t['id']}").json()["status"] == "no_show"


def test_no_show_can_be_requeued_within_the_window(api: Api, clock: FakeClock) -> None:
    t = api.issue("B")
    api.call_next("1")
    assert api.post("/counters/1/no-show").json()["status"] == "no_show"
    other = api.issue("B")
    clock.advance(60)
    back = api.post(f"/tickets/{t['id']}/requeue").json()
    assert back["status"] == "waiting" and back["waiting_ahead"] == 1  # behind `other`
    assert api.call_next("1")["id"] == other["id"]
    assert api.call_next("1")["id"] == t["id"]
    api.post("/counters/1/no-show")
    clock.advance(601)
    r = api.post(f"/tickets/{t['id']}/requeue")
    assert r.status_code == 409 and r.json()["error"] == "requeue_window_passed"
    r = api.post("/counters/1/call", {"ticket": t["id"]})
    assert r.status_code == 409


def test_start_finish_and_evaluate_once(api: Api) -> None:
    t = api.issue("B")
    r = api.post(f"/tickets/{t['id']}/evaluation", {"score": 5}, role="kiosk")
    assert r.status_code == 409 and r.json()["error"] == "not_served"
    api.call_next("1")
    assert api.post("/counters/1/start").json()["status"] == "serving"
    assert api.post("/counters/1/finish").json()["status"] == "done"
    assert api.post("/counters/1/finish").status_code == 409
    r = api.post(f"/tickets/{t['id']}/evaluation", {"score": 6}, role="kiosk")
    assert r.status_code == 422
    assert (
        api.post(
            f"/tickets/{t['id']}/evaluation", {"score": 4, "comment": "很好"}, role="kiosk"
        ).status_code
        == 201
    )
    r = api.post(f"/tickets/{t['id']}/evaluation", {"score": 1}, role="counter")
    assert r.status_code == 409 and r.json()["error"] == "already_evaluated"
    assert api.get("/stats").json()["total"]["satisfaction_avg"] == 4


def test_park_and_call_back(api: Api) -> None:
    t = api.issue("B")
    u = api.issue("B")
    api.call_next("1")
    assert api.post("/counters/1/park").json()["status"] == "parked"
    status = api.get("/counters/1", role="counter").json()
    assert status["current"] is None and status["parked"] == [
        {"id": t["id"], "number": t["number"]}
    ]
    assert api.call_next("1")["id"] == u["id"]  # parked tickets are not in the queue
    r = api.post("/counters/2/call", {"ticket": t["id"]})
    assert r.status_code == 409 and r.json()["error"] == "parked_elsewhere"
    assert api.post("/counters/1/call", {"ticket": t["id"]}).json()["status"] == "called"
    assert api.get(f"/tickets/{u['id']}").json()["status"] == "done"


def test_call_specific_ticket_out_of_order(api: Api) -> None:
    api.issue("B")
    second = api.issue("B")
    c = api.issue("C")
    assert api.post("/counters/1/call", {"ticket": second["id"]}).json()["id"] == second["id"]
    r = api.post("/counters/1/call", {"ticket": c["id"]})
    assert r.status_code == 409 and r.json()["error"] == "service_not_served"
    assert api.post("/counters/1/call", {"ticket": 12345}).status_code == 404
    assert api.post("/counters/1/call", {"ticket": "x"}).status_code == 422


def test_transfer_keeps_place_in_time_and_can_return(api: Api, clock: FakeClock) -> None:
    t = api.issue("B")
    clock.advance(300)
    later = api.issue("A", id_number=YOUNG)
    api.call_next("1")
    moved = api.post(
        "/counters/1/transfer", {"service": "A", "note": "补充材料", "return_here": True}
    ).json()
    assert moved["number"] == t["number"] and moved["service"] == "A"
    assert moved["waiting_ahead"] == 0  # ahead of `later`, issued after it
    old = api.get(f"/tickets/{t['id']}").json()
    assert old["status"] == "transferred" and old["transferred_to"] == moved["id"]
    assert api.call_next("2")["id"] == moved["id"]
    done = api.post("/counters/2/finish").json()
    assert done["transferred_to"]  # back to counter 1
    back = api.call_next("1")
    assert back["number"] == t["number"] and back["service"] == "B"
    assert api.call_next("2")["id"] == later["id"]
    r = api.post("/counters/2/transfer", {"service": "Q"})
    assert r.status_code == 404 and r.json()["error"] == "unknown_service"
    assert api.get(f"/tickets/{later['id']}").json()["status"] == "called"


def test_pause_blocks_calls_until_resume(api: Api) -> None:
    api.issue("B")
    assert api.post("/counters/1/pause", {"reason": "午休"}).json()["state"] == "paused"
    r = api.post("/counters/1/call-next")
    assert r.status_code == 409 and r.json()["error"] == "counter_paused"
    assert api.post("/counters/1/pause", {"reason": "x"}).status_code == 409
    assert api.post("/counters/1/pause", {"reason": ""}).status_code == 422
    assert api.get("/board", role="display").json()["counters"][0]["state"] == "paused"
    assert api.post("/counters/1/resume").json()["state"] == "open"
    assert api.call_next("1") is not None
    stats = api.get("/stats").json()
    assert stats["by_counter"]["1"]["pauses"] == 1


def test_estimate_uses_observed_service_times_and_open_counters(api: Api, clock: FakeClock) -> None:
    for _ in range(5):
        api.issue("B")
    for _ in range(3):  # three services of 60 s each observed today
        api.call_next("1")
        clock.advance(60)
        api.post("/counters/1/finish")
    waiting = api.issue("B")
    assert waiting["waiting_ahead"] == 2
    assert waiting["estimated_wait_s"] == 120  # 2 × 60 s ÷ 1 open counter


def test_board_and_stats_csv(api: Api, clock: FakeClock) -> None:
    api.issue("B")
    api.issue("C")
    api.call_next("1")
    clock.advance(30)
    board = api.get("/board", role="display").json()
    assert board["recent_calls"][0]["number"] == "B001"
    assert board["recent_calls"][0]["counter_name"] == "1号综合窗口"
    assert board["waiting"] == {"A": 0, "B": 0, "C": 1, "X": 0}
    r = api.get("/stats", headers={"Accept": "text/csv"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    lines = r.text.splitlines()
    assert lines[0].startswith("dimension,key,issued")
    assert any(line.startswith("service,B,1,1") for line in lines)
    assert api.get("/stats?from=2026-13-01").status_code == 422
    assert api.client.get("/metrics").text.count("govhall_waiting{") == 4

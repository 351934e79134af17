"""Offline tickets reach the queue one by one (issue "reliability", items 2–5): a refused
item never takes the valid ones down with it, an offline number must carry its kiosk's
prefix, and a kiosk token speaks only for its own kiosk.

What must still hold in every case: each valid ticket is in today's queue exactly once,
and nothing refused is in it."""

from __future__ import annotations

import datetime as dt

from tests.support.clock import FakeClock
from tests.support.hall import Api


def item(clock: FakeClock, number: str, *, minutes_ago: float = 5, **kw: object) -> dict:
    issued = clock.now - dt.timedelta(minutes=minutes_ago)
    return {
        "kiosk": "K1",
        "offline_number": number,
        "service": "B",
        "issued_at": issued.isoformat(),
        **kw,
    }


def outcomes(r: object) -> list[tuple[str | None, str, str | None]]:
    body = r.json()  # type: ignore[attr-defined]
    return [(x["offline_number"], x["outcome"], x["error"]) for x in body["results"]]


def numbers_waiting(api: Api) -> list[str]:
    out = []
    while (t := api.call_next("1")) is not None:
        out.append(t["number"])
    return out


def test_one_bad_item_does_not_reject_the_others(api: Api, clock: FakeClock) -> None:
    batch = [
        item(clock, "K1-B001"),
        item(clock, "K1-B002", minutes_ago=-10),  # issued 10 min in the future
        item(clock, "K1-B003", minutes_ago=24 * 60),  # yesterday
        item(clock, "K1-B004", service="Q"),  # no such service
        {"kiosk": "K1", "offline_number": "K1-B005", "service": "B"},  # no issued_at
        "not an object",
        item(clock, "K1-B006", issued_at="2026-13-45T00:00:00+08:00"),
        item(clock, "K1-B007"),
    ]
    r = api.post("/tickets/import", batch, role="kiosk")
    assert r.status_code == 200, r.text
    assert outcomes(r) == [
        ("K1-B001", "imported", None),
        ("K1-B002", "refused", "invalid_time"),
        ("K1-B003", "refused", "stale_ticket"),
        ("K1-B004", "refused", "unknown_service"),
        ("K1-B005", "refused", "invalid_request"),
        (None, "refused", "invalid_request"),
        ("K1-B006", "refused", "invalid_request"),
        ("K1-B007", "imported", None),
    ]
    refused = r.json()["results"][1]
    assert refused["zh"] and refused["en"] and "clock" in refused["message"]
    # the refused ones are not in the queue; sending the batch again changes nothing
    again = api.post("/tickets/import", batch, role="kiosk")
    assert [o for _, o, _ in outcomes(again)] == [
        "duplicate",
        "refused",
        "refused",
        "refused",
        "refused",
        "refused",
        "refused",
        "duplicate",
    ]
    assert numbers_waiting(api) == ["K1-B001", "K1-B007"]


def test_an_offline_number_must_carry_its_kiosks_prefix(api: Api, clock: FakeClock) -> None:
    hall_number = api.issue("B")["number"]
    assert hall_number == "B001"
    batch = [
        item(clock, "B001"),  # like the hall's own: two B001 today otherwise
        item(clock, "K2-B001"),  # another kiosk's prefix
        item(clock, "K1B001"),
        item(clock, "K1-"),
        item(clock, "K1-B001"),
    ]
    r = api.post("/tickets/import", batch, role="kiosk")
    assert outcomes(r) == [
        ("B001", "refused", "not_offline_number"),
        ("K2-B001", "refused", "not_offline_number"),
        ("K1B001", "refused", "not_offline_number"),
        ("K1-", "refused", "not_offline_number"),
        ("K1-B001", "imported", None),
    ]
    assert sorted(numbers_waiting(api)) == ["B001", "K1-B001"]


def test_a_kiosk_token_imports_only_as_its_own_kiosk(api: Api, clock: FakeClock) -> None:
    r = api.post("/tickets/import", [item(clock, "K2-B001", kiosk="K2")], role="kiosk")
    assert outcomes(r) == [("K2-B001", "refused", "wrong_device")]
    r = api.post("/tickets/import", [item(clock, "K2-B001", kiosk="K2")], role="kiosk2")
    assert outcomes(r) == [("K2-B001", "imported", None)]
    assert numbers_waiting(api) == ["K2-B001"]


def test_a_kiosk_token_files_help_and_heartbeats_only_for_itself(api: Api) -> None:
    r = api.post("/help-requests", {"kiosk": "K2", "reason": "打印机卡纸"}, role="kiosk")
    assert r.status_code == 403 and r.json()["error"] == "wrong_device"
    r = api.post("/devices/heartbeat", {"device": "K2", "parts": {"printer": "ok"}}, role="kiosk")
    assert r.status_code == 403 and r.json()["error"] == "wrong_device"
    assert (
        api.post("/help-requests", {"kiosk": "K1", "reason": "x"}, role="kiosk").status_code == 201
    )
    ok = api.post("/devices/heartbeat", {"device": "K1", "parts": {"printer": "ok"}}, role="kiosk")
    assert ok.status_code == 200
    devices = {d["device"] for d in api.get("/devices", role="admin").json()}
    assert devices == {"K1"}
    helps = [h["kiosk"] for h in api.get("/help-requests", role="counter").json()]
    assert helps == ["K1"]


def test_an_upload_is_bounded(api: Api, clock: FakeClock) -> None:
    batch = [item(clock, f"K1-B{n:03d}") for n in range(1, 202)]
    r = api.post("/tickets/import", batch, role="kiosk")
    assert r.status_code == 422 and r.json()["error"] == "too_many"
    assert numbers_waiting(api) == []
    r = api.post("/tickets/import", batch[:200], role="kiosk")
    assert r.status_code == 200 and len(r.json()["results"]) == 200


def test_a_counter_token_acts_only_for_its_counters(api: Api) -> None:
    api.issue("C")
    r = api.post("/counters/1/call-next", role="counter3")
    assert r.status_code == 403 and r.json()["error"] == "wrong_counter"
    assert api.get("/counters/1", role="counter3").status_code == 403
    r = api.post("/counters/3/call-next", role="counter3")
    assert r.status_code == 200 and r.json()["number"] == "C001"
    assert api.post("/counters/3/finish", role="counter3").status_code == 200


def test_an_offline_ticket_keeps_its_manual_verification_mark(api: Api, clock: FakeClock) -> None:
    r = api.post("/tickets/import", [item(clock, "K1-B001", verification="manual")], role="kiosk")
    (result,) = r.json()["results"]
    assert result["outcome"] == "imported" and result["ticket"]["verification"] == "manual"

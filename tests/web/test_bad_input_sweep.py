"""Every route of ``/openapi.json`` (the Hall API and ``/web/api``) with out-of-range and
foreign input (issue "reliability", item 9): ids of 2^70, superscript and Arabic-Indic
digits, dates in year 1 and 9999 with extreme offsets, bidi controls, 5,000-character
strings — each in one path parameter, query parameter or body field of an otherwise
valid, authorised request.

What must hold: never a 500; every refusal is JSON with a stable ``error`` code and its
Chinese and English text; and afterwards the hall still answers with its queue as it was
(the ticket issued before the sweep is still there).

The event streams (``/events``) are left out: a valid request there never ends; their
``Last-Event-ID`` parsing is swept in tests/hall/test_sse_wire.py."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.support.hall import TOKENS, YOUNG
from tests.web.conftest import PASSWORD, Web

TWO_TO_70 = str(2**70)
BAD_INT_PATH = [TWO_TO_70, "²", "-1", "１", "1e3"]
BAD_STR_PATH = ["٢٣", "\u202e1", "x" * 300]
BAD_QUERY_DATE = [
    "0001-01-01",
    "9999-12-31",
    "２０２６-01-01",
    "2026-02-30",
    "0001-01-01T00:00:00+14:00",
    "9999-12-31T23:59:59-12:00",
    "1" * 5000,
]
BAD_INT = [2**70, -(2**70), "²", 1.5]
BAD_MOMENT = ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-12:00", "2026-01-01T00:00:00"]
BAD_STR = ["٢" * 18, "\u202e05:37", "x" * 5000, ""]
ROLES = ("kiosk", "counter", "display", "admin")


def good_bodies(ticket_id: int) -> dict[tuple[str, str], Any]:
    tomorrow = (dt.datetime.now(dt.UTC) + dt.timedelta(days=1)).replace(microsecond=0)
    now = dt.datetime.now(dt.UTC).isoformat()
    return {
        ("post", "/api/v1/tickets"): {"service": "B"},
        ("post", "/api/v1/tickets/import"): [
            {"kiosk": "K1", "offline_number": "K1-B001", "service": "B", "issued_at": now}
        ],
        ("post", "/api/v1/tickets/{ticket_id}/evaluation"): {"score": 5},
        ("post", "/api/v1/tickets/{ticket_id}/reprint"): {"id_number": YOUNG},
        ("post", "/api/v1/cases"): {"kind": "complaint", "description": "窗口排队太久"},
        ("post", "/api/v1/cases/{case_id}/steps"): {"step": "verify", "note": "核实中"},
        ("post", "/api/v1/counters/{counter_id}/call"): {"ticket": ticket_id},
        ("post", "/api/v1/counters/{counter_id}/transfer"): {"service": "C"},
        ("post", "/api/v1/counters/{counter_id}/pause"): {"reason": "午休"},
        ("post", "/api/v1/appointments"): {
            "service": "B",
            "id_number": YOUNG,
            "slot_start": tomorrow.isoformat(),
        },
        ("post", "/api/v1/appointments/check-in"): {"id_number": YOUNG},
        # online booking (issue 21): the test hall books from tomorrow, around the clock
        ("post", "/api/v1/bookings"): {
            "service": "A",
            "slot_start": f"{tomorrow.date().isoformat()}T10:00:00+08:00",
            "name": "张三",
            "id_number": YOUNG,
            "phone": "13812345678",
        },
        ("post", "/api/v1/bookings/{code}/reschedule"): {
            "slot_start": f"{tomorrow.date().isoformat()}T11:00:00+08:00"
        },
        ("post", "/api/v1/booking/closures"): {
            "day": tomorrow.date().isoformat(),
            "notice": "系统升级，暂停预约",
        },
        ("post", "/api/v1/remote-tickets"): {
            "service": "A",
            "id_number": YOUNG,
            "position": {"lat": 39.9123, "lon": 116.3661},
        },
        ("post", "/web/api/bookings"): {
            "service": "A",
            "slot_start": f"{tomorrow.date().isoformat()}T10:30:00+08:00",
            "name": "张三",
            "id_number": YOUNG,
        },
        ("post", "/web/api/booking/closures"): {
            "day": tomorrow.date().isoformat(),
            "notice": "系统升级，暂停预约",
        },
        ("post", "/api/v1/help-requests"): {"kiosk": "K1", "reason": "打印机卡纸"},
        ("post", "/api/v1/ratings/lookup"): {"number": "A001"},  # 评价上次办理 (issue 19)
        ("post", "/api/v1/devices/heartbeat"): {"device": "K1", "parts": {"printer": "ok"}},
        ("post", "/web/api/login"): {"username": "boss", "password": PASSWORD},
        ("post", "/web/api/counters/{counter_id}/call"): {"ticket": ticket_id},
        ("post", "/web/api/counters/{counter_id}/pause"): {"reason": "午休"},
        ("post", "/web/api/counters/{counter_id}/transfer"): {"service": "C"},
        ("post", "/web/api/counters/{counter_id}/evaluate"): {"ticket": ticket_id, "score": 5},
        # 好差评 (issue 19): the counter's 办件编号, the case pages' steps and appeals
        ("post", "/web/api/counters/{counter_id}/matters"): {"matter_no": "XC20261202-0001"},
        ("post", "/web/api/cases/{case_id}/steps"): {"step": "verify", "note": "核实中"},
        ("post", "/web/api/cases/{case_id}/appeal"): {"note": "误评"},
        ("post", "/web/api/cases/{case_id}/appeal/decision"): {"upheld": False, "note": "不成立"},
        ("post", "/web/api/accounts"): {
            "username": "zhao",
            "password": PASSWORD,
            "role": "counter",
            "counters": ["1"],
        },
        ("post", "/web/api/accounts/{username}/password"): {"password": PASSWORD},
        ("post", "/web/api/accounts/{username}"): {"display_name": "王"},
    }


def bad_field_values(schema: dict[str, Any], spec: dict[str, Any]) -> list[Any]:
    if "$ref" in schema:
        schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    for alt in schema.get("anyOf", []):
        if alt.get("type") != "null":
            return bad_field_values(alt, spec)
    kind = schema.get("type")
    if kind == "integer":
        return BAD_INT
    if kind == "string" and schema.get("format") == "date-time":
        return BAD_MOMENT
    if kind == "string":
        return BAD_STR
    if kind == "array":
        return [["٢"] * 200, [2**70]]
    if kind == "object":
        return [{"٢" * 40: "x"}, {"printer": 2**70}]
    return [2**70]


def body_variants(good: Any, spec: dict[str, Any], schema: dict[str, Any]) -> list[Any]:
    """The good body with one field at a time set to each bad value of its type."""
    if isinstance(good, list):  # the offline import: its items' fields
        item_schema = schema.get("items", {})
        return [[v] for v in body_variants(good[0], spec, item_schema)]
    if "$ref" in schema:
        schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    out = []
    for name, prop in schema.get("properties", {}).items():
        for bad in bad_field_values(prop, spec):
            out.append({**good, name: bad})
    return out


class Sweep:
    def __init__(self, client: TestClient, web: Web, admin_web: Web) -> None:
        self.client, self.web, self.admin_web = client, web, admin_web
        self.checked = 0

    def send(self, method: str, url: str, role: str | None, body: Any, web: Web | None) -> Any:
        headers = {}
        if role:
            headers["Authorization"] = f"Bearer {TOKENS[role]}"
        if web is not None:
            headers["X-CSRF-Token"] = web.csrf
            return web.client.request(method, url, json=body, headers=headers)
        return self.client.request(method, url, json=body, headers=headers)

    def check(self, r: Any, what: str) -> None:
        self.checked += 1
        assert r.status_code < 500, f"{what}: {r.status_code} {r.text[:300]}"
        if r.status_code >= 400:
            body = r.json()
            assert re.fullmatch(r"[a-z_.]+", body["error"]), (what, body)
            assert body["zh"] and body["en"], (what, body)


def fill(path: str, values: dict[str, str]) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: values[m.group(1)], path)


@pytest.mark.slow  # > 3 s: make test runs it, make test-fast does not
def test_every_route_refuses_bad_input_without_a_500(web: Web, app: Any) -> None:
    client = web.client
    ticket = web.issue("B")
    help_id = client.post(
        "/api/v1/help-requests",
        json={"kiosk": "K1", "reason": "需要帮助"},
        headers={"Authorization": f"Bearer {TOKENS['kiosk']}"},
    ).json()["id"]
    case_id = client.post(
        "/api/v1/cases",
        json={"kind": "suggestion", "description": "多设座椅"},
        headers={"Authorization": f"Bearer {TOKENS['kiosk']}"},
    ).json()["id"]
    counter_web = web
    assert counter_web.login("wang").status_code == 200
    admin_web = Web(TestClient(app))
    assert admin_web.login("boss").status_code == 200
    sweep = Sweep(client, counter_web, admin_web)
    spec = app.openapi()
    good = good_bodies(ticket["id"])
    path_values = {
        "ticket_id": str(ticket["id"]),
        "counter_id": "1",
        "help_id": str(help_id),
        "number": "B001",
        "username": "wang",
        "action": "recall",
        "case_id": str(case_id),
        "code": "ABCDE23456",  # a booking code (issue 21)
        "token": "notaticket-0123",  # a ticket's public token (远程取号 confirm)
    }
    login_last = sorted(spec["paths"].items(), key=lambda kv: kv[0] == "/web/api/login")
    routes = 0
    for path, ops in login_last:
        if path.endswith("/events"):
            continue
        for method, op in ops.items():
            routes += 1
            schema = (op.get("requestBody", {}).get("content", {}).get("application/json", {})).get(
                "schema"
            )
            body = good.get((method, path)) if schema else None
            assert schema is None or body is not None, f"add a good body for {method} {path}"
            # who may call it: a token role for the API, a session for the pages
            is_web = path.startswith("/web/api")
            callers = (
                [(None, admin_web), (None, counter_web)]
                if is_web
                else [(r, None) for r in ROLES] + [(None, None)]
            )
            url = fill(path, path_values)
            role, session = callers[0]
            for role, session in callers:
                r = sweep.send(method, url, role, body, session)
                if r.status_code not in (401, 403):
                    break
            what = f"{method.upper()} {path}"
            for p in op.get("parameters", []):
                if p["in"] == "path":
                    kind = p.get("schema", {}).get("type")
                    for bad in BAD_INT_PATH if kind == "integer" else BAD_STR_PATH:
                        bad_url = fill(path, {**path_values, p["name"]: bad})
                        r = sweep.send(method, bad_url, role, body, session)
                        sweep.check(r, f"{what} {p['name']}={bad[:20]!r}")
                elif p["in"] == "query":
                    for bad in BAD_QUERY_DATE:
                        r = sweep.send(method, f"{url}?{p['name']}={bad}", role, body, session)
                        sweep.check(r, f"{what} ?{p['name']}={bad[:20]!r}")
            if schema is not None:
                for variant in body_variants(body, spec, schema):
                    r = sweep.send(method, url, role, variant, session)
                    sweep.check(r, f"{what} body={str(variant)[:60]}")
    assert routes >= 45 and sweep.checked > 250
    # the hall still answers, and the ticket issued before the sweep is still there (the
    # sweep's valid requests called and finished it; none of the bad ones changed it)
    after = web.ticket(ticket["id"])
    assert after["number"] == "B001" and after["status"] == "done"
    services = client.get(
        "/api/v1/services", headers={"Authorization": f"Bearer {TOKENS['kiosk']}"}
    )
    assert services.status_code == 200

"""The small hall the unit and API tests share: its config, tokens, ID numbers, and a
TestClient wrapper with one method per role (fixtures stay in tests/hall/conftest.py)."""

from __future__ import annotations

import os
from typing import Any

import httpx
from fastapi.testclient import TestClient

from hall.config import HallConfig, parse_config

PG_URL = os.environ.get("GOVHALL_TEST_POSTGRES_URL")
TOKENS = {
    "kiosk": "kiosk-token-0123456789",
    "display": "display-token-0123456789",
    "counter": "counter-token-0123456789",
    "admin": "admin-token-0123456789",
    # bound more narrowly: the second kiosk (K2), and a token for counter 3 only
    "kiosk2": "kiosk2-token-0123456789",
    "counter3": "counter3-token-0123456789",
}
_TOKEN_ENTRIES = [
    {"name": "kiosk-1", "role": "kiosk", "device": "K1", "token": TOKENS["kiosk"]},
    {"name": "display-1", "role": "display", "device": "lobby", "token": TOKENS["display"]},
    {"name": "counter-1", "role": "counter", "counters": "*", "token": TOKENS["counter"]},
    {"name": "admin-1", "role": "admin", "token": TOKENS["admin"]},
    {"name": "kiosk-2", "role": "kiosk", "device": "K2", "token": TOKENS["kiosk2"]},
    {"name": "counter-3", "role": "counter", "counters": ["3"], "token": TOKENS["counter3"]},
]
ELDER = "11010519491231002X"  # born 1949: green channel
YOUNG = "110105200001010016"  # born 2000, check digit valid
YOUNG2 = "110105199003070025"


def make_config(
    hall_id: str = "test-hall", *, hours: dict[str, object] | None = None, **policy: object
) -> HallConfig:
    """The test hall; around the clock unless ``hours`` gives its ``[hours]``."""
    raw: dict[str, object] = {
        "version": 3,
        "hall": {
            "id": hall_id,
            "name": "测试政务服务中心",
            "name_en": "Test Hall",
            "timezone": "Asia/Shanghai",
            "secret": "test-secret",
        },
        "server": {"database": "sqlite:///:memory:"},
        "policy": {
            "recall_limit": 2,
            "recall_cooldown_s": 5,
            "aging_bound_s": 1800,
            "no_show_requeue_s": 600,
            "daily_limit": 1,
            **policy,
        },
        "service": [
            {
                "code": "A",
                "prefix": "A",
                "name": "社保",
                "name_en": "Social Insurance",
                "requires_id": True,
                "materials": ["身份证"],
                "avg_service_s": 300,
            },
            {
                "code": "B",
                "prefix": "B",
                "name": "医保",
                "name_en": "Medical Insurance",
                "avg_service_s": 200,
            },
            {"code": "C", "prefix": "C", "name": "税务", "name_en": "Taxation"},
            {"code": "X", "prefix": "X", "name": "暂停业务", "name_en": "Closed", "open": False},
        ],
        "counter": [
            {"id": "1", "name": "1号综合窗口", "services": ["A", "B"]},
            {"id": "2", "name": "2号窗口", "services": ["A"]},
            {"id": "3", "name": "3号窗口", "services": ["C"]},
        ],
        "token": [dict(t) for t in _TOKEN_ENTRIES],
    }
    if hours is not None:
        raw["hours"] = hours
    return parse_config(raw)


class Api:
    """TestClient with one method per role, so tests read like the requests they make."""

    def __init__(self, client: TestClient) -> None:
        self.client = client

    def _h(self, role: str | None, extra: dict[str, str] | None = None) -> dict[str, str]:
        h = {"Authorization": f"Bearer {TOKENS[role]}"} if role else {}
        return h | (extra or {})

    def get(self, path: str, role: str | None = "admin", **kw: Any) -> httpx.Response:
        return self.client.get(
            "/api/v1" + path, headers=self._h(role, kw.pop("headers", None)), **kw
        )

    def post(
        self, path: str, body: object = None, role: str | None = "counter", **kw: Any
    ) -> httpx.Response:
        return self.client.post(
            "/api/v1" + path, json=body, headers=self._h(role, kw.pop("headers", None)), **kw
        )

    def issue(self, service: str = "B", **body: object) -> dict:
        r = self.post("/tickets", {"service": service, **body}, role="kiosk")
        assert r.status_code == 201, r.text
        return r.json()

    def call_next(self, counter: str = "1") -> dict | None:
        r = self.post(f"/counters/{counter}/call-next")
        assert r.status_code in (200, 204), r.text
        return r.json() if r.status_code == 200 else None

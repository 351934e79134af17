"""Schemathesis generates requests from the OpenAPI schema (valid and invalid bodies,
paths and queries): none may produce a 5xx, every refusal is the JSON error shape, and
every answer is documented — its status, content type and body match ``/openapi.json``."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from hall.app import create_app
from tests.support.hall import TOKENS, make_config

_db = Path(tempfile.mkdtemp(prefix="govhall-fuzz-")) / "hall.db"
app = create_app(make_config(), database=f"sqlite:///{_db}")
schema = schemathesis.openapi.from_asgi("/openapi.json", app).exclude(path="/api/v1/events")
EXAMPLES = int(os.environ.get("GOVHALL_FUZZ_EXAMPLES", "25"))


def token_for(path: str, method: str) -> str:
    if path.startswith("/api/v1/counters") and method == "POST":
        return TOKENS["counter"]
    if path.startswith("/api/v1/tickets/import") or (
        path.startswith("/api/v1/help-requests") and method == "POST"
    ):
        return TOKENS["kiosk"]
    if path.endswith("/heartbeat"):
        return TOKENS["kiosk"]
    if path.endswith("/evaluation"):
        return TOKENS["counter"]
    return TOKENS["admin"]


@pytest.mark.slow
@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_server_errors_and_json_errors(case: schemathesis.Case) -> None:
    headers = {"Authorization": f"Bearer {token_for(case.path, case.method)}"}
    response = case.call(headers=headers)
    assert response.status_code < 500, response.text
    if response.status_code >= 400:
        body = response.json()
        # a code for programs, the details, and the code's text in Chinese and English
        assert (
            {"error", "message", "zh", "en"}
            <= set(body)
            <= {
                "error",
                "message",
                "zh",
                "en",
                "opens_at",
                "locked_until",
                "held_number",
                "held_ticket",
            }
        ), body
        assert body["message"] and body["zh"] and body["en"], body
    case.validate_response(
        response,
        checks=[status_code_conformance, content_type_conformance, response_schema_conformance],
    )

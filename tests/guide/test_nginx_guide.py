"""The public guide through the shipped nginx front (deploy/nginx/govhall.conf): phones
reach /guide/, its two files and the two public reads its page makes, GET only; the rest of
the API stays unreachable. Uses tests/ops/test_nginx.py's front (a real Debian nginx over
TLS before a real ``govhall hall``)."""

from __future__ import annotations

import pytest
import requests

from tests.ops.test_nginx import Front, front

__all__ = ["front"]  # the fixture, shared with tests/ops/test_nginx.py

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.timeout(180)]


@pytest.mark.parametrize(
    "path",
    [
        "/guide/",
        "/guide/gjj-01",
        "/web/static/guide.js",
        "/web/static/guide.css",
        "/api/v1/guide?q=shebaoka&limit=3",
        "/api/v1/matters",
        "/api/v1/matters/yjs-01",
    ],
)
def test_the_guide_is_reachable_through_nginx(front: Front, path: str) -> None:
    r = front.get(path)
    assert r.status_code == 200, (path, r.status_code, r.text[:200])


@pytest.mark.parametrize(
    "path", ["/guide", "/guide/gjj-01/x", "/api/v1/matters/../tickets", "/api/v1/guidex"]
)
def test_nothing_else_under_those_names(front: Front, path: str) -> None:
    r = front.get(path, redirects=False)
    assert r.status_code == 404, (path, r.status_code)


def test_the_guide_is_read_only_through_nginx(front: Front) -> None:
    r = requests.post(front.url + "/api/v1/guide", json={}, verify=str(front.cert), timeout=10)
    assert r.status_code == 403
    assert front.get("/api/v1/guide?q=shebaoka").json()["results"][0]["code"] in ("sb-03", "sb-04")

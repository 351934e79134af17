"""``/metrics`` through prometheus_client: the same series and labels as before, figures
from the database, one registry per app, and 503 while the database is down."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from prometheus_client import CONTENT_TYPE_LATEST
from prometheus_client.parser import text_string_to_metric_families

from hall.app import create_app
from hall.errors import StorageUnavailable
from tests.support.clock import FakeClock
from tests.support.hall import TOKENS, Api, make_config


def scrape(api: Api) -> tuple[str, dict[tuple[str, tuple[tuple[str, str], ...]], float]]:
    r = api.client.get("/metrics")
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == CONTENT_TYPE_LATEST
    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(r.text)
        for s in family.samples
    }
    return r.text, samples


def test_series_names_labels_and_values(api: Api) -> None:
    hall = api.client.app.state.ctx.hall_id  # type: ignore[attr-defined]
    for _ in range(3):
        api.issue("B")
    api.issue("C")
    called = api.call_next("1")
    assert called is not None
    assert api.post("/counters/1/start").status_code == 200
    assert api.post("/counters/1/finish").status_code == 200
    r = api.post(f"/tickets/{called['id']}/evaluation", {"score": 4}, role="kiosk")
    assert r.status_code in (200, 201), r.text

    text, samples = scrape(api)
    h = ("hall", hall)
    # the exposition lines as Prometheus has always scraped them
    for line in (
        "# TYPE govhall_tickets_today gauge",
        "# TYPE govhall_waiting gauge",
        "# TYPE govhall_counters gauge",
        "# TYPE govhall_evaluations_total counter",
        "# TYPE govhall_event_stream_subscribers gauge",
        "# TYPE govhall_last_event_id gauge",
        f'govhall_waiting{{hall="{hall}",service="B"}} 2.0',
        f'govhall_evaluations_total{{hall="{hall}",score="4"}} 1.0',
    ):
        assert line + "\n" in text, line
    assert text.count("govhall_waiting{") == 4  # every configured service, waiting or not
    assert samples[("govhall_waiting", (h, ("service", "C")))] == 1
    assert samples[("govhall_waiting", (h, ("service", "A")))] == 0
    assert samples[("govhall_tickets_today", (h, ("service", "B"), ("status", "waiting")))] == 2
    assert samples[("govhall_tickets_today", (h, ("service", "B"), ("status", "done")))] == 1
    assert samples[("govhall_counters", (h, ("state", "open")))] == 1
    assert samples[("govhall_counters", (h, ("state", "closed")))] == 2
    assert samples[("govhall_counters", (h, ("state", "paused")))] == 0
    assert [
        samples[("govhall_evaluations_total", (h, ("score", str(s))))] for s in range(1, 6)
    ] == [
        0,
        0,
        0,
        1,
        0,
    ]
    assert samples[("govhall_event_stream_subscribers", (h,))] == 0
    ctx = api.client.app.state.ctx  # type: ignore[attr-defined]
    assert samples[("govhall_last_event_id", (h,))] == ctx.bus.last_id > 0
    assert not [k for k in samples if k[0].endswith("_created")]

    sub = ctx.bus.subscribe()
    try:
        assert scrape(api)[1][("govhall_event_stream_subscribers", (h,))] == 1
    finally:
        sub.close()


def test_each_app_has_its_own_registry(tmp_path: Path, clock: FakeClock) -> None:
    texts = []
    for hall_id in ("hall-one", "hall-two"):
        app = create_app(
            make_config(hall_id), database=f"sqlite:///{tmp_path / hall_id}.db", clock=clock
        )
        with TestClient(app) as client:
            r = client.post(
                "/api/v1/tickets",
                json={"service": "B"},
                headers={"Authorization": f"Bearer {TOKENS['kiosk']}"},
            )
            assert r.status_code == 201
            texts.append(client.get("/metrics").text)
            texts.append(client.get("/metrics").text)  # the same registry again
    one, one_again, two, _ = texts
    assert one == one_again
    assert 'govhall_waiting{hall="hall-one",service="B"} 1.0' in one and "hall-two" not in one
    assert 'govhall_waiting{hall="hall-two",service="B"} 1.0' in two and "hall-one" not in two


def test_storage_down_is_503(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    ctx = api.client.app.state.ctx  # type: ignore[attr-defined]

    @contextmanager
    def down() -> Iterator[None]:
        raise StorageUnavailable(2)
        yield

    monkeypatch.setattr(ctx, "read", down)
    r = api.client.get("/metrics")
    assert r.status_code == 503
    assert r.json()["error"] == "storage_unavailable"

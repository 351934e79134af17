"""``GET /metrics`` in the Prometheus text format, through ``prometheus_client``: a
collector reads the queue gauges and counters from the database at each scrape (so they
survive restarts) and the live SSE subscriber count from the bus. Aggregates only.

Each app has its own ``CollectorRegistry`` (``app.state.metrics``), never the process-wide
default: tests and multi-hall hosts build several apps in one process.

Exposed series (one ``hall`` label each)::

    govhall_tickets_today{service,status}  gauge
    govhall_waiting{service}               gauge
    govhall_counters{state}                gauge
    govhall_evaluations_total{score}       counter
    govhall_event_stream_subscribers       gauge
    govhall_last_event_id                  gauge (a high-water mark, not a count: as a
                                           counter prometheus_client would call it
                                           ``govhall_last_event_id_total``)
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Final

from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.metrics_core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import func, select

from hall.services.context import HallContext
from hall.storage import tables as t

router = APIRouter()

COUNTER_STATES: Final = ("open", "paused", "closed")
SCORES: Final = range(1, 6)


class HallCollector(Collector):
    """The hall's figures, read from the database at each scrape."""

    def __init__(self, ctx: HallContext) -> None:
        self.ctx = ctx

    @staticmethod
    def _families() -> tuple[
        GaugeMetricFamily,
        GaugeMetricFamily,
        GaugeMetricFamily,
        CounterMetricFamily,
        GaugeMetricFamily,
        GaugeMetricFamily,
    ]:
        return (
            GaugeMetricFamily(
                "govhall_tickets_today",
                "Tickets issued today by service and current status.",
                labels=("hall", "service", "status"),
            ),
            GaugeMetricFamily(
                "govhall_waiting", "Tickets waiting now by service.", labels=("hall", "service")
            ),
            GaugeMetricFamily("govhall_counters", "Counters by state.", labels=("hall", "state")),
            CounterMetricFamily(  # exposed as govhall_evaluations_total
                "govhall_evaluations", "Evaluations (好差评) by score.", labels=("hall", "score")
            ),
            GaugeMetricFamily(
                "govhall_event_stream_subscribers", "Open SSE connections.", labels=("hall",)
            ),
            GaugeMetricFamily("govhall_last_event_id", "Id of the newest event.", labels=("hall",)),
        )

    def describe(self) -> Iterator[Metric]:
        """The names, without a database read: lets the registry refuse duplicates."""
        yield from self._families()

    def collect(self) -> Iterator[Metric]:
        ctx = self.ctx
        T = t.tickets
        with ctx.read() as conn:  # StorageUnavailable leaves as 503
            by_status = conn.execute(
                select(T.c.service, T.c.status, func.count())
                .where(T.c.hall_id == ctx.hall_id, T.c.day == ctx.today())
                .group_by(T.c.service, T.c.status)
            ).all()
            counters = conn.execute(
                select(t.counters.c.state, func.count())
                .where(t.counters.c.hall_id == ctx.hall_id)
                .group_by(t.counters.c.state)
            ).all()
            evals = conn.execute(
                select(t.evaluations.c.score, func.count())
                .where(t.evaluations.c.hall_id == ctx.hall_id)
                .group_by(t.evaluations.c.score)
            ).all()
        hall = ctx.hall_id
        tickets_today, waiting, counter_states, evaluations, subscribers, last_id = self._families()
        waiting_by_service: dict[str, int] = {s.code: 0 for s in ctx.config.services}
        for service, status, n in by_status:
            tickets_today.add_metric((hall, service, status), n)
            if status == "waiting":
                waiting_by_service[service] = n
        for service, n in waiting_by_service.items():
            waiting.add_metric((hall, service), n)
        states: dict[str, int] = {state: n for state, n in counters}
        for state in COUNTER_STATES:
            counter_states.add_metric((hall, state), states.get(state, 0))
        scores: dict[int, int] = {score: n for score, n in evals}
        for score in SCORES:
            evaluations.add_metric((hall, str(score)), scores.get(score, 0))
        subscribers.add_metric((hall,), ctx.bus.subscriber_count)
        last_id.add_metric((hall,), ctx.bus.last_id)
        yield from (tickets_today, waiting, counter_states, evaluations, subscribers, last_id)


_install_lock = threading.Lock()


def registry_of(request: Request) -> CollectorRegistry:
    """The app's registry, made with its collector at the first scrape."""
    state = request.app.state
    with _install_lock:
        registry: CollectorRegistry | None = getattr(state, "metrics", None)
        if registry is None:
            registry = CollectorRegistry(auto_describe=False)
            registry.register(HallCollector(state.ctx))
            state.metrics = registry
    return registry


@router.get("/metrics", include_in_schema=False)
def metrics(request: Request) -> Response:
    return Response(generate_latest(registry_of(request)), media_type=CONTENT_TYPE_LATEST)

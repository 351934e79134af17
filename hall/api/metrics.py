"""``GET /metrics`` in the Prometheus text format: queue gauges and counters from the
database (so they survive restarts) and the live SSE subscriber count. Aggregates only."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import PlainTextResponse
from sqlalchemy import func, select

from hall.services.core import HallContext
from hall.storage import tables as t

router = APIRouter()


def _esc(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def render(ctx: HallContext) -> str:
    T = t.tickets
    with ctx.read() as conn:
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
    hall = _esc(ctx.hall_id)
    lines = [
        "# HELP govhall_tickets_today Tickets issued today by service and current status.",
        "# TYPE govhall_tickets_today gauge",
    ]
    waiting: dict[str, int] = {s.code: 0 for s in ctx.config.services}
    for service, status, n in by_status:
        lines.append(
            f'govhall_tickets_today{{hall="{hall}",service="{_esc(service)}",'
            f'status="{status}"}} {n}'
        )
        if status == "waiting":
            waiting[service] = n
    lines += [
        "# HELP govhall_waiting Tickets waiting now by service.",
        "# TYPE govhall_waiting gauge",
    ]
    lines += [
        f'govhall_waiting{{hall="{hall}",service="{_esc(s)}"}} {n}' for s, n in waiting.items()
    ]
    lines += ["# HELP govhall_counters Counters by state.", "# TYPE govhall_counters gauge"]
    states = dict(counters)
    lines += [
        f'govhall_counters{{hall="{hall}",state="{s}"}} {states.get(s, 0)}'
        for s in ("open", "paused", "closed")
    ]
    lines += [
        "# HELP govhall_evaluations_total Evaluations (好差评) by score.",
        "# TYPE govhall_evaluations_total counter",
    ]
    scores = dict(evals)
    lines += [
        f'govhall_evaluations_total{{hall="{hall}",score="{s}"}} {scores.get(s, 0)}'
        for s in range(1, 6)
    ]
    lines += [
        "# HELP govhall_event_stream_subscribers Open SSE connections.",
        "# TYPE govhall_event_stream_subscribers gauge",
        f'govhall_event_stream_subscribers{{hall="{hall}"}} {ctx.bus.subscriber_count}',
        "# HELP govhall_last_event_id Id of the newest event.",
        "# TYPE govhall_last_event_id counter",
        f'govhall_last_event_id{{hall="{hall}"}} {ctx.bus.last_id}',
    ]
    return "\n".join(lines) + "\n"


@router.get("/metrics", include_in_schema=False)
def metrics(request: Request) -> PlainTextResponse:
    return PlainTextResponse(
        render(request.app.state.ctx), media_type="text/plain; version=0.0.4; charset=utf-8"
    )

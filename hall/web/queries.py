"""Read-only figures the pages need beyond hall.services: the queue of each service, the
longest current wait, the waiting-time distribution and score distribution of a range, and
the ticket an evaluation pad should ask about. Aggregates only, no personal data."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from itertools import pairwise
from typing import Any

from sqlalchemy import func, select

from common.errors import text
from hall.domain.tickets import Status
from hall.services import hallinfo
from hall.services.context import HallContext
from hall.services.stats import parse_range
from hall.storage import tables as t

T = t.tickets
E = t.evaluations
# Minutes; the last bucket is open-ended.
WAIT_BUCKETS = (5, 10, 20, 30, 60)
PAD_WINDOW_S = 300


def service_queues(ctx: HallContext) -> list[dict[str, Any]]:
    """Each service with its name, whether it is open today and how many are waiting (the
    counter page's and the dashboard's queue table)."""
    return [
        s.model_dump(include={"code", "name", "name_en", "open", "waiting"})
        for s in hallinfo.services(ctx)
    ]


def device_places(ctx: HallContext) -> dict[str, str]:
    """Device id → where it stands, from the ``location`` of the ``[[token]]`` that speaks
    for it ("K1" → "一楼大厅东侧")."""
    return {
        tk.device: tk.location
        for tk in ctx.config.tokens
        if tk.device and tk.device != "*" and tk.location
    }


def help_requests(ctx: HallContext) -> list[dict[str, Any]]:
    """The open help requests, each with ``location``: where its kiosk stands (or None).
    ``reason`` is what the kiosk sent (a code like ``citizen_asked``, or words); the pages
    put it in words (``help_reason_<code>`` in web.toml)."""
    places = device_places(ctx)
    out = []
    for h in hallinfo.open_help_requests(ctx):
        row: dict[str, Any] = {**h.model_dump(), "location": places.get(h.kiosk)}
        reason, _, code = h.reason.partition(":")
        service = ctx.config.service(code) if reason == "passport" and code else None
        if service is not None:  # passport:A → 持护照 … 社保业务, and 帮办取号 on the page
            row |= {"reason": "passport", "service": code, "service_name": service.name}
        out.append(row)
    return out


def import_refusals(ctx: HallContext, limit: int = 50) -> list[dict[str, Any]]:
    """Today's offline tickets the hall refused (which kiosk, which number, why): a citizen
    holds that paper ticket, and staff must take care of them."""
    e = t.events
    since = dt.datetime.combine(ctx.today(), dt.time(), tzinfo=ctx.config.tz)
    with ctx.read() as conn:
        rows = conn.execute(
            select(e.c.data, e.c.created_at)
            .where(
                e.c.hall_id == ctx.hall_id,
                e.c.type == "ticket.import_refused",
                e.c.created_at >= since,
            )
            .order_by(e.c.id.desc())
            .limit(limit)
        ).all()
    out = []
    for r in rows:
        data = json.loads(r.data)
        code = str(data.get("error", "error"))
        out.append(
            {
                **data,
                "zh": text(code, "zh"),
                "en": text(code, "en"),
                "at": ctx.local(r.created_at).isoformat(),
            }
        )
    return out


def _device_kind(role: str, parts: Mapping[str, str]) -> str:
    if role == "kiosk":
        return "kiosk"
    if "board" in parts:
        return "board"
    if "screen" in parts:
        return "counter_screen"
    return "display"


def devices(ctx: HallContext) -> list[dict[str, Any]]:
    """Every device the hall knows: those that sent a heartbeat (``online`` while their
    last one is younger than ``[policy].device_silent_s``), and those a ``[[token]]`` names
    that never did (``last_seen`` None: a box that never came up). Each with its ``kind``
    (kiosk, board, counter_screen, display) and ``location``."""
    places = device_places(ctx)
    out = [
        {
            **d.model_dump(),
            "kind": _device_kind(d.role, d.parts),
            "location": places.get(d.device),
        }
        for d in hallinfo.device_health(ctx)
    ]
    seen = {d["device"] for d in out}
    for tk in ctx.config.tokens:
        if tk.role in ("kiosk", "display") and tk.device and tk.device != "*":
            if tk.device in seen:
                continue
            seen.add(tk.device)
            out.append(
                {
                    "device": tk.device,
                    "role": tk.role,
                    "parts": {},
                    "online": False,
                    "last_seen": None,
                    "kind": "kiosk" if tk.role == "kiosk" else "display",
                    "location": tk.location,
                }
            )
    return sorted(out, key=lambda d: (d["kind"] != "kiosk", d["device"]))


def longest_waits(ctx: HallContext) -> dict[str, int]:
    """Seconds the oldest waiting ticket of each service has been in the queue."""
    now = ctx.now()
    with ctx.read() as conn:
        rows = conn.execute(
            select(T.c.service, func.min(T.c.queue_time))
            .where(T.c.hall_id == ctx.hall_id, T.c.status == Status.WAITING.value)
            .group_by(T.c.service)
        ).all()
    out: dict[str, int] = {}
    for service, oldest in rows:
        if oldest.tzinfo is None:  # min() over SQLite bypasses the column type
            oldest = oldest.replace(tzinfo=dt.UTC)
        out[service] = max(0, int((now - oldest).total_seconds()))
    return out


def distributions(ctx: HallContext, start: str | None, end: str | None) -> dict[str, Any]:
    lo, hi = parse_range(ctx, start, end)
    labels = [f"<{WAIT_BUCKETS[0]}"] + [f"{a}–{b}" for a, b in pairwise(WAIT_BUCKETS)]
    labels.append(f"≥{WAIT_BUCKETS[-1]}")
    counts = [0] * len(labels)
    with ctx.read() as conn:
        rows = conn.execute(
            select(T.c.queue_time, T.c.called_at).where(
                T.c.hall_id == ctx.hall_id,
                T.c.issued_at >= lo,
                T.c.issued_at < hi,
                T.c.called_at.is_not(None),
                T.c.origin_id.is_(None),
            )
        ).all()
        scores: dict[int, int] = dict(
            conn.execute(
                select(E.c.score, func.count())
                .where(E.c.hall_id == ctx.hall_id, E.c.created_at >= lo, E.c.created_at < hi)
                .group_by(E.c.score)
            ).all()
        )
    for queued, called in rows:
        minutes = (called - queued).total_seconds() / 60
        i = next((k for k, b in enumerate(WAIT_BUCKETS) if minutes < b), len(WAIT_BUCKETS))
        counts[i] += 1
    return {
        "wait_minutes": {"labels": labels, "counts": counts},
        "scores": {str(s): int(scores.get(s, 0)) for s in range(1, 6)},
    }


def pad_ticket(ctx: HallContext, counter_id: str) -> dict[str, Any] | None:
    """The ticket the pad at this counter asks the citizen to rate: the last one finished
    here in the past few minutes and not rated yet."""
    now = ctx.now()
    since = now - dt.timedelta(seconds=PAD_WINDOW_S)
    with ctx.read() as conn:
        row = conn.execute(
            select(T.c.id, T.c.number, T.c.service)
            .where(
                T.c.hall_id == ctx.hall_id,
                T.c.counter_id == counter_id,
                T.c.status == Status.DONE.value,
                T.c.finished_at >= since,
            )
            .order_by(T.c.finished_at.desc(), T.c.id.desc())
            .limit(1)
        ).first()
        if row is None:
            return None
        rated = conn.execute(
            select(E.c.id).where(E.c.hall_id == ctx.hall_id, E.c.ticket_id == row.id)
        ).first()
    if rated is not None:
        return None
    return {"id": row.id, "number": row.number, "service": row.service}


def ticket_counter(ctx: HallContext, ticket_id: int) -> str | None:
    with ctx.read() as conn:
        return conn.execute(
            select(T.c.counter_id).where(T.c.hall_id == ctx.hall_id, T.c.id == ticket_id)
        ).scalar()

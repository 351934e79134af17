"""Service catalogue, lobby board snapshot, help requests and device health."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import insert, select, update

from hall.errors import NotFound
from hall.services import queries
from hall.services.core import HallContext
from hall.services.tickets import event_ticket
from hall.storage import tables as t

T = t.tickets
DEVICE_PART_STATES = ("ok", "warning", "error", "offline", "absent")


def services(ctx: HallContext) -> list[dict[str, Any]]:
    with ctx.read() as conn:
        waiting = queries.waiting_counts(conn, ctx.hall_id)
        day = ctx.today()
        out = []
        for s in ctx.config.services:
            n = waiting.get(s.code, 0)
            out.append(
                {
                    "code": s.code,
                    "name": s.name,
                    "name_en": s.name_en,
                    "prefix": s.prefix,
                    "open": s.open,
                    "requires_id": s.requires_id,
                    "requires_face": s.requires_face,
                    "materials": list(s.materials),
                    "materials_en": list(s.materials_en),
                    "waiting": n,
                    "estimated_wait_s": queries.estimate_for(
                        conn, ctx.config, day, s.code, n, ctx.estimate_cache()
                    ),
                }
            )
        return out


def board(ctx: HallContext, recent: int = 10) -> dict[str, Any]:
    with ctx.read() as conn:
        calls = conn.execute(
            select(T)
            .where(
                T.c.hall_id == ctx.hall_id,
                T.c.day == ctx.today(),
                T.c.called_at.is_not(None),
                T.c.counter_id.is_not(None),
            )
            .order_by(T.c.called_at.desc())
            .limit(recent)
        ).all()
        counters = {
            r.id: r
            for r in conn.execute(
                select(t.counters).where(t.counters.c.hall_id == ctx.hall_id)
            ).all()
        }
        waiting = queries.waiting_counts(conn, ctx.hall_id)
        last_event = ctx.bus.last_id
    return {
        "hall": {
            "name": ctx.config.name,
            "name_en": ctx.config.name_en,
            "notice": ctx.config.notice,
            "timezone": ctx.config.timezone,
        },
        "recent_calls": [
            {**event_ticket(ctx, r), "called_at": ctx.local(r.called_at).isoformat()} for r in calls
        ],
        "waiting": {s.code: waiting.get(s.code, 0) for s in ctx.config.services},
        "services": [
            {"code": s.code, "name": s.name, "name_en": s.name_en, "prefix": s.prefix}
            for s in ctx.config.services
        ],
        "counters": [
            {
                "id": c.id,
                "name": c.name,
                "name_en": c.name_en,
                "state": counters[c.id].state if c.id in counters else "closed",
                "reason": counters[c.id].reason if c.id in counters else None,
                "services": list(c.services),
            }
            for c in ctx.config.counters
        ],
        "last_event_id": last_event,
    }


def help_request(ctx: HallContext, kiosk: str, reason: str) -> dict[str, Any]:
    with ctx.write() as tx:
        new_id = tx.conn.execute(
            insert(t.help_requests)
            .values(
                hall_id=ctx.hall_id,
                kiosk=kiosk[:64],
                reason=reason[:200],
                created_at=tx.now,
            )
            .returning(t.help_requests.c.id)
        ).scalar_one()
        data = {
            "id": new_id,
            "kiosk": kiosk[:64],
            "reason": reason[:200],
            "created_at": ctx.local(tx.now).isoformat(),
        }
        tx.emit("help.requested", data)
        return data


def resolve_help(ctx: HallContext, help_id: int) -> dict[str, Any]:
    h = t.help_requests
    with ctx.write() as tx:
        row = tx.conn.execute(
            select(h).where(h.c.hall_id == ctx.hall_id, h.c.id == help_id)
        ).first()
        if row is None:
            raise NotFound(f"no help request {help_id}", code="help_not_found")
        if row.resolved_at is None:
            tx.conn.execute(update(h).where(h.c.id == help_id).values(resolved_at=tx.now))
            tx.emit("help.resolved", {"id": help_id, "kiosk": row.kiosk})
        return {"id": help_id, "kiosk": row.kiosk, "resolved": True}


def open_help_requests(ctx: HallContext) -> list[dict[str, Any]]:
    h = t.help_requests
    with ctx.read() as conn:
        rows = conn.execute(
            select(h)
            .where(h.c.hall_id == ctx.hall_id, h.c.resolved_at.is_(None))
            .order_by(h.c.created_at)
        ).all()
    return [
        {
            "id": r.id,
            "kiosk": r.kiosk,
            "reason": r.reason,
            "created_at": ctx.local(r.created_at).isoformat(),
        }
        for r in rows
    ]


def heartbeat(ctx: HallContext, device: str, role: str, parts: dict[str, str]) -> dict[str, Any]:
    """Stores the latest state; publishes ``device.health`` only when a part's state
    changed, so a steady heartbeat every few seconds does not flood the event stream."""
    d = t.devices
    with ctx.write() as tx:
        row = tx.conn.execute(
            select(d).where(d.c.hall_id == ctx.hall_id, d.c.device == device)
        ).first()
        changed = row is None or row.parts != parts
        if row is None:
            tx.conn.execute(
                insert(d).values(
                    hall_id=ctx.hall_id,
                    device=device,
                    role=role,
                    parts=parts,
                    last_seen=tx.now,
                    changed_at=tx.now,
                )
            )
        else:
            values: dict[str, Any] = {"last_seen": tx.now, "role": role}
            if changed:
                values |= {"parts": parts, "changed_at": tx.now}
            tx.conn.execute(
                update(d).where(d.c.hall_id == ctx.hall_id, d.c.device == device).values(**values)
            )
        if changed:
            tx.emit("device.health", {"device": device, "role": role, "parts": parts})
        return {"device": device, "parts": parts, "changed": changed}


def device_health(ctx: HallContext) -> list[dict[str, Any]]:
    d = t.devices
    silent = dt.timedelta(seconds=ctx.config.policy.device_silent_s)
    now = ctx.now()
    with ctx.read() as conn:
        rows = conn.execute(select(d).where(d.c.hall_id == ctx.hall_id).order_by(d.c.device)).all()
    return [
        {
            "device": r.device,
            "role": r.role,
            "parts": r.parts,
            "online": now - r.last_seen <= silent,
            "last_seen": ctx.local(r.last_seen).isoformat(),
        }
        for r in rows
    ]

"""Service catalogue, lobby board snapshot, help requests and device health."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import insert, select, update

from hall.errors import NotFound
from hall.schemas import (
    Board,
    BoardCall,
    BoardCounter,
    BoardHall,
    BoardService,
    DeviceHealth,
    HeartbeatAck,
    HelpRequest,
    HelpResolved,
    ServiceInfo,
)
from hall.services import closing, queries
from hall.services.context import HallContext
from hall.services.views import event_ticket
from hall.storage import tables as t
from hall.storage.rows import CounterRow, TicketRow

T = t.tickets


def services(ctx: HallContext) -> list[ServiceInfo]:
    now = ctx.now()
    with ctx.read() as conn:
        waiting = queries.waiting_counts(conn, ctx.hall_id)
        day = ctx.today(now)
        out = []
        for s in ctx.config.services:
            open_now, opens_at = closing.availability(ctx.config, s.code, now)
            out.append(
                ServiceInfo(
                    code=s.code,
                    name=s.name,
                    name_en=s.name_en,
                    prefix=s.prefix,
                    open=open_now,
                    opens_at=opens_at,
                    hours_today=closing.hours_today(ctx.config, s.code, day),
                    requires_id=s.requires_id,
                    requires_face=s.requires_face,
                    materials=list(s.materials),
                    materials_en=list(s.materials_en),
                    waiting=waiting.get(s.code, 0),
                    estimated_wait_s=queries.estimate_for(
                        conn, ctx.config, day, s.code, waiting.get(s.code, 0)
                    ),
                    counters=[c.id for c in ctx.config.counters if s.code in c.services],
                    rejoin_min=int(ctx.config.policy.no_show_requeue_s // 60),
                )
            )
        return out


def board(ctx: HallContext, recent: int = 10) -> Board:
    with ctx.read() as conn:
        calls = [
            TicketRow.of(r)
            for r in conn.execute(
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
        ]
        states = {
            r.id: r
            for r in map(
                CounterRow.of,
                conn.execute(select(t.counters).where(t.counters.c.hall_id == ctx.hall_id)).all(),
            )
        }
        waiting = queries.waiting_counts(conn, ctx.hall_id)
        last_event = ctx.bus.last_id
    return Board(
        hall=BoardHall(
            name=ctx.config.name,
            name_en=ctx.config.name_en,
            notice=ctx.config.notice,
            timezone=ctx.config.timezone,
        ),
        recent_calls=[
            BoardCall(
                **event_ticket(ctx.config, r).model_dump(),
                called_at=ctx.local(r.called_at).isoformat() if r.called_at else "",
            )
            for r in calls
        ],
        waiting={s.code: waiting.get(s.code, 0) for s in ctx.config.services},
        services=[
            BoardService(code=s.code, name=s.name, name_en=s.name_en, prefix=s.prefix)
            for s in ctx.config.services
        ],
        counters=[
            BoardCounter(
                id=c.id,
                name=c.name,
                name_en=c.name_en,
                state=states[c.id].state if c.id in states else "closed",
                reason=states[c.id].reason if c.id in states else None,
                services=list(c.services),
            )
            for c in ctx.config.counters
        ],
        last_event_id=last_event,
    )


def help_request(ctx: HallContext, kiosk: str, reason: str) -> HelpRequest:
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
        data = HelpRequest(
            id=new_id,
            kiosk=kiosk[:64],
            reason=reason[:200],
            created_at=ctx.local(tx.now).isoformat(),
        )
        tx.emit("help.requested", data.model_dump())
        return data


def resolve_help(ctx: HallContext, help_id: int) -> HelpResolved:
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
        return HelpResolved(id=help_id, kiosk=row.kiosk, resolved=True)


def open_help_requests(ctx: HallContext) -> list[HelpRequest]:
    h = t.help_requests
    with ctx.read() as conn:
        rows = conn.execute(
            select(h)
            .where(h.c.hall_id == ctx.hall_id, h.c.resolved_at.is_(None))
            .order_by(h.c.created_at)
        ).all()
    return [
        HelpRequest(
            id=r.id, kiosk=r.kiosk, reason=r.reason, created_at=ctx.local(r.created_at).isoformat()
        )
        for r in rows
    ]


def heartbeat(ctx: HallContext, device: str, role: str, parts: dict[str, str]) -> HeartbeatAck:
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
        return HeartbeatAck.model_validate({"device": device, "parts": parts, "changed": changed})


def device_health(ctx: HallContext) -> list[DeviceHealth]:
    d = t.devices
    silent = dt.timedelta(seconds=ctx.config.policy.device_silent_s)
    now = ctx.now()
    with ctx.read() as conn:
        rows = conn.execute(select(d).where(d.c.hall_id == ctx.hall_id).order_by(d.c.device)).all()
    return [
        DeviceHealth(
            device=r.device,
            role=r.role,
            parts=r.parts,
            online=now - r.last_seen <= silent,
            last_seen=ctx.local(r.last_seen).isoformat(),
        )
        for r in rows
    ]

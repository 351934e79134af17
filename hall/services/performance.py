"""Staff and counter performance from the queue's own records, not cameras: per counter
(and the staff accounts bound to it) per day or month — tickets served, service time,
time signed in, idle time while signed in and a queue for its services was waiting, pauses
by reason and length, recalls and no-shows, 好差评 figures and cases.

Signed in: from the counter's events (``counter.opened``/``resumed`` → open,
``counter.paused``/``closed`` → not); a day whose counter was never closed ends at its last
ticket. Idle while the queue waited: open, not serving (called → finished), and some ticket
of its services waiting (issued → called), counted by the minute. Reads only.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlalchemy import select

from hall.domain.limits import FIRST_YEAR, LAST_YEAR
from hall.domain.staffing import natural
from hall.errors import Invalid
from hall.services.context import HallContext
from hall.storage import tables as t

T = t.tickets
MINUTES = 24 * 60
Grid = npt.NDArray[np.bool_]

COLUMNS = (
    "counter",
    "name",
    "staff",
    "served",
    "called",
    "service_avg_min",
    "service_total_h",
    "signed_in_min",
    "idle_waiting_min",
    "pauses",
    "paused_min",
    "pause_reasons",
    "recalls",
    "no_show",
    "transferred",
    "wait_avg_min",
    "evaluations",
    "satisfaction_avg",
    "satisfied_pct",
    "bad_reviews",
    "cases",
    "cases_on_time",
    "cases_overdue",
)


@dataclass
class _Acc:
    served: int = 0
    called: int = 0
    service_s: float = 0.0
    signed_in_min: int = 0
    idle_min: int = 0
    pauses: int = 0
    paused_s: float = 0.0
    reasons: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    recalls: int = 0
    no_show: int = 0
    transferred: int = 0
    waits: list[float] = field(default_factory=list)
    scores: list[int] = field(default_factory=list)
    cases: int = 0
    on_time: int = 0
    overdue: int = 0


def month_range(month: str) -> tuple[dt.date, dt.date]:
    """``2026-11`` → (1 November, 30 November)."""
    try:
        if not month.isascii() or len(month) != 7:
            raise ValueError(month)
        first = dt.date.fromisoformat(f"{month}-01")
        if not FIRST_YEAR <= first.year <= LAST_YEAR:
            raise ValueError(month)
    except ValueError as err:
        raise Invalid(f"month: {month!r} is not like 2026-11", code="invalid_range") from err
    nxt = (first.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return first, nxt - dt.timedelta(days=1)


def _minute(ctx: HallContext, moment: dt.datetime, day: dt.date) -> int:
    local = ctx.local(moment)
    if local.date() < day:
        return 0
    if local.date() > day:
        return MINUTES
    return local.hour * 60 + local.minute


def counters(ctx: HallContext, first: dt.date, last: dt.date) -> list[dict[str, Any]]:
    """One row per counter for the local days ``first``..``last`` (inclusive)."""
    cfg = ctx.config
    tz = cfg.tz
    lo = dt.datetime.combine(first, dt.time(), tzinfo=tz).astimezone(dt.UTC)
    hi = dt.datetime.combine(last + dt.timedelta(days=1), dt.time(), tzinfo=tz).astimezone(dt.UTC)
    acc: dict[str, _Acc] = defaultdict(_Acc)
    now = ctx.now()
    with ctx.read() as conn:
        tickets = conn.execute(
            select(
                T.c.day, T.c.service, T.c.status, T.c.queue_time, T.c.called_at,
                T.c.started_at, T.c.finished_at, T.c.counter_id, T.c.recall_count, T.c.origin_id,
            ).where(T.c.hall_id == ctx.hall_id, T.c.day >= first, T.c.day <= last)
        ).all()  # fmt: skip
        events = conn.execute(
            select(t.events.c.type, t.events.c.data, t.events.c.created_at)
            .where(
                t.events.c.hall_id == ctx.hall_id,
                t.events.c.created_at >= lo,
                t.events.c.created_at < hi,
                t.events.c.type.in_(
                    ("counter.opened", "counter.resumed", "counter.paused", "counter.closed")
                ),
            )
            .order_by(t.events.c.id)
        ).all()
        pauses = conn.execute(
            select(t.pauses).where(
                t.pauses.c.hall_id == ctx.hall_id,
                t.pauses.c.started_at >= lo,
                t.pauses.c.started_at < hi,
            )
        ).all()
        scores = conn.execute(
            select(t.evaluations.c.counter_id, t.evaluations.c.score).where(
                t.evaluations.c.hall_id == ctx.hall_id,
                t.evaluations.c.created_at >= lo,
                t.evaluations.c.created_at < hi,
            )
        ).all()
        cases = conn.execute(
            select(
                t.cases.c.counter_id, t.cases.c.due_on, t.cases.c.extended_to, t.cases.c.closed_at
            ).where(
                t.cases.c.hall_id == ctx.hall_id,
                t.cases.c.opened_on >= first,
                t.cases.c.opened_on <= last,
            )
        ).all()
        accounts = conn.execute(
            select(
                t.web_accounts.c.display_name, t.web_accounts.c.staff_no, t.web_accounts.c.counters
            ).where(
                t.web_accounts.c.hall_id == ctx.hall_id,
                t.web_accounts.c.role == "counter",
                t.web_accounts.c.active == 1,
            )
        ).all()
    services_of = {c.id: set(c.services) for c in cfg.counters}
    # per day: waiting grid per service, busy and open grid per counter
    waiting: dict[tuple[dt.date, str], Grid] = {}
    busy: dict[tuple[dt.date, str], Grid] = {}
    last_activity: dict[tuple[dt.date, str], int] = {}
    for r in tickets:
        day = r.day
        if r.origin_id is None:
            g = waiting.setdefault((day, r.service), np.zeros(MINUTES, dtype=np.bool_))
            end = r.called_at or r.finished_at or (now if day == ctx.today() else hi)
            g[_minute(ctx, r.queue_time, day) : _minute(ctx, end, day)] = True
        if r.counter_id is None or r.called_at is None:
            continue
        a = acc[r.counter_id]
        a.called += 1
        a.recalls += r.recall_count or 0
        a.no_show += r.status == "no_show"
        a.transferred += r.status == "transferred"
        a.waits.append((r.called_at - r.queue_time).total_seconds())
        stop = r.finished_at or r.called_at
        if r.status in ("done", "transferred") and r.finished_at:
            a.served += r.status == "done"
            a.service_s += (r.finished_at - (r.started_at or r.called_at)).total_seconds()
        b = busy.setdefault((day, r.counter_id), np.zeros(MINUTES, dtype=np.bool_))
        b[_minute(ctx, r.called_at, day) : _minute(ctx, stop, day) + 1] = True
        key = (day, r.counter_id)
        last_activity[key] = max(last_activity.get(key, 0), _minute(ctx, stop, day) + 1)
    opened: dict[tuple[dt.date, str], Grid] = {}
    since: dict[tuple[dt.date, str], int] = {}
    for type_, data, created in events:
        counter = json.loads(data).get("counter")
        if counter is None:
            continue
        day = ctx.local(created).date()
        key = (day, counter)
        minute = _minute(ctx, created, day)
        if type_ in ("counter.opened", "counter.resumed"):
            since.setdefault(key, minute)
        elif key in since:
            g = opened.setdefault(key, np.zeros(MINUTES, dtype=np.bool_))
            g[since.pop(key) : minute] = True
    for key, start in since.items():  # never closed: until its last ticket (or now)
        day, _ = key
        end = _minute(ctx, now, day) if day == ctx.today() else last_activity.get(key, start)
        g = opened.setdefault(key, np.zeros(MINUTES, dtype=np.bool_))
        g[start:end] = True
    for (day, counter), g in opened.items():
        a = acc[counter]
        a.signed_in_min += int(g.sum())
        queue = np.zeros(MINUTES, dtype=np.bool_)
        for svc in services_of.get(counter, ()):
            w = waiting.get((day, svc))
            if w is not None:
                queue |= w
        serving = busy.get((day, counter))
        idle = g & queue if serving is None else g & queue & ~serving
        a.idle_min += int(idle.sum())
    for p in pauses:
        a = acc[p.counter_id]
        a.pauses += 1
        a.paused_s += ((p.ended_at or now) - p.started_at).total_seconds()
        a.reasons[p.reason] += 1
    for counter, score in scores:
        if counter:
            acc[counter].scores.append(score)
    today = ctx.today()
    for counter, due, extended, closed in cases:
        if not counter:
            continue
        a = acc[counter]
        a.cases += 1
        deadline = extended or due
        if closed is not None and ctx.local(closed).date() <= deadline:
            a.on_time += 1
        elif closed is not None or today > deadline:
            a.overdue += 1
    staff: dict[str, list[str]] = defaultdict(list)
    for name, number, bound in accounts:
        for c in bound or ():
            staff[str(c)].append(f"{name}（{number}）" if number else name)
    rows = []
    for c in sorted(cfg.counters, key=lambda c: natural(c.id)):
        a = acc.get(c.id, _Acc())
        n_scores = len(a.scores)
        rows.append(
            {
                "counter": c.id,
                "name": c.name or c.id,
                "staff": "、".join(staff.get(c.id, [])),
                "served": a.served,
                "called": a.called,
                "service_avg_min": round(a.service_s / a.served / 60, 1) if a.served else None,
                "service_total_h": round(a.service_s / 3600, 1),
                "signed_in_min": a.signed_in_min,
                "idle_waiting_min": a.idle_min,
                "pauses": a.pauses,
                "paused_min": round(a.paused_s / 60),
                "pause_reasons": dict(a.reasons),
                "recalls": a.recalls,
                "no_show": a.no_show,
                "transferred": a.transferred,
                "wait_avg_min": round(sum(a.waits) / len(a.waits) / 60, 1) if a.waits else None,
                "evaluations": n_scores,
                "satisfaction_avg": round(sum(a.scores) / n_scores, 2) if n_scores else None,
                "satisfied_pct": (
                    round(100 * sum(s >= 4 for s in a.scores) / n_scores, 1) if n_scores else None
                ),
                "bad_reviews": sum(s <= 2 for s in a.scores),
                "cases": a.cases,
                "cases_on_time": a.on_time,
                "cases_overdue": a.overdue,
            }
        )
    return rows


def period(ctx: HallContext, day: str | None = None, month: str | None = None) -> dict[str, Any]:
    """Rows for one day (``2026-11-23``, default today) or one month (``2026-11``)."""
    if month:
        first, last = month_range(month)
        label = month
    else:
        try:
            first = last = dt.date.fromisoformat(day) if day else ctx.today()
            if not (day is None or day.isascii()) or not FIRST_YEAR <= first.year <= LAST_YEAR:
                raise ValueError(day)
        except ValueError as err:
            raise Invalid(f"day: {day!r} is not like 2026-11-23", code="invalid_range") from err
        label = first.isoformat()
    return {
        "period": label,
        "from": first.isoformat(),
        "to": last.isoformat(),
        "rows": counters(ctx, first, last),
    }

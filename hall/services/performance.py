"""Staff and counter performance from the queue's own records, not cameras: per counter
and per staff member, per day or month — tickets served, service time, time signed in,
idle time while signed in and a queue for its services was waiting, pauses by reason and
length, recalls and no-shows, 好差评 figures and cases.

Signed in: from the counter's events (``counter.opened``/``resumed`` → open,
``counter.paused``/``closed`` → not); a day whose counter was never closed ends at its last
ticket. Idle while the queue waited: open, not serving (called → finished), and some ticket
of its services waiting (issued → called), counted by the minute. Reads only.

The person: an action from the counter page records the signed-in account and its 工号
(:mod:`hall.services.actor`) on the ticket (who last acted on it at the counter: who
served it), on a pause and on the counter's events. A ticket, rating and case count for
that person; a signed-in stretch for whoever opened or resumed the counter. Work done with
a counter device's token has no person: it counts for the counter only.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from hall.domain.limits import FIRST_YEAR, LAST_YEAR
from hall.domain.staffing import natural
from hall.errors import Invalid
from hall.services.context import HallContext
from hall.storage import tables as t

T = t.tickets
MINUTES = 24 * 60
if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

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
METRICS = COLUMNS[COLUMNS.index("served") :]
STAFF_COLUMNS = ("account", "username", "person", "staff_no", "counters", *METRICS)
"""One row per staff member who did counter work in the period."""


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
    counters: set[str] = field(default_factory=set)
    staff_no: str | None = None
    """The 工号 recorded on the person's latest work (the account's own when none)."""

    def metrics(self) -> dict[str, Any]:
        n_scores = len(self.scores)
        return {
            "served": self.served,
            "called": self.called,
            "service_avg_min": (
                round(self.service_s / self.served / 60, 1) if self.served else None
            ),
            "service_total_h": round(self.service_s / 3600, 1),
            "signed_in_min": self.signed_in_min,
            "idle_waiting_min": self.idle_min,
            "pauses": self.pauses,
            "paused_min": round(self.paused_s / 60),
            "pause_reasons": dict(self.reasons),
            "recalls": self.recalls,
            "no_show": self.no_show,
            "transferred": self.transferred,
            "wait_avg_min": (
                round(sum(self.waits) / len(self.waits) / 60, 1) if self.waits else None
            ),
            "evaluations": n_scores,
            "satisfaction_avg": round(sum(self.scores) / n_scores, 2) if n_scores else None,
            "satisfied_pct": (
                round(100 * sum(s >= 4 for s in self.scores) / n_scores, 1) if n_scores else None
            ),
            "bad_reviews": sum(s <= 2 for s in self.scores),
            "cases": self.cases,
            "cases_on_time": self.on_time,
            "cases_overdue": self.overdue,
        }


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
    return figures(ctx, first, last)[0]


def figures(
    ctx: HallContext, first: dt.date, last: dt.date
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(one row per counter, one row per staff member) for the local days ``first``..``last``
    (inclusive). A counter's ``staff`` are the people who did its work in the period."""
    import numpy as np  # here, not at start-up: only the cockpit needs it (the server's RSS)

    cfg = ctx.config
    tz = cfg.tz
    lo = dt.datetime.combine(first, dt.time(), tzinfo=tz).astimezone(dt.UTC)
    hi = dt.datetime.combine(last + dt.timedelta(days=1), dt.time(), tzinfo=tz).astimezone(dt.UTC)
    acc: dict[str, _Acc] = defaultdict(_Acc)
    people: dict[int, _Acc] = defaultdict(_Acc)
    now = ctx.now()
    E, R, K = t.events, t.evaluations, t.cases
    with ctx.read() as conn:
        tickets = conn.execute(
            select(
                T.c.day, T.c.service, T.c.status, T.c.queue_time, T.c.called_at,
                T.c.started_at, T.c.finished_at, T.c.counter_id, T.c.recall_count, T.c.origin_id,
                T.c.staff_account, T.c.staff_no,
            ).where(T.c.hall_id == ctx.hall_id, T.c.day >= first, T.c.day <= last)
            .order_by(T.c.called_at)
        ).all()  # fmt: skip
        events = conn.execute(
            select(E.c.type, E.c.data, E.c.created_at)
            .where(
                E.c.hall_id == ctx.hall_id,
                E.c.created_at >= lo,
                E.c.created_at < hi,
                E.c.type.in_(
                    ("counter.opened", "counter.resumed", "counter.paused", "counter.closed")
                ),
            )
            .order_by(E.c.id)
        ).all()
        pauses = conn.execute(
            select(t.pauses).where(
                t.pauses.c.hall_id == ctx.hall_id,
                t.pauses.c.started_at >= lo,
                t.pauses.c.started_at < hi,
            )
        ).all()
        # a rating or case counts for whoever served its ticket
        scores = conn.execute(
            select(R.c.counter_id, R.c.score, T.c.staff_account)
            .select_from(R.outerjoin(T, T.c.id == R.c.ticket_id))
            .where(R.c.hall_id == ctx.hall_id, R.c.created_at >= lo, R.c.created_at < hi)
        ).all()
        cases = conn.execute(
            select(K.c.counter_id, K.c.due_on, K.c.extended_to, K.c.closed_at, T.c.staff_account)
            .select_from(K.outerjoin(T, T.c.id == K.c.ticket_id))
            .where(K.c.hall_id == ctx.hall_id, K.c.opened_on >= first, K.c.opened_on <= last)
        ).all()
        accounts = {
            r.id: r
            for r in conn.execute(
                select(
                    t.web_accounts.c.id,
                    t.web_accounts.c.username,
                    t.web_accounts.c.display_name,
                    t.web_accounts.c.staff_no,
                ).where(t.web_accounts.c.hall_id == ctx.hall_id)
            )
        }
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
        each = [acc[r.counter_id]]
        if r.staff_account is not None:
            person = people[r.staff_account]
            person.counters.add(r.counter_id)
            person.staff_no = r.staff_no or person.staff_no
            each.append(person)
        stop = r.finished_at or r.called_at
        for a in each:
            a.called += 1
            a.recalls += r.recall_count or 0
            a.no_show += r.status == "no_show"
            a.transferred += r.status == "transferred"
            a.waits.append((r.called_at - r.queue_time).total_seconds())
            if r.status in ("done", "transferred") and r.finished_at:
                a.served += r.status == "done"
                a.service_s += (r.finished_at - (r.started_at or r.called_at)).total_seconds()
        b = busy.setdefault((day, r.counter_id), np.zeros(MINUTES, dtype=np.bool_))
        b[_minute(ctx, r.called_at, day) : _minute(ctx, stop, day) + 1] = True
        key = (day, r.counter_id)
        last_activity[key] = max(last_activity.get(key, 0), _minute(ctx, stop, day) + 1)
    # signed in: per (day, counter), and per (day, counter, person) who opened or resumed it
    opened: dict[tuple[dt.date, str, int | None], Grid] = {}
    since: dict[tuple[dt.date, str], tuple[int, int | None]] = {}
    for type_, data, created in events:
        payload = json.loads(data)
        counter = payload.get("counter")
        if counter is None:
            continue
        day = ctx.local(created).date()
        key = (day, counter)
        minute = _minute(ctx, created, day)
        if type_ in ("counter.opened", "counter.resumed"):
            since.setdefault(key, (minute, (payload.get("staff") or {}).get("account")))
        elif key in since:
            start, who = since.pop(key)
            g = opened.setdefault((day, counter, who), np.zeros(MINUTES, dtype=np.bool_))
            g[start:minute] = True
    for (day, counter), (start, who) in since.items():  # never closed: until its last ticket
        end = (
            _minute(ctx, now, day)
            if day == ctx.today()
            else last_activity.get((day, counter), start)
        )
        g = opened.setdefault((day, counter, who), np.zeros(MINUTES, dtype=np.bool_))
        g[start:end] = True
    # a counter's minutes: the union of its stretches (two people never overlap, but the
    # grids make sure a minute is counted once)
    counter_open: dict[tuple[dt.date, str], Grid] = {}
    counter_idle: dict[tuple[dt.date, str], Grid] = {}
    for (day, counter, who), g in opened.items():
        queue = np.zeros(MINUTES, dtype=np.bool_)
        for svc in services_of.get(counter, ()):
            w = waiting.get((day, svc))
            if w is not None:
                queue |= w
        serving = busy.get((day, counter))
        idle = g & queue if serving is None else g & queue & ~serving
        zeros = np.zeros(MINUTES, dtype=np.bool_)
        counter_open[(day, counter)] = counter_open.get((day, counter), zeros) | g
        counter_idle[(day, counter)] = counter_idle.get((day, counter), zeros) | idle
        if who is not None:
            person = people[int(who)]
            person.counters.add(counter)
            person.signed_in_min += int(g.sum())
            person.idle_min += int(idle.sum())
    for (_, counter), g in counter_open.items():
        acc[counter].signed_in_min += int(g.sum())
    for (_, counter), g in counter_idle.items():
        acc[counter].idle_min += int(g.sum())
    for p in pauses:
        each = [acc[p.counter_id]]
        if p.staff_account is not None:
            people[p.staff_account].counters.add(p.counter_id)
            each.append(people[p.staff_account])
        for a in each:
            a.pauses += 1
            a.paused_s += ((p.ended_at or now) - p.started_at).total_seconds()
            a.reasons[p.reason] += 1
    for counter, score, who in scores:
        if counter:
            acc[counter].scores.append(score)
        if who is not None:
            people[who].scores.append(score)
    today = ctx.today()
    for counter, due, extended, closed, who in cases:
        each = ([acc[counter]] if counter else []) + ([people[who]] if who is not None else [])
        deadline = extended or due
        for a in each:
            a.cases += 1
            if closed is not None and ctx.local(closed).date() <= deadline:
                a.on_time += 1
            elif closed is not None or today > deadline:
                a.overdue += 1

    def label(account: int) -> str:
        row = accounts.get(account)
        name = row.display_name if row is not None else f"#{account}"
        number = people[account].staff_no or (row.staff_no if row is not None else None)
        return f"{name}（{number}）" if number else name

    order = sorted(people, key=lambda a: (accounts[a].username if a in accounts else "", a))
    rows = []
    for c in sorted(cfg.counters, key=lambda c: natural(c.id)):
        a = acc.get(c.id, _Acc())
        names = [label(p) for p in order if c.id in people[p].counters]
        rows.append(
            {"counter": c.id, "name": c.name or c.id, "staff": "、".join(names)} | a.metrics()
        )
    staff_rows = []
    for account in order:
        a = people[account]
        row = accounts.get(account)
        staff_rows.append(
            {
                "account": account,
                "username": row.username if row is not None else None,
                "person": row.display_name if row is not None else f"#{account}",
                "staff_no": a.staff_no or (row.staff_no if row is not None else None),
                "counters": sorted(a.counters, key=natural),
            }
            | a.metrics()
        )
    return rows, staff_rows


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
    rows, staff = figures(ctx, first, last)
    return {
        "period": label,
        "from": first.isoformat(),
        "to": last.isoformat(),
        "rows": rows,
        "staff": staff,
    }

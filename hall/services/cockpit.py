"""The manager's cockpit (管理驾驶舱): the waiting-time promise kept today, the forecast and
staffing plan for the coming working days, "what if", the live advice to open counters
(建议增开窗口) and how well the printed wait range held — all from the hall's own tickets.

Reads only (``ctx.read()``). Aggregates: no personal data is read. The cores are pure
(:mod:`hall.domain.forecast`, :mod:`hall.domain.staffing`, :mod:`hall.domain.simulation`,
:mod:`hall.domain.estimate`); this module loads their inputs and shapes their answers.
"""

from __future__ import annotations

import bisect
import datetime as dt
import random
import threading
import weakref
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from statistics import fmean
from typing import Any

from sqlalchemy import select

from common.i18n import t as text
from hall.config import HallConfig
from hall.domain.estimate import average_service_s, coverage, service_cv, wait_range_s
from hall.domain.staffing import (
    CounterSpec,
    SlotPlan,
    Target,
    counter_hours,
    natural,
    peak_rule,
    plan_day,
    staffed,
)
from hall.domain.tickets import Status
from hall.domain.workdays import is_working_day
from hall.errors import Invalid, NotFound
from hall.services import queries
from hall.services.context import HallContext
from hall.storage import tables as t

T = t.tickets
SERVICE_TIME_DAYS = 56
"""Days of finished tickets the plan's service times are the mean of."""
Skills = dict[str, list[list[str] | None]]
"""Counter id → the services each staff member assigned to it can handle (None: not
recorded)."""


def targets(config: HallConfig) -> dict[str, Target]:
    out = {}
    for s in config.services:
        wait_s, level = config.cockpit.target(s.code)
        out[s.code] = Target(wait_s=wait_s, level=level)
    return out


def counter_specs(config: HallConfig, skills: Skills | None = None) -> list[CounterSpec]:
    """The counters the plan may open, each for the services its staff can handle (see
    :func:`hall.domain.staffing.staffed`; ``skills`` from :func:`staff_skills`)."""
    specs = [CounterSpec(c.id, tuple(c.services)) for c in config.counters]
    return staffed(specs, skills) if skills else specs


def staff_skills(ctx: HallContext) -> Skills:
    """Counter id → the services each active counter account assigned to it can handle
    (``None`` for an account that records none)."""
    A = t.web_accounts
    with ctx.read() as conn:
        rows = conn.execute(
            select(A.c.counters, A.c.services).where(
                A.c.hall_id == ctx.hall_id, A.c.role == "counter", A.c.active == 1
            )
        ).all()
    out: dict[str, list[list[str] | None]] = defaultdict(list)
    for counters, services in rows:
        for c in counters or ():
            out[str(c)].append(list(services) if services else None)
    return dict(out)


# -- history -------------------------------------------------------------------------------


@dataclass
class History:
    arrivals: dict[dt.date, dict[str, dict[int, int]]]
    """Working day → service → slot → citizens who took a ticket (first legs only)."""
    service_s: dict[str, float]
    """Mean observed service time per service (the configured one where none)."""
    first: dt.date | None
    last: dt.date | None


HISTORY_PAGE_DAYS = 14


def load_history(
    ctx: HallContext, days: int | None = None, before: dt.date | None = None
) -> History:
    """The arrivals of the ``days`` calendar days before ``before`` (default: today)."""
    from hall.domain import forecast as fc  # numpy: loaded when the cockpit is used

    before = before or ctx.today()
    days = days or ctx.config.cockpit.history_days
    start = before - dt.timedelta(days=days)
    arrivals: dict[dt.date, dict[str, dict[int, int]]] = {}
    durations: dict[str, list[float]] = defaultdict(list)
    recent = before - dt.timedelta(days=SERVICE_TIME_DAYS)
    tz = ctx.config.tz
    cols = select(
        T.c.day, T.c.service, T.c.issued_at, T.c.origin_id, T.c.status, T.c.called_at,
        T.c.started_at, T.c.finished_at,
    ).where(T.c.hall_id == ctx.hall_id)  # fmt: skip
    first: dt.date | None = None
    last: dt.date | None = None
    # A read of HISTORY_PAGE_DAYS at a time: each read is bounded by the storage timeout,
    # and months of a busy hall's tickets in one took seconds (past days do not change).
    page_start = start
    while page_start < before:
        page_end = min(before, page_start + dt.timedelta(days=HISTORY_PAGE_DAYS))
        q = cols.where(T.c.day >= page_start, T.c.day < page_end)
        page_start = page_end
        with ctx.read() as conn:
            rows = conn.execution_options(yield_per=5000).execute(q)
            for day, service, issued, origin, status, called, started, finished in rows:
                if origin is None:
                    slot = fc.slot_of(issued.astimezone(tz))
                    per = arrivals.setdefault(day, {}).setdefault(service, {})
                    per[slot] = per.get(slot, 0) + 1
                    first = day if first is None or day < first else first
                    last = day if last is None or day > last else last
                if status == Status.DONE.value and finished and called and day >= recent:
                    took = (finished - (started or called)).total_seconds()
                    if 0 < took < 4 * 3600:
                        durations[service].append(took)
    if first is not None and last is not None:  # an open working day nobody came is a 0
        day = first
        while day <= last:
            if is_working_day(day):
                arrivals.setdefault(day, {})
            day += dt.timedelta(days=1)
    service_s = {
        s.code: fmean(durations[s.code]) if len(durations[s.code]) >= 20 else s.avg_service_s
        for s in ctx.config.services
    }
    return History(arrivals, service_s, first, last)


# -- plan ----------------------------------------------------------------------------------

# per hall context (one per server process; tests make many), then per hall and day; with
# the staff's services it was planned for (an account's change is planned for at once)
_CACHE: weakref.WeakKeyDictionary[
    HallContext, dict[tuple[str, dt.date], tuple[dt.datetime, dict[str, Any], Any, Skills]]
] = weakref.WeakKeyDictionary()
_CACHE_LOCK = threading.Lock()
CACHE_S = 900.0


def _build_plan(
    ctx: HallContext, check: bool = True, skills: Skills | None = None
) -> tuple[dict[str, Any], Any]:
    from hall.domain import forecast as fc  # numpy and SimPy: loaded when the cockpit is used
    from hall.domain.simulation import check_plan as sim_check

    cfg = ctx.config
    hist = load_history(ctx)
    codes = [s.code for s in cfg.services]
    result = fc.forecast(hist.arrivals, codes, ctx.today(), cfg.cockpit.forecast_days)
    tg = targets(cfg)
    specs = counter_specs(cfg, staff_skills(ctx) if skills is None else skills)
    days_out = []
    plans_by_day: dict[dt.date, tuple[list[SlotPlan], dict[str, dict[int, float]]]] = {}
    for day in result.days if result.models else ():  # no history: nothing to forecast
        rates = {s: dict(v) for s, v in result.arrivals[day].items() if v}
        plans = plan_day(rates, hist.service_s, tg, specs)
        erlang_hours = counter_hours(plans)
        share = None
        if check and plans:
            plans, share = sim_check(
                plans, specs, rates, hist.service_s, tg, rounds=2, replications=2
            )
        simple = peak_rule(plans, specs)
        plans_by_day[day] = (plans, rates)
        days_out.append(
            {
                "day": day.isoformat(),
                "weekday": day.weekday(),
                "arrivals": round(sum(result.total(day, s) for s in codes)),
                "by_service": {s: round(result.total(day, s), 1) for s in codes if s in rates},
                "counter_hours": counter_hours(plans),
                "erlang_counter_hours": erlang_hours,
                "peak_rule_counter_hours": counter_hours(simple),
                "simulated_share": None if share is None else round(share, 3),
                "slots": [_slot_json(p, rates) for p in plans],
            }
        )
    out = {
        "history": {
            "first": hist.first.isoformat() if hist.first else None,
            "last": hist.last.isoformat() if hist.last else None,
            "days": len(hist.arrivals),
        },
        "service_s": {k: round(v) for k, v in hist.service_s.items()},
        "targets": {k: {"wait_s": v.wait_s, "level": v.level} for k, v in tg.items()},
        "factors": {s: m.factors() for s, m in result.models.items()},
        # how far the forecast was off per slot on the last 4 weeks, fitted without them
        "forecast_error": (
            {k: round(v, 3) for k, v in fc.holdout_error(hist.arrivals, codes).items()}
            if len(hist.arrivals) >= 60
            else {}
        ),
        "days": days_out,
        # the services each counter may be planned for (its staff's, where recorded)
        "counters": {c.id: list(c.services) for c in specs},
    }
    return out, (plans_by_day, hist.service_s)


def _slot_json(p: SlotPlan, rates: Mapping[str, Mapping[int, float]]) -> dict[str, Any]:
    from hall.domain import forecast as fc  # numpy: loaded when the cockpit is used

    return {
        "slot": p.slot,
        "label": fc.slot_label(p.slot),
        "arrivals": {s: round(v.get(p.slot, 0.0), 1) for s, v in rates.items() if v.get(p.slot)},
        "need": {s: n for s, n in p.need.items() if n},
        "open": dict(sorted(p.open.items(), key=lambda kv: natural(kv[0]))),
        "short": p.short,
        "counters": p.counters,
    }


def _cached(ctx: HallContext) -> tuple[dict[str, Any], Any]:
    key = (ctx.hall_id, ctx.today())
    now = ctx.now()
    skills = staff_skills(ctx)
    with _CACHE_LOCK:
        hit = _CACHE.setdefault(ctx, {}).get(key)
        if hit and (now - hit[0]).total_seconds() < CACHE_S and hit[3] == skills:
            return hit[1], hit[2]
    built, state = _build_plan(ctx, skills=skills)
    with _CACHE_LOCK:
        _CACHE[ctx] = {key: (now, built, state, skills)}  # yesterday's plan is dropped
    return built, state


def plan(ctx: HallContext, fresh: bool = False) -> dict[str, Any]:
    """The forecast and staffing plan of the next working days (cached for 15 minutes)."""
    if fresh:
        with _CACHE_LOCK:
            _CACHE.setdefault(ctx, {}).pop((ctx.hall_id, ctx.today()), None)
    return _cached(ctx)[0]


def what_if(ctx: HallContext, day: str, counter_id: str, at: str) -> dict[str, Any]:
    """The plan of ``day`` with ``counter_id`` closing at ``at`` (HH:MM) for the rest of it:
    the share of citizens called within target, per service, before and after (simulated on
    the same citizens, 5 draws of the forecast)."""
    from hall.domain.simulation import close_at, sample_arrivals, schedule_of, simulate

    try:
        if not (day.isascii() and at.isascii()):
            raise ValueError(at)
        when = dt.date.fromisoformat(day)
        hh, mm = (int(x) for x in at.split(":"))
        at_s = float(dt.time(hh, mm).hour * 3600 + mm * 60)
    except ValueError as err:
        raise Invalid("day is YYYY-MM-DD and at is HH:MM", code="invalid_what_if") from err
    if ctx.config.counter(counter_id) is None:
        raise NotFound(f"no counter {counter_id!r}", code="unknown_counter")
    _, (plans_by_day, service_s) = _cached(ctx)
    if when not in plans_by_day:
        raise Invalid(f"{day} is not one of the planned days", code="invalid_what_if")
    plans, rates = plans_by_day[when]
    specs, tg = counter_specs(ctx.config, staff_skills(ctx)), targets(ctx.config)
    base_sched = schedule_of(plans)
    after_sched = close_at(base_sched, counter_id, at_s)
    rng = random.Random(11)
    base: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    after: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for _ in range(5):
        arrivals = sample_arrivals(rates, service_s, rng)
        for sched, acc in ((base_sched, base), (after_sched, after)):
            outcome = simulate(arrivals, specs, sched, ctx.config.policy.aging_bound_s)
            for a, w in zip(outcome.arrivals, outcome.waits, strict=True):
                acc[a.service][1] += 1
                acc[a.service][0] += w is not None and w <= tg[a.service].wait_s

    def share(acc: Mapping[str, list[int]], s: str | None = None) -> float | None:
        ok = sum(v[0] for k, v in acc.items() if s in (None, k))
        n = sum(v[1] for k, v in acc.items() if s in (None, k))
        return round(ok / n, 3) if n else None

    served = set(spec.services) if (spec := ctx.config.counter(counter_id)) else set()
    return {
        "day": when.isoformat(),
        "counter": counter_id,
        "at": f"{hh:02d}:{mm:02d}",
        "base": share(base),
        "after": share(after),
        "by_service": {
            s: {"base": share(base, s), "after": share(after, s)}
            for s in sorted(base)
            if s in served
        },
    }


# -- live ----------------------------------------------------------------------------------


def attainment_today(ctx: HallContext) -> dict[str, Any]:
    """Today's promise: per service, citizens called within target, those who missed it
    (called late, or still waiting past it), and the share of those decided."""
    now = ctx.now()
    tg = targets(ctx.config)
    acc: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])  # ok, missed, waiting in time
    q = select(T.c.service, T.c.status, T.c.queue_time, T.c.called_at).where(
        T.c.hall_id == ctx.hall_id, T.c.day == ctx.today(now), T.c.origin_id.is_(None)
    )
    with ctx.read() as conn:
        rows = conn.execute(q).all()
    for service, status, queued, called in rows:
        target = tg.get(service, Target())
        if called is not None:
            ok = (called - queued).total_seconds() <= target.wait_s
            acc[service][0 if ok else 1] += 1
        elif status == Status.WAITING.value:
            late = (now - queued).total_seconds() > target.wait_s
            acc[service][1 if late else 2] += 1
    by: dict[str, dict[str, Any]] = {}
    for s in ctx.config.services:
        ok, missed, pending = acc.get(s.code, [0, 0, 0])
        by[s.code] = {
            "name": s.name,
            "name_en": s.name_en,
            "within": ok,
            "missed": missed,
            "pending": pending,
            "share": round(ok / (ok + missed), 3) if ok + missed else None,
            "target_min": round(tg[s.code].wait_s / 60),
            "level": tg[s.code].level,
        }
    ok_all = sum(v["within"] for v in by.values())
    decided = ok_all + sum(v["missed"] for v in by.values())
    return {"share": round(ok_all / decided, 3) if decided else None, "by_service": by}


def advice(ctx: HallContext, counter_id: str | None = None) -> list[dict[str, Any]]:
    """建议增开窗口: each service whose queue is heading past its target — people waiting ×
    today's service time ÷ open counters reaching ``[cockpit].advise_at`` of the target —
    with how many more counters would bring it back and which closed or paused counters can
    serve it. ``counter_id``: only the services that counter serves."""
    cfg = ctx.config
    tg = targets(cfg)
    out = []
    # what each counter can serve with its staff (a counter whose staff cannot handle a
    # service is neither counted for it nor recommended for it): the person at an open or
    # paused counter, else everyone assigned to it
    skills = staff_skills(ctx)
    C, A = t.counters, t.web_accounts
    with ctx.read() as conn:
        present = conn.execute(
            select(C.c.id, A.c.services)
            .select_from(C.join(A, A.c.id == C.c.staff_account))
            .where(C.c.hall_id == ctx.hall_id, C.c.state != "closed")
        ).all()
    for counter, services in present:
        skills[counter] = [list(services) if services else None]
    serves = {c.id: set(c.services) for c in counter_specs(cfg, skills)}
    with ctx.read() as conn:
        waiting = queries.waiting_counts(conn, ctx.hall_id)
        states = {
            c: s
            for c, s in conn.execute(
                select(t.counters.c.id, t.counters.c.state).where(
                    t.counters.c.hall_id == ctx.hall_id
                )
            )
        }
        today = ctx.today()
        mine = serves.get(counter_id, set()) if counter_id else None
        for svc in cfg.services:
            n = waiting.get(svc.code, 0)
            if not n or (mine is not None and svc.code not in mine):
                continue
            avg = average_service_s(
                queries.service_times_today(conn, ctx.hall_id, today, svc.code), svc.avg_service_s
            )
            open_n = sum(
                1
                for c in cfg.counters
                if svc.code in serves.get(c.id, ()) and states.get(c.id) == "open"
            )
            est = n * avg / max(1, open_n)
            limit = cfg.cockpit.advise_at * tg[svc.code].wait_s
            if est < limit:
                continue
            need = max(open_n + 1, int(n * avg // limit) + 1)
            can = [
                c.id
                # dedicated counters first: a 综合窗口 stays free for the other queues
                for c in sorted(cfg.counters, key=lambda c: (len(c.services), natural(c.id)))
                if svc.code in serves.get(c.id, ()) and states.get(c.id) != "open"
            ]
            names = [cfg.counter(c).name or c for c in can[: need - open_n]]  # type: ignore[union-attr]
            vars_ = {
                "service": svc.name,
                "waiting": n,
                "minutes": round(est / 60),
                "target": round(tg[svc.code].wait_s / 60),
                "more": need - open_n,
                "counters": "、".join(names) if names else "—",
            }
            vars_en = {
                **vars_,
                "service": svc.name_en or svc.name,
                "counters": ", ".join(names) or "—",
            }
            out.append(
                {
                    "service": svc.code,
                    "waiting": n,
                    "estimated_wait_s": round(est),
                    "target_s": tg[svc.code].wait_s,
                    "open": open_n,
                    "more": need - open_n,
                    "counters": can[: need - open_n],
                    "zh": text("cockpit", "ck_advice", "zh", **vars_),
                    "en": text("cockpit", "ck_advice", "en", **vars_en),
                }
            )
    return out


# -- coverage of the printed range ----------------------------------------------------------


def range_coverage(ctx: HallContext, days: int = 28) -> dict[str, Any]:
    """How often the real wait fell inside the range the hall would have printed, over the
    last ``days`` days: each called ticket's range is rebuilt from what was known when it
    was issued (people ahead of it in its service, the service times finished that day
    before, the counters that had called the service in the 30 minutes before)."""
    today = ctx.today()
    start = today - dt.timedelta(days=days)
    q = (
        select(
            T.c.day, T.c.service, T.c.issued_at, T.c.queue_time, T.c.called_at, T.c.started_at,
            T.c.finished_at, T.c.counter_id, T.c.status, T.c.klass,
        )
        .where(T.c.hall_id == ctx.hall_id, T.c.day >= start, T.c.day <= today)
        .where(T.c.origin_id.is_(None))
        .order_by(T.c.day, T.c.service, T.c.issued_at)
    )  # fmt: skip
    with ctx.read() as conn:
        rows = conn.execute(q).all()
    groups: dict[tuple[dt.date, str], list[Any]] = defaultdict(list)
    for r in rows:
        groups[(r.day, r.service)].append(r)
    level = ctx.config.cockpit.range_level
    cases: list[tuple[float, int, int]] = []
    queued: list[tuple[float, int, int]] = []  # someone ahead: a real range, not "at once"
    per_service: dict[str, list[tuple[float, int, int]]] = defaultdict(list)
    for (_, service), group in groups.items():
        svc = ctx.config.service(service)
        default = svc.avg_service_s if svc else 300.0
        finishes = sorted(
            (r.finished_at, (r.finished_at - (r.started_at or r.called_at)).total_seconds())
            for r in group
            if r.status == Status.DONE.value and r.finished_at and r.called_at
        )
        fin_times = [f for f, _ in finishes]
        calls = sorted((r.called_at, r.counter_id) for r in group if r.called_at and r.counter_id)
        call_times = [c for c, _ in calls]
        called_so_far: list[dt.datetime] = []  # call times of earlier tickets (sorted)
        earlier = 0
        for r in group:
            at = r.issued_at
            # earlier tickets not yet called when this one was issued
            done_before = bisect.bisect_right(called_so_far, at)
            ahead = earlier - done_before
            earlier += 1
            bisect.insort(called_so_far, r.called_at or dt.datetime.max.replace(tzinfo=dt.UTC))
            if r.called_at is None:
                continue
            k = bisect.bisect_left(fin_times, at)
            observed = [d for _, d in finishes[max(0, k - 50) : k]]
            avg = average_service_s(observed, default)
            cv = service_cv(observed)
            lo_i = bisect.bisect_left(call_times, at - dt.timedelta(minutes=30))
            hi_i = bisect.bisect_right(call_times, at)
            open_n = len({c for _, c in calls[lo_i:hi_i]}) or 1
            lo, hi = wait_range_s(ahead, avg, open_n, level, cv)
            case = ((r.called_at - r.queue_time).total_seconds(), lo, hi)
            cases.append(case)
            if ahead >= 1:
                queued.append(case)
            per_service[service].append(case)
    share, n = coverage(cases)
    q_share, q_n = coverage(queued)
    return {
        "level": level,
        "days": days,
        "share": None if share is None else round(share, 3),
        "tickets": n,
        "queued_share": None if q_share is None else round(q_share, 3),
        "queued_tickets": q_n,
        "by_service": {
            s: {
                "share": None if (v := coverage(c))[0] is None else round(v[0] or 0, 3),
                "tickets": v[1],
            }
            for s, c in sorted(per_service.items())
        },
    }


def attainment_between(ctx: HallContext, first: dt.date, last: dt.date) -> dict[str, Any]:
    """The promise over local days ``first``..``last``: per service, citizens (first legs)
    called within target ÷ those called or left waiting (expired, cancelled before a call
    are not counted: they were never called late nor in time)."""
    tg = targets(ctx.config)
    acc: dict[str, list[float]] = defaultdict(lambda: [0, 0])
    waits: dict[str, list[float]] = defaultdict(list)
    q = select(T.c.service, T.c.queue_time, T.c.called_at).where(
        T.c.hall_id == ctx.hall_id,
        T.c.day >= first,
        T.c.day <= last,
        T.c.origin_id.is_(None),
        T.c.called_at.is_not(None),
    )
    with ctx.read() as conn:
        for service, queued, called in conn.execute(q):
            wait = (called - queued).total_seconds()
            acc[service][1] += 1
            acc[service][0] += wait <= tg.get(service, Target()).wait_s
            waits[service].append(wait)
    by = {}
    for s, (ok, n) in sorted(acc.items()):
        w = sorted(waits[s])
        by[s] = {
            "share": round(ok / n, 3) if n else None,
            "called": int(n),
            "wait_avg_min": round(fmean(w) / 60, 1) if w else None,
            "wait_p90_min": round(w[min(len(w) - 1, int(0.9 * len(w)))] / 60, 1) if w else None,
        }
    ok_all = sum(v[0] for v in acc.values())
    n_all = sum(v[1] for v in acc.values())
    return {"share": round(ok_all / n_all, 3) if n_all else None, "by_service": by}

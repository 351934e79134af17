"""A discrete-event simulation (SimPy) of a hall day under the hall's real calling policy
(:func:`hall.domain.policy.choose_next`: classes, aging bound, FIFO; every open counter
calls among all the services it serves, so a 综合窗口 helps whichever queue it can). Used to
check a staffing plan and to answer "what if" (close counter 5 at 11:00 → attainment).

Also a generator of a hall's history with a known arrival process (weekly and month-start
patterns, the day after a holiday, a trend, noise) for tests and the bench. Pure: no I/O,
randomness from a seeded ``random.Random``.
"""

from __future__ import annotations

import datetime as dt
import math
import random
from collections.abc import Generator, Mapping, Sequence
from dataclasses import dataclass, field

import simpy

from hall.domain.forecast import SLOT_MIN
from hall.domain.policy import Candidate, choose_next
from hall.domain.staffing import SLOT_S, CounterSpec, SlotPlan, Target, reassign
from hall.domain.tickets import Klass
from hall.domain.workdays import days_off_before, is_working_day, working_day_of_month

_BASE = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
DEFAULT_TARGET = Target()


@dataclass(frozen=True)
class Arrival:
    t_s: float
    """Seconds after local midnight."""
    service: str
    service_s: float
    """How long this citizen's matter takes at the counter (drawn in advance, so two plans
    are compared on the same citizens)."""
    klass: Klass = Klass.NORMAL


Intervals = Sequence[tuple[float, float]]
"""Open periods of a counter, seconds after local midnight, sorted."""


@dataclass
class Outcome:
    arrivals: Sequence[Arrival]
    waits: list[float | None]
    """Per arrival: seconds until called, None when never called that day."""
    busy_s: dict[str, float] = field(default_factory=dict)
    served_by: list[str | None] = field(default_factory=list)
    """Per arrival: the counter that called it."""

    def attainment(
        self, targets: Mapping[str, Target], default: Target = DEFAULT_TARGET
    ) -> dict[str, dict[int, tuple[int, int]]]:
        """Service → slot → (called within target, arrivals)."""
        out: dict[str, dict[int, tuple[int, int]]] = {}
        for a, w in zip(self.arrivals, self.waits, strict=True):
            slot = int(a.t_s // (SLOT_MIN * 60))
            ok, n = out.setdefault(a.service, {}).get(slot, (0, 0))
            hit = w is not None and w <= targets.get(a.service, default).wait_s
            out[a.service][slot] = (ok + hit, n + 1)
        return out

    def share_within(
        self, targets: Mapping[str, Target], default: Target = DEFAULT_TARGET
    ) -> float:
        """Share of all citizens called within their service's target."""
        if not self.arrivals:
            return 1.0
        hits = sum(
            1
            for a, w in zip(self.arrivals, self.waits, strict=True)
            if w is not None and w <= targets.get(a.service, default).wait_s
        )
        return hits / len(self.arrivals)

    def slots_meeting(
        self, targets: Mapping[str, Target], default: Target = DEFAULT_TARGET
    ) -> tuple[int, int]:
        """(service-slots whose share called within target reaches the level, service-slots
        with arrivals)."""
        met = total = 0
        for service, slots in self.attainment(targets, default).items():
            level = targets.get(service, default).level
            for ok, n in slots.values():
                total += 1
                met += ok / n >= level
        return met, total

    def hall_slots_meeting(
        self, targets: Mapping[str, Target], default: Target = DEFAULT_TARGET
    ) -> tuple[int, int]:
        """(slots in which the share of all citizens called within their service's target
        reaches the lowest level promised, slots with arrivals): the hall's promise per
        half hour, less at the mercy of a service with two citizens in a slot."""
        level = min((t.level for t in targets.values()), default=default.level)
        slots: dict[int, list[int]] = {}
        for a, w in zip(self.arrivals, self.waits, strict=True):
            acc = slots.setdefault(int(a.t_s // (SLOT_MIN * 60)), [0, 0])
            acc[0] += w is not None and w <= targets.get(a.service, default).wait_s
            acc[1] += 1
        return sum(ok / n >= level for ok, n in slots.values()), len(slots)


def simulate(
    arrivals: Sequence[Arrival],
    counters: Sequence[CounterSpec],
    schedule: Mapping[str, Intervals],
    aging_bound_s: float = 1800.0,
) -> Outcome:
    """One day: citizens arrive, each open counter calls the next ticket of its services
    by the hall's policy and serves it; a counter closing finishes its citizen first."""
    env = simpy.Environment()
    order = sorted(range(len(arrivals)), key=lambda i: arrivals[i].t_s)
    waits: list[float | None] = [None] * len(arrivals)
    served_by: list[str | None] = [None] * len(arrivals)
    waiting: dict[int, Candidate] = {}
    idle: dict[str, tuple[float, simpy.Event]] = {}
    specs = {c.id: c for c in counters}
    busy: dict[str, float] = {c.id: 0.0 for c in counters}

    def stamp(t_s: float) -> dt.datetime:
        return _BASE + dt.timedelta(seconds=t_s)

    def source() -> Generator[simpy.Event, object, None]:
        for i in order:
            a = arrivals[i]
            if a.t_s > env.now:
                yield env.timeout(a.t_s - env.now)
            waiting[i] = Candidate(i, a.service, a.klass, stamp(a.t_s))
            ready = [
                (since, cid) for cid, (since, _) in idle.items() if a.service in specs[cid].services
            ]
            if ready:  # the counter idle the longest calls
                _, cid = min(ready)
                idle.pop(cid)[1].succeed()

    def counter(spec: CounterSpec) -> Generator[simpy.Event, object, None]:
        periods = sorted(schedule.get(spec.id, ()))
        for start, end in periods:
            if env.now < start:
                yield env.timeout(start - env.now)
            while env.now < end:
                pick = choose_next(
                    list(waiting.values()), spec.id, spec.services, stamp(env.now), aging_bound_s
                )
                if pick is None:
                    wake = env.event()
                    idle[spec.id] = (env.now, wake)
                    yield wake | env.timeout(end - env.now)
                    idle.pop(spec.id, None)
                    continue
                del waiting[pick.id]
                waits[pick.id] = env.now - arrivals[pick.id].t_s
                served_by[pick.id] = spec.id
                took = arrivals[pick.id].service_s
                busy[spec.id] += took
                yield env.timeout(took)

    env.process(source())
    for spec in counters:
        if schedule.get(spec.id):
            env.process(counter(spec))
    env.run()
    return Outcome(arrivals=arrivals, waits=waits, busy_s=busy, served_by=served_by)


def schedule_of(
    plans: Sequence[SlotPlan], slot_s: float = SLOT_S, overtime_s: float = 4 * 3600.0
) -> dict[str, list[tuple[float, float]]]:
    """A plan as each counter's open periods (consecutive slots merged). The counters open
    in the day's last slot go on until the queue is empty (up to ``overtime_s``): the hall
    serves everyone who took a ticket before closing."""
    out: dict[str, list[tuple[float, float]]] = {}
    ordered = sorted(plans, key=lambda p: p.slot)
    for p in ordered:
        start, end = p.slot * slot_s, (p.slot + 1) * slot_s
        if p is ordered[-1]:
            end += overtime_s
        for cid in p.open:
            periods = out.setdefault(cid, [])
            if periods and periods[-1][1] == start:
                periods[-1] = (periods[-1][0], end)
            else:
                periods.append((start, end))
    return out


def close_at(
    schedule: Mapping[str, Intervals], counter_id: str, at_s: float
) -> dict[str, list[tuple[float, float]]]:
    """What if ``counter_id`` closes at ``at_s`` (seconds after midnight) for the day."""
    out = {c: list(p) for c, p in schedule.items()}
    out[counter_id] = [(s, min(e, at_s)) for s, e in out.get(counter_id, []) if s < at_s]
    return out


def sample_arrivals(
    rates: Mapping[str, Mapping[int, float]],
    service_s: Mapping[str, float],
    rng: random.Random,
    *,
    slot_s: float = SLOT_S,
    cv: float = 1.0,
    priority_share: float = 0.05,
) -> list[Arrival]:
    """Poisson arrivals with the given expected count per slot, service times with mean
    ``service_s`` and coefficient of variation ``cv`` (1: exponential; else lognormal)."""
    out: list[Arrival] = []
    for service, per in sorted(rates.items()):
        mean = service_s.get(service, 300.0)
        for slot, lam in sorted(per.items()):
            for _ in range(poisson(lam, rng)):
                out.append(
                    Arrival(
                        t_s=slot * slot_s + rng.random() * slot_s,
                        service=service,
                        service_s=draw_service(mean, cv, rng),
                        klass=Klass.PRIORITY if rng.random() < priority_share else Klass.NORMAL,
                    )
                )
    out.sort(key=lambda a: a.t_s)
    return out


def draw_service(mean: float, cv: float, rng: random.Random) -> float:
    if cv == 1.0:
        return rng.expovariate(1.0 / mean)
    sigma2 = math.log(1 + cv * cv)
    return rng.lognormvariate(math.log(mean) - sigma2 / 2, math.sqrt(sigma2))


def poisson(lam: float, rng: random.Random) -> int:
    """A Poisson draw (Knuth for small means, a rounded normal for large)."""
    if lam <= 0:
        return 0
    if lam > 50:
        return max(0, round(rng.gauss(lam, math.sqrt(lam))))
    limit, k, p = math.exp(-lam), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


def _pooled(
    plans: Sequence[SlotPlan],
    counters: Sequence[CounterSpec],
    draws: Sequence[Sequence[Arrival]],
    targets: Mapping[str, Target],
    aging_bound_s: float,
) -> dict[str, dict[int, tuple[int, int]]]:
    """Service → slot → (called within target, arrivals) over all ``draws``."""
    pooled: dict[str, dict[int, tuple[int, int]]] = {}
    for arrivals in draws:
        outcome = simulate(arrivals, counters, schedule_of(plans), aging_bound_s)
        for s, slots in outcome.attainment(targets).items():
            for slot, (ok, n) in slots.items():
                o, m = pooled.setdefault(s, {}).get(slot, (0, 0))
                pooled[s][slot] = (o + ok, m + n)
    return pooled


def _misses(
    pooled: Mapping[str, Mapping[int, tuple[int, int]]], targets: Mapping[str, Target]
) -> set[tuple[str, int]]:
    return {
        (s, slot)
        for s, slots in pooled.items()
        for slot, (ok, n) in slots.items()
        if ok / n < targets.get(s, DEFAULT_TARGET).level
    }


def check_plan(
    plans: Sequence[SlotPlan],
    counters: Sequence[CounterSpec],
    rates: Mapping[str, Mapping[int, float]],
    service_s: Mapping[str, float],
    targets: Mapping[str, Target],
    *,
    rounds: int = 4,
    replications: int = 3,
    seed: int = 7,
    aging_bound_s: float = 1800.0,
    cv: float = 1.0,
    trim: bool = False,
) -> tuple[list[SlotPlan], float]:
    """Simulate ``plans`` on ``replications`` draws of the forecast arrivals; where a
    service misses its target in a slot, give it one more counter in that slot (and the slot
    before, where its queue builds) and try again, at most ``rounds`` times. Then (``trim``)
    take one counter from each service in each slot where it and the next slot had every
    citizen called in time, and give back those whose removal made a slot miss (saves
    counter-hours, but fitted to a few draws of the forecast it misses more on the real
    day: bench/cockpit.py prints both; off by default). Returns the
    plans (changed in place) and the simulated share of service-slots meeting the target."""
    rng = random.Random(seed)
    draws = [sample_arrivals(rates, service_s, rng, cv=cv) for _ in range(replications)]
    by_slot = {p.slot: p for p in plans}
    pooled = _pooled(plans, counters, draws, targets, aging_bound_s)
    misses = _misses(pooled, targets)
    for _round in range(rounds):
        if not misses:
            break
        for s, slot in misses:
            for k in (slot, slot - 1):
                if k in by_slot:
                    by_slot[k].need[s] = by_slot[k].need.get(s, 0) + 1
        reassign(plans, counters)
        pooled = _pooled(plans, counters, draws, targets, aging_bound_s)
        misses = _misses(pooled, targets)
    if trim:
        taken: list[tuple[str, int]] = []
        for s, slots in pooled.items():
            for slot, (ok, n) in slots.items():
                nxt = slots.get(slot + 1, (1, 1))
                plan = by_slot.get(slot)
                if plan and plan.need.get(s, 0) >= 1 and ok == n and nxt[0] == nxt[1]:
                    plan.need[s] -= 1
                    taken.append((s, slot))
        if taken:
            reassign(plans, counters)
            trimmed = _pooled(plans, counters, draws, targets, aging_bound_s)
            new = _misses(trimmed, targets) - misses
            if new:  # give back what the new misses' service lost there or just before
                for s, slot in taken:
                    if (s, slot) in new or (s, slot + 1) in new:
                        by_slot[slot].need[s] += 1
                reassign(plans, counters)
                trimmed = _pooled(plans, counters, draws, targets, aging_bound_s)
            if len(_misses(trimmed, targets)) <= len(misses):
                pooled = trimmed
            else:  # the trim cost more than it saved: undo it all
                for s, slot in taken:
                    if (s, slot) not in new and (s, slot + 1) not in new:
                        by_slot[slot].need[s] += 1
                reassign(plans, counters)
                pooled = _pooled(plans, counters, draws, targets, aging_bound_s)
        misses = _misses(pooled, targets)
    total = sum(len(v) for v in pooled.values())
    share = 1 - len(misses) / total if total else 1.0
    return list(plans), share


# -- a hall's history with a known arrival process ----------------------------------------


@dataclass(frozen=True)
class SyntheticService:
    code: str
    per_day: float
    """Mean arrivals on an ordinary Monday at the start of the history."""
    service_s: float
    weekday: tuple[float, float, float, float, float] = (1.25, 1.0, 0.95, 0.9, 0.85)
    month_start: float = 1.0
    """Factor on the first three working days of a month (社保 days)."""
    after_break: float = 1.0
    """Factor on the first working day after three or more days off."""
    trend_per_year: float = 1.0


HALL_PROFILE: dict[int, float] = {
    # 09:00–12:00 and 13:30–17:00, morning peak around 10:00, a smaller one at 14:30
    18: 0.06, 19: 0.10, 20: 0.12, 21: 0.11, 22: 0.09, 23: 0.06,
    27: 0.07, 28: 0.10, 29: 0.10, 30: 0.08, 31: 0.06, 32: 0.05,
}  # fmt: skip


def synthetic_rates(
    svc: SyntheticService,
    day: dt.date,
    origin: dt.date,
    profile: Mapping[int, float] = HALL_PROFILE,
) -> dict[int, float]:
    """The true expected arrivals per slot of ``svc`` on ``day``."""
    total = sum(profile.values())
    mean = svc.per_day * svc.weekday[min(day.weekday(), 4)]
    if 1 <= working_day_of_month(day) <= 3:
        mean *= svc.month_start
    if days_off_before(day) >= 3:
        mean *= svc.after_break
    mean *= svc.trend_per_year ** ((day - origin).days / 365.0)
    return {slot: mean * share / total for slot, share in profile.items()}


def synthetic_history(
    services: Sequence[SyntheticService],
    start: dt.date,
    end: dt.date,
    seed: int = 1,
    noise: float = 0.05,
    profile: Mapping[int, float] = HALL_PROFILE,
) -> dict[dt.date, dict[str, dict[int, int]]]:
    """Arrival counts per working day (start..end inclusive), service and slot: Poisson
    around the true rate, times a day-level noise factor (lognormal, ``noise`` its sigma)."""
    rng = random.Random(seed)
    out: dict[dt.date, dict[str, dict[int, int]]] = {}
    day = start
    while day <= end:
        if is_working_day(day):
            shock = rng.lognormvariate(0.0, noise) if noise else 1.0
            out[day] = {
                s.code: {
                    slot: poisson(lam * shock, rng)
                    for slot, lam in synthetic_rates(s, day, start, profile).items()
                }
                for s in services
            }
        day += dt.timedelta(days=1)
    return out


def arrivals_of(
    counts: Mapping[str, Mapping[int, int]],
    service_s: Mapping[str, float],
    rng: random.Random,
    *,
    slot_s: float = SLOT_S,
    cv: float = 1.0,
) -> list[Arrival]:
    """Citizens for one day's counts (times uniform within their slot)."""
    out = [
        Arrival(slot * slot_s + rng.random() * slot_s, s, draw_service(service_s[s], cv, rng))
        for s, per in counts.items()
        for slot, n in per.items()
        for _ in range(n)
    ]
    out.sort(key=lambda a: a.t_s)
    return out

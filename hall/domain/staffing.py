"""Staffing: how many counters each service needs per slot to meet its waiting-time target
(Erlang C, the M/M/c queue), and which counters to open for it. Pure.

Erlang C is the first estimate: it treats each service as its own queue in steady state
within a slot, with exponential service times. :mod:`hall.domain.simulation` then checks
the plan against the hall's real policy (priorities, 综合窗口 serving several services,
the backlog carried from one slot to the next) and adds counters where it falls short.
"""

from __future__ import annotations

import math
import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field

SLOT_S = 1800.0


@dataclass(frozen=True)
class Target:
    """``level`` of citizens (0–1) called within ``wait_s`` seconds of taking a ticket."""

    wait_s: float = 1200.0
    level: float = 0.9


@dataclass(frozen=True)
class CounterSpec:
    id: str
    services: tuple[str, ...]


def erlang_b(c: int, a: float) -> float:
    """Blocking probability of M/M/c/c with offered load ``a`` Erlangs (stable recursion)."""
    if c < 0 or a < 0:
        raise ValueError("c and a must be non-negative")
    b = 1.0
    for k in range(1, c + 1):
        b = a * b / (k + a * b)
    return b


def erlang_c(c: int, a: float) -> float:
    """Probability that an arrival waits in M/M/c with offered load ``a`` = λ/μ Erlangs;
    1 when the queue is unstable (a ≥ c)."""
    if a <= 0:
        return 0.0
    if c <= a:
        return 1.0
    b = erlang_b(c, a)
    return c * b / (c - a * (1 - b))


def p_called_within(c: int, a: float, service_s: float, t_s: float) -> float:
    """P(wait ≤ t) in M/M/c: 1 − C(c, a)·e^(−(c − a)·t/service)."""
    if a <= 0:
        return 1.0
    if c <= a:
        return 0.0
    return 1.0 - erlang_c(c, a) * math.exp(-(c - a) * t_s / service_s)


def mean_wait_s(c: int, a: float, service_s: float) -> float:
    """Mean wait in M/M/c: C(c, a)·service ÷ (c − a); infinite when unstable."""
    if a <= 0:
        return 0.0
    if c <= a:
        return math.inf
    return erlang_c(c, a) * service_s / (c - a)


def servers_needed(
    arrivals: float, service_s: float, target: Target, slot_s: float = SLOT_S, cap: int = 200
) -> int:
    """The fewest counters for which ``arrivals`` per slot meet ``target`` (0 for none)."""
    if arrivals <= 0:
        return 0
    a = arrivals / slot_s * service_s
    c = max(1, math.floor(a) + 1)
    while c < cap and p_called_within(c, a, service_s, target.wait_s) < target.level:
        c += 1
    return c


def natural(key: str) -> tuple[int, ...] | tuple[str, ...]:
    """Counter ids in human order: 2 before 10."""
    parts = re.findall(r"\d+", key)
    return tuple(int(p) for p in parts) if parts else (key,)


@dataclass
class SlotPlan:
    slot: int
    need: dict[str, int]
    """Counters each service needs (Erlang C, plus what the simulation check added)."""
    open: dict[str, str] = field(default_factory=dict)
    """Counter id → the service it is planned for in this slot."""
    short: dict[str, int] = field(default_factory=dict)
    """Counters a service needs and no free counter can give."""

    @property
    def counters(self) -> int:
        return len(self.open)


def assign(
    need: Mapping[str, int],
    counters: Sequence[CounterSpec],
    prefer: Sequence[str] = (),
) -> tuple[dict[str, str], dict[str, int]]:
    """Which counters to open for ``need``: the scarcest service first (fewest counters
    can serve it), each given the free counters that serve the fewest other services (a
    综合窗口 stays free for whoever else needs it), counters open in the slot before first
    (fewer changes for staff). Returns (counter → service, service → shortfall)."""
    preferred = set(prefer)
    capable = {s: [c for c in counters if s in c.services] for s in need}
    order = sorted(
        (s for s, n in need.items() if n > 0), key=lambda s: (len(capable[s]), -need[s], s)
    )
    taken: dict[str, str] = {}
    short: dict[str, int] = {}
    for s in order:
        free = [c for c in capable[s] if c.id not in taken]
        free.sort(key=lambda c: (c.id not in preferred, len(c.services), natural(c.id)))
        for c in free[: need[s]]:
            taken[c.id] = s
        if need[s] > len(free):
            short[s] = need[s] - len(free)
    return taken, short


def plan_day(
    arrivals: Mapping[str, Mapping[int, float]],
    service_s: Mapping[str, float],
    targets: Mapping[str, Target],
    counters: Sequence[CounterSpec],
    slot_s: float = SLOT_S,
) -> list[SlotPlan]:
    """The Erlang C plan of one day: per slot, counters needed per service and which."""
    slots = sorted({s for per in arrivals.values() for s in per})
    plans: list[SlotPlan] = []
    prev: list[str] = []
    for slot in slots:
        need = {
            svc: servers_needed(
                per.get(slot, 0.0), service_s.get(svc, 300.0), targets.get(svc, Target()), slot_s
            )
            for svc, per in sorted(arrivals.items())
        }
        plan = SlotPlan(slot=slot, need=need)
        plan.open, plan.short = assign(need, counters, prev)
        prev = list(plan.open)
        plans.append(plan)
    return plans


def reassign(plans: Sequence[SlotPlan], counters: Sequence[CounterSpec]) -> None:
    """Counters again for each plan's ``need`` (after the simulation check raised it)."""
    prev: list[str] = []
    for plan in plans:
        plan.open, plan.short = assign(plan.need, counters, prev)
        prev = list(plan.open)


def peak_rule(plans: Sequence[SlotPlan], counters: Sequence[CounterSpec]) -> list[SlotPlan]:
    """The simple rule to compare with: every service gets, all day, the counters its
    busiest slot needs."""
    peak: dict[str, int] = {}
    for p in plans:
        for s, n in p.need.items():
            peak[s] = max(peak.get(s, 0), n)
    out = []
    for p in plans:
        plan = SlotPlan(slot=p.slot, need=dict(peak))
        plan.open, plan.short = assign(peak, counters)
        out.append(plan)
    return out


def counter_hours(plans: Sequence[SlotPlan], slot_s: float = SLOT_S) -> float:
    return sum(p.counters for p in plans) * slot_s / 3600.0


def staffed(
    counters: Sequence[CounterSpec],
    skills: Mapping[str, Sequence[Collection[str] | None]],
) -> list[CounterSpec]:
    """The counters as their staff can run them: each counter keeps the services at least
    one of its staff can handle. ``skills``: counter id → the services of each staff
    member assigned to it (``None``: the account records none, so the member counts as able
    to serve everything the counter serves). A counter nobody is assigned to keeps its
    services; one whose staff handle none of them is left out — it cannot be recommended
    for anything. The order of services and counters is kept."""
    out: list[CounterSpec] = []
    for c in counters:
        staff = skills.get(c.id)
        if not staff or any(s is None for s in staff):
            out.append(c)
            continue
        can = set().union(*(set(s) for s in staff if s is not None))
        services = tuple(s for s in c.services if s in can)
        if services:
            out.append(c if services == c.services else CounterSpec(c.id, services))
    return out

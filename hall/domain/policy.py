"""The calling policy: which waiting ticket a counter gets next.

1. Only tickets of the services the counter serves (and tickets pinned to this counter,
   e.g. sent back here after a transfer; a ticket pinned to another counter is not ours).
2. Higher class first: appointment, then priority (绿色通道), then normal.
3. FIFO by queue time inside a class; the queue time is the original issue time, so a
   transferred or re-queued ticket keeps its place in time.
4. Aging bound: a ticket that has waited at least ``aging_bound_s`` is no longer overtaken;
   aged tickets come first, FIFO among themselves. So a normal ticket is overtaken by
   higher classes for at most the aging bound.

Pure: takes candidates and the time, returns the choice. The storage layer loads the
candidates inside the transaction that then marks the chosen one called.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from hall.domain.tickets import Klass


@dataclass(frozen=True)
class Candidate:
    id: int
    service: str
    klass: Klass
    queue_time: dt.datetime
    pinned_counter: str | None = None


def sort_key(c: Candidate, now: dt.datetime, aging_bound_s: float) -> tuple[int, dt.datetime, int]:
    aged = (now - c.queue_time).total_seconds() >= aging_bound_s
    return (-1 if aged else c.klass.rank, c.queue_time, c.id)


def eligible(c: Candidate, counter_id: str, services: Iterable[str]) -> bool:
    if c.pinned_counter is not None:
        return c.pinned_counter == counter_id
    return c.service in set(services)


def order(
    candidates: Iterable[Candidate], now: dt.datetime, aging_bound_s: float
) -> list[Candidate]:
    """Candidates in calling order."""
    return sorted(candidates, key=lambda c: sort_key(c, now, aging_bound_s))


def choose_next(
    candidates: Sequence[Candidate],
    counter_id: str,
    services: Iterable[str],
    now: dt.datetime,
    aging_bound_s: float,
) -> Candidate | None:
    services = set(services)
    pool = [c for c in candidates if eligible(c, counter_id, services)]
    return min(pool, key=lambda c: sort_key(c, now, aging_bound_s), default=None)


def ahead_of(
    target: Candidate, candidates: Iterable[Candidate], now: dt.datetime, aging_bound_s: float
) -> int:
    """How many waiting tickets of the same queue would be called before ``target``."""
    key = sort_key(target, now, aging_bound_s)
    return sum(
        1
        for c in candidates
        if c.id != target.id
        and c.service == target.service
        and c.pinned_counter == target.pinned_counter
        and sort_key(c, now, aging_bound_s) < key
    )

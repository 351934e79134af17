"""Estimated wait: people ahead × observed service time ÷ counters open for the service."""

from __future__ import annotations

import math
from collections.abc import Iterable
from statistics import fmean


def average_service_s(observed: list[float], default_s: float, min_samples: int = 3) -> float:
    """Today's mean service time once a few are observed; the configured default before.
    Blending avoids wild estimates from the first one or two tickets of the day."""
    if not observed:
        return default_s
    if len(observed) < min_samples:
        weight = len(observed) / min_samples
        return weight * fmean(observed) + (1 - weight) * default_s
    return fmean(observed)


def estimated_wait_s(waiting_ahead: int, avg_service_s: float, open_counters: int) -> int:
    """Seconds until this ticket is called; one counter assumed when none is open yet
    (the hall opens soon; an estimate is more useful than none)."""
    return round(waiting_ahead * avg_service_s / max(1, open_counters))


# -- the printed range ----------------------------------------------------------------------

RANGE_LEVEL = 0.8
"""Nominal share of citizens whose real wait falls inside their printed range."""


def _erlang_cdf(x: float, k: int, theta: float) -> float:
    """P(X ≤ x) for X the sum of ``k`` exponentials of mean ``theta`` (Gamma(k, θ))."""
    if x <= 0:
        return 0.0
    lam = x / theta
    term = math.exp(-lam)  # underflows to 0 for a huge lam: then the cdf is 1
    if term == 0.0:
        log_term, acc = -lam, 0.0
        for i in range(k):
            acc += math.exp(log_term)
            log_term += math.log(lam) - math.log(i + 1)
        return 1.0 - acc
    acc = 0.0
    for i in range(k):
        acc += term
        term *= lam / (i + 1)
    return max(0.0, 1.0 - acc)


def _erlang_quantile(q: float, k: int, theta: float) -> float:
    lo, hi = 0.0, theta * (k + 10 * math.sqrt(k) + 10)
    for _ in range(60):
        mid = (lo + hi) / 2
        if _erlang_cdf(mid, k, theta) < q:
            lo = mid
        else:
            hi = mid
    return hi


def _round_down(seconds: float) -> int:
    minutes = seconds / 60
    step = 5 if minutes >= 10 else 1
    return int(math.floor(minutes / step) * step * 60)


def _round_up(seconds: float) -> int:
    minutes = seconds / 60
    step = 5 if minutes >= 10 else 1
    return int(max(1, math.ceil(minutes / step)) * step * 60)


def wait_range_s(
    waiting_ahead: int, avg_service_s: float, open_counters: int, level: float = RANGE_LEVEL
) -> tuple[int, int]:
    """The range printed on the ticket and shown on the phone (e.g. 10–20 min), seconds.

    This ticket is called after ``waiting_ahead + 1`` counters have finished a citizen;
    with service times of mean ``avg_service_s`` shared by ``open_counters`` that takes a
    Gamma(ahead + 1, service ÷ counters) time, of which the central ``level`` share is the
    range, rounded outwards to minutes (to 5 minutes from 10 minutes on) so a citizen reads
    it at a glance. The hall measures how often real waits fall inside
    (:func:`coverage`)."""
    if not 0 < level < 1:
        raise ValueError("level must be between 0 and 1")
    theta = avg_service_s / max(1, open_counters)
    k = max(0, waiting_ahead) + 1
    tail = (1 - level) / 2
    lo = _erlang_quantile(tail, k, theta)
    hi = _erlang_quantile(1 - tail, k, theta)
    return _round_down(lo), _round_up(hi)


def coverage(cases: Iterable[tuple[float, int, int]]) -> tuple[float | None, int]:
    """(share of (real wait, low, high) with low ≤ real wait ≤ high, how many)."""
    n = inside = 0
    for wait, lo, hi in cases:
        n += 1
        inside += lo <= wait <= hi
    return (inside / n if n else None), n

"""Estimated wait: people ahead × observed service time ÷ counters open for the service."""

from __future__ import annotations

import math
from collections.abc import Iterable
from statistics import NormalDist, fmean


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


def _gamma_p(a: float, x: float) -> float:
    """The regularized lower incomplete gamma function P(a, x) = P(Gamma(a, 1) ≤ x): a
    series below a + 1, Lentz's continued fraction above (Numerical Recipes 6.2)."""
    if x <= 0:
        return 0.0
    log_front = -x + a * math.log(x) - math.lgamma(a)
    if x < a + 1:
        term = total = 1.0 / a
        ap = a
        for _ in range(1000):
            ap += 1
            term *= x / ap
            total += term
            if abs(term) < abs(total) * 1e-13:
                break
        return min(1.0, total * math.exp(log_front))
    tiny = 1e-300
    b = x + 1 - a
    c, d = 1 / tiny, 1 / b
    h = d
    for i in range(1, 1000):
        an = -i * (i - a)
        b += 2
        d = an * d + b
        d = tiny if abs(d) < tiny else d
        c = b + an / c
        c = tiny if abs(c) < tiny else c
        d = 1 / d
        step = d * c
        h *= step
        if abs(step - 1) < 1e-13:
            break
    return max(0.0, 1.0 - math.exp(log_front) * h)


def _gamma_quantile(q: float, shape: float, scale: float) -> float:
    """The ``q`` quantile of Gamma(shape, scale): Newton's method on P from the
    Wilson–Hilferty guess, kept inside a shrinking bracket (a bisection step wherever
    Newton would leave it). It converges in a handful of P evaluations where plain
    bisection took 64 — this runs for every ticket the hall answers."""
    y = _wilson_hilferty(q, shape)
    if shape >= WH_EXACT_SHAPE:
        return y * scale
    lo, hi = 0.0, max(2 * y, shape + 12 * math.sqrt(shape) + 12)
    log_norm = math.lgamma(shape)
    for _ in range(100):
        p = _gamma_p(shape, y)
        if p < q:
            lo = y
        else:
            hi = y
        density = math.exp((shape - 1) * math.log(y) - y - log_norm) if y > 0 else 0.0
        step = (p - q) / density if density > 0 else math.inf
        nxt = y - step
        if not lo < nxt < hi:
            nxt = (lo + hi) / 2
        if abs(nxt - y) <= 1e-12 * max(1.0, y) or hi - lo <= 1e-12 * max(1.0, hi):
            return nxt * scale
        y = nxt
    return y * scale


WH_EXACT_SHAPE = 200.0
"""From this shape on, Wilson–Hilferty alone is within 0.01 % of the quantile (a long queue:
the printed minutes, rounded to 5, never differ) and P's series would take hundreds of
terms per step."""


def _wilson_hilferty(q: float, shape: float) -> float:
    """A first guess at the ``q`` quantile of Gamma(shape, 1) (good from shape ≈ 1 up)."""
    z = NormalDist().inv_cdf(q)
    c = 1 / (9 * shape)
    guess = shape * (1 - c + z * math.sqrt(c)) ** 3
    return guess if guess > 0 else shape * q


def service_cv(observed: list[float], default: float = 1.0, min_samples: int = 10) -> float:
    """The coefficient of variation of service times (σ ÷ mean), from today's once there
    are a few, within 0.3–1.5; ``default`` (1: exponential, the widest usual) before."""
    if len(observed) < min_samples:
        return default
    mean = fmean(observed)
    if mean <= 0:
        return default
    sd = math.sqrt(fmean([(x - mean) ** 2 for x in observed]))
    return min(1.5, max(0.3, sd / mean))


def _round_down(seconds: float) -> int:
    minutes = seconds / 60
    step = 5 if minutes >= 10 else 1
    return int(math.floor(minutes / step) * step * 60)


def _round_up(seconds: float) -> int:
    minutes = seconds / 60
    step = 5 if minutes >= 10 else 1
    return int(max(1, math.ceil(minutes / step)) * step * 60)


def wait_range_s(
    waiting_ahead: int,
    avg_service_s: float,
    open_counters: int,
    level: float = RANGE_LEVEL,
    cv: float = 1.0,
) -> tuple[int, int]:
    """The range printed on the ticket and shown on the phone (e.g. 10–20 min), seconds.

    This ticket is called after ``waiting_ahead + 1`` citizens have finished at the
    ``open_counters`` counters. With service times of mean ``avg_service_s`` and variation
    ``cv`` that takes about a Gamma time of mean (ahead + 1) × service ÷ counters; the
    completions of several counters together vary more like a Poisson stream (cv → 1 as
    counters grow). The range is its central ``level`` share — from 0 to the ``level``
    quantile for the first in line, who is often called at once — rounded outwards to
    minutes (to 5 minutes from 10 minutes on) so a citizen reads it at a glance. The hall
    measures how often real waits fall inside (:func:`coverage`)."""
    if not 0 < level < 1:
        raise ValueError("level must be between 0 and 1")
    counters = max(1, open_counters)
    theta = avg_service_s / counters
    k = max(0, waiting_ahead) + 1
    cv2 = cv * cv + (1 - cv * cv) * (1 - 1 / counters)
    if theta <= 0:  # no service time observed yet, or all of them instant: "shortly"
        return 0, _round_up(0)
    if cv2 <= 0:  # service times that never vary: exactly k of them
        return _round_down(k * theta), _round_up(k * theta)
    shape, scale = k / cv2, theta * cv2
    if waiting_ahead <= 0:
        return 0, _round_up(_gamma_quantile(level, shape, scale))
    tail = (1 - level) / 2
    lo = _gamma_quantile(tail, shape, scale)
    hi = _gamma_quantile(1 - tail, shape, scale)
    return _round_down(lo), _round_up(hi)


def coverage(cases: Iterable[tuple[float, int, int]]) -> tuple[float | None, int]:
    """(share of (real wait, low, high) with low ≤ real wait ≤ high, how many)."""
    n = inside = 0
    for wait, lo, hi in cases:
        n += 1
        inside += lo <= wait <= hi
    return (inside / n if n else None), n

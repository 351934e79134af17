"""Estimated wait: people ahead × observed service time ÷ counters open for the service."""

from __future__ import annotations

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

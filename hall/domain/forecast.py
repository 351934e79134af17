"""Arrivals forecast: tickets per service per 30-minute slot for the coming working days,
from the hall's own history. Pure (numpy only).

The model is deliberately plain, so a manager can be told what it does:

* a day's arrivals of a service = level × weekday factor × month-start factor ×
  after-a-break factor × trend, fitted as a Poisson log-linear model (IRLS, a little ridge)
  on the daily totals of the working days of the history;
* the day is spread over its slots by the service's slot profile (the share of the day's
  arrivals each slot had over the recent weeks), pulled toward the hall's profile (all
  services together) as far as the service's own differences from it are within counting
  noise (:func:`pooled_profiles`): a service of 60 tickets a day has too few in a slot to
  tell its 10:00 share from chance, the hall's thousand a day do not.

Days are working days by the national calendar (:mod:`hall.domain.workdays`: 法定节假日
skipped, 调休 weekends counted). "The first working days of a month" are the 1st and the
2nd–3rd working days (社保 days); "after a break" is the first working day after three or
more days off (a holiday, not an ordinary weekend). A 调休 Saturday or Sunday is taken as a
Friday.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from hall.domain.workdays import days_off_before, is_working_day, working_day_of_month

SLOT_MIN = 30
"""Minutes per forecast slot."""

Counts = Mapping[str, Mapping[int, int]]
"""One day's arrivals: service → slot index (minutes since local midnight // 30) → tickets."""

FEATURES = ("tue", "wed", "thu", "fri", "month_1", "month_2_3", "after_break", "trend")


def slot_of(moment: dt.datetime | dt.time) -> int:
    """The slot index of a local time: 08:45 → 17 (08:30–09:00)."""
    return (moment.hour * 60 + moment.minute) // SLOT_MIN


def slot_label(slot: int) -> str:
    start = slot * SLOT_MIN
    end = start + SLOT_MIN
    return f"{start // 60:02d}:{start % 60:02d}–{end // 60:02d}:{end % 60:02d}"


def next_working_days(after: dt.date, n: int) -> list[dt.date]:
    """The ``n`` working days after ``after`` (``after`` itself not included)."""
    out: list[dt.date] = []
    day = after
    while len(out) < n:
        day += dt.timedelta(days=1)
        if is_working_day(day):
            out.append(day)
    return out


def features(day: dt.date, origin: dt.date) -> list[float]:
    """The model's regressors for ``day`` (intercept first), trend in years from ``origin``."""
    wd = min(day.weekday(), 4)  # a 调休 weekend day works like a Friday
    nth = working_day_of_month(day)
    return [
        1.0,
        *(1.0 if wd == k else 0.0 for k in range(1, 5)),  # Monday is the baseline
        1.0 if nth == 1 else 0.0,
        1.0 if nth in (2, 3) else 0.0,
        1.0 if days_off_before(day) >= 3 else 0.0,
        (day - origin).days / 365.0,
    ]


def poisson_fit(
    x: npt.NDArray[np.float64], y: npt.NDArray[np.float64], ridge: float = 1e-2, steps: int = 25
) -> npt.NDArray[np.float64]:
    """Coefficients of a Poisson log-linear model by iteratively reweighted least squares;
    a small ridge (not on the intercept) keeps a feature the history never shows at 0."""
    k = x.shape[1]
    beta = np.zeros(k)
    beta[0] = math.log(max(float(y.mean()), 1e-6))
    pen = np.eye(k) * ridge
    pen[0, 0] = 0.0
    for _ in range(steps):
        eta = np.clip(x @ beta, -30.0, 30.0)
        mu = np.exp(eta)
        z = eta + (y - mu) / mu
        xw = x * mu[:, None]
        new = np.linalg.solve(xw.T @ x + pen * float(mu.mean()), xw.T @ z)
        if float(np.max(np.abs(new - beta))) < 1e-8:
            return np.asarray(new, dtype=np.float64)
        beta = np.asarray(new, dtype=np.float64)
    return beta


@dataclass(frozen=True)
class ServiceModel:
    """The fitted model of one service."""

    service: str
    coef: tuple[float, ...]
    profile: Mapping[int, float]
    """Share of a day's arrivals per slot (sums to 1)."""
    origin: dt.date
    days: int
    """Working days of history it was fitted on."""

    def daily(self, day: dt.date) -> float:
        eta = sum(c * f for c, f in zip(self.coef, features(day, self.origin), strict=True))
        return math.exp(min(eta, 30.0))

    def factors(self) -> dict[str, float]:
        """Each feature's multiplicative effect (trend: per year), for the cockpit page."""
        return {
            name: round(math.exp(c), 3) for name, c in zip(FEATURES, self.coef[1:], strict=True)
        }


@dataclass(frozen=True)
class Forecast:
    """Expected arrivals: day → service → slot → tickets (floats)."""

    days: tuple[dt.date, ...]
    arrivals: Mapping[dt.date, Mapping[str, Mapping[int, float]]]
    models: Mapping[str, ServiceModel] = field(default_factory=dict)

    def total(self, day: dt.date, service: str) -> float:
        return sum(self.arrivals.get(day, {}).get(service, {}).values())


def fit(
    history: Mapping[dt.date, Counts],
    services: Iterable[str],
    *,
    profile_days: int = 40,
) -> dict[str, ServiceModel]:
    """One model per service from the working days present in ``history`` (a working day
    the hall was open without any arrivals must be given as an empty mapping: a day not
    given is not evidence of anything)."""
    days = sorted(d for d in history if is_working_day(d))
    if not days:
        return {}
    origin = days[0]
    x = np.array([features(d, origin) for d in days], dtype=np.float64)
    models: dict[str, ServiceModel] = {}
    betas: dict[str, npt.NDArray[np.float64]] = {}
    for service in services:
        y = np.array([sum(history[d].get(service, {}).values()) for d in days], dtype=np.float64)
        if float(y.sum()) == 0:
            continue
        if len(days) >= 3 * x.shape[1]:
            beta = poisson_fit(x, y)
        else:  # too short a history for the factors: the mean day
            beta = np.zeros(x.shape[1])
            beta[0] = math.log(float(y.mean()))
        betas[service] = beta
    recent = days[-profile_days:]
    slot_counts: dict[str, dict[int, float]] = {}
    for service in betas:
        slots: dict[int, float] = {}
        for d in recent:
            for slot, n in history[d].get(service, {}).items():
                slots[slot] = slots.get(slot, 0.0) + n
        slot_counts[service] = slots
    profiles = pooled_profiles(slot_counts)
    for service, beta in betas.items():
        models[service] = ServiceModel(
            service=service,
            coef=tuple(float(b) for b in beta),
            profile=profiles[service],
            origin=origin,
            days=len(days),
        )
    return models


def pooled_profiles(counts: Mapping[str, Mapping[int, float]]) -> dict[str, dict[int, float]]:
    """Each service's share of the day per slot, from its arrivals per slot (``counts``:
    service → slot → tickets over the same days), shrunk toward the pooled profile of all
    services by how much its own counts differ from the pooled ones beyond chance.

    With ``n`` tickets spread over ``k`` slots, the service's raw shares ``q`` differ from
    the pooled shares ``P`` by counting noise alone by χ² = n·Σ(q − P)²/P ≈ k − 1 on
    average; the excess estimates the true difference D = max(0, χ² − (k − 1)) / n. The
    estimate (n·q + κ·P) / (n + κ) with κ = (k − 1) / D weighs the two by their errors
    (noise (k − 1)/n against the squared bias D), a James–Stein shrinkage: a service shaped
    like the hall takes the hall's (better counted) shape, one with its own shape keeps it.
    A single service, or one with the pooled shape exactly, gets the pooled shares.

    The pooled shape is taken over the slots the service had arrivals in (a service open
    only in the morning is not given afternoon citizens by the others)."""
    pooled: dict[int, float] = {}
    for per in counts.values():
        for slot, n in per.items():
            pooled[slot] = pooled.get(slot, 0.0) + n
    out: dict[str, dict[int, float]] = {}
    for service, per in counts.items():
        n = sum(per.values())
        support = [slot for slot, v in sorted(per.items()) if v > 0]
        if n <= 0:
            out[service] = {}
            continue
        mass = sum(pooled[slot] for slot in support)
        share = {slot: pooled[slot] / mass for slot in support}
        k = len(share)
        chi2 = sum((per[slot] / n - p) ** 2 / p for slot, p in share.items()) * n
        excess = max(0.0, chi2 - (k - 1)) / n
        if excess == 0.0:
            own = 0.0
        else:
            kappa = (k - 1) / excess
            own = n / (n + kappa)
        out[service] = {slot: own * per[slot] / n + (1.0 - own) * p for slot, p in share.items()}
    return out


def forecast(
    history: Mapping[dt.date, Counts],
    services: Sequence[str],
    after: dt.date,
    n_days: int = 5,
) -> Forecast:
    """Arrivals per service per slot for the ``n_days`` working days after ``after``."""
    models = fit(history, services)
    days = tuple(next_working_days(after, n_days))
    return predict(models, days)


def predict(models: Mapping[str, ServiceModel], days: Sequence[dt.date]) -> Forecast:
    arrivals: dict[dt.date, dict[str, dict[int, float]]] = {}
    for day in days:
        per: dict[str, dict[int, float]] = {}
        for service, m in models.items():
            total = m.daily(day)
            per[service] = {s: total * share for s, share in m.profile.items()}
        arrivals[day] = per
    return Forecast(days=tuple(days), arrivals=arrivals, models=dict(models))


def wape(actual: Iterable[float], predicted: Iterable[float]) -> float:
    """Weighted absolute percentage error Σ|a − p| ÷ Σa (the MAPE of the slots weighted by
    their size: a quiet slot with 1 ticket forecast as 2 is not a 100 % error of the day)."""
    num = den = 0.0
    for a, p in zip(actual, predicted, strict=True):
        num += abs(a - p)
        den += a
    return num / den if den else 0.0


def holdout_error(
    history: Mapping[dt.date, Counts], services: Sequence[str], weeks: int = 4
) -> dict[str, float]:
    """Per service: the slot WAPE of a forecast fitted without the last ``weeks`` weeks and
    checked on them (each held-out day forecast from the history before the split)."""
    days = sorted(d for d in history if is_working_day(d))
    if not days:
        return {}
    split = days[-1] - dt.timedelta(weeks=weeks)
    train = {d: c for d, c in history.items() if d <= split}
    test = [d for d in days if d > split]
    models = fit(train, services)
    result = predict(models, test)
    out: dict[str, float] = {}
    for service in services:
        if service not in models:
            continue
        actual: list[float] = []
        pred: list[float] = []
        for d in test:
            slots = set(history[d].get(service, {})) | set(result.arrivals[d].get(service, {}))
            for s in sorted(slots):
                actual.append(float(history[d].get(service, {}).get(s, 0)))
                pred.append(result.arrivals[d].get(service, {}).get(s, 0.0))
        out[service] = wape(actual, pred)
    return out

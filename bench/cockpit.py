"""The cockpit on a year of a generated hall (issue 22): 22 counters, 9 services, a known
arrival process (weekday, the first working days of the month, the day after a holiday, a
trend, day-level noise) and known service times.

Prints, without asserting (figures depend on the machine and the draw):

* the forecast's error per 30-minute slot on the last 4 weeks held out (WAPE: Σ|error| ÷
  Σ actual, the slot MAPE weighted by size), per service, and which services are busy;
* for the 5 working days after the split: the plan (Erlang C, checked by the simulation)
  followed in a simulation of the *actual* days — share of service-slots meeting the
  promise and counter-hours — beside the simple rule (every service's peak all day);
* how long the forecast, the Erlang C plan and the simulation check take for 5 days.

    .venv/bin/python bench/cockpit.py [--seed N]
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import time

from hall.domain import forecast as fc
from hall.domain.simulation import (
    SyntheticService,
    arrivals_of,
    check_plan,
    schedule_of,
    simulate,
    synthetic_history,
    synthetic_rates,
)
from hall.domain.staffing import CounterSpec, Target, counter_hours, peak_rule, plan_day

SERVICES = [  # code, per day, service s, month start, after a break
    SyntheticService("A", 260, 240, month_start=1.3, after_break=1.25, trend_per_year=1.05),
    SyntheticService("B", 150, 240, month_start=1.2, after_break=1.2),
    SyntheticService("C", 60, 420),
    SyntheticService("D", 30, 900),
    SyntheticService("E", 40, 480),
    SyntheticService("F", 45, 360),
    SyntheticService("G", 14, 1200),
    SyntheticService("H", 35, 540),
    SyntheticService("J", 200, 120, after_break=1.2),
]
COUNTERS = [
    CounterSpec("1", ("A", "B", "C", "E", "J")),  # 综合窗口
    CounterSpec("2", ("A", "B", "C", "E", "J")),
    *(CounterSpec(str(i), ("A",)) for i in range(3, 10)),
    CounterSpec("10", ("B",)),
    CounterSpec("11", ("B",)),
    CounterSpec("12", ("B", "C")),
    CounterSpec("13", ("C",)),
    CounterSpec("14", ("D",)),
    CounterSpec("15", ("D",)),
    CounterSpec("16", ("D", "E")),
    CounterSpec("17", ("E",)),
    CounterSpec("18", ("F",)),
    CounterSpec("19", ("F", "H")),
    CounterSpec("20", ("G",)),
    CounterSpec("21", ("G", "H")),
    CounterSpec("22", ("J",)),
]
TARGET = Target(wait_s=1200, level=0.9)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument(
        "--database",
        action="store_true",
        help="also write a year of the sample hall into a temporary SQLite and time the "
        "cockpit's plan through its service (reading the tickets), as the page does",
    )
    args = parser.parse_args()
    codes = [s.code for s in SERVICES]
    service_s = {s.code: s.service_s for s in SERVICES}
    targets = {c: TARGET for c in codes}
    start, end = dt.date(2025, 11, 3), dt.date(2026, 11, 27)
    t0 = time.perf_counter()
    history = synthetic_history(SERVICES, start, end, seed=args.seed)
    print(f"history: {len(history)} working days {start} … {end}, "
          f"{sum(sum(sum(v.values()) for v in d.values()) for d in history.values())} citizens "
          f"({time.perf_counter() - t0:.1f} s to generate)")  # fmt: skip

    # 1. the forecast's error on the last 4 weeks held out
    t0 = time.perf_counter()
    err = fc.holdout_error(history, codes, weeks=4)
    t_holdout = time.perf_counter() - t0
    days = sorted(history)
    split = days[-1] - dt.timedelta(weeks=4)
    test_days = [d for d in days if d > split]
    print(f"\nforecast error per slot, last 4 weeks held out ({len(test_days)} days), WAPE:")
    for s in SERVICES:
        per_slot = sum(sum(history[d][s.code].values()) for d in test_days) / (
            len(test_days) * len(history[test_days[0]][s.code])
        )
        busy = "busy" if per_slot >= 15 else "    "
        # for scale: the same error of the generator's true rates (what a forecast knowing the
        # expected arrivals exactly would score: the Poisson counts and the day's shock)
        actual = [
            history[d][s.code].get(k, 0) for d in test_days for k in sorted(history[d][s.code])
        ]
        true = [
            synthetic_rates(s, d, start)[k] for d in test_days for k in sorted(history[d][s.code])
        ]
        print(
            f"  {s.code} {busy} {per_slot:5.1f}/slot  WAPE {100 * err[s.code]:5.1f} %"
            f"   (true rates: {100 * fc.wape(actual, true):5.1f} %)"
        )
    print(f"  ({t_holdout:.2f} s)")

    # 2. the plan for the 5 working days after the split, followed on the actual days
    train = {d: c for d, c in history.items() if d <= split}
    plan_days = test_days[:5]
    t0 = time.perf_counter()
    models = fc.fit(train, codes)
    result = fc.predict(models, plan_days)
    t_forecast = time.perf_counter() - t0
    t_erlang = t_sim = 0.0
    rng = random.Random(args.seed)
    tot = {k: [0, 0, 0.0, 0, 0] for k in ("plan", "erlang", "peak", "trimmed")}
    print(
        "\nservice-slots / hall slots meeting the promise, counter-hours, on the actual days:"
        "\nday         plan (checked by simulation) | Erlang C alone         | simple rule"
    )
    for day in plan_days:
        rates = {s: dict(v) for s, v in result.arrivals[day].items()}
        t0 = time.perf_counter()
        plans = plan_day(rates, service_s, targets, COUNTERS)
        t_erlang += time.perf_counter() - t0
        erlang = [type(p)(p.slot, dict(p.need), dict(p.open), dict(p.short)) for p in plans]
        t0 = time.perf_counter()
        plans, _ = check_plan(plans, COUNTERS, rates, service_s, targets)
        t_sim += time.perf_counter() - t0
        trimmed = [type(p)(p.slot, dict(p.need), dict(p.open), dict(p.short)) for p in plans]
        trimmed, _ = check_plan(trimmed, COUNTERS, rates, service_s, targets, rounds=0, trim=True)
        simple = peak_rule(plans, COUNTERS)
        actual = arrivals_of(history[day], service_s, rng)
        row = []
        for name, p in (
            ("plan", plans),
            ("erlang", erlang),
            ("peak", simple),
            ("trimmed", trimmed),
        ):
            outcome = simulate(actual, COUNTERS, schedule_of(p))
            met, n = outcome.slots_meeting(targets)
            hmet, hn = outcome.hall_slots_meeting(targets)
            hours = counter_hours(p)
            acc = tot[name]
            acc[0] += met
            acc[1] += n
            acc[2] += hours
            acc[3] += hmet
            acc[4] += hn
            row.append(f"{100 * met / n:5.1f} % {100 * hmet / hn:5.1f} % {hours:5.1f} h")
        print(f"{day}  {row[0]:>26} | {row[1]:>22} | {row[2]:>22}")
    print("  (trimmed: the plan with counters taken where the simulation had slack)")
    for name in ("plan", "erlang", "peak", "trimmed"):
        met, n, hours, hmet, hn = tot[name]
        print(
            f"  {name:>6}: {100 * met / n:5.1f} % of {n} service-slots, "
            f"{100 * hmet / hn:5.1f} % of {hn} hall slots met; {hours:.0f} counter-hours"
        )
    print(
        f"\ntime for a 5-day plan, 22 counters, 9 services, a year of history: "
        f"forecast {t_forecast:.2f} s + Erlang C {t_erlang:.2f} s + simulation check {t_sim:.2f} s "
        f"= {t_forecast + t_erlang + t_sim:.2f} s"
    )

    if args.database:
        through_the_database(args.seed)


def through_the_database(seed: int) -> None:
    """The sample hall (22 counters, 9 services) with a year of generated days in SQLite:
    the time to read it and plan 5 days, as ``GET /web/api/cockpit/plan`` does."""
    import sys
    import tempfile
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    sys.path.insert(0, str(root))  # tests.support.history: the generated past, as in the tests

    from hall.config import load_config
    from hall.services import cockpit
    from hall.services.context import HallContext
    from hall.storage import migrate
    from hall.storage.engine import make_engine
    from tests.support.history import fill_history, services_for

    config = load_config(root / "common" / "assets" / "hall.sample.toml", demo=True)
    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(f"sqlite:///{tmp}/hall.db")
        migrate.upgrade(engine)
        today = dt.date(2026, 11, 30)
        ctx = HallContext(config, engine, lambda: dt.datetime(2026, 11, 30, 1, 0, tzinfo=dt.UTC))
        ctx.ensure_rows()
        t0 = time.perf_counter()
        first, last = today - dt.timedelta(days=365), today - dt.timedelta(days=1)
        n = fill_history(
            engine, config, first, last, services=services_for(config, scale=0.8), seed=seed
        )
        print(f"\nthe sample hall in SQLite: {n} tickets of a year written in "
              f"{time.perf_counter() - t0:.0f} s")  # fmt: skip
        t0 = time.perf_counter()
        hist = cockpit.load_history(ctx)
        t_read = time.perf_counter() - t0
        t0 = time.perf_counter()
        plan = cockpit.plan(ctx, fresh=True)
        t_plan = time.perf_counter() - t0
        print(
            f"read the history {t_read:.1f} s ({len(hist.arrivals)} days); the 5-day plan "
            f"through cockpit.plan (reading it again, forecast, Erlang C, simulation check) "
            f"{t_plan:.1f} s; days {[d['day'] for d in plan['days']]}"
        )
        engine.dispose()


if __name__ == "__main__":
    main()

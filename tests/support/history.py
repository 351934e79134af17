"""A hall's past, written into its database: months of working days with a known arrival
process (hall.domain.simulation.synthetic_history: weekly and month-start patterns, the
day after a holiday, noise), served by the hall's counters under its real calling policy
(the SimPy day), with ratings, pauses and counter sign-in events. For the cockpit's tests,
the browser tests and bench/cockpit.py.

Rows are inserted directly (a year of days through the write path would take an hour); the
day itself is the simulation of the real policy. No personal data: no ID, no names.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import secrets
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import insert
from sqlalchemy.engine import Engine

from hall.config import HallConfig
from hall.domain.simulation import (
    SyntheticService,
    arrivals_of,
    simulate,
    synthetic_history,
)
from hall.domain.staffing import CounterSpec
from hall.services.context import HallContext
from hall.storage import migrate
from hall.storage import tables as t
from hall.storage.engine import make_engine

OPEN_S = 9 * 3600.0
CLOSE_S = 17 * 3600.0 + 1800.0


def services_for(config: HallConfig, scale: float = 1.0) -> list[SyntheticService]:
    """A plausible process per configured open service: the first (社保) busy with a strong
    month start and after-holiday surge, the others quieter."""
    out = []
    for i, s in enumerate(x for x in config.services if x.open):
        out.append(
            SyntheticService(
                s.code,
                per_day=scale * (220 if i == 0 else 90 if i < 3 else 40),
                service_s=s.avg_service_s,
                month_start=1.6 if i == 0 else 1.15,
                after_break=1.35,
                trend_per_year=1.08,
            )
        )
    return out


def fill_history(
    engine: Engine,
    config: HallConfig,
    start: dt.date,
    end: dt.date,
    *,
    services: Sequence[SyntheticService] | None = None,
    seed: int = 1,
    away: float = 0.1,
) -> int:
    """Tickets, evaluations, pauses and counter events for every working day from ``start``
    to ``end`` (inclusive). ``away``: the chance a counter takes a 15-minute 离岗 pause on
    a day. Returns the tickets written."""
    tz = ZoneInfo(config.timezone)
    rng = random.Random(seed)
    specs = services or services_for(config)
    service_s = {s.code: s.service_s for s in specs}
    counts = synthetic_history(specs, start, end, seed=seed)
    counters = [CounterSpec(c.id, tuple(c.services)) for c in config.counters]
    prefix = {s.code: s.prefix for s in config.services}
    written = 0
    with engine.begin() as conn:
        for day, per in sorted(counts.items()):
            midnight = dt.datetime.combine(day, dt.time(), tzinfo=tz)

            def at(seconds: float, midnight: dt.datetime = midnight) -> dt.datetime:
                return (midnight + dt.timedelta(seconds=seconds)).astimezone(dt.UTC)

            arrivals = arrivals_of(per, service_s, rng, cv=0.6)
            schedule = {c.id: [(OPEN_S, CLOSE_S)] for c in counters}
            breaks: list[dict[str, object]] = []
            events: list[dict[str, object]] = []
            for c in counters:
                if rng.random() < away:  # a 15-minute pause in the morning
                    p0 = OPEN_S + rng.randrange(3600, 9000)
                    schedule[c.id] = [(OPEN_S, p0), (p0 + 900, CLOSE_S)]
                    breaks.append(
                        dict(
                            hall_id=config.hall_id, counter_id=c.id, reason="离岗",
                            started_at=at(p0), ended_at=at(p0 + 900),
                        )
                    )  # fmt: skip
                    for type_, s in (("counter.paused", p0), ("counter.resumed", p0 + 900)):
                        data = {"counter": c.id, **({"reason": "离岗"} if s == p0 else {})}
                        events.append(
                            dict(
                                hall_id=config.hall_id, type=type_,
                                data=json.dumps(data, ensure_ascii=False), created_at=at(s),
                            )
                        )  # fmt: skip
            outcome = simulate(arrivals, counters, schedule, config.policy.aging_bound_s)
            seq: dict[str, int] = {}
            rows = []
            for a, wait, counter in zip(
                outcome.arrivals, outcome.waits, outcome.served_by, strict=True
            ):
                seq[a.service] = seq.get(a.service, 0) + 1
                issued = at(a.t_s)
                called = at(a.t_s + wait) if wait is not None else None
                no_show = called is not None and rng.random() < 0.03
                rows.append(
                    dict(
                        hall_id=config.hall_id, day=day, service=a.service,
                        number=f"{prefix[a.service]}{seq[a.service]:03d}",
                        klass=a.klass.value, status=(
                            "expired" if called is None else "no_show" if no_show else "done"
                        ),
                        issued_at=issued, queue_time=issued, called_at=called,
                        started_at=(
                            called + dt.timedelta(seconds=20) if called and not no_show else None
                        ),
                        finished_at=(
                            called + dt.timedelta(seconds=20 + a.service_s) if called else None
                        ),
                        counter_id=counter, recall_count=2 if no_show else int(rng.random() < 0.1),
                        public_token=secrets.token_urlsafe(18),
                    )
                )  # fmt: skip
            if rows:
                result = conn.execute(insert(t.tickets).returning(t.tickets.c.id), rows)
                ids = list(result.scalars())
                evals = []
                for tid, row in zip(ids, rows, strict=True):
                    if row["status"] == "done" and rng.random() < 0.4:
                        r = rng.random()
                        score = 5 if r < 0.8 else 4 if r < 0.95 else 3 if r < 0.98 else 1
                        evals.append(
                            dict(
                                hall_id=config.hall_id, ticket_id=tid, score=score,
                                service=row["service"], counter_id=row["counter_id"],
                                created_at=row["finished_at"], channel="pad",
                            )
                        )  # fmt: skip
                if evals:
                    eids = list(
                        conn.execute(
                            insert(t.evaluations).returning(t.evaluations.c.id), evals
                        ).scalars()
                    )
                    cases = []
                    for eid, ev in zip(eids, evals, strict=True):
                        if ev["score"] > 2:
                            continue
                        # every 差评 opens a case; most are put right in time, some late
                        late = rng.random() < 0.25
                        due = day + dt.timedelta(days=21)
                        closed = at(3600 * 10, midnight + dt.timedelta(days=25 if late else 7))
                        cases.append(
                            dict(
                                hall_id=config.hall_id, kind="bad_review", status="closed",
                                ticket_id=ev["ticket_id"], evaluation_id=eid,
                                service=ev["service"], counter_id=ev["counter_id"],
                                description="差评整改", opened_on=day, due_on=due,
                                created_by="system", created_at=ev["created_at"],
                                closed_at=closed,
                            )
                        )  # fmt: skip
                    if cases:
                        conn.execute(insert(t.cases), cases)
            if breaks:
                conn.execute(insert(t.pauses), breaks)
            for c in counters:
                for type_, s in (("counter.opened", OPEN_S), ("counter.closed", CLOSE_S)):
                    events.append(
                        dict(
                            hall_id=config.hall_id, type=type_,
                            data=json.dumps({"counter": c.id}), created_at=at(s),
                        )
                    )  # fmt: skip
            conn.execute(insert(t.events), events)
            written += len(rows)
    return written


@contextmanager
def history_hall(
    path: Path, first: dt.date, last: dt.date, services: Sequence[SyntheticService]
) -> Iterator[tuple[HallContext, int]]:
    """The test hall (``tests.support.hall.make_config``) on a fresh SQLite file at ``path``,
    its clock at Mon 23 Nov 2026 09:00, with ``services``' history from ``first`` to
    ``last``: (its context, the tickets written)."""
    from tests.support.clock import FakeClock
    from tests.support.hall import make_config

    engine = make_engine(f"sqlite:///{path}")
    try:
        migrate.upgrade(engine)
        ctx = HallContext(make_config(), engine, FakeClock())
        ctx.ensure_rows()
        yield ctx, fill_history(engine, ctx.config, first, last, services=services)
    finally:
        engine.dispose()

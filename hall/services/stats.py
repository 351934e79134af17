"""Statistics for the hall manager: waits, service times, throughput, no-shows, pauses and
satisfaction (好差评) by service, counter and hour. Aggregates only: no personal data."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections import defaultdict
from statistics import fmean, median
from typing import Any

from sqlalchemy import select

from hall.domain.limits import FIRST_YEAR, LAST_YEAR
from hall.domain.tickets import Status
from hall.errors import Invalid
from hall.schemas import Figures, Stats
from hall.services.context import HallContext
from hall.storage import tables as t

T = t.tickets
METRICS = (
    "issued",
    "called",
    "served",
    "no_show",
    "transferred",
    "expired",
    "face_verified",
    "manual_verification",
    "waiting_now",
    "wait_avg_s",
    "wait_p50_s",
    "wait_p90_s",
    "wait_max_s",
    "service_avg_s",
    "evaluations",
    "satisfaction_avg",
    "satisfied_pct",
    "pauses",
    "paused_s",
)


def _pct(values: list[float], q: float) -> float | None:
    if not values:
        return None
    s = sorted(values)
    return s[min(len(s) - 1, int(q * len(s)))]


class _Acc:
    def __init__(self) -> None:
        self.issued = self.called = self.served = self.no_show = self.transferred = 0
        self.expired = 0
        self.face_verified = self.manual_verification = 0
        self.waiting_now = 0
        self.waits: list[float] = []
        self.service: list[float] = []
        self.scores: list[int] = []
        self.pauses = 0
        self.paused_s = 0.0

    def result(self) -> Figures:
        r2 = lambda v: None if v is None else round(v, 1)  # noqa: E731
        return Figures.model_validate(
            {
                "issued": self.issued,
                "called": self.called,
                "served": self.served,
                "no_show": self.no_show,
                "transferred": self.transferred,
                "expired": self.expired,
                "face_verified": self.face_verified,
                "manual_verification": self.manual_verification,
                "waiting_now": self.waiting_now,
                "wait_avg_s": r2(fmean(self.waits)) if self.waits else None,
                "wait_p50_s": r2(median(self.waits)) if self.waits else None,
                "wait_p90_s": r2(_pct(self.waits, 0.9)),
                "wait_max_s": r2(max(self.waits)) if self.waits else None,
                "service_avg_s": r2(fmean(self.service)) if self.service else None,
                "evaluations": len(self.scores),
                "satisfaction_avg": round(fmean(self.scores), 2) if self.scores else None,
                "satisfied_pct": (
                    round(100 * sum(s >= 4 for s in self.scores) / len(self.scores), 1)
                    if self.scores
                    else None
                ),
                "pauses": self.pauses,
                "paused_s": round(self.paused_s),
            }
        )


def parse_range(
    ctx: HallContext, start: str | None, end: str | None
) -> tuple[dt.datetime, dt.datetime]:
    """``from``/``to`` as local dates (2026-11-23, ``to`` inclusive) or ISO datetimes;
    default today."""

    def midnight(day: dt.date) -> dt.datetime:
        return dt.datetime.combine(day, dt.time(), tzinfo=ctx.config.tz)

    def parse(value: str, is_end: bool) -> dt.datetime:
        name = "to" if is_end else "from"
        try:
            if not value.isascii():  # ２０２６-… or another script's digits
                raise ValueError(value)
            if len(value) == 10:
                day = dt.date.fromisoformat(value)
                moment = midnight(day)
            else:
                moment = dt.datetime.fromisoformat(value)
        except ValueError as err:
            raise Invalid(
                f"{name}: {value!r} is not a date (YYYY-MM-DD) or ISO date-time",
                code="invalid_range",
            ) from err
        # checked on the year before any arithmetic: 9999-12-31 + 1 day would overflow
        if not FIRST_YEAR <= moment.year <= LAST_YEAR:
            raise Invalid(
                f"{name}: {value!r} is not in the years {FIRST_YEAR}–{LAST_YEAR}",
                code="invalid_range",
            )
        if len(value) == 10 and is_end:
            moment = midnight(moment.date() + dt.timedelta(days=1))
        return moment if moment.tzinfo else moment.replace(tzinfo=ctx.config.tz)

    today = ctx.today()
    lo = parse(start, False) if start else midnight(today)
    hi = parse(end, True) if end else midnight(today + dt.timedelta(days=1))  # to: today
    if hi <= lo:
        raise Invalid("to must be after from", code="invalid_range")
    if hi - lo > dt.timedelta(days=366):
        raise Invalid("a range of at most one year", code="invalid_range")
    return lo.astimezone(dt.UTC), hi.astimezone(dt.UTC)


def compute(ctx: HallContext, start: str | None = None, end: str | None = None) -> Stats:
    lo, hi = parse_range(ctx, start, end)
    by: dict[str, dict[str, _Acc]] = {
        "service": defaultdict(_Acc),
        "counter": defaultdict(_Acc),
        "hour": defaultdict(_Acc),
    }
    total = _Acc()
    with ctx.read() as conn:
        rows = conn.execute(
            select(T).where(T.c.hall_id == ctx.hall_id, T.c.issued_at >= lo, T.c.issued_at < hi)
        ).all()
        ev = t.evaluations
        scores = conn.execute(
            select(ev.c.service, ev.c.counter_id, ev.c.score, ev.c.created_at).where(
                ev.c.hall_id == ctx.hall_id, ev.c.created_at >= lo, ev.c.created_at < hi
            )
        ).all()
        p = t.pauses
        pauses = conn.execute(
            select(p).where(
                p.c.hall_id == ctx.hall_id,
                p.c.started_at < hi,
                (p.c.ended_at.is_(None)) | (p.c.ended_at >= lo),
            )
        ).all()
    now = ctx.now()
    for r in rows:
        # A transferred ticket continues as a new row: the citizen is counted (issued,
        # waited) once, where they first queued; service work is counted on every leg.
        first_leg = r.origin_id is None
        queue_accs = [
            total,
            by["service"][r.service],
            by["hour"][f"{ctx.local(r.issued_at).hour:02d}"],
        ]
        for a in queue_accs:
            a.issued += first_leg
            a.waiting_now += r.status == Status.WAITING.value
            a.expired += r.status == Status.EXPIRED.value
            if first_leg:  # consent given and checked, or 人工核验: counted, nothing kept
                a.face_verified += r.verification == "face"
                a.manual_verification += r.verification == "manual"
            if r.called_at and first_leg:
                a.waits.append((r.called_at - r.queue_time).total_seconds())
        work_accs = [*queue_accs, *([by["counter"][r.counter_id]] if r.counter_id else [])]
        for a in work_accs:
            a.called += r.called_at is not None
            a.served += r.status == Status.DONE.value
            a.no_show += r.status == Status.NO_SHOW.value
            a.transferred += r.status == Status.TRANSFERRED.value
            if (
                r.finished_at
                and r.called_at
                and r.status in (Status.DONE.value, Status.TRANSFERRED.value)
            ):
                a.service.append((r.finished_at - (r.started_at or r.called_at)).total_seconds())
    for service, counter, score, created in scores:
        for a in (total, by["service"][service], by["hour"][f"{ctx.local(created).hour:02d}"]):
            a.scores.append(score)
        if counter:
            by["counter"][counter].scores.append(score)
    for pz in pauses:
        span = (min(pz.ended_at or now, hi) - max(pz.started_at, lo)).total_seconds()
        for a in (total, by["counter"][pz.counter_id]):
            a.pauses += 1
            a.paused_s += max(0.0, span)
    return Stats.model_validate(
        {
            "from": ctx.local(lo).isoformat(),
            "to": ctx.local(hi).isoformat(),
            "total": total.result(),
            "by_service": {k: v.result() for k, v in sorted(by["service"].items())},
            "by_counter": {
                k: v.result()
                for k, v in sorted(by["counter"].items(), key=lambda kv: _natural(kv[0]))
            },
            "by_hour": {k: v.result() for k, v in sorted(by["hour"].items())},
        }
    )


def _natural(key: str) -> tuple[int, str]:
    return (int(key), "") if key.isdigit() else (10**9, key)


def to_csv(stats: Stats) -> str:
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(["dimension", "key", *METRICS])
    w.writerow(["total", "", *_cells(stats.total)])
    for dim, rows in (
        ("service", stats.by_service),
        ("counter", stats.by_counter),
        ("hour", stats.by_hour),
    ):
        for key, figures in rows.items():
            w.writerow([dim, key, *_cells(figures)])
    return out.getvalue()


def _cells(figures: Figures) -> list[str]:
    values = figures.model_dump()
    return [_cell(values[m]) for m in METRICS]


def _cell(v: Any) -> str:
    return "" if v is None else str(v)

"""The public monthly figures of 好差评 (no login): for the hall and each department, the
indicator values GB/T 39734 Annex B says are disclosed. Ratings upheld on appeal are left
out of the figures (they stay in the ledger). 整改率 on time counts the 差评 whose 整改
can be judged: closed, or past their deadline (one still within it is not yet late)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from sqlalchemy import select

from hall.domain.evaluation import CaseKind, Grade, Step, appeal_state, grade_of
from hall.domain.limits import FIRST_YEAR, LAST_YEAR
from hall.errors import Invalid
from hall.schemas import PublicEvaluations, PublicFigures
from hall.services.context import HallContext
from hall.storage import tables as t


def month_bounds(ctx: HallContext, month: str) -> tuple[dt.datetime, dt.datetime]:
    try:
        if len(month) != 7 or not month.isascii():
            raise ValueError(month)
        first = dt.date(int(month[:4]), int(month[5:7]), 1)
    except ValueError as err:
        raise Invalid(f"month: {month!r} is not YYYY-MM", code="invalid_range") from err
    if not FIRST_YEAR <= first.year <= LAST_YEAR:
        raise Invalid(f"month: {month!r} is out of range", code="invalid_range")
    nxt = (first + dt.timedelta(days=32)).replace(day=1)
    tz = ctx.config.tz
    return (
        dt.datetime.combine(first, dt.time(), tzinfo=tz).astimezone(dt.UTC),
        dt.datetime.combine(nxt, dt.time(), tzinfo=tz).astimezone(dt.UTC),
    )


class _Acc:
    def __init__(self) -> None:
        self.grades: list[Grade] = []
        self.cases = 0
        self.due = 0  # closed, or past the deadline: the ones whose 整改 can be judged
        self.on_time = 0
        self.with_contact = 0
        self.followed_up = 0

    def result(self) -> PublicFigures:
        n = len(self.grades)
        good = self.grades.count(Grade.GOOD)

        def pct(part: int, whole: int) -> float | None:
            return round(100 * part / whole, 1) if whole else None

        return PublicFigures(
            ratings=n,
            good=good,
            neutral=self.grades.count(Grade.NEUTRAL),
            bad=self.grades.count(Grade.BAD),
            good_rate_pct=pct(good, n),
            bad_cases=self.cases,
            rectified_on_time_pct=pct(self.on_time, self.due),
            followed_up_pct=pct(self.followed_up, self.with_contact),
        )


def monthly(ctx: HallContext, month: str) -> PublicEvaluations:
    lo, hi = month_bounds(ctx, month)
    e, c, s = t.evaluations, t.cases, t.case_steps
    with ctx.read() as conn:
        ratings = conn.execute(
            select(e.c.id, e.c.score, e.c.service).where(
                e.c.hall_id == ctx.hall_id, e.c.created_at >= lo, e.c.created_at < hi
            )
        ).all()
        bad = conn.execute(
            select(c).where(
                c.c.hall_id == ctx.hall_id,
                c.c.kind == CaseKind.BAD_REVIEW.value,
                c.c.created_at >= lo,
                c.c.created_at < hi,
            )
        ).all()
        done: dict[int, list[tuple[str, dict[str, object]]]] = defaultdict(list)
        for st in conn.execute(
            select(s.c.case_id, s.c.step, s.c.fields)
            .where(s.c.case_id.in_([b.id for b in bad]))
            .order_by(s.c.id)
        ):
            done[st.case_id].append((st.step, dict(st.fields or {})))
    steps = {case: {step for step, _ in ds} for case, ds in done.items()}
    upheld = {case for case, ds in done.items() if appeal_state(ds) == "upheld"}
    removed = {b.evaluation_id for b in bad if b.id in upheld}
    today = ctx.today(ctx.now())
    total, by = _Acc(), defaultdict[str, _Acc](_Acc)
    for r in ratings:
        if r.id in removed:
            continue
        for acc in (total, by[r.service]):
            acc.grades.append(grade_of(r.score))
    for b in bad:
        if b.id in upheld:
            continue
        deadline = b.extended_to or b.due_on
        closed_on = ctx.local(b.closed_at).date() if b.closed_at else None
        for acc in (total, by[b.service or ""]):
            acc.cases += 1
            acc.due += closed_on is not None or today > deadline
            acc.on_time += closed_on is not None and closed_on <= deadline
            acc.with_contact += b.contact is not None
            acc.followed_up += b.contact is not None and Step.FOLLOW_UP.value in steps.get(b.id, ())
    return PublicEvaluations(
        hall=ctx.config.name,
        month=month,
        total=total.result(),
        by_service={k: v.result() for k, v in sorted(by.items()) if k},
    )

"""Rating integrity for the dashboard (好差评): a month's ratings per staff member through
the pure checks of :mod:`hall.domain.integrity`, beside the cases' state the dashboard
shows (overdue, 回访 of the 差评 that left a contact)."""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict

from sqlalchemy import select

from hall.domain.evaluation import CaseKind, CaseStatus, Step, appeal_state
from hall.domain.integrity import CheckFact, RatingFact, Thresholds, assess
from hall.schemas import IntegrityFinding, IntegrityReport, StaffIntegrityOut
from hall.services import cases
from hall.services.context import HallContext
from hall.services.public import month_bounds
from hall.storage import tables as t

E, T, K, A = t.evaluations, t.tickets, t.rating_checks, t.web_accounts


def _staff(account: str | None, counter: str | None) -> str:
    return account or f"counter-{counter or '?'}"


def month_report(ctx: HallContext, month: str, limits: Thresholds | None = None) -> IntegrityReport:
    lo, hi = month_bounds(ctx, month)
    with ctx.read() as conn:
        rows = conn.execute(
            select(
                E.c.staff,
                E.c.counter_id,
                E.c.ticket_id,
                E.c.channel,
                E.c.score,
                E.c.created_at,
                T.c.called_at,
                T.c.started_at,
                T.c.finished_at,
            )
            .join(T, (T.c.id == E.c.ticket_id) & (T.c.hall_id == E.c.hall_id))
            .where(E.c.hall_id == ctx.hall_id, E.c.created_at >= lo, E.c.created_at < hi)
        ).all()
        checks = conn.execute(
            select(E.c.staff, E.c.counter_id, K.c.ticket_id, E.c.score, K.c.score.label("phone"))
            .join(E, E.c.id == K.c.evaluation_id)
            .where(K.c.hall_id == ctx.hall_id, K.c.created_at >= lo, K.c.created_at < hi)
        ).all()
        names = {
            r.username: r.display_name
            for r in conn.execute(
                select(A.c.username, A.c.display_name).where(A.c.hall_id == ctx.hall_id)
            )
        }
    # a rating no account asked (phone, kiosk, API) goes to whoever worked that counter's
    # pad that day: the citizen rated the staff member who served them
    worked: dict[tuple[str | None, str], Counter[str]] = defaultdict(Counter)
    for r in rows:
        if r.staff:
            worked[(r.counter_id, f"{ctx.local(r.created_at):%Y%m%d}")][r.staff] += 1

    def who(account: str | None, counter: str | None, at: dt.datetime) -> str:
        if account:
            return account
        seen = worked.get((counter, f"{ctx.local(at):%Y%m%d}"))
        return seen.most_common(1)[0][0] if seen else _staff(None, counter)

    facts = [
        RatingFact(
            staff=who(r.staff, r.counter_id, r.created_at),
            ticket=r.ticket_id,
            channel=r.channel or "api",
            score=r.score,
            rated_at=r.created_at,
            finished_at=r.finished_at,
            service_s=(
                (r.finished_at - (r.started_at or r.called_at)).total_seconds()
                if r.finished_at and (r.started_at or r.called_at)
                else None
            ),
        )
        for r in rows
    ]
    check_facts = [
        CheckFact(_staff(c.staff, c.counter_id), c.ticket_id, c.score, c.phone) for c in checks
    ]  # a check is of a pad rating, which names its account
    staff = [
        StaffIntegrityOut(
            staff=s.staff,
            name=names.get(s.staff, s.staff),
            ratings=s.ratings,
            mean=s.mean,
            findings=[
                IntegrityFinding(pattern=f.pattern.value, count=f.count, of=f.of, detail=f.detail)
                for f in s.findings
            ],
        )
        for s in assess(facts, check_facts, limits)
    ]
    open_ = cases.list_cases(ctx, status=CaseStatus.OPEN)
    bad = [
        c
        for c in cases.list_cases(ctx, kind=CaseKind.BAD_REVIEW)
        if c.contact_masked
        and c.opened_on[:7] == month
        # as on the public page: a rating removed on appeal is followed up by nobody
        and appeal_state([(st.step, st.fields) for st in c.steps]) != "upheld"
    ]
    return IntegrityReport(
        month=month,
        staff=staff,
        open_cases=len(open_),
        overdue_cases=sum(c.overdue for c in open_),
        bad_with_contact=len(bad),
        followed_up=sum(any(s.step == Step.FOLLOW_UP.value for s in c.steps) for c in bad),
    )

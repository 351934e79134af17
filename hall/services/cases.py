"""One hub for 差评, 办不成事, complaints and suggestions, each with a working-day deadline
that someone must close (GB/T 36113 受理 → 调查 → 处置 → 意见反馈 → 归档; for a 差评 核实 →
整改 → 回访 → 申诉复核). Every step is recorded with who, when and what, and goes to the
outbox for the province."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from typing import Any

from sqlalchemy import Connection, insert, select, update

from common.personal import mask_phone
from hall.domain.evaluation import GUIDANCE, CaseKind, CaseStatus, Referral, Step, appeal_state
from hall.domain.workdays import add_working_days
from hall.errors import Conflict, Invalid, NotFound
from hall.schemas import Case, CaseStepOut
from hall.services import outbox
from hall.services.context import HallContext, Tx
from hall.services.public import month_bounds
from hall.storage import tables as t
from hall.storage.rows import CaseRow

C, S = t.cases, t.case_steps


def open_case(
    ctx: HallContext,
    tx: Tx,
    *,
    kind: CaseKind,
    description: str,
    by: str,
    ticket_id: int | None = None,
    evaluation_id: int | None = None,
    service: str | None = None,
    counter_id: str | None = None,
    contact: str | None = None,
) -> int:
    """A new case in this transaction; due on the configured working day after today."""
    opened = ctx.today(tx.now)
    due = add_working_days(opened, ctx.config.cases.days_for(kind.value))
    case_id: int = tx.conn.execute(
        insert(C)
        .values(
            hall_id=ctx.hall_id,
            kind=kind.value,
            status=CaseStatus.OPEN.value,
            ticket_id=ticket_id,
            evaluation_id=evaluation_id,
            service=service,
            counter_id=counter_id,
            contact=contact,
            description=description,
            opened_on=opened,
            due_on=due,
            created_by=by,
            created_at=tx.now,
        )
        .returning(C.c.id)
    ).scalar_one()
    outbox.add(
        tx,
        f"case-{case_id}-open",
        "case.opened",
        {
            "case": case_id,
            "kind": kind.value,
            "ticket": ticket_id,
            "service": service,
            "opened_on": opened.isoformat(),
            "due_on": due.isoformat(),
        },
    )
    tx.emit("case.opened", {"case": case_id, "kind": kind.value, "due_on": due.isoformat()})
    return case_id


def create(
    ctx: HallContext,
    *,
    kind: CaseKind,
    description: str,
    by: str,
    ticket_id: int | None = None,
    service: str | None = None,
    contact: str | None = None,
) -> Case:
    if service is not None and ctx.config.service(service) is None:
        raise NotFound(f"no service with code {service!r}", code="unknown_service")
    with ctx.write() as tx:
        counter = None
        if ticket_id is not None:
            row = tx.conn.execute(
                select(t.tickets.c.service, t.tickets.c.counter_id).where(
                    t.tickets.c.hall_id == ctx.hall_id, t.tickets.c.id == ticket_id
                )
            ).first()
            if row is None:
                raise NotFound(f"no ticket with id {ticket_id}", code="ticket_not_found")
            service, counter = service or row.service, row.counter_id
        case_id = open_case(
            ctx,
            tx,
            kind=kind,
            description=description,
            by=by,
            ticket_id=ticket_id,
            service=service,
            counter_id=counter,
            contact=contact,
        )
        return _case(ctx, tx.conn, case_id, tx.now)


def add_step(
    ctx: HallContext,
    case_id: int,
    *,
    step: Step,
    note: str,
    by: str,
    fields: dict[str, Any] | None = None,
    extend_to: dt.date | None = None,
) -> Case:
    """Record a step. ``extend``: once, with a reason (the note) and a later working day;
    ``close`` archives the case, ``refer`` records it as referred (涉法/涉诉/信访)."""
    with ctx.write() as tx:
        found = tx.conn.execute(
            select(C).where(C.c.hall_id == ctx.hall_id, C.c.id == case_id)
        ).first()
        if found is None:
            raise NotFound(f"no case {case_id}", code="case_not_found")
        row = CaseRow.of(found)
        # an appeal of the rating (申诉复核) may come after the case was archived
        late_appeal = step is Step.APPEAL and row.status == CaseStatus.CLOSED.value
        if row.status != CaseStatus.OPEN.value and not late_appeal:
            raise Conflict(f"case {case_id} is {row.status}", code="case_closed")
        _check_step(tx.conn, row, step, fields or {})
        changes: dict[str, Any] = {}
        if step is Step.EXTEND:
            if row.extended_to is not None:
                raise Conflict(f"case {case_id} was extended already", code="already_extended")
            if extend_to is None or extend_to <= row.due_on or not note.strip():
                raise Invalid(
                    "an extension needs a reason and a new date after the due date",
                    code="bad_extension",
                )
            changes = {"extended_to": extend_to, "extension_reason": note}
        elif step is Step.CLOSE:
            changes = {"status": CaseStatus.CLOSED.value, "closed_at": tx.now}
        elif step is Step.REFER:
            changes = {"status": CaseStatus.REFERRED.value, "closed_at": tx.now}
        if changes:
            tx.conn.execute(update(C).where(C.c.id == case_id).values(**changes))
        step_id: int = tx.conn.execute(
            insert(S)
            .values(
                case_id=case_id, step=step.value, by=by, at=tx.now, note=note, fields=fields or {}
            )
            .returning(S.c.id)
        ).scalar_one()
        outbox.add(
            tx,
            f"case-{case_id}-step-{step_id}",
            "case.step",
            {
                "case": case_id,
                "step": step.value,
                "at": tx.now.isoformat(),
                "note": note,
                "fields": fields or {},
            },
        )
        tx.emit("case.step", {"case": case_id, "step": step.value})
        return _case(ctx, tx.conn, case_id, tx.now)


def _check_step(conn: Connection, row: CaseRow, step: Step, fields: dict[str, Any]) -> None:
    """What a step must carry: a 回访 its outcome, a referral what kind of matter it is,
    the guidance only its six fields; an appeal is of a 差评's rating, decided once."""
    if step is Step.FOLLOW_UP and not isinstance(fields.get("satisfied"), bool):
        raise Invalid(
            "a follow-up (回访) records whether the citizen was satisfied", code="bad_step"
        )
    if step is Step.REFER and fields.get("category") not in {r.value for r in Referral}:
        raise Invalid(
            "a referral says what it is: law (涉法), litigation (涉诉) or petition (信访)",
            code="bad_step",
        )
    if step is Step.GUIDE and (not fields or set(fields) - set(GUIDANCE)):
        raise Invalid(f"the guidance fields are {', '.join(GUIDANCE)}", code="bad_step")
    if step is Step.APPEAL:
        if row.kind != CaseKind.BAD_REVIEW.value or row.evaluation_id is None:
            raise Invalid("only a rating (差评) can be appealed", code="bad_step")
        done = [
            (s.step, dict(s.fields))
            for s in conn.execute(select(S.c.step, S.c.fields).where(S.c.case_id == row.id))
        ]
        state = appeal_state(done)
        if state in ("upheld", "rejected"):
            raise Conflict(
                f"the appeal of case {row.id} was decided already", code="appeal_decided"
            )
        if "upheld" in fields and not isinstance(fields["upheld"], bool):
            raise Invalid("an appeal's decision is upheld: true or false", code="bad_step")


def get(ctx: HallContext, case_id: int) -> Case:
    with ctx.read() as conn:
        return _case(ctx, conn, case_id, ctx.now())


def list_cases(
    ctx: HallContext,
    *,
    kind: CaseKind | None = None,
    status: CaseStatus | None = None,
    overdue: bool | None = None,
    services: Collection[str] | None = None,
    counters: Collection[str] | None = None,
) -> list[Case]:
    """Cases, soonest due first; ``services`` (a supervisor's departments) and ``counters``
    (counter staff: the ratings of their own counters) narrow them."""
    now = ctx.now()
    with ctx.read() as conn:
        q = select(C.c.id).where(C.c.hall_id == ctx.hall_id)
        if services is not None:
            q = q.where(C.c.service.in_(list(services)))
        if counters is not None:
            q = q.where(C.c.counter_id.in_(list(counters)))
        if kind is not None:
            q = q.where(C.c.kind == kind.value)
        if status is not None:
            q = q.where(C.c.status == status.value)
        ids = conn.execute(q.order_by(C.c.due_on, C.c.id).limit(1000)).scalars().all()
        cases = [_case(ctx, conn, i, now) for i in ids]
    found = [c for c in cases if overdue is None or c.overdue == overdue]
    # what needs doing first: open and overdue, then open by deadline, then the done ones
    found.sort(
        key=lambda c: (c.status != CaseStatus.OPEN, not c.overdue, c.extended_to or c.due_on)
    )
    return found


def _case(ctx: HallContext, conn: Connection, case_id: int, now: dt.datetime) -> Case:
    row = conn.execute(select(C).where(C.c.hall_id == ctx.hall_id, C.c.id == case_id)).first()
    if row is None:
        raise NotFound(f"no case {case_id}", code="case_not_found")
    steps = conn.execute(select(S).where(S.c.case_id == case_id).order_by(S.c.id)).all()
    deadline = row.extended_to or row.due_on
    done_on = ctx.local(row.closed_at).date() if row.closed_at else None
    overdue = (done_on or ctx.today(now)) > deadline
    return Case(
        id=row.id,
        kind=CaseKind(row.kind),
        status=CaseStatus(row.status),
        ticket=row.ticket_id,
        service=row.service,
        counter=row.counter_id,
        contact_masked=mask_phone(row.contact) if row.contact else None,
        description=row.description,
        opened_on=row.opened_on.isoformat(),
        due_on=row.due_on.isoformat(),
        extended_to=row.extended_to.isoformat() if row.extended_to else None,
        extension_reason=row.extension_reason,
        overdue=overdue,
        closed_at=ctx.local(row.closed_at).isoformat() if row.closed_at else None,
        steps=[
            CaseStepOut(
                step=Step(s.step),
                by=s.by,
                at=ctx.local(s.at).isoformat(),
                note=s.note,
                fields=dict(s.fields),
            )
            for s in steps
        ],
    )


LEDGER_COLUMNS = (
    "case",
    "kind",
    "status",
    "service",
    "counter",
    "matter_no",
    "channel",
    "score",
    "reasons",
    "description",
    "contact",
    "opened_on",
    "due_on",
    "extended_to",
    "extension_reason",
    "overdue",
    "closed_on",
    "follow_up",
    "appeal",
    "referral",
    "steps",
)
"""The columns of the ledger (台账), in order; their headers are ``ledger_<column>`` in
cases.toml (Chinese first)."""


def ledger(
    ctx: HallContext, month: str, services: Collection[str] | None = None
) -> list[dict[str, Any]]:
    """The 台账 of the cases opened in a month: every case with its rating, deadline and
    steps, an appealed rating included (upheld appeals leave the figures, not the ledger).
    Personal data masked: the contact's phone; descriptions and notes were scrubbed when
    they were taken."""
    lo, hi = month_bounds(ctx, month)
    now = ctx.now()
    e = t.evaluations
    with ctx.read() as conn:
        q = select(C.c.id).where(
            C.c.hall_id == ctx.hall_id, C.c.created_at >= lo, C.c.created_at < hi
        )
        if services is not None:
            q = q.where(C.c.service.in_(list(services)))
        ids = conn.execute(q.order_by(C.c.id)).scalars().all()
        out = []
        for case_id in ids:
            case = _case(ctx, conn, case_id, now)
            ev = conn.execute(
                select(e.c.matter_no, e.c.channel, e.c.score, e.c.reasons)
                .join(C, C.c.evaluation_id == e.c.id)
                .where(C.c.id == case_id)
            ).first()
            steps = [(s.step, s.fields) for s in case.steps]
            follow = [f for s, f in steps if s == Step.FOLLOW_UP.value]
            refer = [f for s, f in steps if s == Step.REFER.value]
            out.append(
                {
                    "case": case.id,
                    "kind": case.kind,
                    "status": case.status,
                    "service": case.service or "",
                    "counter": case.counter or "",
                    "matter_no": ev.matter_no if ev else "",
                    "channel": (ev.channel or "") if ev else "",
                    "score": ev.score if ev else "",
                    "reasons": list(ev.reasons or []) if ev else [],
                    "description": case.description,
                    "contact": case.contact_masked or "",
                    "opened_on": case.opened_on,
                    "due_on": case.due_on,
                    "extended_to": case.extended_to or "",
                    "extension_reason": case.extension_reason or "",
                    "overdue": case.overdue,
                    "closed_on": (case.closed_at or "")[:10],
                    "follow_up": (
                        ("satisfied" if follow[-1].get("satisfied") else "dissatisfied")
                        if follow
                        else ""
                    ),
                    "appeal": appeal_state(steps) or "",
                    "referral": str(refer[-1].get("category", "")) if refer else "",
                    "steps": [
                        {"step": s.step, "by": s.by, "at": s.at, "note": s.note} for s in case.steps
                    ],
                }
            )
    return out

"""What staff do at a counter (窗口): call, recall, start, finish, no-show (过号), park
(挂起), transfer, pause and resume. Every action runs under the hall's write lock, so two
counters never get the same ticket."""

from __future__ import annotations

import functools
from typing import Any

from sqlalchemy import Connection, Select, and_, bindparam, func, or_, select, union_all, update

from hall.config import Counter
from hall.domain import policy
from hall.domain.tickets import AT_COUNTER_STATES, CALLABLE_STATES, CounterState, Klass, Status
from hall.errors import Conflict, NotFound, TooSoon
from hall.schemas import CounterStatus, ParkedTicket, Ticket
from hall.services import notices, queries, remote_tickets
from hall.services.actor import Actor, columns_of, event_of
from hall.services.context import HallContext, Tx
from hall.services.ticket_rows import (
    check_requeue_window,
    emit_ticket,
    insert_ticket,
    load,
    ticket_json,
)
from hall.storage import tables as t
from hall.storage.rows import CounterRow, TicketRow

T = t.tickets
C = t.counters


def _counter(ctx: HallContext, counter_id: str) -> Counter:
    counter = ctx.config.counter(counter_id)
    if counter is None:
        raise NotFound(f"no counter with id {counter_id!r}", code="unknown_counter")
    return counter


_STATE = select(C).where(C.c.hall_id == bindparam("hall"), C.c.id == bindparam("counter"))


def _at_counter(select_: Select[Any], hall: Any, counter: Any) -> Select[Any]:
    """The ticket at a counter (called or being served): the latest called, if ever two."""
    return (
        select_.where(
            T.c.hall_id == hall,
            T.c.counter_id == counter,
            or_(*(T.c.status == s.value for s in AT_COUNTER_STATES)),
        )
        .order_by(T.c.called_at.desc())
        .limit(1)
    )


_CURRENT = _at_counter(select(T), bindparam("hall"), bindparam("counter"))
# The counter's row and the id of its current ticket, in one read: a call-next needs both
# (on PostgreSQL every statement under the write lock is a round trip that holds it).
_CURRENT_ID = _at_counter(select(T.c.id), C.c.hall_id, C.c.id).scalar_subquery()
_STATE_AND_CURRENT = select(C, _CURRENT_ID.label("current_id")).where(
    C.c.hall_id == bindparam("hall"), C.c.id == bindparam("counter")
)


# A call or a finish, with its service's waiting count for the event, in one statement:
# the tickets waiting in the service other than this one, which is the count after the
# change on either database (PostgreSQL's RETURNING sees the statement's snapshot, SQLite's
# the rows as updated), since the change takes this ticket out of the queue (a call) or it
# was never in it (a finish). Not correlated with the updated row: SQLite renders
# RETURNING's columns unqualified, so a correlated subquery would compare a table with itself.
_W, _S = T.alias("w"), T.alias("s")
_SERVICE_OF = select(_S.c.service).where(_S.c.id == bindparam("b_id")).scalar_subquery()
_WAITING_AFTER = (
    select(func.count())
    .select_from(_W)
    .where(_W.c.hall_id == bindparam("b_hall"), _W.c.status == Status.WAITING.value)
    .where(_W.c.service == _SERVICE_OF, _W.c.id != bindparam("b_id"))
    .scalar_subquery()
    .label("waiting_after")
)
_LEAVE_QUEUE = update(T).where(T.c.id == bindparam("b_id")).returning(*T.c, _WAITING_AFTER)


def _leave_queue(
    ctx: HallContext, tx: Tx, ticket_id: int, **values: Any
) -> tuple[TicketRow, dict[str, int]]:
    """Set these columns of a ticket that is not (or no longer) waiting: its row as it is
    now, and its service's waiting count for the event."""
    found = tx.conn.execute(_LEAVE_QUEUE, {"b_id": ticket_id, "b_hall": ctx.hall_id} | values)
    mapping = dict(found.one()._mapping)
    waiting = {mapping["service"]: mapping.pop("waiting_after")}
    return TicketRow(**mapping), waiting


# Built once and run with the changed columns as parameters (SQLAlchemy derives the SET
# clause from them and caches each form).
_UPDATE_TICKET = update(T).where(T.c.id == bindparam("b_id")).returning(*T.c)


def _state(tx: Tx, ctx: HallContext, counter_id: str) -> CounterRow:
    return CounterRow.of(
        tx.conn.execute(_STATE, {"hall": ctx.hall_id, "counter": counter_id}).one()
    )


def _change_state(
    ctx: HallContext,
    tx: Tx,
    counter_id: str,
    state: CounterState,
    event: str,
    reason: str | None = None,
    by: Actor | None = None,
) -> None:
    """Counter state with its pause record and event: every way a counter starts or stops
    taking calls changes all three."""
    tx.conn.execute(
        update(C)
        .where(C.c.hall_id == ctx.hall_id, C.c.id == counter_id)
        .values(
            state=state,
            reason=reason,
            since=tx.now,
            staff_account=by.account_id if by and state != "closed" else None,
        )
    )
    p = t.pauses
    if state == "paused":
        tx.conn.execute(
            p.insert().values(
                hall_id=ctx.hall_id,
                counter_id=counter_id,
                reason=reason,
                started_at=tx.now,
                **columns_of(by),
            )
        )
    else:
        tx.conn.execute(
            update(p)
            .where(p.c.hall_id == ctx.hall_id, p.c.counter_id == counter_id, p.c.ended_at.is_(None))
            .values(ended_at=tx.now)
        )
    data = {"counter": counter_id, **({"reason": reason} if reason else {})}
    tx.emit(event, data | event_of(by))


def _open_to_call(ctx: HallContext, tx: Tx, counter_id: str, by: Actor | None) -> int | None:
    """Before a call: a closed counter opens (staff are there), a paused one refuses.
    Returns the id of the ticket still at the counter, which the call finishes: staff
    press 下一位 all day and must not be made to press 完成 first."""
    row = tx.conn.execute(_STATE_AND_CURRENT, {"hall": ctx.hall_id, "counter": counter_id}).one()
    if row.state == "paused":
        raise Conflict(
            f"counter {counter_id} is paused ({row.reason}); resume it first",
            code="counter_paused",
        )
    if row.state == "closed":
        _change_state(ctx, tx, counter_id, "open", "counter.opened", by=by)
    current: int | None = row.current_id
    return current


def _current(tx: Tx, ctx: HallContext, counter_id: str) -> TicketRow | None:
    row = tx.conn.execute(_CURRENT, {"hall": ctx.hall_id, "counter": counter_id}).first()
    return TicketRow.of(row) if row is not None else None


def _require_current(tx: Tx, ctx: HallContext, counter_id: str) -> TicketRow:
    row = _current(tx, ctx, counter_id)
    if row is None:
        raise Conflict(f"counter {counter_id} has no current ticket", code="no_current_ticket")
    return row


def _finish(ctx: HallContext, tx: Tx, ticket_id: int, by: Actor | None = None) -> TicketRow:
    values = {"status": Status.DONE.value, "finished_at": tx.now, **columns_of(by)}
    row, waiting = _leave_queue(ctx, tx, ticket_id, **values)
    emit_ticket(ctx, tx, "ticket.finished", row, extra=event_of(by), waiting=waiting)
    if notices.may_hold(row):  # served: an SMS still unsent is moot
        notices.forget(tx.conn, ctx.hall_id, [row.id])
    return _after_finish(ctx, tx, row)


def _set(tx: Tx, row: TicketRow, **values: Any) -> TicketRow:
    """Change these columns of the ticket; its row as it is now."""
    return TicketRow.of(tx.conn.execute(_UPDATE_TICKET, {"b_id": row.id, **values}).one())


def _call(
    ctx: HallContext, tx: Tx, counter: Counter, ticket_id: int, by: Actor | None = None
) -> Ticket:
    row, waiting = _leave_queue(
        ctx,
        tx,
        ticket_id,
        status=Status.CALLED.value,
        counter_id=counter.id,
        called_at=tx.now,
        last_announced_at=tx.now,
        recall_count=0,
        finished_at=None,
        started_at=None,
        staff_account=by.account_id if by else None,  # a device's call: nobody's
        staff_no=by.staff_no if by else None,
    )
    emit_ticket(ctx, tx, "ticket.called", row, extra=event_of(by), waiting=waiting)
    notices.called(tx.conn, ctx.config, tx.now, row, counter)  # 无声叫号 by SMS (issue 21)
    return ticket_json(ctx, tx.conn, row, now=tx.now)


@functools.cache
def _heads_statement(hall_id: str, counter: Counter) -> Any:
    """The head (oldest) ticket of every class in every queue this counter calls from —
    each service's unpinned queue and the tickets pinned to it — in one statement of
    index seeks (ix_tickets_waiting, ix_tickets_pinned), built once per counter."""
    waiting = [T.c.hall_id == hall_id, T.c.status == Status.WAITING.value]
    waiting.append(T.c.confirm_by.is_(None))  # 远程取号 not yet confirmed on arrival (issue 21)
    queues = [and_(T.c.service == s, T.c.pinned_counter.is_(None)) for s in counter.services]
    queues.append(T.c.pinned_counter == counter.id)
    # The policy's columns only: the chosen row comes back whole from its UPDATE.
    columns = (T.c.id, T.c.service, T.c.klass, T.c.queue_time, T.c.pinned_counter)
    heads = [
        select(*columns)
        .where(*waiting, queue, T.c.klass == klass.value)
        .order_by(T.c.queue_time, T.c.id)
        .limit(1)
        .subquery()
        for queue in queues
        for klass in Klass
    ]
    return union_all(*(select(head) for head in heads))


def choose(ctx: HallContext, tx: Tx, counter: Counter) -> int | None:
    """The policy's choice without loading the queue: the id of the ticket to call.
    Inside one queue and class the policy is FIFO, so its choice among all waiting
    tickets is its choice among the heads of each (queue, class): the pure policy picks
    among those (see hall.domain.policy)."""
    rows = tx.conn.execute(_heads_statement(ctx.hall_id, counter)).all()
    chosen = policy.choose_next(
        [
            policy.Candidate(r.id, r.service, Klass(r.klass), r.queue_time, r.pinned_counter)
            for r in rows
        ],
        counter.id,
        counter.services,
        tx.now,
        ctx.config.policy.aging_bound_s,
    )
    return chosen.id if chosen else None


def call_next(ctx: HallContext, counter_id: str, *, by: Actor | None = None) -> Ticket | None:
    counter = _counter(ctx, counter_id)
    with ctx.write() as tx:
        current = _open_to_call(ctx, tx, counter_id, by)
        if current is not None:
            _finish(ctx, tx, current, by)
        chosen = choose(ctx, tx, counter)
        if chosen is None:
            return None
        return _call(ctx, tx, counter, chosen, by)


def call_ticket(
    ctx: HallContext, counter_id: str, ticket_id: int, *, by: Actor | None = None
) -> Ticket:
    """Call a specific ticket out of order: a waiting or parked one, or a 过号 ticket whose
    holder came back within the re-queue window. A 远程取号 ticket not yet confirmed is
    confirmed by the call (staff call it because its holder stands at the counter), as a
    confirmation at a kiosk or counter would; one not confirmed in time has expired."""
    counter = _counter(ctx, counter_id)
    remote_tickets.expire_overdue(ctx)  # committed on its own, as a late confirmation's
    with ctx.write() as tx:
        current = _open_to_call(ctx, tx, counter_id, by)
        row = load(tx.conn, ctx, ticket_id)
        if row.remote and row.status == Status.EXPIRED.value and row.confirmed_at is None:
            raise Conflict(
                f"remote ticket {row.number} was not confirmed in time", code="remote_expired"
            )
        status = Status(row.status)
        if status not in CALLABLE_STATES:
            raise Conflict(
                f"ticket {row.number} is {row.status} and cannot be called", code="not_callable"
            )
        if status is Status.PARKED and row.counter_id not in (None, counter_id):
            raise Conflict(
                f"ticket {row.number} is parked at counter {row.counter_id}",
                code="parked_elsewhere",
            )
        if status is Status.NO_SHOW:
            check_requeue_window(ctx, row, tx.now)
        if status is Status.WAITING and row.pinned_counter not in (None, counter_id):
            raise Conflict(
                f"ticket {row.number} is reserved for counter {row.pinned_counter}",
                code="pinned_elsewhere",
            )
        if (
            row.service not in counter.services
            and row.pinned_counter != counter_id
            and status is Status.WAITING
        ):
            raise Conflict(
                f"counter {counter_id} does not serve service {row.service!r}",
                code="service_not_served",
            )
        if status is Status.WAITING and row.confirm_by is not None:
            row = remote_tickets.confirm_row(ctx, tx, row)
        if current is not None:
            _finish(ctx, tx, current, by)
        return _call(ctx, tx, counter, row.id, by)


def recall(ctx: HallContext, counter_id: str, *, by: Actor | None = None) -> Ticket:
    """Announce the current ticket again. After ``recall_limit`` recalls the next one marks
    it 过号; recalls closer than the cooldown are refused (a double press is not a recall)."""
    _counter(ctx, counter_id)
    pol = ctx.config.policy
    with ctx.write() as tx:
        row = _require_current(tx, ctx, counter_id)
        if row.status != Status.CALLED.value:
            raise Conflict(f"ticket {row.number} is already being served", code="not_called")
        last = row.last_announced_at or row.called_at
        if last and (tx.now - last).total_seconds() < pol.recall_cooldown_s:
            wait = pol.recall_cooldown_s - (tx.now - last).total_seconds()
            raise TooSoon(
                f"ticket {row.number} was announced just now; recall again in {wait:.0f} s",
                code="recall_cooldown",
            )
        if row.recall_count >= pol.recall_limit:
            return _no_show(ctx, tx, row, automatic=True, by=by)
        row = _set(
            tx, row, recall_count=row.recall_count + 1, last_announced_at=tx.now, **columns_of(by)
        )
        emit_ticket(ctx, tx, "ticket.recalled", row, extra=event_of(by))
        return ticket_json(ctx, tx.conn, row, now=tx.now)


def start(ctx: HallContext, counter_id: str, *, by: Actor | None = None) -> Ticket:
    _counter(ctx, counter_id)
    with ctx.write() as tx:
        row = _require_current(tx, ctx, counter_id)
        if row.status == Status.SERVING.value:
            return ticket_json(ctx, tx.conn, row, now=tx.now)
        row = _set(tx, row, status=Status.SERVING.value, started_at=tx.now, **columns_of(by))
        emit_ticket(ctx, tx, "ticket.started", row, extra=event_of(by))
        return ticket_json(ctx, tx.conn, row, now=tx.now)


def finish(ctx: HallContext, counter_id: str, *, by: Actor | None = None) -> Ticket:
    _counter(ctx, counter_id)
    with ctx.write() as tx:
        row = _finish(ctx, tx, _require_current(tx, ctx, counter_id).id, by)
        return ticket_json(ctx, tx.conn, row, now=tx.now)


def _after_finish(ctx: HallContext, tx: Tx, row: TicketRow) -> TicketRow:
    """A ticket transferred with ``return_here`` goes back to its first counter when the
    other service is done, keeping its original place in time. The finished row, as it
    is now."""
    if row.return_counter and row.return_service:
        new = insert_ticket(
            ctx,
            tx,
            service=row.return_service,
            klass=Klass(row.klass),
            reason=row.priority_reason,
            queue_time=row.queue_time,
            issued_at=row.issued_at,
            number=row.number,
            pinned_counter=row.return_counter,
            origin_id=row.id,
            id_hash=row.id_hash,
            id_masked=row.id_masked,
            name_masked=row.name_masked,
            note="returned after transfer",
        )
        done = _set(tx, row, transferred_to=new.id)
        emit_ticket(ctx, tx, "ticket.transferred", new, extra={"from": row.id})
        return done
    return row


def no_show(ctx: HallContext, counter_id: str, *, by: Actor | None = None) -> Ticket:
    _counter(ctx, counter_id)
    with ctx.write() as tx:
        row = _require_current(tx, ctx, counter_id)
        return _no_show(ctx, tx, row, automatic=False, by=by)


def _no_show(
    ctx: HallContext, tx: Tx, row: TicketRow, *, automatic: bool, by: Actor | None = None
) -> Ticket:
    row = _set(tx, row, status=Status.NO_SHOW.value, finished_at=tx.now, **columns_of(by))
    extra = {"automatic": automatic} | event_of(by)
    emit_ticket(ctx, tx, "ticket.no_show", row, extra=extra)
    return ticket_json(ctx, tx.conn, row, now=tx.now)


def park(ctx: HallContext, counter_id: str, *, by: Actor | None = None) -> Ticket:
    """挂起: the citizen must fetch a document; the ticket waits at this counter to be
    called back with ``call``."""
    _counter(ctx, counter_id)
    with ctx.write() as tx:
        row = _require_current(tx, ctx, counter_id)
        row = _set(tx, row, status=Status.PARKED.value, **columns_of(by))
        emit_ticket(ctx, tx, "ticket.parked", row, extra=event_of(by))
        return ticket_json(ctx, tx.conn, row, now=tx.now)


def transfer(
    ctx: HallContext,
    counter_id: str,
    service: str,
    note: str | None,
    return_here: bool,
    *,
    by: Actor | None = None,
) -> Ticket:
    """Send the current ticket to another service's queue. The ticket at this counter ends
    as ``transferred``; a new ticket with the same number joins the other queue at the
    original queue time, so the citizen does not start again at the back."""
    counter = _counter(ctx, counter_id)
    target = ctx.config.service(service)
    if target is None:
        raise NotFound(f"no service with code {service!r}", code="unknown_service")
    if not target.open:
        raise Conflict(f"service {service!r} is not open today", code="service_closed")
    with ctx.write() as tx:
        row = _require_current(tx, ctx, counter_id)
        if service == row.service:  # to wait again here, staff park the ticket instead
            raise Conflict(
                f"ticket {row.number} is already in service {service!r}", code="same_service"
            )
        new = insert_ticket(
            ctx,
            tx,
            service=service,
            klass=Klass(row.klass),
            reason=row.priority_reason,
            queue_time=row.queue_time,
            issued_at=row.issued_at,
            number=row.number,
            origin_id=row.id,
            note=(note or None) and note[:200],
            return_counter=counter.id if return_here else None,
            return_service=row.service if return_here else None,
            id_hash=row.id_hash,
            id_masked=row.id_masked,
            name_masked=row.name_masked,
        )
        old = _set(
            tx,
            row,
            status=Status.TRANSFERRED.value,
            finished_at=tx.now,
            transferred_to=new.id,
            **columns_of(by),
        )
        emit_ticket(
            ctx,
            tx,
            "ticket.transferred",
            new,
            also=old.service,
            extra={"from": old.id, "from_service": old.service} | event_of(by),
        )
        return ticket_json(ctx, tx.conn, new, now=tx.now)


def pause(
    ctx: HallContext, counter_id: str, reason: str, *, by: Actor | None = None
) -> CounterStatus:
    _counter(ctx, counter_id)
    with ctx.write() as tx:
        state = _state(tx, ctx, counter_id)
        if state.state == "paused":
            raise Conflict(f"counter {counter_id} is already paused", code="already_paused")
        _change_state(ctx, tx, counter_id, "paused", "counter.paused", reason[:200], by)
        return counter_status(ctx, tx.conn, counter_id)


def resume(ctx: HallContext, counter_id: str, *, by: Actor | None = None) -> CounterStatus:
    _counter(ctx, counter_id)
    with ctx.write() as tx:
        state = _state(tx, ctx, counter_id)
        if state.state == "open":
            raise Conflict(f"counter {counter_id} is not paused", code="not_paused")
        _change_state(ctx, tx, counter_id, "open", "counter.resumed", by=by)
        return counter_status(ctx, tx.conn, counter_id)


def close(ctx: HallContext, counter_id: str, *, by: Actor | None = None) -> CounterStatus:
    """Staff leave (end of shift): the counter stops counting as open for estimates."""
    _counter(ctx, counter_id)
    with ctx.write() as tx:
        if _current(tx, ctx, counter_id) is not None:
            raise Conflict(
                f"counter {counter_id} still has a current ticket; finish, park or "
                "mark it no-show first",
                code="ticket_open",
            )
        _change_state(ctx, tx, counter_id, "closed", "counter.closed", by=by)
        return counter_status(ctx, tx.conn, counter_id)


def counter_status(ctx: HallContext, conn: Connection, counter_id: str) -> CounterStatus:
    counter = _counter(ctx, counter_id)
    state = CounterRow.of(
        conn.execute(select(C).where(C.c.hall_id == ctx.hall_id, C.c.id == counter_id)).one()
    )
    current = conn.execute(
        select(T).where(
            T.c.hall_id == ctx.hall_id,
            T.c.counter_id == counter_id,
            T.c.status.in_([s.value for s in AT_COUNTER_STATES]),
        )
    ).first()
    parked = conn.execute(
        select(T.c.id, T.c.number)
        .where(
            T.c.hall_id == ctx.hall_id,
            T.c.counter_id == counter_id,
            T.c.status == Status.PARKED.value,
        )
        .order_by(T.c.called_at)
    ).all()
    waiting = queries.waiting_counts(conn, ctx.hall_id)
    return CounterStatus(
        id=counter.id,
        name=counter.name,
        name_en=counter.name_en,
        services=list(counter.services),
        state=state.state,
        reason=state.reason,
        since=ctx.local(state.since).isoformat(),
        current=ticket_json(ctx, conn, TicketRow.of(current)) if current is not None else None,
        parked=[ParkedTicket(id=r.id, number=r.number) for r in parked],
        waiting={s: waiting.get(s, 0) for s in counter.services},
    )


def get_status(ctx: HallContext, counter_id: str) -> CounterStatus:
    with ctx.read() as conn:
        return counter_status(ctx, conn, counter_id)

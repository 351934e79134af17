"""Evaluations (好差评) of a served ticket, the way halls are assessed (GB/T 39734-2020):
five levels, the optional fixed indicators, a 差评's reasons; one rating per handled matter
(一次一评, bound to its 办件编号); every 差评 opens a case with a deadline; every rating
goes to the outbox for the province."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from sqlalchemy import Connection, insert, or_, select, update

from common.i18n import t as t_
from common.personal import InvalidIdNumber, keyed_hash, validate_person_number
from guide.catalogue import Matter as GuideMatter
from guide.catalogue import catalogue
from hall.domain.evaluation import (
    CaseKind,
    Channel,
    Grade,
    Indicator,
    Reason,
    grade_of,
    matter_number,
)
from hall.domain.tickets import AT_COUNTER_STATES, EVALUABLE_STATES, Status
from hall.errors import Conflict, Invalid, NotFound
from hall.schemas import CounterMatters, Evaluation, Matter, RatableVisit
from hall.services import cases, outbox
from hall.services.context import HallContext, Tx
from hall.services.ticket_rows import TicketRow, load
from hall.services.views import event_ticket
from hall.storage import tables as t

T, E, M = t.tickets, t.evaluations, t.ticket_matters
# A counter registers 办件编号 for its current ticket, or for the one it finished this
# long ago at most (staff often key in the business system's number right after 办结)
MATTER_AFTER_FINISH_S = 600


def _matters(conn: Connection, ctx: HallContext, ticket_id: int) -> list[Any]:
    return list(
        conn.execute(
            select(M).where(M.c.hall_id == ctx.hall_id, M.c.ticket_id == ticket_id).order_by(M.c.id)
        )
    )


def _rated(conn: Connection, ctx: HallContext, ticket_id: int) -> set[str]:
    return set(
        conn.execute(
            select(E.c.matter_no).where(E.c.hall_id == ctx.hall_id, E.c.ticket_id == ticket_id)
        ).scalars()
    )


def _default_matter(ctx: HallContext, row: TicketRow, n: int = 1) -> str:
    return matter_number(
        ctx.config.cases.matter_no_format,
        n,
        hall=ctx.hall_id,
        date=f"{row.day:%Y%m%d}",
        number=row.number,
        counter=row.counter_id or "",
        service=row.service,
    )


def _taken(conn: Connection, ctx: HallContext, matter_no: str) -> bool:
    """Whether a 办件编号 is registered in this hall already."""
    found = conn.execute(
        select(M.c.id).where(M.c.hall_id == ctx.hall_id, M.c.matter_no == matter_no)
    ).first()
    return found is not None


def _free_matter(conn: Connection, ctx: HallContext, row: TicketRow, n: int) -> tuple[str, int]:
    """The hall's own 办件编号 for the ticket's ``n``-th matter, or the next ``n`` whose
    number is still free; (number, the ``n`` used)."""
    matter_no = _default_matter(ctx, row, n)
    while _taken(conn, ctx, matter_no):
        n += 1
        matter_no = _default_matter(ctx, row, n)
    return matter_no, n


def _counter_ticket(conn: Connection, ctx: HallContext, counter_id: str, now: dt.datetime) -> Any:
    """The ticket at the counter now, else the one it finished in the last few minutes."""
    since = now - dt.timedelta(seconds=MATTER_AFTER_FINISH_S)
    return conn.execute(
        select(T.c.id)
        .where(
            T.c.hall_id == ctx.hall_id,
            T.c.counter_id == counter_id,
            or_(
                T.c.status.in_([s.value for s in AT_COUNTER_STATES]),
                (T.c.status == Status.DONE.value) & (T.c.finished_at >= since),
            ),
        )
        .order_by(T.c.status.in_([s.value for s in AT_COUNTER_STATES]).desc(), T.c.id.desc())
        .limit(1)
    ).scalar()


def _matter_out(m: Any, rated: set[str]) -> Matter:
    """A registered matter as the counter page shows it: with the catalogue's name when
    the ticket named the matter (the kiosk's 我要办)."""
    entry = catalogue().get(m.matter_code) if m.matter_code else None
    return Matter(
        matter_no=m.matter_no,
        service=m.service,
        counter=m.counter_id,
        source=m.source,
        rated=m.matter_no in rated,
        code=m.matter_code,
        name=entry.name if entry else None,
        name_en=entry.name_en if entry else None,
    )


def _counter_matters(conn: Connection, ctx: HallContext, ticket_id: int | None) -> CounterMatters:
    if ticket_id is None:
        return CounterMatters(ticket=None, number=None, matters=[])
    row = load(conn, ctx, ticket_id)
    rated = _rated(conn, ctx, ticket_id)
    return CounterMatters(
        ticket=ticket_id,
        number=row.number,
        matters=[_matter_out(m, rated) for m in _matters(conn, ctx, ticket_id)],
    )


# A ticket names at most this many matters (the largest 一件事一次办 bundle has five)
MAX_TICKET_MATTERS = 8


def check_ticket_matters(service: str, codes: tuple[str, ...]) -> tuple[GuideMatter, ...]:
    """The catalogue's matters a new ticket for ``service`` names (the kiosk's 我要办): each
    must be a matter of the catalogue the hall loads, handled in that queue itself or in a
    一件事一次办 bundle of that queue; each is kept once, in the order given."""
    cat = catalogue()
    bundled = {c for b in cat.bundle if b.service == service for c in b.matters}
    out: list[GuideMatter] = []
    for code in dict.fromkeys(codes):
        found = cat.get(code)
        if not isinstance(found, GuideMatter):
            raise Invalid(
                f"matter {code!r} is not in the hall's catalogue of matters",
                code="guide_matter_unknown",
            )
        if found.service != service and code not in bundled:
            raise Invalid(
                f"matter {code!r} ({found.name}) is handled in queue {found.service!r},"
                f" not {service!r}",
                code="guide_matter_elsewhere",
            )
        out.append(found)
    if len(out) > MAX_TICKET_MATTERS:
        raise Invalid(
            f"a ticket names at most {MAX_TICKET_MATTERS} matters", code="guide_too_many_matters"
        )
    return tuple(out)


def add_ticket_matters(
    ctx: HallContext, tx: Tx, row: TicketRow, matters: tuple[GuideMatter, ...], *, by: str
) -> None:
    """Register the matters a new ticket names, in its issue's transaction: one row each,
    numbered in the hall's format (staff may still register the business system's), so
    the counter page shows them and the pad asks one rating per matter (一次一评)."""
    n = 0
    for matter in matters:
        matter_no, n = _free_matter(tx.conn, ctx, row, n + 1)
        tx.conn.execute(
            insert(M).values(
                hall_id=ctx.hall_id,
                ticket_id=row.id,
                matter_no=matter_no,
                service=row.service,
                counter_id=None,
                source="guide",
                matter_code=matter.code,
                created_by=by,
                created_at=tx.now,
            )
        )


def counter_matters(ctx: HallContext, counter_id: str) -> CounterMatters:
    with ctx.read() as conn:
        return _counter_matters(conn, ctx, _counter_ticket(conn, ctx, counter_id, ctx.now()))


def add_matter(
    ctx: HallContext, counter_id: str, matter_no: str | None, *, by: str
) -> CounterMatters:
    """Register a 办件编号 for the counter's ticket: the one staff typed or scanned from
    their business system, or (``None``) one the hall makes in its format. A typed number
    takes the place of the first matter the ticket named at the kiosk (source ``guide``)
    that still has the hall's number and no rating, so a bundle's three matters stay three
    ratings when staff key in the business system's numbers."""
    with ctx.write() as tx:
        ticket_id = _counter_ticket(tx.conn, ctx, counter_id, tx.now)
        if ticket_id is None:
            raise Conflict(f"counter {counter_id} has no current ticket", code="no_current_ticket")
        row = load(tx.conn, ctx, ticket_id)
        known = _matters(tx.conn, ctx, ticket_id)
        if matter_no is None:
            matter_no, _ = _free_matter(tx.conn, ctx, row, len(known) + 1)
            source = "generated"
        else:
            source = "entered"
            if _taken(tx.conn, ctx, matter_no):
                raise Conflict(f"办件编号 {matter_no} is registered already", code="matter_exists")
            rated = _rated(tx.conn, ctx, ticket_id)
            named = [m for m in known if m.source == "guide" and m.matter_no not in rated]
            if named:
                tx.conn.execute(
                    update(M)
                    .where(M.c.id == named[0].id)
                    .values(matter_no=matter_no, source=source, counter_id=counter_id)
                )
                tx.emit(
                    "ticket.matter_added",
                    {
                        "ticket": {"id": ticket_id, "counter": counter_id},
                        "matter_no": matter_no,
                        "replaces": named[0].matter_no,
                    },
                )
                return _counter_matters(tx.conn, ctx, ticket_id)
        tx.conn.execute(
            insert(M).values(
                hall_id=ctx.hall_id,
                ticket_id=ticket_id,
                matter_no=matter_no,
                service=row.service,
                counter_id=counter_id,
                source=source,
                created_by=by,
                created_at=tx.now,
            )
        )
        tx.emit(
            "ticket.matter_added",
            {"ticket": {"id": ticket_id, "counter": counter_id}, "matter_no": matter_no},
        )
        return _counter_matters(tx.conn, ctx, ticket_id)


# Staff may ask the pad to invite a rating of a ticket they finished this long ago at most
INVITE_AFTER_FINISH_S = 1800
INVITED = "ticket.rating_invited"


def _invited(conn: Connection, ctx: HallContext, counter_id: str, since: dt.datetime) -> int | None:
    """The ticket staff last asked this counter's pad to invite a rating of, if recent."""
    ev = t.events
    for data in conn.execute(
        select(ev.c.data)
        .where(ev.c.hall_id == ctx.hall_id, ev.c.type == INVITED, ev.c.created_at >= since)
        .order_by(ev.c.id.desc())
        .limit(20)
    ).scalars():
        ticket = json.loads(data).get("ticket") or {}
        if ticket.get("counter") == counter_id:
            return int(ticket["id"])
    return None


def invite(ctx: HallContext, counter_id: str, *, by: str) -> int:
    """Staff trigger the pad (邀请评价): it asks the citizen about the ticket this counter
    finished last. Staff never give the score themselves (GB/T 39734 §4.1: voluntary and
    authentic); the pad only asks."""
    since = ctx.now() - dt.timedelta(seconds=INVITE_AFTER_FINISH_S)
    with ctx.write() as tx:
        row = tx.conn.execute(
            select(T.c.id, T.c.number)
            .where(
                T.c.hall_id == ctx.hall_id,
                T.c.counter_id == counter_id,
                T.c.status.in_([st.value for st in EVALUABLE_STATES]),
                T.c.finished_at >= since,
            )
            .order_by(T.c.finished_at.desc(), T.c.id.desc())
            .limit(1)
        ).first()
        if row is None:
            raise Conflict(
                f"counter {counter_id} has finished no ticket to be rated", code="nothing_to_rate"
            )
        tx.emit(INVITED, {"ticket": {"id": row.id, "counter": counter_id}, "by": by})
        return int(row.id)


def pad_ask(ctx: HallContext, counter_id: str, window_s: float) -> dict[str, Any] | None:
    """What the pad at this counter asks about: the ticket finished here last (within the
    window) and its first matter not rated yet (``matter_no``, ``matter_index`` of
    ``matters``); None when nothing is left to rate."""
    since = ctx.now() - dt.timedelta(seconds=window_s)
    with ctx.read() as conn:
        invited = _invited(conn, ctx, counter_id, since)
        # a transfer is a matter handled too: the first counter's pad asks about its part
        q = select(T.c.id, T.c.number, T.c.service, T.c.status, T.c.day).where(
            T.c.hall_id == ctx.hall_id,
            T.c.counter_id == counter_id,
            T.c.status.in_([st.value for st in EVALUABLE_STATES]),
        )
        q = q.where(T.c.id == invited if invited is not None else T.c.finished_at >= since)
        row = conn.execute(q.order_by(T.c.finished_at.desc(), T.c.id.desc()).limit(1)).first()
        if row is None:
            return None
        if row.status == Status.TRANSFERRED.value and invited is None:
            # transferred to a service of this same counter and called here again: the
            # citizen is still at the window, so the pad waits and asks when they are done
            still_here = conn.execute(
                select(T.c.id).where(
                    T.c.hall_id == ctx.hall_id,
                    T.c.counter_id == counter_id,
                    T.c.number == row.number,
                    T.c.day == row.day,
                    T.c.status.in_([s.value for s in AT_COUNTER_STATES]),
                )
            ).first()
            if still_here is not None:
                return None
        rated = _rated(conn, ctx, row.id)
        known = [m.matter_no for m in _matters(conn, ctx, row.id)]
    ask = {"id": row.id, "number": row.number, "service": row.service}
    if not known:
        return None if rated else ask | {"matter_no": None, "matter_index": 1, "matters": 1}
    left = [i for i, m in enumerate(known) if m not in rated]
    if not left:
        return None
    return ask | {"matter_no": known[left[0]], "matter_index": left[0] + 1, "matters": len(known)}


def evaluate(
    ctx: HallContext,
    ticket_id: int,
    score: int,
    comment: str | None,
    *,
    indicators: dict[Indicator, int] | None = None,
    reasons: list[Reason] | None = None,
    channel: Channel = Channel.API,
    matter_no: str | None = None,
    by: str = "citizen",
    contact: str | None = None,
    staff: str | None = None,
) -> Evaluation:
    """Record a rating (``contact``: a phone number a 差评's citizen left for 回访; kept on
    the case, shown masked)."""
    if not 1 <= score <= 5:
        raise Invalid("score must be 1 (非常不满意) … 5 (非常满意)", code="invalid_score")
    for value in (indicators or {}).values():
        if not 1 <= value <= 5:
            raise Invalid("each indicator is 1 … 5", code="invalid_score")
    grade = grade_of(score)
    with ctx.write() as tx:
        row = load(tx.conn, ctx, ticket_id)
        if Status(row.status) not in EVALUABLE_STATES:
            raise Conflict(
                f"ticket {row.number} is {row.status}; it can be evaluated once it has been served",
                code="not_served",
            )
        e = t.evaluations
        # 一次一评: each matter registered for the ticket is rated once; a ticket with none
        # registered is one matter (the business system's number, or the hall's own)
        known = [m.matter_no for m in _matters(tx.conn, ctx, ticket_id)]
        rated = _rated(tx.conn, ctx, ticket_id)
        if known and matter_no is not None and matter_no not in known:
            raise NotFound(
                f"办件编号 {matter_no} is not registered for ticket {row.number}",
                code="unknown_matter",
            )
        left = [m for m in known if m not in rated]
        if (known and not left) or (not known and rated) or (matter_no in rated):
            raise Conflict(
                f"ticket {row.number} has already been evaluated", code="already_evaluated"
            )
        matter = matter_no or (left[0] if known else _default_matter(ctx, row))
        given = {i.value: v for i, v in (indicators or {}).items()}
        evaluation_id: int = tx.conn.execute(
            insert(e)
            .values(
                hall_id=ctx.hall_id,
                ticket_id=ticket_id,
                score=score,
                comment=comment,
                service=row.service,
                counter_id=row.counter_id,
                created_at=tx.now,
                matter_no=matter,
                channel=channel.value,
                reasons=[r.value for r in reasons or []],
                staff=staff,
                **given,
            )
            .returning(e.c.id)
        ).scalar_one()
        outbox.add(
            tx,
            f"rating-{evaluation_id}",
            "rating",
            {
                "matter_no": matter,
                "service": row.service,
                "counter": row.counter_id,
                "channel": channel.value,
                "score": score,
                "grade": grade.value,
                "indicators": given,
                "reasons": [r.value for r in reasons or []],
                "at": tx.now.isoformat(),
            },
        )
        case_id = None
        if grade is Grade.BAD:
            case_id = cases.open_case(
                ctx,
                tx,
                kind=CaseKind.BAD_REVIEW,
                description=comment
                or "、".join(t_("web", f"pad_reason_{r.value}", "zh") for r in reasons or [])
                or "差评",
                by=by,
                ticket_id=ticket_id,
                evaluation_id=evaluation_id,
                service=row.service,
                counter_id=row.counter_id,
                contact=contact,
            )
        ticket = event_ticket(ctx.config, row).model_dump(mode="json")
        tx.emit("ticket.evaluated", {"ticket": ticket, "score": score})
        return Evaluation(
            ticket=ticket_id,
            number=row.number,
            score=score,
            counter=row.counter_id,
            grade=grade.value,
            channel=channel.value,
            matter_no=matter,
            case=case_id,
        )


# -- the citizen's phone (/t/<token>): a rating once service finished, for a few days ----


def _by_token(conn: Connection, ctx: HallContext, token: str) -> TicketRow:
    found = conn.execute(
        select(T).where(T.c.hall_id == ctx.hall_id, T.c.public_token == token)
    ).first()
    if found is None:
        raise NotFound("no ticket for this link", code="ticket_not_found")
    row = TicketRow.of(found)
    while row.transferred_to is not None:  # the page follows a transfer
        row = load(conn, ctx, row.transferred_to)
    return row


def _phone_target(conn: Connection, ctx: HallContext, row: TicketRow, now: dt.datetime) -> Any:
    """What the phone may rate now: ("rate", matter) for a matter no one rated, ("check",
    evaluation id) for a pad rating the citizen has not confirmed, or None."""
    if Status(row.status) is not Status.DONE or row.finished_at is None:
        return None
    if now - row.finished_at > dt.timedelta(days=ctx.config.cases.phone_rating_days):
        return None
    known = [m.matter_no for m in _matters(conn, ctx, row.id)]
    rated = {
        r.matter_no: r
        for r in conn.execute(
            select(E.c.id, E.c.matter_no, E.c.channel).where(
                E.c.hall_id == ctx.hall_id, E.c.ticket_id == row.id
            )
        )
    }
    for matter in known or [None]:
        if (matter is None and not rated) or (matter is not None and matter not in rated):
            return ("rate", matter)
    checked = set(
        conn.execute(
            select(t.rating_checks.c.evaluation_id).where(
                t.rating_checks.c.hall_id == ctx.hall_id, t.rating_checks.c.ticket_id == row.id
            )
        ).scalars()
    )
    for r in rated.values():
        if r.channel == Channel.PAD.value and r.id not in checked:
            return ("check", r.id)
    return None


def phone_offer(ctx: HallContext, token: str) -> dict[str, Any]:
    """Whether the citizen's page offers a rating now: ``{"offer": "rate" | "check" | None,
    "until": ISO time}`` (``check``: the visit was rated on the pad; the phone asks again,
    kept apart as a check of the pad's rating)."""
    now = ctx.now()
    with ctx.read() as conn:
        row = _by_token(conn, ctx, token)
        target = _phone_target(conn, ctx, row, now)
    until = (
        ctx.local(row.finished_at + dt.timedelta(days=ctx.config.cases.phone_rating_days))
        if row.finished_at
        else None
    )
    return {
        "offer": target[0] if target else None,
        "until": until.isoformat(timespec="minutes") if until and target else None,
    }


def rate_by_phone(
    ctx: HallContext,
    token: str,
    score: int,
    *,
    reasons: list[Reason] | None = None,
    comment: str | None = None,
) -> dict[str, Any]:
    """The citizen rates on the phone: a matter not rated yet becomes a rating (channel
    ``phone``, a 差评 opens its case); a visit the pad rated gets a check (rating_checks)."""
    if not 1 <= score <= 5:
        raise Invalid("score must be 1 (非常不满意) … 5 (非常满意)", code="invalid_score")
    with ctx.read() as conn:
        row = _by_token(conn, ctx, token)
        target = _phone_target(conn, ctx, row, ctx.now())
    if target is None:
        raise Conflict("this visit cannot be rated here (now)", code="already_evaluated")
    if target[0] == "rate":
        ev = evaluate(
            ctx,
            row.id,
            score,
            comment if grade_of(score) is Grade.BAD else None,
            reasons=reasons if grade_of(score) is Grade.BAD else None,
            channel=Channel.PHONE,
            matter_no=target[1],
        )
        return {"recorded": "rating", "grade": ev.grade}
    k = t.rating_checks
    with ctx.write() as tx:
        if tx.conn.execute(
            select(k.c.id).where(k.c.hall_id == ctx.hall_id, k.c.evaluation_id == target[1])
        ).first():
            raise Conflict("this visit was checked already", code="already_evaluated")
        tx.conn.execute(
            insert(k).values(
                hall_id=ctx.hall_id,
                evaluation_id=target[1],
                ticket_id=row.id,
                channel=Channel.PHONE.value,
                score=score,
                created_at=tx.now,
            )
        )
    return {"recorded": "check", "grade": grade_of(score).value}


def kiosk_lookup(
    ctx: HallContext, *, number: str | None = None, id_number: str | None = None
) -> RatableVisit:
    """评价上次办理 at the kiosk: the last finished visit, by the number on its ticket or by
    the ID card it was taken with, that still has a matter to rate (within the days the
    phone page offers a rating)."""
    if (number is None) == (id_number is None):
        raise Invalid("give the ticket's number or an ID number", code="invalid_lookup")
    now = ctx.now()
    days = ctx.config.cases.phone_rating_days
    q = select(T).where(
        T.c.hall_id == ctx.hall_id,
        T.c.status == Status.DONE.value,
        T.c.finished_at >= now - dt.timedelta(days=days),
    )
    if number is not None:
        q = q.where(T.c.number == number.strip().upper())
    else:
        try:
            person = validate_person_number(id_number or "")
        except InvalidIdNumber as err:
            raise Invalid(str(err), code="invalid_id_number") from err
        q = q.where(T.c.id_hash == keyed_hash(ctx.config.secret, person))
    with ctx.read() as conn:
        for found in conn.execute(q.order_by(T.c.finished_at.desc()).limit(10)):
            row = TicketRow.of(found)
            target = _phone_target(conn, ctx, row, now)
            if target is None or target[0] != "rate":
                continue
            known = [m.matter_no for m in _matters(conn, ctx, row.id)]
            matter = target[1]
            svc = ctx.config.service(row.service)
            assert row.finished_at is not None
            return RatableVisit(
                ticket=row.id,
                number=row.number,
                service=row.service,
                service_name=svc.name if svc else row.service,
                service_name_en=svc.name_en if svc else "",
                matter_no=matter,
                matter_index=known.index(matter) + 1 if matter in known else 1,
                matters=max(1, len(known)),
                finished_at=ctx.local(row.finished_at).isoformat(timespec="minutes"),
                until=ctx.local(row.finished_at + dt.timedelta(days=days)).isoformat(
                    timespec="minutes"
                ),
            )
    raise NotFound("no finished visit left to rate", code="visit_not_found")

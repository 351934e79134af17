"""无声叫号 by SMS (issue 21): a ticket whose holder left a mobile number — a booking checked
in, or a remote ticket taken with one — gets two text messages through the SMS outbox
(:mod:`hall.services.sms`): ``ticket_soon`` once when 3 or fewer are ahead of it (as the
companion page's alert), and ``ticket_called`` once when a counter calls it, with the
counter to go to. Template ids come from ``[sms].templates`` like the booking messages'.

The number is kept in one place only: both messages go into the outbox, held, in the
transaction that gives the ticket its number; each is released (made due) in the
transaction of the change it tells of — a counter's call, from which the people ahead are
counted again — so it is sent once or not at all, never for a change rolled back. A held
message is dropped, with its number, when it can no longer be due: the 3-ahead notice when
the ticket is called first; both, if not yet sent, when the ticket ends (served, cancelled,
expired at the day's closing or unconfirmed in time), and at the latest with its day's
closing. A sent message keeps no number.

Below the context (plain connections, no ``HallContext``): the day's closing uses it too."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from typing import Any

from sqlalchemy import Connection, delete, insert, or_, select, update

from common.personal import mask_phone
from hall.config import Counter, HallConfig
from hall.domain.tickets import Status
from hall.services import queries
from hall.storage import tables as t
from hall.storage.rows import TicketRow

S, T = t.sms_outbox, t.tickets
HELD = dt.datetime(9999, 1, 1, tzinfo=dt.UTC)
"""``next_at`` of a message waiting for its moment: never due until released."""
SOON_AHEAD = 3
"""People ahead at which the 3-ahead notice goes (the companion page's ``SOON``)."""
SOON, CALLED = "ticket_soon", "ticket_called"


def key(template: str, ticket_id: int) -> str:
    """The outbox key of one ticket's notice (the gateway dedupes by it)."""
    return f"{template}-{ticket_id}"


def _held(hall_id: str) -> list[Any]:
    return [S.c.hall_id == hall_id, S.c.sent_at.is_(None), S.c.next_at == HELD]


def may_hold(row: TicketRow) -> bool:
    """Whether the ticket can have notices: only a booking checked in or a remote ticket
    is issued with a mobile number (:func:`hold`). Every finish asks, so that a kiosk's
    ticket costs no statement for notices it cannot have."""
    return row.appointment_id is not None or bool(row.remote)


def hold(
    conn: Connection, config: HallConfig, now: dt.datetime, row: TicketRow, phone: str
) -> None:
    """Both notices of a new ticket, held, in the transaction that issues it."""
    if not may_hold(row):
        raise ValueError("only a booking's or a remote ticket has SMS notices (may_hold)")
    svc = config.service(row.service)
    params = {"number": row.number, "service": svc.name if svc else row.service}
    for template in (SOON, CALLED):
        conn.execute(
            insert(S).values(
                hall_id=config.hall_id,
                key=key(template, row.id),
                template=template,
                phone=phone,
                phone_masked=mask_phone(phone),
                params=json.dumps(params, ensure_ascii=False),
                created_at=now,
                next_at=HELD,
                attempts=0,
            )
        )


def _release(
    conn: Connection, hall_id: str, now: dt.datetime, message: str, extra: dict[str, Any]
) -> bool:
    found = conn.execute(select(S.c.id, S.c.params).where(*_held(hall_id), S.c.key == message))
    held = found.first()
    if held is None:
        return False
    params = json.loads(held.params) | extra
    conn.execute(
        update(S)
        .where(S.c.id == held.id)
        .values(params=json.dumps(params, ensure_ascii=False), next_at=now)
    )
    return True


def queue_moved(conn: Connection, config: HallConfig, now: dt.datetime, service: str) -> int:
    """After a call in ``service``: release the 3-ahead notice of every waiting ticket of
    the service that now has at most :data:`SOON_AHEAD` ahead (as counted for its page).
    One index read when nobody waits for a notice. Returns the notices released."""
    held = conn.execute(select(S.c.key).where(*_held(config.hall_id), S.c.template == SOON))
    return _release_soon(conn, config, now, service, list(held.scalars()))


def _release_soon(
    conn: Connection, config: HallConfig, now: dt.datetime, service: str, soon_keys: list[str]
) -> int:
    prefix = f"{SOON}-"
    waiting = [int(k.removeprefix(prefix)) for k in soon_keys]
    if not waiting:
        return 0
    rows = [
        TicketRow.of(r)
        for r in conn.execute(
            select(T).where(
                T.c.hall_id == config.hall_id,
                T.c.id.in_(waiting),
                T.c.service == service,
                T.c.status == Status.WAITING.value,
            )
        )
    ]
    released = 0
    for row in rows:
        ahead = queries.waiting_ahead(conn, config.hall_id, row, now, config.policy.aging_bound_s)
        if ahead <= SOON_AHEAD:
            released += _release(conn, config.hall_id, now, key(SOON, row.id), {"ahead": ahead})
    return released


def called(
    conn: Connection, config: HallConfig, now: dt.datetime, row: TicketRow, counter: Counter
) -> bool:
    """A counter called the ticket: its called notice is due (with the counter to go
    to), a 3-ahead notice not yet released is dropped (it would come after the call), and
    the 3-ahead notices of the service's tickets now near the front are released
    (:func:`queue_moved`). A second call of the ticket (a recall after 过号, a parked one)
    sends nothing more. Returns whether the called notice was released.

    Every call of the day runs this, and hardly a ticket has a notice: one read of the
    held notices that could concern the call, and nothing more when there is none (on
    PostgreSQL each statement under the write lock is a round trip, bench/hall_load.py)."""
    own_soon, own_called = key(SOON, row.id), key(CALLED, row.id)
    held = set(
        conn.execute(
            select(S.c.key).where(
                *_held(config.hall_id), or_(S.c.template == SOON, S.c.key == own_called)
            )
        ).scalars()
    )
    if not held:
        return False
    if own_soon in held:
        conn.execute(delete(S).where(*_held(config.hall_id), S.c.key == own_soon))
    extra = {"counter": counter.name, "counter_en": counter.name_en or counter.name}
    done = own_called in held and _release(conn, config.hall_id, now, own_called, extra)
    soon = sorted(k for k in held if k != own_soon and k.startswith(f"{SOON}-"))
    _release_soon(conn, config, now, row.service, soon)
    return done


def forget_before(conn: Connection, hall_id: str, before: dt.datetime) -> int:
    """At the day's closing every ticket of the day has ended: its notices the gateway has
    not taken (none configured, or down all along) go with their numbers."""
    n: int = conn.execute(
        delete(S).where(
            S.c.hall_id == hall_id,
            S.c.sent_at.is_(None),
            S.c.template.in_((SOON, CALLED)),
            S.c.created_at < before,
        )
    ).rowcount
    return n


def forget(conn: Connection, hall_id: str, ticket_ids: Iterable[int]) -> int:
    """Tickets that ended (cancelled, expired): their notices not yet sent go, with the
    number — held ones will never be due, and one due but not yet taken by the gateway
    would now tell of a queue the ticket has left."""
    keys = [key(template, i) for i in ticket_ids for template in (SOON, CALLED)]
    if not keys:
        return 0
    n: int = conn.execute(
        delete(S).where(S.c.hall_id == hall_id, S.c.sent_at.is_(None), S.c.key.in_(keys))
    ).rowcount
    return n

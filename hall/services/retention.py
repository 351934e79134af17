"""Purge of personal data after the retention period; statistics stay.

Every table that can hold something about a person is covered: tickets and appointments
(masked names and IDs, ID hashes, transfer notes), evaluations (the comment; the score
stays for the statistics), help requests (their free text), the event log (events carry
masked names) and expired staff sessions. Free text is scrubbed on the way in as well
(``common.personal.scrub_free_text``), so a typed ID number never waits this long."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import delete, update

from hall.services.context import HallContext
from hall.storage import tables as t


def purge(ctx: HallContext) -> int:
    """Clears or deletes what is older than ``retention_days``. Returns the number of rows
    touched."""
    cutoff = ctx.today() - dt.timedelta(days=ctx.config.policy.retention_days)
    since = dt.datetime.combine(cutoff, dt.time(), tzinfo=ctx.config.tz)
    T, A, E, H, V = t.tickets, t.appointments, t.evaluations, t.help_requests, t.events
    with ctx.write() as tx:
        n = tx.conn.execute(
            update(T)
            .where(
                T.c.hall_id == ctx.hall_id,
                T.c.day < cutoff,
                (T.c.id_hash.is_not(None))
                | (T.c.name_masked.is_not(None))
                | (T.c.id_masked.is_not(None))
                | (T.c.note.is_not(None)),
            )
            .values(id_hash=None, id_masked=None, name_masked=None, note=None)
        ).rowcount
        n += tx.conn.execute(
            update(A)
            .where(
                A.c.hall_id == ctx.hall_id,
                A.c.day < cutoff,
                (A.c.id_hash.is_not(None))
                | (A.c.id_masked.is_not(None))
                | (A.c.name_masked.is_not(None))
                | (A.c.phone_masked.is_not(None))
                | (A.c.phone.is_not(None)),
            )
            .values(id_hash=None, id_masked=None, name_masked=None, phone_masked=None, phone=None)
        ).rowcount
        n += tx.conn.execute(  # text messages (issue 21): with any number not yet cleared
            delete(t.sms_outbox).where(
                t.sms_outbox.c.hall_id == ctx.hall_id, t.sms_outbox.c.created_at < since
            )
        ).rowcount
        n += tx.conn.execute(
            update(E)
            .where(E.c.hall_id == ctx.hall_id, E.c.created_at < since, E.c.comment.is_not(None))
            .values(comment=None)
        ).rowcount
        n += tx.conn.execute(
            delete(H).where(H.c.hall_id == ctx.hall_id, H.c.created_at < since)
        ).rowcount
        n += tx.conn.execute(
            delete(V).where(V.c.hall_id == ctx.hall_id, V.c.created_at < since)
        ).rowcount
        n += tx.conn.execute(
            delete(t.web_sessions).where(
                t.web_sessions.c.hall_id == ctx.hall_id, t.web_sessions.c.expires_at < tx.now
            )
        ).rowcount
    return n

"""Purge of personal data after the retention period; statistics stay."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import update

from hall.services.context import HallContext
from hall.storage import tables as t


def purge(ctx: HallContext) -> int:
    """Clears masked names/IDs and ID hashes of tickets and appointments older than
    ``retention_days``. Returns the number of rows touched."""
    cutoff = ctx.today() - dt.timedelta(days=ctx.config.policy.retention_days)
    T, A = t.tickets, t.appointments
    with ctx.write() as tx:
        n = tx.conn.execute(
            update(T)
            .where(
                T.c.hall_id == ctx.hall_id,
                T.c.day < cutoff,
                (T.c.id_hash.is_not(None))
                | (T.c.name_masked.is_not(None))
                | (T.c.id_masked.is_not(None)),
            )
            .values(id_hash=None, id_masked=None, name_masked=None)
        ).rowcount
        n += tx.conn.execute(
            update(A)
            .where(
                A.c.hall_id == ctx.hall_id,
                A.c.day < cutoff,
                (A.c.id_hash.is_not(None)) | (A.c.id_masked.is_not(None)),
            )
            .values(id_hash=None, id_masked=None)
        ).rowcount
    return n

"""Delivers the outbox to the provincial 好差评 system (``[province]``): one record at a time,
oldest first (so the steps of a case arrive in order), each POSTed as JSON with its key; a
failure or a timeout is retried with growing back-off and the same key, so the receiver
takes each record once (it answers 2xx for a key it has already taken). The records are in
the outbox from the same transaction as the change they describe, so nothing is lost when
the hall or the receiver restarts. Schema: docs/evaluation-data.md."""

from __future__ import annotations

import json
import logging
import threading
from dataclasses import dataclass

import requests
from sqlalchemy import select, update

from hall.config import Province
from hall.services.context import HallContext
from hall.storage import tables as t

log = logging.getLogger("hall.delivery")
OUT = t.outbox


@dataclass(frozen=True)
class Record:
    id: int
    key: str
    kind: str
    payload: str


def pending(ctx: HallContext, limit: int = 100) -> list[Record]:
    with ctx.read() as conn:
        rows = conn.execute(
            select(OUT.c.id, OUT.c.key, OUT.c.kind, OUT.c.payload)
            .where(OUT.c.hall_id == ctx.hall_id, OUT.c.sent_at.is_(None))
            .order_by(OUT.c.id)
            .limit(limit)
        ).all()
    return [Record(r.id, r.key, r.kind, r.payload) for r in rows]


def _mark(ctx: HallContext, record: Record, sent: bool) -> None:
    with ctx.write() as tx:
        values = {"sent_at": tx.now} if sent else {"attempts": OUT.c.attempts + 1}
        tx.conn.execute(update(OUT).where(OUT.c.id == record.id).values(**values))


class Sender:
    """The sending loop, in a thread of its own (``start``/``stop``)."""

    def __init__(self, ctx: HallContext, province: Province) -> None:
        self.ctx, self.province = ctx, province
        self.session = requests.Session()
        if province.token:
            self.session.headers["Authorization"] = f"Bearer {province.token}"
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self.delivered = 0

    def start(self) -> Sender:
        self._thread = threading.Thread(target=self._run, name="province-sender", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def nudge(self) -> None:
        """Something new is in the outbox: send without waiting for the next poll."""
        self._wake.set()

    def send_one(self, record: Record) -> bool:
        body = {
            "key": record.key,
            "kind": record.kind,
            "hall": self.ctx.hall_id,
            "data": json.loads(record.payload),
        }
        try:
            r = self.session.post(self.province.url, json=body, timeout=self.province.timeout_s)
        except requests.RequestException as err:
            log.warning(
                "province: %s not delivered (%s); will retry", record.key, type(err).__name__
            )
            return False
        if 200 <= r.status_code < 300:
            return True
        log.warning("province: %s refused with %d; will retry", record.key, r.status_code)
        return False

    def _run(self) -> None:
        backoff = self.province.retry_min_s
        while not self._stop.is_set():
            try:
                batch = pending(self.ctx)
            except Exception:  # the database is down: the outbox waits
                log.exception("province: cannot read the outbox")
                batch = []
            for record in batch:
                if self._stop.is_set():
                    return
                if not self.send_one(record):
                    _mark(self.ctx, record, sent=False)
                    self._stop.wait(backoff)  # the same record next, so order holds
                    backoff = min(self.province.retry_max_s, backoff * 2)
                    break
                _mark(self.ctx, record, sent=True)
                self.delivered += 1
                backoff = self.province.retry_min_s
            else:
                self._wake.wait(self.province.poll_s)
                self._wake.clear()

"""Text messages to citizens (短信, issue 21): an outbox in the hall's database and a sender.

``enqueue`` adds a message in the transaction of the change it tells of (a booking), so it
is neither lost nor sent for a change rolled back. ``Delivery`` sends the outbox oldest
first through an ``SmsSender`` — ``HttpSmsGateway`` POSTs JSON to ``[sms].url`` — at most
``rate_per_minute``, retrying a failure or a timeout with growing back-off under the same
key, so a gateway that dedupes by key delivers each message once. Once sent, the number
is cleared from the row; it is never logged, and unsent rows go with the retention purge."""

from __future__ import annotations

import datetime as dt
import json
import logging
import threading
from dataclasses import dataclass
from typing import Any, Protocol

import requests
from sqlalchemy import delete, func, insert, select, update

from common.personal import mask_phone
from hall.config import Sms
from hall.services.context import HallContext, Tx
from hall.storage import tables as t

log = logging.getLogger("hall.sms")
S = t.sms_outbox


class SmsFailed(Exception):
    """The gateway did not take the message (try again later). Never holds the number."""


class SmsSender(Protocol):
    def send(self, key: str, phone: str, template: str, params: dict[str, Any]) -> None:
        """Hand one message to the gateway; raises SmsFailed when it was not taken."""


class HttpSmsGateway:
    """An HTTP SMS gateway: ``POST url`` with ``{key, phone, template_id, sign, params}``."""

    def __init__(self, config: Sms) -> None:
        self.config = config
        self.session = requests.Session()
        if config.token:
            self.session.headers["Authorization"] = f"Bearer {config.token}"

    def send(self, key: str, phone: str, template: str, params: dict[str, Any]) -> None:
        body = {
            "key": key,
            "phone": phone,
            "template_id": self.config.templates.get(template, template),
            "sign": self.config.signature,
            "params": params,
        }
        try:
            r = self.session.post(self.config.url, json=body, timeout=self.config.timeout_s)
        except requests.RequestException as err:
            raise SmsFailed(type(err).__name__) from None
        if not 200 <= r.status_code < 300:
            raise SmsFailed(f"HTTP {r.status_code}")


def enqueue(tx: Tx, key: str, phone: str, template: str, params: dict[str, Any]) -> None:
    """One message, in the caller's transaction (``params``: nothing personal)."""
    tx.conn.execute(
        insert(S).values(
            hall_id=tx.hall_id,
            key=key,
            template=template,
            phone=phone,
            phone_masked=mask_phone(phone),
            params=json.dumps(params, ensure_ascii=False),
            created_at=tx.now,
            next_at=tx.now,
            attempts=0,
        )
    )


@dataclass(frozen=True)
class Outcome:
    sent: int = 0
    failed: int = 0
    waiting: int = 0
    """Due but held back by the per-minute limit."""


def deliver_due(ctx: HallContext, sender: SmsSender, config: Sms, limit: int = 50) -> Outcome:
    """Send what is due now, oldest first, within the per-minute limit."""
    now = ctx.now()
    with ctx.read() as conn:
        recent = conn.execute(
            select(func.count())
            .select_from(S)
            .where(S.c.hall_id == ctx.hall_id, S.c.sent_at > now - dt.timedelta(minutes=1))
        ).scalar_one()
        due = conn.execute(
            select(S.c.id, S.c.key, S.c.template, S.c.phone, S.c.params, S.c.attempts)
            .where(
                S.c.hall_id == ctx.hall_id,
                S.c.sent_at.is_(None),
                S.c.phone.is_not(None),
                S.c.next_at <= now,
            )
            .order_by(S.c.id)
            .limit(limit)
        ).all()
    sent = failed = 0
    for n, row in enumerate(due):
        if recent + sent >= config.rate_per_minute:
            return Outcome(sent, failed, len(due) - n)
        try:
            sender.send(row.key, row.phone, row.template, json.loads(row.params))
        except SmsFailed as err:
            failed += 1
            wait = min(config.retry_max_s, config.retry_min_s * 2 ** min(row.attempts, 20))
            log.warning("sms %s not taken (%s); again in %.0f s", row.key, err, wait)
            with ctx.write() as tx:
                tx.conn.execute(
                    update(S)
                    .where(S.c.id == row.id)
                    .values(attempts=S.c.attempts + 1, next_at=tx.now + dt.timedelta(seconds=wait))
                )
            continue
        sent += 1
        with ctx.write() as tx:  # sent: the number is not kept
            tx.conn.execute(update(S).where(S.c.id == row.id).values(sent_at=tx.now, phone=None))
    return Outcome(sent, failed, 0)


def purge(ctx: HallContext, before: dt.datetime) -> int:
    """Messages older than the retention period go, sent or not (with their numbers)."""
    with ctx.write() as tx:
        n: int = tx.conn.execute(
            delete(S).where(S.c.hall_id == ctx.hall_id, S.c.created_at < before)
        ).rowcount
        return n


class Delivery:
    """The sending loop in a thread of its own (``start``/``stop``), as the province's."""

    def __init__(self, ctx: HallContext, config: Sms, sender: SmsSender | None = None) -> None:
        self.ctx, self.config = ctx, config
        self.sender = sender or HttpSmsGateway(config)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> Delivery:
        self._thread = threading.Thread(target=self._run, name="sms-sender", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                deliver_due(self.ctx, self.sender, self.config)
            except Exception:  # the database is down: the outbox waits
                log.exception("sms: cannot deliver the outbox")
            self._stop.wait(self.config.poll_s)

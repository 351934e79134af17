"""The offline journal: tickets issued while the hall was unreachable, on the kiosk's disk.

One JSON object per line, appended and fsync'ed before the ticket is shown, so a power cut
after the citizen saw a number never loses it. Three kinds of line::

    {"kind": "issued", "day": "2025-05-01", "offline_number": "K1-A001", "service": "A",
     "issued_at": "2025-05-01T09:12:03+08:00", "priority": null, "name_masked": "张*三",
     "withdraw_key": "9f0c…"}
    {"kind": "uploaded", "day": "2025-05-01", "offline_number": "K1-A001", "ticket_id": 17}
    {"kind": "withdrawn", "day": "2025-05-01", "key": "9f0c…", "outcome": "cancelled"}

``withdraw_key`` is the Idempotency-Key of an online issue whose answer never came (a read
timeout, a connection cut mid-answer): the hall may have issued that ticket, so it is
cancelled once the hall is back, or the hall would call a phantom ticket nobody holds. It
is written in the same line as the offline ticket that replaced it (one fsync: the citizen
never holds a paper whose phantom the kiosk forgot).

Nothing personal beyond the masked name: never an ID number. A torn last line (power cut
mid-write) is skipped on reading; numbers continue after the highest one seen that day, so
a number is never given twice even if the tear hid an issued line's upload.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class OfflineTicket:
    offline_number: str
    service: str
    issued_at: dt.datetime
    priority: str | None = None
    name_masked: str | None = None

    withdraw_key: str | None = None

    def import_item(self, kiosk: str) -> dict[str, Any]:
        item: dict[str, Any] = {
            "kiosk": kiosk,
            "offline_number": self.offline_number,
            "service": self.service,
            "issued_at": self.issued_at.isoformat(),
        }
        if self.priority:
            item["priority"] = self.priority
        if self.name_masked:
            item["name_masked"] = self.name_masked
        return item


@dataclass(frozen=True)
class Withdrawal:
    """An online issue whose answer was lost; the hall may hold a ticket for ``key``."""

    key: str
    day: str
    service: str
    offline_number: str
    failed_at: dt.datetime


# What became of a withdrawal: "cancelled" (the phantom was still waiting), "not_issued"
# (the hall never issued it), "already_called" (the citizen holds two tickets: acceptable),
# "refused" (another hall error; logged for staff), "stale" (an earlier day's queue is gone).
WITHDRAW_OUTCOMES = ("cancelled", "not_issued", "already_called", "refused", "stale")


class OfflineJournal:
    def __init__(self, path: Path, offline_prefix: str) -> None:
        self.path = Path(path)
        self.prefix = offline_prefix
        self._lock = threading.Lock()
        self.path.parent.mkdir(parents=True, exist_ok=True)

    def _lines(self) -> list[dict[str, Any]]:
        if not self.path.exists():
            return []
        out: list[dict[str, Any]] = []
        for line in self.path.read_text(encoding="utf-8").splitlines():
            try:
                rec = json.loads(line)
            except ValueError:
                continue  # torn by a power cut mid-write
            if isinstance(rec, dict) and "kind" in rec:
                out.append(rec)
        return out

    def _append(self, rec: dict[str, Any]) -> None:
        data = (json.dumps(rec, ensure_ascii=False) + "\n").encode("utf-8")
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            # A torn earlier line without its newline would swallow this one: start fresh.
            if os.fstat(fd).st_size and not self.path.read_bytes().endswith(b"\n"):
                data = b"\n" + data
            os.write(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)

    def issue(
        self,
        service: str,
        prefix: str,
        now: dt.datetime,
        *,
        priority: str | None = None,
        name_masked: str | None = None,
        withdraw_key: str | None = None,
    ) -> OfflineTicket:
        """A new offline number for ``service`` (letter ``prefix``), journaled durably, with
        the Idempotency-Key of the failed online issue it replaces, if any."""
        if now.tzinfo is None:
            raise ValueError("offline tickets need an aware issue time")
        day = now.date().isoformat()
        stem = f"{self.prefix}-{prefix}"
        pattern = re.compile(rf"^{re.escape(stem)}(\d+)$")
        with self._lock:
            seqs = [
                int(m.group(1))
                for r in self._lines()
                if r.get("day") == day and (m := pattern.match(str(r.get("offline_number"))))
            ]
            number = f"{stem}{max(seqs, default=0) + 1:03d}"
            ticket = OfflineTicket(number, service, now, priority, name_masked, withdraw_key)
            rec: dict[str, Any] = {
                "kind": "issued",
                "day": day,
                "offline_number": number,
                "service": service,
                "issued_at": now.isoformat(),
                "priority": priority,
                "name_masked": name_masked,
            }
            if withdraw_key:
                rec["withdraw_key"] = withdraw_key
            self._append(rec)
        return ticket

    def pending(self) -> list[OfflineTicket]:
        """Issued and not yet confirmed by the hall, oldest first."""
        with self._lock:
            lines = self._lines()
        done = {
            (r["day"], r["offline_number"]) for r in lines if r["kind"] in ("uploaded", "refused")
        }
        out = []
        for r in lines:
            if r["kind"] == "issued" and (r["day"], r["offline_number"]) not in done:
                out.append(
                    OfflineTicket(
                        r["offline_number"],
                        r["service"],
                        dt.datetime.fromisoformat(r["issued_at"]),
                        r.get("priority"),
                        r.get("name_masked"),
                        r.get("withdraw_key"),
                    )
                )
        return out

    def withdrawals(self) -> list[Withdrawal]:
        """Lost-answer issues not yet settled with the hall, oldest first. Independent of
        the upload: the offline ticket may be in the queue long before the phantom's fate
        is known (a 404 is only believed once the lost request can no longer arrive)."""
        with self._lock:
            lines = self._lines()
        done = {(r["day"], r["key"]) for r in lines if r["kind"] == "withdrawn"}
        return [
            Withdrawal(
                r["withdraw_key"],
                r["day"],
                r["service"],
                r["offline_number"],
                dt.datetime.fromisoformat(r["issued_at"]),
            )
            for r in lines
            if r["kind"] == "issued"
            and r.get("withdraw_key")
            and (r["day"], r["withdraw_key"]) not in done
        ]

    def mark_withdrawn(self, w: Withdrawal, outcome: str) -> None:
        if outcome not in WITHDRAW_OUTCOMES:
            raise ValueError(f"unknown withdrawal outcome {outcome!r}")
        with self._lock:
            self._append({"kind": "withdrawn", "day": w.day, "key": w.key, "outcome": outcome})

    def mark_refused(self, ticket: OfflineTicket, code: str, message: str) -> None:
        """The hall refused this ticket for good (another day, a wrong prefix, …): it leaves
        the pending set, so it is not sent for ever, and stays here with its reason for
        staff (the maintenance page counts it; the hall's dashboard lists it)."""
        with self._lock:
            self._append(
                {
                    "kind": "refused",
                    "day": ticket.issued_at.date().isoformat(),
                    "offline_number": ticket.offline_number,
                    "code": code,
                    "message": message[:200],
                }
            )

    def refused(self, day: dt.date) -> list[tuple[str, str]]:
        """(offline number, code) of the tickets of ``day`` the hall refused."""
        with self._lock:
            lines = self._lines()
        return [
            (r["offline_number"], r["code"])
            for r in lines
            if r["kind"] == "refused" and r["day"] == day.isoformat()
        ]

    def mark_uploaded(self, tickets: list[OfflineTicket], ids: list[int | None]) -> None:
        with self._lock:
            for ticket, ticket_id in zip(tickets, ids, strict=True):
                self._append(
                    {
                        "kind": "uploaded",
                        "day": ticket.issued_at.date().isoformat(),
                        "offline_number": ticket.offline_number,
                        "ticket_id": ticket_id,
                    }
                )

    def drop_stale(self, today: dt.date) -> list[OfflineTicket]:
        """Tickets from an earlier day can no longer join a queue (the hall refuses them):
        mark them done so they stop blocking the upload, and return them for the log."""
        stale = [t for t in self.pending() if t.issued_at.date() < today]
        if stale:
            self.mark_uploaded(stale, [None] * len(stale))
        for w in self.withdrawals():
            if dt.date.fromisoformat(w.day) < today:
                self.mark_withdrawn(w, "stale")  # yesterday's phantom will never be called
        return stale

"""Typed rows of the tables the services read most: what a ``SELECT`` of the whole row
gives, as a frozen dataclass instead of an untyped ``Row``. The field names are the
column names (a test checks the two match)."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any, Self

from sqlalchemy import Row

from hall.domain.tickets import CounterState


class _FromRow:
    @classmethod
    def of(cls, row: Row[Any]) -> Self:
        return cls(**row._mapping)


@dataclasses.dataclass(frozen=True, slots=True)
class TicketRow(_FromRow):
    id: int
    hall_id: str
    day: dt.date
    number: str
    service: str
    klass: str
    priority_reason: str | None
    status: str
    issued_at: dt.datetime
    queue_time: dt.datetime
    called_at: dt.datetime | None
    started_at: dt.datetime | None
    finished_at: dt.datetime | None
    counter_id: str | None
    recall_count: int
    last_announced_at: dt.datetime | None
    pinned_counter: str | None
    return_counter: str | None
    return_service: str | None
    origin_id: int | None
    transferred_to: int | None
    note: str | None
    kiosk: str | None
    offline_number: str | None
    idempotency_key: str | None
    appointment_id: int | None
    public_token: str
    id_hash: str | None
    id_masked: str | None
    name_masked: str | None
    verification: str | None
    reprinted_at: dt.datetime | None
    remote: int | None = None
    confirm_by: dt.datetime | None = None
    confirmed_at: dt.datetime | None = None
    staff_account: int | None = None
    staff_no: str | None = None


@dataclasses.dataclass(frozen=True, slots=True)
class CounterRow(_FromRow):
    hall_id: str
    id: str
    state: CounterState
    reason: str | None
    since: dt.datetime
    staff_account: int | None = None


@dataclasses.dataclass(frozen=True, slots=True)
class AppointmentRow(_FromRow):
    id: int
    hall_id: str
    service: str
    slot_start: dt.datetime
    day: dt.date
    status: str
    id_hash: str | None
    id_masked: str | None
    created_at: dt.datetime
    checked_in_at: dt.datetime | None
    ticket_id: int | None
    code: str | None = None
    slot_end: dt.datetime | None = None
    channel: str | None = None
    name_masked: str | None = None
    phone_masked: str | None = None
    cancelled_at: dt.datetime | None = None
    cancel_reason: str | None = None
    notice: str | None = None
    phone: str | None = None


@dataclasses.dataclass(frozen=True, slots=True)
class CaseRow(_FromRow):
    """A 差评 or complaint case (hall.services.cases)."""

    id: int
    hall_id: str
    kind: str
    status: str
    ticket_id: int | None
    evaluation_id: int | None
    service: str | None
    counter_id: str | None
    contact: str | None
    description: str
    opened_on: dt.date
    due_on: dt.date
    extended_to: dt.date | None
    extension_reason: str | None
    created_by: str
    created_at: dt.datetime
    closed_at: dt.datetime | None

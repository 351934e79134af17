"""What events carry about a ticket: built from the row and the config alone (no context),
so the day's closing can use it below the context."""

from __future__ import annotations

from typing import Any

from hall.config import HallConfig
from hall.domain.tickets import Status
from hall.schemas import EventTicket
from hall.storage.rows import TicketRow


def event_ticket(config: HallConfig, row: TicketRow) -> EventTicket:
    """What events carry about a ticket: no ID data, the masked name only."""
    return EventTicket(**event_fields(config, row))


def event_fields(config: HallConfig, row: TicketRow) -> dict[str, Any]:
    counter = config.counter(row.counter_id) if row.counter_id else None
    return {
        "id": row.id,
        "number": row.number,
        "service": row.service,
        "priority": row.klass,
        "status": Status(row.status),
        "counter": row.counter_id,
        "counter_name": counter.name if counter else None,
        "counter_name_en": counter.name_en if counter else None,
        "name_masked": row.name_masked,
        "recall_count": row.recall_count,
        "verification": row.verification,
    }

"""Who did a counter action: the staff account signed in on the counter page, with its 工号.

A counter device's token (the API, a hardware keypad) has no person: its actions carry no
actor and stay valid. An actor's account id and 工号 go into the action's event (under
``staff``, added beside the event's old fields) and onto the rows the performance figures
read (the ticket's ``staff_account``/``staff_no``, a pause's), so the figures credit the
person who did the work, not whoever's account lists the counter. Nothing about a citizen
is here: a 工号 is what the evaluation pad shows every citizen anyway."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Actor:
    account_id: int
    staff_no: str | None = None

    def event(self) -> dict[str, Any]:
        """The field added to an event's data."""
        return {"staff": {"account": self.account_id, "staff_no": self.staff_no}}

    def columns(self) -> dict[str, Any]:
        """The columns set on a ticket or pause row."""
        return {"staff_account": self.account_id, "staff_no": self.staff_no}


def event_of(by: Actor | None) -> dict[str, Any]:
    return by.event() if by is not None else {}


def columns_of(by: Actor | None) -> dict[str, Any]:
    return by.columns() if by is not None else {}

"""What a citizen can ask without taking a ticket: the queue status of a ticket, the
service guide (办事指南 / 一次告知: what to bring), and help from staff (帮办代办)."""

from __future__ import annotations

from typing import Any

from common.tickets import Status
from kiosk.flows.base import FlowBase
from kiosk.flows.model import (
    Effect,
    HelpRequest,
    KeypadMode,
    PartState,
    PrintGuide,
    Purpose,
    QueryTicket,
    Screen,
)


def ticket_status(value: Any) -> Status | None:
    """The hall's ticket status, None for one this kiosk does not know (shown as sent)."""
    try:
        return Status(value)
    except ValueError:
        return None


class Lookup(FlowBase):
    # -- queue status -----------------------------------------------------------------------
    def tap_status(self) -> list[Effect]:
        self._touch()
        self._purpose = Purpose.STATUS
        return self._open_keypad(KeypadMode.STATUS, self._txt("status_enter"))

    def _status_typed(self, ticket_id: int | None, number: str) -> list[Effect]:
        return [QueryTicket(self.token, ticket_id=ticket_id, number=number)]

    def on_ticket_status(self, token: int, ticket: dict[str, Any]) -> list[Effect]:
        if token != self.token:
            return []
        raw = ticket.get("status", "")
        status = ticket_status(raw)
        lines = [
            self._txt("status_number", number=ticket["number"]),
            self._txt(f"state_{status.value}") if status is not None else raw,
        ]
        if status is Status.WAITING:
            lines.append(self._txt("status_ahead", ahead=ticket.get("waiting_ahead", 0)))
        elif status is Status.CALLED and ticket.get("counter_name"):
            lines.append(self._txt("status_counter", counter=ticket["counter_name"]))
        self._status_lines = tuple(lines)
        return self._go(Screen.STATUS, " ".join(lines))

    def on_status_failed(self, token: int, code: str) -> list[Effect]:
        if token != self.token:
            return []
        key = "status_unknown" if code == "not_found" else "hall_unreachable"
        return self._open_keypad(KeypadMode.STATUS, self._txt(key), error=True)

    # -- service guide ----------------------------------------------------------------------
    def tap_guide(self) -> list[Effect]:
        self._touch()
        return self._go(Screen.GUIDE_LIST, self._txt("say_guide"))

    def tap_guide_service(self, code: str) -> list[Effect]:
        self._touch()
        tile = next((s for s in self.tiles if s.code == code), None)
        if tile is None:
            return []
        self._guide = tile
        mats = tile.materials_en if self.lang == "en" and tile.materials_en else tile.materials
        text = self._txt("say_materials", service=tile.label(self.lang), materials="；".join(mats))
        return self._go(Screen.GUIDE, text)

    def print_guide(self) -> list[Effect]:
        self._touch()
        if self._guide is None:
            return []
        return [PrintGuide(self.token, self._guide)]

    def on_guide_printed(self, token: int, ok: bool) -> list[Effect]:
        if token != self.token or self._screen is not Screen.GUIDE:
            return []
        if not ok:
            self.parts["printer"] = self._part("printer") or PartState.ERROR
        key = "guide_printed" if ok else "guide_print_failed"
        return self._go(Screen.GUIDE, self._txt(key), error=not ok)

    # -- help -------------------------------------------------------------------------------
    def tap_help(self) -> list[Effect]:
        self._touch()
        effects = self._go(Screen.MESSAGE, self._txt("help_sending"), speak=False)
        return [*effects, HelpRequest(self.token, "citizen_asked")]

    def on_help_sent(self, token: int, ok: bool) -> list[Effect]:
        if token != self.token:
            return []
        if self._screen is Screen.MESSAGE and self._message_error and ok:
            return []  # a face review already told the citizen what happens
        if ok and self._screen is Screen.MESSAGE and self._message == self._txt("passport_help"):
            return []  # the passport holder already knows staff will take their ticket
        return self._go(
            Screen.MESSAGE, self._txt("help_sent" if ok else "help_failed"), error=not ok
        )

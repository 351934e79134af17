"""The maintenance page: five quick taps on a hidden corner open the PIN pad, the admin PIN
opens the page, and its buttons test the printer and the reader, poll the devices, restart
or quit the kiosk."""

from __future__ import annotations

from kiosk.flows.base import FlowBase
from kiosk.flows.model import (
    Effect,
    KeypadMode,
    PollDevices,
    PrintTicket,
    Quit,
    Screen,
    TestReader,
    TicketView,
)

CORNER_TAPS = 5  # taps on the hidden corner within CORNER_WINDOW_S open the PIN pad
CORNER_WINDOW_S = 4.0
PIN_ATTEMPTS = 3


class Maintenance(FlowBase):
    def corner_tap(self) -> list[Effect]:
        now = self.clock()
        self._corner = [c for c in self._corner if (now - c).total_seconds() < CORNER_WINDOW_S] + [
            now
        ]
        if len(self._corner) >= CORNER_TAPS:
            self._corner = []
            self._touch()
            return self._open_keypad(KeypadMode.PIN, self._txt("pin_enter"), speak=False)
        return []

    def _pin_typed(self, pin: str) -> list[Effect]:
        if pin == self.settings.admin_pin:
            self._pin_failures = 0
            return [*self._go(Screen.MAINTENANCE, speak=False), PollDevices(0)]
        self._pin_failures += 1
        if self._pin_failures >= PIN_ATTEMPTS:
            self._pin_failures = 0
            return self.home()
        return self._go(Screen.KEYPAD, self._txt("pin_wrong"), error=True, speak=False)

    def maintenance_action(self, action: str) -> list[Effect]:
        self._touch()
        if self._screen is not Screen.MAINTENANCE:
            return []
        if action == "test_print":
            sample = TicketView(
                "A000",
                self._txt("test_ticket"),
                0,
                0,
                self.clock(),
                False,
                f"GH1|{self.hall_id}|test",
            )
            return [PrintTicket(0, sample)]
        if action == "test_reader":
            return [TestReader(0)]
        if action == "poll":
            return [PollDevices(0)]
        if action == "reload":
            return [Quit(0, restart=True)]
        if action == "quit":
            return [Quit(0)]
        return []

    def on_maintenance_note(self, text: str) -> list[Effect]:
        if self._screen is Screen.MAINTENANCE:
            return self._go(Screen.MAINTENANCE, text, speak=False)
        return []

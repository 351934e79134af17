"""The keypad in its three modes (``KeypadMode``): a citizen's ID number when there is no
card (its birth date masked as typed), the number on a ticket or its query code for the
queue status, and the admin PIN (dots). It checks what was typed and hands it to the
journey of the mode: take_ticket, lookup or maintenance."""

from __future__ import annotations

from common.personal import InvalidIdNumber, validate_person_number
from kiosk.flows.base import FlowBase
from kiosk.flows.model import Effect, KeypadMode, Screen
from kiosk.flows.numbers import mask_typed_id, normalize_ticket_number

STATUS_MAX = 12
LIMITS = {
    KeypadMode.ID: 18,
    KeypadMode.STATUS: STATUS_MAX,
    KeypadMode.PIN: 12,
    KeypadMode.RATING: STATUS_MAX,  # 评价上次办理: a ticket number (kiosk/flows/rating.py)
}
"""The most keys each mode takes."""


class Keypad(FlowBase):
    def _open_keypad(
        self, mode: KeypadMode, message: str = "", *, error: bool = False, speak: bool = True
    ) -> list[Effect]:
        self._keypad_mode = mode
        self._keys = ""
        return self._go(Screen.KEYPAD, message, error=error, speak=speak)

    def _keypad_keys(self) -> str:
        """The keys offered: digits, with X for an ID number, the letters and the dash
        a ticket number can hold for the status."""
        if self._keypad_mode is KeypadMode.ID:
            return "0123456789X"
        if self._keypad_mode is KeypadMode.STATUS:
            return self._status_letters() + "0123456789-"
        return "0123456789"

    def _keypad_shown(self) -> str:
        """What the keypad shows of the keys typed: a PIN as dots, an ID number masked."""
        if self._keypad_mode is KeypadMode.PIN:
            return "●" * len(self._keys)
        if self._keypad_mode is KeypadMode.ID:
            return mask_typed_id(self._keys)
        return self._keys

    def _known_prefixes(self) -> tuple[str, ...]:
        return tuple(tile.prefix for tile in self.tiles)

    def _status_letters(self) -> str:
        """Only the letters a ticket number can hold here (the hall's prefixes and this
        kiosk's offline prefix): fewer, bigger keys than a whole alphabet."""
        letters = {ch for tile in self.tiles for ch in tile.prefix.upper() if ch.isalpha()}
        letters |= {ch for ch in self.settings.offline_prefix.upper() if ch.isalpha()}
        return "".join(sorted(letters))

    def key(self, ch: str) -> list[Effect]:
        self._touch()
        if self._screen is not Screen.KEYPAD or self._keypad_mode is None:
            return []
        ch = ch.upper()
        if ch in self._keypad_keys() and len(self._keys) < LIMITS[self._keypad_mode]:
            self._keys += ch
        self.view = self._render()
        return []

    def key_delete(self) -> list[Effect]:
        self._touch()
        self._keys = self._keys[:-1]
        self.view = self._render()
        return []

    def key_ok(self) -> list[Effect]:
        self._touch()
        if self._screen is not Screen.KEYPAD:
            return []
        match self._keypad_mode:
            case KeypadMode.ID:
                try:
                    number = validate_person_number(self._keys)
                except InvalidIdNumber:
                    # The typed digits stay: the citizen corrects one digit, not eighteen.
                    return self._go(Screen.KEYPAD, self._txt("invalid_id"), error=True)
                self._keys = ""
                self._keypad_mode = None
                return self._id_typed(number)
            case KeypadMode.STATUS:
                # By the printed number only: a database id would let anyone walk through
                # other people's tickets (the ticket's QR code opens its own page instead).
                ticket_number = normalize_ticket_number(self._keys, self._known_prefixes())
                if ticket_number is None:
                    return self._go(Screen.KEYPAD, self._txt("status_enter"), error=True)
                return self._status_typed(None, ticket_number)
            case KeypadMode.PIN:
                pin, self._keys = self._keys, ""
                return self._pin_typed(pin)
        return []

"""Keypad: manual ID number (masked as typed), queue status (ticket number A012 or the
query code), admin PIN."""

from __future__ import annotations

from typing import Any

from kivy.properties import NumericProperty

from kiosk.flows.model import KeypadMode
from kiosk.screens.widgets import GREY, BigButton, KioskScreen

DIGITS = "0123456789"


class KeypadScreen(KioskScreen):
    letter_rows = NumericProperty(0)
    _keys = ""

    def render(self, view: Any) -> None:
        super().render(view)
        if view.keypad_keys == self._keys:
            return
        self._keys = view.keypad_keys
        # Letters go in their own rows above the digits (the X of an ID number stays on the
        # pad's spare corner, where citizens expect it).
        letters = [
            k
            for k in view.keypad_keys
            if k.isalpha() and (k != "X" or view.keypad_mode is not KeypadMode.ID)
        ]
        letter_grid = self.ids.lettergrid
        letter_grid.clear_widgets()
        for k in letters:
            letter_grid.add_widget(self._key(k))
        self.letter_rows = -(-len(letters) // letter_grid.cols)
        # The spare corner of the 3×4 pad: X of an ID number, or the dash of K1-A003.
        spare = "X" if view.keypad_mode is KeypadMode.ID else "-" if "-" in view.keypad_keys else ""
        grid = self.ids.keygrid
        grid.clear_widgets()
        for k in [*"123456789", spare, "0", "⌫"]:
            grid.add_widget(self._key(k))

    def _key(self, k: str) -> BigButton:
        b = BigButton(text=k if k != "⌫" else self.tr("btn_delete"))
        b.size_hint_y = 1  # rows share the height left (landscape has little)
        if k != "⌫":
            b.font_size = b.font_size * 1.5
        if not k:
            b.disabled, b.opacity = True, 0
        elif k == "⌫":
            b.colour = list(GREY)
            b.bind(on_release=lambda _b: self.act("key_delete"))
        else:
            b.bind(on_release=lambda _btn, ch=k: self.act("key", ch))
        return b

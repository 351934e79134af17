"""Keypad: manual ID number (masked as typed), queue-status query code, admin PIN."""

from __future__ import annotations

from typing import Any

from kiosk.screens.widgets import BigButton, KioskScreen


class KeypadScreen(KioskScreen):
    _keys = ""

    def render(self, view: Any) -> None:
        super().render(view)
        if view.keypad_keys == self._keys:
            return
        self._keys = view.keypad_keys
        grid = self.ids.keygrid
        grid.clear_widgets()
        keys = list("123456789") + (["X"] if "X" in view.keypad_keys else [""]) + ["0", "⌫"]
        for k in keys:
            b = BigButton(text=k if k != "⌫" else self.tr("btn_delete"))
            b.font_size = b.font_size * 1.5 if k != "⌫" else b.font_size
            if not k:
                b.disabled, b.opacity = True, 0
            elif k == "⌫":
                b.colour = [0.33, 0.33, 0.33, 1]
                b.bind(on_release=lambda _b: self.act("key_delete"))
            else:
                b.bind(on_release=lambda btn, ch=k: self.act("key", ch))
            grid.add_widget(b)

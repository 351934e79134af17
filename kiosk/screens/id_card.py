"""Place the ID card: a drawn card over the reader, the spoken prompt, and the keypad way out."""

from __future__ import annotations

from kiosk.screens.widgets import KioskScreen


class IdCardScreen(KioskScreen):
    pass

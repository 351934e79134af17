"""A message (refusal, fault, help on its way) with the way home."""

from __future__ import annotations

from kiosk.screens.widgets import KioskScreen


class MessageScreen(KioskScreen):
    pass

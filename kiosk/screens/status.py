"""Queue status of one ticket."""

from __future__ import annotations

from kiosk.screens.widgets import KioskScreen


class StatusScreen(KioskScreen):
    pass

"""Issuing: a short wait while the hall (or the offline journal) gives the number."""

from __future__ import annotations

from kiosk.screens.widgets import KioskScreen


class IssuingScreen(KioskScreen):
    pass

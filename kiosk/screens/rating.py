"""评价上次办理: the five levels, and a 差评's reasons (the flow decides, kiosk/flows/rating.py)."""

from __future__ import annotations

from kiosk.screens.widgets import KioskScreen


class RatingScreen(KioskScreen):
    pass

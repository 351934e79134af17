"""The ticket life cycle every part shares: the hall stores it, the kiosk and the board show
it, the citizen's page explains it. One enum, so a new state is added once."""

from __future__ import annotations

from enum import StrEnum


class Status(StrEnum):
    WAITING = "waiting"
    CALLED = "called"
    SERVING = "serving"
    DONE = "done"
    PARKED = "parked"
    NO_SHOW = "no_show"
    TRANSFERRED = "transferred"
    CANCELLED = "cancelled"
    EXPIRED = "expired"  # still open when the hall closed its day (never called again)

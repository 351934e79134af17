"""The ranges every id and instant the hall deals in stays within (pure values)."""

from __future__ import annotations

MAX_ID = 2**62
"""Ids fit a 63-bit integer on every database."""
FIRST_YEAR, LAST_YEAR = 2000, 2099
"""Instants a hall deals in (an offline ticket's issue time, a slot, a report's range):
checked on the year alone, because converting ``0001-01-01T00:00+14:00`` to UTC, or adding
a day to 9999-12-31, would itself overflow."""

"""What the kiosk does with the hall and its devices while citizens come and go: the
services and their queues, the device poll, the heartbeat (which also tells whether the
hall is reachable), and the upload of the offline journal once it is back."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from kiosk.flows.base import FlowBase
from kiosk.flows.model import (
    RESTING_SCREENS,
    Effect,
    Heartbeat,
    LoadServices,
    PartState,
    PollDevices,
    UploadJournal,
    tile_from_api,
)


class Background(FlowBase):
    def _background_due(self, now: dt.datetime) -> list[Effect]:
        """The heartbeat (after a device poll) and, on a resting screen, the services, when
        their time has come."""
        effects: list[Effect] = []
        if (
            self._last_heartbeat is None
            or (now - self._last_heartbeat).total_seconds() >= self.settings.heartbeat_s
        ):
            effects += [PollDevices(0), self._heartbeat_now()]
        if self._screen in RESTING_SCREENS and (
            self._last_services is None
            or (now - self._last_services).total_seconds() >= self.settings.services_refresh_s
        ):
            self._last_services = now
            effects.append(LoadServices(0))
        return effects

    def on_services(self, services: list[dict[str, Any]]) -> list[Effect]:
        self.tiles = tuple(tile_from_api(s) for s in services)
        effects = self._hall_back()
        self.view = self._render()
        return effects

    def on_services_failed(self) -> list[Effect]:
        self.offline = True
        # Waiting counts we can no longer vouch for are hidden, not left stale.
        self.tiles = tuple(replace(s, waiting=None) for s in self.tiles)
        self.view = self._render()
        return []

    def on_devices(self, parts: Mapping[str, PartState]) -> list[Effect]:
        self.parts.update({name: PartState(state) for name, state in parts.items()})
        self.view = self._render()
        if self.parts != self._sent_parts:
            return [self._heartbeat_now()]
        return []

    def _heartbeat_now(self) -> Heartbeat:
        self._last_heartbeat = self.clock()
        self._sent_parts = self._parts()
        return Heartbeat(0, self._parts())

    def on_heartbeat(self, ok: bool) -> list[Effect]:
        if not ok:
            if not self.offline:
                self.offline = True
                self.view = self._render()
            return []
        effects = self._hall_back()
        self.view = self._render()
        return effects

    def _hall_back(self) -> list[Effect]:
        was_offline = self.offline
        self.offline = False
        if was_offline or self.pending_uploads or self.pending_withdrawals:
            return [UploadJournal(0), LoadServices(0)] if was_offline else [UploadJournal(0)]
        return []

    def on_uploaded(self, remaining: int, withdrawals: int = 0, refused: int = 0) -> list[Effect]:
        """``remaining`` offline tickets not yet in the hall's queue; ``withdrawals``
        lost-answer tickets not yet settled (both retried at the next heartbeat);
        ``refused`` today's offline tickets the hall refused for good (shown to staff)."""
        self.pending_uploads = remaining
        self.pending_withdrawals = withdrawals
        self.refused_uploads = refused
        self.view = self._render()
        return []

"""Maintenance page (after the hidden corner gesture and the admin PIN)."""

from __future__ import annotations

from typing import Any

from kiosk.flows.model import PartState
from kiosk.screens.widgets import KioskScreen


class MaintenanceScreen(KioskScreen):
    def render(self, view: Any) -> None:
        super().render(view)
        lines = [
            self.tr("hall_offline" if view.offline else "hall_online"),
            self.tr("pending_uploads", n=view.pending_uploads),
            *([self.tr("refused_uploads", n=view.refused_uploads)] if view.refused_uploads else []),
        ]
        for part in ("printer", "reader", "camera", "speaker"):
            state = view.parts.get(part, PartState.ABSENT)
            lines.append(f"{self.tr('device_' + part)}：{self.tr(f'part_{state.value}')}")
        self.ids.states.text = "\n".join(lines)

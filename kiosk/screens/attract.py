"""Attract/idle screen: hall name, clock and waiting counts, and — on a kiosk with a
camera — when the camera is used; any touch starts."""

from __future__ import annotations

from typing import Any

from kivy.app import App

from kiosk.screens.widgets import KioskScreen


class AttractScreen(KioskScreen):
    def render(self, view: Any) -> None:
        super().render(view)
        lines = []
        for tile in view.tiles:
            n = self.tr("waiting_count", n=tile.waiting) if tile.waiting is not None else "—"
            lines.append(f"{tile.label(view.lang)}    {n}")
        half = len(lines) if App.get_running_app().portrait else (len(lines) + 1) // 2
        self.ids.counts.text = "\n".join(lines[:half])
        self.ids.counts2.text = "\n".join(lines[half:])
        self.ids.start.text = self.tr("touch_to_start")
        camera = App.get_running_app().camera is not None
        self.ids.camera_notice.text = self.tr("camera_notice") if camera else ""

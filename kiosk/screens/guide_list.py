"""Service guide: choose a service to see its materials (一次告知)."""

from __future__ import annotations

from typing import Any

from kiosk.screens.widgets import KioskScreen, ServiceTile


class GuideListScreen(KioskScreen):
    def render(self, view: Any) -> None:
        super().render(view)
        grid = self.ids.tiles
        grid.clear_widgets()
        for tile in view.tiles:
            w = ServiceTile(text=f"[b]{tile.label(view.lang)}[/b]", code=tile.code)
            w.bind(on_release=lambda b: self.act("guide_service", b.code))
            grid.add_widget(w)

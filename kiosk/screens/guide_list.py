"""Service guide: choose a service to see its materials (一次告知)."""

from __future__ import annotations

from typing import Any

from kiosk.screens.widgets import KioskScreen, ServiceTile


class GuideListScreen(KioskScreen):
    _specs: tuple[tuple[str, str], ...] = ()

    def render(self, view: Any) -> None:
        super().render(view)
        specs = tuple((tile.code, f"[b]{tile.label(view.lang)}[/b]") for tile in view.tiles)
        if specs == self._specs:
            return  # rebuilt only on change: a rebuild per refresh cost textures (see home)
        self._specs = specs
        grid = self.ids.tiles
        grid.clear_widgets()
        for code, text in specs:
            w = ServiceTile(text=text, code=code)
            w.bind(on_release=lambda b: self.act("guide_service", b.code))
            grid.add_widget(w)

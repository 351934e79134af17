"""Home: big service tiles with waiting counts, and the other functions below them."""

from __future__ import annotations

from typing import Any

from kiosk.screens.widgets import KioskScreen, ServiceTile


class HomeScreen(KioskScreen):
    def render(self, view: Any) -> None:
        super().render(view)
        grid = self.ids.tiles
        grid.clear_widgets()
        for tile in view.tiles:
            if tile.waiting is None:
                count = self.tr("waiting_unknown")
            else:
                count = self.tr("waiting_count", n=tile.waiting)
            tags = []
            if not tile.open:
                tags.append(self.tr("service_closed_tag"))
            elif tile.requires_face:
                tags.append(self.tr("needs_face_tag"))
            elif tile.requires_id:
                tags.append(self.tr("needs_id_tag"))
            sub = tile.name_en if view.lang == "zh" and not view.elderly else ""
            size = "0.55" if not view.elderly else "0.7"
            text = f"[b]{tile.label(view.lang)}[/b]"
            if sub:
                text += f"\n[size={int(float(size) * self.ids.tiles.tile_font)}]{sub}[/size]"
            text += f"\n[size={int(0.62 * self.ids.tiles.tile_font)}][color=1a1a1a]{count}"
            if tags:
                text += "  ·  " + " ".join(tags)
            text += "[/color][/size]"
            w = ServiceTile(text=text, code=tile.code, closed=not tile.open)
            w.bind(on_release=lambda b: self.act("service", b.code))
            grid.add_widget(w)

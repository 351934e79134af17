"""Home: big service tiles with waiting counts, and the other functions below them."""

from __future__ import annotations

from typing import Any

from kiosk.flows.numbers import opening_values
from kiosk.screens.widgets import KioskScreen, ServiceTile

TileSpec = tuple[str, str, bool]  # code, markup text, closed


class HomeScreen(KioskScreen):
    _specs: tuple[TileSpec, ...] = ()
    _widgets: tuple[ServiceTile, ...] = ()

    def render(self, view: Any) -> None:
        super().render(view)
        specs = tuple((tile.code, self._text(tile, view), not tile.open) for tile in view.tiles)
        # The app refreshes every second: rebuilding nine markup tiles each time cost ~8 MB
        # of textures per second until the GC caught up (RSS 360 MB). Only changes are drawn.
        if specs == self._specs:
            return
        if [s[0] for s in specs] == [s[0] for s in self._specs]:
            for w, (_code, text, closed) in zip(self._widgets, specs, strict=True):
                w.text, w.closed = text, closed
        else:
            grid = self.ids.tiles
            grid.clear_widgets()
            widgets = []
            for code, text, closed in specs:
                w = ServiceTile(text=text, code=code, closed=closed)
                w.bind(on_release=lambda b: self.act("service", b.code))
                grid.add_widget(w)
                widgets.append(w)
            self._widgets = tuple(widgets)
        self._specs = specs

    def _text(self, tile: Any, view: Any) -> str:
        if tile.waiting is None:
            count = self.tr("waiting_unknown")
        else:
            count = self.tr("waiting_count", n=tile.waiting)
        tags = []
        opening = opening_values(tile.opens_at) if not tile.open else None
        if opening is not None:
            # closed now, and the hall says when it opens: a citizen before 08:30 reads
            # when to come back rather than 暂停办理
            tags.append(self.tr("service_opens_tag", **opening))
        elif not tile.open:
            tags.append(self.tr("service_closed_tag"))
        elif tile.requires_face:
            tags.append(self.tr("needs_face_tag"))
        elif tile.requires_id:
            tags.append(self.tr("needs_id_tag"))
        sub = tile.name_en if view.lang == "zh" and not view.elderly else ""
        size = 0.55 if not view.elderly else 0.7
        font = self.ids.tiles.tile_font
        text = f"[b]{tile.label(view.lang)}[/b]"
        if sub:
            text += f"\n[size={int(size * font)}]{sub}[/size]"
        count_size = 0.5 if view.elderly else 0.62  # the name grows 1.5×, the count less
        text += f"\n[size={int(count_size * font)}][color=1a1a1a]{count}"
        if tags:
            text += "  ·  " + " ".join(tags)
        return text + "[/color][/size]"

"""One service's materials, readable and printable."""

from __future__ import annotations

from typing import Any

from kiosk.screens.widgets import KioskScreen


class GuideScreen(KioskScreen):
    def render(self, view: Any) -> None:
        super().render(view)
        g = view.guide
        if g is None:
            return
        mats = g.materials_en if view.lang == "en" and g.materials_en else g.materials
        self.ids.service.text = g.label(view.lang)
        self.ids.materials.text = "\n".join(f"{i}. {m}" for i, m in enumerate(mats, 1))

"""Shared widgets: the screen base class, big touch buttons, service tiles, the QR image."""

from __future__ import annotations

import io
from typing import Any

from kivy.app import App
from kivy.core.image import Image as CoreImage
from kivy.properties import BooleanProperty, ListProperty, ObjectProperty, StringProperty
from kivy.uix.button import Button
from kivy.uix.image import Image
from kivy.uix.screenmanager import Screen

from common.i18n import t

# Colours: white-on-blue is 8.6:1, dark-on-white 16:1, white-on-red 6.1:1 (all ≥ WCAG AA).
BLUE = (0.043, 0.306, 0.635, 1)  # #0B4EA2, the usual government-service blue
RED = (0.702, 0.149, 0.118, 1)  # #B3261E
GREEN = (0.0, 0.42, 0.24, 1)  # #006B3D
GREY = (0.33, 0.33, 0.33, 1)


class KioskScreen(Screen):
    """Base: ``render(view)`` updates the widgets; ``tr(key)`` looks texts up."""

    view: Any = ObjectProperty(None, allownone=True)

    def render(self, view: Any) -> None:
        self.view = view

    def forget(self) -> None:
        """Left for another screen: drop what was shown (the .kv rules fall back to empty)."""
        self.view = None

    def tr(self, key: str, **values: Any) -> str:
        lang = self.view.lang if self.view is not None else "zh"
        return t("kiosk", key, lang, **values)

    def act(self, name: str, *args: Any) -> None:
        App.get_running_app().act(name, *args)


class BigButton(Button):
    """At least 140 px high: ≥ 15 mm on the usual 32–43 inch kiosk panels."""

    colour = ListProperty(list(BLUE))


class ServiceTile(Button):
    code = StringProperty("")
    subtitle = StringProperty("")
    detail = StringProperty("")
    closed = BooleanProperty(False)


class QrImage(Image):
    payload = StringProperty("")

    def on_payload(self, _inst: Any, payload: str) -> None:
        if not payload:
            self.texture = None
            return
        import qrcode
        from qrcode.image.pil import PilImage

        # PilImage is qrcode's default whenever Pillow is installed (it is a dependency);
        # naming it gives a Pillow image, not "Pillow or PyPNG".
        img = qrcode.make(payload, box_size=10, border=2, image_factory=PilImage).convert("RGB")
        buf = io.BytesIO()
        img.save(buf, format="PNG")
        buf.seek(0)
        self.texture = CoreImage(buf, ext="png").texture
        self.texture.mag_filter = "nearest"

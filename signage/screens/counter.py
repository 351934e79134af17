"""The HDMI screen over one counter: lays out a ``CounterView``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kivy.clock import Clock
from kivy.lang import Builder
from kivy.properties import BooleanProperty, NumericProperty, ObjectProperty, StringProperty
from kivy.uix.floatlayout import FloatLayout

from common.i18n import t

Builder.load_file(str(Path(__file__).with_suffix(".kv")))


class CounterScreen(FloatLayout):
    view: Any = ObjectProperty(None, allownone=True)
    u = NumericProperty(1.0)
    flash_on = BooleanProperty(False)
    connecting = StringProperty(t("signage", "connecting", "zh"))

    def __init__(self, **kw: Any) -> None:
        super().__init__(**kw)
        self._flash = Clock.schedule_interval(self._toggle, 0.4)
        self.bind(size=lambda *_: setattr(self, "u", min(self.width / 1280, self.height / 720)))

    def _toggle(self, _dt: float) -> None:
        self.flash_on = bool(self.view and self.view.flashing and not self.flash_on)

    def stop(self) -> None:
        self._flash.cancel()

"""Face check: the live camera preview under an oval guide (frames never leave memory)."""

from __future__ import annotations

from typing import Any

from kivy.clock import Clock
from kivy.graphics.texture import Texture

from kiosk.screens.widgets import KioskScreen


class FaceScreen(KioskScreen):
    _event: Any = None
    _seq = -1

    def on_enter(self, *_a: Any) -> None:
        self._event = Clock.schedule_interval(self._update, 1 / 10)

    def on_leave(self, *_a: Any) -> None:
        if self._event is not None:
            self._event.cancel()
            self._event = None
        self.ids.preview.texture = None  # nothing of the face stays on the GPU

    def _update(self, _dt: float) -> None:
        from kivy.app import App

        camera = App.get_running_app().camera
        frame = camera.latest() if camera is not None else None
        if frame is None or frame.seq == self._seq:
            return
        self._seq = frame.seq
        image = frame.image[::-1, ::-1]  # flip vertically for GL, mirror like a mirror
        h, w = image.shape[:2]
        tex = self.ids.preview.texture
        if tex is None or tex.size != (w, h):
            tex = Texture.create(size=(w, h), colorfmt="bgr")
        tex.blit_buffer(image.tobytes(), colorfmt="bgr", bufferfmt="ubyte")
        self.ids.preview.texture = tex
        self.ids.preview.canvas.ask_update()

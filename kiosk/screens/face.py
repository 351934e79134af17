"""Face check: the movement asked for (an arrow and large text, with the seconds left), the
live camera preview under an oval guide (frames never leave memory), and the way out to
人工核验 at the counter. The camera is on only while this screen waits on it."""

from __future__ import annotations

import math
import time
from typing import Any

from kivy.clock import Clock
from kivy.graphics.texture import Texture
from kivy.properties import NumericProperty, StringProperty

from common.i18n import t
from kiosk.screens.widgets import KioskScreen

# The preview is mirrored, so the citizen's own left is the screen's left: ← for turn_left.
ARROWS = {"turn_left": -1, "turn_right": 1}


class FaceScreen(KioskScreen):
    cue = StringProperty("")
    """The movement in large text ("向左转头"), empty before it is asked."""
    cue_dir = NumericProperty(0)
    """-1: the arrow points left, 1: right, 0: no arrow."""
    seconds_left = StringProperty("")
    _event: Any = None
    _seq = -1
    _cue_at = 0.0
    _challenge: str | None = None

    def render(self, view: Any) -> None:
        super().render(view)
        challenge = view.challenge.value if view.challenge is not None else None
        if challenge != self._challenge:
            self._cue_at = time.monotonic()  # a new movement asked: its countdown starts
        self._challenge = challenge
        self.cue = t("camera", f"cue_{challenge}", view.lang) if challenge else ""
        self.cue_dir = ARROWS.get(challenge or "", 0)
        self._count_down()

    def forget(self) -> None:
        super().forget()
        self._challenge = None
        self.cue = self.seconds_left = ""
        self.cue_dir = 0

    def on_enter(self, *_a: Any) -> None:
        self._event = Clock.schedule_interval(self._update, 1 / 10)

    def on_leave(self, *_a: Any) -> None:
        if self._event is not None:
            self._event.cancel()
            self._event = None
        self.ids.preview.texture = None  # nothing of the face stays on the GPU

    def _count_down(self) -> None:
        view = self.view
        if view is None or not self._challenge or view.challenge_s <= 0:
            self.seconds_left = ""
            return
        left = max(0, math.ceil(view.challenge_s - (time.monotonic() - self._cue_at)))
        self.seconds_left = self.tr("face_seconds_left", seconds=left)

    def _update(self, _dt: float) -> None:
        from kivy.app import App

        self._count_down()
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

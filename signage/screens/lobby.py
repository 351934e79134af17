"""The lobby board screen: lays out a ``BoardView``; decides nothing itself."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kivy.clock import Clock
from kivy.core.text import Label as CoreLabel
from kivy.lang import Builder
from kivy.properties import (
    BooleanProperty,
    NumericProperty,
    ObjectProperty,
    StringProperty,
)
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.floatlayout import FloatLayout

from common.i18n import t
from signage.board_state import BoardView

Builder.load_file(str(Path(__file__).with_suffix(".kv")))

FLASH_PERIOD_S = 0.4
NOTICE_SPEED_U = 160  # notice scroll speed in u per second (≈ 4 characters a second)


class CallRowWidget(BoxLayout):
    u = NumericProperty(1.0)
    number = StringProperty("")
    counter = StringProperty("")
    counter_en = StringProperty("")
    name = StringProperty("")

    @staticmethod
    def number_font(number: str, room: float, u: float) -> float:
        """The number's type: 60 u, or as much smaller as it takes to show it whole."""
        return fitted(number, room, 60 * u, bold=True)


class ServiceRowWidget(BoxLayout):
    u = NumericProperty(1.0)
    name = StringProperty("")
    waiting = StringProperty("")


class CounterTileWidget(BoxLayout):
    u = NumericProperty(1.0)
    label = StringProperty("")
    label_en = StringProperty("")
    detail = StringProperty("")
    state = StringProperty("open")
    serving = BooleanProperty(False)

    @staticmethod
    def detail_font(detail: str, width: float, u: float, serving: bool) -> float:
        """46 u for the number served (40 u otherwise), smaller only for an offline number
        too long for the tile (K1-J1000), so it is shown whole."""
        return fitted(detail, width, (46 if serving else 40) * u, bold=serving)


def fitted(text: str, room: float, size: float, *, bold: bool) -> float:
    """``size``, or as much smaller as it takes for ``text`` to fit ``room`` px in one line."""
    room -= 4  # Kivy shortens at 2 px less than the room, rounded down: keep 4 px clear
    if not text or room <= 0:
        return size
    needed = CoreLabel(font_size=size, font_name="CJK", bold=bold).get_extents(text)[0]
    return size if needed <= room else size * room / needed


class LobbyBoard(FloatLayout):
    view: Any = ObjectProperty(None, allownone=True)
    u = NumericProperty(1.0)
    flash_on = BooleanProperty(False)
    notice_x = NumericProperty(0.0)
    connecting = StringProperty(t("signage", "connecting", "zh"))

    def __init__(self, **kw: Any) -> None:
        super().__init__(**kw)
        self._lists: tuple[Any, ...] = ()
        self._flash = Clock.schedule_interval(self._toggle_flash, FLASH_PERIOD_S)
        self._scroll = Clock.schedule_interval(self._scroll_notice, 1 / 30)
        self.bind(size=self._resize)

    def _resize(self, *_: Any) -> None:
        # 1 at 1920×1080, 2 at 3840×2160; the smaller ratio keeps everything on screen.
        self.u = min(self.width / 1920, self.height / 1080)
        self._lists = ()  # rebuild rows at the new size
        if self.view is not None:
            self.on_view(self, self.view)

    def on_view(self, _inst: Any, view: BoardView | None) -> None:
        if view is None:
            return
        if not view.flashing:
            self.flash_on = False
        lists = (view.recent, view.services, view.counters, self.u)
        if lists == self._lists:
            return  # the clock ticked; rows unchanged
        self._lists = lists
        # Rows are reused and only their texts change: creating ~80 CJK labels per call
        # costs hundreds of milliseconds on a small box.
        _sync(
            self.ids.recent_box,
            CallRowWidget,
            self.u,
            [
                {
                    "number": r.number,
                    "counter": r.counter,
                    "counter_en": r.counter_en,
                    "name": r.name,
                }
                for r in view.recent
            ],
        )
        _sync(
            self.ids.services_box,
            ServiceRowWidget,
            self.u,
            [{"name": x.name, "waiting": x.waiting} for x in view.services],
        )
        _sync(
            self.ids.counters_box,
            CounterTileWidget,
            self.u,
            [
                {
                    "label": c.label,
                    "label_en": c.label_en,
                    "detail": c.detail,
                    "state": c.state,
                    "serving": c.serving,
                }
                for c in view.counters
            ],
        )

    def _toggle_flash(self, _dt: float) -> None:
        self.flash_on = bool(self.view and self.view.flashing and not self.flash_on)

    def _scroll_notice(self, dt: float) -> None:
        label = self.ids.notice
        strip = self.ids.notice_strip
        if label.width <= strip.width:
            self.notice_x = (strip.width - label.width) / 2  # fits: keep it still, centred
            return
        x = self.notice_x - NOTICE_SPEED_U * self.u * dt
        self.notice_x = strip.width if x < -label.width else x

    def stop(self) -> None:
        self._flash.cancel()
        self._scroll.cancel()


def _sync(box: Any, cls: type, u: float, rows: list[dict[str, str | bool]]) -> None:
    """Make ``box`` show ``rows`` (top to bottom), reusing the widgets it already has."""
    widgets = list(reversed(box.children))  # Kivy keeps children last-added first
    for widget in widgets[len(rows) :]:
        box.remove_widget(widget)
    for i, row in enumerate(rows):
        if i < len(widgets):
            widget = widgets[i]
            widget.u = u
            for key, value in row.items():
                if getattr(widget, key) != value:
                    setattr(widget, key, value)
        else:
            box.add_widget(cls(u=u, **row))

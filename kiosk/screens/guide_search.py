"""我要办: a letter keyboard (Kivy has no Chinese IME: pinyin, initials or English are
searched as typed) and the matters it finds as big buttons, the popular ones before
anything is typed (智能导办, kiosk/flows/guide.py)."""

from __future__ import annotations

import threading
from typing import Any

from common.i18n import t
from kiosk.flows.guide import warm_up
from kiosk.screens.widgets import GREY, BigButton, KioskScreen, ServiceTile

ROWS = ("abcdefg", "hijklmn", "opqrst", "uvwxyz")  # in order: easier to find than QWERTY
HitSpec = tuple[str, str]  # code, markup text
SHOWN = {(True, False): 6, (True, True): 3, (False, False): 4, (False, True): 2}
"""Matches shown by (portrait, elderly)."""


class GuideSearchScreen(KioskScreen):
    _specs: tuple[HitSpec, ...] = ()
    _lang = ""

    def __init__(self, **kw: Any) -> None:
        super().__init__(**kw)
        # the search index takes about a second to build: not on the first citizen's time
        threading.Thread(target=warm_up, name="guide-index", daemon=True).start()

    def g(self, key: str, **values: Any) -> str:
        return t("guide", key, self.view.lang if self.view is not None else "zh", **values)

    def on_kv_post(self, _base: Any) -> None:
        grid = self.ids.letters
        for row in ROWS:
            for ch in row.ljust(7):
                grid.add_widget(self._key(ch))

    def _key(self, ch: str) -> BigButton:
        b = BigButton(text=ch)
        b.size_hint_y = 1
        if ch == " ":
            b.disabled, b.opacity = True, 0
        else:
            b.bind(on_release=lambda _b, c=ch: self.act("guide_act", "key", c))
        return b

    def render(self, view: Any) -> None:
        super().render(view)
        g = view.guide_view
        if g is None:
            return
        # as many as fit beside the keyboard: fewer in landscape and in elderly mode (1.5×)
        shown = SHOWN[(self._portrait(), bool(view.elderly))]
        specs = tuple((h.code, self._text(h, view)) for h in g.hits[:shown])
        if specs == self._specs and view.lang == self._lang:
            return
        self._specs, self._lang = specs, view.lang
        self._relabel_keys()
        grid = self.ids.hits
        grid.clear_widgets()
        for code, text in specs:
            w = ServiceTile(text=text, code=code)
            w.bind(on_release=lambda b: self.act("guide_act", "pick", b.code))
            grid.add_widget(w)

    def _relabel_keys(self) -> None:
        self.ids.key_space.text = self.g("guide_k_btn_space")
        self.ids.key_delete.text = self.g("guide_k_btn_delete")
        self.ids.key_clear.text = self.g("guide_k_btn_clear")
        self.ids.key_delete.colour = self.ids.key_clear.colour = list(GREY)

    @staticmethod
    def _portrait() -> bool:
        from kivy.app import App

        return bool(App.get_running_app().portrait)

    def _text(self, hit: Any, view: Any) -> str:
        font = self.ids.hits.tile_font
        text = f"[b]{hit.label}[/b]"
        sub = hit.service_name
        if hit.bundle:
            sub = t("guide", "guide_k_bundle_tag", view.lang) + (f" · {sub}" if sub else "")
        if sub and not view.elderly:  # elderly mode: the name alone, large
            text += f"\n[size={int(0.62 * font)}][color=1a1a1a]{sub}[/color][/size]"
        return text

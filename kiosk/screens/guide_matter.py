"""One matter of 我要办: its situation questions with large answer buttons, one at a time,
then the exact checklist with the time limits, fee, visits and counters, and 取号 /
打印告知单 (智能导办, kiosk/flows/guide.py)."""

from __future__ import annotations

from typing import Any

from common.i18n import t
from kiosk.screens.widgets import BigButton, KioskScreen

OptionSpec = tuple[tuple[str, str], ...]


class GuideMatterScreen(KioskScreen):
    _options: OptionSpec = ()

    def g(self, key: str, **values: Any) -> str:
        return t("guide", key, self.view.lang if self.view is not None else "zh", **values)

    def render(self, view: Any) -> None:
        super().render(view)
        g = view.guide_view
        if g is None:
            return
        if g.options != self._options:
            self._options = g.options
            box = self.ids.options
            box.clear_widgets()
            for tag, label in g.options:
                b = BigButton(text=label)
                b.font_size = b.font_size * 1.2
                b.bind(on_release=lambda _b, tg=tag: self.act("guide_act", "answer", tg))
                box.add_widget(b)
        self.ids.checklist.text = self._checklist(g)

    def forget(self) -> None:
        super().forget()
        self._options = ()
        self.ids.options.clear_widgets()
        self.ids.checklist.text = ""

    def _checklist(self, g: Any) -> str:
        if g.question or not g.checklist:
            return ""
        size = int(self.ids.checklist.font_size * 0.8)
        lines = [f"[b]{self.g('guide_k_checklist')}[/b]"]
        # 1、 with no space after it: Kivy wraps at a space, and the line would start bare;
        # English says "1." and a no-break space (no Chinese punctuation on its screen)
        mark = ".\u00a0" if self.view is not None and self.view.lang == "en" else "、"
        lines += [f"{i}{mark}{line}" for i, line in enumerate(g.checklist, 1)]
        lines.append("")
        lines += [f"[size={size}]{fact}[/size]" for fact in g.facts]
        return "\n".join(lines)

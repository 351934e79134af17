"""智能导办 on the kiosk: "我要办…" to the right matter, the right queue and the complete
一次告知 checklist (issue 20).

The citizen types letters on the screen's keyboard (Kivy has no Chinese IME: pinyin such as
``shebaoka``, initials such as ``sbk``, or English) and the best matches appear as big
buttons while they type; before anything is typed the popular matters are offered. A matter
whose materials depend on the case asks its two or three situation questions (情形引导)
with large answer buttons, then shows the exact checklist, time limits, fee, visits and
counters, with 取号 (a ticket for the matter's queue, through the take-ticket journey; a
一件事一次办 bundle's ticket is for the 综合窗口) and 打印告知单 (``PrintChecklist``).

Everything here is pure: the catalogue and the search come from the ``guide`` package (one
index per process, built on first use or by ``warm_up`` from a screen's thread). The
journey's state is one ``_GuideSession`` tied to the citizen's session token, so the return
home (a new token) forgets it without the coordinator knowing about it.
"""

from __future__ import annotations

import abc
import threading
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import quote

from common.i18n import t
from guide.catalogue import Bundle, Catalogue, Material, Matter, catalogue
from guide.letters import load_letters
from guide.search import SearchIndex
from kiosk.flows.base import FlowBase
from kiosk.flows.model import (
    Effect,
    GuideHitView,
    GuideView,
    PartState,
    PrintChecklist,
    Screen,
    Tile,
)

MAX_QUERY = 30
MAX_HITS = 6
KEYS = frozenset("abcdefghijklmnopqrstuvwxyz")
FORM_KEYS = {
    "原件": "guide_form_original",
    "复印件": "guide_form_copy",
    "原件及复印件": "guide_form_both",
}

_lock = threading.Lock()
_index: SearchIndex | None = None


def search_index() -> SearchIndex:
    """The process's search index over the packaged catalogue (built once)."""
    global _index
    with _lock:
        if _index is None:
            # the keyboard types letters: no jieba, pypinyin or bm25s in the kiosk's memory
            _index = SearchIndex(catalogue(), letters_only=True, letters=load_letters())
        return _index


def warm_up() -> None:
    """Build the index ahead of the first citizen (the screen calls it on a thread)."""
    search_index()


@dataclass
class _GuideSession:
    token: int  # the citizen session it belongs to: another token means it is forgotten
    query: str = ""
    hits: tuple[GuideHitView, ...] = ()
    note: str = ""
    code: str = ""
    tags: list[str] = field(default_factory=list)
    printing: bool = False


class Guide(FlowBase):
    _guide_session: _GuideSession | None = None

    def guide_index(self) -> SearchIndex:
        return search_index()

    # -- provided by another journey --------------------------------------------------------
    @abc.abstractmethod
    def tap_service(self, code: str, matters: tuple[str, ...] = ()) -> list[Effect]:
        """take_ticket.py: a service tile was tapped (``matters``: those the ticket names)."""

    # -- helpers ----------------------------------------------------------------------------
    def _g(self, key: str, **values: Any) -> str:
        return t("guide", key, self.lang, **values)

    def _gs(self) -> _GuideSession | None:
        s = self._guide_session
        return s if s is not None and s.token == self.token else None

    def _cat(self) -> Catalogue:
        return self.guide_index().catalogue

    def _tile(self, service: str) -> Tile | None:
        return next((tile for tile in self.tiles if tile.code == service), None)

    def _hit(self, e: Matter | Bundle) -> GuideHitView:
        tile = self._tile(e.service)
        service = tile.label(self.lang) if tile else ""
        return GuideHitView(e.code, e.label(self.lang), service, isinstance(e, Bundle))

    # -- the search screen ------------------------------------------------------------------
    def tap_guide_search(self) -> list[Effect]:
        """The 我要办 tile of the home screen."""
        self._touch()
        self._guide_session = _GuideSession(self.token)
        self._guide_find("")
        return self._go(Screen.GUIDE_SEARCH, self._g("guide_k_say_start"))

    def guide_act(self, name: str, *args: str) -> list[Effect]:
        """Every tap of the 我要办 screens: ``key`` (a letter), ``space``, ``delete``,
        ``clear``, ``pick`` (a matter's code), ``answer`` (a situation tag), ``redo``,
        ``back``, ``ticket``, ``print``."""
        self._touch()
        s = self._gs()
        if s is None or self._screen not in (Screen.GUIDE_SEARCH, Screen.GUIDE_MATTER):
            return []
        match name, args:
            case "key", (letter,) if letter in KEYS and len(s.query) < MAX_QUERY:
                return self._guide_typed(s.query + letter)
            case "space", () if s.query and not s.query.endswith(" "):
                return self._guide_typed(s.query + " ")
            case "delete", ():
                return self._guide_typed(s.query[:-1])
            case "clear", ():
                return self._guide_typed("")
            case "pick", (code,):
                return self._guide_open(code)
            case "answer", (tag,):
                return self._guide_answer(tag)
            case "redo", () if s.code:
                s.tags = []
                return self._guide_show()
            case "back", ():
                if self._screen is Screen.GUIDE_MATTER:
                    s.code, s.tags = "", []
                    return self._go(Screen.GUIDE_SEARCH, speak=False)
                return self.home()
            case "ticket", ():
                return self._guide_ticket()
            case "print", ():
                return self._guide_print()
        return []

    def _guide_typed(self, query: str) -> list[Effect]:
        self._guide_find(query)
        self.view = self._render()
        return []

    def _guide_find(self, query: str) -> None:
        s = self._gs()
        assert s is not None
        s.query, s.note = query, ""
        cat = self._cat()
        if not query.strip():
            s.hits = tuple(self._hit(e) for e in cat.popular_entries())
            return
        answer = self.guide_index().search(query, MAX_HITS)
        s.hits = tuple(self._hit(e) for h in answer.hits if (e := cat.get(h.code)) is not None)
        if not s.hits:
            where = answer.elsewhere
            if where is not None:
                place = where.where_en if self.lang == "en" else where.where
                s.note = self._g("guide_k_elsewhere", where=place)
            else:
                s.note = self._g("guide_k_none")

    # -- one matter -------------------------------------------------------------------------
    def _guide_open(self, code: str) -> list[Effect]:
        s = self._gs()
        assert s is not None
        if self._cat().get(code) is None:
            return []
        s.code, s.tags, s.printing = code, [], False
        return self._guide_show()

    def _guide_answer(self, tag: str) -> list[Effect]:
        s = self._gs()
        assert s is not None
        entry = self._cat().get(s.code)
        question = self._pending_question(entry, s.tags)
        if question is None or tag not in {o.tag for o in question.options}:
            return []
        s.tags.append(tag)
        return self._guide_show()

    @staticmethod
    def _pending_question(entry: Matter | Bundle | None, tags: list[str]) -> Any:
        if not isinstance(entry, Matter):
            return None
        for q in entry.question:
            if not {o.tag for o in q.options} & set(tags):
                return q
        return None

    def _guide_show(self) -> list[Effect]:
        """The matter screen: the next question, or the checklist; said aloud (the elderly
        mode's voice reads the list)."""
        s = self._gs()
        assert s is not None
        entry = self._cat().get(s.code)
        question = self._pending_question(entry, s.tags)
        if question is not None:
            text = question.text_en if self.lang == "en" else question.text
            return [*self._go(Screen.GUIDE_MATTER, speak=False), self._say(text)]
        assert entry is not None
        sep = "；" if self.lang == "zh" else "; "
        names = sep.join(m.label(self.lang) for m in self._materials(entry, s.tags))
        said = self._g("guide_k_say_matter", name=entry.label(self.lang), materials=names)
        return [*self._go(Screen.GUIDE_MATTER, speak=False), self._say(said)]

    def _materials(self, entry: Matter | Bundle, tags: list[str]) -> tuple[Material, ...]:
        if isinstance(entry, Bundle):
            return self._cat().merged_checklist(entry)
        return entry.checklist(frozenset(tags))

    def _material_line(self, m: Material) -> str:
        form = t("guide", FORM_KEYS[m.form.value], self.lang)
        gap = "" if self.lang == "zh" else " "
        parts = [f"{form}{gap}{t('guide', 'guide_copies', self.lang, n=m.copies)}"]
        if m.e_license:
            parts.append(self._g("guide_k_e_license"))
        if m.note and self.lang == "zh":
            parts.append(m.note)
        if self.lang == "zh":
            return f"{m.name}（{'，'.join(parts)}）"
        return f"{m.name_en} ({', '.join(parts)})"

    def _counters_text(self, entry: Matter | Bundle) -> str:
        tile = self._tile(entry.service)
        ids = [c for c in entry.counters if tile is None or not tile.counters or c in tile.counters]
        joined = "、".join(ids) if self.lang == "zh" else ", ".join(ids)
        return self._g("guide_k_counter_ids", ids=joined)

    def _facts(self, entry: Matter | Bundle, *, lang: str | None = None) -> tuple[str, ...]:
        lang = lang or self.lang

        def g(key: str, **values: Any) -> str:
            return t("guide", key, lang, **values)

        tile = self._tile(entry.service)
        out = [g("guide_k_queue", value=tile.label(lang) if tile else entry.service)]
        out.append(g("guide_k_counters", value=self._counters_text(entry)))
        if isinstance(entry, Bundle):
            members = self._cat().members(entry)
            sep = "、" if lang == "zh" else "; "
            out.append(g("guide_k_members", value=sep.join(m.label(lang) for m in members)))
            return tuple(out)
        limit = entry.time_limit
        days = []
        if limit.legal is not None:
            days.append(g("guide_legal_days", n=limit.legal))
        days.append(
            g("guide_promised_days", n=limit.promised) if limit.promised else g("guide_on_the_spot")
        )
        out.append(g("guide_k_time", value=("，" if lang == "zh" else ", ").join(days)))
        out.append(g("guide_k_fee", value=entry.fee_en if lang == "en" else entry.fee))
        visits = g("guide_visits_n", n=entry.visits) if entry.visits else g("guide_visits_0")
        out.append(g("guide_k_visits", value=visits))
        return tuple(out)

    def _situation_labels(self, entry: Matter | Bundle | None, tags: list[str]) -> tuple[str, ...]:
        if not isinstance(entry, Matter):
            return ()
        labels = []
        for q in entry.question:
            for o in q.options:
                if o.tag in tags:
                    labels.append(o.text_en if self.lang == "en" else o.text)
        return tuple(labels)

    # -- 取号 and 打印告知单 ------------------------------------------------------------------
    def _guide_ticket(self) -> list[Effect]:
        s = self._gs()
        entry = self._cat().get(s.code) if s else None
        if entry is None or self._screen is not Screen.GUIDE_MATTER:
            return []
        if self._tile(entry.service) is None:
            return self._go(Screen.GUIDE_MATTER, self._g("guide_k_no_queue"), error=True)
        # the ticket names its matters: the counter sees them, and each is rated once
        matters = entry.matters if isinstance(entry, Bundle) else (entry.code,)
        return self.tap_service(entry.service, matters)

    def _guide_print(self) -> list[Effect]:
        s = self._gs()
        entry = self._cat().get(s.code) if s else None
        if s is None or entry is None or self._screen is not Screen.GUIDE_MATTER or s.printing:
            return []
        if self._pending_question(entry, s.tags) is not None:
            return []  # the checklist is not known before the questions are answered
        s.printing = True
        saved = self.lang
        materials = self._materials(entry, s.tags)
        try:  # the paper is Chinese first, whatever the screen's language
            self.lang = "zh"
            lines = [self._material_line(m) for m in materials]
            if saved == "en":  # … and the English name after each for who read it in English
                lines = [f"{line} / {m.name_en}" for line, m in zip(lines, materials, strict=True)]
            effect = PrintChecklist(
                self.token,
                code=entry.code,
                title=entry.name,
                title_en=entry.name_en,
                queue=(tile.name if (tile := self._tile(entry.service)) else entry.service),
                situation=self._situation_labels(entry, s.tags),
                materials=tuple(lines),
                facts=self._facts(entry, lang="zh"),
                url=self._guide_url(entry.code, s.tags),
            )
        finally:
            self.lang = saved
        return [*self._go(Screen.GUIDE_MATTER, self._g("guide_k_printing"), speak=False), effect]

    def _guide_url(self, code: str, tags: list[str]) -> str:
        url = f"{self.public_url}/guide/{quote(code)}"
        return url + ("?tags=" + quote(",".join(tags)) if tags else "")

    def on_checklist_printed(self, token: int, ok: bool) -> list[Effect]:
        s = self._gs()
        if token != self.token or s is None or self._screen is not Screen.GUIDE_MATTER:
            return []
        s.printing = False
        if not ok:
            self.parts["printer"] = self._part("printer") or PartState.ERROR
        key = "guide_k_printed" if ok else "guide_k_print_failed"
        return self._go(Screen.GUIDE_MATTER, self._g(key), error=not ok)

    # -- the view ---------------------------------------------------------------------------
    def _guide_view(self) -> GuideView | None:
        s = self._gs()
        if s is None or self._screen not in (Screen.GUIDE_SEARCH, Screen.GUIDE_MATTER):
            return None
        popular = not s.query.strip()
        base = GuideView(s.query, s.hits, popular, s.note, printing=s.printing)
        entry = self._cat().get(s.code) if s.code else None
        if self._screen is Screen.GUIDE_SEARCH or entry is None:
            return base
        question = self._pending_question(entry, s.tags)
        common = replace(
            base,
            code=entry.code,
            name=entry.label(self.lang),
            situation=self._situation_labels(entry, s.tags),
            can_ticket=self._tile(entry.service) is not None,
        )
        if question is not None:
            return replace(
                common,
                question=question.text_en if self.lang == "en" else question.text,
                options=tuple(
                    (o.tag, o.text_en if self.lang == "en" else o.text) for o in question.options
                ),
            )
        return replace(
            common,
            checklist=tuple(self._material_line(m) for m in self._materials(entry, s.tags)),
            facts=self._facts(entry),
        )

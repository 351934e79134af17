"""Finding the matter: "我要办…" in the citizen's own words, ranked offline.

Pure (no I/O of its own; jieba reads its packaged dictionary once when the index is built).
Two channels, each scored 0…1 so one threshold says "nothing here":

- **words** — the query segmented by jieba (search mode, plus the character bigrams of each
  Chinese run, so a segmentation that differs from the catalogue's still meets it; English
  words lower-cased, plural ``s`` dropped, a typo mapped to the nearest catalogue word by
  rapidfuzz), ranked by BM25 (bm25s) over each entry's name and aliases (weighted three
  times), its English name and aliases, its 申请条件 and its FAQ questions. The score is
  the share of the query's weight (IDF) the entry covers, scaled by its BM25 rank, so a
  query of words the catalogue has never heard (结婚登记) scores low everywhere. A query's
  everyday word the catalogue does not use is read as the catalogue's word for it (its
  ``[[synonym]]`` table: 过世 → 死亡, 私家车 → 车辆), and an entry one of whose names or
  aliases the query says word for word gains a little (买房取公积金 in 买房能取公积金吗).
- **sound** — the query as letters: typed pinyin (``shebaoka``), initials (``ydjy``), or a
  Chinese query turned into pinyin by pypinyin, so a homophone typo (社保卡挂施) still lands;
  compared by rapidfuzz with each name's and alias's pinyin and initials.

An entry's score is the better of the two; below ``THRESHOLD`` nothing is offered, and if
the query names something the hall does not do (``[[elsewhere]]``), the answer says where
to go instead.
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from rapidfuzz import fuzz, process

from guide.catalogue import Bundle, Catalogue, Elsewhere, Matter

__all__ = ["THRESHOLD", "Answer", "Hit", "SearchIndex", "letters_of"]

THRESHOLD = 0.5
"""Below this an entry is not offered: the query is not about it."""

_SURE = 0.8
"""A score this high is the matter even when the query also names something elsewhere."""
_NAME_WEIGHT = 3
_INITIALS_CUTOFF = 85
_BIGRAM = "\x02"  # marks a character bigram, so 社保 the word and 社保 the bigram differ
_BIGRAM_WEIGHT = 0.5
_CHAR_WEIGHT = 0.5
"""a one-character word (迁, 后, 领) says less than a longer one: it is in many entries'
texts for other reasons"""
_UNKNOWN_WEIGHT = 1.5
"""a query word no entry has: about the weight of a middling catalogue word"""
_CJK = re.compile(r"[\u3400-\u9fff]+")
_AGE = re.compile(r"^[0-9零一二三四五六七八九十百两几]+[岁周]?$")
"""七十岁, 六十: an age or a count says nothing about which matter"""
_PHRASE_BOOST = 0.15
"""how much an entry gains when the query holds all the words of one of its names or
aliases (买房取公积金 in 买房能取公积金吗): ranks the matter a phrase names above its
neighbours that only share the query's words"""
_WORD = re.compile(r"[a-z]+")
_LETTERS = re.compile(r"^[a-z\s']+$")
_ASKING = re.compile(
    r"^(?:woyao|woxiang|xiangban|ruhe|zenme)|(?:zenmeban|zenmebanli|banli|shouxu)$"
)
"""typed pinyin of the way people ask (我要…, …办理): the matter is in the rest"""

# Words that say nothing about which matter: the way people ask, not what they ask for.
_STOP_ZH_WORDS = """
我 我家 我们 你 您 他 她 要 想 想要 需要 要办 办 办理 怎么 怎么办 怎样
如何 什么 哪些 哪个 哪里 在哪 去哪 了 的 吗 呢 吧 啊 呀 是 有 和 与 或
还 能 可以 一下 请问 这个 那个 应该 手续 业务 刚 刚刚 家 给 帮 帮我 一个
个 把 被 去 来 到 找 问 咨询 弄 搞 多少 多久 为什么 可 会 就 都 也 又
再 之后 以后 时候 在 从 回来 过来 回去 过去 这里 那里 这边 现在 已经 今天
明天 昨天 马上 刚才 一下子 我爸 我妈 爸爸 妈妈 老公 老婆 爱人 家里
儿子 女儿 父亲 母亲 老伴 丈夫 妻子 那边 这边 那儿 这儿 期间 一张 一本 一份 一家
没 没带 不 要交 么 啥 咋 咋办 怎么样 什么样 么样 请 您好 你好 麻烦 我要 我想
材料 资料 带 要带 准备
"""
_STOP_ZH = frozenset(_STOP_ZH_WORDS.split())
_STOP_EN_WORDS = """
a an the i my me we our you your to for of in on at and or how do does can what
where is are be get want need please with from this that it am about apply
application
"""
_STOP_EN = frozenset(_STOP_EN_WORDS.split())


@dataclass(frozen=True, slots=True)
class Hit:
    code: str
    name: str
    name_en: str
    service: str
    kind: Literal["matter", "bundle"]
    score: float


@dataclass(frozen=True, slots=True)
class Answer:
    hits: tuple[Hit, ...]
    elsewhere: Elsewhere | None = None
    """the query names a matter this hall does not handle: where to go instead"""


def letters_of(text: str) -> tuple[str, str]:
    """A Chinese text as (full pinyin, initials), letters only: 社保卡 → (shebaoka, sbk)."""
    from pypinyin import Style, lazy_pinyin  # its phrase dictionary is ~45 MB: when needed

    hanzi = "".join(_CJK.findall(text))
    full = "".join(lazy_pinyin(hanzi))
    initials = "".join(lazy_pinyin(hanzi, style=Style.FIRST_LETTER))
    return full, initials


def _tones(text: str) -> str:
    """Pinyin with tone numbers: 退修 and 退休 sound alike (tui4xiu1), 卖 and 买 do not."""
    from pypinyin import Style, lazy_pinyin

    return "".join(lazy_pinyin(text, style=Style.TONE3))


def _bigrams(run: str) -> list[str]:
    return [run[i : i + 2] for i in range(len(run) - 1)]


class SearchIndex:
    """Built once from a catalogue (about a second: jieba's dictionary), then
    ``search`` answers in about a millisecond.

    ``letters_only``: for the kiosk, whose keyboard types letters only (pinyin, initials,
    English). It needs neither jieba (~75 MB of dictionary) nor pypinyin (~45 MB) nor
    bm25s: the catalogue's pinyin comes precomputed (``letters``, guide/data/letters.json,
    kept in step by a test), and English words are ranked by their IDF coverage alone."""

    def __init__(
        self,
        catalogue: Catalogue,
        *,
        letters_only: bool = False,
        letters: Mapping[str, tuple[str, str]] | None = None,
    ) -> None:
        self._letters = dict(letters or {})
        self._jieba: Any = None
        self._bm25: Any = None
        # everyday words → the catalogue's (synonyms): English phrases by the words they
        # are made of, Chinese words as jieba cuts the query (taught them below)
        self._syn_en = sorted(
            (
                (re.compile(rf"\b{re.escape(w.lower())}\b"), syn.means.lower())
                for syn in catalogue.synonym
                for w in syn.words
                if w.isascii()
            ),
            key=lambda pair: -len(pair[0].pattern),
        )
        self._syn_zh: dict[str, list[str]] = {}
        self._idf: dict[str, float] = {}
        if not letters_only:
            import jieba

            logging.getLogger("jieba").setLevel(logging.WARNING)
            self._jieba = jieba.Tokenizer()
            self._jieba.initialize()
            for e in catalogue.entries():  # 领发票 is one word here, not 要领 + 发票
                for text in (e.name, *e.aliases):
                    for run in _CJK.findall(text):
                        if 2 <= len(run) <= 6:
                            self._jieba.add_word(run, freq=2000)
            for syn in catalogue.synonym:
                for w in syn.words:
                    if not w.isascii() and len(w) >= 2:
                        self._jieba.add_word(w, freq=3000)
            for syn in catalogue.synonym:
                means = self._zh_words(syn.means)
                for w in syn.words:
                    if not w.isascii():
                        self._syn_zh[w] = means
        self.catalogue = catalogue
        self.entries: tuple[Matter | Bundle, ...] = catalogue.entries()
        docs = [self._doc_tokens(e) for e in self.entries]
        if not letters_only:
            import bm25s

            self._bm25 = bm25s.BM25()
            self._bm25.index(docs, show_progress=False)
        self._doc_sets = [frozenset(d) for d in docs]
        n = len(docs)
        df: dict[str, int] = {}
        for s in self._doc_sets:
            for tok in s:
                df[tok] = df.get(tok, 0) + 1
        self._idf = {t: math.log(1 + (n - c + 0.5) / (c + 0.5)) for t, c in df.items()}
        # each entry's names and aliases as word sets, for the phrase boost
        self._phrase_words: list[list[frozenset[str]]] = []
        for e in self.entries:
            sets = [self._phrase_zh(x) for x in (e.name, *e.aliases)]
            sets += [set(self._en_tokens(x)) for x in (e.name_en, *e.aliases_en)]
            self._phrase_words.append([frozenset(w) for w in sets if w])
        self._en_vocab = sorted(t for t in df if t.isascii())
        # the catalogue's Chinese words by their sound, for a query's homophone typos; a
        # sound two words share corrects to neither
        self._homophones: dict[str, str] = {}
        if not letters_only:
            by_sound: dict[str, set[str]] = {}
            for t in df:
                if len(t) >= 2 and _CJK.fullmatch(t):
                    by_sound.setdefault(_tones(t), set()).add(t)
            self._homophones = {k: next(iter(v)) for k, v in by_sound.items() if len(v) == 1}
        # the sound channel: each phrase's pinyin and initials, and the entry it belongs to
        phrases: list[str] = []
        owners: list[int] = []
        initial: list[bool] = []
        for i, e in enumerate(self.entries):
            for text in (e.name, *e.aliases):
                full, initials = self._letters_of(text)
                phrases += [full, initials]
                owners += [i, i]
                initial += [False, True]
        self._phrases, self._owners = phrases, np.array(owners)
        self._initial = initial
        self._elsewhere = [(w, e) for e in catalogue.elsewhere for w in e.words]
        # the same words as typed pinyin (jiehundengji) for the kiosk's letter keyboard
        self._elsewhere_letters = [
            (sound, e) for w, e in self._elsewhere if len(sound := self._letters_of(w)[0]) >= 4
        ]

    def _phrase_zh(self, text: str) -> set[str]:
        """A name's or alias's words, without the whole alias that jieba knows only because
        it was taught it (买房取公积金): a query says the phrase by its words."""
        words = set(self._zh_words(text))
        runs = set(_CJK.findall(text))
        return {
            w for w in words if not (w in runs and len(w) >= 4 and any(x in w for x in words - {w}))
        }

    def _letters_of(self, text: str) -> tuple[str, str]:
        known = self._letters.get(text)
        return known if known is not None else letters_of(text)

    # -- tokens -----------------------------------------------------------------------------
    def _zh_words(self, text: str, *, query: bool = False) -> list[str]:
        """jieba's words in search mode (a long word and the words inside it), without the
        words that say nothing. An everyday word (过世) is read as the catalogue's (死亡):
        in a query instead of itself, in the catalogue as well as itself, so a query with
        去世 finds the alias that says 过世."""
        out: list[str] = []
        if self._jieba is None:
            return out  # letters only: no Chinese is typed
        for run in _CJK.findall(text):
            if not query:
                for w in self._jieba.lcut_for_search(run):
                    if w not in _STOP_ZH:
                        out += [w, *self._syn_zh.get(w, ())]
                continue
            for word in self._jieba.lcut(run):
                means = self._syn_zh.get(word)
                if means is not None:
                    out += means
                    continue
                if word in _STOP_ZH:
                    continue  # and the words inside it (第一次: not 第一, 一次)
                if word not in self._idf and len(word) >= 2 and _CJK.fullmatch(word):
                    # 退修 for 退休: a word the catalogue does not have, said like one it has
                    word = self._homophones.get(_tones(word), word)
                out += [
                    w
                    for w in self._jieba.lcut_for_search(word)
                    if w not in _STOP_ZH and not _AGE.match(w)
                ]
        return out

    def _zh_tokens(self, text: str, *, query: bool = False) -> list[str]:
        """jieba's words, and the bigrams inside each longer word (社保卡 → 社保, 保卡), so
        a word jieba cuts differently in the query and the catalogue still meets; never
        a bigram across two words (卡不 in 社保卡不见了 says nothing)."""
        words = self._zh_words(text, query=query)
        out = list(words)
        for w in words:
            if len(w) >= 3:
                out += [_BIGRAM + b for b in _bigrams(w) if b not in _STOP_ZH]
        return out

    @staticmethod
    def _en_tokens(text: str) -> list[str]:
        words = _WORD.findall(text.lower())
        return [w[:-1] if len(w) > 3 and w.endswith("s") else w for w in words if w not in _STOP_EN]

    def _doc_tokens(self, e: Matter | Bundle) -> list[str]:
        strong = " ".join((e.name, *e.aliases))
        tokens = self._zh_tokens(strong) * _NAME_WEIGHT
        tokens += self._en_tokens(" ".join((e.name_en, *e.aliases_en))) * _NAME_WEIGHT
        if isinstance(e, Matter):
            answers = (o.text for q in e.question for o in q.options)
            weak = " ".join((*e.conditions, *(f.q for f in e.faq), *answers, e.category))
        else:
            weak = e.note
        return tokens + self._zh_tokens(weak)

    def _query_tokens(self, q: str) -> list[str]:
        tokens = self._zh_tokens(q, query=True)
        for pattern, means in self._syn_en:
            q = pattern.sub(means, q)
        for w in self._en_tokens(q):
            if w in self._idf:
                tokens.append(w)
                continue
            best = process.extractOne(w, self._en_vocab, scorer=fuzz.ratio, score_cutoff=80)
            tokens.append(best[0] if best else w)
        return tokens

    # -- the channels -----------------------------------------------------------------------
    def _words(self, q: str) -> np.ndarray:
        tokens = self._query_tokens(q)
        scores = np.zeros(len(self.entries))
        if not tokens:
            return scores
        if self._bm25 is not None:
            bm = np.asarray(self._bm25.get_scores(tokens), dtype=float)
        else:  # letters only: any entry with a query word, ranked by coverage alone
            bm = np.array([float(any(t in d for t in tokens)) for d in self._doc_sets])
        top = float(bm.max())
        if top <= 0:
            return scores
        # The share of the query an entry covers: a word the catalogue has never seen
        # counts against every entry (结婚 in 结婚登记), a bigram it has never seen is only
        # the seam between two words (卡不 in 社保卡不见了) and counts for nothing.
        weights = {}
        for t in set(tokens):
            if t in self._idf:
                weights[t] = self._idf[t] * (
                    _BIGRAM_WEIGHT if t[0] == _BIGRAM else _CHAR_WEIGHT if len(t) == 1 else 1.0
                )
            elif t[0] != _BIGRAM and len(t) > 1:
                weights[t] = _UNKNOWN_WEIGHT
        total = sum(weights.values())
        if total <= 0:
            return scores
        said = frozenset(tokens)
        for i, doc in enumerate(self._doc_sets):
            if bm[i] <= 0:
                continue
            covered = sum(w for t, w in weights.items() if t in doc) / total
            whole = any(words <= said for words in self._phrase_words[i])
            boost = 1.0 + _PHRASE_BOOST if whole else 1.0
            scores[i] = covered * (0.6 + 0.4 * bm[i] / top) * boost  # capped in search
        return scores

    def _sound(self, q: str) -> np.ndarray:
        scores = np.zeros(len(self.entries))
        if _LETTERS.match(q):
            letters, weight = re.sub(r"[\s']", "", q), 1.0
            bare = _ASKING.sub("", letters)  # huzhaobanli → huzhao
            if bare != letters and len(bare) >= 4:
                scores = self._sound_of(bare, weight)
        else:
            if self._jieba is None:
                return scores  # letters only: a Chinese query is not typed here
            letters, weight = letters_of(q)[0], 0.9  # a Chinese query: its pinyin
        best: np.ndarray = np.maximum(scores, self._sound_of(letters, weight))
        return best

    def _sound_of(self, letters: str, weight: float) -> np.ndarray:
        scores = np.zeros(len(self.entries))
        if len(letters) < 2:
            return scores
        if len(letters) == 2:  # hz: only a phrase that is exactly these initials
            for j, phrase in enumerate(self._phrases):
                if phrase == letters:
                    scores[int(self._owners[j])] = weight
            return scores
        for phrase, partial, j in process.extract(
            letters, self._phrases, scorer=fuzz.partial_ratio, limit=40, score_cutoff=60
        ):
            # partial_ratio finds a short phrase inside a longer query: compare it whole
            ratio = partial if len(phrase) >= len(letters) else fuzz.ratio(letters, phrase)
            if self._initial[j] and ratio < _INITIALS_CUTOFF:
                continue  # five initials match a part of many phrases by chance
            # a query much shorter than the phrase matches a part of it by chance
            cover = min(1.0, len(letters) / max(1, 0.6 * len(phrase)))
            s = weight * (ratio / 100) ** 3 * (0.7 + 0.3 * cover)  # near misses fall fast
            i = int(self._owners[j])
            scores[i] = max(scores[i], s)
        return scores

    # -- the answer -------------------------------------------------------------------------
    def search(self, query: str, limit: int = 5) -> Answer:
        q = query.strip().lower()[:100]
        if not q:
            return Answer(())
        words, sound = self._words(q), self._sound(q)
        combined = np.maximum(words, sound) + 0.01 * words  # a tie goes to the words
        order = np.argsort(-combined, kind="stable")
        place = self._where_else(q)
        hits: list[Hit] = []
        if place is not None and combined[order[0]] < _SURE:
            return Answer((), place)  # 结婚登记: not a near miss of 不动产抵押登记
        for i in order[:limit]:
            score = min(1.0, float(combined[i]))
            if score < THRESHOLD:
                break
            e = self.entries[int(i)]
            hits.append(Hit(e.code, e.name, e.name_en, e.service, e.kind, round(score, 3)))
        return Answer(tuple(hits), None if hits else place)

    def _where_else(self, q: str) -> Elsewhere | None:
        for word, place in self._elsewhere:
            if word in q:
                return place
        if _LETTERS.match(q):
            letters = re.sub(r"[\s']", "", q)
            for word_letters, place in self._elsewhere_letters:
                if word_letters in letters:
                    return place
        best = process.extractOne(
            q, [w for w, _ in self._elsewhere], scorer=fuzz.partial_ratio, score_cutoff=85
        )
        return self._elsewhere[best[2]][1] if best else None

    def top(self, queries: Iterable[str], k: int = 3) -> Sequence[tuple[str, ...]]:
        """The codes of the top ``k`` entries of each query (the bench's helper)."""
        return [tuple(h.code for h in self.search(q, k).hits) for q in queries]

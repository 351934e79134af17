"""The result of one health check, shared by ``govhall doctor`` and each device package's
``health.py`` (which may import ``common``, never ``govhall``).

A check is ✓ (fine), ✗ (wrong, with a hint: what to do about it) or – (not applicable on this
machine). What a technician reads, the finding and the hint, comes from the ``doctor``
catalogue (``common/assets/locales/doctor.toml``, see :mod:`common.i18n`) in both languages,
Chinese first, English second::

    detail = text("printer_answers", where=where, state=state)
    Check("printer", Mark.FAIL, detail, hint=text("printer_fault_hint"))

The name of a check (``printer``, ``hall [kiosk]``) is an identifier that scripts read, the same
in every language. Lines that must be shown exactly as another part wrote them (the config
loader's problems: file, key, problem) go in ``notes``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from common.i18n import t

DOMAIN = "doctor"
LANGUAGES = ("zh", "en")  # the order a technician reads them in


class Mark(StrEnum):
    OK = "✓"
    FAIL = "✗"
    SKIP = "–"


@dataclass(frozen=True)
class Text:
    """One text in both languages. A text that reads the same in both (a path, a code) is
    shown once."""

    zh: str
    en: str

    def lines(self, languages: Iterable[str] = LANGUAGES) -> list[str]:
        texts = [getattr(self, lang) for lang in languages]
        shown = [s for i, s in enumerate(texts) if s not in texts[:i]]
        return [line for s in shown for line in s.splitlines()]

    def __add__(self, other: Text) -> Text:
        return Text(self.zh + other.zh, self.en + other.en)

    def __contains__(self, part: str) -> bool:
        return part in self.zh or part in self.en

    def __str__(self) -> str:
        return "\n".join(self.lines())


def text(key: str, /, **values: object) -> Text:
    """The catalogue's ``key`` in both languages; a value that is a :class:`Text` goes in
    each language's own words, any other value as it is."""
    return Text(
        **{
            lang: t(
                DOMAIN,
                key,
                lang,
                **{k: getattr(v, lang) if isinstance(v, Text) else v for k, v in values.items()},
            )
            for lang in LANGUAGES
        }
    )


def verbatim(value: object) -> Text:
    """A text that is the same in both languages (a path, a URL, an error code)."""
    return Text(str(value), str(value))


def join(items: Iterable[Text], zh: str = "、", en: str = ", ") -> Text:
    """``items`` as one list, with each language's separator."""
    items = list(items)
    return Text(zh.join(i.zh for i in items), en.join(i.en for i in items))


@dataclass(frozen=True)
class Check:
    name: str
    mark: Mark
    detail: Text
    hint: Text | None = None  # what to do; every failed check has one
    notes: tuple[str, ...] = ()  # lines shown as they are, under the detail

    @property
    def failed(self) -> bool:
        return self.mark is Mark.FAIL


def ok(name: str, detail: Text) -> Check:
    return Check(name, Mark.OK, detail)


def fail(name: str, detail: Text, hint: Text, notes: tuple[str, ...] = ()) -> Check:
    return Check(name, Mark.FAIL, detail, hint, notes)


def skip(name: str, detail: Text) -> Check:
    return Check(name, Mark.SKIP, detail)

"""The catalogue of matters: pydantic models of ``data/matters.toml``, validated at load.

Every text a citizen reads about a matter lives in the TOML file, Chinese first (``name``),
English second (``name_en``). A file that breaks a rule (an unknown key, a duplicate code, a
bundle naming a matter that does not exist, a material depending on a situation tag no
question offers) does not load: the message names the entry and the rule.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping, Set
from enum import StrEnum
from functools import cache, cached_property
from importlib.resources import files
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

__all__ = [
    "CATALOGUE_FILE",
    "Bundle",
    "Catalogue",
    "CatalogueError",
    "Elsewhere",
    "Faq",
    "Form",
    "Material",
    "Matter",
    "Option",
    "Question",
    "Synonym",
    "TimeLimit",
    "catalogue",
    "load_catalogue",
]

CATALOGUE_FILE = Path(str(files("guide") / "data" / "matters.toml"))
_HAN = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uff00-\uffef]")
"""Chinese characters and full-width punctuation: never in an English text"""

Code = Annotated[str, Field(pattern=r"^[a-z]{2,4}-\d{2}$")]
Tag = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,23}$")]
Text = Annotated[str, Field(min_length=1, max_length=200)]
Category = Literal["社保", "医保", "公积金", "不动产", "户籍", "出入境", "企业开办", "税务", "综合"]


class CatalogueError(ValueError):
    """The catalogue file breaks a rule; the message names the entry."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Form(StrEnum):
    ORIGINAL = "原件"
    COPY = "复印件"
    BOTH = "原件及复印件"


class Material(_Model):
    name: Text
    name_en: Text
    """its English name: the kiosk's and the guide page's English show it (no Chinese)"""
    form: Form
    copies: int = Field(ge=1, le=10)
    """份数"""
    e_license: bool
    """an 电子证照 (electronic licence) may replace the paper one"""
    note: str = Field(default="", max_length=200)
    when: tuple[Tag, ...] = ()
    """situation tags that must all be chosen for this material to apply; empty: always"""

    @model_validator(mode="after")
    def _english_is_english(self) -> Material:
        if _HAN.search(self.name_en):
            raise ValueError(f"material {self.name!r}: name_en has Chinese characters")
        return self

    def label(self, lang: str) -> str:
        return self.name_en if lang == "en" else self.name


class TimeLimit(_Model):
    legal: int | None = Field(default=None, ge=1, le=365)
    """法定办结时限, working days; None when no law sets one"""
    promised: int = Field(ge=0, le=365)
    """承诺办结时限, working days; 0 = 即办 (on the spot)"""

    @model_validator(mode="after")
    def _promise_within_law(self) -> TimeLimit:
        if self.legal is not None and self.promised > self.legal:
            raise ValueError(f"promised {self.promised} > legal {self.legal} working days")
        return self


class Faq(_Model):
    q: Text
    a: Annotated[str, Field(min_length=1, max_length=400)]


class Option(_Model):
    tag: Tag
    text: Annotated[str, Field(min_length=1, max_length=20)]
    text_en: Annotated[str, Field(min_length=1, max_length=40)]


class Question(_Model):
    """One step of the 情形引导: a question with two or three large answer buttons."""

    id: Tag
    text: Annotated[str, Field(min_length=2, max_length=40)]
    text_en: Annotated[str, Field(min_length=2, max_length=80)]
    options: tuple[Option, ...] = Field(min_length=2, max_length=3)


class Matter(_Model):
    code: Code
    name: Annotated[str, Field(min_length=2, max_length=40)]
    name_en: Annotated[str, Field(min_length=2, max_length=120)]
    category: Category
    service: Annotated[str, Field(min_length=1, max_length=8)]
    """the queue: a [[service]] code of the hall config"""
    counters: tuple[str, ...] = Field(min_length=1)
    aliases: tuple[Text, ...] = Field(min_length=3)
    aliases_en: tuple[Text, ...] = ()
    conditions: tuple[Text, ...] = Field(min_length=1)
    materials: tuple[Material, ...] = Field(min_length=1)
    time_limit: TimeLimit
    fee: Text
    fee_en: Text
    visits: int = Field(ge=0, le=5)
    """到现场次数; 0 = 全程网办 (no visit needed)"""
    online: bool
    online_note: str = Field(default="", max_length=200)
    basis: tuple[Text, ...] = Field(min_length=1)
    """设定依据: the laws and rules, by name"""
    faq: tuple[Faq, ...] = Field(min_length=1)
    question: tuple[Question, ...] = Field(default=(), max_length=3)

    kind: Literal["matter"] = "matter"

    @model_validator(mode="after")
    def _consistent(self) -> Matter:
        tags = [o.tag for q in self.question for o in q.options]
        if len(tags) != len(set(tags)):
            raise ValueError("a situation tag is offered twice")
        if len({q.id for q in self.question}) != len(self.question):
            raise ValueError("two situation questions share an id")
        for m in self.materials:
            unknown = set(m.when) - set(tags)
            if unknown:
                raise ValueError(f"material {m.name!r}: no question offers {sorted(unknown)}")
        names = [m.name for m in self.materials]
        if len(names) != len(set(names)):
            raise ValueError("a material is listed twice")
        if len(set(self.aliases)) != len(self.aliases):
            raise ValueError("an alias is listed twice")
        return self

    def label(self, lang: str) -> str:
        return self.name_en if lang == "en" else self.name

    def checklist(self, tags: Set[str] = frozenset()) -> tuple[Material, ...]:
        """The materials for the chosen situation: those without ``when``, and those whose
        tags were all chosen. Before every question is answered only the unconditional
        ones are certain, so that is what it returns for no tags."""
        return tuple(m for m in self.materials if set(m.when) <= tags)

    def options_of(self, question_id: str) -> tuple[Option, ...]:
        for q in self.question:
            if q.id == question_id:
                return q.options
        raise KeyError(question_id)


class Bundle(_Model):
    """一件事一次办: one ticket to the 综合窗口 for several matters."""

    code: Code
    name: Annotated[str, Field(min_length=2, max_length=40)]
    name_en: Annotated[str, Field(min_length=2, max_length=120)]
    service: Annotated[str, Field(min_length=1, max_length=8)]
    counters: tuple[str, ...] = Field(min_length=1)
    matters: tuple[Code, ...] = Field(min_length=2)
    aliases: tuple[Text, ...] = Field(min_length=1)
    aliases_en: tuple[Text, ...] = ()
    note: Text

    kind: Literal["bundle"] = "bundle"

    def label(self, lang: str) -> str:
        return self.name_en if lang == "en" else self.name


class Elsewhere(_Model):
    """A matter this hall does not handle, and where to go instead."""

    words: tuple[Text, ...] = Field(min_length=1)
    where: Text
    where_en: Text


class Synonym(_Model):
    """Everyday words and the catalogue's word for them (过世 → 死亡, 房本 → 不动产权证书):
    the search reads a query's ``words`` as ``means``, so a citizen's word the catalogue
    does not use still finds the matter, and does not count against it."""

    words: tuple[Annotated[str, Field(min_length=1, max_length=20)], ...] = Field(min_length=1)
    means: Text


class Catalogue(_Model):
    popular: tuple[Code, ...] = ()
    """the tiles shown before anything is typed, in order"""
    matter: tuple[Matter, ...] = Field(min_length=1)
    bundle: tuple[Bundle, ...] = ()
    elsewhere: tuple[Elsewhere, ...] = ()
    synonym: tuple[Synonym, ...] = ()

    @model_validator(mode="after")
    def _references(self) -> Catalogue:
        codes = [m.code for m in self.matter] + [b.code for b in self.bundle]
        dupes = sorted({c for c in codes if codes.count(c) > 1})
        if dupes:
            raise ValueError(f"codes used twice: {dupes}")
        names = [m.name for m in self.matter] + [b.name for b in self.bundle]
        if len(set(names)) != len(names):
            raise ValueError("two entries share a name")
        stray = [c for c in self.popular if c not in codes]
        if stray:
            raise ValueError(f"popular names unknown entries {stray}")
        said = [w for syn in self.synonym for w in syn.words]
        twice = sorted({w for w in said if said.count(w) > 1})
        if twice:
            raise ValueError(f"synonym words listed twice: {twice}")
        known = {m.code for m in self.matter}
        for b in self.bundle:
            missing = [c for c in b.matters if c not in known]
            if missing:
                raise ValueError(f"bundle {b.code}: unknown matters {missing}")
        return self

    # -- look-ups ---------------------------------------------------------------------------
    def get(self, code: str) -> Matter | Bundle | None:
        return self._by_code.get(code)

    def matter_of(self, code: str) -> Matter:
        found = self.get(code)
        if not isinstance(found, Matter):
            raise KeyError(code)
        return found

    def members(self, bundle: Bundle) -> tuple[Matter, ...]:
        return tuple(self.matter_of(c) for c in bundle.matters)

    def merged_checklist(self, bundle: Bundle) -> tuple[Material, ...]:
        """A bundle's checklist: every member's unconditional materials, each name once
        (the first member's wording of it), the most copies any member asks for."""
        merged: dict[str, Material] = {}
        for matter in self.members(bundle):
            for m in matter.checklist():
                seen = merged.get(m.name)
                if seen is None:
                    merged[m.name] = m
                elif m.copies > seen.copies:
                    merged[m.name] = seen.model_copy(update={"copies": m.copies})
        return tuple(merged.values())

    def popular_entries(self) -> tuple[Matter | Bundle, ...]:
        return tuple(e for c in self.popular if (e := self.get(c)) is not None)

    def entries(self) -> tuple[Matter | Bundle, ...]:
        return (*self.matter, *self.bundle)

    @cached_property
    def _by_code(self) -> dict[str, Matter | Bundle]:
        return {e.code: e for e in self.entries()}

    def check_against(self, services: Mapping[str, Set[str]]) -> list[str]:
        """Problems with a hall config: ``services`` maps each [[service]] code to the ids
        of the counters serving it. Every entry's service must exist and its counters must
        serve it. Returns the problems in words; empty when the catalogue fits."""
        problems = []
        for e in self.entries():
            if e.service not in services:
                problems.append(f"{e.code} {e.name}: service {e.service!r} is not configured")
                continue
            stray = [c for c in e.counters if c not in services[e.service]]
            if stray:
                problems.append(f"{e.code} {e.name}: counters {stray} do not serve {e.service}")
        return problems


def load_catalogue(path: str | Path = CATALOGUE_FILE) -> Catalogue:
    """Read and validate a catalogue file; a broken one raises ``CatalogueError``."""
    path = Path(path)
    try:
        with path.open("rb") as f:
            data = tomllib.load(f)
    except (OSError, tomllib.TOMLDecodeError) as err:
        raise CatalogueError(f"{path}: {err}") from err
    try:
        return Catalogue.model_validate(data)
    except ValidationError as err:
        lines = [f"{path}: {err.error_count()} problem(s)"]
        for e in err.errors():
            where = _where(data, e["loc"])
            lines.append(f"  {where}: {e['msg']}")
        raise CatalogueError("\n".join(lines)) from err


def _where(data: object, loc: tuple[int | str, ...]) -> str:
    """``matter[3].materials[1].form`` with the entry's code when it has one."""
    parts, node = [], data
    for step in loc:
        if isinstance(node, list) and isinstance(step, int) and step < len(node):
            node = node[step]
            code = node.get("code") if isinstance(node, dict) else None
            parts.append(f"[{step}]" + (f"({code})" if code else ""))
        elif isinstance(node, dict) and isinstance(step, str):
            node = node.get(step)
            parts.append(("." if parts else "") + step)
        else:
            parts.append(f".{step}")
    return "".join(parts)


@cache
def catalogue() -> Catalogue:
    """The packaged catalogue, loaded once per process."""
    return load_catalogue()

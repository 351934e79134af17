"""Translation catalogues: every text a citizen or staff member sees or hears.

One TOML file per part in ``common/assets/locales/`` (``voice.toml``, ``kiosk.toml``, …), each key
a table of languages, Chinese first::

    [ticket_called]
    zh = "请 {number} 号，到 {counter} 办理"
    en = "Number {number}, please go to {counter}"

``t("voice", "ticket_called", "zh", number=…, counter=…)``; a missing language falls back
to Chinese, a missing key is an error (a typo must not reach a citizen as silence).
"""

from __future__ import annotations

import tomllib
from functools import cache
from importlib.resources import files
from pathlib import Path
from typing import Any

LOCALES_DIR = Path(str(files("common") / "assets" / "locales"))
LANGUAGES = ("zh", "en")
DEFAULT_LANGUAGE = "zh"


class MissingText(KeyError):
    pass


@cache
def catalogue(domain: str) -> dict[str, dict[str, str]]:
    path = LOCALES_DIR / f"{domain}.toml"
    with path.open("rb") as f:
        data = tomllib.load(f)
    for key, entry in data.items():
        if not isinstance(entry, dict) or DEFAULT_LANGUAGE not in entry:
            raise ValueError(f"{path}: [{key}] needs at least a {DEFAULT_LANGUAGE!r} text")
    return data


def t(domain: str, key: str, lang: str = DEFAULT_LANGUAGE, **values: Any) -> str:
    try:
        entry = catalogue(domain)[key]
    except KeyError as err:
        raise MissingText(f"{domain}.{key}") from err
    template = entry.get(lang) or entry[DEFAULT_LANGUAGE]
    return template.format(**values) if values else template

"""The catalogue's names, aliases and elsewhere words as letters (pinyin, initials),
precomputed into ``data/letters.json`` so the kiosk's letters-only search needs no pypinyin
(its phrase dictionary is ~45 MB of the kiosk's 300). ``tests/guide`` checks the file is
what pypinyin says for the catalogue now; after editing the catalogue, regenerate it:

    .venv/bin/python -m guide.letters
"""

from __future__ import annotations

import json
from functools import cache
from importlib.resources import files
from pathlib import Path

from guide.catalogue import Catalogue, catalogue

LETTERS_FILE = Path(str(files("guide") / "data" / "letters.json"))


def texts(cat: Catalogue) -> list[str]:
    """Every text the sound channel compares typed letters with."""
    out = [t for e in cat.entries() for t in (e.name, *e.aliases)]
    out += [w for e in cat.elsewhere for w in e.words]
    return sorted(set(out))


def compute(cat: Catalogue) -> dict[str, tuple[str, str]]:
    from guide.search import letters_of

    return {t: letters_of(t) for t in texts(cat)}


@cache
def load_letters() -> dict[str, tuple[str, str]]:
    with LETTERS_FILE.open(encoding="utf-8") as f:
        raw: dict[str, list[str]] = json.load(f)
    return {k: (v[0], v[1]) for k, v in raw.items()}


def main() -> None:
    data = {k: list(v) for k, v in compute(catalogue()).items()}
    text = json.dumps(data, ensure_ascii=False, indent=0, sort_keys=True)
    LETTERS_FILE.write_text(text + "\n", encoding="utf-8")
    print(f"{LETTERS_FILE}: {len(data)} texts")


if __name__ == "__main__":
    main()

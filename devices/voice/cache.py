"""On-disk cache of synthesised phrases, so a repeated prompt or call starts at once.

Layout: ``DIR/<sha256 of (format version, text, voice, rate, volume)>.wav``. Files appear by
atomic rename, so a crash mid-write never leaves a half file under a real name, and several
processes (kiosk and announcer on one box) may share the directory.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from pathlib import Path

# Bump when synthesis changes in a way that makes old files wrong (e.g. a new espeak voice).
CACHE_FORMAT = 1


def default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "govhall" / "voice"


class PhraseCache:
    def __init__(self, directory: Path | str | None = None) -> None:
        self.directory = Path(directory) if directory is not None else default_cache_dir()
        self.directory.mkdir(parents=True, exist_ok=True)

    @staticmethod
    def key(text: str, voice: str, rate: int, volume: float) -> str:
        material = json.dumps(
            [CACHE_FORMAT, text, voice, rate, round(volume, 3)], ensure_ascii=False
        )
        return hashlib.sha256(material.encode("utf-8")).hexdigest()[:40]

    def path(self, key: str) -> Path:
        return self.directory / f"{key}.wav"

    def lookup(self, key: str) -> Path | None:
        path = self.path(key)
        return path if path.is_file() else None

    def temp_path(self, key: str) -> Path:
        # Unique per process and thread, so concurrent writers never share a temporary file.
        return self.directory / f".{key}.{os.getpid()}.{threading.get_ident()}.tmp.wav"

    def commit(self, key: str, temp: Path) -> Path:
        final = self.path(key)
        os.replace(temp, final)
        return final

    def discard(self, key: str) -> None:
        self.path(key).unlink(missing_ok=True)

    def __len__(self) -> int:
        return sum(1 for p in self.directory.glob("*.wav") if not p.name.startswith("."))

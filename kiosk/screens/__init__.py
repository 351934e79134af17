"""Thin Kivy screens: each renders the flow's ``View`` and forwards taps to the app, which
forwards them to the flow. No decision is taken here."""

from __future__ import annotations

from pathlib import Path

from kivy.lang import Builder

HERE = Path(__file__).resolve().parent
SCREENS = (
    "attract",
    "home",
    "id_card",
    "keypad",
    "face",
    "face_consent",
    "issuing",
    "ticket",
    "message",
    "guide_list",
    "guide",
    "guide_search",
    "guide_matter",
    "status",
    "maintenance",
    "rating",  # 评价上次办理 (issue 19)
)


def load_kv() -> None:
    """Shared styles first, then one file per screen (the showcase habit)."""
    Builder.load_file(str(HERE / "widgets.kv"))
    for name in SCREENS:
        Builder.load_file(str(HERE / f"{name}.kv"))

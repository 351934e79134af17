"""One CJK font for every part: the override wins, a missing override falls through to the
installed font (never to nothing), and the font found really holds Chinese."""

from __future__ import annotations

from pathlib import Path

import pytest

from common import fonts


def test_override_first_then_installed_fonts(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    installed = fonts.find_cjk_font()
    assert installed is not None  # the test set-up installs fonts-wqy-microhei
    custom = tmp_path / "hall-font.ttf"
    custom.write_bytes(installed.read_bytes())
    monkeypatch.setenv("GOVHALL_CJK_FONT", str(custom))
    assert fonts.find_cjk_font() == custom
    monkeypatch.setenv("GOVHALL_CJK_FONT", str(tmp_path / "missing.ttf"))
    assert fonts.find_cjk_font() == installed


def test_the_found_font_draws_chinese() -> None:
    from PIL import Image, ImageDraw, ImageFont

    path = fonts.find_cjk_font()
    assert path is not None
    font = ImageFont.truetype(str(path), 32)

    def drawn(ch: str) -> bytes:
        img = Image.new("L", (48, 48))
        ImageDraw.Draw(img).text((0, 0), ch, font=font, fill=255)
        return img.tobytes()

    assert drawn("政") != drawn("\U0010fffd")  # a real glyph, not the missing-glyph box

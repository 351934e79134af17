"""Every text the pages use exists in assets/locales/web.toml with Chinese and English, so a
typo shows up here and not as a raw key in front of staff or a citizen."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from common.i18n import catalogue
from hall.web.render import PAGES, render

STATIC = PAGES.with_name("static")
# bi("key"…), zh("key"…), GH.zh("key"…), GH.en("key"…) with a literal key
JS_KEY = re.compile(r"""\b(?:bi|zh|en)\(\s*"([a-z0-9_]+)"[,)]""")


@pytest.mark.parametrize("page", sorted(p.stem for p in PAGES.glob("*.html")))
def test_every_page_renders_with_its_texts(page: str) -> None:
    html = render(page, "测试中心")
    assert "{{" not in html
    assert 'lang="zh-CN"' in html


def test_every_literal_key_in_the_scripts_exists() -> None:
    texts = catalogue("web")
    missing = []
    for js in STATIC.glob("*.js"):
        for key in JS_KEY.findall(js.read_text(encoding="utf-8")):
            if key not in texts:
                missing.append(f"{js.name}: {key}")
    assert not missing


def test_runtime_keys_cover_every_state() -> None:
    """Keys the scripts build from server values ("status_" + ticket.status, …)."""
    texts = catalogue("web")
    from hall.domain.tickets import Klass, Status

    for s in Status:
        assert f"status_{s.value}" in texts
    for k in Klass:
        assert f"priority_{k.value}" in texts
    for state in ("open", "paused", "closed"):
        assert f"counter_{state}" in texts
    for score in range(1, 6):
        assert f"score_{score}" in texts
    for entry in texts.values():
        assert entry["zh"].strip()
    for part in ("printer", "reader", "camera", "speaker"):
        assert f"part_{part}" in texts


def test_static_files_have_no_remote_urls() -> None:
    """The hall has no internet: nothing may load from a CDN."""
    for path in [*STATIC.iterdir(), *PAGES.iterdir()]:
        text = Path(path).read_text(encoding="utf-8")
        assert not re.search(r"""(src|href)=["']?(https?:)?//""", text), path.name
        assert "@import url(http" not in text, path.name

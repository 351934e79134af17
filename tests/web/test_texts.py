"""Every text the pages use exists in common/assets/locales/web.toml with Chinese and
English, so a typo shows up here and not as a raw key in front of staff or a citizen."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from hall.web import STATIC
from hall.web.render import PAGES, page_catalogue, render, templates

# bi("key"…), zh("key"…), GH.zh("key"…), GH.en("key"…) with a literal key: the same calls
# in the scripts and in the templates.
KEY_CALL = re.compile(r"""\b(?:bi|zh|en)\(\s*"([a-z0-9_]+)"[,)]""")
# Everything a template prints, {{ … }}, and what it may be: a text by a literal key (so
# KEY_CALL sees every key a template uses) or a variable render() passes.
PRINTED = re.compile(r"\{\{-?(.*?)-?\}\}", re.S)
MAY_PRINT = re.compile(
    r"""(?:bi|zh)\("[a-z0-9_]+"\)|hall_name|timezone|page|body_class|texts\|tojson"""
)


def template_source(name: str) -> str:
    assert templates.loader is not None
    source, _, _ = templates.loader.get_source(templates, name)
    return source


TEMPLATES = sorted(templates.list_templates())
# The booking pages (book/, issue 21) are rendered on the server with their data and
# their own catalogue: tests/web/test_book_texts.py checks them.
SHELLS = [n for n in TEMPLATES if not n.startswith("book/")]


def test_every_template_is_a_page_or_the_layout() -> None:
    # a part's own templates live in a folder of its own (cockpit/ of issue 22, book/ …)
    own = {n for n in templates.list_templates() if "/" in n}
    assert set(templates.list_templates()) - own == {"base.html", *(f"{p}.html" for p in PAGES)}


@pytest.mark.parametrize("page", PAGES)
def test_every_page_renders_with_its_texts(page: str) -> None:
    html = render(page, "测试中心")
    assert "{{" not in html and "{%" not in html
    assert html.startswith("<!doctype html>\n") and 'lang="zh-CN"' in html
    assert html.count("<head>") == 1 and "· 测试中心</title>" in html
    assert f'<script src="/web/static/{page}.js"></script>' in html


@pytest.mark.parametrize("page", PAGES)
def test_every_page_extends_the_one_layout(page: str) -> None:
    source = template_source(f"{page}.html")
    assert source.startswith('{% extends "base.html" %}\n')
    assert "<head>" not in source and "<html" not in source and "<body" not in source


def test_the_hall_name_is_escaped() -> None:
    html = render("login", '<img src=x onerror="alert(1)">')
    assert "<img" not in html and "&lt;img src=x onerror=" in html


@pytest.mark.parametrize("name", SHELLS)
def test_templates_print_only_literal_keys_and_known_variables(name: str) -> None:
    printed = [e.strip() for e in PRINTED.findall(template_source(name))]
    assert printed, name
    assert [e for e in printed if not MAY_PRINT.fullmatch(e)] == []


def test_every_literal_key_in_the_templates_and_scripts_exists() -> None:
    texts = page_catalogue()
    sources = {f"static/{js.name}": js.read_text(encoding="utf-8") for js in STATIC.glob("*.js")}
    sources |= {f"templates/{name}": template_source(name) for name in TEMPLATES}
    found = {where: KEY_CALL.findall(source) for where, source in sources.items()}
    # The scan must see the texts of every page, or this test passes on nothing.
    assert all(found[f"templates/{page}.html"] for page in PAGES)
    assert sum(len(keys) for where, keys in found.items() if where.startswith("static/")) > 20
    missing = [
        f"{where}: {key}" for where, keys in found.items() for key in keys if key not in texts
    ]
    assert missing == []


def test_runtime_keys_cover_every_state() -> None:
    """Keys the scripts build from server values ("status_" + ticket.status, …)."""
    texts = page_catalogue()
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
    sources = {path.name: Path(path).read_text(encoding="utf-8") for path in STATIC.iterdir()}
    sources |= {name: template_source(name) for name in TEMPLATES}
    for name, text in sources.items():
        assert not re.search(r"""(src|href)=["']?(https?:)?//""", text), name
        assert "@import url(http" not in text, name

"""Server-rendered page shells without a template engine (jinja2 is not installed): each
page in ``pages/`` is HTML with ``{{key}}`` placeholders filled from the ``web``
translation catalogue, Chinese first and English second. Dynamic texts come from the same
catalogue, embedded as JSON for the page's script."""

from __future__ import annotations

import html
import json
import re
from functools import cache
from pathlib import Path

from common.i18n import catalogue, t

PAGES = Path(__file__).with_name("pages")
_PLACEHOLDER = re.compile(r"\{\{(?:(zh|en):)?([a-z0-9_]+)\}\}")

# Same-origin only: no inline script, no CDN, no framing (clickjacking of staff buttons).
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    # The citizen page's URL holds the ticket token: never send it to another site.
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


def _bilingual(key: str) -> str:
    zh, en = t("web", key, "zh"), t("web", key, "en")
    if en == zh:
        return f'<span class="zh">{html.escape(zh)}</span>'
    return f'<span class="zh">{html.escape(zh)}</span><span class="en">{html.escape(en)}</span>'


def catalogue_json() -> str:
    data = {
        k: {"zh": v.get("zh", ""), "en": v.get("en", v.get("zh", ""))}
        for k, v in catalogue("web").items()
    }
    # Inside <script type="application/json">: "<" must not close the element.
    return json.dumps(data, ensure_ascii=False).replace("<", "\\u003c")


@cache
def render(page: str, hall_name: str) -> str:
    text = (PAGES / f"{page}.html").read_text(encoding="utf-8")

    def fill(m: re.Match[str]) -> str:
        lang, key = m.group(1), m.group(2)
        if key == "i18n":
            return catalogue_json()
        if key == "hall_name":
            return html.escape(hall_name)
        if lang:
            return html.escape(t("web", key, lang))
        return _bilingual(key)

    return _PLACEHOLDER.sub(fill, text)

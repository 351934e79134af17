"""The page shells: Jinja2 templates in ``templates/`` with autoescape on. ``base.html``
holds the one head and layout; each page ``{% extends "base.html" %}``. Texts come from
the ``web`` catalogue (``common/assets/locales/web.toml``), Chinese first, English second:

- ``{{ bi("key") }}`` both languages, ``<span class="zh">…</span><span class="en">…</span>``
  (the English span is left out when it says the same);
- ``{{ zh("key") }}`` Chinese only (the window title, the shortcut line);
- ``{{ hall_name }}`` the hall's name from its config; ``{{ timezone }}`` its time zone
  (``<body data-tz>``: the clocks of the pages show the hall's time, not the browser's).

The page's script builds its dynamic texts from the same catalogue, embedded as JSON in
``<script type="application/json" id="i18n">``. A key missing from the catalogue or a
variable the page was not given is an error when the page renders, never an empty space in
front of staff or a citizen. ``tests/web/test_texts.py`` checks every key statically."""

from __future__ import annotations

from functools import cache

from fastapi.responses import HTMLResponse
from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup

from common.i18n import catalogue, t

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
# The pages a route may render (``templates/<page>.html``, script ``static/<page>.js``).
PAGES: tuple[str, ...] = ("login", "counter", "pad", "dashboard", "ticket", "cases", "public")


# The catalogues the pages read: web.toml and one file per part built beside it (cases.toml
# for 好差评 and the cases hub, …); a key lives in exactly one of them.
# 管理驾驶舱 (issue 22): cockpit.toml; its page is templates/cockpit/page.html (routes/cockpit.py).
CATALOGUES: tuple[str, ...] = ("web", "cases", "cockpit")
# 智能导办 (issue 20): the public guide /guide/ and its texts (locales/guide.toml).
PAGES = (*PAGES, "guide")
CATALOGUES = (*CATALOGUES, "guide")


@cache
def _domain_of() -> dict[str, str]:
    found: dict[str, str] = {}
    for domain in CATALOGUES:
        for key in catalogue(domain):
            if key in found:
                raise ValueError(f"text {key!r} is in both {found[key]}.toml and {domain}.toml")
            found[key] = domain
    return found


def page_catalogue(domains: tuple[str, ...] | None = None) -> dict[str, dict[str, str]]:
    """Every text a page may use: the catalogues of :data:`CATALOGUES` (or ``domains``),
    merged."""
    return {k: v for domain in domains or CATALOGUES for k, v in catalogue(domain).items()}


# A citizen's page (no login) carries only the texts citizens read, not the staff pages'.
CITIZEN_CATALOGUES: dict[str, tuple[str, ...]] = {
    "ticket": ("web", "cases"),
    "public": ("web", "cases"),
}


def text(key: str, lang: str) -> str:
    return t(_domain_of().get(key, "web"), key, lang)


def zh(key: str) -> str:
    return text(key, "zh")


def bi(key: str) -> Markup:
    chinese, english = zh(key), text(key, "en")
    out = Markup('<span class="zh">{}</span>').format(chinese)
    if english != chinese:
        out += Markup('<span class="en">{}</span>').format(english)
    return out


def browser_texts(domains: tuple[str, ...] | None = None) -> dict[str, dict[str, str]]:
    """The whole catalogue for the page's script (``GH.zh``/``GH.en``/``GH.bi`` in web.js),
    English filled in with Chinese where it is missing."""
    return {
        k: {"zh": v.get("zh", ""), "en": v.get("en", v.get("zh", ""))}
        for k, v in page_catalogue(domains).items()
    }


def _environment() -> Environment:
    env = Environment(
        loader=PackageLoader("hall.web", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.globals.update(bi=bi, zh=zh)
    # `|tojson` escapes <, >, & and ' (safe inside <script>); Chinese stays readable.
    env.policies["json.dumps_kwargs"] = {"ensure_ascii": False}
    return env


templates = _environment()


@cache
def render(page: str, hall_name: str, timezone: str = "Asia/Shanghai") -> str:
    if page not in PAGES:
        raise ValueError(f"no page {page!r}")
    return templates.get_template(f"{page}.html").render(
        page=page,
        hall_name=hall_name,
        timezone=timezone,
        texts=browser_texts(CITIZEN_CATALOGUES.get(page)),
    )


def page_response(page: str, hall_name: str, timezone: str = "Asia/Shanghai") -> HTMLResponse:
    return HTMLResponse(render(page, hall_name, timezone), headers=SECURITY_HEADERS)

"""The booking pages' texts (templates/book/, static/book.js): every key they name is in
common/assets/locales/booking.toml with Chinese and English, the keys built at run time
(day states, statuses, weekdays) cover every value, and the pages render without one."""

from __future__ import annotations

import re

from common.i18n import catalogue
from hall.domain.booking import DayState, Status
from hall.web import STATIC
from hall.web.render import templates
from hall.web.routes.book import COMPANION_KEYS, PANEL_KEYS

T_CALL = re.compile(r"""\bT\(\s*"([a-z0-9_]+)"[,)]""")
SAY_CALL = re.compile(r"""\bsay\([^,]+,\s*"([a-z0-9_]+)"[,)]""")
BOOK = sorted(n for n in templates.list_templates() if n.startswith("book/"))


def source(name: str) -> str:
    assert templates.loader is not None
    return templates.loader.get_source(templates, name)[0]


def test_every_key_the_pages_name_has_both_languages() -> None:
    texts = catalogue("booking")
    keys = {k for name in BOOK for k in T_CALL.findall(source(name))}
    script = (STATIC / "book.js").read_text(encoding="utf-8")
    keys |= set(SAY_CALL.findall(script))
    keys |= set(
        re.findall(r'"((?:id|phone)_(?:ok|bad|bad_check|bad_chars|too_short|hint))"', script)
    )
    assert len(keys) > 40 and len(BOOK) >= 6
    assert [k for k in sorted(keys) if k not in texts] == []
    assert [k for k, v in texts.items() if not v.get("zh") or not v.get("en")] == []


def test_run_time_keys_cover_every_state() -> None:
    texts = catalogue("booking")
    assert set(PANEL_KEYS) - set(texts) == set()  # the staff panel's words
    assert set(COMPANION_KEYS) - set(texts) == set()  # the ticket page's companion
    needed = {f"day_{s.value}" for s in DayState} | {f"status_{s.value}" for s in Status}
    needed |= {f"weekday_{n}" for n in range(7)}
    assert needed - set(texts) == set()


def test_every_booking_page_extends_the_frame() -> None:
    for name in BOOK:
        if name not in ("book/layout.html", "book/panel.html", "book/companion.html"):
            assert source(name).startswith('{% extends "book/layout.html" %}'), name
    assert source("book/layout.html").count('{% extends "base.html" %}') == 1
    assert "{{" not in source("book/panel.html")  # its words come from /web/api/bookings/day
    assert "{{" not in source("book/companion.html")  # and from /book/companion/texts

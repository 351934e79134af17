"""Ticket layout: a ticket or service guide → elements (``elements.py``), and the text-mode
job as ESC/POS bytes (``render_ticket``, ``render_guide``). Pure, no I/O.

Chinese first, English on the line below; every text passes ``text.printable`` and is
clipped and wrapped to the paper (Chinese counts two columns); the ticket number is as big
as fits on one line (GS ! up to 4×4). The same elements are rendered as a raster image by
``image.py`` and recovered from bytes by ``decode.py``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from common.i18n import t
from common.personal import mask_name
from devices.printer.elements import (
    PAPER_COLUMNS,
    Align,
    Cut,
    Element,
    Feed,
    Line,
    Qr,
    Span,
    check_paper,
)
from devices.printer.encode import encode_elements
from devices.printer.errors import LayoutError
from devices.printer.text import (
    MAX_FIELD_CHARS,
    clip,
    normalize_encoding,
    printable,
    text_width,
    wrap,
)

MAX_QR_BYTES = 300  # tracking URLs only; larger codes get too dense for a 58 mm ticket
FOOTER_MAX_CHARS = 400


@dataclass(frozen=True)
class TicketInfo:
    hall_name: str
    service_name: str
    service_name_en: str
    number: str
    waiting_ahead: int | None
    estimated_wait_s: int | None  # None: estimate unavailable (e.g. issued offline)
    issued_at: dt.datetime
    name_masked: str | None = None
    counter_hint: str | None = None
    qr_payload: str | None = None
    """What the QR code holds: the ticket's page, ``<public_url>/t/<public_token>`` (the
    kiosk builds it, kiosk/flows/take_ticket.py); None or "" prints no code (an offline
    ticket has no page yet)."""
    footer: str = ""
    offline: bool = False
    wait_range_s: tuple[int, int] | None = None
    """The hall's range for the wait (e.g. 600–1200 s → 约 10–20 分钟), printed instead of
    the single estimate: how often real waits fall in it is measured (the cockpit)."""
    green_lane: str | None = None
    """绿色通道: the reason (elderly, disabled, military; "" unsaid); None: normal queue."""
    valid_today: bool = True
    """当日有效: a number is for the day it was issued (the hall expires it at closing)."""
    rejoin_min: int = 0
    """The 过号 rule: a missed ticket may rejoin at a counter within this many minutes;
    0 prints the rule without a time (ask at a counter)."""


@dataclass(frozen=True)
class GuideInfo:
    """A service guide (材料清单) from the service catalogue."""

    hall_name: str
    service_name: str
    service_name_en: str
    materials: tuple[str, ...]
    materials_en: tuple[str, ...] = ()
    issued_at: dt.datetime | None = None
    footer: str = ""


def _para(
    text: str,
    paper: str,
    encoding: str,
    *,
    align: Align = "left",
    width: int = 1,
    height: int = 1,
    bold: bool = False,
    max_chars: int = MAX_FIELD_CHARS,
) -> list[Element]:
    cols = PAPER_COLUMNS[paper] // width
    clean = clip(printable(text, encoding).strip(), max_chars)
    return [Line((Span(ln, width, height, bold),), align) for ln in wrap(clean, cols, encoding)]


def _rule(paper: str) -> Line:
    return Line((Span("-" * PAPER_COLUMNS[paper]),), "center")


def _bilingual(key: str, paper: str, encoding: str, **values: object) -> list[Element]:
    return [
        *_para(t("printer", key, "zh", **values), paper, encoding, align="center"),
        *_para(t("printer", key, "en", **values), paper, encoding, align="center"),
    ]


def _labelled(key: str, value: str, paper: str, encoding: str) -> list[Element]:
    """``标签/Label: value`` on one line, or the label over an indented value when the
    pair does not fit (a date split at its space is hard to read)."""
    label = f"{t('printer', key, 'zh')}/{t('printer', key, 'en')}:"
    value = clip(printable(value, encoding).strip())
    cols = PAPER_COLUMNS[paper]
    if text_width(f"{label} {value}", encoding) <= cols:
        return [Line((Span(f"{label} {value}"),), "left")]
    out: list[Element] = [Line((Span(label),), "left")]
    out += [Line((Span("  " + ln),), "left") for ln in wrap(value, cols - 2, encoding)]
    return out


def _hall(name: str, encoding: str) -> str:
    """A ticket always says where it is valid; an unnamed hall gets the generic name."""
    return name if printable(name, encoding).strip() else t("common", "hall_name_fallback")


def _number_size(number: str, paper: str, encoding: str) -> int:
    """Largest GS ! multiplier (≤ 4) at which the number still fits on one line."""
    width = text_width(number, encoding) or 1
    for size in (4, 3, 2):
        if width * size <= PAPER_COLUMNS[paper]:
            return size
    return 1


def _wait_elements(info: TicketInfo, paper: str, encoding: str) -> list[Element]:
    out: list[Element] = []
    if info.waiting_ahead is None:
        out += _bilingual("waiting_unknown", paper, encoding)
    elif info.waiting_ahead <= 0:
        out += _bilingual("waiting_none", paper, encoding)
    else:
        key = "waiting_ahead_one" if info.waiting_ahead == 1 else "waiting_ahead"  # 1 person
        out += _bilingual(key, paper, encoding, n=info.waiting_ahead)
    wait_range = info.wait_range_s
    if wait_range is not None and wait_range[1] >= 60 and info.waiting_ahead:
        lo, hi = (max(0, round(s / 60)) for s in wait_range)
        if lo <= 0:
            out += _bilingual("estimated_wait_within", paper, encoding, hi=hi)
        else:
            out += _bilingual("estimated_wait_range", paper, encoding, lo=lo, hi=hi)
    elif info.estimated_wait_s is None:
        out += _bilingual("estimated_wait_unknown", paper, encoding)
    elif info.estimated_wait_s < 60:
        out += _bilingual("estimated_wait_short", paper, encoding)
    else:
        minutes = round(info.estimated_wait_s / 60)
        out += _bilingual("estimated_wait", paper, encoding, minutes=minutes)
    return out


def ticket_elements(
    info: TicketInfo, paper: str = "80", encoding: str = "gb18030"
) -> list[Element]:
    """The ticket as elements; ``render_ticket`` and the image mode both start here."""
    paper = check_paper(paper)
    encoding = normalize_encoding(encoding)
    if info.waiting_ahead is not None and info.waiting_ahead < 0:
        raise LayoutError(f"waiting_ahead must not be negative, got {info.waiting_ahead}")
    if info.estimated_wait_s is not None and info.estimated_wait_s < 0:
        raise LayoutError(f"estimated_wait_s must not be negative, got {info.estimated_wait_s}")
    qr_bytes = info.qr_payload.encode("utf-8", "replace") if info.qr_payload else b""
    if len(qr_bytes) > MAX_QR_BYTES:
        raise LayoutError(f"QR payload has {len(qr_bytes)} bytes; at most {MAX_QR_BYTES}")
    number = printable(info.number, encoding).strip()
    if not number:
        raise LayoutError("a ticket needs a number", code="printer.bad_ticket")

    els: list[Element] = []
    els += _para(_hall(info.hall_name, encoding), paper, encoding, align="center", bold=True)
    els.append(_rule(paper))
    els += _para(info.service_name, paper, encoding, align="center", height=2, bold=True)
    els += _para(info.service_name_en, paper, encoding, align="center")
    els.append(Feed(1))
    els += _bilingual("number_label", paper, encoding)
    size = _number_size(number, paper, encoding)
    els += _para(number, paper, encoding, align="center", width=size, height=size, bold=True)
    els.append(Feed(1))
    if info.green_lane is not None:
        els += _bilingual(
            "green_lane" if info.green_lane else "green_lane_plain",
            paper,
            encoding,
            who=t("printer", f"green_lane_{info.green_lane or 'elderly'}", "zh"),
            who_en=t("printer", f"green_lane_{info.green_lane or 'elderly'}", "en"),
        )
    els += _wait_elements(info, paper, encoding)
    if info.offline:
        els += _bilingual("offline_notice", paper, encoding)
    els.append(_rule(paper))
    if info.name_masked:
        # Masking again is a no-op on a masked name and a safety net for an unmasked one.
        els += _labelled("name_label", mask_name(info.name_masked), paper, encoding)
    if info.counter_hint:
        els += _labelled("counter_label", info.counter_hint, paper, encoding)
    els += _labelled("issued_label", info.issued_at.strftime("%Y-%m-%d %H:%M"), paper, encoding)
    if info.valid_today:
        els += _bilingual("valid_today", paper, encoding)
    if info.rejoin_min > 0:
        els += _bilingual("missed_rule", paper, encoding, minutes=info.rejoin_min)
    else:
        els += _bilingual("missed_rule_ask", paper, encoding)
    if info.qr_payload:
        els.append(Feed(1))
        els.append(Qr(info.qr_payload, module=6 if paper == "58" else 8))
        els += _bilingual("qr_caption", paper, encoding)
    if info.footer:
        els.append(_rule(paper))
        els += _para(info.footer, paper, encoding, max_chars=FOOTER_MAX_CHARS)
    els.append(Feed(3))
    els.append(Cut())
    return els


def guide_elements(guide: GuideInfo, paper: str = "80", encoding: str = "gb18030") -> list[Element]:
    paper = check_paper(paper)
    encoding = normalize_encoding(encoding)
    els: list[Element] = []
    els += _para(_hall(guide.hall_name, encoding), paper, encoding, align="center", bold=True)
    els.append(_rule(paper))
    els += _bilingual("guide_title", paper, encoding)
    els += _para(guide.service_name, paper, encoding, align="center", height=2, bold=True)
    els += _para(guide.service_name_en, paper, encoding, align="center")
    els.append(_rule(paper))
    if not guide.materials:
        els += _bilingual("guide_none", paper, encoding)
    for i, item in enumerate(guide.materials, start=1):
        els += _numbered(i, item, paper, encoding)
        if i <= len(guide.materials_en) and guide.materials_en[i - 1]:
            els += _numbered(None, guide.materials_en[i - 1], paper, encoding)
    if guide.issued_at is not None:
        els.append(_rule(paper))
        stamp = guide.issued_at.strftime("%Y-%m-%d %H:%M")
        els += _labelled("issued_label", stamp, paper, encoding)
    if guide.footer:
        els.append(_rule(paper))
        els += _para(guide.footer, paper, encoding, max_chars=FOOTER_MAX_CHARS)
    els.append(Feed(3))
    els.append(Cut())
    return els


def _numbered(n: int | None, text: str, paper: str, encoding: str) -> list[Element]:
    """A list item with a hanging indent so wrapped lines stay under their number."""
    prefix = f"{n}. " if n is not None else ""
    indent = " " * 4
    cols = PAPER_COLUMNS[paper] - len(indent)
    clean = clip(printable(text, encoding).strip())
    lines = wrap(clean, cols, encoding)
    out: list[Element] = []
    for i, ln in enumerate(lines):
        lead = (prefix.ljust(len(indent))) if i == 0 else indent
        out.append(Line((Span(lead + ln),), "left"))
    return out


def render_ticket(info: TicketInfo, paper: str = "80", encoding: str = "gb18030") -> bytes:
    """A queue ticket as ESC/POS bytes (text mode, native QR, partial cut)."""
    return encode_elements(ticket_elements(info, paper, encoding), encoding)


def render_guide(guide: GuideInfo, paper: str = "80", encoding: str = "gb18030") -> bytes:
    """A service guide (材料清单) as ESC/POS bytes, same layout rules as tickets."""
    return encode_elements(guide_elements(guide, paper, encoding), encoding)


def sample_ticket(now: dt.datetime | None = None) -> TicketInfo:
    """A ticket that uses every element, for test pages and benchmarks."""
    return TicketInfo(
        hall_name="西城区政务服务中心",
        service_name="社保业务",
        service_name_en="Social Security",
        number="A012",
        waiting_ahead=3,
        estimated_wait_s=900,
        issued_at=now or dt.datetime(2026, 11, 23, 9, 5),
        name_masked="张*三",
        counter_hint="3号窗口",
        qr_payload="https://hall.example/t/7f3a9c",
        footer=printable("请保管好您的排号小票。"),
        rejoin_min=30,
    )

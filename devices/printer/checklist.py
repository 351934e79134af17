"""The printed 一次告知单 of 智能导办 (issue 20): one matter's or bundle's checklist → elements
(``elements.py``), with the same rules as the ticket (``layout.py``: Chinese first, every
text printable and wrapped to the paper) and a QR code to the same guide online. Pure: the
kiosk's runtime gives it a ``ChecklistInfo`` and sends the job through the driver."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from common.i18n import t
from devices.printer.elements import Cut, Element, Feed, Qr, check_paper
from devices.printer.errors import LayoutError
from devices.printer.layout import (
    FOOTER_MAX_CHARS,
    MAX_QR_BYTES,
    _hall,
    _numbered,
    _para,
    _rule,
)
from devices.printer.text import normalize_encoding


@dataclass(frozen=True)
class ChecklistInfo:
    hall_name: str
    title: str  # the matter's official name
    title_en: str
    queue: str  # the service to take a ticket for
    situation: tuple[str, ...] = ()  # the answers chosen (二手房, 有贷款)
    materials: tuple[str, ...] = ()  # one line each
    facts: tuple[str, ...] = ()  # "办理时限：…", "收费：…", "办理窗口：…"
    url: str = ""  # the guide online: <public_url>/guide/<code>?tags=…
    issued_at: dt.datetime | None = None


def _bi(key: str, paper: str, encoding: str, **values: object) -> list[Element]:
    return [
        *_para(t("guide", key, "zh", **values), paper, encoding, align="center"),
        *_para(t("guide", key, "en", **values), paper, encoding, align="center"),
    ]


def checklist_elements(
    info: ChecklistInfo, paper: str = "80", encoding: str = "gb18030"
) -> list[Element]:
    paper = check_paper(paper)
    encoding = normalize_encoding(encoding)
    if len(info.url.encode("utf-8")) > MAX_QR_BYTES:
        raise LayoutError(f"guide URL has more than {MAX_QR_BYTES} bytes")
    if not info.materials:
        raise LayoutError("a checklist needs its materials", code="printer.bad_ticket")
    els: list[Element] = []
    els += _para(_hall(info.hall_name, encoding), paper, encoding, align="center", bold=True)
    els.append(_rule(paper))
    els += _bi("guide_p_title", paper, encoding)
    els += _para(info.title, paper, encoding, align="center", height=2, bold=True)
    els += _para(info.title_en, paper, encoding, align="center")
    if info.situation:
        value = "；".join(info.situation)
        els += _para(t("guide", "guide_k_situation", "zh", value=value), paper, encoding)
    els.append(_rule(paper))
    els += _para(
        f"{t('guide', 'guide_k_checklist', 'zh')} / {t('guide', 'guide_k_checklist', 'en')}",
        paper,
        encoding,
        bold=True,
    )
    for i, item in enumerate(info.materials, start=1):
        els += _numbered(i, item, paper, encoding)
    els.append(_rule(paper))
    els += _para(t("guide", "guide_k_queue", "zh", value=info.queue), paper, encoding)
    for fact in info.facts:
        if fact.startswith(t("guide", "guide_k_queue", "zh", value="")):
            continue  # said just above
        els += _para(fact, paper, encoding)
    if info.issued_at is not None:
        els += _para(info.issued_at.strftime("%Y-%m-%d %H:%M"), paper, encoding, align="right")
    if info.url:
        els.append(Feed(1))
        els.append(Qr(info.url, module=5 if paper == "58" else 7))
        els += _bi("guide_p_scan", paper, encoding)
    els.append(_rule(paper))
    els += _para(t("guide", "guide_p_footer", "zh"), paper, encoding, max_chars=FOOTER_MAX_CHARS)
    els.append(Feed(3))
    els.append(Cut())
    return els

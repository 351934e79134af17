"""Ticket layout: a ticket description → printable elements → ESC/POS bytes. Pure, no I/O.

Paper: "58" = 384 dots / 32 columns, "80" = 576 dots / 48 columns (12-dot Latin cells,
24-dot Chinese cells). Bytes sent for a text ticket::

    ESC @                      initialise
    FS &                       Chinese mode on (UTF-8 printers: FS ( C 2 0 48 2)
    per line: ESC a n (align) GS ! n (size, Latin and Chinese) ESC E n (bold) TEXT LF
    GS ( k …                   native QR (model 2, module size, level M, store, print)
    ESC d n, GS V 66 0         feed, then feed to the cutter and partial cut

Text is sanitised by ``printable()`` before it is encoded: NFC, control and format characters
and anything the encoding cannot carry become a visible replacement (〓 for GB encodings, □
for Big5, U+FFFD for UTF-8) — never python-escpos's silent ``?``. The same elements are
rendered as a raster image by ``image.py`` and recovered from bytes by ``decode.py``.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from dataclasses import dataclass, field
from typing import Literal, cast

from common.i18n import t
from common.personal import mask_name
from devices.errors import DeviceError

Paper = Literal["58", "80"]
Align = Literal["left", "center", "right"]

PAPER_DOTS: dict[str, int] = {"58": 384, "80": 576}
PAPER_COLUMNS: dict[str, int] = {"58": 32, "80": 48}

ESC, GS, FS, DLE, LF = b"\x1b", b"\x1d", b"\x1c", b"\x10", b"\n"
INIT = ESC + b"@"
CHINESE_ON = FS + b"&"
CHINESE_OFF = FS + b"."
SELECT_UTF8 = FS + b"(C\x02\x00\x30\x02"  # FS ( C fn 48: character encoding UTF-8
ALIGN_CODES: dict[str, int] = {"left": 0, "center": 1, "right": 2}

# Double-byte printers (GB18030/GBK/Big5 in Chinese mode) print every non-ASCII character in
# a full 24-dot cell, so width is 2 for all of them; UTF-8 printers follow East Asian Width.
ENCODINGS: dict[str, str] = {
    "gb18030": "〓",
    "gbk": "〓",
    "big5": "□",  # Big5 has no 〓
    "utf-8": "\ufffd",
}
_ENCODING_ALIASES = {"utf8": "utf-8", "cp936": "gbk", "gb2312": "gbk", "big-5": "big5"}

MAX_FIELD_CHARS = 120  # a runaway catalogue entry must not print a metre of paper
ELLIPSIS = "…"
MAX_QR_BYTES = 300  # tracking URLs only; larger codes get too dense for a 58 mm ticket
FOOTER_MAX_CHARS = 400


class LayoutError(DeviceError):
    """A ticket that cannot be laid out (caller bug): nothing was sent to the printer."""

    code = "printer.bad_ticket"


# ---------------------------------------------------------------- elements (shared model)


@dataclass(frozen=True)
class Span:
    text: str
    width: int = 1  # GS ! multipliers, 1..8
    height: int = 1
    bold: bool = False


@dataclass(frozen=True)
class Line:
    spans: tuple[Span, ...]
    align: Align = "left"

    @property
    def text(self) -> str:
        return "".join(s.text for s in self.spans)


@dataclass(frozen=True)
class Qr:
    payload: str
    module: int = 6


@dataclass(frozen=True)
class Feed:
    lines: int


@dataclass(frozen=True)
class Cut:
    partial: bool = True


@dataclass(frozen=True)
class Raster:
    """A GS v 0 bit image: rows of ``width_bytes`` bytes, MSB = leftmost dot, 1 = black."""

    width_bytes: int
    height: int
    data: bytes = field(repr=False)


Element = Line | Qr | Feed | Cut | Raster


# ---------------------------------------------------------------- ticket descriptions


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
    footer: str = ""
    offline: bool = False


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


# ---------------------------------------------------------------- text helpers


def normalize_encoding(encoding: str) -> str:
    name = encoding.strip().lower().replace("_", "-")
    name = _ENCODING_ALIASES.get(name, name)
    if name not in ENCODINGS:
        raise LayoutError(
            f"unsupported printer encoding {encoding!r}; use one of {', '.join(ENCODINGS)}",
            code="printer.bad_encoding",
        )
    return name


def replacement_char(encoding: str) -> str:
    return ENCODINGS[normalize_encoding(encoding)]


def printable(text: str, encoding: str = "gb18030") -> str:
    """What the printer will be sent for ``text``: NFC; tabs/newlines → space; control,
    format, private-use, unassigned and unencodable characters → the visible replacement."""
    enc = normalize_encoding(encoding)
    repl = ENCODINGS[enc]
    out: list[str] = []
    for ch in unicodedata.normalize("NFC", text):
        if ch in "\t\n\r\v\f\x85\u2028\u2029":
            out.append(" ")
            continue
        if unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co", "Cn"):
            out.append(repl)
            continue
        try:
            ch.encode(enc)
        except UnicodeEncodeError:
            out.append(repl)
        else:
            out.append(ch)
    return "".join(out)


def clip(text: str, max_chars: int = MAX_FIELD_CHARS) -> str:
    return text if len(text) <= max_chars else text[: max_chars - 1] + ELLIPSIS


def char_width(ch: str, encoding: str = "gb18030") -> int:
    if normalize_encoding(encoding) == "utf-8":
        return 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1
    return 1 if ch.isascii() else 2


def text_width(text: str, encoding: str = "gb18030") -> int:
    return sum(char_width(c, encoding) for c in text)


def wrap(text: str, columns: int, encoding: str = "gb18030") -> list[str]:
    """Greedy wrap counting Chinese as two columns. Breaks at a space (which is dropped) or
    before a wide character; words longer than a line are cut hard. Never loses a
    non-space character; an empty text gives no lines."""
    columns = max(columns, 2)  # a 2-column cell must always fit
    lines: list[str] = []
    for paragraph in text.split("\n"):
        line = ""
        width = 0
        for ch in paragraph:
            w = char_width(ch, encoding)
            if width + w <= columns:
                line += ch
                width += w
                continue
            if ch == " ":
                lines.append(line.rstrip(" "))
                line, width = "", 0
                continue
            # Break opportunities: at a space (dropped), before or after a wide character.
            if w == 2 or char_width(line[-1], encoding) == 2:
                cut = len(line)
            else:
                cut = _last_break(line, encoding)
            if cut <= 0:
                cut = len(line)  # one long word: cut hard
            head, tail = line[:cut], line[cut:].lstrip(" ")
            lines.append(head.rstrip(" "))
            line = tail + ch
            width = text_width(line, encoding)
        line = line.rstrip(" ")
        if line:
            lines.append(line)
    return [ln for ln in lines if ln]


def _last_break(line: str, encoding: str) -> int:
    """Index to cut ``line`` at: a space, or just after a wide character; -1 if none."""
    for i in range(len(line) - 1, 0, -1):
        if line[i] == " ":
            return i
        if char_width(line[i - 1], encoding) == 2:
            return i
    return -1


# ---------------------------------------------------------------- building elements


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


def _check_paper(paper: str) -> Paper:
    paper = str(paper)
    if paper not in PAPER_DOTS:
        raise LayoutError(f"paper must be '58' or '80', got {paper!r}", code="printer.bad_paper")
    return cast(Paper, paper)  # checked just above: PAPER_DOTS has exactly the Paper values


def _wait_elements(info: TicketInfo, paper: str, encoding: str) -> list[Element]:
    out: list[Element] = []
    if info.waiting_ahead is None:
        out += _bilingual("waiting_unknown", paper, encoding)
    elif info.waiting_ahead <= 0:
        out += _bilingual("waiting_none", paper, encoding)
    else:
        out += _bilingual("waiting_ahead", paper, encoding, n=info.waiting_ahead)
    if info.estimated_wait_s is None:
        out += _bilingual("estimated_wait_unknown", paper, encoding)
    elif info.estimated_wait_s < 60:
        out += _bilingual("estimated_wait_short", paper, encoding)
    else:
        minutes = round(info.estimated_wait_s / 60)
        out += _bilingual("estimated_wait", paper, encoding, minutes=minutes)
    return out


def ticket_elements(
    info: TicketInfo, paper: Paper = "80", encoding: str = "gb18030"
) -> list[Element]:
    """The ticket as elements; ``render_ticket`` and the image mode both start here."""
    paper = _check_paper(paper)
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


def guide_elements(
    guide: GuideInfo, paper: Paper = "80", encoding: str = "gb18030"
) -> list[Element]:
    paper = _check_paper(paper)
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


# ---------------------------------------------------------------- elements → bytes


def size_byte(width: int, height: int) -> int:
    if not (1 <= width <= 8 and 1 <= height <= 8):
        raise LayoutError(f"character size must be 1..8, got {width}x{height}")
    return ((width - 1) << 4) | (height - 1)


def qr_commands(payload: str, module: int = 6) -> bytes:
    data = payload.encode("utf-8", "replace")
    store_len = len(data) + 3
    return b"".join(
        [
            GS + b"(k" + bytes([4, 0, 0x31, 0x41, 0x32, 0x00]),  # model 2
            GS + b"(k" + bytes([3, 0, 0x31, 0x43, max(1, min(module, 16))]),  # module size
            GS + b"(k" + bytes([3, 0, 0x31, 0x45, 0x31]),  # error correction M
            GS + b"(k" + bytes([store_len & 0xFF, store_len >> 8, 0x31, 0x50, 0x30]) + data,
            GS + b"(k" + bytes([3, 0, 0x31, 0x51, 0x30]),  # print
        ]
    )


def encode_elements(elements: list[Element], encoding: str = "gb18030") -> bytes:
    """Elements → ESC/POS bytes. Mode commands are only sent when they change."""
    enc = normalize_encoding(encoding)
    out = bytearray(INIT)
    out += SELECT_UTF8 if enc == "utf-8" else CHINESE_ON
    align, size, bold = 0, 0, False

    def set_align(a: int) -> None:
        nonlocal align
        if a != align:
            out.extend(ESC + b"a" + bytes([a]))
            align = a

    for el in elements:
        if isinstance(el, Line):
            set_align(ALIGN_CODES[el.align])
            for span in el.spans:
                s = size_byte(span.width, span.height)
                if s != size:
                    out.extend(GS + b"!" + bytes([s]))
                    size = s
                if span.bold != bold:
                    out.extend(ESC + b"E" + bytes([1 if span.bold else 0]))
                    bold = span.bold
                out.extend(printable(span.text, enc).encode(enc))
            out.extend(LF)
        elif isinstance(el, Qr):
            set_align(1)
            out.extend(qr_commands(el.payload, el.module))
            out.extend(LF)
        elif isinstance(el, Feed):
            out.extend(ESC + b"d" + bytes([max(0, min(el.lines, 255))]))
        elif isinstance(el, Cut):
            out.extend(GS + b"V" + bytes([66 if el.partial else 65, 0]))
        elif isinstance(el, Raster):
            set_align(1)
            out.extend(raster_command(el))
    return bytes(out)


def raster_command(r: Raster) -> bytes:
    """GS v 0 m=0 (normal density) for one band."""
    return (
        GS
        + b"v0\x00"
        + bytes([r.width_bytes & 0xFF, r.width_bytes >> 8, r.height & 0xFF, r.height >> 8])
        + r.data
    )


def render_ticket(info: TicketInfo, paper: Paper = "80", encoding: str = "gb18030") -> bytes:
    """A queue ticket as ESC/POS bytes (text mode, native QR, partial cut)."""
    return encode_elements(ticket_elements(info, paper, encoding), encoding)


def render_guide(guide: GuideInfo, paper: Paper = "80", encoding: str = "gb18030") -> bytes:
    """A service guide (材料清单) as ESC/POS bytes, same layout rules as tickets."""
    return encode_elements(guide_elements(guide, paper, encoding), encoding)


def needs_image(elements: list[Element], encoding: str = "gb18030") -> bool:
    """True when text would need glyphs a typical GB printer font lacks (GB18030 4-byte
    characters: rare CJK, emoji), so ``auto`` mode should print the ticket as an image."""
    enc = normalize_encoding(encoding)
    if enc != "gb18030":
        return False
    for el in elements:
        if isinstance(el, Line):
            for ch in el.text:
                if not ch.isascii() and len(ch.encode("gb18030")) == 4:
                    return True
    return False

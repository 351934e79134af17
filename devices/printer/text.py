"""Text as a Chinese ticket printer prints it: what it can be sent (``printable``), how wide it
is (``char_width``, ``text_width``), how it wraps (``wrap``) and which encodings exist
(``ENCODINGS``). Pure, no I/O.

Text is sanitised by ``printable()`` before it is encoded: NFC, control and format characters
and anything the encoding cannot carry become a visible replacement (〓 for GB encodings, □
for Big5, U+FFFD for UTF-8) — never python-escpos's silent ``?``.
"""

from __future__ import annotations

import unicodedata

from devices.printer.elements import Element, Line
from devices.printer.errors import LayoutError

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


def normalize_encoding(encoding: str) -> str:
    name = encoding.strip().lower().replace("_", "-")
    name = _ENCODING_ALIASES.get(name, name)
    if name not in ENCODINGS:
        raise LayoutError(
            f"unsupported printer encoding {encoding!r}; use one of {', '.join(ENCODINGS)}",
            code="printer.bad_encoding",
        )
    return name


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

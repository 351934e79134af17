"""ESC/POS bytes → what the printer would print. Pure, no I/O; never raises on any input.

Used by our tests, by the simulator (which is a real ESC/POS peer) and by technicians
(``govhall device printer --decode FILE``). It tracks the modes a Chinese printer tracks:
Chinese (Kanji) mode (FS & / FS .) decides whether bytes ≥ 0x81 are GB18030/GBK/Big5/UTF-8
characters or single-byte code-page characters (CP437 after ESC @); GS ! sets the size;
ESC a the justification; ESC E bold. Commands the decoder does not know are shown as
``[unknown ESC 0x..]`` — a technician must see them, not have them silently vanish.

``tokens(data)`` splits a byte stream into commands and text runs; ``next_token`` does the
same incrementally (the simulator feeds it bytes as they arrive over a slow link).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from devices.printer.elements import Align, Cut, Element, Feed, Line, Qr, Raster, Span
from devices.printer.text import normalize_encoding

_ALIGN: dict[int, Align] = {
    0: "left",
    1: "center",
    2: "right",
    48: "left",
    49: "center",
    50: "right",
}
_CODEPAGES: dict[int, str] = {0: "cp437", 2: "cp850", 3: "cp860", 16: "cp1252", 17: "cp866"}

# Fixed argument byte counts after the 2-byte command prefix.
_ESC_ARGS: dict[int, int] = {
    **{ord(c): 0 for c in "@2<iLmS"},
    **{ord(c): 1 for c in "aE!dJt-M3RG{V Ur=eTcK"},
    **{ord(c): 2 for c in "$\\"},
    ord("p"): 3,
    ord("W"): 8,
}
_GS_ARGS: dict[int, int] = {
    **{ord(c): 1 for c in "!BhwHfbarI/^"},
    **{ord(c): 2 for c in "LWP$\\"},
    ord(":"): 0,
}
_FS_ARGS: dict[int, int] = {
    **{ord(c): 0 for c in "&."},
    **{ord(c): 1 for c in "!-WCU"},
    **{ord(c): 2 for c in "Sp"},
}


@dataclass(frozen=True)
class Token:
    kind: str  # "text", "ESC", "GS", "FS", "DLE", "ctl", "truncated", "unknown"
    start: int
    end: int
    cmd: int = 0  # the command byte after ESC/GS/FS/DLE, or the control byte itself


def next_token(data: bytes | bytearray, pos: int) -> Token | None:
    """The token starting at ``pos``; None when more bytes are needed to complete it."""
    n = len(data)
    if pos >= n:
        return None
    b = data[pos]
    if b >= 0x20:
        end = pos
        while end < n and data[end] >= 0x20:
            end += 1
        return Token("text", pos, end)
    if b not in (0x1B, 0x1D, 0x1C, 0x10):
        return Token("ctl", pos, pos + 1, b)
    if pos + 1 >= n:
        return None
    cmd = data[pos + 1]
    prefix = {0x1B: "ESC", 0x1D: "GS", 0x1C: "FS", 0x10: "DLE"}[b]
    length = _command_length(prefix, cmd, data, pos)
    if length is None:
        return None
    if length < 0:
        return Token("unknown", pos, pos + 2, cmd)
    return Token(prefix, pos, pos + length, cmd)


def _need(data: bytes | bytearray, end: int) -> int | None:
    return end if end <= len(data) else None


def _u16(data: bytes | bytearray, i: int) -> int | None:
    if i + 1 >= len(data):
        return None
    return data[i] | (data[i + 1] << 8)


def _command_length(prefix: str, cmd: int, data: bytes | bytearray, pos: int) -> int | None:
    """Total length of the command at ``pos``; None if incomplete, -1 if unknown."""
    p = pos + 2
    if prefix == "ESC":
        if cmd in _ESC_ARGS:
            return None if _need(data, p + _ESC_ARGS[cmd]) is None else 2 + _ESC_ARGS[cmd]
        if cmd == ord("*"):  # bit image: m nL nH data
            if p + 2 >= len(data):
                return None
            m = data[p]
            count = (data[p + 1] | (data[p + 2] << 8)) * (3 if m in (32, 33) else 1)
            return None if _need(data, p + 3 + count) is None else 5 + count
        if cmd == ord("D"):  # tab stops, NUL-terminated
            end = data.find(b"\x00", p)
            return None if end < 0 else end + 1 - pos
        return -1
    if prefix == "GS":
        if cmd in _GS_ARGS:
            return None if _need(data, p + _GS_ARGS[cmd]) is None else 2 + _GS_ARGS[cmd]
        if cmd == ord("V"):
            if p >= len(data):
                return None
            extra = 1 if data[p] >= 65 else 0
            return None if _need(data, p + 1 + extra) is None else 3 + extra
        if cmd == ord("("):  # GS ( fn pL pH data
            size = _u16(data, p + 1)
            if size is None:
                return None
            return None if _need(data, p + 3 + size) is None else 5 + size
        if cmd == ord("v"):  # GS v 0 m xL xH yL yH data
            x, y = _u16(data, p + 2), _u16(data, p + 4)
            if x is None or y is None:
                return None
            return None if _need(data, p + 6 + x * y) is None else 8 + x * y
        if cmd == ord("k"):  # barcode: m 0..6 NUL-terminated, m 65..73 length-prefixed
            if p >= len(data):
                return None
            if data[p] <= 6:
                end = data.find(b"\x00", p + 1)
                return None if end < 0 else end + 1 - pos
            if p + 1 >= len(data):
                return None
            return None if _need(data, p + 2 + data[p + 1]) is None else 4 + data[p + 1]
        return -1
    if prefix == "FS":
        if cmd == ord("("):  # FS ( fn pL pH data
            size = _u16(data, p + 1)
            if size is None:
                return None
            return None if _need(data, p + 3 + size) is None else 5 + size
        if cmd in _FS_ARGS:
            return None if _need(data, p + _FS_ARGS[cmd]) is None else 2 + _FS_ARGS[cmd]
        return -1
    # DLE
    if cmd in (0x04, 0x05):
        return None if _need(data, p + 1) is None else 3
    if cmd == 0x14:
        return None if _need(data, p + 3) is None else 5
    return -1


def tokens(data: bytes | bytearray) -> list[Token]:
    """All tokens; an incomplete command at the end becomes one ``truncated`` token."""
    out: list[Token] = []
    pos = 0
    while pos < len(data):
        tok = next_token(data, pos)
        if tok is None:
            out.append(Token("truncated", pos, len(data), data[pos]))
            break
        out.append(tok)
        pos = tok.end
    return out


@dataclass
class Decoded:
    elements: list[Element] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # unknown / truncated commands
    status_requests: list[int] = field(default_factory=list)  # DLE EOT n seen


@dataclass
class _State:
    encoding: str
    chinese: bool = True  # Chinese models power up in Chinese mode
    codepage: str = "cp437"
    align: Align = "left"
    width: int = 1
    height: int = 1
    bold: bool = False
    spans: list[Span] = field(default_factory=list)
    line_align: Align | None = None
    qr_data: str | None = None
    qr_module: int = 3


def decode(data: bytes | bytearray, encoding: str = "gb18030") -> Decoded:
    """Interpret ESC/POS bytes as a printer in the given Chinese encoding would."""
    st = _State(normalize_encoding(encoding))
    out = Decoded()

    def flush_line(force: bool) -> None:
        if st.spans or force:
            out.elements.append(Line(tuple(st.spans), st.line_align or st.align))
        st.spans = []
        st.line_align = None

    def add_text(raw: bytes) -> None:
        if st.chinese:
            text = raw.decode(st.encoding, errors="replace")
        else:
            text = raw.decode(st.codepage, errors="replace")
        if st.line_align is None:
            st.line_align = st.align  # justification is taken at the start of a line
        span = Span(text, st.width, st.height, st.bold)
        if _same_style(st.spans, span):
            last = st.spans.pop()
            span = Span(last.text + text, span.width, span.height, span.bold)
        st.spans.append(span)

    for tok in tokens(data):
        chunk = bytes(data[tok.start : tok.end])
        if tok.kind == "text":
            add_text(chunk)
        elif tok.kind == "ctl":
            if tok.cmd == 0x0A:
                flush_line(force=True)
            elif tok.cmd == 0x0C:
                flush_line(force=False)
            elif tok.cmd == 0x09:
                add_text(b" ")
            # CR, NUL and other controls print nothing on these printers
        elif tok.kind == "ESC":
            _apply_esc(tok.cmd, chunk, st, out, flush_line)
        elif tok.kind == "GS":
            _apply_gs(tok.cmd, chunk, st, out, flush_line)
        elif tok.kind == "FS":
            if tok.cmd == ord("&"):
                st.chinese = True
            elif tok.cmd == ord("."):
                st.chinese = False
            elif tok.cmd == ord("(") and chunk[2:3] == b"C" and chunk[5:7] == b"\x30\x02":
                st.chinese, st.encoding = True, "utf-8"  # Epson: select UTF-8
            elif tok.cmd == ord("!"):
                st.width = 2 if chunk[2] & 0x04 else 1
                st.height = 2 if chunk[2] & 0x08 else 1
        elif tok.kind == "DLE":
            if tok.cmd == 0x04:
                out.status_requests.append(chunk[2])
        elif tok.kind == "unknown":
            prefix = {0x1B: "ESC", 0x1D: "GS", 0x1C: "FS", 0x10: "DLE"}[chunk[0]]
            out.notes.append(f"unknown {prefix} 0x{tok.cmd:02X} at byte {tok.start}")
        elif tok.kind == "truncated":
            out.notes.append(f"truncated command at byte {tok.start} ({len(chunk)} bytes)")
    flush_line(force=False)
    return out


def _same_style(spans: list[Span], span: Span) -> bool:
    if not spans:
        return False
    last = spans[-1]
    return (last.width, last.height, last.bold) == (span.width, span.height, span.bold)


def _apply_esc(
    cmd: int, chunk: bytes, st: _State, out: Decoded, flush_line: Callable[[bool], None]
) -> None:
    c = chr(cmd)
    if c == "@":
        st.chinese, st.codepage, st.align = True, "cp437", "left"
        st.width = st.height = 1
        st.bold = False
    elif c == "a":
        st.align = _ALIGN.get(chunk[2], "left")
    elif c == "E":
        st.bold = bool(chunk[2] & 1)
    elif c == "d":
        flush_line(False)
        out.elements.append(Feed(chunk[2]))
    elif c == "t":
        st.codepage = _CODEPAGES.get(chunk[2], "cp437")


def _apply_gs(
    cmd: int, chunk: bytes, st: _State, out: Decoded, flush_line: Callable[[bool], None]
) -> None:
    c = chr(cmd)
    if c == "!":
        st.width = (chunk[2] >> 4) + 1
        st.height = (chunk[2] & 0x0F) + 1
    elif c == "V":
        flush_line(False)
        out.elements.append(Cut(partial=chunk[2] in (1, 49, 66, 98)))
    elif c == "v":
        flush_line(False)
        xw = chunk[4] | (chunk[5] << 8)
        h = chunk[6] | (chunk[7] << 8)
        out.elements.append(Raster(xw, h, bytes(chunk[8:])))
    elif c == "(" and chunk[2] == ord("k") and len(chunk) >= 8 and chunk[5] == 0x31:
        fn = chunk[6]
        if fn == 0x50:  # store: printed only on fn 81
            st.qr_data = chunk[8:].decode("utf-8", errors="replace")
        elif fn == 0x43:
            st.qr_module = chunk[7]
        elif fn == 0x51:
            flush_line(False)
            if st.qr_data is None:
                out.notes.append("QR print without stored data")
            else:
                out.elements.append(Qr(st.qr_data, st.qr_module))


def decode_text(data: bytes | bytearray, encoding: str = "gb18030") -> str:
    """Readable text: one line per printed line, ``[QR] payload``, ``[CUT]``,
    ``[IMAGE WxH]``, blank lines for feeds, then ``[note] …`` for anything odd."""
    d = decode(data, encoding)
    lines: list[str] = []
    for el in d.elements:
        if isinstance(el, Line):
            lines.append(el.text)
        elif isinstance(el, Qr):
            lines.append(f"[QR] {el.payload}")
        elif isinstance(el, Feed):
            lines.extend([""] * min(el.lines, 3))
        elif isinstance(el, Cut):
            lines.append("[CUT]")
        elif isinstance(el, Raster):
            lines.append(f"[IMAGE {el.width_bytes * 8}x{el.height}]")
    lines.extend(f"[note] {n}" for n in d.notes)
    return "\n".join(lines)

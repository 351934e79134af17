"""Elements → ESC/POS bytes. Pure, no I/O.

Bytes sent for a text ticket::

    ESC @                      initialise
    FS &                       Chinese mode on (UTF-8 printers: FS ( C 2 0 48 2)
    per line: ESC a n (align) GS ! n (size, Latin and Chinese) ESC E n (bold) TEXT LF
    GS ( k …                   native QR (model 2, module size, level M, store, print)
    GS v 0 …                   raster bands (image mode, or a line the printer font lacks)
    ESC d n, GS V 66 0         feed, then feed to the cutter and partial cut

Mode commands are only sent when they change. Text goes through ``text.printable`` first,
so no byte of a citizen's name or a catalogue entry can be read as a command. (Not named
``escpos.py``: that would shadow the python-escpos library, which ``link.py`` imports.)
"""

from __future__ import annotations

from devices.printer.elements import Cut, Element, Feed, Line, Qr, Raster
from devices.printer.errors import LayoutError
from devices.printer.text import normalize_encoding, printable

ESC, GS, FS, LF = b"\x1b", b"\x1d", b"\x1c", b"\n"
INIT = ESC + b"@"
CHINESE_ON = FS + b"&"
SELECT_UTF8 = FS + b"(C\x02\x00\x30\x02"  # FS ( C fn 48: character encoding UTF-8
ALIGN_CODES: dict[str, int] = {"left": 0, "center": 1, "right": 2}


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


def raster_command(r: Raster) -> bytes:
    """GS v 0 m=0 (normal density) for one band."""
    return (
        GS
        + b"v0\x00"
        + bytes([r.width_bytes & 0xFF, r.width_bytes >> 8, r.height & 0xFF, r.height >> 8])
        + r.data
    )


def encode_elements(elements: list[Element], encoding: str = "gb18030") -> bytes:
    """Elements → ESC/POS bytes, a complete job from ``ESC @``."""
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

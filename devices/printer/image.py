"""Image mode: the same ticket elements drawn with Pillow and a CJK font, sent as GS v 0
raster bands — for printers without a Chinese font, and for text the printer font lacks
(rare CJK, emoji). Also renders what the simulator received as a PNG.

Cells follow the printer's text grid: Latin 12×24 dots, everything else 24×24, scaled by the
span's GS ! size; the line pitch is the default 30 dots. A character the font has no glyph
for is drawn as 〓, never as an empty box.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING

import qrcode
from PIL import Image, ImageDraw, ImageFont

from common.fonts import INSTALL_HINT, find_cjk_font
from devices.printer.elements import PAPER_DOTS, Cut, Element, Feed, Line, Qr, Raster
from devices.printer.encode import encode_elements
from devices.printer.errors import FontMissing
from devices.printer.text import needs_image

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

CELL_H = 24
LINE_PITCH = 30
BAND_ROWS = 128  # GS v 0 bands small enough for the input buffer of cheap printers
MISSING = "〓"


@cache
def font_path() -> str:
    """The CJK font all of govhall uses (common.fonts)."""
    path = find_cjk_font()
    if path is not None:
        return str(path)
    raise FontMissing(f"no CJK font found: {INSTALL_HINT}")


@cache
def _font() -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(font_path(), CELL_H)


@cache
def _notdef() -> bytes:
    return bytes(_font().getmask("\U0010fffd"))


@cache
def has_glyph(ch: str) -> bool:
    return ch.isspace() or bytes(_font().getmask(ch)) != _notdef()


@cache
def _glyph(ch: str, cell_w: int) -> Image.Image:
    """One character in its cell (grey-scale), squeezed if the glyph is wider."""
    font = _font()
    if not has_glyph(ch):
        ch = MISSING
    cell = Image.new("L", (cell_w, CELL_H), 0)
    if ch.isspace():
        return cell
    left, _, right, _ = font.getbbox(ch)
    # typed float for a fractional stroke_width; without a stroke these are whole pixels
    w = max(1, int(right - left))
    tmp = Image.new("L", (w, CELL_H + 8), 0)
    ImageDraw.Draw(tmp).text((-left, 0), ch, font=font, fill=255)
    tmp = tmp.crop((0, 2, w, CELL_H + 2))
    if w > cell_w:
        tmp = tmp.resize((cell_w, CELL_H), Image.Resampling.LANCZOS)
        w = cell_w
    cell.paste(tmp, ((cell_w - w) // 2, 0))
    return cell


def _line_image(line: Line) -> Image.Image:
    parts: list[Image.Image] = []
    for span in line.spans:
        cells = [_glyph(c, 12 if c.isascii() else 24) for c in span.text]
        width = sum(c.width for c in cells)
        if width == 0:
            continue
        img = Image.new("L", (width, CELL_H), 0)
        x = 0
        for c in cells:
            img.paste(c, (x, 0))
            x += c.width
        if span.bold:  # emboldening like the printer: strike again one dot to the right
            img = Image.fromarray(_max_shift(img))
        parts.append(img.resize((width * span.width, CELL_H * span.height)))
    width = sum(p.width for p in parts)
    height = max((p.height for p in parts), default=CELL_H)
    out = Image.new("L", (max(width, 1), height + LINE_PITCH - CELL_H), 0)
    x = 0
    for p in parts:
        out.paste(p, (x, height - p.height))  # spans share a baseline
        x += p.width
    return out


def _max_shift(img: Image.Image) -> npt.NDArray[np.uint8]:
    import numpy as np

    a = np.asarray(img)
    b = a.copy()
    b[:, 1:] = np.maximum(a[:, 1:], a[:, :-1])
    return b


def _qr_image(payload: str, module: int) -> Image.Image:
    qr = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=1)
    qr.add_data(payload.encode("utf-8", "replace"))
    matrix = qr.get_matrix()
    size = len(matrix) * max(module, 1)
    img = Image.new("L", (size, size), 0)
    px = img.load()
    assert px is not None
    for y, row in enumerate(matrix):
        for x, on in enumerate(row):
            if on:
                for dy in range(module):
                    for dx in range(module):
                        px[x * module + dx, y * module + dy] = 255
    return img


def _raster_image(r: Raster) -> Image.Image:
    # ESC/POS 1 = black dot; in mode "1" a set bit is 255, which is ink in our ink space.
    return Image.frombytes("1", (r.width_bytes * 8, r.height), r.data).convert("L")


def render_elements(elements: list[Element], paper: str = "80") -> Image.Image:
    """Elements → a 1-bit image of the paper width (white paper, black ink)."""
    width = PAPER_DOTS[str(paper)]
    blocks: list[tuple[Image.Image, str]] = []
    for el in elements:
        if isinstance(el, Line):
            blocks.append((_line_image(el), el.align))
        elif isinstance(el, Qr):
            blocks.append((_qr_image(el.payload, el.module or 3), "center"))
        elif isinstance(el, Feed):
            blocks.append((Image.new("L", (1, LINE_PITCH * el.lines), 0), "left"))
        elif isinstance(el, Raster):
            blocks.append((_raster_image(el), "center"))
        elif isinstance(el, Cut):
            blocks.append((Image.new("L", (1, 8), 0), "left"))
    height = max(1, sum(b.height for b, _ in blocks))
    ink = Image.new("L", (width, height), 0)
    y = 0
    for img, align in blocks:
        if img.width > width:
            img = img.crop((0, 0, width, img.height))  # as a printer clips, not wraps
        x = {"left": 0, "center": (width - img.width) // 2, "right": width - img.width}[align]
        ink.paste(img, (x, y))
        y += img.height
    paper_img = Image.eval(ink, lambda v: 255 - v)
    return paper_img.point(lambda v: 255 if v >= 128 else 0).convert("1")


def to_raster(img: Image.Image) -> list[Raster]:
    """A paper image → GS v 0 bands (rows padded to whole bytes, 1 = black)."""
    mono = img.convert("1")
    width_bytes = (mono.width + 7) // 8
    padded = Image.new("1", (width_bytes * 8, mono.height), 1)
    padded.paste(mono, (0, 0))
    inverted = Image.eval(padded.convert("L"), lambda v: 255 - v).convert("1")
    bands = []
    for top in range(0, inverted.height, BAND_ROWS):
        band = inverted.crop((0, top, inverted.width, min(top + BAND_ROWS, inverted.height)))
        bands.append(Raster(width_bytes, band.height, band.tobytes()))
    return bands


def image_job(elements: list[Element], paper: str) -> bytes:
    """A whole job as raster bands: works on any ESC/POS printer, ≈100× the bytes of text.
    Lay the elements out with GB18030, which keeps every character: the font decides what
    it can draw."""
    body = list(elements)
    while body and isinstance(body[-1], Feed | Cut):  # the printer feeds and cuts itself
        body.pop()
    bands: list[Element] = list(to_raster(render_elements(body, paper)))
    # Encoding only matters for the init sequence: an image job carries no text.
    return encode_elements([*bands, Feed(3), Cut()], "gb18030")


def hybrid_elements(elements: list[Element], paper: str, encoding: str) -> list[Element]:
    """Only the lines a GB printer font cannot print become raster bands; the rest stays
    text. A rare character then costs ≈ 2 KB instead of a ≈ 70 KB whole-ticket image."""
    out: list[Element] = []
    for el in elements:
        if isinstance(el, Line) and needs_image([el], encoding):
            out.extend(to_raster(render_elements([el], paper)))
        else:
            out.append(el)
    return out

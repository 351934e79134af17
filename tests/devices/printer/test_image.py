"""Image mode: the CJK font really draws Chinese, raster bands round-trip exactly, and
missing glyphs become a visible 〓 rather than an empty box."""

from __future__ import annotations

import dataclasses

from PIL import ImageChops

from devices.printer.decode import decode
from devices.printer.driver import render_ticket_hybrid, render_ticket_image
from devices.printer.elements import Cut, Line, Raster, Span
from devices.printer.image import has_glyph, render_elements, to_raster
from devices.printer.layout import sample_ticket, ticket_elements


def test_the_cjk_font_draws_chinese() -> None:
    assert all(has_glyph(c) for c in "社保业务您的号码前面还有人")
    assert not has_glyph("\U0010fffd")  # private use: the .notdef box


def test_raster_bands_round_trip_pixel_for_pixel() -> None:
    img = render_elements(ticket_elements(sample_ticket(), "58"), "58")
    bands = to_raster(img)
    assert all(b.width_bytes == 48 and b.height <= 128 for b in bands)
    back = render_elements(list(bands), "58")
    assert back.size == img.size
    assert ImageChops.difference(back.convert("L"), img.convert("L")).getbbox() is None


def test_image_ticket_is_a_valid_stream_with_only_raster_and_a_cut() -> None:
    data = render_ticket_image(sample_ticket(), "80")
    d = decode(data)
    assert d.notes == []
    assert not any(isinstance(el, Line) and el.text for el in d.elements)
    assert sum(isinstance(el, Raster) for el in d.elements) >= 5
    assert isinstance(d.elements[-1], Cut)


def test_missing_glyph_is_drawn_like_the_replacement_mark() -> None:
    missing = render_elements([Line((Span("\U0010fffd"),))], "58")
    geta = render_elements([Line((Span("〓"),))], "58")
    assert ImageChops.difference(missing.convert("L"), geta.convert("L")).getbbox() is None


def test_hybrid_keeps_text_and_rasters_only_the_rare_line() -> None:
    info = dataclasses.replace(sample_ticket(), service_name="不动产登记（𠀀）")
    d = decode(render_ticket_hybrid(info, "80"))
    rasters = [el for el in d.elements if isinstance(el, Raster)]
    assert len(rasters) == 1 and rasters[0].width_bytes == 72
    text = "\n".join(el.text for el in d.elements if isinstance(el, Line))
    assert "A012" in text and "前面还有 3 人" in text and "不动产" not in text

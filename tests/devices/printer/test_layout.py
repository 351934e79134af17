"""Ticket layout: exact bytes for known tickets, wrapping, and the property that any text
comes back out of the decoder as itself or as a visible replacement."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from devices.errors import DeviceError
from devices.printer.decode import decode, decode_text
from devices.printer.elements import PAPER_COLUMNS, Cut, Line, Qr
from devices.printer.encode import qr_commands
from devices.printer.errors import LayoutError
from devices.printer.layout import (
    GuideInfo,
    TicketInfo,
    render_guide,
    render_ticket,
    ticket_elements,
)
from devices.printer.text import ENCODINGS, MAX_FIELD_CHARS, printable, text_width, wrap

ISSUED = dt.datetime(2026, 1, 2, 3, 4)


def gb(s: str) -> bytes:
    return s.encode("gb18030")


def minimal(**changes: object) -> TicketInfo:
    base = TicketInfo(
        hall_name="大厅",
        service_name="社保",
        service_name_en="SI",
        number="A1",
        waiting_ahead=0,
        estimated_wait_s=30,
        issued_at=ISSUED,
    )
    return dataclasses.replace(base, **changes)


def full(**changes: object) -> TicketInfo:
    base = TicketInfo(
        hall_name="西城区政务服务中心",
        service_name="社保业务",
        service_name_en="Social Security",
        number="A012",
        waiting_ahead=3,
        estimated_wait_s=900,
        issued_at=dt.datetime(2026, 11, 23, 9, 5),
        name_masked="张**",
        counter_hint="3号窗口",
        qr_payload="https://hall.example/t/abc",
        footer="请保管好您的排号小票，过号请到服务台重新取号。",
    )
    return dataclasses.replace(base, **changes)


def test_minimal_ticket_exact_bytes_58mm() -> None:
    rule = b"-" * 32 + b"\n"
    expected = b"".join(
        [
            b"\x1b@\x1c&",  # ESC @, FS & (Chinese mode on, sent even if it is the default)
            b"\x1ba\x01\x1bE\x01" + gb("大厅") + b"\n",
            b"\x1bE\x00" + rule,
            b"\x1d!\x01\x1bE\x01" + gb("社保") + b"\n",  # GS ! double height: Chinese grows too
            b"\x1d!\x00\x1bE\x00SI\n",
            b"\x1bd\x01",
            gb("您的号码") + b"\nYour number\n",
            b"\x1d!\x33\x1bE\x01A1\n",  # GS ! 4x4 big number
            b"\x1bd\x01\x1d!\x00\x1bE\x00",
            gb("前面没有人，请留意叫号") + b"\nYou are next, please listen for\nyour number\n",
            gb("预计很快为您办理") + b"\nYou will be called shortly\n",
            rule,
            b"\x1ba\x00" + gb("取号时间") + b"/Issued:\n  2026-01-02 03:04\n",
            # every ticket: for today only, and what to do when the call is missed
            b"\x1ba\x01" + gb("本号当日有效") + b"\nValid today only\n",
            gb("过号请到窗口咨询") + b"\nIf missed, ask at a counter\n",
            b"\x1bd\x03\x1dVB\x00",  # feed 3, GS V 66 0: feed to cutter, partial cut
        ]
    )
    assert render_ticket(minimal(), "58") == expected


def test_qr_is_native_gs_k_model2_level_m() -> None:
    assert qr_commands("AB", 6) == (
        b"\x1d(k\x04\x00\x31\x41\x32\x00"
        b"\x1d(k\x03\x00\x31\x43\x06"
        b"\x1d(k\x03\x00\x31\x45\x31"
        b"\x1d(k\x05\x00\x31\x50\x30AB"
        b"\x1d(k\x03\x00\x31\x51\x30"
    )


@pytest.mark.parametrize("paper", ["58", "80"])
def test_full_ticket_has_every_element_and_fits_the_paper(paper: str) -> None:
    data = render_ticket(full(), paper)  # type: ignore[arg-type]
    d = decode(data)
    texts = [el.text for el in d.elements if isinstance(el, Line)]
    joined = "\n".join(texts)
    for needle in (
        "西城区政务服务中心",
        "社保业务",
        "A012",
        "前面还有 3 人",
        "约 15 分钟",
        "张**",
        "3号窗口",
        "2026-11-23 09:05",
        "扫码查看排队进度",
        "本号当日有效",
        "Valid today only",
    ):
        assert needle in joined
    assert [el.payload for el in d.elements if isinstance(el, Qr)] == ["https://hall.example/t/abc"]
    assert d.notes == []
    # Every printed line fits the paper at its size (Chinese counted as two columns).
    for el in d.elements:
        if isinstance(el, Line):
            for span in el.spans:
                assert text_width(span.text) * span.width <= PAPER_COLUMNS[paper]
    assert decode_text(data).endswith("[CUT]")


def test_the_wait_is_printed_as_the_halls_range() -> None:
    text = decode_text(render_ticket(full(wait_range_s=(600, 1200)), "80"))
    assert "预计等待 10–20 分钟" in text and "Estimated wait: 10–20 min" in text
    assert "约 15 分钟" not in text  # the range replaces the single figure
    first = decode_text(render_ticket(full(waiting_ahead=1, wait_range_s=(0, 300)), "80"))
    assert "预计 5 分钟内叫号" in first and "within 5 min" in first


def test_the_green_lane_is_printed_with_its_reason() -> None:
    text = decode_text(render_ticket(full(green_lane="elderly"), "80"))
    assert "绿色通道（老年人）优先办理" in text and "Priority lane (senior)" in text
    assert text.index("绿色通道") < text.index("前面还有")  # said before the wait
    assert "绿色通道 优先办理" in decode_text(render_ticket(full(green_lane=""), "58"))
    assert "绿色通道" not in decode_text(render_ticket(full(), "80"))


def test_the_missed_call_rule_is_on_the_paper_with_its_time() -> None:
    text = decode_text(render_ticket(full(rejoin_min=30), "80"))
    assert "过号后30分钟内可到窗口重新排队" in text and "within 30 min" in text
    # a hall that lets no one back in still tells the citizen where to ask
    text = decode_text(render_ticket(full(rejoin_min=0), "58"))
    assert "过号请到窗口咨询" in text and "分钟内" not in text


def test_chinese_comes_before_english() -> None:
    text = decode_text(render_ticket(full(), "80"))
    assert text.index("前面还有 3 人") < text.index("3 people ahead")
    assert text.index("社保业务") < text.index("Social Security")


def test_big_number_uses_gs_excl_not_esc_excl() -> None:
    data = render_ticket(full(), "80")
    assert b"\x1d!\x33\x1bE\x01A012\n" in data
    assert b"\x1b!" not in data  # ESC ! enlarges Latin only on Chinese printers


def test_long_number_shrinks_to_fit() -> None:
    els = ticket_elements(full(number="VIP-A0123456789"), "58")
    big = [el for el in els if isinstance(el, Line) and "VIP" in el.text]
    assert big and all(s.width * text_width(s.text) <= 32 for el in big for s in el.spans)


def test_unmasked_name_is_masked_anyway() -> None:
    # A caller bug must not put a whole name on paper.
    text = decode_text(render_ticket(full(name_masked="张小三"), "80"))
    assert "张小三" not in text and "张**" in text


def test_offline_ticket_says_so_and_has_no_estimate() -> None:
    text = decode_text(
        render_ticket(full(offline=True, estimated_wait_s=None, waiting_ahead=None), "80")
    )
    assert "离线取号" in text
    assert "暂无法估算" in text and "暂无法获取" in text


@pytest.mark.parametrize("encoding", ["gb18030", "gbk", "big5", "utf-8"])
def test_each_encoding_round_trips(encoding: str) -> None:
    info = full(service_name="社保業務 医保", hall_name="臺北 台北 政务")
    data = render_ticket(info, "80", encoding)
    text = decode_text(data, encoding)
    assert printable("社保業務 医保", encoding) in text
    assert data.startswith(b"\x1b@\x1c(C\x02\x00\x30\x02" if encoding == "utf-8" else b"\x1b@\x1c&")


def test_gbk_replaces_what_it_cannot_carry_visibly() -> None:
    text = decode_text(render_ticket(full(service_name="社保😀𠀀"), "80", "gbk"), "gbk")
    assert "社保〓〓" in text
    assert "?" not in text.replace("[QR] https://hall.example/t/abc", "")


def test_control_characters_cannot_inject_commands() -> None:
    data = render_ticket(full(service_name="社保\x1dV\x00\x1b@", hall_name="a\nb"), "80")
    d = decode(data)
    assert sum(isinstance(el, Cut) for el in d.elements) == 1  # only our own cut
    assert "社保〓V〓〓@" in decode_text(data)


def test_bad_input_is_a_clear_error_and_nothing_is_built() -> None:
    with pytest.raises(LayoutError) as err:
        render_ticket(full(), "76")  # type: ignore[arg-type]
    assert err.value.code == "printer.bad_paper" and isinstance(err.value, DeviceError)
    with pytest.raises(LayoutError, match="encoding"):
        render_ticket(full(), "80", "shift-jis")
    with pytest.raises(LayoutError, match="negative"):
        render_ticket(full(waiting_ahead=-1), "80")
    with pytest.raises(LayoutError, match="QR"):
        render_ticket(full(qr_payload="x" * 1000), "80")
    with pytest.raises(LayoutError, match="number"):
        render_ticket(full(number="  "), "80")
    # The description itself is untouched and still prints once corrected.
    assert render_ticket(full(), "80")


def test_wrap_counts_chinese_as_two_columns_and_keeps_every_character() -> None:
    assert wrap("社保业务和医保业务综合窗口", 8) == ["社保业务", "和医保业", "务综合窗", "口"]
    assert wrap("Social Security and Medical", 16) == ["Social Security", "and Medical"]
    assert wrap("", 10) == []


def test_service_guide_lists_materials_with_hanging_indent() -> None:
    guide = GuideInfo(
        hall_name="西城区政务服务中心",
        service_name="社保业务",
        service_name_en="Social Security",
        materials=(
            "本人居民身份证原件",
            "委托办理的需提供委托书及受托人身份证，复印件一份并签字确认",
        ),
        materials_en=("Original resident ID card",),
        issued_at=ISSUED,
    )
    text = decode_text(render_guide(guide, "58"))
    assert "办事材料清单" in text and "1.  本人居民身份证原件" in text
    assert "    Original resident ID card" in text
    lines = text.splitlines()
    i = next(n for n, ln in enumerate(lines) if ln.startswith("2."))
    assert lines[i + 1].startswith("    ")  # wrapped item stays under its number
    empty = dataclasses.replace(guide, materials=(), materials_en=())
    assert "无需提交材料" in decode_text(render_guide(empty, "80"))


# ---------------------------------------------------------------- properties

any_text = st.text(
    alphabet=st.characters(codec=None, exclude_categories=()), max_size=MAX_FIELD_CHARS + 40
)
rare = st.sampled_from(
    ["𠀀", "𪚥", "䶮", "龘", "😀", "👨‍👩‍👧", "\u200b", "\ufeff", "\x1b", "é", "ß"]
)
names = st.one_of(
    any_text,
    st.lists(rare, max_size=30).map("".join),
    st.just(""),
    st.text(alphabet="社保医保不动产登记", max_size=300),
)


def expected_block(text: str, encoding: str) -> str:
    clean = printable(text, encoding).strip()
    if len(clean) > MAX_FIELD_CHARS:
        clean = clean[: MAX_FIELD_CHARS - 1] + "…"
    return "".join(clean.split())


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(
    service=names,
    hall=names,
    encoding=st.sampled_from(list(ENCODINGS)),
    paper=st.sampled_from(["58", "80"]),
)
def test_any_names_give_a_ticket_that_decodes_back(
    service: str, hall: str, encoding: str, paper: str
) -> None:
    info = full(service_name=service, hall_name=hall)
    data = render_ticket(info, paper, encoding)  # type: ignore[arg-type]
    d = decode(data, encoding)
    assert d.notes == []  # a valid ESC/POS stream, nothing truncated or unknown
    lines = [el for el in d.elements if isinstance(el, Line)]
    # Hall name: the lines before the first rule; service name: the bold double-height lines.
    first_rule = next(i for i, el in enumerate(lines) if el.text.startswith("---"))
    got_hall = "".join("".join(el.text for el in lines[:first_rule]).split())
    got_service = "".join(
        "".join(
            el.text
            for el in lines
            if el.spans and el.spans[0].height == 2 and el.spans[0].width == 1
        ).split()
    )
    if printable(hall, encoding).strip():
        assert got_hall == expected_block(hall, encoding)
    else:
        assert got_hall == expected_block("政务服务中心", encoding)  # never a blank header
    assert got_service == expected_block(service, encoding)
    # No silent '?': every character is the original (NFC) or the visible replacement.
    for ch in got_service:
        assert ch != "\ufffd" or encoding == "utf-8"
    if "?" not in service:
        assert "?" not in got_service


@settings(max_examples=300, deadline=None)
@given(data=st.binary(max_size=400), encoding=st.sampled_from(list(ENCODINGS)))
def test_decoder_never_raises_on_any_bytes(data: bytes, encoding: str) -> None:
    decode_text(data, encoding)


@given(text=any_text, encoding=st.sampled_from(list(ENCODINGS)))
def test_printable_keeps_length_and_marks_each_replacement(text: str, encoding: str) -> None:
    import unicodedata

    nfc = unicodedata.normalize("NFC", text)
    out = printable(text, encoding)
    assert len(out) == len(nfc)
    repl = ENCODINGS[encoding]
    for a, b in zip(nfc, out, strict=True):
        assert b in (a, repl) or (b == " " and a.isspace())
    out.encode(encoding)  # always encodable


@settings(max_examples=60, deadline=None)
@given(materials=st.lists(names, max_size=5), encoding=st.sampled_from(list(ENCODINGS)))
def test_any_materials_give_a_guide_that_decodes_back(materials: list[str], encoding: str) -> None:
    guide = GuideInfo("大厅", "社保", "SI", tuple(materials))
    d = decode(render_guide(guide, "58", encoding), encoding)
    assert d.notes == []
    body = "".join("".join(el.text for el in d.elements if isinstance(el, Line)).split())
    for item in materials:
        assert expected_block(item, encoding) in body  # each item, in order, nothing lost


TICKET_URL = "https://hall.example.gov.cn/t/Xy3_kLmN0pQrStUvWxYz01ab"  # a token_urlsafe(18)


def scanned(image: object) -> str:
    """What a phone reads from the paper: OpenCV's QR detector on the printed image."""
    import cv2
    import numpy as np

    pixels = np.array(image.convert("L"))  # type: ignore[attr-defined]
    text, points, _ = cv2.QRCodeDetector().detectAndDecode(pixels)
    assert points is not None, "no QR code found on the ticket"
    return str(text)


@pytest.mark.parametrize("paper", ["58", "80"])
def test_printed_qr_code_scans_as_the_ticket_page(paper: str) -> None:
    """The code under 扫码查看排队进度 is the ticket's page, whichever way it is printed."""
    from devices.printer.elements import Raster
    from devices.printer.image import _qr_image, image_job, render_elements

    info = full(qr_payload=TICKET_URL)
    # Text mode: the printer draws the code from GS ( k; decode the job, draw it as the
    # printer's QR model 2 level M does, and scan it.
    (qr,) = [el for el in decode(render_ticket(info, paper)).elements if isinstance(el, Qr)]
    assert qr.payload == TICKET_URL
    assert scanned(_qr_image(qr.payload, qr.module).point(lambda v: 255 - v)) == TICKET_URL
    # Image mode: the whole ticket as raster bands, read back from the job's bytes.
    job = image_job(ticket_elements(info, paper), paper)  # type: ignore[arg-type]
    bands = [el for el in decode(job).elements if isinstance(el, Raster)]
    assert scanned(render_elements(bands, paper)) == TICKET_URL
    assert "扫码查看排队进度" in decode_text(render_ticket(info, paper))


def test_no_qr_code_and_no_scan_caption_without_a_page() -> None:
    text = decode_text(render_ticket(full(qr_payload=""), "80"))
    assert "[QR" not in text and "扫码查看排队进度" not in text
    assert not [el for el in ticket_elements(full(qr_payload=None)) if isinstance(el, Qr)]


@pytest.mark.parametrize(
    ("ahead", "zh", "en"),
    [
        (1, "前面还有 1 人", "1 person ahead of you"),
        (2, "前面还有 2 人", "2 people ahead of you"),
        (0, "前面没有人", "You are next"),
    ],
)
def test_people_ahead_in_singular_and_plural(ahead: int, zh: str, en: str) -> None:
    text = decode_text(render_ticket(full(waiting_ahead=ahead), "80"))
    assert zh in text and en in text
    assert not re.search(r"\b1 people", text)


@given(ahead=st.integers(0, 5000), wait=st.integers(0, 86_400))
@settings(max_examples=200, deadline=None)
def test_english_counts_are_never_about_zero_or_one_people(ahead: int, wait: int) -> None:
    text = decode_text(render_ticket(full(waiting_ahead=ahead, estimated_wait_s=wait), "80"))
    assert "about 0 min" not in text and not re.search(r"\b1 people", text)
    if ahead and wait >= 60:
        assert f"about {round(wait / 60)} min" in text

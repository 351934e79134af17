"""LED strip codec (pure) and the real driver against the simulator on a real pty."""

from __future__ import annotations

import sys
from collections.abc import Iterator

import pytest

from devices.led.codec import (
    BROADCAST,
    Cmd,
    Color,
    Frame,
    FrameParser,
    Mode,
    checksum,
    encode_frame,
    encode_text,
    text_frame,
)
from devices.led.driver import LedBus
from devices.led.errors import LedError
from devices.led.simulator import LedSimulator


def test_no_kivy() -> None:
    assert "kivy" not in sys.modules


# --- codec --------------------------------------------------------------------------------


def test_text_frame_bytes_exactly() -> None:
    raw = encode_frame(text_frame(3, "请A012号", Mode.FLASH, Color.RED))
    text = "请A012号".encode("gb2312")
    assert text == bytes.fromhex("c7eb41303132bac5") and len(text) == 8
    body = bytes([3, 0x31, 10, 2, 1]) + text
    assert raw == b"\x02" + body + bytes([checksum(body)]) + b"\x03"


def test_gb2312_refuses_what_the_strip_cannot_show_and_gbk_takes_it() -> None:
    with pytest.raises(LedError) as err:
        encode_text("王祎窗口", "gb2312")  # 祎 is GBK only
    assert err.value.code == "led.encoding" and "祎" in str(err.value)
    assert encode_text("王祎窗口", "gbk").decode("gbk") == "王祎窗口"
    assert encode_text("王祎窗口", "gb2312", errors="replace").decode("gb2312") == "王？窗口"
    with pytest.raises(LedError, match="control"):
        encode_text("A\x02B")
    with pytest.raises(LedError) as err:
        encode_text("号" * 97)
    assert err.value.code == "led.too_long"


def test_parser_round_trip_split_anywhere() -> None:
    frames = [
        text_frame(1, "请B105号到综合窗口", Mode.SCROLL),
        Frame(2, Cmd.CLEAR),
        Frame(3, Cmd.BRIGHT, bytes([2])),
        Frame(4, Cmd.ACK, bytes([3])),
    ]  # data 0x02/0x03
    stream = b"".join(encode_frame(f) for f in frames)
    for cut in range(len(stream)):
        p = FrameParser()
        assert p.feed(stream[:cut]) + p.feed(stream[cut:]) == frames
        assert p.dropped == 0


def test_parser_skips_garbage_and_broken_frames_and_keeps_the_good_ones() -> None:
    good = encode_frame(text_frame(7, "暂停服务"))
    broken = bytearray(good)
    broken[-2] ^= 0x55  # bad checksum
    truncated = good[:6]  # cut off, then a new frame starts
    p = FrameParser()
    got = p.feed(b"\xff\x00garbage\x02\x02" + bytes(broken) + truncated + good + b"\x03\x03")
    assert got == [text_frame(7, "暂停服务")]
    assert p.dropped > 0
    # Afterwards the parser is clean: the next frame parses on its own.
    assert p.feed(encode_frame(Frame(1, Cmd.CLEAR))) == [Frame(1, Cmd.CLEAR)]


# --- driver through the simulator on a real pty ------------------------------------------


@pytest.fixture
def sim() -> Iterator[LedSimulator]:
    with LedSimulator(addresses=range(1, 5)) as s:
        yield s


@pytest.fixture
def bus(sim: LedSimulator) -> Iterator[LedBus]:
    with LedBus(sim.port, timeout=0.2, retries=2) as b:
        yield b


def test_show_clear_brightness_status(sim: LedSimulator, bus: LedBus) -> None:
    bus.show(3, "请A012号", Mode.FLASH, Color.YELLOW)
    assert sim.strips[3].text == "请A012号" and sim.strips[3].mode is Mode.FLASH
    bus.brightness(3, 12)
    state = bus.status(3)
    assert (state.text, state.brightness, state.color) == ("请A012号", 12, Color.YELLOW)
    bus.clear(3)
    assert sim.strips[3].text == "" and sim.strips[1].text == ""


def test_broadcast_reaches_every_strip_without_reply(sim: LedSimulator, bus: LedBus) -> None:
    bus.show(BROADCAST, "欢迎光临")
    for a in range(1, 5):
        sim.wait_text(a, "欢迎光临")


def test_absent_strip_times_out(bus: LedBus) -> None:
    with pytest.raises(LedError) as err:
        bus.show(9, "A001")
    assert err.value.code == "led.timeout"


def test_lost_and_corrupted_replies_are_retried(sim: LedSimulator, bus: LedBus) -> None:
    sim.drop_replies = 1
    bus.show(1, "请A001号")
    sim.corrupt_replies = 1
    bus.show(2, "请A002号")
    sim.nak_checksum = 1
    bus.show(3, "请A003号")
    assert bus.retried == 3
    assert [sim.strips[a].text for a in (1, 2, 3)] == ["请A001号", "请A002号", "请A003号"]
    # Too many failures in a row: a clear error, and the bus still works afterwards.
    sim.drop_replies = 5
    with pytest.raises(LedError) as err:
        bus.show(4, "请A004号")
    assert err.value.code == "led.timeout"
    sim.drop_replies = 0
    bus.show(4, "请A004号")
    assert bus.status(4).text == "请A004号"


def test_garbage_on_the_line_before_replies_is_skipped(sim: LedSimulator, bus: LedBus) -> None:
    sim.noise = b"\x00\xff\x02\x41\x7f"
    bus.show(1, "请B001号")
    assert bus.status(1).text == "请B001号"
    assert bus.parser.dropped > 0


def test_strip_refusal_is_reported(sim: LedSimulator, bus: LedBus) -> None:
    # A GBK character sent to a GB2312 strip: the strip NAKs, the driver says why.
    gbk_bus = LedBus(sim.port, encoding="gbk", timeout=0.2)
    try:
        with pytest.raises(LedError) as err:
            gbk_bus.show(1, "王祎")
        assert err.value.code == "led.nak" and "BAD_TEXT" in str(err.value)
    finally:
        gbk_bus.close()
    assert sim.strips[1].text == ""  # nothing half-shown


def test_unopenable_port() -> None:
    with pytest.raises(LedError) as err:
        LedBus("/dev/does-not-exist")
    assert err.value.code == "led.no_port"


# --- CLI ----------------------------------------------------------------------------------


def test_cli_against_the_simulator(sim: LedSimulator, capsys: pytest.CaptureFixture[str]) -> None:
    from devices.led.cli import device_main

    assert (
        device_main(["--port", sim.port, "--address", "2", "--text", "请C008号", "--mode", "flash"])
        == 0
    )
    assert sim.strips[2].text == "请C008号"
    assert device_main(["--port", sim.port, "--address", "2", "--status"]) == 0
    assert "请C008号" in capsys.readouterr().out
    assert device_main(["--port", sim.port, "--address", "9", "--clear"]) == 1
    assert "led.timeout" in capsys.readouterr().err
    raw = encode_frame(Frame(2, Cmd.CLEAR)).hex(" ")
    assert device_main(["--decode", "ff " + raw]) == 0
    assert "addr=2 cmd=0x32" in capsys.readouterr().out

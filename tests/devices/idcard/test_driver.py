"""The real driver against the real simulator over a pty and over TCP, every fault
included. Each test says what must still hold afterwards."""

from __future__ import annotations

import dataclasses
import itertools
import threading
import time
from pathlib import Path

import pytest
import serial

from devices.idcard.cards import load_card, sample_card_names
from devices.idcard.driver import (
    ERROR_STATES,
    OPERATIONAL_STATES,
    IdCardReader,
    ReaderState,
)
from devices.idcard.errors import (
    Cancelled,
    Garbled,
    IdCardError,
    InvalidCard,
    NoCard,
    NoReader,
    ReadFailed,
    SamFault,
    UnknownCardType,
)
from devices.idcard.frames import Command, FrameParser, Reply, Status, build_request
from devices.idcard.simulator import IdCardFault, IdCardSimulator
from devices.idcard.textblock import encode_text

pytestmark = pytest.mark.timeout(30)

PERSONAL = [load_card(n) for n in sample_card_names()]


def _no_personal_data(text: str) -> None:
    for card in PERSONAL:
        assert card.id_number not in text
        assert not card.name or card.name not in text


@pytest.mark.parametrize("name", sample_card_names())
def test_every_sample_card_reads_back_exactly(
    name: str, sim: IdCardSimulator, reader: IdCardReader
) -> None:
    expected = load_card(name)
    sim.place(expected)
    card = reader.read_card()
    # the text block round trip is exact; additional address is read only on request
    assert card == dataclasses.replace(expected, additional_address=None)
    assert card.photo_wlt == expected.photo_wlt and len(card.photo_wlt) == 1024
    assert reader.state is ReaderState.READY and reader.is_operational()
    assert sim.card_present  # reading leaves the card in place


def test_additional_address_when_asked(sim: IdCardSimulator) -> None:
    with IdCardReader(sim.port, additional_address=True) as reader:
        sim.place("resident_longterm")
        assert reader.read_card().additional_address == "广东省深圳市南山区样例街9号"
        sim.place("resident")  # 91: this card has none
        assert reader.read_card().additional_address is None
        assert reader.state is ReaderState.READY


def test_no_card_and_polling_no_faster_than_300_ms(
    sim: IdCardSimulator, reader: IdCardReader
) -> None:
    with pytest.raises(NoCard) as info:
        reader.read_card()
    assert info.value.code == "idcard.no_card"
    start = time.monotonic()
    with pytest.raises(NoCard):
        reader.wait_for_card(1.0)
    assert 0.9 <= time.monotonic() - start < 1.6
    finds = [r.at for r in sim.requests if r.command is Command.FIND_CARD and r.at >= start]
    gaps = [b - a for a, b in itertools.pairwise(finds)]
    assert len(finds) >= 3 and min(gaps) >= 0.29
    # a missing card is not a reader fault
    assert reader.state is ReaderState.READY and reader.health()["error"] is None


def test_wait_for_card_returns_a_card_placed_later(
    sim: IdCardSimulator, reader: IdCardReader
) -> None:
    threading.Timer(0.4, sim.place, args=("resident",)).start()
    card = reader.wait_for_card(5.0)
    assert card.masked_id_number == "110***********1231"
    assert sim.placed_at is not None and time.monotonic() - sim.placed_at < 0.6


def test_wait_for_card_can_be_cancelled(reader: IdCardReader) -> None:
    cancel = threading.Event()
    threading.Timer(0.2, cancel.set).start()
    start = time.monotonic()
    with pytest.raises(Cancelled):
        reader.wait_for_card(10.0, cancel)
    assert time.monotonic() - start < 0.8
    # the reader is still usable after a cancel
    assert reader.status() is ReaderState.READY


def test_missing_port_is_no_reader(tmp_path: Path) -> None:
    reader = IdCardReader(str(tmp_path / "ttyNOTHERE"))
    with pytest.raises(NoReader) as info:
        reader.open()
    assert info.value.code == "idcard.no_reader"
    assert reader.state is ReaderState.NO_READER and reader.state in ERROR_STATES
    assert reader.health() == {"state": "no_reader", "error": "idcard.no_reader"}
    # entering the context manager does not crash on a missing reader
    with IdCardReader(str(tmp_path / "ttyNOTHERE")) as r:
        assert r.is_error()


def test_silent_reader_is_no_reader_and_recovers(
    sim: IdCardSimulator, reader: IdCardReader
) -> None:
    sim.inject(IdCardFault.SILENT)
    start = time.monotonic()
    with pytest.raises(NoReader, match="does not answer"):
        reader.status()
    assert time.monotonic() - start < 2.0  # a dead line fails, it does not hang
    sim.clear_faults()
    sim.place("resident")
    assert reader.read_card().card_type.value == "resident"
    assert reader.state in OPERATIONAL_STATES


@pytest.mark.parametrize("code", [0x60, 0x66])
def test_sam_faults(code: int, sim: IdCardSimulator, reader: IdCardReader) -> None:
    sim.place("resident")
    sim.inject(IdCardFault.SAM_FAULT, arg=code)
    with pytest.raises(SamFault) as info:
        reader.status()
    assert f"{code:02X}" in str(info.value) and info.value.code == "idcard.sam_fault"
    with pytest.raises(SamFault):
        reader.wait_for_card(1.0)  # a SAM fault is reported at once, not waited out
    assert reader.state is ReaderState.SAM_FAULT
    sim.clear_faults()
    assert reader.status() is ReaderState.READY
    assert reader.read_card().masked_name == "张**"


def test_garbage_before_a_reply_is_skipped(sim: IdCardSimulator, reader: IdCardReader) -> None:
    sim.place("resident")
    sim.inject(IdCardFault.GARBAGE, on=Command.READ_TEXT_PHOTO, arg=40)
    sim.inject(IdCardFault.GARBAGE, on=Command.FIND_CARD, arg=5)
    assert reader.read_card().masked_name == "张**"
    assert reader.state is ReaderState.READY


def test_split_reply_with_a_delay_is_reassembled(
    sim: IdCardSimulator, reader: IdCardReader
) -> None:
    sim.place("hmt_residence")
    sim.inject(IdCardFault.SPLIT, on=Command.READ_TEXT_PHOTO, arg=0.15)
    sim.inject(IdCardFault.SPLIT, on=Command.SELECT_CARD, arg=0.1)
    assert reader.read_card().pass_number == "H12345678"


@pytest.mark.parametrize("fault", [IdCardFault.CUT, IdCardFault.CORRUPT])
def test_one_bad_reply_is_retried_two_are_garbled(
    fault: IdCardFault, sim: IdCardSimulator, reader: IdCardReader
) -> None:
    sim.place("resident")
    sim.inject(fault, on=Command.READ_TEXT_PHOTO)
    assert reader.read_card().masked_name == "张**"  # one retry hides a single glitch
    sim.inject(fault, on=Command.READ_TEXT_PHOTO)
    sim.inject(fault, on=Command.READ_TEXT_PHOTO)
    with pytest.raises(Garbled) as info:
        reader.read_card()
    assert info.value.code == "idcard.garbled" and reader.state is ReaderState.LINE_ERROR
    _no_personal_data(str(info.value))
    # nothing is lost: the card is still there and the next read is whole
    assert reader.read_card().masked_name == "张**"
    assert reader.state is ReaderState.READY


def test_read_failed_asks_to_place_again(sim: IdCardSimulator, reader: IdCardReader) -> None:
    sim.place("resident")
    sim.inject(IdCardFault.READ_FAIL, on=Command.READ_TEXT_PHOTO)
    with pytest.raises(ReadFailed, match="place it again") as info:
        reader.read_card()
    assert info.value.code == "idcard.read_failed"
    assert reader.state is ReaderState.READY  # the reader itself is fine
    assert reader.read_card().masked_name == "张**"


def test_card_removed_mid_read(sim: IdCardSimulator, reader: IdCardReader) -> None:
    sim.place("resident")
    sim.inject(IdCardFault.REMOVE_MID_READ, on=Command.READ_TEXT_PHOTO)
    with pytest.raises(ReadFailed):
        reader.read_card()
    with pytest.raises(NoCard):  # afterwards the reader reports the card gone
        reader.read_card()
    assert reader.wait_for_removal(1.0) is True


def test_unknown_card_type(sim: IdCardSimulator, reader: IdCardReader) -> None:
    sim.place("resident")
    sim.inject(IdCardFault.UNKNOWN_TYPE, on=Command.READ_TEXT_PHOTO)
    with pytest.raises(UnknownCardType) as info:
        reader.read_card()
    assert info.value.code == "idcard.unknown_card_type"
    # a text block with an unknown type letter is refused the same way
    block = bytearray(encode_text(load_card("resident")))
    block[248:250] = "Z".encode("utf-16-le")
    sim.place_raw(bytes(block), bytes(1024))
    with pytest.raises(UnknownCardType):
        reader.read_card()


def test_inconsistent_card_is_refused_unless_not_strict(sim: IdCardSimulator) -> None:
    good = load_card("resident")
    bad = dataclasses.replace(good, id_number=good.id_number[:17] + "0")  # wrong check digit
    sim.place(bad)
    with IdCardReader(sim.port) as reader, pytest.raises(InvalidCard) as info:
        reader.read_card()
    assert info.value.problems == ("id_check_digit",)
    _no_personal_data(str(info.value))
    with IdCardReader(sim.port, strict=False) as lenient:
        card = lenient.read_card()
    assert card.problems == ("id_check_digit",)  # reported, not silently accepted


def test_replug_recovers_by_itself(sim: IdCardSimulator, reader: IdCardReader) -> None:
    sim.place("resident")
    assert reader.read_card()
    sim.unplug()
    with pytest.raises(NoReader):
        reader.read_card()
    assert reader.state is ReaderState.NO_READER
    sim.replug()
    assert reader.read_card().masked_name == "张**"
    assert reader.state is ReaderState.READY


def test_wait_for_card_rides_out_an_unplugged_cable(
    sim: IdCardSimulator, reader: IdCardReader
) -> None:
    sim.unplug()

    def plug_in_and_place() -> None:
        sim.replug()
        sim.place("foreign_permanent")

    threading.Timer(0.7, plug_in_and_place).start()
    card = reader.wait_for_card(5.0)
    assert card.nationality == "USA" and reader.state is ReaderState.READY


def test_wait_for_card_on_a_reader_that_never_comes_back(
    sim: IdCardSimulator, reader: IdCardReader
) -> None:
    sim.unplug()
    with pytest.raises(NoReader):
        reader.wait_for_card(0.8)
    assert reader.health()["error"] == "idcard.no_reader"


def _raw_exchange(port: str, request: bytes) -> Reply:
    with serial.serial_for_url(port, baudrate=115200, timeout=1.0) as ser:
        ser.write(request)
        parser = FrameParser()
        deadline = time.monotonic() + 2
        while time.monotonic() < deadline:
            parser.feed(ser.read(max(1, ser.in_waiting)))
            frame = parser.pop()
            if frame is not None:
                return Reply.from_frame(frame)
    raise AssertionError("simulator did not answer")


def test_simulator_answers_bad_requests_with_the_spec_codes(sim: IdCardSimulator) -> None:
    good = build_request(Command.SAM_STATUS)
    bad_sum = good[:-1] + bytes([good[-1] ^ 1])
    assert _raw_exchange(sim.port, bad_sum).status is Status.REQUEST_CHECKSUM
    bad_cmd = bytes.fromhex("AA AA AA 96 69 00 03 77 01 75")
    assert _raw_exchange(sim.port, bad_cmd).status is Status.BAD_COMMAND
    short = bytes.fromhex("AA AA AA 96 69 00 01 01")
    assert _raw_exchange(sim.port, short).status is Status.REQUEST_LENGTH
    # and it still answers a good request afterwards
    assert _raw_exchange(sim.port, good).status is Status.OK


def test_reply_timing_follows_the_baud_rate(pty_sim: IdCardSimulator) -> None:
    pty_sim.place("resident")
    with IdCardReader(pty_sim.port) as reader:
        start = time.monotonic()
        reader.read_card()
        elapsed = time.monotonic() - start
    floor = pty_sim.wire_time(10 + 15 + 10 + 19 + 10 + 1295)
    assert floor <= elapsed < floor * 1.3 + 0.05


def test_errors_carry_codes_and_no_personal_data(
    sim: IdCardSimulator, reader: IdCardReader
) -> None:
    sim.place("resident")
    errors: list[IdCardError] = []
    for fault in (IdCardFault.READ_FAIL, IdCardFault.UNKNOWN_TYPE, IdCardFault.REMOVE_MID_READ):
        sim.place("resident")
        sim.inject(fault, on=Command.READ_TEXT_PHOTO)
        try:
            reader.read_card()
        except IdCardError as err:
            errors.append(err)
    assert [e.code for e in errors] == [
        "idcard.read_failed",
        "idcard.unknown_card_type",
        "idcard.read_failed",
    ]
    for err in errors:
        _no_personal_data(str(err))


def test_an_unknown_fault_name_is_refused_with_the_known_ones() -> None:
    sim = IdCardSimulator()  # not started: faults are scripted before or while it runs
    with pytest.raises(ValueError, match="'jam'; known: garbage, split, cut"):
        sim.inject("jam")
    sim.inject("split")  # the CLI passes the name as typed

"""DLE EOT status: every reply bit maps to one state, and silence or noise is never OK."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from common.errors import text
from devices.printer.codec import (
    ERROR_STATES,
    PRINTABLE_STATES,
    PrinterStatus,
    StatusFlags,
    encode_status,
    parse_status,
    state_of,
    status_query,
)
from devices.printer.errors import BadStatusReply, PrinterError


def test_healthy_printer_answers_0x12_to_each_query() -> None:
    assert encode_status(StatusFlags()) == {1: 0x12, 2: 0x12, 3: 0x12, 4: 0x12}
    assert state_of(parse_status({1: 0x12, 2: 0x12, 3: 0x12, 4: 0x12})) is PrinterStatus.OK
    assert status_query(4) == b"\x10\x04\x04"


@pytest.mark.parametrize(
    ("replies", "state"),
    [
        ({1: 0x1A}, PrinterStatus.OFFLINE),
        ({2: 0x16}, PrinterStatus.COVER_OPEN),
        ({2: 0x32}, PrinterStatus.PAPER_END),
        ({2: 0x52}, PrinterStatus.ERROR),
        ({3: 0x1A}, PrinterStatus.CUTTER_ERROR),
        ({3: 0x32}, PrinterStatus.UNRECOVERABLE),
        ({4: 0x1E}, PrinterStatus.PAPER_NEAR_END),
        ({4: 0x72}, PrinterStatus.PAPER_END),
        # Cover open with paper out: the cover is what staff must deal with first.
        ({1: 0x1A, 2: 0x36, 4: 0x72}, PrinterStatus.COVER_OPEN),
    ],
)
def test_reply_bits_map_to_states(replies: dict[int, int], state: PrinterStatus) -> None:
    assert state_of(parse_status(replies)) is state


def test_noise_is_not_a_status() -> None:
    with pytest.raises(BadStatusReply) as err:
        parse_status({1: 0x00})
    assert isinstance(err.value, PrinterError) and err.value.code == "printer.bad_status_reply"
    with pytest.raises(BadStatusReply):
        parse_status({1: 0xFF})
    with pytest.raises(ValueError):
        status_query(5)


@given(st.builds(StatusFlags, *[st.booleans()] * 8))
def test_encode_parse_round_trip(flags: StatusFlags) -> None:
    assert parse_status(encode_status(flags)) == flags


def test_state_sets_partition_and_every_state_has_a_message() -> None:
    assert set(PrinterStatus) == PRINTABLE_STATES | ERROR_STATES
    assert not PRINTABLE_STATES & ERROR_STATES
    for s in PrinterStatus:
        assert s.message("zh") and s.message("en") and s.code == f"printer.{s.value}"
        assert s.message("en") == text(s.code, "en")  # the state's text is its code's

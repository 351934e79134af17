"""Frame tests: frames built by hand from the protocol spec, the parser against noise,
cuts and any chunking, and hypothesis round trips. Pure: no ports, no threads."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from devices.idcard.errors import Garbled
from devices.idcard.frames import (
    PREAMBLE,
    Command,
    FrameParser,
    Reply,
    Request,
    Status,
    build_reply,
    build_request,
)

H = bytes.fromhex

# (command, full request frame) straight from the spec table
SPEC_REQUESTS = [
    (Command.RESET_SAM, "AA AA AA 96 69 00 03 10 FF EC"),
    (Command.SAM_STATUS, "AA AA AA 96 69 00 03 11 FF ED"),
    (Command.SAM_ID, "AA AA AA 96 69 00 03 12 FF EE"),
    (Command.FIND_CARD, "AA AA AA 96 69 00 03 20 01 22"),
    (Command.SELECT_CARD, "AA AA AA 96 69 00 03 20 02 21"),
    (Command.READ_TEXT_PHOTO, "AA AA AA 96 69 00 03 30 01 32"),
    (Command.READ_ADDITIONAL_ADDRESS, "AA AA AA 96 69 00 03 30 03 30"),
    (Command.READ_TEXT_PHOTO_FINGERPRINT, "AA AA AA 96 69 00 03 30 10 23"),
]

# fixed short replies from the spec: (frame, SW3, data length)
SPEC_REPLIES = [
    ("AA AA AA 96 69 00 08 00 00 9F 00 00 00 00 97", Status.CARD_FOUND, 4),
    ("AA AA AA 96 69 00 04 00 00 80 84", Status.NO_CARD, 0),
    ("AA AA AA 96 69 00 04 00 00 81 85", Status.SELECT_FAILED, 0),
    ("AA AA AA 96 69 00 04 00 00 41 45", Status.READ_FAILED, 0),
    ("AA AA AA 96 69 00 04 00 00 90 94", Status.OK, 0),
]


@pytest.mark.parametrize(("command", "frame"), SPEC_REQUESTS)
def test_request_frames_match_the_spec(command: Command, frame: str) -> None:
    assert build_request(command) == H(frame)
    # and parsing it back names the same command
    parser = FrameParser()
    parser.feed(H(frame))
    (parsed,) = parser.pop_all()
    assert Request.from_frame(parsed).command is command
    assert parser.pending == 0


@pytest.mark.parametrize(("frame", "status", "data_len"), SPEC_REPLIES)
def test_spec_replies_parse(frame: str, status: Status, data_len: int) -> None:
    parser = FrameParser()
    parser.feed(H(frame))
    (parsed,) = parser.pop_all()
    reply = Reply.from_frame(parsed)
    assert reply.status is status and (reply.sw1, reply.sw2) == (0, 0)
    assert len(reply.data) == data_len
    assert build_reply(status, reply.data) == H(frame)


def test_one_byte_at_a_time_noise_and_several_frames_at_once() -> None:
    find_ok, no_card = H(SPEC_REPLIES[0][0]), H(SPEC_REPLIES[1][0])
    stream = b"\x00\x13\xaa\x96garbage" + find_ok + no_card + b"\xaa\xaa"
    parser = FrameParser()
    got = []
    for b in stream:
        parser.feed(bytes([b]))
        while (frame := parser.pop()) is not None:
            got.append(Reply.from_frame(frame).status)
    assert got == [Status.CARD_FOUND, Status.NO_CARD]
    # the trailing AA AA may start a preamble: it is kept, the noise was counted
    assert parser.pending == 2
    assert parser.discarded == len(b"\x00\x13\xaa\x96garbage")


def test_bad_checksum_raises_and_the_next_frame_survives() -> None:
    bad = bytearray(H(SPEC_REPLIES[0][0]))
    bad[-1] ^= 0xFF
    parser = FrameParser()
    parser.feed(bytes(bad) + H(SPEC_REPLIES[1][0]))
    with pytest.raises(Garbled) as info:
        parser.pop()
    assert info.value.reason == "checksum" and info.value.code == "idcard.garbled"
    # afterwards: the good frame that followed is still delivered, nothing else
    (frame,) = parser.pop_all()
    assert Reply.from_frame(frame).status is Status.NO_CARD
    assert parser.pending == 0


def test_bad_length_raises_and_a_frame_hidden_inside_is_found() -> None:
    # LEN FF FF is out of range; a real frame starts 3 bytes later
    parser = FrameParser()
    parser.feed(PREAMBLE + b"\xff\xff\x00" + H(SPEC_REPLIES[4][0]))
    with pytest.raises(Garbled) as info:
        parser.pop()
    assert info.value.reason == "length"
    (frame,) = parser.pop_all()
    assert Reply.from_frame(frame).status is Status.OK


def test_cut_off_frame_followed_by_a_new_one_resynchronises() -> None:
    cut = H(SPEC_REPLIES[0][0])[:9]
    parser = FrameParser()
    parser.feed(cut + H(SPEC_REPLIES[4][0]) + H(SPEC_REPLIES[1][0]))
    statuses = []
    errors = 0
    for _ in range(10):
        try:
            frame = parser.pop()
        except Garbled:
            errors += 1
            continue
        if frame is None:
            break
        statuses.append(Reply.from_frame(frame).status)
    # the cut frame costs at most one error; the frames after it that were not swallowed
    # by its LEN come out, and the parser ends empty
    assert errors == 1
    assert statuses[-1] is Status.NO_CARD
    assert parser.pending == 0


def test_short_payloads_are_frame_errors() -> None:
    parser = FrameParser()
    parser.feed(PREAMBLE + b"\x00\x01\x01")  # LEN 1: only CHK (XOR of 00 01)
    (frame,) = parser.pop_all()
    with pytest.raises(Garbled):
        Reply.from_frame(frame)
    with pytest.raises(Garbled):
        Request.from_frame(frame)


@settings(max_examples=300)
@given(st.lists(st.binary(max_size=64), max_size=20))
def test_random_bytes_raise_nothing_but_frame_error(chunks: list[bytes]) -> None:
    parser = FrameParser()
    for chunk in chunks:
        parser.feed(chunk)
        for _ in range(len(chunk) + 2):
            try:
                frame = parser.pop()
            except Garbled:
                continue
            if frame is None:
                break
            for kind in (Reply, Request):
                with contextlib.suppress(Garbled):
                    kind.from_frame(frame)
    # afterwards the parser never holds more than one maximal frame's worth of bytes
    assert parser.pending <= 7 + 4096


_noise = st.binary(max_size=20).filter(lambda b: PREAMBLE[:1] not in b)


@given(
    st.lists(st.tuples(_noise, st.integers(0, 255), st.binary(max_size=300)), max_size=5),
    st.lists(st.integers(1, 50), min_size=1),
)
def test_frames_round_trip_through_any_chunking(
    items: list[tuple[bytes, int, bytes]], cuts: list[int]
) -> None:
    stream = b"".join(noise + build_reply(sw3, data) for noise, sw3, data in items)
    parser = FrameParser()
    got: list[Reply] = []
    pos, i = 0, 0
    while pos < len(stream):
        step = cuts[i % len(cuts)]
        parser.feed(stream[pos : pos + step])
        pos, i = pos + step, i + 1
        while (frame := parser.pop()) is not None:
            got.append(Reply.from_frame(frame))
    assert [(r.sw3, r.data) for r in got] == [(sw3, data) for _, sw3, data in items]
    assert parser.pending == 0

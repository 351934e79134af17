"""Wire framing of the resident ID card reader protocol (SAM module, GA 467 family). Pure.

Frames (see ``../shared/protocols/idcard-reader.md``)::

    to reader  : AA AA AA 96 69 | LEN_H LEN_L | CMD  PARA      | data… | CHK
    from reader: AA AA AA 96 69 | LEN_H LEN_L | SW1  SW2  SW3  | data… | CHK

LEN counts the bytes after the LEN field, CHK included; CHK is the XOR of LEN_H … last
data byte. The read reply (30 01) carries ``text_len(2) photo_len(2) text photo`` (30 10
adds ``fp_len(2)`` and the fingerprint); ``parse_read_data`` splits it, and
``textblock`` decodes the 256-byte text.

``FrameParser`` takes arbitrary chunks and yields whole frames; noise before a preamble
is skipped (counted in ``discarded``), and every malformed frame raises ``Garbled`` (with
its ``reason``) and nothing else, after which the parser has resynchronised and keeps every
later byte.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from devices.idcard.errors import BadCardData, Garbled

PREAMBLE = b"\xaa\xaa\xaa\x96\x69"
HEADER_LEN = 7  # preamble + LEN
# The largest real frame is 30 10 with a fingerprint (≈ 2330 bytes); anything far above
# is a corrupt LEN, and waiting for 65 535 bytes would stall the line.
MAX_LEN = 4096
TEXT_LEN = 256  # the text block of every card type


class Command(enum.Enum):
    """(CMD, PARA) pairs of the requests a host sends."""

    RESET_SAM = (0x10, 0xFF)
    SAM_STATUS = (0x11, 0xFF)
    SAM_ID = (0x12, 0xFF)
    FIND_CARD = (0x20, 0x01)
    SELECT_CARD = (0x20, 0x02)
    READ_TEXT_PHOTO = (0x30, 0x01)
    READ_ADDITIONAL_ADDRESS = (0x30, 0x03)
    READ_TEXT_PHOTO_FINGERPRINT = (0x30, 0x10)


class Status(enum.IntEnum):
    """SW3 of a reply."""

    OK = 0x90
    NO_CONTENT = 0x91
    CARD_FOUND = 0x9F
    REQUEST_CHECKSUM = 0x10
    REQUEST_LENGTH = 0x11
    BAD_COMMAND = 0x21
    NOT_PERMITTED = 0x23
    UNKNOWN_ERROR = 0x24
    CARD_AUTH_SAM_FAILED = 0x31
    SAM_AUTH_CARD_FAILED = 0x32
    VERIFICATION_ERROR = 0x33
    UNKNOWN_CARD_TYPE = 0x40
    READ_FAILED = 0x41
    RANDOM_FAILED = 0x47
    SAM_SELF_TEST_FAILED = 0x60
    SAM_NOT_AUTHORISED = 0x66
    NO_CARD = 0x80
    SELECT_FAILED = 0x81


def checksum(body: bytes) -> int:
    """XOR of every byte of ``body`` (LEN_H … last data byte)."""
    chk = 0
    for b in body:
        chk ^= b
    return chk


def _frame(payload: bytes) -> bytes:
    body = (len(payload) + 1).to_bytes(2, "big") + payload
    return PREAMBLE + body + bytes([checksum(body)])


def build_request(command: Command, data: bytes = b"") -> bytes:
    cmd, para = command.value
    return _frame(bytes([cmd, para]) + data)


def build_reply(sw3: int, data: bytes = b"", *, sw1: int = 0, sw2: int = 0) -> bytes:
    return _frame(bytes([sw1, sw2, sw3]) + data)


@dataclass(frozen=True)
class Frame:
    """One checked frame: ``payload`` is everything between LEN and CHK."""

    payload: bytes


@dataclass(frozen=True)
class Request:
    cmd: int
    para: int
    data: bytes

    @property
    def command(self) -> Command | None:
        try:
            return Command((self.cmd, self.para))
        except ValueError:
            return None

    @classmethod
    def from_frame(cls, frame: Frame) -> Request:
        if len(frame.payload) < 2:
            raise Garbled("request frame lacks CMD and PARA", reason="short")
        return cls(frame.payload[0], frame.payload[1], frame.payload[2:])


@dataclass(frozen=True)
class Reply:
    sw1: int
    sw2: int
    sw3: int
    data: bytes

    @property
    def status(self) -> Status | None:
        try:
            return Status(self.sw3)
        except ValueError:
            return None

    @classmethod
    def from_frame(cls, frame: Frame) -> Reply:
        if len(frame.payload) < 3:
            raise Garbled("reply frame lacks SW1 SW2 SW3", reason="short")
        p = frame.payload
        return cls(p[0], p[1], p[2], p[3:])


class FrameParser:
    """Incremental frame parser: ``feed`` chunks, then ``pop`` frames until it returns None.

    ``pop`` raises Garbled for a malformed frame; it has then dropped the first byte of
    that frame's preamble, so a good frame that started inside the bad one is still found.
    """

    def __init__(self) -> None:
        self._buf = bytearray()
        self.discarded = 0  # noise bytes skipped before a preamble (diagnostics)

    def feed(self, data: bytes) -> None:
        self._buf += data

    def reset(self) -> None:
        self._buf.clear()

    @property
    def pending(self) -> int:
        """Bytes held: a partial frame (or a partial preamble)."""
        return len(self._buf)

    def _sync(self) -> None:
        start = self._buf.find(PREAMBLE)
        if start < 0:
            # keep a tail that may be the beginning of a preamble split across chunks
            keep = 0
            for n in range(min(len(PREAMBLE) - 1, len(self._buf)), 0, -1):
                if self._buf.endswith(PREAMBLE[:n]):
                    keep = n
                    break
            drop = len(self._buf) - keep
        else:
            drop = start
        if drop:
            del self._buf[:drop]
            self.discarded += drop

    def pop(self) -> Frame | None:
        self._sync()
        if len(self._buf) < HEADER_LEN:
            return None
        length = int.from_bytes(self._buf[5:7], "big")
        if length < 1 or length > MAX_LEN:
            self._drop_bad()
            raise Garbled(f"frame length {length} out of range 1..{MAX_LEN}", reason="length")
        if len(self._buf) < HEADER_LEN + length:
            return None
        body = bytes(self._buf[5 : HEADER_LEN + length - 1])
        chk = self._buf[HEADER_LEN + length - 1]
        if checksum(body) != chk:
            self._drop_bad()
            raise Garbled(
                f"frame checksum {chk:02X} != computed {checksum(body):02X}", reason="checksum"
            )
        del self._buf[: HEADER_LEN + length]
        return Frame(body[2:])

    def _drop_bad(self) -> None:
        del self._buf[:1]
        self.discarded += 1

    def pop_all(self) -> list[Frame]:
        """Every complete frame now buffered; raises on the first malformed one (frames
        before it are lost to the caller, so use ``pop`` where that matters)."""
        out: list[Frame] = []
        while (frame := self.pop()) is not None:
            out.append(frame)
        return out


@dataclass(frozen=True)
class ReadData:
    text: bytes
    photo: bytes
    fingerprint: bytes = b""


def build_read_data(text: bytes, photo: bytes, fingerprint: bytes | None = None) -> bytes:
    """Data part of a 30 01 reply (or 30 10 when ``fingerprint`` is not None)."""
    head = len(text).to_bytes(2, "big") + len(photo).to_bytes(2, "big")
    if fingerprint is None:
        return head + text + photo
    return head + len(fingerprint).to_bytes(2, "big") + text + photo + fingerprint


def parse_read_data(data: bytes, *, with_fingerprint: bool = False) -> ReadData:
    head = 6 if with_fingerprint else 4
    if len(data) < head:
        raise BadCardData(f"read reply too short ({len(data)} bytes)")
    text_len = int.from_bytes(data[0:2], "big")
    photo_len = int.from_bytes(data[2:4], "big")
    fp_len = int.from_bytes(data[4:6], "big") if with_fingerprint else 0
    if len(data) != head + text_len + photo_len + fp_len:
        raise BadCardData(
            f"read reply holds {len(data)} bytes, its lengths say "
            f"{head + text_len + photo_len + fp_len}"
        )
    if text_len != TEXT_LEN:
        raise BadCardData(f"text block is {text_len} bytes, expected {TEXT_LEN}")
    text = data[head : head + text_len]
    photo = data[head + text_len : head + text_len + photo_len]
    return ReadData(text, photo, data[head + text_len + photo_len :])

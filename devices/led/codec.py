"""Frames of the counter LED strip protocol (RS-485, one bus, many strips) — pure, no I/O.

This is the simple addressed text protocol common to the single-line counter displays sold
for queue systems (条屏/窗口屏); vendors differ in command numbers, so this module is the
one place to adapt. Serial settings: 9600 8N1 by default, half duplex: the host speaks, the
addressed strip answers within 200 ms, a broadcast gets no answer.

Frame (both directions)::

    STX  ADDR  CMD  LEN  DATA…      CHK  ETX
    0x02 1 B   1 B  1 B  LEN bytes  1 B  0x03

- ADDR: 1..254 one strip; 0xFF broadcast (no reply). Replies carry the strip's own address.
- LEN: bytes of DATA, 0..200. Framing is by LEN, not by scanning for ETX, so DATA may hold
  any byte (MODE and COLOR values collide with STX/ETX); no byte stuffing.
- CHK: XOR of ADDR, CMD, LEN and every DATA byte.
- A receiver that meets a bad checksum, a missing ETX or a LEN over 200 drops that STX
  and searches for the next one (resynchronises on line noise).

Commands, host → strip:

    0x31 TEXT    DATA = MODE COLOR TEXT…   MODE 0 static, 1 scroll, 2 flash;
                                           COLOR 1 red, 2 green, 3 yellow;
                                           TEXT in GB2312 (or GBK if the strip's font has it),
                                           at most 192 bytes (96 Chinese characters)
    0x32 CLEAR   no data
    0x33 BRIGHT  DATA = level 0..15
    0x34 STATUS  no data

Replies, strip → host:

    0x06 ACK     DATA = the command acknowledged
    0x15 NAK     DATA = the command refused, ERR: 1 checksum, 2 unknown command,
                 3 bad length, 4 text not decodable, 5 bad parameter
    0x35 STATE   DATA = BRIGHT MODE COLOR TEXT… (answer to STATUS)

Text: the strips have a GB2312 font (6,763 hanzi, the simplified set); GBK strips also
show traditional and rare characters. ``encode_text`` refuses what the strip cannot show
rather than letting it print garbage, naming the characters; ``errors="replace"`` puts a
full-width "？" in their place (one character for one, so the layout stays).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from devices.led.errors import LedError

STX, ETX = 0x02, 0x03
BROADCAST = 0xFF
MAX_DATA = 200
MAX_TEXT_BYTES = 192
ENCODINGS = ("gb2312", "gbk")


class Cmd(enum.IntEnum):
    TEXT = 0x31
    CLEAR = 0x32
    BRIGHT = 0x33
    STATUS = 0x34
    STATE = 0x35
    ACK = 0x06
    NAK = 0x15


class Mode(enum.IntEnum):
    STATIC = 0
    SCROLL = 1
    FLASH = 2


class Color(enum.IntEnum):
    RED = 1
    GREEN = 2
    YELLOW = 3


class NakError(enum.IntEnum):
    CHECKSUM = 1
    UNKNOWN_COMMAND = 2
    BAD_LENGTH = 3
    BAD_TEXT = 4
    BAD_PARAMETER = 5


@dataclass(frozen=True)
class Frame:
    address: int
    cmd: int
    data: bytes = b""


def checksum(body: bytes) -> int:
    value = 0
    for b in body:
        value ^= b
    return value


def encode_frame(frame: Frame) -> bytes:
    if not 1 <= frame.address <= 255 or frame.address == 0:
        raise LedError(
            f"address {frame.address} outside 1..254 (255 broadcast)", code="led.bad_value"
        )
    if len(frame.data) > MAX_DATA:
        raise LedError(f"{len(frame.data)} data bytes, at most {MAX_DATA}", code="led.bad_value")
    body = bytes([frame.address, frame.cmd, len(frame.data)]) + frame.data
    return bytes([STX]) + body + bytes([checksum(body), ETX])


def encode_text(text: str, encoding: str = "gb2312", errors: str = "strict") -> bytes:
    """``text`` as the strip's font wants it. Control characters are refused (a strip
    would act on them); characters outside ``encoding`` raise ``led.encoding`` naming them,
    or become "？" with ``errors="replace"``."""
    if encoding not in ENCODINGS:
        raise LedError(f"encoding {encoding!r} not one of {ENCODINGS}", code="led.bad_value")
    if any(not ch.isprintable() for ch in text):
        raise LedError("text contains control characters", code="led.bad_value")
    out = bytearray()
    bad: list[str] = []
    for ch in text:
        try:
            out += ch.encode(encoding)
        except UnicodeEncodeError:
            bad.append(ch)
            out += "？".encode(encoding)
    if bad and errors != "replace":
        shown = "".join(dict.fromkeys(bad))
        raise LedError(
            f"{len(bad)} character(s) not in {encoding.upper()}: {shown!r}", code="led.encoding"
        )
    if len(out) > MAX_TEXT_BYTES:
        raise LedError(
            f"text is {len(out)} bytes in {encoding}, at most {MAX_TEXT_BYTES}", code="led.too_long"
        )
    return bytes(out)


def text_frame(
    address: int,
    text: str,
    mode: Mode = Mode.STATIC,
    color: Color = Color.RED,
    encoding: str = "gb2312",
    errors: str = "strict",
) -> Frame:
    return Frame(address, Cmd.TEXT, bytes([mode, color]) + encode_text(text, encoding, errors))


def decode_text(data: bytes, encoding: str = "gb2312") -> str:
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as err:
        raise LedError(f"text bytes not valid {encoding}: {err}", code="led.encoding") from err


class FrameParser:
    """Incremental: feed bytes as they arrive, get whole checked frames. Garbage and broken
    frames are skipped (counted in ``dropped``), and parsing resumes at the next STX."""

    def __init__(self) -> None:
        self.buffer = bytearray()
        self.dropped = 0

    def feed(self, data: bytes) -> list[Frame]:
        self.buffer += data
        frames: list[Frame] = []
        while True:
            start = self.buffer.find(STX)
            if start < 0:
                self.dropped += len(self.buffer)
                self.buffer.clear()
                return frames
            if start:
                self.dropped += start
                del self.buffer[:start]
            if len(self.buffer) < 4:
                return frames  # wait for the header
            length = self.buffer[3]
            if length > MAX_DATA:
                self._resync()
                continue
            total = 4 + length + 2
            if len(self.buffer) < total:
                # A noise STX with a plausible LEN would hold back a good frame behind it
                # until LEN bytes arrived; if a whole valid frame follows, this one was noise.
                later = self._valid_frame_after(1)
                if later < 0:
                    return frames  # wait for the rest
                self.dropped += later
                del self.buffer[:later]
                continue
            body = bytes(self.buffer[1 : 4 + length])
            if self.buffer[total - 1] != ETX or checksum(body) != self.buffer[total - 2]:
                self._resync()
                continue
            frames.append(Frame(body[0], body[1], body[3:]))
            del self.buffer[:total]

    def _valid_frame_after(self, pos: int) -> int:
        while (pos := self.buffer.find(STX, pos)) >= 0:
            if len(self.buffer) >= pos + 4 and self.buffer[pos + 3] <= MAX_DATA:
                total = 4 + self.buffer[pos + 3] + 2
                if len(self.buffer) >= pos + total:
                    body = bytes(self.buffer[pos + 1 : pos + total - 2])
                    if (
                        self.buffer[pos + total - 1] == ETX
                        and checksum(body) == self.buffer[pos + total - 2]
                    ):
                        return pos
            pos += 1
        return -1

    def _resync(self) -> None:
        self.dropped += 1
        del self.buffer[:1]  # this STX was noise; look for the next one

"""Driver for the counter LED strips on one RS-485 bus (protocol in ``codec``).

Port: any pyserial URL — ``/dev/ttyUSB0`` (a USB–RS-485 adapter), a pty path from
``govhall sim led``, ``socket://host:port`` (a serial server), ``spy://…`` to log traffic.

Each command waits for the strip's ACK; a NAK for a checksum error or a timeout is retried
(``retries`` times, line noise), other NAKs are raised at once. Errors, all ``LedError``:
``led.no_port`` (cannot open), ``led.timeout`` (no answer: strip off, wrong address or
baud), ``led.nak`` (refused, with the reason), ``led.encoding`` / ``led.too_long`` /
``led.bad_value`` (refused before anything was sent).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any

import serial

from devices.led.codec import (
    BROADCAST,
    Cmd,
    Color,
    Frame,
    FrameParser,
    Mode,
    NakError,
    decode_text,
    encode_frame,
    text_frame,
)
from devices.led.errors import LedError


@dataclass(frozen=True)
class StripState:
    address: int
    brightness: int
    mode: Mode
    color: Color
    text: str


class LedBus:
    def __init__(
        self,
        port: str,
        baud: int = 9600,
        *,
        encoding: str = "gb2312",
        timeout: float = 0.3,
        retries: int = 2,
    ) -> None:
        self.port_name, self.encoding = port, encoding
        self.timeout, self.retries = timeout, retries
        try:
            self.serial: Any = serial.serial_for_url(port, baudrate=baud, timeout=0.02)
        except (serial.SerialException, OSError, ValueError) as err:
            raise LedError(f"cannot open LED port {port!r}: {err}", code="led.no_port") from err
        self.parser = FrameParser()
        self._lock = threading.Lock()
        self.retried = 0

    # --- commands -----------------------------------------------------------------------

    def show(
        self,
        address: int,
        text: str,
        mode: Mode = Mode.STATIC,
        color: Color = Color.RED,
        errors: str = "strict",
    ) -> None:
        self._command(text_frame(address, text, mode, color, self.encoding, errors))

    def clear(self, address: int) -> None:
        self._command(Frame(address, Cmd.CLEAR))

    def brightness(self, address: int, level: int) -> None:
        if not 0 <= level <= 15:
            raise LedError(f"brightness {level} outside 0..15", code="led.bad_value")
        self._command(Frame(address, Cmd.BRIGHT, bytes([level])))

    def status(self, address: int) -> StripState:
        reply = self._command(Frame(address, Cmd.STATUS), expect=Cmd.STATE)
        if reply is None or len(reply.data) < 3:
            raise LedError(f"strip {address}: short STATE reply", code="led.bad_reply")
        d = reply.data
        try:
            mode, color = Mode(d[1]), Color(d[2])
        except ValueError as err:
            raise LedError(
                f"strip {address}: bad STATE reply {d[:3].hex()}", code="led.bad_reply"
            ) from err
        return StripState(address, d[0], mode, color, decode_text(d[3:], self.encoding))

    def close(self) -> None:
        self.serial.close()

    def __enter__(self) -> LedBus:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- transaction --------------------------------------------------------------------

    def _command(self, frame: Frame, expect: int = Cmd.ACK) -> Frame | None:
        raw = encode_frame(frame)
        with self._lock:
            last = ""
            for attempt in range(1 + self.retries):
                if attempt:
                    self.retried += 1
                self.serial.reset_input_buffer()
                self.parser.buffer.clear()
                try:
                    self.serial.write(raw)
                    self.serial.flush()
                except (serial.SerialException, OSError) as err:
                    raise LedError(
                        f"write to {self.port_name} failed: {err}", code="led.io"
                    ) from err
                if frame.address == BROADCAST:
                    return None
                reply = self._wait_reply(frame, expect)
                if reply is None:
                    last = "timeout"
                    continue
                if reply.cmd == Cmd.NAK:
                    nak = (
                        NakError(reply.data[1])
                        if len(reply.data) > 1 and reply.data[1] in NakError._value2member_map_
                        else None
                    )
                    if nak is NakError.CHECKSUM:
                        last = "checksum NAK"
                        continue  # noise on the line: send again
                    raise LedError(
                        f"strip {frame.address} refused command "
                        f"0x{frame.cmd:02x}: {nak.name if nak else reply.data.hex()}",
                        code="led.nak",
                    )
                return reply
            code = "led.timeout" if last == "timeout" else "led.nak"
            raise LedError(
                f"strip {frame.address} on {self.port_name}: {last} after "
                f"{1 + self.retries} attempts",
                code=code,
            )

    def _wait_reply(self, frame: Frame, expect: int) -> Frame | None:
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            try:
                chunk = self.serial.read(64)
            except (serial.SerialException, OSError) as err:
                raise LedError(f"read from {self.port_name} failed: {err}", code="led.io") from err
            for reply in self.parser.feed(chunk):
                if reply.address != frame.address:
                    continue  # another strip's late answer
                if reply.cmd == expect and (
                    expect != Cmd.ACK or reply.data[:1] == bytes([frame.cmd])
                ):
                    return reply
                if reply.cmd == Cmd.NAK and reply.data[:1] == bytes([frame.cmd]):
                    return reply
        return None

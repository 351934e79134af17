"""A bus of simulated LED strips on a real pseudo-terminal: the driver opens the pty path
like a USB–RS-485 adapter, and every byte goes through the same codec a strip would use.

Scripted faults (set on the instance while it runs): ``drop_replies`` (next N commands get
no answer), ``corrupt_replies`` (next N answers carry a bad checksum), ``noise`` (bytes
written on the line before each answer), ``nak_checksum`` (next N commands are answered
"checksum error", as after line noise), ``delay_s`` (answer late).
"""

from __future__ import annotations

import contextlib
import os
import select
import threading
import time
import tty
from collections.abc import Iterable
from dataclasses import dataclass, field

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
    encode_text,
)
from devices.led.errors import LedError


@dataclass
class Strip:
    address: int
    encoding: str = "gb2312"
    text: str = ""
    mode: Mode = Mode.STATIC
    color: Color = Color.RED
    brightness: int = 8
    shown: list[str] = field(default_factory=list)  # every text shown, in order


class LedSimulator:
    def __init__(self, addresses: Iterable[int] = range(1, 33), encoding: str = "gb2312") -> None:
        self.strips = {a: Strip(a, encoding) for a in addresses}
        self.parser = FrameParser()
        self.drop_replies = 0
        self.corrupt_replies = 0
        self.nak_checksum = 0
        self.noise = b""
        self.delay_s = 0.0
        self.received: list[Frame] = []
        self._changed = threading.Condition()
        self._master, self._slave = os.openpty()
        tty.setraw(self._slave)  # bytes pass untouched (no echo, no CR/LF mapping)
        self.port = os.ttyname(self._slave)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="led-sim", daemon=True)

    def start(self) -> LedSimulator:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(2)
        for fd in (self._master, self._slave):
            with contextlib.suppress(OSError):
                os.close(fd)

    def __enter__(self) -> LedSimulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def inject(self, data: bytes) -> None:
        """Put bytes on the line towards the host (noise, a stray strip)."""
        os.write(self._master, data)

    def wait_text(self, address: int, text: str, timeout: float = 5.0) -> Strip:
        with self._changed:
            if not self._changed.wait_for(lambda: self.strips[address].text == text, timeout):
                raise TimeoutError(f"strip {address} shows {self.strips[address].text!r}")
            return self.strips[address]

    # --- the strips -------------------------------------------------------------------

    def _run(self) -> None:
        while not self._stop.is_set():
            ready, _, _ = select.select([self._master], [], [], 0.05)
            if not ready:
                continue
            try:
                data = os.read(self._master, 1024)
            except OSError:
                return
            for frame in self.parser.feed(data):
                self.received.append(frame)
                reply = self._handle(frame)
                if reply is not None:
                    self._send(reply)

    def _handle(self, frame: Frame) -> Frame | None:
        targets = (
            list(self.strips.values())
            if frame.address == BROADCAST
            else ([self.strips[frame.address]] if frame.address in self.strips else [])
        )
        if not targets:
            return None  # nobody at that address: silence, as on a real bus
        if self.nak_checksum and frame.address != BROADCAST:
            self.nak_checksum -= 1
            return Frame(frame.address, Cmd.NAK, bytes([frame.cmd, NakError.CHECKSUM]))
        try:
            for strip in targets:
                reply = self._apply(strip, frame)
        except _Nak as nak:
            reply = Frame(frame.address, Cmd.NAK, bytes([frame.cmd, nak.error]))
        if frame.address == BROADCAST:
            return None
        return reply

    def _apply(self, strip: Strip, frame: Frame) -> Frame:
        ack = Frame(strip.address, Cmd.ACK, bytes([frame.cmd]))
        if frame.cmd == Cmd.TEXT:
            if len(frame.data) < 2:
                raise _Nak(NakError.BAD_LENGTH)
            try:
                mode, color = Mode(frame.data[0]), Color(frame.data[1])
                text = decode_text(frame.data[2:], strip.encoding)
            except ValueError:
                raise _Nak(NakError.BAD_PARAMETER) from None
            except LedError:
                raise _Nak(NakError.BAD_TEXT) from None
            with self._changed:
                strip.text, strip.mode, strip.color = text, mode, color
                strip.shown.append(text)
                self._changed.notify_all()
            return ack
        if frame.cmd == Cmd.CLEAR:
            with self._changed:
                strip.text = ""
                self._changed.notify_all()
            return ack
        if frame.cmd == Cmd.BRIGHT:
            if len(frame.data) != 1 or frame.data[0] > 15:
                raise _Nak(NakError.BAD_PARAMETER)
            strip.brightness = frame.data[0]
            return ack
        if frame.cmd == Cmd.STATUS:
            return Frame(
                strip.address,
                Cmd.STATE,
                bytes([strip.brightness, strip.mode, strip.color])
                + encode_text(strip.text, strip.encoding, "replace"),
            )
        raise _Nak(NakError.UNKNOWN_COMMAND)

    def _send(self, reply: Frame) -> None:
        if self.drop_replies:
            self.drop_replies -= 1
            return
        raw = bytearray(encode_frame(reply))
        if self.corrupt_replies:
            self.corrupt_replies -= 1
            raw[-2] ^= 0xFF
        if self.delay_s:
            time.sleep(self.delay_s)
        os.write(self._master, self.noise + bytes(raw))


class _Nak(Exception):
    def __init__(self, error: NakError) -> None:
        super().__init__(error.name)
        self.error = error

"""The byte link to a ticket printer, one kind per URL scheme: send a job, read status bytes
within a deadline. ``open_link(url)`` → a ``Link`` and the URL's query options.

URLs::

    tcp://HOST[:9100][?timeout=S]                  network printer (raw port 9100); S: connect
    serial:PORT[?baudrate=9600]                    any pyserial URL: serial:///dev/ttyUSB0, a
                                                   pty path, serial:socket://HOST:PORT (a
                                                   serial server), serial:spy:///dev/ttyS0
    usb://VID:PID  (hex, e.g. usb://0416:5011)     USB printer (python-escpos, needs pyusb)
    cups://QUEUE                                   CUPS queue (python-escpos, needs pycups)

Why python-escpos only for USB and CUPS: the bytes we send come from ``encode.py`` (pure,
golden-tested, and with a Chinese text path python-escpos gets wrong), so a connection
only has to carry bytes and bring back a status byte before a deadline. For TCP and serial
the stdlib socket and ``serial.serial_for_url`` do exactly that (as the ID card and LED
drivers do), where python-escpos's ``Network`` and ``Serial`` read with fixed timeouts and
had to be reached into (``conn.device``). Its command set (``qr(native=True)``, ``image()``,
``cut()``) would need a ``Dummy`` printer per job and bring escpos into the pure encoder,
for bytes we already produce. For USB (device lookup, kernel driver detach, endpoints) and
CUPS (job submission) it saves real work, so those two stay on it.
"""

from __future__ import annotations

import contextlib
import socket
from abc import ABC, abstractmethod
from typing import Any
from urllib.parse import parse_qs, urlsplit

import serial

from devices.printer.errors import PrinterError


class Link(ABC):
    """Raw bytes to and from one printer. ``open`` raises when the printer is not there;
    ``write`` and ``read`` raise OSError when the link broke."""

    answers = True  # whether the printer can reply through this link (DLE EOT status)
    baudrate: int | None = None  # serial lines: for the time a job takes on the wire

    @abstractmethod
    def open(self) -> None: ...

    @abstractmethod
    def close(self) -> None: ...

    @abstractmethod
    def write(self, data: bytes, timeout: float) -> None: ...

    @abstractmethod
    def read(self, timeout: float) -> bytes:
        """What arrived (a few bytes), waiting at most ``timeout``; b"" when nothing came."""

    def drain(self) -> None:
        """Drop stale bytes (a late reply, automatic status) before asking again."""
        with contextlib.suppress(TimeoutError):
            while self.read(0.0):
                pass


class TcpLink(Link):
    def __init__(self, host: str, port: int, connect_timeout: float) -> None:
        self.host, self.port, self.connect_timeout = host, port, connect_timeout
        self._sock: socket.socket | None = None

    def open(self) -> None:
        if self._sock is None:
            self._sock = socket.create_connection((self.host, self.port), self.connect_timeout)

    def close(self) -> None:
        sock, self._sock = self._sock, None
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()

    def _socket(self) -> socket.socket:
        if self._sock is None:
            raise ConnectionError("printer link is not open")
        return self._sock

    def write(self, data: bytes, timeout: float) -> None:
        sock = self._socket()
        sock.settimeout(timeout)
        sock.sendall(data)

    def read(self, timeout: float) -> bytes:
        sock = self._socket()
        sock.settimeout(timeout)
        try:
            data = sock.recv(16)
        except (TimeoutError, BlockingIOError):
            return b""
        if not data:
            raise ConnectionResetError("printer closed the connection")
        return data


class SerialLink(Link):
    baudrate: int

    def __init__(self, port: str, baudrate: int) -> None:
        self.port, self.baudrate = port, baudrate
        self._serial: serial.Serial | None = None

    def open(self) -> None:
        if self._serial is None:
            ser = serial.serial_for_url(
                self.port, baudrate=self.baudrate, timeout=1, do_not_open=True
            )
            ser.open()
            self._serial = ser

    def close(self) -> None:
        ser, self._serial = self._serial, None
        if ser is not None:
            with contextlib.suppress(Exception):  # a pty whose other side vanished, …
                ser.close()

    def _port(self) -> serial.Serial:
        if self._serial is None:
            raise ConnectionError("printer link is not open")
        return self._serial

    def write(self, data: bytes, timeout: float) -> None:
        ser = self._port()
        ser.write_timeout = timeout
        if ser.write(data) != len(data):
            raise OSError("serial write incomplete")
        ser.flush()

    def read(self, timeout: float) -> bytes:
        ser = self._port()
        ser.timeout = timeout
        return ser.read(1)


class UsbLink(Link):
    def __init__(self, vid: int, pid: int) -> None:
        self.vid, self.pid = vid, pid
        self._conn: Any = None  # escpos.printer.Usb (untyped)

    def open(self) -> None:
        if self._conn is None:
            from escpos.printer import Usb

            conn = Usb(self.vid, self.pid, timeout=0)
            conn.open()  # raises escpos's DeviceNotFoundError when it is not there
            self._conn = conn

    def close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            with contextlib.suppress(Exception):
                conn.close()

    def write(self, data: bytes, timeout: float) -> None:
        self._conn._raw(data)

    def read(self, timeout: float) -> bytes:
        # python-escpos's _read() waits without a deadline: read the pyusb device instead.
        # pyusb takes milliseconds, and 0 would mean "wait for ever".
        try:
            return bytes(self._conn.device.read(self._conn.in_ep, 16, max(1, int(timeout * 1000))))
        except Exception:  # pyusb raises a timeout as USBTimeoutError (a USBError)
            return b""


class CupsLink(Link):
    """A CUPS queue: it takes whole jobs, and the printer cannot answer through it."""

    answers = False

    def __init__(self, queue: str) -> None:
        self.queue = queue
        self._conn: Any = None  # escpos.printer.CupsPrinter (untyped)

    def open(self) -> None:
        if self._conn is None:
            from escpos.printer import CupsPrinter

            conn = CupsPrinter(self.queue)
            conn.open()
            self._conn = conn

    def close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            with contextlib.suppress(Exception):
                conn.close()

    def write(self, data: bytes, timeout: float) -> None:
        """Spool one job: CupsPrinter submits it when closed, so the next job opens anew."""
        conn, self._conn = self._conn, None
        conn._raw(data)
        conn.close()

    def read(self, timeout: float) -> bytes:
        return b""


def open_link(url: str) -> tuple[Link, dict[str, str]]:
    """The link a printer URL names (not opened yet), and its query options."""
    parts = urlsplit(url)
    opts = {k: v[-1] for k, v in parse_qs(parts.query).items()}
    scheme = parts.scheme.lower()
    if scheme == "tcp":
        if not parts.hostname:
            raise PrinterError(f"no host in printer URL {url!r}", code="printer.bad_url")
        timeout = float(opts.get("timeout", "3"))
        return TcpLink(parts.hostname, parts.port or 9100, timeout), opts
    if scheme == "serial":
        port = parts.path or parts.netloc
        if not port:
            raise PrinterError(f"no device in printer URL {url!r}", code="printer.bad_url")
        baud = int(opts.get("baudrate", "9600"))  # most printers' default (and python-escpos's)
        return SerialLink(port, baud), opts
    if scheme == "usb":
        try:
            vid, pid = (int(x, 16) for x in parts.netloc.split(":"))
        except ValueError as err:
            raise PrinterError(
                f"USB URL must be usb://VID:PID in hex, got {url!r}", code="printer.bad_url"
            ) from err
        return UsbLink(vid, pid), opts
    if scheme == "cups":
        return CupsLink(parts.netloc or parts.path.strip("/")), opts
    raise PrinterError(
        f"unsupported printer URL {url!r}: use tcp://, serial:, usb:// or cups://",
        code="printer.bad_url",
    )

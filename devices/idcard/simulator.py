"""A simulated ID card reader: the reader side of the protocol over a real pty or TCP port.

The driver opens it exactly like hardware: ``sim.port`` is a device path (the pty slave,
or the ``link`` symlink to it) or ``socket://127.0.0.1:PORT``. Replies are paced at the
configured baud rate (10 bit times per byte, 8N1), requests are charged their wire time
too, so timings measured through the simulator are those of a real line.

Cards (sample JSON files from ``cards.py``, or any ``IdCard``) are ``place``d /
``remove``d on command. Scripted faults (``inject``, one of ``IdCardFault``): noise before
a reply, a reply split with a delay, cut half-way or with a bad checksum, read failed (41),
unknown card type (40), the card removed during a read, a SAM fault (60 or 66 to every
command until cleared), silence until cleared; plus ``unplug()`` / ``replug()`` of the
cable.

In-process: ``with IdCardSimulator(link=path) as sim: sim.place(load_card(...))``.
As a process: ``govhall sim idcard --link /tmp/ttyIDCARD`` (see ``cli.py``).
"""

from __future__ import annotations

import collections
import contextlib
import errno
import logging
import os
import random
import select
import socket
import threading
import time
import tty
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from devices.idcard.card import IdCard
from devices.idcard.cards import load_card
from devices.idcard.errors import Garbled
from devices.idcard.frames import (
    Command,
    FrameParser,
    Request,
    Status,
    build_read_data,
    build_reply,
)
from devices.idcard.textblock import encode_address, encode_text

log = logging.getLogger(__name__)

SAM_ID = bytes.fromhex("05000000 00000001 0123456789ABCDEF".replace(" ", ""))
CARD_SERIAL = bytes.fromhex("0011223344556677")


class IdCardFault(StrEnum):
    """What ``inject`` can script. ``SAM_FAULT`` and ``SILENT`` last until
    ``clear_faults``; the others hit one reply each."""

    GARBAGE = "garbage"  # noise bytes before the reply (arg: how many, default 16)
    SPLIT = "split"  # the reply in two halves, arg seconds apart (default 0.1)
    CUT = "cut"  # only the first half of the reply
    CORRUPT = "corrupt"  # a wrong checksum
    READ_FAIL = "read_fail"  # 41
    UNKNOWN_TYPE = "unknown_type"  # 40
    REMOVE_MID_READ = "remove_mid_read"  # the card leaves during the read: 41, no card
    SAM_FAULT = "sam_fault"  # arg 0x60 (default) or 0x66 to every command
    SILENT = "silent"  # no answer at all


_READS = {Command.READ_TEXT_PHOTO, Command.READ_TEXT_PHOTO_FINGERPRINT}


# ---------------------------------------------------------------------------------------
# The peer


@dataclass
class _Fault:
    kind: IdCardFault
    on: Command | None  # None: the next reply to any command
    arg: float


@dataclass(frozen=True)
class LoggedRequest:
    at: float  # time.monotonic() when the request was complete
    command: Command | None


class IdCardSimulator:
    """The reader side of the protocol on a pty (``transport="pty"``) or TCP port."""

    def __init__(
        self,
        *,
        transport: str = "pty",
        link: str | Path | None = None,
        tcp_port: int = 0,
        baudrate: int = 115200,
        paced: bool = True,
        read_delay: float = 0.0,
    ) -> None:
        if transport not in ("pty", "tcp"):
            raise ValueError("transport must be 'pty' or 'tcp'")
        self.transport = transport
        self.link = Path(link) if link else None
        self.tcp_port = tcp_port
        self.baudrate = baudrate
        self.paced = paced
        self.read_delay = read_delay  # the card's own RF read time, seconds (0 = instant)
        # bounded: a demo simulator runs for days at one poll every 300 ms
        self.requests: collections.deque[LoggedRequest] = collections.deque(maxlen=2000)
        self.placed_at: float | None = None
        self._lock = threading.RLock()
        self._card: tuple[bytes, bytes, str | None] | None = None
        self._selected = False
        self._faults: list[_Fault] = []
        self._sam_fault: int | None = None
        self._silent = False
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._master: int | None = None
        self._slave: int | None = None
        self._slave_name = ""
        self._listener: socket.socket | None = None
        self._conn: socket.socket | None = None
        self._plugged = True
        self._replug_request = threading.Event()
        self._unplug_request = threading.Event()
        self._ack = threading.Event()
        self._rng = random.Random(1)

    # -- lifecycle ----------------------------------------------------------------------
    def start(self) -> IdCardSimulator:
        self._open_line()
        self._thread = threading.Thread(target=self._serve, name="idcard-sim", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._close_line()

    def __enter__(self) -> IdCardSimulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> str:
        """What to give the driver: the link, the pty slave path or a socket:// URL."""
        if self.transport == "tcp":
            return f"socket://127.0.0.1:{self.tcp_port}"
        return str(self.link) if self.link else self._slave_name

    @property
    def bit_time(self) -> float:
        return 1.0 / self.baudrate

    def wire_time(self, nbytes: int) -> float:
        """Seconds ``nbytes`` take on the line at 8N1 (10 bits per byte)."""
        return nbytes * 10 / self.baudrate

    # -- cards and faults ---------------------------------------------------------------
    def place(self, card: IdCard | str | Path) -> None:
        if not isinstance(card, IdCard):
            card = load_card(card)
        self.place_raw(encode_text(card), card.photo_wlt, card.additional_address)

    def place_raw(self, text: bytes, photo: bytes, additional_address: str | None = None) -> None:
        """Place a card given as its text block (e.g. a block no real card would carry)."""
        with self._lock:
            self._card = (text, photo, additional_address)
            self._selected = False
            self.placed_at = time.monotonic()

    def remove(self) -> None:
        with self._lock:
            self._card = None
            self._selected = False
            self.placed_at = None

    @property
    def card_present(self) -> bool:
        return self._card is not None

    def inject(
        self, fault: IdCardFault | str, *, on: Command | None = None, arg: float = 0.0
    ) -> None:
        """Script a fault (an ``IdCardFault`` or its value, as typed on the CLI). One-shot
        faults hit the next reply (to ``on`` if given); ``SAM_FAULT`` (arg 0x60 or 0x66)
        and ``SILENT`` last until ``clear_faults``."""
        try:
            kind = IdCardFault(fault)
        except ValueError:
            known = ", ".join(IdCardFault)
            raise ValueError(f"unknown fault {fault!r}; known: {known}") from None
        with self._lock:
            if kind is IdCardFault.SAM_FAULT:
                self._sam_fault = int(arg) or Status.SAM_SELF_TEST_FAILED
            elif kind is IdCardFault.SILENT:
                self._silent = True
            else:
                self._faults.append(_Fault(kind, on, arg))

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()
            self._sam_fault = None
            self._silent = False

    def unplug(self) -> None:
        """Pull the cable: the line disappears (pty closed and link removed, or TCP closed)."""
        self._ack.clear()
        self._unplug_request.set()
        self._ack.wait(5)

    def replug(self) -> None:
        """Plug it back: a new pty behind the same link, or the same TCP port again."""
        self._ack.clear()
        self._replug_request.set()
        self._ack.wait(5)

    # -- the line -----------------------------------------------------------------------
    def _open_line(self) -> None:
        if self.transport == "pty":
            master, slave = os.openpty()
            tty.setraw(slave)  # no echo, no line discipline: bytes pass as they are
            os.set_blocking(master, False)
            self._master, self._slave = master, slave
            self._slave_name = os.ttyname(slave)
            if self.link:
                with contextlib.suppress(FileNotFoundError):
                    self.link.unlink()
                self.link.symlink_to(self._slave_name)
        else:
            listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            listener.bind(("127.0.0.1", self.tcp_port))
            listener.listen(1)
            self.tcp_port = listener.getsockname()[1]
            self._listener = listener
        self._plugged = True

    def _close_line(self) -> None:
        for fd in (self._master, self._slave):
            if fd is not None:
                with contextlib.suppress(OSError):
                    os.close(fd)
        self._master = self._slave = None
        if self.link and self.link.is_symlink():
            with contextlib.suppress(FileNotFoundError):
                self.link.unlink()
        for sock in (self._conn, self._listener):
            if sock is not None:
                sock.close()
        self._conn = self._listener = None
        self._plugged = False

    def _read_fd(self) -> int | None:
        if self.transport == "pty":
            return self._master
        return self._conn.fileno() if self._conn else None

    def _serve(self) -> None:
        parser = FrameParser()
        while not self._stop.is_set():
            if self._unplug_request.is_set():
                self._unplug_request.clear()
                self._close_line()
                parser.reset()
                self._ack.set()
            if self._replug_request.is_set():
                self._replug_request.clear()
                if not self._plugged:
                    self._open_line()
                self._ack.set()
            if not self._plugged:
                time.sleep(0.02)
                continue
            watch = [fd for fd in (self._read_fd(),) if fd is not None]
            if self._listener is not None:
                watch.append(self._listener.fileno())
            readable, _, _ = select.select(watch, [], [], 0.02)
            if self._listener is not None and self._listener.fileno() in readable:
                conn, _ = self._listener.accept()
                conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                if self._conn is not None:
                    self._conn.close()  # a new client takes over, as on a real port
                self._conn = conn
                parser.reset()
                continue
            fd = self._read_fd()
            if fd is None or fd not in readable:
                continue
            try:
                data = os.read(fd, 4096)
            except BlockingIOError:
                continue
            except OSError as err:
                if err.errno != errno.EIO:
                    log.warning("idcard simulator: read error %s", err)
                time.sleep(0.01)
                continue
            if not data:
                if self._conn is not None:
                    self._conn.close()
                    self._conn = None
                continue
            parser.feed(data)
            self._drain(parser)

    def _drain(self, parser: FrameParser) -> None:
        while True:
            try:
                frame = parser.pop()
            except Garbled as err:
                bad_sum = err.reason == "checksum"
                status = Status.REQUEST_CHECKSUM if bad_sum else Status.REQUEST_LENGTH
                self._send([build_reply(status)], nbytes_in=0)
                continue
            if frame is None:
                return
            nbytes_in = len(frame.payload) + 8
            try:
                request = Request.from_frame(frame)
            except Garbled:
                self._send([build_reply(Status.REQUEST_LENGTH)], nbytes_in)
                continue
            self.requests.append(LoggedRequest(time.monotonic(), request.command))
            self._respond(request, nbytes_in)

    # -- the reader's behaviour ---------------------------------------------------------
    def _take_fault(self, command: Command | None) -> _Fault | None:
        for i, fault in enumerate(self._faults):
            if fault.on is None or fault.on is command:
                return self._faults.pop(i)
        return None

    def _respond(self, request: Request, nbytes_in: int) -> None:
        with self._lock:
            if self._silent:
                return
            command = request.command
            fault = self._take_fault(command)
            reply = self._reply_for(command, fault)
        parts = [reply]
        delay = 0.0
        if fault is not None:
            if fault.kind is IdCardFault.GARBAGE:
                # no 0xAA in the noise: it must not look like the start of a preamble
                count = int(fault.arg) or 16
                noise = bytes(self._rng.randrange(0xAA) for _ in range(count))
                parts = [noise + reply]
            elif fault.kind is IdCardFault.SPLIT:
                half = len(reply) // 2
                parts, delay = [reply[:half], reply[half:]], fault.arg or 0.1
            elif fault.kind is IdCardFault.CUT:
                parts = [reply[: max(8, len(reply) // 2)]]
            elif fault.kind is IdCardFault.CORRUPT:
                parts = [reply[:-1] + bytes([reply[-1] ^ 0x5A])]
        if command in _READS and self.read_delay:
            time.sleep(self.read_delay)
        self._send(parts, nbytes_in, delay)

    def _reply_for(self, command: Command | None, fault: _Fault | None) -> bytes:
        if command is None:
            return build_reply(Status.BAD_COMMAND)
        if self._sam_fault is not None:
            return build_reply(self._sam_fault)
        kind = fault.kind if fault else None
        if command in (Command.RESET_SAM, Command.SAM_STATUS):
            return build_reply(Status.OK)
        if command is Command.SAM_ID:
            return build_reply(Status.OK, SAM_ID)
        if command is Command.FIND_CARD:
            if self._card is None:
                return build_reply(Status.NO_CARD)
            return build_reply(Status.CARD_FOUND, bytes(4))
        if command is Command.SELECT_CARD:
            if self._card is None:
                return build_reply(Status.SELECT_FAILED)
            self._selected = True
            return build_reply(Status.OK, CARD_SERIAL)
        # reads need a selected card, as on a real reader
        if self._card is None or not self._selected:
            return build_reply(Status.READ_FAILED)
        if kind is IdCardFault.UNKNOWN_TYPE:
            return build_reply(Status.UNKNOWN_CARD_TYPE)
        if kind is IdCardFault.READ_FAIL:
            return build_reply(Status.READ_FAILED)
        if kind is IdCardFault.REMOVE_MID_READ:
            self._card, self._selected, self.placed_at = None, False, None
            return build_reply(Status.READ_FAILED)
        text, photo, address = self._card
        if command is Command.READ_TEXT_PHOTO:
            return build_reply(Status.OK, build_read_data(text, photo))
        if command is Command.READ_TEXT_PHOTO_FINGERPRINT:
            return build_reply(Status.OK, build_read_data(text, photo, b""))
        if address is None:
            return build_reply(Status.NO_CONTENT)
        return build_reply(Status.OK, encode_address(address))

    def _send(self, parts: list[bytes], nbytes_in: int, delay: float = 0.0) -> None:
        """Write ``parts`` paced at the baud rate, after charging the request's wire time."""
        if self.paced and nbytes_in:
            time.sleep(self.wire_time(nbytes_in))
        for i, part in enumerate(parts):
            if i:
                time.sleep(delay)
            self._write_paced(part)

    def _write_paced(self, data: bytes) -> None:
        chunk = 32  # ≈ 2.8 ms at 115200: fine-grained enough, cheap enough
        start = time.monotonic()
        for pos in range(0, len(data), chunk):
            piece = data[pos : pos + chunk]
            if self.paced:
                # a byte reaches the far end once its bits are on the wire: write each chunk at
                # the end of its wire time, not the start (the last one came 2.8 ms early)
                due = start + self.wire_time(pos + len(piece))
                pause = due - time.monotonic()
                if pause > 0:
                    time.sleep(pause)
            if not self._write_all(piece):
                return

    def _write_all(self, data: bytes) -> bool:
        deadline = time.monotonic() + 0.5
        while data:
            fd = self._read_fd()
            if fd is None:
                return False
            try:
                n = os.write(fd, data)
            except BlockingIOError:
                # nobody reads the line (driver closed): drop rather than hang the reader
                if time.monotonic() > deadline:
                    return False
                select.select([], [fd], [], 0.05)
                continue
            except OSError:
                return False
            data = data[n:]
        return True

"""Serial driver of the ID card reader.

``IdCardReader(port)`` takes anything pyserial opens: ``/dev/ttyUSB0``, a pty path (the
simulator's ``--link``), ``socket://host:port``, ``spy://…`` (hex log of the line). 115200
8N1, no flow control, modem lines never consulted (they fail on virtual ports).

Per card: find (no faster than every ``poll_interval`` = 300 ms, as the spec asks) →
select → read text + photo (→ optional additional address). Every failure is one of the
``IdCardError`` subclasses in ``errors.py`` with a stable code; a lost line (cable pulled)
closes the port and the next call reopens it, so the reader recovers by itself when
plugged back. Thread-safe: one lock serialises the line.
"""

from __future__ import annotations

import contextlib
import enum
import logging
import termios
import threading
import time
from types import TracebackType

import serial

from devices.idcard.card import IdCard
from devices.idcard.errors import (
    Cancelled,
    Garbled,
    IdCardError,
    NoCard,
    NoReader,
    PhotoUnavailable,
    ProtocolError,
    ReadFailed,
    SamFault,
    UnknownCardType,
)
from devices.idcard.frames import (
    Command,
    FrameParser,
    Reply,
    Status,
    build_request,
    parse_read_data,
)
from devices.idcard.photo import PhotoDecoder
from devices.idcard.textblock import decode_address, decode_text

log = logging.getLogger(__name__)

POLL_INTERVAL = 0.3  # s; the spec: find card no faster than every 300 ms


class ReaderState(enum.Enum):
    CLOSED = "closed"
    READY = "ready"  # answers, SAM fine, waiting for a card
    READING = "reading"
    NO_READER = "no_reader"  # port missing, or nothing answers
    SAM_FAULT = "sam_fault"
    LINE_ERROR = "line_error"  # garbled replies: noise, loose cable, wrong baud rate


# Named sets, so health reports and screens test membership instead of comparing strings.
OPERATIONAL_STATES = frozenset({ReaderState.READY, ReaderState.READING})
ERROR_STATES = frozenset({ReaderState.NO_READER, ReaderState.SAM_FAULT, ReaderState.LINE_ERROR})
_LONGEST_REPLY = {  # bytes, for the wire-time part of a reply timeout
    Command.READ_TEXT_PHOTO: 1295,
    Command.READ_TEXT_PHOTO_FINGERPRINT: 2323,
}
_READ_FAILURES = {
    Status.READ_FAILED,
    Status.SELECT_FAILED,
    Status.CARD_AUTH_SAM_FAILED,
    Status.SAM_AUTH_CARD_FAILED,
    Status.VERIFICATION_ERROR,
    Status.RANDOM_FAILED,
    Status.UNKNOWN_ERROR,
}


class IdCardReader:
    """One reader on one port. Use as a context manager, or ``open()``/``close()``.

    ``reply_timeout``: s to wait for the first byte of a short reply; reads get
    ``read_timeout`` (the card's RF read takes time before the reply starts).
    ``inter_byte_timeout``: s of silence inside a reply after which it is cut off.
    ``strict``: refuse a card whose data contradicts itself (InvalidCard).
    """

    def __init__(
        self,
        port: str,
        baudrate: int = 115200,
        *,
        poll_interval: float = POLL_INTERVAL,
        reply_timeout: float = 0.5,
        read_timeout: float = 2.0,
        inter_byte_timeout: float = 0.3,
        additional_address: bool = False,
        strict: bool = True,
        photo_decoder: PhotoDecoder | None = None,
    ) -> None:
        self.port = port
        self.baudrate = baudrate
        self.poll_interval = poll_interval
        self.reply_timeout = reply_timeout
        self.read_timeout = read_timeout
        self.inter_byte_timeout = inter_byte_timeout
        self.additional_address = additional_address
        self.strict = strict
        self.photo_decoder = photo_decoder
        self.state = ReaderState.CLOSED
        self.last_error: IdCardError | None = None
        self._serial: serial.Serial | None = None
        self._parser = FrameParser()
        self._lock = threading.RLock()
        self._closed = True

    # -- state --------------------------------------------------------------------------
    def is_operational(self) -> bool:
        return self.state in OPERATIONAL_STATES

    def is_error(self) -> bool:
        return self.state in ERROR_STATES

    def health(self) -> dict[str, str | None]:
        """For the kiosk's heartbeat: state and the code of the last error (no personal data)."""
        return {
            "state": self.state.value,
            "error": self.last_error.code if self.last_error and self.is_error() else None,
        }

    @property
    def face_photo_available(self) -> bool:
        """Whether card photos can be decoded (a vendor or simulator decoder is configured)."""
        return self.photo_decoder is not None

    # -- lifecycle ----------------------------------------------------------------------
    def open(self) -> None:
        """Open the port and check the reader answers with a healthy SAM; raises
        NoReader or SamFault."""
        with self._lock:
            self._closed = False
            self.status()

    def close(self) -> None:
        with self._lock:
            self._closed = True
            self._drop_port()
            self.state = ReaderState.CLOSED

    def __enter__(self) -> IdCardReader:
        # a reader that is missing at start is a state, not a crash: wait_for_card keeps
        # trying, and status() says what is wrong
        with contextlib.suppress(NoReader, SamFault):
            self.open()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _ensure_port(self) -> serial.Serial:
        if self._serial is not None:
            return self._serial
        self._closed = False
        try:
            ser = serial.serial_for_url(
                self.port,
                baudrate=self.baudrate,
                bytesize=serial.EIGHTBITS,
                parity=serial.PARITY_NONE,
                stopbits=serial.STOPBITS_ONE,
                timeout=0.01,  # short, so loops can watch deadlines and cancellation
                write_timeout=1.0,
                do_not_open=True,
            )
            ser.open()
        except (serial.SerialException, OSError, ValueError) as err:
            raise self._fail(NoReader(f"cannot open reader port {self.port!r}: {err}")) from err
        self._serial = ser
        self._parser.reset()
        return ser

    def _drop_port(self) -> None:
        if self._serial is not None:
            with contextlib.suppress(serial.SerialException, OSError, termios.error):
                self._serial.close()
            self._serial = None

    def _fail(self, error: IdCardError) -> IdCardError:
        self.last_error = error
        if isinstance(error, NoReader):
            self.state = ReaderState.NO_READER
        elif isinstance(error, SamFault):
            self.state = ReaderState.SAM_FAULT
        elif isinstance(error, Garbled):
            self.state = ReaderState.LINE_ERROR
        elif self.state not in ERROR_STATES:
            self.state = ReaderState.READY  # card-level problems leave the reader fine
        return error

    # -- one exchange -------------------------------------------------------------------
    def _transact(self, command: Command, *, retries: int = 1) -> Reply:
        """Send one request and return its reply, retrying a garbled exchange (line noise
        is transient; every command here is safe to repeat)."""
        for attempt in range(retries + 1):
            try:
                return self._exchange(command)
            except Garbled as err:
                if attempt == retries:
                    raise self._fail(err) from err
                log.info("idcard: garbled reply to %s, retrying", command.name)
        raise AssertionError("unreachable")

    def _exchange(self, command: Command) -> Reply:
        with self._lock:
            ser = self._ensure_port()
            try:
                ser.reset_input_buffer()  # stale bytes (a late reply, noise) must not count
                self._parser.reset()
                ser.write(build_request(command))
                reply = self._read_reply(ser, command)
            except (serial.SerialException, OSError, termios.error) as err:
                # termios.error: tcflush on a pty whose other side vanished (not an OSError)
                self._drop_port()  # the cable is gone; the next call reopens
                raise self._fail(NoReader(f"reader connection lost: {err}")) from err
        log.debug("idcard: %s → SW3 %02X", command.name, reply.sw3)
        sam_faulty = reply.status in (Status.SAM_SELF_TEST_FAILED, Status.SAM_NOT_AUTHORISED)
        if self.state in ERROR_STATES and not sam_faulty:
            self.state = ReaderState.READY  # the line works again (re-plugged, noise gone)
        if reply.status in (Status.REQUEST_CHECKSUM, Status.REQUEST_LENGTH):
            raise Garbled(f"reader received a corrupt {command.name} request (SW3 {reply.sw3:02X})")
        return reply

    def _read_reply(self, ser: serial.Serial, command: Command) -> Reply:
        first = self.read_timeout if command in _LONGEST_REPLY else self.reply_timeout
        wire = _LONGEST_REPLY.get(command, 32) * 10 / self.baudrate
        deadline = time.monotonic() + first + wire
        last_byte: float | None = None
        while True:
            now = time.monotonic()
            if last_byte is not None and now - last_byte > self.inter_byte_timeout:
                raise Garbled(f"reply to {command.name} cut off")
            if now > deadline:
                if last_byte is not None:
                    raise Garbled(f"reply to {command.name} incomplete")
                raise self._fail(NoReader(f"reader does not answer {command.name} on {self.port}"))
            chunk = ser.read(max(1, ser.in_waiting))
            if not chunk:
                continue
            last_byte = time.monotonic()
            self._parser.feed(chunk)
            try:
                frame = self._parser.pop()
                if frame is None:
                    continue
                return Reply.from_frame(frame)
            except Garbled as err:
                raise Garbled(
                    f"garbled reply to {command.name}: {err.args[0]}", reason=err.reason
                ) from err

    def _raise_for(self, reply: Reply, command: Command) -> None:
        status = reply.status
        if status in (Status.SAM_SELF_TEST_FAILED, Status.SAM_NOT_AUTHORISED):
            raise self._fail(SamFault(f"reader SAM fault (SW3 {reply.sw3:02X}) on {command.name}"))
        if status is Status.NO_CARD:
            raise self._fail(NoCard("no card on the reader"))
        if status is Status.UNKNOWN_CARD_TYPE:
            raise self._fail(UnknownCardType("the reader does not recognise this card type"))
        if status in _READ_FAILURES:
            raise self._fail(
                ReadFailed(f"{command.name} failed (SW3 {reply.sw3:02X}): lift the card and "
                           "place it again")
            )  # fmt: skip
        raise self._fail(
            ProtocolError(f"unexpected status {reply.sw3:02X} in reply to {command.name}")
        )

    def _expect(self, command: Command, ok: Status) -> Reply:
        reply = self._transact(command)
        if reply.sw3 != ok:
            self._raise_for(reply, command)
        return reply

    # -- the API ------------------------------------------------------------------------
    def status(self) -> ReaderState:
        """Ask the SAM for its status: READY, or raise NoReader / SamFault."""
        self._expect(Command.SAM_STATUS, Status.OK)
        if self.state not in OPERATIONAL_STATES:
            self.state = ReaderState.READY
        return self.state

    def sam_id(self) -> str:
        """The SAM's serial number (hex): identifies the reader, not a person."""
        return self._expect(Command.SAM_ID, Status.OK).data.hex().upper()

    def find_card(self) -> bool:
        """One find-card poll: True if a card is on the reader."""
        reply = self._transact(Command.FIND_CARD)
        if reply.status is Status.NO_CARD:
            return False
        if reply.status is not Status.CARD_FOUND:
            self._raise_for(reply, Command.FIND_CARD)
        return True

    def read_card(self) -> IdCard:
        """find → select → read (→ additional address) once; raises NoCard if none."""
        with self._lock:
            self._expect(Command.FIND_CARD, Status.CARD_FOUND)
            self.state = ReaderState.READING
            try:
                self._expect(Command.SELECT_CARD, Status.OK)
                reply = self._expect(Command.READ_TEXT_PHOTO, Status.OK)
                data = parse_read_data(reply.data)
                address = self._read_additional_address() if self.additional_address else None
                card = decode_text(data.text, data.photo, additional_address=address)
                if self.strict:
                    card.require_consistent()
            except IdCardError as err:
                raise self._fail(err) from None
            self.state = ReaderState.READY
            self.last_error = None
            return card

    def _read_additional_address(self) -> str | None:
        reply = self._transact(Command.READ_ADDITIONAL_ADDRESS)
        if reply.status is Status.NO_CONTENT:
            return None
        if reply.status is not Status.OK:
            self._raise_for(reply, Command.READ_ADDITIONAL_ADDRESS)
        return decode_address(reply.data)

    def wait_for_card(self, timeout: float, cancel: threading.Event | None = None) -> IdCard:
        """Poll until a card is read, for at most ``timeout`` s. Meant for a worker thread:
        ``cancel.set()`` makes it raise Cancelled within one poll. A missing or unplugged
        reader is retried every poll (it may come back); after the timeout raises NoCard,
        or NoReader if the reader never answered. Card problems (read failed, SAM fault,
        unknown type, invalid card, garbled line) are raised at once for the caller to show.
        """
        deadline = time.monotonic() + timeout
        cancel = cancel or threading.Event()
        last: IdCardError = NoCard(f"no card placed within {timeout:g} s")
        while True:
            if cancel.is_set():
                raise Cancelled("waiting for a card was cancelled")
            started = time.monotonic()
            try:
                return self.read_card()
            except NoCard:
                last = NoCard(f"no card placed within {timeout:g} s")
            except NoReader as err:
                last = err
            next_poll = started + self.poll_interval
            if next_poll > deadline:  # no poll fits before the deadline: never poll faster
                if cancel.wait(max(0.0, deadline - time.monotonic())):
                    raise Cancelled("waiting for a card was cancelled")
                raise self._fail(last)
            if cancel.wait(max(0.0, next_poll - time.monotonic())):
                raise Cancelled("waiting for a card was cancelled")

    def wait_for_removal(self, timeout: float, cancel: threading.Event | None = None) -> bool:
        """Poll until the card is lifted (True) or ``timeout`` passes (False)."""
        deadline = time.monotonic() + timeout
        cancel = cancel or threading.Event()
        while time.monotonic() < deadline and not cancel.is_set():
            started = time.monotonic()
            if not self.find_card():
                return True
            cancel.wait(max(0.0, started + self.poll_interval - time.monotonic()))
        return False

    def decode_photo(self, card: IdCard) -> object:
        """The card photo as a BGR image (numpy), or PhotoUnavailable without a decoder."""
        if self.photo_decoder is None:
            raise PhotoUnavailable("no WLT photo decoder configured: face check unavailable")
        return self.photo_decoder.decode(card.photo_wlt)

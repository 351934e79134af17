"""Ticket printer driver: python-escpos connections, DLE EOT status, honest print results.

Config URLs::

    tcp://HOST[:9100][?timeout=S]                  network printer (raw port 9100)
    serial:///dev/ttyUSB0[?baudrate=9600]          serial printer; a pty path works too
    usb://VID:PID  (hex, e.g. usb://0416:5011)     USB printer (needs pyusb)
    cups://QUEUE                                   CUPS queue (needs pycups; no status)

Common query options: ``paper=58|80``, ``encoding=gb18030|gbk|big5|utf-8``,
``mode=text|image|auto`` (auto: text, with lines needing glyphs a GB font lacks —
rare CJK, emoji — sent as raster).

``print_ticket`` reads the status before sending (refuses unless OK or paper near end) and
after sending, waiting as long as the link needs to carry the bytes; the ticket is reported
printed only when the printer answered OK after it took the whole ticket. No answer is "not
there", never "paper OK". A broken link is closed and re-opened on the next call.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

from devices.errors import DeviceError
from devices.printer.codec import (
    QUERIES,
    WARNING_STATES,
    BadStatusReply,
    PrinterStatus,
    StatusFlags,
    is_status_byte,
    parse_status,
    state_of,
    status_query,
)
from devices.printer.layout import (
    GuideInfo,
    TicketInfo,
    guide_elements,
    needs_image,
    normalize_encoding,
    render_guide,
    render_ticket,
    ticket_elements,
)

__all__ = ["PrintResult", "PrinterError", "PrinterStatus", "TicketPrinter"]

DEFAULT_STATUS_TIMEOUT_S = 1.0
TCP_MIN_BYTES_PER_S = 20_000  # a LAN printer slower than this is treated as not confirming


class PrinterError(DeviceError):
    """A ticket that was not (or not surely) printed; ``status`` is the printer state."""

    code = "printer.error"

    def __init__(self, message: str, *, code: str, status: PrinterStatus | None = None) -> None:
        super().__init__(message, code=code)
        self.status = status


@dataclass(frozen=True)
class PrintResult:
    printed: bool
    status: PrinterStatus
    mode: str  # "text", "image" or "hybrid"
    bytes_sent: int
    elapsed_s: float  # from the first byte sent to the printer's acknowledgement
    warnings: tuple[PrinterStatus, ...] = field(default=())


class _Link:
    """Raw byte access over a python-escpos connection (it only offers ``_raw``/``_read``
    with its own fixed timeouts, so reads with a deadline go to the device object)."""

    def __init__(self, kind: str, make: Callable[[], Any], baudrate: int | None) -> None:
        self.kind = kind
        self._make = make
        self.baudrate = baudrate
        self.conn: Any = None

    @property
    def is_open(self) -> bool:
        return self.conn is not None

    def open(self) -> None:
        if self.conn is None:
            conn = self._make()
            conn.open()  # raises escpos DeviceNotFoundError on failure
            self.conn = conn

    def close(self) -> None:
        conn, self.conn = self.conn, None
        if conn is not None:
            with contextlib.suppress(Exception):
                conn.close()

    def write(self, data: bytes, timeout: float) -> None:
        dev = self.conn.device
        if self.kind == "tcp":
            dev.settimeout(timeout)
            dev.sendall(data)
        elif self.kind == "serial":
            dev.write_timeout = timeout
            if dev.write(data) != len(data):
                raise OSError("serial write incomplete")
            dev.flush()
        else:
            self.conn._raw(data)

    def read(self, timeout: float) -> bytes:
        """Up to 16 bytes, waiting at most ``timeout``; b"" when nothing came."""
        dev = self.conn.device
        if self.kind == "tcp":
            dev.settimeout(timeout)
            try:
                data = dev.recv(16)
            except (TimeoutError, BlockingIOError):
                return b""
            if not data:
                raise ConnectionResetError("printer closed the connection")
            return data
        if self.kind == "serial":
            dev.timeout = timeout
            return dev.read(1)
        if self.kind == "usb":
            try:
                return bytes(dev.read(self.conn.in_ep, 16, int(timeout * 1000)))
            except Exception:  # pyusb raises a timeout as USBTimeoutError (a USBError)
                return b""
        return b""  # CUPS spools: the printer cannot answer through it

    def drain(self) -> None:
        """Drop stale bytes (a late reply, automatic status) before asking again."""
        with contextlib.suppress(TimeoutError):
            while self.read(0.0):
                pass


def _parse_url(url: str) -> tuple[str, Callable[[], Any], dict[str, str], int | None]:
    parts = urlsplit(url)
    opts = {k: v[-1] for k, v in parse_qs(parts.query).items()}
    scheme = parts.scheme.lower()
    if scheme == "tcp":
        from escpos.printer import Network

        if not parts.hostname:
            raise PrinterError(f"no host in printer URL {url!r}", code="printer.bad_url")
        host, port = parts.hostname, parts.port or 9100
        timeout = float(opts.get("timeout", "3"))
        return "tcp", lambda: Network(host, port, timeout=timeout), opts, None
    if scheme == "serial":
        from escpos.printer import Serial

        path = parts.path or parts.netloc
        if not path:
            raise PrinterError(f"no device in printer URL {url!r}", code="printer.bad_url")
        baud = int(opts.get("baudrate", "9600"))  # python-escpos's default, and most printers'
        return "serial", lambda: Serial(path, baudrate=baud, timeout=1), opts, baud
    if scheme == "usb":
        from escpos.printer import Usb

        try:
            vid, pid = (int(x, 16) for x in parts.netloc.split(":"))
        except ValueError as err:
            raise PrinterError(
                f"USB URL must be usb://VID:PID in hex, got {url!r}", code="printer.bad_url"
            ) from err
        return "usb", lambda: Usb(vid, pid, timeout=0), opts, None
    if scheme == "cups":
        from escpos.printer import CupsPrinter

        queue = parts.netloc or parts.path.strip("/")
        return "cups", lambda: CupsPrinter(queue), opts, None
    raise PrinterError(
        f"unsupported printer URL {url!r}: use tcp://, serial://, usb:// or cups://",
        code="printer.bad_url",
    )


class TicketPrinter:
    def __init__(
        self,
        link: _Link,
        *,
        url: str = "",
        paper: str = "80",
        encoding: str = "gb18030",
        mode: str = "text",
        status_timeout_s: float = DEFAULT_STATUS_TIMEOUT_S,
        ack_timeout_s: float | None = None,
    ) -> None:
        if mode not in ("text", "image", "auto"):
            raise PrinterError(
                f"mode must be text, image or auto, got {mode!r}", code="printer.bad_url"
            )
        self._link = link
        self.url = url
        self.paper = paper
        self.encoding = normalize_encoding(encoding)
        self.mode = mode
        self.status_timeout_s = status_timeout_s
        self.ack_timeout_s = ack_timeout_s
        self.last_status: PrinterStatus | None = None

    @classmethod
    def from_url(cls, url: str, **overrides: Any) -> TicketPrinter:
        kind, make, opts, baud = _parse_url(url)
        kwargs: dict[str, Any] = {k: opts[k] for k in ("paper", "encoding", "mode") if k in opts}
        kwargs.update(overrides)
        return cls(_Link(kind, make, baud), url=url, **kwargs)

    # ------------------------------------------------------------ connection

    def open(self) -> None:
        try:
            self._link.open()
        except Exception as err:  # escpos raises its own DeviceNotFoundError, or OSError
            self._link.close()
            raise PrinterError(
                f"cannot open printer {self.url}: {err}",
                code=PrinterStatus.NOT_THERE.code,
                status=PrinterStatus.NOT_THERE,
            ) from err

    def close(self) -> None:
        self._link.close()

    def __enter__(self) -> TicketPrinter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------ status

    def status(self) -> PrinterStatus:
        """The printer state now; reconnects once if the link broke since last time."""
        return self.status_report()[0]

    def status_report(self) -> tuple[PrinterStatus, StatusFlags | None]:
        if self._link.kind == "cups":
            raise PrinterError(
                "a CUPS queue cannot report the printer's status", code="printer.status_unsupported"
            )
        for attempt in (1, 2):
            try:
                self.open()
                return self._query(self.status_timeout_s)
            except PrinterError:
                if attempt == 2:
                    self.last_status = PrinterStatus.NOT_THERE
                    return PrinterStatus.NOT_THERE, None
            except OSError:
                self._link.close()  # a dead link: reconnect and ask once more
        self.last_status = PrinterStatus.NOT_THERE
        return PrinterStatus.NOT_THERE, None

    def _query(self, first_timeout: float) -> tuple[PrinterStatus, StatusFlags | None]:
        """Ask DLE EOT 1..4 one by one; the first wait can be long (after a big job)."""
        self._link.drain()
        replies: dict[int, int] = {}
        timeout = first_timeout
        for n in QUERIES:
            self._link.write(status_query(n), timeout=max(timeout, 1.0))
            b = self._read_status_byte(timeout)
            if b is None:
                self.last_status = PrinterStatus.NOT_THERE
                return PrinterStatus.NOT_THERE, None
            replies[n] = b
            timeout = self.status_timeout_s
        try:
            flags = parse_status(replies)
        except BadStatusReply:
            self.last_status = PrinterStatus.NOT_THERE
            return PrinterStatus.NOT_THERE, None
        state = state_of(flags)
        self.last_status = state
        return state, flags

    def _read_status_byte(self, timeout: float) -> int | None:
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            data = self._link.read(left)
            for b in data:
                if is_status_byte(b):  # skip noise; keep the first plausible reply
                    return b

    # ------------------------------------------------------------ printing

    def render(self, info: TicketInfo) -> tuple[bytes, str]:
        """The bytes for a ticket and the mode used: "text", "image", or "hybrid" (auto
        mode: text, with only the lines the printer font lacks sent as raster)."""
        if self.mode == "image":
            from devices.printer.image import render_ticket_image

            return render_ticket_image(info, self.paper), "image"
        if self.mode == "auto":
            els = ticket_elements(info, self.paper, self.encoding)  # type: ignore[arg-type]
            if needs_image(els, self.encoding):
                from devices.printer.image import render_ticket_hybrid

                return render_ticket_hybrid(info, self.paper, self.encoding), "hybrid"
        return render_ticket(info, self.paper, self.encoding), "text"  # type: ignore[arg-type]

    def print_ticket(self, info: TicketInfo) -> PrintResult:
        data, mode = self.render(info)
        return self.print_job(data, mode)

    def print_guide(self, guide: GuideInfo) -> PrintResult:
        if self.mode == "image":
            from devices.printer.image import render_guide_image

            return self.print_job(render_guide_image(guide, self.paper), "image")
        if self.mode == "auto":
            els = guide_elements(guide, self.paper, self.encoding)  # type: ignore[arg-type]
            if needs_image(els, self.encoding):
                from devices.printer.image import render_guide_hybrid

                return self.print_job(
                    render_guide_hybrid(guide, self.paper, self.encoding), "hybrid"
                )
        return self.print_job(render_guide(guide, self.paper, self.encoding), "text")  # type: ignore[arg-type]

    def ack_timeout_for(self, n_bytes: int) -> float:
        if self.ack_timeout_s is not None:
            return self.ack_timeout_s
        if self._link.baudrate:  # serial: 10 bits a byte, plus half again for slack
            return self.status_timeout_s + 1.5 * n_bytes * 10 / self._link.baudrate
        return self.status_timeout_s + 2.0 + n_bytes / TCP_MIN_BYTES_PER_S

    def print_job(self, data: bytes, mode: str = "text") -> PrintResult:
        """Send a complete job (ESC @ … cut) with status checks before and after."""
        if self._link.kind == "cups":
            return self._spool(data, mode)
        before, _ = self.status_report()
        if not before.is_printable():
            raise PrinterError(
                f"printer refused the ticket before printing: {before.message('en')}",
                code=before.code,
                status=before,
            )
        start = time.monotonic()
        try:
            self._link.write(data, timeout=self.ack_timeout_for(len(data)))
        except OSError as err:
            self._link.close()
            raise PrinterError(
                "link lost while sending the ticket; it may be partly printed: "
                "check the printer before printing it again",
                code="printer.link_lost",
                status=PrinterStatus.NOT_THERE,
            ) from err
        try:
            after, _ = self._query(self.ack_timeout_for(len(data)))
        except OSError:
            self._link.close()
            after = PrinterStatus.NOT_THERE
        elapsed = time.monotonic() - start
        if after is PrinterStatus.NOT_THERE:
            self._link.close()  # re-open next time rather than read a late reply as status
            raise PrinterError(
                "the printer did not confirm the ticket (no status reply after sending); "
                "it may not be printed",
                code="printer.not_confirmed",
                status=after,
            )
        if not after.is_printable():
            raise PrinterError(
                f"ticket not printed: {after.message('en')}", code=after.code, status=after
            )
        warnings = tuple(s for s in (before, after) if s in WARNING_STATES)
        return PrintResult(True, after, mode, len(data), elapsed, tuple(dict.fromkeys(warnings)))

    def _spool(self, data: bytes, mode: str) -> PrintResult:
        """CUPS takes the job for its queue; whether paper came out is not knowable here."""
        start = time.monotonic()
        try:
            self.open()
            self._link.conn._raw(data)
            self._link.conn.close()  # CupsPrinter submits the job on close
        except PrinterError:
            raise
        except Exception as err:
            raise PrinterError(
                f"CUPS did not take the job: {err}",
                code="printer.cups_error",
                status=PrinterStatus.NOT_THERE,
            ) from err
        finally:
            self._link.conn = None
        return PrintResult(False, PrinterStatus.OK, mode, len(data), time.monotonic() - start)

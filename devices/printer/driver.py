"""Ticket printer driver: DLE EOT status around every job, and honest print results.

URLs: see ``link.py`` (``tcp://``, ``serial:``, ``usb://``, ``cups://``). Common query
options: ``paper=58|80``, ``encoding=gb18030|gbk|big5|utf-8``, ``mode=text|image|auto``
(auto: text, with lines needing glyphs a GB font lacks — rare CJK, emoji — sent as raster).

``print_ticket`` reads the status before sending (refuses unless OK or paper near end) and
after sending, waiting as long as the link needs to carry the bytes; the ticket is reported
printed only when the printer answered OK after it took the whole ticket. No answer is "not
there", never "paper OK". A broken link is closed and re-opened on the next call.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from devices.printer.codec import (
    QUERIES,
    WARNING_STATES,
    PrinterStatus,
    StatusFlags,
    is_status_byte,
    parse_status,
    state_of,
    status_query,
)
from devices.printer.elements import Element
from devices.printer.encode import encode_elements
from devices.printer.errors import BadStatusReply, PrinterError
from devices.printer.layout import GuideInfo, TicketInfo, guide_elements, ticket_elements
from devices.printer.link import Link, open_link
from devices.printer.text import needs_image, normalize_encoding

__all__ = ["PrintResult", "PrinterError", "PrinterStatus", "TicketPrinter"]

DEFAULT_STATUS_TIMEOUT_S = 1.0
TCP_MIN_BYTES_PER_S = 20_000  # a LAN printer slower than this is treated as not confirming


@dataclass(frozen=True)
class PrintResult:
    printed: bool
    status: PrinterStatus
    mode: str  # "text", "image" or "hybrid"
    bytes_sent: int
    elapsed_s: float  # from the first byte sent to the printer's acknowledgement
    warnings: tuple[PrinterStatus, ...] = field(default=())


def render_job(
    elements_in: Callable[[str], list[Element]], paper: str, encoding: str, mode: str
) -> tuple[bytes, str]:
    """A ticket or guide (``elements_in(encoding)`` lays it out) as the bytes for ``mode``,
    and the mode used: "text", "image", or "hybrid" (auto mode: text, with only the lines
    the printer font lacks sent as raster)."""
    if mode == "image":
        from devices.printer.image import image_job

        return image_job(elements_in("gb18030"), paper), "image"
    elements = elements_in(encoding)
    if mode == "auto" and needs_image(elements, encoding):
        from devices.printer.image import hybrid_elements

        return encode_elements(hybrid_elements(elements, paper, encoding), encoding), "hybrid"
    return encode_elements(elements, encoding), "text"


def render_ticket_image(info: TicketInfo, paper: str = "80") -> bytes:
    """The ticket as raster bands: works on any ESC/POS printer, ≈100× the bytes."""
    return render_job(lambda enc: ticket_elements(info, paper, enc), paper, "gb18030", "image")[0]


def render_ticket_hybrid(info: TicketInfo, paper: str = "80", encoding: str = "gb18030") -> bytes:
    """The ticket as text, with the lines a GB font cannot print as raster."""
    return render_job(lambda enc: ticket_elements(info, paper, enc), paper, encoding, "auto")[0]


class TicketPrinter:
    def __init__(
        self,
        link: Link,
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
        link, opts = open_link(url)
        kwargs: dict[str, Any] = {k: opts[k] for k in ("paper", "encoding", "mode") if k in opts}
        kwargs.update(overrides)
        return cls(link, url=url, **kwargs)

    # ------------------------------------------------------------ connection

    def open(self) -> None:
        try:
            self._link.open()
        except Exception as err:  # OSError, pyserial's SerialException, escpos's own errors
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
        if not self._link.answers:
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
        """The bytes for a ticket in this printer's mode, and the mode used."""
        return render_job(
            lambda enc: ticket_elements(info, self.paper, enc), self.paper, self.encoding, self.mode
        )

    def print_ticket(self, info: TicketInfo) -> PrintResult:
        return self.print_job(*self.render(info))

    def print_guide(self, guide: GuideInfo) -> PrintResult:
        return self.print_job(
            *render_job(
                lambda enc: guide_elements(guide, self.paper, enc),
                self.paper,
                self.encoding,
                self.mode,
            )
        )

    def ack_timeout_for(self, n_bytes: int) -> float:
        if self.ack_timeout_s is not None:
            return self.ack_timeout_s
        if self._link.baudrate:  # serial: 10 bits a byte, plus half again for slack
            return self.status_timeout_s + 1.5 * n_bytes * 10 / self._link.baudrate
        return self.status_timeout_s + 2.0 + n_bytes / TCP_MIN_BYTES_PER_S

    def print_job(self, data: bytes, mode: str = "text") -> PrintResult:
        """Send a complete job (ESC @ … cut) with status checks before and after."""
        if not self._link.answers:
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
        self.open()
        try:
            self._link.write(data, timeout=self.ack_timeout_for(len(data)))
        except Exception as err:  # pycups raises its own IPPError
            raise PrinterError(
                f"CUPS did not take the job: {err}",
                code="printer.cups_error",
                status=PrinterStatus.NOT_THERE,
            ) from err
        return PrintResult(False, PrinterStatus.OK, mode, len(data), time.monotonic() - start)

"""Errors of the ticket printer, each with a stable code the kiosk and the health view act on.

``PrinterError`` is the family; the printer's own states give their codes through
``PrinterStatus.code`` (``printer.paper_end``, ``printer.cover_open``, …, raised with the
state in ``status``). The text for each code is in ``common/assets/locales/printer.toml``
(key = code without the ``printer.`` prefix). Messages are for technicians and logs.
"""

from __future__ import annotations

from typing import Any

from devices.errors import DeviceError


class PrinterError(DeviceError):
    """A ticket that was not (or not surely) printed; ``status`` is the printer state when
    the printer told one. Codes: the states' (above), ``printer.bad_url``,
    ``printer.link_lost`` (gone while sending: it may be partly printed),
    ``printer.not_confirmed`` (no status after sending), ``printer.status_unsupported``
    and ``printer.cups_error`` (CUPS queues)."""

    code = "printer.error"

    def __init__(self, message: str, *, code: str | None = None, status: Any = None) -> None:
        super().__init__(message, code=code)
        # a devices.printer.codec.PrinterStatus; not imported, so that the codec may import
        # its errors from here without a cycle
        self.status = status


class LayoutError(PrinterError):
    """A ticket that cannot be laid out (a caller bug): nothing was sent to the printer.
    Codes: ``printer.bad_ticket``, ``printer.bad_paper``, ``printer.bad_encoding``."""

    code = "printer.bad_ticket"


class FontMissing(PrinterError):
    """Image mode needs a CJK font and none is installed."""

    code = "printer.no_cjk_font"


class BadStatusReply(PrinterError):
    """A reply byte that cannot be a DLE EOT answer (line noise, a wrong device)."""

    code = "printer.bad_status_reply"

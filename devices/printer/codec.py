"""DLE EOT real-time status: queries, replies and the printer state they mean. Pure, no I/O.

Query ``10 04 n`` (n = 1..4); the printer answers one byte in which bit 1 and bit 4 are
always set and bits 0 and 7 always clear (healthy: 0x12). Meaning of the other bits::

    n=1 printer  bit3 offline
    n=2 offline  bit2 cover open, bit5 stopped by paper end, bit6 error
    n=3 error    bit3 autocutter error, bit5 unrecoverable error
    n=4 paper    bits 2+3 (0x0C) paper near end, bits 5+6 (0x60) paper end

No reply means the printer is not there — never "paper OK" (python-escpos's
``paper_status()`` trap). A byte that breaks the fixed-bit pattern is not a status reply.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from common.i18n import t
from devices.printer.errors import BadStatusReply

QUERIES = (1, 2, 3, 4)
_FIXED_MASK, _FIXED_VALUE = 0x93, 0x12  # bits 0,1,4,7 must read 0,1,1,0


def status_query(n: int) -> bytes:
    if n not in QUERIES:
        raise ValueError(f"DLE EOT n must be 1..4, got {n}")
    return bytes([0x10, 0x04, n])


def is_status_byte(b: int) -> bool:
    return b & _FIXED_MASK == _FIXED_VALUE


@dataclass(frozen=True)
class StatusFlags:
    offline: bool = False
    cover_open: bool = False
    stopped_by_paper_end: bool = False
    error: bool = False
    cutter_error: bool = False
    unrecoverable: bool = False
    paper_near_end: bool = False
    paper_end: bool = False


def parse_status(replies: dict[int, int]) -> StatusFlags:
    """Replies to queries 1..4 (by n) → flags. Missing queries count as all clear only
    because the caller decides what a missing reply means (``state_of`` needs all four)."""
    for n, b in replies.items():
        if n not in QUERIES:
            raise BadStatusReply(f"no DLE EOT query {n}")
        if not is_status_byte(b):
            raise BadStatusReply(f"0x{b:02X} is not a DLE EOT {n} reply")
    r1, r2, r3, r4 = (replies.get(n, 0x12) for n in QUERIES)
    return StatusFlags(
        offline=bool(r1 & 0x08),
        cover_open=bool(r2 & 0x04),
        stopped_by_paper_end=bool(r2 & 0x20),
        error=bool(r2 & 0x40),
        cutter_error=bool(r3 & 0x08),
        unrecoverable=bool(r3 & 0x20),
        paper_near_end=bool(r4 & 0x0C),
        paper_end=bool(r4 & 0x60),
    )


def encode_status(flags: StatusFlags) -> dict[int, int]:
    """Flags → the reply bytes a printer in that state sends (used by the simulator)."""
    return {
        1: 0x12 | (0x08 if flags.offline else 0),
        2: 0x12
        | (0x04 if flags.cover_open else 0)
        | (0x20 if flags.stopped_by_paper_end else 0)
        | (0x40 if flags.error else 0),
        3: 0x12 | (0x08 if flags.cutter_error else 0) | (0x20 if flags.unrecoverable else 0),
        4: 0x12 | (0x0C if flags.paper_near_end else 0) | (0x60 if flags.paper_end else 0),
    }


class PrinterStatus(Enum):
    OK = "ok"
    PAPER_NEAR_END = "paper_near_end"
    PAPER_END = "paper_end"
    COVER_OPEN = "cover_open"
    OFFLINE = "offline"
    CUTTER_ERROR = "cutter_error"
    UNRECOVERABLE = "unrecoverable"
    ERROR = "error"
    NOT_THERE = "not_there"

    @property
    def code(self) -> str:
        """Stable error code (``printer.paper_end``) for PrinterError and heartbeats."""
        return f"printer.{self.value}"

    def message(self, lang: str = "zh") -> str:
        """What staff are told: the text of ``code`` in the printer catalogue."""
        return t("printer", self.value, lang)

    def is_printable(self) -> bool:
        return self in PRINTABLE_STATES

    def is_error(self) -> bool:
        return self in ERROR_STATES


PRINTABLE_STATES = frozenset({PrinterStatus.OK, PrinterStatus.PAPER_NEAR_END})
WARNING_STATES = frozenset({PrinterStatus.PAPER_NEAR_END})
ERROR_STATES = frozenset(PrinterStatus) - PRINTABLE_STATES


def state_of(flags: StatusFlags) -> PrinterStatus:
    """The one state to act on, most severe first: a cover-open printer also reports
    offline and often paper end, and the cover is what staff must fix first."""
    if flags.unrecoverable:
        return PrinterStatus.UNRECOVERABLE
    if flags.cutter_error:
        return PrinterStatus.CUTTER_ERROR
    if flags.cover_open:
        return PrinterStatus.COVER_OPEN
    if flags.paper_end or flags.stopped_by_paper_end:
        return PrinterStatus.PAPER_END
    if flags.error:
        return PrinterStatus.ERROR
    if flags.offline:
        return PrinterStatus.OFFLINE
    if flags.paper_near_end:
        return PrinterStatus.PAPER_NEAR_END
    return PrinterStatus.OK

"""What a ticket is made of, between its layout and the printer: lines of styled spans, a
native QR code, feeds, the cut and raster bands. Pure, no I/O.

``layout`` builds these from a ticket, ``encode`` turns them into ESC/POS bytes, ``image``
draws them, and ``decode`` recovers them from bytes (the simulator's and the tests' view).

Paper: "58" = 384 dots / 32 columns, "80" = 576 dots / 48 columns (12-dot Latin cells,
24-dot Chinese cells).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, cast

from devices.printer.errors import LayoutError

Paper = Literal["58", "80"]
Align = Literal["left", "center", "right"]

PAPER_DOTS: dict[str, int] = {"58": 384, "80": 576}
PAPER_COLUMNS: dict[str, int] = {"58": 32, "80": 48}


def check_paper(paper: str) -> Paper:
    paper = str(paper)
    if paper not in PAPER_DOTS:
        raise LayoutError(f"paper must be '58' or '80', got {paper!r}", code="printer.bad_paper")
    return cast(Paper, paper)  # checked just above: PAPER_DOTS has exactly the Paper values


@dataclass(frozen=True)
class Span:
    text: str
    width: int = 1  # GS ! multipliers, 1..8
    height: int = 1
    bold: bool = False


@dataclass(frozen=True)
class Line:
    spans: tuple[Span, ...]
    align: Align = "left"

    @property
    def text(self) -> str:
        return "".join(s.text for s in self.spans)


@dataclass(frozen=True)
class Qr:
    payload: str
    module: int = 6


@dataclass(frozen=True)
class Feed:
    lines: int


@dataclass(frozen=True)
class Cut:
    partial: bool = True


@dataclass(frozen=True)
class Raster:
    """A GS v 0 bit image: rows of ``width_bytes`` bytes, MSB = leftmost dot, 1 = black."""

    width_bytes: int
    height: int
    data: bytes = field(repr=False)


Element = Line | Qr | Feed | Cut | Raster

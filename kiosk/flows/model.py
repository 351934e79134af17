"""What the flow shows (``View``), what it asks the outside world to do (effects) and what
comes back (``CardData``). Plain data, no Kivy, no I/O."""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass, field
from typing import Any


class Screen(enum.StrEnum):
    ATTRACT = "attract"
    HOME = "home"
    ID_CARD = "id_card"
    KEYPAD = "keypad"  # manual ID number, queue-status code or admin PIN
    FACE = "face"
    ISSUING = "issuing"
    TICKET = "ticket"
    MESSAGE = "message"
    GUIDE_LIST = "guide_list"
    GUIDE = "guide"
    STATUS = "status"
    MAINTENANCE = "maintenance"


# Screens where nothing is being done for a citizen: no idle warning, nothing to forget.
RESTING_SCREENS = frozenset({Screen.ATTRACT, Screen.HOME})
# Screens waiting on the hall: the idle timeout must not throw away a ticket being issued.
BUSY_SCREENS = frozenset({Screen.ISSUING})

# Device part states of the hall API heartbeat (PartState).
PART_STATES = ("ok", "warning", "error", "offline", "absent")
WORKING_PART_STATES = frozenset({"ok", "warning"})


@dataclass(frozen=True)
class Tile:
    code: str
    name: str
    name_en: str
    prefix: str
    open: bool
    requires_id: bool
    requires_face: bool
    waiting: int | None  # None: unknown (hall unreachable)
    materials: tuple[str, ...] = ()
    materials_en: tuple[str, ...] = ()

    def label(self, lang: str) -> str:
        return self.name_en if lang == "en" and self.name_en else self.name


@dataclass(frozen=True)
class TicketView:
    number: str
    service_name: str
    waiting_ahead: int | None
    estimated_wait_s: int | None
    issued_at: dt.datetime
    offline: bool
    qr_payload: str
    ticket_id: int | None = None
    priority: str | None = None
    name_masked: str | None = None
    printing: bool = True
    print_failed: bool = False


@dataclass(frozen=True)
class View:
    screen: Screen
    lang: str = "zh"
    elderly: bool = False
    title: str = ""
    message: str = ""
    message_error: bool = False
    tiles: tuple[Tile, ...] = ()
    service: Tile | None = None
    keypad_mode: str = ""  # "id", "status", "pin"
    keypad_text: str = ""  # what the keypad shows (masked for ID numbers and PINs)
    keypad_keys: str = ""  # keys offered: "0123456789X"; for status also letters and "-"
    ticket: TicketView | None = None
    guide: Tile | None = None
    status_lines: tuple[str, ...] = ()
    offline: bool = False
    idle_warning: bool = False
    greeting: str = ""  # "张*三，您好" from the card: masked, gone at the next reset
    can_manual: bool = False
    pending_uploads: int = 0
    parts: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class CardData:
    """What the flow needs of an ID card. The whole ID number lives only here, in memory,
    for one citizen; ``repr`` masks it."""

    id_number: str
    name: str
    name_masked: str
    photo_wlt: bytes = b""

    def __repr__(self) -> str:
        return f"CardData({self.name_masked!r})"


# -- effects: what the flow asks the runtime to do -----------------------------------------
@dataclass(frozen=True)
class Effect:
    token: int
    """The citizen session it belongs to; results for an older session are ignored."""


@dataclass(frozen=True)
class Say(Effect):
    text: str
    lang: str
    elderly: bool


@dataclass(frozen=True)
class StopVoice(Effect):
    pass


@dataclass(frozen=True)
class ReadCard(Effect):
    timeout_s: float


@dataclass(frozen=True)
class CancelCard(Effect):
    pass


@dataclass(frozen=True)
class CaptureFace(Effect):
    photo_wlt: bytes = field(repr=False)


@dataclass(frozen=True)
class CancelFace(Effect):
    pass


@dataclass(frozen=True)
class PrepareFace(Effect):
    """A citizen chose a face-checked service: load the face models now, in the background,
    while they place their card (~40 MB that a kiosk never using them should not carry)."""


@dataclass(frozen=True)
class IssueTicket(Effect):
    service: str
    id_number: str | None = field(default=None, repr=False)
    name: str | None = field(default=None, repr=False)
    priority: str | None = None
    idempotency_key: str = ""


@dataclass(frozen=True)
class IssueOffline(Effect):
    service: str
    prefix: str
    name_masked: str | None = None
    withdraw_key: str = ""
    """Idempotency-Key of the online issue that failed without an answer: the hall may have
    issued it, so the runtime journals it and cancels it when the hall is back."""


@dataclass(frozen=True)
class CheckIn(Effect):
    id_number: str = field(repr=False)


@dataclass(frozen=True)
class PrintTicket(Effect):
    ticket: TicketView
    service_name: str = ""  # Chinese name for the paper, whatever the screen language
    service_name_en: str = ""


@dataclass(frozen=True)
class PrintGuide(Effect):
    service: Tile


@dataclass(frozen=True)
class QueryTicket(Effect):
    ticket_id: int | None = None  # the 查询码 / QR code path
    number: str = ""  # today's number as printed big on the ticket (A012, K1-A003)


@dataclass(frozen=True)
class HelpRequest(Effect):
    reason: str


@dataclass(frozen=True)
class Heartbeat(Effect):
    parts: dict[str, str]


@dataclass(frozen=True)
class PollDevices(Effect):
    pass


@dataclass(frozen=True)
class LoadServices(Effect):
    pass


@dataclass(frozen=True)
class UploadJournal(Effect):
    pass


@dataclass(frozen=True)
class TestReader(Effect):
    pass


@dataclass(frozen=True)
class Quit(Effect):
    restart: bool = False


def tile_from_config(s: Any, waiting: int | None = None) -> Tile:
    """A tile from a ``[[service]]`` of the hall config (``hall.config.Service``), before
    the hall has said how many wait."""
    return Tile(
        s.code,
        s.name,
        s.name_en,
        s.prefix,
        s.open,
        s.requires_id,
        s.requires_face,
        waiting,
        s.materials,
        s.materials_en,
    )


def tile_from_api(s: dict[str, Any]) -> Tile:
    return Tile(
        code=s["code"],
        name=s["name"],
        name_en=s.get("name_en", ""),
        prefix=s.get("prefix", s["code"]),
        open=bool(s.get("open", True)),
        requires_id=bool(s.get("requires_id")),
        requires_face=bool(s.get("requires_face")),
        waiting=s.get("waiting"),
        materials=tuple(s.get("materials", ())),
        materials_en=tuple(s.get("materials_en", ())),
    )

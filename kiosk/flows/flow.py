"""The kiosk's flow: one plain-Python object that decides every transition.

Screens call one method per input (a tap, a key, a tick of the clock) and the runtime calls
one ``on_*`` method per result (a card read, a ticket issued, a print confirmed). Each
returns the effects to run next (``model.py``); the flow itself does no I/O, so it is tested
completely without a window, a device or a network.

Rules it keeps:
- a ticket the hall issued is always shown (the ticket screen appears before printing, and a
  print failure keeps it on screen with a QR code);
- personal data (the card, the typed ID number) lives only in this object for one citizen and
  is dropped on every return home;
- when the hall is unreachable tickets are issued from the offline journal, and said so.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from common.i18n import t
from common.personal import InvalidIdNumber, age_on, mask_name, validate_id_number
from devices.voice.errors import VoiceInputError
from devices.voice.normalize import speak_ticket_number
from kiosk.flows.model import (
    BUSY_SCREENS,
    RESTING_SCREENS,
    CancelCard,
    CancelFace,
    CaptureFace,
    CardData,
    CheckIn,
    Effect,
    Heartbeat,
    HelpRequest,
    IssueOffline,
    IssueTicket,
    LoadServices,
    PollDevices,
    PrepareFace,
    PrintGuide,
    PrintTicket,
    QueryTicket,
    Quit,
    ReadCard,
    Say,
    Screen,
    TestReader,
    TicketView,
    Tile,
    UploadJournal,
    View,
    tile_from_api,
)
from kiosk.settings import KioskSettings

Clock = Callable[[], dt.datetime]

# Hall refusal codes with their own text; anything else gets the generic one.
REFUSALS = (
    "daily_limit",
    "id_required",
    "invalid_id_number",
    "service_closed",
    "no_appointment",
    "already_checked_in",
    "too_early",
    "too_late",
    "unknown_service",
)
# Reader failures after which trying the card again can help.
CARD_RETRY_CODES = frozenset({"idcard.read_failed", "idcard.garbled", "idcard.no_card"})
CORNER_TAPS = 5  # taps on the hidden corner within CORNER_WINDOW_S open the PIN pad
CORNER_WINDOW_S = 4.0
PIN_ATTEMPTS = 3
STATUS_MAX = 12
# A number as printed on the ticket: service prefix letters then digits (A012), optionally
# behind a kiosk's offline prefix and a dash (K1-A003).
_TICKET_NUMBER_RE = re.compile(r"^(?:([A-Z][A-Z0-9]{0,5})-)?([A-Z]{1,3})(\d{1,4})$")


class KioskFlow:
    def __init__(
        self,
        settings: KioskSettings,
        hall_name: str,
        hall_name_en: str,
        services: list[Tile],
        *,
        clock: Clock,
        elderly_age: int = 60,
        hall_id: str = "hall",
    ) -> None:
        self.settings = settings
        self.hall_name, self.hall_name_en, self.hall_id = hall_name, hall_name_en, hall_id
        self.clock = clock
        self.elderly_age = elderly_age
        self.tiles: tuple[Tile, ...] = tuple(services)
        self.lang = settings.lang
        self.elderly = False
        self.offline = False
        self.parts: dict[str, str] = {}
        self.pending_uploads = 0
        self.pending_withdrawals = 0  # lost-answer tickets to cancel at the hall
        self.token = 1
        self._screen = Screen.ATTRACT
        self._last_touch = clock()
        self._last_heartbeat: dt.datetime | None = None
        self._last_services: dt.datetime | None = None
        self._sent_parts: dict[str, str] = {}
        self._corner: list[dt.datetime] = []
        self._pin_failures = 0
        self._auto_elderly_session = False
        self._reset_citizen()
        self.view = self._render()

    # -- citizen state ----------------------------------------------------------------------
    def _reset_citizen(self) -> None:
        """Forget everything about the citizen: card, typed number, ticket, messages."""
        self._purpose = ""  # "ticket", "checkin"
        self._service: Tile | None = None
        self._card: CardData | None = None
        self._manual_id: str | None = None
        self._keypad_mode = ""
        self._keys = ""
        self._message = ""
        self._message_error = False
        self._ticket: TicketView | None = None
        self._guide: Tile | None = None
        self._status_lines: tuple[str, ...] = ()
        self._idle_warned = False
        self._face_attempts = 0
        self._issue_key = ""

    def _txt(self, key: str, **values: Any) -> str:
        return t("kiosk", key, self.lang, **values)

    def _say(self, text: str) -> Say:
        return Say(self.token, text, self.lang, self.elderly)

    def _go(
        self, screen: Screen, message: str = "", *, error: bool = False, speak: bool = True
    ) -> list[Effect]:
        self._screen = screen
        self._message, self._message_error = message, error
        self.view = self._render()
        return [self._say(message)] if message and speak else []

    def _render(self) -> View:
        keys_shown = self._keys
        if self._keypad_mode == "pin":
            keys_shown = "●" * len(self._keys)
        elif self._keypad_mode == "id":
            keys_shown = mask_typed_id(self._keys)
        title = {
            Screen.ID_CARD: "title_id_card",
            Screen.FACE: "title_face",
            Screen.TICKET: "title_ticket",
            Screen.GUIDE_LIST: "title_guide",
            Screen.GUIDE: "title_guide",
            Screen.STATUS: "title_status",
            Screen.MAINTENANCE: "title_maintenance",
            Screen.ISSUING: "title_issuing",
            Screen.KEYPAD: f"title_keypad_{self._keypad_mode or 'id'}",
        }.get(self._screen, "title_home")
        person = self._card.name_masked if self._card else ""
        return View(
            screen=self._screen,
            lang=self.lang,
            elderly=self.elderly,
            title=self._txt(title),
            message=self._message,
            message_error=self._message_error,
            tiles=self.tiles,
            service=self._service,
            keypad_mode=self._keypad_mode,
            keypad_text=keys_shown,
            keypad_keys=self._keypad_keys(),
            ticket=self._ticket,
            guide=self._guide,
            status_lines=self._status_lines,
            offline=self.offline,
            idle_warning=self._idle_warned,
            greeting=self._txt("greeting", name=person) if person else "",
            can_manual=self._screen is Screen.ID_CARD,
            pending_uploads=self.pending_uploads,
            parts=dict(self.parts),
        )

    def _keypad_keys(self) -> str:
        if self._keypad_mode == "id":
            return "0123456789X"
        if self._keypad_mode == "status":
            return self._status_letters() + "0123456789-"
        return "0123456789"

    def _status_letters(self) -> str:
        """Only the letters a ticket number can hold here (the hall's prefixes and this
        kiosk's offline prefix): fewer, bigger keys than a whole alphabet."""
        letters = {ch for tile in self.tiles for ch in tile.prefix.upper() if ch.isalpha()}
        letters |= {ch for ch in self.settings.offline_prefix.upper() if ch.isalpha()}
        return "".join(sorted(letters))

    def _touch(self) -> None:
        self._last_touch = self.clock()
        if self._idle_warned:
            self._idle_warned = False

    def _new_session(self) -> list[Effect]:
        """Home, with nothing of the last citizen left; cancels their device work."""
        old = self.token
        self.token += 1
        cancel: list[Effect] = [CancelCard(old), CancelFace(old)]
        self._reset_citizen()
        # Elderly mode switched on by a card belongs to that citizen only.
        if self._auto_elderly_session:
            self.elderly = False
            self._auto_elderly_session = False
        return cancel

    # -- home and navigation ---------------------------------------------------------------
    def wake(self) -> list[Effect]:
        """A touch on the attract screen."""
        self._touch()
        return self._go(Screen.HOME, self._txt("say_welcome"))

    def home(self) -> list[Effect]:
        self._touch()
        effects = self._new_session()
        return effects + self._go(Screen.HOME, speak=False)

    def toggle_language(self) -> list[Effect]:
        self._touch()
        self.lang = "en" if self.lang == "zh" else "zh"
        self.view = self._render()
        return [self._say(self._txt("say_language"))]

    def toggle_elderly(self) -> list[Effect]:
        self._touch()
        self.elderly = not self.elderly
        self._auto_elderly_session = False
        self.view = self._render()
        return [self._say(self._txt("say_elderly_on" if self.elderly else "say_elderly_off"))]

    def back(self) -> list[Effect]:
        self._touch()
        if self._screen is Screen.GUIDE:
            self._guide = None
            return self._go(Screen.GUIDE_LIST, speak=False)
        if self._screen in BUSY_SCREENS:
            return []  # a ticket is being issued: it must reach the screen
        return self.home()

    # -- take a ticket ----------------------------------------------------------------------
    def tap_service(self, code: str) -> list[Effect]:
        self._touch()
        tile = next((s for s in self.tiles if s.code == code), None)
        if tile is None:
            return []
        if not tile.open:
            return self._go(Screen.MESSAGE, self._txt("refused_service_closed"), error=True)
        self._purpose = "ticket"
        self._service = tile
        self._issue_key = uuid.uuid4().hex
        if tile.requires_face:
            return [PrepareFace(self.token), *self._start_card()]
        if tile.requires_id:
            return self._start_card()
        return self._issue()

    def _start_card(self) -> list[Effect]:
        if self.parts.get("reader") in ("absent", "offline"):
            # plyer's anti-pattern avoided: a missing reader is said, then the keypad.
            return self._open_keypad("id", self._txt("reader_missing"), error=True)
        effects = self._go(Screen.ID_CARD, self._txt("place_card"))
        return [*effects, ReadCard(self.token, self.settings.card_timeout_s)]

    def manual_entry(self) -> list[Effect]:
        self._touch()
        if self._screen is not Screen.ID_CARD:
            return []
        return [CancelCard(self.token), *self._open_keypad("id", self._txt("enter_id"))]

    def on_card(self, token: int, card: CardData) -> list[Effect]:
        if token != self.token or self._screen is not Screen.ID_CARD:
            return []
        self._touch()
        self._card = card
        effects: list[Effect] = []
        if self._is_elderly(card.id_number) and not self.elderly:
            self.elderly = True
            self._auto_elderly_session = True
        return effects + self._after_identity()

    def _is_elderly(self, id_number: str) -> bool:
        try:
            return age_on(id_number, self.clock().date()) >= self.elderly_age
        except ValueError:
            return False

    def on_card_failed(self, token: int, code: str) -> list[Effect]:
        if token != self.token or self._screen is not Screen.ID_CARD:
            return []
        if code == "idcard.cancelled":
            return []
        key = code.removeprefix("idcard.")
        if code == "idcard.no_reader":
            self.parts["reader"] = "offline"
            return self._open_keypad("id", self._txt("reader_missing"), error=True)
        if code in CARD_RETRY_CODES:
            text = t("idcard", key, self.lang)
            return [
                *self._go(Screen.ID_CARD, text, error=True),
                ReadCard(self.token, self.settings.card_timeout_s),
            ]
        # A card the reader cannot use (unknown type, invalid data, SAM fault): keypad.
        try:
            text = t("idcard", key, self.lang)
        except KeyError:
            text = self._txt("card_unreadable")
        if code == "idcard.sam_fault":
            self.parts["reader"] = "error"
        return self._open_keypad("id", text, error=True)

    def _after_identity(self) -> list[Effect]:
        """Card read or number typed: face check when needed, then issue / check in."""
        tile = self._service
        if self._purpose == "ticket" and tile is not None and tile.requires_face:
            if self._card is None or not self._card.photo_wlt:
                # A typed number has no photo to compare a face with.
                return self._face_unavailable("face_needs_card")
            if self.parts.get("camera") in ("absent", "offline", "error"):
                return self._face_unavailable("camera_missing")
            self._face_attempts += 1
            effects = self._go(Screen.FACE, self._txt("face_prompt"))
            return [*effects, CaptureFace(self.token, self._card.photo_wlt)]
        if self._purpose == "checkin":
            return self._check_in()
        return self._issue()

    def _face_unavailable(self, key: str) -> list[Effect]:
        if self.settings.face_fallback == "skip":
            return [self._say(self._txt("face_skipped")), *self._issue()]
        return self._go(Screen.MESSAGE, self._txt(key), error=True)

    def on_face(self, token: int, decision: str) -> list[Effect]:
        """``decision``: match, no_match, uncertain, unavailable, no_face (no good frame)."""
        if token != self.token or self._screen is not Screen.FACE:
            return []
        self._touch()
        if decision == "match":
            return [self._say(self._txt("face_ok")), *self._issue()]
        if decision in ("no_match", "no_face") and self._face_attempts < 2:
            self._face_attempts += 1
            key = "face_retry" if decision == "no_match" else "face_no_face"
            assert self._card is not None
            return [
                *self._go(Screen.FACE, self._txt(key), error=True),
                CaptureFace(self.token, self._card.photo_wlt),
            ]
        if decision == "unavailable":
            return self._face_unavailable("face_unavailable")
        # Uncertain or repeated failure: a person decides, never the machine alone.
        effects = self._go(Screen.MESSAGE, self._txt("face_staff"), error=True)
        return [*effects, HelpRequest(self.token, "face_check_review")]

    def _issue(self) -> list[Effect]:
        tile = self._service
        assert tile is not None
        self._go(Screen.ISSUING, speak=False)
        if self.offline:
            return [self._offline_issue()]
        id_number = self._card.id_number if self._card else self._manual_id
        name = self._card.name if self._card and self._card.name else None
        return [IssueTicket(self.token, tile.code, id_number, name, None, self._issue_key)]

    def _offline_issue(self, withdraw_key: str = "") -> IssueOffline:
        assert self._service is not None
        name = self._card.name_masked if self._card else None
        if withdraw_key:
            self.pending_withdrawals += 1
        return IssueOffline(
            self.token, self._service.code, self._service.prefix, name, withdraw_key
        )

    def on_issued(
        self, token: int, ticket: dict[str, Any], *, offline: bool = False
    ) -> list[Effect]:
        """The hall (or the offline journal) issued a ticket. It is shown even if the citizen
        left meanwhile: a ticket nobody saw must not be silently in the queue."""
        # No token check: the ticket exists in the queue, so it is shown whatever happened
        # meanwhile (the issuing screen cannot be left, so this is only a safety net).
        self._touch()
        tile = self._service or next((s for s in self.tiles if s.code == ticket["service"]), None)
        name = tile.label(self.lang) if tile else ticket.get("service_name", ticket["service"])
        issued_at = ticket["issued_at"]
        if isinstance(issued_at, str):
            issued_at = dt.datetime.fromisoformat(issued_at)
        tid = ticket.get("id")
        payload = (
            f"GH1|{self.hall_id}|{tid}|{ticket['number']}"
            if tid is not None
            else f"GH1|{self.hall_id}|offline|{self.settings.kiosk_id}|{ticket['number']}"
        )
        view = TicketView(
            number=ticket["number"],
            service_name=name,
            waiting_ahead=None if offline else ticket.get("waiting_ahead"),
            estimated_wait_s=None if offline else ticket.get("estimated_wait_s"),
            issued_at=issued_at,
            offline=offline,
            qr_payload=payload,
            ticket_id=tid,
            priority=ticket.get("priority"),
            name_masked=ticket.get("name_masked"),
        )
        self._ticket = view
        if offline:
            self.pending_uploads += 1
        self._go(Screen.TICKET, speak=False)
        return [
            PrintTicket(self.token, view, tile.name if tile else name, tile.name_en if tile else "")
        ]

    def on_hall_unavailable(self, token: int) -> list[Effect]:
        """An issue or check-in found the hall unreachable."""
        self.offline = True
        self.view = self._render()
        if token != self.token:
            return []
        if self._screen is Screen.ISSUING and self._purpose == "ticket":
            # The request may have reached the hall and only its answer been lost: the key
            # goes with the offline ticket so that phantom is cancelled later.
            return [
                self._say(self._txt("offline_issuing")),
                self._offline_issue(withdraw_key=self._issue_key),
            ]
        if self._purpose == "checkin":
            return self._go(Screen.MESSAGE, self._txt("checkin_offline"), error=True)
        return self._go(Screen.MESSAGE, self._txt("hall_unreachable"), error=True)

    def on_refused(self, token: int, code: str, message: str = "") -> list[Effect]:
        """The hall refused (daily limit, ID required, closed, no appointment…). Nothing was
        issued; the citizen is told why, on screen and by voice."""
        if token != self.token:
            return []
        self._touch()
        key = f"refused_{code}" if code in REFUSALS else "refused_other"
        return self._go(Screen.MESSAGE, self._txt(key), error=True)

    def on_printed(self, token: int) -> list[Effect]:
        if self._ticket is None or self._screen is not Screen.TICKET:
            return []
        self._ticket = replace(self._ticket, printing=False)
        self._touch()
        return self._go(Screen.TICKET, self._ticket_sentence(printed=True))

    def on_print_failed(self, token: int, code: str) -> list[Effect]:
        """No paper, cover open, printer gone: the ticket stays on screen with a QR code,
        the citizen is told, and the hall hears of the printer at once."""
        self.parts["printer"] = "offline" if code == "printer.not_there" else "error"
        if self._ticket is None or self._screen is not Screen.TICKET:
            return [self._heartbeat_now()]
        self._ticket = replace(self._ticket, printing=False, print_failed=True)
        self._touch()
        text = self._txt("print_failed") + " " + self._ticket_sentence(printed=False)
        return [*self._go(Screen.TICKET, text, error=True), self._heartbeat_now()]

    def _ticket_sentence(self, *, printed: bool) -> str:
        tk = self._ticket
        assert tk is not None
        parts = [self._txt("say_number", number=spoken_number(tk.number, self.lang))]
        if tk.offline:
            parts.append(self._txt("offline_estimate"))
        elif tk.waiting_ahead is not None:
            minutes = round((tk.estimated_wait_s or 0) / 60)
            if tk.waiting_ahead == 0:
                parts.append(self._txt("say_next"))
            else:
                parts.append(self._txt("say_ahead", ahead=tk.waiting_ahead, minutes=minutes))
        if printed:
            parts.append(self._txt("say_take_ticket"))
        return " ".join(parts)

    # -- appointment check-in ----------------------------------------------------------------
    def tap_checkin(self) -> list[Effect]:
        self._touch()
        self._purpose = "checkin"
        self._service = None
        return self._start_card()

    def _check_in(self) -> list[Effect]:
        self._go(Screen.ISSUING, speak=False)
        if self.offline:
            return self._go(Screen.MESSAGE, self._txt("checkin_offline"), error=True)
        id_number = self._card.id_number if self._card else self._manual_id
        assert id_number is not None
        return [CheckIn(self.token, id_number)]

    # -- keypad (manual ID, status code, PIN) ------------------------------------------------
    def _open_keypad(
        self, mode: str, message: str = "", *, error: bool = False, speak: bool = True
    ) -> list[Effect]:
        self._keypad_mode = mode
        self._keys = ""
        return self._go(Screen.KEYPAD, message, error=error, speak=speak)

    def key(self, ch: str) -> list[Effect]:
        self._touch()
        if self._screen is not Screen.KEYPAD:
            return []
        limit = {"id": 18, "status": STATUS_MAX, "pin": 12}[self._keypad_mode]
        allowed = self._keypad_keys()
        ch = ch.upper()
        if ch in allowed and len(self._keys) < limit:
            self._keys += ch
        self.view = self._render()
        return []

    def key_delete(self) -> list[Effect]:
        self._touch()
        self._keys = self._keys[:-1]
        self.view = self._render()
        return []

    def key_ok(self) -> list[Effect]:
        self._touch()
        mode = self._keypad_mode
        if self._screen is not Screen.KEYPAD:
            return []
        if mode == "id":
            try:
                number = validate_id_number(self._keys)
            except InvalidIdNumber:
                # The typed digits stay: the citizen corrects one digit, not eighteen.
                return self._go(Screen.KEYPAD, self._txt("invalid_id"), error=True)
            self._manual_id = number
            self._keys = ""
            self._keypad_mode = ""
            if self._is_elderly(number) and not self.elderly:
                self.elderly = True
                self._auto_elderly_session = True
            return self._after_identity()
        if mode == "status":
            code = self._keys
            if code.isdigit():
                return [QueryTicket(self.token, ticket_id=int(code))]  # the 查询码 path
            ticket_number = normalize_ticket_number(code)
            if ticket_number is None:
                return self._go(Screen.KEYPAD, self._txt("status_enter"), error=True)
            return [QueryTicket(self.token, number=ticket_number)]
        if mode == "pin":
            if self._keys == self.settings.admin_pin:
                self._pin_failures = 0
                self._keys = ""
                return [*self._go(Screen.MAINTENANCE, speak=False), PollDevices(0)]
            self._pin_failures += 1
            self._keys = ""
            if self._pin_failures >= PIN_ATTEMPTS:
                self._pin_failures = 0
                return self.home()
            return self._go(Screen.KEYPAD, self._txt("pin_wrong"), error=True, speak=False)
        return []

    # -- queue status --------------------------------------------------------------------------
    def tap_status(self) -> list[Effect]:
        self._touch()
        self._purpose = "status"
        return self._open_keypad("status", self._txt("status_enter"))

    def on_ticket_status(self, token: int, ticket: dict[str, Any]) -> list[Effect]:
        if token != self.token:
            return []
        status = ticket.get("status", "")
        lines = [
            self._txt("status_number", number=ticket["number"]),
            self._txt(f"state_{status}") if status in STATES else status,
        ]
        if status == "waiting":
            lines.append(self._txt("status_ahead", ahead=ticket.get("waiting_ahead", 0)))
        elif status == "called" and ticket.get("counter_name"):
            lines.append(self._txt("status_counter", counter=ticket["counter_name"]))
        self._status_lines = tuple(lines)
        return self._go(Screen.STATUS, " ".join(lines))

    def on_status_failed(self, token: int, code: str) -> list[Effect]:
        if token != self.token:
            return []
        key = "status_unknown" if code == "not_found" else "hall_unreachable"
        return self._open_keypad("status", self._txt(key), error=True)

    # -- service guide (办事指南 / 一次告知) ---------------------------------------------------
    def tap_guide(self) -> list[Effect]:
        self._touch()
        return self._go(Screen.GUIDE_LIST, self._txt("say_guide"))

    def tap_guide_service(self, code: str) -> list[Effect]:
        self._touch()
        tile = next((s for s in self.tiles if s.code == code), None)
        if tile is None:
            return []
        self._guide = tile
        mats = tile.materials_en if self.lang == "en" and tile.materials_en else tile.materials
        text = self._txt("say_materials", service=tile.label(self.lang), materials="；".join(mats))
        return self._go(Screen.GUIDE, text)

    def print_guide(self) -> list[Effect]:
        self._touch()
        if self._guide is None:
            return []
        return [PrintGuide(self.token, self._guide)]

    def on_guide_printed(self, token: int, ok: bool) -> list[Effect]:
        if token != self.token or self._screen is not Screen.GUIDE:
            return []
        if not ok:
            self.parts["printer"] = self.parts.get("printer") or "error"
        key = "guide_printed" if ok else "guide_print_failed"
        return self._go(Screen.GUIDE, self._txt(key), error=not ok)

    # -- help (帮办代办) -------------------------------------------------------------------
    def tap_help(self) -> list[Effect]:
        self._touch()
        effects = self._go(Screen.MESSAGE, self._txt("help_sending"), speak=False)
        return [*effects, HelpRequest(self.token, "citizen_asked")]

    def on_help_sent(self, token: int, ok: bool) -> list[Effect]:
        if token != self.token:
            return []
        if self._screen is Screen.MESSAGE and self._message_error and ok:
            return []  # a face review already told the citizen what happens
        return self._go(
            Screen.MESSAGE, self._txt("help_sent" if ok else "help_failed"), error=not ok
        )

    # -- maintenance (hidden corner + PIN) -----------------------------------------------
    def corner_tap(self) -> list[Effect]:
        now = self.clock()
        self._corner = [c for c in self._corner if (now - c).total_seconds() < CORNER_WINDOW_S] + [
            now
        ]
        if len(self._corner) >= CORNER_TAPS:
            self._corner = []
            self._touch()
            return self._open_keypad("pin", self._txt("pin_enter"), speak=False)
        return []

    def maintenance_action(self, action: str) -> list[Effect]:
        self._touch()
        if self._screen is not Screen.MAINTENANCE:
            return []
        if action == "test_print":
            sample = TicketView(
                "A000",
                self._txt("test_ticket"),
                0,
                0,
                self.clock(),
                False,
                f"GH1|{self.hall_id}|test",
            )
            return [PrintTicket(0, sample)]
        if action == "test_reader":
            return [TestReader(0)]
        if action == "poll":
            return [PollDevices(0)]
        if action == "reload":
            return [Quit(0, restart=True)]
        if action == "quit":
            return [Quit(0)]
        return []

    def on_maintenance_note(self, text: str) -> list[Effect]:
        if self._screen is Screen.MAINTENANCE:
            return self._go(Screen.MAINTENANCE, text, speak=False)
        return []

    # -- the hall and the devices in the background ----------------------------------------
    def on_services(self, services: list[dict[str, Any]]) -> list[Effect]:
        self.tiles = tuple(tile_from_api(s) for s in services)
        effects = self._hall_back()
        self.view = self._render()
        return effects

    def on_devices(self, parts: dict[str, str]) -> list[Effect]:
        self.parts.update(parts)
        self.view = self._render()
        if self.parts != self._sent_parts:
            return [self._heartbeat_now()]
        return []

    def _heartbeat_now(self) -> Heartbeat:
        self._last_heartbeat = self.clock()
        self._sent_parts = dict(self.parts)
        return Heartbeat(0, dict(self.parts))

    def on_heartbeat(self, ok: bool) -> list[Effect]:
        if not ok:
            if not self.offline:
                self.offline = True
                self.view = self._render()
            return []
        effects = self._hall_back()
        self.view = self._render()
        return effects

    def _hall_back(self) -> list[Effect]:
        was_offline = self.offline
        self.offline = False
        if was_offline or self.pending_uploads or self.pending_withdrawals:
            return [UploadJournal(0), LoadServices(0)] if was_offline else [UploadJournal(0)]
        return []

    def on_uploaded(self, remaining: int, withdrawals: int = 0) -> list[Effect]:
        """``remaining`` offline tickets not yet in the hall's queue; ``withdrawals``
        lost-answer tickets not yet settled (both retried at the next heartbeat)."""
        self.pending_uploads = remaining
        self.pending_withdrawals = withdrawals
        self.view = self._render()
        return []

    def on_services_failed(self) -> list[Effect]:
        self.offline = True
        # Waiting counts we can no longer vouch for are hidden, not left stale.
        self.tiles = tuple(replace(s, waiting=None) for s in self.tiles)
        self.view = self._render()
        return []

    def tick(self) -> list[Effect]:
        """Called about once a second: idle warning and timeout, attract screen,
        heartbeat and services refresh."""
        now = self.clock()
        effects: list[Effect] = []
        if (
            self._last_heartbeat is None
            or (now - self._last_heartbeat).total_seconds() >= self.settings.heartbeat_s
        ):
            effects += [PollDevices(0), self._heartbeat_now()]
        if self._screen in RESTING_SCREENS and (
            self._last_services is None
            or (now - self._last_services).total_seconds() >= self.settings.services_refresh_s
        ):
            self._last_services = now
            effects.append(LoadServices(0))
        idle = (now - self._last_touch).total_seconds()
        if self._screen is Screen.HOME and idle >= self.settings.attract_after_s:
            effects += self._new_session()
            return effects + self._go(Screen.ATTRACT, speak=False)
        if self._screen in RESTING_SCREENS or self._screen in BUSY_SCREENS:
            return effects
        if self._screen is Screen.MAINTENANCE:
            limit = self.settings.idle_timeout_s * 5  # technicians read; still never stuck
            if idle >= limit:
                return effects + self.home()
            return effects
        limit = (
            self.settings.ticket_screen_s
            if self._screen is Screen.TICKET
            else self.settings.idle_timeout_s
        )
        if idle >= limit:
            effects += self.home()
            return [*effects, self._say(self._txt("say_timeout"))]
        if (
            not self._idle_warned
            and self._screen is not Screen.TICKET
            and idle >= limit - self.settings.idle_warning_s
        ):
            self._idle_warned = True
            self.view = self._render()
            effects.append(
                self._say(self._txt("idle_warning", seconds=round(self.settings.idle_warning_s)))
            )
        return effects

    def still_here(self) -> list[Effect]:
        """The 'I'm still here' button of the idle warning."""
        self._touch()
        self.view = self._render()
        return []


STATES = ("waiting", "called", "serving", "done", "parked", "no_show", "transferred", "cancelled")


def normalize_ticket_number(typed: str) -> str | None:
    """What the citizen typed → the hall's spelling: ``a12`` → ``A012`` (numbers have at
    least three digits), ``K1-A3`` → ``K1-A003``; None when it cannot be a number."""
    m = _TICKET_NUMBER_RE.match(typed.strip().upper())
    if m is None:
        return None
    offline, letters, digits = m.groups()
    number = f"{letters}{int(digits):03d}"
    return f"{offline}-{number}" if offline else number


def mask_typed_id(keys: str) -> str:
    """What the keypad shows of a typed ID number: the birth date (digits 7–14) as *, like
    the hall's mask, so a passer-by cannot read it; grouped 6-8-4 for checking."""
    shown = "".join("*" if 6 <= i < 14 else ch for i, ch in enumerate(keys))
    groups = [shown[:6], shown[6:14], shown[14:]]
    return " ".join(g for g in groups if g)


def spoken_number(number: str, lang: str) -> str:
    """A019 → "A 零 一 九" through the voice module's rules (espeak reads 019 as 十九); an
    offline K1-A001 is spoken part by part."""
    try:
        return " ".join(speak_ticket_number(part, lang) for part in number.split("-"))
    except VoiceInputError:
        return " ".join(number)


__all__ = ["KioskFlow", "mask_name", "mask_typed_id"]

"""The kiosk's flow: one plain-Python object that decides every transition.

Screens call one method per input (a tap, a key, a tick of the clock) and the runtime calls
one ``on_*`` method per result (a card read, a ticket issued, a print confirmed). Each
returns the effects to run next (``model.py``); the flow itself does no I/O, so it is tested
completely without a window, a device or a network.

``KioskFlow`` is the coordinator: it owns the view, the citizen's session and the clock
(idle warning and timeout, the deadline of a busy screen), and hands an effect that failed
to the journey it belongs to. The journeys are mixins over ``base.FlowBase``, one module
each: ``take_ticket`` (service → card → face → issue → print, offline included, and the
appointment check-in), ``rating`` (评价上次办理), ``keypad``, ``lookup`` (status, guide,
help), ``maintenance`` and ``background`` (services, devices, heartbeat, uploads);
``numbers`` has the pure helpers.

Rules it keeps:
- a ticket the hall issued is always shown (the ticket screen appears before printing, and a
  print failure keeps it on screen with a QR code);
- personal data (the card, the typed ID number) lives only in this object for one citizen and
  is dropped on every return home;
- when the hall is unreachable tickets are issued from the offline journal, and said so;
- no screen waits for ever: a failed effect reaches the flow (``on_effect_failed``), and a
  busy screen moves the citizen on after its deadline.
"""

from __future__ import annotations

from common.personal import mask_name
from kiosk.flows.background import Background
from kiosk.flows.base import Clock
from kiosk.flows.guide import Guide
from kiosk.flows.keypad import Keypad
from kiosk.flows.lookup import Lookup
from kiosk.flows.maintenance import Maintenance
from kiosk.flows.model import (
    BUSY_SCREENS,
    HALL_WAIT,
    RESTING_SCREENS,
    CancelCard,
    CancelFace,
    CaptureFace,
    CheckIn,
    CheckInByCode,
    ConfirmRemote,
    Effect,
    FaceDecision,
    FindVisit,
    HallWait,
    HelpRequest,
    IssueOffline,
    IssueTicket,
    KeypadMode,
    LoadServices,
    PrintChecklist,
    PrintGuide,
    PrintTicket,
    QueryTicket,
    ReadCard,
    Screen,
    StartCamera,
    SubmitRating,
    TestReader,
    Tile,
    View,
)
from kiosk.flows.numbers import mask_typed_id, normalize_ticket_number, spoken_number
from kiosk.flows.rating import Rating
from kiosk.flows.take_ticket import TakeTicket
from kiosk.settings import KioskSettings

__all__ = [
    "Clock",
    "KioskFlow",
    "mask_name",
    "mask_typed_id",
    "normalize_ticket_number",
    "spoken_number",
]

_TITLES = {
    Screen.ID_CARD: "title_id_card",
    Screen.FACE: "title_face",
    Screen.FACE_CONSENT: "title_face_consent",
    Screen.TICKET: "title_ticket",
    Screen.GUIDE_LIST: "title_guide",
    Screen.GUIDE: "title_guide",
    Screen.GUIDE_SEARCH: "title_guide",
    Screen.GUIDE_MATTER: "title_guide",
    Screen.STATUS: "title_status",
    Screen.MAINTENANCE: "title_maintenance",
    Screen.ISSUING: "title_issuing",
    Screen.RATE: "title_rate",
}


class KioskFlow(Rating, TakeTicket, Keypad, Lookup, Maintenance, Background, Guide):
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
        hall_wait: HallWait = HALL_WAIT,
        public_url: str = "",
    ) -> None:
        """``hall_wait``: how the runtime's hall client waits, which sets the deadline of
        the busy screens. ``public_url``: ``[hall].public_url``, where phones reach the
        ticket pages; empty: the hall server address the kiosk uses."""
        self.settings = settings
        self.hall_name, self.hall_name_en, self.hall_id = hall_name, hall_name_en, hall_id
        self.public_url = (public_url or settings.server).rstrip("/")
        self.clock = clock
        self.elderly_age = elderly_age
        self.busy_deadline_s = hall_wait.busy_deadline_s
        self.tiles = tuple(services)
        self.lang = settings.lang
        self.elderly = False
        self.offline = False
        self.parts = {}
        self.pending_uploads = 0
        self.refused_uploads = 0
        self.pending_withdrawals = 0
        self.token = 1
        self._screen = Screen.ATTRACT
        self._last_touch = self._busy_since = clock()
        self._last_heartbeat = None
        self._last_services = None
        self._sent_parts = {}
        self._corner = []
        self._pin_failures = 0
        self._auto_elderly_session = False
        self._abandoned = {}
        self._reset_citizen()
        self.view = self._render()

    # -- the citizen's session ----------------------------------------------------------------
    def _reset_citizen(self) -> None:
        """Forget everything about the citizen: card, typed number, ticket, messages."""
        self._purpose = None
        self._service = None
        self._card = None
        self._manual_id = None
        self._reprint = None
        self._keypad_mode = None
        self._keys = ""
        self._message = ""
        self._message_error = False
        self._ticket = None
        self._guide = None
        self._status_lines = ()
        self._idle_warned = False
        self._face_attempts = 0
        self._face_since = None
        self._challenge = None
        self._challenge_s = 0.0
        self._verification = None
        self._matters = ()
        self._issue_key = ""
        self._issuing_offline = False

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

    def _touch(self) -> None:
        self._last_touch = self.clock()
        if self._idle_warned:
            self._idle_warned = False

    # -- the view ---------------------------------------------------------------------------
    def _go(
        self, screen: Screen, message: str = "", *, error: bool = False, speak: bool = True
    ) -> list[Effect]:
        self._screen = screen
        if screen in BUSY_SCREENS:
            self._busy_since = self.clock()
        self._message, self._message_error = message, error
        self.view = self._render()
        return [self._say(message)] if message and speak else []

    def _render(self) -> View:
        if self._screen is Screen.KEYPAD:
            title = f"title_keypad_{self._keypad_mode or KeypadMode.ID}"
        else:
            title = _TITLES.get(self._screen, "title_home")
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
            keypad_text=self._keypad_shown(),
            keypad_keys=self._keypad_keys(),
            ticket=self._ticket,
            guide=self._guide,
            status_lines=self._status_lines,
            offline=self.offline,
            idle_warning=self._idle_warned,
            greeting=self._txt("greeting", name=person) if person else "",
            can_manual=self._screen is Screen.ID_CARD,
            can_reprint=self._reprint is not None and self._screen is Screen.MESSAGE,
            pending_uploads=self.pending_uploads,
            refused_uploads=self.refused_uploads,
            parts=self._parts(),
            challenge=self._challenge if self._screen is Screen.FACE else None,
            challenge_s=self._challenge_s,
            guide_view=self._guide_view(),
            rating=self._rating_view(),
        )

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

    # -- effects that failed ----------------------------------------------------------------
    def on_effect_failed(self, effect: Effect) -> list[Effect]:
        """The runtime could not carry ``effect`` out and has no answer for it (an error
        nobody expected: a full disk, an answer no client error describes, a bug). Its
        journey hears of it as the nearest failure it knows, so no screen waits for a
        result that will never come."""
        match effect:
            case IssueTicket() | CheckIn() | CheckInByCode() | ConfirmRemote():
                # The hall may have acted on it: the offline ticket with the withdraw key,
                # or the check-in's offline message, exactly as for an unreachable hall.
                return self.on_hall_unavailable(effect.token)
            case IssueOffline():
                return self.on_offline_issue_failed(effect)
            case PrintTicket() if effect.token == 0:
                return self.on_maintenance_note(self._txt("test_print_failed", code="error"))
            case PrintTicket():
                return self.on_print_failed(effect.token, "printer.error")
            case PrintGuide():
                return self.on_guide_printed(effect.token, False)
            case PrintChecklist():
                return self.on_checklist_printed(effect.token, False)
            case ReadCard():
                return self.on_card_failed(effect.token, "idcard.error")
            case CaptureFace() | StartCamera():
                return self.on_face(effect.token, FaceDecision.UNAVAILABLE)
            case QueryTicket():
                return self.on_status_failed(effect.token, "unavailable")
            case FindVisit():
                return self.on_visit_failed(effect.token, "unavailable")
            case SubmitRating():
                return self.on_rated(effect.token, False)
            case HelpRequest():
                return self.on_help_sent(effect.token, False)
            case LoadServices():
                return self.on_services_failed()
            case TestReader():
                return self.on_maintenance_note(self._txt("reader_test_failed", code="error"))
        # Voice, cancels, the heartbeat, the device poll, the upload: nobody waits for them,
        # and the next tick sends, polls and uploads again (the heartbeat's failure says
        # nothing of whether the hall is reachable: an issue finds that out itself).
        return []

    # -- the clock --------------------------------------------------------------------------
    def tick(self) -> list[Effect]:
        """Called about once a second: idle warning and timeout, attract screen, busy
        deadline, heartbeat and services refresh."""
        now = self.clock()
        effects = self._background_due(now)
        idle = (now - self._last_touch).total_seconds()
        if self._screen is Screen.HOME and idle >= self.settings.attract_after_s:
            effects += self._new_session()
            return effects + self._go(Screen.ATTRACT, speak=False)
        if self._screen in BUSY_SCREENS:
            # Never timed out for idleness (a ticket being issued must reach the screen),
            # but an answer that has not come by the deadline is not coming.
            if (now - self._busy_since).total_seconds() >= self.busy_deadline_s:
                effects += self._issuing_overdue()
            return effects
        if self._screen in RESTING_SCREENS:
            return effects
        if self._screen is Screen.FACE and (overdue := self._face_overdue(now)):
            return effects + overdue  # the camera or the check never answered: 人工核验
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

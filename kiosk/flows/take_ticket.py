"""Taking a ticket: service → ID card (or the typed number) → face check → issue → print,
with the offline journal when the hall cannot answer; and the appointment check-in, which
shares the card, the issuing screen and the ticket screen.

The face check (人证核验) of a ``requires_face`` service, under PIPL Art. 26/28/29 and the
face-recognition rules in force since 2025-06-01 — face data is sensitive, face recognition
may not be the only way, it needs separate consent and stays on the device:

    card read → FACE_CONSENT (said and shown: your face against your card photo, on this
    machine, nothing stored or sent; or 人工核验 by staff at the counter)
      agree   → FACE: the camera starts (``StartCamera``, off until now), a random movement
                is asked (spoken, arrow and large text, a countdown), then the frames from
                before it are compared with the card photo (``CaptureFace``); the camera
                stops. One retry; then, or when it is uncertain or cannot run, 人工核验.
      decline → 人工核验
    人工核验: the ticket is still issued, ``verification="manual"``, and the screen, the
    voice and the paper say 请到窗口人工核验身份. A passed check issues ``"face"``.
    A typed number (no card photo) or a camera that is not working goes to 人工核验 at once.

Consent, refusal and outcomes are counted (``CountFace``) with no image and no identity.

Rules it keeps:
- a ticket the hall issued is shown: before it is printed, and with a QR code when the
  printer fails. The one exception is an issue given up at its deadline: the offline ticket
  that replaced it carries its Idempotency-Key, and the hall's ticket is withdrawn with it,
  so showing it too would give the citizen two;
- the issuing screen cannot be left, but it has a deadline (``HallWait.busy_deadline_s``):
  an answer that never comes moves the citizen on to the offline ticket, or to a clear
  message where there is none;
- an online issue that failed without an answer may still have been issued: its key goes
  with the offline ticket, which the runtime journals, and the phantom is cancelled later.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import replace
from typing import Any

from common.i18n import t
from common.personal import age_on
from kiosk.flows.base import FlowBase
from kiosk.flows.model import (
    CancelCard,
    CancelFace,
    CancelScan,
    CaptureFace,
    CardData,
    CheckIn,
    CheckInByCode,
    ConfirmRemote,
    CountFace,
    Effect,
    FaceDecision,
    FaceEvent,
    HelpRequest,
    IssueOffline,
    IssueTicket,
    KeypadMode,
    LivenessChallenge,
    PartState,
    PrepareFace,
    PrintTicket,
    Purpose,
    ReadCard,
    Reprint,
    Say,
    ScanBooking,
    Screen,
    StartCamera,
    TicketView,
    Tile,
    Verification,
)
from kiosk.flows.numbers import opening_values, spoken_number

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
    "already_reprinted",
    "not_reprintable",
    "hall_unreachable",
    # arrival by booking code (issue 21)
    "booking_missed",
    "booking_not_today",
    "booking_not_found",
    "booking_not_open",
    "remote_expired",
    "not_remote",
    "ticket_not_found",
)


def _wait_range(ticket: dict[str, Any]) -> tuple[int, int] | None:
    lo, hi = ticket.get("wait_range_min_s"), ticket.get("wait_range_max_s")
    return (int(lo), int(hi)) if isinstance(lo, int) and isinstance(hi, int) else None


# Reader failures after which trying the card again can help.
CARD_RETRY_CODES = frozenset({"idcard.read_failed", "idcard.garbled", "idcard.no_card"})
ABANDONED_KEPT = 20  # given-up sessions remembered (their late answers are dropped)
FACE_ATTEMPTS = 2  # the first try and one retry, then 人工核验
LIVENESS_S = 8.0  # seconds for the asked movement (the instruction itself takes ~2 s)
LIVENESS_ELDERLY_S = 12.0
CAMERA_START_S = 15.0  # the face screen waits this long for the camera to start
FACE_CHECK_GRACE_S = 20.0  # … and the movement's time plus this for the check's answer
# Face check results after which another try can help (a movement missed, a bad frame).
FACE_RETRY = frozenset({FaceDecision.LIVENESS_FAILED, FaceDecision.NO_MATCH, FaceDecision.NO_FACE})


class TakeTicket(FlowBase):
    # -- service and identity ---------------------------------------------------------------
    def tap_service(self, code: str, matters: tuple[str, ...] = ()) -> list[Effect]:
        """A service tile was tapped, or 取号 in the 我要办 journey (``matters``: the
        catalogue's matters it chose, which the ticket carries to the counter)."""
        self._touch()
        tile = next((s for s in self.tiles if s.code == code), None)
        if tile is None:
            return []
        # Outside its hours (it says when it opens), or closed today. Once the opening time
        # has come the hall decides, not a service list fetched before it.
        if not tile.open and not self._opened_since(tile):
            if tile.opens_at:
                return self.on_refused(self.token, "outside_hours", opens_at=tile.opens_at)
            return self._go(Screen.MESSAGE, self._txt("refused_service_closed"), error=True)
        self._purpose = Purpose.TICKET
        self._service = tile
        self._issue_key = uuid.uuid4().hex
        self._verification = None
        self._matters = matters
        self._face_attempts = 0
        if tile.requires_face:
            return [PrepareFace(self.token), *self._start_card()]
        if tile.requires_id:
            return self._start_card()
        return self._issue()

    def _start_card(self) -> list[Effect]:
        reader = self._part("reader")
        if reader is not None and not reader.is_connected():
            # plyer's anti-pattern avoided: a missing reader is said, then the keypad.
            return self._open_keypad(KeypadMode.ID, self._txt("reader_missing"), error=True)
        effects = self._go(Screen.ID_CARD, self._txt("place_card"))
        return [*effects, ReadCard(self.token, self.settings.card_timeout_s)]

    def manual_entry(self) -> list[Effect]:
        self._touch()
        if self._screen is not Screen.ID_CARD:
            return []
        return [CancelCard(self.token), *self._open_keypad(KeypadMode.ID, self._txt("enter_id"))]

    def tap_passport(self) -> list[Effect]:
        """持护照: the reader takes ID cards and residence permits, not passports. Staff are
        called to take the ticket for this service (帮办), and check the passport at the
        counter; the citizen waits at the kiosk."""
        self._touch()
        if self._screen is not Screen.ID_CARD or self._service is None:
            return []
        code = self._service.code
        effects = self._go(Screen.MESSAGE, self._txt("passport_help"))
        return [CancelCard(self.token), *effects, HelpRequest(self.token, f"passport:{code}")]

    def on_card(self, token: int, card: CardData) -> list[Effect]:
        if token != self.token or self._screen is not Screen.ID_CARD:
            return []
        self._touch()
        self._card = card
        self._elderly_by_id(card.id_number)
        # said first, before the next screen's own words: the card must not be left behind
        return [self._say(self._txt("take_card_back")), *self._after_identity()]

    def _id_typed(self, id_number: str) -> list[Effect]:
        self._manual_id = id_number
        self._elderly_by_id(id_number)
        return self._after_identity()

    def _elderly_by_id(self, id_number: str) -> None:
        """Elderly mode switched on by the ID number belongs to that citizen only."""
        if self._is_elderly(id_number) and not self.elderly:
            self.elderly = True
            self._auto_elderly_session = True

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
            self.parts["reader"] = PartState.OFFLINE
            return self._open_keypad(KeypadMode.ID, self._txt("reader_missing"), error=True)
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
            self.parts["reader"] = PartState.ERROR
        return self._open_keypad(KeypadMode.ID, text, error=True)

    def _after_identity(self) -> list[Effect]:
        """Card read or number typed: face check when needed, then issue / check in."""
        tile = self._service
        if self._purpose is Purpose.TICKET and tile is not None and tile.requires_face:
            if self._card is None or not self._card.photo_wlt:
                # A typed number has no photo to compare a face with.
                return self._manual("face_manual_no_card", FaceEvent.UNAVAILABLE)
            camera = self._part("camera")
            if camera is not None and not camera.is_working():
                return self._manual("face_manual_unavailable", FaceEvent.UNAVAILABLE)
            # Separate consent before the camera starts, said as well as shown.
            effects = self._go(Screen.FACE_CONSENT, speak=False)
            return [*effects, self._say(self._txt("consent_say"))]
        if self._purpose is Purpose.CHECKIN:
            return self._check_in()
        return self._issue()

    # -- face check ---------------------------------------------------------------------------
    def consent_agree(self) -> list[Effect]:
        """同意: the camera starts, a movement is asked, the faces are compared."""
        if self._screen is not Screen.FACE_CONSENT:
            return []
        self._touch()
        return [CountFace(self.token, FaceEvent.CONSENT_GIVEN), *self._start_face()]

    def consent_decline(self) -> list[Effect]:
        """不同意: no camera; the ticket is issued for 人工核验 at the counter."""
        if self._screen is not Screen.FACE_CONSENT:
            return []
        self._touch()
        return self._manual("face_manual_declined", FaceEvent.CONSENT_DECLINED)

    def face_withdraw(self) -> list[Effect]:
        """The face screen's 改为人工核验: consent withdrawn, the camera stops at once."""
        if self._screen is not Screen.FACE:
            return []
        self._touch()
        return [
            CancelFace(self.token),
            *self._manual("face_manual_declined", FaceEvent.CONSENT_WITHDRAWN),
        ]

    def _start_face(self, retry_note: str = "") -> list[Effect]:
        """One attempt: the camera starts; its instruction comes with ``on_camera_ready``
        (said with the retry note, if any: a new prompt cuts the one playing)."""
        self._face_attempts += 1
        self._challenge = None
        self._face_since = self.clock()
        text = retry_note or self._txt("face_starting")
        effects = self._go(Screen.FACE, text, error=bool(retry_note), speak=False)
        return [*effects, StartCamera(self.token)]

    def on_camera_ready(self, token: int, challenge: LivenessChallenge) -> list[Effect]:
        """The camera delivers: ask for the movement, then watch and compare."""
        if token != self.token or self._screen is not Screen.FACE or self._card is None:
            return []
        if self._challenge is not None:
            return []  # this attempt's camera is already watching
        self._challenge = LivenessChallenge(challenge)
        self._challenge_s = LIVENESS_ELDERLY_S if self.elderly else LIVENESS_S
        self._face_since = self.clock()
        note = self._message if self._message_error else ""
        text = t("camera", f"challenge_{self._challenge.value}", self.lang)
        # after a miss the note stays on screen with the new instruction: the second try
        self._go(Screen.FACE, f"{note} {text}".strip(), speak=False)
        return [
            self._say(f"{note} {text}".strip()),
            CaptureFace(self.token, self._card.photo_wlt, self._challenge, self._challenge_s),
        ]

    def on_face(self, token: int, decision: FaceDecision) -> list[Effect]:
        if token != self.token or self._screen is not Screen.FACE:
            return []
        decision = FaceDecision(decision)
        self._touch()
        if decision is FaceDecision.CANCELLED:
            return []
        if decision is FaceDecision.MATCH:
            self._verification = Verification.FACE
            self._challenge = None
            self._face_since = None
            return [
                CountFace(self.token, FaceEvent.PASSED),
                self._say(self._txt("face_ok")),
                *self._issue(),
            ]
        if decision in FACE_RETRY and self._face_attempts < FACE_ATTEMPTS:
            key = {
                FaceDecision.LIVENESS_FAILED: "face_retry_liveness",
                FaceDecision.NO_MATCH: "face_retry",
                FaceDecision.NO_FACE: "face_no_face",
            }[decision]
            return self._start_face(self._txt(key))
        if decision is FaceDecision.UNAVAILABLE:
            return self._manual("face_manual_unavailable", FaceEvent.UNAVAILABLE)
        # Uncertain, or failed twice: a person decides, never the machine alone — staff
        # check the ID card at the counter.
        return self._manual("face_manual_failed", FaceEvent.FAILED)

    def _face_overdue(self, now: dt.datetime) -> list[Effect]:
        """The face screen's deadline: the camera did not start, or the check did not answer
        (a camera that hangs, a worker that died). 人工核验, and the camera is stopped."""
        if self._face_since is None:
            return []
        if self._challenge is None:
            limit = CAMERA_START_S
        else:
            limit = self._challenge_s + FACE_CHECK_GRACE_S
        if (now - self._face_since).total_seconds() < limit:
            return []
        return [
            CancelFace(self.token),
            *self._manual("face_manual_unavailable", FaceEvent.UNAVAILABLE),
        ]

    def _manual(self, key: str, event: FaceEvent) -> list[Effect]:
        """人工核验: the ticket is issued all the same, marked for staff to check the ID."""
        self._verification = Verification.MANUAL
        self._challenge = None
        self._face_since = None
        return [CountFace(self.token, event), self._say(self._txt(key)), *self._issue()]

    # -- issue ------------------------------------------------------------------------------
    def _issue(self) -> list[Effect]:
        tile = self._service
        assert tile is not None
        self._go(Screen.ISSUING, speak=False)
        self._issuing_offline = False
        if self.offline:
            return [self._offline_issue()]
        id_number = self._card.id_number if self._card else self._manual_id
        name = self._card.name if self._card and self._card.name else None
        return [
            IssueTicket(
                self.token,
                tile.code,
                id_number,
                name,
                None,
                self._issue_key,
                verification=self._verification,
                matters=self._matters,
            )
        ]

    def _offline_issue(self, withdraw_key: str = "") -> IssueOffline:
        assert self._service is not None
        name = self._card.name_masked if self._card else None
        if withdraw_key:
            self.pending_withdrawals += 1
        self._issuing_offline = True
        self._busy_since = self.clock()  # the journal's answer is a new wait
        return IssueOffline(
            self.token, self._service.code, self._service.prefix, name, withdraw_key
        )

    def on_issued(
        self, token: int, ticket: dict[str, Any], *, offline: bool = False
    ) -> list[Effect]:
        """The hall (or the offline journal) issued a ticket. It is shown even if the citizen
        left meanwhile: a ticket nobody saw must not be silently in the queue."""
        # No token check (the ticket exists in the queue, so it is shown whatever happened
        # meanwhile), but one exception: an online issue given up at its deadline was
        # replaced by an offline ticket, and the withdraw key of that one cancels this.
        if not offline and self._abandoned.pop(token, None) is not None:
            return []
        self._touch()
        tile = self._service or next((s for s in self.tiles if s.code == ticket["service"]), None)
        name = tile.label(self.lang) if tile else ticket.get("service_name", ticket["service"])
        issued_at = ticket["issued_at"]
        if isinstance(issued_at, str):
            issued_at = dt.datetime.fromisoformat(issued_at)
        tid = ticket.get("id")
        # The QR code is the ticket's page, <public_url>/t/<token> (the kiosk's own address
        # of the hall when no public_url is set); an offline ticket has no page yet: no code.
        page = ticket.get("public_token")
        payload = f"{self.public_url}/t/{page}" if page else ""
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
            priority_reason=ticket.get("priority_reason"),
            wait_range_s=_wait_range(ticket) if not offline else None,
            name_masked=ticket.get("name_masked"),
            verification=_verification(ticket.get("verification") or self._verification),
        )
        self._ticket = view
        if offline:
            self.pending_uploads += 1
        self._go(Screen.TICKET, speak=False)
        return [
            PrintTicket(
                self.token,
                view,
                tile.name if tile else name,
                tile.name_en if tile else "",
                counters=tile.counters if tile else (),
                rejoin_min=tile.rejoin_min if tile else 0,
            )
        ]

    def on_hall_unavailable(self, token: int) -> list[Effect]:
        """An issue or check-in found the hall unreachable."""
        self.offline = True
        self.view = self._render()
        if token != self.token:
            return []
        if self._screen is Screen.ISSUING and self._purpose is Purpose.TICKET:
            # The request may have reached the hall and only its answer been lost: the key
            # goes with the offline ticket so that phantom is cancelled later.
            return [
                self._say(self._txt("offline_issuing")),
                self._offline_issue(withdraw_key=self._issue_key),
            ]
        if self._purpose is Purpose.CHECKIN:
            return self._go(Screen.MESSAGE, self._txt("checkin_offline"), error=True)
        return self._go(Screen.MESSAGE, self._txt("hall_unreachable"), error=True)

    def on_offline_issue_failed(self, effect: IssueOffline) -> list[Effect]:
        """The offline journal could not record a ticket (a full or read-only disk): there
        is no ticket, and the citizen is told so and sent to the service desk, never shown
        a number nobody recorded."""
        if effect.withdraw_key:
            # Not journaled, so nothing will withdraw the online attempt: it is no longer
            # replaced, and its answer, should it still come, is shown after all.
            self.pending_withdrawals = max(0, self.pending_withdrawals - 1)
            self._abandoned = {
                tok: key for tok, key in self._abandoned.items() if key != effect.withdraw_key
            }
        if effect.token != self.token or self._screen is not Screen.ISSUING:
            return []
        return self._go(Screen.MESSAGE, self._txt("issue_failed"), error=True)

    def _issuing_overdue(self) -> list[Effect]:
        """The issuing screen's deadline passed without an answer (a worker that hung, a
        result that was lost): the citizen moves on in a new session, so whatever the old
        one still hears is ignored. An online issue is given up for the offline ticket,
        exactly as when the hall is unreachable; the journal that did not answer gets a
        clear message."""
        given_up = self.token
        self.token += 1
        if self._purpose is Purpose.TICKET and not self._issuing_offline:
            self._abandoned[given_up] = self._issue_key
            for old in [tok for tok in self._abandoned if tok <= self.token - ABANDONED_KEPT]:
                del self._abandoned[old]
        if self._purpose is Purpose.CHECKIN or not self._issuing_offline:
            return self.on_hall_unavailable(self.token)
        return self._go(Screen.MESSAGE, self._txt("issue_failed"), error=True)

    def _opened_since(self, tile: Tile) -> bool:
        if not tile.opens_at:
            return False
        try:
            return self.clock() >= dt.datetime.fromisoformat(tile.opens_at)
        except ValueError:
            return False

    def on_refused(
        self,
        token: int,
        code: str,
        message: str = "",
        opens_at: str | None = None,
        held_number: str | None = None,
        held_ticket: int | None = None,
    ) -> list[Effect]:
        """The hall refused (daily limit, ID required, closed, no appointment…). Nothing was
        issued; the citizen is told why, on screen and by voice — outside opening hours,
        with the time the service opens (``opens_at``: the hall's local ISO time); for the
        daily limit, the number the person already holds (``held_number``) and 补打 of it
        (``held_ticket``), which the hall allows once, to the same card."""
        if token != self.token:
            return []
        self._touch()
        if code == "daily_limit" and held_number:
            id_number = self._card.id_number if self._card else self._manual_id
            self._reprint = (held_ticket, id_number) if held_ticket and id_number else None
            text = self._txt("refused_daily_limit_held", number=held_number)
            if self._reprint:
                text += " " + self._txt("reprint_offer")
            return self._go(Screen.MESSAGE, text, error=True)
        if code == "outside_hours":
            opening = opening_values(opens_at)
            if opening is not None:
                when = self._txt("opens_at", **opening)
                text = self._txt("refused_outside_hours", when=when)
                return self._go(Screen.MESSAGE, text, error=True)
            return self._go(Screen.MESSAGE, self._txt("refused_outside_hours_unknown"), error=True)
        key = f"refused_{code}" if code in REFUSALS else "refused_other"
        return self._go(Screen.MESSAGE, self._txt(key), error=True)

    def tap_reprint(self) -> list[Effect]:
        """补打 after a daily_limit refusal: the hall reprints the held ticket (once)."""
        self._touch()
        if self._reprint is None or self._screen is not Screen.MESSAGE:
            return []
        ticket_id, id_number = self._reprint
        self._reprint = None
        return [
            *self._go(Screen.ISSUING, self._txt("reprinting")),
            Reprint(self.token, ticket_id, id_number),
        ]

    # -- print ------------------------------------------------------------------------------
    def on_printed(self, token: int) -> list[Effect]:
        if self._ticket is None or self._screen is not Screen.TICKET:
            return []
        self._ticket = replace(self._ticket, printing=False)
        self._touch()
        return self._go(Screen.TICKET, self._ticket_sentence(printed=True))

    def on_print_failed(self, token: int, code: str) -> list[Effect]:
        """No paper, cover open, printer gone: the ticket stays on screen with a QR code,
        the citizen is told, and the hall hears of the printer at once."""
        self.parts["printer"] = (
            PartState.OFFLINE if code == "printer.not_there" else PartState.ERROR
        )
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
                # "1 person", never "about 0 minutes" with someone ahead
                key = "say_ahead_one" if tk.waiting_ahead == 1 else "say_ahead"
                if minutes < 1:
                    key += "_soon"
                parts.append(self._txt(key, ahead=tk.waiting_ahead, minutes=minutes))
        if tk.verification is Verification.MANUAL:
            parts.append(self._txt("manual_line"))
        if printed:
            parts.append(self._txt("say_take_ticket"))
        return " ".join(parts)

    # -- appointment check-in ---------------------------------------------------------------
    def tap_checkin(self) -> list[Effect]:
        """预约签到: the ID card, or the booking's QR code shown to the camera (issue 21)
        while the card screen waits — whichever comes first."""
        self._touch()
        self._purpose = Purpose.CHECKIN
        self._service = None
        self._verification = None
        self._matters = ()
        effects = self._start_card()
        camera = self._part("camera")
        # Frames are all a QR code needs: a camera whose face check failed still reads one.
        if self._screen is Screen.ID_CARD and camera is not None and camera.is_connected():
            effects = [
                *self._go(Screen.ID_CARD, self._txt("place_card_or_qr")),
                *[e for e in effects if not isinstance(e, Say)],
                ScanBooking(self.token, self.settings.card_timeout_s),
            ]
        return effects

    def on_booking_code(self, token: int, code: str) -> list[Effect]:
        """The camera read a booking's QR code while the card screen waited."""
        if token != self.token or self._screen is not Screen.ID_CARD:
            return []
        if self._purpose is not Purpose.CHECKIN:
            return []
        self._touch()
        self._go(Screen.ISSUING, speak=False)
        if self.offline:
            return [
                CancelCard(self.token),
                *self._go(Screen.MESSAGE, self._txt("checkin_offline"), error=True),
            ]
        return [CancelCard(self.token), CheckInByCode(self.token, code)]

    def on_remote_ticket(self, token: int, ticket_token: str) -> list[Effect]:
        """The camera read a remote ticket's QR code (its /t/ page): its holder is here."""
        if token != self.token or self._screen is not Screen.ID_CARD:
            return []
        if self._purpose is not Purpose.CHECKIN:
            return []
        self._touch()
        self._go(Screen.ISSUING, speak=False)
        if self.offline:
            msg = self._go(Screen.MESSAGE, self._txt("checkin_offline"), error=True)
            return [CancelCard(self.token), *msg]
        return [CancelCard(self.token), ConfirmRemote(self.token, ticket_token)]

    def _check_in(self) -> list[Effect]:
        self._go(Screen.ISSUING, speak=False)
        if self.offline:
            return [
                CancelScan(self.token),
                *self._go(Screen.MESSAGE, self._txt("checkin_offline"), error=True),
            ]
        id_number = self._card.id_number if self._card else self._manual_id
        assert id_number is not None
        return [CancelScan(self.token), CheckIn(self.token, id_number)]


def _verification(value: object) -> Verification | None:
    """The ticket's verification as the hall answered it (or as the flow decided it, for an
    offline ticket or a hall that does not record it); a value this kiosk does not know is
    shown as none, never a crash."""
    try:
        return Verification(str(value)) if value else None
    except ValueError:
        return None

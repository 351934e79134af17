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
    FACE_CONSENT = "face_consent"  # what the face check does, agree / decline (人工核验)
    GUIDE_SEARCH = "guide_search"  # 我要办: letters typed, matters offered (智能导办)
    GUIDE_MATTER = "guide_matter"  # one matter: its situation questions, then the checklist
    RATE = "rate"  # 评价上次办理: the five levels, then a 差评's reasons (kiosk/flows/rating.py)


# Screens where nothing is being done for a citizen: no idle warning, nothing to forget.
RESTING_SCREENS = frozenset({Screen.ATTRACT, Screen.HOME})
# Screens waiting on the hall: the idle timeout must not throw away a ticket being issued,
# but each has a deadline (``HallWait.busy_deadline_s``) after which ``tick`` moves on.
BUSY_SCREENS = frozenset({Screen.ISSUING})


class PartState(enum.StrEnum):
    """How a device part is, as the kiosk tells the hall in its heartbeat (the hall API's
    part states) and shows on the maintenance page (``part_<state>`` texts)."""

    OK = "ok"
    WARNING = "warning"  # works, but needs a look soon (paper near its end)
    ERROR = "error"  # fitted and connected, but failing (cover open, SAM fault)
    OFFLINE = "offline"  # fitted but not answering (unplugged)
    ABSENT = "absent"  # not fitted on this kiosk (``none`` in [devices])

    def is_working(self) -> bool:
        return self in WORKING_PART_STATES

    def is_connected(self) -> bool:
        return self not in DISCONNECTED_PART_STATES


WORKING_PART_STATES = frozenset({PartState.OK, PartState.WARNING})
"""The part does its job, a warning included: a citizen may be sent to it."""
DISCONNECTED_PART_STATES = frozenset({PartState.OFFLINE, PartState.ABSENT})
"""Nothing there to try: the kiosk takes the other way at once (the keypad for a reader)."""


class KeypadMode(enum.StrEnum):
    ID = "id"  # a citizen's ID number, typed for want of a card (masked as typed)
    STATUS = "status"  # the number on a ticket (A012, K1-A003) or its query code
    PIN = "pin"  # the admin PIN of the maintenance page (shown as dots)
    RATING = "rating"  # the number on the ticket of the visit to rate (评价上次办理)


class Purpose(enum.StrEnum):
    """Why the citizen is at the card reader or the keypad."""

    TICKET = "ticket"
    CHECKIN = "checkin"
    STATUS = "status"
    RATING = "rating"  # 评价上次办理


class FaceDecision(enum.StrEnum):
    """The face check's answer (``devices.camera.face.Decision``) and the runtime's own."""

    MATCH = "match"
    NO_MATCH = "no_match"
    UNCERTAIN = "uncertain"  # between the thresholds: a person decides
    UNAVAILABLE = "unavailable"  # no camera, no models, no card photo
    NO_FACE = "no_face"  # no good frame of a face
    CANCELLED = "cancelled"  # the citizen left meanwhile
    LIVENESS_FAILED = "liveness_failed"  # the asked movement was not seen in time


class Verification(enum.StrEnum):
    """How a ticket's holder was verified, as the hall records it (``verification`` of
    ``POST /api/v1/tickets``)."""

    FACE = "face"  # the face check passed: card photo and live face, on this machine
    MANUAL = "manual"  # 人工核验: staff check the ID card at the counter (declined, failed,
    # or the face check could not run)


class LivenessChallenge(enum.StrEnum):
    """The movement the citizen is asked for (``devices.camera.liveness.Challenge``)."""

    TURN_LEFT = "turn_left"
    TURN_RIGHT = "turn_right"
    BLINK = "blink"


class FaceEvent(enum.StrEnum):
    """What the face step counts (``CountFace``): never an image, never who."""

    CONSENT_GIVEN = "consent_given"
    CONSENT_DECLINED = "consent_declined"
    CONSENT_WITHDRAWN = "consent_withdrawn"  # "到窗口核验" on the face screen
    PASSED = "passed"
    FAILED = "failed"  # liveness or match failed twice, or uncertain: manual
    UNAVAILABLE = "unavailable"  # no camera, no models, no card photo: manual


@dataclass(frozen=True)
class HallWait:
    """How the kiosk's hall client waits (``kiosk/app.py`` builds the client from this), and
    so how long a screen waiting on the hall may wait before the citizen is moved on."""

    timeout_s: float = 2.0
    """Seconds to connect, and again between two reads of the answer."""
    retries: int = 1
    """Repeats of a safe call after a timeout, a connection error or a 502/503/504."""
    backoff_s: float = 0.1
    """urllib3's backoff factor between the repeats."""
    retry_after_max_s: int = 1
    """The longest Retry-After the client obeys."""

    def longest_call_s(self) -> float:
        """The longest one call can take: each attempt may wait ``timeout_s`` to connect
        and ``timeout_s`` for the answer, and each repeat may first sleep."""
        attempts = self.retries + 1
        longest_backoff = self.backoff_s * 2.0 ** max(self.retries - 1, 0)
        sleep = max(float(self.retry_after_max_s), longest_backoff)
        return attempts * 2 * self.timeout_s + self.retries * sleep

    @property
    def busy_deadline_s(self) -> float:
        """Seconds a busy screen (``BUSY_SCREENS``) waits for the answer of its effect:
        twice the longest call, for the effect's wait for a free worker and the way back
        through the UI clock. Past it the answer is taken as lost (a hung worker, a
        failure nobody reported) and the citizen is moved on."""
        return 2 * self.longest_call_s()


HALL_WAIT = HallWait()
"""The kiosk's hall client: short waits, a citizen is waiting; offline issuing takes over."""


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
    opens_at: str | None = None  # closed now: when it next takes tickets (hall's local ISO)
    counters: tuple[str, ...] = ()  # ids of the counters that call it (the ticket says so)
    rejoin_min: int = 0  # the hall's 过号 rule: rejoin at a counter within this many minutes

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
    priority_reason: str | None = None  # elderly, disabled, military: why 绿色通道
    wait_range_s: tuple[int, int] | None = None  # the hall's range for the wait (seconds)
    name_masked: str | None = None
    printing: bool = True
    print_failed: bool = False
    verification: Verification | None = None
    """``manual``: the ticket and its paper say the ID is checked at the counter."""


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
    keypad_mode: KeypadMode | None = None
    keypad_text: str = ""  # what the keypad shows (masked for ID numbers and PINs)
    keypad_keys: str = ""  # keys offered: "0123456789X"; for status also letters and "-"
    ticket: TicketView | None = None
    guide: Tile | None = None
    status_lines: tuple[str, ...] = ()
    offline: bool = False
    idle_warning: bool = False
    greeting: str = ""  # "张*三，您好" from the card: masked, gone at the next reset
    can_manual: bool = False
    can_reprint: bool = False  # the message screen offers 补打 (a held ticket, lost)
    pending_uploads: int = 0
    refused_uploads: int = 0
    parts: dict[str, PartState] = field(default_factory=dict)
    challenge: LivenessChallenge | None = None
    """The movement asked for on the face screen (its arrow and large text), None before."""
    challenge_s: float = 0.0
    """Seconds the citizen has for it (the screen counts them down)."""
    guide_view: GuideView | None = None
    """智能导办 (kiosk/flows/guide.py): what the 我要办 screens show, None elsewhere."""
    rating: RatingView | None = None
    """评价上次办理 (kiosk/flows/rating.py): the visit being rated, None elsewhere."""


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
    challenge: LivenessChallenge | None = None
    """The liveness movement to see first (frames from before it are compared); None: no
    liveness challenge, the frames are compared at once."""
    timeout_s: float = 0.0
    """Seconds for the movement, from when the camera delivers."""


@dataclass(frozen=True)
class StartCamera(Effect):
    """The citizen agreed to the face check: start the camera (it is off until then) and
    choose the liveness challenge; answered by ``on_camera_ready``. The camera stops again
    when the face check ends (``CaptureFace`` answered, ``CancelFace``)."""


@dataclass(frozen=True)
class CountFace(Effect):
    """Count a face-step outcome (consent, refusal, pass, fail): a number, no image and no
    identity, for the log and the maintenance figures."""

    event: FaceEvent


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
    verification: Verification | None = None
    """For a face-checked service: how the holder was verified (the hall records it)."""
    matters: tuple[str, ...] = ()
    """The catalogue's matters the 我要办 journey found (a bundle's, or one): the hall
    registers them with the ticket for the counter and one rating each."""


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
class ScanBooking(Effect):
    """预约签到 by QR code (issue 21): look for a booking's QR code in the camera's frames
    while the citizen may also place the ID card; ends at a code, a cancel or the timeout."""

    timeout_s: float


@dataclass(frozen=True)
class CancelScan(Effect):
    """Stop looking for a QR code (the card was read, the citizen left): the camera off."""


@dataclass(frozen=True)
class CheckInByCode(Effect):
    code: str = field(repr=False)


@dataclass(frozen=True)
class ConfirmRemote(Effect):
    """远程取号: the ticket's QR code was shown; tell the hall its holder has arrived."""

    ticket_token: str = field(repr=False)


@dataclass(frozen=True)
class PrintTicket(Effect):
    ticket: TicketView
    service_name: str = ""  # Chinese name for the paper, whatever the screen language
    service_name_en: str = ""
    counters: tuple[str, ...] = ()  # the windows that serve it, printed as 办理窗口
    rejoin_min: int = 0


@dataclass(frozen=True)
class PrintGuide(Effect):
    service: Tile


@dataclass(frozen=True)
class PrintChecklist(Effect):
    """智能导办: the 一次告知单 of one matter or bundle, Chinese first, with a QR code to the
    same guide online (``url``)."""

    code: str
    title: str
    title_en: str
    queue: str  # the service to take a ticket for
    situation: tuple[str, ...]  # the answers chosen (二手房, 有贷款)
    materials: tuple[str, ...]  # one line each: name and form, copies, 电子证照
    facts: tuple[str, ...]  # time limits, fee, visits, counters: "label：value"
    url: str


@dataclass(frozen=True)
class Reprint(Effect):
    """补打: the hall prints the ticket this card already holds again (once)."""

    ticket_id: int
    id_number: str = field(repr=False)


@dataclass(frozen=True)
class QueryTicket(Effect):
    ticket_id: int | None = None  # the 查询码 / QR code path
    number: str = ""  # today's number as printed big on the ticket (A012, K1-A003)


@dataclass(frozen=True)
class HelpRequest(Effect):
    reason: str


@dataclass(frozen=True)
class Heartbeat(Effect):
    parts: dict[str, PartState]


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
        opens_at=s.get("opens_at"),
        counters=tuple(str(c) for c in s.get("counters", ())),
        rejoin_min=int(s.get("rejoin_min", 0)),
    )


# -- 智能导办 (kiosk/flows/guide.py) ----------------------------------------------------------
@dataclass(frozen=True)
class GuideHitView:
    code: str
    label: str  # the matter's name in the screen's language
    service_name: str  # the queue it goes to, in the screen's language
    bundle: bool  # 一件事一次办: one ticket for several matters


@dataclass(frozen=True)
class GuideView:
    """What the 我要办 screens show. On the search screen: the letters typed and the
    matters offered (the popular ones before anything is typed). On the matter screen:
    the situation question being asked with its answers, or, once answered, the checklist
    and the facts, with 取号 and 打印告知单."""

    query: str = ""
    hits: tuple[GuideHitView, ...] = ()
    popular: bool = True
    note: str = ""  # nothing found, or where to go instead
    code: str = ""
    name: str = ""
    question: str = ""  # the situation question being asked; "" once all are answered
    options: tuple[tuple[str, str], ...] = ()  # (tag, label) of its answer buttons
    situation: tuple[str, ...] = ()  # the answers chosen so far, as labels
    checklist: tuple[str, ...] = ()
    facts: tuple[str, ...] = ()
    can_ticket: bool = False  # the hall has the queue: 取号 takes the ticket
    printing: bool = False


# -- 评价上次办理 (好差评 at the kiosk, issue 19) ------------------------------------------


@dataclass(frozen=True)
class RatingView:
    """The visit being rated: its number and service, the level tapped, and after a 差评
    the reasons asked for (codes of hall.domain.evaluation.Reason, texts rate_reason_*)."""

    number: str
    service: str
    score: int | None = None
    asking_reasons: bool = False
    reasons: tuple[str, ...] = ()


@dataclass(frozen=True)
class FindVisit(Effect):
    """The citizen's last visit still to rate: by ticket number, or by the card's ID
    number (never shown: ``repr`` leaves it out)."""

    number: str = ""
    id_number: str = field(default="", repr=False)


@dataclass(frozen=True)
class SubmitRating(Effect):
    ticket: int
    score: int
    matter_no: str | None = None
    reasons: tuple[str, ...] = ()

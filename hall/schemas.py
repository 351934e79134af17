"""What Hall API v1 answers: one model per response body, the contract every client reads.

The services build these, the routes declare them (``response_model``, so ``/openapi.json``
documents every body), and ``hall.client`` parses the same models from the wire, so a
kiosk or a board reads ``ticket.number``, not ``ticket["number"]``. Unknown fields are
ignored when parsing, so an older client keeps working against a newer server.

Times are local ISO 8601 strings with the hall's offset, as the hall shows them; personal
data is masked before it gets here (``id_masked``, ``name_masked``).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from hall.domain.tickets import CounterState, Status

PartState = Literal["ok", "warning", "error", "offline", "absent"]


class Model(BaseModel):
    model_config = ConfigDict(frozen=True)


class Health(Model):
    """``/healthz``: 200 while the database answers, 503 (``degraded``) while it does not."""

    status: Literal["ok", "degraded"]
    storage: Literal["ok", "down"]
    hall: str
    name: str
    last_event_id: int


class ErrorBody(Model):
    """Every refusal: a stable code for programs, the details for a technician, and the
    code's text for people in Chinese and English (``common/assets/locales/errors.toml``)."""

    error: str
    message: str
    zh: str = ""
    en: str = ""
    opens_at: str | None = None
    """For ``outside_hours``: when the service next takes tickets (local time, ISO 8601)."""
    held_number: str | None = None
    """For ``daily_limit``: the number the person already holds for this service today."""
    held_ticket: str | None = None
    """For ``daily_limit``: its id, for ``POST /tickets/{id}/reprint`` (once)."""
    locked_until: str | None = None
    """For ``login_locked``: when the account may log in again (local time, ISO 8601)."""
    block_reason: str | None = None
    """For ``blocked`` (booking): ``no_show`` or ``cancelled``, the limit the person reached."""
    blocked_until: str | None = None
    """For ``blocked``: the last day booking is blocked (local date, ISO 8601)."""


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorBody, "description": text}
    for status, text in (
        (400, "malformed request body"),
        (401, "missing or wrong token, or not logged in"),
        (403, "not allowed for this token's role or this account"),
        (404, "no such ticket, counter or service"),
        (409, "the queue's state does not allow it now"),
        (413, "request body too large"),
        (422, "invalid input"),
        (429, "too soon (a recall's cooldown, a login throttle)"),
        (503, "the database is not answering (Retry-After says when to try again)"),
    )
}
"""The refusals every route may answer, for OpenAPI."""


class EventTicket(Model):
    """What events and the board carry about a ticket: no ID data, the masked name only."""

    id: int
    number: str
    service: str
    priority: str
    """Queue class: normal, priority (绿色通道), appointment."""
    status: Status
    counter: str | None
    counter_name: str | None
    counter_name_en: str | None
    name_masked: str | None
    recall_count: int
    verification: str | None = None
    """face (the kiosk's face check passed), manual (人工核验: staff check the ID card at
    the counter: consent declined, the check failed or could not run), or None."""


class Ticket(EventTicket):
    """A ticket as its holder (kiosk, the citizen's page) and staff see it."""

    service_name: str
    service_name_en: str
    priority_reason: str | None
    issued_at: str
    called_at: str | None
    waiting_ahead: int
    estimated_wait_s: int
    id_masked: str | None
    note: str | None
    transferred_to: int | None
    public_token: str
    offline_number: str | None
    wait_range_min_s: int | None = None
    """The printed and shown wait range (issue 22), low end in seconds: e.g. 600 of
    "10–20 分钟"; None when not waiting. Rounded to minutes (5 minutes from 10 on)."""
    wait_range_max_s: int | None = None
    """Its high end in seconds; ``[cockpit].range_level`` of real waits should fall inside
    (the cockpit measures it)."""


class ImportOutcome(StrEnum):
    IMPORTED = "imported"  # joined today's queue
    DUPLICATE = "duplicate"  # uploaded before: the same ticket again
    REFUSED = "refused"  # not taken; ``error`` says why, the kiosk keeps it in its journal


class ImportItemResult(Model):
    """The hall's answer for one offline ticket of an upload, in the order sent."""

    offline_number: str | None
    outcome: ImportOutcome
    ticket: Ticket | None = None
    error: str | None = None
    message: str | None = None
    zh: str | None = None
    en: str | None = None


class ImportResult(Model):
    results: list[ImportItemResult]


class ServiceInfo(Model):
    code: str
    name: str
    name_en: str
    prefix: str
    open: bool
    """Takes tickets now (configured open, and within its opening hours)."""
    opens_at: str | None = None
    """When closed now: when it next takes tickets (local ISO time; None: not this month)."""
    hours_today: list[str] = []
    """Today's periods, e.g. ["08:30-12:00", "13:30-17:30"]; 延时服务 marked with a "+"."""
    requires_id: bool
    requires_face: bool
    materials: list[str]
    materials_en: list[str]
    waiting: int
    estimated_wait_s: int
    counters: list[str] = []
    """Ids of the counters (窗口) that call this service, for the ticket's 办理窗口 line."""
    rejoin_min: int = 0
    """A missed (过号) ticket may rejoin the queue at a counter within this many minutes
    ([policy].no_show_requeue_s): the ticket prints the rule."""


class ParkedTicket(Model):
    id: int
    number: str


class CounterStatus(Model):
    id: str
    name: str
    name_en: str
    services: list[str]
    state: CounterState
    reason: str | None
    since: str
    current: Ticket | None
    parked: list[ParkedTicket]
    waiting: dict[str, int]


class Evaluation(Model):
    ticket: int
    number: str
    score: int
    counter: str | None
    grade: str = ""
    """好评 (good, 4–5), 中评 (neutral, 3) or 差评 (bad, 1–2)."""
    channel: str = "api"
    matter_no: str | None = None
    """The 办件编号 rated (一次一评)."""
    case: int | None = None
    """The case a 差评 opened."""


class Matter(Model):
    """A 办件编号 registered for a ticket at a counter (一次一评: each is rated once)."""

    matter_no: str
    service: str
    counter: str | None
    source: str
    """``entered`` (typed or scanned by staff), ``generated`` (the hall's format), or
    ``guide`` (the kiosk's 我要办 sent the matter with the ticket; numbered in the hall's
    format)."""
    rated: bool
    code: str | None = None
    """The catalogue's matter (``guide/data/matters.toml``) when the ticket named it."""
    name: str | None = None
    name_en: str | None = None


class CounterMatters(Model):
    """The ticket at a counter (current, or the one just finished) and its matters."""

    ticket: int | None
    number: str | None
    matters: list[Matter]


class CaseStepOut(Model):
    step: str
    by: str
    at: str
    note: str
    fields: dict[str, Any]


class Case(Model):
    """A 差评, 办不成事, complaint or suggestion with its deadline and steps."""

    id: int
    kind: str
    status: str
    ticket: int | None
    service: str | None
    counter: str | None
    contact_masked: str | None
    description: str
    opened_on: str
    due_on: str
    """The working day it must be done by (local date)."""
    extended_to: str | None
    extension_reason: str | None
    overdue: bool
    closed_at: str | None
    steps: list[CaseStepOut]


class PublicFigures(Model):
    """What GB/T 39734 Annex B says is disclosed, for the hall or one department."""

    ratings: int
    good: int
    neutral: int
    bad: int
    good_rate_pct: float | None
    bad_cases: int
    rectified_on_time_pct: float | None
    followed_up_pct: float | None


class PublicEvaluations(Model):
    hall: str
    month: str
    total: PublicFigures
    by_service: dict[str, PublicFigures]


class Appointment(Model):
    id: int
    service: str
    slot_start: str
    status: str
    id_masked: str | None
    ticket_id: int | None
    code: str | None = None
    """The booking code (its QR code checks in at the kiosk camera; issue 21)."""


class HelpRequest(Model):
    id: int
    kiosk: str
    reason: str
    created_at: str


class HelpResolved(Model):
    id: int
    kiosk: str
    resolved: bool


class HeartbeatAck(Model):
    device: str
    parts: dict[str, PartState]
    changed: bool


class DeviceHealth(Model):
    device: str
    role: str
    parts: dict[str, PartState]
    online: bool
    last_seen: str


class BoardHall(Model):
    name: str
    name_en: str
    notice: str
    timezone: str


class BoardCall(EventTicket):
    called_at: str


class BoardService(Model):
    code: str
    name: str
    name_en: str
    prefix: str


class BoardCounter(Model):
    id: str
    name: str
    name_en: str
    state: CounterState
    reason: str | None
    services: list[str]


class Board(Model):
    """The lobby board's snapshot; events after ``last_event_id`` update it."""

    hall: BoardHall
    recent_calls: list[BoardCall]
    waiting: dict[str, int]
    services: list[BoardService]
    counters: list[BoardCounter]
    last_event_id: int


class Figures(Model):
    """One row of statistics (the hall, a service, a counter or an hour)."""

    issued: int
    called: int
    served: int
    no_show: int
    transferred: int
    expired: int
    """Still open when the hall closed its day (never served)."""
    face_verified: int
    """Tickets whose holder consented to the kiosk's face check and passed it."""
    manual_verification: int
    """Tickets marked 人工核验 (consent declined, or the face check failed or could not run)."""
    waiting_now: int
    wait_avg_s: float | None
    wait_p50_s: float | None
    wait_p90_s: float | None
    wait_max_s: float | None
    service_avg_s: float | None
    evaluations: int
    satisfaction_avg: float | None
    satisfied_pct: float | None
    pauses: int
    paused_s: int


class Stats(Model):
    model_config = ConfigDict(frozen=True, validate_by_name=True, serialize_by_alias=True)

    from_: str = Field(alias="from")
    to: str
    total: Figures
    by_service: dict[str, Figures]
    by_counter: dict[str, Figures]
    by_hour: dict[str, Figures]


# -- online booking (预约, issue 21) ---------------------------------------------------------


class BookingSlot(Model):
    start: str
    end: str
    capacity: int
    """Places open to booking (the slot's capacity less the walk-in share)."""
    left: int


class BookingDay(Model):
    day: str
    state: str
    """``open``, or why not: ``holiday`` (法定节假日), ``weekend``, ``closed``, ``no_slots``,
    ``outside_window``."""
    notice: str | None
    """The hall's notice when an admin closed the day."""
    slots: list[BookingSlot]


class BookingSlots(Model):
    service: str
    service_name: str
    service_name_en: str
    materials: list[str]
    materials_en: list[str]
    first_day: str
    last_day: str
    days: list[BookingDay]


class BookableService(Model):
    code: str
    name: str
    name_en: str
    materials: list[str]
    materials_en: list[str]
    requires_id: bool


class Booking(Model):
    """A booking as its holder sees it: masked name, ID and phone only."""

    code: str
    """10 characters; shown grouped (ABCDE-23456) and in the QR code."""
    service: str
    service_name: str
    service_name_en: str
    slot_start: str
    slot_end: str
    status: str
    """booked, checked_in, cancelled, no_show."""
    name_masked: str | None
    id_masked: str | None
    phone_masked: str | None
    channel: str | None
    """online (citizen's phone), desk (staff for a citizen), api."""
    cancel_until: str
    can_change: bool
    """Whether it may still be cancelled or moved (before ``cancel_until``)."""
    cancel_reason: str | None
    """citizen, staff or closed (the hall closed the day)."""
    notice: str | None
    check_in_from: str
    ticket_id: int | None


class BookingCount(Model):
    service: str
    service_name: str
    booked: int
    """Still to come."""
    arrived: int
    no_show: int
    cancelled: int
    capacity: int
    """Places open to booking that day."""


class BookingEntry(Model):
    code: str
    service: str
    slot_start: str
    status: str
    name_masked: str | None
    id_masked: str | None
    channel: str | None


class BookingClosure(Model):
    day: str
    service: str | None
    notice: str
    created_by: str
    cancelled: int
    """Bookings it cancelled (their holders see the notice on their booking page)."""


class BookingDaySummary(Model):
    """The day's bookings for staff: counts per service, closures, the list (masked)."""

    day: str
    services: list[BookingCount]
    closures: list[BookingClosure]
    bookings: list[BookingEntry]


# -- 智能导办 (issue 20): the guide's search and the 办事指南 of a matter ------------------------
class GuideHit(Model):
    """One ranked answer of ``GET /guide``: a matter (事项) or a 一件事一次办 bundle."""

    code: str
    name: str
    name_en: str
    kind: Literal["matter", "bundle"]
    service: str
    """the queue that handles it: a ticket for this service is the right ticket"""
    service_name: str | None
    """the service's name in this hall; None when this hall does not configure it"""
    counters: list[str]
    score: float = Field(ge=0, le=1)


class GuideElsewhere(Model):
    """The query names something this hall does not handle: where to go instead."""

    where: str
    where_en: str


class GuideAnswer(Model):
    query: str
    results: list[GuideHit]
    elsewhere: GuideElsewhere | None


class GuideMaterial(Model):
    name: str
    name_en: str
    form: Literal["原件", "复印件", "原件及复印件"]
    copies: int
    e_license: bool
    """an 电子证照 may replace it"""
    note: str
    when: list[str]
    """the situation tags it depends on (all must be chosen); empty: always needed"""


class GuideOption(Model):
    tag: str
    text: str
    text_en: str


class GuideQuestion(Model):
    """One step of the 情形引导."""

    id: str
    text: str
    text_en: str
    options: list[GuideOption]


class GuideFaq(Model):
    q: str
    a: str


class GuideCounter(Model):
    id: str
    name: str
    name_en: str | None


class GuideMatter(Model):
    """``GET /matters/{code}`` for a matter: its whole 办事指南, and the checklist for the
    situation given by ``?tags=`` (the unconditional materials when none is given)."""

    kind: Literal["matter"]
    code: str
    name: str
    name_en: str
    category: str
    service: str
    service_name: str | None
    counters: list[GuideCounter]
    aliases: list[str]
    conditions: list[str]
    materials: list[GuideMaterial]
    questions: list[GuideQuestion]
    tags: list[str]
    """the situation tags the checklist was made for"""
    checklist: list[GuideMaterial]
    time_limit_legal_days: int | None
    """法定办结时限, working days; None when no law sets one"""
    time_limit_promised_days: int
    """承诺办结时限, working days; 0 = 即办"""
    fee: str
    fee_en: str
    visits: int
    """到现场次数; 0 = 全程网办"""
    online: bool
    online_note: str
    basis: list[str]
    faq: list[GuideFaq]
    url: str
    """this guide on the hall's citizen pages (the QR code of the printed 告知单)"""


class GuideBundleMember(Model):
    code: str
    name: str
    name_en: str
    time_limit_promised_days: int


class GuideBundle(Model):
    """``GET /matters/{code}`` for a 一件事一次办 bundle: one ticket to the 综合窗口, its
    matters, and the merged, de-duplicated checklist."""

    kind: Literal["bundle"]
    code: str
    name: str
    name_en: str
    service: str
    service_name: str | None
    counters: list[GuideCounter]
    note: str
    matters: list[GuideBundleMember]
    checklist: list[GuideMaterial]
    url: str


class GuideEntry(Model):
    """A line of the catalogue (``GET /matters``)."""

    code: str
    name: str
    name_en: str
    kind: Literal["matter", "bundle"]
    category: str
    service: str
    service_name: str | None
    popular: bool
    """one of the tiles shown before anything is typed"""


# -- 好差评 rating integrity (issue 19) ------------------------------------------------------


class IntegrityFinding(Model):
    pattern: str
    """instant, uniform, short_service or phone_disagrees (hall.domain.integrity.Pattern)."""
    count: int
    of: int
    detail: str


class StaffIntegrityOut(Model):
    staff: str
    """The pad's account (username), or ``counter-<id>`` for ratings no account asked."""
    name: str
    ratings: int
    mean: float | None
    findings: list[IntegrityFinding]


class IntegrityReport(Model):
    month: str
    staff: list[StaffIntegrityOut]
    """Flagged first."""
    open_cases: int
    overdue_cases: int
    bad_with_contact: int
    followed_up: int
    """差评 cases with a contact, and those followed up (回访): the target is all of them."""


class RemoteTicket(Ticket):
    """远程取号 (issue 21): a normal ticket taken on the phone; it is not called until it
    is confirmed on arrival (kiosk or counter) before ``confirm_by``, then it expires."""

    remote: bool = True
    confirm_by: str | None
    """Local ISO time; None once confirmed."""
    confirmed: bool


class RatableVisit(Model):
    """评价上次办理 (the kiosk): the citizen's last visit still to be rated, by ticket
    number or ID card; rated with ``POST /tickets/{ticket}/evaluation`` (channel kiosk)."""

    ticket: int
    number: str
    service: str
    service_name: str
    service_name_en: str
    matter_no: str | None
    """The matter to rate (null: the ticket is one matter, the hall numbers it)."""
    matter_index: int
    matters: int
    finished_at: str
    until: str
    """The rating is offered until then (``[cases] phone_rating_days`` after the finish)."""

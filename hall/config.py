"""Hall config file (TOML): the keys of DESIGN.md plus the queue policy.

Loaded once at start; every error names the file, the key and what is wrong, so a
technician fixes the file instead of reading a traceback. ``hall.config`` is public: the
kiosk and signage read the same file (their own sections are kept as plain tables and
validated by their owners with the same model settings and formatter, ``hall.configkit``).

Each section is a pydantic model (unknown keys refused, constraints and units on the
fields). On top of the models:

- ``version``: the format a file is written for. A file without it is version 1 and is
  migrated on load (``MIGRATIONS``); the sample carries ``CURRENT_VERSION``.
- Secrets from the environment (``SecretsFromEnvironment``): ``GOVHALL_HALL_SECRET``,
  ``GOVHALL_SERVER_DATABASE``, ``GOVHALL_TOKEN_<NAME>`` for the ``[[token]]`` named NAME,
  ``GOVHALL_KIOSK_TOKEN``, ``GOVHALL_KIOSK_ADMIN_PIN``, ``GOVHALL_SIGNAGE_TOKEN``: set and not
  empty, a variable replaces the file's value, which may then be left out.
- The sample's placeholder tokens are refused unless the config is loaded for
  ``govhall demo`` (``demo=True``, or ``GOVHALL_DEMO=1``, which the demo sets for the
  processes it starts).
"""

from __future__ import annotations

import copy
import datetime as dt
import functools
import itertools
import logging
import os
import re
import secrets
import tomllib
import weakref
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    BeforeValidator,
    Field,
    SecretStr,
    ValidationError,
    create_model,
    model_validator,
)
from pydantic_settings import BaseSettings, SettingsConfigDict

from hall.configkit import (
    ConfigError,
    ConfigModel,
    Loc,
    Problem,
    conflict,
    conflicts,
    file_name,
    format_problems,
    format_validation_error,
)
from hall.domain.booking import Limits, ServiceRules, Window
from hall.domain.hours import WEEKDAYS, Period, Week, parse_period
from hall.domain.tickets import offline_prefix_of

__all__ = [
    "CURRENT_VERSION",
    "DEFAULT_PORT",
    "DEMO_VARIABLE",
    "ROLES",
    "ConfigError",
    "Counter",
    "HallConfig",
    "Policy",
    "ServerConfig",
    "Service",
    "Token",
    "is_sample_token",
    "load_config",
    "parse_config",
    "token_variable",
]

log = logging.getLogger(__name__)

ROLES = ("kiosk", "display", "counter", "admin")
Role = Literal["kiosk", "display", "counter", "admin"]
DEFAULT_PORT = 8700
CURRENT_VERSION = 3
"""The config format this govhall reads and the sample is written in; older files are
migrated on load, newer ones refused."""
ENV_PREFIX = "GOVHALL_"
DEMO_VARIABLE = "GOVHALL_DEMO"
"""``1``: accept the sample's placeholder tokens (set by ``govhall demo`` for its processes)."""
SAMPLE_TOKENS = frozenset(
    f"sample-{role}-token-change-me" for role in ("kiosk", "display", "counter", "admin")
)
_CODE_RE = re.compile(r"^[A-Z][A-Z0-9]{0,3}$")
_COUNTER_ID_RE = re.compile(r"^[A-Za-z0-9_-]{1,16}$")


def is_sample_token(token: str) -> bool:
    """A token of the sample config (``sample-…-token-change-me``) or an edit of one:
    published with the code, so it guards nothing."""
    return token in SAMPLE_TOKENS or "change-me" in token.lower()


def token_variable(name: str) -> str:
    """The environment variable that may hold the token of the ``[[token]]`` named ``name``:
    upper-cased, every character but A–Z and 0–9 an underscore (kiosk-1: GOVHALL_TOKEN_KIOSK_1)."""
    return f"{ENV_PREFIX}TOKEN_" + re.sub(r"[^A-Z0-9]", "_", name.upper())


# -- field types ------------------------------------------------------------------------------


def _not_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be empty")
    return value


def _code(value: str) -> str:
    if not _CODE_RE.match(value):
        raise ValueError(f"{value!r} must be 1–4 upper-case letters/digits starting with a letter")
    return value


def _counter_id(value: str) -> str:
    if not _COUNTER_ID_RE.match(value):
        raise ValueError(f"{value!r} must be 1–16 letters, digits, - or _")
    return value


def _int_as_text(value: Any) -> Any:
    """``id = 3`` means counter "3" (TOML has no other way to write it bare)."""
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


def _time_zone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {value!r}") from None
    return value


def _public_url(value: str) -> str:
    if value and not re.match(r"^https?://[^/\s?#]+(/[^\s?#]*)?$", value):
        raise ValueError(f"{value!r} is not an http:// or https:// address")
    return value.rstrip("/")


def _upper(value: Any) -> Any:
    return value.upper() if isinstance(value, str) else value


def _some(what: str) -> Callable[[tuple[Any, ...]], tuple[Any, ...]]:
    def check(value: tuple[Any, ...]) -> tuple[Any, ...]:
        if not value:
            raise ValueError(f"at least one {what} is required")
        return value

    return check


Text = Annotated[str, AfterValidator(_not_blank)]
Code = Annotated[str, AfterValidator(_code)]
Strings = Annotated[tuple[str, ...], Field(strict=False)]  # a TOML array is a list
Table = dict[str, Any]


# -- sections ---------------------------------------------------------------------------------


def _periods(value: tuple[str, ...]) -> tuple[str, ...]:
    parsed = sorted(parse_period(v) for v in value)
    for a, b in itertools.pairwise(parsed):
        if a.end is None or b.start < a.end:
            raise ValueError(f"{a.label()} and {b.label()} overlap")
    return value


def _weekdays(value: dict[str, tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
    for key in value:
        if key not in WEEKDAYS:
            raise ValueError(f"{key!r} is not one of {', '.join(WEEKDAYS)}")
    return value


Periods = Annotated[tuple[str, ...], Field(strict=False), AfterValidator(_periods)]
ALL_DAY = ("00:00-24:00",)


class Hours(ConfigModel):
    """``[hours]`` (the hall's) or a service's ``hours = {…}`` (only the keys it changes):
    when tickets are taken. Periods are local ``"HH:MM-HH:MM"`` (``24:00`` as an end).
    Without ``[hours]`` the hall takes tickets around the clock, as before version 2."""

    workdays: Periods = ALL_DAY
    """Monday–Friday, and the Saturdays/Sundays the national calendar makes working days (调休)."""
    saturday: Periods = ALL_DAY
    sunday: Periods = ALL_DAY
    holidays: Periods = ALL_DAY
    """法定节假日 (statutory holidays): most halls close, ``holidays = []``."""
    extended: Annotated[dict[str, Periods], AfterValidator(_weekdays)] = Field(default_factory=dict)
    """延时服务 on working days, per weekday: ``extended = { tue = ["17:30-19:00"] }``."""
    national_calendar: bool = True
    """Follow 法定节假日 and 调休 working days (the chinese-calendar package)."""
    closed_dates: Annotated[tuple[dt.date, ...], Field(strict=False)] = ()
    """Extra days the hall is closed (e.g. a local holiday)."""
    open_dates: Annotated[tuple[dt.date, ...], Field(strict=False)] = ()
    """Extra days open with working-day hours."""
    expire_after_min: int = Field(default=60, ge=0, le=24 * 60)
    """Minutes after the day's last period that tickets still open expire (staff serve those
    who waited); at the latest at local midnight. Only the hall's ``[hours]`` sets it."""

    def week(self) -> Week:
        def periods(texts: tuple[str, ...]) -> tuple[Period, ...]:
            return tuple(parse_period(x) for x in texts)

        return Week(
            workdays=periods(self.workdays),
            saturday=periods(self.saturday),
            sunday=periods(self.sunday),
            holidays=periods(self.holidays),
            extended={day: periods(v) for day, v in self.extended.items()},
            national_calendar=self.national_calendar,
            closed_dates=frozenset(self.closed_dates),
            open_dates=frozenset(self.open_dates),
        )

    def over(self, base: Hours) -> Hours:
        """These hours where set, ``base`` (the hall's) for the rest."""
        return base.model_copy(update={k: getattr(self, k) for k in self.model_fields_set})


class Service(ConfigModel):
    """A ``[[service]]``: one kind of business citizens take a ticket for."""

    code: Code
    """Names the service in the API, the counters and the statistics (1–4 of A–Z, 0–9)."""
    prefix: Code = Field(default_factory=lambda data: data.get("code", ""))
    """Start of its ticket numbers (A001); unique in the hall; default: the code."""
    name: Text
    name_en: str = ""
    requires_id: bool = False
    """A ticket needs the citizen's ID card (read at the kiosk or typed at the keypad)."""
    requires_face: bool = False
    """The kiosk compares the face with the ID card photo (needs requires_id)."""
    open: bool = True
    materials: Strings = ()
    """Documents to bring, printed on the ticket."""
    materials_en: Strings = ()
    avg_service_s: float = Field(default=300.0, gt=0)
    """Service time in seconds assumed for the wait estimate before any is observed today."""
    daily_limit: int | None = Field(default=None, ge=1)
    """Open tickets one person may hold for this service per day (None: the hall default)."""
    hours: Hours | None = None
    """This service's own opening hours, over the hall's ``[hours]`` key by key."""

    @model_validator(mode="after")
    def _face_needs_id(self) -> Service:
        if self.requires_face and not self.requires_id:
            raise conflict(
                ("requires_face",),
                "a face check needs the ID card photo, so requires_id must be true",
            )
        return self


class Counter(ConfigModel):
    """A ``[[counter]]``: a window (窗口) and the services its staff call."""

    id: Annotated[str, BeforeValidator(_int_as_text), AfterValidator(_counter_id)]
    """1–16 letters, digits, - or _ (``id = 3`` is read as "3")."""
    name: Text
    services: Annotated[Strings, AfterValidator(_some("service"))]
    """Codes of the ``[[service]]`` entries called here."""
    name_en: str = ""


class Token(ConfigModel):
    """A ``[[token]]``: an API bearer token and the role it grants."""

    name: Text
    """Shown in logs and the doctor (never the token); names its variable GOVHALL_TOKEN_<NAME>."""
    role: Role
    token: str = Field(min_length=16, repr=False)
    """At least 16 characters (``openssl rand -hex 24``); may come from GOVHALL_TOKEN_<NAME>."""
    device: str | None = Field(default=None, min_length=1, max_length=32)
    """Kiosk and display tokens: the device id it speaks for (the kiosk's ``[kiosk].id``,
    e.g. "K1"); a heartbeat, help request or offline upload may not name another. ``"*"``
    lets it speak for any device (only say so on purpose)."""
    counters: Strings | Literal["*"] | None = None
    """Counter tokens: the counters (``["3", "4"]``) it may call for, or ``"*"`` for all."""
    offline_prefix: Code | None = None
    """Kiosk tokens: the start of the kiosk's offline numbers (K1-A001); default: from the
    device id, as the kiosk derives it."""
    location: Annotated[Text, Field(max_length=64)] | None = None
    """Kiosk and display tokens: where the device stands, in words staff know
    ("一楼大厅东侧"); the staff pages show it beside the device id (help requests, device
    health)."""

    @model_validator(mode="after")
    def _bound(self) -> Token:
        if self.role in ("kiosk", "display") and self.device is None:
            raise conflict(
                ("device",),
                f'a {self.role} token names the device it speaks for: device = "K1" '
                '(its [kiosk].id), or "*" for any',
            )
        if self.role == "counter" and self.counters is None:
            raise conflict(
                ("counters",),
                'a counter token names its counters: counters = ["3", "4"], or "*" for all',
            )
        return self

    def speaks_for(self, device: str) -> bool:
        return self.device == "*" or self.device == device or self.role == "admin"

    def may_act_for(self, counter_id: str) -> bool:
        if self.role == "admin" or self.counters == "*":
            return True
        return self.counters is not None and counter_id in self.counters

    def offline_prefix_for(self, device: str) -> str:
        return self.offline_prefix or offline_prefix_of(device)


class Policy(ConfigModel):
    """``[policy]``: the queue policy; every duration is in seconds unless the name says
    otherwise."""

    elderly_age: int = Field(default=60, ge=0, le=150)
    """Age in years from which an ID-card holder is put in the green channel (绿色通道)."""
    aging_bound_s: float = Field(default=1800.0, ge=0)
    """A normal ticket waiting this long is no longer overtaken by higher classes."""
    recall_limit: int = Field(default=3, ge=1)
    """Recalls of one call; the next recall marks the ticket no-show (过号)."""
    recall_cooldown_s: float = Field(default=10.0, ge=0)
    """Minimum time between two announcements of the same ticket."""
    no_show_requeue_s: float = Field(default=1800.0, ge=0)
    """A no-show ticket may be put back in the queue this long after it was missed."""
    daily_limit: int = Field(default=1, ge=1)
    """Open tickets one person (by keyed ID hash) may hold per service per day."""
    retention_days: int = Field(default=30, ge=0)
    """Masked names and ID hashes are purged after this many days; statistics stay."""
    appointment_grace_s: float = Field(default=900.0, ge=0)
    """A check-in later than slot + grace gets a normal ticket."""
    appointment_early_s: float = Field(default=3600.0, ge=0)
    """Check-in opens this long before the slot."""
    device_silent_s: float = Field(default=30.0, gt=0)
    """A device whose heartbeat is older than this is shown offline."""


class Cases(ConfigModel):
    """``[cases]``: working days (法定节假日 not counted, 调休 days counted) a case has, from
    the day after it opened, before it is overdue (local rules differ; some cities give a
    差评 5)."""

    bad_review_days: int = Field(default=15, ge=1, le=60)
    """差评 整改 (rectification)."""
    cannot_handle_days: int = Field(default=15, ge=1, le=60)
    """办不成事: the handling opinion."""
    complaint_days: int = Field(default=15, ge=1, le=60)
    """投诉: the reply."""
    suggestion_days: int = Field(default=15, ge=1, le=60)
    """建议: the reply."""
    phone_rating_days: int = Field(default=3, ge=0, le=30)
    """Days the citizen's /t/ page offers the rating after service (calendar days)."""
    matter_no_format: str = Field(
        default="{hall}-{date}-{number}", min_length=1, max_length=60, pattern=r"^[^\s]+$"
    )
    """The 办件编号 the hall makes when the business system gave none: ``{hall}`` (hall id),
    ``{date}`` (YYYYMMDD), ``{number}`` (ticket), ``{counter}``, ``{service}``; a second
    matter of one ticket gets ``-2``, a third ``-3``."""

    def days_for(self, kind: str) -> int:
        return int(getattr(self, f"{kind}_days"))


class Province(ConfigModel):
    """``[province]``: the provincial 好差评 system the outbox is delivered to (none: the
    outbox keeps the records until one is configured)."""

    url: Annotated[str, AfterValidator(_public_url)] = ""
    """Where each record is POSTed as JSON (docs/evaluation-data.md); empty: not sent."""
    token: str = Field(default="", repr=False)
    """Bearer token for the receiver; may come from GOVHALL_PROVINCE_TOKEN."""
    timeout_s: float = Field(default=10.0, gt=0, le=120)
    retry_min_s: float = Field(default=1.0, gt=0, le=600)
    """First wait after a failed delivery; doubles up to ``retry_max_s``."""
    retry_max_s: float = Field(default=300.0, gt=0, le=3600)
    poll_s: float = Field(default=5.0, gt=0, le=600)
    """How often the outbox is looked at when nothing woke the sender."""


class BookingService(ConfigModel):
    """``[booking.service.<code>]``: one service's booking where it differs from ``[booking]``."""

    slot_minutes: int | None = Field(default=None, ge=5, le=240)
    capacity: int | None = Field(default=None, ge=1, le=500)
    walk_in_share: float | None = Field(default=None, ge=0, le=1)
    weekdays: Annotated[dict[str, Periods], AfterValidator(_weekdays)] = Field(default_factory=dict)
    """Booking periods per weekday (``mon`` … ``sun``) where they differ from the service's
    opening hours, e.g. ``{ sat = [] }``; a 调休 working weekend day has working-day hours."""


class Booking(ConfigModel):
    """``[booking]``: online booking (预约) on the citizen's phone, at the desk and by the
    API; slots from the services' opening hours, days from the Chinese working-day calendar
    (no bookings on 法定节假日, bookings on 调休 working days)."""

    enabled: bool = True
    services: Strings = ()
    """Codes of the services that can be booked; empty: every open service."""
    slot_minutes: int = Field(default=30, ge=5, le=240)
    """Length of a slot in minutes."""
    capacity: int = Field(default=4, ge=1, le=500)
    """People a service can take per slot (all its counters together)."""
    walk_in_share: float = Field(default=0.25, ge=0, le=1)
    """Share of each slot's capacity kept for walk-ins (rounded up): 4 × 0.25 → 3 bookable."""
    first_day: int = Field(default=1, ge=0, le=30)
    """Days after today the first bookable day is: 1 = from tomorrow, 0 = today's later slots."""
    working_days_ahead: int = Field(default=5, ge=1, le=60)
    """The last bookable day is this many working days after today."""
    weekends: bool = False
    """Also book Saturdays/Sundays the service is open (周末不打烊); never 法定节假日."""
    cancel_before_min: int = Field(default=120, ge=0, le=7 * 24 * 60)
    """A booking can be cancelled or moved until this many minutes before its slot."""
    no_show_grace_min: int = Field(default=15, ge=0, le=24 * 60)
    """Minutes after its slot's end a booking not checked in becomes a no-show (爽约)."""
    per_service_per_day: int = Field(default=1, ge=1, le=10)
    """Bookings one person may hold for one service on one day."""
    max_open: int = Field(default=3, ge=1, le=50)
    """Open (not yet due) bookings one person may hold in all."""
    no_show_limit: int = Field(default=2, ge=1, le=100)
    """No-shows in a calendar month that block booking for the rest of the month."""
    cancel_limit: int = Field(default=5, ge=1, le=100)
    """Cancellations by the citizen in a calendar month that block booking likewise."""
    rate_per_minute: int = Field(default=30, ge=1, le=10000)
    """Requests per minute one address may make to the public booking API and pages."""
    service: dict[str, BookingService] = Field(default_factory=dict)
    """Per service: ``[booking.service.D]`` slot_minutes = 60, capacity = 2, …"""

    def bookable(self, svc: Service) -> bool:
        return self.enabled and svc.open and (not self.services or svc.code in self.services)

    def rules(self, code: str) -> ServiceRules:
        own = self.service.get(code) or BookingService()
        return ServiceRules(
            slot_minutes=own.slot_minutes or self.slot_minutes,
            capacity=own.capacity or self.capacity,
            walk_in_share=self.walk_in_share if own.walk_in_share is None else own.walk_in_share,
            weekdays={
                day: tuple(parse_period(p) for p in texts) for day, texts in own.weekdays.items()
            },
        )

    def window(self) -> Window:
        return Window(self.first_day, self.working_days_ahead, self.weekends)

    def limits(self) -> Limits:
        return Limits(
            self.per_service_per_day, self.max_open, self.no_show_limit, self.cancel_limit
        )


class CockpitService(ConfigModel):
    """``[cockpit.service.<code>]``: one service's waiting-time promise where it differs."""

    wait_target_min: float | None = Field(default=None, gt=0, le=600)
    target_level: float | None = Field(default=None, gt=0, lt=1)


class Cockpit(ConfigModel):
    """``[cockpit]``: the manager's cockpit — the waiting-time promise per service (e.g.
    90 % of citizens called within 20 minutes), the printed wait range and the live advice
    to open counters."""

    wait_target_min: float = Field(default=20.0, gt=0, le=600)
    """Minutes from taking a ticket to being called that the promise allows."""
    target_level: float = Field(default=0.9, gt=0, lt=1)
    """Share (0–1) of citizens to be called within ``wait_target_min``."""
    range_level: float = Field(default=0.8, ge=0.5, le=0.98)
    """Nominal share (0–1) of citizens whose real wait falls inside their printed range."""
    advise_at: float = Field(default=0.8, gt=0, le=1)
    """The dashboard advises 增开窗口 when a queue's estimated wait reaches this share
    (0–1) of its target: early enough to act."""
    forecast_days: int = Field(default=5, ge=1, le=20)
    """Working days the staffing plan covers."""
    history_days: int = Field(default=365, ge=28, le=730)
    """Calendar days of history the forecast is fitted on."""
    service: dict[str, CockpitService] = Field(default_factory=dict)
    """Per service: ``[cockpit.service.D]`` wait_target_min = 40."""

    def target(self, code: str) -> tuple[float, float]:
        """(wait target in seconds, level) of a service."""
        own = self.service.get(code) or CockpitService()
        minutes = own.wait_target_min or self.wait_target_min
        return minutes * 60.0, own.target_level or self.target_level


class RemoteTickets(ConfigModel):
    """``[remote]``: 远程取号 — a ticket taken on the phone before reaching the hall (only
    while the service takes tickets), confirmed on arrival at a kiosk or counter, never
    called before; not confirmed in time, it expires."""

    enabled: bool = False
    latitude: float | None = Field(default=None, ge=-90, le=90)
    """The hall's position (WGS 84 degrees), for the distance check."""
    longitude: float | None = Field(default=None, ge=-180, le=180)
    radius_m: float = Field(default=500.0, gt=0, le=50_000)
    """How near the hall (metres, by the browser's location) a remote ticket may be taken."""
    use_location: bool = True
    """false: no location check; ``daily_limit`` remote tickets per person and day instead."""
    daily_limit: int = Field(default=1, ge=1, le=10)
    confirm_within_min: int = Field(default=60, ge=5, le=24 * 60)
    """Minutes after it is taken that a remote ticket must be confirmed, or it expires."""

    @model_validator(mode="after")
    def _position(self) -> RemoteTickets:
        located = self.latitude is not None and self.longitude is not None
        if self.enabled and self.use_location and not located:
            raise conflict(
                ("latitude",),
                "the distance check needs the hall's latitude and longitude "
                "(or use_location = false)",
            )
        return self


class Sms(ConfigModel):
    """``[sms]``: text messages through an SMS gateway (booking confirmations; issue 21).
    Each message is in the hall's SMS outbox from the booking's own transaction and sent
    once (the gateway gets the message's key with every retry); the number is dropped as
    soon as the message is sent, and never logged or shown whole."""

    url: Annotated[str, AfterValidator(_public_url)] = ""
    """The gateway's HTTP endpoint, POSTed JSON; empty: messages wait in the outbox."""
    token: str = Field(default="", repr=False)
    signature: str = Field(default="", max_length=32)
    """The 短信签名, e.g. 【西城区政务服务中心】."""
    templates: dict[str, str] = Field(default_factory=dict)
    """The gateway's template ids by name: booking_booked, booking_closed, ticket_soon
    (3 ahead: number, service, ahead), ticket_called (number, service, counter)."""
    timeout_s: float = Field(default=5.0, gt=0, le=60)
    rate_per_minute: int = Field(default=60, ge=1, le=6000)
    """Messages sent per minute at most (the gateway's and the operator's limit)."""
    retry_min_s: float = Field(default=1.0, gt=0, le=600)
    retry_max_s: float = Field(default=300.0, gt=0, le=3600)
    poll_s: float = Field(default=2.0, gt=0, le=600)


class ServerConfig(ConfigModel):
    """``[server]``: where the hall server listens and keeps its data."""

    host: Text = "127.0.0.1"
    """Listen address; ``0.0.0.0`` on the server PC so kiosks and boards reach it."""
    port: int = Field(default=DEFAULT_PORT, ge=1, le=65535)
    database: str = Field(default="", repr=False)
    """SQLAlchemy URL; empty means ``sqlite:///<config dir>/hall.db``; may come from
    GOVHALL_SERVER_DATABASE (a PostgreSQL URL holds a password)."""
    sqlite_synchronous: Annotated[Literal["FULL", "NORMAL", "EXTRA"], BeforeValidator(_upper)] = (
        "FULL"
    )
    """FULL survives power loss; NORMAL only process crashes (faster on slow disks)."""
    max_body_bytes: int = Field(default=65536, gt=0)
    """Largest request body in bytes."""
    storage_timeout_s: float = Field(default=5.0, gt=0, le=60)
    """Longest a request waits for the database (the write lock, a stalled or locked
    database), in seconds; then it is answered 503 ``storage_unavailable``."""
    max_connections: int = Field(default=2000, ge=100, le=50000)
    """Open connections (a count) past which every new request is answered 503 at once:
    each board's, counter page's and citizen phone's event stream holds one for as long as
    it is open, as does an idle keep-alive connection. A hall needs ~250 of its own (50
    boards, kiosks, 30 counters, staff pages) plus the citizens' streams the nginx front
    lets through (at most 1000, deploy/nginx/govhall.conf)."""
    keep_alive_s: int = Field(default=5, ge=1, le=300)
    """An idle keep-alive connection (its last response sent, no new request) is closed
    after this many seconds."""
    request_timeout_s: float = Field(default=10.0, gt=0, le=300)
    """Longest a client may take to send one whole request (request line, headers and
    body), in seconds, counted from the connection's opening or the request's first byte;
    then the connection is closed: slowloris, and connections that never send anything.
    Responses are not limited (event streams run on)."""


class HallTable(ConfigModel):
    """``[hall]``: who this hall is."""

    id: Text = "hall-1"
    """Unique in the city (the rows of many halls can share one PostgreSQL)."""
    name: Text
    name_en: str = ""
    timezone: Annotated[str, AfterValidator(_time_zone)] = "Asia/Shanghai"
    """IANA zone of the hall: the day a ticket belongs to, the daily reset."""
    secret: str = Field(default="", repr=False)
    """Key of the ID-number hashes; empty: ``<config>.secret`` beside the file (made once);
    may come from GOVHALL_HALL_SECRET."""
    notice: str = ""
    """Shown to citizens on the kiosk and the board."""
    public_url: Annotated[str, AfterValidator(_public_url)] = ""
    """The address citizens' phones reach the hall's citizen pages at (through the nginx
    front, docs/install.md), e.g. "https://hall.example.gov.cn": the ticket's QR code is
    <public_url>/t/<token>. Empty: the address the kiosk reaches the hall at."""


class HallFile(ConfigModel):
    """The whole file as written (after migration to ``CURRENT_VERSION``)."""

    version: int = CURRENT_VERSION
    hall: HallTable = Field(default_factory=dict, validate_default=True)
    server: ServerConfig = ServerConfig()
    policy: Policy = Policy()
    hours: Hours = Hours()
    cases: Cases = Cases()
    province: Province = Province()
    booking: Booking = Booking()
    remote: RemoteTickets = RemoteTickets()
    sms: Sms = Sms()
    cockpit: Cockpit = Cockpit()
    service: Annotated[tuple[Service, ...], AfterValidator(_some("service"))] = Field(
        default=(), strict=False, validate_default=True
    )
    counter: Annotated[tuple[Counter, ...], AfterValidator(_some("counter"))] = Field(
        default=(), strict=False, validate_default=True
    )
    token: tuple[Token, ...] = Field(default=(), strict=False)
    # tables owned by other parts, validated by them
    kiosk: Table | None = None
    signage: Table | None = None
    devices: Table | None = None
    web: Table | None = None

    @model_validator(mode="after")
    def _consistent(self) -> HallFile:
        problems: list[tuple[Loc, str]] = []
        codes: set[str] = set()
        prefixes: dict[str, str] = {}
        for i, svc in enumerate(self.service):
            if svc.code in codes:
                problems.append((("service", i, "code"), f"{svc.code!r} is used twice"))
                continue
            codes.add(svc.code)
            if svc.prefix in prefixes:
                problems.append(
                    (
                        ("service", i, "prefix"),
                        f"{svc.prefix!r} is already the prefix of service {prefixes[svc.prefix]!r}",
                    )
                )
            prefixes.setdefault(svc.prefix, svc.code)
        ids: set[str] = set()
        for i, counter in enumerate(self.counter):
            if counter.id in ids:
                problems.append((("counter", i, "id"), f"{counter.id!r} is used twice"))
            ids.add(counter.id)
            unknown = [code for code in counter.services if code not in codes]
            if unknown:
                problems.append(
                    (("counter", i, "services"), f"no service with code {unknown[0]!r}")
                )
        names: dict[str, str] = {}
        variables: dict[str, str] = {}
        values: dict[str, str] = {}
        for i, tok in enumerate(self.token):
            variable = token_variable(tok.name)
            if tok.name in names:
                problems.append((("token", i, "name"), f"{tok.name!r} is used twice"))
            elif variable in variables:
                problems.append(
                    (
                        ("token", i, "name"),
                        f"{tok.name!r} and {variables[variable]!r} would both be read from "
                        f"{variable}; rename one",
                    )
                )
            if tok.token in values:
                problems.append(
                    (
                        ("token", i, "token"),
                        f"the same token is already used by {values[tok.token]!r}",
                    )
                )
            names.setdefault(tok.name, tok.name)
            variables.setdefault(variable, tok.name)
            values.setdefault(tok.token, tok.name)
        for i, code in enumerate(self.booking.services):  # [booking]: known services only
            if code not in codes:
                problems.append((("booking", "services", i), f"no service with code {code!r}"))
        for code in self.booking.service:
            if code not in codes:
                problems.append((("booking", "service", code), f"no service with code {code!r}"))
        for code in self.cockpit.service:  # [cockpit.service.X]: known services only
            if code not in codes:
                problems.append((("cockpit", "service", code), f"no service with code {code!r}"))
        if problems:
            raise conflicts(problems)
        return self


_WEEKS: dict[tuple[int, str | None], tuple[weakref.ref[HallConfig], Week]] = {}
"""(id of a config, service) → (the config, its week): see :meth:`HallConfig.week`."""


class HallConfig(ConfigModel):
    """The loaded config: the hall's own sections validated, the others' kept as tables."""

    hall_id: str
    name: str
    name_en: str
    timezone: str
    secret: bytes = Field(repr=False)
    server: ServerConfig
    policy: Policy
    hours: Hours = Hours()
    cases: Cases = Cases()
    province: Province = Province()
    booking: Booking = Booking()
    remote: RemoteTickets = RemoteTickets()
    sms: Sms = Sms()
    cockpit: Cockpit = Cockpit()
    services: tuple[Service, ...]
    counters: tuple[Counter, ...]
    tokens: tuple[Token, ...]
    notice: str = ""
    public_url: str = ""
    sections: dict[str, Table] = Field(default_factory=dict)
    """Tables owned by other parts (kiosk, signage, devices, web), validated by them."""
    path: Path | None = None
    version: int = CURRENT_VERSION
    """The format version the file was written for (migrated to ``CURRENT_VERSION``)."""

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def service(self, code: str) -> Service | None:
        return next((s for s in self.services if s.code == code), None)

    def week(self, service: str | None = None) -> Week:
        """The opening hours of a service (the hall's for None or an unknown code). Built
        once per config and service: every ticket asks whether its service is open, and a
        config never changes (a changed one is a new object)."""
        key = (id(self), service)
        hit = _WEEKS.get(key)
        if hit is not None and hit[0]() is self:
            return hit[1]
        svc = self.service(service) if service else None
        hours = svc.hours.over(self.hours) if svc and svc.hours else self.hours
        week = hours.week()
        if len(_WEEKS) > 512:  # configs of tests come and go; drop those that went
            for k in [k for k, (ref, _) in _WEEKS.items() if ref() is None]:
                del _WEEKS[k]
        _WEEKS[key] = (weakref.ref(self), week)
        return week

    def counter(self, counter_id: str) -> Counter | None:
        return next((c for c in self.counters if c.id == counter_id), None)

    def role_of(self, token: str) -> Token | None:
        for t in self.tokens:
            if secrets.compare_digest(t.token.encode(), token.encode()):
                return t
        return None

    def token_for(self, role: str, name: str | None = None) -> str:
        """The first token of a role (or the named one): for local clients and tests."""
        for t in self.tokens:
            if t.role == role and (name is None or t.name == name):
                return t.token
        raise ConfigError(f"{self.path}: no [[token]] with role {role!r}")


# -- version ----------------------------------------------------------------------------------


def _v1_to_v2(raw: dict[str, Any], file: str) -> None:
    """Version 2 dropped ``[server].writer`` (state changes ran in a writer process or
    thread of their own; they no longer do, so the key has no meaning left)."""
    server = raw.get("server")
    if isinstance(server, dict) and "writer" in server:
        del server["writer"]
        log.warning(
            "%s: [server].writer is no longer used and was ignored; remove it and add "
            "version = %d at the top of the file",
            file,
            CURRENT_VERSION,
        )


def _v2_to_v3(raw: dict[str, Any], file: str) -> None:
    """Version 3 binds tokens: a kiosk or display token to its ``device``, a counter token
    to its ``counters``. An older file's tokens keep speaking for any (``"*"``), with a
    warning: a hall should bind them."""
    for tok in raw.get("token") or ():
        if not isinstance(tok, dict):
            continue
        key = {"kiosk": "device", "display": "device", "counter": "counters"}.get(
            str(tok.get("role"))
        )
        if key and key not in tok:
            tok[key] = "*"
            log.warning(
                "%s: [[token]] %s may act for any %s; set %s (e.g. %s) and version = %d",
                file,
                tok.get("name"),
                "device" if key == "device" else "counter",
                key,
                'device = "K1"' if key == "device" else 'counters = ["3", "4"]',
                CURRENT_VERSION,
            )


MIGRATIONS: dict[int, Callable[[dict[str, Any], str], None]] = {1: _v1_to_v2, 2: _v2_to_v3}
"""Version N → N+1, applied in turn to a copy of an older file's tables."""


def _newer(version: int) -> int:
    if version > CURRENT_VERSION:
        raise ValueError(
            f"{version} is newer than this govhall reads (1–{CURRENT_VERSION}): upgrade govhall"
        )
    return version


class _Versioned(ConfigModel, extra="ignore"):
    version: Annotated[int, AfterValidator(_newer)] = Field(default=1, ge=1)


def _migrate(raw: dict[str, Any], file: str) -> tuple[dict[str, Any], int]:
    """A copy of ``raw`` in the current format, and the version it was written for."""
    try:
        version = _Versioned.model_validate(raw).version
    except ValidationError as err:
        raise ConfigError(format_validation_error(err, file, raw=raw)) from None
    out = copy.deepcopy(raw)
    for v in range(version, CURRENT_VERSION):
        MIGRATIONS[v](out, file)
    out["version"] = CURRENT_VERSION
    return out, version


# -- environment ------------------------------------------------------------------------------


class SecretsFromEnvironment(BaseSettings):
    """Secrets a config may take from the environment instead of the file (systemd
    ``Environment=``/``EnvironmentFile=``, a container's variables): set and not empty, a
    variable replaces the file's value. The tokens of ``[[token]]`` come from
    GOVHALL_TOKEN_<NAME>, one field per token added by ``_environment``."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, env_ignore_empty=True, extra="ignore", frozen=True
    )

    hall_secret: SecretStr | None = None
    """GOVHALL_HALL_SECRET: ``[hall].secret``."""
    server_database: SecretStr | None = None
    """GOVHALL_SERVER_DATABASE: ``[server].database``."""
    kiosk_token: SecretStr | None = None
    """GOVHALL_KIOSK_TOKEN: ``[kiosk].token``."""
    kiosk_admin_pin: SecretStr | None = None
    """GOVHALL_KIOSK_ADMIN_PIN: ``[kiosk].admin_pin``."""
    signage_token: SecretStr | None = None
    """GOVHALL_SIGNAGE_TOKEN: ``[signage].token``."""
    province_token: SecretStr | None = None
    """GOVHALL_PROVINCE_TOKEN: ``[province].token``."""


_FIXED = {
    ("hall", "secret"): "hall_secret",
    ("server", "database"): "server_database",
    ("kiosk", "token"): "kiosk_token",
    ("kiosk", "admin_pin"): "kiosk_admin_pin",
    ("signage", "token"): "signage_token",
    ("province", "token"): "province_token",
}


def _environment(token_names: Iterable[str]) -> SecretsFromEnvironment:
    """The environment's secrets now, with a GOVHALL_TOKEN_<NAME> field per token name."""
    return _with_tokens(tuple(sorted(set(token_names))))()


@functools.lru_cache(maxsize=16)
def _with_tokens(token_names: tuple[str, ...]) -> type[SecretsFromEnvironment]:
    fields: dict[str, Any] = {
        token_variable(name).removeprefix(ENV_PREFIX).lower(): (SecretStr | None, None)
        for name in token_names
    }
    return create_model("TokensFromEnvironment", __base__=SecretsFromEnvironment, **fields)


def _apply_environment(raw: dict[str, Any]) -> dict[Loc, str]:
    """Put the environment's secrets into ``raw`` (a copy); where each came from, or which
    variable could have given a missing token, by place for the messages."""
    items = raw.get("token")
    items = [t if isinstance(t, dict) else {} for t in items] if isinstance(items, list) else []
    names = [t["name"] for t in items if isinstance(t.get("name"), str)]
    env = _environment(names)
    notes: dict[Loc, str] = {}
    for (section, key), field in _FIXED.items():
        value: SecretStr | None = getattr(env, field)
        table = raw.get(section)
        if table is None and section in ("hall", "server") and value is not None:
            table = raw[section] = {}
        if value is not None and isinstance(table, dict):
            table[key] = value.get_secret_value()
            notes[(section, key)] = f"from {(ENV_PREFIX + field).upper()}"
    for i, item in enumerate(items):
        name = item.get("name")
        if not isinstance(name, str):
            continue
        variable = token_variable(name)
        token: SecretStr | None = getattr(env, variable.removeprefix(ENV_PREFIX).lower())
        if token is not None:
            item["token"] = token.get_secret_value()
            notes[("token", i, "token")] = f"from {variable}"
        elif "token" not in item:
            notes[("token", i, "token")] = f"or set {variable}"
    return notes


# -- loading ----------------------------------------------------------------------------------


def load_config(path: str | Path, *, demo: bool | None = None) -> HallConfig:
    """Read and validate the config file at ``path`` (see ``parse_config``)."""
    path = Path(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as err:
        raise ConfigError(f"{path}: no such config file") from err
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(f"{path}: not valid TOML: {err}") from err
    except UnicodeDecodeError as err:
        raise ConfigError(f"{path}: not UTF-8 text") from err
    except OSError as err:
        raise ConfigError(f"{path}: cannot be read ({err.strerror})") from err
    return parse_config(raw, path, demo=demo)


def parse_config(
    raw: dict[str, Any], path: Path | None = None, *, demo: bool | None = None
) -> HallConfig:
    """Validate the tables of a config file (``raw`` is not changed): migrated from its
    version, with the environment's secrets applied. ``demo``: accept the sample's tokens
    (default: whether GOVHALL_DEMO is 1). ``ConfigError`` lists every problem found."""
    file = file_name(path)
    raw, version = _migrate(raw, file)
    notes = _apply_environment(raw)
    try:
        model = HallFile.model_validate(raw)
    except ValidationError as err:
        raise ConfigError(format_validation_error(err, file, raw=raw, notes=notes)) from None
    _check_sample_tokens(model, file, raw, notes, demo)
    server = model.server
    if not server.database:
        base = path.parent if path else Path.cwd()
        server = server.model_copy(update={"database": f"sqlite:///{base / 'hall.db'}"})
    hall = model.hall
    sections = {
        key: table
        for key in ("kiosk", "signage", "devices", "web")
        if (table := getattr(model, key)) is not None
    }
    return HallConfig(
        hall_id=hall.id,
        name=hall.name,
        name_en=hall.name_en,
        timezone=hall.timezone,
        secret=hall.secret.encode() if hall.secret else _secret_file(path),
        server=server,
        policy=model.policy,
        hours=model.hours,
        cases=model.cases,
        province=model.province,
        booking=model.booking,
        remote=model.remote,
        sms=model.sms,
        cockpit=model.cockpit,
        services=model.service,
        counters=model.counter,
        tokens=model.token,
        notice=hall.notice,
        public_url=hall.public_url,
        sections=sections,
        path=path,
        version=version,
    )


def _check_sample_tokens(
    model: HallFile, file: str, raw: dict[str, Any], notes: dict[Loc, str], demo: bool | None
) -> None:
    found: list[Problem] = []
    for i, tok in enumerate(model.token):
        if is_sample_token(tok.token):
            found.append(Problem(("token", i, "token"), _sample_problem(token_variable(tok.name))))
    for section in ("kiosk", "signage"):
        token = (getattr(model, section) or {}).get("token")
        if isinstance(token, str) and is_sample_token(token):
            found.append(Problem((section, "token"), _sample_problem(f"GOVHALL_{section}_TOKEN")))
    if not found:
        return
    if os.environ.get(DEMO_VARIABLE) == "1" if demo is None else demo:
        log.warning("%s: the sample's tokens are accepted: this is a demo", file)
        return
    raise ConfigError(format_problems(file, found, raw, notes))


def _sample_problem(variable: str) -> str:
    return (
        "is the sample config's token, which everyone can read (only govhall demo "
        f"accepts it): set a random one, e.g. `openssl rand -hex 24`, or {variable.upper()}"
    )


def _secret_file(path: Path | None) -> bytes:
    """The keyed-hash secret lives beside the config (created once, mode 0600) when the
    config does not set one, so hashes stay stable across restarts."""
    if path is None:
        return b"govhall-test-secret"
    secret_path = path.with_name(path.stem + ".secret")
    try:
        return secret_path.read_bytes().strip()
    except FileNotFoundError:
        pass
    try:
        value = secrets.token_hex(32).encode()
        secret_path.write_bytes(value)
        secret_path.chmod(0o600)
        return value
    except OSError as err:
        raise ConfigError(
            f"{path}: [hall].secret is not set and {secret_path} cannot be "
            f"written ({err.strerror}); set [hall].secret or GOVHALL_HALL_SECRET"
        ) from err

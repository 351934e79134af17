"""Booking routes of Hall API v1 (预约, issue 21): public slots and bookings for the
citizen's phone (no token; rate-limited per address, and behind the nginx front in
production), the desk's bookings on behalf of a citizen (admin token), the day's bookings
for staff, closures, and arrival by booking code (the QR code shown to the kiosk camera).
Included in the app by ``hall/app.py``."""

from __future__ import annotations

import datetime as dt
import functools
import time
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Path, Query, Request, Response
from pydantic import AfterValidator, Field, StringConstraints
from starlette.concurrency import run_in_threadpool

from hall import schemas as s
from hall.api.auth import authenticate, require
from hall.api.models import Body, Code
from hall.api.routes import Admin, Ctx, Kiosk, StaffOrAdmin, replayable
from hall.config import Token
from hall.domain.booking import PerAddress
from hall.domain.limits import FIRST_YEAR, LAST_YEAR
from hall.errors import Forbidden, RateLimited
from hall.inputs import Moment, Reason
from hall.services import appointments, bookings, remote_tickets

router = APIRouter(prefix="/api/v1", tags=["booking"], responses=s.ERROR_RESPONSES)

BookingCode = Annotated[str, Path(min_length=1, max_length=40)]


def _plausible_day(day: dt.date) -> dt.date:
    if not FIRST_YEAR <= day.year <= LAST_YEAR:
        raise ValueError(f"must be in the years {FIRST_YEAR}–{LAST_YEAR}")
    return day


Day = Annotated[dt.date, AfterValidator(_plausible_day)]
Name = Annotated[str, StringConstraints(min_length=1, max_length=40)]
IdNumber = Annotated[str, StringConstraints(min_length=1, max_length=32)]
Phone = Annotated[str, StringConstraints(min_length=1, max_length=20)]


def _route(
    method: str, path: str, *, status_code: int = 200, **kw: Any
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """As ``hall.api.routes._route``: a plain ``def`` handler run in the thread pool."""

    def decorator(fn: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(fn)
        async def in_thread_pool(*args: Any, **kwargs: Any) -> Any:
            return await run_in_threadpool(fn, *args, **kwargs)

        router.add_api_route(path, in_thread_pool, methods=[method], status_code=status_code, **kw)
        return fn

    return decorator


get = functools.partial(_route, "GET")
post = functools.partial(_route, "POST")


def check_rate(request: Request) -> None:
    """The public routes' per-address limit (``[booking].rate_per_minute``; the citizen
    pages under /book/ count against the same limiter)."""
    limiter = PerAddress.of(request.app.state, request.app.state.ctx.config.booking.rate_per_minute)
    address = request.client.host if request.client else "-"
    if not limiter.allow(address, time.monotonic()):
        raise RateLimited("too many booking requests from this address; wait a minute")


async def rate_limited(request: Request) -> None:
    check_rate(request)


async def optional_token(request: Request) -> Token | None:
    """None without an Authorization header; a wrong token is still a 401."""
    if "authorization" not in request.headers:
        return None
    return authenticate(request)


Limited = Annotated[None, Depends(rate_limited)]
MaybeToken = Annotated[Token | None, Depends(optional_token)]


class BookingIn(Body):
    service: Code
    slot_start: Moment
    name: Name
    id_number: IdNumber
    phone: Phone | None = None
    """Mainland mobile number; needed unless staff book at the desk (admin token)."""


class RescheduleIn(Body):
    slot_start: Moment


class ClosureIn(Body):
    day: Day
    service: Code | None = None
    """None: every service that day."""
    notice: Reason
    """Shown to everyone booked that day on their booking page."""


@get("/booking/services", summary="Services that can be booked, with their materials")
def booking_services(ctx: Ctx) -> list[s.BookableService]:
    return bookings.services(ctx)


@get("/booking/slots", summary="Slots and places left (no token)")
def booking_slots(
    ctx: Ctx,
    service: Annotated[str, Query(min_length=1, max_length=8)],
    from_: Annotated[Day | None, Query(alias="from")] = None,
    to: Annotated[Day | None, Query()] = None,
) -> s.BookingSlots:
    return bookings.slots(ctx, service, from_, to)


@post(
    "/bookings", status_code=201, summary="Book a slot → code (409 slot_full/limit_reached/blocked)"
)
def book(ctx: Ctx, _: Limited, token: MaybeToken, body: BookingIn) -> s.Booking:
    desk = token is not None and token.role == "admin"
    if token is not None and not desk:
        raise Forbidden("only an admin token books on behalf of a citizen")
    return bookings.book(
        ctx,
        bookings.BookRequest(
            service=body.service,
            slot_start=body.slot_start,
            name=body.name,
            id_number=body.id_number,
            phone=body.phone,
            channel="desk" if desk else "online",
        ),
    )


@get("/bookings/{code}", summary="A booking by its code")
def booking(ctx: Ctx, _: Limited, code: BookingCode) -> s.Booking:
    return bookings.get(ctx, code)


@post("/bookings/{code}/cancel", summary="Cancel (until the deadline; staff: any time)")
def cancel(ctx: Ctx, _: Limited, token: MaybeToken, code: BookingCode) -> s.Booking:
    staff = token is not None and token.role == "admin"
    return bookings.cancel(ctx, code, staff=staff)


@post("/bookings/{code}/reschedule", summary="Move to another slot (until the deadline)")
def reschedule(ctx: Ctx, _: Limited, code: BookingCode, body: RescheduleIn) -> s.Booking:
    return bookings.reschedule(ctx, code, body.slot_start)


@get("/bookings", summary="The day's bookings per service (booked, arrived, no-show)")
def day_bookings(
    ctx: Ctx, _: StaffOrAdmin, day: Annotated[Day | None, Query()] = None
) -> s.BookingDaySummary:
    return bookings.day_summary(ctx, day)


@post("/booking/closures", status_code=201, summary="Close a day for booking, with a notice")
def close_day(ctx: Ctx, token: Admin, body: ClosureIn) -> s.BookingClosure:
    return bookings.close_day(ctx, body.day, body.service, body.notice, token.name)


@post(
    "/bookings/{code}/check-in",
    status_code=201,
    summary="Arrival by booking code (QR at the kiosk) → ticket",
    response_model=s.Ticket,
)
def check_in(
    ctx: Ctx,
    token: Kiosk,
    code: BookingCode,
    response: Response,
    idempotency_key: Annotated[str | None, Header(max_length=100)] = None,
) -> s.Ticket:
    key = f"{token.name}:{idempotency_key}" if idempotency_key else None
    ticket, created = appointments.check_in_by_code(ctx, code, key)
    return replayable(ticket, created, response)


# -- 远程取号 (remote tickets) ------------------------------------------------------------------


class Position(Body):
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)


class RemoteTicketIn(Body):
    service: Code
    id_number: IdNumber
    position: Position | None = None
    """The browser's location (navigator.geolocation), checked against ``[remote]``."""
    phone: Phone | None = None
    """Mainland mobile number for the SMS when 3 are ahead and when called (optional)."""


PublicToken = Annotated[str, Path(min_length=8, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]
Arrival = Annotated[Token, Depends(require("kiosk", "counter", "admin"))]


@post("/remote-tickets", status_code=201, summary="远程取号 from the phone (403 too_far)")
def remote_ticket(ctx: Ctx, _: Limited, body: RemoteTicketIn) -> s.RemoteTicket:
    where = (body.position.lat, body.position.lon) if body.position else None
    return remote_tickets.issue(ctx, body.service, body.id_number, where, body.phone)


@post("/remote-tickets/{token}/confirm", summary="A remote ticket's holder has arrived")
def confirm_remote(ctx: Ctx, _: Arrival, token: PublicToken) -> s.RemoteTicket:
    return remote_tickets.confirm(ctx, token)

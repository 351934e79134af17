"""The citizen's booking pages under ``/book/`` (预约, issue 21), for a phone browser:
service (its 一次告知 materials first), day, slot and details (name, ID number with its
check digit verified as it is typed, mobile), the booking code and its QR code; view,
change (改约) and cancel. 适老化: large type, plain pages and forms (no pop-ups, a
confirmation is a page of its own), line spacing ≥ 1.3, Chinese first.

Server-rendered forms that work without script (``book.js`` only adds the live checks).
No session: the booking code in the link is the key; nothing personal is shown beyond
the masked name, ID and phone. Every request counts against the same per-address limit
as the public booking API."""

from __future__ import annotations

import base64
import datetime as dt
import io
import json
import time
from typing import Annotated, Any
from urllib.parse import parse_qs

import qrcode
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from markupsafe import Markup
from pydantic import AfterValidator, BaseModel, ConfigDict, StringConstraints
from starlette.concurrency import run_in_threadpool

from common.errors import text as error_text
from common.i18n import catalogue, t
from hall.domain.booking import PerAddress, format_code, parse_code
from hall.domain.limits import FIRST_YEAR, LAST_YEAR
from hall.errors import HallError, NotFound, RateLimited
from hall.inputs import Moment, Reason
from hall.schemas import (
    ERROR_RESPONSES,
    BookableService,
    Booking,
    BookingClosure,
    BookingDaySummary,
    Model,
)
from hall.services import bookings, remote_tickets, tickets
from hall.web.deps import AdminWrite, Staff, Web, WebState, same_origin, web_of
from hall.web.render import SECURITY_HEADERS, templates

pages = APIRouter(include_in_schema=False)


class PydanticBody(BaseModel):
    model_config = ConfigDict(extra="forbid")


DOMAIN = "booking"
MAX_FORM = 4096


def T(key: str, **values: Any) -> Markup:
    """Both languages of a booking text, Chinese first."""
    chinese, english = t(DOMAIN, key, "zh", **values), t(DOMAIN, key, "en", **values)
    out = Markup('<span class="zh">{}</span>').format(chinese)
    if english != chinese:
        out += Markup('<span class="en">{}</span>').format(english)
    return out


def _error(code: str) -> Markup:
    chinese, english = error_text(code, "zh"), error_text(code, "en")
    return Markup('<span class="zh">{}</span><span class="en">{}</span>').format(chinese, english)


def _browser_texts() -> dict[str, dict[str, str]]:
    return {
        k: {"zh": v.get("zh", ""), "en": v.get("en", v.get("zh", ""))}
        for k, v in catalogue(DOMAIN).items()
    }


def _page(web: WebState, template: str, status: int = 200, **values: Any) -> HTMLResponse:
    html = templates.get_template(f"book/{template}.html").render(
        page="book",
        hall_name=web.ctx.config.name,
        timezone=web.ctx.config.timezone,
        texts=_browser_texts(),
        T=T,
        Z=lambda key: t(DOMAIN, key, "zh"),
        **values,
    )
    return HTMLResponse(html, status_code=status, headers=SECURITY_HEADERS)


def _limit(request: Request) -> None:
    state = request.app.state
    limiter = PerAddress.of(state, state.ctx.config.booking.rate_per_minute)
    if not limiter.allow(request.client.host if request.client else "-", time.monotonic()):
        raise RateLimited("too many booking requests from this address; wait a minute")


async def _form(request: Request) -> dict[str, str]:
    # A form posted from a page with Referrer-Policy no-referrer carries "Origin: null";
    # another site's is refused. (No cookie rides along: the code in the link is the key.)
    if request.headers.get("origin") != "null":
        same_origin(request)
    raw = await request.body()
    if len(raw) > MAX_FORM:
        raise HallError("form too large", code="invalid_request", status=422)
    parsed = parse_qs(raw.decode("utf-8", errors="replace"), max_num_fields=20)
    return {k: v[0] for k, v in parsed.items() if v}


def _day_label(day: dt.date) -> Markup:
    chinese = f"{day.month}月{day.day}日 " + t(DOMAIN, f"weekday_{day.weekday()}", "zh")
    english = f"{day:%d %b}, " + t(DOMAIN, f"weekday_{day.weekday()}", "en")
    return Markup('<span class="zh">{}</span><span class="en">{}</span>').format(chinese, english)


def _hhmm(iso: str) -> str:
    return iso[11:16]


def _when(iso: str) -> str:
    moment = dt.datetime.fromisoformat(iso)
    return f"{moment.month}月{moment.day}日 {moment:%H:%M}"


def _qr_png(data: str) -> str:
    img = qrcode.make(data, box_size=8, border=3, error_correction=qrcode.constants.ERROR_CORRECT_M)
    buf = io.BytesIO()
    img.save(buf)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


def booking_url(web: WebState, request: Request, code: str) -> str:
    base = web.ctx.config.public_url or str(request.base_url).rstrip("/")
    return f"{base}/book/b/{code}"


def _refusal(web: WebState, err: HallError) -> Markup:
    if err.code == "blocked":
        cfg = web.ctx.config.booking
        reason = err.details.get("block_reason")
        until = dt.date.fromisoformat(err.details.get("blocked_until") or "2000-01-01")
        n = cfg.no_show_limit if reason == "no_show" else cfg.cancel_limit
        key = "blocked_no_show" if reason == "no_show" else "blocked_cancelled"
        return T(
            key,
            n=n,
            until=f"{until.year}年{until.month}月{until.day}日",
            until_en=f"{until:%d %B %Y}",
        )
    return _error(err.code)


# -- pages --------------------------------------------------------------------------------


@pages.get("/book", response_model=None)
@pages.get("/book/", response_model=None)
async def home(request: Request) -> Response:
    web = web_of(request)
    _limit(request)
    found = await run_in_threadpool(bookings.services, web.ctx)
    return _page(web, "home", services=found, error=None, remote=web.ctx.config.remote.enabled)


@pages.post("/book/find", response_model=None)
async def find(request: Request) -> Response:
    web = web_of(request)
    _limit(request)
    form = await _form(request)
    code = parse_code(form.get("code", ""))
    if code is None:
        found = await run_in_threadpool(bookings.services, web.ctx)
        return _page(
            web,
            "home",
            404,
            services=found,
            error=_error("booking_not_found"),
            remote=web.ctx.config.remote.enabled,
        )
    return RedirectResponse(f"/book/b/{code}", status_code=303)


@pages.get("/book/s/{service}", response_model=None)
async def service_days(request: Request, service: str) -> Response:
    web = web_of(request)
    _limit(request)
    try:
        plan = await run_in_threadpool(bookings.slots, web.ctx, service[:8])
    except HallError as err:
        if err.status >= 500:
            raise
        return _page(web, "error", err.status, message=_error(err.code))
    return _page(
        web,
        "days",
        plan=plan,
        day_label=_day_label,
        to_date=dt.date.fromisoformat,
        base=f"/book/s/{plan.service}",
        title_key="book_choose_day",
        back="/book/",
    )


def _date(day: str) -> dt.date:
    try:
        when = dt.date.fromisoformat(day[:10])
    except ValueError as err:
        raise NotFound("no such day", code="booking_day_not_found") from err
    if not FIRST_YEAR <= when.year <= LAST_YEAR:
        raise NotFound("no such day", code="booking_day_not_found")
    return when


def _day_of(plan: Any, day: str) -> Any:
    found = next((d for d in plan.days if d.day == day), None)
    if found is None:
        raise NotFound("no such day", code="booking_day_not_found")
    return found


@pages.get("/book/s/{service}/{day}", response_model=None)
async def day_slots(request: Request, service: str, day: str) -> Response:
    web = web_of(request)
    _limit(request)
    return await _slots_page(web, service, day, None, {})


async def _slots_page(
    web: WebState,
    service: str,
    day: str,
    error: Markup | None,
    form: dict[str, str],
    status: int = 200,
) -> Response:
    when = _date(day)
    plan = await run_in_threadpool(bookings.slots, web.ctx, service[:8], when, when)
    return _page(
        web,
        "slots",
        status,
        plan=plan,
        day=_day_of(plan, day),
        day_label=_day_label(when),
        hhmm=_hhmm,
        error=error,
        form=form,
        action=f"/book/s/{plan.service}/{day}",
        back=f"/book/s/{plan.service}",
        move=None,
    )


@pages.post("/book/s/{service}/{day}", response_model=None)
async def make_booking(request: Request, service: str, day: str) -> Response:
    web = web_of(request)
    _limit(request)
    form = await _form(request)
    # Only the slot is kept for the form shown again: the name and numbers a citizen
    # typed are not sent back (the page may be photographed or left open).
    kept = {"slot": form.get("slot", "")}
    try:
        start = dt.datetime.fromisoformat(form.get("slot", ""))
        if start.tzinfo is None:
            raise ValueError("no offset")
    except ValueError:
        return await _slots_page(web, service, day, _error("not_bookable"), kept, 422)
    req = bookings.BookRequest(
        service=service[:8],
        slot_start=start,
        name=form.get("name", "")[:60],
        id_number=form.get("id_number", "")[:40],
        phone=form.get("phone", "")[:30] or None,
    )
    try:
        made: Booking = await run_in_threadpool(bookings.book, web.ctx, req)
    except HallError as err:
        if err.status >= 500:
            raise
        return await _slots_page(web, service, day, _refusal(web, err), kept, err.status)
    return RedirectResponse(f"/book/b/{made.code}?done=1", status_code=303)


@pages.get("/book/b/{code}", response_model=None)
async def view(request: Request, code: str) -> Response:
    web = web_of(request)
    _limit(request)
    try:
        found: Booking = await run_in_threadpool(bookings.get, web.ctx, code[:40])
    except NotFound as err:
        return _page(web, "error", 404, message=_error(err.code))
    flag = next((k for k in ("done", "cancelled", "moved") if k in request.query_params), None)
    return _page(
        web,
        "booking",
        b=found,
        shown_code=format_code(found.code),
        flag=flag,
        qr=_qr_png(booking_url(web, request, found.code)) if found.status == "booked" else None,
        when=_when,
        hhmm=_hhmm,
        until=_when(found.cancel_until),
        check_from=_hhmm(found.check_in_from),
        check_until=_hhmm(
            (
                dt.datetime.fromisoformat(found.slot_start)
                + dt.timedelta(seconds=web.ctx.config.policy.appointment_grace_s)
            ).isoformat()
        ),
    )


@pages.get("/book/b/{code}/cancel", response_model=None)
async def cancel_page(request: Request, code: str) -> Response:
    web = web_of(request)
    _limit(request)
    found: Booking = await run_in_threadpool(bookings.get, web.ctx, code[:40])
    return _page(
        web, "cancel", b=found, when=_when, error=None, limit=web.ctx.config.booking.cancel_limit
    )


@pages.post("/book/b/{code}/cancel", response_model=None)
async def cancel(request: Request, code: str) -> Response:
    web = web_of(request)
    _limit(request)
    await _form(request)
    try:
        done: Booking = await run_in_threadpool(bookings.cancel, web.ctx, code[:40])
    except HallError as err:
        if err.status >= 500 or err.status == 404:
            raise
        found: Booking = await run_in_threadpool(bookings.get, web.ctx, code[:40])
        return _page(
            web,
            "cancel",
            err.status,
            b=found,
            when=_when,
            error=_refusal(web, err),
            limit=web.ctx.config.booking.cancel_limit,
        )
    return RedirectResponse(f"/book/b/{done.code}?cancelled=1", status_code=303)


@pages.get("/book/b/{code}/move", response_model=None)
async def move_days(request: Request, code: str) -> Response:
    web = web_of(request)
    _limit(request)
    found: Booking = await run_in_threadpool(bookings.get, web.ctx, code[:40])
    plan = await run_in_threadpool(bookings.slots, web.ctx, found.service)
    return _page(
        web,
        "days",
        plan=plan,
        day_label=_day_label,
        to_date=dt.date.fromisoformat,
        base=f"/book/b/{found.code}/move",
        title_key="move_title",
        back=f"/book/b/{found.code}",
    )


@pages.get("/book/b/{code}/move/{day}", response_model=None)
async def move_slots(request: Request, code: str, day: str) -> Response:
    web = web_of(request)
    _limit(request)
    return await _move_page(web, code, day, None)


async def _move_page(
    web: WebState, code: str, day: str, error: Markup | None, status: int = 200
) -> Response:
    found: Booking = await run_in_threadpool(bookings.get, web.ctx, code[:40])
    when = _date(day)
    plan = await run_in_threadpool(bookings.slots, web.ctx, found.service, when, when)
    return _page(
        web,
        "slots",
        status,
        plan=plan,
        day=_day_of(plan, day),
        day_label=_day_label(when),
        hhmm=_hhmm,
        error=error,
        form={},
        action=f"/book/b/{found.code}/move/{day}",
        back=f"/book/b/{found.code}/move",
        move=found,
    )


@pages.post("/book/b/{code}/move/{day}", response_model=None)
async def move(request: Request, code: str, day: str) -> Response:
    web = web_of(request)
    _limit(request)
    form = await _form(request)
    try:
        start = dt.datetime.fromisoformat(form.get("slot", ""))
        if start.tzinfo is None:
            raise ValueError("no offset")
        done: Booking = await run_in_threadpool(bookings.reschedule, web.ctx, code[:40], start)
    except ValueError:
        return await _move_page(web, code, day, _error("not_bookable"), 422)
    except HallError as err:
        if err.status >= 500 or err.status == 404:
            raise
        return await _move_page(web, code, day, _refusal(web, err), err.status)
    return RedirectResponse(f"/book/b/{done.code}?moved=1", status_code=303)


# -- 远程取号 ----------------------------------------------------------------------------------


def _remote_page(web: WebState, status: int = 200, error: Markup | None = None) -> Response:
    cfg = web.ctx.config.remote
    if not cfg.enabled:
        return _page(web, "error", 404, message=_error("remote_disabled"))
    services = [s for s in web.ctx.config.services if s.open]
    return _page(
        web,
        "remote",
        status,
        services=services,
        radius=int(cfg.radius_m),
        use_location=cfg.use_location,
        error=error,
    )


@pages.get("/book/remote", response_model=None)
async def remote_form(request: Request) -> Response:
    _limit(request)
    return _remote_page(web_of(request))


@pages.post("/book/remote", response_model=None)
async def remote_take(request: Request) -> Response:
    web = web_of(request)
    _limit(request)
    form = await _form(request)
    position = None
    try:
        if form.get("lat") and form.get("lon"):
            position = (float(form["lat"][:20]), float(form["lon"][:20]))
            if not (-90 <= position[0] <= 90 and -180 <= position[1] <= 180):
                position = None
    except ValueError:
        position = None
    try:
        ticket = await run_in_threadpool(
            remote_tickets.issue,
            web.ctx,
            form.get("service", "")[:8],
            form.get("id_number", "")[:40],
            position,
            form.get("phone", "")[:20] or None,  # the SMS notices (optional)
        )
    except HallError as err:
        if err.status >= 500:
            raise
        return _remote_page(web, err.status, _refusal(web, err))
    return RedirectResponse(f"/book/remote/{ticket.public_token}", status_code=303)


@pages.get("/book/remote/{token}", response_model=None)
async def remote_done(request: Request, token: str) -> Response:
    web = web_of(request)
    _limit(request)
    try:
        ticket = await run_in_threadpool(remote_tickets.get, web.ctx, token[:64])
    except NotFound as err:
        return _page(web, "error", 404, message=_error(err.code))
    base = web.ctx.config.public_url or str(request.base_url).rstrip("/")
    follow = f"/t/{ticket.public_token}"
    return _page(
        web,
        "remote_done",
        number=ticket.number,
        qr=_qr_png(base + follow),
        confirm_by=_hhmm(ticket.confirm_by) if ticket.confirm_by else "—",
        follow=follow,
    )


# -- 无声叫号: the ticket page's companion (book/companion.html, companion.js) ----------------

COMPANION_KEYS = (
    "notify_enable",
    "notify_on",
    "notify_blocked",
    "notify_soon",
    "notify_called",
    "notify_called_plain",
    "share_title",
    "share_hint",
)


@pages.get("/book/companion/texts", response_model=None)
def companion_texts() -> Response:
    cat = catalogue(DOMAIN)
    body = {k: {"zh": cat[k]["zh"], "en": cat[k].get("en", cat[k]["zh"])} for k in COMPANION_KEYS}
    return Response(
        json.dumps(body, ensure_ascii=False),
        media_type="application/json",
        headers={"Cache-Control": "max-age=3600"},
    )


@pages.get("/t/{token}/share.png", response_model=None)
async def share_qr(request: Request, token: str) -> Response:
    """The family share: this ticket page's own link as a QR code (no personal data)."""
    web = web_of(request)
    if not 8 <= len(token) <= 64 or not all(c.isalnum() or c in "-_" for c in token):
        raise NotFound("no ticket for this link", code="ticket_not_found")
    await run_in_threadpool(tickets.get_by_public_token, web.ctx, token)
    base = web.ctx.config.public_url or str(request.base_url).rstrip("/")
    png = base64.b64decode(_qr_png(f"{base}/t/{token}").split(",", 1)[1])
    return Response(png, media_type="image/png", headers=SECURITY_HEADERS)


# -- staff: the day's bookings, the desk's booking for a citizen, closing a day ----------------

api = APIRouter(prefix="/web/api", tags=["web"], responses=ERROR_RESPONSES)
PANEL_KEYS = (
    "panel_bookings",
    "panel_booked",
    "panel_arrived",
    "panel_no_show",
    "panel_cancelled",
    "panel_capacity",
    "panel_service",
    "panel_desk_book",
    "panel_close_day",
    "panel_day",
    "panel_all_services",
    "panel_notice",
    "panel_closed_ok",
    "panel_booked_ok",
    "panel_time",
    "panel_submit",
    "field_name",
    "field_id",
    "field_phone",
    "book_no_phone",
)


class StaffBookings(Model):
    """The day's bookings for the dashboard and the counter page, with the panel's words."""

    summary: BookingDaySummary
    services: list[BookableService]
    admin: bool
    texts: dict[str, dict[str, str]]


class DeskBookingIn(PydanticBody):
    service: Annotated[str, StringConstraints(min_length=1, max_length=8)]
    slot_start: Moment
    name: Annotated[str, StringConstraints(min_length=1, max_length=40)]
    id_number: Annotated[str, StringConstraints(min_length=1, max_length=32)]
    phone: Annotated[str, StringConstraints(max_length=20)] | None = None


def _plausible_day(day: dt.date) -> dt.date:
    if not FIRST_YEAR <= day.year <= LAST_YEAR:
        raise ValueError(f"must be in the years {FIRST_YEAR}–{LAST_YEAR}")
    return day


class DeskClosureIn(PydanticBody):
    day: Annotated[dt.date, AfterValidator(_plausible_day)]
    service: Annotated[str, StringConstraints(min_length=1, max_length=8)] | None = None
    notice: Reason


@api.get("/bookings/day", summary="The day's bookings per service (staff pages)")
def staff_bookings(web: Web, session: Staff, day: str | None = None) -> StaffBookings:
    when = _date(day) if day else None
    cat = catalogue(DOMAIN)
    return StaffBookings(
        summary=bookings.day_summary(web.ctx, when),
        services=bookings.services(web.ctx),
        admin=session.role == "admin",
        texts={k: {"zh": cat[k]["zh"], "en": cat[k].get("en", cat[k]["zh"])} for k in PANEL_KEYS},
    )


@api.post("/bookings", status_code=201, summary="The desk books for a citizen (admin)")
def desk_booking(web: Web, _: AdminWrite, body: DeskBookingIn) -> Booking:
    return bookings.book(
        web.ctx,
        bookings.BookRequest(
            service=body.service,
            slot_start=body.slot_start,
            name=body.name,
            id_number=body.id_number,
            phone=body.phone or None,
            channel="desk",
        ),
    )


@api.post("/booking/closures", status_code=201, summary="Close a day for booking, with notice")
def desk_closure(web: Web, session: AdminWrite, body: DeskClosureIn) -> BookingClosure:
    return bookings.close_day(web.ctx, body.day, body.service, body.notice, session.username)


router = APIRouter()
"""What ``hall/web/routes/__init__.py`` includes: the pages and the staff's booking API."""
router.include_router(pages)
router.include_router(api)

"""Routes of the staff and citizen pages.

Pages: ``/web/login``, ``/web/counter`` (叫号), ``/web/pad`` (评价器), ``/web/dashboard``
(manager) and ``/t/{token}`` (the citizen's ticket). Their scripts call ``/web/api/…``,
authenticated by the session cookie, never by a hall bearer token. Every state-changing
request needs the session's CSRF token in ``X-CSRF-Token`` and, when the browser sends an
``Origin``, the hall's own origin. Handlers call the hall's service layer."""

from __future__ import annotations

import hmac
import json
from collections.abc import AsyncIterator
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import HTMLResponse, PlainTextResponse, RedirectResponse, StreamingResponse
from fastapi.sse import KEEPALIVE_COMMENT, format_sse_event
from pydantic import BaseModel, Field

from hall.errors import Invalid, NotFound
from hall.schemas import ERROR_RESPONSES, Evaluation, HelpResolved
from hall.services import counters, evaluations, hallinfo, stats, tickets
from hall.services.context import HallContext
from hall.streams import EventStream, next_event
from hall.streams import stream_events as hall_event_stream
from hall.web import accounts, queries
from hall.web.accounts import AddressThrottle, Session
from hall.web.errors import CsrfFailed, LoginRequired, NotAllowed
from hall.web.render import SECURITY_HEADERS, render
from hall.web.settings import WebSettings

COOKIE = "govhall_session"
TOKEN_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")

pages = APIRouter(include_in_schema=False)
api = APIRouter(prefix="/web/api", tags=["web"], responses=ERROR_RESPONSES)


class WebState:
    def __init__(self, ctx: HallContext, settings: WebSettings) -> None:
        self.ctx = ctx
        self.settings = settings
        self.throttle = AddressThrottle(settings.ip_max_failures, settings.login_lockout_s)


def web_of(request: Request) -> WebState:
    return request.app.state.web


Web = Annotated[WebState, Depends(web_of)]


def current_session(request: Request, web: Web) -> Session:
    session = accounts.session_for(web.ctx, web.settings, request.cookies.get(COOKIE))
    if session is None:
        raise LoginRequired("please log in (请登录)")
    return session


def _same_origin(request: Request) -> None:
    """Browsers send Origin on cross-site POSTs; one that is not ours is refused."""
    origin = request.headers.get("origin")
    if origin is None:
        return
    host = request.headers.get("host", "")
    if origin.split("://", 1)[-1] != host:
        raise CsrfFailed("request from another site refused")


def csrf_session(
    request: Request, session: Annotated[Session, Depends(current_session)]
) -> Session:
    _same_origin(request)
    sent = request.headers.get("x-csrf-token", "")
    if not sent or not hmac.compare_digest(sent.encode(), session.csrf.encode()):
        raise CsrfFailed("missing or wrong CSRF token (X-CSRF-Token); reload the page")
    return session


Staff = Annotated[Session, Depends(current_session)]
StaffWrite = Annotated[Session, Depends(csrf_session)]


def admin(session: Staff) -> Session:
    if session.role != "admin":
        raise NotAllowed("only an administrator may do this")
    return session


def admin_write(session: StaffWrite) -> Session:
    return admin(session)


Admin = Annotated[Session, Depends(admin)]
AdminWrite = Annotated[Session, Depends(admin_write)]


def _counter_for(session: Session, web: WebState, counter_id: str) -> str:
    if web.ctx.config.counter(counter_id) is None:
        raise NotFound(f"no counter with id {counter_id!r}", code="unknown_counter")
    if not session.may_act_for(counter_id):
        raise NotAllowed(
            f"account {session.username} may not act for counter {counter_id}", code="wrong_counter"
        )
    return counter_id


# -- pages -------------------------------------------------------------------------------
def _page(web: WebState, name: str) -> HTMLResponse:
    return HTMLResponse(render(name, web.ctx.config.name), headers=SECURITY_HEADERS)


def _login_redirect(target: str) -> RedirectResponse:
    return RedirectResponse(f"/web/login?next={target}", status_code=303)


@pages.get("/web", response_model=None)
@pages.get("/web/", response_model=None)
def web_home(request: Request, web: Web) -> RedirectResponse:
    session = accounts.session_for(web.ctx, web.settings, request.cookies.get(COOKIE))
    if session is None:
        return _login_redirect("/web/")
    return RedirectResponse(
        "/web/dashboard" if session.role == "admin" else "/web/counter", status_code=303
    )


@pages.get("/web/login")
def login_page(web: Web) -> HTMLResponse:
    return _page(web, "login")


def _staff_page(request: Request, web: WebState, name: str, admin_only: bool = False) -> Response:
    session = accounts.session_for(web.ctx, web.settings, request.cookies.get(COOKIE))
    if session is None:
        return _login_redirect(f"/web/{name}")
    if admin_only and session.role != "admin":
        return RedirectResponse("/web/counter", status_code=303)
    return _page(web, name)


@pages.get("/web/counter", response_model=None)
def counter_page(request: Request, web: Web) -> Response:
    return _staff_page(request, web, "counter")


@pages.get("/web/pad", response_model=None)
def pad_page(request: Request, web: Web) -> Response:
    return _staff_page(request, web, "pad")


@pages.get("/web/dashboard", response_model=None)
def dashboard_page(request: Request, web: Web) -> Response:
    return _staff_page(request, web, "dashboard", admin_only=True)


def _check_token(token: str) -> str:
    if not 8 <= len(token) <= 64 or not set(token) <= TOKEN_CHARS:
        raise NotFound("no ticket for this link", code="ticket_not_found")
    return token


@pages.get("/t/{token}")
def ticket_page(web: Web, token: str) -> HTMLResponse:
    _check_token(token)  # an unknown but well-formed token shows the page's own message
    return _page(web, "ticket")


# -- session -----------------------------------------------------------------------------
class LoginIn(BaseModel):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=256)


@api.post("/login")
def login(request: Request, web: Web, body: LoginIn, response: Response) -> dict[str, Any]:
    # No session yet, so no CSRF token: a JSON body (a cross-site form cannot send one
    # without a CORS preflight, which we never grant) plus the Origin check stop login CSRF.
    _same_origin(request)
    address = request.client.host if request.client else "?"
    cookie, session = accounts.login(
        web.ctx, web.settings, web.throttle, body.username, body.password, address
    )
    response.set_cookie(
        COOKIE,
        cookie,
        max_age=int(web.settings.session_hours * 3600),
        httponly=True,
        samesite="strict",
        secure=web.settings.cookie_secure,
        path="/",
    )
    return session.public()


@api.post("/logout")
def logout(web: Web, session: StaffWrite, response: Response) -> dict[str, Any]:
    accounts.logout(web.ctx, session)
    response.delete_cookie(COOKIE, path="/")
    return {"ok": True}


@api.get("/me")
def me(web: Web, session: Staff) -> dict[str, Any]:
    cfg = web.ctx.config
    allowed = [c for c in cfg.counters if session.may_act_for(c.id)]
    return {
        **session.public(),
        "hall": cfg.name,
        "hall_en": cfg.name_en,
        "pad_thanks_s": web.settings.pad_thanks_s,
        "today": web.ctx.today().isoformat(),
        "counters_info": [
            {"id": c.id, "name": c.name, "name_en": c.name_en, "services": list(c.services)}
            for c in allowed
        ],
    }


# -- counter -----------------------------------------------------------------------------
def _services(web: WebState) -> list[dict[str, Any]]:
    return [
        s.model_dump(include={"code", "name", "name_en", "open", "waiting"})
        for s in hallinfo.services(web.ctx)
    ]


@api.get("/counters/{counter_id}")
def counter_snapshot(web: Web, session: Staff, counter_id: str) -> dict[str, Any]:
    _counter_for(session, web, counter_id)
    mine = stats.compute(web.ctx).by_counter.get(counter_id)
    return {
        "status": counters.get_status(web.ctx, counter_id),
        "today": {
            "served": mine.served if mine else 0,
            "called": mine.called if mine else 0,
            "no_show": mine.no_show if mine else 0,
            "service_avg_s": mine.service_avg_s if mine else None,
        },
        "services": _services(web),
        "help": hallinfo.open_help_requests(web.ctx),
        "last_event_id": web.ctx.bus.last_id,
    }


Action = Literal["call-next", "recall", "start", "finish", "no-show", "park", "resume"]
_ACTIONS = {
    "call-next": counters.call_next,
    "recall": counters.recall,
    "start": counters.start,
    "finish": counters.finish,
    "no-show": counters.no_show,
    "park": counters.park,
    "resume": counters.resume,
}


@api.post("/counters/{counter_id}/do/{action}")
def counter_action(
    web: Web, session: StaffWrite, counter_id: str, action: Action
) -> dict[str, Any]:
    _counter_for(session, web, counter_id)
    result = _ACTIONS[action](web.ctx, counter_id)
    return {"ticket": result} if action != "resume" else {"status": result}


class CallIn(BaseModel):
    ticket: int = Field(ge=1)


@api.post("/counters/{counter_id}/call")
def counter_call(web: Web, session: StaffWrite, counter_id: str, body: CallIn) -> dict[str, Any]:
    _counter_for(session, web, counter_id)
    return {"ticket": counters.call_ticket(web.ctx, counter_id, body.ticket)}


class PauseIn(BaseModel):
    reason: str = Field(min_length=1, max_length=200)


@api.post("/counters/{counter_id}/pause")
def counter_pause(web: Web, session: StaffWrite, counter_id: str, body: PauseIn) -> dict[str, Any]:
    _counter_for(session, web, counter_id)
    reason = body.reason.strip() or "—"
    return {"status": counters.pause(web.ctx, counter_id, reason)}


class TransferIn(BaseModel):
    service: str = Field(min_length=1, max_length=8)
    note: str | None = Field(default=None, max_length=200)
    return_here: bool = False


@api.post("/counters/{counter_id}/transfer")
def counter_transfer(
    web: Web, session: StaffWrite, counter_id: str, body: TransferIn
) -> dict[str, Any]:
    _counter_for(session, web, counter_id)
    ticket = counters.transfer(web.ctx, counter_id, body.service, body.note, body.return_here)
    return {"ticket": ticket}


@api.post("/help/{help_id}/resolve")
def help_resolve(web: Web, _: StaffWrite, help_id: int) -> HelpResolved:
    return hallinfo.resolve_help(web.ctx, help_id)


# -- evaluation pad ----------------------------------------------------------------------
@api.get("/counters/{counter_id}/pad")
def pad_state(web: Web, session: Staff, counter_id: str) -> dict[str, Any]:
    _counter_for(session, web, counter_id)
    counter = web.ctx.config.counter(counter_id)
    assert counter is not None
    return {
        "counter": counter_id,
        "counter_name": counter.name,
        "counter_name_en": counter.name_en,
        "ticket": queries.pad_ticket(web.ctx, counter_id),
        "last_event_id": web.ctx.bus.last_id,
    }


class EvaluationIn(BaseModel):
    ticket: int = Field(ge=1)
    score: int = Field(ge=1, le=5)


@api.post("/counters/{counter_id}/evaluate", status_code=201)
def pad_evaluate(web: Web, session: StaffWrite, counter_id: str, body: EvaluationIn) -> Evaluation:
    _counter_for(session, web, counter_id)
    # A pad rates only what was served at its own counter.
    if queries.ticket_counter(web.ctx, body.ticket) != counter_id:
        raise NotAllowed(
            f"ticket {body.ticket} was not served at counter {counter_id}", code="wrong_counter"
        )
    return evaluations.evaluate(web.ctx, body.ticket, body.score, None)


# -- events ------------------------------------------------------------------------------
@api.get("/events")
async def staff_events(
    request: Request,
    web: Web,
    _: Staff,
    last_event_id: Annotated[int | None, Query(ge=0, le=2**62)] = None,
) -> StreamingResponse:
    """The hall's event stream for a logged-in browser (EventSource sends the cookie;
    ``Last-Event-ID`` on reconnect, or ``?last_event_id=`` from the page's snapshot)."""
    header = request.headers.get("last-event-id")
    return hall_event_stream(request, web.ctx, header, last_event_id)


# -- citizen's ticket --------------------------------------------------------------------
def _public_ticket(web: WebState, token: str) -> dict[str, Any]:
    tk = tickets.get_by_public_token(web.ctx, _check_token(token))
    # The link may be photographed off a ticket: nothing personal, not even masked.
    keep = (
        "number",
        "service",
        "service_name",
        "service_name_en",
        "status",
        "issued_at",
        "called_at",
        "waiting_ahead",
        "estimated_wait_s",
        "counter",
        "counter_name",
        "recall_count",
    )
    out = tk.model_dump(mode="json", include=set(keep))
    counter = web.ctx.config.counter(tk.counter) if tk.counter else None
    out["counter_name_en"] = counter.name_en if counter else None
    out["hall"] = web.ctx.config.name
    out["hall_en"] = web.ctx.config.name_en
    return out


@pages.get("/t/{token}/state")
def ticket_state(web: Web, token: str) -> Response:
    return Response(
        json.dumps(_public_ticket(web, token), ensure_ascii=False),
        media_type="application/json",
        headers={"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"},
    )


async def _changes(web: WebState, heartbeat_s: float) -> AsyncIterator[bytes]:
    """Only "something changed in service X": the page re-reads its own state. No ticket
    data of other citizens goes to a public page."""
    sub = web.ctx.bus.subscribe()
    try:
        yield format_sse_event(retry=3000)
        while True:
            ev = await next_event(sub, heartbeat_s)
            if ev is None:
                if sub.cut_off:
                    return
                yield KEEPALIVE_COMMENT  # b": ping\n\n"
                continue
            if ev.type.startswith(("ticket.", "counter.")):
                service = (ev.data.get("ticket") or {}).get("service", "")
                yield format_sse_event(event="changed", data_str=json.dumps({"service": service}))
            if sub.cut_off:
                return  # too slow: EventSource reconnects and the page re-reads its state
    finally:
        sub.close()


@pages.get("/t/{token}/events")
async def ticket_events(request: Request, web: Web, token: str) -> StreamingResponse:
    _check_token(token)
    return EventStream(_changes(web, request.app.state.sse_heartbeat_s))


# -- manager -----------------------------------------------------------------------------
@api.get("/live")
def live(web: Web, _: Admin) -> dict[str, Any]:
    ctx = web.ctx
    board = hallinfo.board(ctx)
    day = stats.compute(ctx)
    return {
        "services": _services(web),
        "longest_wait_s": queries.longest_waits(ctx),
        "counters": board.counters,
        "recent_calls": board.recent_calls,
        "today": day.total,
        "calls_per_hour": {h: v.called for h, v in day.by_hour.items()},
        "help": hallinfo.open_help_requests(ctx),
        "devices": hallinfo.device_health(ctx),
        "last_event_id": ctx.bus.last_id,
    }


Day = Annotated[str | None, Query(max_length=40)]


@api.get("/report")
def report(
    web: Web,
    _: Admin,
    from_: Annotated[str | None, Query(alias="from", max_length=40)] = None,
    to: Day = None,
) -> dict[str, Any]:
    result = stats.compute(web.ctx, from_, to)
    return {**result.model_dump(), "distributions": queries.distributions(web.ctx, from_, to)}


@api.get("/report.csv")
def report_csv(
    web: Web,
    _: Admin,
    from_: Annotated[str | None, Query(alias="from", max_length=40)] = None,
    to: Day = None,
) -> PlainTextResponse:
    result = stats.compute(web.ctx, from_, to)
    name = f"govhall-{result.from_[:10]}-{result.to[:10]}.csv"
    # BOM: Excel on a Chinese Windows opens UTF-8 CSV correctly only with it.
    return PlainTextResponse(
        "\ufeff" + stats.to_csv(result),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


_SECRET_KEYS = ("token", "secret", "password", "key", "pin")


def _redact(value: Any) -> Any:
    if isinstance(value, dict):
        return {
            k: ("••••" if any(s in k.lower() for s in _SECRET_KEYS) else _redact(v))
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_redact(v) for v in value]
    return value


@api.get("/config")
def config_view(web: Web, _: Admin) -> dict[str, Any]:
    cfg = web.ctx.config
    return {
        "hall": {
            "id": cfg.hall_id,
            "name": cfg.name,
            "name_en": cfg.name_en,
            "timezone": cfg.timezone,
            "path": str(cfg.path) if cfg.path else None,
        },
        "services": [
            {
                "code": s.code,
                "prefix": s.prefix,
                "name": s.name,
                "name_en": s.name_en,
                "open": s.open,
                "requires_id": s.requires_id,
                "requires_face": s.requires_face,
                "avg_service_s": s.avg_service_s,
            }
            for s in cfg.services
        ],
        "counters": [
            {"id": c.id, "name": c.name, "name_en": c.name_en, "services": list(c.services)}
            for c in cfg.counters
        ],
        "policy": dict(cfg.policy.__dict__),
        "tokens": [{"name": tk.name, "role": tk.role} for tk in cfg.tokens],
        "devices": _redact({k: v for k, v in cfg.sections.items() if k != "web"}),
    }


# -- accounts (admin) --------------------------------------------------------------------
@api.get("/accounts")
def accounts_list(web: Web, _: Admin) -> list[dict[str, Any]]:
    return accounts.list_accounts(web.ctx)


class AccountIn(BaseModel):
    username: str = Field(min_length=1, max_length=64)
    display_name: str = Field(default="", max_length=64)
    role: Literal["admin", "counter"]
    counters: list[str] = Field(default_factory=list, max_length=100)
    password: str = Field(min_length=1, max_length=256)


@api.post("/accounts", status_code=201)
def accounts_create(web: Web, _: AdminWrite, body: AccountIn) -> dict[str, Any]:
    return accounts.create_account(
        web.ctx,
        web.settings,
        body.username,
        body.password,
        body.role,
        body.counters,
        body.display_name,
    )


class PasswordIn(BaseModel):
    password: str = Field(min_length=1, max_length=256)


@api.post("/accounts/{username}/password")
def accounts_password(web: Web, _: AdminWrite, username: str, body: PasswordIn) -> dict[str, Any]:
    return accounts.set_password(web.ctx, web.settings, username, body.password)


class AccountPatch(BaseModel):
    active: bool | None = None
    counters: list[str] | None = Field(default=None, max_length=100)
    display_name: str | None = Field(default=None, max_length=64)


@api.post("/accounts/{username}")
def accounts_update(
    web: Web, session: AdminWrite, username: str, body: AccountPatch
) -> dict[str, Any]:
    if username == session.username and body.active is False:
        raise Invalid("you cannot disable your own account", code="self_disable")
    return accounts.update_account(
        web.ctx,
        username,
        active=body.active,
        counters=body.counters,
        display_name=body.display_name,
    )

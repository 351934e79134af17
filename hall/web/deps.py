"""What the web routes depend on: the pages' state on the app, and who is asking.

A staff browser is authenticated by its session cookie (never a hall bearer token):
``Staff`` for reads, ``StaffWrite`` for changes (the session's CSRF token in
``X-CSRF-Token`` and, when the browser sends an ``Origin``, the hall's own), ``Admin`` and
``AdminWrite`` for the manager's pages. The shape of full-stack-fastapi-template's
``api/deps.py``."""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Depends, Request

from hall.errors import Forbidden, NotFound
from hall.services.context import HallContext
from hall.web import accounts
from hall.web.accounts import LoginThrottle, Session
from hall.web.errors import CsrfFailed, LoginRequired, WrongCounter
from hall.web.settings import WebSettings

COOKIE = "govhall_session"


class WebState:
    """Kept on ``app.state.web`` by :func:`hall.web.mount`."""

    def __init__(self, ctx: HallContext, settings: WebSettings) -> None:
        self.ctx = ctx
        self.settings = settings
        self.throttle = LoginThrottle(settings.login_free_failures, settings.login_max_delay_s)


def web_of(request: Request) -> WebState:
    state: WebState = request.app.state.web
    return state


Web = Annotated[WebState, Depends(web_of)]


def session_of(request: Request, web: WebState) -> Session | None:
    """The browser's session, or None (no cookie, unknown, expired or idle too long)."""
    return accounts.session_for(web.ctx, web.settings, request.cookies.get(COOKIE))


def current_session(request: Request, web: Web) -> Session:
    session = session_of(request, web)
    if session is None:
        raise LoginRequired("please log in (请登录)")
    return session


def same_origin(request: Request) -> None:
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
    same_origin(request)
    sent = request.headers.get("x-csrf-token", "")
    if not sent or not hmac.compare_digest(sent.encode(), session.csrf.encode()):
        raise CsrfFailed("missing or wrong CSRF token (X-CSRF-Token); reload the page")
    return session


Staff = Annotated[Session, Depends(current_session)]
StaffWrite = Annotated[Session, Depends(csrf_session)]


def admin(session: Staff) -> Session:
    if session.role != "admin":
        raise Forbidden("only an administrator may do this")
    return session


def admin_write(session: StaffWrite) -> Session:
    return admin(session)


Admin = Annotated[Session, Depends(admin)]
AdminWrite = Annotated[Session, Depends(admin_write)]


def counter_for(session: Session, web: WebState, counter_id: str) -> str:
    """``counter_id`` if the hall has that counter and the session may act for it.
    Called by the handler, after the body is validated (not a dependency)."""
    if web.ctx.config.counter(counter_id) is None:
        raise NotFound(f"no counter with id {counter_id!r}", code="unknown_counter")
    if not session.may_act_for(counter_id):
        raise WrongCounter(f"account {session.username} may not act for counter {counter_id}")
    return counter_id

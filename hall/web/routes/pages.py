"""The staff pages: ``/web`` (to the right page for the role), ``/web/login``,
``/web/counter`` (叫号), ``/web/pad`` (评价器) and ``/web/dashboard`` (manager). A page
without a session goes to the login page, which sends the browser back afterwards."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse

from hall.web.deps import Web, WebState, session_of
from hall.web.render import page_response

router = APIRouter(include_in_schema=False)


def _login_redirect(target: str) -> RedirectResponse:
    return RedirectResponse(f"/web/login?next={target}", status_code=303)


@router.get("/web", response_model=None)
@router.get("/web/", response_model=None)
def web_home(request: Request, web: Web) -> RedirectResponse:
    session = session_of(request, web)
    if session is None:
        return _login_redirect("/web/")
    home = {"admin": "/web/dashboard", "supervisor": "/web/cases"}.get(session.role)
    return RedirectResponse(home or "/web/counter", status_code=303)


@router.get("/web/login")
def login_page(web: Web) -> HTMLResponse:
    return page_response("login", web.ctx.config.name, web.ctx.config.timezone)


def _staff_page(request: Request, web: WebState, name: str, admin_only: bool = False) -> Response:
    session = session_of(request, web)
    if session is None:
        return _login_redirect(f"/web/{name}")
    if admin_only and session.role != "admin":
        return RedirectResponse("/web/counter", status_code=303)
    return page_response(name, web.ctx.config.name, web.ctx.config.timezone)


@router.get("/web/counter", response_model=None)
def counter_page(request: Request, web: Web) -> Response:
    return _staff_page(request, web, "counter")


@router.get("/web/pad", response_model=None)
def pad_page(request: Request, web: Web) -> Response:
    return _staff_page(request, web, "pad")


@router.get("/web/dashboard", response_model=None)
def dashboard_page(request: Request, web: Web) -> Response:
    return _staff_page(request, web, "dashboard", admin_only=True)

"""Logging in and out, and who is logged in (``/web/api/login``, ``logout``, ``me``)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, Field

from hall.web import accounts
from hall.web.deps import COOKIE, Staff, StaffWrite, Web, same_origin

router = APIRouter()


class LoginIn(BaseModel):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=256)


@router.post("/login")
def login(request: Request, web: Web, body: LoginIn, response: Response) -> dict[str, Any]:
    # No session yet, so no CSRF token: a JSON body (a cross-site form cannot send one
    # without a CORS preflight, which we never grant) plus the Origin check stop login CSRF.
    same_origin(request)
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


@router.post("/logout")
def logout(web: Web, session: StaffWrite, response: Response) -> dict[str, Any]:
    accounts.logout(web.ctx, session)
    response.delete_cookie(COOKIE, path="/")
    return {"ok": True}


@router.get("/me")
def me(web: Web, session: Staff) -> dict[str, Any]:
    cfg = web.ctx.config
    allowed = [c for c in cfg.counters if session.may_act_for(c.id)]
    return {
        **session.public(),
        "hall": cfg.name,
        "hall_en": cfg.name_en,
        "timezone": cfg.timezone,
        "pad_thanks_s": web.settings.pad_thanks_s,
        "today": web.ctx.today().isoformat(),
        "services": {s.code: s.name for s in cfg.services},
        "counters_info": [
            {"id": c.id, "name": c.name, "name_en": c.name_en, "services": list(c.services)}
            for c in allowed
        ],
    }

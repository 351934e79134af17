"""Errors of the web pages; the hall's handler turns them into ``{"error", "message"}``."""

from __future__ import annotations

from hall.errors import HallError


class LoginRequired(HallError):
    status = 401
    code = "login_required"


class LoginFailed(HallError):
    status = 401
    code = "login_failed"


class LoginLocked(HallError):
    status = 429
    code = "login_locked"


class NotAllowed(HallError):
    status = 403
    code = "forbidden"


class CsrfFailed(HallError):
    status = 403
    code = "csrf_failed"

"""Errors of the staff pages' sessions. Each is a kind of the hall's own error
(:mod:`hall.errors`), so it takes that kind's HTTP status and answers as
``{"error": CODE, "message": TEXT}`` through the hall's handler; only its code is new.
The pages act on the code (``login_required``: back to the login page; ``err_CODE`` in
the ``web`` catalogue: the text shown), so a code never changes.

Refusals that are not about the session (a weak password, an unknown account) are the
hall's own kinds with a ``code=`` at the raise site, as in the service layer."""

from __future__ import annotations

from hall.errors import Forbidden, TooSoon, Unauthorized


class LoginRequired(Unauthorized):
    """No session cookie, or one that is unknown, expired or idle too long."""

    code = "login_required"


class LoginFailed(Unauthorized):
    """Wrong username or password (the same answer for both)."""

    code = "login_failed"


class LoginLocked(TooSoon):
    """The account is locked for a while after too many wrong passwords; ``locked_until``
    (local ISO time) says until when."""

    code = "login_locked"

    def __init__(self, message: str, *, locked_until: str) -> None:
        super().__init__(message)
        self.details = {"locked_until": locked_until}


class LoginThrottled(TooSoon):
    """Too many failed logins for this account from this address: wait (growing delays)."""

    code = "login_throttled"


class CsrfFailed(Forbidden):
    """A change without the session's CSRF token, or from another site's page."""

    code = "csrf_failed"


class WrongCounter(Forbidden):
    """The account may not act for this counter (or rate a ticket served elsewhere)."""

    code = "wrong_counter"

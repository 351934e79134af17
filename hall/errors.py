"""Errors of the hall: each has a stable code and an HTTP status; the API turns them into
``{"error": CODE, "message": TEXT}``. Messages never contain personal data."""

from __future__ import annotations

from common.errors import CodedError


class HallError(CodedError):
    status = 400
    code = "bad_request"

    def __init__(self, message: str, *, code: str | None = None, status: int | None = None) -> None:
        super().__init__(message, code=code or None)
        self.message = message
        self.details: dict[str, str | None] = {}
        """Fields the error body carries beside its code and texts (``opens_at``, …)."""
        if status:
            self.status = status


class Unauthorized(HallError):
    """No token or session, or a wrong one."""

    status = 401
    code = "unauthorized"


class Forbidden(HallError):
    """A known caller that may not do this (role, counter, account)."""

    status = 403
    code = "forbidden"


class NotFound(HallError):
    status = 404
    code = "not_found"


class Conflict(HallError):
    """The request is well-formed but the queue's state does not allow it now."""

    status = 409
    code = "conflict"


class OutsideHours(Conflict):
    """A ticket asked for while the service is closed; ``opens_at`` (local ISO time) says
    when it opens next, None if not within a month."""

    code = "outside_hours"

    def __init__(self, message: str, opens_at: str | None) -> None:
        super().__init__(message)
        self.opens_at = opens_at
        self.details = {"opens_at": opens_at}


class DailyLimit(Conflict):
    """The person already holds the day's open tickets for this service: ``held_number``
    is the one they hold (a number, no personal data), ``held_ticket`` its id, so the
    kiosk can offer to reprint it."""

    code = "daily_limit"

    def __init__(self, message: str, *, held_number: str, held_ticket: int) -> None:
        super().__init__(message)
        self.details = {"held_number": held_number, "held_ticket": str(held_ticket)}


class Invalid(HallError):
    status = 422
    code = "invalid"


class TooSoon(HallError):
    status = 429
    code = "too_soon"


class StorageUnavailable(HallError):
    """The database did not answer in time or failed (stalled, locked, full disk,
    corrupt): nothing was changed; the client may retry after ``retry_after_s``."""

    status = 503
    code = "storage_unavailable"

    def __init__(self, retry_after_s: int = 5) -> None:
        super().__init__(
            "数据库暂时不可用，请稍后重试 / the hall's database is not answering; try again shortly"
        )
        self.retry_after_s = retry_after_s


class BookingBlocked(Conflict):
    """Booking is blocked for this person until ``blocked_until`` (the month's last day)
    because they reached the month's no-show or cancellation limit (``block_reason``)."""

    code = "blocked"

    def __init__(self, message: str, *, reason: str, until: str) -> None:
        super().__init__(message)
        self.details = {"block_reason": reason, "blocked_until": until}


class RateLimited(HallError):
    """Too many requests from one address to the public booking routes and pages."""

    status = 429
    code = "rate_limited"

"""Staff accounts and their browser sessions (service layer of the web pages).

Passwords are stored as argon2id hashes only. A session is a random cookie value; the
database keeps its SHA-256, the account, a CSRF token, and absolute and idle expiry, so a
restart keeps staff logged in and a leaked database hands out no live session. Failed
logins lock the account for a while (counted in the database, so several server processes
agree) and a per-address limit in memory slows guessing across usernames."""

from __future__ import annotations

import collections
import datetime as dt
import hashlib
import logging
import re
import secrets
import threading
import time
from dataclasses import dataclass
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, insert, select, update

from hall.errors import Conflict, Invalid, NotFound
from hall.services.context import HallContext
from hall.storage import tables as t
from hall.web.errors import LoginFailed, LoginLocked
from hall.web.settings import WebSettings

log = logging.getLogger("hall.web")
A = t.web_accounts
S = t.web_sessions
ROLES = ("admin", "counter")
USERNAME_RE = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
_hasher = PasswordHasher()
# Verified against when the username is unknown, so both cases take the same time.
_DUMMY_HASH = _hasher.hash("govhall-no-such-user")


@dataclass(frozen=True)
class Session:
    id: str  # the stored hash, not the cookie value
    account_id: int
    username: str
    display_name: str
    role: str
    counters: tuple[str, ...]
    csrf: str
    expires_at: dt.datetime

    def may_act_for(self, counter_id: str) -> bool:
        """Admins may step in at any counter; counter staff only at their own."""
        return self.role == "admin" or counter_id in self.counters

    def public(self) -> dict[str, Any]:
        return {
            "username": self.username,
            "display_name": self.display_name,
            "role": self.role,
            "counters": list(self.counters),
            "csrf": self.csrf,
            "expires_at": self.expires_at.isoformat(),
        }


def _session_key(cookie: str) -> str:
    return hashlib.sha256(cookie.encode()).hexdigest()


def _check_password(settings: WebSettings, password: str) -> None:
    if len(password) < settings.min_password_length:
        raise Invalid(
            f"password must have at least {settings.min_password_length} characters",
            code="weak_password",
        )
    if len(password) > 256:
        raise Invalid("password must have at most 256 characters", code="weak_password")


def _check_counters(ctx: HallContext, role: str, counters: list[str]) -> tuple[str, ...]:
    if role not in ROLES:
        raise Invalid(f"role must be one of {', '.join(ROLES)}", code="invalid_role")
    for c in counters:
        if ctx.config.counter(c) is None:
            raise Invalid(f"no counter with id {c!r} in the hall config", code="unknown_counter")
    if role == "counter" and not counters:
        raise Invalid("a counter account needs at least one counter", code="no_counters")
    return tuple(dict.fromkeys(counters))


def account_json(row: Any) -> dict[str, Any]:
    return {
        "id": row.id,
        "username": row.username,
        "display_name": row.display_name,
        "role": row.role,
        "counters": list(row.counters),
        "active": bool(row.active),
        "locked": row.locked_until is not None,
    }


def create_account(
    ctx: HallContext,
    settings: WebSettings,
    username: str,
    password: str,
    role: str,
    counters: list[str],
    display_name: str = "",
) -> dict[str, Any]:
    if not USERNAME_RE.match(username):
        raise Invalid("username: 1–64 letters, digits, '.', '_' or '-'", code="invalid_username")
    _check_password(settings, password)
    allowed = _check_counters(ctx, role, counters)
    hashed = _hasher.hash(password)
    with ctx.write() as tx:
        if tx.conn.execute(
            select(A.c.id).where(A.c.hall_id == ctx.hall_id, A.c.username == username)
        ).first():
            raise Conflict(f"account {username!r} exists already", code="account_exists")
        new_id = tx.conn.execute(
            insert(A)
            .values(
                hall_id=ctx.hall_id,
                username=username,
                display_name=(display_name or username)[:64],
                role=role,
                counters=list(allowed),
                password_hash=hashed,
                active=1,
                failed_logins=0,
                created_at=tx.now,
                password_changed_at=tx.now,
            )
            .returning(A.c.id)
        ).scalar_one()
        row = tx.conn.execute(select(A).where(A.c.id == new_id)).one()
    log.info("web account %s created (role %s)", username, role)
    return account_json(row)


def _account(conn: Any, ctx: HallContext, username: str) -> Any:
    row = conn.execute(
        select(A).where(A.c.hall_id == ctx.hall_id, A.c.username == username)
    ).first()
    if row is None:
        raise NotFound(f"no account {username!r}", code="unknown_account")
    return row


def set_password(
    ctx: HallContext, settings: WebSettings, username: str, password: str
) -> dict[str, Any]:
    """Reset a password: also unlocks the account and ends its sessions (a reset after a
    suspected leak must throw the holder out)."""
    _check_password(settings, password)
    hashed = _hasher.hash(password)
    with ctx.write() as tx:
        row = _account(tx.conn, ctx, username)
        tx.conn.execute(
            update(A)
            .where(A.c.id == row.id)
            .values(
                password_hash=hashed, failed_logins=0, locked_until=None, password_changed_at=tx.now
            )
        )
        tx.conn.execute(delete(S).where(S.c.account_id == row.id))
        row = tx.conn.execute(select(A).where(A.c.id == row.id)).one()
    log.info("web account %s: password reset", username)
    return account_json(row)


def update_account(
    ctx: HallContext,
    username: str,
    *,
    active: bool | None = None,
    counters: list[str] | None = None,
    display_name: str | None = None,
) -> dict[str, Any]:
    with ctx.write() as tx:
        row = _account(tx.conn, ctx, username)
        values: dict[str, Any] = {}
        if counters is not None:
            values["counters"] = list(_check_counters(ctx, row.role, counters))
        if display_name is not None:
            values["display_name"] = display_name[:64] or row.username
        if active is not None:
            values["active"] = int(active)
            if not active:
                tx.conn.execute(delete(S).where(S.c.account_id == row.id))
        if values:
            tx.conn.execute(update(A).where(A.c.id == row.id).values(**values))
        row = tx.conn.execute(select(A).where(A.c.id == row.id)).one()
    return account_json(row)


def list_accounts(ctx: HallContext) -> list[dict[str, Any]]:
    with ctx.read() as conn:
        rows = conn.execute(
            select(A).where(A.c.hall_id == ctx.hall_id).order_by(A.c.role, A.c.username)
        ).all()
    return [account_json(r) for r in rows]


class AddressThrottle:
    """Failed logins per client address in a sliding window (memory only: it is a brake on
    guessing, the per-account lock in the database is the real limit)."""

    def __init__(self, limit: int, window_s: float) -> None:
        self.limit, self.window_s = limit, window_s
        self._fails: dict[str, collections.deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, address: str, now: float) -> collections.deque[float]:
        q = self._fails.setdefault(address, collections.deque())
        while q and now - q[0] > self.window_s:
            q.popleft()
        return q

    def blocked(self, address: str) -> float:
        """Seconds until this address may try again (0: now)."""
        now = time.monotonic()
        with self._lock:
            q = self._recent(address, now)
            return self.window_s - (now - q[0]) if len(q) >= self.limit else 0.0

    def failed(self, address: str) -> None:
        with self._lock:
            self._recent(address, time.monotonic()).append(time.monotonic())

    def succeeded(self, address: str) -> None:
        with self._lock:
            self._fails.pop(address, None)


def login(
    ctx: HallContext,
    settings: WebSettings,
    throttle: AddressThrottle,
    username: str,
    password: str,
    address: str,
) -> tuple[str, Session]:
    """Returns (cookie value, session). Wrong username and wrong password give the same
    answer; a locked account answers 429 without looking at the password."""
    wait = throttle.blocked(address)
    if wait > 0:
        raise LoginLocked(
            f"too many failed logins from this device; try again in {wait:.0f} s",
            code="login_throttled",
        )
    with ctx.read() as conn:
        row = conn.execute(
            select(A).where(A.c.hall_id == ctx.hall_id, A.c.username == username[:64])
        ).first()
    now = ctx.now()
    if row is not None and row.locked_until is not None and row.locked_until > now:
        wait = (row.locked_until - now).total_seconds()
        raise LoginLocked(
            f"this account is locked after too many wrong passwords; try again "
            f"in {wait:.0f} s or ask an administrator",
            code="login_locked",
        )
    ok = False
    try:
        ok = _hasher.verify(row.password_hash if row is not None else _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        ok = False
    if row is None or not ok or not row.active:
        throttle.failed(address)
        if row is not None and row.active:
            _record_failure(ctx, settings, row.id)
        # Only names of real accounts reach the log: whatever was typed into the field
        # (an ID number, a password in the wrong box) must not.
        log.info(
            "web login refused for %s", row.username if row is not None else "an unknown username"
        )
        raise LoginFailed("wrong username or password")
    throttle.succeeded(address)
    cookie = secrets.token_urlsafe(32)
    csrf = secrets.token_urlsafe(32)
    with ctx.write() as tx:
        tx.conn.execute(delete(S).where(S.c.hall_id == ctx.hall_id, S.c.expires_at < tx.now))
        values: dict[str, Any] = {"failed_logins": 0, "locked_until": None}
        if _hasher.check_needs_rehash(row.password_hash):
            values["password_hash"] = _hasher.hash(password)
        tx.conn.execute(update(A).where(A.c.id == row.id).values(**values))
        expires = tx.now + dt.timedelta(hours=settings.session_hours)
        tx.conn.execute(
            insert(S).values(
                id=_session_key(cookie),
                hall_id=ctx.hall_id,
                account_id=row.id,
                csrf=csrf,
                created_at=tx.now,
                last_seen=tx.now,
                expires_at=expires,
            )
        )
    log.info("web login: %s", row.username)
    return cookie, Session(
        _session_key(cookie),
        row.id,
        row.username,
        row.display_name,
        row.role,
        tuple(row.counters),
        csrf,
        expires,
    )


def _record_failure(ctx: HallContext, settings: WebSettings, account_id: int) -> None:
    with ctx.write() as tx:
        fails = (
            tx.conn.execute(select(A.c.failed_logins).where(A.c.id == account_id)).scalar_one() + 1
        )
        values: dict[str, Any] = {"failed_logins": fails}
        if fails >= settings.login_max_failures:
            values = {
                "failed_logins": 0,
                "locked_until": tx.now + dt.timedelta(seconds=settings.login_lockout_s),
            }
        tx.conn.execute(update(A).where(A.c.id == account_id).values(**values))


def session_for(ctx: HallContext, settings: WebSettings, cookie: str | None) -> Session | None:
    """The live session of a cookie, or None (unknown, expired, idle too long, or the
    account was disabled)."""
    if not cookie or len(cookie) > 100:
        return None
    key = _session_key(cookie)
    now = ctx.now()
    with ctx.read() as conn:
        row = conn.execute(
            select(S, A.c.username, A.c.display_name, A.c.role, A.c.counters, A.c.active)
            .join(A, A.c.id == S.c.account_id)
            .where(S.c.id == key, S.c.hall_id == ctx.hall_id)
        ).first()
    if row is None or not row.active:
        return None
    idle = dt.timedelta(minutes=settings.idle_minutes)
    if row.expires_at <= now or now - row.last_seen > idle:
        return None
    if (now - row.last_seen).total_seconds() > 60:  # one write a minute, not one a request
        with ctx.write() as tx:
            tx.conn.execute(update(S).where(S.c.id == key).values(last_seen=tx.now))
    return Session(
        key,
        row.account_id,
        row.username,
        row.display_name,
        row.role,
        tuple(row.counters),
        row.csrf,
        row.expires_at,
    )


def logout(ctx: HallContext, session: Session) -> None:
    with ctx.write() as tx:
        tx.conn.execute(delete(S).where(S.c.id == session.id))

"""Staff accounts and their browser sessions (service layer of the web pages).

Passwords are stored as argon2id hashes only. A session is a random cookie value; the
database keeps its SHA-256, the account, a CSRF token, and absolute and idle expiry, so a
restart keeps staff logged in and a leaked database hands out no live session. Failed
logins lock the account for a while (counted in the database, so several server processes
agree) and a per-address limit in memory slows guessing across usernames."""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import math
import re
import secrets
import threading
from dataclasses import dataclass
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, insert, select, update

from hall.errors import Conflict, Invalid, NotFound
from hall.services.context import HallContext
from hall.storage import tables as t
from hall.web.errors import LoginFailed, LoginLocked, LoginThrottled
from hall.web.settings import WebSettings

log = logging.getLogger("hall.web")
A = t.web_accounts
S = t.web_sessions
# supervisor: a department head, who sees and handles the cases (差评, 办不成事, complaints)
# of its departments (service codes); admin sees all
ROLES = ("admin", "counter", "supervisor")
USERNAME_RE = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
# 工号: what the hall's HR gives a staff member ("0231", "XC-1024"); shown on the pad
STAFF_NO_RE = re.compile(r"^[A-Za-z0-9-]{1,32}$")
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
    staff_no: str | None = None
    departments: tuple[str, ...] = ()

    def may_act_for(self, counter_id: str) -> bool:
        """Admins may step in at any counter; counter staff only at their own."""
        return self.role == "admin" or counter_id in self.counters

    def public(self) -> dict[str, Any]:
        return {
            "username": self.username,
            "display_name": self.display_name,
            "staff_no": self.staff_no,
            "role": self.role,
            "counters": list(self.counters),
            "departments": list(self.departments),
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
            raise Invalid(f"no counter with id {c!r} in the hall config", code="invalid_counter")
    if role == "counter" and not counters:
        raise Invalid("a counter account needs at least one counter", code="no_counters")
    return tuple(dict.fromkeys(counters))


def _check_departments(ctx: HallContext, role: str, departments: list[str]) -> list[str] | None:
    """A supervisor's departments: service codes of the hall, at least one; None for the
    other roles."""
    if role != "supervisor":
        return None
    for code in departments:
        if ctx.config.service(code) is None:
            raise Invalid(
                f"no service with code {code!r} in the hall config", code="invalid_counter"
            )
    if not departments:
        raise Invalid("a supervisor account needs at least one department", code="no_counters")
    return list(dict.fromkeys(departments))


def _check_services(ctx: HallContext, services: list[str] | None) -> list[str] | None:
    """The service codes a staff member can handle (the staffing plan's), each a service of
    the hall; ``None`` or empty: not recorded (every service of the account's counters)."""
    if not services:
        return None
    for code in services:
        if ctx.config.service(code) is None:
            # A field of the account form, not a request for a service: a 422 of its own
            raise Invalid(
                f"no service with code {code!r} in the hall config",
                code="account_unknown_service",
            )
    return list(dict.fromkeys(services))


def _staff_no(staff_no: str | None) -> str | None:
    """``None`` for none; a 工号 of letters, digits and '-' (at most 32)."""
    if staff_no is None or not staff_no.strip():
        return None
    if not STAFF_NO_RE.match(staff_no.strip()):
        raise Invalid("staff number (工号): 1–32 letters, digits or '-'")
    return staff_no.strip()


def account_json(row: Any) -> dict[str, Any]:
    return {
        "id": row.id,
        "username": row.username,
        "display_name": row.display_name,
        "staff_no": row.staff_no,
        "role": row.role,
        "counters": list(row.counters),
        "departments": list(row.departments or []),
        "services": list(row.services or []),
        "active": bool(row.active),
        "locked": row.locked_until is not None,
        "locked_until": row.locked_until.isoformat() if row.locked_until else None,
    }


def create_account(
    ctx: HallContext,
    settings: WebSettings,
    username: str,
    password: str,
    role: str,
    counters: list[str],
    display_name: str = "",
    staff_no: str | None = None,
    departments: list[str] | None = None,
    services: list[str] | None = None,
) -> dict[str, Any]:
    """``services``: the service codes the staff member can handle (none: not recorded)."""
    if not USERNAME_RE.match(username):
        raise Invalid("username: 1–64 letters, digits, '.', '_' or '-'", code="invalid_username")
    number = _staff_no(staff_no)
    _check_password(settings, password)
    allowed = _check_counters(ctx, role, counters)
    heads = _check_departments(ctx, role, departments or [])
    skills = _check_services(ctx, services)
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
                staff_no=number,
                role=role,
                counters=list(allowed),
                departments=heads,
                services=skills,
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


def unlock_account(ctx: HallContext, throttle: LoginThrottle, username: str) -> dict[str, Any]:
    """An administrator lifts a lock (and the delays of every address) before it ends:
    the staff member at the counter need not wait out the lock-out."""
    with ctx.write() as tx:
        row = _account(tx.conn, ctx, username)
        tx.conn.execute(
            update(A).where(A.c.id == row.id).values(failed_logins=0, locked_until=None)
        )
        row = tx.conn.execute(select(A).where(A.c.id == row.id)).one()
    throttle.forget(username)
    log.info("web account %s: unlocked by an administrator", username)
    return account_json(row)


def update_account(
    ctx: HallContext,
    username: str,
    *,
    active: bool | None = None,
    counters: list[str] | None = None,
    display_name: str | None = None,
    staff_no: str | None = None,
    services: list[str] | None = None,
) -> dict[str, Any]:
    """``None`` leaves a field as it is; ``staff_no=""`` removes the 工号, ``services=[]``
    the services recorded."""
    with ctx.write() as tx:
        row = _account(tx.conn, ctx, username)
        values: dict[str, Any] = {}
        if staff_no is not None:
            values["staff_no"] = _staff_no(staff_no)
        if counters is not None:
            values["counters"] = list(_check_counters(ctx, row.role, counters))
        if services is not None:
            values["services"] = _check_services(ctx, services)
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


class LoginThrottle:
    """Failed logins per (account name, client address), in memory: the first ``free``
    failures cost nothing, then each further try must wait twice as long as the one
    before (1 s, 2 s, 4 s … at most ``max_delay_s``). Guessing one account from one place
    slows to a crawl; the other accounts at that desk, and that account elsewhere, are not
    slowed (one address is often a whole hall behind NAT). The per-account lock in the
    database stays the real limit; an administrator lifts both (``forget``)."""

    def __init__(self, free: int = 3, max_delay_s: float = 300.0, forget_s: float = 900.0) -> None:
        self.free, self.max_delay_s, self.forget_s = free, max_delay_s, forget_s
        self._fails: dict[tuple[str, str], tuple[int, dt.datetime]] = {}
        self._lock = threading.Lock()

    @staticmethod
    def _key(username: str, address: str) -> tuple[str, str]:
        return username.strip().lower()[:64], address[:64]

    def wait(self, username: str, address: str, now: dt.datetime) -> float:
        """Seconds until this account may be tried again from this address (0: now)."""
        with self._lock:
            entry = self._fails.get(self._key(username, address))
        if entry is None or entry[0] < self.free:
            return 0.0
        count, last = entry
        delay = min(self.max_delay_s, 2.0 ** (count - self.free))
        return max(0.0, delay - (now - last).total_seconds())

    def failed(self, username: str, address: str, now: dt.datetime) -> None:
        with self._lock:
            self._evict(now)
            key = self._key(username, address)
            count = self._fails.get(key, (0, now))[0]
            self._fails[key] = (count + 1, now)

    def succeeded(self, username: str, address: str) -> None:
        with self._lock:
            self._fails.pop(self._key(username, address), None)

    def forget(self, username: str) -> None:
        """An administrator unlocked the account: every address may try again."""
        name = username.strip().lower()[:64]
        with self._lock:
            for key in [k for k in self._fails if k[0] == name]:
                del self._fails[key]

    def _evict(self, now: dt.datetime) -> None:
        # bounded memory: pairs quiet for ``forget_s`` are forgotten, and at most 10,000
        # are kept (the oldest go first) whatever a flood of names does
        stale = [
            k
            for k, (_, last) in self._fails.items()
            if (now - last).total_seconds() > self.forget_s
        ]
        for key in stale:
            del self._fails[key]
        while len(self._fails) >= 10_000:
            del self._fails[min(self._fails, key=lambda k: self._fails[k][1])]


def login(
    ctx: HallContext,
    settings: WebSettings,
    throttle: LoginThrottle,
    username: str,
    password: str,
    address: str,
) -> tuple[str, Session]:
    """Returns (cookie value, session). Wrong username and wrong password give the same
    answer; a locked account answers 429 without looking at the password, and says until
    when."""
    now = ctx.now()
    with ctx.read() as conn:
        row = conn.execute(
            select(A).where(A.c.hall_id == ctx.hall_id, A.c.username == username[:64])
        ).first()
    if row is not None and row.locked_until is not None and row.locked_until > now:
        until = ctx.local(row.locked_until)
        raise LoginLocked(
            f"this account is locked after too many wrong passwords until "
            f"{until:%H:%M:%S}; try again then or ask an administrator to unlock it",
            locked_until=until.isoformat(timespec="seconds"),
        )
    # a lock says so first (until when); the per-address delay only slows guessing
    wait = throttle.wait(username, address, now)
    if wait > 0:
        raise LoginThrottled(
            f"too many failed logins for this account from this device; try again in "
            f"{math.ceil(wait)} s"
        )
    ok = False
    try:
        ok = _hasher.verify(row.password_hash if row is not None else _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        ok = False
    if row is None or not ok or not row.active:
        throttle.failed(username, address, now)
        if row is not None and row.active:
            _record_failure(ctx, settings, row.id)
        # Only names of real accounts reach the log: whatever was typed into the field
        # (an ID number, a password in the wrong box) must not.
        log.info(
            "web login refused for %s", row.username if row is not None else "an unknown username"
        )
        raise LoginFailed("wrong username or password")
    throttle.succeeded(username, address)
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
        row.staff_no,
        tuple(row.departments or ()),
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
            select(
                S,
                A.c.username,
                A.c.display_name,
                A.c.staff_no,
                A.c.role,
                A.c.counters,
                A.c.departments,
                A.c.active,
            )
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
        row.staff_no,
        tuple(row.departments or ()),
    )


def logout(ctx: HallContext, session: Session) -> None:
    with ctx.write() as tx:
        tx.conn.execute(delete(S).where(S.c.id == session.id))

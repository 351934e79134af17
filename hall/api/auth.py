"""Bearer tokens from the config file, one role each. Missing or wrong token → 401; right
token, wrong role → 403."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import Request

from hall.config import HallConfig, Token
from hall.errors import Forbidden, Unauthorized

__all__ = ["Forbidden", "Unauthorized", "authenticate", "require"]


def authenticate(request: Request) -> Token:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        raise Unauthorized("missing bearer token (Authorization: Bearer TOKEN)")
    config: HallConfig = request.app.state.ctx.config
    token = config.role_of(value.strip())
    if token is None:
        raise Unauthorized("unknown token")
    return token


def require(*roles: str) -> Callable[[Request], Awaitable[Token]]:
    """A dependency admitting tokens of the given roles (no roles: any valid token).
    ``async`` because FastAPI runs a plain ``def`` dependency in the thread pool, a hop
    that cost more than the check itself."""

    async def dependency(request: Request) -> Token:
        token = authenticate(request)
        if roles and token.role not in roles:
            raise Forbidden(f"a {token.role} token may not do this (needs {' or '.join(roles)})")
        return token

    return dependency

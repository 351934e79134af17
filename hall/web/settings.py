"""The ``[web]`` table of the hall config: session lifetimes and login throttling.

``hall.config`` hands this table over as a plain dict; it is validated here with the
same rules (unknown keys refused, each error names the key) so a typo fails at start."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

from hall.config import ConfigError, HallConfig


@dataclass(frozen=True)
class WebSettings:
    session_hours: float = 12.0
    """Absolute lifetime of a staff login in hours (one working day)."""
    idle_minutes: float = 120.0
    """A session not used for this many minutes ends (a browser left closed)."""
    login_max_failures: int = 5
    """Wrong passwords in a row before an account is locked for ``login_lockout_s``."""
    login_lockout_s: float = 300.0
    """Seconds an account stays locked after too many wrong passwords."""
    ip_max_failures: int = 20
    """Failed logins from one address within ``login_lockout_s`` before it is refused."""
    min_password_length: int = 8
    cookie_secure: bool = False
    """Set true when the hall serves the pages over HTTPS (the cookie then never goes
    over plain HTTP); the hall LAN usually has no TLS."""
    pad_thanks_s: float = 8.0
    """Seconds the evaluation pad shows its thank-you before returning to the welcome."""


def web_settings(config: HallConfig) -> WebSettings:
    raw: Any = config.sections.get("web", {})
    where = f"{config.path or '<config>'}: [web]"
    if not isinstance(raw, dict):
        raise ConfigError(f"{where} must be a table")
    known = {f.name: f for f in fields(WebSettings)}
    values: dict[str, Any] = {}
    for key, value in raw.items():
        if key not in known:
            raise ConfigError(f"{where}.{key}: unknown key (misspelt?)")
        default = getattr(WebSettings, key)
        if isinstance(default, bool):
            ok = isinstance(value, bool)
        elif isinstance(default, float):
            ok = isinstance(value, int | float) and not isinstance(value, bool)
            value = float(value) if ok else value
        else:
            ok = isinstance(value, int) and not isinstance(value, bool)
        if not ok:
            raise ConfigError(f"{where}.{key}: must be {type(default).__name__}, got {value!r}")
        if not isinstance(value, bool) and value <= 0:
            raise ConfigError(f"{where}.{key}: must be positive, got {value!r}")
        values[key] = value
    return WebSettings(**values)

"""The ``[web]`` table of the hall config: session lifetimes and login throttling.

``hall.config`` hands this table over as a plain dict; it is validated here by a model with
the same settings and formatter as the rest of the file (unknown keys refused, each error
names the key), so a typo fails at start."""

from __future__ import annotations

import logging

from pydantic import Field, ValidationError

from hall.config import ConfigError, HallConfig
from hall.configkit import ConfigModel, file_name, format_validation_error

log = logging.getLogger("hall.web")


class WebSettings(ConfigModel):
    session_hours: float = Field(default=12.0, gt=0)
    """Absolute lifetime of a staff login in hours (one working day)."""
    idle_minutes: float = Field(default=120.0, gt=0)
    """A session not used for this many minutes ends (a browser left closed)."""
    login_max_failures: int = Field(default=5, gt=0)
    """Wrong passwords in a row before an account is locked for ``login_lockout_s``."""
    login_lockout_s: float = Field(default=300.0, gt=0)
    """Seconds an account stays locked after too many wrong passwords."""
    login_free_failures: int = Field(default=3, ge=0)
    """Failed logins for one account from one address before each further try waits
    (1 s, 2 s, 4 s …); other accounts at that address are not slowed."""
    login_max_delay_s: float = Field(default=300.0, gt=0)
    """The longest such wait."""
    min_password_length: int = Field(default=8, gt=0)
    """Characters a staff password needs at least."""
    cookie_secure: bool = False
    """Set true when the hall serves the pages over HTTPS (the cookie then never goes
    over plain HTTP); the hall LAN usually has no TLS."""
    pad_thanks_s: float = Field(default=8.0, gt=0)
    """Seconds the evaluation pad shows its thank-you before returning to the welcome."""


def web_settings(config: HallConfig) -> WebSettings:
    """The validated ``[web]`` table of ``config`` (defaults without one)."""
    table = dict(config.sections.get("web", {}))
    if table.pop("ip_max_failures", None) is not None:  # replaced by per-account delays
        log.warning(
            "%s: [web].ip_max_failures is no longer used (logins are slowed per account and "
            "address: login_free_failures, login_max_delay_s); remove it",
            file_name(config.path),
        )
    try:
        return WebSettings.model_validate(table)
    except ValidationError as err:
        file = file_name(config.path)
        raise ConfigError(format_validation_error(err, file, section="web")) from None

"""Is the config file usable? Every section is validated by its owner, so the doctor refuses
a bad file exactly as the command that reads the section would, and says so the same way:
the config loader's message (file, key, problem; one line each, every section at once)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from common.health import Check, Text, fail, join, ok, text, verbatim
from hall.config import CURRENT_VERSION, ConfigError, HallConfig, load_config

NAME = "config"


def validate_config(path: str | Path) -> HallConfig:
    """Load ``path`` and validate every section with its owner's validator, so every
    command refuses a bad file the same way; ConfigError names file, key and problem, one
    line per problem, of every section at once."""
    from hall.configkit import file_name
    from hall.web.settings import web_settings
    from kiosk.settings import parse_devices, parse_kiosk
    from signage.config import load_signage

    config = load_config(path)
    checks: list[Callable[[HallConfig], object]] = [web_settings]
    if "kiosk" in config.sections:
        checks.append(parse_kiosk)
    elif "devices" in config.sections:
        checks.append(lambda c: parse_devices(c.sections["devices"], file_name(c.path)))
    if "signage" in config.sections:
        checks.append(load_signage)
    problems: list[str] = []
    for check in checks:
        try:
            check(config)
        except ConfigError as err:  # KioskConfigError is one too
            problems.append(str(err))
    if problems:
        raise ConfigError("\n".join(problems))
    return config


def check_config(path: Path) -> tuple[Check, HallConfig | None]:
    try:
        config = validate_config(path)
    except ConfigError as err:
        notes = tuple(str(err).splitlines())
        return fail(NAME, text("config_refused"), text("config_hint"), notes), None
    parts = [
        text("config_part_hall") if not ({"kiosk", "signage"} & set(config.sections)) else None,
        text("config_part_kiosk") if "kiosk" in config.sections else None,
        text("config_part_signage") if "signage" in config.sections else None,
    ]
    old = (
        text("config_old", version=config.version, current=CURRENT_VERSION)
        if config.version < CURRENT_VERSION
        else Text("", "")
    )
    return ok(
        NAME,
        text(
            "config_ok",
            path=verbatim(path),
            hall=config.hall_id,
            services=len(config.services),
            counters=len(config.counters),
            parts=join(p for p in parts if p is not None),
            old=old,
        ),
    ), config

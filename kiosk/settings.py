"""The kiosk's own config tables, ``[kiosk]`` and ``[devices]`` of the hall config file.

The hall's loader hands them over as plain dicts; they are checked here so a typo fails at
start-up with file, key and problem — never as a kiosk that silently cannot print. The
settings are pydantic dataclasses (the hall file's model settings, ``hall.configkit``):
validated however they are made, and still dataclasses for ``dataclasses.replace``.
"""

from __future__ import annotations

import dataclasses
import logging
import re
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Field, StringConstraints, ValidationError, model_validator
from pydantic.dataclasses import dataclass

from hall.config import ConfigError, HallConfig
from hall.configkit import DATACLASS_CONFIG, conflict, file_name, format_validation_error

log = logging.getLogger(__name__)

_KIOSK_ID_RE = re.compile(r"^[A-Za-z0-9_-]{1,32}$")
_OFFLINE_PREFIX_RE = re.compile(r"^[A-Z][A-Z0-9]{0,5}$")
_PIN_RE = re.compile(r"^\d{4,12}$")


class KioskConfigError(ConfigError):
    """A ``[kiosk]`` or ``[devices]`` value the kiosk cannot use."""


def _kiosk_id(value: str) -> str:
    if not _KIOSK_ID_RE.match(value):
        raise ValueError(f"{value!r} must be 1–32 letters, digits, - or _")
    return value


def _http_url(value: str) -> str:
    if not re.match(r"^https?://[^/\s]+", value):
        raise ValueError(f"{value!r} is not an http:// or https:// URL")
    return value


def _offline_prefix(value: str) -> str:
    if not _OFFLINE_PREFIX_RE.match(value):
        raise ValueError(
            f"must be a capital letter then up to 5 capitals or digits (got {value!r})"
        )
    return value


def _pin(value: str) -> str:
    if not _PIN_RE.match(value):
        raise ValueError("must be 4–12 digits")  # a PIN is never repeated in a message
    return value


Seconds = Annotated[float, Field(gt=0)]


@dataclass(frozen=True, config=DATACLASS_CONFIG)
class KioskSettings:
    kiosk_id: Annotated[str, AfterValidator(_kiosk_id)] = Field(alias="id")
    """``[kiosk].id``: names this kiosk to the hall (1–32 letters, digits, - or _)."""
    server: Annotated[str, AfterValidator(_http_url)] = Field()
    """The hall server's base URL."""
    token: str = Field(min_length=16, repr=False)
    """A ``[[token]]`` of role kiosk; may come from GOVHALL_KIOSK_TOKEN."""
    offline_prefix: Annotated[str, AfterValidator(_offline_prefix)] = Field()
    """Start of every offline number (``K1-A001``): unique per kiosk, so offline numbers
    never collide with the hall's (``A001``) or another kiosk's; default: from the id."""
    admin_pin: Annotated[str, AfterValidator(_pin)] = Field(repr=False)
    """Opens the maintenance page (4–12 digits); may come from GOVHALL_KIOSK_ADMIN_PIN."""
    idle_timeout_s: Seconds = 60.0
    """Seconds without a touch before the kiosk returns home and forgets the citizen."""
    idle_warning_s: float = Field(default=10.0, ge=0)
    """Seconds before the idle timeout at which the spoken warning is given."""
    ticket_screen_s: Seconds = 30.0
    """Seconds the issued ticket stays on screen."""
    attract_after_s: Seconds = 120.0
    """Seconds on the home screen without a touch before the attract screen."""
    orientation: Literal["portrait", "landscape"] = "portrait"
    heartbeat_s: Seconds = 5.0
    """Seconds between two heartbeats to the hall."""
    services_refresh_s: Seconds = 10.0
    """Seconds between two reads of the services and their queues."""
    card_timeout_s: Seconds = 30.0
    """Seconds the ID-card screen waits for a card."""
    liveness: tuple[Literal["turn_left", "turn_right"], ...] = Field(
        default=("turn_left", "turn_right"), min_length=1, strict=False
    )
    """The movements the face step may ask for (one at random each time): a camera beside
    the screen may want one direction only; the demo's simulated citizen turns left."""
    data_dir: Path = Field(default=Path("kiosk-data"), strict=False)
    """Offline journal and voice cache; relative paths are beside the config file."""
    lang: Literal["zh", "en"] = "zh"
    fullscreen: bool = True

    @model_validator(mode="after")
    def _warning_before_timeout(self) -> KioskSettings:
        if self.idle_warning_s >= self.idle_timeout_s:
            raise conflict(("idle_warning_s",), "must be below idle_timeout_s")
        return self


DeviceSpec = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]


@dataclass(frozen=True, config=DATACLASS_CONFIG)
class DeviceSettings:
    """Each value: ``sim`` (an in-process simulator), ``none`` (not fitted), or the
    device's own URL/port (see devices/open.py)."""

    idcard: DeviceSpec = "sim"
    printer: DeviceSpec = "sim"
    camera: DeviceSpec = "none"
    voice: DeviceSpec = "sim"
    card_photo: DeviceSpec = "sim"


def parse_kiosk(config: HallConfig) -> tuple[KioskSettings, DeviceSettings]:
    where = file_name(config.path)
    raw = config.sections.get("kiosk")
    if not isinstance(raw, dict):
        raise KioskConfigError(f"{where}: no [kiosk] table")
    table = dict(raw)
    if "face_fallback" in table:
        # Retired: a face check that cannot run (no camera, no consent, no match) always
        # gives a ticket marked for 人工核验 at the counter; nobody is refused or waved past.
        table.pop("face_fallback")
        log.warning(
            "%s: [kiosk].face_fallback is no longer used and can be removed: a face check "
            "that cannot run gives a ticket for manual verification at the counter",
            where,
        )
    if not table.get("offline_prefix") and isinstance(table.get("id"), str):
        table["offline_prefix"] = re.sub(r"[^A-Z0-9]", "", table["id"].upper())[:6]
    try:
        kiosk = KioskSettings(**table)
    except ValidationError as err:
        raise KioskConfigError(format_validation_error(err, where, section="kiosk")) from None
    if not kiosk.data_dir.is_absolute() and config.path is not None:
        kiosk = dataclasses.replace(kiosk, data_dir=config.path.parent / kiosk.data_dir)
    return kiosk, parse_devices(config.sections.get("devices", {}), where)


def parse_devices(raw: Any, where: str = "config") -> DeviceSettings:
    if not isinstance(raw, dict):
        raise KioskConfigError(f"{where}: [devices]: must be a table")
    try:
        return DeviceSettings(**raw)
    except ValidationError as err:
        raise KioskConfigError(format_validation_error(err, where, section="devices")) from None

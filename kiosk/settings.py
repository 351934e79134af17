"""The kiosk's own config tables, ``[kiosk]`` and ``[devices]`` of the hall config file.

The hall's loader hands them over as plain dicts; they are checked here so a typo fails at
start-up with file, key and problem — never as a kiosk that silently cannot print.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hall.config import HallConfig

_KIOSK_ID_RE = re.compile(r"^[A-Za-z0-9_-]{1,32}$")
_OFFLINE_PREFIX_RE = re.compile(r"^[A-Z][A-Z0-9]{0,5}$")
_PIN_RE = re.compile(r"^\d{4,12}$")


class KioskConfigError(ValueError):
    """A ``[kiosk]`` or ``[devices]`` value the kiosk cannot use."""


@dataclass(frozen=True)
class KioskSettings:
    kiosk_id: str
    server: str
    token: str
    offline_prefix: str
    """Start of every offline number (``K1-A001``): unique per kiosk, so offline numbers
    never collide with the hall's (``A001``) or another kiosk's."""
    admin_pin: str
    idle_timeout_s: float = 60.0
    """Seconds without a touch before the kiosk returns home and forgets the citizen."""
    idle_warning_s: float = 10.0
    """Seconds before the idle timeout at which the spoken warning is given."""
    ticket_screen_s: float = 30.0
    """Seconds the issued ticket stays on screen."""
    attract_after_s: float = 120.0
    """Seconds on the home screen without a touch before the attract screen."""
    orientation: str = "portrait"
    heartbeat_s: float = 5.0
    services_refresh_s: float = 10.0
    card_timeout_s: float = 30.0
    face_fallback: str = "refuse"
    """What a requires_face service does when face check cannot run: ``refuse`` or ``skip``."""
    data_dir: Path = Path("kiosk-data")
    """Offline journal and voice cache; relative paths are beside the config file."""
    lang: str = "zh"
    fullscreen: bool = True


@dataclass(frozen=True)
class DeviceSettings:
    """Each value: ``sim`` (an in-process simulator), ``none`` (not fitted), or the
    device's own URL/port (see devices/open.py)."""

    idcard: str = "sim"
    printer: str = "sim"
    camera: str = "none"
    voice: str = "sim"
    card_photo: str = "sim"


_KIOSK_TYPES: dict[str, tuple[type | tuple[type, ...], Any]] = {
    "id": (str, ...),
    "server": (str, ...),
    "token": (str, ...),
    "offline_prefix": (str, None),
    "admin_pin": (str, ...),
    "idle_timeout_s": ((int, float), 60.0),
    "idle_warning_s": ((int, float), 10.0),
    "ticket_screen_s": ((int, float), 30.0),
    "attract_after_s": ((int, float), 120.0),
    "orientation": (str, "portrait"),
    "heartbeat_s": ((int, float), 5.0),
    "services_refresh_s": ((int, float), 10.0),
    "card_timeout_s": ((int, float), 30.0),
    "face_fallback": (str, "refuse"),
    "data_dir": (str, "kiosk-data"),
    "lang": (str, "zh"),
    "fullscreen": (bool, True),
}
_DEVICE_KEYS = ("idcard", "printer", "camera", "voice", "card_photo")


def _get(table: dict[str, Any], where: str, key: str, kind: Any, default: Any) -> Any:
    if key not in table:
        if default is ...:
            raise KioskConfigError(f"{where}: [kiosk] needs {key!r}")
        return default
    value = table[key]
    # bool is an int in Python: a stray `idle_timeout_s = true` must not mean 1 second
    if (isinstance(value, bool) and kind is not bool) or not isinstance(value, kind):
        raise KioskConfigError(f"{where}: [kiosk] {key} has the wrong type ({value!r})")
    return value


def parse_kiosk(config: HallConfig) -> tuple[KioskSettings, DeviceSettings]:
    where = str(config.path or "config")
    raw = config.sections.get("kiosk")
    if not isinstance(raw, dict):
        raise KioskConfigError(f"{where}: no [kiosk] table")
    unknown = sorted(set(raw) - set(_KIOSK_TYPES))
    if unknown:
        raise KioskConfigError(f"{where}: [kiosk] has unknown keys: {', '.join(unknown)}")
    v = {k: _get(raw, where, k, kind, d) for k, (kind, d) in _KIOSK_TYPES.items()}
    if not _KIOSK_ID_RE.match(v["id"]):
        raise KioskConfigError(f"{where}: [kiosk] id must be 1–32 letters, digits, - or _")
    if not v["server"].startswith(("http://", "https://")):
        raise KioskConfigError(f"{where}: [kiosk] server must be an http(s):// URL")
    if len(v["token"]) < 16:
        raise KioskConfigError(f"{where}: [kiosk] token must have at least 16 characters")
    prefix = v["offline_prefix"] or re.sub(r"[^A-Z0-9]", "", v["id"].upper())[:6]
    if not _OFFLINE_PREFIX_RE.match(prefix):
        raise KioskConfigError(
            f"{where}: [kiosk] offline_prefix must be a capital letter then up to 5 capitals "
            f"or digits (got {prefix!r})"
        )
    if not _PIN_RE.match(v["admin_pin"]):
        raise KioskConfigError(f"{where}: [kiosk] admin_pin must be 4–12 digits")
    for key in (
        "idle_timeout_s",
        "heartbeat_s",
        "services_refresh_s",
        "card_timeout_s",
        "ticket_screen_s",
        "attract_after_s",
    ):
        if v[key] <= 0:
            raise KioskConfigError(f"{where}: [kiosk] {key} must be positive (seconds)")
    if not 0 <= v["idle_warning_s"] < v["idle_timeout_s"]:
        raise KioskConfigError(f"{where}: [kiosk] idle_warning_s must be below idle_timeout_s")
    if v["orientation"] not in ("portrait", "landscape"):
        raise KioskConfigError(f"{where}: [kiosk] orientation must be portrait or landscape")
    if v["face_fallback"] not in ("refuse", "skip"):
        raise KioskConfigError(f"{where}: [kiosk] face_fallback must be refuse or skip")
    if v["lang"] not in ("zh", "en"):
        raise KioskConfigError(f"{where}: [kiosk] lang must be zh or en")
    data_dir = Path(v["data_dir"])
    if not data_dir.is_absolute() and config.path is not None:
        data_dir = config.path.parent / data_dir
    kiosk = KioskSettings(
        kiosk_id=v["id"],
        server=v["server"],
        token=v["token"],
        offline_prefix=prefix,
        admin_pin=v["admin_pin"],
        idle_timeout_s=float(v["idle_timeout_s"]),
        idle_warning_s=float(v["idle_warning_s"]),
        ticket_screen_s=float(v["ticket_screen_s"]),
        attract_after_s=float(v["attract_after_s"]),
        orientation=v["orientation"],
        heartbeat_s=float(v["heartbeat_s"]),
        services_refresh_s=float(v["services_refresh_s"]),
        card_timeout_s=float(v["card_timeout_s"]),
        face_fallback=v["face_fallback"],
        data_dir=data_dir,
        lang=v["lang"],
        fullscreen=v["fullscreen"],
    )
    return kiosk, parse_devices(config.sections.get("devices", {}), where)


def parse_devices(raw: Any, where: str = "config") -> DeviceSettings:
    if not isinstance(raw, dict):
        raise KioskConfigError(f"{where}: [devices] must be a table")
    unknown = sorted(set(raw) - set(_DEVICE_KEYS))
    if unknown:
        raise KioskConfigError(f"{where}: [devices] has unknown keys: {', '.join(unknown)}")
    for key, value in raw.items():
        if not isinstance(value, str) or not value.strip():
            raise KioskConfigError(f"{where}: [devices] {key} must be a non-empty string")
    return DeviceSettings(**{k: raw[k].strip() for k in raw})

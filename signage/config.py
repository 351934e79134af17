"""The ``[signage]`` table of the hall config file, validated here (hall.config keeps it as a
plain dict). Every error names the file, the key and what is wrong.

Keys (all optional except ``server`` and ``token``)::

    [signage]
    server = "http://127.0.0.1:8700"      # hall server base URL
    token = "…"                            # a token with role "display"
    recent_calls = 6                       # calls listed under the current one (1..12)
    show_masked_names = false              # show 张*三 beside the number (never a full name)
    flash_s = 8.0                          # seconds a new call flashes
    announce = true                        # speak the calls at all
    announce_english = false               # after the Chinese sentences, the English ones
    repeat = 2                             # times each sentence is spoken (1..3)
    volume = 1.0                           # 0.0..1.0, applied to every clip we play
    voice_profile = "normal"               # devices.voice profile ("normal", "elderly")
    silent_hours = ["22:00-07:00"]         # local times when calls are shown, not spoken
    audio_device = "default"               # ALSA device for aplay ("null": no sound card)
    chime = ""                             # a 16-bit mono WAV; empty: the built-in ding-dong
    counter_screens = ["1", "2"]           # counters that have an HDMI screen over them
    led_port = ""                          # pyserial URL of the RS-485 LED strips; empty: none
    led_baud = 9600
    led_addresses = { "1" = 1, "2" = 2 }   # counter id → LED display address (1..254)
    led_encoding = "gb2312"                # "gb2312" or "gbk" (what the strips' font has)
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hall.config import ConfigError, HallConfig

_TIME_RANGE = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-3]):([0-5]\d)$")


@dataclass(frozen=True)
class SilentHours:
    """A local-time range; ``end`` < ``start`` wraps past midnight (22:00-07:00)."""

    start: dt.time
    end: dt.time

    def contains(self, t: dt.time) -> bool:
        if self.start <= self.end:
            return self.start <= t < self.end
        return t >= self.start or t < self.end

    @classmethod
    def parse(cls, text: str) -> SilentHours:
        m = _TIME_RANGE.match(text.strip())
        if m is None:
            raise ValueError(f'{text!r} is not a range like "22:00-07:00"')
        h1, m1, h2, m2 = (int(x) for x in m.groups())
        if (h1, m1) == (h2, m2):
            raise ValueError(f"{text!r} is an empty range")
        return cls(dt.time(h1, m1), dt.time(h2, m2))


@dataclass(frozen=True)
class SignageConfig:
    server: str
    token: str
    timezone: str = "Asia/Shanghai"
    recent_calls: int = 6
    show_masked_names: bool = False
    flash_s: float = 8.0
    """Seconds a new call flashes on the board."""
    announce: bool = True
    announce_english: bool = False
    repeat: int = 2
    volume: float = 1.0
    """Linear gain 0..1 applied to every clip the announcer plays."""
    voice_profile: str = "normal"
    silent_hours: tuple[SilentHours, ...] = ()
    audio_device: str = "default"
    chime: Path | None = None
    counter_screens: tuple[str, ...] = ()
    led_port: str = ""
    led_baud: int = 9600
    led_addresses: dict[str, int] = field(default_factory=dict)
    led_encoding: str = "gb2312"


_KEYS = {
    "server",
    "token",
    "recent_calls",
    "show_masked_names",
    "flash_s",
    "announce",
    "announce_english",
    "repeat",
    "volume",
    "voice_profile",
    "silent_hours",
    "audio_device",
    "chime",
    "counter_screens",
    "led_port",
    "led_baud",
    "led_addresses",
    "led_encoding",
}


def load_signage(config: HallConfig) -> SignageConfig:
    """The validated ``[signage]`` table of ``config``; ``ConfigError`` naming the bad key."""
    return parse_signage(config.sections.get("signage"), config, where=str(config.path))


def parse_signage(
    table: Any, config: HallConfig | None = None, where: str = "config"
) -> SignageConfig:
    def bad(key: str, problem: str) -> ConfigError:
        return ConfigError(f"{where}: [signage] {key}: {problem}")

    if table is None:
        raise ConfigError(f"{where}: no [signage] table (needs at least server and token)")
    if not isinstance(table, dict):
        raise ConfigError(f"{where}: [signage] must be a table")
    unknown = sorted(set(table) - _KEYS)
    if unknown:
        raise bad(unknown[0], f"unknown key (known: {', '.join(sorted(_KEYS))})")

    def get(key: str, kind: type | tuple[type, ...], default: Any) -> Any:
        if key not in table:
            return default
        value = table[key]
        # bool is an int in Python; a "true" count is a typo, not a number.
        if isinstance(value, bool) and bool not in (kind if isinstance(kind, tuple) else (kind,)):
            raise bad(key, f"expected {_kind_name(kind)}, got a boolean")
        if not isinstance(value, kind):
            raise bad(key, f"expected {_kind_name(kind)}, got {type(value).__name__} {value!r}")
        return value

    server = get("server", str, None)
    if not server:
        raise bad("server", 'missing (the hall server URL, e.g. "http://127.0.0.1:8700")')
    if not re.match(r"^https?://[^/\s]+", server):
        raise bad("server", f"{server!r} is not an http:// or https:// URL")
    token = get("token", str, None)
    if not token:
        raise bad("token", 'missing (a [[token]] with role "display")')
    if config is not None:
        role = config.role_of(token)
        if role is not None and role.role != "display":
            raise bad("token", f"belongs to {role.name!r} with role {role.role!r}, not display")

    recent = get("recent_calls", int, 6)
    if not 1 <= recent <= 12:
        raise bad("recent_calls", f"{recent} is outside 1..12")
    flash = float(get("flash_s", (int, float), 8.0))
    if not 0 <= flash <= 60:
        raise bad("flash_s", f"{flash} is outside 0..60 seconds")
    repeat = get("repeat", int, 2)
    if not 1 <= repeat <= 3:
        raise bad("repeat", f"{repeat} is outside 1..3")
    volume = float(get("volume", (int, float), 1.0))
    if not 0.0 <= volume <= 1.0:
        raise bad("volume", f"{volume} is outside 0.0..1.0")
    profile = get("voice_profile", str, "normal")
    if profile not in ("normal", "elderly"):
        raise bad("voice_profile", f'{profile!r} is not "normal" or "elderly"')

    silent: list[SilentHours] = []
    for i, item in enumerate(get("silent_hours", list, [])):
        if not isinstance(item, str):
            raise bad(f"silent_hours[{i}]", f"expected a string, got {item!r}")
        try:
            silent.append(SilentHours.parse(item))
        except ValueError as err:
            raise bad(f"silent_hours[{i}]", str(err)) from None

    chime_text = get("chime", str, "")
    chime: Path | None = None
    if chime_text:
        chime = Path(chime_text)
        if not chime.is_absolute() and config is not None and config.path is not None:
            chime = Path(config.path).parent / chime
        if not chime.is_file():
            raise bad("chime", f"file {str(chime)!r} not found")

    known_counters = {c.id for c in config.counters} if config is not None else None
    screens = get("counter_screens", list, [])
    for i, c in enumerate(screens):
        if not isinstance(c, str):
            raise bad(f"counter_screens[{i}]", f"expected a counter id string, got {c!r}")
        if known_counters is not None and c not in known_counters:
            raise bad(f"counter_screens[{i}]", f"no [[counter]] with id {c!r}")

    led_port = get("led_port", str, "")
    led_baud = get("led_baud", int, 9600)
    if led_baud not in (1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200):
        raise bad("led_baud", f"{led_baud} is not a standard baud rate")
    addresses_raw = get("led_addresses", dict, {})
    addresses: dict[str, int] = {}
    for cid, addr in addresses_raw.items():
        key = f"led_addresses.{cid}"
        if known_counters is not None and cid not in known_counters:
            raise bad(key, f"no [[counter]] with id {cid!r}")
        if isinstance(addr, bool) or not isinstance(addr, int) or not 1 <= addr <= 254:
            raise bad(key, f"address must be an integer 1..254, got {addr!r}")
        if addr in addresses.values():
            raise bad(key, f"address {addr} is used twice")
        addresses[cid] = addr
    if addresses and not led_port:
        raise bad("led_port", "led_addresses are set but no led_port to reach them")
    encoding = get("led_encoding", str, "gb2312").lower()
    if encoding not in ("gb2312", "gbk"):
        raise bad("led_encoding", f'{encoding!r} is not "gb2312" or "gbk"')

    return SignageConfig(
        server=server.rstrip("/"),
        token=token,
        timezone=config.timezone if config is not None else "Asia/Shanghai",
        recent_calls=recent,
        show_masked_names=get("show_masked_names", bool, False),
        flash_s=flash,
        announce=get("announce", bool, True),
        announce_english=get("announce_english", bool, False),
        repeat=repeat,
        volume=volume,
        voice_profile=profile,
        silent_hours=tuple(silent),
        audio_device=get("audio_device", str, "default"),
        chime=chime,
        counter_screens=tuple(screens),
        led_port=led_port,
        led_baud=led_baud,
        led_addresses=addresses,
        led_encoding=encoding,
    )


def _kind_name(kind: type | tuple[type, ...]) -> str:
    kinds = kind if isinstance(kind, tuple) else (kind,)
    names = {
        str: "a string",
        int: "an integer",
        float: "a number",
        bool: "true or false",
        list: "an array",
        dict: "a table",
    }
    return " or ".join(names.get(k, k.__name__) for k in kinds)

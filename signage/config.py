"""The ``[signage]`` table of the hall config file, validated here by a model with the hall
file's settings and formatter (hall.config keeps it as a plain dict). Every error names the
file, the key and what is wrong.

Keys (all optional except ``server`` and ``token``)::

    [signage]
    server = "http://127.0.0.1:8700"      # hall server base URL
    token = "…"                            # role "display"; or GOVHALL_SIGNAGE_TOKEN
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
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BeforeValidator,
    Field,
    PlainValidator,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from hall.config import ConfigError, HallConfig
from hall.configkit import (
    ConfigModel,
    Loc,
    conflict,
    conflicts,
    file_name,
    format_validation_error,
)

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


def _silent_hours(value: Any) -> SilentHours:
    if isinstance(value, SilentHours):
        return value
    if not isinstance(value, str):
        raise ValueError(f'must be a string like "22:00-07:00", got {value!r}')
    return SilentHours.parse(value)


def _http_url(value: str) -> str:
    if not value:
        raise ValueError('must not be empty (the hall server URL, e.g. "http://127.0.0.1:8700")')
    if not re.match(r"^https?://[^/\s]+", value):
        raise ValueError(f"{value!r} is not an http:// or https:// URL")
    return value.rstrip("/")


def _lower(value: Any) -> Any:
    return value.lower() if isinstance(value, str) else value


def _hall(info: ValidationInfo) -> HallConfig | None:
    hall = (info.context or {}).get("hall")
    return hall if isinstance(hall, HallConfig) else None


class SignageConfig(ConfigModel):
    server: Annotated[str, AfterValidator(_http_url)]
    """The hall server's base URL."""
    token: str = Field(min_length=16, repr=False)
    """A ``[[token]]`` with role display; may come from GOVHALL_SIGNAGE_TOKEN."""
    timezone: str = "Asia/Shanghai"
    """The hall's ``[hall].timezone`` (not a key of ``[signage]``)."""
    recent_calls: int = Field(default=6, ge=1, le=12)
    """Calls listed under the current one on the lobby board."""
    show_masked_names: bool = False
    """Show 张*三 beside the number (never a full name)."""
    flash_s: float = Field(default=8.0, ge=0, le=60)
    """Seconds a new call flashes on the board."""
    announce: bool = True
    announce_english: bool = False
    """After the Chinese sentences, say them in English too."""
    repeat: int = Field(default=2, ge=1, le=3)
    """Times each sentence is spoken. When calls queue up (the opening minute), the
    announcer says them once, without English, so none waits over 30 s (announcer.py)."""
    volume: float = Field(default=1.0, ge=0, le=1)
    """Linear gain 0..1 applied to every clip the announcer plays."""
    voice_profile: Literal["normal", "elderly"] = "normal"
    silent_hours: tuple[Annotated[SilentHours, PlainValidator(_silent_hours)], ...] = Field(
        default=(), strict=False
    )
    """Local times ("12:00-13:30") when calls are shown, not spoken."""
    audio_device: str = "default"
    """ALSA device for aplay ("null": no sound card)."""
    chime: Path | None = None
    """A 16-bit mono WAV, relative paths beside the config file; empty: the built-in one."""
    counter_screens: tuple[str, ...] = Field(default=(), strict=False)
    """Counters with an HDMI screen over them (``govhall signage --counter ID``)."""
    led_port: str = ""
    """pyserial URL of the RS-485 LED strips; empty: none."""
    led_baud: Literal[1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200] = 9600
    led_addresses: dict[str, Annotated[int, Field(ge=1, le=254)]] = Field(default_factory=dict)
    """Counter id → LED display address (1..254)."""
    led_encoding: Annotated[Literal["gb2312", "gbk"], BeforeValidator(_lower)] = "gb2312"
    """What the strips' font has."""

    @model_validator(mode="before")
    @classmethod
    def _hall_timezone(cls, data: Any, info: ValidationInfo) -> Any:
        if not isinstance(data, dict):
            return data
        if "timezone" in data:
            raise conflict(("timezone",), "unknown key (the board uses [hall].timezone)")
        hall = _hall(info)
        return {**data, "timezone": hall.timezone} if hall is not None else data

    @field_validator("chime", mode="plain")
    @classmethod
    def _chime_file(cls, value: Any, info: ValidationInfo) -> Path | None:
        if isinstance(value, Path):
            return value
        if not isinstance(value, str):
            raise ValueError("must be a string (a path)")
        if not value:
            return None
        chime = Path(value)
        hall = _hall(info)
        if not chime.is_absolute() and hall is not None and hall.path is not None:
            chime = hall.path.parent / chime
        if not chime.is_file():
            raise ValueError(f"file {str(chime)!r} not found")
        return chime

    @model_validator(mode="after")
    def _fits_the_hall(self, info: ValidationInfo) -> SignageConfig:
        problems: list[tuple[Loc, str]] = []
        hall = _hall(info)
        if hall is not None:
            role = hall.role_of(self.token)
            if role is not None and role.role != "display":
                problems.append(
                    (("token",), f"belongs to {role.name!r} with role {role.role!r}, not display")
                )
            known = {c.id for c in hall.counters}
            for i, c in enumerate(self.counter_screens):
                if c not in known:
                    problems.append((("counter_screens", i), f"no [[counter]] with id {c!r}"))
            for cid in self.led_addresses:
                if cid not in known:
                    problems.append((("led_addresses", cid), f"no [[counter]] with id {cid!r}"))
        used: set[int] = set()
        for cid, addr in self.led_addresses.items():
            if addr in used:
                problems.append((("led_addresses", cid), f"address {addr} is used twice"))
            used.add(addr)
        if self.led_addresses and not self.led_port:
            problems.append((("led_port",), "led_addresses are set but no led_port to reach them"))
        if problems:
            raise conflicts(problems)
        return self


def load_signage(config: HallConfig) -> SignageConfig:
    """The validated ``[signage]`` table of ``config``; ``ConfigError`` naming the bad key."""
    where = file_name(config.path)
    return parse_signage(config.sections.get("signage"), config, where=where)


def parse_signage(
    table: Any, config: HallConfig | None = None, where: str = "config"
) -> SignageConfig:
    """``table`` validated; with the hall's ``config``, also against its tokens and
    counters, with its time zone and chime paths beside its file."""
    if table is None:
        raise ConfigError(f"{where}: no [signage] table (needs at least server and token)")
    if not isinstance(table, dict):
        raise ConfigError(f"{where}: [signage]: must be a table")
    try:
        return SignageConfig.model_validate(table, context={"hall": config})
    except ValidationError as err:
        raise ConfigError(format_validation_error(err, where, section="signage")) from None

"""The [signage] table: the sample is valid, and each mistake names its key."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from hall.config import ConfigError, load_config
from signage.config import SilentHours, load_signage, parse_signage

SAMPLE = Path(__file__).resolve().parents[2] / "assets" / "hall.sample.toml"


def base(**over: Any) -> dict[str, Any]:
    return {"server": "http://127.0.0.1:8700", "token": "sample-display-token-change-me", **over}


def test_sample_is_valid() -> None:
    cfg = load_signage(load_config(SAMPLE))
    assert cfg.recent_calls == 6 and not cfg.show_masked_names and cfg.repeat == 2
    assert cfg.timezone == "Asia/Shanghai"


@pytest.mark.parametrize(
    "over,key",
    [
        ({"server": ""}, "server"),
        ({"server": "127.0.0.1:8700"}, "server"),
        ({"token": 5}, "token"),
        ({"token": "sample-kiosk-token-change-me"}, "token"),  # a kiosk token, not a display one
        ({"recent_calls": 0}, "recent_calls"),
        ({"recent_calls": True}, "recent_calls"),
        ({"volume": 1.5}, "volume"),
        ({"repeat": 9}, "repeat"),
        ({"silent_hours": ["22-7"]}, "silent_hours[0]"),
        ({"silent_hours": "22:00-07:00"}, "silent_hours"),
        ({"counter_screens": ["99"]}, "counter_screens[0]"),
        ({"led_addresses": {"3": 300}, "led_port": "loop://"}, "led_addresses.3"),
        ({"led_addresses": {"3": 1, "4": 1}, "led_port": "loop://"}, "led_addresses.4"),
        ({"led_addresses": {"3": 3}}, "led_port"),
        ({"led_encoding": "utf-8"}, "led_encoding"),
        ({"led_baud": 1234}, "led_baud"),
        ({"chime": "/nonexistent.wav"}, "chime"),
        ({"voice_profile": "loud"}, "voice_profile"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_errors_name_the_key(over: dict[str, Any], key: str) -> None:
    hall = load_config(SAMPLE)
    with pytest.raises(ConfigError) as err:
        parse_signage(base(**over), hall, where="hall.toml")
    assert f"[signage] {key}:" in str(err.value)
    assert str(err.value).startswith("hall.toml:")


def test_missing_table() -> None:
    with pytest.raises(ConfigError, match=r"no \[signage\] table"):
        parse_signage(None)


def test_silent_hours_wrap_midnight() -> None:
    night = SilentHours.parse("22:00-07:00")
    assert night.contains(dt.time(23, 0)) and night.contains(dt.time(6, 59))
    assert not night.contains(dt.time(7, 0)) and not night.contains(dt.time(12, 0))
    lunch = SilentHours.parse("12:00-13:30")
    assert lunch.contains(dt.time(12, 0)) and not lunch.contains(dt.time(13, 30))

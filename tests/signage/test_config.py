"""The [signage] table: the sample is valid, and each mistake names its key."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from hall.config import ConfigError, load_config
from signage.config import SilentHours, load_signage, parse_signage
from tests.support.hall_server import SAMPLE, SAMPLE_FILE, TOKENS


def base(**over: Any) -> dict[str, Any]:
    return {"server": "http://127.0.0.1:8700", "token": TOKENS["display"], **over}


def test_sample_is_valid() -> None:
    for hall in (load_config(SAMPLE), load_config(SAMPLE_FILE, demo=True)):
        cfg = load_signage(hall)
        assert cfg.recent_calls == 6 and not cfg.show_masked_names and cfg.repeat == 2
        assert cfg.timezone == "Asia/Shanghai" and cfg.volume == 0.9
        assert cfg.counter_screens == ("1", "2") and cfg.server == "http://127.0.0.1:8700"


@pytest.mark.parametrize(
    "over,key",
    [
        ({"server": ""}, "server"),
        ({"server": "127.0.0.1:8700"}, "server"),
        ({"token": 5}, "token"),
        ({"token": TOKENS["kiosk"]}, "token"),  # a kiosk token, not a display one
        ({"token": "short"}, "token"),
        ({"timezone": "UTC"}, "timezone"),  # the hall's
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
    assert str(err.value).startswith(f"hall.toml: [signage].{key}: ")


def test_messages_are_precise_and_every_problem_is_listed(tmp_path: Path) -> None:
    hall = load_config(SAMPLE)
    with pytest.raises(ConfigError) as err:
        parse_signage(
            base(volume=2, silent_hours=["12:00-13:30", "7-8"], led_addresses={"3": 0}),
            hall,
            where="hall.toml",
        )
    assert str(err.value).splitlines() == [
        "hall.toml: [signage].volume: must be ≤ 1",
        "hall.toml: [signage].silent_hours[1]: '7-8' is not a range like \"22:00-07:00\"",
        "hall.toml: [signage].led_addresses.3: must be ≥ 1",
    ]
    chime = tmp_path / "ding.wav"
    chime.write_bytes(b"RIFF")
    cfg = parse_signage(base(chime=str(chime), led_encoding="GBK", server="http://x:1/"), hall)
    assert cfg.chime == chime and cfg.led_encoding == "gbk" and cfg.server == "http://x:1"


def test_missing_table() -> None:
    with pytest.raises(ConfigError, match=r"no \[signage\] table"):
        parse_signage(None)


def test_silent_hours_wrap_midnight() -> None:
    night = SilentHours.parse("22:00-07:00")
    assert night.contains(dt.time(23, 0)) and night.contains(dt.time(6, 59))
    assert not night.contains(dt.time(7, 0)) and not night.contains(dt.time(12, 0))
    lunch = SilentHours.parse("12:00-13:30")
    assert lunch.contains(dt.time(12, 0)) and not lunch.contains(dt.time(13, 30))

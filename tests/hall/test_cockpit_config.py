"""``[cockpit]`` (issue 22): the waiting-time promise per service, with defaults for files
that have none, a per-service override, and unknown services refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from hall.config import ConfigError, parse_config
from tests.support.hall_server import SAMPLE_FILE

RAW = {
    "hall": {"name": "x", "secret": "s"},
    "service": [{"code": "A", "name": "a"}, {"code": "D", "name": "d"}],
    "counter": [{"id": 1, "name": "1", "services": ["A", "D"]}],
}


def test_a_file_without_the_section_promises_90_percent_in_20_minutes(tmp_path: Path) -> None:
    cfg = parse_config(dict(RAW), tmp_path / "hall.toml")
    assert cfg.cockpit.target("A") == (1200.0, 0.9)
    assert cfg.cockpit.range_level == 0.8 and cfg.cockpit.forecast_days == 5


def test_a_service_may_promise_otherwise(tmp_path: Path) -> None:
    raw = {**RAW, "cockpit": {"target_level": 0.8, "service": {"D": {"wait_target_min": 40}}}}
    cfg = parse_config(raw, tmp_path / "hall.toml")
    assert cfg.cockpit.target("D") == (2400.0, 0.8) and cfg.cockpit.target("A") == (1200.0, 0.8)


@pytest.mark.parametrize(
    ("cockpit", "where"),
    [
        ({"service": {"Z": {"wait_target_min": 5}}}, "[cockpit].service.Z"),
        ({"target_level": 1.5}, "[cockpit].target_level"),
        ({"wait_target_min": 0}, "[cockpit].wait_target_min"),
    ],
)
def test_mistakes_are_refused_with_their_key(
    tmp_path: Path, cockpit: dict[str, object], where: str
) -> None:
    with pytest.raises(ConfigError) as err:
        parse_config({**RAW, "cockpit": cockpit}, tmp_path / "hall.toml")
    assert where in str(err.value)


def test_the_sample_documents_the_section() -> None:
    text = SAMPLE_FILE.read_text(encoding="utf-8")
    assert "[cockpit]" in text and "[cockpit.service.D]" in text

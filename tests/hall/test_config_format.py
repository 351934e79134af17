"""The one formatter (hall.configkit) and the models of every part: a ValidationError becomes
``file: [section].key: problem`` lines, and every section refuses a key it does not know."""

from __future__ import annotations

import copy
import tomllib
from typing import Any

import pytest
from pydantic import Field, ValidationError

from hall.config import ConfigError, parse_config
from hall.configkit import ConfigModel, format_validation_error, place
from hall.web.settings import web_settings
from kiosk.settings import parse_devices, parse_kiosk
from signage.config import load_signage
from tests.support.hall_server import sample_text


class _Example(ConfigModel):
    recall_limit: int = Field(3, ge=1)
    """Recalls of one call."""
    token: str = Field("x" * 16, min_length=16)
    mode: str = "a"


def _error(**table: Any) -> ValidationError:
    with pytest.raises(ValidationError) as err:
        _Example.model_validate(table)
    return err.value


def test_a_validation_error_reads_file_section_key_problem() -> None:
    err = _error(recall_limit=0)
    assert format_validation_error(err, "hall.toml", section="policy") == (
        "hall.toml: [policy].recall_limit: must be ≥ 1"
    )
    err = _error(recall_limit="3", token="not-long", colour="red")
    assert format_validation_error(err, "hall.toml", section="policy").splitlines() == [
        "hall.toml: [policy].recall_limit: must be an integer, got '3'",
        "hall.toml: [policy].token: must have at least 16 characters",
        "hall.toml: [policy].colour: unknown key (misspelt?)",
    ]
    assert _Example.model_fields["recall_limit"].description == "Recalls of one call."


def test_secrets_are_not_in_messages_nor_in_the_models_own_text() -> None:
    err = _error(token="hunter2-hunter2")
    assert "hunter2" not in format_validation_error(err, "f", section="x")
    assert "hunter2" not in str(err)  # hide_input_in_errors
    assert "must be a string" in format_validation_error(_error(token=12345), "f")
    assert "12345" not in format_validation_error(_error(token=12345), "f")


@pytest.mark.parametrize(
    ("loc", "expected"),
    [
        (("policy", "recall_limit"), "[policy].recall_limit"),
        (("halll",), "[halll]"),
        (("version",), "version"),
        (("service", 1, "prefix"), "[[service]] B.prefix"),
        (("service", 1, "code"), "[[service]] #2.code"),  # its name is the problem
        (("service", 7, "code"), "[[service]] #8.code"),
        (("counter", 0), "[[counter]] 1"),
        (("counter", 1), "[[counter]] #2"),
        (("counter", 0, "services"), "[[counter]] 1.services"),
        (("token", 1, "token"), "[[token]] lobby-board.token"),
        (("signage", "silent_hours", 0), "[signage].silent_hours[0]"),
        (("signage", "led_addresses", "3"), "[signage].led_addresses.3"),
    ],
)
def test_places(loc: tuple[str | int, ...], expected: str) -> None:
    raw = {
        "version": 2,
        "service": [{"code": "A"}, {"code": "B"}],
        "counter": [{"id": 1}],
        "token": [{"name": "kiosk-1"}, {"name": "lobby-board"}],
    }
    assert place(loc, raw) == expected


def _sample() -> dict[str, Any]:
    return tomllib.loads(sample_text())


@pytest.mark.parametrize(
    ("table", "message"),
    [
        (("hall",), "[hall].extra_key: unknown key (misspelt?)"),
        (("server",), "[server].extra_key: unknown key (misspelt?)"),
        (("policy",), "[policy].extra_key: unknown key (misspelt?)"),
        (("service", 3), "[[service]] D.extra_key: unknown key (misspelt?)"),
        (("counter", 9), "[[counter]] 10.extra_key: unknown key (misspelt?)"),
        (("token", 3), "[[token]] manager.extra_key: unknown key (misspelt?)"),
        (("web",), "[web].extra_key: unknown key (misspelt?)"),
        (("kiosk",), "[kiosk].extra_key: unknown key (misspelt?)"),
        (("devices",), "[devices].extra_key: unknown key (misspelt?)"),
        (("signage",), "[signage].extra_key: unknown key (misspelt?)"),
    ],
)
def test_every_table_refuses_a_key_it_does_not_know(table: tuple[Any, ...], message: str) -> None:
    raw = copy.deepcopy(_sample())
    target: Any = raw
    for part in table:
        target = target[part]
    target["extra_key"] = 1
    with pytest.raises(ConfigError) as err:
        config = parse_config(raw, None)
        web_settings(config)
        parse_kiosk(config)
        parse_devices(config.sections["devices"], str(config.path))
        load_signage(config)
    assert str(err.value) == f"<config>: {message}"


def test_a_top_level_scalar_is_an_unknown_key_not_a_section() -> None:
    raw = {**_sample(), "nmae": "x"}
    with pytest.raises(ConfigError, match=r"^<config>: nmae: unknown key \(misspelt\?\)$"):
        parse_config(raw)

"""The config file: the sample loads; every mistake is refused with file, key and problem;
old files are migrated; the sample's tokens guard nothing outside the demo; secrets may come
from the environment."""

from __future__ import annotations

import copy
import logging
import subprocess
import sys
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from hall.config import (
    CURRENT_VERSION,
    ConfigError,
    is_sample_token,
    load_config,
    parse_config,
    token_variable,
)
from tests.support.hall_server import ROOT, SAMPLE_FILE, SAMPLE_TOKENS, TOKENS, sample_text

WHERE = "/etc/govhall/hall.toml"
SECRET = "a-token-nobody-has-read-7c1e"


def test_sample_config_is_a_realistic_hall(tmp_path: Path) -> None:
    text = SAMPLE_FILE.read_text(encoding="utf-8")
    (tmp_path / "hall.toml").write_text(text, encoding="utf-8")
    cfg = load_config(tmp_path / "hall.toml", demo=True)  # the sample's own tokens
    names = {s.name for s in cfg.services}
    for needed in ("社保", "医保", "公积金", "不动产", "户籍", "出入境", "企业开办", "税务"):
        assert any(needed in n for n in names), needed
    assert len(cfg.counters) >= 20
    assert any(len(c.services) >= 3 and "综合" in c.name for c in cfg.counters)
    assert {t.role for t in cfg.tokens} == {"kiosk", "display", "counter", "admin"}
    assert all(len(s.materials) >= 1 for s in cfg.services)
    assert cfg.secret and (tmp_path / "hall.secret").exists()  # created once, 0600
    assert (tmp_path / "hall.secret").stat().st_mode & 0o077 == 0
    assert tomllib.loads(text)["version"] == CURRENT_VERSION == cfg.version


def test_defaults(tmp_path: Path) -> None:
    raw = {
        "hall": {"name": "x", "secret": "s"},
        "service": [{"code": "A", "name": "a"}],
        "counter": [{"id": 1, "name": "1", "services": ["A"]}],
    }
    cfg = parse_config(raw, tmp_path / "hall.toml")
    assert cfg.hall_id == "hall-1" and cfg.timezone == "Asia/Shanghai" and cfg.tokens == ()
    assert cfg.server.database == f"sqlite:///{tmp_path / 'hall.db'}"
    assert (cfg.server.host, cfg.server.port, cfg.server.sqlite_synchronous) == (
        "127.0.0.1",
        8700,
        "FULL",
    )
    assert cfg.server.storage_timeout_s == 5.0 and cfg.server.max_body_bytes == 65536
    assert cfg.policy.recall_limit == 3 and cfg.policy.daily_limit == 1
    svc = cfg.service("A")
    assert svc is not None and svc.prefix == "A" and svc.avg_service_s == 300.0
    assert cfg.counter("1") is not None and cfg.counter("9") is None
    with pytest.raises(ValueError):  # immutable
        cfg.policy.recall_limit = 9  # type: ignore[misc]


def _base() -> dict[str, Any]:
    return tomllib.loads(sample_text())


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda c: c["hall"].update(nmae="x"), "[hall].nmae: unknown key"),
        (lambda c: c.update(halll={}), "[halll]: unknown section"),
        (
            lambda c: c["counter"][0].update(services=["Z"]),
            "[[counter]] 1.services: no service with code 'Z'",
        ),
        (
            lambda c: c["service"][1].update(prefix="A"),
            "[[service]] B.prefix: 'A' is already the prefix of service 'A'",
        ),
        (
            lambda c: c["token"][1].update(token=c["token"][0]["token"]),
            "[[token]] lobby-board.token: the same token is already used by 'kiosk-1'",
        ),
        (
            lambda c: c["token"][0].update(role="boss"),
            "[[token]] kiosk-1.role: must be 'kiosk', 'display', 'counter' or 'admin', got 'boss'",
        ),
        (lambda c: c["server"].update(port="8700"), "[server].port: must be an integer"),
        (lambda c: c["server"].update(port=70000), "[server].port: must be ≤ 65535"),
        (
            lambda c: c["server"].update(storage_timeout_s=0),
            "[server].storage_timeout_s: must be > 0",
        ),
        (
            lambda c: c["server"].update(storage_timeout_s=61),
            "[server].storage_timeout_s: must be ≤ 60",
        ),
        (
            lambda c: c["server"].update(sqlite_synchronous="off"),
            "[server].sqlite_synchronous: must be 'FULL', 'NORMAL' or 'EXTRA', got 'OFF'",
        ),
        (
            lambda c: c["hall"].update(timezone="Mars/Base"),
            "[hall].timezone: unknown time zone 'Mars/Base'",
        ),
        (lambda c: c["policy"].update(recall_limit=-1), "[policy].recall_limit: must be ≥ 1"),
        (
            lambda c: c["policy"].update(recall_cooldown_s=-1),
            "[policy].recall_cooldown_s: must be ≥ 0",
        ),
        (
            lambda c: c["policy"].update(daily_limit=True),
            "[policy].daily_limit: must be an integer",
        ),
        (
            lambda c: c["token"][0].pop("device"),
            '[[token]] kiosk-1.device: a kiosk token names the device it speaks for: device = "K1"',
        ),
        (
            lambda c: c["token"][2].pop("counters"),
            "[[token]] counter-staff.counters: a counter token names its counters",
        ),
        (
            lambda c: c.setdefault("hours", {}).update(workdays=["08:30-12:00", "11:00-13:00"]),
            "[hours].workdays: 08:30-12:00 and 11:00-13:00 overlap",
        ),
        (
            lambda c: c.setdefault("hours", {}).update(saturday=["9:00-12:00"]),
            "[hours].saturday: '9:00' is not a time like 08:30",
        ),
        (
            lambda c: c.setdefault("hours", {}).update(extended={"tues": ["17:30-19:00"]}),
            "[hours].extended: 'tues' is not one of mon, tue, wed, thu, fri, sat, sun",
        ),
        (
            lambda c: c.setdefault("hours", {}).update(closed_dates=["2026-02-30"]),
            "[hours].closed_dates[0]: input should be a valid date",
        ),
        (
            lambda c: c["service"][0].update(requires_id=False, requires_face=True),
            "[[service]] A.requires_face: a face check needs the ID card photo, so "
            "requires_id must be true",
        ),
        (
            lambda c: c["service"][0].update(code="a"),
            "[[service]] #1.code: 'a' must be 1–4 upper-case letters/digits",
        ),
        (lambda c: c["service"][0].update(name=" "), "[[service]] A.name: must not be empty"),
        (
            lambda c: c["counter"].append(dict(c["counter"][0])),
            "[[counter]] #23.id: '1' is used twice",
        ),
        (lambda c: c.update(service=[]), "[[service]]: at least one service is required"),
        (lambda c: c.pop("counter"), "[[counter]]: at least one counter is required"),
        (lambda c: c["hall"].pop("name"), "[hall].name: is required"),
        (lambda c: c.update(web=[1]), "[web]: must be a table"),
    ],
)
def test_mistakes_are_refused_with_their_place(
    mutate: Callable[[dict[str, Any]], None], message: str
) -> None:
    raw = copy.deepcopy(_base())
    mutate(raw)
    with pytest.raises(ConfigError) as err:
        parse_config(raw, Path(WHERE))
    assert f"{WHERE}: {message}" in str(err.value).splitlines()[0]


def test_the_message_shape_is_file_place_problem_one_line_each() -> None:
    raw = _base()
    raw["policy"]["recall_limit"] = 0
    raw["server"]["port"] = "8700"
    raw["counter"][2]["nmae"] = "x"
    raw["token"][0]["token"] = 12345678901234567890
    before = copy.deepcopy(raw)
    with pytest.raises(ConfigError) as err:
        parse_config(raw, Path("hall.toml"))
    assert str(err.value).splitlines() == [
        "hall.toml: [server].port: must be an integer, got '8700'",
        "hall.toml: [policy].recall_limit: must be ≥ 1",
        "hall.toml: [[counter]] 3.nmae: unknown key (misspelt?)",
        "hall.toml: [[token]] kiosk-1.token: must be a string",  # never the value of a token
    ]
    assert raw == before  # the caller's tables are not changed


def test_no_secret_is_ever_repeated() -> None:
    raw = _base()
    raw["token"][0]["token"] = "short-secret"
    raw["hall"]["secret"] = 42
    raw["server"]["database"] = ["postgresql://govhall:hunter2@db/govhall"]
    with pytest.raises(ConfigError) as err:
        parse_config(raw, Path(WHERE))
    text = str(err.value)
    assert "[[token]] kiosk-1.token: must have at least 16 characters" in text
    assert "[hall].secret: must be a string" in text
    assert "[server].database: must be a string" in text
    for secret in ("short-secret", "42", "hunter2"):
        assert secret not in text
    assert "hunter2" not in repr(parse_config(_base()))  # nor in a repr


def test_unreadable_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such config file"):
        load_config(tmp_path / "missing.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("[hall\nname=", encoding="utf-8")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(bad)


# -- version ----------------------------------------------------------------------------------


def test_a_version_2_file_keeps_its_tokens_unbound_with_a_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    raw = _base()
    raw["version"] = 2
    raw["hall"]["secret"] = "s"
    for tok in raw["token"]:
        tok.pop("device", None)
        tok.pop("counters", None)
    with caplog.at_level(logging.WARNING, "hall.config"):
        cfg = parse_config(raw, Path(WHERE))
    by_name = {t.name: t for t in cfg.tokens}
    assert by_name["kiosk-1"].device == "*" and by_name["counter-staff"].counters == "*"
    assert by_name["kiosk-1"].speaks_for("K9") and by_name["counter-staff"].may_act_for("22")
    assert "[[token]] kiosk-1 may act for any device" in caplog.text
    assert "[[token]] counter-staff may act for any counter" in caplog.text


def test_a_file_without_version_is_version_1_and_migrated(
    caplog: pytest.LogCaptureFixture,
) -> None:
    raw = _base()
    del raw["version"]
    raw["hall"]["secret"] = "s"
    assert parse_config(raw).version == 1  # today's files load unchanged
    raw["server"]["writer"] = "thread"  # version 1 knew [server].writer; 2 dropped it
    with caplog.at_level(logging.WARNING, "hall.config"):
        cfg = parse_config(raw, Path(WHERE))
    assert cfg.version == 1 and cfg.server.storage_timeout_s == 5.0
    assert f"{WHERE}: [server].writer is no longer used" in caplog.text
    raw["version"] = 1
    assert parse_config(raw).version == 1


@pytest.mark.parametrize(
    ("version", "message"),
    [
        (CURRENT_VERSION + 1, f"version: {CURRENT_VERSION + 1} is newer than this govhall reads"),
        (0, "version: must be ≥ 1"),
        ("2", "version: must be an integer, got '2'"),
    ],
)
def test_versions_this_govhall_cannot_read(version: object, message: str) -> None:
    raw = {**_base(), "version": version}
    with pytest.raises(ConfigError) as err:
        parse_config(raw, Path(WHERE))
    assert str(err.value).startswith(f"{WHERE}: {message}")


def test_a_current_file_keeps_removed_keys_refused() -> None:
    raw = _base()
    raw["server"]["writer"] = "thread"
    with pytest.raises(ConfigError, match=r"\[server\]\.writer: unknown key"):
        parse_config(raw)


# -- tokens -----------------------------------------------------------------------------------


def test_the_sample_tokens_are_refused_outside_the_demo(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GOVHALL_DEMO", raising=False)
    raw = tomllib.loads(SAMPLE_FILE.read_text(encoding="utf-8"))
    with pytest.raises(ConfigError) as err:
        parse_config(raw, Path(WHERE))
    lines = str(err.value).splitlines()
    assert len(lines) == 6  # four [[token]], [kiosk].token, [signage].token
    assert lines[0].startswith(
        f"{WHERE}: [[token]] kiosk-1.token: is the sample config's token, which everyone "
        "can read (only govhall demo accepts it)"
    )
    assert lines[0].endswith("or GOVHALL_TOKEN_KIOSK_1")
    assert lines[4].startswith(f"{WHERE}: [kiosk].token: is the sample config's token")
    assert lines[5].endswith("or GOVHALL_SIGNAGE_TOKEN")
    assert parse_config(raw, demo=True).token_for("kiosk") == SAMPLE_TOKENS["kiosk"]
    monkeypatch.setenv("GOVHALL_DEMO", "1")  # what govhall demo sets for its processes
    assert parse_config(raw).token_for("admin") == SAMPLE_TOKENS["admin"]
    # an edit of a sample token is no better
    assert is_sample_token("my-kiosk-token-change-me") and not is_sample_token(TOKENS["kiosk"])


def test_govhall_hall_refuses_the_sample_as_shipped(tmp_path: Path) -> None:
    cfg = tmp_path / "hall.toml"
    cfg.write_text(SAMPLE_FILE.read_text(encoding="utf-8"), encoding="utf-8")
    run = subprocess.run(
        [sys.executable, "-m", "govhall.cli", "hall", "--config", str(cfg)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 2, run.stderr
    assert f"{cfg}: [[token]] kiosk-1.token: is the sample config's token" in run.stderr
    assert "Traceback" not in run.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["hall.toml"]  # no secret, no db


def test_short_tokens_are_refused_even_in_the_demo() -> None:
    raw = _base()
    raw["token"][2]["token"] = "123456789012345"
    with pytest.raises(ConfigError) as err:
        parse_config(raw, Path(WHERE), demo=True)
    assert str(err.value) == (
        f"{WHERE}: [[token]] counter-staff.token: must have at least 16 characters"
    )


# -- environment ------------------------------------------------------------------------------


def test_secrets_from_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    raw = _base()
    del raw["token"][0]["token"]  # kiosk-1's token only in the environment
    raw["hall"]["secret"] = "from-the-file"
    monkeypatch.setenv("GOVHALL_TOKEN_KIOSK_1", SECRET)
    monkeypatch.setenv("GOVHALL_TOKEN_MANAGER", "admin-token-from-env-0042")  # wins
    monkeypatch.setenv("GOVHALL_TOKEN_NOBODY", "no [[token]] is named nobody")
    monkeypatch.setenv("GOVHALL_HALL_SECRET", "hash-key-from-env")
    monkeypatch.setenv("GOVHALL_SERVER_DATABASE", f"sqlite:///{tmp_path / 'env.db'}")
    monkeypatch.setenv("GOVHALL_KIOSK_TOKEN", SECRET)
    monkeypatch.setenv("GOVHALL_SIGNAGE_TOKEN", "")  # empty: the file's value stays
    cfg = parse_config(raw, tmp_path / "hall.toml")
    assert cfg.token_for("kiosk") == SECRET and cfg.sections["kiosk"]["token"] == SECRET
    assert cfg.token_for("admin") == "admin-token-from-env-0042"
    assert cfg.token_for("display") == TOKENS["display"]
    assert cfg.sections["signage"]["token"] == TOKENS["display"]
    assert cfg.secret == b"hash-key-from-env"
    assert cfg.server.database == f"sqlite:///{tmp_path / 'env.db'}"
    assert "token" not in raw["token"][0]  # the caller's tables are not changed
    assert token_variable("lobby-board") == "GOVHALL_TOKEN_LOBBY_BOARD"


def test_environment_problems_say_where_the_value_came_from(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    raw = _base()
    del raw["token"][1]["token"]
    with pytest.raises(ConfigError) as err:
        parse_config(raw, Path(WHERE))
    assert str(err.value) == (
        f"{WHERE}: [[token]] lobby-board.token: is required (or set GOVHALL_TOKEN_LOBBY_BOARD)"
    )
    monkeypatch.setenv("GOVHALL_TOKEN_LOBBY_BOARD", "too-short")
    monkeypatch.setenv("GOVHALL_KIOSK_TOKEN", "sample-kiosk-token-change-me")
    with pytest.raises(ConfigError) as err:
        parse_config(raw, Path(WHERE))
    assert str(err.value) == (
        f"{WHERE}: [[token]] lobby-board.token: must have at least 16 characters "
        "(from GOVHALL_TOKEN_LOBBY_BOARD)"
    )
    monkeypatch.setenv("GOVHALL_TOKEN_LOBBY_BOARD", SECRET)
    with pytest.raises(ConfigError) as err:
        parse_config(raw, Path(WHERE))
    assert str(err.value).startswith(f"{WHERE}: [kiosk].token: is the sample config's token")
    assert str(err.value).endswith("(from GOVHALL_KIOSK_TOKEN)")


def test_two_token_names_for_one_variable_are_refused() -> None:
    raw = _base()
    raw["token"].append({"name": "kiosk_1", "role": "kiosk", "device": "K9", "token": SECRET})
    with pytest.raises(ConfigError) as err:
        parse_config(raw, Path(WHERE))
    assert str(err.value) == (
        f"{WHERE}: [[token]] #5.name: 'kiosk_1' and 'kiosk-1' would both be read from "
        "GOVHALL_TOKEN_KIOSK_1; rename one"
    )

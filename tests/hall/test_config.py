"""The config file: the sample loads; every mistake is refused with file, key and problem."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path

import pytest

from hall.config import ConfigError, load_config, parse_config

SAMPLE = Path(__file__).resolve().parents[2] / "assets" / "hall.sample.toml"


def test_sample_config_is_a_realistic_hall(tmp_path: Path) -> None:
    text = SAMPLE.read_text(encoding="utf-8")
    (tmp_path / "hall.toml").write_text(text, encoding="utf-8")
    cfg = load_config(tmp_path / "hall.toml")
    names = {s.name for s in cfg.services}
    for needed in ("社保", "医保", "公积金", "不动产", "户籍", "出入境", "企业开办", "税务"):
        assert any(needed in n for n in names), needed
    assert len(cfg.counters) >= 20
    assert any(len(c.services) >= 3 and "综合" in c.name for c in cfg.counters)
    assert {t.role for t in cfg.tokens} == {"kiosk", "display", "counter", "admin"}
    assert all(len(s.materials) >= 1 for s in cfg.services)
    assert cfg.secret and (tmp_path / "hall.secret").exists()  # created once, 0600
    assert (tmp_path / "hall.secret").stat().st_mode & 0o077 == 0


def _base() -> dict:
    import tomllib

    return tomllib.loads(SAMPLE.read_text(encoding="utf-8"))


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda c: c["hall"].update(nmae="x"), "[hall].nmae: unknown key"),
        (lambda c: c.update(halll={}), "[halll]: unknown section"),
        (lambda c: c["counter"][0].update(services=["Z"]), "no service with code 'Z'"),
        (lambda c: c["service"][1].update(prefix="A"), "'A' is already the prefix"),
        (lambda c: c["token"][1].update(token=c["token"][0]["token"]), "the same token"),
        (lambda c: c["token"][0].update(role="boss"), "'boss' is not one of"),
        (lambda c: c["server"].update(port="8700"), "[server].port: must be an integer"),
        (lambda c: c["server"].update(writer="fork"), "[server].writer: must be process or"),
        (lambda c: c["hall"].update(timezone="Mars/Base"), "unknown time zone"),
        (lambda c: c["policy"].update(recall_limit=-1), "must not be negative"),
        (
            lambda c: c["service"][0].update(requires_id=False, requires_face=True),
            "requires_id must be true",
        ),
        (lambda c: c["counter"].append(dict(c["counter"][0])), "is used twice"),
    ],
)
def test_mistakes_are_refused_with_their_place(
    mutate: Callable[[dict], None], message: str
) -> None:
    raw = copy.deepcopy(_base())
    mutate(raw)
    with pytest.raises(ConfigError) as err:
        parse_config(raw, Path("/etc/govhall/hall.toml"))
    assert message in str(err.value)
    assert "/etc/govhall/hall.toml" in str(err.value)


def test_unreadable_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such config file"):
        load_config(tmp_path / "missing.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("[hall\nname=", encoding="utf-8")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(bad)

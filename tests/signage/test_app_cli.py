"""``govhall signage`` refuses a bad config with a clear message, before any window opens."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from signage.app import main
from tests.support.hall_server import write_config


def test_bad_signage_section_exits_2_naming_the_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = write_config(tmp_path / "hall.toml", 8799)
    cfg.write_text(
        cfg.read_text(encoding="utf-8").replace("repeat = 2", "repeat = 7"), encoding="utf-8"
    )
    assert main(["--config", str(cfg)]) == 2
    assert "[signage].repeat: must be ≤ 3" in capsys.readouterr().err
    assert "kivy.core.window" not in sys.modules  # refused before a window was made


def test_unknown_counter_and_missing_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = write_config(tmp_path / "hall.toml", 8799)
    assert main(["--config", str(cfg), "--counter", "99"]) == 2
    assert "no [[counter]] with id '99'" in capsys.readouterr().err
    assert main(["--config", str(tmp_path / "nope.toml")]) == 2

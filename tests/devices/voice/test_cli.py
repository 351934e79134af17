"""`govhall device voice` as a technician runs it (through the real console-script dispatch)."""

from __future__ import annotations

import wave
from pathlib import Path

import pytest

from govhall.cli import main


@pytest.fixture(autouse=True)
def _cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))  # never the user's ~/.cache


def test_wav_is_written_and_elderly_is_slower(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = "请 A 零 一 二 号，到 三号窗口 办理"
    assert main(["device", "voice", "--say", text, "--wav", str(tmp_path / "n.wav")]) == 0
    assert (
        main(["device", "voice", "--say", text, "--wav", str(tmp_path / "e.wav"), "--elderly"]) == 0
    )
    out = capsys.readouterr().out
    assert "ok:" in out and "Audio saved" not in out

    def seconds(p: Path) -> float:
        with wave.open(str(p), "rb") as w:
            return w.getnframes() / w.getframerate()

    assert seconds(tmp_path / "n.wav") > 2.0
    assert seconds(tmp_path / "e.wav") > seconds(tmp_path / "n.wav") * 1.2


def test_play_on_null_device(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["device", "voice", "--say", "您好", "--device", "null"]) == 0
    assert "aplay -D null" in capsys.readouterr().out


def test_bad_text_exits_2_and_bad_device_exits_1(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["device", "voice", "--say", "  "]) == 2
    assert "voice.bad_text" in capsys.readouterr().err
    assert main(["device", "voice", "--say", "您好", "--device", "no_such_pcm"]) == 1
    assert "voice.play_failed" in capsys.readouterr().err

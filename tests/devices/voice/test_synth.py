"""Synthesis through the real engines: every WAV is checked, bad ones never pass."""

from __future__ import annotations

import subprocess
import wave
from pathlib import Path

import pytest

from devices.voice.errors import VoiceError, VoiceInputError
from devices.voice.normalize import call_sentence
from devices.voice.synth import Synthesizer, check_speech, clean_text, read_wav

CALL = call_sentence("A012", 3)  # 请 A 零 一 二 号，到 三号窗口 办理
ZH = {"voice": "cmn-latn-pinyin", "rate": 165, "volume": 0.8}


def _wav_seconds(path: Path) -> float:
    with wave.open(str(path), "rb") as w:
        return w.getnframes() / w.getframerate()


def _reference(tmp_path: Path, text: str, voice: str, rate: int) -> float:
    """espeak-ng's own rendering, the yardstick for "this is the voice and rate we asked"."""
    ref = tmp_path / "ref.wav"
    subprocess.run(["espeak-ng", "-v", voice, "-s", str(rate), "-w", str(ref), text], check=True)
    return _wav_seconds(ref)


@pytest.mark.parametrize("backend", ["pyttsx3", "espeak-ng"])
def test_each_backend_speaks_mandarin_at_the_requested_rate(tmp_path: Path, backend: str) -> None:
    synth = Synthesizer(backends=(backend,))
    try:
        for rate in (165, 125, 165):  # back and forth: a stale rate must not leak over
            audio = synth.synthesize_to(CALL, tmp_path / "out.wav", **{**ZH, "rate": rate})
            assert synth.last_backend == backend
            with wave.open(str(audio.path), "rb") as w:
                assert (w.getnchannels(), w.getsampwidth(), w.getframerate()) == (1, 2, 22050)
                assert w.getnframes() == audio.nframes > 0
            # Same length as espeak-ng's cmn-latn-pinyin itself (the English voice reading
            # Chinese, or the wrong rate, differ by far more than 3 %).
            assert audio.duration_s == pytest.approx(
                _reference(tmp_path, CALL, "cmn-latn-pinyin", rate), rel=0.03
            )
        assert synth.failures == []
    finally:
        synth.close()


def test_elderly_settings_are_slower_and_louder(tmp_path: Path) -> None:
    synth = Synthesizer()
    normal = synth.synthesize_to(
        CALL, tmp_path / "n.wav", voice="cmn-latn-pinyin", rate=165, volume=0.8
    )
    slow = synth.synthesize_to(
        CALL, tmp_path / "e.wav", voice="cmn-latn-pinyin", rate=125, volume=1.0
    )

    # sox measures loudness independently of our own check.
    def rms(p: Path) -> float:
        out = subprocess.run(["sox", str(p), "-n", "stat"], capture_output=True, text=True).stderr
        return float(
            next(ln for ln in out.splitlines() if ln.startswith("RMS     amplitude")).split()[-1]
        )

    assert slow.duration_s > normal.duration_s * 1.2
    assert rms(slow.path) > rms(normal.path) * 1.1
    # Both files are still intact afterwards.
    assert read_wav(normal.path).frames and read_wav(slow.path).frames


def test_pyttsx3_chatter_does_not_reach_stdout(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    synth = Synthesizer(backends=("pyttsx3",))
    try:
        synth.synthesize_to("请选择您要办理的业务", tmp_path / "p.wav", **ZH)
    finally:
        synth.close()
    assert "Audio saved" not in capfd.readouterr().out


def test_english_voice(tmp_path: Path) -> None:
    text = call_sentence("A012", 3, "en")
    synth = Synthesizer()
    audio = synth.synthesize_to(text, tmp_path / "en.wav", voice="en-us", rate=165, volume=0.8)
    assert audio.duration_s == pytest.approx(_reference(tmp_path, text, "en-us", 165), rel=0.03)


def test_empty_44_byte_wav_is_rejected(tmp_path: Path) -> None:
    # What pyttsx3's save_to_file sometimes leaves behind: a header and no frames.
    empty = tmp_path / "empty.wav"
    with wave.open(str(empty), "wb") as w:
        w.setnchannels(1), w.setsampwidth(2), w.setframerate(22050)
    assert empty.stat().st_size == 44
    with pytest.raises(VoiceError) as info:
        check_speech(read_wav(empty, "请选择"), 165)
    assert info.value.code == "voice.bad_audio"


def test_silence_and_truncation_are_rejected(tmp_path: Path) -> None:
    synth = Synthesizer(backends=("espeak-ng",))
    good = synth.synthesize_to(CALL, tmp_path / "good.wav", **ZH)
    silent = tmp_path / "silent.wav"
    with wave.open(str(silent), "wb") as w:
        w.setnchannels(1), w.setsampwidth(2), w.setframerate(22050)
        w.writeframes(b"\x00\x00" * good.nframes)
    truncated = tmp_path / "cut.wav"
    with wave.open(str(truncated), "wb") as w:
        w.setnchannels(1), w.setsampwidth(2), w.setframerate(22050)
        w.writeframes(good.frames[: len(good.frames) // 10])
    for bad in (silent, truncated):
        with pytest.raises(VoiceError, match=r"near-silent|implausible"):
            check_speech(read_wav(bad, CALL), 165)
    check_speech(good, 165)  # the real one still passes the same check


def test_unknown_voice_fails_in_both_backends_with_one_clear_error(tmp_path: Path) -> None:
    synth = Synthesizer()
    try:
        with pytest.raises(VoiceError) as info:
            synth.synthesize_to(
                "您好", tmp_path / "x.wav", voice="cmn-nonexistent", rate=165, volume=0.8
            )
    finally:
        synth.close()
    assert info.value.code == "voice.synth_failed"
    assert "pyttsx3:" in str(info.value) and "espeak-ng:" in str(info.value)
    assert not (tmp_path / "x.wav").exists()  # nothing that could be played by mistake


def test_espeak_fallback_is_used_when_pyttsx3_fails(tmp_path: Path) -> None:
    # A broken first backend (here: espeak-ng binary missing for the subprocess, so order
    # reversed) must leave the second to do the job and record why.
    synth = Synthesizer(backends=("espeak-ng", "pyttsx3"), espeak_command="/nonexistent/espeak-ng")
    try:
        audio = synth.synthesize_to(CALL, tmp_path / "f.wav", **ZH)
    finally:
        synth.close()
    assert synth.last_backend == "pyttsx3"
    assert len(synth.failures) == 1 and "did not run" in synth.failures[0]
    check_speech(audio, 165)


def test_all_backends_failing_is_a_clear_error(tmp_path: Path) -> None:
    synth = Synthesizer(backends=("espeak-ng",), espeak_command="/nonexistent/espeak-ng")
    with pytest.raises(VoiceError) as info:
        synth.synthesize_to(CALL, tmp_path / "f.wav", **ZH)
    assert info.value.code == "voice.synth_failed"
    assert not (tmp_path / "f.wav").exists()  # nothing that could be played by mistake


@pytest.mark.parametrize("bad", ["", "   ", "\n\t", "，。！", "x" * 301, None])
def test_unsayable_text_is_refused_before_synthesis(bad: object) -> None:
    with pytest.raises(VoiceInputError) as info:
        clean_text(bad)  # type: ignore[arg-type]
    assert info.value.code == "voice.bad_text"


def test_text_starting_with_a_dash_is_spoken_not_parsed(tmp_path: Path) -> None:
    synth = Synthesizer(backends=("espeak-ng",))
    audio = synth.synthesize_to("-v en 您好", tmp_path / "d.wav", **ZH)
    check_speech(audio, 165)

"""``govhall doctor``'s look at speech: can this machine synthesise a Chinese test phrase,
and is the player the config names installed? Nothing is played aloud."""

from __future__ import annotations

import contextlib
import io
import shutil
import tempfile
import time
from pathlib import Path

from common.health import Check, fail, ok, text
from devices.voice.errors import VoiceError
from devices.voice.synth import VOICES, Synthesizer

NAME = "voice"
TEST_PHRASE = "请A001号到1号窗口办理"


def check(spec: str, synth: Synthesizer | None = None) -> Check:
    """``spec``: the ``[devices] voice`` value ("" on a machine that only announces through
    [signage]); ``aplay``/``espeak`` also need aplay installed. ``synth``: the synthesiser to
    try (default: the one the kiosk and the announcer use)."""
    synth = synth or Synthesizer()
    try:
        with tempfile.TemporaryDirectory(prefix="govhall-doctor-") as tmp:
            t0 = time.monotonic()
            # pyttsx3 prints "Audio saved to …" on stdout: not part of the report
            with contextlib.redirect_stdout(io.StringIO()):
                audio = synth.synthesize_to(
                    TEST_PHRASE, Path(tmp) / "test.wav", voice=VOICES["zh"], rate=165, volume=0.8
                )
            ms = (time.monotonic() - t0) * 1000
    except VoiceError as err:
        return fail(NAME, text("voice_failed", code=err.code), text("voice_failed_hint"))
    finally:
        synth.close()
    detail = text("voice_ok", seconds=audio.duration_s, ms=ms, backend=synth.last_backend)
    if spec.startswith(("aplay", "espeak")) and shutil.which("aplay") is None:
        return fail(NAME, detail + text("voice_no_aplay"), text("voice_no_aplay_hint"))
    return ok(NAME, detail)

"""The built-in call chime: a two-tone "ding-dong" (E5 then C5, bell-like partials, decaying),
generated on first use instead of shipping a binary. 22,050 Hz 16-bit mono like the speech,
so one player plays both without resampling."""

from __future__ import annotations

import os
import wave
from pathlib import Path

import numpy as np

RATE = 22_050
_VERSION = 1  # bump when the sound changes, so cached files are regenerated


def chime_samples(rate: int = RATE) -> np.ndarray:
    def tone(freq: float, seconds: float) -> np.ndarray:
        n = int(rate * seconds)
        tt = np.arange(n) / rate
        # Bell-ish: fundamental plus two quieter partials, fast attack, exponential decay.
        wave_ = (
            np.sin(2 * np.pi * freq * tt)
            + 0.4 * np.sin(2 * np.pi * 2 * freq * tt)
            + 0.15 * np.sin(2 * np.pi * 3 * freq * tt)
        )
        env = np.minimum(tt / 0.01, 1.0) * np.exp(-tt * 4.0)
        return wave_ * env

    sound = np.concatenate([tone(659.25, 0.45), tone(523.25, 0.75)])
    sound = sound / np.max(np.abs(sound)) * 0.7  # -3 dBFS: as loud as the speech, no clipping
    return (sound * 32767).astype("<i2")


def ensure_chime(directory: Path) -> Path:
    """The chime WAV in ``directory`` (written once, atomically)."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"chime-v{_VERSION}.wav"
    if path.is_file() and path.stat().st_size > 1000:
        return path
    tmp = directory / f".chime.{os.getpid()}.tmp"
    with wave.open(str(tmp), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(chime_samples().tobytes())
    os.replace(tmp, path)
    return path

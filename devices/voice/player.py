"""Players: where checked audio goes. ``Voice`` serialises playback and decides who
interrupts whom; a player only plays one clip, blocking, and stops when told.

- :class:`Player` — the interface. The kiosk and signage plug in a Kivy/SDL player
  (``SoundLoader`` with ``SDL_AUDIODRIVER=dummy`` in tests); devices/ must not import Kivy.
- :class:`AplayPlayer` — ALSA's ``aplay`` (``device="null"`` works without a sound card).
- :class:`RecordingPlayer` — the simulator: consumes the samples in real time and records
  what was played (order, durations, interruptions, loudness), so tests assert on real audio.
"""

from __future__ import annotations

import shutil
import subprocess
import threading
import time
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np

from devices.voice.errors import VoiceError
from devices.voice.synth import Audio


@runtime_checkable
class Player(Protocol):
    name: str

    def play(self, audio: Audio, cancel: threading.Event) -> float:
        """Play ``audio`` to the end, or until ``cancel`` is set; block meanwhile.

        Return the seconds actually played. Raise ``VoiceError`` (code ``voice.play_failed``)
        when the sound did not come out: a failed play must never look like a finished one."""
        ...


class AplayPlayer:
    """Plays through ALSA's ``aplay`` (one process per clip; killed on interruption)."""

    name = "aplay"

    def __init__(self, device: str = "default", command: str = "aplay") -> None:
        found = shutil.which(command)
        if found is None:
            raise VoiceError(f"{command!r} not found: install alsa-utils", code="voice.no_player")
        self.command = found
        self.device = device

    def play(self, audio: Audio, cancel: threading.Event) -> float:
        started = time.monotonic()
        try:
            proc = subprocess.Popen(
                [self.command, "-q", "-D", self.device, str(audio.path)],
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
            )  # fmt: skip
        except OSError as err:
            raise VoiceError(f"aplay did not start: {err}", code="voice.play_failed") from err
        while proc.poll() is None:
            if cancel.wait(0.01):
                proc.terminate()
                proc.wait(timeout=5)
                return min(time.monotonic() - started, audio.duration_s)
        stderr = proc.stderr.read().decode("utf-8", "replace").strip() if proc.stderr else ""
        if proc.stderr:
            proc.stderr.close()
        if proc.returncode != 0:
            raise VoiceError(
                f"aplay -D {self.device} exit {proc.returncode}: {stderr}", code="voice.play_failed"
            )
        return min(time.monotonic() - started, audio.duration_s)


@dataclass(frozen=True)
class Played:
    """One clip as the simulated speaker heard it."""

    text: str
    duration_s: float  # length of the clip
    played_s: float  # audio actually consumed (less than duration_s when interrupted)
    frames_played: int
    peak: int  # loudest sample consumed: 0 would mean the speaker got silence
    interrupted: bool
    started_at: float  # time.perf_counter() when the first sample was taken
    ended_at: float


class RecordingPlayer:
    """A simulated speaker: takes the samples 20 ms at a time at the real playback pace
    (``speed`` > 1 only to shorten long tests), and records each clip as :class:`Played`.

    ``fail`` makes the next plays raise ``voice.play_failed`` with that message (a scripted
    fault, like a USB speaker unplugged)."""

    name = "recording"

    def __init__(self, speed: float = 1.0, chunk_s: float = 0.02, fail: str | None = None) -> None:
        if speed <= 0 or chunk_s <= 0:
            raise ValueError("speed and chunk_s must be positive")
        self.speed = speed
        self.chunk_s = chunk_s
        self.fail = fail
        self.played: list[Played] = []
        self._changed = threading.Condition()

    def play(self, audio: Audio, cancel: threading.Event) -> float:
        if self.fail is not None:
            raise VoiceError(f"simulated speaker fault: {self.fail}", code="voice.play_failed")
        started = time.perf_counter()
        samples = np.frombuffer(audio.frames, dtype="<i2")
        chunk = max(int(audio.framerate * self.chunk_s), 1)
        consumed = 0
        peak = 0
        interrupted = False
        while consumed < len(samples):
            if cancel.is_set():
                interrupted = True
                break
            block = samples[consumed : consumed + chunk]
            peak = max(peak, int(np.max(np.abs(block.astype(np.int32)))))
            consumed += len(block)
            # Sleep until this block would have finished playing; wake at once on cancel.
            due = started + consumed / audio.framerate / self.speed
            delay = due - time.perf_counter()
            if delay > 0 and cancel.wait(delay):
                interrupted = consumed < len(samples)
                break
        played = Played(
            text=audio.text,
            duration_s=audio.duration_s,
            played_s=consumed / audio.framerate,
            frames_played=consumed,
            peak=peak,
            interrupted=interrupted,
            started_at=started,
            ended_at=time.perf_counter(),
        )
        with self._changed:
            self.played.append(played)
            self._changed.notify_all()
        return played.played_s

    def wait_for(self, count: int, timeout: float = 30.0) -> list[Played]:
        """Block until ``count`` clips have been played (or interrupted)."""
        with self._changed:
            if not self._changed.wait_for(lambda: len(self.played) >= count, timeout):
                raise TimeoutError(f"only {len(self.played)} of {count} clips played")
            return list(self.played)


__all__ = ["AplayPlayer", "Played", "Player", "RecordingPlayer"]

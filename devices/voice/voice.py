"""The one voice API: ``Voice.say(text, priority)`` and ``Voice.synthesize(text)``.

Playback rules (one speaker, one clip at a time):
- ``"prompt"`` (kiosk guidance): a new prompt interrupts the prompt being played, and
  replaces a prompt still waiting — a citizen only needs the guidance for the screen shown now.
- ``"call"`` (lobby call): calls queue in order and are never interrupted; a call also
  interrupts a prompt being played (a missed call costs a citizen their turn; a prompt can be
  repeated), and a prompt waits until the queued calls are done.

Text is synthesised in the caller's thread, so a synthesis failure raises from ``say()``
itself; playback runs on one worker thread, and a playback failure is reported on the
returned :class:`Utterance` (``wait()`` raises it) and in ``Voice.last_error``.
"""

from __future__ import annotations

import enum
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal

from common.i18n import catalogue
from devices.voice.cache import PhraseCache
from devices.voice.errors import VoiceError, VoiceInputError
from devices.voice.player import AplayPlayer, Player
from devices.voice.synth import VOICES, Audio, Synthesizer, check_speech, clean_text, read_wav

Priority = Literal["prompt", "call"]
PRIORITIES: tuple[Priority, ...] = ("prompt", "call")


@dataclass(frozen=True)
class Profile:
    rate: int  # espeak-ng words per minute (its default is 175)
    volume: float  # espeak-ng amplitude / 100; 1.0 already peaks near full scale


# The elderly profile is slower and louder (+2 dB; more would clip the loudest syllables).
PROFILES: dict[str, Profile] = {
    "normal": Profile(rate=165, volume=0.8),
    "elderly": Profile(rate=125, volume=1.0),
}


class Status(enum.Enum):
    QUEUED = "queued"
    PLAYING = "playing"
    DONE = "done"
    INTERRUPTED = "interrupted"  # cut off by a newer prompt or a call
    DROPPED = "dropped"  # replaced by a newer prompt before it started
    FAILED = "failed"  # the player raised; see Utterance.error


class Utterance:
    """One ``say()``: its audio, what became of it, and when (``time.perf_counter()``)."""

    def __init__(self, audio: Audio, priority: Priority, said_at: float) -> None:
        self.audio = audio
        self.text = audio.text
        self.priority = priority
        self.said_at = said_at
        self.handed_at: float | None = None  # when the first sample went to the player
        self.finished_at: float | None = None
        self.played_s = 0.0
        self.status = Status.QUEUED
        self.error: VoiceError | None = None
        self._cancel = threading.Event()
        self._done = threading.Event()

    @property
    def latency_s(self) -> float | None:
        """From ``say()`` to the first audio sample handed to the player."""
        return None if self.handed_at is None else self.handed_at - self.said_at

    def wait(self, timeout: float | None = None) -> Status:
        """Wait until it is finished; raise its playback error, or ``voice.timeout``."""
        if not self._done.wait(timeout):
            raise VoiceError(f"{self.text[:30]!r} still {self.status.value}", code="voice.timeout")
        if self.error is not None:
            raise self.error
        return self.status

    def _finish(self, status: Status) -> None:
        self.status = status
        self.finished_at = time.perf_counter()
        self._done.set()

    def __repr__(self) -> str:
        return f"<Utterance {self.priority} {self.status.value} {self.text[:20]!r}>"


class Voice:
    """Speech for one speaker. ``profile``: "normal" or "elderly"; ``lang``: "zh" or "en"
    (the default; ``say``/``synthesize`` take a per-phrase ``lang`` for bilingual halls)."""

    def __init__(
        self,
        profile: str = "normal",
        lang: str = "zh",
        cache_dir: Path | str | None = None,
        player: Player | None = None,
        synthesizer: Synthesizer | None = None,
        memory_items: int = 256,
    ) -> None:
        if profile not in PROFILES:
            raise VoiceInputError(
                f"unknown voice profile {profile!r}; known: {sorted(PROFILES)}",
                code="voice.bad_profile",
            )
        self._voice_name(lang)
        self.profile_name = profile
        self.profile = PROFILES[profile]
        self.lang = lang
        self.cache = PhraseCache(cache_dir)
        # No player given means the real speaker; without aplay that is voice.no_player, here.
        self.player: Player = player if player is not None else AplayPlayer()
        self.synthesizer = synthesizer if synthesizer is not None else Synthesizer()
        self.last_error: VoiceError | None = None
        self._memory: OrderedDict[str, Audio] = OrderedDict()
        self._memory_items = memory_items
        self._memory_lock = threading.Lock()
        self._cond = threading.Condition()
        self._calls: deque[Utterance] = deque()
        self._pending_prompt: Utterance | None = None
        self._current: Utterance | None = None
        self._closed = False
        self._worker: threading.Thread | None = None

    # --- synthesis ------------------------------------------------------------------------

    def synthesize(self, text: str, lang: str | None = None) -> Path:
        """A verified WAV of ``text`` in this voice's profile (from the cache when possible)."""
        return self.audio(text, lang).path

    def audio(self, text: str, lang: str | None = None, *, rate_scale: float = 1.0) -> Audio:
        """``text`` as checked audio. ``rate_scale`` speeds the profile's rate up (the lobby
        announcer says queued-up calls at 1.2×); 0.5–2.0."""
        text = clean_text(text)
        voice = self._voice_name(lang or self.lang)
        if not 0.5 <= rate_scale <= 2.0:
            raise VoiceInputError(f"rate_scale must be within 0.5..2.0, not {rate_scale!r}")
        rate, volume = round(self.profile.rate * rate_scale), self.profile.volume
        key = PhraseCache.key(text, voice, rate, volume)
        with self._memory_lock:
            audio = self._memory.get(key)
            if audio is not None:
                self._memory.move_to_end(key)
                return audio
        audio = self._from_disk(key, text, rate)
        if audio is None:
            temp = self.cache.temp_path(key)
            try:
                audio = self.synthesizer.synthesize_to(
                    text, temp, voice=voice, rate=rate, volume=volume
                )
                audio = replace(audio, path=self.cache.commit(key, temp))
            finally:
                temp.unlink(missing_ok=True)
        with self._memory_lock:
            self._memory[key] = audio
            while len(self._memory) > self._memory_items:
                self._memory.popitem(last=False)
        return audio

    def _from_disk(self, key: str, text: str, rate: int) -> Audio | None:
        path = self.cache.lookup(key)
        if path is None:
            return None
        try:
            audio = read_wav(path, text)
            check_speech(audio, rate)
        except VoiceError:
            self.cache.discard(key)  # damaged on disk: synthesise it again, never play it
            return None
        return audio

    def warm(self, phrases: Iterable[str] | None = None, lang: str | None = None) -> int:
        """Synthesise ``phrases`` into the cache (default: every fixed ``prompt_*`` of the
        catalogue), so the first use starts at once. Returns how many; raises on a failure,
        because a kiosk that cannot speak its prompts must say so at start-up."""
        lang = lang or self.lang
        if phrases is None:
            entries = catalogue("voice")
            phrases = [
                entry.get(lang) or entry["zh"]
                for key, entry in entries.items()
                if key.startswith("prompt_")
            ]
        count = 0
        for phrase in phrases:
            self.audio(phrase, lang)
            count += 1
        return count

    @staticmethod
    def _voice_name(lang: str) -> str:
        try:
            return VOICES[lang]
        except KeyError:
            raise VoiceInputError(
                f"no voice for language {lang!r}; known: {sorted(VOICES)}", code="voice.bad_lang"
            ) from None

    # --- playback -------------------------------------------------------------------------

    def say(self, text: str, priority: Priority = "prompt", lang: str | None = None) -> Utterance:
        """Queue ``text`` for the speaker under the rules in the module docstring."""
        said_at = time.perf_counter()
        if priority not in PRIORITIES:
            raise VoiceInputError(
                f"priority must be one of {PRIORITIES}, not {priority!r}", code="voice.bad_priority"
            )
        audio = self.audio(text, lang)
        utterance = Utterance(audio, priority, said_at)
        with self._cond:
            if self._closed:
                raise VoiceError("voice is closed", code="voice.closed")
            current = self._current
            if priority == "prompt":
                if self._pending_prompt is not None:
                    self._pending_prompt._finish(Status.DROPPED)
                self._pending_prompt = utterance
            else:
                self._calls.append(utterance)
            if current is not None and current.priority == "prompt":
                current._cancel.set()
            self._ensure_worker()
            self._cond.notify_all()
        return utterance

    def idle(self, timeout: float | None = None) -> bool:
        """Wait until nothing is playing or queued; False on timeout."""
        with self._cond:
            return self._cond.wait_for(self._is_idle, timeout)

    def stop(self) -> None:
        """Silence now: interrupt what plays, drop what waits (calls included)."""
        with self._cond:
            self._drop_waiting()
            if self._current is not None:
                self._current._cancel.set()
            self._cond.notify_all()

    def close(self, timeout: float = 5.0) -> None:
        with self._cond:
            self._closed = True
            self._drop_waiting()
            if self._current is not None:
                self._current._cancel.set()
            self._cond.notify_all()
            worker = self._worker
        if worker is not None:
            worker.join(timeout)
        self.synthesizer.close()

    def __enter__(self) -> Voice:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _is_idle(self) -> bool:
        return self._current is None and not self._calls and self._pending_prompt is None

    def _drop_waiting(self) -> None:
        for utterance in self._calls:
            utterance._finish(Status.DROPPED)
        self._calls.clear()
        if self._pending_prompt is not None:
            self._pending_prompt._finish(Status.DROPPED)
            self._pending_prompt = None

    def _ensure_worker(self) -> None:
        if self._worker is None or not self._worker.is_alive():
            self._worker = threading.Thread(target=self._run, name="voice-player", daemon=True)
            self._worker.start()

    def _next(self) -> Utterance | None:
        with self._cond:
            self._cond.wait_for(lambda: self._closed or not self._is_idle())
            if self._calls:
                utterance = self._calls.popleft()
            elif self._pending_prompt is not None:
                utterance, self._pending_prompt = self._pending_prompt, None
            else:
                return None  # closed
            self._current = utterance
            utterance.status = Status.PLAYING
            return utterance

    def _run(self) -> None:
        while (utterance := self._next()) is not None:
            utterance.handed_at = time.perf_counter()
            status = Status.DONE
            try:
                utterance.played_s = self.player.play(utterance.audio, utterance._cancel)
            except VoiceError as err:
                utterance.error = err
                status = Status.FAILED
            except Exception as err:  # a plug-in player's bug must not kill the speaker thread
                utterance.error = VoiceError(
                    f"{self.player.name} failed: {err!r}", code="voice.play_failed"
                )
                status = Status.FAILED
            cut_short = utterance.played_s < utterance.audio.duration_s - 0.001
            if status is Status.DONE and utterance._cancel.is_set() and cut_short:
                status = Status.INTERRUPTED
            with self._cond:
                if utterance.error is not None:
                    self.last_error = utterance.error
                self._current = None
                utterance._finish(status)
                self._cond.notify_all()

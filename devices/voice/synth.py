"""Speech synthesis to verified WAV files: pyttsx3 over espeak-ng, then espeak-ng itself.

Output format: RIFF WAV, PCM 16-bit signed, mono, 22,050 Hz (espeak-ng's native rate).

Why two backends and a check on every file (measured on Debian 12, pyttsx3 2.99):
- pyttsx3's ``save_to_file`` sometimes writes an empty 44-byte WAV, and prints
  "Audio saved to …" on stdout;
- pyttsx3 queues ``setProperty`` and its loop applies (or drops) queued commands late:
  measured, a phrase came out at the previous phrase's rate or voice. Properties are set on
  the espeak driver directly, synchronised, and read back (voice and rate) around each phrase;
- ``espeak-ng -v NAME`` with an unknown NAME picks a nearby voice and exits 0 (Chinese read
  in English), so the subprocess backend checks the name against ``espeak-ng --voices``;
- ``espeak-ng -w FILE`` in a subprocess is the reliable fallback.
A file that fails the check is never handed on: the caller gets ``voice.synth_failed``.
"""

from __future__ import annotations

import ctypes
import re
import subprocess
import sys
import threading
import wave
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

import numpy as np

from devices.voice.errors import VoiceError, VoiceInputError

# espeak-ng voice names per language. "cmn" reads Chinese as pinyin-with-tone-digits in
# English on Debian 12; "cmn-latn-pinyin" speaks Mandarin (and reads capital letters by name).
VOICES: dict[str, str] = {"zh": "cmn-latn-pinyin", "en": "en-us"}
BACKENDS = ("pyttsx3", "espeak-ng")

SAMPLE_WIDTH = 2
MAX_TEXT_CHARS = 300
_PYTTSX3_TIMEOUT_S = 5.0
_SUBPROCESS_TIMEOUT_S = 10.0
# One spoken unit (a Chinese syllable, a Latin word or letter, a digit) lasts about
# 52/rate seconds with espeak-ng (0.30 s at its default 175). A file far outside that is not
# the sentence we asked for (truncated, empty, or stuck).
_UNIT_S_AT_RATE_1 = 52.0
_SPOKEN_UNIT = re.compile(r"[\u3400-\u9fff]|[A-Za-z]+|[0-9]")
# Speech must be audible: a peak above ~-24 dBFS and sound in at least a fifth of the
# 20 ms windows (pauses between words are fine; a file of near-silence is not).
_MIN_PEAK = 2000
_ACTIVE_RMS = 300.0
_MIN_ACTIVE_SHARE = 0.2


@dataclass(frozen=True)
class Audio:
    """A checked WAV: its file and its PCM frames (16-bit mono), ready for a player."""

    path: Path
    text: str
    framerate: int
    frames: bytes

    @property
    def nframes(self) -> int:
        return len(self.frames) // SAMPLE_WIDTH

    @property
    def duration_s(self) -> float:
        return self.nframes / self.framerate


def clean_text(text: str) -> str:
    """The text to synthesise, or ``voice.bad_text`` when there is nothing sayable."""
    if not isinstance(text, str):
        raise VoiceInputError(
            f"text must be a string, not {type(text).__name__}", code="voice.bad_text"
        )
    cleaned = " ".join("".join(" " if not ch.isprintable() else ch for ch in text).split())
    if not cleaned:
        raise VoiceInputError("nothing to say: empty text", code="voice.bad_text")
    if len(cleaned) > MAX_TEXT_CHARS:
        raise VoiceInputError(
            f"text too long to speak ({len(cleaned)} > {MAX_TEXT_CHARS} characters)",
            code="voice.bad_text",
        )
    if spoken_units(cleaned) == 0:
        raise VoiceInputError(f"no speakable words in {cleaned!r}", code="voice.bad_text")
    return cleaned


def spoken_units(text: str) -> int:
    return len(_SPOKEN_UNIT.findall(text))


def read_wav(path: Path, text: str = "") -> Audio:
    """Open a WAV and return its frames; ``voice.bad_audio`` if it is not 16-bit mono PCM."""
    try:
        with wave.open(str(path), "rb") as w:
            if w.getsampwidth() != SAMPLE_WIDTH or w.getnchannels() != 1:
                raise VoiceError(
                    f"{path.name}: expected 16-bit mono, got {w.getsampwidth() * 8}-bit "
                    f"{w.getnchannels()}-channel",
                    code="voice.bad_audio",
                )
            return Audio(Path(path), text, w.getframerate(), w.readframes(w.getnframes()))
    except (OSError, EOFError, wave.Error) as err:
        raise VoiceError(
            f"{Path(path).name}: unreadable WAV ({err})", code="voice.bad_audio"
        ) from err


def check_speech(audio: Audio, rate: int) -> None:
    """Raise ``voice.bad_audio`` unless the audio is plausibly the whole text, spoken."""
    if audio.nframes == 0:
        raise VoiceError(f"{audio.path.name}: WAV has no frames", code="voice.bad_audio")
    units = max(spoken_units(audio.text), 1)
    unit_s = _UNIT_S_AT_RATE_1 / rate
    low, high = 0.25 * unit_s * units, 3.0 * unit_s * units + 1.5
    if not low <= audio.duration_s <= high:
        raise VoiceError(
            f"{audio.path.name}: {audio.duration_s:.2f} s is implausible for {units} spoken "
            f"units at rate {rate} (expected {low:.2f}..{high:.2f} s)",
            code="voice.bad_audio",
        )
    samples = np.frombuffer(audio.frames, dtype="<i2").astype(np.float64)
    peak = float(np.max(np.abs(samples)))
    window = max(audio.framerate // 50, 1)
    usable = samples[: len(samples) // window * window].reshape(-1, window)
    active = (
        float(np.mean(np.sqrt(np.mean(usable**2, axis=1)) > _ACTIVE_RMS)) if len(usable) else 0.0
    )
    if peak < _MIN_PEAK or active < _MIN_ACTIVE_SHARE:
        raise VoiceError(
            f"{audio.path.name}: near-silent audio (peak {peak:.0f}, {active:.0%} active)",
            code="voice.bad_audio",
        )


class _DropPyttsx3Chatter:
    """A stdout stand-in that swallows pyttsx3's "Audio saved to …" line and passes
    everything else through (other threads may print while we synthesise)."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self._skip_newline = False

    def write(self, s: str) -> int:
        if s.startswith("Audio saved to "):
            self._skip_newline = True
            return len(s)
        if self._skip_newline and s == "\n":
            self._skip_newline = False
            return len(s)
        self._skip_newline = False
        return self._stream.write(s)

    def flush(self) -> None:
        self._stream.flush()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


class Synthesizer:
    """Text → verified WAV file. Thread-safe; one synthesis at a time (espeak-ng's library
    state is process-global).

    ``backends`` is tried in order; the next one is used when a backend fails or writes a file
    that does not pass :func:`check_speech`. ``last_backend`` and ``failures`` tell a
    technician (and the tests) what happened."""

    def __init__(
        self, *, backends: tuple[str, ...] = BACKENDS, espeak_command: str = "espeak-ng"
    ) -> None:
        unknown = set(backends) - set(BACKENDS)
        if not backends or unknown:
            raise VoiceInputError(f"backends must be among {BACKENDS}, got {backends!r}")
        self.backends = backends
        self.espeak_command = espeak_command
        self.last_backend: str | None = None
        self.failures: list[str] = []
        self._lock = threading.Lock()
        self._engine: Any = None
        self._pyttsx3_disabled: str | None = None
        self._voices: frozenset[str] | None = None
        # pyttsx3's run loop has no timeout; it runs on its own thread so a hang costs one
        # backend, not the caller.
        self._executor: ThreadPoolExecutor | None = None

    def synthesize_to(
        self, text: str, dest: Path, *, voice: str, rate: int, volume: float
    ) -> Audio:
        """Write ``text`` spoken by espeak-ng ``voice`` to ``dest``; return the checked audio."""
        text = clean_text(text)
        errors: list[str] = []
        with self._lock:
            for backend in self.backends:
                try:
                    if dest.exists():
                        dest.unlink()
                    if backend == "pyttsx3":
                        self._run_pyttsx3(text, dest, voice, rate, volume)
                    else:
                        self._run_espeak(text, dest, voice, rate, volume)
                    audio = read_wav(dest, text)
                    check_speech(audio, rate)
                except VoiceError as err:
                    errors.append(f"{backend}: {err.args[0]}")
                    continue
                self.last_backend = backend
                self.failures.extend(errors)
                return audio
            self.failures.extend(errors)
        dest.unlink(missing_ok=True)  # a bad file must not be mistaken for speech later
        raise VoiceError(
            f"could not synthesise {text[:40]!r}: " + "; ".join(errors), code="voice.synth_failed"
        )

    def close(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)
            self._executor = None

    # --- pyttsx3 --------------------------------------------------------------------------

    def _run_pyttsx3(self, text: str, dest: Path, voice: str, rate: int, volume: float) -> None:
        if self._pyttsx3_disabled:
            raise VoiceError(
                f"pyttsx3 disabled: {self._pyttsx3_disabled}", code="voice.synth_failed"
            )
        if self._executor is None:
            self._executor = ThreadPoolExecutor(1, thread_name_prefix="pyttsx3")
        future = self._executor.submit(self._pyttsx3_job, text, dest, voice, rate, volume)
        try:
            future.result(timeout=_PYTTSX3_TIMEOUT_S)
        except FutureTimeout as err:
            self._pyttsx3_disabled = f"hung for more than {_PYTTSX3_TIMEOUT_S} s"
            self._executor = None  # abandon the stuck thread; later calls use espeak-ng
            raise VoiceError(
                f"pyttsx3 {self._pyttsx3_disabled}", code="voice.synth_failed"
            ) from err
        except VoiceError:
            raise
        except Exception as err:  # pyttsx3/ctypes raise anything; the next backend decides
            raise VoiceError(f"pyttsx3 failed: {err!r}", code="voice.synth_failed") from err

    def _pyttsx3_job(self, text: str, dest: Path, voice: str, rate: int, volume: float) -> None:
        if self._engine is None:
            import pyttsx3  # here, so a broken pyttsx3 costs one backend, not the import

            self._engine = pyttsx3.init("espeak")
        engine = self._engine
        # pyttsx3 queues setProperty and applies it lazily (measured: a phrase came out at the
        # previous phrase's rate), and its loop drops queued commands; so set the espeak
        # driver directly. espeak (asynchronous in pyttsx3's mode) queues rate and volume;
        # Synchronize() waits until they are applied, so the read-back below is the truth.
        from pyttsx3.drivers import _espeak

        driver = engine.proxy._driver
        driver.setProperty("voice", voice)
        driver.setProperty("rate", rate)
        driver.setProperty("volume", volume)
        _espeak.Synchronize()
        self._check_engine(engine, voice, rate)
        real_stdout = sys.stdout
        sys.stdout = _DropPyttsx3Chatter(real_stdout)
        try:
            engine.save_to_file(text, str(dest))
            engine.runAndWait()
            # espeak's synthesis callback (which prints) can still fire while we wait for
            # it here, so stdout is restored only afterwards.
            _espeak.Synchronize()
        finally:
            sys.stdout = real_stdout
        self._check_engine(engine, voice, rate)

    @staticmethod
    def _check_engine(engine: Any, voice: str, rate: int) -> None:
        from pyttsx3.drivers import _espeak

        # pyttsx3 declares espeak_GetParameter without its ``current`` argument, so its
        # getProperty("rate") returns whatever that garbage register selects; ask properly.
        get_parameter = _espeak.dll.espeak_GetParameter
        get_parameter.argtypes = (ctypes.c_int, ctypes.c_int)
        get_parameter.restype = ctypes.c_int
        selected = str(engine.getProperty("voice") or "")
        actual_rate = get_parameter(_espeak.RATE, 1)
        if selected.rsplit("/", 1)[-1].lower() != voice.lower() or actual_rate != rate:
            raise VoiceError(
                f"pyttsx3 has voice {selected!r} at rate {actual_rate}, not {voice!r} at {rate}",
                code="voice.synth_failed",
            )

    # --- espeak-ng subprocess -------------------------------------------------------------

    def _espeak_voices(self) -> frozenset[str]:
        """Names ``-v`` accepts exactly: the language column and the file id, lower-cased."""
        if self._voices is None:
            try:
                out = subprocess.run(
                    [self.espeak_command, "--voices"], capture_output=True, text=True,
                    timeout=_SUBPROCESS_TIMEOUT_S, check=True,
                ).stdout  # fmt: skip
            except (OSError, subprocess.SubprocessError) as err:
                raise VoiceError(
                    f"espeak-ng did not run: {err}", code="voice.synth_failed"
                ) from err
            names: set[str] = set()
            for line in out.splitlines()[1:]:
                fields = line.split()
                if len(fields) >= 5:
                    names.update((fields[1].lower(), fields[4].lower()))
            self._voices = frozenset(names)
        return self._voices

    def _run_espeak(self, text: str, dest: Path, voice: str, rate: int, volume: float) -> None:
        # espeak-ng -v with an unknown name falls back to a nearby voice and exits 0
        # (measured: "cmn-nonexistent" read Chinese as English pinyin): check the name first.
        if voice.lower() not in self._espeak_voices():
            raise VoiceError(f"espeak-ng has no voice {voice!r}", code="voice.synth_failed")
        # Text on stdin, never argv: a phrase starting with "-" must not become an option.
        cmd = [
            self.espeak_command, "-v", voice, "-s", str(rate), "-a", str(round(volume * 100)),
            "-b", "1", "-w", str(dest), "--stdin",
        ]  # fmt: skip
        try:
            proc = subprocess.run(
                cmd, input=text.encode("utf-8"), capture_output=True,
                timeout=_SUBPROCESS_TIMEOUT_S, check=False,
            )  # fmt: skip
        except (OSError, subprocess.TimeoutExpired) as err:
            raise VoiceError(f"espeak-ng did not run: {err}", code="voice.synth_failed") from err
        if proc.returncode != 0:
            stderr = proc.stderr.decode("utf-8", "replace").strip()
            raise VoiceError(
                f"espeak-ng exit {proc.returncode}: {stderr}", code="voice.synth_failed"
            )

"""The lobby announcer: every ``ticket.called`` / ``ticket.recalled`` becomes chime, then the
call sentence ``repeat`` times in Chinese (and in English when configured).

Why it keeps its own queue instead of ``Voice.say``: an announcement is several clips (chime,
sentences, pauses) that must stay together, and a recall of a ticket whose announcement is
still waiting must merge into it, which a plain FIFO of utterances cannot do. ``Voice``
still does the synthesis and its phrase cache; playback goes to the same ``Player``
interface, from one worker thread, so two clips never overlap.

Guarantees (tested on the recording player, with real WAV audio):
- announcements play in arrival order, none dropped, none overlapping;
- a recall (or a second call) of a ticket still queued updates that entry, never doubles it;
- an event id seen before (a replay after reconnect) is ignored;
- in silent hours a call is recorded as ``silenced`` and not spoken;
- a speaker or synthesis failure fails that announcement only; the next ones still play.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Protocol
from zoneinfo import ZoneInfo

import numpy as np

from devices.voice.errors import VoiceInputError
from devices.voice.normalize import call_sentence
from devices.voice.player import Player
from devices.voice.synth import Audio, read_wav
from signage.config import SilentHours

QUEUED, PLAYING, DONE, SILENCED, FAILED, DROPPED = (
    "queued",
    "playing",
    "done",
    "silenced",
    "failed",
    "dropped",
)


class Synth(Protocol):
    def audio(self, text: str, lang: str | None = None) -> Audio: ...


@dataclass
class Announcement:
    ticket_id: int
    number: str
    counter_name: str
    counter_name_en: str
    recall: bool
    event_id: int
    queued_at: float = field(default_factory=time.perf_counter)
    started_at: float | None = None  # first chime sample handed to the player
    finished_at: float | None = None
    status: str = QUEUED
    merged: int = 0  # later calls/recalls of the same ticket folded into this one
    error: str | None = None
    texts: tuple[str, ...] = ()
    done: threading.Event = field(default_factory=threading.Event, repr=False)

    @property
    def latency_s(self) -> float | None:
        return None if self.started_at is None else self.started_at - self.queued_at


class Announcer:
    def __init__(
        self,
        synth: Synth,
        player: Player,
        chime: Path,
        *,
        repeat: int = 2,
        english: bool = False,
        volume: float = 1.0,
        silent_hours: Iterable[SilentHours] = (),
        timezone: str = "Asia/Shanghai",
        clock: Callable[[], float] = time.time,
        gap_s: float = 0.5,
        letters: Mapping[str, str] | None = None,
    ) -> None:
        self.synth, self.player = synth, player
        self.repeat, self.english, self.volume = repeat, english, volume
        self.silent_hours = tuple(silent_hours)
        self.tz = ZoneInfo(timezone)
        self.clock = clock
        self.letters = dict(letters or {})
        self.chime = self._gain(read_wav(chime, "[chime]"))
        self.gap = Audio(
            Path("[gap]"),
            "[gap]",
            self.chime.framerate,
            bytes(2 * int(self.chime.framerate * gap_s)),
        )
        self.history: list[Announcement] = []
        self.last_error: str | None = None
        self._queue: deque[Announcement] = deque()
        self._current: Announcement | None = None
        self._last_event_id = 0
        self._cond = threading.Condition()
        self._closed = False
        self._cancel = threading.Event()
        # Synthesis runs beside playback: the chime starts at once, the sentences are ready
        # when it ends (10–25 ms each on a cache miss).
        self._prep = ThreadPoolExecutor(1, thread_name_prefix="announcer-synth")
        self._prepared: dict[int, Future[list[Audio]]] = {}
        self._worker = threading.Thread(target=self._run, name="announcer", daemon=True)
        self._worker.start()

    # --- input --------------------------------------------------------------------------

    def on_event(self, event_id: int, event_type: str, data: Any) -> Announcement | None:
        """Feed every hall event; the calls are announced, the rest ignored. Thread-safe."""
        if event_type not in ("ticket.called", "ticket.recalled"):
            return None
        try:
            tk = data["ticket"]
            ticket_id, number, counter = tk["id"], tk["number"], tk["counter"]
            if not (isinstance(ticket_id, int) and isinstance(number, str) and counter):
                raise TypeError("ticket id, number and counter are required")
            name = str(tk.get("counter_name") or counter)
            name_en = str(tk.get("counter_name_en") or counter)
        except (KeyError, TypeError) as err:
            self.last_error = f"event {event_id}: malformed call ({err!r})"
            return None
        return self.announce(
            Announcement(
                ticket_id, number, name, name_en, event_type == "ticket.recalled", event_id
            )
        )

    def announce(self, item: Announcement) -> Announcement:
        with self._cond:
            if self._closed:
                item.status = DROPPED
                item.done.set()
                return item
            if item.event_id and item.event_id <= self._last_event_id:
                return item  # a replay: already handled
            self._last_event_id = max(self._last_event_id, item.event_id)
            for queued in self._queue:
                if queued.ticket_id == item.ticket_id:
                    # Still waiting: one announcement, with the latest counter.
                    queued.merged += 1
                    queued.counter_name, queued.counter_name_en = (
                        item.counter_name,
                        item.counter_name_en,
                    )
                    queued.recall = queued.recall and item.recall
                    self._prepared[id(queued)] = self._prep.submit(self._prepare, queued)
                    return queued
            self.history.append(item)
            try:
                # Pure and fast: a number that cannot be spoken fails here, before a chime
                # would ring for a sentence that never comes.
                item.texts = tuple(text for _, text in self.sentences(item))
            except (VoiceInputError, ValueError) as err:
                item.status, item.error = FAILED, f"{type(err).__name__}: {err}"
                self.last_error = item.error
                item.done.set()
                return item
            if self._silent():
                item.status = SILENCED
                item.finished_at = time.perf_counter()
                item.done.set()
                return item
            self._prepared[id(item)] = self._prep.submit(self._prepare, item)
            self._queue.append(item)
            self._cond.notify_all()
            return item

    # --- control ------------------------------------------------------------------------

    def pending(self) -> int:
        with self._cond:
            return len(self._queue) + (self._current is not None)

    def idle(self, timeout: float | None = None) -> bool:
        with self._cond:
            return self._cond.wait_for(lambda: not self._queue and self._current is None, timeout)

    def close(self, timeout: float = 5.0) -> None:
        with self._cond:
            self._closed = True
            for item in self._queue:
                item.status = DROPPED
                item.done.set()
            self._queue.clear()
            self._cancel.set()
            self._cond.notify_all()
        self._worker.join(timeout)
        self._prep.shutdown(wait=False, cancel_futures=True)

    # --- internals ----------------------------------------------------------------------

    def _silent(self) -> bool:
        if not self.silent_hours:
            return False
        now = dt.datetime.fromtimestamp(self.clock(), self.tz).time()
        return any(s.contains(now) for s in self.silent_hours)

    def sentences(self, item: Announcement) -> list[tuple[str, str]]:
        """(lang, text) in speaking order."""
        out: list[tuple[str, str]] = []
        langs = ("zh", "en") if self.english else ("zh",)
        for lang in langs:
            counter = item.counter_name if lang == "zh" else item.counter_name_en
            text = call_sentence(item.number, counter, lang, self.letters, recall=item.recall)
            out += [(lang, text)] * self.repeat
        return out

    def _prepare(self, item: Announcement) -> list[Audio]:
        pairs = self.sentences(item)
        item.texts = tuple(text for _, text in pairs)
        return [self._gain(self.synth.audio(text, lang)) for lang, text in pairs]

    def _gain(self, audio: Audio) -> Audio:
        if self.volume >= 0.999:
            return audio
        samples = np.frombuffer(audio.frames, dtype="<i2").astype(np.float32) * self.volume
        return replace(audio, frames=samples.astype("<i2").tobytes())

    def _next(self) -> Announcement | None:
        with self._cond:
            self._cond.wait_for(lambda: self._closed or bool(self._queue))
            if self._closed:
                return None
            item = self._queue.popleft()
            self._current = item
            item.status = PLAYING
            return item

    def _run(self) -> None:
        while (item := self._next()) is not None:
            future = self._prepared.pop(id(item))
            try:
                item.started_at = time.perf_counter()
                self.player.play(self.chime, self._cancel)
                clips = future.result(timeout=30)
                for clip in clips:
                    if self._cancel.is_set():
                        break
                    self.player.play(self.gap, self._cancel)
                    self.player.play(clip, self._cancel)
                item.status = DONE
            except Exception as err:  # one bad announcement must not silence the hall
                item.status, item.error = FAILED, f"{type(err).__name__}: {err}"
                self.last_error = item.error
            with self._cond:
                item.finished_at = time.perf_counter()
                self._current = None
                item.done.set()
                self._cond.notify_all()

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
- a speaker or synthesis failure fails that announcement only; the next ones still play;
- no call waits long to be heard when calls queue up (the opening minute, 22 counters
  calling at once): as soon as playing everything in full would make a queued call wait more
  than ``max_delay_s / 2``, the announcement playing stops after its first Chinese sentence
  (no repeat, no English), and the queued calls are said ``brief``: once, number and counter
  only ("A 零 零 一，三号窗口"), at ``hurry_rate`` × the voice's rate, with no chime between
  calls that follow each other. ``bench/signage_latency.py --opening`` measures the worst
  delay (call made → its own sentence starts) against ``max_delay_s`` (30 s).
"""

from __future__ import annotations

import contextlib
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
from devices.voice.normalize import brief_call_sentence, call_sentence
from devices.voice.player import Player
from devices.voice.synth import Audio, read_wav
from signage.board_state import english_counter_name
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
    def audio(self, text: str, lang: str | None = None, *, rate_scale: float = 1.0) -> Audio: ...


# Until clips have been measured: seconds of one call sentence (chime excluded).
_SENTENCE_S_GUESS = 4.5
# A brief call that follows the previous clip within this many seconds gets no chime: the
# speaker is already talking, and a chime per call would cost 1.7 s each in a backlog.
_RUN_S = 1.0


@dataclass
class Announcement:
    ticket_id: int
    number: str
    counter_name: str
    counter_name_en: str
    recall: bool
    event_id: int
    queued_at: float = field(default_factory=time.perf_counter)
    started_at: float | None = None  # first sample (chime, or the sentence) handed on
    voiced_at: float | None = None  # first sample of its own sentence handed to the player
    finished_at: float | None = None
    status: str = QUEUED
    merged: int = 0  # later calls/recalls of the same ticket folded into this one
    error: str | None = None
    texts: tuple[str, ...] = ()
    brief: bool = False  # said once, short (calls had queued up); ``texts`` is what was said
    cut: bool = False  # its repeats / English were skipped because calls had queued up
    done: threading.Event = field(default_factory=threading.Event, repr=False)

    @property
    def latency_s(self) -> float | None:
        return None if self.started_at is None else self.started_at - self.queued_at

    @property
    def voice_delay_s(self) -> float | None:
        """From the call reaching the announcer to its own sentence starting."""
        return None if self.voiced_at is None else self.voiced_at - self.queued_at


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
        max_delay_s: float = 30.0,
        hurry_rate: float = 1.2,
        monotonic: Callable[[], float] = time.perf_counter,
    ) -> None:
        """``monotonic``: the announcer's seconds (``queued_at``, ``voiced_at``…), compared
        with audio durations; a test or bench playing audio at N× passes N × perf_counter."""
        self.synth, self.player = synth, player
        self.repeat, self.english, self.volume = repeat, english, volume
        self.max_delay_s, self.hurry_rate = max_delay_s, hurry_rate
        self.monotonic = monotonic
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
        self._last_end = float("-inf")  # when the speaker last finished a clip
        self._sentence_s = _SENTENCE_S_GUESS
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
            name_en = english_counter_name(
                str(tk.get("counter_name") or ""), tk.get("counter_name_en"), str(counter)
            )
        except (KeyError, TypeError) as err:
            self.last_error = f"event {event_id}: malformed call ({err!r})"
            return None
        recall = event_type == "ticket.recalled"
        return self.announce(
            Announcement(
                ticket_id, number, name, name_en, recall, event_id, queued_at=self.monotonic()
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
                    with contextlib.suppress(VoiceInputError, ValueError):
                        queued.texts = tuple(text for _, text in self.sentences(queued))
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
                item.finished_at = self.monotonic()
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

    def brief_sentence(self, item: Announcement) -> str:
        """What a queued-up call is said as: once, Chinese, number and counter only."""
        return brief_call_sentence(item.number, item.counter_name, "zh", self.letters)

    def _prepare(self, item: Announcement) -> list[Audio]:
        return [self._gain(self.synth.audio(text, lang)) for lang, text in self.sentences(item)]

    def _prepare_brief(self, item: Announcement) -> Audio:
        text = self.brief_sentence(item)
        item.texts = (text,)
        return self._gain(self.synth.audio(text, "zh", rate_scale=self.hurry_rate))

    def _gain(self, audio: Audio) -> Audio:
        if self.volume >= 0.999:
            return audio
        samples = np.frombuffer(audio.frames, dtype="<i2").astype(np.float32) * self.volume
        return replace(audio, frames=samples.astype("<i2").tobytes())

    # --- keeping the queue short (called with ``_cond`` held) -----------------------------

    def _full_s(self, item: Announcement) -> float:
        """How long ``item`` takes in full: measured once its clips are ready, else guessed."""
        future = self._prepared.get(id(item))
        clips = len(item.texts) or self.repeat * (2 if self.english else 1)
        if (
            future is not None
            and future.done()
            and not future.cancelled()
            and not future.exception()
        ):
            audio = future.result()
            return self.chime.duration_s + sum(self.gap.duration_s + a.duration_s for a in audio)
        return self.chime.duration_s + clips * (self.gap.duration_s + self._sentence_s)

    def _late(self, now: float, busy_s: float) -> bool:
        """Would a queued call wait more than half of ``max_delay_s`` for its sentence if
        the speaker, busy for ``busy_s`` more, then played everything queued in full?
        Half: calls still to come wait behind the queued ones."""
        at = now + busy_s
        for queued in self._queue:
            if at + self.chime.duration_s + self.gap.duration_s - queued.queued_at > (
                self.max_delay_s / 2
            ):
                return True
            at += self._full_s(queued)
        return False

    def _next(self) -> tuple[Announcement, bool] | None:
        with self._cond:
            self._cond.wait_for(lambda: self._closed or bool(self._queue))
            if self._closed:
                return None
            item = self._queue.popleft()
            now = self.monotonic()
            waited = now - item.queued_at
            brief = (
                self._late(now, self._full_s(item))
                or (waited > self.max_delay_s / 2 and bool(self._queue))
                # its chime would take it past the limit
                or waited + self.chime.duration_s + self.gap.duration_s > self.max_delay_s
            )
            self._current = item
            item.status = PLAYING
            item.brief = brief
            return item, brief

    def _keep_going(self, left_s: float) -> bool:
        """After the first sentence of a full announcement: play the rest (``left_s``)?"""
        with self._cond:
            return not self._late(self.monotonic(), left_s)

    def _play(self, audio: Audio) -> None:
        self.player.play(audio, self._cancel)
        self._last_end = self.monotonic()

    def _run(self) -> None:
        while (picked := self._next()) is not None:
            item, brief = picked
            with self._cond:
                future = self._prepared.pop(id(item))
            try:
                if brief:
                    self._run_brief(item, future)
                else:
                    self._run_full(item, future)
                item.status = DONE
            except Exception as err:  # one bad announcement must not silence the hall
                item.status, item.error = FAILED, f"{type(err).__name__}: {err}"
                self.last_error = item.error
            with self._cond:
                item.finished_at = self.monotonic()
                self._current = None
                item.done.set()
                self._cond.notify_all()

    def _run_full(self, item: Announcement, future: Future[list[Audio]]) -> None:
        item.started_at = self.monotonic()
        self._play(self.chime)
        clips = future.result(timeout=30)
        self._sentence_s = sum(c.duration_s for c in clips) / max(1, len(clips))
        for i, clip in enumerate(clips):
            if self._cancel.is_set():
                break
            left = sum(self.gap.duration_s + c.duration_s for c in clips[i:])
            if i and not self._keep_going(left):
                item.cut = True
                item.texts = item.texts[:i]
                break
            self._play(self.gap)
            if i == 0:
                item.voiced_at = self.monotonic()
            self._play(clip)

    def _run_brief(self, item: Announcement, future: Future[list[Audio]]) -> None:
        future.cancel()  # the full clips are not needed (a running synthesis just finishes)
        clip = self._prepare_brief(item)
        item.started_at = self.monotonic()
        if item.started_at - self._last_end > _RUN_S:
            self._play(self.chime)  # the first of a run: call attention to it
            self._play(self.gap)
        item.voiced_at = self.monotonic()
        self._play(clip)

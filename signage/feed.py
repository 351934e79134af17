"""Follows the hall for the signage box, off the UI thread and without Kivy: snapshot from
``GET /board``, then the event stream (``HallClient.follow`` reconnects with backoff and
resumes from the last id), reduced into a ``BoardState`` and handed to listeners (the
screen, which re-posts to the Kivy thread), the announcer and the LED strips.

A hall that is down at start is retried, not fatal: the board shows "connecting" until
the first snapshot arrives. Listener errors are caught and counted, so a bug in one
display cannot stop the others from following the hall.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any, Protocol

from hall.client import HallClient, HallClientError, SseEvent
from signage.board_state import BadEvent, BoardState, apply, from_snapshot, set_connected
from signage.config import SignageConfig

log = logging.getLogger("govhall.signage")


class EventSink(Protocol):
    def on_event(self, event_id: int, event_type: str, data: Any) -> object: ...


class BoardFeed:
    def __init__(
        self,
        client: HallClient,
        config: SignageConfig,
        *,
        sinks: tuple[EventSink, ...] = (),
        clock: Callable[[], float] = time.time,
        max_backoff_s: float = 10.0,
    ) -> None:
        self.client, self.config, self.sinks = client, config, sinks
        self.clock = clock
        self.max_backoff_s = max_backoff_s
        self.state: BoardState | None = None
        self.listener_errors = 0
        self._listeners: list[Callable[[BoardState], None]] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def listen(self, fn: Callable[[BoardState], None]) -> None:
        self._listeners.append(fn)
        if self.state is not None:
            self._publish(self.state)

    def start(self) -> BoardFeed:
        self._thread = threading.Thread(target=self._run, name="signage-feed", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    # --- the loop -----------------------------------------------------------------------

    def _run(self) -> None:
        state = self._first_snapshot()
        if state is None:
            return
        for ev in self.client.follow(
            state.last_event_id,
            stop=self._stop,
            max_backoff_s=self.max_backoff_s,
            on_state=self._on_connection,
        ):
            self.handle(ev)

    def _first_snapshot(self) -> BoardState | None:
        backoff = 0.5
        while not self._stop.is_set():
            try:
                board = self.client.board()
                state = from_snapshot(
                    board.model_dump(mode="json"),  # board_state reads the wire's dicts
                    now=self.clock(),
                    recent=self.config.recent_calls,
                    show_names=self.config.show_masked_names,
                    flash_s=self.config.flash_s,
                )
            except (HallClientError, BadEvent) as err:
                log.warning("board snapshot failed, retrying in %.1f s: %s", backoff, err)
                self._stop.wait(backoff)
                backoff = min(self.max_backoff_s, backoff * 2)
                continue
            self._set(state)
            return state
        return None

    def handle(self, ev: SseEvent) -> None:
        """One event: state first (the screen), then the sinks (speaker, LED strips)."""
        with self._lock:
            if self.state is None:
                return
            new = apply(self.state, ev.id, ev.type, ev.data, now=self.clock())
            if new is self.state:
                return  # a replay
            if new.rejected > self.state.rejected:
                log.warning("event %d (%s) rejected as malformed", ev.id, ev.type)
            self.state = new
        self._publish(new)
        for sink in self.sinks:
            try:
                sink.on_event(ev.id, ev.type, ev.data)
            except Exception:  # a broken display must not stop the others
                self.listener_errors += 1
                log.exception("signage sink %r failed on event %d", sink, ev.id)

    def _on_connection(self, connected: bool) -> None:
        with self._lock:
            if self.state is None:
                return
            new = set_connected(self.state, connected)
            if new is self.state:
                return
            self.state = new
        self._publish(new)

    def _set(self, state: BoardState) -> None:
        with self._lock:
            self.state = state
        self._publish(state)

    def _publish(self, state: BoardState) -> None:
        for fn in list(self._listeners):
            try:
                fn(state)
            except Exception:
                self.listener_errors += 1
                log.exception("board listener failed")

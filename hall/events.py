"""Event fan-out for the SSE stream.

Events are written to the ``events`` table in the same transaction as the state change
(so they are durable and ``Last-Event-ID`` resumes across restarts) and, after the
commit, handed to this bus, which copies them to every live subscriber's queue on the
server's event loop. A ring buffer of recent events lets a reconnecting subscriber catch
up without a database query in the common case.
"""

from __future__ import annotations

import asyncio
import collections
import json
import threading
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Event:
    id: int
    type: str
    data: dict[str, Any]
    payload: str = ""
    """``data`` as compact JSON, exactly as stored in the events table (computed here when
    the caller does not have it); the SSE stream sends it unchanged."""

    def __post_init__(self) -> None:
        if not self.payload:
            payload = json.dumps(self.data, ensure_ascii=False, separators=(",", ":"))
            object.__setattr__(self, "payload", payload)


class Subscription:
    def __init__(self, bus: EventBus, maxsize: int) -> None:
        self.bus = bus
        self.queue: asyncio.Queue[Event] = asyncio.Queue(maxsize)
        self.overflowed = False

    def _put(self, event: Event) -> None:
        if self.overflowed:
            return
        try:
            self.queue.put_nowait(event)
        except asyncio.QueueFull:
            # A subscriber this far behind is cut off; it reconnects with Last-Event-ID
            # and catches up from the database, so nothing is lost.
            self.overflowed = True

    @property
    def cut_off(self) -> bool:
        """Overflowed and drained: its stream ends here (the client resumes from there)."""
        return self.overflowed and self.queue.empty()

    def close(self) -> None:
        self.bus._unsubscribe(self)


class EventBus:
    def __init__(self, recent: int = 2000, queue_size: int = 5000) -> None:
        self._lock = threading.Lock()
        self._subs: list[Subscription] = []
        self._recent: collections.deque[Event] = collections.deque(maxlen=recent)
        self._queue_size = queue_size
        self.loop: asyncio.AbstractEventLoop | None = None
        self.last_id = 0

    def bind(self, loop: asyncio.AbstractEventLoop, last_id: int) -> None:
        self.loop = loop
        self.last_id = max(self.last_id, last_id)

    def subscribe(self) -> Subscription:
        sub = Subscription(self, self._queue_size)
        with self._lock:
            self._subs.append(sub)
        return sub

    def _unsubscribe(self, sub: Subscription) -> None:
        with self._lock:
            if sub in self._subs:
                self._subs.remove(sub)

    @property
    def subscriber_count(self) -> int:
        return len(self._subs)

    def recent_after(self, last_id: int) -> list[Event] | None:
        """Events after ``last_id`` from memory, or None if the buffer no longer reaches back."""
        with self._lock:
            if not self._recent:
                return [] if last_id >= self.last_id else None
            if self._recent[0].id > last_id + 1:
                return None
            return [e for e in self._recent if e.id > last_id]

    def publish(self, events: list[Event]) -> None:
        """Called after commit, from any thread."""
        if not events:
            return
        with self._lock:
            self._recent.extend(events)
            self.last_id = max(self.last_id, events[-1].id)
            subs = list(self._subs)
        loop = self.loop
        if loop is None or loop.is_closed() or not subs:
            return

        def deliver() -> None:
            for sub in subs:
                for e in events:
                    sub._put(e)

        try:
            if _running_loop() is loop:
                deliver()
            else:
                loop.call_soon_threadsafe(deliver)
        except RuntimeError:  # loop shut down between the check and the call
            pass


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None

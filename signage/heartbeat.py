"""The signage box's heartbeat: every few seconds ``POST /devices/heartbeat`` with the state
of its parts, so the manager's dashboard lists the lobby board and the counter screens
beside the kiosks, and shows one that went silent as 失联 (offline) after
``[policy].device_silent_s``.

Which device it speaks as: the ``device`` of its display ``[[token]]`` in the hall config
(the same file on every machine), e.g. ``"lobby-1"``; the hall refuses any other. A token
bound to ``"*"`` (or not in this box's file) speaks as ``lobby``, or ``screen-<counter>`` for
a counter screen. Give each box its own display token (``GOVHALL_SIGNAGE_TOKEN``) with its
own ``device``, or two boxes share one line on the dashboard.

Parts (states as the hall's API has them: ok, warning, error, offline, absent):

- ``board`` (lobby) or ``screen`` (counter screen): ok while the board follows the hall's
  event stream; warning while it has no snapshot yet or is reconnecting (what it shows is
  stale);
- ``speaker`` (lobby): the announcer; error if it could not start or its last
  announcement failed (the player or the voice), absent when announcing is off;
- ``led``: the RS-485 strips; error while writes to a strip fail, absent when none are
  configured.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from typing import Any

from hall.client import HallApiError, HallClient, HallClientError
from hall.config import HallConfig
from signage.feed import BoardFeed

log = logging.getLogger("govhall.signage")
FAILED = "failed"  # signage.announcer's status of a failed announcement
FINISHED = ("done", FAILED)


def device_id(hall: HallConfig, token: str, counter: str | None = None) -> str:
    """The device this box speaks as (see the module's docstring)."""
    bound = hall.role_of(token)
    if bound is not None and bound.device and bound.device != "*":
        return bound.device
    return f"screen-{counter}" if counter else "lobby"


def interval_s(hall: HallConfig) -> float:
    """A third of the silence after which the hall calls a device offline: a lost beat or
    two is not an outage. At least 2 s, at most 30 s."""
    return max(2.0, min(30.0, hall.policy.device_silent_s / 3))


def speaker_state(announcer: Any) -> str:
    """ok, or error when the last announcement that ended failed."""
    history = list(getattr(announcer, "history", ()))
    for item in reversed(history):
        status = getattr(item, "status", None)
        if status in FINISHED:
            return "error" if status == FAILED else "ok"
    return "ok"


class PartStates:
    """The parts of one signage process, read when a beat is sent (any thread)."""

    def __init__(
        self,
        feed: BoardFeed,
        sinks: Sequence[object],
        *,
        counter: str | None = None,
        speaker_wanted: bool = False,
    ) -> None:
        self.feed, self.counter, self.speaker_wanted = feed, counter, speaker_wanted
        self.announcer = next((s for s in sinks if hasattr(s, "history")), None)
        self.leds = next((s for s in sinks if hasattr(s, "failures")), None)
        self._led_failures = 0

    def __call__(self) -> dict[str, str]:
        state = self.feed.state
        shown = "ok" if state is not None and state.connected else "warning"
        parts = {"screen" if self.counter else "board": shown}
        if not self.counter:
            if self.announcer is not None:
                parts["speaker"] = speaker_state(self.announcer)
            else:
                parts["speaker"] = "error" if self.speaker_wanted else "absent"
        if self.leds is None:
            parts["led"] = "absent"
        else:
            failures = int(getattr(self.leds, "failures", 0))
            parts["led"] = "error" if failures > self._led_failures else "ok"
            self._led_failures = failures
        return parts


class Heartbeat:
    """Sends ``parts()`` as ``device`` every ``interval_s`` on its own thread until
    stopped. A hall that is down is retried at the next beat; a refusal (a token that may
    not speak for this device) is logged once and ends the beats."""

    def __init__(
        self,
        client: HallClient,
        device: str,
        parts: Callable[[], dict[str, str]],
        interval_s: float,
    ) -> None:
        self.client, self.device, self.parts, self.interval_s = client, device, parts, interval_s
        self.sent = 0
        self.last_error: str | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def beat(self) -> bool:
        """One heartbeat; False when it did not reach the hall (or was refused)."""
        try:
            self.client.heartbeat(self.device, self.parts())
        except HallApiError as err:
            if err.status in (401, 403):
                log.error("heartbeat as %s refused, no more beats: %s", self.device, err)
                self._stop.set()
            self.last_error = str(err)
            return False
        except HallClientError as err:
            if self.last_error is None:
                log.warning("heartbeat as %s did not reach the hall: %s", self.device, err)
            self.last_error = str(err)
            return False
        self.sent += 1
        self.last_error = None
        return True

    def start(self) -> Heartbeat:
        self._thread = threading.Thread(target=self._run, name="signage-heartbeat", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float = 2.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.beat()
            except Exception:  # a bug in reading a part must not end the beats
                log.exception("heartbeat failed")
            self._stop.wait(self.interval_s)

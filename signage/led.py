"""The RS-485 LED strips over the counters as an event sink of the board feed.

Serial I/O runs on its own thread so a slow or dead strip never delays the board or the
announcer. What a strip should show is kept per address; a failed write leaves it pending
and it is sent again (newest text wins), so after a cable fault every strip catches up.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from common.i18n import t
from devices.led.codec import Color, Mode
from devices.led.driver import LedBus
from devices.led.errors import LedError

log = logging.getLogger("govhall.signage.led")
RETRY_S = 2.0


class LedStrips:
    def __init__(
        self,
        port: str,
        addresses: dict[str, int],
        *,
        baud: int = 9600,
        encoding: str = "gb2312",
        bus: LedBus | None = None,
    ) -> None:
        self.addresses = dict(addresses)
        self.bus = bus or LedBus(port, baud, encoding=encoding)
        self.last_error: str | None = None
        self.failures = 0
        self._pending: dict[int, tuple[str, Mode, Color]] = {}
        self._failed_at: dict[int, float] = {}
        self._cond = threading.Condition()
        self._closed = False
        self._thread = threading.Thread(target=self._run, name="led-strips", daemon=True)
        self._thread.start()

    def on_event(self, event_id: int, event_type: str, data: Any) -> None:
        if not isinstance(data, dict):
            return
        if event_type in ("ticket.called", "ticket.recalled"):
            ticket = data.get("ticket") or {}
            counter, number = ticket.get("counter"), ticket.get("number")
            if isinstance(number, str):
                self._want(
                    counter, t("signage", "led_call", "zh", number=number), Mode.FLASH, Color.RED
                )
        elif event_type == "counter.paused":
            self._want(
                data.get("counter"), t("signage", "led_paused", "zh"), Mode.STATIC, Color.YELLOW
            )
        elif event_type in ("counter.resumed", "counter.opened"):
            self._want(
                data.get("counter"), t("signage", "led_idle", "zh"), Mode.STATIC, Color.GREEN
            )
        elif event_type == "counter.closed":
            self._want(data.get("counter"), "", Mode.STATIC, Color.RED)

    def _want(self, counter: Any, text: str, mode: Mode, color: Color) -> None:
        address = self.addresses.get(counter) if isinstance(counter, str) else None
        if address is None:
            return  # a counter without a strip
        with self._cond:
            self._pending[address] = (text, mode, color)
            self._cond.notify_all()

    def idle(self, timeout: float = 5.0) -> bool:
        with self._cond:
            return self._cond.wait_for(lambda: not self._pending, timeout)

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        self._thread.join(2)
        self.bus.close()

    def _pick(self) -> tuple[int, tuple[str, Mode, Color]] | None:
        """A pending strip not failed in the last RETRY_S: a dead strip waits its turn
        and never blocks the others."""
        now = time.monotonic()
        for address, want in self._pending.items():
            if now - self._failed_at.get(address, -RETRY_S) >= RETRY_S:
                return address, want
        return None

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._closed and (item := self._pick()) is None:
                    self._cond.wait(0.1 if self._pending else None)
                if self._closed:
                    return
                assert item is not None  # the wait above ends only when closed or with an item
                address, (text, mode, color) = item
            try:
                if text:
                    self.bus.show(address, text, mode, color, errors="replace")
                else:
                    self.bus.clear(address)
            except LedError as err:
                self.failures += 1
                self.last_error = str(err)
                self._failed_at[address] = time.monotonic()
                log.warning("LED strip %d: %s", address, err)
                continue
            with self._cond:
                self._failed_at.pop(address, None)
                if self._pending.get(address) == (text, mode, color):
                    del self._pending[address]  # unless a newer text came meanwhile
                self._cond.notify_all()

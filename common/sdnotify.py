"""A tiny sd_notify client: tells systemd "ready" and "still alive" (watchdog).

The protocol is one datagram of ``KEY=VALUE`` lines to the AF_UNIX socket named in
``$NOTIFY_SOCKET`` (a leading ``@`` means the abstract namespace). systemd sets
``$WATCHDOG_USEC`` when the unit has ``WatchdogSec=``; if no ``WATCHDOG=1`` arrives within
that time it kills and restarts the service, so the pings must come from the loop whose
progress proves the process works (the hall's asyncio loop, the apps' Kivy clock) — never
from a side thread that would keep pinging for a frozen UI.

Outside systemd (no ``$NOTIFY_SOCKET``) every call does nothing and returns False.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from collections.abc import Callable
from typing import Any

log = logging.getLogger("common.sdnotify")


def notify(state: str) -> bool:
    """Send ``state`` (e.g. ``"READY=1"``); True if a socket took it."""
    path = os.environ.get("NOTIFY_SOCKET")
    if not path:
        return False
    address = "\0" + path[1:] if path.startswith("@") else path
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
            sock.connect(address)
            sock.sendall(state.encode())
    except OSError as err:  # systemd gone or socket unreadable: never take the service down
        log.debug("sd_notify %s failed: %s", state, err)
        return False
    return True


def ready(status: str = "") -> bool:
    return notify("READY=1" + (f"\nSTATUS={status}" if status else ""))


def ping() -> bool:
    return notify("WATCHDOG=1")


def stopping() -> bool:
    return notify("STOPPING=1")


def watchdog_interval() -> float | None:
    """Seconds between pings (half the watchdog timeout), or None without a watchdog."""
    usec = os.environ.get("WATCHDOG_USEC", "")
    pid = os.environ.get("WATCHDOG_PID", "")
    if not usec.isdigit() or int(usec) == 0:
        return None
    if pid and pid != str(os.getpid()):
        return None  # meant for another process (e.g. a wrapper that started us)
    return int(usec) / 2e6


# -- the hall server: asyncio ------------------------------------------------------------------


async def serve(server: Any, probe: Callable[[], object] | None = None) -> None:
    """Run a ``uvicorn.Server``; READY=1 once it listens, then WATCHDOG=1 from this event
    loop each interval — only after ``probe`` (run in a thread, e.g. a database query)
    answers in time, so a server whose loop or database hangs is restarted."""
    task = asyncio.create_task(server.serve())
    interval = watchdog_interval()
    try:
        while not server.started:
            if task.done():
                await task  # failed to start: raise its error
                return
            await asyncio.sleep(0.05)
        ready("serving")
        loop = asyncio.get_running_loop()
        next_ping = loop.time()
        while not task.done() and not server.should_exit:
            if interval is not None and loop.time() >= next_ping:
                next_ping = loop.time() + interval
                try:
                    if probe is not None:
                        await asyncio.wait_for(asyncio.to_thread(probe), timeout=interval)
                    ping()
                except Exception as err:  # no ping: systemd restarts us if it lasts
                    log.warning("watchdog probe failed: %s", type(err).__name__)
            # short steps: STOPPING=1 goes out as soon as a stop signal is seen (uvicorn
            # re-raises SIGTERM after its graceful shutdown, so a finally may never run)
            await asyncio.wait([task], timeout=min(interval or 0.5, 0.5))
    finally:
        stopping()
        if not task.done():
            server.should_exit = True
            with contextlib.suppress(asyncio.CancelledError):
                await task
    await task


# -- the kiosk and the signage: Kivy ---------------------------------------------------------


def kivy_started(clock: Any) -> None:
    """Call from ``App.on_start`` with ``kivy.clock.Clock``: READY=1 now, WATCHDOG=1 from
    the Kivy clock, which stops ticking when the UI thread is stuck."""
    ready("window up")
    interval = watchdog_interval()
    if interval is not None:
        clock.schedule_interval(lambda _dt: ping(), interval)

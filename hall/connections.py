"""Connection limits of the hall server (``[server]`` max_connections, keep_alive_s,
request_timeout_s), given to uvicorn by ``hall/__main__.py``.

uvicorn closes an idle keep-alive connection only once a response has been sent on it:
a connection that never sends a request, or sends its headers a byte at a time
(slowloris), stays open for ever, and counts against ``limit_concurrency`` until every
new request is answered 503. ``protocol_with_deadline`` gives uvicorn's httptools
protocol a deadline on reading each request: the whole request (line, headers, body)
must arrive within ``request_timeout_s`` of the connection's opening or of the request's
first byte, else the connection is closed. Once a request has arrived its response is
not limited, so event streams run on."""

from __future__ import annotations

import asyncio
import logging
import resource
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

log = logging.getLogger(__name__)
SPARE_FILES = 256
"""Open files the server needs besides its connections (database, logs, the listener)."""


class DeadlineProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol; a request not read whole in time closes the
    connection. Made per config by ``protocol_with_deadline``."""

    request_timeout_s: float = 10.0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._deadline: asyncio.TimerHandle | None = None
        super().__init__(*args, **kwargs)

    def _arm(self) -> None:
        if self._deadline is None:
            self._deadline = self.loop.call_later(self.request_timeout_s, self._expired)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _expired(self) -> None:
        self._deadline = None
        if not self.transport.is_closing():
            client = "{}:{}".format(*self.client) if self.client else "?"
            log.debug("%s sent no whole request in %.1f s: closed", client, self.request_timeout_s)
            self.transport.close()

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()  # a connection that never sends anything

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        # Bytes between requests that begin none (llhttp skips blank lines) also cancel
        # uvicorn's keep-alive timer: they must not keep the connection open either.
        if self.cycle is None or self.cycle.response_complete:
            self._arm()

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._arm()

    def on_message_complete(self) -> None:
        super().on_message_complete()
        self._disarm()

    def handle_websocket_upgrade(self) -> None:
        self._disarm()  # the connection is the WebSocket protocol's from here on
        super().handle_websocket_upgrade()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)


def protocol_with_deadline(request_timeout_s: float) -> type[DeadlineProtocol]:
    """The protocol class for ``uvicorn.Config(http=...)`` with this request deadline."""
    return type(
        "DeadlineProtocol", (DeadlineProtocol,), {"request_timeout_s": float(request_timeout_s)}
    )


def raise_open_files_limit(max_connections: int) -> int:
    """Raise the soft limit of open files (1024 under systemd) towards the hard one, so
    ``max_connections`` is reached before the process runs out of file descriptors (then
    the database could not open a file either). Returns the soft limit now in force."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = max(2 * max_connections + SPARE_FILES, 4096)  # idle ones past the limit too
    if hard != resource.RLIM_INFINITY:
        wanted = min(wanted, hard)
    if soft != resource.RLIM_INFINITY and soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
        soft = wanted
    if soft != resource.RLIM_INFINITY and soft < max_connections + SPARE_FILES:
        log.warning(
            "open files limited to %d (LimitNOFILE): fewer than [server] max_connections "
            "(%d) + %d; raise the limit or lower max_connections",
            soft,
            max_connections,
            SPARE_FILES,
        )
    return soft

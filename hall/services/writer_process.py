"""The hall's writer in a process of its own (``govhall hall``, ``[server] writer = "process"``).

Why: one process has one GIL. Under issue 2's load the event loop (HTTP, FastAPI, SSE)
and the writer thread each needed a third to a half of a core, and every SQLite call the
writer made let go of the GIL and then waited for the loop to hand it back: its queue
grew in bursts, and tickets waited 100-500 ms for seconds at a time. Here the front
(uvicorn, routes, reads, SSE) and the writer (every state change, group commit) each
have a GIL, and a core, of their own.

Both are the same program: the writer is forked once start-up is done (config, engine,
compiled statements shared copy-on-write), before any thread exists. Only the writer
writes and publishes; the front reads (SQLite in WAL mode and PostgreSQL let both).

Wire: a Unix socket pair; each message is a 4-byte big-endian length, an 8-byte request
key and a pickle::

    front -> writer   key, (fn, args, kwargs)     fn: a module-level callable; the front's
                                                  HallContext travels as ``CTX`` and is the
                                                  writer's own on arrival
    writer -> front   0, ("committed", events, all_estimates, services)
                                                  after each commit, before its answers
                      0, ("answers", [(key, ok, value), ...])

The writer dies with the front (``PR_SET_PDEATHSIG``) and ends when its socket closes,
after committing and answering what it has; if the writer dies the front stops with
exit status 1 (systemd starts both again), and what was waiting for it is answered 503.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import ctypes
import functools
import itertools
import logging
import os
import pickle
import select
import signal
import socket
import struct
import threading
import time
from collections.abc import Callable
from typing import Any

from hall.errors import HallError
from hall.services.core import STOP, HallContext, settle

log = logging.getLogger("hall.writer")

_HEAD = struct.Struct(">IQ")  # length of what follows the length, request key
_PR_SET_PDEATHSIG = 1


class WriterUnavailable(HallError):
    status = 503
    code = "writer_unavailable"


class _Ctx:
    """Stands for the hall context in a job: each process has its own."""

    def __reduce__(self) -> str:
        return "CTX"


CTX = _Ctx()


def _swap(
    args: tuple[Any, ...], kwargs: dict[str, Any], old: object, new: object
) -> tuple[tuple[Any, ...], dict[str, Any]]:
    """A job's arguments with the context in one process's form put in the other's."""
    return (
        tuple(new if a is old else a for a in args),
        {k: new if v is old else v for k, v in kwargs.items()},
    )


def alive(ctx: HallContext) -> bool:
    """A job that only proves the writer answers (the systemd watchdog's probe)."""
    return True


def _frame(key: int, message: Any) -> bytes:
    body = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    return _HEAD.pack(len(body) + 8, key) + body


def _frames(buf: bytearray) -> list[tuple[int, bytes]]:
    """Whole messages at the start of ``buf``, removed from it; a partial one stays."""
    out = []
    pos = 0
    while len(buf) - pos >= _HEAD.size:
        length, key = _HEAD.unpack_from(buf, pos)
        end = pos + 4 + length
        if end > len(buf):
            break
        out.append((key, bytes(buf[pos + _HEAD.size : end])))
        pos = end
    if pos:
        del buf[:pos]
    return out


# -- the front's side ------------------------------------------------------------------


class WriterLink(asyncio.Protocol):
    """The front's end of the socket: sends jobs, settles their futures as answers come,
    publishes committed events on the front's bus."""

    def __init__(self, ctx: HallContext, sock: socket.socket, pid: int) -> None:
        self.ctx, self.sock, self.pid = ctx, sock, pid
        self.loop: asyncio.AbstractEventLoop | None = None
        self.transport: asyncio.Transport | None = None
        self.failed = False
        """The writer went away while the front was serving."""
        self.on_lost: Callable[[], None] | None = None
        self._pending: dict[int, asyncio.Future[Any] | concurrent.futures.Future[Any]] = {}
        self._keys = itertools.count(1)
        self._buf = bytearray()
        self._closing = False
        self._loop_thread: int | None = None

    async def open(self) -> None:
        """Attach the socket to the running loop (the server's lifespan)."""
        self.loop = asyncio.get_running_loop()
        self._loop_thread = threading.get_ident()
        await self.loop.create_unix_connection(lambda: self, sock=self.sock)

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self._buf += data
        for _, body in _frames(self._buf):
            message = pickle.loads(body)
            if message[0] == "answers":
                for key, ok, value in message[1]:
                    future = self._pending.pop(key, None)
                    if future is not None:
                        settle(future, ok, value)
            else:  # "committed": events first, so subscribers have them before answers
                _, events, every, services = message
                try:
                    self.ctx.forget_estimates(every, services)
                    self.ctx.bus.publish(events)
                except Exception:  # a subscriber's trouble must not cut the writer off
                    log.exception("publishing committed events failed")

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None
        pending, self._pending = self._pending, {}
        for future in pending.values():
            settle(future, False, _unavailable())
        if not self._closing:
            self.failed = True
            log.error("the writer process (pid %d) went away; the hall server stops", self.pid)
            if self.on_lost is not None:
                self.on_lost()

    def _check(self) -> None:
        if self.transport is None or self.transport.is_closing():
            raise _unavailable()

    async def submit(
        self, fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> Any:
        """Run ``fn(*args, **kwargs)`` in the writer; from the loop thread."""
        self._check()
        key = next(self._keys)
        data = _frame(key, self._job(fn, args, kwargs))
        assert self.loop is not None
        future = self.loop.create_future()
        self._put(key, future, data)
        return await future

    def call(self, fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        """Run ``fn(*args, **kwargs)`` in the writer and wait; from a thread other than the
        loop's (the loop sends and receives for it)."""
        loop = self.loop
        if loop is None:
            raise _unavailable()
        if self._loop_thread == threading.get_ident():
            raise RuntimeError("WriterLink.call would block the loop that answers it")
        key = next(self._keys)  # itertools.count is atomic under the GIL
        data = _frame(key, self._job(fn, args, kwargs))
        future: concurrent.futures.Future[Any] = concurrent.futures.Future()
        try:
            loop.call_soon_threadsafe(self._send, key, future, data)
        except RuntimeError as err:  # the loop has closed: the server is stopping
            raise _unavailable() from err
        return future.result()

    def _send(self, key: int, future: concurrent.futures.Future[Any], data: bytes) -> None:
        """``call``'s half on the loop thread."""
        try:
            self._put(key, future, data)
        except WriterUnavailable as err:
            future.set_exception(err)

    def _put(
        self, key: int, future: asyncio.Future[Any] | concurrent.futures.Future[Any], data: bytes
    ) -> None:
        self._check()
        assert self.transport is not None
        self._pending[key] = future
        self.transport.write(data)

    def _job(
        self, fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> tuple[Any, ...]:
        return (fn, *_swap(args, kwargs, self.ctx, CTX))

    def close(self, timeout: float = 10.0) -> None:
        """End the writer: EOF on its socket, it commits and answers what it has and exits;
        wait for that (then SIGKILL)."""
        self._closing = True
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_WR)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                pid, _ = os.waitpid(self.pid, os.WNOHANG)
            except ChildProcessError:
                break
            if pid:
                break
            time.sleep(0.01)
        else:
            log.error("the writer process did not stop in %.0f s; killing it", timeout)
            os.kill(self.pid, signal.SIGKILL)
            os.waitpid(self.pid, 0)
        if self.transport is not None:
            self.transport.close()
        else:
            self.sock.close()


def _unavailable() -> WriterUnavailable:
    return WriterUnavailable(
        "the hall server is restarting its writer; please try again", code="writer_unavailable"
    )


# -- the writer's side -----------------------------------------------------------------


def start(ctx: HallContext) -> WriterLink:
    """Fork the writer; the calling process becomes the front (``ctx.writer_link``)."""
    if threading.active_count() > 1:  # a forked copy would hold their locks forever
        raise RuntimeError("the writer process must be forked before any thread starts")
    # No database connection may cross the fork: SQLite keeps per-process lock state that a
    # child would inherit wrongly, and each process opens its own from here on.
    ctx.engine.dispose()
    front, back = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    parent = os.getpid()
    pid = os.fork()
    if pid == 0:  # the writer
        code = 1
        try:
            front.close()
            _writer_main(ctx, back, parent)
            code = 0
        except BaseException:
            log.exception("the writer process failed")
        finally:
            logging.shutdown()
            os._exit(code)
    back.close()
    link = WriterLink(ctx, front, pid)
    ctx.writer_link = link
    return link


def _writer_main(ctx: HallContext, sock: socket.socket, parent: int) -> None:
    # Stopping is the front's to decide: systemd's SIGTERM to the whole unit and a
    # terminal's Ctrl-C reach this process too, and it must finish its batch first.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent:  # the front died before prctl took effect
        return
    jobs = _Jobs(ctx, sock)
    ctx.on_commit = jobs.committed
    ctx.run_jobs(jobs.next_job, jobs.more)


class _Jobs:
    """Jobs from the socket for ``HallContext.run_jobs``, on the writer's one thread (no
    second thread to share its GIL with), and the answers back."""

    def __init__(self, ctx: HallContext, sock: socket.socket) -> None:
        self.ctx, self.sock = ctx, sock
        self.poll = select.poll()
        self.poll.register(sock, select.POLLIN)
        self.buf = bytearray()
        self.ready: list[tuple[int, bytes]] = []
        self.eof = False

    def _read(self) -> None:
        data = self.sock.recv(1 << 18)
        if not data:
            self.eof = True
            return
        self.buf += data
        self.ready.extend(_frames(self.buf))

    def next_job(self) -> Any:
        while not self.ready:
            if self.eof:
                return STOP
            self._read()
        key, body = self.ready.pop(0)
        try:
            fn, args, kwargs = pickle.loads(body)
        except Exception as err:
            log.exception("a job from the front could not be read")
            value = RuntimeError(f"the writer could not read the request: {type(err).__name__}")
            return (functools.partial(_raise, value), self.answer, key)
        args, kwargs = _swap(args, kwargs, CTX, self.ctx)
        return (functools.partial(fn, *args, **kwargs), self.answer, key)

    def more(self) -> bool:
        """Another job has arrived (or is arriving): the batch may stay open for it."""
        if self.ready or self.buf:
            return True
        if self.eof or not self.poll.poll(0):
            return False
        self._read()
        return bool(self.ready or self.buf)

    def committed(self, events: list[Any], every: bool, services: set[str]) -> None:
        self._send(_frame(0, ("committed", events, every, services)))

    def answer(self, items: list[tuple[Any, bool, Any]]) -> None:
        try:
            data = _frame(0, ("answers", items))
        except Exception:  # an outcome that does not pickle: send what can be sent
            data = _frame(0, ("answers", [(k, ok, _picklable(v)) for k, ok, v in items]))
        self._send(data)

    def _send(self, data: bytes) -> None:
        try:
            self.sock.sendall(data)
        except OSError:  # the front is gone; what is committed stays committed
            self.eof = True


def _picklable(value: Any) -> Any:
    try:
        pickle.dumps(value)
    except Exception:
        err = value if isinstance(value, BaseException) else None
        log.error("an outcome could not be sent to the front", exc_info=err)
        return RuntimeError(f"the writer's outcome could not be sent: {type(value).__name__}")
    return value


def _raise(err: BaseException) -> Any:
    raise err

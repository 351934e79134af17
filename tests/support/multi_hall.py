"""Many halls in one server process, for test modules that would otherwise start a
``govhall hall`` per test (3–5 s each): ``/h/<hall_id>/…`` is the hall ``<hall_id>``, the
real app of ``hall.app.create_app`` built from ``<folder>/<hall_id>.toml`` on its first
request, served by uvicorn on loopback. Every hall keeps its rows in the one database,
apart by ``hall_id`` as the halls of a city share one PostgreSQL; so each test gets a hall
of its own (fresh numbers, queues and limits) from a server the module starts once.

    server = start_multi_hall(tmp)        # one server per module (server.close() at the end)
    hall = server.new_hall("t1")          # a config of its own; hall.url ends in /h/t1
    hall.stop(); hall.start()             # the whole server: "the hall is down" (refused)

The server is forked from a launcher that imported the hall once, so a restart is quick:
    python -m tests.support.multi_hall FOLDER PORT DATABASE    (commands on stdin, see main)
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

from tests.support.hall_server import ROOT, write_config

_HALL_PATH = re.compile(r"^/h/([A-Za-z0-9_-]+)(/.*)?$")
_SAMPLE_ID = 'id = "xc-district"'

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]


class Halls:
    """The ASGI app of the server process: routes ``/h/<id>`` to that hall's own app, like a
    Starlette ``Mount`` (``root_path`` gets the prefix), and runs each hall's lifespan."""

    def __init__(self, folder: Path, database: str) -> None:
        self.folder, self.database = folder, database
        self.apps: dict[str, Any] = {}
        self.lifespans = contextlib.AsyncExitStack()
        self._lock: asyncio.Lock | None = None

    async def _hall(self, hall_id: str) -> Any | None:
        if hall_id in self.apps:
            return self.apps[hall_id]
        self._lock = self._lock or asyncio.Lock()
        async with self._lock:
            if hall_id not in self.apps:
                path = self.folder / f"{hall_id}.toml"
                if not path.is_file():
                    return None
                from hall.app import create_app
                from hall.config import load_config

                app = create_app(load_config(path), database=self.database)
                await self.lifespans.enter_async_context(app.router.lifespan_context(app))
                self.apps[hall_id] = app
        return self.apps[hall_id]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await self.lifespans.aclose()
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        path = scope["path"]
        if path == "/healthz":  # the server itself is up (each hall has its own /healthz)
            await _json(send, 200, {"status": "ok", "halls": sorted(self.apps)})
            return
        m = _HALL_PATH.match(path)
        app = await self._hall(m[1]) if m else None
        if app is None:
            await _json(send, 404, {"error": "no_such_hall", "message": path})
            return
        root = scope.get("root_path", "") + f"/h/{m[1]}"  # type: ignore[index]
        await app({**scope, "root_path": root}, receive, send)


async def _json(send: Send, status: int, body: object) -> None:
    data = json.dumps(body).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(data))]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": data})


def serve(folder: Path, port: int, database: str) -> int:
    """The server itself (in the launcher's forked child)."""
    import uvicorn

    config = uvicorn.Config(
        Halls(folder, database),
        host="127.0.0.1",
        port=port,
        log_level="warning",
        access_log=False,
        timeout_graceful_shutdown=3,
        lifespan="on",
    )
    server = uvicorn.Server(config)
    server.run()
    return 0 if server.started else 1


def main(argv: list[str]) -> int:
    """The launcher: imports the hall once, then on each ``start`` line read from stdin forks a
    server (its pid is the answer) and on ``stop`` ends it (SIGTERM, as a service stop), so a
    restart of "the hall" takes a fork instead of a new interpreter's 2–3 s of imports. A
    server is a process of its own: SIGSTOP freezes it, a stop closes its connections."""
    import uvicorn  # noqa: F401  (imported before any fork)

    import hall.app  # noqa: F401

    folder, port, database = argv
    child = 0

    def end_child() -> None:
        nonlocal child
        if child:
            with contextlib.suppress(ProcessLookupError):
                os.kill(child, signal.SIGCONT)  # a frozen process cannot handle SIGTERM
                os.kill(child, signal.SIGTERM)
            deadline = time.monotonic() + 10
            while os.waitpid(child, os.WNOHANG) == (0, 0):
                if time.monotonic() > deadline:
                    os.kill(child, signal.SIGKILL)
                    os.waitpid(child, 0)
                    break
                time.sleep(0.01)
            child = 0

    for line in sys.stdin:
        command = line.strip()
        if command == "start":
            end_child()
            child = os.fork()
            if child == 0:  # the server: its output goes to the log, not into the pipe
                os.dup2(2, 1)
                os.close(0)
                os._exit(serve(Path(folder), int(port), database))
            answer = str(child)
        elif command == "stop":
            end_child()
            answer = "stopped"
        elif command == "status":
            if child and os.waitpid(child, os.WNOHANG) != (0, 0):
                child = 0  # it ended by itself
            answer = str(child)
        else:
            answer = f"unknown command {command!r}"
        print(answer, flush=True)
    end_child()
    return 0


@dataclass
class Server:
    """The server process of a ``MultiHallServer``: what a test signals (``pid``)."""

    pid: int


@dataclass
class MultiHallServer:
    """The server (start, stop, SIGSTOP through ``proc.pid``) and the halls it serves."""

    folder: Path
    port: int
    database: str
    launcher: subprocess.Popen[str] | None = None
    proc: Server | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log(self) -> Path:
        return self.folder / "server.log"

    def _ask(self, command: str) -> str:
        if self.launcher is None or self.launcher.poll() is not None:
            self.launcher = subprocess.Popen(
                [
                    *(sys.executable, "-m", "tests.support.multi_hall"),
                    *(str(self.folder), str(self.port), self.database),
                ],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=self.log.open("ab"),
                text=True,
                env={**os.environ, "PYTHONUNBUFFERED": "1"},
                cwd=ROOT,
            )
        assert self.launcher.stdin is not None and self.launcher.stdout is not None
        self.launcher.stdin.write(command + "\n")
        self.launcher.stdin.flush()
        answer = self.launcher.stdout.readline().strip()
        if not answer:
            raise RuntimeError(f"hall launcher exited: {self.log.read_text()[-2000:]}")
        return answer

    def start(self, timeout: float = 20.0) -> MultiHallServer:
        self.proc = Server(int(self._ask("start")))
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.running():
                raise RuntimeError(f"hall server exited: {self.log.read_text()[-2000:]}")
            try:
                if requests.get(self.url + "/healthz", timeout=0.5).status_code == 200:
                    return self
            except requests.RequestException:  # not up yet
                pass
            time.sleep(0.02)
        raise RuntimeError("hall server did not start in time")

    def running(self) -> bool:
        return self.proc is not None and self._ask("status") == str(self.proc.pid)

    def ensure_running(self) -> None:
        """Up and answering, whatever the last test left (stopped, or frozen by SIGSTOP)."""
        if self.running():
            assert self.proc is not None
            os.kill(self.proc.pid, signal.SIGCONT)
        else:
            self.start()

    def stop(self) -> None:
        """The server ends (SIGTERM); the launcher stays, for the next start."""
        if self.proc is not None:
            self._ask("stop")
            self.proc = None

    def close(self) -> None:
        """Server and launcher end (the module is done)."""
        self.stop()
        if self.launcher is not None:
            assert self.launcher.stdin is not None
            self.launcher.stdin.close()
            try:
                self.launcher.wait(15)
            except subprocess.TimeoutExpired:
                self.launcher.kill()
                self.launcher.wait(5)

    def hall_for(self, prefix: str, test_name: str) -> Hall:
        """A test's own hall, named after it, on a running server (what the kiosk runtime
        tests' ``hall`` fixtures give each test)."""
        self.ensure_running()
        name = re.sub(r"[^A-Za-z0-9_-]", "-", test_name.removeprefix("test_"))
        return self.new_hall(f"{prefix}-{name[:40]}")

    def new_hall(self, hall_id: str, **config_kw: Any) -> Hall:
        """A hall of its own: the sample hall (tokens ``TOKENS``) with ``hall_id``."""
        assert re.fullmatch(r"[A-Za-z0-9_-]+", hall_id), hall_id
        path = self.folder / f"{hall_id}.toml"
        assert not path.exists(), f"hall {hall_id} exists already"
        write_config(path, self.port, **config_kw)
        text = path.read_text(encoding="utf-8")
        assert _SAMPLE_ID in text, f"the sample hall's id is no longer {_SAMPLE_ID}"
        path.write_text(text.replace(_SAMPLE_ID, f'id = "{hall_id}"', 1), encoding="utf-8")
        return Hall(self, hall_id, path).ready()


@dataclass
class Hall:
    """One hall of a ``MultiHallServer``; stopping or starting it is the whole server's."""

    server: MultiHallServer
    hall_id: str
    config: Path

    @property
    def url(self) -> str:
        return f"{self.server.url}/h/{self.hall_id}"

    @property
    def proc(self) -> subprocess.Popen[bytes] | None:
        return self.server.proc

    def ready(self) -> Hall:
        """Built and answering (a hall is built on its first request: done here, not in
        the middle of a test's request with a short timeout)."""
        r = requests.get(self.url + "/healthz", timeout=10)
        assert r.status_code == 200 and r.json()["hall"] == self.hall_id, r.text
        return self

    def stop(self) -> None:
        self.server.stop()

    def start(self) -> Hall:
        self.server.start()
        return self.ready()


def start_multi_hall(folder: Path, database: str | None = None) -> MultiHallServer:
    folder.mkdir(parents=True, exist_ok=True)
    from tests.support.hall_server import free_port

    return MultiHallServer(
        folder, free_port(), database or f"sqlite:///{folder / 'halls.db'}"
    ).start()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

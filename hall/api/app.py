"""The app factory: builds engine, migrations, service context and routes for one hall.

Nothing happens at import time; tests call ``create_app`` with their own database and
clock and get an isolated hall."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any

from fastapi import FastAPI
from fastapi.responses import JSONResponse
from sqlalchemy import text
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hall.api import errors, metrics, routes, sse
from hall.config import HallConfig
from hall.services import counters, retention
from hall.services.core import Clock, HallContext, utc_now
from hall.storage import migrate
from hall.storage.checkpoint import WalCheckpointer
from hall.storage.engine import make_engine
from hall.web import mount as mount_web

log = logging.getLogger("hall")


class BodyLimit:
    """Refuses request bodies over ``limit`` bytes with 413, whether or not the client
    sent Content-Length, before any of it is parsed."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app, self.limit = app, limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", []):
            if name == b"content-length" and value.isdigit() and int(value) > self.limit:
                await _too_large(scope, receive, send, self.limit)
                return
        seen = 0

        async def limited() -> Message:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.limit:
                raise _TooLarge
            return message

        try:
            await self.app(scope, limited, send)
        except _TooLarge:
            await _too_large(scope, receive, send, self.limit)


class _TooLarge(Exception):
    pass


async def _too_large(scope: Scope, receive: Receive, send: Send, limit: int) -> None:
    response = JSONResponse(
        {"error": "body_too_large", "message": f"request body over {limit} bytes"}, status_code=413
    )
    await response(scope, receive, send)


def create_app(
    config: HallConfig,
    *,
    database: str | None = None,
    clock: Clock = utc_now,
    sse_heartbeat_s: float = 15.0,
    run_migrations: bool = True,
) -> FastAPI:
    engine = make_engine(
        database or config.server.database, sqlite_synchronous=config.server.sqlite_synchronous
    )
    if run_migrations:
        migrate.upgrade(engine)
    ctx = HallContext(config, engine, clock)
    ctx.ensure_rows()
    counters.prepare(ctx)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        ctx.bus.bind(asyncio.get_running_loop(), ctx.last_event_id())
        if ctx.writer_link is not None:  # govhall hall forked one (writer_process)
            await ctx.writer_link.open()
        else:
            ctx.start_writer()
        checkpointer = WalCheckpointer(engine)
        checkpointer.start()
        task = asyncio.create_task(_housekeeping(ctx))
        try:
            yield
        finally:
            task.cancel()
            ctx.stop_writer()
            checkpointer.stop()
            engine.dispose()

    app = FastAPI(
        title=f"govhall — {config.name}",
        version="1",
        description="Hall API v1: queue, counters, events. See DESIGN.md.",
        lifespan=lifespan,
        # The hall exports Prometheus metrics at /metrics and no OpenTelemetry; FastAPI's
        # native telemetry otherwise asks three OpenTelemetry providers (and the process
        # environment) on every request to learn that none is configured.
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    app.state.ctx = ctx
    app.state.sse_heartbeat_s = sse_heartbeat_s
    errors.install(app)
    app.include_router(routes.router)
    app.include_router(sse.router)
    app.include_router(metrics.router)
    mount_web(app, ctx)  # staff and citizen pages (hall/web)

    @app.get("/healthz", summary="Liveness and database check")
    def healthz() -> dict[str, Any]:
        with ctx.read() as conn:
            conn.execute(text("SELECT 1"))
        return {
            "status": "ok",
            "hall": config.hall_id,
            "name": config.name,
            "last_event_id": ctx.bus.last_id,
        }

    app.add_middleware(BodyLimit, limit=config.server.max_body_bytes)
    return app


async def _housekeeping(ctx: HallContext) -> None:
    """Hourly purge of personal data past retention; the first one right at start."""
    while True:
        try:
            n = await ctx.submit(retention.purge, ctx)
            if n:
                log.info("retention: cleared personal data from %d rows", n)
        except Exception:  # the purge retries next hour; the server keeps serving
            log.exception("retention purge failed")
        await asyncio.sleep(3600)

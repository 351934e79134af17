"""The app factory: builds engine, migrations, service context and routes for one hall.

Nothing happens at import time; tests call ``create_app`` with their own database and
clock and get an isolated hall."""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import logging
import math
from collections.abc import AsyncIterator, Callable

from fastapi import FastAPI
from fastapi.responses import JSONResponse
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hall.api import booking, errors, metrics, ratings, routes, sse
from hall.api import guide as guide_api
from hall.config import HallConfig
from hall.errors import StorageUnavailable
from hall.schemas import Health
from hall.services import bookings, delivery, remote_tickets, retention, sms
from hall.services.context import Clock, HallContext, utc_now
from hall.storage import migrate
from hall.storage import tables as t
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
    remote_sweep_s: float = 60.0,
) -> FastAPI:
    engine = make_engine(
        database or config.server.database,
        sqlite_synchronous=config.server.sqlite_synchronous,
        timeout_s=config.server.storage_timeout_s,
    )
    if run_migrations:
        migrate.upgrade(engine)
    ctx = HallContext(config, engine, clock)
    ctx.ensure_rows()
    health = StorageHealth(ctx)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        ctx.bus.bind(asyncio.get_running_loop(), ctx.last_event_id())
        task = asyncio.create_task(_housekeeping(ctx))
        # 远程取号 not confirmed in time end by themselves, not only when a kiosk or counter
        # next looks at one: until then they stood as waiting on the boards and pages.
        sweep = (
            asyncio.create_task(_remote_sweep(ctx, remote_sweep_s))
            if config.remote.enabled
            else None
        )
        sender = delivery.Sender(ctx, config.province).start() if config.province.url else None
        app.state.sender = sender
        texts = sms.Delivery(ctx, config.sms).start() if config.sms.url else None  # issue 21
        try:
            yield
        finally:
            task.cancel()
            if sweep is not None:
                sweep.cancel()
            if sender is not None:
                await run_in_threadpool(sender.stop)
            if texts is not None:
                await run_in_threadpool(texts.stop)
            engine.dispose()

    app = FastAPI(
        title=f"govhall — {config.name}",
        version="1",
        description="Hall API v1: queue, counters, events. See DESIGN.md.",
        lifespan=lifespan,
        # The hall exports Prometheus metrics and no OpenTelemetry; FastAPI's native
        # telemetry otherwise wraps every request and asks for providers nobody set up.
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    app.state.ctx = ctx
    app.state.health = health
    app.state.sse_heartbeat_s = sse_heartbeat_s
    errors.install(app)
    app.include_router(routes.router)
    app.include_router(booking.router)  # 预约 (issue 21): /booking/…, /bookings…
    app.include_router(guide_api.router)  # 智能导办 (issue 20): /guide, /matters…
    app.include_router(ratings.router)  # 好差评 (issue 19): 评价上次办理 at the kiosk
    app.include_router(sse.router)
    app.include_router(metrics.router)
    mount_web(app, ctx)  # staff and citizen pages (hall/web)

    @app.get(
        "/healthz",
        summary="Liveness and storage check",
        response_model=Health,
        responses={503: {"model": Health, "description": "the database is not answering"}},
    )
    async def healthz() -> JSONResponse:
        # async, with the database probe on a thread of its own: it answers even while
        # every worker thread waits for a stalled database.
        storage_ok = await health.storage_ok()
        body = Health(
            status="ok" if storage_ok else "degraded",
            storage="ok" if storage_ok else "down",
            hall=config.hall_id,
            name=config.name,
            last_event_id=ctx.bus.last_id,
        )
        return JSONResponse(body.model_dump(), status_code=200 if storage_ok else 503)

    app.add_middleware(BodyLimit, limit=config.server.max_body_bytes)
    return app


class StorageHealth:
    """A real read of the database, at most once a second, bounded by the storage
    timeout, on a thread of its own."""

    MAX_AGE_S = 1.0

    def __init__(self, ctx: HallContext) -> None:
        self.ctx = ctx
        self._pool = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="hall-health")
        self._checked_at = -math.inf
        self._ok = True
        self._probe: asyncio.Future[bool] | None = None

    def _read(self) -> bool:
        try:
            with self.ctx.read() as conn:
                conn.execute(select(t.halls.c.id).where(t.halls.c.id == self.ctx.hall_id))
        except StorageUnavailable:
            return False
        return True

    def probe(self) -> None:
        """For the systemd watchdog: raises while the database does not answer."""
        if not self._read():
            raise StorageUnavailable()

    async def storage_ok(self) -> bool:
        loop = asyncio.get_running_loop()
        if loop.time() - self._checked_at <= self.MAX_AGE_S:
            return self._ok
        if self._probe is None or self._probe.done():  # one probe at a time
            self._probe = asyncio.wrap_future(self._pool.submit(self._read))
        try:
            ok = await asyncio.wait_for(asyncio.shield(self._probe), self.ctx.timeout_s + 0.5)
        except TimeoutError:
            ok = False
        self._ok, self._checked_at = ok, loop.time()
        return ok


async def _chore(run: Callable[[HallContext], int], ctx: HallContext, done: str) -> None:
    """One round of a background chore in the thread pool; ``done`` (with the count) is
    logged when it changed something. A failure is logged and the next round tries again:
    the server keeps serving."""
    try:
        n = await run_in_threadpool(run, ctx)
        if n:
            log.info(done, n)
    except Exception:
        log.exception("%s failed", getattr(run, "__qualname__", run))


async def _remote_sweep(ctx: HallContext, every_s: float) -> None:
    """Every ``every_s``: remote tickets past their confirmation time expire (one short
    write; nothing when none is overdue but the lock and a read)."""
    while True:
        await asyncio.sleep(every_s)
        await _chore(remote_tickets.expire_overdue, ctx, "remote tickets: %d expired unconfirmed")


async def _housekeeping(ctx: HallContext) -> None:
    """Hourly purge of personal data past retention and the bookings missed since (爽约;
    the day's closing writes them down too); the first round right at start."""
    while True:
        await _chore(retention.purge, ctx, "retention: cleared personal data from %d rows")
        await _chore(bookings.mark_no_shows, ctx, "bookings: %d no-show(s) written down")
        await asyncio.sleep(3600)

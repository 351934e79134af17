"""Web pages served by the hall server itself: the counter's calling page (叫号), the
evaluation pad (评价器), the citizen's ticket page and the manager's dashboard.

``mount(app, ctx)`` adds them to a hall app; static files ship inside this package
because the hall has no internet (no CDN)."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from starlette.staticfiles import StaticFiles

from hall.services.context import HallContext
from hall.web.deps import WebState
from hall.web.routes import router
from hall.web.settings import web_settings

STATIC = Path(__file__).with_name("static")


def mount(app: FastAPI, ctx: HallContext) -> None:
    app.state.web = WebState(ctx, web_settings(ctx.config))
    app.include_router(router)
    app.mount("/web/static", StaticFiles(directory=STATIC), name="web-static")

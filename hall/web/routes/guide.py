"""The public guide ``/guide/`` and ``/guide/{code}`` (智能导办, issue 20): the page shell;
its script reads the public Hall API (``/api/v1/guide``, ``/api/v1/matters``). No session,
nothing personal: the address a printed 告知单's QR code opens."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, RedirectResponse

from hall.web.deps import Web
from hall.web.render import page_response

router = APIRouter(include_in_schema=False)


@router.get("/guide", response_model=None)
def guide_root() -> RedirectResponse:
    return RedirectResponse("/guide/", status_code=308)


@router.get("/guide/")
@router.get("/guide/{code}")
def guide_page(web: Web, code: str = "") -> HTMLResponse:
    # An unknown code shows the page's own message (the script asks the API).
    return page_response("guide", web.ctx.config.name, web.ctx.config.timezone)

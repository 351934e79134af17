"""Routes of the staff and citizen pages, one module per audience:

- :mod:`.pages` the staff pages, :mod:`.citizen` the citizen's ticket page ``/t/{token}``
  (HTML and their plumbing, not in the OpenAPI schema);
- under ``/web/api`` (the pages' scripts, authenticated by the session cookie, never by a
  hall bearer token): :mod:`.session`, :mod:`.counter`, :mod:`.pad`, :mod:`.events`,
  :mod:`.manager` and :mod:`.accounts`.

Who may call what is in :mod:`hall.web.deps`; handlers call the hall's service layer. The
shape of full-stack-fastapi-template's ``api/main.py``."""

from __future__ import annotations

from fastapi import APIRouter

from hall.schemas import ERROR_RESPONSES
from hall.web.routes import (
    accounts,
    book,
    cases,
    citizen,
    counter,
    events,
    manager,
    pad,
    pages,
    session,
)
from hall.web.routes import cockpit as cockpit_routes
from hall.web.routes import guide as guide_pages

api = APIRouter(prefix="/web/api", tags=["web"], responses=ERROR_RESPONSES)
for part in (session, counter, pad, events, manager, accounts, cases):
    api.include_router(part.router)

router = APIRouter()
router.include_router(pages.router)
router.include_router(citizen.router)
router.include_router(book.router)  # 预约 pages under /book/ (issue 21)
router.include_router(cases.pages)
router.include_router(guide_pages.router)  # 智能导办 (issue 20): /guide/
router.include_router(cockpit_routes.pages)  # 管理驾驶舱 (issue 22): /web/cockpit
api.include_router(cockpit_routes.router)
router.include_router(api)

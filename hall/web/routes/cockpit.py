"""The manager's cockpit (管理驾驶舱, ``/web/cockpit``, admins only) and its data under
``/web/api/cockpit``: today's promise, the staffing plan, what-if, the printed range's
coverage, staff performance (JSON, CSV, XLSX) and the monthly 通报 (PDF). The advice to open
counters (``/web/api/cockpit/advice``) is also read by the counter page, for the services
of the counter the staff member works at."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import HTMLResponse, PlainTextResponse, RedirectResponse

from hall.services import bulletin, cockpit, performance
from hall.web.deps import Admin, Staff, Web, counter_for, session_of
from hall.web.render import SECURITY_HEADERS, browser_texts, templates

pages = APIRouter(include_in_schema=False)
router = APIRouter(prefix="/cockpit")

Text40 = Annotated[str | None, Query(max_length=40)]
Counter = Annotated[str | None, Query(max_length=16)]


@pages.get("/web/cockpit", response_model=None)
def cockpit_page(request: Request, web: Web) -> Response:
    session = session_of(request, web)
    if session is None:
        return RedirectResponse("/web/login?next=/web/cockpit", status_code=303)
    if session.role != "admin":
        return RedirectResponse("/web/counter", status_code=303)
    html = templates.get_template("cockpit/page.html").render(
        page="cockpit",
        hall_name=web.ctx.config.name,
        timezone=web.ctx.config.timezone,
        texts=browser_texts(),
    )
    return HTMLResponse(html, headers=SECURITY_HEADERS)


@router.get("/today")
def today(web: Web, _: Admin) -> dict[str, Any]:
    """Today's promise per service and the live advice (the page polls it)."""
    return {
        "attainment": cockpit.attainment_today(web.ctx),
        "advice": cockpit.advice(web.ctx),
        "counters": [
            {"id": c.id, "name": c.name, "services": list(c.services)}
            for c in web.ctx.config.counters
        ],
        "services": {
            s.code: {"name": s.name, "name_en": s.name_en} for s in web.ctx.config.services
        },
    }


@router.get("/plan")
def plan(web: Web, _: Admin, fresh: bool = False) -> dict[str, Any]:
    """The forecast and staffing plan of the next working days."""
    return cockpit.plan(web.ctx, fresh=fresh)


@router.get("/what-if")
def what_if(
    web: Web,
    _: Admin,
    day: Annotated[str, Query(max_length=10)],
    counter: Annotated[str, Query(max_length=16)],
    at: Annotated[str, Query(max_length=5)],
) -> dict[str, Any]:
    return cockpit.what_if(web.ctx, day, counter, at)


@router.get("/coverage")
def coverage(web: Web, _: Admin) -> dict[str, Any]:
    return cockpit.range_coverage(web.ctx)


@router.get("/advice")
def advice(web: Web, session: Staff, counter: Counter = None) -> dict[str, Any]:
    """建议增开窗口 for the whole hall (admin), or for the services of ``counter``."""
    if counter is not None:
        counter_for(session, web, counter)
    elif session.role != "admin":
        return {"advice": []}
    return {"advice": cockpit.advice(web.ctx, counter)}


@router.get("/performance")
def staff_performance(
    web: Web, _: Admin, day: Text40 = None, month: Text40 = None
) -> dict[str, Any]:
    return performance.period(web.ctx, day=day, month=month)


@router.get("/performance.csv")
def performance_csv(
    web: Web, _: Admin, day: Text40 = None, month: Text40 = None
) -> PlainTextResponse:
    result = performance.period(web.ctx, day=day, month=month)
    return PlainTextResponse(
        bulletin.performance_csv(result["rows"], result["staff"]),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="performance-{result["period"]}.csv"'
        },
    )


@router.get("/performance.xlsx", response_class=Response)
def performance_xlsx(web: Web, _: Admin, day: Text40 = None, month: Text40 = None) -> Response:
    result = performance.period(web.ctx, day=day, month=month)
    return Response(
        bulletin.performance_xlsx(result["rows"], result["period"], result["staff"]),
        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={
            "Content-Disposition": f'attachment; filename="performance-{result["period"]}.xlsx"'
        },
    )


@router.get("/bulletin.pdf", response_class=Response)
def bulletin_pdf(web: Web, _: Admin, month: Text40 = None) -> Response:
    """The monthly 通报 (default: last month)."""
    month = month or bulletin.last_month(web.ctx)
    return Response(
        bulletin.monthly_pdf(web.ctx, month),
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="tongbao-{month}.pdf"'},
    )


@router.get("/bulletin.xlsx", response_class=Response)
def bulletin_xlsx(web: Web, _: Admin, month: Text40 = None) -> Response:
    month = month or bulletin.last_month(web.ctx)
    return Response(
        bulletin.monthly_xlsx(web.ctx, month),
        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={"Content-Disposition": f'attachment; filename="tongbao-{month}.xlsx"'},
    )


@router.get("/bulletin.csv")
def bulletin_csv(web: Web, _: Admin, month: Text40 = None) -> PlainTextResponse:
    month = month or bulletin.last_month(web.ctx)
    return PlainTextResponse(
        bulletin.monthly_csv(web.ctx, month),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="tongbao-{month}.csv"'},
    )

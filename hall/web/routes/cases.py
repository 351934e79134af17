"""The case pages of the staff web (``/web/cases``) and their JSON API: the one hub for
差评, 办不成事, complaints and suggestions, each with its working-day deadline.

Who sees what: an administrator every case; a ``supervisor`` (department head) the cases
of its departments (service codes) and handles them; counter staff the cases of their own
counters, read-only, and may appeal a rating they think malicious or mistaken (申诉), which
a supervisor then decides (复核: upheld leaves the figures, the ledger keeps it). Steps
follow GB/T 36113 (for a 差评 核实 → 整改 → 回访 → 申诉复核), the six-step guidance is
filled in on the case, one extension with a reason and a new date, 涉法/涉诉/信访 are
recorded and referred. The ledger (台账) exports to CSV and XLSX with Chinese headers."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import RedirectResponse
from pydantic import BaseModel, Field, StringConstraints

from hall.domain.evaluation import GUIDANCE, CaseKind, CaseStatus, Referral, Step
from hall.errors import Forbidden
from hall.inputs import PathId, StepNote
from hall.schemas import Case, IntegrityReport
from hall.services import cases, integrity, public
from hall.web import export
from hall.web.accounts import Session
from hall.web.deps import Admin, Staff, StaffWrite, Web, session_of
from hall.web.render import page_response

pages = APIRouter(include_in_schema=False)
router = APIRouter()

Month = Annotated[str, Query(min_length=7, max_length=7)]
Guidance = Annotated[str, StringConstraints(max_length=400)]


@pages.get("/web/cases", response_model=None)
def cases_page(request: Request, web: Web) -> Response:
    session = session_of(request, web)
    if session is None:
        target = "/web/cases" + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/web/login?next={quote(target, safe='/')}", status_code=303)
    return page_response("cases", web.ctx.config.name, web.ctx.config.timezone)


def not_your_department(message: str) -> Forbidden:
    return Forbidden(message, code="not_your_department")


def _scope(session: Session) -> tuple[Collection[str] | None, Collection[str] | None]:
    """(services, counters) a session's case list is narrowed to: None is no limit."""
    if session.role == "admin":
        return None, None
    if session.role == "supervisor":
        return session.departments, None
    return None, session.counters


def _visible(session: Session, case: Case) -> bool:
    services, counters = _scope(session)
    if services is not None and case.service not in services:
        return False
    return counters is None or case.counter in counters


def _handles(session: Session, case: Case) -> None:
    """Handling a case is for an administrator or the supervisor of its department."""
    if session.role == "admin":
        return
    if session.role == "supervisor" and case.service in session.departments:
        return
    raise not_your_department(f"account {session.username} does not handle case {case.id}")


def _case(web: Web, session: Session, case_id: int) -> Case:
    case = cases.get(web.ctx, case_id)
    if not _visible(session, case):
        raise not_your_department(f"case {case_id} belongs to another department")
    return case


@router.get("/cases")
def case_list(
    web: Web,
    session: Staff,
    kind: CaseKind | None = None,
    status: CaseStatus | None = None,
    overdue: bool | None = None,
) -> list[Case]:
    services, counters = _scope(session)
    return cases.list_cases(
        web.ctx, kind=kind, status=status, overdue=overdue, services=services, counters=counters
    )


def _ledger_rows(web: Web, session: Session, month: str) -> list[dict[str, Any]]:
    if session.role not in ("admin", "supervisor"):
        raise Forbidden("the ledger is for supervisors and administrators")
    return cases.ledger(web.ctx, month, _scope(session)[0])


@router.get("/cases/ledger.csv", response_class=Response)
def ledger_csv(web: Web, session: Staff, month: Month) -> Response:
    """台账 for Excel: Chinese headers, UTF-8 with BOM, personal data masked."""
    body = export.ledger_csv(web.ctx.config, _ledger_rows(web, session, month))
    return Response(
        body,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="govhall-cases-{month}.csv"'},
    )


@router.get("/cases/ledger.xlsx", response_class=Response)
def ledger_xlsx(web: Web, session: Staff, month: Month) -> Response:
    body = export.ledger_xlsx(web.ctx.config, _ledger_rows(web, session, month), f"台账 {month}")
    return Response(
        body,
        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={"Content-Disposition": f'attachment; filename="govhall-cases-{month}.xlsx"'},
    )


@router.get("/cases/{case_id}")
def case_detail(web: Web, session: Staff, case_id: PathId) -> Case:
    return _case(web, session, case_id)


class StepIn(BaseModel):
    step: Step
    note: StepNote = ""
    satisfied: bool | None = None
    """回访: whether the citizen was satisfied."""
    category: Referral | None = None
    """转办: 涉法 (law), 涉诉 (litigation) or 信访 (petition)."""
    referred_to: Annotated[str, StringConstraints(max_length=100)] | None = None
    extend_to: dt.date | None = None
    guidance: dict[str, Guidance] = Field(default_factory=dict, max_length=len(GUIDANCE))
    """The six-step guidance: calm, cause, expectations, solution, agreement, follow_through."""


@router.post("/cases/{case_id}/steps")
def case_step(web: Web, session: StaffWrite, case_id: PathId, body: StepIn) -> Case:
    case = _case(web, session, case_id)
    _handles(session, case)
    fields: dict[str, Any] = {}
    if body.step is Step.FOLLOW_UP and body.satisfied is not None:
        fields["satisfied"] = body.satisfied
    if body.step is Step.REFER and body.category is not None:
        fields["category"] = body.category.value
        if body.referred_to:
            fields["referred_to"] = body.referred_to
    if body.step is Step.GUIDE:
        fields = {k: v.strip() for k, v in body.guidance.items() if v.strip()}
    if body.step is Step.APPEAL:
        raise Forbidden("an appeal is asked for (…/appeal) and decided (…/appeal/decision)")
    return cases.add_step(
        web.ctx,
        case_id,
        step=body.step,
        note=body.note,
        by=session.username,
        fields=fields,
        extend_to=body.extend_to,
    )


class AppealIn(BaseModel):
    note: StepNote
    """Why staff think the rating malicious or mistaken."""


@router.post("/cases/{case_id}/appeal")
def case_appeal(web: Web, session: StaffWrite, case_id: PathId, body: AppealIn) -> Case:
    """申诉: the staff member whose counter was rated (or a supervisor, an admin) asks for
    the rating to be reviewed."""
    _case(web, session, case_id)
    return cases.add_step(
        web.ctx,
        case_id,
        step=Step.APPEAL,
        note=body.note,
        by=session.username,
        fields={"requested": True},
    )


class DecisionIn(BaseModel):
    upheld: bool
    note: StepNote


@router.post("/cases/{case_id}/appeal/decision")
def case_appeal_decision(web: Web, session: StaffWrite, case_id: PathId, body: DecisionIn) -> Case:
    """复核: a supervisor decides; upheld removes the rating from the figures (the public
    page, the statistics of 好评率), the ledger keeps it."""
    case = _case(web, session, case_id)
    _handles(session, case)
    if not any(s.step == Step.APPEAL.value for s in case.steps):
        raise Forbidden("no appeal to decide: staff appeal first")
    return cases.add_step(
        web.ctx,
        case_id,
        step=Step.APPEAL,
        note=body.note,
        by=session.username,
        fields={"upheld": body.upheld},
    )


# -- the public monthly page (no login) ---------------------------------------------------


@pages.get("/p/evaluations", response_model=None)
def public_page(web: Web) -> Response:
    """好差评 公示: the month's figures for the hall and each department (GB/T 39734 Annex
    B), for anyone; ``?month=YYYY-MM``, this month by default."""
    return page_response("public", web.ctx.config.name, web.ctx.config.timezone)


@pages.get("/p/evaluations.json")
def public_figures(
    web: Web, month: Annotated[str | None, Query(max_length=7)] = None
) -> dict[str, Any]:
    chosen = month or web.ctx.today().strftime("%Y-%m")
    figures = public.monthly(web.ctx, chosen)
    cfg = web.ctx.config
    return {
        "figures": figures.model_dump(mode="json"),
        "services": {s.code: {"name": s.name, "name_en": s.name_en} for s in cfg.services},
        "hall_en": cfg.name_en,
    }


# -- the dashboard's 好差评 panel (admin) -----------------------------------------------------


@router.get("/integrity")
def rating_integrity(
    web: Web, _: Admin, month: Annotated[str | None, Query(max_length=7)] = None
) -> IntegrityReport:
    """The month's rating integrity per staff member, and the cases' state (overdue, 回访)."""
    return integrity.month_report(web.ctx, month or web.ctx.today().strftime("%Y-%m"))

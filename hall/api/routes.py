"""Hall API v1 (DESIGN.md): thin handlers that check the role, parse the body and call the
service layer. Handlers are plain ``def``: they run in the thread pool while the SSE stream
stays on the event loop."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Header, Path, Query, Request, Response
from fastapi.responses import PlainTextResponse
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from common.errors import text
from hall import schemas as s
from hall.api import models as m
from hall.api.auth import require
from hall.api.errors import describe_validation
from hall.config import Token
from hall.domain.evaluation import CaseKind, CaseStatus, Indicator
from hall.errors import Forbidden, Invalid
from hall.inputs import PathId
from hall.services import (
    appointments,
    cases,
    counters,
    evaluations,
    hallinfo,
    public,
    stats,
    tickets,
)
from hall.services.context import HallContext

router = APIRouter(prefix="/api/v1", responses=s.ERROR_RESPONSES)


def _route(
    method: str, path: str, *, status_code: int = 200, **kw: Any
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register a plain ``def`` handler; it runs in the thread pool, and a state change in
    it holds the write lock only for its own transaction (``ctx.write()``). The return
    annotation is the response model unless ``response_model`` says otherwise.

    FastAPI is handed an ``async`` wrapper that runs the handler in the thread pool: for a
    ``def`` endpoint FastAPI validates the response in a second thread-pool hop, which at
    a busy hall's load cost more than the validation itself (bench/hall_load.py)."""

    def decorator(fn: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(fn)
        async def in_thread_pool(*args: Any, **kwargs: Any) -> Any:
            return await run_in_threadpool(fn, *args, **kwargs)

        router.add_api_route(path, in_thread_pool, methods=[method], status_code=status_code, **kw)
        return fn

    return decorator


def replayable(ticket: s.Ticket, created: bool, response: Response) -> s.Ticket:
    """201 for a new ticket; the same ticket again, marked, for a replayed Idempotency-Key."""
    if not created:
        response.headers["Idempotent-Replayed"] = "true"
    return ticket


get = functools.partial(_route, "GET")
post = functools.partial(_route, "POST")

Any_ = Annotated[Token, Depends(require())]
Kiosk = Annotated[Token, Depends(require("kiosk", "admin"))]
KioskOnly = Annotated[Token, Depends(require("kiosk"))]
StaffOrAdmin = Annotated[Token, Depends(require("counter", "admin"))]
Evaluator = Annotated[Token, Depends(require("counter", "kiosk"))]
Admin = Annotated[Token, Depends(require("admin"))]
Device = Annotated[Token, Depends(require("kiosk", "display"))]


async def ctx_of(request: Request) -> HallContext:  # async: no thread-pool hop
    ctx: HallContext = request.app.state.ctx
    return ctx


Ctx = Annotated[HallContext, Depends(ctx_of)]
CounterId = Annotated[str, Path(max_length=16)]


def _at_counter(*roles: str) -> Any:
    """A dependency: a token of ``roles`` that may act for the path's counter (a counter
    token names its counters in the config; others → 403 wrong_counter)."""
    base = require(*roles)

    async def check(counter_id: CounterId, token: Token = Depends(base)) -> Token:  # noqa: B008
        if not token.may_act_for(counter_id):
            raise Forbidden(
                f"token {token.name} may not act for counter {counter_id}", code="wrong_counter"
            )
        return token

    return check


def speaks_for(token: Token, device: str) -> None:
    if not token.speaks_for(device):
        raise Forbidden(
            f"token {token.name} speaks for device {token.device}, not {device}",
            code="wrong_device",
        )


# Ids fit a 63-bit integer on every database; anything else is a 422, not an overflow.
TicketId = PathId
HelpId = PathId
StaffHere = Annotated[Token, Depends(_at_counter("counter"))]
StaffOrAdminHere = Annotated[Token, Depends(_at_counter("counter", "admin"))]


@get("/services", summary="Service catalogue with waiting counts")
def list_services(ctx: Ctx, _: Any_) -> list[s.ServiceInfo]:
    return hallinfo.services(ctx)


@post("/tickets", status_code=201, summary="Issue a ticket", response_model=s.Ticket)
def issue_ticket(
    ctx: Ctx,
    token: Kiosk,
    body: m.IssueTicketIn,
    response: Response,
    idempotency_key: Annotated[str | None, Header(max_length=100)] = None,
) -> s.Ticket:
    key = f"{token.name}:{idempotency_key}" if idempotency_key else None
    ticket, created = tickets.issue(
        ctx,
        tickets.IssueRequest(
            service=body.service,
            id_number=body.id_number,
            name=body.name,
            priority=body.priority,
            appointment_id=body.appointment_id,
            verification=body.verification,
            idempotency_key=key,
            kiosk=token.name,
            matters=tuple(body.matters or ()),
        ),
    )
    return replayable(ticket, created, response)


@post(
    "/tickets/import",
    summary="Merge tickets issued offline (answered item by item)",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {
                        "type": "array",
                        "maxItems": tickets.MAX_IMPORT,
                        "items": m.ImportTicketIn.model_json_schema(
                            ref_template="#/components/schemas/{model}"
                        ),
                    }
                }
            },
        }
    },
)
def import_tickets(
    ctx: Ctx, token: KioskOnly, body: Annotated[list[Any], Body()]
) -> s.ImportResult:
    """Each item is validated on its own: one malformed or refused item is answered
    ``refused`` with a code, and the others still go in."""
    if len(body) > tickets.MAX_IMPORT:
        raise Invalid(
            f"at most {tickets.MAX_IMPORT} tickets per import; send them in chunks",
            code="too_many",
        )
    parsed: list[tickets.OfflineTicket | s.ImportItemResult] = []
    for raw in body:
        try:
            item = m.ImportTicketIn.model_validate(raw)
        except ValidationError as err:
            code, message = describe_validation(list(err.errors()))
            number = raw.get("offline_number") if isinstance(raw, dict) else None
            parsed.append(
                s.ImportItemResult(
                    offline_number=number if isinstance(number, str) else None,
                    outcome=s.ImportOutcome.REFUSED,
                    error=code,
                    message=message,
                    zh=text(code, "zh"),
                    en=text(code, "en"),
                )
            )
            continue
        parsed.append(tickets.OfflineTicket(**item.model_dump()))
    valid = [p for p in parsed if isinstance(p, tickets.OfflineTicket)]
    done = iter(tickets.import_offline(ctx, token, valid) if valid else [])
    return s.ImportResult(
        results=[next(done) if isinstance(p, tickets.OfflineTicket) else p for p in parsed]
    )


@get("/tickets/by-number/{number}", summary="Today's ticket with this number")
def get_ticket_by_number(
    ctx: Ctx, _: Any_, number: Annotated[str, Path(pattern=r"^[A-Za-z0-9-]{2,24}$")]
) -> s.Ticket:
    return tickets.get_by_number(ctx, number)


@post("/tickets/cancel", summary="Withdraw a ticket whose answer never reached the kiosk")
def cancel_ticket(
    ctx: Ctx,
    token: KioskOnly,
    idempotency_key: Annotated[str, Header(min_length=1, max_length=100)],
) -> s.Ticket:
    return tickets.cancel_by_key(ctx, f"{token.name}:{idempotency_key}")


@get("/tickets/{ticket_id}", summary="A ticket's state and people ahead")
def get_ticket(ctx: Ctx, _: Any_, ticket_id: TicketId) -> s.Ticket:
    return tickets.get(ctx, ticket_id)


@post("/tickets/{ticket_id}/evaluation", status_code=201, summary="好差评, once")
def evaluate(ctx: Ctx, _: Evaluator, ticket_id: TicketId, body: m.EvaluationIn) -> s.Evaluation:
    given = body.indicators.model_dump(exclude_none=True) if body.indicators else {}
    return evaluations.evaluate(
        ctx,
        ticket_id,
        body.score,
        body.comment,
        indicators={Indicator(k): v for k, v in given.items()},
        reasons=body.reasons,
        channel=body.channel,
        matter_no=body.matter_no,
        by=_.name,
    )


@post("/cases", status_code=201, summary="Open a case: 办不成事, complaint, suggestion")
def open_case(
    ctx: Ctx, token: Annotated[Token, Depends(require("kiosk", "counter", "admin"))], body: m.CaseIn
) -> s.Case:
    return cases.create(
        ctx,
        kind=body.kind,
        description=body.description,
        by=token.name,
        ticket_id=body.ticket,
        service=body.service,
        contact=body.contact,
    )


@get("/cases", summary="Cases with their deadlines")
def list_cases(
    ctx: Ctx,
    _: Admin,
    kind: CaseKind | None = None,
    status: CaseStatus | None = None,
    overdue: bool | None = None,
) -> list[s.Case]:
    return cases.list_cases(ctx, kind=kind, status=status, overdue=overdue)


@get("/cases/{case_id}", summary="A case and its steps")
def get_case(ctx: Ctx, _: Admin, case_id: PathId) -> s.Case:
    return cases.get(ctx, case_id)


@post("/cases/{case_id}/steps", status_code=201, summary="Record a step of a case")
def case_step(ctx: Ctx, token: Admin, case_id: PathId, body: m.CaseStepIn) -> s.Case:
    return cases.add_step(
        ctx,
        case_id,
        step=body.step,
        note=body.note,
        by=token.name,
        fields=dict(body.fields),
        extend_to=body.extend_to,
    )


@get("/public/evaluations", summary="好差评 figures of a month (public, no token)")
def public_evaluations(
    ctx: Ctx, month: Annotated[str, Query(min_length=7, max_length=7)]
) -> s.PublicEvaluations:
    return public.monthly(ctx, month)


@post("/tickets/{ticket_id}/reprint", summary="补打: print a held ticket again, once")
def reprint(ctx: Ctx, _: KioskOnly, ticket_id: TicketId, body: m.ReprintIn) -> s.Ticket:
    return tickets.reprint(ctx, ticket_id, body.id_number)


@post("/tickets/{ticket_id}/requeue", summary="Put a 过号 ticket back in the queue")
def requeue(
    ctx: Ctx,
    _: Annotated[Token, Depends(require("counter", "kiosk", "admin"))],
    ticket_id: TicketId,
) -> s.Ticket:
    return tickets.requeue(ctx, ticket_id)


@get("/counters/{counter_id}", summary="A counter's state, current and parked tickets")
def counter_state(ctx: Ctx, _: StaffOrAdminHere, counter_id: CounterId) -> s.CounterStatus:
    return counters.get_status(ctx, counter_id)


@post(
    "/counters/{counter_id}/call-next",
    summary="Call the next ticket",
    response_model=s.Ticket,
    responses={204: {"description": "nobody is waiting"}},
)
def call_next(ctx: Ctx, _: StaffHere, counter_id: CounterId) -> s.Ticket | Response:
    ticket = counters.call_next(ctx, counter_id)
    return Response(status_code=204) if ticket is None else ticket


@post("/counters/{counter_id}/call", summary="Call a specific ticket")
def call(ctx: Ctx, _: StaffHere, counter_id: CounterId, body: m.CallIn) -> s.Ticket:
    return counters.call_ticket(ctx, counter_id, body.ticket)


@post("/counters/{counter_id}/recall", summary="Announce the current ticket again")
def recall(ctx: Ctx, _: StaffHere, counter_id: CounterId) -> s.Ticket:
    return counters.recall(ctx, counter_id)


@post("/counters/{counter_id}/start", summary="The citizen arrived: service starts")
def start(ctx: Ctx, _: StaffHere, counter_id: CounterId) -> s.Ticket:
    return counters.start(ctx, counter_id)


@post("/counters/{counter_id}/finish", summary="Service finished")
def finish(ctx: Ctx, _: StaffHere, counter_id: CounterId) -> s.Ticket:
    return counters.finish(ctx, counter_id)


@post("/counters/{counter_id}/no-show", summary="过号: the citizen did not come")
def no_show(ctx: Ctx, _: StaffHere, counter_id: CounterId) -> s.Ticket:
    return counters.no_show(ctx, counter_id)


@post("/counters/{counter_id}/park", summary="挂起: call back later")
def park(ctx: Ctx, _: StaffHere, counter_id: CounterId) -> s.Ticket:
    return counters.park(ctx, counter_id)


@post("/counters/{counter_id}/transfer", summary="Send the current ticket elsewhere")
def transfer(ctx: Ctx, _: StaffHere, counter_id: CounterId, body: m.TransferIn) -> s.Ticket:
    return counters.transfer(ctx, counter_id, body.service, body.note, body.return_here)


@post("/counters/{counter_id}/pause", summary="Stop taking calls")
def pause(ctx: Ctx, _: StaffHere, counter_id: CounterId, body: m.PauseIn) -> s.CounterStatus:
    return counters.pause(ctx, counter_id, body.reason)


@post("/counters/{counter_id}/resume", summary="Take calls again")
def resume(ctx: Ctx, _: StaffHere, counter_id: CounterId) -> s.CounterStatus:
    return counters.resume(ctx, counter_id)


@post("/counters/{counter_id}/close", summary="End of shift")
def close(ctx: Ctx, _: StaffHere, counter_id: CounterId) -> s.CounterStatus:
    return counters.close(ctx, counter_id)


@post("/appointments", status_code=201, summary="Book an appointment")
def book(ctx: Ctx, _: Admin, body: m.AppointmentIn) -> s.Appointment:
    return appointments.create(ctx, body.service, body.id_number, body.slot_start)


@post(
    "/appointments/check-in", status_code=201, summary="预约签到 → ticket", response_model=s.Ticket
)
def check_in(
    ctx: Ctx,
    token: Kiosk,
    body: m.CheckInIn,
    response: Response,
    idempotency_key: Annotated[str | None, Header(max_length=100)] = None,
) -> s.Ticket:
    key = f"{token.name}:{idempotency_key}" if idempotency_key else None
    ticket, created = appointments.check_in(ctx, body.id_number, key)
    return replayable(ticket, created, response)


@post("/help-requests", status_code=201, summary="帮办代办: a citizen needs staff")
def help_request(ctx: Ctx, token: KioskOnly, body: m.HelpIn) -> s.HelpRequest:
    speaks_for(token, body.kiosk)
    return hallinfo.help_request(ctx, body.kiosk, body.reason)


@get("/help-requests", summary="Open help requests")
def open_help(ctx: Ctx, _: StaffOrAdmin) -> list[s.HelpRequest]:
    return hallinfo.open_help_requests(ctx)


@post("/help-requests/{help_id}/resolve", summary="Staff took care of it")
def resolve_help(ctx: Ctx, _: StaffOrAdmin, help_id: HelpId) -> s.HelpResolved:
    return hallinfo.resolve_help(ctx, help_id)


@post("/devices/heartbeat", summary="Device health from a kiosk or display")
def heartbeat(ctx: Ctx, token: Device, body: m.HeartbeatIn) -> s.HeartbeatAck:
    speaks_for(token, body.device)
    return hallinfo.heartbeat(ctx, body.device, token.role, dict(body.parts))


@get("/devices", summary="Health of every kiosk and display")
def devices(ctx: Ctx, _: StaffOrAdmin) -> list[s.DeviceHealth]:
    return hallinfo.device_health(ctx)


@get("/board", summary="Lobby board snapshot")
def board(
    ctx: Ctx, _: Annotated[Token, Depends(require("display", "counter", "admin"))]
) -> s.Board:
    return hallinfo.board(ctx)


@get(
    "/stats",
    summary="Statistics (JSON, or CSV with Accept: text/csv)",
    response_model=s.Stats,
    responses={200: {"content": {"text/csv": {}}}},
)
def get_stats(
    ctx: Ctx,
    _: Admin,
    request: Request,
    from_: Annotated[str | None, Query(alias="from", max_length=40)] = None,
    to: Annotated[str | None, Query(max_length=40)] = None,
) -> s.Stats | Response:
    result = stats.compute(ctx, from_, to)
    if "text/csv" in request.headers.get("accept", ""):
        return PlainTextResponse(stats.to_csv(result), media_type="text/csv; charset=utf-8")
    return result

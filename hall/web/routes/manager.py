"""The manager's dashboard (admins only): the live hall, reports (JSON and CSV) and the
configuration, read-only with secrets blanked."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import PlainTextResponse

from hall.services import hallinfo, stats
from hall.web import export, queries
from hall.web.deps import Admin, Web

router = APIRouter()


@router.get("/live")
def live(web: Web, _: Admin) -> dict[str, Any]:
    ctx = web.ctx
    board = hallinfo.board(ctx)
    day = stats.compute(ctx)
    return {
        "services": queries.service_queues(ctx),
        "longest_wait_s": queries.longest_waits(ctx),
        "counters": board.counters,
        "recent_calls": board.recent_calls,
        "today": day.total,
        "calls_per_hour": {h: v.called for h, v in day.by_hour.items()},
        "help": queries.help_requests(ctx),
        "import_refusals": queries.import_refusals(ctx),
        "devices": queries.devices(ctx),
        "device_silent_s": ctx.config.policy.device_silent_s,
        "last_event_id": ctx.bus.last_id,
    }


From = Annotated[str | None, Query(alias="from", max_length=40)]
Day = Annotated[str | None, Query(max_length=40)]


@router.get("/report")
def report(web: Web, _: Admin, from_: From = None, to: Day = None) -> dict[str, Any]:
    result = stats.compute(web.ctx, from_, to)
    return {**result.model_dump(), "distributions": queries.distributions(web.ctx, from_, to)}


@router.get("/report.csv")
def report_csv(web: Web, _: Admin, from_: From = None, to: Day = None) -> PlainTextResponse:
    """The report for Excel: see :mod:`hall.web.export` (two header rows, Chinese then
    English; UTF-8 with a BOM)."""
    result = stats.compute(web.ctx, from_, to)
    name = f"govhall-{result.from_[:10]}-{result.to[:10]}.csv"
    return PlainTextResponse(
        export.report_csv(web.ctx.config, result),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


_SECRET_KEYS = ("token", "secret", "password", "key", "pin")


def _redact(value: Any) -> Any:
    if isinstance(value, dict):
        return {
            k: ("••••" if any(s in k.lower() for s in _SECRET_KEYS) else _redact(v))
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_redact(v) for v in value]
    return value


@router.get("/config")
def config_view(web: Web, _: Admin) -> dict[str, Any]:
    cfg = web.ctx.config
    return {
        "hall": {
            "id": cfg.hall_id,
            "name": cfg.name,
            "name_en": cfg.name_en,
            "timezone": cfg.timezone,
            "path": str(cfg.path) if cfg.path else None,
        },
        "services": [
            {
                "code": s.code,
                "prefix": s.prefix,
                "name": s.name,
                "name_en": s.name_en,
                "open": s.open,
                "requires_id": s.requires_id,
                "requires_face": s.requires_face,
                "avg_service_s": s.avg_service_s,
            }
            for s in cfg.services
        ],
        "counters": [
            {"id": c.id, "name": c.name, "name_en": c.name_en, "services": list(c.services)}
            for c in cfg.counters
        ],
        "policy": dict(cfg.policy.__dict__),
        "tokens": [
            {"name": tk.name, "role": tk.role, "device": tk.device, "location": tk.location}
            for tk in cfg.tokens
        ],
        "devices": _redact({k: v for k, v in cfg.sections.items() if k != "web"}),
    }

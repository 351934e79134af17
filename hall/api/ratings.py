"""评价上次办理 (issue 19): a kiosk finds the citizen's last visit still to be rated, by
the number on the ticket or by the ID card; the rating itself is ``POST
/tickets/{id}/evaluation`` with ``channel: kiosk``. The ID number travels in the body (never
in a URL, where logs keep it) and is used only as the hall's keyed hash."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter
from pydantic import StringConstraints

from hall import schemas as s
from hall.api.models import Body
from hall.api.routes import Ctx, Kiosk
from hall.services import evaluations

router = APIRouter(prefix="/api/v1", tags=["evaluations"], responses=s.ERROR_RESPONSES)


class LookupIn(Body):
    number: Annotated[str, StringConstraints(min_length=1, max_length=24)] | None = None
    """The number on the ticket (today's, or from the last few days)."""
    id_number: Annotated[str, StringConstraints(min_length=1, max_length=32)] | None = None
    """The ID card read at the kiosk (or typed)."""


@router.post("/ratings/lookup", summary="评价上次办理: the last visit to rate")
def lookup(ctx: Ctx, _: Kiosk, body: LookupIn) -> s.RatableVisit:
    return evaluations.kiosk_lookup(ctx, number=body.number, id_number=body.id_number)

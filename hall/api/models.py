"""Request bodies of API v1. Strict: unknown fields and wrong types are refused with 422,
lengths are bounded so a garbage field cannot grow the database."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from hall.domain.evaluation import CaseKind, Channel, Step
from hall.domain.evaluation import Reason as BadReason
from hall.inputs import Comment, Description, Id, Moment, Note, Reason, StepNote

Code = Annotated[str, StringConstraints(min_length=1, max_length=8, strip_whitespace=True)]
Short = Annotated[str, StringConstraints(min_length=1, max_length=64, strip_whitespace=True)]
Priority = Literal["normal", "elderly", "disabled", "military"]
PartState = Literal["ok", "warning", "error", "offline", "absent"]


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class IssueTicketIn(Body):
    service: Code
    id_number: Annotated[str, StringConstraints(max_length=32)] | None = None
    name: Annotated[str, StringConstraints(max_length=64)] | None = None
    priority: Priority | None = None
    appointment_id: Id | None = None
    verification: Literal["face", "manual"] | None = None
    """How the kiosk verified the holder: the face check passed, or staff check the ID at
    the counter (人工核验: consent declined, the check failed or could not run)."""
    matters: (
        Annotated[
            list[Annotated[str, StringConstraints(min_length=1, max_length=16)]],
            Field(max_length=16),
        ]
        | None
    ) = None
    """The catalogue's matters (codes of ``GET /matters``) the citizen came for: a
    一件事一次办 bundle's, or the one the kiosk's 我要办 found. Each must be a matter the
    hall's catalogue has, handled in this queue or in a bundle of it (422
    ``guide_matter_unknown`` / ``guide_matter_elsewhere``); each becomes a matter of the
    ticket for the counter, rated once."""


class ImportTicketIn(Body):
    kiosk: Short
    offline_number: Annotated[str, StringConstraints(pattern=r"^[A-Z0-9-]{2,24}$")]
    service: Code
    issued_at: Moment
    priority: Priority | None = None
    name_masked: Annotated[str, StringConstraints(max_length=64)] | None = None
    verification: Literal["face", "manual"] | None = None
    """As for a ticket issued online: 人工核验 marks it for the counter."""


class CallIn(Body):
    ticket: Id


class TransferIn(Body):
    service: Code
    note: Note | None = None
    return_here: bool = False


class PauseIn(Body):
    reason: Reason


class IndicatorsIn(Body):
    """The fixed on-site indicators (GB/T 39734), 1–5 each, all optional."""

    efficiency: Annotated[int, Field(ge=1, le=5)] | None = None
    competence: Annotated[int, Field(ge=1, le=5)] | None = None
    attitude: Annotated[int, Field(ge=1, le=5)] | None = None


class EvaluationIn(Body):
    score: Annotated[int, Field(ge=1, le=5)]
    """整体满意度: 5 非常满意, 4 满意, 3 基本满意, 2 不满意, 1 非常不满意."""
    indicators: IndicatorsIn | None = None
    reasons: Annotated[list[BadReason], Field(max_length=9)] = []
    """A 差评's reasons (GB/T 39734 Annex A categories)."""
    comment: Comment | None = None
    channel: Channel = Channel.API
    matter_no: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9-]{1,40}$")] | None = None
    """The 办件编号 the business system gave; default: one in the hall's format."""


class CaseIn(Body):
    kind: CaseKind
    ticket: Id | None = None
    service: Code | None = None
    contact: Annotated[str, StringConstraints(max_length=40)] | None = None
    """For 回访: a phone number (shown masked; purged with the retention period)."""
    description: Description


class CaseStepIn(Body):
    step: Step
    note: StepNote = ""
    fields: Annotated[
        dict[Annotated[str, StringConstraints(max_length=32)], str | bool | int],
        Field(max_length=16),
    ] = {}
    """The six-step guidance (calm, cause, expectations, solution, agreement,
    follow_through), a follow-up's ``satisfied``, an appeal's ``upheld``…"""
    extend_to: dt.date | None = None


class AppointmentIn(Body):
    service: Code
    id_number: Annotated[str, StringConstraints(min_length=1, max_length=32)]
    slot_start: Moment


class ReprintIn(Body):
    id_number: Annotated[str, StringConstraints(min_length=1, max_length=32)]
    """The card that took the ticket, read again at the kiosk."""


class CheckInIn(Body):
    id_number: Annotated[str, StringConstraints(min_length=1, max_length=32)]


class HelpIn(Body):
    kiosk: Short
    reason: Reason


class HeartbeatIn(Body):
    device: Short
    parts: Annotated[
        dict[Annotated[str, StringConstraints(min_length=1, max_length=32)], PartState],
        Field(max_length=16),
    ]

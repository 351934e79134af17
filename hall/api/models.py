"""Request bodies of API v1. Strict: unknown fields and wrong types are refused with 422,
lengths are bounded so a garbage field cannot grow the database."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from hall.inputs import Comment, Id, Moment, Note, Reason

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


class ImportTicketIn(Body):
    kiosk: Short
    offline_number: Annotated[str, StringConstraints(pattern=r"^[A-Z0-9-]{2,24}$")]
    service: Code
    issued_at: Moment
    priority: Priority | None = None
    name_masked: Annotated[str, StringConstraints(max_length=64)] | None = None


class CallIn(Body):
    ticket: Id


class TransferIn(Body):
    service: Code
    note: Note | None = None
    return_here: bool = False


class PauseIn(Body):
    reason: Reason


class EvaluationIn(Body):
    score: Annotated[int, Field(ge=1, le=5)]
    comment: Comment | None = None


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

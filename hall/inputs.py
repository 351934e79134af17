"""Bounded input types the API and the staff pages share: every integer, id and instant a
request may carry has limits, so out-of-range input is a 422 with a reason, never an
overflow (a 500) deeper down."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import Path
from pydantic import AfterValidator, AwareDatetime, Field, StringConstraints

from common.personal import scrub_free_text
from hall.domain.limits import FIRST_YEAR, LAST_YEAR, MAX_ID

Id = Annotated[int, Field(ge=1, le=MAX_ID)]
PathId = Annotated[int, Path(ge=1, le=MAX_ID)]


def _plausible(moment: dt.datetime) -> dt.datetime:
    if not FIRST_YEAR <= moment.year <= LAST_YEAR:
        raise ValueError(f"must be in the years {FIRST_YEAR}–{LAST_YEAR}")
    return moment


Moment = Annotated[AwareDatetime, AfterValidator(_plausible)]


# Lines people type (a help reason, a pause reason, a transfer note, a comment): invisible
# characters stripped and typed ID or phone numbers masked on the way in
# (``common.personal.scrub_free_text``), then bounded.
Reason = Annotated[
    str,
    StringConstraints(max_length=400),
    AfterValidator(scrub_free_text),
    StringConstraints(min_length=1, max_length=200),
]
Note = Annotated[
    str,
    StringConstraints(max_length=400),
    AfterValidator(scrub_free_text),
    StringConstraints(max_length=200),
]
Comment = Annotated[
    str,
    StringConstraints(max_length=1000),
    AfterValidator(scrub_free_text),
    StringConstraints(max_length=500),
]
Description = Annotated[
    str,
    StringConstraints(max_length=2000),
    AfterValidator(scrub_free_text),
    StringConstraints(min_length=1, max_length=1000),
]
"""What a case is about (a complaint, a matter that could not be done)."""
StepNote = Annotated[
    str,
    StringConstraints(max_length=2000),
    AfterValidator(scrub_free_text),
    StringConstraints(max_length=1000),
]
"""What a handler did in a step of a case."""

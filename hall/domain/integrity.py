"""Rating integrity (好差评): signs, per staff member and month, that the ratings were not
given by the citizens. Halls publish 99.99 % satisfaction that no one believes; these are
the patterns behind such figures, each measurable from what the hall records:

- ``instant``: the pad rated within seconds of (nearly) every finish: a staff member tapping
  the pad as the citizen stands up, or a script; a citizen needs a moment to turn to it;
- ``uniform``: many ratings, all the same score (zero variance);
- ``short_service``: ratings on tickets served implausibly briefly (called, "served" in
  seconds, rated): tickets drawn to be rated;
- ``phone_disagrees``: the citizen's own phone, asked again about visits the pad rated,
  gives clearly lower scores.

Pure: the service layer gathers :class:`RatingFact` and :class:`CheckFact`; thresholds are
the defaults of :class:`Thresholds`. A flag says "look here", not "guilty"."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from enum import StrEnum
from statistics import pvariance


class Pattern(StrEnum):
    INSTANT = "instant"
    UNIFORM = "uniform"
    SHORT_SERVICE = "short_service"
    PHONE_DISAGREES = "phone_disagrees"


@dataclass(frozen=True)
class RatingFact:
    """One rating with what the ticket says about the visit."""

    staff: str  # the account on the pad, else the counter ("窗口 3")
    ticket: int
    channel: str
    score: int
    rated_at: dt.datetime
    finished_at: dt.datetime | None
    service_s: float | None  # started (or called) → finished


@dataclass(frozen=True)
class CheckFact:
    """The same visit rated again on the citizen's own phone."""

    staff: str
    ticket: int
    pad_score: int
    phone_score: int


@dataclass(frozen=True)
class Thresholds:
    min_ratings: int = 20
    """Fewer pad ratings than this in a month say nothing about timing or variance."""
    instant_s: float = 3.0
    """A pad rating this soon after the finish is 'instant'."""
    instant_share: float = 0.8
    """Flag when at least this share of the pad ratings is instant."""
    uniform_min: int = 30
    """Zero variance over at least this many ratings is flagged."""
    short_service_s: float = 30.0
    """A ticket served in less than this was hardly served."""
    short_min: int = 5
    short_share: float = 0.1
    """Flag at least ``short_min`` ratings on short tickets making this share of all."""
    disagree_min: int = 3
    """Phone checks needed before their disagreement counts."""
    disagree_gap: float = 1.5
    """Flag when the pad's mean exceeds the phone's on the same visits by this much."""


@dataclass(frozen=True)
class Finding:
    pattern: Pattern
    count: int
    of: int
    detail: str


@dataclass
class StaffIntegrity:
    staff: str
    ratings: int = 0
    mean: float | None = None
    findings: list[Finding] = field(default_factory=list)

    @property
    def flagged(self) -> bool:
        return bool(self.findings)


def assess(
    ratings: list[RatingFact], checks: list[CheckFact], limits: Thresholds | None = None
) -> list[StaffIntegrity]:
    """Each staff member's month: their ratings and what looks wrong, flagged first."""
    lim = limits or Thresholds()
    by_staff: dict[str, list[RatingFact]] = defaultdict(list)
    for r in ratings:
        by_staff[r.staff].append(r)
    checks_of: dict[str, list[CheckFact]] = defaultdict(list)
    for c in checks:
        checks_of[c.staff].append(c)
    out = []
    for staff in sorted(set(by_staff) | set(checks_of)):
        rs = by_staff.get(staff, [])
        result = StaffIntegrity(
            staff, len(rs), round(sum(r.score for r in rs) / len(rs), 2) if rs else None
        )
        result.findings = [
            f
            for f in (
                _instant(rs, lim),
                _uniform(rs, lim),
                _short(rs, lim),
                _disagrees(checks_of.get(staff, []), lim),
            )
            if f is not None
        ]
        out.append(result)
    return sorted(out, key=lambda s: (not s.flagged, s.staff))


def _instant(rs: list[RatingFact], lim: Thresholds) -> Finding | None:
    timed = [
        (r.rated_at - r.finished_at).total_seconds()
        for r in rs
        if r.channel == "pad" and r.finished_at is not None
    ]
    if len(timed) < lim.min_ratings:
        return None
    fast = sum(1 for s in timed if s <= lim.instant_s)
    if fast < lim.instant_share * len(timed):
        return None
    return Finding(Pattern.INSTANT, fast, len(timed), f"≤{lim.instant_s:g}s")


def _uniform(rs: list[RatingFact], lim: Thresholds) -> Finding | None:
    if len(rs) < lim.uniform_min or pvariance([r.score for r in rs]) > 0:
        return None
    return Finding(Pattern.UNIFORM, len(rs), len(rs), f"{rs[0].score}")


def _short(rs: list[RatingFact], lim: Thresholds) -> Finding | None:
    short = sum(1 for r in rs if r.service_s is not None and r.service_s < lim.short_service_s)
    if short < lim.short_min or short < lim.short_share * len(rs):
        return None
    return Finding(Pattern.SHORT_SERVICE, short, len(rs), f"<{lim.short_service_s:g}s")


def _disagrees(cs: list[CheckFact], lim: Thresholds) -> Finding | None:
    if len(cs) < lim.disagree_min:
        return None
    pad = sum(c.pad_score for c in cs) / len(cs)
    phone = sum(c.phone_score for c in cs) / len(cs)
    if pad - phone < lim.disagree_gap:
        return None
    lower = sum(1 for c in cs if c.phone_score < c.pad_score)
    return Finding(Pattern.PHONE_DISAGREES, lower, len(cs), f"{pad:.1f}→{phone:.1f}")

"""What every journey of the kiosk flow works on: the state, declared once here, and the
few methods one journey calls of another.

``KioskFlow`` (``flow.py``) is one object made of mixins over ``FlowBase``: the coordinator
itself (view, session, idle, deadlines) and one mixin per journey (``take_ticket.py``,
``keypad.py``, ``lookup.py``, ``maintenance.py``, ``background.py``). The coordinator sets
every attribute declared here in its ``__init__``; the abstract methods say which journey
provides what another one needs, so mypy checks each call and ``KioskFlow`` cannot be built
with one missing.
"""

from __future__ import annotations

import abc
import datetime as dt
from collections.abc import Callable
from typing import Any

from common.i18n import t
from kiosk.flows.model import (
    CardData,
    Effect,
    KeypadMode,
    LivenessChallenge,
    PartState,
    Purpose,
    Say,
    Screen,
    TicketView,
    Tile,
    Verification,
    View,
)
from kiosk.settings import KioskSettings

Clock = Callable[[], dt.datetime]


class FlowBase(abc.ABC):
    # -- the kiosk: kept across citizens ----------------------------------------------------
    settings: KioskSettings
    hall_name: str
    hall_name_en: str
    hall_id: str
    public_url: str  # the ticket page is <public_url>/t/<token>
    clock: Clock
    elderly_age: int
    busy_deadline_s: float
    tiles: tuple[Tile, ...]
    lang: str
    elderly: bool
    offline: bool
    parts: dict[str, PartState]
    pending_uploads: int
    refused_uploads: int
    pending_withdrawals: int  # lost-answer tickets to cancel at the hall
    token: int
    """The citizen session effects belong to; results for an older one are ignored."""
    view: View
    _screen: Screen
    _last_touch: dt.datetime
    _busy_since: dt.datetime  # when the busy screen shown began to wait
    _last_heartbeat: dt.datetime | None
    _last_services: dt.datetime | None
    _sent_parts: dict[str, PartState]
    _corner: list[dt.datetime]
    _pin_failures: int
    _auto_elderly_session: bool
    _abandoned: dict[int, str]
    """Sessions whose online issue was given up at the deadline → its Idempotency-Key, which
    the offline ticket that replaced it carries as its withdraw key."""

    # -- the citizen: forgotten at every return home (``KioskFlow._reset_citizen``) ---------
    _purpose: Purpose | None
    _service: Tile | None
    _card: CardData | None
    _manual_id: str | None
    _keypad_mode: KeypadMode | None
    _keys: str
    _message: str
    _message_error: bool
    _ticket: TicketView | None
    _guide: Tile | None
    _status_lines: tuple[str, ...]
    _idle_warned: bool
    _face_attempts: int
    _face_since: dt.datetime | None  # when the face screen began to wait for the runtime
    _challenge: LivenessChallenge | None  # the movement asked for on the face screen
    _challenge_s: float
    _verification: Verification | None  # how the holder is verified (face-checked service)
    _matters: tuple[str, ...]  # the catalogue's matters the 我要办 journey chose for the ticket
    _issue_key: str
    _issuing_offline: bool  # the ticket being issued comes from the offline journal
    _reprint: tuple[int, str] | None
    """After a daily_limit refusal: (the held ticket's id, the ID number that showed it),
    for 补打; the hall reprints once, for that card only."""

    # -- helpers every journey uses ---------------------------------------------------------
    def _txt(self, key: str, **values: Any) -> str:
        return t("kiosk", key, self.lang, **values)

    def _say(self, text: str) -> Say:
        return Say(self.token, text, self.lang, self.elderly)

    def _part(self, name: str) -> PartState | None:
        """The state of part ``name``, None while not yet known."""
        state = self.parts.get(name)
        return None if state is None else PartState(state)

    def _parts(self) -> dict[str, PartState]:
        """The part states as told to the screen and the hall: checked, so a state the
        hall API does not know fails here (ValueError), not as a refused heartbeat."""
        return {name: PartState(state) for name, state in self.parts.items()}

    # -- the coordinator (flow.py) ----------------------------------------------------------
    @abc.abstractmethod
    def _go(
        self, screen: Screen, message: str = "", *, error: bool = False, speak: bool = True
    ) -> list[Effect]:
        """Show ``screen`` with ``message``, spoken unless ``speak`` is False."""

    @abc.abstractmethod
    def _render(self) -> View: ...

    @abc.abstractmethod
    def _touch(self) -> None:
        """The citizen did something: the idle clock starts again."""

    @abc.abstractmethod
    def home(self) -> list[Effect]: ...

    # -- one journey for another ------------------------------------------------------------
    @abc.abstractmethod
    def _open_keypad(
        self, mode: KeypadMode, message: str = "", *, error: bool = False, speak: bool = True
    ) -> list[Effect]:
        """keypad.py: the keypad in ``mode``, empty."""

    @abc.abstractmethod
    def _id_typed(self, id_number: str) -> list[Effect]:
        """take_ticket.py: a valid ID number was typed instead of a card read."""

    @abc.abstractmethod
    def _status_typed(self, ticket_id: int | None, number: str) -> list[Effect]:
        """lookup.py: a query code or a ticket number was typed."""

    @abc.abstractmethod
    def _pin_typed(self, pin: str) -> list[Effect]:
        """maintenance.py: an admin PIN was typed."""

    @abc.abstractmethod
    def _heartbeat_now(self) -> Effect:
        """background.py: a heartbeat with the part states, at once."""

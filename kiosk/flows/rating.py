"""评价上次办理 (好差评 at the kiosk, issue 19): the citizen finds their last visit by the ID
card it was taken with, or by the number on the ticket (the ID card screen's manual button
opens the ticket-number keypad), and rates it: the five national levels, and after 不满意 or
非常不满意 the reasons (GB/T 39734 Annex A). The hall records channel ``kiosk``; a visit
already rated, or none in the last days, is said so. Voluntary: nothing waits for it.

The card's ID number goes to the hall once (``FindVisit``) and is not kept here."""

from __future__ import annotations

from typing import Any

from kiosk.flows.keypad import Keypad
from kiosk.flows.model import (
    CancelCard,
    Effect,
    FindVisit,
    KeypadMode,
    Purpose,
    RatingView,
    Screen,
    SubmitRating,
)
from kiosk.flows.numbers import normalize_ticket_number
from kiosk.flows.take_ticket import TakeTicket

LOW_SCORE = 2  # 不满意, 非常不满意: a 差评, whose reasons are asked
REASONS = (
    "long_wait",
    "slow_handling",
    "repeat_visits",
    "unclear_requirements",
    "not_competent",
    "attitude",
    "passing_the_buck",
    "facilities",
    "other",
)


class Rating(TakeTicket, Keypad):
    _visit: dict[str, Any] | None = None
    _rate_score: int | None = None
    _rate_reasons: tuple[str, ...] = ()

    def tap_rate(self) -> list[Effect]:
        """评价上次办理 on the home screen: the card first, the ticket number by hand."""
        self._touch()
        self._purpose = Purpose.RATING
        self._visit, self._rate_score, self._rate_reasons = None, None, ()
        reader = self._part("reader")
        if reader is not None and not reader.is_connected():
            return self._open_keypad(KeypadMode.RATING, self._txt("rate_enter_number"))
        return self._start_card()

    # -- the visit: by card, or by the ticket's number ----------------------------------------
    def manual_entry(self) -> list[Effect]:
        if self._purpose is not Purpose.RATING:
            return super().manual_entry()
        self._touch()
        if self._screen is not Screen.ID_CARD:
            return []
        return [
            CancelCard(self.token),
            *self._open_keypad(KeypadMode.RATING, self._txt("rate_enter_number")),
        ]

    def on_card(self, token: int, card: Any) -> list[Effect]:
        if self._purpose is not Purpose.RATING:
            return super().on_card(token, card)
        if token != self.token or self._screen is not Screen.ID_CARD:
            return []
        self._touch()
        return [
            self._say(self._txt("take_card_back")),
            FindVisit(self.token, id_number=card.id_number),
            *self._go(Screen.MESSAGE, self._txt("rate_finding"), speak=False),
        ]

    def _id_typed(self, id_number: str) -> list[Effect]:
        """The keypad's ID mode, after a card the reader could not use."""
        if self._purpose is not Purpose.RATING:
            return super()._id_typed(id_number)
        return [
            FindVisit(self.token, id_number=id_number),
            *self._go(Screen.MESSAGE, self._txt("rate_finding"), speak=False),
        ]

    def _keypad_keys(self) -> str:
        if self._keypad_mode is KeypadMode.RATING:
            return self._status_letters() + "0123456789-"
        return super()._keypad_keys()

    def key_ok(self) -> list[Effect]:
        if self._screen is not Screen.KEYPAD or self._keypad_mode is not KeypadMode.RATING:
            return super().key_ok()
        self._touch()
        number = normalize_ticket_number(self._keys, self._known_prefixes())
        if number is None:
            return self._go(Screen.KEYPAD, self._txt("rate_enter_number"), error=True)
        self._keys = ""
        return [
            FindVisit(self.token, number=number),
            *self._go(Screen.MESSAGE, self._txt("rate_finding"), speak=False),
        ]

    def on_visit(self, token: int, visit: dict[str, Any]) -> list[Effect]:
        if token != self.token or self._purpose is not Purpose.RATING:
            return []
        self._visit = visit
        self._rate_score, self._rate_reasons = None, ()
        return self._go(Screen.RATE, self._txt("rate_ask"))

    def on_visit_failed(self, token: int, code: str) -> list[Effect]:
        if token != self.token or self._purpose is not Purpose.RATING:
            return []
        key = {"visit_not_found": "rate_none", "unavailable": "hall_unreachable"}.get(
            code, "rate_none"
        )
        return self._go(Screen.MESSAGE, self._txt(key), error=True)

    # -- the rating ---------------------------------------------------------------------------
    def rate(self, score: int) -> list[Effect]:
        self._touch()
        if self._screen is not Screen.RATE or self._visit is None or not 1 <= score <= 5:
            return []
        self._rate_score = score
        if score <= LOW_SCORE:
            return self._go(Screen.RATE, self._txt("rate_why"))
        return self._submit()

    def rate_reason(self, code: str) -> list[Effect]:
        self._touch()
        if self._screen is not Screen.RATE or code not in REASONS:
            return []
        chosen = set(self._rate_reasons) ^ {code}
        self._rate_reasons = tuple(r for r in REASONS if r in chosen)
        self.view = self._render()
        return []

    def rate_send(self) -> list[Effect]:
        self._touch()
        if self._screen is not Screen.RATE or self._rate_score is None:
            return []
        return self._submit()

    def _submit(self) -> list[Effect]:
        assert self._visit is not None and self._rate_score is not None
        low = self._rate_score <= LOW_SCORE
        effect = SubmitRating(
            self.token,
            ticket=int(self._visit["ticket"]),
            score=self._rate_score,
            matter_no=self._visit.get("matter_no"),
            reasons=self._rate_reasons if low else (),
        )
        return [effect, *self._go(Screen.MESSAGE, self._txt("rate_sending"), speak=False)]

    def on_rated(self, token: int, ok: bool) -> list[Effect]:
        if token != self.token or self._purpose is not Purpose.RATING:
            return []
        self._visit, self._rate_score, self._rate_reasons = None, None, ()
        return self._go(
            Screen.MESSAGE, self._txt("rate_thanks" if ok else "rate_failed"), error=not ok
        )

    def _rating_view(self) -> RatingView | None:
        if self._purpose is Purpose.RATING and self._screen in (Screen.ID_CARD, Screen.KEYPAD):
            return RatingView(number="", service="")  # the card screen says what it is for
        if self._screen is not Screen.RATE or self._visit is None:
            return None
        name = self._visit.get("service_name_en") if self.lang == "en" else None
        return RatingView(
            number=str(self._visit.get("number", "")),
            service=str(name or self._visit.get("service_name", "")),
            score=self._rate_score,
            asking_reasons=self._rate_score is not None and self._rate_score <= LOW_SCORE,
            reasons=self._rate_reasons,
        )

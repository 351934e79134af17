"""评价上次办理 on the kiosk (issue 19), the pure flow: the visit found by the ID card or the
ticket's number, the five levels, a 差评's reasons, the thanks; and the card's number never
in a view or a spoken text."""

from __future__ import annotations

from typing import Any

from kiosk.flows.flow import KioskFlow
from kiosk.flows.model import (
    CancelCard,
    CardData,
    FindVisit,
    KeypadMode,
    ReadCard,
    Say,
    Screen,
    SubmitRating,
)

CARD = CardData("110105198503171231", "张小三", "张**", b"P" * 1024)
VISIT = {
    "ticket": 7,
    "number": "B012",
    "service_name": "医保业务",
    "service_name_en": "Medical Insurance",
    "matter_no": "XC-20261202-B012",
}


def of(effects: list[Any], kind: type) -> list[Any]:
    return [e for e in effects if isinstance(e, kind)]


def test_by_card_a_good_rating_is_one_tap(flow: KioskFlow) -> None:
    effects = flow.tap_rate()
    assert flow.view.screen is Screen.ID_CARD and of(effects, ReadCard)
    effects = flow.on_card(flow.token, CARD)
    (find,) = of(effects, FindVisit)
    assert find.id_number == CARD.id_number and find.number == ""
    assert CARD.id_number not in repr(find)
    assert flow.view.screen is Screen.MESSAGE  # looking, not a ticket being issued
    flow.on_visit(flow.token, VISIT)
    assert flow.view.screen is Screen.RATE and flow.view.title == "评价上次办理"
    assert flow.view.rating is not None and flow.view.rating.number == "B012"
    (sent,) = of(flow.rate(5), SubmitRating)
    assert (sent.ticket, sent.score, sent.matter_no, sent.reasons) == (
        7,
        5,
        "XC-20261202-B012",
        (),
    )
    flow.on_rated(flow.token, True)
    assert flow.view.screen is Screen.MESSAGE and "感谢" in flow.view.message
    assert CARD.id_number not in repr(flow.view)


def test_by_number_a_bad_rating_asks_why(flow: KioskFlow) -> None:
    flow.tap_rate()
    effects = flow.manual_entry()
    assert of(effects, CancelCard) and flow.view.keypad_mode is KeypadMode.RATING
    assert "B" in flow.view.keypad_keys
    for ch in "b12":
        flow.key(ch)
    (find,) = of(flow.key_ok(), FindVisit)
    assert find.number == "B012" and find.id_number == ""
    flow.on_visit(flow.token, VISIT)
    effects = flow.rate(2)
    assert not of(effects, SubmitRating) and of(effects, Say)  # the reasons first
    assert flow.view.rating is not None and flow.view.rating.asking_reasons
    flow.rate_reason("long_wait")
    flow.rate_reason("attitude")
    flow.rate_reason("long_wait")  # a second tap takes it back
    flow.rate_reason("not_a_reason")
    assert flow.view.rating.reasons == ("attitude",)
    (sent,) = of(flow.rate_send(), SubmitRating)
    assert (sent.score, sent.reasons) == (2, ("attitude",))


def test_nothing_to_rate_and_the_hall_away_are_said(flow: KioskFlow) -> None:
    flow.tap_rate()
    flow.on_card(flow.token, CARD)
    flow.on_visit_failed(flow.token, "visit_not_found")
    assert flow.view.screen is Screen.MESSAGE and flow.view.message_error
    assert "没有找到" in flow.view.message
    flow.home()
    flow.tap_rate()
    effects = flow.on_card(flow.token, CARD)
    flow.on_effect_failed(of(effects, FindVisit)[0])
    assert "无法连接" in flow.view.message
    stale = flow.token
    flow.home()
    assert flow.on_visit(stale, VISIT) == [] and flow.view.screen is Screen.HOME


def test_taking_a_ticket_is_unchanged_by_the_rating_journey(flow: KioskFlow) -> None:
    """The card and the keypad still serve the ticket journey outside 评价上次办理."""
    flow.tap_rate()
    flow.home()
    flow.tap_service("A")
    effects = flow.on_card(flow.token, CARD)
    assert not of(effects, FindVisit)
    flow.home()
    flow.tap_status()
    assert flow.view.keypad_mode is KeypadMode.STATUS

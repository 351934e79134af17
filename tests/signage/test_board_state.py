"""The board view-model without a window: snapshot + events → state → texts."""

from __future__ import annotations

import sys
from typing import Any

import pytest

from signage.board_state import (
    TILE_COLUMNS,
    BadEvent,
    BoardState,
    apply,
    board_view,
    bounded_text,
    counter_view,
    display_width,
    english_counter_name,
    from_snapshot,
    set_connected,
)

NOW = 1_780_000_000.0  # 2026-05-29 04:26 (Friday) in Asia/Shanghai


def snapshot(**over: Any) -> dict[str, Any]:
    board = {
        "hall": {
            "name": "西城区政务服务中心",
            "name_en": "Xicheng",
            "notice": "请保管好小票",
            "timezone": "Asia/Shanghai",
        },
        "recent_calls": [
            {
                "id": 2,
                "number": "A002",
                "service": "A",
                "priority": "normal",
                "status": "called",
                "counter": "3",
                "counter_name": "3号窗口",
                "counter_name_en": "",
                "name_masked": "张**",
                "recall_count": 0,
                "called_at": "2026-05-28T09:01:00+08:00",
            },
            {
                "id": 1,
                "number": "A001",
                "service": "A",
                "priority": "normal",
                "status": "done",
                "counter": "3",
                "counter_name": "3号窗口",
                "counter_name_en": "",
                "name_masked": None,
                "recall_count": 0,
                "called_at": "2026-05-28T09:00:00+08:00",
            },
        ],
        "waiting": {"A": 5, "B": 0},
        "services": [
            {"code": "A", "name": "社保业务", "name_en": "Social Security", "prefix": "A"},
            {"code": "B", "name": "医保业务", "name_en": "Medical", "prefix": "B"},
        ],
        "counters": [
            {
                "id": "3",
                "name": "3号窗口",
                "name_en": "",
                "state": "open",
                "reason": None,
                "services": ["A"],
            },
            {
                "id": "5",
                "name": "5号窗口",
                "name_en": "",
                "state": "closed",
                "reason": None,
                "services": ["A", "B"],
            },
        ],
        "last_event_id": 10,
    }
    board.update(over)
    return board


def called(
    tid: int,
    number: str,
    counter: str,
    *,
    kind: str = "called",
    waiting: dict[str, int] | None = None,
    name: str | None = None,
) -> dict[str, Any]:
    return {
        "ticket": {
            "id": tid,
            "number": number,
            "service": number[0],
            "priority": "normal",
            "status": "called",
            "counter": counter,
            "counter_name": f"{counter}号窗口",
            "counter_name_en": f"Counter {counter}",
            "name_masked": name,
            "recall_count": 1 if kind == "recalled" else 0,
        },
        "waiting": waiting if waiting is not None else {"A": 4, "B": 1},
    }


@pytest.fixture
def state() -> BoardState:
    return from_snapshot(snapshot(), now=NOW, recent=3)


def test_kivy_is_not_imported() -> None:
    assert "kivy" not in sys.modules  # the view-model must run without a window


def test_snapshot_gives_current_call_counters_and_waiting(state: BoardState) -> None:
    assert [c.number for c in state.calls] == ["A002", "A001"]
    assert state.counter("3").current == "A002"  # A001 is done, A002 still at the counter
    assert state.counter("5").state == "closed"
    assert {s.code: s.waiting for s in state.services} == {"A": 5, "B": 0}
    view = board_view(state, NOW)
    assert view.headline == "请 A002 号 到 3号窗口"
    assert not view.flashing  # snapshot calls are old news
    assert view.status == ""
    assert view.date == "2026年5月29日 星期五"


def test_names_never_shown_unless_the_hall_turns_masked_names_on(state: BoardState) -> None:
    assert all(c.name_masked is None for c in state.calls)
    masked = from_snapshot(snapshot(), now=NOW, show_names=True)
    assert masked.calls[0].name_masked == "张**"
    # A full name sent by mistake is refused even when masked names are on.
    s = apply(masked, 11, "ticket.called", called(9, "A009", "3", name="张三丰"), now=NOW)
    assert s.calls[0].name_masked is None
    assert "张三丰" not in repr(board_view(s, NOW))


def test_new_call_flashes_then_stops(state: BoardState) -> None:
    s = apply(state, 11, "ticket.called", called(3, "B001", "5"), now=NOW)
    view = board_view(s, NOW + 1)
    assert view.headline == "请 B001 号 到 5号窗口"
    assert view.headline_en == "Number B001, please go to Counter 5"
    assert view.flashing
    assert not board_view(s, NOW + s.flash_s + 0.1).flashing
    assert [r.number for r in view.recent] == ["A002", "A001"]
    assert {x.code: x.waiting for x in s.services} == {"A": 4, "B": 1}
    assert s.counter("5").current == "B001"


def test_recent_list_is_bounded_and_a_recall_moves_to_top(state: BoardState) -> None:
    s = state
    for i, n in enumerate(["A003", "A004", "A005", "A006"], start=11):
        s = apply(s, i, "ticket.called", called(i, n, "3"), now=NOW)
    assert [c.number for c in s.calls] == ["A006", "A005", "A004", "A003"]  # current + 3
    s = apply(s, 20, "ticket.recalled", called(12, "A004", "3", kind="recalled"), now=NOW + 5)
    assert [c.number for c in s.calls] == ["A004", "A006", "A005", "A003"]
    assert len({c.ticket_id for c in s.calls}) == len(s.calls)  # never listed twice


def test_replayed_events_are_ignored(state: BoardState) -> None:
    s = apply(state, 11, "ticket.called", called(3, "B001", "5"), now=NOW)
    again = apply(s, 11, "ticket.called", called(3, "B001", "5"), now=NOW + 1)
    older = apply(s, 4, "counter.paused", {"counter": "3", "reason": "x"}, now=NOW)
    assert again is s and older is s


def test_counter_pause_resume_and_ticket_leaving(state: BoardState) -> None:
    s = apply(state, 11, "counter.paused", {"counter": "3", "reason": "午休"}, now=NOW)
    tile = next(x for x in board_view(s, NOW).counters if x.label == "3号")
    assert (tile.state, tile.detail) == ("paused", "午休")
    assert counter_view(s, "3", NOW).line == "暂停服务：午休"
    s = apply(s, 12, "counter.resumed", {"counter": "3"}, now=NOW)
    assert s.counter("3").state == "open"
    finished = {
        "ticket": {**called(2, "A002", "3")["ticket"], "status": "done"},
        "waiting": {"A": 3},
    }
    s = apply(s, 13, "ticket.finished", finished, now=NOW)
    assert s.counter("3").current is None
    assert s.calls[0].status == "done"
    # Events carry only the touched services' counts: B keeps the count it had.
    assert {x.code: x.waiting for x in s.services} == {"A": 3, "B": 0}
    s = apply(s, 14, "ticket.issued", {**finished, "waiting": {"B": 2}}, now=NOW)
    assert {x.code: x.waiting for x in s.services} == {"A": 3, "B": 2}
    assert counter_view(s, "3", NOW).line == "空闲，请稍候"


@pytest.mark.parametrize(
    "kind,data",
    [
        ("ticket.called", None),
        ("ticket.called", {"ticket": "A001"}),
        ("ticket.called", {"ticket": {"id": "x", "number": "A001", "counter": "3"}}),
        ("ticket.called", {"ticket": {"id": 5, "number": "<script>", "counter": "3"}}),
        ("ticket.called", {"ticket": {"id": 5, "number": "A005", "counter": None}}),
        ("ticket.called", {**called(5, "A005", "3"), "waiting": {"A": -1}}),
        ("ticket.finished", {"ticket": {"number": "A005"}}),
        ("counter.paused", {"reason": "x"}),
        ("ticket.issued", {"raw": "not json"}),
    ],
)
def test_malformed_event_changes_nothing_but_the_reject_count(
    state: BoardState, kind: str, data: Any
) -> None:
    s = apply(state, 11, kind, data, now=NOW)
    assert s.rejected == 1
    assert s.last_event_id == 11  # consumed: a resume will not fetch it again
    assert (s.calls, s.counters, s.services) == (state.calls, state.counters, state.services)
    # …and the board keeps working afterwards.
    s = apply(s, 12, "ticket.called", called(6, "A006", "3"), now=NOW)
    assert s.calls[0].number == "A006" and s.rejected == 1


def test_unrelated_events_are_ignored_but_consumed(state: BoardState) -> None:
    s = apply(state, 11, "help.requested", {"kiosk": "K1"}, now=NOW)
    assert s.rejected == 0 and s.last_event_id == 11 and s.calls == state.calls


def test_disconnected_board_says_so(state: BoardState) -> None:
    s = set_connected(state, False)
    assert board_view(s, NOW).status == "连接中断，正在重新连接…"
    assert counter_view(s, "3", NOW).status
    assert set_connected(set_connected(s, True), True).connected


def test_unusable_snapshot_raises() -> None:
    with pytest.raises(BadEvent):
        from_snapshot({"hall": {}}, now=NOW)


def test_empty_hall_welcomes() -> None:
    s = from_snapshot(snapshot(recent_calls=[]), now=NOW)
    view = board_view(s, NOW)
    assert view.headline == "欢迎光临，请取号等候" and view.recent == ()
    assert counter_view(s, "5", NOW).line == "未开放"
    assert counter_view(s, "99", NOW).line == "未配置的窗口"


def test_a_closed_day_leaves_the_board_empty_for_the_morning(state: BoardState) -> None:
    expired = {
        "ticket": {**called(2, "A002", "3")["ticket"], "status": "expired"},
        "waiting": {"A": 0},
    }
    s = apply(state, 20, "ticket.expired", expired, now=NOW)
    assert s.counter("3").current is None  # an expired ticket leaves its counter
    s = apply(
        s,
        21,
        "day.closed",
        {"day": "2026-05-28", "expired": 6, "waiting": {"A": 0, "B": 0}},
        now=NOW,
    )
    assert s.calls == () and {x.code: x.waiting for x in s.services} == {"A": 0, "B": 0}
    assert board_view(s, NOW).headline == "欢迎光临，请取号等候"


def test_counters_without_an_english_name_get_one_from_their_number(state: BoardState) -> None:
    # The snapshot's counters and calls carry name_en "": the English line must not fall
    # back to the Chinese name ("please go to 3号窗口").
    view = board_view(state, NOW)
    assert view.headline_en == "Number A002, please go to Counter 3"
    assert [(c.label, c.label_en) for c in view.counters] == [
        ("3号", "Counter 3"),
        ("5号", "Counter 5"),
    ]
    assert [(r.counter, r.counter_en) for r in view.recent] == [("3号窗口", "Counter 3")]
    assert counter_view(state, "3", NOW).name_en == "Counter 3"
    s = apply(state, 11, "ticket.called", called(3, "B001", "5"), now=NOW)
    assert board_view(s, NOW).headline_en == "Number B001, please go to Counter 5"


@pytest.mark.parametrize(
    ("counter_id", "name", "name_en", "english"),
    [
        ("13", "13号窗口", "", "Counter 13"),
        ("13", "综合窗口", None, "Counter 13"),  # the id is the counter's number
        ("c12", "12号窗口", "", "Counter 12"),  # else the number in its name
        ("desk", "综合窗口", "", "Counter desk"),  # else the id itself
        ("13", "13号窗口", "  Enquiries ", "Enquiries"),  # the hall's own name wins
    ],
)
def test_english_counter_name(
    counter_id: str, name: str, name_en: str | None, english: str
) -> None:
    assert english_counter_name(name, name_en, counter_id) == english
    board = snapshot(
        counters=[
            {"id": counter_id, "name": name, "name_en": name_en, "state": "open", "services": []}
        ],
        recent_calls=[],
    )
    s = from_snapshot(board, now=NOW)
    assert board_view(s, NOW).counters[0].label_en == english
    ticket = {
        "id": 9,
        "number": "A009",
        "counter": counter_id,
        "counter_name": name,
        "counter_name_en": name_en,
    }
    s = apply(s, 11, "ticket.called", {"ticket": ticket}, now=NOW)
    assert board_view(s, NOW).headline_en == f"Number A009, please go to {english}"


def test_offline_and_long_numbers_are_shown(state: BoardState) -> None:
    s = state
    for i, number in enumerate(["K1-J001", "A1000", "B12001"], start=11):
        s = apply(s, i, "ticket.called", called(i, number, "3"), now=NOW)
        assert s.rejected == 0 and s.calls[0].number == number
        assert board_view(s, NOW).headline == f"请 {number} 号 到 3号窗口"
    assert s.counter("3").current == "B12001"


def test_the_headline_never_sends_anyone_to_a_counter_that_moved_on(state: BoardState) -> None:
    s = apply(state, 11, "ticket.called", called(3, "B001", "5"), now=NOW)
    assert board_view(s, NOW).headline == "请 B001 号 到 5号窗口"
    # counter 5 finishes B001: the headline falls back to the call still waited for (A002 at
    # counter 3), and B001 stays in the recent list
    s = apply(s, 12, "ticket.finished", {"ticket": {"id": 3, "status": "done"}}, now=NOW)
    view = board_view(s, NOW)
    assert view.headline == "请 A002 号 到 3号窗口"
    assert "B001" in [r.number for r in view.recent]
    # counter 3 pauses with A002 still on it: nobody is sent there either
    s = apply(s, 13, "counter.paused", {"counter": "3", "reason": "午休"}, now=NOW)
    assert board_view(s, NOW).headline == "欢迎光临，请取号等候"


def test_an_idle_open_counter_says_free_and_only_a_serving_one_is_lit(state: BoardState) -> None:
    s = apply(state, 11, "ticket.finished", {"ticket": {"id": 2, "status": "done"}}, now=NOW)
    tiles = {x.label: x for x in board_view(s, NOW).counters}
    assert (tiles["3号"].detail, tiles["3号"].serving) == ("空闲", False)
    assert (tiles["5号"].detail, tiles["5号"].state) == ("未开放", "closed")
    assert all(display_width(x.detail) <= TILE_COLUMNS for x in tiles.values())
    assert all(display_width(x.detail) <= TILE_COLUMNS for x in tiles.values())
    s = apply(s, 12, "ticket.called", called(4, "A004", "3"), now=NOW)
    tiles = {x.label: x for x in board_view(s, NOW).counters}
    assert (tiles["3号"].detail, tiles["3号"].serving) == ("A004", True)


def test_a_long_reason_goes_whole_into_the_notice_and_the_tile_says_paused(
    state: BoardState,
) -> None:
    reason = "系统升级，请到5号窗口办理"
    s = apply(state, 11, "counter.paused", {"counter": "3", "reason": reason}, now=NOW)
    view = board_view(s, NOW)
    tile = next(x for x in view.counters if x.label == "3号")
    assert tile.detail == "暂停" and reason in view.notice
    assert view.notice.startswith("请保管好小票")  # the hall's own notice stays first


@pytest.mark.parametrize(
    ("text", "limit", "expected"),
    [
        ("午休", 40, "午休"),
        ("Training session for the new booking system today", 20, "Training session…"),
        ("培训" * 30, 10, "培训培训培训培训培…"),
        ("a" * 50, 10, "aaaaaaaaa…"),  # one endless word: cut, it is all there is
        ("Lunch,   back   at 13:30", 40, "Lunch, back at 13:30"),
    ],
)
def test_reasons_are_bounded_at_a_word(text: str, limit: int, expected: str) -> None:
    assert bounded_text(text, limit) == expected
    assert len(bounded_text(text, limit)) <= limit

"""The kiosk flow without a window, a device or a network: every transition, and what must
still hold after it (nothing personal kept, no ticket unseen)."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

from kiosk.flows.flow import KioskFlow, mask_typed_id, normalize_ticket_number
from kiosk.flows.model import (
    CancelCard,
    CardData,
    CheckIn,
    HallWait,
    Heartbeat,
    HelpRequest,
    IssueOffline,
    IssueTicket,
    LoadServices,
    PollDevices,
    PrintGuide,
    PrintTicket,
    QueryTicket,
    ReadCard,
    Say,
    Screen,
    UploadJournal,
)
from tests.kiosk.conftest import make_settings, sample_tiles
from tests.support.clock import FakeClock

YOUNG = CardData("110105198503171231", "张小三", "张**", b"P" * 1024)
ELDER = CardData("11010519500101003X", "李老", "李*", b"P" * 1024)


def kinds(effects: list) -> list[type]:
    return [type(e) for e in effects]


def said(effects: list) -> str:
    return " ".join(e.text for e in effects if isinstance(e, Say))


def issued(flow: KioskFlow, number: str = "G001", **extra: object) -> list:
    ticket = {
        "id": 7,
        "number": number,
        "service": "G",
        "issued_at": "2025-05-06T10:00:00+08:00",
        "waiting_ahead": 2,
        "estimated_wait_s": 600,
        "priority": "normal",
        "public_token": "tok-7",
        **extra,
    }
    return flow.on_issued(flow.token, ticket)


def test_service_without_id_issues_at_once_then_shows_and_prints(flow: KioskFlow) -> None:
    effects = flow.tap_service("G")
    assert flow.view.screen is Screen.ISSUING
    (issue,) = [e for e in effects if isinstance(e, IssueTicket)]
    assert issue.service == "G" and issue.id_number is None and issue.idempotency_key
    effects = issued(flow)
    # shown before it is printed: a ticket the hall holds is never unseen
    assert flow.view.screen is Screen.TICKET and flow.view.ticket.printing
    (job,) = [e for e in effects if isinstance(e, PrintTicket)]
    assert job.ticket.number == "G001" and job.service_name == "企业开办"
    assert job.ticket.qr_payload == "http://127.0.0.1:1/t/tok-7"  # no public_url: the server
    effects = flow.on_printed(flow.token)
    assert not flow.view.ticket.printing and not flow.view.ticket.print_failed
    text = said(effects)
    # G is spelled 吉 (jí) for espeak-ng, which reads a bare G as zhì (voice.toml letter_names)
    assert "吉 零 零 一" in text and "前面还有 2 人" in text and "10 分钟" in text


def test_id_service_reads_card_and_sends_the_number_only_to_the_hall(flow: KioskFlow) -> None:
    effects = flow.tap_service("A")
    assert flow.view.screen is Screen.ID_CARD and ReadCard in kinds(effects)
    assert "请将身份证放在读卡区" in said(effects)
    effects = flow.on_card(flow.token, YOUNG)
    (issue,) = [e for e in effects if isinstance(e, IssueTicket)]
    assert issue.id_number == YOUNG.id_number and issue.name == "张小三"
    assert "110105198503171231" not in repr(issue) and "110105198503171231" not in repr(YOUNG)
    assert flow.view.greeting == "张**，您好"
    assert not flow.view.elderly


def test_elderly_card_switches_elderly_mode_for_that_citizen_only(flow: KioskFlow) -> None:
    flow.tap_service("A")
    flow.on_card(flow.token, ELDER)
    assert flow.view.elderly
    issued(flow, "A001")
    flow.home()
    assert not flow.view.elderly and flow.view.greeting == ""
    # the button keeps it on across citizens
    flow.toggle_elderly()
    flow.home()
    assert flow.view.elderly


def test_missing_reader_goes_to_keypad_and_bad_number_keeps_digits(flow: KioskFlow) -> None:
    flow.tap_service("A")
    effects = flow.on_card_failed(flow.token, "idcard.no_reader")
    assert flow.view.screen is Screen.KEYPAD and flow.view.keypad_mode == "id"
    assert "手动输入" in said(effects) and flow.view.message_error
    assert flow.parts["reader"] == "offline"
    for ch in "110105198503171232":  # wrong check digit
        flow.key(ch)
    effects = flow.key_ok()
    assert flow.view.screen is Screen.KEYPAD and "有误" in said(effects)
    assert flow.view.keypad_text == "110105 ******** 1232"  # birth date never shown
    flow.key_delete()
    flow.key("1")
    effects = flow.key_ok()
    (issue,) = [e for e in effects if isinstance(e, IssueTicket)]
    assert issue.id_number == "110105198503171231"
    # next time the reader is known missing: straight to the keypad
    flow.home()
    flow.tap_service("A")
    assert flow.view.screen is Screen.KEYPAD


def test_manual_entry_button_cancels_the_read(flow: KioskFlow) -> None:
    flow.tap_service("B")
    effects = flow.manual_entry()
    assert CancelCard in kinds(effects) and flow.view.screen is Screen.KEYPAD


def test_read_failure_retries_and_a_stale_result_is_ignored(flow: KioskFlow) -> None:
    flow.tap_service("A")
    effects = flow.on_card_failed(flow.token, "idcard.read_failed")
    assert ReadCard in kinds(effects) and flow.view.screen is Screen.ID_CARD
    old = flow.token
    effects = flow.home()
    assert CancelCard(old) in effects
    # the card read that finishes after the citizen left must not resurrect the session
    assert flow.on_card(old, YOUNG) == []
    assert flow.view.screen is Screen.HOME and flow.view.greeting == ""


def test_refusal_is_said_and_nothing_is_shown_as_issued(flow: KioskFlow) -> None:
    flow.tap_service("A")
    flow.on_card(flow.token, YOUNG)
    effects = flow.on_refused(flow.token, "daily_limit", "limit")
    assert flow.view.screen is Screen.MESSAGE and flow.view.ticket is None
    assert "已取过" in said(effects)
    flow.on_refused(flow.token, "weird_code")
    assert "服务台" in flow.view.message


def test_outside_opening_hours_the_kiosk_says_when_the_service_opens(flow: KioskFlow) -> None:
    # issue "reliability" 1: a ticket asked for outside the hours is refused with the time
    flow.tap_service("G")
    effects = flow.on_refused(flow.token, "outside_hours", "", opens_at="2026-12-03T08:30+08:00")
    assert flow.view.screen is Screen.MESSAGE and flow.view.ticket is None
    assert "12月3日 08:30" in flow.view.message and "12月3日 08:30" in said(effects)
    flow.lang = "en"
    flow.on_refused(flow.token, "outside_hours", "", opens_at="2026-12-03T08:30+08:00")
    assert "opens on 3 Dec at 08:30" in flow.view.message
    flow.on_refused(flow.token, "outside_hours", "", opens_at=None)
    assert "not taking tickets now" in flow.view.message


def test_a_service_opens_on_time_even_with_a_service_list_from_before(
    flow: KioskFlow, clock: FakeClock
) -> None:
    # found by tests/e2e/test_day.py: the list fetched at 07:50 said "closed, opens 08:30",
    # and at 08:30 the kiosk still refused by itself until the next poll
    opens = clock.now + dt.timedelta(minutes=40)
    flow.tiles = tuple(
        replace(t, open=False, opens_at=opens.isoformat()) if t.code == "G" else t
        for t in flow.tiles
    )
    flow.tap_service("G")
    assert flow.view.screen is Screen.MESSAGE and flow.view.ticket is None
    clock.advance(40 * 60)
    effects = flow.tap_service("G")
    assert any(isinstance(e, IssueTicket) for e in effects)  # the hall decides now


def test_printer_fault_keeps_ticket_on_screen_with_qr_and_alerts_hall(flow: KioskFlow) -> None:
    flow.tap_service("G")
    issued(flow)
    effects = flow.on_print_failed(flow.token, "printer.paper_end")
    assert flow.view.screen is Screen.TICKET
    tk = flow.view.ticket
    assert tk.print_failed and tk.number == "G001" and tk.qr_payload
    (hb,) = [e for e in effects if isinstance(e, Heartbeat)]
    assert hb.parts["printer"] == "error"
    assert "打印机故障" in said(effects) and "吉 零 零 一" in said(effects)


def test_hall_down_issues_offline_and_uploads_when_back(flow: KioskFlow) -> None:
    issued_before = flow.tap_service("G")
    effects = flow.on_hall_unavailable(flow.token)
    (off,) = [e for e in effects if isinstance(e, IssueOffline)]
    assert off.service == "G" and off.prefix == "G" and flow.view.offline
    # the online request may have been issued with its answer lost: its key goes along
    (sent,) = [e for e in issued_before if isinstance(e, IssueTicket)]
    assert off.withdraw_key == sent.idempotency_key != ""
    assert flow.pending_withdrawals == 1
    assert "离线" in said(effects)
    now = dt.datetime(2025, 5, 6, 10, 0, tzinfo=dt.UTC)
    effects = flow.on_issued(
        flow.token, {"number": "K1-G001", "service": "G", "issued_at": now}, offline=True
    )
    tk = flow.view.ticket
    assert tk.offline and tk.waiting_ahead is None and tk.estimated_wait_s is None
    assert flow.view.pending_uploads == 1
    effects = flow.on_printed(flow.token)
    assert "暂无法估算" in said(effects)  # no invented estimate
    # the next citizen goes straight to the journal, without waiting for a timeout
    flow.home()
    effects = flow.tap_service("J")
    (off,) = [e for e in effects if isinstance(e, IssueOffline)]
    assert off.withdraw_key == ""  # nothing was sent to the hall: nothing to withdraw
    effects = flow.on_heartbeat(True)
    assert UploadJournal in kinds(effects) and LoadServices in kinds(effects)
    assert not flow.view.offline
    flow.on_uploaded(0, 1)  # the phantom's 404 is not believed yet
    assert flow.view.pending_uploads == 0
    assert UploadJournal in kinds(flow.on_heartbeat(True))  # so it is tried again
    flow.on_uploaded(0, 0)
    assert flow.on_heartbeat(True) == []


def test_idle_warning_then_timeout_clears_personal_data(flow: KioskFlow, clock: FakeClock) -> None:
    flow.tap_service("A")
    flow.on_card_failed(flow.token, "idcard.no_reader")
    for ch in "1101051985":
        flow.key(ch)
    clock.advance(49)
    assert not flow.view.idle_warning
    flow.tick()
    clock.advance(1)
    effects = flow.tick()
    assert flow.view.idle_warning and "10 秒后" in said(effects)
    flow.still_here()
    assert not flow.view.idle_warning
    clock.advance(61)
    effects = flow.tick()
    assert flow.view.screen is Screen.HOME and "信息已清除" in said(effects)
    assert flow.view.keypad_text == "" and flow._keys == "" and flow._card is None


def test_issuing_is_never_idle_timed_out(clock: FakeClock) -> None:
    # a hall client that may wait long: the issuing screen's deadline is past the idle timeout
    slow = HallWait(timeout_s=30.0)
    flow = KioskFlow(make_settings(), "h", "h", sample_tiles(), clock=clock, hall_wait=slow)
    flow.wake()
    flow.tap_service("G")
    waited = flow.settings.idle_timeout_s * 2
    assert flow.busy_deadline_s > waited
    clock.advance(waited)
    flow.tick()
    assert flow.view.screen is Screen.ISSUING
    assert flow.back() == [] and flow.view.screen is Screen.ISSUING
    issued(flow)
    assert flow.view.screen is Screen.TICKET


def test_ticket_screen_returns_home_and_home_to_attract(flow: KioskFlow, clock: FakeClock) -> None:
    flow.tap_service("G")
    issued(flow)
    clock.advance(31)
    flow.tick()
    assert flow.view.screen is Screen.HOME and flow.view.ticket is None
    clock.advance(121)
    flow.tick()
    assert flow.view.screen is Screen.ATTRACT


def test_heartbeat_every_few_seconds_and_on_change(flow: KioskFlow, clock: FakeClock) -> None:
    effects = flow.tick()
    assert PollDevices in kinds(effects) and Heartbeat in kinds(effects)
    clock.advance(1)
    assert Heartbeat not in kinds(flow.tick())
    effects = flow.on_devices({"printer": "error"})
    (hb,) = [e for e in effects if isinstance(e, Heartbeat)]
    assert hb.parts["printer"] == "error"
    assert flow.on_devices({"printer": "error"}) == []  # unchanged: no extra beat
    clock.advance(5)
    assert Heartbeat in kinds(flow.tick())
    assert flow.on_heartbeat(False) == [] and flow.view.offline


def test_services_failure_hides_stale_waiting_counts(flow: KioskFlow) -> None:
    flow.on_services_failed()
    assert all(t.waiting is None for t in flow.view.tiles) and flow.view.offline


def test_corner_gesture_and_pin_open_maintenance(flow: KioskFlow, clock: FakeClock) -> None:
    for _ in range(4):
        assert flow.corner_tap() == []
    flow.corner_tap()
    assert flow.view.screen is Screen.KEYPAD and flow.view.keypad_mode == "pin"
    for ch in "2468":
        flow.key(ch)
    assert flow.view.keypad_text == "●●●●"
    effects = flow.key_ok()
    assert flow.view.screen is Screen.MAINTENANCE and PollDevices in kinds(effects)
    effects = flow.maintenance_action("test_print")
    assert PrintTicket in kinds(effects)


def test_three_wrong_pins_go_home(flow: KioskFlow) -> None:
    for _ in range(5):
        flow.corner_tap()
    for _ in range(3):
        flow.key("1")
        flow.key("1")
        flow.key("1")
        flow.key("1")
        flow.key_ok()
    assert flow.view.screen is Screen.HOME


def test_slow_corner_taps_do_not_open(flow: KioskFlow, clock: FakeClock) -> None:
    for _ in range(6):
        flow.corner_tap()
        clock.advance(1.5)
    assert flow.view.screen is Screen.HOME


def test_checkin_reads_card_then_checks_in(flow: KioskFlow) -> None:
    flow.tap_checkin()
    assert flow.view.screen is Screen.ID_CARD
    effects = flow.on_card(flow.token, YOUNG)
    (ci,) = [e for e in effects if isinstance(e, CheckIn)]
    assert ci.id_number == YOUNG.id_number
    flow.on_refused(flow.token, "no_appointment")
    assert "未查询到" in flow.view.message


def test_checkin_offline_is_refused_clearly(flow: KioskFlow) -> None:
    flow.offline = True
    flow.tap_checkin()
    flow.on_card(flow.token, YOUNG)
    assert flow.view.screen is Screen.MESSAGE and "离线" in flow.view.message


def test_queue_status(flow: KioskFlow) -> None:
    flow.tap_status()
    for ch in "A3":
        flow.key(ch)
    (q,) = [e for e in flow.key_ok() if isinstance(e, QueryTicket)]
    assert q.number == "A003" and q.ticket_id is None
    flow.on_ticket_status(flow.token, {"number": "A003", "status": "waiting", "waiting_ahead": 4})
    assert flow.view.status_lines == ("号码 A003", "等候中", "前面还有 4 人")
    flow.back()
    flow.tap_status()
    flow.key("9")
    flow.key_ok()
    flow.on_status_failed(flow.token, "not_found")
    assert flow.view.screen is Screen.KEYPAD and "没有这个号码" in flow.view.message


def test_queue_status_by_the_big_number_on_the_ticket(flow: KioskFlow) -> None:
    flow.tap_status()
    # only the letters numbers can hold here: the hall's prefixes and the offline prefix
    assert flow.view.keypad_keys == "ABCDEFGHJK0123456789-"
    for ch in "a12":  # lower case from a hardware keyboard is fine too
        flow.key(ch)
    flow.key("Z")  # not a prefix: ignored
    assert flow.view.keypad_text == "A12"
    (q,) = [e for e in flow.key_ok() if isinstance(e, QueryTicket)]
    assert q.number == "A012" and q.ticket_id is None
    flow.on_ticket_status(
        flow.token, {"number": "A012", "status": "called", "counter_name": "3号窗口"}
    )
    assert flow.view.status_lines == ("号码 A012", "已叫号", "请到 3号窗口 办理")
    flow.home()
    flow.tap_status()
    assert flow.view.keypad_text == ""  # nothing of the last citizen's query
    for ch in "K1-G3":
        flow.key(ch)
    (q,) = [e for e in flow.key_ok() if isinstance(e, QueryTicket)]
    assert q.number == "K1-G003"
    # something that cannot be a number is said at once, without asking the hall
    flow.on_status_failed(flow.token, "not_found")
    flow.key("A")
    effects = flow.key_ok()
    assert QueryTicket not in kinds(effects) and flow.view.message_error
    assert flow.view.screen is Screen.KEYPAD and "A012" in said(effects)


def test_normalize_ticket_number() -> None:
    assert normalize_ticket_number("b7") == "B007"
    assert normalize_ticket_number("A1234") == "A1234"
    assert normalize_ticket_number("K1-A003") == "K1-A003"
    for bad in ("", "12A", "A", "-A001", "A-001", "AB12C", "12", "A123456789", "A١٢"):
        assert normalize_ticket_number(bad) is None, bad


def test_every_number_the_hall_can_print_can_be_typed_back() -> None:
    # prefixes of letters and digits (hall/domain/tickets.py format_number), offline ones
    assert normalize_ticket_number("a2b1") == "A2B001"
    assert normalize_ticket_number("K1-A2B7") == "K1-A2B007"
    assert normalize_ticket_number("Ａ１２") == "A012"  # full-width, as an IME types it
    # a prefix ending in a digit needs the hall's list: A2 + 1, not A + 21
    assert normalize_ticket_number("A21", ("A", "A2")) == "A2001"
    assert normalize_ticket_number("A21", ("A",)) == "A021"
    assert normalize_ticket_number("A21") == "A021"


def test_a_bare_number_is_not_a_way_into_someone_elses_ticket(flow: KioskFlow) -> None:
    # the old 查询码 was the database id: typing 1, 2, 3… walked through the day's tickets
    flow.tap_status()
    for ch in "17":
        flow.key(ch)
    effects = flow.key_ok()
    assert QueryTicket not in kinds(effects) and flow.view.message_error


def test_guide_shows_and_prints_materials(flow: KioskFlow) -> None:
    flow.tap_guide()
    effects = flow.tap_guide_service("A")
    assert flow.view.guide.code == "A" and "社会保障卡" in said(effects)
    (pg,) = [e for e in flow.print_guide() if isinstance(e, PrintGuide)]
    assert pg.service.code == "A"
    flow.on_guide_printed(flow.token, True)
    assert "已打印" in flow.view.message
    flow.back()
    assert flow.view.screen is Screen.GUIDE_LIST


def test_help_request(flow: KioskFlow) -> None:
    effects = flow.tap_help()
    assert HelpRequest in kinds(effects)
    flow.on_help_sent(flow.token, True)
    assert "已通知" in flow.view.message
    flow.tap_help()
    flow.on_help_sent(flow.token, False)
    assert "服务台" in flow.view.message and flow.view.message_error


def test_language_switch_changes_screen_and_voice(flow: KioskFlow) -> None:
    effects = flow.toggle_language()
    assert flow.view.title == "Please choose a service" and "English" in said(effects)
    effects = flow.tap_service("A")
    assert "Please place your ID card" in said(effects) and all(
        e.lang == "en" for e in effects if isinstance(e, Say)
    )


def test_closed_service_is_refused(flow: KioskFlow) -> None:
    from dataclasses import replace

    flow.tiles = tuple(replace(t, open=False) if t.code == "J" else t for t in flow.tiles)
    effects = flow.tap_service("J")
    assert IssueTicket not in kinds(effects) and flow.view.screen is Screen.MESSAGE


def test_mask_typed_id_hides_birth_date() -> None:
    assert mask_typed_id("110105198503171231") == "110105 ******** 1231"
    assert mask_typed_id("11010519") == "110105 **"
    assert mask_typed_id("") == ""


def test_ticket_qr_code_is_the_ticket_page_at_the_public_url(clock: FakeClock) -> None:
    """Scanned from the paper, the QR code opens <[hall].public_url>/t/<public_token>."""
    import cv2
    import numpy as np

    from devices.printer.image import image_job, render_elements
    from devices.printer.layout import TicketInfo, ticket_elements

    flow = KioskFlow(
        make_settings(),
        "西城区政务服务中心",
        "Xicheng",
        sample_tiles(),
        clock=clock,
        hall_id="xc",
        public_url="https://hall.example.gov.cn/",
    )
    flow.parts.update(printer="ok", reader="ok", camera="ok", speaker="ok")
    flow.wake()
    flow.tap_service("G")
    (job,) = [
        e
        for e in issued(flow, public_token="Xy3_kLmN0pQrStUvWxYz01ab")
        if isinstance(e, PrintTicket)
    ]
    url = "https://hall.example.gov.cn/t/Xy3_kLmN0pQrStUvWxYz01ab"
    assert job.ticket.qr_payload == url
    tk = job.ticket
    info = TicketInfo(
        "大厅", "企业开办", "", tk.number, 2, 600, tk.issued_at, qr_payload=tk.qr_payload
    )
    elements = ticket_elements(info, "80")
    paper = render_elements(elements, "80")
    assert image_job(elements, "80")  # the same elements go to the printer
    text, points, _ = cv2.QRCodeDetector().detectAndDecode(np.array(paper.convert("L")))
    assert points is not None and text == url
    # An offline ticket has no page at the hall yet: no code rather than a dead one.
    flow.on_hall_unavailable(flow.token)
    offline = flow.on_issued(
        flow.token,
        {"number": "K1-G001", "service": "G", "issued_at": "2025-05-06T10:00:00+08:00"},
        offline=True,
    )
    (job,) = [e for e in offline if isinstance(e, PrintTicket)]
    assert job.ticket.qr_payload == ""


def test_english_counts_are_singular_and_never_about_zero_minutes(flow: KioskFlow) -> None:
    # issue "a day in the hall" 8: "1 people", "about 0 minutes" with someone ahead
    flow.lang = "en"
    flow.tap_service("G")
    issued(flow, waiting_ahead=1, estimated_wait_s=20)
    effects = flow.on_printed(flow.token)
    assert "1 person ahead of you; you will be called shortly" in said(effects)
    flow.home()
    flow.tap_service("G")
    issued(flow, "G002", waiting_ahead=3, estimated_wait_s=600)
    assert "3 people ahead of you, about 10 minutes" in said(flow.on_printed(flow.token))


def test_after_the_card_is_read_the_citizen_is_told_to_take_it_back(flow: KioskFlow) -> None:
    # issue "a day in the hall" 7, and one word for the reader (读卡区) on screen and in voice
    effects = flow.tap_service("A")
    assert "读卡区" in said(effects) and "读卡区" in flow.view.message
    effects = flow.on_card(flow.token, YOUNG)
    assert said(effects).startswith("已读取，请取回您的身份证")


def test_a_passport_holder_gets_staff_to_take_the_ticket(flow: KioskFlow) -> None:
    # day in the hall 5: the reader takes ID cards and residence permits, not passports
    flow.tap_service("A")
    assert flow.view.screen is Screen.ID_CARD
    effects = flow.tap_passport()
    (help_request,) = [e for e in effects if isinstance(e, HelpRequest)]
    assert help_request.reason == "passport:A"
    assert flow.view.screen is Screen.MESSAGE and "工作人员将为您取号" in flow.view.message
    flow.on_help_sent(flow.token, True)
    assert "工作人员将为您取号" in flow.view.message  # not replaced by the generic words

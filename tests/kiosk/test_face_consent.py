"""The face step of a face-checked service, pure (no window, device or network): separate
consent before the camera starts, the liveness challenge with one retry and a deadline, and
人工核验 at the counter — a ticket all the same — whenever the citizen declines or the check
fails or cannot run (PIPL Art. 26/28/29; the face-recognition rules in force 2025-06-01)."""

from __future__ import annotations

import pytest

from kiosk.flows.flow import KioskFlow
from kiosk.flows.model import (
    CancelFace,
    CaptureFace,
    CardData,
    CountFace,
    Effect,
    FaceDecision,
    FaceEvent,
    HelpRequest,
    IssueOffline,
    IssueTicket,
    LivenessChallenge,
    PrintTicket,
    Say,
    Screen,
    StartCamera,
    Verification,
)
from tests.kiosk.conftest import make_settings, sample_tiles
from tests.support.clock import FakeClock

YOUNG = CardData("110105198503171231", "张小三", "张**", b"P" * 1024)
ELDER = CardData("11010519500101003X", "李老", "李*", b"P" * 1024)
MANUAL_LINE = "请到窗口人工核验身份"


def kinds(effects: list[Effect]) -> list[type]:
    return [type(e) for e in effects]


def said(effects: list[Effect]) -> str:
    return " ".join(e.text for e in effects if isinstance(e, Say))


def one(effects: list[Effect], kind: type) -> object:
    (found,) = [e for e in effects if isinstance(e, kind)]
    return found


def counted(effects: list[Effect]) -> list[FaceEvent]:
    return [e.event for e in effects if isinstance(e, CountFace)]


def at_consent(flow: KioskFlow, card: CardData = YOUNG, service: str = "D") -> list[Effect]:
    flow.tap_service(service)
    effects = flow.on_card(flow.token, card)
    assert flow.view.screen is Screen.FACE_CONSENT
    return effects


def camera_ready(flow: KioskFlow, challenge: str = "turn_left") -> list[Effect]:
    return flow.on_camera_ready(flow.token, LivenessChallenge(challenge))


def hall_ticket(flow: KioskFlow, verification: str | None, number: str = "D001") -> list[Effect]:
    ticket = {
        "id": 9,
        "number": number,
        "service": "D",
        "issued_at": "2025-05-06T10:00:00+08:00",
        "waiting_ahead": 0,
        "estimated_wait_s": 0,
        "verification": verification,
    }
    return flow.on_issued(flow.token, ticket)


def test_consent_is_asked_in_plain_words_before_the_camera_starts(flow: KioskFlow) -> None:
    effects = at_consent(flow)
    # nothing of the camera yet: no start, no capture, until the citizen agrees
    assert StartCamera not in kinds(effects) and CaptureFace not in kinds(effects)
    text = said(effects)
    assert "身份证照片" in text and "本机" in text and "不保存" in text and "不上传" in text
    assert "人工核验" in text  # the other way is said, not only shown
    assert flow.view.title == "人脸识别核验说明" and flow.view.challenge is None


def test_consent_given_then_challenge_then_pass_issues_a_face_ticket(flow: KioskFlow) -> None:
    at_consent(flow)
    effects = flow.consent_agree()
    assert counted(effects) == [FaceEvent.CONSENT_GIVEN]
    assert StartCamera in kinds(effects) and CaptureFace not in kinds(effects)
    assert flow.view.screen is Screen.FACE and flow.view.challenge is None
    effects = camera_ready(flow, "turn_left")
    assert flow.view.challenge is LivenessChallenge.TURN_LEFT and flow.view.challenge_s == 8.0
    assert "请慢慢向左转头" in said(effects)  # spoken; the screen shows the arrow and text
    cap = one(effects, CaptureFace)
    assert isinstance(cap, CaptureFace)
    assert cap.photo_wlt == YOUNG.photo_wlt and cap.challenge is LivenessChallenge.TURN_LEFT
    assert cap.timeout_s == 8.0
    effects = flow.on_face(flow.token, FaceDecision.MATCH)
    issue = one(effects, IssueTicket)
    assert isinstance(issue, IssueTicket) and issue.verification is Verification.FACE
    assert counted(effects) == [FaceEvent.PASSED]
    effects = hall_ticket(flow, "face")
    job = one(effects, PrintTicket)
    assert isinstance(job, PrintTicket) and job.ticket.verification is Verification.FACE
    assert MANUAL_LINE not in said(flow.on_printed(flow.token))


def test_declined_consent_issues_a_manual_ticket_without_the_camera(flow: KioskFlow) -> None:
    at_consent(flow)
    effects = flow.consent_decline()
    assert StartCamera not in kinds(effects) and CaptureFace not in kinds(effects)
    issue = one(effects, IssueTicket)
    assert isinstance(issue, IssueTicket) and issue.verification is Verification.MANUAL
    assert issue.id_number == YOUNG.id_number  # the ticket is the citizen's as always
    assert counted(effects) == [FaceEvent.CONSENT_DECLINED]
    assert MANUAL_LINE in said(effects) and flow.view.screen is Screen.ISSUING
    effects = hall_ticket(flow, "manual")
    assert flow.view.ticket is not None and flow.view.ticket.verification is Verification.MANUAL
    job = one(effects, PrintTicket)
    assert isinstance(job, PrintTicket) and job.ticket.verification is Verification.MANUAL
    assert MANUAL_LINE in said(flow.on_printed(flow.token))


def test_liveness_failing_twice_gives_a_manual_ticket(flow: KioskFlow) -> None:
    at_consent(flow)
    flow.consent_agree()
    camera_ready(flow, "turn_left")
    effects = flow.on_face(flow.token, FaceDecision.LIVENESS_FAILED)
    # one retry: the camera starts again and a new movement is chosen
    assert StartCamera in kinds(effects) and IssueTicket not in kinds(effects)
    assert flow.view.screen is Screen.FACE and flow.view.message_error
    assert flow.view.challenge is None
    effects = camera_ready(flow, "turn_right")
    # the retry note and the new instruction in one prompt (a new prompt cuts the last)
    assert "没有看到转头动作" in said(effects) and "请慢慢向右转头" in said(effects)
    assert flow.view.challenge is LivenessChallenge.TURN_RIGHT
    assert "没有看到转头动作" in flow.view.message  # shown too: this is the second try
    effects = flow.on_face(flow.token, FaceDecision.LIVENESS_FAILED)
    issue = one(effects, IssueTicket)
    assert isinstance(issue, IssueTicket) and issue.verification is Verification.MANUAL
    assert counted(effects) == [FaceEvent.FAILED] and MANUAL_LINE in said(effects)
    assert StartCamera not in kinds(effects)  # no third try


@pytest.mark.parametrize("decision", ["no_match", "no_face"])
def test_a_failed_comparison_is_retried_once_then_manual(flow: KioskFlow, decision: str) -> None:
    at_consent(flow)
    flow.consent_agree()
    camera_ready(flow)
    assert StartCamera in kinds(flow.on_face(flow.token, FaceDecision(decision)))
    camera_ready(flow)
    effects = flow.on_face(flow.token, FaceDecision(decision))
    issue = one(effects, IssueTicket)
    assert isinstance(issue, IssueTicket) and issue.verification is Verification.MANUAL
    assert HelpRequest not in kinds(effects)  # staff check at the counter, not at the kiosk


@pytest.mark.parametrize(
    ("decision", "event"),
    [("uncertain", FaceEvent.FAILED), ("unavailable", FaceEvent.UNAVAILABLE)],
)
def test_uncertain_or_unavailable_is_manual_at_once(
    flow: KioskFlow, decision: str, event: FaceEvent
) -> None:
    at_consent(flow)
    flow.consent_agree()
    camera_ready(flow)
    effects = flow.on_face(flow.token, FaceDecision(decision))
    issue = one(effects, IssueTicket)
    assert isinstance(issue, IssueTicket) and issue.verification is Verification.MANUAL
    assert counted(effects) == [event] and StartCamera not in kinds(effects)


def test_the_camera_not_starting_in_time_gives_a_manual_ticket(
    flow: KioskFlow, clock: FakeClock
) -> None:
    at_consent(flow)
    flow.consent_agree()
    clock.advance(14)
    assert IssueTicket not in kinds(flow.tick())
    clock.advance(1.5)
    effects = flow.tick()
    assert CancelFace(flow.token) in effects  # the camera is told to stop
    issue = one(effects, IssueTicket)
    assert isinstance(issue, IssueTicket) and issue.verification is Verification.MANUAL
    assert counted(effects) == [FaceEvent.UNAVAILABLE]
    # the camera's late answer changes nothing
    assert camera_ready(flow) == [] and flow.view.screen is Screen.ISSUING


def test_a_check_that_never_answers_gives_a_manual_ticket(
    flow: KioskFlow, clock: FakeClock
) -> None:
    at_consent(flow)
    flow.consent_agree()
    clock.advance(2)
    camera_ready(flow)
    clock.advance(27)  # the movement's 8 s and the comparison's 20 s not yet over
    assert kinds(flow.tick()).count(IssueTicket) == 0 and flow.view.screen is Screen.FACE
    clock.advance(1.5)
    effects = flow.tick()
    issue = one(effects, IssueTicket)
    assert isinstance(issue, IssueTicket) and issue.verification is Verification.MANUAL
    assert CancelFace(flow.token) in effects
    assert flow.on_face(flow.token, FaceDecision.MATCH) == []  # too late: already manual


def test_elderly_citizens_get_more_time_for_the_movement(flow: KioskFlow) -> None:
    at_consent(flow, ELDER)
    flow.consent_agree()
    cap = one(camera_ready(flow), CaptureFace)
    assert isinstance(cap, CaptureFace) and cap.timeout_s == 12.0
    assert flow.view.challenge_s == 12.0


def test_the_consent_screen_times_out_home_with_nothing_started(
    flow: KioskFlow, clock: FakeClock
) -> None:
    at_consent(flow)
    effects: list[Effect] = []
    for _ in range(61):
        clock.advance(1)
        effects += flow.tick()
    assert flow.view.screen is Screen.HOME and flow._card is None
    assert StartCamera not in kinds(effects) and IssueTicket not in kinds(effects)
    assert "秒后将返回首页" in said(effects)  # warned first, as on every screen


def test_consent_can_be_withdrawn_on_the_face_screen(flow: KioskFlow) -> None:
    at_consent(flow)
    flow.consent_agree()
    camera_ready(flow)
    effects = flow.face_withdraw()
    assert effects[0] == CancelFace(flow.token)  # the camera goes off first
    issue = one(effects, IssueTicket)
    assert isinstance(issue, IssueTicket) and issue.verification is Verification.MANUAL
    assert counted(effects) == [FaceEvent.CONSENT_WITHDRAWN]
    assert flow.on_face(flow.token, FaceDecision.CANCELLED) == []


def test_leaving_the_face_screen_stops_the_camera_and_late_answers_are_ignored(
    flow: KioskFlow,
) -> None:
    at_consent(flow)
    flow.consent_agree()
    old = flow.token
    assert CancelFace(old) in flow.home()
    assert flow.on_camera_ready(old, LivenessChallenge.TURN_LEFT) == []
    assert flow.on_face(old, FaceDecision.MATCH) == []
    assert flow.view.screen is Screen.HOME and flow._verification is None


def test_a_typed_number_or_a_broken_camera_goes_to_manual_without_asking(
    flow: KioskFlow,
) -> None:
    flow.tap_service("D")
    flow.manual_entry()
    for ch in YOUNG.id_number:
        flow.key(ch)
    effects = flow.key_ok()  # no card photo to compare a face with
    issue = one(effects, IssueTicket)
    assert isinstance(issue, IssueTicket) and issue.verification is Verification.MANUAL
    assert flow.view.screen is Screen.ISSUING and MANUAL_LINE in said(effects)
    flow.home()
    flow.parts["camera"] = "offline"
    flow.tap_service("F")
    effects = flow.on_card(flow.token, YOUNG)
    issue = one(effects, IssueTicket)
    assert isinstance(issue, IssueTicket) and issue.verification is Verification.MANUAL
    assert counted(effects) == [FaceEvent.UNAVAILABLE]


def test_a_service_without_face_check_sends_no_verification(flow: KioskFlow) -> None:
    flow.tap_service("A")
    issue = one(flow.on_card(flow.token, YOUNG), IssueTicket)
    assert isinstance(issue, IssueTicket) and issue.verification is None


def test_an_offline_manual_ticket_still_says_the_counter_checks(flow: KioskFlow) -> None:
    flow.offline = True
    at_consent(flow)
    effects = flow.consent_decline()
    assert IssueOffline in kinds(effects)
    offline = {"number": "K1-D001", "service": "D", "issued_at": "2025-05-06T10:00:00+08:00"}
    flow.on_issued(flow.token, offline, offline=True)
    assert flow.view.ticket is not None and flow.view.ticket.verification is Verification.MANUAL
    assert MANUAL_LINE in said(flow.on_printed(flow.token))


def test_a_failed_camera_effect_reaches_the_manual_path(flow: KioskFlow) -> None:
    at_consent(flow)
    flow.consent_agree()
    effects = flow.on_effect_failed(StartCamera(flow.token))
    issue = one(effects, IssueTicket)
    assert isinstance(issue, IssueTicket) and issue.verification is Verification.MANUAL


def test_what_is_counted_carries_no_image_and_no_identity(flow: KioskFlow) -> None:
    at_consent(flow)
    effects = flow.consent_agree() + camera_ready(flow) + flow.on_face(flow.token, "match")
    for e in effects:
        if isinstance(e, CountFace):
            assert set(vars(e)) == {"token", "event"}
            assert YOUNG.id_number not in repr(e) and YOUNG.name not in repr(e)
    cap = one(effects, CaptureFace)
    assert "PPPP" not in repr(cap)  # the card photo is not in the effect's repr


def test_english_consent_and_buttons(clock: FakeClock) -> None:
    f = KioskFlow(make_settings(lang="en"), "h", "h", sample_tiles(), clock=clock)
    f.parts.update(printer="ok", reader="ok", camera="ok", speaker="ok")
    f.wake()
    f.tap_service("D")
    effects = f.on_card(f.token, YOUNG)
    assert "nothing stored or sent" in said(effects) and "counter" in said(effects)
    f.consent_agree()
    effects = f.on_camera_ready(f.token, LivenessChallenge.TURN_RIGHT)
    assert "slowly turn your head to the right" in said(effects)


def test_the_chinese_consent_is_broken_into_short_lines() -> None:
    """Kivy breaks Chinese anywhere: lines of at most 15 characters never wrap on the
    portrait screen, even at 1.3× type, so none starts with "，" or "。"."""
    from common.i18n import t

    for key in ("consent_intro", "consent_what", "consent_where", "consent_alternative"):
        for line in t("kiosk", key, "zh").split("\n"):
            assert 0 < len(line) <= 15, (key, line)

"""The announcer on real audio: espeak-ng WAVs through devices.voice, played by the recording
speaker (which consumes the samples at a real pace and records each clip)."""

from __future__ import annotations

import datetime as dt
import itertools
import random
import sys
import threading
import time
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from devices.voice.errors import VoiceError
from devices.voice.normalize import brief_call_sentence
from devices.voice.player import Played, RecordingPlayer
from devices.voice.synth import Audio, read_wav
from devices.voice.voice import Voice
from signage.announcer import DONE, FAILED, SILENCED, Announcer
from signage.chime import ensure_chime
from signage.config import SilentHours

SPEED = 8.0  # real samples at 8× pace: order/overlap are the same, tests stay short


def call(tid: int, number: str, counter: str, kind: str = "ticket.called") -> dict:
    return {
        "ticket": {
            "id": tid,
            "number": number,
            "counter": counter,
            "counter_name": f"{counter}号窗口",
            "counter_name_en": f"Counter {counter}",
            "status": "called",
            "service": number[0],
        },
        "waiting": {},
    }


@pytest.fixture(scope="module")
def voice(tmp_path_factory: pytest.TempPathFactory) -> Voice:
    v = Voice(cache_dir=tmp_path_factory.mktemp("voice"), player=RecordingPlayer())
    yield v
    v.close()


@pytest.fixture
def chime(tmp_path: Path) -> Path:
    return ensure_chime(tmp_path)


def clock() -> float:
    """The announcer's seconds are audio seconds: the player plays them at SPEED×."""
    return time.perf_counter() * SPEED


def make(voice: Voice, chime: Path, player: RecordingPlayer, **kw: object) -> Announcer:
    return Announcer(voice, player, chime, gap_s=0.3, monotonic=clock, **kw)  # type: ignore[arg-type]


def speech(played: list[Played]) -> list[Played]:
    return [p for p in played if p.text not in ("[gap]",)]


def test_no_kivy() -> None:
    assert "kivy" not in sys.modules


def test_chime_is_a_real_two_tone_wav(chime: Path) -> None:
    audio = read_wav(chime)
    assert audio.framerate == 22050 and 1.0 < audio.duration_s < 1.5
    assert ensure_chime(chime.parent) == chime  # generated once


def test_one_call_is_chime_then_sentence_twice(voice: Voice, chime: Path) -> None:
    player = RecordingPlayer(speed=SPEED)
    ann = make(voice, chime, player)
    try:
        item = ann.on_event(1, "ticket.called", call(1, "A012", "3"))
        assert item is not None
        assert ann.idle(30)
        clips = speech(player.played)
        assert [c.text for c in clips] == [
            "[chime]",
            "请 A 零 一 二 号，到 三号窗口 办理",
            "请 A 零 一 二 号，到 三号窗口 办理",
        ]
        assert item.status == DONE and item.latency_s is not None
        for c in clips:
            assert not c.interrupted and c.peak > 2000  # real, audible audio, played whole
        assert clips[1].duration_s > 2.0  # a whole sentence, not a blip
    finally:
        ann.close()


@pytest.mark.slow  # ten calls, each chime and sentence played out
def test_burst_of_ten_calls_in_one_second_in_order_no_overlap(voice: Voice, chime: Path) -> None:
    player = RecordingPlayer(speed=SPEED)
    ann = make(voice, chime, player, repeat=1)
    try:
        numbers = [f"B{n:03d}" for n in range(1, 11)]
        for i, number in enumerate(numbers):
            ann.on_event(i + 1, "ticket.called", call(i + 1, number, str(i + 1)))
            time.sleep(0.09 / SPEED)
        assert ann.idle(60)
        said = [c.text for c in speech(player.played) if c.text != "[chime]"]
        spelled = ["B " + " ".join("零一二三四五六七八九"[int(d)] for d in n[1:]) for n in numbers]
        # In order, each once: the first in full, the queued ones brief (number, counter)
        # but for the last, which keeps nobody waiting.
        assert said[0] == f"请 {spelled[0]} 号，到 一号窗口 办理"
        assert [x.split("，")[0].removeprefix("请 ").removesuffix(" 号") for x in said] == spelled
        assert [a.brief for a in ann.history[:-1]] == [False] + [True] * 8
        assert said[1] == f"{spelled[1]}，二号窗口"
        # Brief calls follow each other without a chime; a full announcement has its own.
        chimes = 1 + sum(not a.brief for a in ann.history[1:])
        assert [c.text for c in player.played].count("[chime]") == chimes
        ordered = sorted(player.played, key=lambda p: p.started_at)
        for a, b in itertools.pairwise(ordered):
            assert b.started_at >= a.ended_at - 0.001  # never two clips at once
        assert all(a.status == DONE for a in ann.history) and len(ann.history) == 10
    finally:
        ann.close()


def opening(seed: int, calls: int = 22, spread_s: float = 60.0) -> list[tuple[float, int]]:
    """When each counter makes its first call at opening (audio seconds from the start)."""
    rng = random.Random(seed)
    return sorted((rng.uniform(0, spread_s), counter) for counter in range(1, calls + 1))


@pytest.mark.slow  # 22 announcements played out at 8× (about 12 s each)
@pytest.mark.parametrize("seed", [1, 2])
def test_opening_rush_shortens_so_no_call_waits_more_than_30_s(
    voice: Voice, chime: Path, seed: int
) -> None:
    """22 counters call within the first minute, with the longest announcement a hall can
    configure (twice, then twice in English: ~20 s each, 22 of them would take 7 minutes).
    Every call is still heard within 30 s of being made, in order; once calls queue up they
    are said once, without English."""
    player = RecordingPlayer(speed=SPEED)
    ann = make(voice, chime, player, repeat=2, english=True)
    try:
        start = clock()
        for i, (at, counter) in enumerate(opening(seed), start=1):
            time.sleep(max(0.0, start + at - clock()) / SPEED)
            ann.on_event(i, "ticket.called", call(i, f"G{i:03d}", str(counter)))
        assert ann.idle(120)
        items = ann.history
        assert len(items) == 22 and all(a.status == DONE for a in items)
        delays = [a.voice_delay_s for a in items]
        assert all(d is not None and d <= 30.0 for d in delays), delays
        assert any(a.brief for a in items) and any(a.cut for a in items)
        voiced = sorted(items, key=lambda a: a.voiced_at or 0.0)
        assert [a.ticket_id for a in voiced] == list(range(1, 23))  # in the order called
        spoken = [c.text for c in speech(player.played) if c.text != "[chime]"]
        for a in items:
            if a.brief:  # once, in Chinese, number and counter
                assert a.texts == (brief_call_sentence(a.number, a.counter_name),)
                assert spoken.count(a.texts[0]) == 1
            elif a.cut:  # its first Chinese sentence only
                assert len(a.texts) == 1 and a.texts[0].startswith("请 ")
        english = [x for x in spoken if x.startswith("Number")]
        whole = [a for a in items if not a.brief and not a.cut]
        assert len(english) == 2 * len(whole)  # English only in announcements played whole
    finally:
        ann.close()


def test_a_quiet_hall_keeps_the_full_announcement(voice: Voice, chime: Path) -> None:
    """Two calls a second apart: nobody would wait long, so both are said in full."""
    player = RecordingPlayer(speed=SPEED)
    ann = make(voice, chime, player, repeat=2)
    try:
        ann.on_event(1, "ticket.called", call(1, "A001", "1"))
        time.sleep(1.0 / SPEED)
        ann.on_event(2, "ticket.called", call(2, "A002", "2"))
        assert ann.idle(30)
        assert [c.text for c in speech(player.played)] == [
            "[chime]",
            "请 A 零 零 一 号，到 一号窗口 办理",
            "请 A 零 零 一 号，到 一号窗口 办理",
            "[chime]",
            "请 A 零 零 二 号，到 二号窗口 办理",
            "请 A 零 零 二 号，到 二号窗口 办理",
        ]
        assert not any(a.brief or a.cut for a in ann.history)
    finally:
        ann.close()


def test_offline_ticket_and_a_counter_without_english_name(voice: Voice, chime: Path) -> None:
    player = RecordingPlayer(speed=SPEED)
    ann = make(voice, chime, player, repeat=1, english=True)
    try:
        data = call(1, "K1-J001", "13")
        data["ticket"]["counter_name_en"] = None  # the hall has no English name for it
        item = ann.on_event(1, "ticket.called", data)
        assert ann.idle(30) and item is not None and item.status == DONE
        assert [c.text for c in speech(player.played)][1:] == [
            "请 K 一 号机，杰 零 零 一 号，到 十三号窗口 办理",
            "Number K one dash J, zero zero one, please go to Counter 13",
        ]
    finally:
        ann.close()


def test_recall_of_a_ticket_still_queued_is_not_doubled(voice: Voice, chime: Path) -> None:
    player = RecordingPlayer(speed=SPEED)
    ann = make(voice, chime, player, repeat=1)
    try:
        ann.on_event(1, "ticket.called", call(1, "A001", "1"))
        ann.on_event(2, "ticket.called", call(2, "A002", "2"))
        ann.on_event(3, "ticket.recalled", call(2, "A002", "2", "ticket.recalled"))
        ann.on_event(3, "ticket.recalled", call(2, "A002", "2", "ticket.recalled"))  # replay
        assert ann.idle(30)
        said = [c.text for c in speech(player.played) if c.text != "[chime]"]
        assert said == ["请 A 零 零 一 号，到 一号窗口 办理", "请 A 零 零 二 号，到 二号窗口 办理"]
        assert ann.history[1].merged == 1
        # Once its announcement has played, a recall is announced again, as a recall.
        ann.on_event(4, "ticket.recalled", call(2, "A002", "2", "ticket.recalled"))
        assert ann.idle(30)
        assert speech(player.played)[-1].text.startswith("再次呼叫")
    finally:
        ann.close()


def test_english_and_volume(voice: Voice, chime: Path) -> None:
    loud, quiet = RecordingPlayer(speed=SPEED), RecordingPlayer(speed=SPEED)
    a1 = make(voice, chime, loud, repeat=1, english=True)
    a2 = make(voice, chime, quiet, repeat=1, english=True, volume=0.25)
    try:
        for a in (a1, a2):
            a.on_event(1, "ticket.called", call(1, "A012", "3"))
            assert a.idle(30)
        texts = [c.text for c in speech(loud.played)]
        assert texts[2] == "Number eh, zero one two, please go to Counter 3"
        for x, y in zip(speech(loud.played), speech(quiet.played), strict=True):
            assert y.peak == pytest.approx(x.peak * 0.25, rel=0.05)
    finally:
        a1.close()
        a2.close()


def test_silent_hours_record_but_do_not_speak(voice: Voice, chime: Path) -> None:
    tz = ZoneInfo("Asia/Shanghai")
    night = dt.datetime(2026, 5, 1, 23, 30, tzinfo=tz).timestamp()
    day = dt.datetime(2026, 5, 1, 10, 0, tzinfo=tz).timestamp()
    now = [night]
    player = RecordingPlayer(speed=SPEED)
    ann = make(
        voice, chime, player, silent_hours=[SilentHours.parse("22:00-07:00")], clock=lambda: now[0]
    )
    try:
        item = ann.on_event(1, "ticket.called", call(1, "A001", "1"))
        assert item is not None and item.status == SILENCED
        assert ann.idle(5) and player.played == []
        now[0] = day
        ann.on_event(2, "ticket.called", call(2, "A002", "1"))
        assert ann.idle(30) and len(speech(player.played)) == 3
    finally:
        ann.close()


class FlakySpeaker(RecordingPlayer):
    """Fails the clips of one announcement (a speaker cable pulled and put back)."""

    def __init__(self) -> None:
        super().__init__(speed=SPEED)
        self.broken = threading.Event()

    def play(self, audio: Audio, cancel: threading.Event) -> float:
        if self.broken.is_set():
            self.broken.clear()
            raise VoiceError("speaker gone", code="voice.play_failed")
        return super().play(audio, cancel)


def test_speaker_failure_fails_one_announcement_and_the_rest_still_play(
    voice: Voice, chime: Path
) -> None:
    player = FlakySpeaker()
    ann = make(voice, chime, player, repeat=1)
    try:
        player.broken.set()
        first = ann.on_event(1, "ticket.called", call(1, "A001", "1"))
        second = ann.on_event(2, "ticket.called", call(2, "A002", "2"))
        assert ann.idle(30)
        assert first is not None and first.status == FAILED and "speaker gone" in first.error
        assert second is not None and second.status == DONE
        assert ann.last_error is not None
    finally:
        ann.close()


def test_malformed_call_events_are_reported_and_skipped(voice: Voice, chime: Path) -> None:
    player = RecordingPlayer(speed=SPEED)
    ann = make(voice, chime, player, repeat=1)
    try:
        assert ann.on_event(1, "ticket.called", {"ticket": {"number": "A001"}}) is None
        assert ann.on_event(2, "ticket.called", None) is None
        assert ann.on_event(3, "ticket.issued", call(3, "A003", "1")) is None
        assert ann.last_error is not None and ann.history == []
        ann.on_event(4, "ticket.called", call(4, "A004", "1"))
        assert ann.idle(30) and ann.history[0].status == DONE
    finally:
        ann.close()


def test_bad_ticket_number_fails_only_that_announcement(voice: Voice, chime: Path) -> None:
    player = RecordingPlayer(speed=SPEED)
    ann = make(voice, chime, player, repeat=1)
    try:
        bad = ann.on_event(1, "ticket.called", call(1, "###", "1"))
        good = ann.on_event(2, "ticket.called", call(2, "A002", "1"))
        assert ann.idle(30)
        assert bad is not None and bad.status == FAILED
        assert [c.text for c in player.played].count("[chime]") == 1  # no chime for it
        assert good is not None and good.status == DONE
    finally:
        ann.close()

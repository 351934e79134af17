"""The Voice API end to end: real synthesis, the phrase cache, and serialised playback on the
simulated speaker (which consumes the samples at the real pace and records what it played)."""

from __future__ import annotations

import itertools
import threading
import time
from pathlib import Path

import pytest

from common.i18n import t
from devices.voice.errors import VoiceError, VoiceInputError
from devices.voice.normalize import call_sentence, waiting_sentence
from devices.voice.player import AplayPlayer, RecordingPlayer
from devices.voice.synth import Synthesizer, read_wav
from devices.voice.voice import Status, Voice

WELCOME = t("voice", "prompt_welcome")
CHOOSE = t("voice", "prompt_choose_service")
ID_CARD = t("voice", "prompt_insert_id")
CALL_1 = call_sentence("A012", 3)
CALL_2 = call_sentence("B105", "综合窗口")


@pytest.fixture
def player() -> RecordingPlayer:
    return RecordingPlayer(speed=4.0)  # real samples, 4× pace: keeps queue tests short


@pytest.fixture
def voice(tmp_path: Path, player: RecordingPlayer) -> Voice:
    v = Voice(cache_dir=tmp_path / "cache", player=player)
    yield v
    v.close()


@pytest.mark.slow  # speech played in real time
def test_say_plays_the_whole_clip_in_real_time(tmp_path: Path) -> None:
    player = RecordingPlayer()  # speed 1: the simulated speaker takes as long as a real one
    with Voice(cache_dir=tmp_path, player=player) as v:
        started = time.perf_counter()
        u = v.say(CHOOSE)
        assert u.wait(timeout=30) is Status.DONE
        elapsed = time.perf_counter() - started
    [played] = player.played
    wav = read_wav(u.audio.path)
    assert played.text == CHOOSE and not played.interrupted
    assert played.frames_played == wav.nframes and played.played_s == pytest.approx(wav.duration_s)
    assert played.peak > 5000  # the speaker got speech, not zeros
    assert elapsed == pytest.approx(wav.duration_s, abs=0.3)
    assert u.played_s == pytest.approx(wav.duration_s) and u.latency_s is not None


def test_synthesize_returns_a_verified_cached_wav(tmp_path: Path, voice: Voice) -> None:
    path = voice.synthesize(CALL_1)
    assert path.parent == tmp_path / "cache" and read_wav(path).nframes > 0
    synth = voice.synthesizer
    before = list(synth.failures), synth.last_backend
    # A second Voice on the same directory (a restarted kiosk) reuses the file: no synthesis.
    fresh_synth = Synthesizer()
    other = Voice(cache_dir=tmp_path / "cache", player=RecordingPlayer(), synthesizer=fresh_synth)
    assert other.synthesize(CALL_1) == path
    assert fresh_synth.last_backend is None  # never called
    other.close()
    assert (list(synth.failures), synth.last_backend) == before
    # Profile, voice and text are all part of the key.
    elderly = Voice("elderly", cache_dir=tmp_path / "cache", player=RecordingPlayer())
    assert elderly.synthesize(CALL_1) != path
    assert read_wav(elderly.synthesize(CALL_1)).duration_s > read_wav(path).duration_s * 1.2
    assert voice.synthesize(call_sentence("A012", 3, "en"), lang="en") != path
    elderly.close()


def test_damaged_cache_file_is_resynthesised_not_played(
    tmp_path: Path, player: RecordingPlayer
) -> None:
    with Voice(cache_dir=tmp_path, player=player) as v:
        path = v.synthesize(WELCOME)
        good_frames = read_wav(path).nframes
    path.write_bytes(path.read_bytes()[:44])  # truncated to an empty WAV on disk
    with Voice(cache_dir=tmp_path, player=player) as v:
        assert v.say(WELCOME).wait(timeout=30) is Status.DONE
        assert v.synthesizer.last_backend is not None  # it had to synthesise again
    # espeak's output varies by ~1 % with its in-process state, so not byte-identical.
    redone = read_wav(path).nframes
    assert redone == pytest.approx(good_frames, rel=0.03)
    assert player.played[-1].frames_played == redone


def test_a_new_prompt_interrupts_the_previous_prompt(voice: Voice, player: RecordingPlayer) -> None:
    first = voice.say(WELCOME)
    time.sleep(0.15)
    second = voice.say(CHOOSE)
    assert second.wait(timeout=30) is Status.DONE
    assert first.wait(timeout=1) is Status.INTERRUPTED
    a, b = player.played
    assert (a.text, b.text) == (WELCOME, CHOOSE)
    assert a.interrupted and 0 < a.played_s < a.duration_s
    assert not b.interrupted and b.played_s == pytest.approx(b.duration_s)
    assert b.started_at >= a.ended_at  # never two clips at once
    assert voice.idle(timeout=1)


def test_only_the_latest_waiting_prompt_survives(voice: Voice, player: RecordingPlayer) -> None:
    call = voice.say(CALL_1, "call")
    time.sleep(0.05)
    stale = voice.say(WELCOME)  # waits: a prompt never cuts a call
    fresh = voice.say(ID_CARD)  # replaces the waiting prompt
    assert fresh.wait(timeout=30) is Status.DONE
    assert stale.wait(timeout=1) is Status.DROPPED
    assert call.wait(timeout=1) is Status.DONE
    assert [p.text for p in player.played] == [CALL_1, ID_CARD]
    assert not player.played[0].interrupted


@pytest.mark.slow  # three calls played in real time
def test_calls_queue_and_never_interrupt_each_other(voice: Voice, player: RecordingPlayer) -> None:
    calls = [voice.say(text, "call") for text in (CALL_1, CALL_2, CALL_1)]
    for u in calls:
        assert u.wait(timeout=60) is Status.DONE
    assert [p.text for p in player.played] == [CALL_1, CALL_2, CALL_1]
    assert all(
        not p.interrupted and p.played_s == pytest.approx(p.duration_s) for p in player.played
    )
    for earlier, later in itertools.pairwise(player.played):
        assert later.started_at >= earlier.ended_at


def test_a_call_interrupts_a_prompt_and_the_prompt_does_not_come_back(
    voice: Voice, player: RecordingPlayer
) -> None:
    prompt = voice.say(WELCOME)
    time.sleep(0.15)
    call = voice.say(CALL_1, "call")
    assert call.wait(timeout=30) is Status.DONE
    assert prompt.wait(timeout=1) is Status.INTERRUPTED
    assert [p.text for p in player.played] == [WELCOME, CALL_1]
    assert player.played[0].interrupted and not player.played[1].interrupted


@pytest.mark.slow  # four calls played in real time
def test_say_from_many_threads_never_overlaps(voice: Voice, player: RecordingPlayer) -> None:
    texts = [waiting_sentence(n, 60 * n) for n in range(1, 5)]
    threads = [threading.Thread(target=voice.say, args=(txt, "call")) for txt in texts]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert voice.idle(timeout=60)
    assert sorted(p.text for p in player.played) == sorted(texts)
    spans = sorted((p.started_at, p.ended_at) for p in player.played)
    assert all(b[0] >= a[1] for a, b in itertools.pairwise(spans))


@pytest.mark.slow  # speech played in real time
def test_player_failure_is_reported_not_silent(tmp_path: Path) -> None:
    broken = RecordingPlayer(fail="speaker unplugged")
    with Voice(cache_dir=tmp_path, player=broken) as v:
        u = v.say(CHOOSE)
        with pytest.raises(VoiceError) as info:
            u.wait(timeout=10)
        assert info.value.code == "voice.play_failed" and u.status is Status.FAILED
        assert v.last_error is info.value
        # The speaker thread survives: once the fault clears, speech comes out again.
        broken.fail = None
        assert v.say(CHOOSE).wait(timeout=30) is Status.DONE
    assert [p.text for p in broken.played] == [CHOOSE]


def test_bad_arguments_are_clear_errors(voice: Voice, player: RecordingPlayer) -> None:
    cases = [
        (lambda: voice.say(CHOOSE, "urgent"), "voice.bad_priority"),  # type: ignore[arg-type]
        (lambda: voice.say("   "), "voice.bad_text"),
        (lambda: voice.say(CHOOSE, lang="fr"), "voice.bad_lang"),
        (lambda: Voice("loud", player=player), "voice.bad_profile"),
    ]
    for make, code in cases:
        with pytest.raises(VoiceInputError) as info:
            make()
        assert info.value.code == code
    assert player.played == []  # nothing reached the speaker
    assert voice.say(CHOOSE).wait(timeout=30) is Status.DONE  # and the voice still works


def test_synthesis_failure_raises_from_say(tmp_path: Path, player: RecordingPlayer) -> None:
    dead = Synthesizer(backends=("espeak-ng",), espeak_command="/nonexistent/espeak-ng")
    with Voice(cache_dir=tmp_path, player=player, synthesizer=dead) as v:
        with pytest.raises(VoiceError) as info:
            v.say(CHOOSE)
        assert info.value.code == "voice.synth_failed"
        assert v.idle(timeout=1)
    assert player.played == [] and list(tmp_path.glob("*.wav")) == []


def test_warm_caches_every_fixed_prompt(tmp_path: Path, player: RecordingPlayer) -> None:
    with Voice(cache_dir=tmp_path, player=player) as v:
        n = v.warm()
        assert n >= 10 and len(v.cache) == n
        synth = v.synthesizer
        synth.last_backend = None
        v.say(t("voice", "prompt_thanks")).wait(timeout=30)
        assert synth.last_backend is None  # served from the cache
    assert v.warm(["请稍候"], lang="zh") == 1


def test_stop_and_close(voice: Voice, player: RecordingPlayer) -> None:
    playing = voice.say(CALL_1, "call")
    queued = voice.say(CALL_2, "call")
    time.sleep(0.1)
    voice.stop()
    assert playing.wait(timeout=5) is Status.INTERRUPTED
    assert queued.wait(timeout=1) is Status.DROPPED
    voice.close()
    with pytest.raises(VoiceError) as info:
        voice.say(CHOOSE)
    assert info.value.code == "voice.closed"


def test_aplay_player_on_the_null_device(tmp_path: Path) -> None:
    with Voice(cache_dir=tmp_path, player=AplayPlayer("null")) as v:
        assert v.say(CHOOSE).wait(timeout=30) is Status.DONE


def test_aplay_on_a_missing_device_is_a_play_error(tmp_path: Path) -> None:
    with Voice(cache_dir=tmp_path, player=AplayPlayer("no_such_pcm")) as v:
        u = v.say(CHOOSE)
        with pytest.raises(VoiceError) as info:
            u.wait(timeout=30)
    assert info.value.code == "voice.play_failed" and "no_such_pcm" in str(info.value)


def test_no_aplay_means_no_player() -> None:
    with pytest.raises(VoiceError) as info:
        AplayPlayer(command="/nonexistent/aplay")
    assert info.value.code == "voice.no_player"

"""Basic liveness from landmark sequences (pure), and the eye-openness score on synthetic eyes."""

from __future__ import annotations

import random

import cv2
import numpy as np
import pytest

from common.i18n import t
from devices.camera.liveness import (
    Challenge,
    LivenessCheck,
    LivenessConfig,
    LivenessState,
    eye_openness,
    random_challenge,
    run_sequence,
)

# Eyes 60 px apart; the nose's x offset from their midpoint sets the yaw ratio.
EYES = np.array([[370, 200], [340, 200], [280, 200], [310, 200]], float)


def face(yaw: float) -> np.ndarray:
    return np.vstack([EYES, [[325 + yaw * 60, 250]]])


def seq(*yaws: float | None, dt: float = 0.2) -> list[tuple[float, np.ndarray | None]]:
    return [(i * dt, None if y is None else face(y)) for i, y in enumerate(yaws)]


@pytest.mark.parametrize(
    ("challenge", "yaw"), [(Challenge.TURN_LEFT, 0.35), (Challenge.TURN_RIGHT, -0.35)]
)
def test_turn_in_the_asked_direction_passes(challenge: Challenge, yaw: float) -> None:
    assert run_sequence(challenge, seq(0.0, 0.05, yaw / 2, yaw)) is LivenessState.PASSED


def test_turn_the_wrong_way_does_not_pass() -> None:
    assert run_sequence(Challenge.TURN_LEFT, seq(0.0, -0.4, -0.4)) is LivenessState.WAITING_MOVE


def test_already_turned_head_must_face_the_camera_first() -> None:
    # A photo held at an angle shows a constant "turn": without the frontal step it would pass.
    assert run_sequence(Challenge.TURN_LEFT, seq(0.4, 0.4, 0.4)) is LivenessState.WAITING_FRONTAL


def test_still_face_times_out_and_stays_timed_out() -> None:
    check = LivenessCheck(Challenge.TURN_RIGHT, 0.0, LivenessConfig(timeout_s=2))
    for i in range(15):
        check.feed(i * 0.2, face(0.0))
    assert check.state is LivenessState.TIMED_OUT
    # A late turn after the deadline cannot rescue it.
    assert check.feed(3.1, face(-0.5)) is LivenessState.TIMED_OUT


def test_lost_face_frames_are_skipped_not_failed() -> None:
    assert run_sequence(Challenge.TURN_LEFT, seq(0.0, None, None, 0.4)) is LivenessState.PASSED


def test_blink_from_openness_sequence() -> None:
    check = LivenessCheck(Challenge.BLINK, 0.0)
    states = [
        check.feed(i * 0.1, face(0.0), o)
        for i, o in enumerate([10.0, 10.2, 9.8, 10.1, 4.0, 3.5, 9.9])
    ]
    assert states[-1] is LivenessState.PASSED
    assert LivenessState.PASSED not in states[:-1]  # closing alone is not a blink


def test_eyes_that_never_close_are_no_blink() -> None:
    check = LivenessCheck(Challenge.BLINK, 0.0)
    for i, o in enumerate([10.0, 9.0, 11.0, 8.5, 10.0]):
        check.feed(i * 0.1, face(0.0), o)
    assert check.state is LivenessState.WAITING_MOVE


def test_eye_openness_drops_when_the_lids_close() -> None:
    def eyes(open_: bool) -> np.ndarray:
        img = np.full((400, 640), 150, np.uint8)
        for cx in (295, 355):
            if open_:
                cv2.ellipse(img, (cx, 200), (16, 8), 0, 0, 360, 240, -1)  # sclera
                cv2.circle(img, (cx, 200), 7, 40, -1)  # iris
            else:
                cv2.line(img, (cx - 15, 200), (cx + 15, 200), 110, 1)  # closed lid line
        return img

    assert eye_openness(eyes(False), face(0.0)) < 0.5 * eye_openness(eyes(True), face(0.0))


def test_random_challenge_comes_from_config_and_has_a_hint() -> None:
    rng = random.Random(7)
    picked = {random_challenge(rng=rng) for _ in range(40)}
    assert picked == {Challenge.TURN_LEFT, Challenge.TURN_RIGHT}  # blink is opt-in
    for c in Challenge:
        assert t("camera", c.hint)
    assert "基础" in t("camera", "liveness_basic")  # called "basic", as promised

"""Basic liveness from landmark sequences (pure), and the eye-openness score on synthetic eyes.

The sequences come from a 5-point head in 3-D, turned and seen from the front, and from a
flat picture of it (a printed photo, a phone screen) moved the ways a hand moves one:
tilted, swung, brought nearer, held at a slant. A real turn passes; no flat picture does."""

from __future__ import annotations

import math
import random

import cv2
import numpy as np
import pytest

from common.i18n import t
from devices.camera.liveness import (
    Challenge,
    FaceTrack,
    LivenessCheck,
    LivenessConfig,
    LivenessState,
    eye_openness,
    random_challenge,
    run_sequence,
)
from devices.camera.quality import Box, eye_width_ratio, yaw_ratio

# A head's 5 landmarks in 3-D, px for a face ~200 px wide: x to the image's right, y down,
# z towards the camera from the axis the head turns about. The eye on the image's right
# (outer, inner corner), the other eye (outer, inner), the base of the nose. Outer corners
# sit further back than inner ones, the nose stands out.
HEAD = np.array([[63, 0, 60], [22, 0, 80], [-63, 0, 60], [-22, 0, 80], [0, 70, 105]], float)
CENTRE = np.array([320.0, 200.0])
Pose = tuple[float, np.ndarray | None]


def head(turn: float = 0.0, roll: float = 0.0) -> np.ndarray:
    """A live head turned by ``turn`` degrees (positive: to its own left, the nose moving
    to the image's right) and tilted by ``roll`` degrees, as the camera sees it."""
    th, ro = math.radians(turn), math.radians(roll)
    x = HEAD[:, 0] * math.cos(th) + HEAD[:, 2] * math.sin(th)
    pts = np.stack([x, HEAD[:, 1]], axis=1)
    rot = np.array([[math.cos(ro), -math.sin(ro)], [math.sin(ro), math.cos(ro)]])
    return pts @ rot.T + CENTRE


def photo(matrix: tuple[tuple[float, float], tuple[float, float]]) -> np.ndarray:
    """A flat picture of the frontal head under the 2×2 ``matrix`` about its centre: how a
    printed photo or a screen looks when a hand tilts, swings or slants it."""
    return (head() - CENTRE) @ np.array(matrix, float).T + CENTRE


def roll(deg: float, scale: float = 1.0) -> tuple[tuple[float, float], tuple[float, float]]:
    r = math.radians(deg)
    return ((scale * math.cos(r), -scale * math.sin(r)), (scale * math.sin(r), scale * math.cos(r)))


def seq(*poses: np.ndarray | None, dt: float = 0.1) -> list[Pose]:
    return [(i * dt, p) for i, p in enumerate(poses)]


def turning(to: float, *, hold: int = 4) -> list[np.ndarray | None]:
    """Facing the camera, a slow turn to ``to`` degrees, held for ``hold`` frames."""
    return [head(0), head(0), *(head(to * k / 6) for k in range(1, 7)), *[head(to)] * hold]


def old_yaw(marks: np.ndarray) -> float:
    """The yaw measure liveness used before: the nose's offset along the image's x axis."""
    eye_a, eye_b = marks[0:2].mean(axis=0), marks[2:4].mean(axis=0)
    return float((marks[4, 0] - (eye_a[0] + eye_b[0]) / 2) / np.linalg.norm(eye_a - eye_b))


@pytest.mark.parametrize(
    ("challenge", "turn"), [(Challenge.TURN_LEFT, 32), (Challenge.TURN_RIGHT, -32)]
)
def test_turn_in_the_asked_direction_passes(challenge: Challenge, turn: float) -> None:
    assert run_sequence(challenge, seq(*turning(turn))) is LivenessState.PASSED


def test_a_head_that_is_tilted_as_well_still_passes() -> None:
    poses = [head(0, 12), head(0, 12), *(head(5 * k, 12) for k in range(1, 7)), *[head(30, 12)] * 4]
    assert run_sequence(Challenge.TURN_LEFT, seq(*poses)) is LivenessState.PASSED


def test_a_head_that_is_a_little_turned_by_nature_is_measured_from_its_own_front() -> None:
    base = 12.0  # its "frontal" is 12° off (a camera beside the screen)
    poses = [
        head(base),
        head(base),
        *(head(base + 6 * k) for k in range(1, 7)),
        *[head(base + 36)] * 4,
    ]
    assert run_sequence(Challenge.TURN_LEFT, seq(*poses)) is LivenessState.PASSED


def test_the_turn_must_be_held_a_moment() -> None:
    # a single odd frame (a landmark glitch) is no turn
    poses = [head(0), head(0), head(0), head(35), head(0), head(0), head(35), head(0)]
    assert run_sequence(Challenge.TURN_LEFT, seq(*poses)) is LivenessState.WAITING_MOVE


def test_turn_the_wrong_way_fails() -> None:
    # a replayed clip of someone looking around would otherwise pass whatever is asked
    assert run_sequence(Challenge.TURN_LEFT, seq(*turning(-32))) is LivenessState.WRONG_MOVE


def test_already_turned_head_must_face_the_camera_first() -> None:
    # A photo held at an angle shows a constant "turn": without the frontal step it would pass.
    assert run_sequence(Challenge.TURN_LEFT, seq(*[head(40)] * 8)) is LivenessState.WAITING_FRONTAL


@pytest.mark.parametrize(
    "matrix",
    [
        roll(24),  # the photo tilted
        roll(-24),
        ((0.6, 0.0), (0.0, 1.0)),  # swung about its vertical axis
        roll(20, 0.8),  # tilted and held further away
        ((1.0, 0.5), (0.0, 1.0)),  # held at a slant: the nose moves along the eyes
        ((1.0, -0.5), (0.0, 1.0)),
    ],
)
def test_a_flat_picture_moved_by_hand_never_passes(
    matrix: tuple[tuple[float, float], tuple[float, float]],
) -> None:
    moves = [photo(roll(0)), photo(roll(0)), *[photo(matrix)] * 8]
    for challenge in (Challenge.TURN_LEFT, Challenge.TURN_RIGHT):
        assert run_sequence(challenge, seq(*moves)) is not LivenessState.PASSED
    # a flat picture keeps the eyes' width ratio whatever the hand does
    assert eye_width_ratio(photo(matrix)) == pytest.approx(eye_width_ratio(head()), rel=1e-6)


def test_the_two_signs_are_both_needed() -> None:
    # Tilt fooled the old x-axis measure; a slant fools the nose offset along the eyes too:
    # only the eyes' widths, which no flat picture can change, tell these from a turn.
    assert old_yaw(photo(roll(-24))) > 0.22 and old_yaw(photo(roll(24))) < -0.22
    assert abs(yaw_ratio(photo(roll(24)))) < 1e-9
    slant = photo(((1.0, 0.5), (0.0, 1.0)))
    assert yaw_ratio(slant) >= LivenessConfig().turn_yaw
    assert eye_width_ratio(head(30)) < 0.88 * eye_width_ratio(head(0)) < eye_width_ratio(slant)
    off = LivenessConfig(eye_ratio_change=0)  # the eye sign switched off: the slant passes
    moves = seq(photo(roll(0)), photo(roll(0)), *[slant] * 4)
    assert run_sequence(Challenge.TURN_LEFT, moves, off) is LivenessState.PASSED


def test_still_face_times_out_and_stays_timed_out() -> None:
    check = LivenessCheck(Challenge.TURN_RIGHT, 0.0, LivenessConfig(timeout_s=2))
    for i in range(15):
        check.feed(i * 0.2, head(0))
    assert check.state is LivenessState.TIMED_OUT
    # A late turn after the deadline cannot rescue it.
    for i in range(4):
        assert check.feed(3.1 + i * 0.1, head(-35)) is LivenessState.TIMED_OUT


def test_lost_face_frames_are_skipped_not_failed() -> None:
    poses = [head(0), None, None, head(15), None, head(32), head(32), None, head(32)]
    assert run_sequence(Challenge.TURN_LEFT, seq(*poses)) is LivenessState.PASSED


def test_blink_from_openness_sequence() -> None:
    check = LivenessCheck(Challenge.BLINK, 0.0)
    states = [
        check.feed(i * 0.1, head(0), o)
        for i, o in enumerate([10.0, 10.2, 9.8, 10.1, 4.0, 3.5, 9.9])
    ]
    assert states[-1] is LivenessState.PASSED
    assert LivenessState.PASSED not in states[:-1]  # closing alone is not a blink


def test_eyes_that_never_close_are_no_blink() -> None:
    check = LivenessCheck(Challenge.BLINK, 0.0)
    for i, o in enumerate([10.0, 9.0, 11.0, 8.5, 10.0]):
        check.feed(i * 0.1, head(0), o)
    assert check.state is LivenessState.WAITING_MOVE


def test_eye_openness_drops_when_the_lids_close() -> None:
    marks = np.array([[370, 200], [340, 200], [280, 200], [310, 200], [325, 250]], float)

    def eyes(open_: bool) -> np.ndarray:
        img = np.full((400, 640), 150, np.uint8)
        for cx in (295, 355):
            if open_:
                cv2.ellipse(img, (cx, 200), (16, 8), 0, 0, 360, 240, -1)  # sclera
                cv2.circle(img, (cx, 200), 7, 40, -1)  # iris
            else:
                cv2.line(img, (cx - 15, 200), (cx + 15, 200), 110, 1)  # closed lid line
        return img

    assert eye_openness(eyes(False), marks) < 0.5 * eye_openness(eyes(True), marks)


def test_random_challenge_comes_from_config_and_has_a_hint() -> None:
    rng = random.Random(7)
    picked = {random_challenge(rng=rng) for _ in range(40)}
    assert picked == {Challenge.TURN_LEFT, Challenge.TURN_RIGHT}  # blink is opt-in
    for c in Challenge:
        assert t("camera", c.hint) and t("camera", f"cue_{c.value}")
    assert "慢慢" in t("camera", Challenge.TURN_LEFT.hint)  # slowly: the turn is watched
    assert "基础" in t("camera", "liveness_basic")  # called "basic", as promised


def test_face_track_follows_one_face_and_breaks_on_a_swap() -> None:
    track = FaceTrack()
    steady = [Box(220, 140, 420, 340), Box(230, 140, 430, 340), Box(250, 145, 445, 338)]
    assert all(track.feed(b) for b in steady)  # a head turning moves its box a little
    assert track.feed(None) and track.feed(None)  # a frame or two without a face: fine
    assert not track.feed(Box(20, 40, 220, 240))  # another face somewhere else: broken
    assert track.feed(Box(25, 40, 225, 240))  # … and followed from there
    assert not track.feed(Box(0, 0, 400, 400))  # twice the size at once: another face
    for _ in range(3):
        assert track.feed(None)
    assert not track.feed(None)  # lost for longer than max_gap
    assert track.feed(Box(220, 140, 420, 340))  # a new face starts a new track

"""Basic liveness: a random challenge (turn the head left or right, or blink) checked
across frames within a few seconds.

It is *basic* — say so in docs and UI: a plain RGB camera cannot tell a live person from
a replayed video of one doing what is asked. It stops a held-up printed photo or a phone
replaying a clip without the asked movement, not a determined attacker.

Pure logic over landmark sequences (5 points, see ``quality``). A turn is two things at
once, measured against the citizen's own frontal baseline:

- the nose moves along the eye line (``quality.yaw_ratio``, measured along the eye line so
  a tilted head or photo is no turn), and
- the eye turning away from the camera looks narrower than the other
  (``quality.eye_width_ratio``). A flat picture cannot do this however it is tilted, swung
  or brought closer (an affine distortion keeps ratios along a line), while tilting a
  photo about a slanted axis *can* fake the nose offset: the second sign is what a printed
  photo or a phone screen lacks.

The citizen must first face the camera, then do the movement, held for a couple of frames,
before the deadline; a clear turn the other way first fails (a replayed clip of someone
looking around would otherwise pass whatever is asked). A blink is scored by an
eye-openness value per frame (``eye_openness``), because the 5-point model has no eyelid
points. Frames are analysed unmirrored: "left" is the citizen's own left whatever the
preview shows.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum

import cv2
import numpy as np

from devices.camera.quality import Box, eye_width_ratio, yaw_ratio


class Challenge(StrEnum):
    TURN_LEFT = "turn_left"
    TURN_RIGHT = "turn_right"
    BLINK = "blink"

    @property
    def hint(self) -> str:
        """Key in common/assets/locales/camera.toml of the instruction to say."""
        return f"challenge_{self.value}"


class LivenessState(StrEnum):
    WAITING_FRONTAL = "waiting_frontal"
    WAITING_MOVE = "waiting_move"
    PASSED = "passed"
    TIMED_OUT = "timed_out"
    WRONG_MOVE = "wrong_move"
    """A clear turn the other way came first."""


DONE_STATES = frozenset({LivenessState.PASSED, LivenessState.TIMED_OUT, LivenessState.WRONG_MOVE})
BASELINE_FRAMES = 5  # frontal frames at the start that the baseline is the median of


@dataclass(frozen=True)
class LivenessConfig:
    timeout_s: float = 6.0
    """Seconds from the challenge to the movement."""
    frontal_yaw: float = 0.15
    """|yaw ratio| at most this counts as facing the camera (the quality gate's limit is 0.18;
    a camera beside the screen, or a face a little turned by nature, is still frontal)."""
    turn_yaw: float = 0.2
    """Change of the yaw ratio from the frontal baseline, in the asked direction, that counts
    as a turn (about 25–30° of a real head)."""
    eye_ratio_change: float = 0.12
    """… together with the eye-width ratio changing by at least this fraction in the turn's
    direction (measured on synthetic 3-D turns of the test photos: 25–35 % at 20–30°; a
    tilted, swung or zoomed flat photo stays within 7 %). 0 switches this sign off."""
    hold_frames: int = 3
    """Consecutive analysed frames the turn must be seen in: an odd frame (the landmarks of
    a distorted picture jump now and then) is no turn."""
    blink_drop: float = 0.6
    """A blink: openness falls below this fraction of the open-eye baseline …"""
    blink_recover: float = 0.85
    """… and comes back above this fraction."""
    challenges: tuple[Challenge, ...] = (Challenge.TURN_LEFT, Challenge.TURN_RIGHT)
    """Blink is off by default: its score is only checked on synthetic eyes so far."""


def random_challenge(
    config: LivenessConfig | None = None, rng: random.Random | None = None
) -> Challenge:
    cfg = config or LivenessConfig()
    return (rng or random.SystemRandom()).choice(cfg.challenges)


@dataclass
class LivenessCheck:
    """Feed one observation per analysed frame; ``t`` in seconds (monotonic clock)."""

    challenge: Challenge
    started_at: float
    config: LivenessConfig = field(default_factory=LivenessConfig)
    state: LivenessState = LivenessState.WAITING_FRONTAL
    _baseline: list[float] = field(default_factory=list)
    _closed: bool = False
    _pose: list[tuple[float, float]] = field(default_factory=list)
    """(yaw, log eye-width ratio) of the first frontal frames: the citizen's own baseline."""
    _held: int = 0
    _held_wrong: int = 0

    def feed(
        self, t: float, landmarks: np.ndarray | None, openness: float | None = None
    ) -> LivenessState:
        if self.state in DONE_STATES:
            return self.state
        if t - self.started_at > self.config.timeout_s:
            self.state = LivenessState.TIMED_OUT
            return self.state
        if landmarks is None:  # face lost for a frame: keep waiting until the deadline
            return self.state
        yaw = yaw_ratio(landmarks)
        ratio = math.log(max(eye_width_ratio(landmarks), 1e-3))
        if self.state is LivenessState.WAITING_FRONTAL:
            if abs(yaw) <= self.config.frontal_yaw:
                self.state = LivenessState.WAITING_MOVE
                self._pose.append((yaw, ratio))
                if openness is not None:
                    self._baseline.append(openness)
            return self.state
        if self.challenge is Challenge.BLINK:
            self._feed_blink(yaw, openness)
        else:
            self._feed_turn(yaw, ratio)
        return self.state

    def _feed_turn(self, yaw: float, ratio: float) -> None:
        base_yaw = float(np.median([p[0] for p in self._pose]))
        base_ratio = float(np.median([p[1] for p in self._pose]))
        # Positive yaw = the citizen turned to their own left (see quality.yaw_ratio); the
        # eye on the image's right then narrows, so the (log) width ratio falls.
        sign = 1.0 if self.challenge is Challenge.TURN_LEFT else -1.0
        moved = sign * (yaw - base_yaw)
        narrowed = sign * (base_ratio - ratio)
        need = -math.log(1 - min(self.config.eye_ratio_change, 0.9))
        off = self.config.eye_ratio_change <= 0
        if moved >= self.config.turn_yaw and (off or narrowed >= need):
            self._held += 1
            self._held_wrong = 0
            if self._held >= self.config.hold_frames:
                self.state = LivenessState.PASSED
            return
        self._held = 0
        if moved <= -self.config.turn_yaw and (off or narrowed <= -need):
            self._held_wrong += 1
            if self._held_wrong >= self.config.hold_frames:
                self.state = LivenessState.WRONG_MOVE
            return
        self._held_wrong = 0
        still = abs(moved) < self.config.turn_yaw / 4 and abs(narrowed) < need / 2
        if still and len(self._pose) < BASELINE_FRAMES:
            self._pose.append((yaw, ratio))  # the first few frontal frames make the baseline

    def _feed_blink(self, yaw: float, openness: float | None) -> None:
        if openness is None or abs(yaw) > self.config.frontal_yaw:
            return  # a turned head changes the eye's look: not evidence either way
        if not self._baseline:
            self._baseline.append(openness)
            return
        base = float(np.median(self._baseline))
        if base <= 0:
            return
        if not self._closed:
            if openness < self.config.blink_drop * base:
                self._closed = True
            else:
                self._baseline.append(openness)
                del self._baseline[:-5]  # follow slow light changes
        elif openness > self.config.blink_recover * base:
            self.state = LivenessState.PASSED


@dataclass
class FaceTrack:
    """One face followed across analysed frames: the movement and the frames compared with
    the card photo must show the same face. A face that jumps (its centre moves more than
    ``max_jump`` face widths, or its size by half, between two analysed frames) or is lost
    for more than ``max_gap`` frames breaks the track — a photo held up for the comparison
    and a live head swapped in for the movement, say — and the check starts again."""

    max_jump: float = 0.5
    max_gap: int = 3
    _last: tuple[float, float, float] | None = None  # centre x, centre y, width
    _gap: int = 0

    def feed(self, box: Box | None) -> bool:
        """The face found in one frame (None: none, or several); False when the track
        broke here (it goes on from this frame)."""
        if box is None:
            self._gap += 1
            if self._last is not None and self._gap > self.max_gap:
                self._last = None
                return False
            return True
        self._gap = 0
        cx, cy = box.centre
        width = float(max(box.width, 1))
        last, self._last = self._last, (cx, cy, width)
        if last is None:
            return True
        lx, ly, lw = last
        jumped = math.hypot(cx - lx, cy - ly) > self.max_jump * max(lw, width)
        return not (jumped or not 2 / 3 <= width / lw <= 3 / 2)


def eye_openness(grey: np.ndarray, landmarks: np.ndarray) -> float:
    """How open the eyes look: vertical-edge energy in the eye patches (pure, per frame).

    An open eye has strong horizontal edges (lids, iris against sclera) above and below
    the corner line; a closed lid is smooth skin. Only relative values over one sitting
    are meaningful (the blink check compares with the citizen's own baseline).
    """
    pts = np.asarray(landmarks, dtype=float).reshape(5, 2)
    scores: list[float] = []
    for a, b in ((pts[0], pts[1]), (pts[2], pts[3])):
        width = float(np.linalg.norm(a - b))
        if width < 4:
            continue
        cx, cy = (a + b) / 2
        half_w, half_h = width * 0.6, width * 0.4
        x0, x1 = int(max(cx - half_w, 0)), int(min(cx + half_w, grey.shape[1]))
        y0, y1 = int(max(cy - half_h, 0)), int(min(cy + half_h, grey.shape[0]))
        patch = grey[y0:y1, x0:x1]
        if patch.size == 0 or patch.shape[0] < 3:
            continue
        patch = cv2.resize(patch, (32, 22), interpolation=cv2.INTER_AREA).astype(np.float32)
        scores.append(float(np.abs(cv2.Sobel(patch, cv2.CV_32F, 0, 1, ksize=3)).mean()))
    return float(np.mean(scores)) if scores else 0.0


def run_sequence(
    challenge: Challenge,
    observations: Sequence[tuple[float, np.ndarray | None]],
    config: LivenessConfig | None = None,
) -> LivenessState:
    """Convenience for tests and the CLI: feed (t, landmarks) pairs from t of the first."""
    if not observations:
        return LivenessState.WAITING_FRONTAL
    check = LivenessCheck(challenge, observations[0][0], config or LivenessConfig())
    for t, marks in observations:
        check.feed(t, marks)
    return check.state

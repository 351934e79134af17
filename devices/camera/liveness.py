"""Basic liveness: a random challenge (turn the head left or right, or blink) checked
across frames within a few seconds.

It is *basic* — say so in docs and UI: a plain RGB camera cannot tell a live person from
a replayed video of one. It stops a held-up printed photo, not a determined attacker.

Pure logic over landmark sequences (5 points, see ``quality``). Turning is measured by
``yaw_ratio``; a blink by an eye-openness score per frame (``eye_openness``), because
the 5-point model has no eyelid points. The citizen must first face the camera, then
do the movement, before the deadline. Frames are analysed unmirrored: "left" is the
citizen's own left whatever the preview shows.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum

import cv2
import numpy as np

from devices.camera.quality import yaw_ratio


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


DONE_STATES = frozenset({LivenessState.PASSED, LivenessState.TIMED_OUT})


@dataclass(frozen=True)
class LivenessConfig:
    timeout_s: float = 6.0
    """Seconds from the challenge to the movement."""
    frontal_yaw: float = 0.1
    """|yaw ratio| at most this counts as facing the camera."""
    turn_yaw: float = 0.22
    """|yaw ratio| at least this, in the asked direction, counts as a turn."""
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
        if self.state is LivenessState.WAITING_FRONTAL:
            if abs(yaw) <= self.config.frontal_yaw:
                self.state = LivenessState.WAITING_MOVE
                if openness is not None:
                    self._baseline.append(openness)
            return self.state
        if self.challenge is Challenge.BLINK:
            self._feed_blink(yaw, openness)
        elif self._turned(yaw):
            self.state = LivenessState.PASSED
        return self.state

    def _turned(self, yaw: float) -> bool:
        # Positive yaw = the citizen turned to their own left (see quality.yaw_ratio).
        if self.challenge is Challenge.TURN_LEFT:
            return yaw >= self.config.turn_yaw
        return yaw <= -self.config.turn_yaw

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

"""Pure quality gate for a camera frame: is this frame good enough to verify a face?

Input is what the detector found (face boxes, the 5 landmarks of a single face) and the
grey frame; output is a report with one hint key per problem, in the order the kiosk
should say them (the first is spoken; keys are in ``common/common/assets/locales/camera.toml``).
No I/O, no dlib: tests call it with synthetic frames and boxes.

5-point landmarks (dlib's ``shape_predictor_5_face_landmarks``), image coordinates of a
non-mirrored frame: 0/1 outer/inner corner of the eye on the image's right (the person's
left eye), 2/3 outer/inner corner of the other eye, 4 the base of the nose.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import cv2
import numpy as np

# Hint keys, in the order they are reported (the most basic problem first).
HINTS = (
    "no_face",
    "many_faces",
    "too_far",
    "too_close",
    "off_centre",
    "face_camera",
    "too_dark",
    "too_bright",
    "blurry",
)
# Faces are rescaled to this width before measuring sharpness, so the threshold does not
# depend on how close the citizen stands.
SHARPNESS_WIDTH = 128


@dataclass(frozen=True)
class Box:
    """A face rectangle in pixels; right/bottom exclusive."""

    left: int
    top: int
    right: int
    bottom: int

    @property
    def width(self) -> int:
        return self.right - self.left

    @property
    def height(self) -> int:
        return self.bottom - self.top

    @property
    def centre(self) -> tuple[float, float]:
        return ((self.left + self.right) / 2, (self.top + self.bottom) / 2)

    def clipped(self, width: int, height: int) -> Box:
        return Box(
            max(self.left, 0), max(self.top, 0), min(self.right, width), min(self.bottom, height)
        )

    def scaled(self, factor: float) -> Box:
        return Box(
            round(self.left * factor),
            round(self.top * factor),
            round(self.right * factor),
            round(self.bottom * factor),
        )


@dataclass(frozen=True)
class QualityConfig:
    min_face_fraction: float = 0.18
    """Face width / frame width below this → "come closer" (0.18 ≈ 115 px at 640 px)."""
    max_face_fraction: float = 0.65
    """Face width / frame width above this → "step back"."""
    max_centre_offset: float = 0.2
    """Face centre distance from frame centre, as a fraction of frame width/height."""
    max_yaw: float = 0.18
    """|yaw ratio| (see ``yaw_ratio``) above this → "face the camera"."""
    min_brightness: float = 60.0
    """Mean grey level of the face (0–255) below this → too dark."""
    max_brightness: float = 210.0
    """Mean grey level of the face above this → too bright."""
    min_sharpness: float = 20.0
    """Variance of the Laplacian of the face rescaled to 128 px wide; below → blurry."""

    @classmethod
    def from_mapping(cls, values: dict[str, Any]) -> QualityConfig:
        unknown = set(values) - set(cls.__dataclass_fields__)
        if unknown:
            raise ValueError(f"unknown camera quality setting(s): {', '.join(sorted(unknown))}")
        cfg = cls(**{k: float(v) for k, v in values.items()})
        if not 0 < cfg.min_face_fraction < cfg.max_face_fraction <= 1:
            raise ValueError("need 0 < min_face_fraction < max_face_fraction <= 1")
        if not 0 <= cfg.min_brightness < cfg.max_brightness <= 255:
            raise ValueError("need 0 <= min_brightness < max_brightness <= 255")
        return cfg


@dataclass(frozen=True)
class QualityReport:
    hints: tuple[str, ...]
    face: Box | None = None
    measures: dict[str, float] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.hints

    @property
    def hint(self) -> str | None:
        """The one hint to say now (the most basic problem), or None when the frame is good."""
        return self.hints[0] if self.hints else None

    @property
    def sharpness(self) -> float:
        return self.measures.get("sharpness", 0.0)


def yaw_ratio(landmarks: np.ndarray) -> float:
    """Head turn from 5 landmarks: the nose's offset from the eyes' midpoint *along the eye
    line*, over the eye distance.

    About 0 facing the camera; positive when the nose moves towards the image's right eye,
    i.e. the person turns to their own left (frames are analysed unmirrored). Measured along
    the eye line, not the image's x axis, so a tilted head (or a tilted photo: roll) is not
    taken for a turned one: with the x axis, a frontal face tilted by 20° measured as a
    0.23 "turn" (the nose sits below the eyes, so a tilt moves it sideways).
    """
    pts = np.asarray(landmarks, dtype=float).reshape(5, 2)
    eye_a = pts[0:2].mean(axis=0)
    eye_b = pts[2:4].mean(axis=0)
    axis = eye_a - eye_b
    eye_dist = float(np.linalg.norm(axis))
    if eye_dist < 1e-6:
        return 0.0
    mid = (eye_a + eye_b) / 2
    return float(np.dot(pts[4] - mid, axis) / (eye_dist * eye_dist))


def eye_width_ratio(landmarks: np.ndarray) -> float:
    """Width of the eye on the image's right (corners 0–1) over the other eye's (2–3).

    A head turning to its own left foreshortens that eye (it turns away from the camera) and
    widens the other: the ratio falls; turning right, it rises. A flat picture moved in any
    way (tilted, swung, brought closer) keeps it: lengths along one line keep their ratio
    under the affine distortion a flat photo or screen undergoes. 1.0 when unmeasurable.
    """
    pts = np.asarray(landmarks, dtype=float).reshape(5, 2)
    axis = pts[0:2].mean(axis=0) - pts[2:4].mean(axis=0)
    length = float(np.linalg.norm(axis))
    if length < 1e-6:
        return 1.0
    # Widths along the eye line: the corners lie near it, and lengths along one line keep
    # their ratio under an affine map where the corners' small offsets from it would not.
    unit = axis / length
    width_b = abs(float(np.dot(pts[2] - pts[3], unit)))
    if width_b < 1e-6:
        return 1.0
    return abs(float(np.dot(pts[0] - pts[1], unit))) / width_b


def to_grey(frame: np.ndarray) -> np.ndarray:
    if frame.dtype != np.uint8 or frame.ndim not in (2, 3):
        raise ValueError(f"expected an 8-bit grey or BGR image, got {frame.dtype} {frame.shape}")
    if frame.ndim == 2:
        return frame
    if frame.shape[2] == 3:
        return cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
    if frame.shape[2] == 4:
        return cv2.cvtColor(frame, cv2.COLOR_BGRA2GRAY)
    raise ValueError(f"expected 1, 3 or 4 channels, got {frame.shape[2]}")


def sharpness(grey_face: np.ndarray) -> float:
    """Variance of the Laplacian after rescaling to SHARPNESS_WIDTH px wide."""
    h, w = grey_face.shape[:2]
    if w == 0 or h == 0:
        return 0.0
    size = (SHARPNESS_WIDTH, max(1, round(h * SHARPNESS_WIDTH / w)))
    scaled = cv2.resize(grey_face, size, interpolation=cv2.INTER_AREA)
    return float(cv2.Laplacian(scaled, cv2.CV_64F).var())


def assess(
    frame: np.ndarray,
    faces: Sequence[Box],
    landmarks: np.ndarray | None = None,
    config: QualityConfig | None = None,
) -> QualityReport:
    """Check one frame; ``landmarks`` (5×2) belong to the single face, when known."""
    cfg = config or QualityConfig()
    grey = to_grey(frame)
    fh, fw = grey.shape[:2]
    if not faces:
        return QualityReport(("no_face",))
    if len(faces) > 1:
        # A second face behind the citizen would make "whose face matched" ambiguous.
        return QualityReport(("many_faces",))
    face = faces[0]
    hints: list[str] = []
    fraction = face.width / fw
    cx, cy = face.centre
    offset = max(abs(cx - fw / 2) / fw, abs(cy - fh / 2) / fh)
    measures = {"face_fraction": fraction, "centre_offset": offset}
    if fraction < cfg.min_face_fraction:
        hints.append("too_far")
    elif fraction > cfg.max_face_fraction:
        hints.append("too_close")
    if offset > cfg.max_centre_offset:
        hints.append("off_centre")
    if landmarks is not None:
        yaw = yaw_ratio(landmarks)
        measures["yaw"] = yaw
        if abs(yaw) > cfg.max_yaw:
            hints.append("face_camera")
    region = face.clipped(fw, fh)
    crop = grey[region.top : region.bottom, region.left : region.right]
    if crop.size == 0:
        return QualityReport(("off_centre",), face, measures)
    brightness = float(crop.mean())
    measures["brightness"] = brightness
    measures["sharpness"] = sharpness(crop)
    if brightness < cfg.min_brightness:
        hints.append("too_dark")
    elif brightness > cfg.max_brightness:
        hints.append("too_bright")
    if measures["sharpness"] < cfg.min_sharpness:
        hints.append("blurry")
    return QualityReport(tuple(hints), face, measures)

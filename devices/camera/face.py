"""Face check (人证核验): is the person at the kiosk the holder of this ID card?

dlib's HOG detector, its 5-point landmark model and its ResNet recognition model (both
from ``face-recognition-models``, CC0) give a 128-D embedding per face; the Euclidean
distance between the card photo's and the live face's embeddings decides:

    distance <= match_threshold       → match
    distance >= no_match_threshold    → no_match
    in between                        → uncertain (staff review)

dlib's own threshold is 0.6; ours is stricter by default because a wrong "match" lets
someone act under another person's ID, while "uncertain" only calls a member of staff.

Privacy: frames, card photos and embeddings stay in memory; results keep only the
decision, the distance and the time, and nothing here logs an image or an embedding.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any, Protocol

import cv2
import numpy as np

from devices.camera import cpu
from devices.camera.errors import (
    BadImage,
    FaceError,
    ModelMissing,
    NoAvx,
    NoFace,
    PhotoUnavailable,
)
from devices.camera.quality import Box, QualityConfig, QualityReport, assess, to_grey


class Decision(StrEnum):
    MATCH = "match"
    NO_MATCH = "no_match"
    UNCERTAIN = "uncertain"
    UNAVAILABLE = "unavailable"


@dataclass(frozen=True)
class FaceCheckConfig:
    match_threshold: float = 0.5
    """Distance at or below which the faces match (dlib's own is 0.6; stricter on purpose).
    Measured: a ~1 KB card photo adds ~0.1 to genuine distances (0.27–0.57 vs 0.09–0.46
    uncompressed); impostors stayed >= 0.62 (bench/face_check.py)."""
    no_match_threshold: float = 0.6
    """Distance at or above which they do not match; between the two → uncertain."""
    best_of: int = 3
    """At most this many good live frames are compared (sharpest first, stop at a match)."""
    detect_width: int = 480
    """Frames wider than this are scaled down for detection (px); faces < ~80 px are missed."""
    max_no_match: int = 2
    """After this many no_match results in one session, staff are asked to review."""

    @classmethod
    def from_mapping(cls, values: dict[str, Any]) -> FaceCheckConfig:
        """From the ``[face]`` table of a config file; bad values are a clear ValueError."""
        unknown = set(values) - set(cls.__dataclass_fields__)
        if unknown:
            raise ValueError(f"unknown face check setting(s): {', '.join(sorted(unknown))}")
        cfg = cls(**values)
        cfg.validate()
        return cfg

    def validate(self) -> None:
        if not 0 < self.match_threshold <= self.no_match_threshold <= 2:
            raise ValueError("need 0 < match_threshold <= no_match_threshold <= 2")
        if self.best_of < 1 or self.max_no_match < 1 or self.detect_width < 80:
            raise ValueError("need best_of >= 1, max_no_match >= 1, detect_width >= 80")


def decide(distance: float, config: FaceCheckConfig) -> Decision:
    """The decision for one distance (pure)."""
    if distance <= config.match_threshold:
        return Decision.MATCH
    if distance >= config.no_match_threshold:
        return Decision.NO_MATCH
    return Decision.UNCERTAIN


@dataclass(frozen=True)
class FaceCheckResult:
    """What is kept of a check: decision, distance and time; never an image or embedding."""

    decision: Decision
    distance: float | None
    checked_at: dt.datetime
    frames_compared: int = 0
    reason: str | None = None
    """Error code when the decision is ``unavailable`` (e.g. ``face.photo_unavailable``)."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "decision": str(self.decision),
            "distance": None if self.distance is None else round(self.distance, 4),
            "checked_at": self.checked_at.isoformat(timespec="seconds"),
            "reason": self.reason,
        }


class SessionAction(StrEnum):
    PASS = "pass"
    RETRY = "retry"
    STAFF_REVIEW = "staff_review"


class FaceCheckSession:
    """Outcome policy across attempts for one citizen (pure): uncertain, unavailable and
    repeated no_match ask staff for review (the kiosk files the help request)."""

    def __init__(self, config: FaceCheckConfig | None = None) -> None:
        self.config = config or FaceCheckConfig()
        self.no_matches = 0

    def record(self, result: FaceCheckResult) -> SessionAction:
        if result.decision is Decision.MATCH:
            return SessionAction.PASS
        if result.decision is Decision.NO_MATCH:
            self.no_matches += 1
            if self.no_matches < self.config.max_no_match:
                return SessionAction.RETRY
        return SessionAction.STAFF_REVIEW


class PhotoSource(Protocol):
    """The ID-card reader's photo decoder (vendor library or the simulator's)."""

    def decode(self, wlt: bytes, /) -> np.ndarray: ...


def card_photo(decoder: PhotoSource | None, wlt: bytes | None) -> np.ndarray:
    """Decode the card's photo; any failure becomes PhotoUnavailable (never a crash)."""
    if decoder is None:
        raise PhotoUnavailable("no card photo decoder is configured")
    if not wlt:
        raise PhotoUnavailable("the card carried no photo")
    try:
        image = decoder.decode(bytes(wlt))
    except Exception as err:  # vendor decoders raise anything; the kiosk needs one answer
        raise PhotoUnavailable(f"card photo could not be decoded ({type(err).__name__})") from err
    if not isinstance(image, np.ndarray) or image.size == 0:
        raise PhotoUnavailable("card photo decoder returned no image")
    return image


def _check_image(image: np.ndarray) -> np.ndarray:
    if not isinstance(image, np.ndarray) or image.dtype != np.uint8 or image.size == 0:
        raise BadImage("expected a non-empty 8-bit image")
    if image.ndim == 2:
        return cv2.cvtColor(image, cv2.COLOR_GRAY2RGB)
    if image.ndim == 3 and image.shape[2] == 3:
        return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)
    if image.ndim == 3 and image.shape[2] == 4:
        return cv2.cvtColor(image, cv2.COLOR_BGRA2RGB)
    raise BadImage(f"expected a grey, BGR or BGRA image, got shape {image.shape}")


MODEL_PACKAGE = "face_recognition_models"
SHAPE_MODEL = "shape_predictor_5_face_landmarks.dat"
ENCODER_MODEL = "dlib_face_recognition_resnet_model_v1.dat"


def model_files() -> tuple[Path, Path]:
    """The 5-point landmark and ResNet model files that ``face-recognition-models`` ships,
    found without importing it: its ``__init__`` imports ``pkg_resources`` only to build
    these paths, which took 0.5 s and ~12 MB of the kiosk's memory (56 modules, a scan of
    every installed distribution) for the life of the process."""
    spec = importlib.util.find_spec(MODEL_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise ModelMissing(f"face models are not installed ({MODEL_PACKAGE})")
    folder = Path(next(iter(spec.submodule_search_locations))) / "models"
    files = (folder / SHAPE_MODEL, folder / ENCODER_MODEL)
    missing = [f.name for f in files if not f.is_file()]
    if missing:
        raise ModelMissing(f"face model file(s) missing from {folder}: {', '.join(missing)}")
    return files


class FaceModels:
    """dlib's detector, 5-point landmarks and ResNet encoder, loaded once per process."""

    _instance: FaceModels | None = None
    _lock = threading.Lock()

    def __init__(self) -> None:
        if cpu.has_avx() is False:
            raise NoAvx("this CPU lacks AVX, which the dlib-bin build needs; face check is off")
        try:
            import dlib
        except ImportError as err:
            raise ModelMissing(f"face models are not installed ({err.name})") from err
        shapes, encoder = model_files()
        try:
            self._detector = dlib.get_frontal_face_detector()
            self._shapes = dlib.shape_predictor(str(shapes))
            self._encoder = dlib.face_recognition_model_v1(str(encoder))
        except RuntimeError as err:
            raise ModelMissing(f"face model files could not be loaded: {err}") from err
        self._dlib = dlib
        # dlib objects are not documented as thread-safe: one call at a time.
        self._use = threading.Lock()

    @classmethod
    def load(cls) -> FaceModels:
        with cls._lock:
            if cls._instance is None:
                cls._instance = cls()
            return cls._instance

    def detect(self, rgb: np.ndarray, upsample: int = 0) -> list[Box]:
        with self._use:
            rects = self._detector(rgb, upsample)
        return [Box(r.left(), r.top(), r.right(), r.bottom()) for r in rects]

    def _shape(self, rgb: np.ndarray, box: Box) -> Any:
        rect = self._dlib.rectangle(box.left, box.top, box.right, box.bottom)
        return self._shapes(rgb, rect)

    def landmarks(self, rgb: np.ndarray, box: Box) -> np.ndarray:
        with self._use:
            shape = self._shape(rgb, box)
        return np.array([(p.x, p.y) for p in shape.parts()], dtype=float)

    def embed(self, rgb: np.ndarray, box: Box) -> np.ndarray:
        with self._use:
            shape = self._shape(rgb, box)
            return np.array(self._encoder.compute_face_descriptor(rgb, shape))


@dataclass(frozen=True, repr=False)
class FaceSample:
    """One detected face ready to compare. Holds the embedding only in memory."""

    embedding: np.ndarray

    def __repr__(self) -> str:  # keep embeddings out of logs and tracebacks
        return "FaceSample(<embedding hidden>)"

    def distance(self, other: FaceSample) -> float:
        return float(np.linalg.norm(self.embedding - other.embedding))


@dataclass(frozen=True, repr=False)
class FrameAnalysis:
    """Detection and quality of one live frame. It keeps the frame itself, which the caller
    holds anyway, not the RGB copy made for detection: that copy is made again for the few
    frames embedded, so a check of five frames holds five images at its peak, not ten."""

    quality: QualityReport
    faces: tuple[Box, ...]
    landmarks: np.ndarray | None
    frame: np.ndarray

    def rgb(self) -> np.ndarray:
        return _check_image(self.frame)

    def __repr__(self) -> str:
        return f"FrameAnalysis(faces={len(self.faces)}, hints={self.quality.hints})"


class FaceChecker:
    def __init__(
        self,
        models: FaceModels | None = None,
        config: FaceCheckConfig | None = None,
        quality: QualityConfig | None = None,
        clock: Any = None,
    ) -> None:
        self.models = models or FaceModels.load()
        self.config = config or FaceCheckConfig()
        self.config.validate()
        self.quality = quality or QualityConfig()
        self._now = clock or (lambda: dt.datetime.now(dt.UTC))

    def find_faces(self, rgb: np.ndarray) -> list[Box]:
        """Detect on a copy scaled to ``detect_width``: HOG time grows with pixels."""
        h, w = rgb.shape[:2]
        if w <= self.config.detect_width:
            return self.models.detect(rgb)
        factor = self.config.detect_width / w
        small = cv2.resize(
            rgb, (self.config.detect_width, max(1, round(h * factor))), interpolation=cv2.INTER_AREA
        )
        return [b.scaled(1 / factor) for b in self.models.detect(small)]

    def analyse(self, frame: np.ndarray) -> FrameAnalysis:
        """Faces, landmarks and the quality gate for one live BGR frame."""
        rgb = _check_image(frame)
        faces = tuple(self.find_faces(rgb))
        marks = self.models.landmarks(rgb, faces[0]) if len(faces) == 1 else None
        report = assess(to_grey(frame), faces, marks, self.quality)
        return FrameAnalysis(report, faces, marks, frame)

    def card_face(self, photo: np.ndarray | None) -> FaceSample:
        """The card photo's face. Card photos are small (102×126): try upsampling."""
        if photo is None:
            raise PhotoUnavailable("no card photo")
        try:
            rgb = _check_image(photo)
        except BadImage as err:
            raise PhotoUnavailable(f"card photo is not an image: {err.args[0]}") from err
        for upsample in (0, 1, 2):
            faces = self.models.detect(rgb, upsample)
            if faces:
                # The largest face: a card photo shows one person.
                box = max(faces, key=lambda b: b.width * b.height)
                return FaceSample(self.models.embed(rgb, box))
        raise PhotoUnavailable("no face found in the card photo")

    def live_face(self, frame: np.ndarray) -> FaceSample:
        """The single face of one still image (the CLI's --live photo), gate not applied."""
        analysis = self.analyse(frame)
        if not analysis.faces:
            raise NoFace("no face found in the live image")
        box = max(analysis.faces, key=lambda b: b.width * b.height)
        return FaceSample(self.models.embed(analysis.rgb(), box))

    def unavailable(self, err: FaceError) -> FaceCheckResult:
        return FaceCheckResult(Decision.UNAVAILABLE, None, self._now(), 0, err.code)

    def verify(
        self,
        card: np.ndarray | FaceSample | None,
        frames: Iterable[np.ndarray | FrameAnalysis],
    ) -> FaceCheckResult:
        """Best of N good live frames against the card photo.

        Frames that fail the quality gate are skipped; the sharpest good ones are compared
        first, stopping at the first match, so a genuine citizen costs one embedding.
        Card problems give ``unavailable``; no good live frame raises NoFace (retry).
        """
        try:
            card_sample = card if isinstance(card, FaceSample) else self.card_face(card)
        except PhotoUnavailable as err:
            return self.unavailable(err)
        good = [
            a
            for a in (f if isinstance(f, FrameAnalysis) else self.analyse(f) for f in frames)
            if a.quality.ok
        ]
        if not good:
            raise NoFace("no live frame passed the quality gate")
        good.sort(key=lambda a: a.quality.sharpness, reverse=True)
        best: float | None = None
        compared = 0
        for analysis in good[: self.config.best_of]:
            assert analysis.quality.face is not None
            live = FaceSample(self.models.embed(analysis.rgb(), analysis.quality.face))
            compared += 1
            distance = card_sample.distance(live)
            best = distance if best is None else min(best, distance)
            if decide(best, self.config) is Decision.MATCH:
                break
        assert best is not None
        return FaceCheckResult(decide(best, self.config), best, self._now(), compared)

    def compare(self, card: np.ndarray | None, live: np.ndarray) -> FaceCheckResult:
        """One still live image against the card photo, no quality gate (calibration, CLI)."""
        try:
            card_sample = self.card_face(card)
        except PhotoUnavailable as err:
            return self.unavailable(err)
        distance = card_sample.distance(self.live_face(live))
        return FaceCheckResult(decide(distance, self.config), distance, self._now(), 1)

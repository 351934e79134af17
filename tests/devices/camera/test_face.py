"""Face check on real public photos (fetched through pip), plus the pure decision rules."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from devices.camera.errors import BadImage, NoFace, PhotoUnavailable
from devices.camera.face import (
    Decision,
    FaceCheckConfig,
    FaceChecker,
    FaceCheckResult,
    FaceCheckSession,
    SessionAction,
    card_photo,
    decide,
)
from tests.devices.camera.photos import card_crop, kiosk_frame

pytestmark = pytest.mark.slow

CFG = FaceCheckConfig()


def result(decision: Decision) -> FaceCheckResult:
    return FaceCheckResult(decision, 0.5, dt.datetime.now(dt.UTC))


# -- pure rules (no models) ------------------------------------------------------------
@pytest.mark.parametrize(
    ("distance", "expected"),
    [
        (0.2, Decision.MATCH),
        (0.5, Decision.MATCH),
        (0.55, Decision.UNCERTAIN),
        (0.6, Decision.NO_MATCH),
        (0.9, Decision.NO_MATCH),
    ],
)
def test_decision_thresholds(distance: float, expected: Decision) -> None:
    assert decide(distance, CFG) is expected


def test_default_is_stricter_than_dlibs_06() -> None:
    assert CFG.match_threshold < 0.6 and CFG.no_match_threshold <= 0.6


def test_config_rejects_inverted_thresholds() -> None:
    with pytest.raises(ValueError, match="match_threshold"):
        FaceCheckConfig.from_mapping({"match_threshold": 0.7, "no_match_threshold": 0.5})
    with pytest.raises(ValueError, match="unknown"):
        FaceCheckConfig.from_mapping({"treshold": 0.5})
    assert FaceCheckConfig.from_mapping({"match_threshold": 0.4}).match_threshold == 0.4


def test_session_asks_staff_after_uncertain_or_repeated_no_match() -> None:
    session = FaceCheckSession(FaceCheckConfig(max_no_match=2))
    assert session.record(result(Decision.NO_MATCH)) is SessionAction.RETRY
    assert session.record(result(Decision.NO_MATCH)) is SessionAction.STAFF_REVIEW
    assert FaceCheckSession().record(result(Decision.UNCERTAIN)) is SessionAction.STAFF_REVIEW
    assert FaceCheckSession().record(result(Decision.UNAVAILABLE)) is SessionAction.STAFF_REVIEW
    assert FaceCheckSession().record(result(Decision.MATCH)) is SessionAction.PASS


def test_result_keeps_only_decision_distance_and_time() -> None:
    data = result(Decision.MATCH).to_dict()
    assert set(data) == {"decision", "distance", "checked_at", "reason"}


class BrokenDecoder:
    def decode(self, wlt: bytes) -> np.ndarray:
        raise ValueError("bad wlt")


class GoodDecoder:
    def decode(self, wlt: bytes) -> np.ndarray:
        return np.zeros((126, 102, 3), np.uint8)


def test_card_photo_problems_are_photo_unavailable() -> None:
    for decoder, wlt in (
        (None, b"x" * 1024),
        (GoodDecoder(), b""),
        (GoodDecoder(), None),
        (BrokenDecoder(), b"x" * 1024),
    ):
        with pytest.raises(PhotoUnavailable) as err:
            card_photo(decoder, wlt)
        assert err.value.code == "face.photo_unavailable"
    assert card_photo(GoodDecoder(), b"x").shape == (126, 102, 3)


# -- with the models and photos --------------------------------------------------------
ROOT = Path(__file__).resolve().parents[3]


def test_models_load_from_the_packages_files_without_importing_it(checker: FaceChecker) -> None:
    """face_recognition_models' __init__ imports pkg_resources (0.5 s, ~12 MB for the life
    of the kiosk) only to build two paths: the same files are found without running it."""
    import face_recognition_models as frm

    from devices.camera.face import model_files

    shapes, encoder = model_files()
    assert str(shapes) == frm.pose_predictor_five_point_model_location()
    assert str(encoder) == frm.face_recognition_model_location()
    code = (
        "import sys\n"
        "from devices.camera.face import FaceModels\n"
        "FaceModels.load()\n"
        "print(sorted(m for m in ('face_recognition_models', 'pkg_resources') if m in sys.modules))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "[]"


def load(photos: Path, name: str) -> np.ndarray:
    import cv2

    image = cv2.imread(str(photos / name))
    assert image is not None
    return image


def box(checker: FaceChecker, image: np.ndarray) -> tuple[int, int, int, int]:
    faces = checker.find_faces(image[:, :, ::-1].copy())
    assert len(faces) == 1
    b = faces[0]
    return (b.left, b.top, b.right, b.bottom)


def test_same_person_matches_and_different_people_do_not(
    photos: Path, checker: FaceChecker
) -> None:
    obama, obama3, biden = (load(photos, n) for n in ("obama.jpg", "obama3.jpg", "biden.jpg"))
    same = checker.compare(obama, obama3)
    other = checker.compare(obama, biden)
    assert same.decision is Decision.MATCH and same.distance is not None
    assert other.decision is Decision.NO_MATCH and other.distance is not None
    assert same.distance < 0.45 < 0.7 < other.distance  # margins both sides


def test_card_size_photo_matches_kiosk_frames(photos: Path, checker: FaceChecker) -> None:
    obama, obama3 = load(photos, "obama.jpg"), load(photos, "obama3.jpg")
    card = card_crop(obama, box(checker, obama))
    assert card.shape == (126, 102, 3)
    frames = [kiosk_frame(obama3, w, face_box=box(checker, obama3)) for w in (180, 220)]
    res = checker.verify(card, frames)
    assert res.decision is Decision.MATCH
    assert 1 <= res.frames_compared <= CFG.best_of  # stopped at the first match
    # An impostor's card against the same frames is rejected.
    hopper = load(photos, "grace_hopper.jpg")
    assert (
        checker.verify(card_crop(hopper, box(checker, hopper)), frames).decision
        is Decision.NO_MATCH
    )


def test_no_card_photo_is_unavailable_not_an_error(photos: Path, checker: FaceChecker) -> None:
    frame = np.zeros((480, 640, 3), np.uint8)
    res = checker.verify(None, [frame])
    assert res.decision is Decision.UNAVAILABLE and res.reason == "face.photo_unavailable"
    blank_card = np.full((126, 102, 3), 200, np.uint8)
    assert checker.verify(blank_card, [frame]).decision is Decision.UNAVAILABLE


def test_no_good_live_frame_raises_no_face(photos: Path, checker: FaceChecker) -> None:
    obama = load(photos, "obama.jpg")
    card = card_crop(obama, box(checker, obama))
    with pytest.raises(NoFace):
        checker.verify(card, [np.zeros((480, 640, 3), np.uint8)])
    # The checker is still usable afterwards.
    assert checker.compare(card, obama).decision is Decision.MATCH


def test_bad_image_is_a_clear_error(checker: FaceChecker) -> None:
    with pytest.raises(BadImage):
        checker.analyse(np.zeros((10, 10, 2), np.uint8))


def test_kiosk_frame_of_a_real_face_passes_the_gate(photos: Path, checker: FaceChecker) -> None:
    hopper = load(photos, "grace_hopper.jpg")
    analysis = checker.analyse(kiosk_frame(hopper, 200, face_box=box(checker, hopper)))
    assert analysis.quality.ok, analysis.quality.hints
    assert analysis.landmarks is not None and analysis.landmarks.shape == (5, 2)
    far = checker.analyse(kiosk_frame(hopper, 100, face_box=box(checker, hopper)))
    assert far.quality.hint == "too_far"
    assert "embedding" not in repr(analysis)  # nothing biometric in reprs/logs

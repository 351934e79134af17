"""The quality gate is pure: synthetic frames and boxes, no detector."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from common.i18n import t
from devices.camera.quality import HINTS, Box, QualityConfig, assess, sharpness, yaw_ratio


def textured(h: int = 480, w: int = 640, level: int = 128, seed: int = 1) -> np.ndarray:
    """A sharp, mid-grey BGR frame (noise has a high Laplacian variance)."""
    rng = np.random.default_rng(seed)
    noise = rng.integers(-40, 41, size=(h, w), dtype=np.int16)
    grey = np.clip(level + noise, 0, 255).astype(np.uint8)
    return cv2.cvtColor(grey, cv2.COLOR_GRAY2BGR)


CENTRED = Box(220, 140, 420, 340)  # 200 px wide, centred in 640×480
FRONTAL = np.array([[370, 200], [340, 200], [280, 200], [310, 200], [325, 250]], float)


def test_good_frame_passes_with_no_hint() -> None:
    report = assess(textured(), [CENTRED], FRONTAL)
    assert report.ok and report.hint is None
    # Measures are still there for ranking frames (sharpest first).
    assert report.sharpness > QualityConfig().min_sharpness


@pytest.mark.parametrize(
    ("faces", "expected"),
    [
        ([], "no_face"),
        ([CENTRED, Box(10, 10, 90, 90)], "many_faces"),
        ([Box(300, 220, 340, 260)], "too_far"),
        ([Box(0, 0, 600, 480)], "too_close"),
        ([Box(0, 0, 200, 200)], "off_centre"),
    ],
)
def test_geometry_problems_have_their_hint(faces: list[Box], expected: str) -> None:
    report = assess(textured(), faces)
    assert not report.ok
    assert report.hint == expected
    # Every hint must be sayable: a missing text would be silence at the kiosk.
    assert t("camera", expected)


def test_turned_head_asks_to_face_the_camera() -> None:
    turned = FRONTAL.copy()
    turned[4, 0] += 25  # nose 25 px to the side of 60 px between the eyes
    report = assess(textured(), [CENTRED], turned)
    assert report.hints == ("face_camera",)
    assert yaw_ratio(turned) > 0.3 and abs(yaw_ratio(FRONTAL)) < 0.01


def test_dark_bright_and_blurry_faces() -> None:
    assert assess(textured(level=20), [CENTRED]).hints == ("too_dark",)
    assert assess(textured(level=240), [CENTRED]).hints == ("too_bright",)
    blurred = cv2.GaussianBlur(textured(), (0, 0), 6)
    assert assess(blurred, [CENTRED]).hints == ("blurry",)


def test_several_problems_are_all_reported_most_basic_first() -> None:
    report = assess(textured(level=20), [Box(0, 0, 60, 60)])
    assert report.hints == ("too_far", "off_centre", "too_dark")
    assert list(report.hints) == sorted(report.hints, key=HINTS.index)


def test_sharpness_does_not_depend_on_face_size() -> None:
    face = textured(200, 200)[:, :, 0]
    big = cv2.resize(face, (400, 400), interpolation=cv2.INTER_NEAREST)
    # Rescaled to the same width first, so standing closer is not "sharper".
    assert sharpness(big) == pytest.approx(sharpness(face), rel=0.6)


def test_face_box_outside_the_frame_is_clipped_not_an_error() -> None:
    report = assess(textured(), [Box(500, 300, 800, 600)])
    assert "off_centre" in report.hints


def test_bad_frame_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="8-bit"):
        assess(np.zeros((10, 10), dtype=np.float32), [])


def test_config_from_mapping_rejects_nonsense() -> None:
    assert QualityConfig.from_mapping({"min_sharpness": 30}).min_sharpness == 30
    with pytest.raises(ValueError, match="unknown"):
        QualityConfig.from_mapping({"min_sharpnes": 30})
    with pytest.raises(ValueError, match="min_face_fraction"):
        QualityConfig.from_mapping({"min_face_fraction": 0.9, "max_face_fraction": 0.5})
    # Defaults stay valid after a rejected mapping (frozen, nothing half-applied).
    assert QualityConfig().min_face_fraction < QualityConfig().max_face_fraction


def test_every_hint_has_chinese_and_english_text() -> None:
    for key in HINTS:
        assert t("camera", key, "zh") != t("camera", key, "en")

"""Public face photos for tests and the benchmark, committed under ``tests/fixtures/faces/``.

Four photos, each byte for byte the file its package ships (source, version, path, licence
and checksum in ``tests/fixtures/faces/LICENSE.md``):

- ``obama.jpg``, ``obama3.jpg`` and ``biden.jpg`` from the face_recognition 1.3.0 sdist's
  ``tests/test_images/`` (two photos of one person, one of another),
- ``grace_hopper.jpg`` from matplotlib's ``mpl-data/sample_data``.

Nothing is downloaded at test time, so the face tests run (or fail) offline too.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[3]
FACES_DIR = ROOT / "tests" / "fixtures" / "faces"

# Which photos show the same person: genuine pairs are within a group, impostors across.
PEOPLE: dict[str, tuple[str, ...]] = {
    "obama": ("obama.jpg", "obama3.jpg"),
    "biden": ("biden.jpg",),
    "hopper": ("grace_hopper.jpg",),
}


def photos_dir() -> Path:
    """The folder holding every photo of :data:`PEOPLE`; an incomplete checkout is an
    error, never a skip."""
    missing = [n for names in PEOPLE.values() for n in names if not (FACES_DIR / n).is_file()]
    if missing:
        raise FileNotFoundError(f"{FACES_DIR}: missing {', '.join(missing)}")
    return FACES_DIR


def read(photos: Path, name: str) -> np.ndarray:
    image = cv2.imread(str(photos / name))
    assert image is not None, name
    return image


def kiosk_frame(
    image: np.ndarray,
    face_width: int = 200,
    size: tuple[int, int] = (640, 480),
    face_box: tuple[int, int, int, int] | None = None,
) -> np.ndarray:
    """A 640×480 frame with the photo's face centred at about ``face_width`` px, like a
    citizen standing at the kiosk. ``face_box`` (l, t, r, b) is the face in ``image``."""
    assert face_box is not None
    left, top, right, bottom = face_box
    scale = face_width / (right - left)
    resized = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    cx, cy = (left + right) / 2 * scale, (top + bottom) / 2 * scale
    w, h = size
    pad = max(w, h)
    padded = cv2.copyMakeBorder(resized, pad, pad, pad, pad, cv2.BORDER_REPLICATE)
    x0, y0 = round(cx + pad - w / 2), round(cy + pad - h / 2)
    return np.ascontiguousarray(padded[y0 : y0 + h, x0 : x0 + w])


def card_crop(image: np.ndarray, face_box: tuple[int, int, int, int]) -> np.ndarray:
    """A 102×126 (w×h) ID-card-like portrait around the face."""
    left, top, right, bottom = face_box
    cx, cy = (left + right) / 2, (top + bottom) / 2
    w = (right - left) * 1.7
    h = w * 126 / 102
    pad = round(max(w, h))
    padded = cv2.copyMakeBorder(image, pad, pad, pad, pad, cv2.BORDER_REPLICATE)
    x0, y0 = round(cx - w / 2) + pad, round(cy - h * 0.45) + pad
    crop = padded[y0 : y0 + round(h), x0 : x0 + round(w)]
    return cv2.resize(crop, (102, 126), interpolation=cv2.INTER_AREA)


if __name__ == "__main__":
    print(photos_dir())

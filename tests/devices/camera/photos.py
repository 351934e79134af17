"""Public face photos for tests and the benchmark, fetched through pip (never committed).

- ``astronaut.png`` from scikit-image's wheel (``skimage/data/astronaut.png``: Eileen Collins),
- ``grace_hopper.jpg`` from matplotlib's wheel (``mpl-data/sample_data``),
- the face_recognition 1.3.0 sdist's ``tests/test_images/`` (several photos of one person).

Only the image files are extracted, into ``build/face-photos/`` (ignored by git); the
downloaded archives are deleted again. Nothing is installed.
"""

from __future__ import annotations

import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[3]
CACHE_DIR = ROOT / "build" / "face-photos"

# (pip requirement, extra pip options, archive member suffix → local file name)
_SOURCES: tuple[tuple[str, tuple[str, ...], dict[str, str]], ...] = (
    ("scikit-image", ("--only-binary", ":all:"), {"skimage/data/astronaut.png": "astronaut.png"}),
    (
        "matplotlib",
        ("--only-binary", ":all:"),
        {"mpl-data/sample_data/grace_hopper.jpg": "grace_hopper.jpg"},
    ),
    (
        "face-recognition==1.3.0",
        ("--no-binary", ":all:"),
        {
            f"tests/test_images/{name}": name
            for name in (
                "obama.jpg",
                "obama2.jpg",
                "obama3.jpg",
                "biden.jpg",
                "obama_partial_face.jpg",
                "obama_partial_face2.jpg",
            )
        },
    ),
)

# Which photos show the same person: genuine pairs are within a group, impostors across.
PEOPLE: dict[str, tuple[str, ...]] = {
    "obama": ("obama.jpg", "obama2.jpg", "obama3.jpg"),
    "biden": ("biden.jpg",),
    "collins": ("astronaut.png",),
    "hopper": ("grace_hopper.jpg",),
}


class PhotosUnavailable(RuntimeError):
    """pip could not fetch the photos (no registry reachable)."""


def _members(archive: Path) -> dict[str, bytes]:
    found: dict[str, bytes] = {}
    if archive.suffix == ".whl":
        with zipfile.ZipFile(archive) as zf:
            return {n: zf.read(n) for n in zf.namelist() if n.lower().endswith((".png", ".jpg"))}
    with tarfile.open(archive) as tf:
        for member in tf.getmembers():
            if member.isfile() and member.name.lower().endswith((".png", ".jpg")):
                f = tf.extractfile(member)
                if f is not None:
                    found[member.name] = f.read()
    return found


def _fetch(requirement: str, options: tuple[str, ...], wanted: dict[str, str]) -> None:
    with tempfile.TemporaryDirectory(prefix="govhall-photos-") as tmp:
        cmd = [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--no-deps",
            "--disable-pip-version-check",
            "-q",
            *options,
            "-d",
            tmp,
            requirement,
        ]
        try:
            done = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
        except (OSError, subprocess.TimeoutExpired) as err:
            raise PhotosUnavailable(f"pip download {requirement} failed: {err}") from err
        if done.returncode != 0:
            tail = (done.stderr.strip().splitlines() or ["no output"])[-1]
            raise PhotosUnavailable(f"pip download {requirement} failed: {tail}")
        archives = list(Path(tmp).iterdir())
        if not archives:
            raise PhotosUnavailable(f"pip download {requirement} saved nothing")
        members = _members(archives[0])
        for suffix, local in wanted.items():
            data = next((d for n, d in members.items() if n.endswith(suffix)), None)
            if data is None:
                raise PhotosUnavailable(f"{requirement} has no {suffix}")
            (CACHE_DIR / local).write_bytes(data)


def fetch_photos() -> Path:
    """Return the folder holding every photo, downloading what is missing."""
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    for requirement, options, wanted in _SOURCES:
        if not all((CACHE_DIR / local).is_file() for local in wanted.values()):
            _fetch(requirement, options, wanted)
    return CACHE_DIR


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
    print(fetch_photos())

"""Shared fixtures: the public face photos (committed in tests/fixtures/faces/) and one
loaded set of face models."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from devices.camera.face import FaceChecker

from tests.devices.camera.photos import photos_dir


@pytest.fixture(scope="session")
def photos() -> Path:
    return photos_dir()


@pytest.fixture(scope="session")
def checker() -> FaceChecker:
    from devices.camera.errors import FaceError
    from devices.camera.face import FaceChecker

    try:
        return FaceChecker()
    except FaceError as err:
        pytest.skip(f"face models unavailable here: {err}")

"""The ID-card simulator's photo (1024 bytes, ``encode_sim_photo``) decoded through the
reader's decoder still matches the live face: the whole card-photo path of the kiosk."""

from __future__ import annotations

from pathlib import Path

import cv2
import pytest

from devices.camera.face import Decision, FaceChecker, card_photo
from tests.devices.camera.photos import card_crop, kiosk_frame

photo = pytest.importorskip("devices.idcard.photo")
pytestmark = pytest.mark.slow


def test_round_tripped_card_photo_still_matches(photos: Path, checker: FaceChecker) -> None:
    obama, obama3 = (cv2.imread(str(photos / n)) for n in ("obama.jpg", "obama3.jpg"))
    b = checker.find_faces(cv2.cvtColor(obama, cv2.COLOR_BGR2RGB))[0]
    wlt = photo.encode_sim_photo(card_crop(obama, (b.left, b.top, b.right, b.bottom)))
    assert len(wlt) == 1024
    decoded = card_photo(photo.SimulatorPhotoDecoder(), wlt)
    assert decoded.shape == (126, 102, 3)
    b3 = checker.find_faces(cv2.cvtColor(obama3, cv2.COLOR_BGR2RGB))[0]
    live = kiosk_frame(obama3, 200, face_box=(b3.left, b3.top, b3.right, b3.bottom))
    result = checker.verify(decoded, [live])
    assert result.decision is Decision.MATCH, result.distance


def test_real_wlt_without_vendor_library_is_unavailable(checker: FaceChecker) -> None:
    # A real card's WLT bytes reach the simulator decoder: the check says "unavailable".
    with pytest.raises(Exception) as err:
        card_photo(photo.SimulatorPhotoDecoder(), b"\x57\x4c" + bytes(1022))
    assert getattr(err.value, "code", "") == "face.photo_unavailable"

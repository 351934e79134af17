"""Photo decoders: the simulator's 1024-byte format, and the vendor-library path through a
stand-in library compiled here (no real WLT decoder is redistributable)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import cv2
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from devices.idcard.cards import load_card, synthetic_portrait
from devices.idcard.driver import IdCardReader
from devices.idcard.errors import PhotoUnavailable
from devices.idcard.photo import (
    PHOTO_BYTES,
    SimulatorPhotoDecoder,
    VendorPhotoDecoder,
    encode_sim_photo,
)
from devices.idcard.simulator import IdCardSimulator


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return 99.0 if mse == 0 else 10 * np.log10(255**2 / mse)


def test_sim_photo_is_exactly_1024_bytes_and_keeps_the_face() -> None:
    face = synthetic_portrait("someone")
    packed = encode_sim_photo(face)
    assert len(packed) == PHOTO_BYTES and packed[:4] == b"GHSP"
    image = SimulatorPhotoDecoder().decode(packed)
    assert image.shape == (126, 102, 3) and image.dtype == np.uint8
    # full resolution and close to the original: a face stays recognisable
    assert psnr(image, face) > 28


def test_a_detailed_photo_still_fits() -> None:
    rng = np.random.default_rng(3)
    # a real-looking photo has texture: smooth gradient + noise
    base = np.linspace(0, 255, 126 * 102).reshape(126, 102)
    photo = np.clip(base[..., None] + rng.normal(0, 25, (126, 102, 3)), 0, 255).astype(np.uint8)
    packed = encode_sim_photo(photo)
    assert len(packed) == PHOTO_BYTES
    image = SimulatorPhotoDecoder().decode(packed)
    assert image.shape == (126, 102, 3)
    assert psnr(cv2.GaussianBlur(image, (9, 9), 0), cv2.GaussianBlur(photo, (9, 9), 0)) > 20


@settings(max_examples=15, deadline=None)
@given(
    st.integers(1, 300),
    st.integers(1, 300),
    st.booleans(),
    st.integers(0, 2**32 - 1),
)
def test_any_image_packs_and_decodes(h: int, w: int, grey: bool, seed: int) -> None:
    rng = np.random.default_rng(seed)
    shape = (h, w) if grey else (h, w, 3)
    packed = encode_sim_photo(rng.integers(0, 256, shape, dtype=np.uint8))
    assert len(packed) == PHOTO_BYTES
    assert SimulatorPhotoDecoder().decode(packed).shape == (126, 102, 3)


@pytest.mark.parametrize(
    "wlt",
    [
        bytes(1024),  # a real WLT block (opaque), not ours
        b"GHSP" + bytes(1020),  # our magic, version 0
        b"GHSP\x01\x01\xff\xff" + bytes(1016),  # length out of range
        b"GHSP\x01\x01\x00\x20" + b"\x55" * 1016,  # corrupt image data
        b"GHSP\x01\x01",  # wrong size
    ],
)
def test_undecodable_photos_raise_photo_unavailable(wlt: bytes) -> None:
    with pytest.raises(PhotoUnavailable) as info:
        SimulatorPhotoDecoder().decode(wlt)
    assert info.value.code == "idcard.photo_unavailable"


def test_reader_without_decoder_says_face_check_unavailable(tmp_path: Path) -> None:
    card = load_card("resident")
    with IdCardSimulator(link=tmp_path / "tty") as sim:
        sim.place(card)
        with IdCardReader(sim.port) as plain:
            assert not plain.face_photo_available
            read = plain.read_card()
            with pytest.raises(PhotoUnavailable):
                plain.decode_photo(read)
            assert read.photo_wlt == card.photo_wlt  # the bytes are kept regardless
        with IdCardReader(sim.port, photo_decoder=SimulatorPhotoDecoder()) as reader:
            image = reader.decode_photo(reader.read_card())
    assert isinstance(image, np.ndarray) and image.shape == (126, 102, 3)


def test_vendor_library_missing_is_photo_unavailable(tmp_path: Path) -> None:
    decoder = VendorPhotoDecoder(tmp_path / "libwlt.so")
    with pytest.raises(PhotoUnavailable, match="cannot be loaded"):
        decoder.decode(bytes(1024))


FAKE_WLT = r"""
#include <string.h>
/* Stand-in for a vendor's unpack(): writes the BMP pixel array (126 rows bottom-up,
   308 bytes each, BGR) of an image whose blue channel is the row index, or a whole BMP
   file when MODE is 1. Returns 1 on success, -1 if the input starts with 0xFF. */
int unpack(const unsigned char *src, unsigned char *dst, int bmp) {
    if (src[0] == 0xFF) return -1;
    unsigned char *px = dst;
    if (MODE == 1) {
        unsigned char h[54] = {'B','M'};
        int size = 54 + 308 * 126, w = 102, hgt = 126, off = 54, hs = 40, planes = 1, bpp = 24;
        memcpy(h + 2, &size, 4); memcpy(h + 10, &off, 4); memcpy(h + 14, &hs, 4);
        memcpy(h + 18, &w, 4); memcpy(h + 22, &hgt, 4); memcpy(h + 26, &planes, 2);
        memcpy(h + 28, &bpp, 2);
        memcpy(dst, h, 54);
        px = dst + 54;
    }
    for (int r = 0; r < 126; r++) {         /* r = row from the bottom */
        for (int c = 0; c < 102; c++) {
            unsigned char *p = px + r * 308 + c * 3;
            p[0] = (unsigned char)(125 - r); p[1] = (unsigned char)c; p[2] = 7;
        }
    }
    return 1;
}
"""


@pytest.mark.skipif(shutil.which("cc") is None, reason="needs a C compiler")
@pytest.mark.parametrize("mode", [0, 1])
def test_vendor_library_through_ctypes(mode: int, tmp_path: Path) -> None:
    src = tmp_path / "fake_wlt.c"
    src.write_text(FAKE_WLT)
    lib = tmp_path / "libfakewlt.so"
    subprocess.run(
        ["cc", "-shared", "-fPIC", f"-DMODE={mode}", "-o", str(lib), str(src)], check=True
    )
    decoder = VendorPhotoDecoder(lib)
    image = decoder.decode(bytes(1024))
    assert image.shape == (126, 102, 3)
    # top row first, BGR order: blue = row index from the top, green = column
    assert image[0, 0].tolist() == [0, 0, 7]
    assert image[125, 101].tolist() == [125, 101, 7]
    with pytest.raises(PhotoUnavailable, match="returned -1"):
        decoder.decode(b"\xff" + bytes(1023))
    # the decoder is still usable after a failed photo
    assert decoder.decode(bytes(1024)).shape == (126, 102, 3)

"""Card photo decoders: 1024 photo bytes → a 126 × 102 BGR image (rows × columns, uint8).

Real cards carry WLT, a proprietary compression only the reader vendors' licensed library
decodes (``VendorPhotoDecoder``, through ctypes, path from config). Without one the photo
stays bytes and ``PhotoUnavailable`` tells the kiosk that face check against the card
photo cannot run.

Simulator photo format (``SimulatorPhotoDecoder`` / ``encode_sim_photo``), 1024 bytes::

    off 0   b"GHSP"          magic (govhall simulated photo)
    off 4   0x01             format version
    off 5   codec            0x01 WebP, 0x02 JPEG (both decoded by OpenCV)
    off 6   N (2 bytes, BE)  length of the image file that follows
    off 8   N bytes          the image file (colour or grey), at most 1016 bytes
    off 8+N zero padding to 1024

The encoder keeps the full 102 × 126 resolution when it can (colour WebP at a quality of
at least 40, else grey WebP, else grey JPEG) and downscales only as a last resort, so a
face stays recognisable for the face check. A real WLT block never starts with the magic.
"""

from __future__ import annotations

import ctypes
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import cv2
import numpy as np

from devices.idcard.errors import PhotoUnavailable

if TYPE_CHECKING:
    from _ctypes import CFuncPtr  # what ctypes calls _CFuncPtr, and keeps private in its stubs

PHOTO_ROWS, PHOTO_COLS = 126, 102
PHOTO_BYTES = 1024
SIM_MAGIC = b"GHSP"
SIM_VERSION = 1
_HEADER = 8
_CODEC_WEBP, _CODEC_JPEG = 1, 2
_MIN_COLOUR_QUALITY = 40


class PhotoDecoder(Protocol):
    def decode(self, wlt: bytes) -> np.ndarray:
        """126 × 102 × 3 BGR uint8 image, or raise PhotoUnavailable."""
        ...


def _to_card_size(image: np.ndarray) -> np.ndarray:
    if image.ndim == 2:
        image = cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
    if image.shape[:2] != (PHOTO_ROWS, PHOTO_COLS):
        image = cv2.resize(image, (PHOTO_COLS, PHOTO_ROWS), interpolation=cv2.INTER_CUBIC)
    return np.ascontiguousarray(image, dtype=np.uint8)


def _largest_fit(image: np.ndarray, ext: str, flag: int, lo: int, limit: int) -> bytes | None:
    """Highest quality in lo..95 whose encoding fits ``limit`` bytes (binary search)."""
    best: bytes | None = None
    low, high = lo, 95
    while low <= high:
        q = (low + high) // 2
        ok, buf = cv2.imencode(ext, image, [flag, q])
        if ok and len(buf) <= limit:
            best, low = buf.tobytes(), q + 1
        else:
            high = q - 1
    return best


def encode_sim_photo(image: np.ndarray) -> bytes:
    """Pack ``image`` (BGR or grey, any size; resized to 102 × 126) into exactly 1024
    bytes of the simulator photo format above."""
    if image.ndim not in (2, 3) or image.size == 0:
        raise ValueError("photo must be a non-empty grey or BGR image")
    image = _to_card_size(np.asarray(image, dtype=np.uint8))
    grey = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    limit = PHOTO_BYTES - _HEADER
    webp, jpeg = cv2.IMWRITE_WEBP_QUALITY, cv2.IMWRITE_JPEG_QUALITY
    attempts = (
        (image, ".webp", webp, _MIN_COLOUR_QUALITY, _CODEC_WEBP),
        (grey, ".webp", webp, 1, _CODEC_WEBP),
        (grey, ".jpg", jpeg, 1, _CODEC_JPEG),
    )
    for candidate, ext, flag, lo, codec in attempts:
        data = _largest_fit(candidate, ext, flag, lo, limit)
        if data is not None:
            return _pack(codec, data)
    scale = 0.8
    while scale > 0.1:  # pathological noise: trade resolution for a fit
        small = cv2.resize(grey, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        data = _largest_fit(small, ".webp", webp, 1, limit)
        if data is not None:
            return _pack(_CODEC_WEBP, data)
        scale *= 0.8
    raise ValueError("photo cannot be packed into 1024 bytes")


def _pack(codec: int, data: bytes) -> bytes:
    head = SIM_MAGIC + bytes([SIM_VERSION, codec]) + len(data).to_bytes(2, "big")
    return (head + data).ljust(PHOTO_BYTES, b"\x00")


def is_sim_photo(wlt: bytes) -> bool:
    return wlt[:4] == SIM_MAGIC


class SimulatorPhotoDecoder:
    """Decodes photos the simulator packed with ``encode_sim_photo``."""

    def decode(self, wlt: bytes) -> np.ndarray:
        if len(wlt) != PHOTO_BYTES or not is_sim_photo(wlt):
            raise PhotoUnavailable("photo is not in the simulator's format (real WLT?)")
        if wlt[4] != SIM_VERSION or wlt[5] not in (_CODEC_WEBP, _CODEC_JPEG):
            raise PhotoUnavailable("simulator photo of an unknown version or codec")
        size = int.from_bytes(wlt[6:8], "big")
        if size > PHOTO_BYTES - _HEADER:
            raise PhotoUnavailable("simulator photo length field is out of range")
        payload = np.frombuffer(wlt[_HEADER : _HEADER + size], np.uint8)
        try:
            image = cv2.imdecode(payload, cv2.IMREAD_COLOR)
        except cv2.error:  # some corrupt inputs raise instead of returning None
            image = None
        if image is None:
            raise PhotoUnavailable("simulator photo image data is corrupt")
        return _to_card_size(image)


class VendorPhotoDecoder:
    """WLT decoding through a reader vendor's library (``libwlt.so``, ``libwlt2bmp.so``…).

    Most of these export ``int unpack(char *wlt, char *out, int bmp_flag)`` returning 1 on
    success. We pass ``bmp_flag = 0`` because some builds write ``zp.bmp`` to the working
    directory otherwise, and face images must never leave memory. ``out`` then holds either
    a whole BMP (starts with ``BM``; decoded as such) or the BMP pixel array: 126 rows,
    bottom-up, 308 bytes per row (102 × 3 BGR padded to 4). Which one depends on the
    vendor; both are handled. The library is loaded on first use.
    """

    OUT_SIZE = 38862  # 54-byte BMP header + 126 × 308: the size vendors document

    def __init__(self, library_path: str | Path, function: str = "unpack") -> None:
        self.library_path = str(library_path)
        self.function = function
        self._func: CFuncPtr | None = None
        self._lock = threading.Lock()  # vendor libraries are rarely re-entrant

    def _load(self) -> CFuncPtr:
        if self._func is None:
            try:
                lib = ctypes.CDLL(self.library_path)
                func = getattr(lib, self.function)
            except (OSError, AttributeError) as err:
                raise PhotoUnavailable(
                    f"WLT library {self.library_path!r} (function {self.function!r}) "
                    f"cannot be loaded: {err}"
                ) from err
            func.argtypes = (ctypes.c_char_p, ctypes.c_char_p, ctypes.c_int)
            func.restype = ctypes.c_int
            self._func = func
        return self._func

    def decode(self, wlt: bytes) -> np.ndarray:
        if len(wlt) != PHOTO_BYTES:
            raise PhotoUnavailable(f"WLT photo is {len(wlt)} bytes, expected {PHOTO_BYTES}")
        func = self._load()
        out = ctypes.create_string_buffer(self.OUT_SIZE)
        with self._lock:
            result = func(bytes(wlt), out, 0)
        if result != 1:
            raise PhotoUnavailable(f"WLT library returned {result} (not 1 = success)")
        raw = out.raw
        if raw[:2] == b"BM":
            image = cv2.imdecode(np.frombuffer(raw, np.uint8), cv2.IMREAD_COLOR)
            if image is None:
                raise PhotoUnavailable("WLT library returned an unreadable BMP")
            return _to_card_size(image)
        stride = (PHOTO_COLS * 3 + 3) // 4 * 4
        pixels = np.frombuffer(raw[: stride * PHOTO_ROWS], np.uint8).reshape(PHOTO_ROWS, stride)
        image = pixels[::-1, : PHOTO_COLS * 3].reshape(PHOTO_ROWS, PHOTO_COLS, 3)
        return np.ascontiguousarray(image)

"""Camera and face-check errors, each with a stable code (see devices/errors.py).

Messages never carry images, embeddings or card data: only what a technician needs."""

from __future__ import annotations

from devices.errors import DeviceError


class CameraError(DeviceError):
    code = "camera.error"


class CameraMissing(CameraError):
    """No camera answers at the configured source (unplugged, wrong index, stream down)."""

    code = "camera.missing"


class BadCameraSource(CameraError):
    """The configured source string cannot name a camera, file or stream."""

    code = "camera.bad_source"


class FaceError(DeviceError):
    code = "face.error"


class NoAvx(FaceError):
    """dlib-bin is built with AVX: importing it on an older CPU kills the process."""

    code = "face.no_avx"


class ModelMissing(FaceError):
    code = "face.model_missing"


class PhotoUnavailable(FaceError):
    """No card photo to compare with (no photo on the card, no decoder, undecodable)."""

    code = "face.photo_unavailable"


class NoFace(FaceError):
    """No usable face in the live frames (or in a photo given on the command line)."""

    code = "face.no_face"


class BadImage(FaceError):
    """Not an 8-bit BGR/grey image."""

    code = "face.bad_image"

"""Camera capture and the face check (人证核验).

- ``driver``: ``Camera`` reads a ``cv2.VideoCapture`` source on a worker thread
  (latest-frame-wins, missing-camera state, re-plug recovery);
- ``simulator``: image sequence / video file cameras, in process or as an MJPEG server;
- ``quality``: the pure quality gate with spoken hint keys;
- ``face``: dlib models, card-photo vs live-face verification;
- ``liveness``: the *basic* liveness challenge;
- ``cpu``: AVX detection before dlib is imported.

Importing this package loads neither dlib nor the models.
"""

from devices.camera.cpu import has_avx
from devices.camera.driver import Camera, CameraState, Frame
from devices.camera.errors import CameraMissing, FaceError, NoFace, PhotoUnavailable

__all__ = [
    "Camera",
    "CameraMissing",
    "CameraState",
    "FaceError",
    "Frame",
    "NoFace",
    "PhotoUnavailable",
    "has_avx",
]

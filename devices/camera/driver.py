"""Camera driver: ``cv2.VideoCapture`` from a config string, read on a worker thread.

Source strings (the ``camera`` setting of a kiosk):

    "0", "1"                      device index (V4L2 on Linux)
    "/dev/video0"                 device path
    "rtsp://…", "http://…"        network stream (FFmpeg, with open/read time-outs)
    "/path/clip.mp4"              video file (played to the end, then reopened: a loop)
    "sim:/path/folder?fps=15"     in-process simulator (``simulator.SimulatedCapture``;
                                  ``&mode=still|replay|turn_left|…``, see ``simulator``)

The worker keeps only the latest frame (latest-frame-wins): the preview and the face
check never queue up stale frames, and a slow consumer never slows the camera. A camera
that is absent or stops delivering is the state ``missing``; the worker keeps trying to
reopen it, so plugging it back in recovers without a restart. Frames live in memory
only: nothing here writes or logs an image.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Protocol
from urllib.parse import parse_qs, urlsplit

import cv2
import numpy as np

from devices.camera.errors import BadCameraSource, CameraMissing
from devices.camera.simulator import sim_capture

log = logging.getLogger(__name__)
# OpenCV warns on every failed open; the worker retries a missing camera every second,
# so those warnings would flood the kiosk's log. Our own state change is logged once.
cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_ERROR)

STREAM_SCHEMES = ("rtsp", "rtsps", "http", "https", "rtmp", "udp", "tcp")
STREAM_TIMEOUT_MS = 3000  # FFmpeg's default read time-out is 30 s: far too long to say "missing"


class FrameSource(Protocol):
    """The part of cv2.VideoCapture the driver uses (the simulator has it too)."""

    def isOpened(self) -> bool: ...
    def read(self) -> tuple[bool, np.ndarray | None]: ...
    def get(self, prop: int) -> float: ...
    def release(self) -> None: ...


class CameraState(StrEnum):
    STOPPED = "stopped"
    OPENING = "opening"
    RUNNING = "running"
    MISSING = "missing"


READY_STATES = frozenset({CameraState.RUNNING})
ERROR_STATES = frozenset({CameraState.MISSING})


@dataclass(frozen=True)
class Frame:
    image: np.ndarray
    seq: int
    """Increases by one per frame read since the driver started."""
    at: float
    """time.monotonic() when read."""

    def __repr__(self) -> str:  # never dump pixels into a log or traceback
        h, w = self.image.shape[:2]
        return f"Frame(seq={self.seq}, {w}x{h})"


def parse_source(config: str) -> int | str:
    """Index or string for cv2.VideoCapture; raises BadCameraSource for nonsense."""
    text = config.strip()
    if not text:
        raise BadCameraSource("empty camera source")
    if text.isdigit():
        return int(text)
    return text


def open_source(config: str) -> FrameSource:
    """Open the configured source; an absent camera gives an unopened capture, not an error."""
    source = parse_source(config)
    if isinstance(source, int):
        return cv2.VideoCapture(source)
    scheme = urlsplit(source).scheme.lower()
    if scheme == "sim":
        parts = urlsplit(source)
        try:
            return sim_capture(parts.path, parse_qs(parts.query))
        except ValueError as err:
            raise BadCameraSource(str(err)) from err
    if scheme in STREAM_SCHEMES:
        return cv2.VideoCapture(
            source,
            cv2.CAP_FFMPEG,
            [
                cv2.CAP_PROP_OPEN_TIMEOUT_MSEC,
                STREAM_TIMEOUT_MS,
                cv2.CAP_PROP_READ_TIMEOUT_MSEC,
                STREAM_TIMEOUT_MS,
            ],
        )
    if source.startswith("/dev/video"):
        return cv2.VideoCapture(source, cv2.CAP_V4L2)
    if not Path(source).exists():
        return _Unopened()  # a missing file is a missing camera (cv2 would only warn)
    return cv2.VideoCapture(source)


class _Unopened:
    def isOpened(self) -> bool:
        return False

    def read(self) -> tuple[bool, np.ndarray | None]:
        return False, None

    def get(self, prop: int) -> float:
        return 0.0

    def release(self) -> None:
        pass


class Camera:
    """One camera, read continuously on a worker thread; ``latest()`` is non-blocking."""

    def __init__(
        self,
        source: str,
        *,
        reopen_interval_s: float = 1.0,
        read_failures: int = 3,
        opener: Callable[[str], FrameSource] = open_source,
    ) -> None:
        parse_source(source)  # bad config fails at once, not on the worker thread
        self.source = source
        self.reopen_interval_s = reopen_interval_s
        self.read_failures = read_failures
        self._opener = opener
        self._state = CameraState.STOPPED
        self._cond = threading.Condition()
        self._latest: Frame | None = None
        self._seq = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._times: list[float] = []
        self._size: tuple[int, int] | None = None
        self.reopens = 0

    # -- state -------------------------------------------------------------------------
    @property
    def state(self) -> CameraState:
        return self._state

    def is_ready(self) -> bool:
        return self._state in READY_STATES

    def is_error(self) -> bool:
        return self._state in ERROR_STATES

    def health(self) -> str:
        """For the kiosk's device heartbeat: ``ok``, ``camera.missing`` or ``stopped``."""
        if self.is_ready():
            return "ok"
        if self.is_error():
            return CameraMissing.code
        return str(self._state)

    @property
    def resolution(self) -> tuple[int, int] | None:
        """(width, height) of the frames being delivered."""
        return self._size

    @property
    def fps(self) -> float:
        """Frames per second measured over the last ~second of frames."""
        with self._cond:
            times = list(self._times)
        if len(times) < 2 or times[-1] == times[0]:
            return 0.0
        return (len(times) - 1) / (times[-1] - times[0])

    def _set_state(self, state: CameraState) -> None:
        with self._cond:
            if state is not self._state:
                log.info("camera %s: %s → %s", _safe(self.source), self._state, state)
            self._state = state
            self._cond.notify_all()

    # -- frames ------------------------------------------------------------------------
    def latest(self) -> Frame | None:
        with self._cond:
            return self._latest

    def wait_frame(self, after_seq: int = 0, timeout: float = 2.0) -> Frame:
        """The next frame newer than ``after_seq``; CameraMissing if none comes in time, or
        at once when the camera is (or gets) stopped: a stopped camera sends nothing."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._latest is None or self._latest.seq <= after_seq:
                if self._state is CameraState.STOPPED:
                    raise CameraMissing(f"camera {_safe(self.source)} is stopped")
                left = deadline - time.monotonic()
                if left <= 0:
                    raise CameraMissing(
                        f"no frame from camera {_safe(self.source)} "
                        f"within {timeout:.1f} s (state {self._state})"
                    )
                self._cond.wait(left)
            return self._latest

    def wait_state(
        self, states: frozenset[CameraState] | set[CameraState], timeout: float = 5.0
    ) -> bool:
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._state not in states:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(left)
            return True

    # -- worker ------------------------------------------------------------------------
    def start(self) -> Camera:
        if self._thread is not None:
            return self
        self._stop.clear()
        self._set_state(CameraState.OPENING)
        self._thread = threading.Thread(target=self._run, name="camera", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None
        with self._cond:
            self._latest = None  # drop the last picture of the citizen
        self._set_state(CameraState.STOPPED)

    def __enter__(self) -> Camera:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _open(self) -> FrameSource | None:
        try:
            cap = self._opener(self.source)
        except Exception as err:  # a throwing backend or a bad sim path: still "no camera"
            log.warning("camera %s: open failed: %s", _safe(self.source), err)
            return None
        if cap.isOpened():
            return cap
        cap.release()
        return None

    def _run(self) -> None:
        cap: FrameSource | None = None
        failures = 0
        try:
            while not self._stop.is_set():
                if cap is None:
                    cap = self._open()
                    if cap is None:
                        self._set_state(CameraState.MISSING)
                        self._stop.wait(self.reopen_interval_s)
                        continue
                    failures = 0
                ok, image = cap.read()
                if self._stop.is_set():
                    break  # stopped while it read: that frame is not kept
                if ok and image is not None and image.size:
                    failures = 0
                    self._publish(image)
                    if self._state is not CameraState.RUNNING:
                        self._set_state(CameraState.RUNNING)
                    continue
                failures += 1
                if failures >= self.read_failures:
                    # Unplugged, stream gone, or a video file at its end: reopen.
                    cap.release()
                    cap = None
                    self.reopens += 1
                    with self._cond:
                        self._times.clear()
        finally:
            if cap is not None:
                cap.release()

    def _publish(self, image: np.ndarray) -> None:
        now = time.monotonic()
        with self._cond:
            self._seq += 1
            self._latest = Frame(image, self._seq, now)
            self._size = (image.shape[1], image.shape[0])
            self._times.append(now)
            while self._times and now - self._times[0] > 1.0:
                self._times.pop(0)
            self._cond.notify_all()


def _safe(source: str) -> str:
    """The source for logs, without a password an RTSP URL may carry."""
    parts = urlsplit(source)
    if parts.password:
        return source.replace(parts.password, "***")
    return source


def grab_frames(source: str, count: int, timeout: float = 5.0) -> list[Frame]:
    """Open, read ``count`` consecutive frames, close. CameraMissing if it cannot."""
    frames: list[Frame] = []
    with Camera(source) as cam:
        if not cam.wait_state(READY_STATES, timeout):
            raise CameraMissing(f"camera {_safe(source)} is not delivering frames")
        seq = 0
        while len(frames) < count:
            frame = cam.wait_frame(seq, timeout)
            frames.append(frame)
            seq = frame.seq
    return frames

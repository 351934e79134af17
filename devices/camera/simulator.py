"""Simulated camera: an image sequence or a video file played in a loop at a set fps.

Two ways to use it, both going through the real driver (``devices.camera.driver``):

- in process, source ``sim:PATH[?fps=N&mode=M&face=L,T,R,B&face_width=W]`` —
  ``SimulatedCapture`` has the part of the ``cv2.VideoCapture`` interface the driver uses
  (``isOpened``, ``read``, ``get``, ``release``), paced like a camera;
- across processes, ``govhall sim camera PATH --port 8554 [--mode M]`` — ``MjpegServer``
  serves the frames as an MJPEG stream over HTTP (what many network cameras do), and the
  driver opens ``http://127.0.0.1:8554/video.mjpg`` with a plain ``cv2.VideoCapture``.
  Stopping and restarting the server is an unplug / re-plug.

PATH: a folder of images (played in name order), one image, or a video file.

Modes (``scene``), for the liveness challenge: what a citizen, or an impostor, shows the
camera. Each plays in a loop from its start whenever the camera is opened.

- ``loop`` (default): the frames as they are;
- ``still``: one still image — a printed photo held up to the camera;
- ``replay``: a phone screen replaying a clip of the person without the asked movement: the
  hand tilts the phone (±24°), swings it (to 0.72 of its width), brings it nearer and
  further, and the screen flickers, but the head in it never turns;
- ``turn_left`` / ``turn_right``: a person who faces the camera, then slowly turns their
  head to their own left (right) by 30° and back — drawn from the one photo by
  turning a head-shaped depth map (the nose stands out, the far eye foreshortens).

``face=L,T,R,B`` is where the face is in the photo; with it the photo is framed like a
citizen at the kiosk (a 640×480 frame, the face ``face_width`` px wide, centred). Without
it the image is taken as such a frame already (the face centred, about 0.31 of its width).
"""

from __future__ import annotations

import contextlib
import math
import threading
import time
from collections.abc import Mapping, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import cv2
import numpy as np

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".webp")
MAX_VIDEO_FRAMES = 900  # a loop of ~1 min at 15 fps is plenty, and bounds memory
MODES = ("loop", "still", "replay", "turn_left", "turn_right")
FRAME_SIZE = (640, 480)  # (w, h) of a framed photo
FACE_FRACTION = 0.31  # face width / frame width of a citizen at the kiosk (200 px of 640)
TURN_DEG = 30.0


def load_frames(path: str | Path, size: tuple[int, int] | None = None) -> list[np.ndarray]:
    """Frames from a folder of images, an image, or a video file; ``size`` = (w, h)."""
    p = Path(path)
    frames: list[np.ndarray] = []
    if p.is_dir():
        files = sorted(f for f in p.iterdir() if f.suffix.lower() in IMAGE_SUFFIXES)
        frames = [img for f in files if (img := cv2.imread(str(f))) is not None]
    elif p.suffix.lower() in IMAGE_SUFFIXES:
        img = cv2.imread(str(p))
        frames = [] if img is None else [img]
    elif p.is_file():
        cap = cv2.VideoCapture(str(p))
        try:
            while len(frames) < MAX_VIDEO_FRAMES:
                ok, frame = cap.read()
                if not ok:
                    break
                frames.append(frame)
        finally:
            cap.release()
    if not frames:
        raise ValueError(f"no images or video frames could be read from {p}")
    if size is not None:
        frames = [cv2.resize(f, size, interpolation=cv2.INTER_AREA) for f in frames]
    return frames


Box4 = tuple[int, int, int, int]


def frame_face(
    image: np.ndarray,
    face: Box4,
    face_width: int = 200,
    size: tuple[int, int] = FRAME_SIZE,
) -> tuple[np.ndarray, Box4]:
    """The photo framed like a citizen at the kiosk: the face (``face`` = l, t, r, b in
    ``image``) ``face_width`` px wide in the middle of a ``size`` frame; and where the
    face is in that frame."""
    left, top, right, bottom = face
    if right - left < 8 or bottom - top < 8:
        raise ValueError(f"face box {face} is too small")
    scale = face_width / (right - left)
    resized = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    cx, cy = (left + right) / 2 * scale, (top + bottom) / 2 * scale
    w, h = size
    pad = max(w, h)
    padded = cv2.copyMakeBorder(resized, pad, pad, pad, pad, cv2.BORDER_REPLICATE)
    x0, y0 = round(cx + pad - w / 2), round(cy + pad - h / 2)
    framed = np.ascontiguousarray(padded[y0 : y0 + h, x0 : x0 + w])
    fh = round((bottom - top) * scale)
    box = (round(w / 2 - face_width / 2), round(h / 2 - fh / 2))
    return framed, (box[0], box[1], box[0] + face_width, box[1] + fh)


def centred_face(frame: np.ndarray) -> Box4:
    """Where a framed citizen's face is: centred, ``FACE_FRACTION`` of the width."""
    h, w = frame.shape[:2]
    side = round(w * FACE_FRACTION)
    return (w // 2 - side // 2, h // 2 - side // 2, w // 2 + side // 2, h // 2 + side // 2)


def turned_head(
    frame: np.ndarray,
    face: Box4,
    degrees: float,
    nose_depth: float = 0.7,
    head_depth: float = 0.5,
    nose_width: float = 0.25,
) -> np.ndarray:
    """``frame`` with the head in ``face`` turned by ``degrees`` about its vertical axis
    (positive: to the person's own left, the nose moving to the image's right).

    The face is taken as a depth map — a half-cylinder as wide as the head with the nose
    standing out — turned and seen from the front; where the nose hides the cheek behind
    it, the cheek is hidden. The background does not move."""
    if degrees == 0:
        return frame.copy()
    h, w = frame.shape[:2]
    left, top, right, bottom = face
    cx, cy = (left + right) / 2, (top + bottom) / 2
    radius, half_h = (right - left) * 0.62, (bottom - top) * 0.85
    theta = math.radians(degrees)
    xs = np.arange(w, dtype=np.float32)
    y0, y1 = max(0, int(cy - 1.3 * half_h)), min(h, int(cy + 1.3 * half_h) + 1)
    map_x = np.tile(xs, (h, 1))
    map_y = np.repeat(np.arange(h, dtype=np.float32)[:, None], w, axis=1)
    u = (xs - cx) / radius
    cylinder = radius * head_depth * np.sqrt(np.clip(1 - u * u, 0, None))
    for y in range(y0, y1):
        v = (y - cy) / half_h
        nose = (
            nose_depth
            * radius
            * np.exp(-(((xs - cx) / (nose_width * radius)) ** 2 + ((v - 0.12) / 0.35) ** 2) / 2)
        )
        mask = np.clip((1.25 - np.sqrt(u * u + v * v)) / 0.35, 0, 1)
        moved = xs + mask * (
            (xs - cx) * (math.cos(theta) - 1) + (cylinder + nose) * math.sin(theta)
        )
        # Where the turned surface folds behind itself (behind the nose), the nearer part wins.
        seen = (
            np.maximum.accumulate(moved) if theta > 0 else np.minimum.accumulate(moved[::-1])[::-1]
        )
        map_x[y] = np.interp(xs, seen, xs)
    return cv2.remap(frame, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


def _ease(n: int) -> list[float]:
    """n steps from 0 to 1, slow at both ends (a head turns that way)."""
    return [(1 - math.cos(math.pi * (i + 1) / n)) / 2 for i in range(n)]


def turn_clip(frame: np.ndarray, face: Box4, degrees: float, fps: float = 15.0) -> list[np.ndarray]:
    """Facing the camera (1.2 s), a slow turn by ``degrees`` (1 s), held (0.8 s), back (1 s),
    facing again (1 s)."""
    n = max(2, round(fps))
    cache: dict[float, np.ndarray] = {}

    def at(deg: float) -> np.ndarray:
        key = round(deg, 1)
        if key not in cache:
            cache[key] = turned_head(frame, face, key)
        return cache[key]

    angles = (
        [0.0] * round(1.2 * fps)
        + [degrees * e for e in _ease(n)]
        + [degrees] * round(0.8 * fps)
        + [degrees * (1 - e) for e in _ease(n)]
        + [0.0] * round(1.0 * fps)
    )
    return [at(a) for a in angles]


def replay_clip(
    frame: np.ndarray, face: Box4, fps: float = 15.0, seconds: float = 4.0
) -> list[np.ndarray]:
    """A phone held up replaying the person without the asked movement: tilted, swung,
    moved nearer and further, its screen flickering; the head itself never turns."""
    h, w = frame.shape[:2]
    left, top, right, bottom = face
    cx, cy = (left + right) / 2, (top + bottom) / 2
    out = []
    for i in range(max(1, round(seconds * fps))):
        phase = 2 * math.pi * i / (seconds * fps)
        roll = 24 * math.sin(phase)
        swing = 0.86 + 0.14 * math.cos(2 * phase)  # 0.72–1.0 of its width
        zoom = 1.0 + 0.1 * math.sin(3 * phase)
        rot = cv2.getRotationMatrix2D((cx, cy), roll, zoom)
        rot3 = np.vstack([rot, [0.0, 0.0, 1.0]])
        squash = np.array([[swing, 0, cx * (1 - swing)], [0, 1, 0], [0, 0, 1]])
        shift = np.array([[1, 0, 12 * math.sin(phase)], [0, 1, 8 * math.cos(phase)], [0, 0, 1]])
        m = (shift @ squash @ rot3)[:2]
        moved = cv2.warpAffine(frame, m, (w, h), borderMode=cv2.BORDER_REPLICATE)
        flicker = 1.0 + 0.06 * math.sin(7 * phase)
        out.append(cv2.convertScaleAbs(moved, alpha=flicker, beta=0))
    return out


def scene(
    frames: Sequence[np.ndarray],
    mode: str = "loop",
    face: Box4 | None = None,
    face_width: int = 200,
    fps: float = 15.0,
) -> list[np.ndarray]:
    """What the simulated camera plays in ``mode`` (see the module's doc) made from
    ``frames``; ``face``: where the face is in them (framed first, ``frame_face``)."""
    if mode not in MODES:
        raise ValueError(f"unknown camera simulator mode {mode!r}; one of {', '.join(MODES)}")
    if not frames:
        raise ValueError("a simulated camera needs at least one frame")
    if face is not None:
        framed = [frame_face(f, face, face_width) for f in frames]
        frames, box = [f for f, _ in framed], framed[0][1]
    else:
        box = centred_face(frames[0])
    first = frames[0]
    if mode == "loop":
        return list(frames)
    if mode == "still":
        return [first]
    if mode == "replay":
        return replay_clip(first, box, fps)
    return turn_clip(first, box, TURN_DEG if mode == "turn_left" else -TURN_DEG, fps)


def _face_box(text: str) -> Box4:
    try:
        left, top, right, bottom = (int(v) for v in text.split(","))
    except ValueError:
        raise ValueError(f"face must be L,T,R,B in pixels, got {text!r}") from None
    return left, top, right, bottom


def sim_capture(path: str, query: Mapping[str, Sequence[str]]) -> SimulatedCapture:
    """The capture a ``sim:PATH?…`` source names (``query`` as ``urllib.parse.parse_qs``
    gives it); a bad path or parameter is a ValueError."""
    allowed = {"fps", "mode", "face", "face_width"}
    unknown = set(query) - allowed
    if unknown:
        raise ValueError(f"unknown sim camera parameter(s): {', '.join(sorted(unknown))}")

    def one(name: str, default: str) -> str:
        return str(query.get(name, [default])[0])

    fps = float(one("fps", "15"))
    face = one("face", "") or None
    width = int(one("face_width", "200"))
    frames = sim_capture_scene(load_frames(path), one("mode", "loop"), face, fps, width)
    return SimulatedCapture(frames, fps)


def sim_capture_scene(
    frames: Sequence[np.ndarray],
    mode: str,
    face: str | None,
    fps: float,
    face_width: int = 200,
) -> list[np.ndarray]:
    """``scene`` with the face box as the command line and the source string write it."""
    if fps <= 0:
        raise ValueError("fps must be positive")
    return scene(frames, mode, _face_box(face) if face else None, face_width, fps)


class SimulatedCapture:
    """Plays frames in a loop at ``fps``, paced on a monotonic clock like a real camera."""

    def __init__(self, frames: Sequence[np.ndarray], fps: float = 15.0, loop: bool = True) -> None:
        if not frames:
            raise ValueError("a simulated camera needs at least one frame")
        if fps <= 0:
            raise ValueError("fps must be positive")
        self._frames = list(frames)
        self._fps = fps
        self._loop = loop
        self._index = 0
        self._next_at = time.monotonic()
        self._open = True

    def isOpened(self) -> bool:
        return self._open

    def read(self) -> tuple[bool, np.ndarray | None]:
        if not self._open:
            return False, None
        if self._index >= len(self._frames):
            if not self._loop:
                return False, None
            self._index = 0
        delay = self._next_at - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        self._next_at = max(self._next_at + 1 / self._fps, time.monotonic() - 1 / self._fps)
        frame = self._frames[self._index]
        self._index += 1
        return True, frame.copy()

    def get(self, prop: int) -> float:
        h, w = self._frames[0].shape[:2]
        return {
            cv2.CAP_PROP_FPS: self._fps,
            cv2.CAP_PROP_FRAME_WIDTH: float(w),
            cv2.CAP_PROP_FRAME_HEIGHT: float(h),
        }.get(prop, 0.0)

    def set(self, prop: int, value: float) -> bool:
        return False

    def release(self) -> None:
        self._open = False


class _MjpegHandler(BaseHTTPRequestHandler):
    server: _Server

    def do_GET(self) -> None:
        sim = self.server.simulator
        self.send_response(200)
        self.send_header("Content-Type", "multipart/x-mixed-replace; boundary=frame")
        self.send_header("Cache-Control", "no-cache")
        self.end_headers()
        period = 1 / sim.fps
        next_at = time.monotonic()
        index = 0
        try:
            while not sim.stopping.is_set():
                delay = next_at - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
                next_at = max(next_at + period, time.monotonic() - period)
                jpeg = sim.jpegs[index % len(sim.jpegs)]
                index += 1
                self.wfile.write(b"--frame\r\nContent-Type: image/jpeg\r\n")
                self.wfile.write(f"Content-Length: {len(jpeg)}\r\n\r\n".encode())
                self.wfile.write(jpeg + b"\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass

    def log_message(self, format: str, *args: object) -> None:
        pass  # no per-request logging


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    simulator: MjpegServer


class MjpegServer:
    """An HTTP MJPEG camera on ``host:port`` playing ``frames`` in a loop at ``fps``."""

    def __init__(
        self,
        frames: Sequence[np.ndarray],
        fps: float = 15.0,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        if not frames or fps <= 0:
            raise ValueError("an MJPEG camera needs frames and a positive fps")
        self.fps = fps
        self.host = host
        self.port = port
        self.jpegs = [
            cv2.imencode(".jpg", f, [cv2.IMWRITE_JPEG_QUALITY, 90])[1].tobytes() for f in frames
        ]
        self.stopping = threading.Event()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}/video.mjpg"

    def start(self) -> MjpegServer:
        self.stopping.clear()
        server = _Server((self.host, self.port), _MjpegHandler)
        server.simulator = self
        self.port = server.server_address[1]  # keep the port so a restart is a re-plug
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, name="mjpeg-sim", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Unplug: close the listening socket and every open stream."""
        self.stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> MjpegServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        with contextlib.suppress(OSError):
            self.stop()


__all__ = ["MODES", "MjpegServer", "SimulatedCapture", "load_frames", "scene", "sim_capture"]

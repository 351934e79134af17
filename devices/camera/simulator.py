"""Simulated camera: an image sequence or a video file played in a loop at a set fps.

Two ways to use it, both going through the real driver (``devices.camera.driver``):

- in process, source ``sim:PATH[?fps=N]`` — ``SimulatedCapture`` has the part of the
  ``cv2.VideoCapture`` interface the driver uses (``isOpened``, ``read``, ``get``,
  ``release``), paced like a camera;
- across processes, ``govhall sim camera PATH --port 8554`` — ``MjpegServer`` serves the
  frames as an MJPEG stream over HTTP (what many network cameras do), and the driver
  opens ``http://127.0.0.1:8554/video.mjpg`` with a plain ``cv2.VideoCapture``. Stopping
  and restarting the server is an unplug / re-plug.

PATH: a folder of images (played in name order), one image, or a video file.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import cv2
import numpy as np

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".webp")
MAX_VIDEO_FRAMES = 900  # a loop of ~1 min at 15 fps is plenty, and bounds memory


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


__all__ = ["MjpegServer", "SimulatedCapture", "load_frames"]

"""The real driver against simulated cameras: the in-process simulator, a video file
read by cv2.VideoCapture, and the MJPEG HTTP simulator (unplug / re-plug)."""

from __future__ import annotations

import time
from pathlib import Path

import cv2
import numpy as np
import pytest

from devices.camera.driver import (
    ERROR_STATES,
    READY_STATES,
    Camera,
    CameraState,
    grab_frames,
    open_source,
    parse_source,
)
from devices.camera.errors import BadCameraSource, CameraMissing
from devices.camera.simulator import MjpegServer, SimulatedCapture, load_frames


def numbered_frames(n: int = 5) -> list[np.ndarray]:
    """Frames whose first pixel tells which one they are."""
    return [np.full((480, 640, 3), 10 * (i + 1), np.uint8) for i in range(n)]


@pytest.fixture
def image_dir(tmp_path: Path) -> Path:
    for i, frame in enumerate(numbered_frames()):
        cv2.imwrite(str(tmp_path / f"f{i:02}.png"), frame)
    return tmp_path


def test_simulator_plays_the_sequence_in_a_loop_at_its_fps() -> None:
    cap = SimulatedCapture(numbered_frames(3), fps=50)
    t0 = time.monotonic()
    values = [int(cap.read()[1][0, 0, 0]) for _ in range(7)]  # type: ignore[index]
    assert values == [10, 20, 30, 10, 20, 30, 10]
    assert time.monotonic() - t0 >= 6 / 50 * 0.9  # paced, not as fast as possible
    cap.release()
    assert cap.read() == (False, None)  # released stays released


def test_driver_delivers_latest_frames_at_camera_rate(image_dir: Path) -> None:
    with Camera(f"sim:{image_dir}?fps=30") as cam:
        assert cam.wait_state(READY_STATES, 3)
        first = cam.wait_frame()
        time.sleep(1.1)
        # A consumer that slept gets the newest frame, not a backlog (latest-frame-wins).
        latest = cam.latest()
        assert latest is not None and latest.seq > first.seq + 20
        assert cam.fps >= 15
        assert cam.resolution == (640, 480)
        assert cam.health() == "ok"
    # Stopping drops the last picture from memory.
    assert cam.latest() is None and cam.state is CameraState.STOPPED


def test_video_file_through_cv2_loops(tmp_path: Path) -> None:
    path = tmp_path / "clip.avi"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 15, (640, 480))
    assert writer.isOpened()
    for frame in numbered_frames(4):
        writer.write(frame)
    writer.release()
    with Camera(str(path), read_failures=1) as cam:
        frames = [cam.wait_frame(0, 3)]
        while len(frames) < 10:
            frames.append(cam.wait_frame(frames[-1].seq, 3))
        # Past the end of the 4-frame file the driver reopened it and kept delivering.
        assert cam.reopens >= 1 and cam.is_ready()
    assert len(load_frames(path)) == 4


def test_missing_camera_is_a_state_not_a_crash(tmp_path: Path) -> None:
    with Camera(str(tmp_path / "absent.mp4"), reopen_interval_s=0.1) as cam:
        assert cam.wait_state(ERROR_STATES, 3)
        assert cam.health() == "camera.missing"
        with pytest.raises(CameraMissing) as err:
            cam.wait_frame(timeout=0.3)
        assert err.value.code == "camera.missing"
        assert cam.is_error()  # still missing, still retrying, no exception escaped


def test_replug_recovers_through_the_mjpeg_simulator() -> None:
    sim = MjpegServer(numbered_frames(3), fps=20).start()
    try:
        with Camera(sim.url, reopen_interval_s=0.2) as cam:
            assert cam.wait_state(READY_STATES, 5)
            frame = cam.wait_frame(0, 3)
            assert frame.image.shape == (480, 640, 3)
            sim.stop()  # unplug
            assert cam.wait_state(ERROR_STATES, 8)
            sim.start()  # plug back in on the same port
            assert cam.wait_state(READY_STATES, 8)
            # Frames flow again, newer than before the unplug.
            assert cam.wait_frame(frame.seq, 3).seq > frame.seq
    finally:
        sim.stop()


def test_grab_frames_and_bad_sources(image_dir: Path) -> None:
    frames = grab_frames(f"sim:{image_dir}?fps=60", 3)
    assert [f.seq for f in frames] == [1, 2, 3]
    assert parse_source(" 2 ") == 2
    with pytest.raises(BadCameraSource):
        Camera("  ")
    with pytest.raises(BadCameraSource):
        open_source(f"sim:{image_dir}/none")
    # On the worker the same bad path is a missing camera, and the thread keeps running.
    with Camera(f"sim:{image_dir}/none", reopen_interval_s=0.1) as cam:
        assert cam.wait_state(ERROR_STATES, 3)
    with pytest.raises(ValueError, match="fps"):
        SimulatedCapture(numbered_frames(1), fps=0)

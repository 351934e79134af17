"""The technicians' commands, run in process through govhall's dispatcher."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import cv2
import numpy as np
import pytest

from devices.camera.driver import READY_STATES, Camera
from govhall.cli import main

pytestmark = pytest.mark.slow


def test_face_json_for_calibration(photos: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rc = main(
        [
            "device",
            "face",
            "--card",
            str(photos / "obama.jpg"),
            "--live",
            str(photos / "obama3.jpg"),
            "--json",
        ]
    )
    out = json.loads(capsys.readouterr().out)
    assert rc == 0 and out["decision"] == "match" and 0 < out["distance"] < 0.5
    rc = main(
        ["device", "face", "--card", str(photos / "obama.jpg"), "--live", str(photos / "biden.jpg")]
    )
    assert rc == 0 and capsys.readouterr().out.startswith("no_match distance=0.")


def test_face_bad_inputs_are_clear(
    photos: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    live = str(photos / "obama3.jpg")
    assert (
        main(["device", "face", "--card", str(tmp_path / "none.jpg"), "--live", live, "--json"])
        == 0
    )
    assert json.loads(capsys.readouterr().out) == {
        "decision": "unavailable",
        "distance": None,
        "reason": "face.photo_unavailable",
    }
    assert main(["device", "face", "--card", live, "--live", str(tmp_path / "x.jpg")]) == 2
    assert "cannot read" in capsys.readouterr().err
    blank = tmp_path / "blank.png"
    cv2.imwrite(str(blank), np.full((480, 640, 3), 128, np.uint8))
    assert main(["device", "face", "--card", live, "--live", str(blank)]) == 2
    assert "face.no_face" in capsys.readouterr().err
    assert (
        main(
            [
                "device",
                "face",
                "--card",
                live,
                "--live",
                live,
                "--match-threshold",
                "0.9",
                "--no-match-threshold",
                "0.5",
            ]
        )
        == 2
    )
    # Nothing was written next to the inputs (no frames or embeddings on disk).
    assert sorted(p.name for p in tmp_path.iterdir()) == ["blank.png"]


def test_camera_check_reports_what_it_sees(
    photos: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rc = main(
        [
            "device",
            "camera",
            "--check",
            "--source",
            f"sim:{photos / 'grace_hopper.jpg'}?fps=20",
            "--seconds",
            "1.2",
            "--json",
        ]
    )
    out = json.loads(capsys.readouterr().out)
    assert rc == 0
    assert out["resolution"] == "512x600" and out["fps"] >= 15 and out["faces"] == 1


def test_camera_check_on_missing_camera(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rc = main(
        ["device", "camera", "--check", "--source", str(tmp_path / "gone.mp4"), "--seconds", "0.2"]
    )
    assert rc == 1 and "camera.missing" in capsys.readouterr().out


def test_sim_camera_serves_a_stream_the_driver_reads(photos: Path) -> None:
    port = 18554
    done: list[int] = []
    sim = threading.Thread(
        target=lambda: done.append(
            main(
                [
                    "sim",
                    "camera",
                    str(photos / "grace_hopper.jpg"),
                    "--port",
                    str(port),
                    "--size",
                    "640x480",
                    "--fps",
                    "20",
                    "--seconds",
                    "4",
                ]
            )
        )
    )
    sim.start()
    try:
        time.sleep(0.5)
        with Camera(f"http://127.0.0.1:{port}/video.mjpg", reopen_interval_s=0.2) as cam:
            assert cam.wait_state(READY_STATES, 3)
            assert cam.wait_frame(0, 3).image.shape == (480, 640, 3)
    finally:
        sim.join(10)
    assert done == [0]  # the simulator stopped by itself, cleanly

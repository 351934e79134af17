"""Technicians' commands.

    govhall device camera --check [--source 0] [--seconds 2] [--json]
        what the camera sees: resolution, measured fps, faces found, the quality hint.
    govhall device face --card PHOTO --live PHOTO [--json]
                        [--match-threshold T] [--no-match-threshold T]
        decision (match / no_match / uncertain / unavailable) and distance; exit 0 when a
        decision was made, 2 when an input could not be used.
    govhall sim camera PATH [--fps 15] [--port 8554] [--host 127.0.0.1] [--size 640x480]
                            [--mode loop|still|replay|turn_left|turn_right] [--face L,T,R,B]
        a simulated network camera (MJPEG over HTTP) playing PATH in a loop; a kiosk uses
        it with camera = "http://127.0.0.1:8554/video.mjpg". --mode plays what the liveness
        challenge must tell apart (a printed photo, a replayed clip, a real head turn).

Nothing here writes an image or an embedding anywhere.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any

import cv2
import numpy as np

from devices.camera.driver import READY_STATES, Camera
from devices.camera.errors import FaceError
from devices.errors import DeviceError


def _emit(data: dict[str, Any], as_json: bool) -> None:
    if as_json:
        print(json.dumps(data, ensure_ascii=False))
    else:
        for key, value in data.items():
            print(f"{key}: {value}")


def camera_main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="govhall device camera")
    parser.add_argument("--check", action="store_true", help="report what the camera sees")
    parser.add_argument("--source", default="0", help="index, /dev/videoN, file, URL or sim:PATH")
    parser.add_argument("--seconds", type=float, default=2.0, help="how long to watch (s)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    if not args.check:
        parser.print_help()
        return 2
    try:
        cam = Camera(args.source).start()
    except DeviceError as err:
        print(f"camera: {err}", file=sys.stderr)
        return 2
    try:
        if not cam.wait_state(READY_STATES, max(args.seconds, 3.0)):
            _emit({"state": str(cam.state), "error": cam.health()}, args.json)
            return 1
        time.sleep(args.seconds)
        frame = cam.latest()
        report: dict[str, Any] = {
            "state": str(cam.state),
            "resolution": "x".join(map(str, cam.resolution or (0, 0))),
            "fps": round(cam.fps, 1),
        }
    finally:
        cam.stop()
    assert frame is not None
    try:
        from devices.camera.face import FaceChecker

        analysis = FaceChecker().analyse(frame.image)
        report["faces"] = len(analysis.faces)
        report["hint"] = analysis.quality.hint or "ok"
    except FaceError as err:
        report["faces"] = f"unknown ({err.code})"
    _emit(report, args.json)
    return 0


def _read_image(path: str) -> np.ndarray | None:
    # imdecode copes with non-ASCII paths, which imread does not everywhere.
    try:
        data = np.fromfile(path, dtype=np.uint8)
    except OSError:
        return None
    return cv2.imdecode(data, cv2.IMREAD_COLOR) if data.size else None


def face_main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="govhall device face")
    parser.add_argument("--card", required=True, help="card photo (image file)")
    parser.add_argument("--live", required=True, help="live photo (image file)")
    parser.add_argument("--json", action="store_true", help='print {"decision": …, "distance": …}')
    parser.add_argument("--match-threshold", type=float)
    parser.add_argument("--no-match-threshold", type=float)
    args = parser.parse_args(argv)

    from devices.camera.face import FaceCheckConfig, FaceChecker

    overrides = {
        k: v
        for k, v in (
            ("match_threshold", args.match_threshold),
            ("no_match_threshold", args.no_match_threshold),
        )
        if v is not None
    }
    try:
        config = FaceCheckConfig.from_mapping(overrides)
    except ValueError as err:
        print(f"face: {err}", file=sys.stderr)
        return 2
    live = _read_image(args.live)
    if live is None:
        print(f"face: cannot read the live image {args.live}", file=sys.stderr)
        return 2
    card = _read_image(args.card)  # None → "unavailable", the same answer the kiosk gets
    try:
        result = FaceChecker(config=config).compare(card, live)
    except FaceError as err:
        print(f"face: {err}", file=sys.stderr)
        return 2
    data = {"decision": str(result.decision), "distance": result.to_dict()["distance"]}
    if result.reason:
        data["reason"] = result.reason
    if args.json:
        print(json.dumps(data))
    else:
        shown = "-" if result.distance is None else f"{result.distance:.3f}"
        print(
            f"{result.decision} distance={shown}" + (f" ({result.reason})" if result.reason else "")
        )
    return 0


def _size(text: str) -> tuple[int, int]:
    w, _, h = text.lower().partition("x")
    try:
        return int(w), int(h)
    except ValueError as err:
        raise argparse.ArgumentTypeError("size must look like 640x480") from err


def sim_main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="govhall sim camera")
    parser.add_argument("path", help="folder of images, one image, or a video file")
    parser.add_argument("--fps", type=float, default=15.0)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8554)
    parser.add_argument("--size", type=_size, help="resize frames, e.g. 640x480")
    parser.add_argument("--seconds", type=float, help="stop after this long (default: Ctrl-C)")
    parser.add_argument("--mode", default="loop", help="loop, still, replay, turn_left, turn_right")
    parser.add_argument("--face", help="where the face is in the photo: L,T,R,B (px)")
    args = parser.parse_args(argv)

    from devices.camera.simulator import MjpegServer, load_frames, sim_capture_scene

    try:
        frames = sim_capture_scene(
            load_frames(args.path, args.size), args.mode, args.face, args.fps
        )
        server = MjpegServer(frames, args.fps, args.host, args.port).start()
    except (ValueError, OSError) as err:
        print(f"sim camera: {err}", file=sys.stderr)
        return 2
    print(
        f"simulated camera: {len(frames)} frame(s) at {args.fps:g} fps on {server.url}", flush=True
    )
    try:
        if args.seconds is None:
            while True:
                time.sleep(3600)
        time.sleep(args.seconds)
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return 0

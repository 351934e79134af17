"""``govhall doctor``'s look at the camera (does it deliver frames?) and at the CPU the face
model needs. Frames are only counted: none is kept or written."""

from __future__ import annotations

from common.health import Check, fail, ok, skip, text, verbatim
from devices.camera.cpu import has_avx
from devices.camera.driver import CameraState
from devices.camera.errors import CameraError
from devices.open import not_fitted, open_camera

NAME = "camera"
CPU_NAME = "cpu"
FIRST_FRAME_S = 5.0


def check(spec: str, wait_s: float = FIRST_FRAME_S) -> Check:
    """``spec``: the ``[devices] camera`` value (``sim`` checks a simulated frame source
    through the real driver)."""
    if not_fitted(spec):
        return skip(NAME, text("not_fitted", setting="camera"))
    try:
        camera = open_camera(spec).driver
    except CameraError as err:
        return fail(
            NAME,
            text("camera_bad_source", where=verbatim(spec), code=err.code),
            text("camera_bad_source_hint"),
        )
    where = text("simulator") if spec == "sim" else verbatim(spec)
    try:
        if camera.wait_state({CameraState.RUNNING}, timeout=wait_s):
            width, height = camera.resolution or (0, 0)
            return ok(NAME, text("camera_ok", where=where, width=width, height=height))
        return fail(
            NAME,
            text("camera_no_frames", where=where, seconds=wait_s),
            text("camera_no_frames_hint"),
        )
    finally:
        camera.stop()  # frames are dropped with it: nothing is kept or written


def check_cpu() -> Check:
    """Can this CPU run the face model (dlib's AVX build)? Asked only where a face check runs."""
    avx = has_avx()
    if avx is None:
        return ok(CPU_NAME, text("cpu_not_x86"))
    if avx:
        return ok(CPU_NAME, text("cpu_avx"))
    return fail(CPU_NAME, text("cpu_no_avx"), text("cpu_no_avx_hint"))

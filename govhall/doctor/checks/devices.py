"""Which devices this machine runs, per its config, and their checks. Each device package
checks itself (``devices/<kind>/health.py``); this module only decides what applies here."""

from __future__ import annotations

from common.health import Check, skip, text
from devices.open import not_fitted
from hall.config import HallConfig


def voice_needed(config: HallConfig | None) -> bool:
    if config is None:
        return True
    devices = config.sections.get("devices", {})
    if "kiosk" in config.sections and str(devices.get("voice", "sim")).lower() != "none":
        return True
    signage = config.sections.get("signage") or {}
    return bool(signage) and bool(signage.get("announce", True))


def check_voice(config: HallConfig | None) -> Check:
    from devices.voice import health

    if not voice_needed(config):
        return skip(health.NAME, text("voice_not_needed"))
    spec = str(config.sections.get("devices", {}).get("voice", "")) if config else ""
    return health.check(spec)


def device_specs(config: HallConfig | None) -> dict[str, str]:
    """The ``[devices]`` values of a kiosk (or of a machine with only ``[devices]``), with
    the kiosk's defaults applied; {} on a machine without devices."""
    if config is None or not ({"kiosk", "devices"} & set(config.sections)):
        return {}
    from kiosk.settings import parse_devices

    d = parse_devices(config.sections.get("devices", {}), str(config.path))
    return {"idcard": d.idcard, "printer": d.printer, "camera": d.camera}


def check_devices(specs: dict[str, str]) -> list[Check]:
    if not specs:
        return []
    from devices.camera import health as camera
    from devices.idcard import health as idcard
    from devices.printer import health as printer

    return [
        idcard.check(specs["idcard"]),
        printer.check(specs["printer"]),
        camera.check(specs["camera"]),
    ]


def check_cpu(config: HallConfig | None, camera_spec: str) -> Check:
    """The face model's CPU need, where this machine runs a face check."""
    from devices.camera import health as camera

    needs_face = config is not None and any(s.requires_face for s in config.services)
    if (
        not_fitted(camera_spec)
        or not needs_face
        or config is None
        or "kiosk" not in config.sections
    ):
        return skip(camera.CPU_NAME, text("cpu_no_face_check"))
    return camera.check_cpu()

"""Config string → a real device driver, or the same driver on an in-process simulator.

Values (the ``[devices]`` table; the kiosk and ``govhall demo`` use this one mapping)::

    idcard      = "sim" | "none" | "/dev/ttyUSB0" | "socket://host:port" | any pyserial URL
    card_photo  = "sim" | "none" | "vendor:/usr/lib/libwlt.so"
    printer     = "sim" | "none" | "tcp://10.0.0.5:9100" | "serial:///dev/ttyS0" | usb:// | cups://
    camera      = "sim" | "none" | "0" | "/dev/video0" | "sim:/path/to/images" | rtsp://…
    voice       = "sim" | "none" | "aplay" | "aplay:DEVICE" | "espeak" (= aplay on default)

``sim`` always means a real peer through the real driver (a pty reader, a TCP printer, a
paced frame source, a real-time recording speaker), never a stub; ``none`` means the part is
not fitted and the caller must say so (it gets ``None``, never a do-nothing object).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from devices.errors import BadDeviceConfig


@dataclass
class Opened:
    """A driver (or None when not fitted) and the simulator behind it, if any."""

    driver: Any
    simulator: Any = None

    def close(self) -> None:
        for obj, names in ((self.driver, ("close", "stop")), (self.simulator, ("stop",))):
            if obj is None:
                continue
            for name in names:
                fn = getattr(obj, name, None)
                if callable(fn):
                    fn()
                    break


def not_fitted(spec: str) -> bool:
    """Whether a ``[devices]`` value says the part is not fitted (``none``, empty, ``absent``)."""
    return spec.strip().lower() in ("none", "", "absent")


def photo_decoder(spec: str) -> Any:
    from devices.idcard.photo import SimulatorPhotoDecoder, VendorPhotoDecoder

    if not_fitted(spec):
        return None
    if spec == "sim":
        return SimulatorPhotoDecoder()
    if spec.startswith("vendor:"):
        return VendorPhotoDecoder(spec.removeprefix("vendor:"))
    raise BadDeviceConfig(f"card_photo must be sim, none or vendor:PATH, got {spec!r}")


def open_idcard(spec: str, card_photo: str = "sim", **reader_kw: Any) -> Opened:
    from devices.idcard.driver import IdCardReader
    from devices.idcard.simulator import IdCardSimulator

    if not_fitted(spec):
        return Opened(None)
    decoder = photo_decoder(card_photo)
    if spec == "sim":
        sim = IdCardSimulator(transport="pty").start()
        return Opened(IdCardReader(sim.port, photo_decoder=decoder, **reader_kw), sim)
    return Opened(IdCardReader(spec, photo_decoder=decoder, **reader_kw))


def open_printer(spec: str, out_dir: Path | str | None = None) -> Opened:
    from devices.printer.driver import TicketPrinter
    from devices.printer.simulator import PrinterSimulator

    if not_fitted(spec):
        return Opened(None)
    if spec == "sim":
        sim = PrinterSimulator(out_dir, render_png=False)
        url = sim.start_tcp()
        return Opened(TicketPrinter.from_url(url), sim)
    return Opened(TicketPrinter.from_url(spec))


def _sim_portrait_frames() -> list[Any]:
    """A drawn face on a grey 640×480 background: shows a preview in demos (it is not a
    real face, so a face check against it is honestly uncertain or no_match)."""
    import cv2
    import numpy as np

    from devices.idcard.cards import synthetic_portrait

    face = cv2.resize(synthetic_portrait("resident"), (204, 252))
    frame = np.full((480, 640, 3), 200, np.uint8)
    frame[114:366, 218:422] = face
    return [frame]


def open_camera(spec: str) -> Opened:
    from devices.camera.driver import Camera
    from devices.camera.simulator import SimulatedCapture

    if not_fitted(spec):
        return Opened(None)
    if spec == "sim":
        frames = _sim_portrait_frames()
        cam = Camera("sim", opener=lambda _s: SimulatedCapture(frames, 15.0))
        return Opened(cam.start())
    return Opened(Camera(spec).start())


def open_player(spec: str) -> Opened:
    """The speaker behind ``devices.voice.Voice``."""
    from devices.voice.player import AplayPlayer, RecordingPlayer

    if not_fitted(spec):
        return Opened(None)
    if spec == "sim":
        player = RecordingPlayer()
        return Opened(player, player)
    if spec in ("aplay", "espeak"):
        return Opened(AplayPlayer())
    if spec.startswith("aplay:"):
        return Opened(AplayPlayer(spec.removeprefix("aplay:")))
    raise BadDeviceConfig(f"voice must be sim, none, aplay, aplay:DEVICE or espeak, got {spec!r}")

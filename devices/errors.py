"""One error base for every device, with a stable code the kiosk and the hall's health
view can act on. Messages are for technicians and logs: never personal data in them.

Each device kind has its family in ``devices/<kind>/errors.py`` (``IdCardError``,
``PrinterError``, ``LedError``, ``CameraError`` and ``FaceError``, ``VoiceError``), each
code with its text in that kind's catalogue (``common/assets/locales/<kind>.toml``)."""

from __future__ import annotations

from common.errors import CodedError


class DeviceError(CodedError):
    """A device problem with a stable ``code`` (e.g. ``idcard.no_reader``)."""

    code = "device.error"

    def __str__(self) -> str:
        return f"{self.args[0]} [{self.code}]"


class BadDeviceConfig(DeviceError):
    """A ``[devices]`` value that names no known device or simulator (see ``open.py``)."""

    code = "devices.bad_config"

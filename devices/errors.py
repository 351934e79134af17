"""One error base for every device, with a stable code the kiosk and the hall's health
view can act on. Messages are for technicians and logs: never personal data in them."""

from __future__ import annotations

from common.errors import CodedError


class DeviceError(CodedError):
    """A device problem with a stable ``code`` (e.g. ``idcard.no_reader``)."""

    code = "device.error"

    def __str__(self) -> str:
        return f"{self.args[0]} [{self.code}]"

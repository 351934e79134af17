"""Errors of the counter LED strips, each with a stable code (see ``driver.py`` for which
failure gives which). The text for each code is in ``common/assets/locales/led.toml`` (key =
code without the ``led.`` prefix). Messages are for technicians and logs."""

from __future__ import annotations

from devices.errors import DeviceError


class LedError(DeviceError):
    """Codes: ``led.no_port``, ``led.io``, ``led.timeout``, ``led.nak``, ``led.bad_reply``
    (the bus or a strip failed); ``led.encoding``, ``led.too_long``, ``led.bad_value``
    (refused before anything was sent)."""

    code = "led.error"

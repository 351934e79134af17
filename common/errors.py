"""The base of every error that reaches a user or a log with a stable code.

Each package has its own family (``HallError``, ``DeviceError``, ``KioskError``, …) below
:class:`CodedError`; the code is what clients and tests act on, never the message. Every code
has a text in Chinese and English in ``common/assets/locales/errors.toml`` (a test collects
them all and checks they are unique and written)."""

from __future__ import annotations


class CodedError(Exception):
    code: str = "error"

    def __init__(self, message: str = "", *, code: str | None = None) -> None:
        super().__init__(message)
        if code is not None:
            self.code = code

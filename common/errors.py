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


# A dotted code names its part (``idcard.no_reader``): the part's catalogue holds its text
# under the rest of the code (``[no_reader]`` in idcard.toml). The hall's codes are not
# dotted and live in errors.toml.
_CATALOGUE_OF_PART = {"face": "camera", "device": "errors", "devices": "errors"}


def catalogue_of(code: str) -> tuple[str, str]:
    """(catalogue, key): where ``common/assets/locales/<catalogue>.toml`` has the texts of
    ``code``."""
    if "." not in code:
        return "errors", code
    part, key = code.split(".", 1)
    catalogue = _CATALOGUE_OF_PART.get(part, part)
    return catalogue, (code if catalogue == "errors" else key)


def text(code: str, lang: str = "zh") -> str:
    """The user-facing text of an error code; the generic one for a code without a text
    (a test checks that every code in the tree has one)."""
    from common.i18n import MissingText, t

    try:
        return t(*catalogue_of(code), lang)
    except (MissingText, FileNotFoundError):
        return t("errors", "error", lang)

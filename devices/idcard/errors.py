"""Errors of the ID card reader, each with a stable code the kiosk and the health view act on.

Messages are for technicians and logs: they never carry a name, an ID number or a photo.
The citizen-facing text for each code is in ``common/assets/locales/idcard.toml`` (key = code
without the ``idcard.`` prefix).
"""

from __future__ import annotations

from typing import Literal

from devices.errors import DeviceError


class IdCardError(DeviceError):
    code = "idcard.error"


# What the framing found wrong with the bytes (see frames.FrameParser).
FrameFault = Literal["checksum", "length", "short"]


class Garbled(IdCardError):
    """Bytes on the line that are no valid frame, or a reply corrupt or cut off (noise, a
    loose cable, a wrong baud rate). The kiosk acts the same on all of them (lift the card
    and place it again), so the codec's frame errors and the driver's share this class.
    ``reason`` is set when the framing itself failed: ``checksum``, ``length`` or ``short``
    (a frame too short for its kind)."""

    code = "idcard.garbled"

    def __init__(self, message: str, *, reason: FrameFault | None = None) -> None:
        super().__init__(message)
        self.reason = reason


class NoReader(IdCardError):
    """The port is missing, or nothing answers the status command."""

    code = "idcard.no_reader"


class NoCard(IdCardError):
    """No card on the reader (find card answered 80)."""

    code = "idcard.no_card"


class ReadFailed(IdCardError):
    """Select or read failed: the card must be lifted and placed again."""

    code = "idcard.read_failed"


class SamFault(IdCardError):
    """The reader's secure module failed its self-test (60) or is not authorised (66)."""

    code = "idcard.sam_fault"


class UnknownCardType(IdCardError):
    """The reader (40) or the text block reports a card type we cannot decode."""

    code = "idcard.unknown_card_type"


class BadCardData(IdCardError):
    """A text block whose fields cannot be parsed (a date that is no date, bad size)."""

    code = "idcard.bad_card_data"


class InvalidCard(IdCardError):
    """A card whose fields contradict each other (GB 11643 check digit, birth, sex).
    ``problems`` names what is wrong, without the values."""

    code = "idcard.invalid_card"

    def __init__(self, message: str, *, problems: tuple[str, ...]) -> None:
        super().__init__(message)
        self.problems = problems


class ProtocolError(IdCardError):
    """The reader answered with a status this driver does not expect for the command."""

    code = "idcard.protocol"


class PhotoUnavailable(IdCardError):
    """No decoder for this photo (none configured, library missing, bytes not decodable)."""

    code = "idcard.photo_unavailable"


class Cancelled(IdCardError):
    """``wait_for_card`` was cancelled by its caller (the kiosk left the screen)."""

    code = "idcard.cancelled"

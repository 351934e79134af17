"""Voice errors. Every failure has a stable code so the kiosk can show "voice unavailable"
and the hall's health view can count it; nothing here falls back to silence."""

from __future__ import annotations

from devices.errors import DeviceError


class VoiceError(DeviceError):
    """Synthesis or playback failed (codes: voice.synth_failed, voice.no_player, …)."""

    code = "voice.error"


class VoiceInputError(VoiceError, ValueError):
    """The caller passed text or values that cannot be spoken (a bug, not a device fault)."""

    code = "voice.bad_input"

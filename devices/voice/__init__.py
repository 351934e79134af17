"""Voice for kiosks and lobby speakers: normalised Chinese/English text, synthesised by
espeak-ng (through pyttsx3, with a direct fallback), checked, cached and played one clip at a
time. Start with :class:`devices.voice.voice.Voice`."""

from devices.voice.errors import VoiceError, VoiceInputError
from devices.voice.normalize import (
    call_sentence,
    speak_counter,
    speak_ticket_number,
    waiting_sentence,
)
from devices.voice.player import AplayPlayer, Played, Player, RecordingPlayer
from devices.voice.voice import PROFILES, Status, Utterance, Voice

__all__ = [
    "PROFILES",
    "AplayPlayer",
    "Played",
    "Player",
    "RecordingPlayer",
    "Status",
    "Utterance",
    "Voice",
    "VoiceError",
    "VoiceInputError",
    "call_sentence",
    "speak_counter",
    "speak_ticket_number",
    "waiting_sentence",
]

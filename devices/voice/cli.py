"""``govhall device voice --say TEXT [--wav FILE] [--elderly] [--lang zh|en] [--device D]``

For technicians: synthesise TEXT with the kiosk's own pipeline (checked WAV, cache) and
play it on the speaker (``aplay``), or write it to FILE with ``--wav`` instead of playing.
Exit status 0 when the speech was produced, 1 with the error code on a device failure,
2 for bad arguments.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

from devices.voice.errors import VoiceError, VoiceInputError
from devices.voice.player import AplayPlayer, Player
from devices.voice.synth import read_wav
from devices.voice.voice import Voice


def device_main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="govhall device voice", description=__doc__)
    parser.add_argument("--say", required=True, metavar="TEXT", help="text to speak")
    parser.add_argument("--wav", type=Path, metavar="FILE", help="write the WAV here, do not play")
    parser.add_argument("--elderly", action="store_true", help="slower, louder profile")
    parser.add_argument("--lang", default="zh", choices=("zh", "en"))
    parser.add_argument("--device", default="default", help="ALSA device for aplay (e.g. null)")
    parser.add_argument(
        "--cache-dir", type=Path, help="phrase cache (default ~/.cache/govhall/voice)"
    )
    args = parser.parse_args(argv)
    profile = "elderly" if args.elderly else "normal"
    try:
        # Writing a file needs no speaker, so a box without aplay can still check synthesis.
        player: Player = _NoPlayback() if args.wav is not None else AplayPlayer(args.device)
        with Voice(profile, args.lang, args.cache_dir, player=player) as voice:
            path = voice.synthesize(args.say)
            audio = read_wav(path)
            backend = voice.synthesizer.last_backend or "cache"
            if args.wav is not None:
                args.wav.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(path, args.wav)
                where = str(args.wav)
            else:
                voice.say(args.say).wait(timeout=audio.duration_s + 30)
                where = f"aplay -D {args.device}"
    except VoiceInputError as err:
        print(f"govhall device voice: {err}", file=sys.stderr)
        return 2
    except VoiceError as err:
        print(f"govhall device voice: FAILED {err}", file=sys.stderr)
        return 1
    print(
        f"ok: {audio.duration_s:.2f} s, {audio.framerate} Hz, profile {profile}, "
        f"synthesised by {backend} → {where}"
    )
    return 0


class _NoPlayback:
    """Stands in for the speaker when only a file is wanted; playing through it is a bug."""

    name = "none"

    def play(self, audio: object, cancel: object) -> float:
        raise VoiceError("no speaker in --wav mode", code="voice.no_player")

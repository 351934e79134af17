"""``govhall device idcard`` (a technician's check of a real reader) and
``govhall sim idcard`` (the simulated reader as its own process).

device: ``govhall device idcard --port PORT [--json] [--show-id] [--timeout S]`` checks the
reader answers, waits for a card and prints it, masked unless ``--show-id``; or says
exactly what is wrong (exit 1, the error code and what to do). ``--json``: one JSON object
(IdCard fields, dates ISO, ``valid_to`` null for 长期, photo base64 only with --show-id).

sim: ``govhall sim idcard [--link /tmp/ttyIDCARD | --tcp PORT] [--card NAME]`` prints
``idcard simulator ready on PORT`` and then takes commands on stdin, one per line::

    place NAME|PATH   remove   fault KIND [ARG] [on=COMMAND]   clear
    unplug   replug   cards   status   quit

It keeps running after stdin closes (as a background process) until SIGTERM or Ctrl-C.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from typing import Any

from devices.idcard.card import IdCard
from devices.idcard.driver import IdCardReader
from devices.idcard.errors import IdCardError, PhotoUnavailable
from devices.idcard.frames import Command
from devices.idcard.photo import PhotoDecoder


def _hint(code: str, lang: str) -> str:
    from common.i18n import MissingText, t

    key = code.removeprefix("idcard.")
    try:
        return t("idcard", key, lang)
    except (MissingText, OSError):
        return t("idcard", "error", lang)


def _photo_decoder(args: argparse.Namespace) -> PhotoDecoder | None:
    from devices.idcard.photo import SimulatorPhotoDecoder, VendorPhotoDecoder

    if args.photo_lib:
        return VendorPhotoDecoder(args.photo_lib)
    if args.sim_photo:
        return SimulatorPhotoDecoder()
    return None


def _human(card: IdCard, show_id: bool) -> list[str]:
    data = card.to_json(show_id=show_id)
    order = [
        "card_type", "name", "name_en", "sex", "nation", "birth_date", "address", "id_number",
        "authority", "valid_from", "valid_to", "pass_number", "issue_count", "nationality",
        "card_version", "additional_address", "photo_bytes", "problems",
    ]  # fmt: skip
    lines = []
    for key in order:
        value = data.get(key)
        if key == "valid_to" and value is None:
            value = "长期"
        if value in ("", None, []) and key not in ("valid_to",):
            continue
        lines.append(f"{key:>18}: {value}")
    return lines


def device_main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="govhall device idcard", description="Check an ID card reader and read one card."
    )
    parser.add_argument("--port", required=True, help="/dev/ttyUSB0, a pty path, socket://…")
    parser.add_argument("--baudrate", type=int, default=115200)
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds to wait for a card")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--show-id", action="store_true", help="print personal data unmasked")
    parser.add_argument("--additional-address", action="store_true", help="also read 30 03")
    parser.add_argument("--lenient", action="store_true", help="print inconsistent cards too")
    parser.add_argument("--photo-lib", help="vendor WLT library (.so) to test photo decoding")
    parser.add_argument("--sim-photo", action="store_true", help="decode simulator photos")
    parser.add_argument("--lang", default="zh", choices=["zh", "en"])
    args = parser.parse_args(argv)

    def say(text: str) -> None:
        # in --json mode stdout carries only the object; progress goes to stderr
        print(text, file=sys.stderr if args.json else sys.stdout, flush=True)

    reader = IdCardReader(
        args.port,
        args.baudrate,
        additional_address=args.additional_address,
        strict=not args.lenient,
        photo_decoder=_photo_decoder(args),
    )
    try:
        reader.open()
        say(f"reader on {args.port}: {reader.state.value}, SAM {reader.sam_id()}")
        say(_hint("place_card", args.lang) + f" ({args.timeout:g} s)")
        card = reader.wait_for_card(args.timeout)
    except IdCardError as err:
        if args.json:
            print(json.dumps({"error": err.code, "message": str(err)}, ensure_ascii=False))
        else:
            print(f"error: {err}", file=sys.stderr)
            print(f"  → {_hint(err.code, args.lang)}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    finally:
        reader.close()

    photo_note = "no decoder configured (face check against the card photo unavailable)"
    if reader.photo_decoder is not None:
        try:
            image = reader.photo_decoder.decode(card.photo_wlt)
            photo_note = f"decoded {image.shape[1]}×{image.shape[0]}"
        except PhotoUnavailable as err:
            photo_note = f"not decodable: {err}"
    if args.json:
        out: dict[str, Any] = card.to_json(show_id=args.show_id)
        out["photo_decoding"] = photo_note
        print(json.dumps(out, ensure_ascii=False))
    else:
        print("\n".join(_human(card, args.show_id)))
        print(f"{'photo':>18}: {photo_note}")
    return 0


# ---------------------------------------------------------------------------------------


def _sim_command(sim: Any, line: str) -> str:
    from devices.idcard.cards import sample_card_names

    words = line.split()
    if not words:
        return ""
    cmd, rest = words[0].lower(), words[1:]
    if cmd == "place" and rest:
        sim.place(rest[0])
        return f"placed {rest[0]}"
    if cmd == "remove":
        sim.remove()
        return "removed"
    if cmd == "fault" and rest:
        on = None
        arg = 0.0
        for word in rest[1:]:
            if word.startswith("on="):
                on = Command[word[3:].upper()]
            else:
                arg = float(int(word, 16)) if word.lower().startswith("0x") else float(word)
        sim.inject(rest[0], on=on, arg=arg)
        return f"fault {rest[0]} armed"
    if cmd == "clear":
        sim.clear_faults()
        return "faults cleared"
    if cmd == "unplug":
        sim.unplug()
        return "unplugged"
    if cmd == "replug":
        sim.replug()
        return f"plugged in on {sim.port}"
    if cmd == "cards":
        return " ".join(sample_card_names())
    if cmd == "status":
        return f"port {sim.port}, card {'present' if sim.card_present else 'absent'}"
    if cmd == "help":
        return __doc__.split("::", 1)[1].split("It keeps", 1)[0].strip() if __doc__ else ""
    return f"unknown command {line!r} (try help)"


def sim_main(argv: list[str]) -> int:
    from devices.idcard.simulator import IdCardSimulator

    parser = argparse.ArgumentParser(
        prog="govhall sim idcard", description="Run a simulated ID card reader."
    )
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--link", default=None, help="symlink to the pty (e.g. /tmp/ttyIDCARD)")
    where.add_argument("--tcp", type=int, default=None, help="listen on 127.0.0.1:PORT")
    parser.add_argument("--baudrate", type=int, default=115200)
    parser.add_argument("--card", help="card placed at start (sample name or JSON path)")
    parser.add_argument("--read-delay", type=float, default=0.0, help="card RF read time, s")
    parser.add_argument("--no-pace", action="store_true", help="send at full speed")
    args = parser.parse_args(argv)

    sim = IdCardSimulator(
        transport="tcp" if args.tcp is not None else "pty",
        link=args.link if args.tcp is None else None,
        tcp_port=args.tcp or 0,
        baudrate=args.baudrate,
        paced=not args.no_pace,
        read_delay=args.read_delay,
    )
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        sim.start()
    except OSError as err:
        print(f"cannot start the simulator: {err}", file=sys.stderr)
        return 1
    try:
        if args.card:
            sim.place(args.card)
        print(f"idcard simulator ready on {sim.port}", flush=True)

        def commands() -> None:
            for line in sys.stdin:
                if line.strip().lower() in ("quit", "exit"):
                    break
                try:
                    reply = _sim_command(sim, line)
                except (ValueError, KeyError, OSError) as err:
                    reply = f"error: {err}"
                if reply:
                    print(reply, flush=True)
            else:
                return  # stdin closed: keep serving until a signal
            stop.set()

        threading.Thread(target=commands, daemon=True).start()
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        sim.stop()
    return 0

"""``govhall device led`` (talk to real strips) and ``govhall sim led`` (simulated strips).

govhall device led --port /dev/ttyUSB0 --address 3 --text "请A012号" [--mode flash]
govhall device led --port /dev/ttyUSB0 --address 3 --status | --clear | --brightness 10
govhall device led --decode "02 03 31 …"        # explain captured bytes (spy:// logs)
govhall sim led [--addresses 1-32] [--encoding gbk]   # prints the pty path, then every
                                                      # text shown; Ctrl-C to stop
"""

from __future__ import annotations

import argparse
import sys
import time

from devices.led.codec import BROADCAST, Color, FrameParser, Mode
from devices.led.driver import LedBus
from devices.led.errors import LedError
from devices.led.simulator import LedSimulator


def device_main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="govhall device led")
    p.add_argument("--port", help="pyserial URL of the RS-485 adapter")
    p.add_argument("--baud", type=int, default=9600)
    p.add_argument("--address", type=int, default=BROADCAST, help="1..254, 255 = all")
    p.add_argument("--encoding", default="gb2312", choices=("gb2312", "gbk"))
    p.add_argument("--mode", default="static", choices=[m.name.lower() for m in Mode])
    p.add_argument("--color", default="red", choices=[c.name.lower() for c in Color])
    act = p.add_mutually_exclusive_group(required=True)
    act.add_argument("--text")
    act.add_argument("--clear", action="store_true")
    act.add_argument("--status", action="store_true")
    act.add_argument("--brightness", type=int)
    act.add_argument("--decode", help="hex bytes to parse into frames (no port needed)")
    args = p.parse_args(argv)
    if args.decode is not None:
        try:
            data = bytes.fromhex(args.decode.replace(":", " "))
        except ValueError as err:
            print(f"led: --decode: {err}", file=sys.stderr)
            return 2
        parser = FrameParser()
        for frame in parser.feed(data):
            print(f"addr={frame.address} cmd=0x{frame.cmd:02x} data={frame.data.hex(' ')}")
        print(f"{parser.dropped} byte(s) of noise, {len(parser.buffer)} incomplete")
        return 0
    if not args.port:
        print("led: --port is required", file=sys.stderr)
        return 2
    try:
        with LedBus(args.port, args.baud, encoding=args.encoding) as bus:
            if args.text is not None:
                bus.show(
                    args.address, args.text, Mode[args.mode.upper()], Color[args.color.upper()]
                )
            elif args.clear:
                bus.clear(args.address)
            elif args.brightness is not None:
                bus.brightness(args.address, args.brightness)
            else:
                s = bus.status(args.address)
                print(
                    f"address {s.address}: {s.text!r} mode={s.mode.name.lower()} "
                    f"color={s.color.name.lower()} brightness={s.brightness}"
                )
    except LedError as err:
        print(f"led: {err}", file=sys.stderr)
        return 1
    print("ok")
    return 0


def sim_main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="govhall sim led")
    p.add_argument("--addresses", default="1-32", help="e.g. 1-32 or 1,2,5")
    p.add_argument("--encoding", default="gb2312", choices=("gb2312", "gbk"))
    args = p.parse_args(argv)
    try:
        if "-" in args.addresses:
            lo, hi = (int(x) for x in args.addresses.split("-"))
            addresses = list(range(lo, hi + 1))
        else:
            addresses = [int(x) for x in args.addresses.split(",")]
    except ValueError:
        print(f"led: --addresses {args.addresses!r} is not like 1-32 or 1,2,5", file=sys.stderr)
        return 2
    sim = LedSimulator(addresses, args.encoding).start()
    print(sim.port, flush=True)
    seen = {a: 0 for a in addresses}
    try:
        while True:
            for a, strip in sim.strips.items():
                for text in strip.shown[seen[a] :]:
                    print(f"[{a}] {text}", flush=True)
                seen[a] = len(strip.shown)
            time.sleep(0.1)
    except KeyboardInterrupt:
        return 0
    finally:
        sim.stop()

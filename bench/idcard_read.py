"""Benchmark: time from card placed to IdCard returned, through the real driver and the
simulator on a real pty at 115200 baud (replies paced at the baud rate).

Each of N reads places the card at a random moment of the 300 ms poll cycle while
``wait_for_card`` runs, as a citizen would. Printed beside the wire-time floor of the bytes
exchanged (find + select + read, both directions, 10 bits per byte) and the target:
≤ 1.3 × floor + one poll interval. The "exchange" line isolates our own overhead: from the
find that saw the card to the IdCard, against the same floor.

    .venv/bin/python bench/idcard_read.py [--reads 200] [--transport pty|tcp]
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from devices.idcard.cards import load_card
from devices.idcard.driver import POLL_INTERVAL, IdCardReader
from devices.idcard.frames import Command
from devices.idcard.simulator import IdCardSimulator

# request + reply bytes: find (10 + 15), select (10 + 19), read text + photo (10 + 1295)
EXCHANGED_BYTES = 10 + 15 + 10 + 19 + 10 + 1295


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    k = min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))
    return ordered[k]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--reads", type=int, default=200)
    parser.add_argument("--baudrate", type=int, default=115200)
    parser.add_argument("--transport", choices=["pty", "tcp"], default="pty")
    args = parser.parse_args()

    card = load_card("resident")
    rng = random.Random(7)
    placed_to_card: list[float] = []
    exchange: list[float] = []
    with tempfile.TemporaryDirectory() as tmp:
        link = Path(tmp) / "ttyIDCARD" if args.transport == "pty" else None
        sim = IdCardSimulator(transport=args.transport, link=link, baudrate=args.baudrate)
        with sim, IdCardReader(sim.port, args.baudrate) as reader:
            floor = sim.wire_time(EXCHANGED_BYTES)
            for _ in range(args.reads):
                sim.remove()
                timer = threading.Timer(rng.uniform(0.05, 0.05 + POLL_INTERVAL), sim.place, (card,))
                timer.start()
                got = reader.wait_for_card(10.0)
                done = time.monotonic()
                timer.join()
                assert got.id_number == card.id_number and sim.placed_at is not None
                placed_to_card.append(done - sim.placed_at)
                finds = [r.at for r in sim.requests if r.command is Command.FIND_CARD]
                # the find that saw the card: its request completed after the request's
                # own wire time, so add that back to start at the first byte sent
                exchange.append(done - finds[-1] + sim.wire_time(10))

    target = 1.3 * floor + POLL_INTERVAL
    med, p99 = statistics.median(placed_to_card), percentile(placed_to_card, 99)
    ex_med, ex_p99 = statistics.median(exchange), percentile(exchange, 99)
    ms = 1000
    print(f"idcard read, {args.reads} reads, {args.baudrate} baud, {args.transport}")
    print(f"  wire-time floor ({EXCHANGED_BYTES} bytes):  {floor * ms:7.1f} ms")
    print(f"  poll interval:                   {POLL_INTERVAL * ms:7.1f} ms")
    print(f"  placed → IdCard  median {med * ms:7.1f} ms  ratio {med / floor:5.2f}× floor")
    print(f"  placed → IdCard  p99    {p99 * ms:7.1f} ms  ratio {p99 / floor:5.2f}× floor")
    print(f"  exchange only    median {ex_med * ms:7.1f} ms  ratio {ex_med / floor:5.2f}× floor")
    print(f"  exchange only    p99    {ex_p99 * ms:7.1f} ms  ratio {ex_p99 / floor:5.2f}× floor")
    verdict = "OK" if p99 <= target else "OVER TARGET"
    print(f"  target ≤ 1.3 × floor + poll = {target * ms:.1f} ms: p99 {verdict}")
    return 0 if p99 <= target else 1


if __name__ == "__main__":
    sys.exit(main())

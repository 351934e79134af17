"""Ticket printing benchmark: build time and bytes for text vs image mode (and hybrid: text
with only a rare-character line as raster), and time from the
first byte sent to the simulated printer's acknowledgement (post-print DLE EOT reply) over a
pty paced at 9600 and 115200 baud — the real driver against the real simulator.

    .venv/bin/python bench/print_ticket.py [--paper 80] [--repeat 200] [--skip-slow]
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from devices.printer.driver import TicketPrinter, render_ticket_hybrid, render_ticket_image
from devices.printer.layout import render_ticket, sample_ticket
from devices.printer.simulator import PrinterSimulator


def build_times(paper: str, repeat: int) -> None:
    info = sample_ticket()
    rare = dataclasses.replace(info, service_name="不动产登记（𠀀）")  # a GB font lacks 𠀀
    render_ticket_image(info, paper)  # load the font once, as a running kiosk has
    for mode, build in (
        ("text", lambda: render_ticket(info, paper)),  # type: ignore[arg-type]
        ("image", lambda: render_ticket_image(info, paper)),
        ("hybrid", lambda: render_ticket_hybrid(rare, paper)),
    ):
        runs = repeat if mode != "image" else max(repeat // 10, 5)
        times = []
        for _ in range(runs):
            t0 = time.perf_counter()
            data = build()
            times.append(time.perf_counter() - t0)
        print(
            f"build {mode:6s} {paper} mm: median {statistics.median(times) * 1000:7.2f} ms, "
            f"{len(data):6d} bytes"
        )


def ack_times(paper: str, skip_slow: bool) -> None:
    info = sample_ticket()
    for baud in (9600, 115200):
        for mode in ("text", "image"):
            size = len(
                render_ticket(info, paper) if mode == "text" else render_ticket_image(info, paper)
            )  # type: ignore[arg-type]
            if skip_slow and baud == 9600 and mode == "image":
                print(f"ack   {mode:5s} {baud:6d} baud: skipped (≈ {size * 10 / baud:.0f} s)")
                continue
            with PrinterSimulator(None, baudrate=baud, paper=paper, render_png=False) as sim:
                url = sim.start_pty()
                with TicketPrinter.from_url(url, paper=paper, mode=mode) as printer:
                    printer.status()  # open and settle the port outside the measurement
                    result = printer.print_ticket(info)
                    jobs = sim.wait_for_jobs(1)
            assert result.printed and jobs[0].printed
            wire = result.bytes_sent * 10 / baud
            print(
                f"ack   {mode:5s} {baud:6d} baud: {result.elapsed_s * 1000:9.0f} ms to ack "
                f"for {result.bytes_sent} bytes (wire time {wire * 1000:.0f} ms)"
            )


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--paper", choices=["58", "80"], default="80")
    ap.add_argument("--repeat", type=int, default=200)
    ap.add_argument("--skip-slow", action="store_true", help="skip the image at 9600 baud")
    args = ap.parse_args()
    build_times(args.paper, args.repeat)
    ack_times(args.paper, args.skip_slow)
    return 0


if __name__ == "__main__":
    sys.exit(main())

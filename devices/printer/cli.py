"""``govhall device printer …`` (technicians) and ``govhall sim printer …`` (simulator).

    govhall device printer --url tcp://10.0.0.5:9100 --status
    govhall device printer --url serial:///dev/ttyUSB0?baudrate=115200 --test [--mode image]
    govhall device printer --decode ticket.bin [--encoding gbk] [--png out.png]
    govhall sim printer --tcp 9100 --out /tmp/printer [--fault paper_near_end] [--baudrate 9600]
    govhall sim printer --pty --link /tmp/ttyPRN --baudrate 9600

Exit codes: 0 done; 1 the printer cannot print / the ticket was not confirmed; 2 bad usage.
The simulator reads commands on stdin: a fault name sets it, ``-NAME`` clears it,
``clear`` clears all, ``status`` prints the state, ``quit`` stops.
"""

from __future__ import annotations

import argparse
import datetime as dt
import signal
import sys
import threading
from pathlib import Path

from common.i18n import t
from common.personal import mask_name
from devices.errors import DeviceError
from devices.printer.codec import PrinterStatus, state_of
from devices.printer.layout import TicketInfo
from devices.printer.text import ENCODINGS

# The simulator reports jobs and answers commands from two threads: one line at a time, or
# print()'s separate write of the newline lets the lines interleave.
_stdout_lock = threading.Lock()


def _say(line: str) -> None:
    with _stdout_lock:
        print(line, flush=True)


def make_test_ticket(now: dt.datetime | None = None) -> TicketInfo:
    """Every element a ticket can have, including a rare character and a QR code."""
    return TicketInfo(
        hall_name=t("common", "hall_name_fallback"),
        service_name=t("printer", "test_service", "zh"),
        service_name_en=t("printer", "test_service", "en"),
        number="A001",
        waiting_ahead=3,
        estimated_wait_s=600,
        issued_at=now or dt.datetime.now().replace(microsecond=0),
        name_masked=mask_name("张小三"),
        counter_hint="1号窗口 / Counter 1",
        qr_payload="https://govhall.example/t/test",
        footer=" ".join(
            [
                t("printer", "test_title", "zh"),
                t("printer", "test_footer", "zh"),
                t("printer", "test_title", "en") + ":",
                t("printer", "test_footer", "en"),
            ]
        ),
    )


def device_main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(
        prog="govhall device printer",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    ap.add_argument("--url", help="printer URL (tcp://, serial://, usb://, cups://)")
    what = ap.add_mutually_exclusive_group(required=True)
    what.add_argument("--status", action="store_true", help="only read the status")
    what.add_argument("--test", action="store_true", help="print a test ticket")
    what.add_argument("--decode", metavar="FILE", type=Path, help="ESC/POS bytes → text")
    ap.add_argument("--paper", choices=["58", "80"], default=None)
    ap.add_argument("--encoding", choices=list(ENCODINGS), default=None)
    ap.add_argument("--mode", choices=["text", "image", "auto"], default=None)
    ap.add_argument("--png", type=Path, help="with --decode: also render the bytes as PNG")
    args = ap.parse_args(argv)

    if args.decode:
        return _decode(args.decode, args.encoding or "gb18030", args.paper or "80", args.png)
    if not args.url:
        ap.error("--url is required with --status and --test")

    from devices.printer.driver import TicketPrinter

    overrides = {k: v for k in ("paper", "encoding", "mode") if (v := getattr(args, k))}
    try:
        printer = TicketPrinter.from_url(args.url, **overrides)
    except DeviceError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    with printer:
        try:
            state = printer.status()
        except DeviceError as err:  # CUPS cannot report status
            print(f"status: unknown ({err})")
            state = None
        if state is not None:
            print(f"status: {state.value} — {state.message('zh')} / {state.message('en')}")
        if args.status:
            return 0 if state is None or state.is_printable() else 1
        try:
            result = printer.print_ticket(make_test_ticket())
        except DeviceError as err:
            print(f"test ticket NOT printed: {err}", file=sys.stderr)
            return 1
    what_happened = "printed and confirmed" if result.printed else "spooled (not confirmed)"
    print(
        f"test ticket {what_happened}: {result.bytes_sent} bytes, {result.mode} mode, "
        f"acknowledged in {result.elapsed_s * 1000:.0f} ms"
    )
    for w in result.warnings:
        print(f"warning: {w.message('zh')} / {w.message('en')}")
    return 0


def _decode(path: Path, encoding: str, paper: str, png: Path | None) -> int:
    from devices.printer.decode import decode, decode_text

    try:
        data = path.read_bytes()
    except OSError as err:
        print(f"error: cannot read {path}: {err}", file=sys.stderr)
        return 2
    print(decode_text(data, encoding))
    if png is not None:
        from devices.printer.image import render_elements

        render_elements(decode(data, encoding).elements, paper).save(png)
        print(f"[png] {png}", file=sys.stderr)
    return 0


def sim_main(argv: list[str]) -> int:
    from devices.printer.simulator import PrinterFault, PrinterSimulator

    ap = argparse.ArgumentParser(
        prog="govhall sim printer",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    where = ap.add_mutually_exclusive_group(required=True)
    where.add_argument("--tcp", type=int, metavar="PORT", help="listen on PORT (0: any)")
    where.add_argument("--pty", action="store_true", help="a pseudo-terminal serial port")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--link", type=Path, help="with --pty: symlink to the pty (stable path)")
    ap.add_argument(
        "--out",
        type=Path,
        default=Path("printer-sim-out"),
        help="where each ticket's .txt, .bin and .png go",
    )
    ap.add_argument("--paper", choices=["58", "80"], default="80")
    ap.add_argument("--encoding", choices=list(ENCODINGS), default="gb18030")
    ap.add_argument("--baudrate", type=int, help="pace the link like a serial line (bit/s)")
    ap.add_argument(
        "--fault", action="append", type=PrinterFault, choices=list(PrinterFault), default=[]
    )
    ap.add_argument("--slow-bytes-per-s", type=float, default=200.0)
    ap.add_argument("--drop-after-bytes", type=int, default=64)
    args = ap.parse_args(argv)

    sim = PrinterSimulator(
        args.out,
        encoding=args.encoding,
        paper=args.paper,
        baudrate=args.baudrate,
        slow_bytes_per_s=args.slow_bytes_per_s,
        drop_after_bytes=args.drop_after_bytes,
    )
    for f in args.fault:
        sim.set_fault(f)
    try:
        url = (
            sim.start_tcp(args.host, args.tcp) if args.tcp is not None else sim.start_pty(args.link)
        )
    except OSError as err:
        print(f"error: cannot start the printer simulator: {err}", file=sys.stderr)
        return 2
    print(f"printer simulator on {url} → {args.out}", flush=True)

    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    threading.Thread(target=_report_jobs, args=(sim, done), daemon=True).start()
    threading.Thread(target=_commands, args=(sim, done), daemon=True).start()
    try:
        done.wait()
    except KeyboardInterrupt:
        pass
    finally:
        sim.stop()
    return 0


def _report_jobs(sim: object, done: threading.Event) -> None:
    from devices.printer.simulator import PrinterSimulator

    assert isinstance(sim, PrinterSimulator)
    seen = 0
    while not done.is_set():
        jobs = sim.wait_for_jobs(seen + 1, timeout=0.5)
        for job in jobs[seen:]:
            verdict = "printed" if job.printed else f"NOT printed ({job.reason})"
            _say(f"job {job.index}: {verdict}, {len(job.data)} bytes → {job.png_path}")
        seen = len(jobs)


def _commands(sim: object, done: threading.Event) -> None:
    from devices.printer.simulator import PrinterFault, PrinterSimulator

    assert isinstance(sim, PrinterSimulator)
    for raw in sys.stdin:
        cmd = raw.strip()
        if not cmd:
            continue
        if cmd == "quit":
            break
        if cmd == "clear":
            sim.clear_faults()
        elif cmd == "status":
            pass
        elif cmd.lstrip("-") in set(PrinterFault):
            sim.set_fault(cmd.lstrip("-"), on=not cmd.startswith("-"))
        else:
            _say(f"unknown command {cmd!r}; faults: {', '.join(PrinterFault)}")
            continue
        state: PrinterStatus = state_of(sim.flags)
        _say(f"state: {state.value}")
    else:
        return  # stdin closed (run from a service): keep running until a signal
    done.set()

"""A simulated ESC/POS ticket printer: a real peer on TCP (port 9100 style) or on a pty.

It parses the byte stream like a printer (``decode.next_token``), answers DLE EOT from its
current state through ``codec.encode_status`` (so it can only say what a printer would), keeps
every byte it received, and files each job ended by a cut as a printed ticket — with its
decoded text and a PNG rendering in ``out_dir`` — or as rejected when the printer could not
print at that moment. Scripted faults (``set_fault``, a ``PrinterFault``)::

    paper_near_end  prints, reports near end        paper_end     refuses, reports paper end
    cover_open      refuses, reports cover open     offline       refuses, reports offline
    cutter_error / unrecoverable                    not_there     answers nothing at all
    slow            link paced at ``slow_bytes_per_s``
    drop            the link drops after ``drop_after_bytes`` bytes of the next job

The link is paced at ``baudrate`` (10 bits a byte) when one is given, so time to
acknowledgement at 9600 baud is what a real serial printer would take.

In-process: ``with PrinterSimulator(out) as sim: url = sim.start_tcp()``; as a process:
``govhall sim printer --tcp 9100 --out DIR`` (faults from ``--fault`` or typed on stdin).
"""

from __future__ import annotations

import contextlib
import os
import select
import socket
import threading
import time
import tty
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from enum import StrEnum
from pathlib import Path

from devices.printer.codec import PRINTABLE_STATES, StatusFlags, encode_status, state_of
from devices.printer.decode import decode, decode_text, next_token


class PrinterFault(StrEnum):
    """What ``set_fault`` can script (see the module docstring); each stays until cleared,
    except ``DROP``, which drops the link once."""

    PAPER_NEAR_END = "paper_near_end"
    PAPER_END = "paper_end"
    COVER_OPEN = "cover_open"
    OFFLINE = "offline"
    CUTTER_ERROR = "cutter_error"
    UNRECOVERABLE = "unrecoverable"
    NOT_THERE = "not_there"
    SLOW = "slow"
    DROP = "drop"


@dataclass
class SimJob:
    index: int
    data: bytes
    printed: bool
    reason: str = ""  # why a job did not print: the state at the time, or "link dropped"
    text_path: Path | None = None
    png_path: Path | None = None
    encoding: str = "gb18030"

    @property
    def text(self) -> str:
        return decode_text(self.data, self.encoding)


@dataclass
class _Faults:
    flags: StatusFlags = field(default_factory=StatusFlags)
    active: frozenset[PrinterFault] = frozenset()
    not_there: bool = False
    slow: bool = False
    drop: bool = False
    unplugged: bool = False  # pty variant of a dropped link: silent until faults clear


# Faults that are printer states: the DLE EOT flags a printer in that state reports.
_FLAG_FAULTS: dict[PrinterFault, dict[str, bool]] = {
    PrinterFault.PAPER_NEAR_END: {"paper_near_end": True},
    # A real printer at paper end or with the cover open also goes offline.
    PrinterFault.PAPER_END: {"paper_end": True, "stopped_by_paper_end": True, "offline": True},
    PrinterFault.COVER_OPEN: {"cover_open": True, "offline": True},
    PrinterFault.OFFLINE: {"offline": True},
    PrinterFault.CUTTER_ERROR: {"cutter_error": True, "error": True, "offline": True},
    PrinterFault.UNRECOVERABLE: {"unrecoverable": True, "error": True, "offline": True},
}


class PrinterSimulator:
    def __init__(
        self,
        out_dir: Path | str | None = None,
        *,
        encoding: str = "gb18030",
        paper: str = "80",
        baudrate: int | None = None,
        slow_bytes_per_s: float = 200.0,
        drop_after_bytes: int = 64,
        render_png: bool = True,
    ) -> None:
        self.out_dir = Path(out_dir) if out_dir is not None else None
        self.encoding = encoding
        self.paper = paper
        self.baudrate = baudrate
        self.slow_bytes_per_s = slow_bytes_per_s
        self.drop_after_bytes = drop_after_bytes
        self.render_png = render_png
        self.received = bytearray()
        self.jobs: list[SimJob] = []
        self.status_queries = 0
        self._faults = _Faults()
        self._buf = bytearray()
        self._job = bytearray()
        self._job_ok = True  # stays False once the printer could not print during the job
        self._job_reason = ""
        self._job_bytes = 0
        self._lock = threading.RLock()
        self._changed = threading.Condition(self._lock)
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._server: socket.socket | None = None
        self._conn: socket.socket | None = None
        self._pty: tuple[int, int] | None = None
        self._link: Path | None = None
        self.url = ""
        if self.out_dir is not None:
            self.out_dir.mkdir(parents=True, exist_ok=True)

    # ------------------------------------------------------------ faults

    def set_fault(self, fault: PrinterFault | str, on: bool = True) -> None:
        """Set (or with ``on=False`` clear) a fault: a ``PrinterFault`` or its value, as
        typed to ``govhall sim printer``."""
        try:
            kind = PrinterFault(fault)
        except ValueError:
            known = ", ".join(PrinterFault)
            raise ValueError(f"unknown printer fault {fault!r}; known: {known}") from None
        with self._lock:
            f = self._faults
            if kind in _FLAG_FAULTS:
                f.active = (f.active | {kind}) if on else (f.active - {kind})
                # Flags are re-derived so clearing one fault keeps what another one set.
                f.flags = StatusFlags()
                for n in f.active:
                    f.flags = replace(f.flags, **_FLAG_FAULTS[n])
            elif kind is PrinterFault.NOT_THERE:
                f.not_there = on
            elif kind is PrinterFault.SLOW:
                f.slow = on
            else:
                f.drop = on
                self._job_bytes = 0
                f.unplugged = f.unplugged and on

    def clear_faults(self) -> None:
        with self._lock:
            self._faults = _Faults()

    @property
    def flags(self) -> StatusFlags:
        return self._faults.flags

    # ------------------------------------------------------------ results

    @property
    def printed(self) -> list[SimJob]:
        return [j for j in self.jobs if j.printed]

    def wait_for_jobs(self, count: int, timeout: float = 5.0) -> list[SimJob]:
        deadline = time.monotonic() + timeout
        with self._changed:
            while len(self.jobs) < count and time.monotonic() < deadline:
                self._changed.wait(deadline - time.monotonic())
            return list(self.jobs)

    # ------------------------------------------------------------ the printer itself

    def feed(self, data: bytes) -> bytes:
        """Process bytes as they arrive; returns what the printer sends back."""
        replies = bytearray()
        with self._lock:
            self.received += data
            self._buf += data
            pos = 0
            while True:
                tok = next_token(self._buf, pos)
                if tok is None:
                    break
                chunk = bytes(self._buf[tok.start : tok.end])
                pos = tok.end
                if tok.kind == "DLE" and tok.cmd == 0x04:
                    self.status_queries += 1
                    if not self._faults.not_there:
                        replies.append(encode_status(self._faults.flags).get(chunk[2], 0x12))
                    continue
                if tok.kind == "DLE":
                    continue  # other real-time commands do not enter the print buffer
                self._job += chunk
                if state_of(self._faults.flags) not in PRINTABLE_STATES and self._job_ok:
                    self._job_ok = False
                    self._job_reason = state_of(self._faults.flags).value
                if tok.kind == "GS" and tok.cmd == ord("V"):
                    self._finish_job(printed=self._job_ok, reason=self._job_reason)
            del self._buf[:pos]
        return bytes(replies)

    def _finish_job(self, printed: bool, reason: str) -> None:
        job = SimJob(len(self.jobs) + 1, bytes(self._job), printed, reason, encoding=self.encoding)
        self._job = bytearray()
        self._job_ok, self._job_reason = True, ""
        if self.out_dir is not None:
            suffix = "" if printed else "-not-printed-" + reason.replace(" ", "_")
            stem = f"ticket-{job.index:04d}{suffix}"
            job.text_path = self.out_dir / f"{stem}.txt"
            job.text_path.write_text(job.text + "\n", encoding="utf-8")
            (self.out_dir / f"{stem}.bin").write_bytes(job.data)
            if self.render_png:
                from devices.printer.image import render_elements  # Pillow only when needed

                job.png_path = self.out_dir / f"{stem}.png"
                render_elements(decode(job.data, self.encoding).elements, self.paper).save(
                    job.png_path
                )
        self.jobs.append(job)
        self._changed.notify_all()

    def _link_lost(self) -> None:
        with self._lock:
            if self._job:
                self._finish_job(printed=False, reason="link dropped")
            self._buf = bytearray()

    def _pace(self, n: int, clock: list[float]) -> None:
        """Hold bytes back as long as the wire would have taken to carry them."""
        rate = None
        if self._faults.slow:
            rate = self.slow_bytes_per_s
        elif self.baudrate:
            rate = self.baudrate / 10
        if not rate:
            return
        clock[0] = max(clock[0], time.monotonic()) + n / rate
        delay = clock[0] - time.monotonic()
        if delay > 0:
            time.sleep(delay)

    def _take(self, data: bytes) -> tuple[bytes, bool]:
        """Apply the drop fault: the part of ``data`` that gets through, and whether the
        link drops after it."""
        with self._lock:
            if not self._faults.drop:
                return data, False
            room = self.drop_after_bytes - self._job_bytes
            if len(data) < room:
                self._job_bytes += len(data)
                return data, False
            self._faults.drop = False
            self._job_bytes = 0
            return data[: max(room, 0)], True

    # ------------------------------------------------------------ TCP

    def start_tcp(self, host: str = "127.0.0.1", port: int = 0) -> str:
        srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        srv.bind((host, port))
        srv.listen(4)
        srv.settimeout(0.2)
        self._server = srv
        self.url = f"tcp://{host}:{srv.getsockname()[1]}"
        self._spawn(self._serve_tcp)
        return self.url

    def _serve_tcp(self) -> None:
        assert self._server is not None
        while not self._stop.is_set():
            try:
                conn, _ = self._server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            # Like a real 9100 port: one client at a time, the newest one wins.
            if self._conn is not None:
                with contextlib.suppress(OSError):
                    self._conn.close()
            self._conn = conn
            self._spawn(self._serve_conn, conn)

    def _serve_conn(self, conn: socket.socket) -> None:
        conn.settimeout(0.2)
        clock = [0.0]
        try:
            while not self._stop.is_set():
                try:
                    data = conn.recv(4096)
                except TimeoutError:
                    continue
                if not data:
                    break
                data, drop = self._take(data)
                self._pace(len(data), clock)
                reply = self.feed(data)
                if drop:
                    break
                if reply:
                    conn.sendall(reply)
        except OSError:
            pass
        finally:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
            conn.close()
            self._link_lost()

    # ------------------------------------------------------------ pty (serial)

    def start_pty(self, link: str | Path | None = None) -> str:
        """A pseudo-terminal serial port; ``link`` makes a stable path to it."""
        master, slave = os.openpty()
        tty.setraw(slave)  # no echo, no line discipline: a plain byte pipe like a UART
        self._pty = (master, slave)
        path = os.ttyname(slave)
        if link is not None:
            link = Path(link)
            with contextlib.suppress(FileNotFoundError):
                link.unlink()
            link.symlink_to(path)
            self._link = link
            path = str(link)
        self.url = f"serial://{path}?baudrate={self.baudrate or 115200}"
        self._spawn(self._serve_pty, master)
        return self.url

    def _serve_pty(self, master: int) -> None:
        clock = [0.0]
        while not self._stop.is_set():
            ready, _, _ = select.select([master], [], [], 0.2)
            if not ready:
                continue
            try:
                data = os.read(master, 4096)
            except OSError:
                time.sleep(0.05)  # no one has the port open: keep waiting like a printer
                continue
            if self._faults.unplugged:
                continue
            data, drop = self._take(data)
            self._pace(len(data), clock)
            reply = self.feed(data)
            if drop:
                # A serial cable cannot "close": the printer just stops hearing and answering.
                self._faults.unplugged = True
                self._link_lost()
                continue
            if reply:
                os.write(master, reply)

    # ------------------------------------------------------------ lifecycle

    def _spawn(self, target: Callable[..., object], *args: object) -> None:
        th = threading.Thread(target=target, args=args, daemon=True)
        th.start()
        self._threads.append(th)

    def stop(self) -> None:
        self._stop.set()
        for s in (self._server, self._conn):
            if s is not None:
                with contextlib.suppress(OSError):
                    s.close()
        for th in self._threads:
            th.join(timeout=2)
        if self._pty is not None:
            for fd in self._pty:
                with contextlib.suppress(OSError):
                    os.close(fd)
            self._pty = None
        if self._link is not None:
            with contextlib.suppress(OSError):
                self._link.unlink()  # a stale link would point at someone else's pty
            self._link = None

    def __enter__(self) -> PrinterSimulator:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

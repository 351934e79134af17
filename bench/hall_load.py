"""Hall server under load over loopback (issue 2's benchmark).

20 kiosks issue tickets at a fixed total rate (open loop, so latency is not hidden by
back-pressure), 30 counters call and finish, 20 SSE subscribers follow the event stream,
for --seconds. Prints issue throughput and latency percentiles (overall and the p99 of
each 5-s window: a server that falls behind shows it there first), call → event latency
at every subscriber, CPU and peak memory of the server's processes (the front and the
writer it forks; ``--writer thread`` measures the one-process server for comparison).

    .venv/bin/python bench/hall_load.py [--seconds 60] [--rate 300] [--database URL]
        [--writer process|thread]

The load generator is plain asyncio with hand-written HTTP/1.1 keep-alive requests: on a
2-core machine a heavier client would steal the CPU the server is being measured on.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import random
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from govhall.personal import id_check_char  # noqa: E402
from tests.support.hall_server import TOKENS, HallProcess, free_port, write_config  # noqa: E402

SERVICES = ["A", "B", "C", "D", "E", "F", "G", "H", "J"]  # the sample hall's services
NEEDS_ID = {"A", "B", "C", "D", "E", "F"}
COUNTERS = [str(i) for i in range(1, 31)]
# The sample hall has 22 counters; the benchmark's hall has 30.
EXTRA_COUNTERS = "".join(
    f'\n[[counter]]\nid = "{i}"\nname = "{i}号窗口"\nservices = ["{svc}"]\n'
    for i, svc in zip(range(23, 31), "ABCDEFGH", strict=True)
)


def id_number(n: int) -> str:
    """A valid (GB 11643) fictional ID number; a different person for each n."""
    birth = 19500101 + (n % 28) + 100 * (n // 28 % 12) + 10000 * (n // 336 % 50)
    first17 = f"110105{birth}{n % 1000:03d}"
    return first17 + id_check_char(first17)


class Conn:
    """One keep-alive HTTP/1.1 connection."""

    def __init__(self, port: int, token: str) -> None:
        self.port, self.token = port, token
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def request(self, method: str, path: str, body: object = None) -> tuple[int, bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
        data = b"" if body is None else json.dumps(body).encode()
        head = (
            f"{method} {path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {self.token}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(data)}\r\n\r\n"
        )
        self.writer.write(head.encode() + data)
        assert self.reader is not None
        status_line = await self.reader.readline()
        status = int(status_line.split()[1])
        length = 0
        while True:
            line = await self.reader.readline()
            if line in (b"\r\n", b""):
                break
            k, _, v = line.decode().partition(":")
            if k.lower() == "content-length":
                length = int(v)
        payload = await self.reader.readexactly(length) if length else b""
        return status, payload


def server_pids(pid: int) -> list[int]:
    """The server and its child processes (the writer process, ``[server] writer``)."""
    pids = [pid]
    for task in Path(f"/proc/{pid}/task").iterdir():
        pids += [int(c) for c in (task / "children").read_text().split()]
    return pids


def memory_bytes(pid: int) -> tuple[int, int]:
    """(RSS, PSS) from /proc (Linux), so the bench needs no extra package. Pages the
    forked writer shares with the front count in both RSSes, once in the PSS sum."""
    rss = int(_proc_field(f"/proc/{pid}/status", "VmRSS:"))
    pss = int(_proc_field(f"/proc/{pid}/smaps_rollup", "Pss:"))
    return rss * 1024, pss * 1024


def _proc_field(path: str, name: str) -> str:
    for line in Path(path).read_text().splitlines():
        if line.startswith(name):
            return line.split()[1]
    return "0"


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def pct(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(q * len(s)))] if s else float("nan")


async def kiosk(
    port: int,
    rate: float,
    until: float,
    lat: list[tuple[float, float]],
    errors: list[int],
    idx: int,
) -> None:
    c = Conn(port, TOKENS["kiosk"])
    interval = 1.0 / rate
    next_at = time.perf_counter() + interval * (idx / 20)
    n = 0
    while next_at < until:
        await asyncio.sleep(max(0.0, next_at - time.perf_counter()))
        t0 = time.perf_counter()
        service = SERVICES[n % len(SERVICES)]
        body: dict[str, str] = {"service": service}
        if service in NEEDS_ID:
            body["id_number"] = id_number(idx * 100_000 + n)
        status, _ = await c.request("POST", "/api/v1/tickets", body)
        # latency from the scheduled send time: includes any delay we fell behind by
        lat.append((next_at, time.perf_counter() - min(t0, next_at) if status == 201 else 0))
        if status != 201:
            errors.append(status)
        n += 1
        next_at += interval


async def counter(
    port: int, cid: str, until: float, sent: dict[int, float], calls: list[int], pause_s: float
) -> None:
    c = Conn(port, TOKENS["counter"])
    rng = random.Random(cid)
    # Staff do not press in lockstep: random start and think times around the pause.
    await asyncio.sleep(rng.uniform(0, 2 * pause_s))
    while time.perf_counter() < until:
        t0 = time.perf_counter()
        status, body = await c.request("POST", f"/api/v1/counters/{cid}/call-next")
        if status == 200:
            ticket = json.loads(body)
            sent.setdefault(ticket["id"], t0)
            calls.append(ticket["id"])
            await asyncio.sleep(rng.uniform(0.5, 1.5) * pause_s)
            await c.request("POST", f"/api/v1/counters/{cid}/finish")
        await asyncio.sleep(rng.uniform(0.5, 1.5) * pause_s)


async def subscriber(
    port: int,
    until: float,
    arrivals: list[tuple[int, float]],
    ready: asyncio.Event,
    counts: list[int],
) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(
        (
            f"GET /api/v1/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "
            f"{TOKENS['display']}\r\nAccept: text/event-stream\r\n\r\n"
        ).encode()
    )
    await reader.readuntil(b": live")  # subscribed: events from here on reach us
    ready.set()
    received = 0
    buf = b""
    while time.perf_counter() < until + 2:
        try:
            data = await asyncio.wait_for(
                reader.read(65536), timeout=max(0.1, until + 2 - time.perf_counter())
            )
        except TimeoutError:
            break
        if not data:
            break
        now = time.perf_counter()
        buf += data
        # Whole events only; the generator must stay cheap or it steals the server's CPU.
        *events, buf = buf.split(b"\n\n")
        for ev in events:
            if b"event: ticket.called\n" not in ev:
                continue
            payload = ev.split(b"data: ", 1)[1]
            arrivals.append((json.loads(payload)["ticket"]["id"], now))
            received += 1
    counts.append(received)
    writer.close()


async def run(
    port: int,
    seconds: float,
    rate: float,
    pause_s: float,
    n_kiosks: int = 20,
    n_counters: int = 30,
    n_subs: int = 20,
) -> dict[str, object]:
    issue_lat: list[tuple[float, float]] = []
    errors: list[int] = []
    sent: dict[int, float] = {}
    calls: list[int] = []
    arrivals: list[tuple[int, float]] = []
    counts: list[int] = []
    start = time.perf_counter()
    until = start + seconds + 1
    readies = [asyncio.Event() for _ in range(n_subs)]
    subs = [asyncio.create_task(subscriber(port, until, arrivals, r, counts)) for r in readies]
    for r in readies:
        await r.wait()
    await asyncio.sleep(1)
    t0 = time.perf_counter()
    until = t0 + seconds
    kiosks = [
        asyncio.create_task(kiosk(port, rate / n_kiosks, until, issue_lat, errors, i))
        for i in range(n_kiosks)
    ]
    counter_ids = COUNTERS[:n_counters]
    counters = [
        asyncio.create_task(counter(port, cid, until, sent, calls, pause_s)) for cid in counter_ids
    ]
    await asyncio.gather(*kiosks)
    # The issue rate is over the issuing window, up to the last answer: counters go on
    # with their last think time afterwards, which is not the kiosks' time.
    issue_elapsed = time.perf_counter() - t0
    await asyncio.gather(*counters)
    elapsed = time.perf_counter() - t0
    await asyncio.gather(*subs)
    event_lat = [at - sent[tid] for tid, at in arrivals if tid in sent]
    return {
        "t0": t0,
        "issue_lat": issue_lat,
        "errors": errors,
        "elapsed": elapsed,
        "issue_elapsed": issue_elapsed,
        "calls": calls,
        "event_lat": event_lat,
        "counts": counts,
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--rate", type=float, default=300, help="ticket issues per second, total")
    ap.add_argument(
        "--counter-pause",
        type=float,
        default=0.5,
        help="seconds a counter waits after a call and after a finish",
    )
    ap.add_argument("--database", help="SQLAlchemy URL (default: a fresh SQLite file)")
    ap.add_argument("--kiosks", type=int, default=20)
    ap.add_argument("--counters", type=int, default=30, choices=range(31))
    ap.add_argument("--subscribers", type=int, default=20)
    ap.add_argument(
        "--writer",
        choices=("process", "thread"),
        default="process",
        help="where the server runs state changes ([server] writer; process is the default)",
    )
    args = ap.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="govhall-bench-"))
    port = free_port()
    cfg = write_config(tmp / "hall.toml", port, policy={"daily_limit": 1000}, extra=EXTRA_COUNTERS)
    database = args.database or f"sqlite:///{tmp / 'hall.db'}"
    hall = HallProcess(cfg, port, database, args=("--writer", args.writer)).start()
    assert hall.proc is not None
    pids = server_pids(hall.proc.pid)
    # Peaks of the sums over the server's processes, and of each process's RSS.
    peak = {"rss": 0, "pss": 0, **{f"rss{p}": 0 for p in pids}}
    stop = threading.Event()

    def sample() -> None:
        while True:
            try:
                mem = [memory_bytes(p) for p in pids]
            except OSError:
                return
            peak["rss"] = max(peak["rss"], sum(m[0] for m in mem))
            peak["pss"] = max(peak["pss"], sum(m[1] for m in mem))
            for p, m in zip(pids, mem, strict=True):
                peak[f"rss{p}"] = max(peak[f"rss{p}"], m[0])
            if stop.wait(0.2):
                return

    threading.Thread(target=sample, daemon=True).start()
    cpu0_by_pid = [cpu_seconds(p) for p in pids]
    cpu0 = sum(cpu0_by_pid)
    own0 = time.process_time()
    # The instrument must not pause: its latency lists grow to ~50,000 entries and a full
    # collection of them stopped the load generator for 10-30 ms, counted as server latency.
    gc.disable()
    try:
        r = asyncio.run(
            run(
                port,
                args.seconds,
                args.rate,
                args.counter_pause,
                args.kiosks,
                args.counters,
                args.subscribers,
            )
        )
        cpu_by_pid = [cpu_seconds(p) for p in pids]
        cpu = sum(cpu_by_pid) - cpu0
        own = time.process_time() - own0
    finally:
        gc.enable()
        stop.set()
        hall.stop()

    lat = [x * 1000 for _, x in r["issue_lat"]]  # type: ignore[union-attr]
    ev = [x * 1000 for x in r["event_lat"]]  # type: ignore[union-attr]
    ok = len(lat) - len(r["errors"])  # type: ignore[arg-type]
    rate = ok / r["issue_elapsed"]  # type: ignore[operator]
    calls = len(r["calls"])  # type: ignore[arg-type]
    print(
        f"hall load over loopback: {args.seconds:.0f} s, {args.kiosks} kiosks at "
        f"{args.rate:.0f}/s total, {args.counters} counters, {args.subscribers} SSE "
        f"subscribers, database "
        f"{'SQLite (WAL, synchronous=FULL)' if not args.database else args.database}, "
        f"writer {args.writer} ({len(pids)} server process{'es' if len(pids) > 1 else ''})"
    )
    # Open loop: the kiosks send on a fixed schedule over --seconds, so the rate sustained
    # is what was answered over that window; the tail (how long after the window the last
    # answer came) shows whether the server kept up or fell behind.
    sustained = ok / args.seconds
    tail_ms = (r["issue_elapsed"] - args.seconds) * 1000  # type: ignore[operator]
    # Kept up: every ticket asked for was issued and no backlog built up (a server that
    # falls behind ends the window with seconds of queued requests, not one slow answer).
    kept_up = sustained >= 300 and not r["errors"] and tail_ms < 1000
    print(
        f"  ticket issues        {ok} ok, {len(r['errors'])} errors: "  # type: ignore[arg-type]
        f"{sustained:.0f}/s over the {args.seconds:.0f} s window, last answer "
        f"{tail_ms:.0f} ms after it ({rate:.1f}/s including that)   "
        f"(target >= 300/s: {'OK' if kept_up else 'MISSED'})"
    )
    print(
        f"  issue latency        p50 {pct(lat, 0.5):.1f} ms  p90 {pct(lat, 0.9):.1f} ms  "
        f"p99 {pct(lat, 0.99):.1f} ms  max {max(lat, default=0):.1f} ms   "
        f"(target p99 < 50 ms: {'OK' if pct(lat, 0.99) < 50 else 'MISSED'})"
    )
    print(f"  calls                {calls} ({calls / r['elapsed']:.1f}/s)")  # type: ignore[operator]
    print(
        f"  call -> event        {len(ev)} deliveries (expected {calls * args.subscribers}), "
        f"p50 {pct(ev, 0.5):.1f} ms  p99 {pct(ev, 0.99):.1f} ms  max {max(ev, default=0):.1f} ms"
        f"   (target p99 < 100 ms: {'OK' if pct(ev, 0.99) < 100 else 'MISSED'})"
    )
    requests_done = ok + 2 * calls
    print(
        f"  server CPU           {cpu:.1f} s for {requests_done} requests = "
        f"{1000 * cpu / max(1, requests_done):.2f} ms per request (all threads; "
        f"machine load average {os.getloadavg()[0]:.1f})"
    )
    print(f"  load generator CPU   {own:.1f} s (shares the same 2 cores)")
    # Judged on the PSS sum: the forked writer shares start-up's pages with the front, and
    # a sum of RSSes counts each shared page twice (one process: PSS and RSS agree).
    rss_each = " + ".join(f"{peak[f'rss{p}'] / 2**20:.0f}" for p in pids)
    print(
        f"  server peak memory   PSS {peak['pss'] / 2**20:.0f} MB, RSS {peak['rss'] / 2**20:.0f} MB"
        + (f" (front + writer {rss_each} MB, shared pages in both)" if len(pids) > 1 else "")
        + f"   (target < 200 MB: {'OK' if peak['pss'] < 200 * 2**20 else 'MISSED'})"
    )
    if len(pids) > 1:
        print(
            "  CPU by process       "
            + ", ".join(f"{c - c0:.1f} s" for c, c0 in zip(cpu_by_pid, cpu0_by_pid, strict=True))
            + " (front, writer)"
        )
    # A steady server has no bad stretch: the p99 of every 5-s window of the run.
    windows: dict[int, list[float]] = {}
    for at, x in r["issue_lat"]:  # type: ignore[union-attr]
        windows.setdefault(int((at - r["t0"]) // 5), []).append(x * 1000)  # type: ignore[operator]
    p99s = [pct(windows[k], 0.99) for k in sorted(windows)]
    print(
        f"  issue p99 per 5 s    worst {max(p99s, default=0):.1f} ms: "
        + " ".join(f"{x:.0f}" for x in p99s)
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Hall server under load over loopback (issue 15's targets; one server process).

Two runs, each against a fresh ``govhall hall`` (tests/support/hall_server.py) with a
fresh random ``[hall].id``:

open loop (--duration, default 60 s)
    kiosks issue --rate tickets/s (default 50) on a fixed schedule, spread over the
    services in proportion to the counters serving them (ID numbers where the service
    requires one); --counters counters (default 30) call-next / finish with a random
    think time around --think (default counters / rate / 4 = 0.15 s, so they keep up
    while answers are quick); --subscribers SSE subscribers (default 50, display token)
    follow ``GET /api/v1/events``. Prints issue latency p50/p99/max (from the scheduled
    send time, so a server that falls behind is not hidden by back-pressure), call →
    event latency at every subscriber (from sending call-next to that ticket's
    ``ticket.called`` arriving), the p99 of every 5-s window, the server's peak RSS and
    CPU, and the load generator's CPU. Targets: issue p99 < 50 ms, call → event
    p99 < 100 ms, RSS < 150 MB.

closed loop (--closed-duration, default 30 s)
    --closed-clients keep-alive clients (default 20) issue back to back. Prints
    tickets/s and p99, and tickets/s as a multiple of 112/s, a peer queue server's
    figure in this setup (p99 260 ms there). Target: at least 3x.

    .venv/bin/python bench/hall_load.py [--duration 60] [--rate 50] [--counters 30]
        [--subscribers 50] [--closed-clients 20] [--closed-duration 30]
        [--only open|closed] [--database URL] [--think S]

Default: both runs on a fresh SQLite file (WAL, synchronous=FULL). ``--database URL``
runs them on that database instead (e.g. PostgreSQL,
``postgresql+psycopg://user:pw@127.0.0.1/govhall_bench``): each run uses a hall id of its
own, so an existing database is fine as long as its schema is this version's (the server
migrates it at start) — but the rows are left behind: use a scratch database, never a
hall's. Loopback only; every loop stops by itself (requests time out after 10 s).

The generator is threads with ``requests`` sessions (keep-alive, no proxy lookup), which
is cheap enough at these rates; its CPU is printed because on a 2-core machine it shares
the cores with the server, as does whatever else runs there (also printed).
Exit status 0 when every target is met, 1 otherwise.
"""

from __future__ import annotations

import argparse
import gc
import json
import math
import os
import random
import re
import sys
import tempfile
import threading
import time
import tomllib
import uuid
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from common.personal import id_check_char  # noqa: E402
from tests.support.hall_server import (  # noqa: E402
    TOKENS,
    HallProcess,
    free_port,
    write_config,
)

PEER_TICKETS_S = 112.0  # a peer queue server, closed loop, this setup (p99 260 ms)
PEER_P99_MS = 260.0
TIMEOUT_S = 10.0  # any one request; a hung server ends the run instead of hanging it
IDLE_RETRY_S = 1.0  # a counter's mean pause after "nobody waiting" (plus its think time)
PEOPLE = 84_000  # distinct fictional ID numbers (id_number)
WINDOW_S = 5.0
# The sample hall has 22 counters; the benchmark's hall has 30.
EXTRA_COUNTERS = "".join(
    f'\n[[counter]]\nid = "{i}"\nname = "{i}号窗口"\nservices = ["{svc}"]\n'
    for i, svc in zip(range(23, 31), "ABCDEFGH", strict=True)
)
SSE_CALLED = re.compile(rb"event: ticket\.called\ndata: ([^\n]*)")


# -- helpers -------------------------------------------------------------------------------


def id_number(n: int) -> str:
    """A valid (GB 11643) fictional ID number; a different person for each n < 84,000."""
    birth = 19500101 + (n % 28) + 100 * (n // 28 % 12) + 10000 * (n // 336 % 50)
    first17 = f"110105{birth}{n % 1000:03d}"
    return first17 + id_check_char(first17)


def pct(values: Iterable[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(q * len(s)))] if s else float("nan")


def session(token: str) -> requests.Session:
    s = requests.Session()
    s.trust_env = False  # loopback: no proxy or netrc lookups, and less client CPU
    s.headers.update({"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    return s


def ms(x: float) -> str:
    return f"{x:.1f} ms"


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def _proc_kib(pid: int, name: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(name):
            return int(line.split()[1])
    return 0


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (all its threads), from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def machine_busy_seconds() -> float:
    """CPU time spent by everything on the machine (all cores), from /proc/stat."""
    ticks = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = ticks[3] + ticks[4]  # idle + iowait
    return (sum(ticks[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def cpu_by_name(name: str) -> dict[int, float]:
    """CPU seconds of every process called ``name`` (e.g. a local PostgreSQL's backends)."""
    out: dict[int, float] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:  # ended meanwhile
            continue
        if text[text.index("(") + 1 : text.rindex(")")] == name:
            fields = text.rsplit(")", 1)[1].split()
            out[int(stat.parent.name)] = (int(fields[11]) + int(fields[12])) / os.sysconf(
                "SC_CLK_TCK"
            )
    return out


def children(pid: int) -> list[int]:
    out: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        out += [int(c) for c in (task / "children").read_text().split()]
    return out


class Meter:
    """Server CPU and peak RSS (sampled every 0.1 s), the generator's and the machine's CPU
    over one measured stretch."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.peak_rss = 0
        self.start_rss = _proc_kib(pid, "VmRSS:") * 1024
        self.extra_pids: set[int] = set()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while True:
            try:
                rss = _proc_kib(self.pid, "VmRSS:") * 1024
                self.extra_pids.update(children(self.pid))
            except OSError:
                return
            self.peak_rss = max(self.peak_rss, rss)
            if self._stop.wait(0.1):
                return

    def __enter__(self) -> Meter:
        self.cpu0 = cpu_seconds(self.pid)
        self.own0 = time.process_time()
        self.busy0 = machine_busy_seconds()
        self.wall0 = time.perf_counter()
        self.pg0 = cpu_by_name("postgres")
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.cpu = cpu_seconds(self.pid) - self.cpu0
        self.own = time.process_time() - self.own0
        self.busy = machine_busy_seconds() - self.busy0
        self.wall = time.perf_counter() - self.wall0
        # Backends that ended meanwhile are lost; ones started meanwhile count in full.
        self.pg = sum(c - self.pg0.get(p, 0.0) for p, c in cpu_by_name("postgres").items())
        self._stop.set()
        self._thread.join()

    def lines(self, requests_done: int) -> list[str]:
        others = max(0.0, self.busy - self.cpu - self.own)
        out = [
            f"  server CPU           {self.cpu:.1f} s in {self.wall:.0f} s "
            f"({100 * self.cpu / self.wall:.0f}% of one core), "
            f"{1000 * self.cpu / max(1, requests_done):.2f} ms per request "
            f"({requests_done} requests)",
            f"  load generator CPU   {self.own:.1f} s ({100 * self.own / self.wall:.0f}% of one "
            f"core); everything else on the machine {others:.1f} s "
            f"({100 * others / self.wall:.0f}% of one core; {os.cpu_count()} cores)"
            + (f", of which postgres processes {self.pg:.1f} s" if self.pg > 0.05 else ""),
        ]
        if self.extra_pids:
            out.append(
                f"  ODD                  the server has child processes {sorted(self.extra_pids)}"
                " (expected one process; their memory and CPU are not counted)"
            )
        return out


# -- the hall ------------------------------------------------------------------------------


@dataclass
class Hall:
    proc: HallProcess
    hall_id: str
    services: list[str]
    needs_id: set[str]
    weights: list[float]
    """Tickets per service in proportion to the counters serving it (a counter serving k
    services counts 1/k for each), so every queue is drained."""
    counters: list[str]
    sync: str
    """SQLite's synchronous setting in the config written"""

    @property
    def url(self) -> str:
        return self.proc.url

    @property
    def pid(self) -> int:
        assert self.proc.proc is not None
        return self.proc.proc.pid


def start_hall(tmp: Path, database: str | None, tag: str) -> Hall:
    """A fresh server: fresh random hall id (so a reused database is harmless), SQLite
    file of its own unless ``database``."""
    port = free_port()
    cfg = write_config(
        tmp / f"{tag}.toml", port, policy={"daily_limit": 1000}, extra=EXTRA_COUNTERS
    )
    hall_id = f"bench-{uuid.uuid4().hex[:10]}"
    text = cfg.read_text(encoding="utf-8")
    head, sep, rest = text.partition("\n[server]")
    head, n = re.subn(r'(?m)^id = "[^"]*"$', f'id = "{hall_id}"', head, count=1)
    cfg.write_text(head + sep + rest, encoding="utf-8")
    raw = tomllib.loads(cfg.read_text(encoding="utf-8"))
    if n != 1 or raw["hall"]["id"] != hall_id:
        raise RuntimeError("could not set [hall].id in the sample config (format changed?)")
    proc = HallProcess(cfg, port, database or f"sqlite:///{tmp / f'{tag}.db'}").start()
    try:
        r = session(TOKENS["display"]).get(proc.url + "/api/v1/services", timeout=TIMEOUT_S)
        r.raise_for_status()
        services = [s["code"] for s in r.json() if s["open"]]
        needs_id = {s["code"] for s in r.json() if s["requires_id"]}
    except BaseException:
        proc.stop()
        raise
    share: dict[str, float] = dict.fromkeys(services, 0.0)
    for c in raw["counter"]:
        served = [s for s in c["services"] if s in share]
        for s in served:
            share[s] += 1 / len(served)
    return Hall(
        proc,
        hall_id,
        services,
        needs_id,
        [share[s] for s in services],
        [str(c["id"]) for c in raw["counter"]],
        str(raw.get("server", {}).get("sqlite_synchronous", "FULL")).upper(),
    )


def ticket_body(hall: Hall, rng: random.Random, person: int, weighted: bool) -> bytes:
    service = rng.choices(hall.services, hall.weights)[0] if weighted else rng.choice(hall.services)
    body = {"service": service}
    if service in hall.needs_id:
        body["id_number"] = id_number(person)
    return json.dumps(body).encode()


def post(s: requests.Session, url: str, data: bytes | None = None) -> requests.Response | str:
    """The response, or the exception's text (a connection error, a timeout)."""
    try:
        return s.post(url, data=data, timeout=TIMEOUT_S)
    except requests.RequestException as err:
        return f"{type(err).__name__}: {err}"[:200]


@dataclass
class Errors:
    """Non-2xx answers and failed requests, by kind, with a few samples."""

    counts: Counter[str] = field(default_factory=Counter)
    samples: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, what: str, r: requests.Response | str) -> None:
        if isinstance(r, str):
            key, sample = f"{what}: exception", r
        else:
            key, sample = f"{what}: HTTP {r.status_code}", f"{r.status_code} {r.text[:200]}"
        with self.lock:
            self.counts[key] += 1
            if len(self.samples) < 8:
                self.samples.append(f"{what}: {sample}")

    def lines(self) -> list[str]:
        if not self.counts:
            return ["  errors               none"]
        out = ["  errors               " + ", ".join(f"{k} x{n}" for k, n in self.counts.items())]
        out += [f"    e.g. {s}" for s in self.samples]
        return out


def windows(points: Iterable[tuple[float, float]], t0: float) -> list[float]:
    """p99 of every WINDOW_S window; points are (when, value)."""
    by: dict[int, list[float]] = {}
    for at, x in points:
        by.setdefault(int((at - t0) // WINDOW_S), []).append(x)
    return [pct(by[k], 0.99) if k in by else float("nan") for k in range(max(by, default=-1) + 1)]


def window_line(label: str, p99s: list[float]) -> str:
    worst = max((x for x in p99s if x == x), default=float("nan"))
    return f"  {label:<20} worst {worst:.0f} ms: " + " ".join(f"{x:.0f}" for x in p99s)


# -- open loop -----------------------------------------------------------------------------


@dataclass
class OpenLoop:
    hall: Hall
    duration: float
    rate: float
    n_counters: int
    n_subscribers: int
    think: float
    errors: Errors = field(default_factory=Errors)
    issues: list[tuple[float, float, float]] = field(default_factory=list)
    """(scheduled, latency from schedule, latency from send), successful issues."""
    called: dict[int, tuple[float, float]] = field(default_factory=dict)
    """ticket id → when its call-next was sent, when the answer came"""
    finished: list[str] = field(default_factory=list)
    """a counter id for every finish (lists, not ints: ``n += 1`` in threads can lose one)"""
    idle: list[str] = field(default_factory=list)
    """a counter id for every call-next that found nobody waiting"""
    arrivals: list[list[tuple[int, float]]] = field(default_factory=list)
    sub_broken: list[str] = field(default_factory=list)
    stop_reading_at: float = float("inf")

    @property
    def n_issuers(self) -> int:
        """Kiosk threads sharing the rate, one request in flight each: about one request a
        second each, so the schedule holds (the loop stays open) while answers take < 1 s."""
        return min(100, max(10, math.ceil(self.rate)))

    def issuer(self, idx: int, t0: float, until: float) -> None:
        s = session(TOKENS["kiosk"])
        rng = random.Random(f"issuer-{idx}")
        interval = self.n_issuers / self.rate
        at = t0 + interval * idx / self.n_issuers
        people = PEOPLE // self.n_issuers
        n = 0
        url = self.hall.url + "/api/v1/tickets"
        while at < until:
            delay = at - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            data = ticket_body(self.hall, rng, idx * people + n % people, weighted=True)
            sent = time.perf_counter()
            r = post(s, url, data)
            done = time.perf_counter()
            if isinstance(r, requests.Response) and r.status_code == 201:
                self.issues.append((at, done - at, done - sent))
            else:
                self.errors.add("issue", r)
            n += 1
            at += interval

    def counter(self, cid: str, until: float) -> None:
        s = session(TOKENS["counter"])
        rng = random.Random(f"counter-{cid}")
        base = f"{self.hall.url}/api/v1/counters/{cid}"

        def think() -> None:
            # Staff do not press in lockstep: random think times around the mean.
            time.sleep(rng.uniform(0.5, 1.5) * self.think)

        time.sleep(rng.uniform(0, 2 * self.think))
        while time.perf_counter() < until:
            sent = time.perf_counter()
            r = post(s, base + "/call-next")
            if isinstance(r, requests.Response) and r.status_code == 200:
                self.called[r.json()["id"]] = (sent, time.perf_counter())
                think()
                r = post(s, base + "/finish")
                if isinstance(r, requests.Response) and r.status_code == 200:
                    self.finished.append(cid)
                else:
                    self.errors.add("finish", r)
            elif isinstance(r, requests.Response) and r.status_code == 204:
                # Nobody waiting: staff try again in a second or so, not at once (each
                # call-next is a write, and a tight poll would be load no hall makes).
                self.idle.append(cid)
                time.sleep(rng.uniform(0.5, 1.5) * IDLE_RETRY_S)
            else:
                self.errors.add("call-next", r)
            think()

    def subscriber(self, idx: int, ready: threading.Event) -> None:
        mine: list[tuple[int, float]] = []
        self.arrivals.append(mine)
        s = session(TOKENS["display"])
        try:
            with s.get(
                self.hall.url + "/api/v1/events",
                stream=True,
                timeout=(TIMEOUT_S, 5.0),
                headers={"Accept": "text/event-stream"},
            ) as r:
                if r.status_code != 200:
                    self.errors.add("events", r)
                    return
                buf = b""
                # Each chunk the server writes is whole events (it never splits one).
                for data in r.iter_content(chunk_size=None):
                    now = time.perf_counter()
                    buf += data
                    if not ready.is_set():
                        if b": live" not in buf:
                            continue
                        ready.set()  # subscribed: every event from here on reaches us
                    *events, buf = buf.split(b"\n\n")
                    for ev in events:
                        m = SSE_CALLED.search(ev)
                        if m:
                            mine.append((json.loads(m.group(1))["ticket"]["id"], now))
                    if now > self.stop_reading_at:
                        return
        except requests.RequestException as err:
            if time.perf_counter() < self.stop_reading_at:
                self.sub_broken.append(f"subscriber {idx}: {type(err).__name__}: {err}"[:200])
        finally:
            ready.set()

    def run(self) -> dict[str, object]:
        readies = [threading.Event() for _ in range(self.n_subscribers)]
        subs = [
            threading.Thread(target=self.subscriber, args=(i, e), daemon=True)
            for i, e in enumerate(readies)
        ]
        for t in subs:
            t.start()
        for e in readies:
            e.wait(TIMEOUT_S)
        time.sleep(0.5)
        t0 = time.perf_counter() + 0.2
        until = t0 + self.duration
        issuers = [
            threading.Thread(target=self.issuer, args=(i, t0, until), daemon=True)
            for i in range(self.n_issuers)
        ]
        counters = [
            threading.Thread(target=self.counter, args=(c, until), daemon=True)
            for c in self.hall.counters[: self.n_counters]
        ]
        for t in issuers + counters:
            t.start()
        for t in issuers:
            t.join()
        issue_end = time.perf_counter()
        for t in counters:
            t.join()
        # Give the last calls' events a second to arrive, then wake every subscriber with
        # one more event so it sees the time is up.
        time.sleep(1.0)
        self.stop_reading_at = time.perf_counter()
        last = ticket_body(self.hall, random.Random(0), 83_999, weighted=False)
        post(session(TOKENS["kiosk"]), self.hall.url + "/api/v1/tickets", last)
        for t in subs:
            t.join(TIMEOUT_S)
        stuck = sum(t.is_alive() for t in subs)
        r = session(TOKENS["display"]).get(self.hall.url + "/api/v1/services", timeout=TIMEOUT_S)
        waiting = {s["code"]: s["waiting"] for s in r.json()} if r.status_code == 200 else {}
        return {"t0": t0, "issue_end": issue_end, "stuck": stuck, "waiting": waiting}

    def report(self, meter: Meter, info: dict[str, object]) -> list[tuple[str, bool]]:
        t0 = float(info["t0"])  # type: ignore[arg-type]
        tail = (float(info["issue_end"]) - t0 - self.duration) * 1000  # type: ignore[arg-type]
        lat = [x * 1000 for _, x, _ in self.issues]
        from_send = [x * 1000 for _, _, x in self.issues]
        expected = len(self.issues) + sum(
            n for k, n in self.errors.counts.items() if k.startswith("issue")
        )
        ev: list[tuple[float, float]] = []  # (call sent, latency)
        after_answer: list[float] = []
        for mine in self.arrivals:
            for tid, at in mine:
                call = self.called.get(tid)
                if call is not None:
                    ev.append((call[0], (at - call[0]) * 1000))
                    after_answer.append((at - call[1]) * 1000)
        ev_ms = [x for _, x in ev]
        call_ms = [(b - a) * 1000 for a, b in self.called.values()]
        calls = len(self.called)
        waiting: dict[str, int] = info["waiting"]  # type: ignore[assignment]
        issue_p99, ev_p99 = pct(lat, 0.99), pct(ev_ms, 0.99)
        rss_mb = meter.peak_rss / 2**20
        print(
            f"  ticket issues        {len(lat)} ok of {expected} sent "
            f"({len(lat) / self.duration:.1f}/s over {self.duration:.0f} s); "
            f"last answer {tail:.0f} ms after the window"
        )
        print(
            f"  issue latency        p50 {ms(pct(lat, 0.5))}  p90 {ms(pct(lat, 0.9))}  "
            f"p99 {ms(issue_p99)}  max {ms(max(lat, default=float('nan')))}   "
            f"(from the actual send: p99 {ms(pct(from_send, 0.99))})"
        )
        print(
            window_line(
                "issue p99 per 5 s", windows(((a, x * 1000) for a, x, _ in self.issues), t0)
            )
        )
        print(
            f"  counters             {calls} calls ({calls / self.duration:.1f}/s), "
            f"{len(self.finished)} finishes, {len(self.idle)} call-next with nobody waiting; "
            f"waiting at the end: {sum(waiting.values())} "
            + " ".join(f"{k}={v}" for k, v in waiting.items() if v)
        )
        missing = calls * self.n_subscribers - len(ev_ms)
        print(
            f"  call -> event        {len(ev_ms)} deliveries to {self.n_subscribers} "
            f"subscribers ({missing} missing of {calls * self.n_subscribers}); "
            f"p50 {ms(pct(ev_ms, 0.5))}  p99 {ms(ev_p99)}  "
            f"max {ms(max(ev_ms, default=float('nan')))}"
        )
        print(
            f"    of which           call-next answer p50 {ms(pct(call_ms, 0.5))}  "
            f"p99 {ms(pct(call_ms, 0.99))}; answer -> event p50 {ms(pct(after_answer, 0.5))}  "
            f"p99 {ms(pct(after_answer, 0.99))} (negative: the event came first)"
        )
        print(window_line("call->event p99/5 s", windows(ev, t0)))
        print(
            f"  server RSS           peak {rss_mb:.0f} MB "
            f"(at start {meter.start_rss / 2**20:.0f} MB)"
        )
        for line in meter.lines(len(lat) + calls + len(self.finished) + len(self.idle)):
            print(line)
        for line in self.errors.lines():
            print(line)
        for b in self.sub_broken[:5]:
            print(f"  ODD                  stream broke: {b}")
        if info["stuck"]:
            print(f"  ODD                  {info['stuck']} subscribers did not stop")
        no_errors = not self.errors.counts and not self.sub_broken and expected > 0
        return [
            (f"issue p99 {issue_p99:.1f} ms < 50 ms", issue_p99 < 50),
            (f"call -> event p99 {ev_p99:.1f} ms < 100 ms", ev_p99 < 100),
            (f"server RSS {rss_mb:.0f} MB < 150 MB", rss_mb < 150),
            (
                f"no errors, every delivery made ({missing} missing), kept the schedule "
                f"(last answer {tail:.0f} ms after the window < 1000 ms)",
                no_errors and missing == 0 and tail < 1000,
            ),
        ]


# -- closed loop ---------------------------------------------------------------------------


@dataclass
class ClosedLoop:
    hall: Hall
    duration: float
    n_clients: int
    errors: Errors = field(default_factory=Errors)
    issues: list[tuple[float, float]] = field(default_factory=list)
    """(sent, latency), successful issues"""

    def client(self, idx: int, until: float) -> None:
        s = session(TOKENS["kiosk"])
        rng = random.Random(f"closed-{idx}")
        url = self.hall.url + "/api/v1/tickets"
        people = PEOPLE // self.n_clients
        n = 0
        while time.perf_counter() < until:
            data = ticket_body(self.hall, rng, idx * people + n % people, weighted=False)
            sent = time.perf_counter()
            r = post(s, url, data)
            done = time.perf_counter()
            if isinstance(r, requests.Response) and r.status_code == 201:
                self.issues.append((sent, done - sent))
            else:
                self.errors.add("issue", r)
            n += 1

    def run(self) -> dict[str, object]:
        t0 = time.perf_counter()
        until = t0 + self.duration
        threads = [
            threading.Thread(target=self.client, args=(i, until), daemon=True)
            for i in range(self.n_clients)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        return {"t0": t0, "elapsed": time.perf_counter() - t0}

    def report(self, meter: Meter, info: dict[str, object]) -> list[tuple[str, bool]]:
        t0, elapsed = float(info["t0"]), float(info["elapsed"])  # type: ignore[arg-type]
        lat = [x * 1000 for _, x in self.issues]
        tps = len(lat) / elapsed
        ratio = tps / PEER_TICKETS_S
        per_window: dict[int, int] = Counter(int((s - t0) // WINDOW_S) for s, _ in self.issues)
        print(
            f"  ticket issues        {len(lat)} in {elapsed:.1f} s = {tps:.0f}/s "
            f"= {ratio:.2f} x the peer's {PEER_TICKETS_S:.0f}/s"
        )
        print(
            f"  issue latency        p50 {ms(pct(lat, 0.5))}  p99 {ms(pct(lat, 0.99))}  "
            f"max {ms(max(lat, default=float('nan')))}   (peer: p99 {PEER_P99_MS:.0f} ms)"
        )
        print(
            "  tickets/s per 5 s    "
            + " ".join(
                f"{per_window[k] / min(WINDOW_S, elapsed - k * WINDOW_S):.0f}"
                for k in sorted(per_window)
            )
        )
        print(
            window_line("issue p99 per 5 s", windows(((s, x * 1000) for s, x in self.issues), t0))
        )
        print(f"  server RSS           peak {meter.peak_rss / 2**20:.0f} MB")
        for line in meter.lines(len(lat)):
            print(line)
        for line in self.errors.lines():
            print(line)
        return [
            (f"tickets/s {tps:.0f} = {ratio:.2f} x 112/s >= 3", ratio >= 3),
            ("every request answered", not self.errors.counts and len(lat) > 0),
        ]


# -- main ----------------------------------------------------------------------------------


def measured(hall: Hall, run: Callable[[], dict[str, object]]) -> tuple[Meter, dict[str, object]]:
    """Run one load with the collector off: its latency lists reach tens of thousands of
    entries, and a full collection would stop the generator and count as server latency."""
    gc.collect()
    gc.disable()
    try:
        with Meter(hall.pid) as meter:
            info = run()
    finally:
        gc.enable()
    return meter, info


def main() -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--duration", type=float, default=60, help="open loop, seconds")
    ap.add_argument("--rate", type=float, default=50, help="open loop: ticket issues per second")
    ap.add_argument("--counters", type=int, default=30, choices=range(31), metavar="0-30")
    ap.add_argument("--subscribers", type=int, default=50, help="SSE subscribers")
    ap.add_argument(
        "--think",
        type=float,
        help="a counter's mean pause after a call and after a finish, seconds "
        "(default: counters / rate / 4: with quick answers they could call 2x the issue rate)",
    )
    ap.add_argument("--closed-clients", type=int, default=20)
    ap.add_argument("--closed-duration", type=float, default=30, help="seconds")
    ap.add_argument("--only", choices=("open", "closed"))
    ap.add_argument("--database", metavar="URL", help="SQLAlchemy URL (default: fresh SQLite)")
    args = ap.parse_args()
    think = args.think if args.think is not None else args.counters / args.rate / 4
    db = "SQLite (WAL, synchronous={sync})"
    if args.database:
        from sqlalchemy.engine import make_url

        db = make_url(args.database).render_as_string(hide_password=True)

    tmp = Path(tempfile.mkdtemp(prefix="govhall-bench-"))
    checks: list[tuple[str, bool]] = []
    if args.only in (None, "open"):
        hall = start_hall(tmp, args.database, "open")
        try:
            print(
                f"open loop over loopback: {args.duration:.0f} s, {args.rate:.0f} issues/s, "
                f"{args.counters} counters (think {think:.2f} s), {args.subscribers} SSE "
                f"subscribers; {db.format(sync=hall.sync)}, hall {hall.hall_id}, "
                f"server pid {hall.pid}",
                flush=True,
            )
            ol = OpenLoop(hall, args.duration, args.rate, args.counters, args.subscribers, think)
            meter, info = measured(hall, ol.run)
            checks += [(f"open: {n}", ok) for n, ok in ol.report(meter, info)]
        finally:
            hall.proc.stop()
    if args.only in (None, "closed"):
        hall = start_hall(tmp, args.database, "closed")
        try:
            print(
                f"closed loop over loopback: {args.closed_duration:.0f} s, "
                f"{args.closed_clients} keep-alive clients issuing back to back; "
                f"{db.format(sync=hall.sync)}, hall {hall.hall_id}, server pid {hall.pid}",
                flush=True,
            )
            cl = ClosedLoop(hall, args.closed_duration, args.closed_clients)
            meter, info = measured(hall, cl.run)
            checks += [(f"closed: {n}", ok) for n, ok in cl.report(meter, info)]
        finally:
            hall.proc.stop()
    print(f"targets (machine load average {os.getloadavg()[0]:.1f}, server log in {tmp}):")
    for name, ok in checks:
        print(f"  {verdict(ok)}  {name}")
    return 0 if all(ok for _, ok in checks) else 1


if __name__ == "__main__":
    sys.exit(main())

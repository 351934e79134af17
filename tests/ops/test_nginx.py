"""Connection limits (issue "reliability", item 16): the shipped nginx front of the citizens'
pages (deploy/nginx/govhall.conf) run by a real Debian nginx in front of a real
``govhall hall``, and the hall's own limits ([server] max_connections, keep_alive_s,
request_timeout_s) against the hall directly.

What must hold: through nginx over TLS the ticket page, its files, its state and its event
stream work (events arrive as they happen, not when a buffer fills); nothing else of the
hall is reachable (the API and the staff pages answer 404); a client that sends its
headers slowly, or nothing, is closed within the header timeout; a burst beyond the rate
limit is answered 429. Against the hall itself: idle and slowloris connections are closed
after request_timeout_s, idle keep-alive ones after keep_alive_s, so more of them than
max_connections hold the hall for seconds, not for ever; event streams run on."""

from __future__ import annotations

import os
import re
import resource
import shutil
import socket
import ssl
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from hall.config import ConfigError, load_config
from tests.support.hall_server import ROOT, TOKENS, HallProcess, free_port, start_hall, write_config

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(180)]
SHIPPED = ROOT / "deploy" / "nginx" / "govhall.conf"
KIOSK = {"Authorization": f"Bearer {TOKENS['kiosk']}"}
HEADER_TIMEOUT_S = 10.0
"""client_header_timeout of the shipped file (checked in ``rendered``)."""


def nginx_binary() -> str:
    """nginx, or a failure that says how to get it: CI installs it (scripts/setup.sh)."""
    found = shutil.which("nginx") or next(
        (p for p in ("/usr/sbin/nginx", "/sbin/nginx") if Path(p).exists()), None
    )
    if found is None:
        pytest.fail(
            "nginx is not installed: `apt-get install nginx` (scripts/setup.sh installs it)",
            pytrace=False,
        )
    return found


def rendered(
    hall_port: int, https_port: int, http_port: int, cert: Path, key: Path, log: Path
) -> str:
    """The shipped file with this test's ports and paths; every replaced piece must be in
    the shipped file as written, so a change there cannot go untested."""
    text = SHIPPED.read_text(encoding="utf-8")
    swaps = {
        "listen 80;\n    listen [::]:80;\n": f"listen 127.0.0.1:{http_port};\n",
        "listen 443 ssl http2;\n    listen [::]:443 ssl http2;\n": (
            f"listen 127.0.0.1:{https_port} ssl http2;\n"
        ),
        "server 127.0.0.1:8700;": f"server 127.0.0.1:{hall_port};",
        "/etc/nginx/ssl/govhall.crt": str(cert),
        "/etc/nginx/ssl/govhall.key": str(key),
        "/var/log/nginx/govhall.access.log": str(log),
    }
    for old, new in swaps.items():
        assert old in text, f"{SHIPPED} no longer has {old!r}"
        text = text.replace(old, new)
    assert f"client_header_timeout {HEADER_TIMEOUT_S:.0f}s;" in text
    return text


def make_certificate(folder: Path) -> tuple[Path, Path]:
    cert, key = folder / "govhall.crt", folder / "govhall.key"
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
            "-keyout", str(key), "-out", str(cert), "-subj", "/CN=localhost",
            "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )  # fmt: skip
    return cert, key


@dataclass
class Front:
    hall: HallProcess
    proc: subprocess.Popen[bytes]
    port: int
    http_port: int
    cert: Path
    error_log: Path
    access_log: Path

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    def get(self, path: str, *, stream: bool = False, redirects: bool = True) -> requests.Response:
        return requests.get(
            self.url + path,
            verify=str(self.cert),
            timeout=10,
            stream=stream,
            allow_redirects=redirects,
        )

    def tls_socket(self) -> ssl.SSLSocket:
        ctx = ssl.create_default_context(cafile=str(self.cert))
        raw = socket.create_connection(("127.0.0.1", self.port), timeout=5)
        return ctx.wrap_socket(raw, server_hostname="localhost")


def start_nginx(folder: Path, hall: HallProcess) -> Front:
    nginx = nginx_binary()
    cert, key = make_certificate(folder)
    https_port, http_port = free_port(), free_port()
    access_log, error_log = folder / "access.log", folder / "error.log"
    site = folder / "govhall.conf"
    site.write_text(
        rendered(hall.port, https_port, http_port, cert, key, access_log), encoding="utf-8"
    )
    temp = "\n".join(
        f"    {kind}_temp_path {folder / kind};"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    main = folder / "nginx.conf"
    main.write_text(
        # root in CI: workers as root too, they write this test's temp directories
        ("user root;\n" if os.geteuid() == 0 else "")
        + "worker_processes 1;\n"
        + "events { worker_connections 1024; }\n"
        + "http {\n"
        + "    include /etc/nginx/mime.types;\n"
        + f"    access_log {access_log};\n"
        + temp
        + f"\n    include {site};\n}}\n",
        encoding="utf-8",
    )
    cmd = [nginx, "-p", str(folder), "-c", str(main), "-e", str(error_log)]
    directives = f"daemon off; pid {folder / 'nginx.pid'}; error_log {error_log} info;"
    check = subprocess.run(
        [*cmd, "-t", "-g", directives], capture_output=True, text=True, timeout=30
    )
    assert check.returncode == 0, f"nginx -t refuses the shipped file: {check.stderr}"
    with (folder / "stderr.log").open("wb") as stderr:
        proc = subprocess.Popen([*cmd, "-g", directives], stderr=stderr)
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"nginx exited: {error_log.read_text()[-2000:]}")
        try:
            socket.create_connection(("127.0.0.1", https_port), timeout=0.5).close()
            break
        except OSError:
            time.sleep(0.05)
    else:
        proc.kill()
        proc.wait(5)
        raise AssertionError("nginx did not listen in time")
    return Front(hall, proc, https_port, http_port, cert, error_log, access_log)


@pytest.fixture(scope="module")
def front(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Front]:
    hall = start_hall(tmp_path_factory.mktemp("hall"))
    try:
        f = start_nginx(tmp_path_factory.mktemp("nginx"), hall)
    except BaseException:
        hall.stop()
        raise
    try:
        yield f
    finally:
        f.proc.terminate()
        try:
            f.proc.wait(10)
        except subprocess.TimeoutExpired:
            f.proc.kill()
            f.proc.wait(5)
        hall.stop()


def issue(hall: HallProcess, service: str = "J") -> dict[str, object]:
    r = requests.post(
        f"{hall.url}/api/v1/tickets", json={"service": service}, headers=KIOSK, timeout=10
    )
    assert r.status_code == 201, r.text
    body: dict[str, object] = r.json()
    return body


def closed_within(sock: socket.socket, seconds: float, drip: bytes = b"") -> float | None:
    """Seconds until the peer closed ``sock`` (None if still open after ``seconds``),
    sending ``drip`` a byte every 0.5 s meanwhile (slowloris)."""
    start = time.monotonic()
    sock.settimeout(0.5)
    sent = 0
    while time.monotonic() - start < seconds:
        try:
            if sent < len(drip):
                sock.sendall(drip[sent : sent + 1])
                sent += 1
            if sock.recv(4096) == b"":
                return time.monotonic() - start
        except (TimeoutError, ssl.SSLWantReadError):
            continue
        except (ConnectionResetError, BrokenPipeError, ssl.SSLEOFError, ssl.SSLZeroReturnError):
            return time.monotonic() - start
    return None


SLOW_HEADERS = (
    b"GET /t/AAAAAAAAAAAAAAAAAAAAAAAA HTTP/1.1\r\nHost: localhost\r\n" + b"X-Slow: " + b"a" * 200
)


# --- through nginx -------------------------------------------------------------------------


def test_the_ticket_page_and_its_files_work_through_nginx(front: Front) -> None:
    ticket = issue(front.hall)
    token = str(ticket["public_token"])
    page = front.get(f"/t/{token}")
    assert page.status_code == 200, page.text
    assert "Content-Security-Policy" in page.headers and "Server" in page.headers
    assert re.fullmatch(r"nginx", page.headers["Server"]), "server_tokens off: no version"
    assert page.headers.get("Strict-Transport-Security", "").startswith("max-age=")
    # every file the page loads is served
    assets = re.findall(r'(?:href|src)="(/[^"]+)"', page.text)
    assert set(assets) == {
        "/web/static/web.css",
        "/web/static/web.js",
        "/web/static/ticket.js",
        "/web/static/book_panel.css",  # 无声叫号's companion (issue 21)
        "/web/static/companion.js",
    }
    for path in assets:
        assert front.get(path).status_code == 200, path
    state = front.get(f"/t/{token}/state")
    assert state.status_code == 200 and state.json()["number"] == ticket["number"]
    # the token stays out of nginx's access log (written just after each response)
    deadline = time.monotonic() + 5
    while "/t/*/state" not in (log := front.access_log.read_text(encoding="utf-8")):
        assert time.monotonic() < deadline, log[-2000:]
        time.sleep(0.05)
    assert token not in log


def test_the_event_stream_passes_through_nginx_as_events_happen(front: Front) -> None:
    ticket = issue(front.hall)
    token = str(ticket["public_token"])
    got: list[str] = []
    connected, changed = threading.Event(), threading.Event()
    with front.get(f"/t/{token}/events", stream=True) as resp:
        assert resp.status_code == 200
        assert resp.headers["Content-Type"].startswith("text/event-stream")
        assert resp.headers.get("X-Accel-Buffering") == "no"

        def read() -> None:
            for line in resp.iter_lines(decode_unicode=True):
                got.append(line)
                if line.startswith("retry:"):
                    connected.set()
                if line == "event: changed":
                    changed.set()
                    return

        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        assert connected.wait(5), f"the stream's first frame did not come through: {got}"
        issue(front.hall)  # something changes in the ticket's service
        assert changed.wait(5), f"the change did not come through nginx at once: {got}"


def test_the_shipped_stream_settings_outlast_the_heartbeat() -> None:
    text = SHIPPED.read_text(encoding="utf-8")
    where = 'location ~ "^/t/[A-Za-z0-9_-]{8,64}/events$" {'
    block = re.search(re.escape(where) + r"(.*?)\n    \}", text, re.S)
    assert block, "no location for the ticket's event stream"
    body = block.group(1)
    assert re.search(r"^\s*proxy_buffering off;", body, re.M)
    timeout = re.search(r"^\s*proxy_read_timeout (\d+)s;", body, re.M)
    assert timeout and int(timeout.group(1)) > 15 + 5, "must outlast the hall's 15 s ping"


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/api/v1/tickets",
        "/api/v1/events",
        "/api/v1/openapi.json",
        "/web/login",
        "/web/counter",
        "/web/api/me",
        "/web/static/counter.js",
        "/web/static/dashboard.js",
        "/healthz",
        "/metrics",
        "/docs",
        "/t",
        "/T/AAAAAAAAAAAAAAAAAAAAAAAA",
        "/t/AAAAAAAAAAAAAAAAAAAAAAAA/other",
        "/t/AAAAAAAAAAAAAAAAAAAAAAAA/state/more",
        "/t/" + "A" * 65,
        "/b",
    ],
)
def test_only_the_citizen_pages_are_reachable_through_nginx(front: Front, path: str) -> None:
    resp = front.get(path, redirects=False)
    assert resp.status_code == 404, (path, resp.status_code, resp.text[:200])
    # and what the hall answers there without nginx is not 404: nginx keeps it from phones
    if path in ("/web/login", "/healthz", "/web/static/counter.js"):
        assert requests.get(front.hall.url + path, timeout=5).status_code == 200


def test_the_public_evaluations_and_the_phone_rating_pass_through_nginx(front: Front) -> None:
    """好差评: the month's public page (no login) and the ticket page's rating offer reach
    the hall through nginx; the staff's case pages do not."""
    page = front.get("/p/evaluations")
    assert page.status_code == 200, page.text[:300]
    for path in re.findall(r'(?:href|src)="(/[^"]+)"', page.text):
        assert front.get(path).status_code == 200, path
    assert front.get("/p/evaluations.json").status_code == 200
    token = str(issue(front.hall)["public_token"])
    offer = front.get(f"/t/{token}/rating")  # not finished yet: the hall's own answer
    direct = requests.get(f"{front.hall.url}/t/{token}/rating", timeout=5)
    assert (offer.status_code, offer.text) == (direct.status_code, direct.text)
    assert front.get("/web/cases").status_code == 404


def test_writes_to_the_ticket_pages_and_the_api_are_refused_through_nginx(front: Front) -> None:
    token = str(issue(front.hall)["public_token"])
    cert = str(front.cert)
    r = requests.post(front.url + f"/t/{token}/state", data=b"x", verify=cert, timeout=10)
    assert r.status_code == 403
    r = requests.post(
        front.url + "/api/v1/tickets", json={"service": "J"}, headers=KIOSK, verify=cert, timeout=10
    )
    assert r.status_code == 404
    # plain http only redirects to https, it passes nothing to the hall
    r = requests.get(
        f"http://127.0.0.1:{front.http_port}/t/{token}", allow_redirects=False, timeout=10
    )
    assert r.status_code == 301 and r.headers["Location"].startswith("https://")


def test_slow_and_silent_clients_are_closed_by_nginx_within_the_header_timeout(
    front: Front,
) -> None:
    # all at once: one sends its headers a byte every 0.5 s, one completes TLS and sends
    # nothing, one connects and never even says hello
    slow, silent = front.tls_socket(), front.tls_socket()
    bare = socket.create_connection(("127.0.0.1", front.port), timeout=5)
    limit = HEADER_TIMEOUT_S + 3
    with ThreadPoolExecutor(3) as pool:
        futures = [
            pool.submit(closed_within, slow, limit, SLOW_HEADERS),
            pool.submit(closed_within, silent, limit),
            pool.submit(closed_within, bare, limit),
        ]
        times = [f.result() for f in futures]
    for s in (slow, silent, bare):
        s.close()
    assert all(t is not None for t in times), f"still open after {limit} s: {times}"
    assert all(t is not None and t > HEADER_TIMEOUT_S - 2 for t in times), times
    # meanwhile the page answered as ever
    assert front.get(f"/t/{issue(front.hall)['public_token']}/state").status_code == 200


def test_a_burst_beyond_the_rate_limit_is_answered_429(front: Front) -> None:
    token = str(issue(front.hall)["public_token"])

    def one(_: int) -> int:
        return front.get(f"/t/{token}/state").status_code

    with ThreadPoolExecutor(4) as pool:
        codes = list(pool.map(one, range(150)))
    assert codes.count(200) >= 40, codes  # burst=40: six phones opening the page at once
    assert codes.count(429) >= 20, codes
    assert set(codes) <= {200, 429}, codes
    # 10 a second per address come back
    time.sleep(1.5)
    assert one(0) == 200
    # it spends this address's budget at this module's nginx: keep it the last test there


# --- the hall itself -------------------------------------------------------------------------


def limited_hall(
    tmp: Path, max_connections: int, keep_alive_s: int, request_timeout_s: float
) -> HallProcess:
    port = free_port()
    cfg = write_config(tmp / "hall.toml", port)
    text = cfg.read_text(encoding="utf-8")
    assert "\n[server]\n" in text
    text = text.replace(
        "\n[server]\n",
        f"\n[server]\nmax_connections = {max_connections}\nkeep_alive_s = {keep_alive_s}\n"
        f"request_timeout_s = {request_timeout_s}\n",
        1,
    )
    cfg.write_text(text, encoding="utf-8")
    return HallProcess(cfg, port, f"sqlite:///{tmp / 'hall.db'}").start()


@pytest.fixture
def hall(tmp_path: Path) -> Iterator[HallProcess]:
    proc = limited_hall(tmp_path, max_connections=100, keep_alive_s=1, request_timeout_s=2.0)
    yield proc
    proc.stop()


def connect(hall: HallProcess) -> socket.socket:
    return socket.create_connection(("127.0.0.1", hall.port), timeout=5)


def test_more_idle_connections_than_the_limit_hold_the_hall_only_until_the_request_timeout(
    hall: HallProcess,
) -> None:
    idle = [connect(hall) for _ in range(120)]
    try:
        time.sleep(0.3)  # all accepted
        # over the limit: answered 503 at once, not queued (the idle ones count)
        r = requests.get(hall.url + "/healthz", timeout=5)
        assert r.status_code == 503, r.text
        with ThreadPoolExecutor(16) as pool:
            times = list(pool.map(lambda s: closed_within(s, 6.0), idle))
    finally:
        for s in idle:
            s.close()
    assert all(t is not None for t in times), f"{times.count(None)} idle connections still open"
    issue(hall)  # the hall takes tickets again


def test_slowloris_and_slow_bodies_are_closed_after_request_timeout(hall: HallProcess) -> None:
    slow_headers, slow_body = connect(hall), connect(hall)
    slow_body.sendall(
        b"POST /api/v1/tickets HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        + f"Authorization: {KIOSK['Authorization']}\r\nContent-Length: 200\r\n\r\n".encode()
    )
    with ThreadPoolExecutor(2) as pool:
        drip = pool.submit(closed_within, slow_headers, 6.0, SLOW_HEADERS)
        body = pool.submit(closed_within, slow_body, 6.0, b'{"service": "J"' + b" " * 150)
        t_headers, t_body = drip.result(), body.result()
    slow_headers.close()
    slow_body.close()
    # the bytes kept coming, yet the deadline held (2 s from the request's start)
    assert t_headers is not None and 1.5 < t_headers < 4.0, t_headers
    assert t_body is not None and 1.5 < t_body < 4.0, t_body


def get_on(sock: socket.socket, path: str) -> bytes:
    """One whole response to ``GET path`` on an open connection (keep-alive)."""
    sock.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    data = b""
    while b"\r\n\r\n" not in data:
        data += sock.recv(4096)
    head, _, body = data.partition(b"\r\n\r\n")
    length = re.search(rb"(?im)^content-length: *(\d+)", head)
    assert length, head
    while len(body) < int(length.group(1)):
        body += sock.recv(4096)
    return data


def test_an_idle_keep_alive_connection_is_closed_after_keep_alive_s(hall: HallProcess) -> None:
    sock = connect(hall)
    assert get_on(sock, "/healthz").startswith(b"HTTP/1.1 200")
    time.sleep(0.5)  # less than keep_alive_s: a second request on the same connection works
    assert get_on(sock, "/healthz").startswith(b"HTTP/1.1 200")
    t = closed_within(sock, 5.0)  # then silence closes it after keep_alive_s (1 s)
    sock.close()
    assert t is not None and 0.5 < t < 2.5, t


def test_event_streams_outlive_the_request_timeout(hall: HallProcess) -> None:
    token = str(issue(hall)["public_token"])
    with requests.get(f"{hall.url}/t/{token}/events", stream=True, timeout=10) as resp:
        assert resp.status_code == 200
        lines = resp.iter_lines(decode_unicode=True)
        assert next(lines).startswith("retry:")
        time.sleep(3.0)  # longer than request_timeout_s (2 s) and keep_alive_s (1 s)
        issue(hall)
        assert "event: changed" in _until(lines, "event: changed")
    # a board's stream on the API, too
    display = {"Authorization": f"Bearer {TOKENS['display']}"}
    with requests.get(
        f"{hall.url}/api/v1/events", headers=display, stream=True, timeout=10
    ) as resp:
        assert resp.status_code == 200
        time.sleep(3.0)
        issue(hall)
        lines = resp.iter_lines(decode_unicode=True)
        assert "event: ticket.issued" in _until(lines, "event: ticket.issued")


def _until(lines: Iterator[str], wanted: str) -> list[str]:
    """The stream's lines up to ``wanted``; fewer if the stream ends first."""
    out = []
    for line in lines:
        out.append(line)
        if line == wanted:
            break
    return out


def test_the_limits_have_their_defaults_and_bounds(tmp_path: Path) -> None:
    cfg = write_config(tmp_path / "hall.toml", free_port())
    server = load_config(cfg).server
    assert (server.max_connections, server.keep_alive_s, server.request_timeout_s) == (
        2000,
        5,
        10.0,
    )
    # nginx lets 1000 phones through; the hall's own devices need ~250 more
    assert server.max_connections >= 1000 + 250 + 500
    text = cfg.read_text(encoding="utf-8")
    for bad, why in [
        ("max_connections = 10", "≥ 100"),
        ("keep_alive_s = 0", "≥ 1"),
        ("request_timeout_s = 0", "> 0"),
    ]:
        cfg.write_text(text.replace("\n[server]\n", f"\n[server]\n{bad}\n", 1), encoding="utf-8")
        with pytest.raises(ConfigError, match=re.escape(why)) as err:
            load_config(cfg)
        assert f"[server].{bad.split()[0]}" in str(err.value)


def test_the_hall_raises_its_open_files_limit_above_max_connections() -> None:
    # in a child: the test process keeps its own limit
    code = (
        "import resource\n"
        "from hall.connections import raise_open_files_limit\n"
        "hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]\n"
        "resource.setrlimit(resource.RLIMIT_NOFILE, (1024, hard))\n"
        "print(raise_open_files_limit(2000), hard)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=30, cwd=ROOT
    )
    assert out.returncode == 0, out.stderr
    soft, hard = map(int, out.stdout.split())
    wanted = 2 * 2000 + 256  # idle connections past the limit hold files too
    assert soft == (wanted if hard == resource.RLIM_INFINITY else min(hard, wanted)), out.stdout
    assert soft > 2000 or "open files limited to" in out.stderr

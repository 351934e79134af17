"""Web page tests: a real hall server process (the sample hall) with staff accounts, and
headless Debian Chromium driven by Playwright (never ``playwright install``)."""

from __future__ import annotations

import os
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests
from fastapi.testclient import TestClient

from hall.app import create_app
from hall.client import HallClient, SseEvent
from hall.config import load_config
from hall.services.context import HallContext
from hall.storage import migrate
from hall.storage.engine import make_engine
from hall.web import accounts
from hall.web.settings import web_settings
from tests.support.clock import FakeClock
from tests.support.hall import PG_URL, make_config
from tests.support.hall import TOKENS as API_TOKENS
from tests.support.hall_server import ROOT, TOKENS, HallProcess, free_port, write_config

CHROMIUM = os.environ.get("GOVHALL_CHROMIUM", "/usr/lib/chromium/chromium")
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SHOTS = ROOT / "build" / "screenshots" / "web"
PASSWORD = "correct-horse-9"
# Staff of the sample hall: counter 1 serves A, B, C, J.
USERS = {"wang": ("counter", ["1"]), "li": ("counter", ["2"]), "boss": ("admin", [])}
# wang as the pad shows him: name and 工号 (li has neither: the pad shows the username)
STAFF = {"wang": ("王五", "0231")}
# where the sample hall's kiosk K1 stands (its [[token]]'s location in the sample)
KIOSK_PLACE = "一楼大厅东侧"
ID_NUMBER = "110105200001010016"  # a valid test number; must never appear whole anywhere
NAME = "张三丰"


def add_accounts(config_path: Path, database: str) -> None:
    config = load_config(config_path)
    engine = make_engine(database)
    try:
        migrate.upgrade(engine)
        ctx = HallContext(config, engine)
        ctx.ensure_rows()
        for user, (role, counters) in USERS.items():
            name, number = STAFF.get(user, ("", None))
            accounts.create_account(
                ctx, web_settings(config), user, PASSWORD, role, counters, name, number
            )
    finally:
        engine.dispose()


def start_web_hall(
    tmp_path: Path, policy: dict[str, Any] | None = None, extra: str = ""
) -> HallProcess:
    """The sample hall with the staff accounts, kiosk K1 placed at ``KIOSK_PLACE``, and no
    recall cooldown (the tests press 重呼 right after 下一位)."""
    port = free_port()
    policy = {"recall_cooldown_s": 0, **(policy or {})}
    cfg = write_config(tmp_path / "hall.toml", port, policy=policy, extra=extra)
    # the sample's kiosk [[token]] says where K1 stands
    assert f'location = "{KIOSK_PLACE}"' in cfg.read_text(encoding="utf-8")
    database = f"sqlite:///{tmp_path / 'hall.db'}"
    add_accounts(cfg, database)
    return start_slowly(HallProcess(cfg, port, database))


@pytest.fixture
def hall(tmp_path: Path) -> Iterator[HallProcess]:
    proc = start_web_hall(tmp_path)
    yield proc
    proc.stop()


def start_slowly(proc: HallProcess) -> HallProcess:
    """HallProcess.start gives a busy machine 0.5 s per health check and lets a read
    timeout escape; on a loaded CI box the first answer can take longer."""
    try:
        return proc.start()
    except requests.Timeout:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if requests.get(proc.url + "/healthz", timeout=5).status_code == 200:
                    return proc
            except requests.RequestException:
                time.sleep(0.2)
        proc.stop()
        raise


def kiosk(hall: HallProcess) -> HallClient:
    return HallClient(hall.url, TOKENS["kiosk"])


@dataclass
class EventLog:
    """The lobby board's view: the display token's SSE stream, collected in a thread."""

    events: list[SseEvent] = field(default_factory=list)
    ready: threading.Event = field(default_factory=threading.Event)
    stop: threading.Event = field(default_factory=threading.Event)

    def types(self) -> list[str]:
        return [e.type for e in list(self.events)]

    def of(self, type_: str) -> list[dict[str, Any]]:
        return [e.data for e in list(self.events) if e.type == type_]


@pytest.fixture
def board_events(hall: HallProcess) -> Iterator[EventLog]:
    log = EventLog()
    display = HallClient(hall.url, TOKENS["display"])

    def run() -> None:
        for ev in display.follow(stop=log.stop, on_state=lambda ok: ok and log.ready.set()):
            log.events.append(ev)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    assert log.ready.wait(10), "display event stream did not connect"
    yield log
    log.stop.set()


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        pytest.skip(
            f"chromium not installed at {CHROMIUM} (apt-get install chromium fonts-wqy-microhei)"
        )
    try:
        from playwright.sync_api import expect, sync_playwright
    except ImportError:
        pytest.skip("playwright (Python package) is not installed")
    # The default 5 s is short on a 2-core CI box where other suites run beside ours.
    expect.set_options(timeout=15_000)
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def context(browser: Any) -> Iterator[Any]:
    ctx = browser.new_context(viewport={"width": 1600, "height": 900}, locale="zh-CN")
    ctx.set_default_timeout(10_000)
    yield ctx
    ctx.close()


def login(page: Any, hall: HallProcess, user: str, target: str, password: str = PASSWORD) -> None:
    page.goto(f"{hall.url}{target}")
    page.wait_for_url("**/web/login**")
    page.fill("#username", user)
    page.fill("#password", password)
    page.click("#login-button")
    # the login page's own address names the target (?next=…): wait until it is left
    path = target.split("?")[0]
    page.wait_for_url(lambda url: "/web/login" not in url and path in url)


def shot(page: Any, name: str) -> Path:
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


# -- without a browser: the real app in-process with a fake clock ------------------------


class Web:
    def __init__(self, client: TestClient) -> None:
        self.client = client
        self.csrf = ""

    def login(self, user: str, password: str = PASSWORD, **kw: Any) -> Any:
        r = self.client.post("/web/api/login", json={"username": user, "password": password}, **kw)
        if r.status_code == 200:
            self.csrf = r.json()["csrf"]
        return r

    def post(self, path: str, body: object = None, csrf: bool = True, **kw: Any) -> Any:
        headers = {"X-CSRF-Token": self.csrf} if csrf else {}
        headers |= kw.pop("headers", {})
        return self.client.post(
            "/web/api" + path, json=body if body is not None else {}, headers=headers, **kw
        )

    def get(self, path: str, **kw: Any) -> Any:
        return self.client.get("/web/api" + path, **kw)

    def issue(self, service: str = "B", **body: object) -> dict[str, Any]:
        r = self.client.post(
            "/api/v1/tickets",
            json={"service": service, **body},
            headers={"Authorization": f"Bearer {API_TOKENS['kiosk']}"},
        )
        assert r.status_code == 201, r.text
        return r.json()

    def ticket(self, ticket_id: int) -> dict[str, Any]:
        return self.client.get(
            f"/api/v1/tickets/{ticket_id}",
            headers={"Authorization": f"Bearer {API_TOKENS['admin']}"},
        ).json()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def web_database(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[str, str]:
    """(URL, hall_id): SQLite, and PostgreSQL when GOVHALL_TEST_POSTGRES_URL is set (a fresh
    hall id per test, as the hall's own storage tests do)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'hall.db'}", "test-hall"
    if not PG_URL:
        pytest.skip("PostgreSQL not configured (set GOVHALL_TEST_POSTGRES_URL)")
    return PG_URL, f"hall-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def app(web_database: tuple[str, str], clock: FakeClock) -> Any:
    url, hall_id = web_database
    return create_app(make_config(hall_id), database=url, clock=clock)


@pytest.fixture
def web(app: Any) -> Iterator[Web]:
    with TestClient(app) as client:
        state = app.state.web
        accounts.create_account(state.ctx, state.settings, "wang", PASSWORD, "counter", ["1"])
        accounts.create_account(state.ctx, state.settings, "li", PASSWORD, "counter", ["2"])
        accounts.create_account(state.ctx, state.settings, "boss", PASSWORD, "admin", [])
        yield Web(client)

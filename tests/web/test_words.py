"""The staff pages speak Chinese, not codes (day in the hall, item 12), on the real app
without a browser: help requests say where the kiosk stands and carry a reason the pages
have words for; device health lists every kiosk, board and counter screen the config
names; the pad knows who serves (name, 工号) and takes the reasons for a low score; the
configuration tab has a label for every setting; the pages know the hall's time zone."""

from __future__ import annotations

import ast
import io
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from common.i18n import catalogue
from hall.app import create_app
from hall.config import HallConfig, Policy, load_config
from hall.services.context import HallContext
from hall.storage import tables
from hall.storage.engine import make_engine
from hall.web import accounts, cli
from signage.heartbeat import PartStates
from tests.support.clock import FakeClock
from tests.support.hall import TOKENS, make_config
from tests.support.hall_server import ROOT, SAMPLE, write_config
from tests.web.conftest import PASSWORD, Web

PLACE = "一楼大厅东侧"
TEXTS = catalogue("web")


def placed_config() -> HallConfig:
    """The test hall, with kiosk K1's [[token]] saying where it stands."""
    cfg = make_config()
    tokens = [
        tk.model_copy(update={"location": PLACE}) if tk.device == "K1" else tk for tk in cfg.tokens
    ]
    return cfg.model_copy(update={"tokens": tokens})


class AppWeb(Web):
    def __init__(self, client: TestClient, app: Any) -> None:
        super().__init__(client)
        self.app = app


@pytest.fixture
def web(tmp_path: Path, clock: FakeClock) -> Iterator[AppWeb]:
    app = create_app(placed_config(), database=f"sqlite:///{tmp_path / 'hall.db'}", clock=clock)
    with TestClient(app) as client:
        state = app.state.web
        accounts.create_account(
            state.ctx, state.settings, "wang", PASSWORD, "counter", ["1"], "王五", "0231"
        )
        accounts.create_account(state.ctx, state.settings, "li", PASSWORD, "counter", ["2"])
        accounts.create_account(state.ctx, state.settings, "boss", PASSWORD, "admin", [])
        yield AppWeb(client, app)


def as_device(web: Web, token: str, path: str, body: dict[str, Any]) -> Any:
    r = web.client.post(
        "/api/v1" + path, json=body, headers={"Authorization": f"Bearer {TOKENS[token]}"}
    )
    assert r.status_code in (200, 201), r.text
    return r.json()


# -- help requests ---------------------------------------------------------------------


def kiosk_help_reasons() -> set[str]:
    """Every reason the kiosk's journeys send: HelpRequest(token, "<reason>") in kiosk/."""
    found: set[str] = set()
    for path in (ROOT / "kiosk").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and getattr(node.func, "id", getattr(node.func, "attr", "")) == "HelpRequest"
                and len(node.args) == 2
                and isinstance(node.args[1], ast.Constant)
            ):
                found.add(node.args[1].value)
    return found


def test_every_help_reason_the_kiosk_sends_has_words() -> None:
    reasons = kiosk_help_reasons()
    assert "citizen_asked" in reasons  # the scan sees the kiosk's 求助 button
    # face_check_review: what kiosks sent before a failed face check became 人工核验 at the
    # counter; such requests may still be open after an upgrade
    # passport: sent as passport:<service> (an f-string the scan does not see)
    for reason in reasons | {"face_check_review", "passport"}:
        entry = TEXTS.get(f"help_reason_{reason}")
        assert entry is not None, f"help_reason_{reason} missing in web.toml"
        assert entry["zh"].strip() and entry["en"].strip()


def test_help_requests_say_where_the_kiosk_stands(web: Web) -> None:
    as_device(web, "kiosk", "/help-requests", {"kiosk": "K1", "reason": "citizen_asked"})
    as_device(web, "kiosk2", "/help-requests", {"kiosk": "K2", "reason": "老人需要帮办"})
    web.login("wang")
    help_ = web.get("/counters/1").json()["help"]
    assert [(h["kiosk"], h["location"], h["reason"]) for h in help_] == [
        ("K1", PLACE, "citizen_asked"),
        ("K2", None, "老人需要帮办"),  # no location in its [[token]]: the id alone
    ]
    web.login("boss")
    assert [h["location"] for h in web.get("/live").json()["help"]] == [PLACE, None]


def test_staff_take_the_ticket_for_a_passport_holder_once(web: Web) -> None:
    """Day in the hall 5: the kiosk cannot read a passport; it calls staff (passport:A), the
    counter page says so in words with the service, and 帮办取号 gives one ticket, checked by
    hand at the counter, whatever the number of presses."""
    as_device(web, "kiosk", "/help-requests", {"kiosk": "K1", "reason": "passport:A"})
    web.login("wang")
    (h,) = web.get("/counters/1").json()["help"]
    assert (h["reason"], h["service"], h["service_name"]) == ("passport", "A", "社保")
    first = web.post(f"/help/{h['id']}/ticket")
    assert first.status_code == 201, first.text
    ticket = first.json()
    assert ticket["service"] == "A" and ticket["verification"] == "manual"
    again = web.post(f"/help/{h['id']}/ticket")  # a second press, or a lost answer
    assert again.json()["id"] == ticket["id"]
    assert web.get("/counters/1").json()["help"] == []  # resolved
    # an ordinary help request is not a way to tickets without an ID card
    as_device(web, "kiosk", "/help-requests", {"kiosk": "K1", "reason": "citizen_asked"})
    (other,) = web.get("/counters/1").json()["help"]
    refused = web.post(f"/help/{other['id']}/ticket")
    assert refused.status_code == 409 and refused.json()["error"] == "not_passport_help"


# -- device health ---------------------------------------------------------------------


def test_device_health_lists_every_kiosk_and_board_and_who_went_silent(
    web: Web, clock: FakeClock
) -> None:
    as_device(web, "kiosk", "/devices/heartbeat", {"device": "K1", "parts": {"printer": "ok"}})
    board = {"board": "ok", "speaker": "error", "led": "absent"}
    as_device(web, "display", "/devices/heartbeat", {"device": "lobby", "parts": board})
    web.login("boss")
    live = web.get("/live").json()
    assert live["device_silent_s"] == 30
    rows = {d["device"]: d for d in live["devices"]}
    assert [d["device"] for d in live["devices"]] == ["K1", "K2", "lobby"]  # kiosks first
    assert rows["K1"]["kind"] == "kiosk" and rows["K1"]["location"] == PLACE
    assert rows["K1"]["online"] and rows["lobby"]["online"]
    assert rows["lobby"]["kind"] == "board" and rows["lobby"]["parts"] == board
    # K2 has a [[token]] but never said a word: listed, offline, never seen
    assert rows["K2"] == {
        "device": "K2",
        "role": "kiosk",
        "parts": {},
        "online": False,
        "last_seen": None,
        "kind": "kiosk",
        "location": None,
    }
    clock.advance(20)
    as_device(web, "kiosk", "/devices/heartbeat", {"device": "K1", "parts": {"printer": "ok"}})
    clock.advance(15)  # the board: silent 35 s > [policy].device_silent_s
    rows = {d["device"]: d for d in web.get("/live").json()["devices"]}
    assert rows["K1"]["online"] and not rows["lobby"]["online"]
    assert rows["lobby"]["last_seen"].startswith("2026-11-23T09:00")  # the hall's local time


class _NoFeed:
    state = None


def test_every_part_state_and_kind_the_devices_report_has_words() -> None:
    feed: Any = _NoFeed()
    signage_parts = set(PartStates(feed, [], speaker_wanted=True)()) | set(
        PartStates(feed, [], counter="1")()
    )
    assert signage_parts == {"board", "speaker", "led", "screen"}
    kiosk_parts = {"printer", "reader", "camera", "speaker"}
    for part in signage_parts | kiosk_parts:
        assert f"part_{part}" in TEXTS, part
    for state in ("ok", "warning", "error", "offline", "absent"):
        assert f"part_state_{state}" in TEXTS, state
    for kind in ("kiosk", "board", "counter_screen", "display"):
        assert f"device_kind_{kind}" in TEXTS, kind
    assert TEXTS["device_offline"]["zh"] == "失联"


# -- the pad ---------------------------------------------------------------------------


def served(web: AppWeb) -> int:
    ticket = web.issue("B")
    web.login("wang")
    web.post("/counters/1/do/call-next")
    web.post("/counters/1/do/finish")
    return int(ticket["id"])


def stored(web: AppWeb, ticket_id: int) -> Any:
    """The evaluation's row: comment, reasons, channel."""
    ctx = web.app.state.web.ctx
    e = tables.evaluations
    with ctx.read() as conn:
        return conn.execute(
            select(e.c.comment, e.c.reasons, e.c.channel).where(e.c.ticket_id == ticket_id)
        ).one()


def test_the_pad_shows_who_serves(web: Web) -> None:
    web.login("wang")
    assert web.get("/counters/1/pad").json()["staff"] == {"name": "王五", "staff_no": "0231"}
    web.login("li")  # no name or 工号 given: the username, no number
    assert web.get("/counters/2/pad").json()["staff"] == {"name": "li", "staff_no": None}


def test_a_low_score_takes_its_reasons_and_the_citizens_words(web: AppWeb) -> None:
    ticket = served(web)
    r = web.post(
        "/counters/1/evaluate",
        {
            "ticket": ticket,
            "score": 1,
            "reasons": ["long_wait", "attitude", "long_wait"],
            "comment": " 叫号声音太小，电话13812345678 ",
        },
    )
    assert r.status_code == 201, r.text
    assert r.json()["grade"] == "bad" and r.json()["case"] is not None  # a 差评 opens a case
    row = stored(web, ticket)
    assert row.reasons == ["long_wait", "attitude"] and row.channel == "pad"
    assert row.comment.startswith("叫号声音太小") and "13812345678" not in row.comment


def test_a_low_score_without_reasons_is_a_plain_score(web: AppWeb) -> None:
    ticket = served(web)
    assert web.post("/counters/1/evaluate", {"ticket": ticket, "score": 2}).status_code == 201
    row = stored(web, ticket)
    assert row.comment is None and row.reasons == [] and row.channel == "pad"


def test_the_pad_offers_every_reason_the_hall_records() -> None:
    from hall.domain.evaluation import Reason
    from hall.web.render import render

    html = render("pad", "测试中心")
    for reason in Reason:
        assert f"pad_reason_{reason.value}" in TEXTS, reason
        assert f'data-reason="{reason.value}"' in html, reason


@pytest.mark.parametrize(
    "extra",
    [
        {"score": 4, "reasons": ["attitude"]},  # reasons go with 1–2 only
        {"score": 5, "comment": "很好"},
        {"score": 1, "reasons": ["rude"]},  # not one the pad offers
        {"score": 1, "comment": "太" * 201},
    ],
)
def test_the_evaluation_refuses_reasons_it_does_not_know(
    web: AppWeb, extra: dict[str, Any]
) -> None:
    ticket = served(web)
    r = web.post("/counters/1/evaluate", {"ticket": ticket, **extra})
    assert r.status_code == 422, r.text
    assert r.json()["zh"]  # the pages show the hall's words, not the code


# -- accounts: 工号 --------------------------------------------------------------------


def test_an_account_keeps_its_staff_number(web: Web) -> None:
    web.login("boss")
    r = web.post(
        "/accounts",
        {
            "username": "zhao",
            "display_name": "赵六",
            "staff_no": "XC-1024",
            "role": "counter",
            "counters": ["3"],
            "password": "zhao-password-1",
        },
    )
    assert r.status_code == 201 and r.json()["staff_no"] == "XC-1024"
    bad = dict(username="qian", role="counter", counters=["3"], password="qian-password-1")
    r = web.post("/accounts", {**bad, "staff_no": "工号 12"})
    assert r.status_code == 422 and r.json()["error"] == "invalid" and r.json()["zh"]
    assert web.post("/accounts/zhao", {"staff_no": "1025"}).json()["staff_no"] == "1025"
    assert web.post("/accounts/zhao", {"display_name": "赵六六"}).json()["staff_no"] == "1025"
    assert web.post("/accounts/zhao", {"staff_no": ""}).json()["staff_no"] is None
    web.login("wang")
    assert web.get("/me").json()["staff_no"] == "0231"


# -- configuration tab and time zone ---------------------------------------------------


def test_every_setting_the_configuration_tab_shows_has_a_label() -> None:
    for key in Policy.model_fields:
        assert f"policy_{key}" in TEXTS, key
    assert "yes" in TEXTS and "no" in TEXTS  # true/false settings are said in words
    raw = tomllib.loads(SAMPLE.read_text(encoding="utf-8"))
    for section in ("kiosk", "signage", "devices"):
        assert f"cfg_section_{section}" in TEXTS, section
        for key in raw[section]:
            assert f"cfg_{section}_{key}" in TEXTS, f"[{section}] {key}"


def test_the_configuration_names_where_each_device_stands(web: Web) -> None:
    web.login("boss")
    tokens = {t["name"]: t for t in web.get("/config").json()["tokens"]}
    assert tokens["kiosk-1"] == {
        "name": "kiosk-1",
        "role": "kiosk",
        "device": "K1",
        "location": PLACE,
    }
    assert tokens["admin-1"]["device"] is None
    assert all("token" not in t for t in tokens.values())


def test_the_pages_know_the_halls_time_zone(tmp_path: Path, clock: FakeClock) -> None:
    cfg = make_config().model_copy(update={"timezone": "Asia/Urumqi"})
    app = create_app(cfg, database=f"sqlite:///{tmp_path / 'hall.db'}", clock=clock)
    with TestClient(app) as client:
        state = app.state.web
        accounts.create_account(state.ctx, state.settings, "boss", PASSWORD, "admin", [])
        web = Web(client)
        assert 'data-tz="Asia/Urumqi"' in client.get("/web/login").text
        web.login("boss")
        assert web.get("/me").json()["timezone"] == "Asia/Urumqi"
        assert 'data-tz="Asia/Urumqi"' in client.get("/web/dashboard").text


def test_the_account_cli_gives_a_staff_number(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cfg = write_config(tmp_path / "hall.toml", 8799)
    db = f"sqlite:///{tmp_path / 'hall.db'}"
    monkeypatch.setattr("sys.stdin", io.StringIO(PASSWORD + "\n"))
    where = ["--config", str(cfg), "--database", db]
    who = ["--username", "zhao", "--role", "counter", "--counters", "1", "--password-stdin"]
    name = ["--display-name", "赵六", "--staff-no", "0231"]
    assert cli.main(["add-user", *where, *who, *name]) == 0
    engine = make_engine(db)
    try:
        ctx = HallContext(load_config(cfg), engine)
        [zhao] = accounts.list_accounts(ctx)
    finally:
        engine.dispose()
    assert (zhao["display_name"], zhao["staff_no"]) == ("赵六", "0231")

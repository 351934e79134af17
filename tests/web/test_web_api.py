"""The pages' JSON API on the real app without a browser (TestClient, fake clock): the
figures the dashboard and the pad show, and the account CLI a technician uses."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from hall.web.export import read_report_csv
from tests.support.clock import FakeClock
from tests.support.hall import TOKENS as API_TOKENS
from tests.support.hall_server import ROOT, write_config
from tests.web.conftest import PASSWORD, Web


def test_pad_asks_once_about_the_ticket_finished_at_its_counter(web: Web, clock: FakeClock) -> None:
    ticket = web.issue("B")
    web.login("wang")
    assert web.get("/counters/1/pad").json()["ticket"] is None  # nothing finished yet
    web.post("/counters/1/do/call-next")
    assert web.get("/counters/1/pad").json()["ticket"] is None  # being served, not finished
    web.post("/counters/1/do/finish")
    asked = web.get("/counters/1/pad").json()["ticket"]
    assert asked == {"id": ticket["id"], "number": ticket["number"], "service": "B"} | {
        "matter_no": None,  # none registered: the ticket is one matter (the hall's number)
        "matter_index": 1,
        "matters": 1,
    }
    r = web.post("/counters/1/evaluate", {"ticket": ticket["id"], "score": 4})
    assert r.status_code == 201 and r.json()["score"] == 4
    assert web.get("/counters/1/pad").json()["ticket"] is None  # rated: back to welcome
    r = web.post("/counters/1/evaluate", {"ticket": ticket["id"], "score": 1})
    assert r.status_code == 409 and r.json()["error"] == "already_evaluated"
    web.login("boss")
    report = web.get("/report").json()
    assert report["total"]["satisfaction_avg"] == 4  # the second tap changed nothing
    assert report["distributions"]["scores"] == {"1": 0, "2": 0, "3": 0, "4": 1, "5": 0}


def test_pad_stops_asking_after_a_few_minutes(web: Web, clock: FakeClock) -> None:
    web.issue("B")
    web.login("wang")
    web.post("/counters/1/do/call-next")
    web.post("/counters/1/do/finish")
    assert web.get("/counters/1/pad").json()["ticket"] is not None
    clock.advance(301)
    assert web.get("/counters/1/pad").json()["ticket"] is None


def test_live_view_longest_wait_and_silent_devices(web: Web, clock: FakeClock) -> None:
    web.issue("B")
    clock.advance(90)
    web.issue("B")
    r = web.client.post(
        "/api/v1/devices/heartbeat",
        json={"device": "K1", "parts": {"printer": "ok", "reader": "ok"}},
        headers={"Authorization": "Bearer kiosk-token-0123456789"},
    )
    assert r.status_code == 200
    web.login("boss")
    live = web.get("/live").json()
    assert live["longest_wait_s"]["B"] == 90
    assert next(s for s in live["services"] if s["code"] == "B")["waiting"] == 2
    assert live["devices"][0]["online"] is True
    clock.advance(31)  # silent longer than policy.device_silent_s
    live = web.get("/live").json()
    assert live["devices"][0]["online"] is False


def test_report_range_distribution_and_csv(web: Web, clock: FakeClock) -> None:
    for _ in range(3):
        web.issue("B")
    web.login("wang")
    clock.advance(4 * 60)
    web.post("/counters/1/do/call-next")  # waited 4 min
    clock.advance(8 * 60)
    web.post("/counters/1/do/call-next")  # 12 min
    web.post("/counters/1/do/no-show")
    web.login("boss")
    r = web.get("/report", params={"from": "2026-11-23", "to": "2026-11-23"}).json()
    assert r["distributions"]["wait_minutes"]["counts"] == [1, 0, 1, 0, 0, 0]
    assert r["by_service"]["B"]["no_show"] == 1
    csv = web.get("/report.csv", params={"from": "2026-11-23", "to": "2026-11-23"})
    # for Excel: a BOM, the column names in Chinese, then the same in English below
    assert csv.status_code == 200 and csv.text.startswith("\ufeff统计维度,代码,名称,取号数,")
    assert csv.text.splitlines()[1].startswith("Dimension,Code,Name,Tickets issued,")
    assert "attachment" in csv.headers["content-disposition"]
    rows = read_report_csv(csv.text)
    total = next(r for r in rows if r["csv_dimension"] == "合计 Total")
    assert (total["metric_issued"], total["metric_called"], total["metric_no_show"]) == (
        "3",
        "2",
        "1",
    )
    b = next(r for r in rows if r["csv_dimension"] == "业务 Service" and r["csv_key"] == "B")
    assert b["csv_name"] == "医保" and b["metric_no_show"] == "1"
    assert web.get("/report", params={"from": "2026-11-24", "to": "2026-11-23"}).status_code == 422


@pytest.mark.slow  # several `govhall web` processes, each importing the hall
def test_account_cli_creates_resets_and_lists(tmp_path: Path) -> None:
    cfg = write_config(tmp_path / "hall.toml", 8799)
    db = f"sqlite:///{tmp_path / 'hall.db'}"

    def run(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "hall.web", *args, "--config", str(cfg), "--database", db],
            input=stdin,
            capture_output=True,
            text=True,
            cwd=ROOT,
            timeout=60,
        )

    r = run(
        "add-user",
        "--username",
        "admin",
        "--role",
        "admin",
        "--password-stdin",
        stdin=PASSWORD + "\n",
    )
    assert r.returncode == 0, r.stderr
    r = run(
        "add-user",
        "--username",
        "wang",
        "--role",
        "counter",
        "--counters",
        "1,99",
        "--password-stdin",
        stdin=PASSWORD + "\n",
    )
    assert r.returncode == 1 and "no counter with id '99'" in r.stderr
    r = run(
        "add-user",
        "--username",
        "wang",
        "--role",
        "counter",
        "--counters",
        "1",
        "--password-stdin",
        stdin="short\n",
    )
    assert r.returncode == 1 and "at least 8" in r.stderr
    r = run("set-password", "--username", "admin", "--password-stdin", stdin="another-pass-1\n")
    assert r.returncode == 0, r.stderr
    r = run("list-users")
    assert r.stdout.splitlines() == ["admin\tadmin\t-\tactive\t-"]  # failed adds left nothing
    assert PASSWORD not in r.stdout + r.stderr
    # the services a staff member can handle, for the staffing plan: set, changed, checked
    r = run(
        "add-user", "--username", "sun", "--role", "counter", "--counters", "1",
        "--services", "A,C", "--password-stdin", stdin=PASSWORD + "\n",
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    r = run("set-services", "--username", "sun", "--services", "A,ZZ")
    assert r.returncode == 1 and "no service with code 'ZZ'" in r.stderr
    r = run("set-services", "--username", "sun", "--services", "B, A")
    assert r.returncode == 0 and r.stdout.strip() == "services of sun: B,A", r.stderr
    assert run("list-users").stdout.splitlines()[1] == "sun\tcounter\t1\tactive\tB,A"


def test_the_dashboard_lists_offline_tickets_the_hall_refused(web: Web, clock: FakeClock) -> None:
    # issue "reliability" 3: a citizen holds that paper ticket; staff must see it
    import datetime as dt

    yesterday = (clock.now - dt.timedelta(days=1)).isoformat()
    item = {"kiosk": "K1", "offline_number": "K1-B009", "service": "B", "issued_at": yesterday}
    r = web.client.post(
        "/api/v1/tickets/import",
        json=[item],
        headers={"Authorization": f"Bearer {API_TOKENS['kiosk']}"},
    )
    assert r.json()["results"][0]["error"] == "stale_ticket"
    assert web.login("boss").status_code == 200
    (refusal,) = web.get("/live").json()["import_refusals"]
    assert (refusal["kiosk"], refusal["offline_number"], refusal["error"]) == (
        "K1",
        "K1-B009",
        "stale_ticket",
    )
    assert refusal["zh"] and refusal["en"]

"""One month of a hall's 好差评 (issue 19), simulated through the real pages and API, then
shown: the public monthly page and the dashboard's integrity panel as PNGs.

    .venv/bin/python scripts/month_of_ratings.py [--out /tmp/month] [--month 2026-11]

The sample hall (its services and counters) with six counters at work on every working day
of the month (法定节假日 skipped, 调休 days worked), a moving clock: tickets taken at the
kiosk, called, served 4–20 minutes, finished; on the pad most citizens rate (mostly 非常满意
and 满意, a few 差评 with reasons, some leaving a phone for 回访), a few rate on their phone
instead, and a few confirm their pad rating on the phone. One staff member (刘 at counter
7) taps his own pad one second after every finish, always 非常满意, and "serves" a few
tickets in seconds; the citizens he served rate him lower on their phones. The department
head works the 差评 cases: most verified, rectified and followed up in time, some late,
some left open past their deadline, one extended, one appeal upheld and one rejected.

Then a real hall server on the database, and headless Chromium: ``public.png`` (the month
on the public page), ``integrity.png`` (the dashboard's panel) and ``cases.png`` (the case
list), and ``figures.json`` with the numbers shown. The screenshots are of masked data
only (no names, phones masked)."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from common.personal import id_check_char  # noqa: E402
from hall.app import create_app  # noqa: E402
from hall.config import load_config  # noqa: E402
from hall.domain.workdays import is_working_day  # noqa: E402
from hall.web import accounts  # noqa: E402
from tests.support.hall_server import TOKENS, HallProcess, free_port, write_config  # noqa: E402

PASSWORD = "month-of-ratings-1"
TZ = dt.timezone(dt.timedelta(hours=8))
# counter → (account, display name, 工号, service it calls)
STAFF = {
    "3": ("chen", "陈静", "0301", "A"),
    "6": ("wang", "王五", "0601", "B"),
    "7": ("liu", "刘强", "0702", "B"),  # the manipulated pad
    "17": ("sun", "孙丽", "1701", "G"),
    "19": ("zhou", "周敏", "1901", "H"),
    "22": ("wu", "吴倩", "2201", "J"),
}
CHEAT = "7"
HEAD = ("head", "赵科长")
BOSS = "boss"
REASONS = ["long_wait", "slow_handling", "repeat_visits", "unclear_requirements", "attitude"]
COMMENTS = ["等候时间太长", "材料清单和窗口说的不一样", "要跑第二次", "窗口人员不耐烦", ""]


class Clock:
    def __init__(self, start: dt.datetime) -> None:
        self.now = start

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += dt.timedelta(seconds=seconds)

    def to_local(self, day: dt.date, hh: int, mm: int) -> None:
        target = dt.datetime(day.year, day.month, day.day, hh, mm, tzinfo=TZ).astimezone(dt.UTC)
        self.now = max(self.now, target)


class Staff:
    """One browser session of the staff pages (cookie and CSRF token)."""

    def __init__(self, app: Any, user: str) -> None:
        self.client = TestClient(app)
        self.user = user
        self.login()

    def login(self) -> None:
        """Each morning (a session ends after its hours or when idle)."""
        r = self.client.post("/web/api/login", json={"username": self.user, "password": PASSWORD})
        assert r.status_code == 200, r.text
        self.csrf = r.json()["csrf"]

    def post(self, path: str, body: dict[str, Any] | None = None) -> Any:
        def send() -> Any:
            return self.client.post(
                "/web/api" + path, json=body or {}, headers={"X-CSRF-Token": self.csrf}
            )

        r = send()
        if r.status_code == 401:
            self.login()
            r = send()
        assert r.status_code in (200, 201), (path, r.status_code, r.text)
        return r.json()

    def get(self, path: str) -> Any:
        r = self.client.get("/web/api" + path)
        if r.status_code == 401:
            self.login()
            r = self.client.get("/web/api" + path)
        return r.json()


def id_number(n: int) -> str:
    first = f"110105{1950 + n % 50:04d}{1 + n % 12:02d}{1 + n % 28:02d}{n % 1000:03d}"
    return first + id_check_char(first)


def simulate(database: str, config_path: Path, month: str, rnd: random.Random) -> dict[str, Any]:
    year, mon = int(month[:4]), int(month[5:])
    first = dt.date(year, mon, 1)
    last = (first + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(days=1)
    config = load_config(config_path)
    clock = Clock(dt.datetime(year, mon, 1, 0, 0, tzinfo=TZ).astimezone(dt.UTC))
    app = create_app(config, database=database, clock=clock)
    api = TestClient(app)
    api.__enter__()
    state = app.state.web
    for cid, (user, name, no, _) in STAFF.items():
        accounts.create_account(
            state.ctx, state.settings, user, PASSWORD, "counter", [cid], name, no
        )
    accounts.create_account(
        state.ctx,
        state.settings,
        HEAD[0],
        PASSWORD,
        "supervisor",
        [],
        HEAD[1],
        None,
        sorted({s for *_, s in STAFF.values()}),
    )
    accounts.create_account(state.ctx, state.settings, BOSS, PASSWORD, "admin", [], "主任")
    staff = {cid: Staff(app, user) for cid, (user, *_) in STAFF.items()}
    head = Staff(app, HEAD[0])
    kiosk = {"Authorization": f"Bearer {TOKENS['kiosk']}"}
    counter_api = {"Authorization": f"Bearer {TOKENS['counter']}"}
    plans: dict[dt.date, list[tuple[int, str]]] = {}
    people = 0
    counts = {"tickets": 0, "pad": 0, "phone": 0, "checks": 0, "bad_cases": 0}

    def issue(service: str) -> dict[str, Any]:
        nonlocal people
        people += 1
        body: dict[str, Any] = {"service": service}
        if config.service(service).requires_id:  # type: ignore[union-attr]
            body["id_number"] = id_number(people)
        r = api.post("/api/v1/tickets", json=body, headers=kiosk)
        assert r.status_code == 201, r.text
        counts["tickets"] += 1
        return dict(r.json())

    def call(cid: str) -> dict[str, Any]:
        r = api.post(f"/api/v1/counters/{cid}/call-next", headers=counter_api)
        assert r.status_code == 200, r.text
        return dict(r.json())

    def finish(cid: str) -> None:
        r = api.post(f"/api/v1/counters/{cid}/finish", headers=counter_api)
        assert r.status_code == 200, r.text

    def working_days_after(day: dt.date, n: int) -> dt.date:
        d = day
        while n > 0:
            d += dt.timedelta(days=1)
            n -= is_working_day(d)
        return d

    def plan_case(case: int, day: dt.date, contact: bool) -> None:
        """The head's work on a 差评 case: its fate decided when it opens."""
        fate = rnd.choices(["on_time", "late", "neglected"], weights=[76, 12, 12])[0]
        verify = working_days_after(day, 1)
        plans.setdefault(verify, []).append((case, "verify"))
        if fate == "neglected":
            return
        done = working_days_after(day, rnd.randint(3, 11) if fate == "on_time" else 17)
        plans.setdefault(done, []).append((case, "rectify"))
        if contact:
            plans.setdefault(done, []).append((case, "follow_up"))
        plans.setdefault(done, []).append((case, "close"))

    def work_cases(day: dt.date) -> None:
        for case, step in plans.pop(day, []):
            body: dict[str, Any] = {
                "step": step,
                "note": {
                    "verify": "调取叫号与监控记录，情况属实",
                    "rectify": "已组织窗口培训并更新一次性告知单",
                    "follow_up": "电话回访",
                    "close": "整改完成，归档",
                }[step],
            }
            if step == "follow_up":
                body["satisfied"] = rnd.random() < 0.8
            if step == "verify":
                head.post(
                    f"/cases/{case}/steps",
                    {
                        "step": "guide",
                        "guidance": {
                            "calm": "请群众到休息区就座，致歉",
                            "cause": "高峰时段窗口不足",
                            "solution": "增开窗口并电话告知进度",
                        },
                    },
                )
            head.post(f"/cases/{case}/steps", body)

    extended = appealed = 0
    day = first
    # the month's work, then the head's work on its cases up to yesterday (never past now)
    while day < dt.datetime.now(TZ).date():
        if not is_working_day(day):
            day += dt.timedelta(days=1)
            continue
        clock.to_local(day, 8, 40)
        for _round in range(11 if day <= last else 0):
            for *_, svc in STAFF.values():
                issue(svc)
            tickets = {cid: call(cid) for cid in STAFF}  # whom each counter called
            clock.advance(rnd.uniform(240, 1200))
            finished: list[str] = []
            for cid in STAFF:
                clock.advance(rnd.uniform(2, 20))
                finish(cid)
                finished.append(cid)
                if cid == CHEAT:  # his own tap, one second after the finish
                    clock.advance(1)
                    t = tickets[cid]
                    staff[cid].post("/counters/7/evaluate", {"ticket": t["id"], "score": 5})
                    counts["pad"] += 1
                    if rnd.random() < 0.08:  # the citizen's phone says otherwise
                        r = api.post(
                            f"/t/{t['public_token']}/rating", json={"score": rnd.choice([1, 2, 3])}
                        )
                        assert r.status_code == 201, r.text
                        counts["checks"] += 1
            clock.advance(rnd.uniform(5, 40))
            for cid in finished:
                if cid == CHEAT:
                    continue
                t = tickets[cid]
                clock.advance(rnd.uniform(3, 25))
                roll = rnd.random()
                if roll < 0.10:
                    continue  # walked away without rating
                score = rnd.choices([5, 4, 3, 2, 1], weights=[60, 28, 8, 2.5, 1.5])[0]
                body: dict[str, Any] = {"ticket": t["id"], "score": score}
                contact = False
                if score <= 2:
                    body["reasons"] = rnd.sample(REASONS, rnd.randint(1, 2))
                    if comment := rnd.choice(COMMENTS):
                        body["comment"] = comment
                    if rnd.random() < 0.7:
                        body["contact"] = f"139{rnd.randint(10000000, 99999999)}"
                        contact = True
                if roll < 0.16 and score > 2:  # rated on the phone instead of the pad
                    r = api.post(f"/t/{t['public_token']}/rating", json={"score": score})
                    assert r.status_code == 201, r.text
                    counts["phone"] += 1
                    continue
                ev = staff[cid].post(f"/counters/{cid}/evaluate", body)
                counts["pad"] += 1
                if ev["case"]:
                    counts["bad_cases"] += 1
                    plan_case(ev["case"], day, contact)
                    if cid == "6" and appealed < 2:  # 王五 appeals two; one is upheld
                        staff[cid].post(
                            f"/cases/{ev['case']}/appeal", {"note": "群众未办理即评价，疑为误评"}
                        )
                        appealed += 1
                        plans.setdefault(working_days_after(day, 2), []).append(
                            (ev["case"], f"decide-{appealed}")
                        )
                    elif extended == 0 and day.day > 10:
                        plans.setdefault(working_days_after(day, 2), []).append(
                            (ev["case"], "extend")
                        )
                        extended = 1
                elif rnd.random() < 0.05:  # a citizen confirms on the phone
                    r = api.post(
                        f"/t/{t['public_token']}/rating",
                        json={"score": max(1, score - rnd.randint(0, 1))},
                    )
                    assert r.status_code == 201, r.text
                    counts["checks"] += 1
            if _round % 3 == 1:  # the cheat draws a ticket, "serves" it in seconds, rates it
                t = issue("B")
                r = api.post(
                    "/api/v1/counters/7/call", json={"ticket": t["id"]}, headers=counter_api
                )
                assert r.status_code == 200, r.text
                clock.advance(rnd.uniform(6, 15))
                finish(CHEAT)
                clock.advance(1)
                staff[CHEAT].post("/counters/7/evaluate", {"ticket": t["id"], "score": 5})
                counts["pad"] += 1
        clock.to_local(day, 17, 30)
        todo = plans.get(day, [])
        for case, step in list(todo):
            if step.startswith("decide-"):
                head.post(
                    f"/cases/{case}/appeal/decision",
                    {"upheld": step == "decide-1", "note": "调取监控复核"},
                )
                todo.remove((case, step))
            elif step == "extend":
                c = head.get(f"/cases/{case}")
                new = working_days_after(dt.date.fromisoformat(c["due_on"]), 10).isoformat()
                head.post(
                    f"/cases/{case}/steps",
                    {"step": "extend", "note": "需医保局协调系统升级", "extend_to": new},
                )
                todo.remove((case, step))
        work_cases(day)
        day += dt.timedelta(days=1)
    api.__exit__(None, None, None)
    return counts


def screenshots(config_path: Path, database: str, month: str, out: Path) -> dict[str, Any]:
    from playwright.sync_api import sync_playwright

    from tests.web.conftest import CHROMIUM, CHROMIUM_ARGS

    hall = HallProcess(config_path, free_port(), database).start(60)
    try:
        figures = json.loads(
            __import__("requests")
            .get(f"{hall.url}/p/evaluations.json?month={month}", timeout=30)
            .text
        )["figures"]
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            ctx = browser.new_context(viewport={"width": 1400, "height": 760}, locale="zh-CN")
            page = ctx.new_page()
            page.goto(f"{hall.url}/p/evaluations?month={month}")
            page.wait_for_selector("body[data-ready]")
            page.screenshot(path=str(out / "public.png"), full_page=True)
            staff = ctx.new_page()
            staff.goto(f"{hall.url}/web/login?next=/web/dashboard?month={month}")
            staff.fill("#username", BOSS)
            staff.fill("#password", PASSWORD)
            staff.click("#login-button")
            staff.wait_for_url("**/web/dashboard**")
            staff.wait_for_selector("#integrity-panel[data-ready]", timeout=60_000)
            staff.locator("#integrity-panel").screenshot(path=str(out / "integrity.png"))
            integrity = staff.evaluate(
                f"fetch('/web/api/integrity?month={month}').then(r => r.json())"
            )
            staff.goto(f"{hall.url}/web/cases?kind=bad_review")
            staff.wait_for_selector("body[data-ready]")
            staff.screenshot(path=str(out / "cases.png"), full_page=False)
            browser.close()
    finally:
        hall.stop()
    return {"public": figures, "integrity": integrity}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=Path("/tmp/month"))
    parser.add_argument("--month", default="2026-11")
    parser.add_argument("--seed", type=int, default=19)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="govhall-month-"))
    try:
        config_path = write_config(work / "hall.toml", free_port())
        database = f"sqlite:///{work / 'hall.db'}"
        counts = simulate(database, config_path, args.month, random.Random(args.seed))
        shutil.copy(work / "hall.db", args.out / "hall.db")
        shown = screenshots(config_path, database, args.month, args.out)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    result = {"simulated": counts, **shown}
    (args.out / "figures.json").write_text(
        json.dumps(result, ensure_ascii=False, indent=2), encoding="utf-8"
    )
    print(json.dumps(result, ensure_ascii=False, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Capacity is never exceeded (issue 21): 200 citizens racing over real HTTP for the last
places of one slot of a real hall process, on SQLite and on PostgreSQL, leave exactly the
capacity booked and every other request refused with ``slot_full``; one person firing at
many slots of a day at once gets exactly one."""

from __future__ import annotations

import threading
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests
from sqlalchemy import create_engine, select

from hall.storage import tables as t
from tests.hall.test_booking_api import PHONE, person
from tests.support.hall import PG_URL
from tests.support.hall_server import TOKENS, HallProcess, free_port, write_config

pytestmark = pytest.mark.slow


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def hall(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[HallProcess]:
    if request.param == "sqlite":
        database = f"sqlite:///{tmp_path / 'hall.db'}"
        hall_id = None
    else:
        if not PG_URL:
            pytest.skip("PostgreSQL not configured (GOVHALL_TEST_POSTGRES_URL)")
        database, hall_id = PG_URL, f"race-{uuid.uuid4().hex[:10]}"
    port = free_port()
    # 20 a slot, 15 bookable; the address limit out of the way (all come from 127.0.0.1)
    cfg = write_config(tmp_path / "hall.toml", port, extra="\n[booking.service.A]\ncapacity = 20\n")
    text = cfg.read_text(encoding="utf-8").replace(
        "rate_per_minute = 30 ", "rate_per_minute = 10000 "
    )
    if hall_id:
        text = text.replace('id = "xc-district"', f'id = "{hall_id}"', 1)
    cfg.write_text(text, encoding="utf-8")
    proc = HallProcess(cfg, port, database).start()
    yield proc
    proc.stop()


def first_slot(url: str) -> tuple[str, int]:
    days = requests.get(f"{url}/api/v1/booking/slots", params={"service": "A"}, timeout=10)
    assert days.status_code == 200, days.text
    day = next(d for d in days.json()["days"] if d["state"] == "open")
    slot = next(s for s in day["slots"] if "T10:00" in s["start"])
    return slot["start"], slot["left"]


def book(url: str, slot: str, who: str) -> requests.Response:
    body = {"service": "A", "slot_start": slot, "name": "王芳", "id_number": who, "phone": PHONE}
    return requests.post(f"{url}/api/v1/bookings", json=body, timeout=60)


def race(n: int, fn: Callable[[int], requests.Response]) -> list[requests.Response]:
    start = threading.Barrier(n)

    def one(i: int) -> requests.Response:
        start.wait()
        return fn(i)

    with ThreadPoolExecutor(n) as pool:
        return list(pool.map(one, range(n)))


def test_200_bookers_for_the_last_places_of_a_slot(hall: HallProcess) -> None:
    slot, left = first_slot(hall.url)
    assert left == 15
    for n in range(10):  # 5 places left
        assert book(hall.url, slot, person(1000 + n)).status_code == 201

    answers = race(200, lambda i: book(hall.url, slot, person(i)))

    statuses = Counter(r.status_code for r in answers)
    assert statuses == {201: 5, 409: 195}, statuses
    assert {r.json()["error"] for r in answers if r.status_code == 409} == {"slot_full"}
    assert first_slot(hall.url)[1] == 0
    codes = [r.json()["code"] for r in answers if r.status_code == 201]
    assert len(set(codes)) == 5

    # the database: 15 in the slot, every one a different person
    engine = create_engine(hall.database)
    try:
        with engine.connect() as conn:
            A = t.appointments
            hall_id = next(
                line.split('"')[1]
                for line in hall.config.read_text(encoding="utf-8").splitlines()
                if line.startswith("id = ")
            )
            rows = conn.execute(
                select(A.c.id_hash, A.c.status).where(A.c.hall_id == hall_id, A.c.service == "A")
            ).all()
    finally:
        engine.dispose()
    assert len(rows) == 15 and all(r.status == "booked" for r in rows)
    assert len({r.id_hash for r in rows}) == 15


def test_one_person_firing_at_many_slots_gets_one(hall: HallProcess) -> None:
    slot, _ = first_slot(hall.url)
    day = slot[:10]
    days = requests.get(f"{hall.url}/api/v1/booking/slots", params={"service": "A"}, timeout=10)
    slots = next(d for d in days.json()["days"] if d["day"] == day)["slots"][:20]
    me = person(4242)

    answers = race(20, lambda i: book(hall.url, slots[i]["start"], me))

    statuses = Counter(r.status_code for r in answers)
    assert statuses == {201: 1, 409: 19}, statuses
    assert {r.json()["error"] for r in answers if r.status_code == 409} == {"limit_reached"}
    auth = {"Authorization": f"Bearer {TOKENS['counter']}"}
    summary = requests.get(
        f"{hall.url}/api/v1/bookings", params={"day": day}, headers=auth, timeout=10
    ).json()
    assert next(s for s in summary["services"] if s["service"] == "A")["booked"] == 1

"""Group commit: concurrent changes share a transaction; one refused change rolls back alone
and every accepted one is durable and numbered without gaps."""

from __future__ import annotations

import threading

from hall.errors import HallError
from hall.services import queries, tickets
from hall.services.core import HallContext
from tests.hall.conftest import YOUNG, YOUNG2


def test_refused_changes_in_a_batch_roll_back_alone(ctx: HallContext) -> None:
    results: list[str] = []
    errors: list[str] = []
    lock = threading.Lock()
    start = threading.Barrier(8)

    def worker(i: int) -> None:
        start.wait()
        for j in range(15):
            person = YOUNG if (i + j) % 2 else YOUNG2
            req = (
                tickets.IssueRequest(service="A", id_number=person)
                if j % 3 == 0
                else tickets.IssueRequest(service="B")
            )
            try:
                t, _ = tickets.issue(ctx, req)
            except HallError as err:
                with lock:
                    errors.append(err.code)
            else:
                with lock:
                    results.append(t["number"])

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(8)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(60)
    # two people, daily limit one each: exactly two A tickets, the rest refused
    a = sorted(n for n in results if n.startswith("A"))
    b = sorted(n for n in results if n.startswith("B"))
    assert a == ["A001", "A002"]
    assert set(errors) == {"daily_limit"} and len(errors) == 8 * 5 - 2
    assert b == [f"B{i:03d}" for i in range(1, 8 * 10 + 1)]  # no gap, no duplicate
    with ctx.read() as conn:
        assert queries.waiting_counts(conn, ctx.hall_id, ["A", "B"]) == {"A": 2, "B": 80}

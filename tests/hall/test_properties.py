"""Property tests of the queue engine under random operation sequences: no ticket is ever
lost or at two counters, every call-next picks what the pure policy picks over the whole
queue, the SQL people-ahead count equals the policy's, and counts and statistics agree."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule
from sqlalchemy import select

from hall.domain import policy
from hall.domain.tickets import AT_COUNTER_STATES, Klass, Status
from hall.errors import HallError
from hall.services import counters, queries, stats, tickets
from hall.services.context import HallContext
from hall.storage import migrate
from hall.storage import tables as t
from hall.storage.engine import make_engine
from tests.support.clock import FakeClock
from tests.support.examples import examples
from tests.support.hall import make_config

COUNTERS = ["1", "2", "3"]
SERVICES = ["B", "C"]  # B: counter 1; C: counter 3 (counter 2 serves only A: never gets one)
_TEMPLATE: Path | None = None


def fresh_db() -> str:
    """A migrated database copied from a template: migrations once, not per example."""
    global _TEMPLATE
    tmp = Path(tempfile.mkdtemp(prefix="govhall-prop-"))
    if _TEMPLATE is None:
        _TEMPLATE = tmp / "template.db"
        engine = make_engine(f"sqlite:///{_TEMPLATE}")
        migrate.upgrade(engine)
        engine.dispose()
    target = tmp / "hall.db"
    target.write_bytes(_TEMPLATE.read_bytes())
    return f"sqlite:///{target}"


class QueueMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.clock = FakeClock()
        self.ctx = HallContext(
            make_config(recall_limit=1, recall_cooldown_s=0, aging_bound_s=600),
            make_engine(fresh_db()),
            self.clock,
        )
        self.ctx.ensure_rows()
        self.issued: dict[int, str] = {}  # id → number
        self.first_legs = 0

    def teardown(self) -> None:
        self.ctx.engine.dispose()

    # -- helpers -------------------------------------------------------------------------
    def rows(self) -> list[Any]:
        with self.ctx.read() as conn:
            return conn.execute(select(t.tickets)).all()

    def waiting_candidates(self) -> list[policy.Candidate]:
        return [
            policy.Candidate(r.id, r.service, Klass(r.klass), r.queue_time, r.pinned_counter)
            for r in self.rows()
            if r.status == Status.WAITING.value
        ]

    def try_(self, fn: Any, *args: Any) -> Any:
        try:
            return fn(self.ctx, *args)
        except HallError as err:
            assert 400 <= err.status < 500
            return None

    # -- rules -----------------------------------------------------------------------------
    @rule(
        service=st.sampled_from(SERVICES),
        priority=st.sampled_from([None, None, None, "elderly", "military"]),
    )
    def issue(self, service: str, priority: str | None) -> None:
        ticket, created = tickets.issue(
            self.ctx, tickets.IssueRequest(service=service, priority=priority)
        )
        assert created and ticket.status == "waiting"
        assert ticket.id not in self.issued
        self.issued[ticket.id] = ticket.number
        self.first_legs += 1

    @rule(seconds=st.sampled_from([1, 30, 120, 700]))
    def time_passes(self, seconds: int) -> None:
        self.clock.advance(seconds)

    @rule(counter=st.sampled_from(COUNTERS))
    def call_next(self, counter: str) -> None:
        """Checked against the policy after the implicit finish of the current ticket,
        since finishing may send a transferred ticket back into this counter's queue."""
        cfg = self.ctx.config.counter(counter)
        assert cfg is not None
        self.try_(counters.finish, counter)
        expected = policy.choose_next(
            self.waiting_candidates(),
            counter,
            cfg.services,
            self.clock(),
            self.ctx.config.policy.aging_bound_s,
        )
        got = self.try_(counters.call_next, counter)
        if got is None:
            assert expected is None or self.paused(counter)
        else:
            assert expected is not None and got.id == expected.id

    def paused(self, counter: str) -> bool:
        with self.ctx.read() as conn:
            return (
                conn.execute(
                    select(t.counters.c.state).where(t.counters.c.id == counter)
                ).scalar_one()
                == "paused"
            )

    @rule(counter=st.sampled_from(COUNTERS))
    def call_next_finishing_current(self, counter: str) -> None:
        self.try_(counters.call_next, counter)

    @rule(
        counter=st.sampled_from(COUNTERS),
        action=st.sampled_from(["recall", "start", "finish", "no_show", "park"]),
    )
    def act(self, counter: str, action: str) -> None:
        self.try_(getattr(counters, action), counter)

    @rule(
        counter=st.sampled_from(COUNTERS),
        service=st.sampled_from([*SERVICES, "A"]),
        back=st.booleans(),
    )
    def transfer(self, counter: str, service: str, back: bool) -> None:
        self.try_(counters.transfer, counter, service, None, back)

    @rule(counter=st.sampled_from(COUNTERS), data=st.data())
    def call_specific(self, counter: str, data: st.DataObject) -> None:
        if self.issued:
            ticket = data.draw(st.sampled_from(sorted(self.issued)))
            self.try_(counters.call_ticket, counter, ticket)

    @rule(data=st.data())
    def requeue(self, data: st.DataObject) -> None:
        if self.issued:
            self.try_(tickets.requeue, data.draw(st.sampled_from(sorted(self.issued))))

    @rule(counter=st.sampled_from(COUNTERS), pause=st.booleans())
    def pause_or_resume(self, counter: str, pause: bool) -> None:
        if pause:
            self.try_(counters.pause, counter, "break")
        else:
            self.try_(counters.resume, counter)

    # -- invariants --------------------------------------------------------------------------
    @invariant()
    def no_ticket_lost_or_doubled(self) -> None:
        rows = self.rows()
        ids = {r.id for r in rows}
        assert set(self.issued) <= ids
        at_counter: dict[str, list[int]] = {}
        for r in rows:
            assert r.status in {s.value for s in Status}
            if Status(r.status) in AT_COUNTER_STATES:
                at_counter.setdefault(r.counter_id, []).append(r.id)
        assert all(len(v) == 1 for v in at_counter.values()), at_counter
        # a transferred ticket lives on in exactly one open successor at most
        succ = [r.transferred_to for r in rows if r.transferred_to is not None]
        assert len(succ) == len(set(succ))

    @invariant()
    def people_ahead_matches_policy(self) -> None:
        cands = self.waiting_candidates()
        now = self.clock()
        bound = self.ctx.config.policy.aging_bound_s
        with self.ctx.read() as conn:
            for r in self.rows():
                if r.status != Status.WAITING.value:
                    continue
                me = next(c for c in cands if c.id == r.id)
                want = policy.ahead_of(me, cands, now, bound)
                assert queries.waiting_ahead(conn, self.ctx.hall_id, r, now, bound) == want

    @invariant()
    def counts_agree(self) -> None:
        rows = self.rows()
        with self.ctx.read() as conn:
            waiting = queries.waiting_counts(conn, self.ctx.hall_id)
        for s in SERVICES:
            assert waiting.get(s, 0) == sum(
                1 for r in rows if r.service == s and r.status == Status.WAITING.value
            )
        total = stats.compute(self.ctx).total
        assert total.issued == self.first_legs
        assert total.waiting_now == sum(waiting.values())


QueueMachine.TestCase.settings = settings(
    max_examples=examples(int(__import__("os").environ.get("GOVHALL_PROPERTY_EXAMPLES", "40"))),
    stateful_step_count=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
TestQueueProperties = QueueMachine.TestCase

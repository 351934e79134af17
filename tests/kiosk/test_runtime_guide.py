"""我要办 → 取号 through the real runtime (issue 20): the kiosk's flow, the real HallClient and
a real hall server process (tests/support/multi_hall.py, a hall of its own per test). The
ticket the guide takes carries its matters — a 一件事一次办 bundle's, or the one matter —
and the hall registers them with it for the counter and one rating each."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, select

from hall.storage import tables as t
from kiosk.flows.model import Screen
from tests.kiosk import test_runtime as rt
from tests.support.multi_hall import Hall, MultiHallServer, start_multi_hall


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MultiHallServer]:
    halls = start_multi_hall(tmp_path_factory.mktemp("halls"))
    yield halls
    halls.close()


@pytest.fixture
def hall(server: MultiHallServer, request: pytest.FixtureRequest) -> Hall:
    return server.hall_for("guide", request.node.name)


@pytest.fixture
def kiosk(tmp_path: Path, hall: Hall) -> Iterator[rt.Kiosk]:
    k = rt.Kiosk(tmp_path, hall)
    yield k
    k.close()


def registered(hall: Hall, ticket_id: int) -> list[Any]:
    """The ticket's matters as the hall stored them (its database, this hall's rows)."""
    m = t.ticket_matters
    engine = create_engine(hall.server.database)
    try:
        with engine.connect() as conn:
            return list(
                conn.execute(
                    select(m.c.matter_code, m.c.source, m.c.service, m.c.matter_no)
                    .where(m.c.hall_id == hall.hall_id, m.c.ticket_id == ticket_id)
                    .order_by(m.c.id)
                )
            )
    finally:
        engine.dispose()


def test_a_bundles_ticket_from_the_guide_carries_its_matters(kiosk: rt.Kiosk, hall: Hall) -> None:
    flow = kiosk.flow
    kiosk.run(flow.tap_guide_search())
    for letter in "xinshenger":
        kiosk.run(flow.guide_act("key", letter))
    assert flow.view.guide_view is not None
    assert "yjs-01" in [h.code for h in flow.view.guide_view.hits]
    kiosk.run(flow.guide_act("pick", "yjs-01"))
    kiosk.run(flow.guide_act("ticket"))  # 综合咨询 (J) needs no card: issued and printed
    tk = flow.view.ticket
    assert flow.view.screen is Screen.TICKET and tk is not None and tk.number == "J001"
    rows = registered(hall, tk.ticket_id)
    assert [r.matter_code for r in rows] == ["hj-01", "yb-01", "sb-03"]
    assert {r.source for r in rows} == {"guide"} and {r.service for r in rows} == {"J"}
    assert len({r.matter_no for r in rows}) == 3


def test_one_matters_ticket_carries_that_matter(kiosk: rt.Kiosk, hall: Hall) -> None:
    flow = kiosk.flow
    kiosk.run(flow.tap_guide_search())
    kiosk.run(flow.guide_act("pick", "sb-04"))
    kiosk.run(flow.guide_act("answer", "lost"))
    kiosk.reader_sim.place("resident")
    kiosk.run(flow.guide_act("ticket"))  # 社保 (A): the ID card, as from its tile
    tk = flow.view.ticket
    assert flow.view.screen is Screen.TICKET and tk is not None and tk.number == "A001"
    assert [(r.matter_code, r.service) for r in registered(hall, tk.ticket_id)] == [("sb-04", "A")]
    # the next citizen's ticket from the tile names nothing
    kiosk.run(flow.home())
    kiosk.run(flow.tap_service("G"))
    tk = flow.view.ticket
    assert tk is not None and tk.number == "G001" and registered(hall, tk.ticket_id) == []

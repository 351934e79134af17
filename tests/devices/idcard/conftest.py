"""Fixtures: the real simulator on a real pty (with a link, so re-plugging works) or TCP
port, and the real driver opened on it. No mocks."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from devices.idcard.driver import IdCardReader
from devices.idcard.simulator import IdCardSimulator


@pytest.fixture(params=["pty", "tcp"])
def sim(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[IdCardSimulator]:
    link = tmp_path / "ttyIDCARD" if request.param == "pty" else None
    with IdCardSimulator(transport=request.param, link=link) as simulator:
        yield simulator


@pytest.fixture
def pty_sim(tmp_path: Path) -> Iterator[IdCardSimulator]:
    with IdCardSimulator(link=tmp_path / "ttyIDCARD") as simulator:
        yield simulator


@pytest.fixture
def reader(sim: IdCardSimulator) -> Iterator[IdCardReader]:
    with IdCardReader(sim.port) as r:
        yield r


@pytest.fixture
def pty_reader(pty_sim: IdCardSimulator) -> Iterator[IdCardReader]:
    with IdCardReader(pty_sim.port) as r:
        yield r

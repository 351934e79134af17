"""Hall events drive the counter LED strips (real driver, simulated strips on a pty)."""

from __future__ import annotations

from devices.led.driver import LedBus
from devices.led.simulator import LedSimulator
from signage.led import LedStrips


def called(counter: str, number: str) -> dict:
    return {"ticket": {"id": 1, "number": number, "counter": counter}, "waiting": {}}


def test_calls_and_pauses_reach_the_strips_and_survive_a_dead_line() -> None:
    with LedSimulator(addresses=[3, 4]) as sim:
        strips = LedStrips(
            sim.port, {"3": 3, "4": 4, "5": 5}, bus=LedBus(sim.port, timeout=0.15, retries=1)
        )
        try:
            strips.on_event(1, "ticket.called", called("3", "A012"))
            strips.on_event(2, "counter.paused", {"counter": "4", "reason": "午休"})
            strips.on_event(3, "ticket.called", called("9", "A013"))  # no strip there
            strips.on_event(4, "ticket.called", "garbage")  # malformed: ignored
            assert strips.idle(5)
            assert sim.strips[3].text == "请A012号" and sim.strips[4].text == "暂停服务"
            # The line goes dead for a while: the newest text is kept and sent afterwards.
            sim.drop_replies = 100
            strips.on_event(5, "ticket.called", called("3", "A014"))
            strips.on_event(6, "ticket.recalled", called("3", "A015"))
            assert not strips.idle(0.5) and strips.failures >= 1
            sim.drop_replies = 0
            sim.wait_text(3, "请A015号", timeout=10)
            assert strips.idle(5)
            assert sim.strips[3].text == "请A015号"
            # A strip that never answers (address 5 absent) does not block the others.
            strips.on_event(7, "ticket.called", called("5", "B001"))
            strips.on_event(8, "counter.resumed", {"counter": "4"})
            sim.wait_text(4, "欢迎光临", timeout=3)
            assert 5 in strips._pending  # still wanted, retried every RETRY_S
        finally:
            strips.close()

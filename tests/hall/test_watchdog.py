"""The storage watchdog aborts every guarded call that outlives its deadline, whatever the
order the deadlines came in (it is woken only when it must wait less than it does)."""

from __future__ import annotations

import threading
import time

from hall.storage.deadline import Watchdog


def test_calls_past_their_deadline_are_aborted_in_any_order() -> None:
    dog = Watchdog()
    aborted: list[str] = []
    now = time.monotonic()
    release = {name: threading.Event() for name in ("late", "soon", "finished", "sooner")}

    def guarded(name: str, deadline: float, finish: bool) -> None:
        with dog.guard(deadline, lambda: (aborted.append(name), release[name].set())):
            if not finish:
                release[name].wait(5)  # a stalled call: only its abort ends it

    threads = [
        # a far deadline first: the thread sleeps until it
        threading.Thread(target=guarded, args=("late", now + 0.6, False)),
        # then a nearer one, which must wake it to wait less
        threading.Thread(target=guarded, args=("soon", now + 0.2, False)),
        # one that finishes in time is never aborted, and leaves the head stale
        threading.Thread(target=guarded, args=("finished", now + 0.1, True)),
        # after the stale head, a later deadline still nearer than the others
        threading.Thread(target=guarded, args=("sooner", now + 0.3, False)),
    ]
    for th in threads:
        th.start()
        time.sleep(0.01)
    for th in threads:
        th.join(3)
    assert aborted == ["soon", "sooner", "late"]
    assert all(not th.is_alive() for th in threads)


def test_a_call_after_an_idle_spell_is_still_watched() -> None:
    dog = Watchdog()
    with dog.guard(time.monotonic() + 5, lambda: None):
        pass
    time.sleep(0.05)  # the thread now waits for the stale deadline 5 s away
    stalled = threading.Event()
    start = time.monotonic()
    with dog.guard(time.monotonic() + 0.1, stalled.set):
        assert stalled.wait(3)
    assert time.monotonic() - start < 2

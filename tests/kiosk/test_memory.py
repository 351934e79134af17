"""The kiosk's allocator settings: which are applied, and that glibc really follows them."""

from __future__ import annotations

import platform
import subprocess
import sys
from typing import Any

import pytest

from kiosk import memory
from tests.support.hall_server import ROOT


class FakeLibc:
    def __init__(self, answer: int = 1) -> None:
        self.calls: list[tuple[int, int]] = []
        self.trimmed = 0
        self.answer = answer

    def mallopt(self, param: int, value: int) -> int:
        self.calls.append((param, value))
        return self.answer

    def malloc_trim(self, pad: int) -> int:
        self.trimmed += 1
        return 1


def test_plan_sets_arena_limit_and_fixed_mmap_threshold_by_default() -> None:
    assert memory.malloc_plan({}) == {"arena_max": 2, "mmap_threshold": 4 << 20}


def test_plan_leaves_what_the_operator_set_to_the_operator() -> None:
    assert memory.malloc_plan({"MALLOC_ARENA_MAX": "4"}) == {"mmap_threshold": 4 << 20}
    assert memory.malloc_plan({"MALLOC_MMAP_THRESHOLD_": "131072"}) == {"arena_max": 2}
    tunables = {"GLIBC_TUNABLES": "glibc.malloc.tcache_count=0:glibc.malloc.arena_max=8"}
    assert memory.malloc_plan(tunables) == {"mmap_threshold": 4 << 20}
    assert memory.malloc_plan({"GOVHALL_KIOSK_MALLOC": "default"}) == {}


def test_configure_calls_mallopt_and_says_what_is_in_force() -> None:
    libc = FakeLibc()
    in_force = memory.configure_process({"MALLOC_ARENA_MAX": "4"}, libc)
    assert libc.calls == [(memory.M_MMAP_THRESHOLD, 4 << 20)]
    assert in_force == {"arena_max": "4 (from MALLOC_ARENA_MAX)", "mmap_threshold": "4194304"}
    refused = memory.configure_process({}, FakeLibc(answer=0))
    assert set(refused.values()) == {"unchanged (mallopt refused)"}
    assert memory.configure_process({"GOVHALL_KIOSK_MALLOC": "default"}, FakeLibc()) == {
        "arena_max": "glibc default",
        "mmap_threshold": "glibc default",
    }


def test_release_free_memory_trims_when_glibc_is_there() -> None:
    libc = FakeLibc()
    assert memory.release_free_memory(libc) is True and libc.trimmed == 1
    assert memory.release_free_memory(False) is False


ARENAS = r"""
import ctypes, os, re, sys, tempfile, threading
if sys.argv[1] == "configured":
    from kiosk.memory import configure_process
    configure_process()
ready = threading.Barrier(7)
done = threading.Event()
def work():
    keep = [bytearray(20_000) for _ in range(20)]  # malloc'd, below any mmap threshold
    ready.wait()
    done.wait()
threads = [threading.Thread(target=work) for _ in range(6)]
for t in threads:
    t.start()
ready.wait()
libc = ctypes.CDLL(None)
libc.fdopen.restype = ctypes.c_void_p
with tempfile.TemporaryFile() as f:
    stream = libc.fdopen(os.dup(f.fileno()), b"w")
    libc.malloc_info(0, ctypes.c_void_p(stream))
    libc.fclose(ctypes.c_void_p(stream))
    f.seek(0)
    print(len(re.findall(rb"<heap nr=", f.read())))
done.set()
"""


def arenas(mode: str) -> int:
    out = subprocess.run(
        [sys.executable, "-c", ARENAS, mode],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "/usr/bin:/bin"},
    )
    assert out.returncode == 0, out.stderr
    return int(out.stdout)


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="glibc only")
def test_threads_started_after_configure_share_two_arenas() -> None:
    assert arenas("plain") >= 4  # glibc's default: an arena per thread, up to 8 per core
    assert arenas("configured") == memory.ARENA_MAX


def test_in_force_text_names_each_setting() -> None:
    text: Any = memory.describe({"arena_max": "2", "mmap_threshold": "4194304"})
    assert text == "arena_max 2, mmap_threshold 4194304"

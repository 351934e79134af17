"""Memory settings of the kiosk process (issue 7: RSS < 300 MB, with the face check done).

Where the kiosk's memory goes was measured from ``/proc/PID/smaps`` (bench/kiosk_flow.py).
Most of it is what the kiosk is made of: the GL driver (Mesa's llvmpipe maps libLLVM, ~56 MB,
on a box without a GPU), Python with Kivy, NumPy and OpenCV, and dlib's face models (~33 MB,
loaded at the first face-checked service). One part is glibc's allocator keeping memory the
kiosk has freed: every thread that mallocs gets an arena of its own (up to 8 per core), so the
pool threads that ran a face check each kept several MB of freed frames and tensors, and the
dynamic mmap threshold (it grows to 32 MB after a large block is freed) let multi-MB buffers
land in the heap, where a live object above them pins them. This module sets the allocator up
for the kiosk and gives freed memory back when a citizen's session ends.

``configure_process()`` runs first in ``govhall kiosk`` (and the benchmark), before Kivy, NumPy
or any thread exists. It uses ``mallopt`` rather than environment variables because glibc reads
``MALLOC_*`` once, when the process starts: too late for a Python program to set its own. A limit
set with mallopt before the threads start is the one they get (glibc reads it when a thread
first needs an arena of its own). An operator's own ``MALLOC_ARENA_MAX``,
``MALLOC_MMAP_THRESHOLD_`` or ``GLIBC_TUNABLES=glibc.malloc.…`` wins; ``GOVHALL_KIOSK_MALLOC=
default`` keeps glibc's defaults (to compare). Elsewhere than glibc nothing is changed.
"""

from __future__ import annotations

import ctypes
import logging
import os
import platform
from collections.abc import Mapping
from typing import Any

log = logging.getLogger(__name__)

# glibc <malloc.h>
M_MMAP_THRESHOLD = -3
M_ARENA_MAX = -8

ARENA_MAX = 2
"""Arenas for all threads together. The kiosk's threads (UI, pool, camera, devices, Mesa) hold
the GIL or wait most of the time, so they rarely contend for a lock, and memory one of them
frees is reused by the next instead of idling in its own arena (−15 MB after face checks)."""
MMAP_THRESHOLD = 4 << 20
"""Blocks from 4 MiB up are mapped on their own and unmapped when freed (big label pixel
copies, dlib tensors), and the threshold no longer grows with what was freed. Camera frames
(0.9 MB at 640×480, 2.8 MB at 1280×720) stay in the heap, reused frame after frame."""
SWITCH = "GOVHALL_KIOSK_MALLOC"

# our name → (mallopt parameter, glibc environment variable, GLIBC_TUNABLES name, value)
_SETTINGS: dict[str, tuple[int, str, str, int]] = {
    "arena_max": (M_ARENA_MAX, "MALLOC_ARENA_MAX", "glibc.malloc.arena_max", ARENA_MAX),
    "mmap_threshold": (
        M_MMAP_THRESHOLD,
        "MALLOC_MMAP_THRESHOLD_",
        "glibc.malloc.mmap_threshold",
        MMAP_THRESHOLD,
    ),
}


def malloc_plan(environ: Mapping[str, str]) -> dict[str, int]:
    """The glibc malloc parameters to set, by name (pure): all of them, except those the
    operator set in the environment, or none when ``GOVHALL_KIOSK_MALLOC=default``."""
    if environ.get(SWITCH, "").strip().lower() == "default":
        return {}
    tunables = environ.get("GLIBC_TUNABLES", "")
    return {
        name: value
        for name, (_param, env, tunable, value) in _SETTINGS.items()
        if env not in environ and f"{tunable}=" not in tunables
    }


def _glibc() -> Any | None:
    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        return None
    try:
        libc = ctypes.CDLL(None)
        libc.mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
        libc.malloc_trim.argtypes = (ctypes.c_size_t,)
        return libc
    except (OSError, AttributeError):
        return None


def configure_process(environ: Mapping[str, str] | None = None, libc: Any = None) -> dict[str, str]:
    """Apply :func:`malloc_plan` with ``mallopt``; returns what is in force, for the log and
    the benchmark (``{"arena_max": "2", …}``; a value the operator set says so)."""
    environ = os.environ if environ is None else environ
    libc = _glibc() if libc is None else libc
    if not libc:
        return {"malloc": "unchanged (not glibc)"}
    in_force: dict[str, str] = {}
    plan = malloc_plan(environ)
    for name, (param, env, _tunable, _value) in _SETTINGS.items():
        if name in plan:
            ok = libc.mallopt(param, plan[name]) == 1
            in_force[name] = str(plan[name]) if ok else "unchanged (mallopt refused)"
        elif env in environ:
            in_force[name] = f"{environ[env]} (from {env})"
        else:
            in_force[name] = "glibc default"
    return in_force


def release_free_memory(libc: Any = None) -> bool:
    """Give the pages of freed blocks back to the system (``malloc_trim``): called when a
    citizen's session ends and after a face check, ~1 ms. False where it cannot."""
    libc = _glibc() if libc is None else libc
    if not libc:
        return False
    libc.malloc_trim(0)
    return True


def describe(in_force: Mapping[str, str]) -> str:
    return ", ".join(f"{k} {v}" for k, v in in_force.items())

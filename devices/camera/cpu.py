"""AVX detection, done before dlib is imported.

The dlib-bin wheel is compiled with AVX; on a CPU without it, ``import dlib`` dies with
SIGILL, which no ``try`` can catch. So the face check asks this module first and reports
``face.no_avx`` instead of taking the kiosk down.
"""

from __future__ import annotations

import platform
from pathlib import Path

CPUINFO = Path("/proc/cpuinfo")


def cpu_flags(cpuinfo: str) -> set[str]:
    """Flags of the first CPU in a /proc/cpuinfo text (x86 ``flags`` line)."""
    for line in cpuinfo.splitlines():
        key, _, value = line.partition(":")
        if key.strip() == "flags":
            return set(value.split())
    return set()


def has_avx(cpuinfo: str | None = None) -> bool | None:
    """True/False when known; None when this platform does not tell (then dlib is tried)."""
    if cpuinfo is None:
        if platform.machine().lower() not in ("x86_64", "amd64", "i686", "i386"):
            return None
        try:
            cpuinfo = CPUINFO.read_text(encoding="ascii", errors="replace")
        except OSError:
            return None
    flags = cpu_flags(cpuinfo)
    return ("avx" in flags) if flags else None

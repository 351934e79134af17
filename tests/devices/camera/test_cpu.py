"""AVX detection is read from /proc/cpuinfo text before dlib is imported."""

from __future__ import annotations

from devices.camera.cpu import cpu_flags, has_avx


def test_avx_flag_detection() -> None:
    assert has_avx("processor\t: 0\nflags\t\t: fpu sse2 avx avx2\n") is True
    assert has_avx("processor\t: 0\nflags\t\t: fpu sse2 sse4_2\n") is False
    # No flags line (e.g. ARM): unknown, not "no".
    assert has_avx("processor\t: 0\nFeatures\t: neon\n") is None
    assert cpu_flags("flags : a b\nflags : c\n") == {"a", "b"}  # first CPU only


def test_this_machine_is_answered() -> None:
    assert has_avx() in (True, False, None)

"""Shared test set-up: Kivy must be told to stay quiet and out of ~/.kivy before anything
imports it, and GUI tests run offscreen (no X server needed).

Hypothesis profiles: ``full`` (the default, ``make test``) and ``fast`` (``make test-fast``
sets ``GOVHALL_HYPOTHESIS_PROFILE=fast``), see tests/support/examples.py."""

from __future__ import annotations

import os
import tempfile

from hypothesis import settings

from tests.support.examples import FAST_EXAMPLES, PROFILE

os.environ.setdefault("KIVY_NO_ARGS", "1")
os.environ.setdefault("KIVY_NO_CONSOLELOG", "1")
os.environ.setdefault("KIVY_NO_FILELOG", "1")
os.environ.setdefault("KIVY_HOME", tempfile.mkdtemp(prefix="govhall-kivy-"))
os.environ.setdefault("SDL_VIDEODRIVER", "offscreen")
os.environ.setdefault("SDL_AUDIODRIVER", "dummy")

settings.register_profile("full", settings.get_profile("default"))
settings.register_profile("fast", max_examples=FAST_EXAMPLES)
if PROFILE not in ("full", "fast"):
    raise RuntimeError(f"GOVHALL_HYPOTHESIS_PROFILE={PROFILE!r}: expected full or fast")
settings.load_profile(PROFILE)

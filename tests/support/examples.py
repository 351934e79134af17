"""Hypothesis example counts per profile (registered in tests/conftest.py): ``full`` for
``make test`` keeps every test's own count, ``fast`` for ``make test-fast``
(``GOVHALL_HYPOTHESIS_PROFILE=fast``) runs a few examples of each, enough to catch a property
broken outright; the full run catches the rarer cases."""

from __future__ import annotations

import os

PROFILE = os.environ.get("GOVHALL_HYPOTHESIS_PROFILE", "full")
FAST_EXAMPLES = 10


def examples(full: int) -> int:
    """A test's ``max_examples``: ``full`` in the full profile, at most ``FAST_EXAMPLES`` in the
    fast one (an explicit ``settings(max_examples=…)`` overrides the loaded profile, so tests
    that set a count say ``examples(300)`` to follow it)."""
    return min(full, FAST_EXAMPLES) if PROFILE == "fast" else full

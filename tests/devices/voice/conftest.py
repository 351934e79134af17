"""Voice tests run the real synthesiser (pyttsx3 over espeak-ng) and assert on the WAVs."""

from __future__ import annotations

import shutil

import pytest

if shutil.which("espeak-ng") is None:  # pragma: no cover - the CI image installs it
    pytest.skip("espeak-ng is not installed", allow_module_level=True)

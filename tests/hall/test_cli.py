"""`govhall hall` refuses a bad config with one line naming file and key, whichever part
owns the section, and starts nothing."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.support.hall_server import ROOT, SAMPLE


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "govhall.cli", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_bad_sections_are_one_line_errors(tmp_path: Path) -> None:
    text = SAMPLE.read_text(encoding="utf-8")
    for section, bad in (("[hall]", "nmae = 1"), ("[web]", "bogus = 1")):
        cfg = tmp_path / "hall.toml"
        cfg.write_text(text.replace(section, f"{section}\n{bad}", 1), encoding="utf-8")
        r = run("hall", "--config", str(cfg), "--database", f"sqlite:///{tmp_path}/h.db")
        assert r.returncode == 2, r.stderr
        key = bad.split()[0]
        assert f"{section}.{key}: unknown key" in r.stderr and "Traceback" not in r.stderr
        assert str(cfg) in r.stderr


def test_web_accounts_subcommand_is_dispatched() -> None:
    r = run("web", "--help")
    assert r.returncode == 0 and "add-user" in r.stdout

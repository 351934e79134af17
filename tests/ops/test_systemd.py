"""The unit files in systemd/: verified by systemd itself (systemd-analyze verify), with
the install prefix /opt/govhall pointed at this checkout so ExecStart really exists, and
the promises of docs/install.md checked key by key."""

from __future__ import annotations

import configparser
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.support.hall_server import ROOT

UNITS = ROOT / "systemd"
LONG_RUNNING = ("govhall-hall.service", "govhall-kiosk.service", "govhall-signage.service")
ANALYZE = shutil.which("systemd-analyze")


def _installed_copy(tmp: Path) -> list[Path]:
    out = []
    for unit in sorted(UNITS.glob("govhall-*.*")):
        dest = tmp / unit.name
        dest.write_text(
            unit.read_text(encoding="utf-8").replace("/opt/govhall", str(ROOT)), encoding="utf-8"
        )
        out.append(dest)
    return out


def _verify(paths: list[Path]) -> subprocess.CompletedProcess[str]:
    assert ANALYZE is not None
    return subprocess.run(
        [ANALYZE, "verify", "--man=no", *map(str, paths)],
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.skipif(
    ANALYZE is None,
    reason="systemd-analyze not installed (Debian package systemd; scripts/setup.sh installs it)",
)
def test_systemd_accepts_every_unit_without_a_warning(tmp_path: Path) -> None:
    units = _installed_copy(tmp_path)
    assert {u.name for u in units} >= {
        *LONG_RUNNING,
        "govhall-backup.service",
        "govhall-backup.timer",
        "govhall-bulletin.service",
        "govhall-bulletin.timer",
    }
    run = _verify(units)
    # unknown keys and bad values are only warnings for systemd: any output is a failure
    complaints = [line for line in (run.stdout + run.stderr).splitlines() if "govhall" in line]
    assert run.returncode == 0 and not complaints, run.stdout + run.stderr


@pytest.mark.skipif(ANALYZE is None, reason="systemd-analyze not installed")
def test_the_verifier_would_catch_a_typo(tmp_path: Path) -> None:
    """Control: the check above is not blind to a misspelt key or a wrong path."""
    unit = tmp_path / "govhall-hall.service"
    _installed_copy(tmp_path)
    unit.write_text(
        unit.read_text(encoding="utf-8").replace("WatchdogSec", "WatchdgSec"), encoding="utf-8"
    )
    run = _verify([unit])
    assert "Unknown key 'WatchdgSec'" in run.stderr


def _read(name: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read(UNITS / name, encoding="utf-8")
    return parser


@pytest.mark.parametrize("name", LONG_RUNNING)
def test_long_running_units_restart_watchdog_and_log_to_journald(name: str) -> None:
    unit = _read(name)
    s, u = unit["Service"], unit["Unit"]
    assert s["Type"] == "notify" and int(s["WatchdogSec"]) > 0
    assert s["Restart"] == "always" and u["StartLimitIntervalSec"] == "0"
    assert s["StandardOutput"] == s["StandardError"] == "journal"
    assert s["User"] not in ("root", "")
    assert "network-online.target" in u["After"] and "network-online.target" in u["Wants"]
    args = s["ExecStart"].split()
    assert args[0] == "/opt/govhall/.venv/bin/govhall"
    assert args[-2:] == ["--config", "/etc/govhall/hall.toml"]
    if name != "govhall-hall.service":  # the apps: on the auto-login kiosk user's X session
        assert s["User"] == "kiosk" and "display-manager.service" in u["After"]
        # (Environment= repeats, which configparser folds: read the file's lines)
        assert "Environment=DISPLAY=:0" in (UNITS / name).read_text().splitlines()
        assert unit["Install"]["WantedBy"] == "graphical.target"
    else:
        assert s["User"] == "govhall" and s["ProtectSystem"] == "strict"


def test_the_sysusers_file_creates_the_server_user() -> None:
    line = next(
        ln
        for ln in (UNITS / "sysusers-govhall.conf").read_text().splitlines()
        if ln and not ln.startswith("#")
    )
    assert line.split()[:2] == ["u", "govhall"]

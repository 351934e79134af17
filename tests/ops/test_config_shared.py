"""Every command refuses the same bad config the same way: exit 2 (doctor: a ✗ line and
exit 1), naming file, key and problem, before it opens a window, a port or a database."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.ops.conftest import govhall
from tests.support.hall_server import TOKENS, sample_text

# (what is wrong, edit of the sample config, what the message must say)
BAD = {
    "unknown key": (("[server]\n", "[server]\nprot = 8700\n"), "[server].prot: unknown key"),
    "counter serving an unknown service": (
        ('services = ["C"]\n', 'services = ["Z"]\n'),
        "services: no service with code 'Z'",
    ),
    "duplicate prefix": (
        ('prefix = "B"', 'prefix = "A"'),
        "[[service]] B.prefix: 'A' is already the prefix of service 'A'",
    ),
    "token used twice": (
        (
            f'token = "{TOKENS["display"]}"\n\n[[token]]',
            f'token = "{TOKENS["kiosk"]}"\n\n[[token]]',
        ),
        "[[token]] lobby-board.token: the same token is already used by 'kiosk-1'",
    ),
    "the sample's own token": (
        (f'token = "{TOKENS["admin"]}"', 'token = "sample-admin-token-change-me"'),
        "[[token]] manager.token: is the sample config's token, which everyone can read",
    ),
}
COMMANDS = ("hall", "kiosk", "signage", "backup", "restore", "doctor")


@pytest.mark.slow
@pytest.mark.parametrize("problem", sorted(BAD))
def test_every_command_refuses_a_bad_config_naming_the_place(tmp_path: Path, problem: str) -> None:
    (old, new), message = BAD[problem]
    text = sample_text()
    assert text.count(old) >= 1
    cfg = tmp_path / "hall.toml"
    cfg.write_text(text.replace(old, new, 1), encoding="utf-8")
    for command in COMMANDS:
        args = [command, "--config", str(cfg)]
        if command in ("backup", "restore"):
            args.insert(1, str(tmp_path / "backup.db"))
        run = govhall(*args, timeout=30)
        said = run.stdout + run.stderr
        assert f"{cfg}: " in said and message in said, (command, said)
        assert "Traceback" not in said, command
        assert run.returncode == (1 if command == "doctor" else 2), (command, said)
    # what must still hold: nothing was created on the way out
    assert sorted(p.name for p in tmp_path.iterdir()) == ["hall.toml"]

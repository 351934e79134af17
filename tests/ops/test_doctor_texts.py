"""The doctor's texts: one catalogue (common/assets/locales/doctor.toml) with every finding and
hint in Chinese and English, each key the code asks for present and each one there used, and
the report that shows both, Chinese first."""

from __future__ import annotations

import ast
import re
import string
from pathlib import Path

from common.health import Check, Mark, Text, fail, ok, skip, text, verbatim
from common.i18n import catalogue
from govhall.doctor import render
from tests.support.hall_server import ROOT

CJK = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]")
USERS = [
    *sorted((ROOT / "govhall" / "doctor").rglob("*.py")),
    *sorted((ROOT / "devices").glob("*/health.py")),
]


def _keys_asked_for() -> dict[str, Path]:
    """Every catalogue key passed to common.health.text(…), also as either arm of an if."""
    found: dict[str, Path] = {}
    for path in USERS:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "text":
                for part in ast.walk(node.args[0]):
                    if isinstance(part, ast.Constant) and isinstance(part.value, str):
                        found.setdefault(part.value, path)
    return found


def _fields(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def test_the_device_packages_and_the_doctor_are_the_users() -> None:
    names = {p.relative_to(ROOT).as_posix() for p in USERS}
    assert {
        "devices/camera/health.py",
        "devices/idcard/health.py",
        "devices/printer/health.py",
        "devices/voice/health.py",
        "govhall/doctor/checks/config.py",
        "govhall/doctor/checks/hall.py",
        "govhall/doctor/checks/machine.py",
    } <= names


def test_every_key_asked_for_is_in_the_catalogue_and_every_entry_is_used() -> None:
    entries = catalogue("doctor")
    asked = _keys_asked_for()
    missing = {k: str(p) for k, p in asked.items() if k not in entries}
    assert missing == {}
    assert sorted(set(entries) - set(asked)) == []


def test_every_entry_is_chinese_then_english_with_the_same_values() -> None:
    for key, entry in catalogue("doctor").items():
        assert list(entry) == ["zh", "en"], key
        assert CJK.search(entry["zh"]), (key, entry["zh"])
        assert entry["en"] != entry["zh"], key
        # the hint for a broken voice quotes a Chinese test command; nothing else is Chinese
        if key != "voice_failed_hint":
            assert not CJK.search(entry["en"]), (key, entry["en"])
        assert _fields(entry["zh"]) == _fields(entry["en"]), key


def test_a_value_that_is_a_text_goes_in_each_language() -> None:
    where = text("simulator")
    assert text("printer_not_there", where=where) == Text(
        "模拟器：DLE EOT 没有应答", "simulator: no answer to DLE EOT"
    )
    assert text("printer_not_there", where="tcp://10.0.0.5:9100").en.startswith("tcp://10.0.0.5")


def test_report_layout_chinese_first_english_second() -> None:
    checks = [
        ok("disk", text("disk_free", gib=75.94, where=verbatim("/var/lib/govhall"))),
        fail(
            "config",
            text("config_refused"),
            text("config_hint"),
            notes=("/etc/hall.toml: [web].session_hours: must be > 0",),
        ),
        skip("camera", text("not_fitted", setting="camera")),
        Check("font", Mark.OK, verbatim("/usr/share/fonts/x.ttc")),  # same in both: once
    ]
    assert render(checks).splitlines() == [
        "✓ disk    /var/lib/govhall 剩余 75.9 GiB",
        "          75.9 GiB free at /var/lib/govhall",
        "✗ config  配置文件不能使用，问题逐行列在下面（文件: [节].键: 问题）",
        "          the config file cannot be used; its problems, one per line "
        "(file: [section].key: problem):",
        "          /etc/hall.toml: [web].session_hours: must be > 0",
        "          → 改正这些键（common/assets/hall.sample.toml 里每个键都有注释说明），"
        "然后再运行 govhall doctor",
        "            fix those keys (see common/assets/hall.sample.toml for every key with a "
        "comment), then run govhall doctor again",
        '– camera  未安装（camera = "none"）',
        '          not fitted (camera = "none")',
        "✓ font    /usr/share/fonts/x.ttc",
        "发现 1 个问题",
        "1 problem(s) found",
    ]
    english = render(checks, languages=("en",), ascii_marks=True).splitlines()
    assert english[0] == "OK disk    75.9 GiB free at /var/lib/govhall"
    assert english[-1] == "1 problem(s) found" and not any(CJK.search(line) for line in english)
    assert "          -> fix those keys" in "\n".join(english)
    assert render([checks[0]]).splitlines()[-2:] == ["全部检查通过", "all checks passed"]

"""govhall doctor against a real hall process and the device simulators (the reader on a
pty and the printer on TCP, reached through the same URLs a real device would have)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from devices.idcard.simulator import IdCardSimulator
from devices.printer.simulator import PrinterSimulator
from govhall import doctor
from tests.support.hall_server import (
    ROOT,
    SAMPLE_FILE,
    SAMPLE_TOKENS,
    TOKENS,
    free_port,
    start_hall,
    write_config,
)


def run_doctor(cfg: Path, tz: str = "Asia/Shanghai") -> tuple[int, str, dict[str, str]]:
    proc = subprocess.run(
        [sys.executable, "-m", "govhall.cli", "doctor", "--config", str(cfg)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
        env={**os.environ, "TZ": tz},
    )
    marks = {}
    for line in proc.stdout.splitlines():
        if line[:1] in ("✓", "✗", "–"):  # "✓ name  detail": names are padded by 2+ spaces
            marks[line[2:].split("  ")[0].strip()] = line[0]
    assert "Traceback" not in proc.stderr + proc.stdout
    return proc.returncode, proc.stdout, marks


def with_devices(cfg: Path, **devices: str) -> Path:
    text = cfg.read_text(encoding="utf-8")
    for key, value in devices.items():
        text, n = re.subn(rf'^{key} = "sim"', f'{key} = "{value}"', text, flags=re.M)
        assert n == 1, key
    cfg.write_text(text, encoding="utf-8")
    return cfg


@pytest.fixture
def reader() -> Iterator[IdCardSimulator]:
    sim = IdCardSimulator(transport="pty").start()
    yield sim
    sim.stop()


@pytest.fixture
def printer() -> Iterator[PrinterSimulator]:
    sim = PrinterSimulator(None, render_png=False)
    sim.start_tcp()
    yield sim
    sim.stop()


def _no_secrets(out: str) -> None:
    for token in TOKENS.values():
        assert token not in out


@pytest.mark.e2e
def test_all_green_on_a_working_kiosk_and_board(
    tmp_path: Path, reader: IdCardSimulator, printer: PrinterSimulator
) -> None:
    hall = start_hall(tmp_path)
    try:
        with_devices(hall.config, idcard=reader.port, printer=printer.url)
        rc, out, marks = run_doctor(hall.config)
    finally:
        hall.stop()
    assert rc == 0, out
    assert marks == {
        "config": "✓",
        "database": "✓",
        "hall [kiosk]": "✓",
        "hall [signage]": "✓",
        "font": "✓",
        "voice": "✓",
        "id-card reader": "✓",
        "printer": "✓",
        "camera": "✓",
        "cpu": marks["cpu"],
        "disk": "✓",
        "clock": "✓",
        "timezone": "✓",
    }, out
    assert marks["cpu"] in "✓✗"  # depends on this machine's CPU, reported either way
    assert f"{reader.port} answers the SAM status command" in out
    assert "answers DLE EOT: ok" in out and printer.status_queries > 0
    assert "token 'kiosk-1' accepted" in out and "token 'lobby-board' accepted" in out
    assert "agrees with the hall server" in out
    _no_secrets(out)


@pytest.mark.e2e
def test_each_fault_has_its_cross_and_hint(tmp_path: Path, printer: PrinterSimulator) -> None:
    cfg = write_config(tmp_path / "hall.toml", free_port())  # nothing listens on that port
    printer.set_fault("paper_end")
    with_devices(
        cfg,
        idcard=str(tmp_path / "ttyNOPE"),
        printer=printer.url,
        camera=str(tmp_path / "no-such-video"),
    )
    rc, out, marks = run_doctor(cfg, tz="UTC")
    assert rc == 1
    for name in (
        "hall [kiosk]",
        "hall [signage]",
        "id-card reader",
        "printer",
        "camera",
        "timezone",
    ):
        assert marks[name] == "✗", (name, out)
    # what must still hold: the checks that can pass still run and pass
    for name in ("config", "font", "voice", "disk", "clock"):
        assert marks[name] == "✓", (name, out)
    assert "no answer to the SAM status command" in out and "group dialout" in out
    assert "answers DLE EOT: paper_end" in out or "paper" in out.split("printer", 1)[1]
    assert "systemctl status govhall-hall" in out
    assert "timedatectl set-timezone Asia/Shanghai" in out
    assert out.count("→") == 6  # one hint per ✗
    assert "6 problem(s) found" in out
    _no_secrets(out)


@pytest.mark.e2e
def test_wrong_token_and_wrong_hall(tmp_path: Path) -> None:
    hall = start_hall(tmp_path)
    try:
        text = hall.config.read_text(encoding="utf-8")
        head, kiosk = text.split("\n[kiosk]\n")
        mistyped = tmp_path / "mistyped.toml"  # only the kiosk's copy of its token is wrong
        mistyped.write_text(
            head + "\n[kiosk]\n" + kiosk.replace(TOKENS["kiosk"], "stolen-or-mistyped-token-1234"),
            encoding="utf-8",
        )
        rc1, out1, marks1 = run_doctor(mistyped)
        other = tmp_path / "other.toml"  # a config of another hall pointed at this server
        other.write_text(text.replace('id = "xc-district"', 'id = "hd-district"'), encoding="utf-8")
        rc2, out2, marks2 = run_doctor(other)
    finally:
        hall.stop()
    assert rc1 == 1 and marks1["hall [kiosk]"] == "✗" and marks1["hall [signage]"] == "✓"
    assert "refused token 'a token not in [[token]]' (401" in out1
    assert "stolen-or-mistyped-token-1234" not in out1
    assert rc2 == 1 and marks2["hall [kiosk]"] == "✗"
    assert "is hall 'xc-district', this config is for 'hd-district'" in out2
    _no_secrets(out1 + out2)


def test_bad_config_is_one_precise_cross(tmp_path: Path) -> None:
    cfg = write_config(tmp_path / "hall.toml", free_port())
    cfg.write_text(
        cfg.read_text(encoding="utf-8").replace(
            "[devices]", '[devices]\nprinterr = "tcp://10.0.0.5:9100"'
        ),
        encoding="utf-8",
    )
    rc, out, marks = run_doctor(cfg)
    assert rc == 1 and marks["config"] == "✗"
    assert f"{cfg}: [devices].printerr: unknown key (misspelt?)" in out
    # without a usable config, the machine checks still run
    assert marks["font"] == "✓" and marks["disk"] == "✓"


@pytest.mark.slow  # > 3 s: make test runs it, make test-fast does not
def test_every_section_s_problems_in_one_cross_with_the_commands_messages(tmp_path: Path) -> None:
    cfg = write_config(tmp_path / "hall.toml", free_port())
    text = cfg.read_text(encoding="utf-8")
    text = text.replace("session_hours = 12", "session_hours = 0")
    text = text.replace("admin_pin = ", 'colour = "red"\nadmin_pin = ')
    text = text.replace("recent_calls = 6", "recent_calls = 60")
    cfg.write_text(text, encoding="utf-8")
    rc, out, marks = run_doctor(cfg)
    assert rc == 1 and marks["config"] == "✗"
    lines = out.splitlines()
    for problem in (  # one line each, under the cross
        "[web].session_hours: must be > 0",
        "[kiosk].colour: unknown key (misspelt?)",
        "[signage].recent_calls: must be ≤ 12",
    ):
        assert any(line.endswith(f"  {cfg}: {problem}") for line in lines), out
    assert out.count("→") == 1  # one cross, one hint
    kiosk = subprocess.run(  # the command says the same
        [sys.executable, "-m", "govhall.cli", "kiosk", "--config", str(cfg)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
    )
    assert kiosk.returncode == 2
    assert f"{cfg}: [kiosk].colour: unknown key (misspelt?)" in kiosk.stderr


@pytest.mark.slow  # > 3 s: make test runs it, make test-fast does not
def test_the_sample_as_shipped_is_refused_like_govhall_hall_refuses_it(tmp_path: Path) -> None:
    cfg = tmp_path / "hall.toml"
    cfg.write_text(SAMPLE_FILE.read_text(encoding="utf-8"), encoding="utf-8")
    rc, out, marks = run_doctor(cfg)
    assert rc == 1 and marks["config"] == "✗"
    assert f"{cfg}: [[token]] kiosk-1.token: is the sample config's token" in out
    assert f"{cfg}: [signage].token: is the sample config's token" in out
    _no_secrets(out)
    for token in SAMPLE_TOKENS.values():
        assert token not in out


def test_missing_config_file(tmp_path: Path) -> None:
    rc, out, marks = run_doctor(tmp_path / "nope.toml")
    assert rc == 1 and marks["config"] == "✗" and "no such config file" in out


def test_unit_checks_clock_and_disk(tmp_path: Path) -> None:
    assert doctor.check_clock([], now=lambda: 0.0).failed  # 1970: a lost CMOS clock
    assert doctor.check_clock([95.0]).failed
    assert "behind" in doctor.check_clock([95.0]).detail
    assert not doctor.check_clock([0.0]).failed
    assert doctor.check_disk([tmp_path], min_free=1 << 60).failed
    assert not doctor.check_disk([tmp_path / "not" / "yet"], min_free=1).failed


def test_an_old_config_is_fine_and_said_to_be_old(tmp_path: Path) -> None:
    cfg = write_config(tmp_path / "hall.toml", free_port())
    cfg.write_text(cfg.read_text(encoding="utf-8").replace("version = 3", ""), encoding="utf-8")
    check, config = doctor.check_config(cfg)
    assert not check.failed and config is not None and config.version == 1
    assert "written for config version 1, read as version 3" in check.detail


CJK = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]")


def blocks(out: str) -> dict[str, list[str]]:
    """name → the check's lines after its mark line's name (finding, more lines, hint)."""
    found: dict[str, list[str]] = {}
    current: list[str] = []
    for line in out.splitlines():
        if line[:1] in ("✓", "✗", "–"):
            name, first = line[2:].split("  ", 1)
            current = found.setdefault(name.strip(), [first.strip()])
        elif line.startswith("  "):
            current.append(line.strip())
    return found


@pytest.mark.e2e
def test_findings_and_hints_are_chinese_then_english(
    tmp_path: Path, printer: PrinterSimulator
) -> None:
    cfg = write_config(tmp_path / "hall.toml", free_port())  # nothing listens on that port
    printer.set_fault("paper_end")
    port = str(tmp_path / "ttyNOPE")
    with_devices(cfg, idcard=port, printer=printer.url, camera="none")
    rc, out, marks = run_doctor(cfg, tz="UTC")
    assert rc == 1
    checks = blocks(out)
    assert checks["printer"] == [
        f"{printer.url} 应答 DLE EOT：打印纸已用完，请更换打印纸（paper_end）",
        f"{printer.url} answers DLE EOT: paper_end",
        "→ 装纸／合上纸仓盖／清除卡纸，然后再检查一次",
        "load paper / close the cover / clear the jam, then check again",
    ]
    assert checks["id-card reader"] == [
        f"{port}：SAM 状态命令没有应答（idcard.no_reader）",
        f"{port}: no answer to the SAM status command (idcard.no_reader)",
        "→ 检查连线和端口名（ls -l /dev/serial/by-id/）；运行自助机的用户必须在 dialout 组里",
        "check the cable and the port name (ls -l /dev/serial/by-id/); the kiosk user must be "
        "in group dialout",
    ]
    assert checks["camera"] == ['未安装（camera = "none"）', 'not fitted (camera = "none")']
    assert checks["timezone"][2:] == [
        "→ timedatectl set-timezone Asia/Shanghai（这样日志时间和每天的号码重置按同一时区）",
        "timedatectl set-timezone Asia/Shanghai (journal times and the daily reset are then "
        "read alike)",
    ]
    for name, lines in checks.items():  # every check: its finding in Chinese, then English
        assert CJK.search(lines[0]) and not CJK.search(lines[1]), (name, lines)
        if marks[name] == "✗":  # and its hint the same way, after the arrow
            arrow = next(i for i, line in enumerate(lines) if line.startswith("→ "))
            assert lines[arrow + 2 :] == [], (name, lines)
            assert CJK.search(lines[arrow]) and not CJK.search(lines[arrow + 1]), (name, lines)
    assert sorted(n for n, m in marks.items() if m == "✗") == [
        "hall [kiosk]",
        "hall [signage]",
        "id-card reader",
        "printer",
        "timezone",
    ]
    assert out.splitlines()[-2:] == ["发现 5 个问题", "5 problem(s) found"]
    _no_secrets(out)


def test_a_console_without_chinese_gets_the_english_lines(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "govhall.cli", "doctor", "--config", str(tmp_path / "nope.toml")],
        capture_output=True,
        text=True,
        encoding="ascii",
        timeout=60,
        cwd=ROOT,
        env={**os.environ, "PYTHONIOENCODING": "ascii", "TZ": "Asia/Shanghai"},
    )
    assert proc.returncode == 1 and "Traceback" not in proc.stderr, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0].split(None, 2) == [
        "FAIL",
        "config",
        "the config file cannot be used; its problems, one per line "
        "(file: [section].key: problem):",
    ]
    assert f"{tmp_path / 'nope.toml'}: no such config file" in lines[1]
    assert lines[2].strip().startswith("-> fix those keys")
    assert any(line.startswith("OK font") for line in lines)
    assert lines[-1] == "1 problem(s) found"

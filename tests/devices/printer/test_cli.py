"""The technicians' CLI against the simulator running as its own process, as in the field."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from devices.printer.cli import device_main
from devices.printer.layout import render_ticket, sample_ticket

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
def sim_process(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[str], str, Path]]:
    out = tmp_path / "out"
    proc = subprocess.Popen(
        [sys.executable, "-m", "govhall.cli", "sim", "printer", "--tcp", "0", "--out", str(out)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    first = proc.stdout.readline()
    assert first.startswith("printer simulator on tcp://"), first
    url = first.split()[3]
    yield proc, url, out
    proc.terminate()
    proc.wait(timeout=10)


def send(proc: subprocess.Popen[str], line: str) -> str:
    assert proc.stdin is not None and proc.stdout is not None
    proc.stdin.write(line + "\n")
    proc.stdin.flush()
    while True:
        reply = proc.stdout.readline()
        if reply.startswith("state:"):
            return reply.strip()


def test_test_ticket_and_status_against_the_simulator_process(
    sim_process: tuple[subprocess.Popen[str], str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    proc, url, out = sim_process
    assert device_main(["--url", url, "--status"]) == 0
    assert "status: ok" in capsys.readouterr().out
    assert device_main(["--url", url, "--test"]) == 0
    assert "printed and confirmed" in capsys.readouterr().out
    assert send(proc, "paper_end") == "state: paper_end"
    assert device_main(["--url", url, "--test"]) == 1
    captured = capsys.readouterr()
    assert "NOT printed" in captured.err and "printer.paper_end" in captured.err
    assert device_main(["--url", url, "--status"]) == 1
    assert "打印纸已用完" in capsys.readouterr().out
    # Afterwards: the simulator kept exactly one printed ticket, as text and PNG.
    assert send(proc, "clear") == "state: ok"
    texts = sorted(out.glob("ticket-*.txt"))
    assert len(texts) == 1 and "打印机测试页" in texts[0].read_text("utf-8")
    assert "张**" in texts[0].read_text("utf-8")
    assert (out / "ticket-0001.png").stat().st_size > 1000


def test_decode_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    f = tmp_path / "t.bin"
    f.write_bytes(render_ticket(sample_ticket(), "58"))
    assert device_main(["--decode", str(f), "--png", str(tmp_path / "t.png")]) == 0
    text = capsys.readouterr().out
    assert "社保业务" in text and "[QR] https://hall.example/t/7f3a9c" in text and "[CUT]" in text
    assert (tmp_path / "t.png").stat().st_size > 1000


def test_usage_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert device_main(["--decode", str(tmp_path / "missing.bin")]) == 2
    assert device_main(["--url", "ftp://x", "--status"]) == 2
    assert "unsupported printer URL" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        device_main(["--test"])  # no URL
    assert device_main(["--url", "tcp://127.0.0.1:1?timeout=0.3", "--test"]) == 1


def test_pty_simulator_process_with_a_stable_link(tmp_path: Path) -> None:
    link = tmp_path / "ttyPRN"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "govhall.cli",
            "sim",
            "printer",
            "--pty",
            "--link",
            str(link),
            "--baudrate",
            "115200",
            "--out",
            str(tmp_path / "out"),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().startswith(f"printer simulator on serial://{link}")
        assert device_main(["--url", f"serial://{link}?baudrate=115200", "--test"]) == 0
        assert "printed" in proc.stdout.readline()
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    assert not link.exists()  # the simulator removed its link when it stopped

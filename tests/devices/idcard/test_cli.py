"""The technician's CLI against the simulator, and the simulator as its own process."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from devices.idcard.cards import load_card
from devices.idcard.cli import device_main
from devices.idcard.driver import IdCardReader
from devices.idcard.simulator import IdCardFault, IdCardSimulator

pytestmark = pytest.mark.timeout(60)


def test_device_prints_a_masked_card(
    pty_sim: IdCardSimulator, capsys: pytest.CaptureFixture[str]
) -> None:
    card = load_card("resident")
    pty_sim.place(card)
    assert device_main(["--port", pty_sim.port, "--timeout", "2"]) == 0
    out = capsys.readouterr().out
    assert "110***********1231" in out and "张**" in out
    # no personal data whole in printed output without --show-id
    assert card.id_number not in out and card.name not in out and card.address not in out


def test_device_json_with_show_id(
    pty_sim: IdCardSimulator, capsys: pytest.CaptureFixture[str]
) -> None:
    card = load_card("resident_longterm")
    pty_sim.place(card)
    code = device_main(
        ["--port", pty_sim.port, "--json", "--show-id", "--additional-address", "--sim-photo"]
    )
    assert code == 0
    data = json.loads(capsys.readouterr().out)  # stdout is exactly one JSON object
    assert data["id_number"] == card.id_number and data["valid_to"] is None
    assert data["birth_date"] == "1962-08-05" and data["card_type"] == "resident"
    assert base64.b64decode(data["photo_wlt"]) == card.photo_wlt
    assert data["additional_address"] == card.additional_address
    assert data["photo_decoding"] == "decoded 102×126"


def test_device_json_masks_by_default(
    pty_sim: IdCardSimulator, capsys: pytest.CaptureFixture[str]
) -> None:
    card = load_card("foreign_permanent_2023")
    pty_sim.place(card)
    assert device_main(["--port", pty_sim.port, "--json"]) == 0
    raw = capsys.readouterr().out
    data = json.loads(raw)
    assert data["photo_wlt"] is None and data["id_number"] == "911***********0125"
    assert card.id_number not in raw and card.name_en not in raw


@pytest.mark.parametrize(
    ("setup", "code"),
    [
        (lambda sim: sim.inject(IdCardFault.SAM_FAULT, arg=0x66), "idcard.sam_fault"),
        (lambda sim: None, "idcard.no_card"),
        (lambda sim: sim.unplug(), "idcard.no_reader"),
    ],
)
def test_device_says_what_is_wrong(
    pty_sim: IdCardSimulator, capsys: pytest.CaptureFixture[str], setup: object, code: str
) -> None:
    setup(pty_sim)  # type: ignore[operator]
    assert device_main(["--port", pty_sim.port, "--json", "--timeout", "0.7"]) == 1
    assert json.loads(capsys.readouterr().out)["error"] == code
    assert device_main(["--port", pty_sim.port, "--timeout", "0.7", "--lang", "en"]) == 1
    err = capsys.readouterr().err
    assert f"[{code}]" in err and "→" in err


def test_simulator_process_with_link_and_stdin_commands(tmp_path: Path) -> None:
    link = tmp_path / "ttyIDCARD"
    root = Path(__file__).resolve().parents[3]
    env = dict(os.environ, PYTHONPATH=str(root))
    proc = subprocess.Popen(
        [sys.executable, "-m", "govhall.cli", "sim", "idcard", "--link", str(link)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=env,
        cwd=root,
    )
    try:
        assert proc.stdout is not None and proc.stdin is not None
        assert proc.stdout.readline().startswith(f"idcard simulator ready on {link}")
        proc.stdin.write("place hmt_residence\n")
        proc.stdin.flush()
        assert proc.stdout.readline().strip() == "placed hmt_residence"
        with IdCardReader(str(link)) as reader:
            assert reader.read_card().pass_number == "H12345678"
            proc.stdin.write("fault read_fail on=read_text_photo\n")
            proc.stdin.flush()
            assert "armed" in proc.stdout.readline()
            with pytest.raises(Exception, match="place it again"):
                reader.read_card()
        proc.stdin.write("quit\n")
        proc.stdin.flush()
        assert proc.wait(10) == 0
        assert not link.exists()  # the process cleans up its link
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_simulator_process_keeps_running_without_stdin(tmp_path: Path) -> None:
    link = tmp_path / "ttyIDCARD"
    root = Path(__file__).resolve().parents[3]
    proc = subprocess.Popen(
        [sys.executable, "-m", "govhall.cli", "sim", "idcard", "--link", str(link),
         "--card", "resident"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        text=True,
        env=dict(os.environ, PYTHONPATH=str(root)),
        cwd=root,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().startswith("idcard simulator ready")
        time.sleep(0.3)
        assert proc.poll() is None  # stdin at EOF does not stop a background simulator
        with IdCardReader(str(link)) as reader:
            assert reader.read_card().masked_name == "张**"
        proc.terminate()
        assert proc.wait(10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()

"""Each device package's ``health.check`` (what ``govhall doctor`` collects) against the real
drivers on the simulators, or on ports where nothing answers: the mark, the finding in
Chinese and English, and a hint for every failure."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from common.health import Check, Mark
from devices.camera import health as camera
from devices.camera.cpu import has_avx
from devices.idcard import health as idcard
from devices.idcard.simulator import IdCardSimulator
from devices.printer import health as printer
from devices.printer.simulator import PrinterSimulator
from devices.voice import health as voice
from devices.voice.synth import Synthesizer
from tests.support.hall_server import free_port

CJK = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]")


def said(check: Check) -> tuple[str, str]:
    """(Chinese, English) of the finding, each checked to be in its language."""
    zh, en = check.detail.zh, check.detail.en
    assert CJK.search(zh), zh
    assert not CJK.search(en), en
    return zh, en


def hinted(check: Check) -> tuple[str, str]:
    assert check.mark is Mark.FAIL and check.failed and check.hint is not None, check
    assert CJK.search(check.hint.zh), check.hint.zh
    return check.hint.zh, check.hint.en


@pytest.fixture
def reader() -> Iterator[IdCardSimulator]:
    sim = IdCardSimulator(transport="pty").start()
    yield sim
    sim.stop()


@pytest.fixture
def paper() -> Iterator[PrinterSimulator]:
    sim = PrinterSimulator(None, render_png=False)
    sim.start_tcp()
    yield sim
    sim.stop()


# -- id-card reader ----------------------------------------------------------------------------


def test_idcard_reader_answering_its_sam_status(reader: IdCardSimulator) -> None:
    check = idcard.check(reader.port)
    assert (check.name, check.mark, check.hint) == ("id-card reader", Mark.OK, None)
    assert said(check) == (
        f"{reader.port} 响应了 SAM 状态命令（ready）",
        f"{reader.port} answers the SAM status command (ready)",
    )


def test_idcard_reader_with_a_faulty_sam(reader: IdCardSimulator) -> None:
    reader.inject("sam_fault")
    check = idcard.check(reader.port)
    zh, en = said(check)
    assert en == f"{reader.port}: security module fault (idcard.sam_fault)"
    assert "安全模块" in zh and "idcard.sam_fault" in zh
    assert hinted(check)[1] == "the reader's SAM is faulty: power-cycle it, else call the vendor"


def test_idcard_reader_that_is_not_there(tmp_path: Path) -> None:
    check = idcard.check(str(tmp_path / "ttyUSB9"))
    zh, en = said(check)
    assert en == f"{tmp_path / 'ttyUSB9'}: no answer to the SAM status command (idcard.no_reader)"
    assert "没有应答" in zh
    hint_zh, hint_en = hinted(check)
    assert "dialout" in hint_zh and "group dialout" in hint_en


def test_idcard_simulated_and_not_fitted() -> None:
    check = idcard.check("sim")
    assert check.mark is Mark.OK
    assert said(check)[0].startswith("模拟器 ") and check.detail.en.startswith("simulator ")
    skipped = idcard.check("none")
    assert skipped.mark is Mark.SKIP and not skipped.failed
    assert said(skipped) == ('未安装（idcard = "none"）', 'not fitted (idcard = "none")')


# -- printer -----------------------------------------------------------------------------------


def test_printer_ready_and_paper_low(paper: PrinterSimulator) -> None:
    check = printer.check(paper.url)
    assert check.mark is Mark.OK and paper.status_queries > 0
    assert said(check) == (
        f"{paper.url} 应答 DLE EOT：打印机正常（ok）",
        f"{paper.url} answers DLE EOT: ok",
    )
    paper.set_fault("paper_near_end")
    low = printer.check(paper.url)
    assert low.mark is Mark.OK  # it still prints: a warning, not a failure
    zh, en = said(low)
    assert en == f"{paper.url} answers DLE EOT: paper_near_end; warning: paper_near_end"
    assert "；警告：打印纸即将用完" in zh


@pytest.mark.parametrize("fault", ["paper_end", "cover_open"])
def test_printer_that_needs_staff(paper: PrinterSimulator, fault: str) -> None:
    paper.set_fault(fault)
    check = printer.check(paper.url)
    zh, en = said(check)
    assert en == f"{paper.url} answers DLE EOT: {fault}"
    assert zh.endswith(f"（{fault}）")
    assert hinted(check) == (
        "装纸／合上纸仓盖／清除卡纸，然后再检查一次",
        "load paper / close the cover / clear the jam, then check again",
    )


def test_printer_that_does_not_answer_and_urls_that_cannot_report() -> None:
    url = f"tcp://127.0.0.1:{free_port()}?timeout=0.5"  # nothing listens there
    silent = printer.check(url)
    assert said(silent) == (f"{url}：DLE EOT 没有应答", f"{url}: no answer to DLE EOT")
    assert "port 9100" in hinted(silent)[1]
    cups = printer.check("cups://tickets")  # a CUPS queue has no status to ask for
    assert cups.detail.en == "cups://tickets: printer.status_unsupported"
    assert "CUPS" in hinted(cups)[0]
    nonsense = printer.check("ftp://printer")
    assert nonsense.detail.en == "ftp://printer: printer.bad_url"
    assert printer.check("none").mark is Mark.SKIP


# -- camera and CPU ----------------------------------------------------------------------------


def test_camera_simulated_delivers_frames() -> None:
    check = camera.check("sim")
    assert check.mark is Mark.OK
    assert said(check) == ("模拟器 有画面（640×480）", "simulator delivers frames (640×480)")


def test_camera_that_is_not_there(tmp_path: Path) -> None:
    where = str(tmp_path / "video9")
    check = camera.check(where, wait_s=1.0)
    assert said(check) == (f"{where}：1 秒内没有画面", f"{where}: no frames within 1 s")
    assert "group video" in hinted(check)[1]
    assert camera.check("none").mark is Mark.SKIP


def test_cpu_check_says_what_this_cpu_can_do() -> None:
    check = camera.check_cpu()
    avx = has_avx()
    assert check.name == "cpu" and check.failed is (avx is False)
    zh, en = said(check)
    if avx is False:
        assert en.startswith("no AVX") and "AVX" in hinted(check)[0]
    else:
        assert "AVX" in en and "AVX" in zh and check.hint is None


# -- voice -------------------------------------------------------------------------------------


def test_voice_synthesises_the_test_phrase() -> None:
    check = voice.check("sim")
    assert check.mark is Mark.OK, check
    zh, en = said(check)
    assert en.startswith("test phrase synthesised (") and zh.startswith("测试语句已合成（")


def test_voice_without_a_working_synthesiser() -> None:
    broken = Synthesizer(backends=("espeak-ng",), espeak_command="/nonexistent/espeak-ng")
    check = voice.check("sim", synth=broken)
    zh, en = said(check)
    assert en == "cannot synthesise a test phrase (voice.synth_failed)"
    assert zh == "无法合成测试语句（voice.synth_failed）"
    assert "apt-get install espeak-ng" in hinted(check)[1]

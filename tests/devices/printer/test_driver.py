"""The real driver against the simulator over TCP and a pty, for every scripted fault.
No mocks: the simulator parses the bytes and answers DLE EOT like a printer."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path

import pytest

from devices.errors import DeviceError
from devices.printer.codec import PrinterStatus, StatusFlags
from devices.printer.driver import TicketPrinter
from devices.printer.errors import PrinterError
from devices.printer.layout import GuideInfo, sample_ticket
from devices.printer.simulator import PrinterFault, PrinterSimulator

pytestmark = pytest.mark.timeout(60)


@pytest.fixture(params=["tcp", "pty"])
def rig(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[tuple[PrinterSimulator, TicketPrinter]]:
    sim = PrinterSimulator(tmp_path / "out", drop_after_bytes=100)
    url = sim.start_tcp() if request.param == "tcp" else sim.start_pty()
    printer = TicketPrinter.from_url(url, status_timeout_s=0.5)
    yield sim, printer
    printer.close()
    sim.stop()


def test_prints_and_the_simulator_has_exactly_that_ticket(
    rig: tuple[PrinterSimulator, TicketPrinter],
) -> None:
    sim, printer = rig
    assert printer.status() is PrinterStatus.OK
    result = printer.print_ticket(sample_ticket())
    assert result.printed and result.status is PrinterStatus.OK and result.mode == "text"
    jobs = sim.wait_for_jobs(1)
    assert len(jobs) == 1 and jobs[0].printed
    assert "A012" in jobs[0].text and "社保业务" in jobs[0].text
    assert jobs[0].png_path is not None and jobs[0].png_path.stat().st_size > 1000
    assert jobs[0].text_path is not None and "前面还有 3 人" in jobs[0].text_path.read_text("utf-8")
    assert result.bytes_sent == len(jobs[0].data)


@pytest.mark.parametrize(
    ("fault", "state"),
    [
        (PrinterFault.PAPER_END, PrinterStatus.PAPER_END),
        (PrinterFault.COVER_OPEN, PrinterStatus.COVER_OPEN),
        (PrinterFault.OFFLINE, PrinterStatus.OFFLINE),
        (PrinterFault.CUTTER_ERROR, PrinterStatus.CUTTER_ERROR),
        (PrinterFault.UNRECOVERABLE, PrinterStatus.UNRECOVERABLE),
        (PrinterFault.NOT_THERE, PrinterStatus.NOT_THERE),
    ],
)
def test_each_fault_refuses_with_its_own_code_and_nothing_prints(
    rig: tuple[PrinterSimulator, TicketPrinter], fault: PrinterFault, state: PrinterStatus
) -> None:
    sim, printer = rig
    sim.set_fault(fault)
    assert printer.status() is state
    with pytest.raises(PrinterError) as err:
        printer.print_ticket(sample_ticket())
    assert isinstance(err.value, DeviceError)
    assert err.value.code == f"printer.{state.value}" and err.value.status is state
    assert sim.printed == []  # the ticket was never sent, so nothing half-printed either
    # Afterwards: clearing the fault is enough, the same printer object prints again.
    sim.clear_faults()
    assert printer.print_ticket(sample_ticket()).printed
    assert len(sim.wait_for_jobs(1)) == 1 and sim.jobs[0].printed


def test_paper_near_end_warns_but_prints(rig: tuple[PrinterSimulator, TicketPrinter]) -> None:
    sim, printer = rig
    sim.set_fault(PrinterFault.PAPER_NEAR_END)
    result = printer.print_ticket(sample_ticket())
    assert result.printed and result.status is PrinterStatus.PAPER_NEAR_END
    assert result.warnings == (PrinterStatus.PAPER_NEAR_END,)
    assert sim.wait_for_jobs(1)[0].printed


def test_not_there_is_never_paper_ok(rig: tuple[PrinterSimulator, TicketPrinter]) -> None:
    sim, printer = rig
    sim.set_fault(PrinterFault.NOT_THERE)
    state, flags = printer.status_report()
    assert state is PrinterStatus.NOT_THERE and flags is None
    assert sim.status_queries >= 1  # it was asked; silence is the answer


def test_link_drop_mid_ticket_is_not_reported_printed_and_recovers(
    rig: tuple[PrinterSimulator, TicketPrinter],
) -> None:
    sim, printer = rig
    sim.set_fault(PrinterFault.DROP)
    with pytest.raises(PrinterError) as err:
        printer.print_ticket(sample_ticket())
    assert err.value.code in ("printer.not_confirmed", "printer.link_lost")
    jobs = sim.wait_for_jobs(1)
    assert len(jobs) == 1 and not jobs[0].printed and jobs[0].reason == "link dropped"
    # Afterwards the driver reconnects by itself (pty: once the printer hears again).
    sim.clear_faults()
    result = printer.print_ticket(sample_ticket())
    assert result.printed
    assert [j.printed for j in sim.wait_for_jobs(2)] == [False, True]


def test_slow_link_still_confirms(rig: tuple[PrinterSimulator, TicketPrinter]) -> None:
    sim, printer = rig
    sim.slow_bytes_per_s = 4000
    sim.set_fault(PrinterFault.SLOW)
    result = printer.print_ticket(sample_ticket())
    assert result.printed and result.elapsed_s >= result.bytes_sent / 4000 * 0.8


def test_too_slow_link_is_not_confirmed_rather_than_assumed(
    rig: tuple[PrinterSimulator, TicketPrinter],
) -> None:
    sim, printer = rig
    sim.slow_bytes_per_s = 1000
    sim.set_fault(PrinterFault.SLOW)
    printer.ack_timeout_s = 0.2
    with pytest.raises(PrinterError) as err:
        printer.print_ticket(sample_ticket())
    assert err.value.code == "printer.not_confirmed"
    # The printer did get it eventually: "not confirmed" means "check", not "reprint blindly".
    assert sim.wait_for_jobs(1, timeout=5)[0].printed


def test_paper_running_out_during_the_ticket_is_caught_by_the_after_check(
    rig: tuple[PrinterSimulator, TicketPrinter],
) -> None:
    sim, printer = rig
    sim.slow_bytes_per_s = 3000
    sim.set_fault(PrinterFault.SLOW)
    import threading

    threading.Timer(0.08, sim.set_fault, (PrinterFault.PAPER_END,)).start()
    with pytest.raises(PrinterError) as err:
        printer.print_ticket(sample_ticket())
    assert err.value.code == "printer.paper_end"
    assert sim.wait_for_jobs(1)[0].printed is False


def test_image_mode_and_guides_go_through_the_same_checks(
    rig: tuple[PrinterSimulator, TicketPrinter],
) -> None:
    sim, printer = rig
    printer.mode = "image"
    result = printer.print_ticket(sample_ticket())
    assert result.printed and result.mode == "image" and result.bytes_sent > 10_000
    printer.mode = "auto"
    guide = GuideInfo("西城区政务服务中心", "社保业务", "Social Security", ("本人居民身份证原件",))
    assert printer.print_guide(guide).mode == "text"
    rare = dataclasses.replace(sample_ticket(), service_name="𠀀业务")
    rare_result = printer.print_ticket(rare)
    assert rare_result.mode == "hybrid"  # a GB font lacks this glyph: only that line is raster
    assert rare_result.bytes_sent < 10_000
    jobs = sim.wait_for_jobs(3)
    assert [j.printed for j in jobs] == [True, True, True]
    assert "[IMAGE 576x" in jobs[2].text and "Social Security" in jobs[2].text
    assert "[IMAGE 576x" in jobs[0].text and "材料清单" in jobs[1].text


def test_unreachable_printer_is_not_there_with_a_clear_error(tmp_path: Path) -> None:
    printer = TicketPrinter.from_url("tcp://127.0.0.1:1?timeout=0.5")
    assert printer.status() is PrinterStatus.NOT_THERE
    with pytest.raises(PrinterError) as err:
        printer.print_ticket(sample_ticket())
    assert err.value.code == "printer.not_there"
    missing = TicketPrinter.from_url(f"serial://{tmp_path}/no-such-tty?baudrate=9600")
    assert missing.status() is PrinterStatus.NOT_THERE


def test_printer_restart_is_reconnected_transparently(tmp_path: Path) -> None:
    sim = PrinterSimulator(tmp_path)
    url = sim.start_tcp()
    printer = TicketPrinter.from_url(url, status_timeout_s=0.5)
    assert printer.print_ticket(sample_ticket()).printed
    port = int(url.rsplit(":", 1)[1])
    sim.stop()
    sim2 = PrinterSimulator(tmp_path / "2")
    sim2.start_tcp(port=port)
    try:
        assert printer.print_ticket(sample_ticket()).printed  # no manual reopen needed
        assert len(sim2.wait_for_jobs(1)) == 1
    finally:
        printer.close()
        sim2.stop()


@pytest.mark.parametrize(
    "url",
    ["ftp://x", "tcp://", "usb://zz:1", "serial://"],
)
def test_bad_urls_are_refused_clearly(url: str) -> None:
    with pytest.raises(PrinterError) as err:
        TicketPrinter.from_url(url)
    assert err.value.code == "printer.bad_url"


def test_serial_takes_any_pyserial_url_such_as_a_serial_server(tmp_path: Path) -> None:
    # A serial printer behind a network serial server: serial:socket://HOST:PORT.
    sim = PrinterSimulator(tmp_path)
    url = sim.start_tcp().replace("tcp://", "serial:socket://") + "?baudrate=115200"
    printer = TicketPrinter.from_url(url, status_timeout_s=0.5)
    try:
        assert printer.status() is PrinterStatus.OK
        assert printer.print_ticket(sample_ticket()).printed
        assert [j.printed for j in sim.wait_for_jobs(1)] == [True]
    finally:
        printer.close()
        sim.stop()


def test_faults_are_set_by_their_enum_or_its_name_and_nothing_else() -> None:
    sim = PrinterSimulator()
    sim.set_fault("paper_end")  # the CLI passes the name as typed
    assert sim.flags.paper_end and sim.flags.offline
    sim.set_fault(PrinterFault.PAPER_END, on=False)
    assert sim.flags == StatusFlags()  # clearing the one fault clears what it set
    with pytest.raises(ValueError, match="'jam'; known: paper_near_end, paper_end"):
        sim.set_fault("jam")

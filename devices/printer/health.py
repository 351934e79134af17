"""``govhall doctor``'s look at the ticket printer: its DLE EOT status, nothing printed."""

from __future__ import annotations

import contextlib

from common.health import Check, Text, fail, ok, skip, text, verbatim
from devices.open import Opened, not_fitted, open_printer
from devices.printer.driver import PrinterError, PrinterStatus

NAME = "printer"


def _state(state: PrinterStatus) -> Text:
    # what staff read on their screens for this state, and its code for the English line
    return Text(f"{state.message('zh')}（{state.value}）", state.value)


def check(spec: str) -> Check:
    """``spec``: the ``[devices] printer`` URL (``sim`` checks a simulated TCP printer through
    the real driver)."""
    if not_fitted(spec):
        return skip(NAME, text("not_fitted", setting="printer"))
    where = text("simulator") if spec == "sim" else verbatim(spec)
    opened = Opened(None)
    try:
        opened = open_printer(spec)
        state = opened.driver.status()
    except PrinterError as err:
        return fail(
            NAME,
            text("printer_bad_url", where=where, code=err.code),
            text("printer_bad_url_hint"),
        )
    finally:
        with contextlib.suppress(OSError):  # the status is known: a failed close changes nothing
            if opened.driver is not None:
                opened.driver.close()
        if opened.simulator is not None:
            opened.simulator.stop()
    if state.is_printable():  # ready, or only a warning (paper near its end)
        detail = text("printer_answers", where=where, state=_state(state))
        if state is not PrinterStatus.OK:
            detail += text("printer_warning", state=_state(state))
        return ok(NAME, detail)
    if state is PrinterStatus.NOT_THERE:
        return fail(NAME, text("printer_not_there", where=where), text("printer_not_there_hint"))
    return fail(
        NAME,
        text("printer_answers", where=where, state=_state(state)),
        text("printer_fault_hint"),
    )

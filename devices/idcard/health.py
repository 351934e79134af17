"""``govhall doctor``'s look at the ID card reader: does it answer the SAM status command?

Only the SAM status is asked for: no card is read, so nothing from a card can reach the
report.
"""

from __future__ import annotations

from common.health import Check, fail, ok, skip, text, verbatim
from devices.idcard.errors import IdCardError, SamFault
from devices.open import Opened, not_fitted, open_idcard

NAME = "id-card reader"
REPLY_TIMEOUT_S = 1.0  # a reader that has not answered by then is not there


def check(spec: str) -> Check:
    """``spec``: the ``[devices] idcard`` value (``sim`` checks a simulated reader on a pty
    through the real driver)."""
    if not_fitted(spec):
        return skip(NAME, text("not_fitted", setting="idcard"))
    where = text("simulator") if spec == "sim" else verbatim(spec)
    kw: dict[str, float] = {} if spec == "sim" else {"reply_timeout": REPLY_TIMEOUT_S}
    opened: Opened = open_idcard(spec, "none", **kw)
    try:
        state = opened.driver.status()
        return ok(NAME, text("idcard_ok", where=where, state=state.value))
    except SamFault as err:
        return fail(
            NAME,
            text("idcard_sam_fault", where=where, code=err.code),
            text("idcard_sam_fault_hint"),
        )
    except IdCardError as err:
        return fail(
            NAME,
            text("idcard_no_answer", where=where, code=err.code),
            text("idcard_no_answer_hint"),
        )
    finally:
        opened.close()

"""Does the hall server answer each part on this machine, with that part's token, and is it
this config's hall? Also measures the clock skew against the server's Date header (the
clock check in ``machine`` reports it). Tokens are never printed, only their names."""

from __future__ import annotations

import email.utils
import time
from dataclasses import dataclass

from common.health import Check, Text, fail, ok, text, verbatim
from hall.config import HallConfig

TIMEOUT_S = 3.0


@dataclass(frozen=True)
class Endpoint:
    who: str  # which section's server/token this is
    url: str
    token: str
    token_name: str | None  # None: a token that is not in [[token]]

    @property
    def token_label(self) -> Text:
        if self.token_name is None:
            return text("hall_unknown_token")
        return verbatim(repr(self.token_name))


def endpoints(config: HallConfig) -> list[Endpoint]:
    """The server and token each part on this machine uses (never the token in output)."""
    names = {t.token: t.name for t in config.tokens}
    out: list[Endpoint] = []
    for section in ("kiosk", "signage"):
        table = config.sections.get(section)
        if table:
            token = str(table.get("token", ""))
            out.append(
                Endpoint(
                    f"[{section}]",
                    str(table.get("server", "")).rstrip("/"),
                    token,
                    names.get(token),
                )
            )
    if not out and config.tokens:
        host = config.server.host
        host = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host
        tok = config.tokens[0]
        out.append(Endpoint("[server]", f"http://{host}:{config.server.port}", tok.token, tok.name))
    return out


def check_hall(config: HallConfig, skews: list[float]) -> list[Check]:
    """One check per endpoint; appends each answering server's clock skew (s, + when the
    server is ahead) to ``skews``."""
    import requests

    from hall.client import HallApiError, HallClient, HallUnavailable

    checks = []
    for ep in endpoints(config):
        name = f"hall {ep.who}"
        url = verbatim(ep.url)
        client = HallClient(ep.url, ep.token, timeout=TIMEOUT_S, retries=0)
        try:
            t0 = time.time()
            resp = requests.get(ep.url + "/healthz", timeout=TIMEOUT_S)
            t1 = time.time()
            health = resp.json()
            client.services()  # an authenticated read every role may make
        except (HallUnavailable, requests.RequestException, ValueError) as err:
            checks.append(
                fail(
                    name,
                    text("hall_unreachable", url=url, error=type(err).__name__),
                    text("hall_unreachable_hint", who=ep.who),
                )
            )
            continue
        except HallApiError as err:
            hint = (
                text("hall_refused_token_hint", who=ep.who)
                if err.status == 401
                else text("hall_refused_role_hint")
            )
            detail = text(
                "hall_refused", url=url, token=ep.token_label, status=err.status, code=err.code
            )
            checks.append(fail(name, detail, hint))
            continue
        finally:
            client.session.close()
        date = resp.headers.get("date")
        if date:
            server_t = email.utils.parsedate_to_datetime(date).timestamp()
            # the Date header has 1 s resolution: count only what exceeds it
            skews.append(0.0 if t0 - 1 <= server_t <= t1 + 1 else server_t - (t0 + t1) / 2)
        if health.get("hall") != config.hall_id:
            checks.append(
                fail(
                    name,
                    text("hall_other_hall", url=url, other=health.get("hall"), hall=config.hall_id),
                    text("hall_other_hall_hint"),
                )
            )
            continue
        checks.append(ok(name, text("hall_ok", url=url, token=ep.token_label)))
    return checks

"""A client of hall API v1 for kiosks, boards and tests: timeouts on every call, retries
only where they are safe (reads, and ticket issue with an Idempotency-Key), and an SSE
reader that resumes with Last-Event-ID.

Errors: ``HallUnavailable`` when the server cannot be reached (the kiosk then issues
offline), ``HallApiError`` with the server's ``error`` code for a refused request.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import requests


class HallClientError(Exception):
    pass


class HallUnavailable(HallClientError):
    """The hall server did not answer (down, network cut, timeout)."""


class HallApiError(HallClientError):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status, self.code, self.message = status, code, message


@dataclass(frozen=True)
class SseEvent:
    id: int
    type: str
    data: dict[str, Any]


class HallClient:
    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        timeout: float = 5.0,
        retries: int = 2,
        backoff_s: float = 0.2,
    ) -> None:
        self.base = base_url.rstrip("/")
        self.api = self.base + "/api/v1"
        self.timeout, self.retries, self.backoff_s = timeout, retries, backoff_s
        self._local = threading.local()
        self._headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}

    @property
    def session(self) -> requests.Session:
        # One session per thread: requests.Session is not thread-safe.
        s = getattr(self._local, "session", None)
        if s is None:
            s = requests.Session()
            s.headers.update(self._headers)
            self._local.session = s
        return s

    # -- plumbing ----------------------------------------------------------------------
    def request(
        self,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        headers: dict[str, str] | None = None,
        params: dict[str, Any] | None = None,
        retry: bool | None = None,
        raw: bool = False,
    ) -> Any:
        """One API call. ``retry`` defaults to True for GET only; a POST is retried only
        when it carries an Idempotency-Key or the caller says it is safe."""
        url = (
            path
            if path.startswith("http")
            else (
                self.base + path
                if path.startswith("/healthz") or path.startswith("/metrics")
                else self.api + path
            )
        )
        safe = method == "GET" if retry is None else retry
        attempts = 1 + (self.retries if safe else 0)
        last_err: Exception | None = None
        for attempt in range(attempts):
            try:
                resp = self.session.request(
                    method,
                    url,
                    json=json_body,
                    headers=headers,
                    params=params,
                    timeout=self.timeout,
                )
            except (requests.ConnectionError, requests.Timeout) as err:
                last_err = err
                if attempt + 1 < attempts:
                    time.sleep(self.backoff_s * (2**attempt))
                continue
            if resp.status_code >= 500 and attempt + 1 < attempts:
                time.sleep(self.backoff_s * (2**attempt))
                continue
            if resp.status_code >= 400:
                try:
                    body = resp.json()
                    code, message = body.get("error", "error"), body.get("message", "")
                except ValueError:
                    code, message = "error", resp.text[:200]
                raise HallApiError(resp.status_code, code, message)
            if raw:
                return resp
            if resp.status_code == 204 or not resp.content:
                return None
            return resp.json()
        raise HallUnavailable(f"hall server at {self.base} unreachable: {last_err}") from last_err

    # -- API v1 ------------------------------------------------------------------------
    def health(self) -> dict[str, Any]:
        return self.request("GET", "/healthz")

    def services(self) -> list[dict[str, Any]]:
        return self.request("GET", "/services")

    def issue_ticket(
        self,
        service: str,
        *,
        id_number: str | None = None,
        name: str | None = None,
        priority: str | None = None,
        appointment_id: int | None = None,
        idempotency_key: str | None = None,
    ) -> dict[str, Any]:
        """Retried safely: the Idempotency-Key makes a repeat return the same ticket."""
        body = {
            k: v
            for k, v in {
                "service": service,
                "id_number": id_number,
                "name": name,
                "priority": priority,
                "appointment_id": appointment_id,
            }.items()
            if v is not None
        }
        key = idempotency_key or uuid.uuid4().hex
        return self.request(
            "POST", "/tickets", json_body=body, headers={"Idempotency-Key": key}, retry=True
        )

    def import_tickets(self, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return self.request("POST", "/tickets/import", json_body=items, retry=True)

    def ticket(self, ticket_id: int) -> dict[str, Any]:
        return self.request("GET", f"/tickets/{ticket_id}")

    def ticket_by_number(self, number: str) -> dict[str, Any]:
        """Today's ticket with this number (e.g. A012), for a citizen checking status."""
        return self.request("GET", f"/tickets/by-number/{number}")

    def cancel_ticket(self, idempotency_key: str) -> dict[str, Any]:
        """Withdraw the ticket issued with this key if it is still waiting: used after an
        issue whose answer was lost, once the kiosk has printed an offline ticket."""
        return self.request(
            "POST", "/tickets/cancel", headers={"Idempotency-Key": idempotency_key}, retry=True
        )

    def evaluate(self, ticket_id: int, score: int, comment: str | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {"score": score}
        if comment:
            body["comment"] = comment
        return self.request("POST", f"/tickets/{ticket_id}/evaluation", json_body=body)

    def requeue(self, ticket_id: int) -> dict[str, Any]:
        return self.request("POST", f"/tickets/{ticket_id}/requeue")

    def counter(self, counter_id: str) -> dict[str, Any]:
        return self.request("GET", f"/counters/{counter_id}")

    def call_next(self, counter_id: str) -> dict[str, Any] | None:
        return self.request("POST", f"/counters/{counter_id}/call-next")

    def call(self, counter_id: str, ticket_id: int) -> dict[str, Any]:
        return self.request("POST", f"/counters/{counter_id}/call", json_body={"ticket": ticket_id})

    def counter_action(self, counter_id: str, action: str, body: Any = None) -> dict[str, Any]:
        """recall, start, finish, no-show, park, resume, close."""
        return self.request("POST", f"/counters/{counter_id}/{action}", json_body=body)

    def transfer(
        self, counter_id: str, service: str, note: str | None = None, return_here: bool = False
    ) -> dict[str, Any]:
        return self.request(
            "POST",
            f"/counters/{counter_id}/transfer",
            json_body={"service": service, "note": note, "return_here": return_here},
        )

    def pause(self, counter_id: str, reason: str) -> dict[str, Any]:
        return self.request("POST", f"/counters/{counter_id}/pause", json_body={"reason": reason})

    def book(self, service: str, id_number: str, slot_start: str) -> dict[str, Any]:
        return self.request(
            "POST",
            "/appointments",
            json_body={"service": service, "id_number": id_number, "slot_start": slot_start},
        )

    def check_in(self, id_number: str, *, idempotency_key: str | None = None) -> dict[str, Any]:
        """Retried safely like ticket issue: a repeat returns the same ticket."""
        return self.request(
            "POST",
            "/appointments/check-in",
            json_body={"id_number": id_number},
            headers={"Idempotency-Key": idempotency_key or uuid.uuid4().hex},
            retry=True,
        )

    def help_request(self, kiosk: str, reason: str) -> dict[str, Any]:
        return self.request("POST", "/help-requests", json_body={"kiosk": kiosk, "reason": reason})

    def heartbeat(self, device: str, parts: dict[str, str]) -> dict[str, Any]:
        return self.request(
            "POST", "/devices/heartbeat", json_body={"device": device, "parts": parts}, retry=True
        )

    def board(self) -> dict[str, Any]:
        return self.request("GET", "/board")

    def stats(self, start: str | None = None, end: str | None = None, *, csv: bool = False) -> Any:
        params = {k: v for k, v in {"from": start, "to": end}.items() if v}
        if csv:
            resp = self.request(
                "GET", "/stats", params=params, raw=True, headers={"Accept": "text/csv"}
            )
            return resp.text
        return self.request("GET", "/stats", params=params)

    # -- events ------------------------------------------------------------------------
    def events(
        self,
        last_event_id: int | None = None,
        *,
        read_timeout: float = 40.0,
        stop: threading.Event | None = None,
        on_connect: Any = None,
    ) -> Iterator[SseEvent]:
        """Yields events from one connection; ends when the connection ends. Callers that
        must follow the hall for hours use ``follow``."""
        headers = {"Accept": "text/event-stream"}
        if last_event_id is not None:
            headers["Last-Event-ID"] = str(last_event_id)
        try:
            resp = self.session.get(
                self.api + "/events",
                headers=headers,
                stream=True,
                timeout=(self.timeout, read_timeout),
            )
        except (requests.ConnectionError, requests.Timeout) as err:
            raise HallUnavailable(f"event stream at {self.base} unreachable: {err}") from err
        with resp:
            if resp.status_code >= 400:
                try:
                    body = resp.json()
                except ValueError:
                    body = {}
                raise HallApiError(
                    resp.status_code, body.get("error", "error"), body.get("message", "")
                )
            if on_connect:
                on_connect()
            try:
                yield from parse_sse(resp.iter_lines(decode_unicode=False), stop)
            except (
                requests.ConnectionError,
                requests.Timeout,
                requests.exceptions.ChunkedEncodingError,
            ) as err:
                raise HallUnavailable(f"event stream interrupted: {err}") from err

    def follow(
        self,
        last_event_id: int | None = None,
        *,
        stop: threading.Event,
        max_backoff_s: float = 10.0,
        on_state: Any = None,
    ) -> Iterator[SseEvent]:
        """Events forever: reconnects with backoff and resumes from the last id, so no
        event is lost across a network cut or a server restart. ``on_state(connected:
        bool)`` lets a board show a discreet "reconnecting" mark."""
        backoff = 0.0
        last = last_event_id

        def connected() -> None:
            nonlocal backoff
            backoff = 0.0
            if on_state:
                on_state(True)

        while not stop.is_set():
            try:
                for ev in self.events(last, stop=stop, on_connect=connected):
                    last = ev.id
                    yield ev
            except (HallUnavailable, HallApiError):
                pass
            if stop.is_set():
                return
            if on_state:
                on_state(False)
            backoff = min(max_backoff_s, max(0.5, backoff * 2))
            stop.wait(backoff)


def parse_sse(lines: Iterator[bytes], stop: threading.Event | None = None) -> Iterator[SseEvent]:
    """The text/event-stream format: fields until a blank line; comments start with ':'."""
    ev_id: str | None = None
    ev_type = "message"
    data: list[str] = []
    for raw in lines:
        if stop is not None and stop.is_set():
            return
        line = raw.decode("utf-8", "replace")
        if not line:
            if data and ev_id is not None and ev_id.isdigit():
                try:
                    payload = json.loads("\n".join(data))
                except ValueError:
                    payload = {"raw": "\n".join(data)}
                yield SseEvent(int(ev_id), ev_type, payload)
            ev_id, ev_type, data = None, "message", []
            continue
        if line.startswith(":"):
            continue
        field, _, value = line.partition(":")
        value = value[1:] if value.startswith(" ") else value
        if field == "id":
            ev_id = value
        elif field == "event":
            ev_type = value
        elif field == "data":
            data.append(value)

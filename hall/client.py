"""A client of hall API v1 for kiosks, boards and tests: typed answers, timeouts on every
call, retries only where they are safe, and an SSE reader that resumes with Last-Event-ID.

Answers are the models of ``hall.schemas`` (re-exported here, the package kiosk and signage
may import), parsed from the wire with the same classes the server declares as its
``response_model``: ``client.issue_ticket("J").number``.

Errors (all ``HallClientError``):

- ``HallUnavailable``: no usable answer from the hall for now. The server cannot be
  reached (down, network cut, timeout), or it answered 502/503/504 — a proxy in front of a
  hall that is down, or the hall's own ``503 storage_unavailable`` (its database is not
  answering; nothing was changed). The kiosk then issues offline; a ticket the hall did
  commit after all is withdrawn later with its Idempotency-Key (``/tickets/cancel``).
- ``HallBadResponse`` (a ``HallUnavailable``): a 2xx whose body is not JSON or not the
  model (a captive portal, a wrong address, an incompatible server). A kiosk treats it as
  an unreachable hall too: a ticket may have been issued, and offline issuing with the
  withdraw key is the path that copes with that.
- ``HallApiError(status, code, message)``: the hall refused the request (4xx, 500).

Retries: urllib3's ``Retry`` on the session's adapter. Reads (GET) and the POSTs that are
safe to repeat (issue and check-in with an Idempotency-Key, cancel by key, the offline
import, heartbeats) go through a retrying session; every other POST through one that never
repeats a request.
"""

from __future__ import annotations

import json
import re
import threading
import urllib.parse
import uuid
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, TypeVar, overload

import requests
from pydantic import BaseModel, TypeAdapter, ValidationError
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from common.errors import CodedError
from hall.domain.booking import parse_code
from hall.schemas import (
    Appointment,
    Board,
    CounterStatus,
    DeviceHealth,
    ErrorBody,
    Evaluation,
    EventTicket,
    Health,
    HeartbeatAck,
    HelpRequest,
    HelpResolved,
    ImportItemResult,
    ImportOutcome,
    ImportResult,
    RatableVisit,
    RemoteTicket,
    ServiceInfo,
    Stats,
    Ticket,
)

if TYPE_CHECKING:
    import httpx
    from httpx_sse import ServerSentEvent

__all__ = [
    "Appointment",
    "Board",
    "CounterStatus",
    "DeviceHealth",
    "Evaluation",
    "EventTicket",
    "HallApiError",
    "HallBadResponse",
    "HallClient",
    "HallClientError",
    "HallUnavailable",
    "Health",
    "HeartbeatAck",
    "HelpRequest",
    "HelpResolved",
    "ImportItemResult",
    "ImportOutcome",
    "ImportResult",
    "ServiceInfo",
    "SseEvent",
    "Stats",
    "Ticket",
    "booking_code_of",
    "parse_sse",
    "ticket_token_of",
]

M = TypeVar("M", bound=BaseModel)

UNAVAILABLE_STATUSES = frozenset({502, 503, 504})
"""Answers that mean "the hall cannot answer now" rather than "the hall refused"."""
SAFE_METHODS = frozenset({"GET", "HEAD", "POST"})
"""What the retrying session may repeat: only safe calls are sent through it."""
TicketAction = Literal["recall", "start", "finish", "no-show", "park"]
CounterAction = Literal["resume", "close"]
_TICKET_ACTIONS: frozenset[str] = frozenset({"recall", "start", "finish", "no-show", "park"})
_COUNTER_ACTIONS: frozenset[str] = frozenset({"resume", "close"})
# ASCII digits only, as the server reads Last-Event-ID (str.isdigit() accepts "²").
_EVENT_ID = re.compile(r"[0-9]{1,19}")


class HallClientError(CodedError):
    code = "unreachable"


class HallUnavailable(HallClientError):
    """No usable answer from the hall for now (down, network cut, timeout, 502/503/504).
    ``status`` is the HTTP status when there was one, ``code`` the server's error code
    (``storage_unavailable``) or ``unreachable``."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: str = "unreachable",
        retry_after_s: float | None = None,
    ) -> None:
        super().__init__(message)
        self.message, self.status, self.code = message, status, code
        self.retry_after_s = retry_after_s


class HallBadResponse(HallUnavailable):
    """A success status with a body that is not JSON, or not the expected model."""

    def __init__(self, status: int | None, message: str) -> None:
        super().__init__(message, status=status, code="bad_response")


class HallApiError(HallClientError):
    """The hall refused: ``code`` for programs; ``body`` the whole refusal when it was the
    hall's ``ErrorBody`` (its texts, ``opens_at`` for outside_hours, …)."""

    def __init__(self, status: int, code: str, message: str, body: ErrorBody | None = None) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status, self.code, self.message = status, code, message
        self.body = body


@dataclass(frozen=True)
class SseEvent:
    id: int
    type: str
    data: dict[str, Any]


_SERVICES = TypeAdapter(list[ServiceInfo])
_HELP_REQUESTS = TypeAdapter(list[HelpRequest])
_DEVICES = TypeAdapter(list[DeviceHealth])


def _retry_after(headers: Mapping[str, str]) -> float | None:
    value = headers.get("Retry-After", "").strip()
    return float(value) if value.isdecimal() else None


def error_for(
    status: int, content: bytes, headers: Mapping[str, str], where: str
) -> HallClientError:
    """The client error for a non-2xx answer: ``{"error", "message"}`` when the body is
    the hall's ``ErrorBody``, the start of the text otherwise."""
    try:
        body: ErrorBody | None = ErrorBody.model_validate_json(content)
        assert body is not None
        code, message = body.error, body.message
    except ValidationError:
        body = None
        code, message = "error", content[:200].decode("utf-8", "replace")
    if status in UNAVAILABLE_STATUSES:
        return HallUnavailable(
            f"{where}: {status} {code}: {message}",
            status=status,
            code=code if code != "error" else "unavailable",
            retry_after_s=_retry_after(headers),
        )
    return HallApiError(status, code, message, body)


class HallClient:
    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        timeout: float = 5.0,
        retries: int = 2,
        backoff_s: float = 0.2,
        retry_after_max_s: int = 10,
    ) -> None:
        """``retries`` repeats of a safe call after a connection error, a timeout or a
        502/503/504; urllib3 makes the first at once, then waits ``backoff_s`` × 2, × 4 …,
        or what the server's Retry-After says, at most ``retry_after_max_s``."""
        self.base = base_url.rstrip("/")
        self.api = self.base + "/api/v1"
        self.timeout, self.retries, self.backoff_s = timeout, retries, backoff_s
        self.retry_after_max_s = retry_after_max_s
        self._local = threading.local()
        self._headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}

    # -- sessions ----------------------------------------------------------------------
    def retry_policy(self) -> Retry:
        return Retry(
            total=self.retries,
            allowed_methods=SAFE_METHODS,
            status_forcelist=UNAVAILABLE_STATUSES,
            backoff_factor=self.backoff_s,
            respect_retry_after_header=True,
            retry_after_max=self.retry_after_max_s,
            raise_on_status=False,  # the last answer reaches our error mapping
        )

    def _session(self, retrying: bool) -> requests.Session:
        # Sessions per thread (requests.Session is not thread-safe), two of them: the
        # adapter, which holds the retry policy, is per session.
        name = "retrying" if retrying else "once"
        s: requests.Session | None = getattr(self._local, name, None)
        if s is None:
            s = requests.Session()
            s.headers.update(self._headers)
            adapter = HTTPAdapter(
                max_retries=self.retry_policy() if retrying else Retry(0, read=False)
            )
            s.mount("http://", adapter)
            s.mount("https://", adapter)
            setattr(self._local, name, s)
        return s

    @property
    def session(self) -> requests.Session:
        """This thread's retrying session."""
        return self._session(True)

    def close(self) -> None:
        """Close this thread's sessions."""
        for name in ("retrying", "once"):
            s = getattr(self._local, name, None)
            if s is not None:
                s.close()
                delattr(self._local, name)

    # -- plumbing ----------------------------------------------------------------------
    def url(self, path: str) -> str:
        if path.startswith(("http://", "https://")):
            return path
        if path.startswith(("/healthz", "/metrics")):
            return self.base + path
        return self.api + path

    def send(
        self,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        headers: dict[str, str] | None = None,
        params: dict[str, Any] | None = None,
        retry: bool | None = None,
        accept_statuses: Collection[int] = (),
    ) -> requests.Response:
        """One API call; the answer when its status is 2xx (or in ``accept_statuses``).
        ``retry`` defaults to True for GET only: a POST is retried only when it carries
        an Idempotency-Key or the caller says it is safe."""
        safe = method.upper() in ("GET", "HEAD") if retry is None else retry
        where = f"{method} {path}"
        try:
            resp = self._session(safe).request(
                method,
                self.url(path),
                json=json_body,
                headers=headers,
                params=params,
                timeout=self.timeout,
            )
        except (
            requests.ConnectionError,  # also a connection refused after the last retry
            requests.Timeout,
            requests.exceptions.ChunkedEncodingError,
            requests.exceptions.RetryError,
        ) as err:
            raise HallUnavailable(f"hall server at {self.base} unreachable: {err}") from err
        except requests.exceptions.ContentDecodingError as err:
            raise HallBadResponse(None, f"{where}: undecodable body: {err}") from err
        except requests.RequestException as err:  # an invalid URL or header: no hall here
            raise HallUnavailable(f"{where} to {self.base} failed: {err}") from err
        if resp.status_code >= 400 and resp.status_code not in accept_statuses:
            raise error_for(resp.status_code, resp.content, resp.headers, where)
        return resp

    def request(
        self,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        headers: dict[str, str] | None = None,
        params: dict[str, Any] | None = None,
        retry: bool | None = None,
    ) -> Any:
        """One call whose answer is untyped JSON (None for an empty answer), for paths
        this client has no method for."""
        resp = self.send(
            method, path, json_body=json_body, headers=headers, params=params, retry=retry
        )
        if resp.status_code == 204 or not resp.content:
            return None
        return _json(resp, f"{method} {path}")

    def _call(
        self,
        model: type[M],
        method: str,
        path: str,
        **kw: Any,
    ) -> M:
        resp = self.send(method, path, **kw)
        return _parse(resp, model, f"{method} {path}")

    def _call_list(
        self, adapter: TypeAdapter[list[M]], method: str, path: str, **kw: Any
    ) -> list[M]:
        resp = self.send(method, path, **kw)
        where = f"{method} {path}"
        try:
            return adapter.validate_python(_json(resp, where))
        except ValidationError as err:
            raise HallBadResponse(resp.status_code, _mismatch(where, err)) from err

    # -- API v1 ------------------------------------------------------------------------
    def health(self) -> Health:
        """``/healthz``, also when it answers 503 because storage is down: then
        ``status == "degraded"`` and ``storage == "down"``."""
        resp = self.send("GET", "/healthz", accept_statuses=(503,))
        try:
            return _parse(resp, Health, "GET /healthz")
        except HallBadResponse as err:
            if resp.status_code == 503:  # not the hall's own 503 (a proxy's)
                raise error_for(503, resp.content, resp.headers, "GET /healthz") from err
            raise

    def services(self) -> list[ServiceInfo]:
        return self._call_list(_SERVICES, "GET", "/services")

    def issue_ticket(
        self,
        service: str,
        *,
        id_number: str | None = None,
        name: str | None = None,
        priority: str | None = None,
        appointment_id: int | None = None,
        idempotency_key: str | None = None,
        verification: str | None = None,
        matters: Sequence[str] = (),
    ) -> Ticket:
        """Retried safely: the Idempotency-Key makes a repeat return the same ticket.
        ``verification``: ``"face"`` (the kiosk's face check passed) or ``"manual"`` (staff
        check the ID at the counter: declined, failed or unavailable). ``matters``: the
        catalogue's codes of the matters the citizen came for (the 我要办 journey: a
        一件事一次办 bundle's, or one), registered with the ticket for the counter."""
        body: dict[str, Any] = {
            k: v
            for k, v in {
                "service": service,
                "id_number": id_number,
                "name": name,
                "priority": priority,
                "appointment_id": appointment_id,
                "verification": verification,
            }.items()
            if v is not None
        }
        if matters:
            body["matters"] = list(matters)
        key = idempotency_key or uuid.uuid4().hex
        return self._call(
            Ticket,
            "POST",
            "/tickets",
            json_body=body,
            headers={"Idempotency-Key": key},
            retry=True,
        )

    def import_tickets(self, items: list[dict[str, Any]]) -> ImportResult:
        """Retried safely: the hall merges an offline number once. Answered item by item
        (imported, duplicate, refused with a code); at most ``MAX_IMPORT`` per call."""
        return self._call(ImportResult, "POST", "/tickets/import", json_body=items, retry=True)

    def ticket(self, ticket_id: int) -> Ticket:
        return self._call(Ticket, "GET", f"/tickets/{ticket_id}")

    def ticket_by_number(self, number: str) -> Ticket:
        """Today's ticket with this number (e.g. A012), for a citizen checking status."""
        return self._call(Ticket, "GET", f"/tickets/by-number/{number}")

    def cancel_ticket(self, idempotency_key: str) -> Ticket:
        """Withdraw the ticket issued with this key if it is still waiting: used after an
        issue whose answer was lost, once the kiosk has printed an offline ticket."""
        return self._call(
            Ticket,
            "POST",
            "/tickets/cancel",
            headers={"Idempotency-Key": idempotency_key},
            retry=True,
        )

    def evaluate(
        self,
        ticket_id: int,
        score: int,
        comment: str | None = None,
        *,
        channel: str | None = None,
        matter_no: str | None = None,
        reasons: list[str] | None = None,
    ) -> Evaluation:
        """好差评 of a served ticket (one matter); ``channel`` ``kiosk`` for 评价上次办理."""
        body: dict[str, Any] = {"score": score}
        if comment:
            body["comment"] = comment
        if channel:
            body["channel"] = channel
        if matter_no:
            body["matter_no"] = matter_no
        if reasons:
            body["reasons"] = reasons
        return self._call(Evaluation, "POST", f"/tickets/{ticket_id}/evaluation", json_body=body)

    def find_ratable(
        self, *, number: str | None = None, id_number: str | None = None
    ) -> RatableVisit:
        """评价上次办理: the last visit still to rate, by ticket number or ID card (404
        ``visit_not_found`` when none)."""
        body = {"number": number} if number is not None else {"id_number": id_number}
        return self._call(RatableVisit, "POST", "/ratings/lookup", json_body=body)

    def reprint(self, ticket_id: int, id_number: str) -> Ticket:
        """补打 a ticket the card's holder already has (``daily_limit`` names it), once."""
        return self._call(
            Ticket, "POST", f"/tickets/{ticket_id}/reprint", json_body={"id_number": id_number}
        )

    def requeue(self, ticket_id: int) -> Ticket:
        return self._call(Ticket, "POST", f"/tickets/{ticket_id}/requeue")

    def counter(self, counter_id: str) -> CounterStatus:
        return self._call(CounterStatus, "GET", f"/counters/{counter_id}")

    def call_next(self, counter_id: str) -> Ticket | None:
        """The ticket called, or None when nobody is waiting (204)."""
        resp = self.send("POST", f"/counters/{counter_id}/call-next")
        if resp.status_code == 204:
            return None
        return _parse(resp, Ticket, f"POST /counters/{counter_id}/call-next")

    def call(self, counter_id: str, ticket_id: int) -> Ticket:
        return self._call(
            Ticket, "POST", f"/counters/{counter_id}/call", json_body={"ticket": ticket_id}
        )

    @overload
    def counter_action(self, counter_id: str, action: TicketAction, body: Any = None) -> Ticket: ...
    @overload
    def counter_action(
        self, counter_id: str, action: CounterAction, body: Any = None
    ) -> CounterStatus: ...
    def counter_action(
        self, counter_id: str, action: str, body: Any = None
    ) -> Ticket | CounterStatus:
        """recall, start, finish, no-show, park (→ the ticket); resume, close (→ the
        counter)."""
        model: type[Ticket] | type[CounterStatus]
        if action in _TICKET_ACTIONS:
            model = Ticket
        elif action in _COUNTER_ACTIONS:
            model = CounterStatus
        else:
            raise ValueError(f"unknown counter action {action!r}")
        return self._call(model, "POST", f"/counters/{counter_id}/{action}", json_body=body)

    def transfer(
        self, counter_id: str, service: str, note: str | None = None, return_here: bool = False
    ) -> Ticket:
        return self._call(
            Ticket,
            "POST",
            f"/counters/{counter_id}/transfer",
            json_body={"service": service, "note": note, "return_here": return_here},
        )

    def pause(self, counter_id: str, reason: str) -> CounterStatus:
        return self._call(
            CounterStatus, "POST", f"/counters/{counter_id}/pause", json_body={"reason": reason}
        )

    def book(self, service: str, id_number: str, slot_start: str) -> Appointment:
        return self._call(
            Appointment,
            "POST",
            "/appointments",
            json_body={"service": service, "id_number": id_number, "slot_start": slot_start},
        )

    def check_in(self, id_number: str, *, idempotency_key: str | None = None) -> Ticket:
        """Retried safely like ticket issue: a repeat returns the same ticket."""
        return self._call(
            Ticket,
            "POST",
            "/appointments/check-in",
            json_body={"id_number": id_number},
            headers={"Idempotency-Key": idempotency_key or uuid.uuid4().hex},
            retry=True,
        )

    def check_in_by_code(self, code: str, *, idempotency_key: str | None = None) -> Ticket:
        """预约签到 by the booking's code (the QR code on the citizen's phone, issue 21);
        retried safely like ticket issue."""
        return self._call(
            Ticket,
            "POST",
            f"/bookings/{urllib.parse.quote(code, safe='')}/check-in",
            headers={"Idempotency-Key": idempotency_key or uuid.uuid4().hex},
            retry=True,
        )

    def confirm_remote(self, public_token: str) -> RemoteTicket:
        """远程取号: its holder is at the kiosk (the ticket's QR code was scanned)."""
        return self._call(
            RemoteTicket,
            "POST",
            f"/remote-tickets/{urllib.parse.quote(public_token, safe='')}/confirm",
            retry=True,
        )

    def help_request(self, kiosk: str, reason: str) -> HelpRequest:
        return self._call(
            HelpRequest, "POST", "/help-requests", json_body={"kiosk": kiosk, "reason": reason}
        )

    def help_requests(self) -> list[HelpRequest]:
        return self._call_list(_HELP_REQUESTS, "GET", "/help-requests")

    def resolve_help(self, help_id: int) -> HelpResolved:
        return self._call(HelpResolved, "POST", f"/help-requests/{help_id}/resolve")

    def heartbeat(self, device: str, parts: dict[str, str]) -> HeartbeatAck:
        return self._call(
            HeartbeatAck,
            "POST",
            "/devices/heartbeat",
            json_body={"device": device, "parts": parts},
            retry=True,
        )

    def devices(self) -> list[DeviceHealth]:
        return self._call_list(_DEVICES, "GET", "/devices")

    def board(self) -> Board:
        return self._call(Board, "GET", "/board")

    @overload
    def stats(
        self, start: str | None = None, end: str | None = None, *, csv: Literal[False] = False
    ) -> Stats: ...
    @overload
    def stats(
        self, start: str | None = None, end: str | None = None, *, csv: Literal[True]
    ) -> str: ...
    def stats(
        self, start: str | None = None, end: str | None = None, *, csv: bool = False
    ) -> Stats | str:
        """Statistics between two dates (ISO), or their CSV text with ``csv=True``."""
        params = {k: v for k, v in {"from": start, "to": end}.items() if v}
        if csv:
            resp = self.send("GET", "/stats", params=params, headers={"Accept": "text/csv"})
            if "text/csv" not in resp.headers.get("content-type", ""):
                raise HallBadResponse(resp.status_code, "GET /stats: the answer is not CSV")
            return resp.text
        return self._call(Stats, "GET", "/stats", params=params)

    # -- events ------------------------------------------------------------------------
    def events(
        self,
        last_event_id: int | None = None,
        *,
        read_timeout: float = 40.0,
        stop: threading.Event | None = None,
        on_connect: Callable[[], object] | None = None,
    ) -> Iterator[SseEvent]:
        """Yields events from one connection (through httpx-sse); ends when the
        connection ends, or soon after ``stop`` is set (at the next frame or ping).
        Callers that must follow the hall for hours use ``follow``."""
        import httpx
        from httpx_sse import EventSource, SSEError

        headers = {"Authorization": self._headers["Authorization"]}
        if last_event_id is not None:
            headers["Last-Event-ID"] = str(last_event_id)
        timeout = httpx.Timeout(self.timeout, read=read_timeout)
        transport = _transport(stop)
        where = "GET /events"
        try:
            with (
                httpx.Client(transport=transport, timeout=timeout) as client,
                client.stream(
                    "GET",
                    self.api + "/events",
                    headers={
                        **headers,
                        "Accept": "text/event-stream",
                        "Cache-Control": "no-store",
                    },
                ) as resp,
            ):
                if resp.status_code >= 400:
                    raise error_for(resp.status_code, resp.read(), resp.headers, where)
                content_type = resp.headers.get("content-type", "")
                if not content_type.startswith("text/event-stream"):
                    raise HallBadResponse(
                        resp.status_code, f"{where}: not an event stream ({content_type!r})"
                    )
                if on_connect:
                    on_connect()
                yield from hall_events(EventSource(resp).iter_sse(), stop)
        except httpx.TransportError as err:  # refused, timed out, cut off mid-stream
            raise HallUnavailable(f"event stream at {self.base}: {err!r}") from err
        except (httpx.DecodingError, SSEError) as err:
            raise HallBadResponse(None, f"{where}: {err}") from err

    def follow(
        self,
        last_event_id: int | None = None,
        *,
        stop: threading.Event,
        max_backoff_s: float = 10.0,
        on_state: Callable[[bool], object] | None = None,
        read_timeout: float = 40.0,
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
                for ev in self.events(
                    last, stop=stop, on_connect=connected, read_timeout=read_timeout
                ):
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


def _json(resp: requests.Response, where: str) -> Any:
    try:
        return resp.json()
    # requests' JSONDecodeError, a bad encoding; nesting too deep for the parser, which
    # json reports as a RecursionError (``[[[[…``), is no more an answer than a portal page.
    except (ValueError, RecursionError) as err:
        kind = resp.headers.get("content-type", "no content type")
        raise HallBadResponse(
            resp.status_code, f"{where}: the answer is not JSON ({kind}): {resp.text[:80]!r}"
        ) from err


def _mismatch(where: str, err: ValidationError) -> str:
    first = err.errors()[0]
    loc = ".".join(str(x) for x in first.get("loc", ())) or "body"
    return (
        f"{where}: the answer does not match {err.title} "
        f"({err.error_count()} errors; {loc}: {first.get('msg')})"
    )


def _parse(resp: requests.Response, model: type[M], where: str) -> M:
    body = _json(resp, where)
    try:
        return model.model_validate(body)
    except ValidationError as err:
        raise HallBadResponse(resp.status_code, _mismatch(where, err)) from err


def _transport(stop: threading.Event | None) -> httpx.BaseTransport:
    """httpx's transport; with ``stop``, its streams end at the first chunk (a frame, a
    ping) that arrives once ``stop`` is set, so a reader waiting on a quiet stream stops
    within one heartbeat."""
    import httpx

    if stop is None:
        return httpx.HTTPTransport()
    stopped: threading.Event = stop

    class UntilStopped(httpx.SyncByteStream):
        def __init__(self, inner: httpx.SyncByteStream) -> None:
            self.inner = inner

        def __iter__(self) -> Iterator[bytes]:
            for chunk in self.inner:
                if stopped.is_set():
                    return
                yield chunk

        def close(self) -> None:
            self.inner.close()

    class StoppableTransport(httpx.HTTPTransport):
        def handle_request(self, request: httpx.Request) -> httpx.Response:
            resp = super().handle_request(request)
            assert isinstance(resp.stream, httpx.SyncByteStream)
            return httpx.Response(
                resp.status_code,
                headers=resp.headers,
                stream=UntilStopped(resp.stream),
                extensions=resp.extensions,
                request=request,
            )

    return StoppableTransport()


def hall_events(
    frames: Iterable[ServerSentEvent], stop: threading.Event | None = None
) -> Iterator[SseEvent]:
    """The hall's events among decoded SSE frames: a frame is an event when it has data
    and its own id, a decimal number (frames without one — ``retry:`` — are skipped: a
    stream cannot resume from them). ``data`` is the parsed JSON object."""
    previous_id = ""
    for sse in frames:
        if stop is not None and stop.is_set():
            return
        # The SSE spec keeps the last id for frames that carry none: a repeat is not an id
        # of this frame's own.
        own_id = sse.id if sse.id != previous_id else ""
        previous_id = sse.id
        if not sse.data or not _EVENT_ID.fullmatch(own_id):
            continue
        try:
            payload = json.loads(sse.data)
        except ValueError:
            payload = None
        if not isinstance(payload, dict):
            payload = {"raw": sse.data}
        yield SseEvent(int(own_id), sse.event, payload)


def parse_sse(lines: Iterable[bytes], stop: threading.Event | None = None) -> Iterator[SseEvent]:
    """The events in text/event-stream lines (without their line ends), decoded by
    httpx-sse as a live stream is: for tests of the wire format."""
    import httpx
    from httpx_sse import EventSource

    resp = httpx.Response(
        200,
        headers={"content-type": "text/event-stream"},
        content=(line + b"\n" for line in lines),
    )
    yield from hall_events(EventSource(resp).iter_sse(), stop)


_TICKET_LINK = re.compile(r"/t/([A-Za-z0-9_-]{8,64})/?$")


def ticket_token_of(text: str) -> str | None:
    """The public token in a scanned ticket link (…/t/TOKEN: a remote ticket's page)."""
    found = _TICKET_LINK.search(text.strip())
    return found.group(1) if found else None


def booking_code_of(text: str) -> str | None:
    """The booking code in a scanned QR code: the booking page's link (…/book/b/CODE) or
    the code itself; None for any other QR code (a ticket's, a poster's)."""
    text = text.strip()
    if "/book/b/" not in text and len(text) > 12:
        return None
    return parse_code(text)

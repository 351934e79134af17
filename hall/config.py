"""Hall config file (TOML): the keys of DESIGN.md plus the queue policy.

Loaded once at start; every error names the file, the key and what is wrong, so a
technician fixes the file instead of reading a traceback. ``hall.config`` is public: the
kiosk and signage read the same file (their own sections are kept as plain tables and
validated by their owners).
"""

from __future__ import annotations

import functools
import re
import secrets
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

ROLES = ("kiosk", "display", "counter", "admin")
DEFAULT_PORT = 8700


class ConfigError(ValueError):
    """A config file that cannot be used; the message says file, key and problem."""


@dataclass(frozen=True)
class Service:
    code: str
    prefix: str
    name: str
    name_en: str
    requires_id: bool = False
    requires_face: bool = False
    open: bool = True
    materials: tuple[str, ...] = ()
    materials_en: tuple[str, ...] = ()
    avg_service_s: float = 300.0
    """Service time in seconds assumed for the wait estimate before any is observed today."""
    daily_limit: int | None = None
    """Open tickets one person may hold for this service per day (None: the hall default)."""


@dataclass(frozen=True)
class Counter:
    id: str
    name: str
    services: tuple[str, ...]
    name_en: str = ""


@dataclass(frozen=True)
class Token:
    name: str
    role: str
    token: str


@dataclass(frozen=True)
class Policy:
    """Queue policy; every duration is in seconds unless the name says otherwise."""

    elderly_age: int = 60
    """Age in years from which an ID-card holder is put in the green channel (绿色通道)."""
    aging_bound_s: float = 1800.0
    """A normal ticket waiting this long is no longer overtaken by higher classes."""
    recall_limit: int = 3
    """Recalls of one call; the next recall marks the ticket no-show (过号)."""
    recall_cooldown_s: float = 10.0
    """Minimum time between two announcements of the same ticket."""
    no_show_requeue_s: float = 1800.0
    """A no-show ticket may be put back in the queue this long after it was missed."""
    daily_limit: int = 1
    """Open tickets one person (by keyed ID hash) may hold per service per day."""
    retention_days: int = 30
    """Masked names and ID hashes are purged after this many days; statistics stay."""
    appointment_grace_s: float = 900.0
    """A check-in later than slot + grace gets a normal ticket."""
    appointment_early_s: float = 3600.0
    """Check-in opens this long before the slot."""
    device_silent_s: float = 30.0
    """A device whose heartbeat is older than this is shown offline."""


@dataclass(frozen=True)
class ServerConfig:
    host: str = "127.0.0.1"
    port: int = DEFAULT_PORT
    database: str = ""
    """SQLAlchemy URL; empty means ``sqlite:///<config dir>/hall.db``."""
    sqlite_synchronous: str = "FULL"
    """FULL survives power loss; NORMAL only process crashes (faster on slow disks)."""
    max_body_bytes: int = 65536
    writer: str = "process"
    """Where state changes run in ``govhall hall``: ``process`` (a process of their own,
    beside the one serving HTTP: a core each) or ``thread`` (one process)."""


@dataclass(frozen=True)
class HallConfig:
    hall_id: str
    name: str
    name_en: str
    timezone: str
    secret: bytes
    server: ServerConfig
    policy: Policy
    services: tuple[Service, ...]
    counters: tuple[Counter, ...]
    tokens: tuple[Token, ...]
    notice: str = ""
    sections: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Tables owned by other parts (kiosk, signage, devices), validated by them."""
    path: Path | None = None

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def service(self, code: str) -> Service | None:
        return self._services_by_code.get(code)

    def counter(self, counter_id: str) -> Counter | None:
        return self._counters_by_id.get(counter_id)

    @functools.cached_property
    def _services_by_code(self) -> dict[str, Service]:
        return {s.code: s for s in self.services}

    @functools.cached_property
    def _counters_by_id(self) -> dict[str, Counter]:
        return {c.id: c for c in self.counters}

    def role_of(self, token: str) -> Token | None:
        for t in self.tokens:
            if secrets.compare_digest(t.token.encode(), token.encode()):
                return t
        return None

    def token_for(self, role: str, name: str | None = None) -> str:
        """The first token of a role (or the named one): for local clients and tests."""
        for t in self.tokens:
            if t.role == role and (name is None or t.name == name):
                return t.token
        raise ConfigError(f"{self.path}: no [[token]] with role {role!r}")


_OWNED_ELSEWHERE = ("kiosk", "signage", "devices", "web")
_TOP_KEYS = {"hall", "server", "policy", "service", "counter", "token", *_OWNED_ELSEWHERE}
_CODE_RE = re.compile(r"^[A-Z][A-Z0-9]{0,3}$")


class _Reader:
    """Reads one table, remembering which keys were used so unknown ones are refused."""

    def __init__(self, where: str, table: Any, path: str) -> None:
        if not isinstance(table, dict):
            raise ConfigError(f"{path}: {where} must be a table")
        self.where, self.table, self.path = where, table, path
        self.used: set[str] = set()

    def _fail(self, key: str, problem: str) -> ConfigError:
        return ConfigError(f"{self.path}: {self.where}.{key}: {problem}")

    def get(self, key: str, kind: type | tuple[type, ...], default: Any = ...) -> Any:
        self.used.add(key)
        if key not in self.table:
            if default is ...:
                raise self._fail(key, "is required")
            return default
        value = self.table[key]
        kinds = kind if isinstance(kind, tuple) else (kind,)
        if float in kinds and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if isinstance(value, bool) and bool not in kinds:
            raise self._fail(key, f"must be {_kind_name(kinds)}, got {value!r}")
        if not isinstance(value, kinds):
            raise self._fail(key, f"must be {_kind_name(kinds)}, got {value!r}")
        if isinstance(value, str) and str in kinds and not value.strip() and default is ...:
            raise self._fail(key, "must not be empty")
        return value

    def strings(self, key: str, default: tuple[str, ...] = ()) -> tuple[str, ...]:
        value = self.get(key, list, list(default))
        if not all(isinstance(v, str) for v in value):
            raise self._fail(key, "must be a list of strings")
        return tuple(value)

    def finish(self) -> None:
        unknown = sorted(set(self.table) - self.used)
        if unknown:
            raise self._fail(unknown[0], "unknown key (misspelt?)")


def _kind_name(kinds: tuple[type, ...]) -> str:
    names = {
        str: "a string",
        int: "an integer",
        float: "a number",
        bool: "true or false",
        list: "a list",
        dict: "a table",
    }
    return " or ".join(names.get(k, k.__name__) for k in kinds)


def load_config(path: str | Path) -> HallConfig:
    path = Path(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as err:
        raise ConfigError(f"{path}: no such config file") from err
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(f"{path}: not valid TOML: {err}") from err
    except UnicodeDecodeError as err:
        raise ConfigError(f"{path}: not UTF-8 text") from err
    return parse_config(raw, path)


def parse_config(raw: dict[str, Any], path: Path | None = None) -> HallConfig:
    p = str(path or "<config>")
    unknown = sorted(set(raw) - _TOP_KEYS)
    if unknown:
        raise ConfigError(f"{p}: [{unknown[0]}]: unknown section (misspelt?)")

    h = _Reader("[hall]", raw.get("hall", {}), p)
    name = h.get("name", str)
    name_en = h.get("name_en", str, "")
    hall_id = h.get("id", str, "hall-1")
    timezone = h.get("timezone", str, "Asia/Shanghai")
    secret_text = h.get("secret", str, "")
    notice = h.get("notice", str, "")
    h.finish()
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError) as err:
        raise ConfigError(f"{p}: [hall].timezone: unknown time zone {timezone!r}") from err

    s = _Reader("[server]", raw.get("server", {}), p)
    server = ServerConfig(
        host=s.get("host", str, "127.0.0.1"),
        port=s.get("port", int, DEFAULT_PORT),
        database=s.get("database", str, ""),
        sqlite_synchronous=s.get("sqlite_synchronous", str, "FULL").upper(),
        max_body_bytes=s.get("max_body_bytes", int, 65536),
        writer=s.get("writer", str, "process"),
    )
    s.finish()
    if not 0 < server.port < 65536:
        raise ConfigError(f"{p}: [server].port: must be 1..65535, got {server.port}")
    if server.sqlite_synchronous not in ("FULL", "NORMAL", "EXTRA"):
        raise ConfigError(f"{p}: [server].sqlite_synchronous: must be FULL, NORMAL or EXTRA")
    if server.writer not in ("process", "thread"):
        raise ConfigError(f"{p}: [server].writer: must be process or thread")
    if not server.database:
        base = path.parent if path else Path.cwd()
        server = ServerConfig(**{**server.__dict__, "database": f"sqlite:///{base / 'hall.db'}"})

    pol = _Reader("[policy]", raw.get("policy", {}), p)
    defaults = Policy()
    policy = Policy(
        **{
            k: pol.get(k, type(v) if not isinstance(v, float) else float, v)
            for k, v in defaults.__dict__.items()
        }
    )
    pol.finish()
    for k, v in policy.__dict__.items():
        if v < 0:
            raise ConfigError(f"{p}: [policy].{k}: must not be negative")

    services = _parse_services(raw.get("service", []), p)
    counters = _parse_counters(raw.get("counter", []), p, {sv.code for sv in services})
    tokens = _parse_tokens(raw.get("token", []), p)

    secret = secret_text.encode() if secret_text else _secret_file(path)

    sections = {k: raw[k] for k in _OWNED_ELSEWHERE if k in raw}
    for k, v in sections.items():
        if not isinstance(v, dict):
            raise ConfigError(f"{p}: [{k}] must be a table")
    return HallConfig(
        hall_id=hall_id,
        name=name,
        name_en=name_en,
        timezone=timezone,
        secret=secret,
        server=server,
        policy=policy,
        services=services,
        counters=counters,
        tokens=tokens,
        notice=notice,
        sections=sections,
        path=path,
    )


def _parse_services(items: Any, p: str) -> tuple[Service, ...]:
    if not isinstance(items, list) or not items:
        raise ConfigError(f"{p}: [[service]]: at least one service is required")
    out: list[Service] = []
    for i, item in enumerate(items):
        r = _Reader(f"[[service]] #{i + 1}", item, p)
        code = r.get("code", str)
        svc = Service(
            code=code,
            prefix=r.get("prefix", str, code),
            name=r.get("name", str),
            name_en=r.get("name_en", str, ""),
            requires_id=r.get("requires_id", bool, False),
            requires_face=r.get("requires_face", bool, False),
            open=r.get("open", bool, True),
            materials=r.strings("materials"),
            materials_en=r.strings("materials_en"),
            avg_service_s=r.get("avg_service_s", float, 300.0),
            daily_limit=r.get("daily_limit", int, None),
        )
        r.finish()
        if not _CODE_RE.match(svc.code):
            raise ConfigError(
                f"{p}: [[service]] #{i + 1}.code: {svc.code!r} must be 1–4 "
                "upper-case letters/digits starting with a letter"
            )
        if not _CODE_RE.match(svc.prefix):
            raise ConfigError(
                f"{p}: [[service]] {code}.prefix: {svc.prefix!r} must be 1–4 "
                "upper-case letters/digits starting with a letter"
            )
        if svc.requires_face and not svc.requires_id:
            raise ConfigError(
                f"{p}: [[service]] {code}.requires_face: a face check needs "
                "the ID card photo, so requires_id must be true"
            )
        for prev in out:
            if prev.code == svc.code:
                raise ConfigError(f"{p}: [[service]] #{i + 1}.code: {code!r} is used twice")
            if prev.prefix == svc.prefix:
                raise ConfigError(
                    f"{p}: [[service]] {code}.prefix: {svc.prefix!r} is already "
                    f"the prefix of service {prev.code!r}"
                )
        out.append(svc)
    return tuple(out)


def _parse_counters(items: Any, p: str, codes: set[str]) -> tuple[Counter, ...]:
    if not isinstance(items, list) or not items:
        raise ConfigError(f"{p}: [[counter]]: at least one counter is required")
    out: list[Counter] = []
    for i, item in enumerate(items):
        r = _Reader(f"[[counter]] #{i + 1}", item, p)
        cid = r.get("id", (str, int))
        counter = Counter(
            id=str(cid),
            name=r.get("name", str),
            services=r.strings("services"),
            name_en=r.get("name_en", str, ""),
        )
        r.finish()
        if not re.match(r"^[A-Za-z0-9_-]{1,16}$", counter.id):
            raise ConfigError(
                f"{p}: [[counter]] #{i + 1}.id: {counter.id!r} must be 1–16 letters, digits, - or _"
            )
        if not counter.services:
            raise ConfigError(f"{p}: [[counter]] {counter.id}.services: must name a service")
        for code in counter.services:
            if code not in codes:
                raise ConfigError(
                    f"{p}: [[counter]] {counter.id}.services: no service with code {code!r}"
                )
        if any(c.id == counter.id for c in out):
            raise ConfigError(f"{p}: [[counter]] #{i + 1}.id: {counter.id!r} is used twice")
        out.append(counter)
    return tuple(out)


def _parse_tokens(items: Any, p: str) -> tuple[Token, ...]:
    if not isinstance(items, list):
        raise ConfigError(f"{p}: [[token]] must be an array of tables")
    out: list[Token] = []
    for i, item in enumerate(items):
        r = _Reader(f"[[token]] #{i + 1}", item, p)
        tok = Token(name=r.get("name", str), role=r.get("role", str), token=r.get("token", str))
        r.finish()
        if tok.role not in ROLES:
            raise ConfigError(
                f"{p}: [[token]] {tok.name}.role: {tok.role!r} is not one of {', '.join(ROLES)}"
            )
        if len(tok.token) < 16:
            raise ConfigError(f"{p}: [[token]] {tok.name}.token: must be at least 16 characters")
        for prev in out:
            if prev.token == tok.token:
                raise ConfigError(
                    f"{p}: [[token]] {tok.name}.token: the same token is already "
                    f"used by {prev.name!r}"
                )
            if prev.name == tok.name:
                raise ConfigError(f"{p}: [[token]] #{i + 1}.name: {tok.name!r} is used twice")
        out.append(tok)
    return tuple(out)


def _secret_file(path: Path | None) -> bytes:
    """The keyed-hash secret lives beside the config (created once, mode 0600) when the
    config does not set one, so hashes stay stable across restarts."""
    if path is None:
        return b"govhall-test-secret"
    secret_path = path.with_name(path.stem + ".secret")
    try:
        return secret_path.read_bytes().strip()
    except FileNotFoundError:
        pass
    try:
        value = secrets.token_hex(32).encode()
        secret_path.write_bytes(value)
        secret_path.chmod(0o600)
        return value
    except OSError as err:
        raise ConfigError(
            f"{path}: [hall].secret is not set and {secret_path} cannot be "
            f"written ({err.strerror}); set [hall].secret"
        ) from err

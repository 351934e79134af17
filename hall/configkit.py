"""What every part's config model shares: the model settings, ``ConfigError`` and the one
formatter that turns a pydantic ``ValidationError`` into what a technician reads.

The hall config file is validated by pydantic models, one per section, each owned by its
part (``hall.config`` for the hall's own, ``hall.web.settings``, ``kiosk.settings`` and
``signage.config`` for theirs). Whatever the part, a problem reads the same, one line each::

    /etc/govhall/hall.toml: [policy].recall_limit: must be ≥ 1
    /etc/govhall/hall.toml: [[service]] B.prefix: 'A' is already the prefix of service 'A'
    /etc/govhall/hall.toml: [signage].silent_hours[0]: '22-7' is not a range like "22:00-07:00"

The value of a secret key (tokens, the hall secret, the database URL, the admin PIN) is never
repeated in a message, and models hide their input in their own ``ValidationError`` text.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError
from pydantic_core import ErrorDetails, InitErrorDetails, PydanticCustomError

from common.errors import CodedError

Loc = tuple[str | int, ...]
"""Where in the file: section, then keys and list indices (``("service", 1, "prefix")``)."""

MODEL_CONFIG = ConfigDict(
    extra="forbid",  # a misspelt key is an error, never silently a default
    frozen=True,
    strict=True,  # TOML has types: "8700" is not a port and true is not 1 second
    use_attribute_docstrings=True,  # the docstring under a field (with its unit) documents it
    hide_input_in_errors=True,  # a ValidationError printed anyway never shows a token
)
DATACLASS_CONFIG = ConfigDict(
    # MODEL_CONFIG for a pydantic dataclass (frozen is the decorator's): for settings that
    # callers build positionally or change with dataclasses.replace
    extra="forbid",
    strict=True,
    use_attribute_docstrings=True,
    hide_input_in_errors=True,
    validate_by_name=True,  # a field with an alias (kiosk_id = the file's id) by either name
    validate_by_alias=True,
)

SECRET_KEYS = frozenset({"token", "secret", "admin_pin", "database", "password"})
"""Keys whose values are never repeated in a message."""

ITEM_NAMES = {"service": "code", "counter": "id", "token": "name"}
"""The hall file's arrays of tables and the key naming an item in messages
(``[[service]] B.prefix``; ``[[service]] #2.code`` while the name itself is the problem)."""

TOP_LEVEL_KEYS = frozenset({"version"})
"""Keys of the file that are not tables."""

MAX_LINES = 12


class ConfigError(CodedError, ValueError):
    """A config file that cannot be used; the message says file, key and problem, one line
    per problem."""

    code = "config_invalid"


class ConfigModel(BaseModel):
    """Base of every section's model: unknown keys refused, strict types, immutable."""

    model_config = MODEL_CONFIG


@dataclass(frozen=True)
class Problem:
    loc: Loc
    message: str


def file_name(path: object | None) -> str:
    """How messages name a config file: its path as given, ``<config>`` without one."""
    return "<config>" if path is None else str(path)


def conflict(loc: Loc, message: str) -> ValidationError:
    """A problem found by a validator that looks at several keys, placed at ``loc``
    (relative to the model raising it): raise it from a model validator."""
    return conflicts([(loc, message)])


def conflicts(problems: Iterable[tuple[Loc, str]]) -> ValidationError:
    details: list[InitErrorDetails] = [
        {
            "type": PydanticCustomError("config", "{message}", {"message": message}),
            "loc": loc,
            "input": None,
        }
        for loc, message in problems
    ]
    return ValidationError.from_exception_data("config", details)


def problems_of(err: ValidationError, section: str | None = None) -> list[Problem]:
    """The problems of ``err`` in the file's terms; ``section``: the table the model
    validated (its locations are relative to it)."""
    prefix: Loc = (section,) if section else ()
    out: list[Problem] = []
    for e in err.errors(include_url=False):
        if e["type"] == "default_factory_not_called":  # a consequence of another error
            continue
        loc: Loc = (*prefix, *e["loc"])
        message = describe(e)
        if len(loc) == 1 and e["type"] == "extra_forbidden":
            kind = "section" if isinstance(e.get("input"), dict | list) else "key"
            message = f"unknown {kind} (misspelt?)"
        out.append(Problem(loc, message))
    return out


_TYPES = {
    "int_type": "must be an integer",
    "int_parsing": "must be an integer",
    "int_from_float": "must be an integer",
    "float_type": "must be a number",
    "float_parsing": "must be a number",
    "bool_type": "must be true or false",
    "bool_parsing": "must be true or false",
    "string_type": "must be a string",
    "list_type": "must be a list",
    "tuple_type": "must be a list",
    "set_type": "must be a list",
    "dict_type": "must be a table",
    "model_type": "must be a table",
    "model_attributes_type": "must be a table",
    "dataclass_type": "must be a table",
    "path_type": "must be a string (a path)",
}
_BOUNDS = {
    "greater_than": ("gt", ">"),
    "greater_than_equal": ("ge", "≥"),
    "less_than": ("lt", "<"),
    "less_than_equal": ("le", "≤"),
}


def describe(e: ErrorDetails) -> str:
    """One pydantic error as a plain message (no file, no place)."""
    kind, ctx = e["type"], e.get("ctx") or {}
    if kind in ("missing", "missing_argument", "missing_keyword_only_argument"):
        return "is required"
    if kind in ("extra_forbidden", "unexpected_keyword_argument"):
        return "unknown key (misspelt?)"
    if kind in _TYPES:
        return _TYPES[kind] + _got(e)
    if kind in _BOUNDS:
        name, sign = _BOUNDS[kind]
        bound = ctx[name]
        if isinstance(bound, float) and bound.is_integer():
            bound = int(bound)  # "≤ 1", not "≤ 1.0", whatever the field's type
        return f"must be {sign} {bound}"
    if kind == "literal_error":
        return f"must be {ctx['expected']}{_got(e)}"
    if kind in ("string_too_short", "too_short"):
        n = ctx.get("min_length", 1)
        unit = "character" if kind == "string_too_short" else "item"
        return "must not be empty" if n == 1 else f"must have at least {n} {unit}s"
    if kind in ("string_too_long", "too_long"):
        unit = "character" if kind == "string_too_long" else "item"
        return f"must have at most {ctx.get('max_length')} {unit}s"
    if kind in ("value_error", "assertion_error") and "error" in ctx:
        return str(ctx["error"])
    msg = e["msg"]
    return msg[:1].lower() + msg[1:]


def _got(e: ErrorDetails) -> str:
    """``, got 'x'`` for a short scalar of a key that is not secret."""
    value = e.get("input")
    keys = [part for part in e["loc"] if isinstance(part, str)]
    if keys and keys[-1] in SECRET_KEYS:
        return ""
    if not isinstance(value, str | int | float | bool) or len(repr(value)) > 60:
        return ""
    return f", got {str(value).lower() if isinstance(value, bool) else repr(value)}"  # TOML


def place(loc: Loc, raw: Mapping[str, Any] | None = None) -> str:
    """``[policy].recall_limit``, ``[[service]] B.prefix``, ``[signage].silent_hours[0]``,
    ``[signage].led_addresses.3``, ``version``; ``raw``: the file's tables, to name an item
    of an array of tables by its code/id/name rather than its position."""
    if not loc:
        return ""
    head, rest = str(loc[0]), list(loc[1:])
    value = raw.get(head) if raw is not None else None
    if head in ITEM_NAMES or (isinstance(value, list) and value and isinstance(value[0], dict)):
        text = f"[[{head}]]"
        if rest and isinstance(index := rest[0], int):
            rest = rest[1:]
            text += " " + _item_name(head, index, rest, value)
    elif head in TOP_LEVEL_KEYS or (value is not None and not isinstance(value, dict | list)):
        text = head
    else:
        text = f"[{head}]"
    for part in rest:
        text += f"[{part}]" if isinstance(part, int) else f".{part}"
    return text


def _item_name(array: str, index: int, rest: list[str | int], items: Any) -> str:
    key = ITEM_NAMES.get(array)
    if key is None or rest[:1] == [key] or not isinstance(items, list) or index >= len(items):
        return f"#{index + 1}"
    item = items[index]
    name = item.get(key) if isinstance(item, dict) else None
    if (isinstance(name, str) and name.strip()) or (
        isinstance(name, int) and not isinstance(name, bool)
    ):
        return str(name)
    return f"#{index + 1}"


def format_problems(
    file: str,
    problems: Iterable[Problem],
    raw: Mapping[str, Any] | None = None,
    notes: Mapping[Loc, str] | None = None,
) -> str:
    """One line per problem, ``file: place: message``; ``notes`` add where a value came
    from (``from GOVHALL_TOKEN_KIOSK_1``) to the problems at their place."""
    lines: list[str] = []
    for p in problems:
        where = place(p.loc, raw)
        note = (notes or {}).get(p.loc)
        line = f"{file}: {where}: {p.message}" if where else f"{file}: {p.message}"
        line += f" ({note})" if note else ""
        if line not in lines:
            lines.append(line)
    if len(lines) > MAX_LINES:
        more = len(lines) - MAX_LINES + 1
        lines = [*lines[: MAX_LINES - 1], f"{file}: … and {more} more problems"]
    return "\n".join(lines)


def format_validation_error(
    err: ValidationError,
    file: str,
    *,
    section: str | None = None,
    raw: Mapping[str, Any] | None = None,
    notes: Mapping[Loc, str] | None = None,
) -> str:
    """The one formatter: ``err`` from validating the whole file (``raw``) or one
    ``section`` of it, as ``file: [section].key: problem`` lines."""
    return format_problems(file, problems_of(err, section), raw, notes)

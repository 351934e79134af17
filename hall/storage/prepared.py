"""Hot statements run straight on the DBAPI cursor, compiled once per dialect.

A ticket issue runs about seven statements. Through ``Connection.execute`` each one cost
~0.15 ms of Python (cache-key lookup, execution context, events, result metadata) against
~0.03 ms in the database driver, and the server is CPU-bound on one core (issue 2's
benchmark). ``Prepared`` keeps SQLAlchemy as the one place SQL is written — a Core
statement, compiled by the engine's dialect, with the dialect's own bind and result
processors — and skips only the per-call machinery.

Only statements without expanding (``IN``) parameters, run inside a transaction the
caller already holds on that connection. Every prepared statement is checked against
``Connection.execute`` on SQLite and PostgreSQL (tests/hall/test_prepared.py).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy import Connection, Insert
from sqlalchemy.engine import Dialect
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ClauseElement

Processor = Callable[[Any], Any]
_GIVEN = object()


class Row(tuple[Any, ...]):
    """A result row with attribute access by column name, like SQLAlchemy's ``Row``."""

    __slots__ = ()
    _index: Mapping[str, int] = {}

    def __getattr__(self, name: str) -> Any:
        try:
            return self[self._index[name]]
        except KeyError:
            raise AttributeError(name) from None


class Result:
    """The few ways the services read a result."""

    __slots__ = ("_rows",)

    def __init__(self, rows: list[Row]) -> None:
        self._rows = rows

    def first(self) -> Row | None:
        return self._rows[0] if self._rows else None

    def one(self) -> Row:
        if len(self._rows) != 1:
            raise LookupError(f"expected one row, got {len(self._rows)}")
        return self._rows[0]

    def one_or_none(self) -> Row | None:
        if len(self._rows) > 1:
            raise LookupError(f"expected at most one row, got {len(self._rows)}")
        return self._rows[0] if self._rows else None

    def all(self) -> list[Row]:
        return self._rows

    def scalar_one(self) -> Any:
        return self.one()[0]

    def scalar_one_or_none(self) -> Any:
        row = self.one_or_none()
        return None if row is None else row[0]


class Prepared:
    """One Core statement compiled for one dialect, with its bind order and processors."""

    def __init__(
        self,
        statement: ClauseElement,
        dialect: Dialect,
        column_keys: list[str] | None = None,
    ) -> None:
        # column_keys: the columns an INSERT without .values() sets (as execute() infers
        # them from the parameters).
        compiled = statement.compile(dialect=dialect, column_keys=column_keys)
        assert isinstance(compiled, SQLCompiler)
        if any(b.expanding for b in compiled.bind_names):
            raise ValueError("expanding (IN) parameters cannot be prepared")
        self.sql = compiled.string
        # Bound values fixed in the statement (e.g. status == 'waiting') and the names the
        # caller must give.
        binds = {name: b for b, name in compiled.bind_names.items()}
        procs = {n: b.type.dialect_impl(dialect).bind_processor(dialect) for n, b in binds.items()}
        # Per bind, in the driver's order: (name, processor, value fixed in the statement
        # — e.g. status == 'waiting', already processed — or _GIVEN by the caller).
        self._plan: list[tuple[str, Processor | None, Any]] = []
        order = compiled.positiontup if compiled.positional else list(binds)
        for name in order or ():
            b, proc = binds[name], procs[name]
            if b.required or b.callable is not None:
                self._plan.append((name, proc, _GIVEN))
            else:
                value = b.effective_value
                self._plan.append((name, None, proc(value) if proc else value))
        self._positional = bool(compiled.positional)
        columns = list(getattr(statement, "exported_columns", ()))
        names = [c.key if isinstance(c.key, str) else f"c{i}" for i, c in enumerate(columns)]
        self._row_type = type("Row", (Row,), {"__slots__": (), "_index": _index_of(names)})
        self._result_procs: list[tuple[int, Processor]] = []
        for i, c in enumerate(columns):
            proc = c.type.dialect_impl(dialect).result_processor(dialect, None)
            if proc is not None:
                self._result_procs.append((i, proc))
        self.returns_rows = bool(columns)

    def params(self, given: Mapping[str, Any]) -> Any:
        values = []
        try:
            for name, proc, fixed in self._plan:
                if fixed is _GIVEN:
                    value = given[name]
                    values.append(proc(value) if proc is not None else value)
                else:
                    values.append(fixed)
        except KeyError as err:
            raise KeyError(f"missing bind parameter: {err.args[0]}") from None
        if self._positional:
            return tuple(values)
        return {name: v for (name, _, _), v in zip(self._plan, values, strict=True)}

    def run(self, conn: Connection, params: Mapping[str, Any] | None = None) -> Result:
        """Execute on ``conn``'s DBAPI connection, inside the transaction it holds."""
        cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        try:
            cursor.execute(self.sql, self.params(params or {}))
            if not self.returns_rows:
                return Result([])
            raw = cursor.fetchall()
        finally:
            cursor.close()
        row_type, procs = self._row_type, self._result_procs
        if not procs:
            return Result([row_type(r) for r in raw])
        rows = []
        for r in raw:
            values = list(r)
            for i, proc in procs:
                values[i] = proc(values[i])
            rows.append(row_type(values))
        return Result(rows)


def _index_of(names: list[str]) -> dict[str, int]:
    index: dict[str, int] = {}
    for i, name in enumerate(names):
        index.setdefault(name, i)
    return index


_prepared: dict[tuple[int, int, tuple[str, ...]], tuple[Any, Dialect, Prepared]] = {}


def _entry(statement: Any, dialect: Dialect, keys: tuple[str, ...]) -> Prepared:
    key = (id(statement), id(dialect), keys)
    entry = _prepared.get(key)
    if entry is None or entry[0] is not statement or entry[1] is not dialect:
        entry = (statement, dialect, Prepared(statement, dialect, list(keys) or None))
        _prepared[key] = entry
    return entry[2]


def warm(statement: Any, dialect: Dialect) -> None:
    """Compile now rather than on first use (a counter's call-next statement takes ~20 ms
    to compile: at start-up, not in the first citizen's call)."""
    _entry(statement, dialect, ())


def run(conn: Connection, statement: Any, params: Mapping[str, Any] | None = None) -> Result:
    """Run a prebuilt (module-level) Core statement on ``conn``, prepared on first use for
    that connection's dialect. Build statements once: each new object is a new entry."""
    # An INSERT without .values() is compiled for the columns given, as execute() does.
    keys = tuple(params) if params and isinstance(statement, Insert) else ()
    return _entry(statement, conn.dialect, keys).run(conn, params)

"""Alembic environment: run programmatically by hall.storage.migrate with a connection
(``config.attributes["connection"]``), or from the command line with ``-x url=…``."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from hall.storage.engine import make_engine
from hall.storage.tables import metadata

config = context.config


def run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is not None:
    run(connection)
else:
    url = context.get_x_argument(as_dictionary=True).get("url") or config.get_main_option(
        "sqlalchemy.url"
    )
    if not url:
        raise SystemExit("alembic: give the database with -x url=…")
    engine = make_engine(url)
    with engine.connect() as conn:
        run(conn)

"""``govhall hall --config FILE [--host H] [--port P] [--database URL]``."""

from __future__ import annotations

import argparse
import gc
import logging
import sys

from hall.config import ConfigError, load_config


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="govhall hall", description="Run the hall server.")
    parser.add_argument("--config", required=True, help="hall config file (TOML)")
    parser.add_argument("--host", help="listen address (default from [server].host)")
    parser.add_argument("--port", type=int, help="port (default from [server].port, 8700)")
    parser.add_argument("--database", help="SQLAlchemy URL (default from [server].database)")
    parser.add_argument("--log-level", default="info")
    args = parser.parse_args(argv)
    try:
        config = load_config(args.config)
    except ConfigError as err:
        print(f"govhall hall: {err}", file=sys.stderr)
        return 2
    logging.basicConfig(
        level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    logging.getLogger("alembic").setLevel(logging.WARNING)

    import asyncio

    import uvicorn

    from common import sdnotify
    from hall.app import create_app
    from hall.connections import protocol_with_deadline, raise_open_files_limit
    from hall.storage.check import StorageDamaged, check_sqlite

    try:
        check_sqlite(args.database or config.server.database, args.config)
    except StorageDamaged as err:
        print(f"govhall hall: {err}", file=sys.stderr)
        return 2
    try:
        app = create_app(config, database=args.database)
    except ConfigError as err:  # sections validated by their owners, e.g. [web]
        print(f"govhall hall: {err}", file=sys.stderr)
        return 2
    limits = config.server
    raise_open_files_limit(limits.max_connections)
    server = uvicorn.Server(
        uvicorn.Config(
            app,
            host=args.host or config.server.host,
            port=args.port or config.server.port,
            log_level=args.log_level,
            access_log=False,
            timeout_graceful_shutdown=3,
            # Every open connection counts, an event stream for as long as it runs: past
            # the limit each new request is answered 503 at once (hall/connections.py).
            limit_concurrency=limits.max_connections,
            timeout_keep_alive=limits.keep_alive_s,
            # httptools, with a deadline on reading each request: uvicorn has none, so a
            # connection that sends nothing, or its headers a byte at a time, stays for ever
            http=protocol_with_deadline(limits.request_timeout_s),
        )
    )
    health = app.state.health
    # What start-up built (config, SQLAlchemy metadata, FastAPI's routes and models:
    # ~130,000 objects) lives as long as the process: out of the collector's sight, a full
    # collection takes ~0 ms instead of stopping every request for ~80 ms (measured).
    gc.collect()
    gc.freeze()
    # A change holds the write lock across several database calls, each of which lets go
    # of the GIL; getting it back waits up to one switch interval while another thread
    # runs (the event loop sending to boards, a request being parsed). At Python's 5 ms
    # the lock holder spent most of its time waiting for the GIL and every writer queued
    # behind it; at 0.5 ms it gets the GIL back at once (bench/hall_load.py).
    sys.setswitchinterval(0.0005)

    # systemd (govhall-hall.service): READY=1 once listening, WATCHDOG=1 from the event loop
    # while the database answers
    with asyncio.Runner(loop_factory=server.config.get_loop_factory()) as runner:
        runner.run(sdnotify.serve(server, probe=health.probe))
    return 0 if server.started else 1  # e.g. the port is taken


if __name__ == "__main__":
    sys.exit(main())

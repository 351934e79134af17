"""Staff accounts from the command line, for the hall's technician:

    python -m hall.web add-user --config hall.toml --username admin --role admin
    python -m hall.web add-user --config hall.toml --username wang --role counter --counters 1,2
    python -m hall.web add-user --config hall.toml --username zhao --role counter --counters 3
                                --display-name 赵六 --staff-no 0231   (the pad shows both)
    python -m hall.web add-user --config hall.toml --username liu --role supervisor
                                --departments A,B   (a department head: the cases of A, B)
    python -m hall.web add-user --config hall.toml --username sun --role counter --counters 1
                                --services A,C   (the services sun can handle: the staffing
                                plan recommends counter 1 only for those)
    python -m hall.web set-services --config hall.toml --username sun --services A,B,C
                                (--services "" removes them: every service of the counters)
    python -m hall.web set-password --config hall.toml --username wang
    python -m hall.web list-users --config hall.toml

The password is asked for twice on the terminal (or read from stdin with
``--password-stdin`` for scripts), never given as an argument, where ``ps`` and the shell
history would keep it. Works while the hall server runs (same database)."""

from __future__ import annotations

import argparse
import getpass
import sys

from hall.config import ConfigError, load_config
from hall.errors import HallError
from hall.services.context import HallContext
from hall.storage import migrate
from hall.storage.engine import make_engine
from hall.web import accounts
from hall.web.settings import web_settings


def _password(args: argparse.Namespace) -> str:
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass("密码 Password: ")
    if getpass.getpass("再次输入 Again: ") != first:
        raise SystemExit("passwords differ; nothing changed")
    return first


def _codes(text: str) -> list[str]:
    return [c.strip() for c in text.split(",") if c.strip()]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="govhall web", description="Manage staff accounts of the web pages."
    )
    sub = parser.add_subparsers(dest="command", required=True)
    for name in ("add-user", "set-password", "set-services", "list-users"):
        p = sub.add_parser(name)
        p.add_argument("--config", required=True, help="hall config file (TOML)")
        p.add_argument("--database", help="SQLAlchemy URL (default from [server].database)")
        if name != "list-users":
            p.add_argument("--username", required=True)
        if name in ("add-user", "set-services"):
            p.add_argument(
                "--services",
                default="",
                required=name == "set-services",
                help="comma-separated service codes the staff member can handle "
                "(the staffing plan's); empty: not recorded",
            )
        if name in ("add-user", "set-password"):
            p.add_argument(
                "--password-stdin",
                action="store_true",
                help="read the password from the first line of stdin",
            )
        if name == "add-user":
            p.add_argument("--role", choices=accounts.ROLES, required=True)
            p.add_argument(
                "--counters",
                default="",
                help="comma-separated counter ids a counter account may act for",
            )
            p.add_argument(
                "--departments",
                default="",
                help="comma-separated service codes whose cases a supervisor handles",
            )
            p.add_argument("--display-name", default="")
            p.add_argument("--staff-no", default="", help="工号, shown on the evaluation pad")
    args = parser.parse_args(argv)
    try:
        config = load_config(args.config)
        settings = web_settings(config)
    except ConfigError as err:
        print(f"python -m hall.web: {err}", file=sys.stderr)
        return 2
    engine = make_engine(args.database or config.server.database)
    try:
        migrate.upgrade(engine)
        ctx = HallContext(config, engine)
        ctx.ensure_rows()
        if args.command == "list-users":
            for a in accounts.list_accounts(ctx):
                state = "active" if a["active"] else "disabled"
                print(
                    f"{a['username']}\t{a['role']}\t{','.join(a['counters']) or '-'}\t{state}"
                    f"\t{','.join(a['services']) or '-'}"
                )
            return 0
        if args.command == "set-services":
            done = accounts.update_account(ctx, args.username, services=_codes(args.services))
            print(f"services of {args.username}: {','.join(done['services']) or '-'}")
            return 0
        password = _password(args)
        if args.command == "add-user":
            counters = [c.strip() for c in args.counters.split(",") if c.strip()]
            accounts.create_account(
                ctx,
                settings,
                args.username,
                password,
                args.role,
                counters,
                args.display_name,
                args.staff_no,
                _codes(args.departments),
                _codes(args.services),
            )
            print(f"account {args.username} created ({args.role})")
        else:
            accounts.set_password(ctx, settings, args.username, password)
            print(f"password of {args.username} set; its sessions were ended")
        return 0
    except HallError as err:
        print(f"python -m hall.web: {err.message}", file=sys.stderr)
        return 1
    finally:
        engine.dispose()

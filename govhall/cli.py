"""The ``govhall`` console script: one entry point, one subcommand per part.

Each part owns its own argument parsing; this module only dispatches, importing the part
lazily so ``govhall hall`` never loads Kivy and ``govhall kiosk`` never loads the server.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable

# subcommand → "module:function"; the function takes argv (list[str]) and returns an exit code.
COMMANDS: dict[str, str] = {
    "hall": "hall.__main__:main",
    "kiosk": "kiosk.app:main",
    "signage": "signage.app:main",
    "demo": "govhall.demo:main",
    "backup": "hall.backup:backup_main",
    "restore": "hall.backup:restore_main",
    "doctor": "govhall.doctor:main",
    "web": "hall.web.cli:main",
    "report": "hall.report:main",
    "bulletin": "hall.services.bulletin:main",
}
# `govhall device KIND …` (technicians' checks) and `govhall sim KIND …` (simulated devices).
DEVICE_COMMANDS: dict[str, str] = {
    "idcard": "devices.idcard.cli:device_main",
    "printer": "devices.printer.cli:device_main",
    "voice": "devices.voice.cli:device_main",
    "camera": "devices.camera.cli:camera_main",
    "face": "devices.camera.cli:face_main",
    "led": "devices.led.cli:device_main",
}
SIM_COMMANDS: dict[str, str] = {
    "idcard": "devices.idcard.cli:sim_main",
    "printer": "devices.printer.cli:sim_main",
    "camera": "devices.camera.cli:sim_main",
    "led": "devices.led.cli:sim_main",
}

USAGE = """usage: govhall COMMAND [options]

commands:
  hall      --config FILE [--host H] [--port P] [--database URL]   run the hall server
  kiosk     --config FILE                                         run a self-service kiosk
  signage   --config FILE                                         run the lobby board and announcer
  demo      --config FILE [--hours]                               hall + kiosk + board on simulators
  demo card resident|elderly|foreign|remove                       a card on the demo's reader
  backup    FILE --config FILE / restore FILE --config FILE       hall database backup
  doctor    [--config FILE]                                       check an installation
  web       add-user|set-password|list-users --config FILE        staff accounts of the web pages
  report    --database URL --from DAY --to DAY [--csv]            city report across halls
  device    KIND …   check a real device (idcard, printer, voice, camera, face, led)
  sim       KIND …   run a simulated device (idcard, printer, camera, led)
"""


def _resolve(target: str) -> Callable[[list[str]], int]:
    module_name, func_name = target.split(":")
    module = importlib.import_module(module_name)
    return getattr(module, func_name)


def _dispatch(table: dict[str, str], group: str, argv: list[str]) -> int:
    if not argv or argv[0] in ("-h", "--help"):
        print(f"usage: govhall {group} KIND …\nkinds: {', '.join(sorted(table))}")
        return 0 if argv else 2
    kind, rest = argv[0], argv[1:]
    if kind not in table:
        print(
            f"govhall {group}: unknown kind {kind!r}; known: {', '.join(sorted(table))}",
            file=sys.stderr,
        )
        return 2
    return _run(table[kind], rest, f"{group} {kind}")


def _run(target: str, argv: list[str], name: str) -> int:
    try:
        func = _resolve(target)
    except (ImportError, AttributeError) as err:
        print(
            f"govhall {name}: this part is not available in this installation ({err})",
            file=sys.stderr,
        )
        return 2
    return int(func(argv) or 0)


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in ("-h", "--help"):
        print(USAGE)
        return 0 if args else 2
    command, rest = args[0], args[1:]
    if command == "device":
        return _dispatch(DEVICE_COMMANDS, "device", rest)
    if command == "sim":
        return _dispatch(SIM_COMMANDS, "sim", rest)
    if command not in COMMANDS:
        print(f"govhall: unknown command {command!r}\n\n{USAGE}", file=sys.stderr)
        return 2
    return _run(COMMANDS[command], rest, command)


if __name__ == "__main__":
    sys.exit(main())

"""``govhall doctor [--config FILE]``: is this machine ready to run its part of the hall?

One line per check — ✓ fine, ✗ wrong (with a hint after →), – not applicable here — each
finding and hint in Chinese, then in English on the line below, and exit status 1 if any
check failed, so a technician (or a monitoring script) sees at once what to fix::

    ✗ printer         tcp://10.0.0.5:9100 应答 DLE EOT：打印纸已用完，请更换打印纸（paper_end）
                      tcp://10.0.0.5:9100 answers DLE EOT: paper_end
                      → 装纸／合上纸仓盖／清除卡纸，然后再检查一次
                        load paper / close the cover / clear the jam, then check again

Checks: the config file (every section validated by its owner, errors name file and key, as
the config loader words them), the hall server reachable with this machine's token
(``checks.hall``), a Chinese font, disk space, clock and time zone (``checks.machine``), voice
synthesis and each configured device: reader SAM status, printer DLE EOT, camera frames, AVX
for the face model (each device package's ``health.py``, collected by ``checks.devices``).
The texts are the ``doctor`` catalogue (``common/assets/locales/doctor.toml``).

Never printed: tokens, passwords in database URLs, anything read from a card (the reader
is only asked for its SAM status; no card is read).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from common.health import LANGUAGES, Check, Mark, text
from govhall.doctor.checks.config import check_config, validate_config
from govhall.doctor.checks.database import check_database
from govhall.doctor.checks.devices import check_cpu, check_devices, check_voice, device_specs
from govhall.doctor.checks.hall import check_hall
from govhall.doctor.checks.machine import (
    check_clock,
    check_disk,
    check_font,
    check_timezone,
    disk_paths,
)

__all__ = [
    "Check",
    "check_clock",
    "check_config",
    "check_disk",
    "main",
    "render",
    "run_checks",
    "validate_config",
]

DEFAULT_CONFIG = "/etc/govhall/hall.toml"
ASCII_MARKS = {Mark.OK: "OK", Mark.FAIL: "FAIL", Mark.SKIP: "-"}


def run_checks(config_path: Path) -> list[Check]:
    checks: list[Check] = []
    check, config = check_config(config_path)
    checks.append(check)
    checks.append(check_database(config, config_path))
    skews: list[float] = []
    if config is not None:
        checks += check_hall(config, skews)
    checks.append(check_font())
    checks.append(check_voice(config))
    specs = device_specs(config)
    checks += check_devices(specs)
    checks.append(check_cpu(config, specs.get("camera", "none")))
    checks.append(check_disk(disk_paths(config, config_path)))
    checks.append(check_clock(skews))
    checks.append(check_timezone(config))
    return checks


def render(
    checks: list[Check], languages: Sequence[str] = LANGUAGES, ascii_marks: bool = False
) -> str:
    """The report: per check its mark, name and finding, more lines under it (the finding in
    the next language, the config loader's problems), then the hint after →; last the count."""
    width = max(len(c.name) for c in checks)
    pad = f"  {' ' * width}  "
    lines = []
    for c in checks:
        mark = ASCII_MARKS[c.mark] if ascii_marks else str(c.mark)
        first, *more = c.detail.lines(languages) or [""]
        lines.append(f"{mark} {c.name:<{width}}  {first}")
        lines += [pad + line for line in [*more, *c.notes]]
        if c.hint is not None:
            hint, *hint_more = c.hint.lines(languages)
            lines.append(f"{pad}{'->' if ascii_marks else '→'} {hint}")
            lines += [f"{pad}  {line}" for line in hint_more]
    failed = sum(c.failed for c in checks)
    summary = text("summary_problems", n=failed) if failed else text("summary_ok")
    lines += summary.lines(languages)
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="govhall doctor", description="Check this machine's govhall installation."
    )
    parser.add_argument(
        "--config",
        default=os.environ.get("GOVHALL_CONFIG", DEFAULT_CONFIG),
        help=f"hall config file (default $GOVHALL_CONFIG or {DEFAULT_CONFIG})",
    )
    args = parser.parse_args(argv)
    checks = run_checks(Path(args.config))
    try:
        print(render(checks), flush=True)
    except UnicodeEncodeError:
        # a console that cannot show Chinese: the English lines, with plain marks (and any
        # other character it lacks, in a path or a loader's message, replaced)
        report = render(checks, languages=("en",), ascii_marks=True) + "\n"
        encoding = sys.stdout.encoding or "ascii"
        sys.stdout.buffer.write(report.encode(encoding, errors="replace"))
        sys.stdout.flush()
    return 1 if any(c.failed for c in checks) else 0


if __name__ == "__main__":
    sys.exit(main())

"""The package boundaries of DESIGN.md, checked on the source (static imports)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# package → imports it must not make. hall.client and hall.config are the public face of
# the hall that kiosk and signage may use; everything else in hall is internal.
FORBIDDEN: dict[str, tuple[str, ...]] = {
    "hall": ("kivy", "devices", "kiosk", "signage"),
    "devices": ("kivy", "hall", "kiosk", "signage"),
    "kiosk": ("signage",),
    "signage": ("kiosk",),
}
HALL_PUBLIC = ("hall.client", "hall.config", "hall.configkit", "hall.schemas")


def _imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.append(node.module)
    return names


def _under(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_package_does_not_cross_its_boundary(package: str) -> None:
    bad: list[str] = []
    for path in sorted((ROOT / package).rglob("*.py")):
        for name in _imports(path):
            if any(_under(name, f) for f in FORBIDDEN[package]):
                bad.append(f"{path.relative_to(ROOT)} imports {name}")
            if (
                package in ("kiosk", "signage")
                and _under(name, "hall")
                and not any(_under(name, pub) for pub in HALL_PUBLIC)
            ):
                bad.append(f"{path.relative_to(ROOT)} imports hall internals ({name})")
    assert not bad, "\n".join(bad)

"""One error family per device kind, in its ``errors.py``, below ``DeviceError``.

(That every code is unique and has its Chinese and English text is checked for the whole
tree by ``tests/common/test_error_codes.py``.)"""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

from devices.errors import DeviceError

DEVICES = Path(__file__).resolve().parents[2] / "devices"
FAMILIES = {
    "idcard": ("IdCardError",),
    "printer": ("PrinterError",),
    "led": ("LedError",),
    "voice": ("VoiceError",),
    "camera": ("CameraError", "FaceError"),
}
PREFIXES = {"camera": ("camera.", "face.")}


def _classes_with_a_code(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    return [
        node.name
        for node in ast.walk(tree)
        if isinstance(node, ast.ClassDef)
        and any(
            isinstance(stmt, ast.Assign)
            and any(isinstance(t, ast.Name) and t.id == "code" for t in stmt.targets)
            for stmt in node.body
        )
    ]


def test_error_classes_live_only_in_errors_modules() -> None:
    elsewhere = {
        str(path.relative_to(DEVICES)): names
        for path in sorted(DEVICES.rglob("*.py"))
        if path.name != "errors.py" and (names := _classes_with_a_code(path))
    }
    assert elsewhere == {}
    assert _classes_with_a_code(DEVICES / "printer" / "errors.py")  # the scan sees classes


@pytest.mark.parametrize("kind", sorted(FAMILIES))
def test_each_kind_has_one_family_below_device_error(kind: str) -> None:
    module = importlib.import_module(f"devices.{kind}.errors")
    bases = tuple(getattr(module, name) for name in FAMILIES[kind])
    classes = [
        obj
        for obj in vars(module).values()
        if isinstance(obj, type)
        and issubclass(obj, DeviceError)
        and obj.__module__ == module.__name__
    ]
    assert set(bases) <= set(classes)
    for cls in classes:
        assert issubclass(cls, bases), cls
        assert cls.code.startswith(PREFIXES.get(kind, (f"{kind}.",))), cls

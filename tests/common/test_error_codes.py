"""Every error code in the tree is unique in meaning and has a text in Chinese and English.

Codes are collected from the source, not from a list kept by hand: a class-level
``code = "…"`` in a class body, and a ``code="…"`` keyword given to an exception class
(a call whose name starts with a capital letter). What must hold:
- two classes never declare the same code (a kiosk or a page acts on the code alone);
- a code given at raise sites is always given to the same exception class (so it always
  means the same HTTP status and the same thing);
- every code has a ``zh`` and an ``en`` text in the catalogue ``common.errors.text`` reads.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import pytest

from common.errors import catalogue_of, text
from common.i18n import catalogue
from hall.api.errors import HTTP_CODES

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("common", "hall", "devices", "kiosk", "signage", "govhall")


def _sources() -> list[Path]:
    return sorted(
        p for pkg in PACKAGES for p in (ROOT / pkg).rglob("*.py") if "migrations" not in p.parts
    )


def _collect() -> tuple[dict[str, set[str]], dict[str, set[str]]]:
    """(code → classes declaring it, code → exception classes it is passed to)."""
    declared: dict[str, set[str]] = defaultdict(set)
    passed: dict[str, set[str]] = defaultdict(set)
    for path in _sources():
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        where = path.relative_to(ROOT).with_suffix("").as_posix().replace("/", ".")
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef):
                for stmt in node.body:
                    target = None
                    if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1:
                        target = stmt.targets[0]
                    elif isinstance(stmt, ast.AnnAssign):
                        target = stmt.target
                    if (
                        isinstance(target, ast.Name)
                        and target.id == "code"
                        and isinstance(stmt.value, ast.Constant)
                        and isinstance(stmt.value.value, str)
                        and stmt.value.value  # a dataclass's `code: str = ""` field is no code
                    ):
                        declared[stmt.value.value].add(f"{where}.{node.name}")
            elif isinstance(node, ast.Call):
                func = node.func
                name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
                if not name[:1].isupper():
                    continue
                for kw in node.keywords:
                    if (
                        kw.arg == "code"
                        and isinstance(kw.value, ast.Constant)
                        and isinstance(kw.value.value, str)
                    ):
                        passed[kw.value.value].add(name)
    return declared, passed


DECLARED, PASSED = _collect()
ALL_CODES = sorted(set(DECLARED) | set(PASSED) | set(HTTP_CODES.values()) | {"malformed_json"})


def test_the_scan_finds_the_known_families() -> None:
    # If the scan broke (a refactor renamed `code`), every other test here would pass
    # vacuously.
    assert "storage_unavailable" in DECLARED
    assert "idcard.no_reader" in DECLARED
    assert "requeue_window_passed" in PASSED and "daily_limit" in DECLARED
    assert len(ALL_CODES) > 80


def test_no_two_classes_declare_the_same_code() -> None:
    shared = {code: sorted(owners) for code, owners in DECLARED.items() if len(owners) > 1}
    assert shared == {}


def test_a_code_always_goes_with_the_same_exception_class() -> None:
    mixed = {code: sorted(classes) for code, classes in PASSED.items() if len(classes) > 1}
    assert mixed == {}


@pytest.mark.parametrize("code", ALL_CODES)
def test_every_code_has_chinese_and_english_text(code: str) -> None:
    name, key = catalogue_of(code)
    entry = catalogue(name).get(key)
    assert entry is not None, f"{code}: no [{key}] in {name}.toml"
    assert entry.get("zh", "").strip() and entry.get("en", "").strip()
    assert text(code, "zh") == entry["zh"]


def test_an_unknown_code_gets_the_generic_text_not_an_error() -> None:
    assert text("no_such_code", "zh") == catalogue("errors")["error"]["zh"]
    assert text("nosuchpart.thing", "en") == catalogue("errors")["error"]["en"]

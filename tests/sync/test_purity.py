"""sync/ is pure: it imports the standard library, msgspec and itself — nothing else."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

SYNC = Path(__file__).resolve().parents[2] / "sync"
ALLOWED = set(sys.stdlib_module_names) | {"msgspec", "sync"}
MODULES = sorted(SYNC.rglob("*.py"))


def imported(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
        elif isinstance(node, ast.Call) and getattr(node.func, "id", "") == "__import__":
            names.add("<dynamic import>")
    return names


def test_modules_are_found() -> None:
    assert len(MODULES) > 15


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.name)
def test_imports_only_stdlib_and_msgspec(path: Path) -> None:
    outside = {name for name in imported(path) if name.split(".")[0] not in ALLOWED}
    assert not outside, f"{path.name} imports {sorted(outside)}"


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.name)
def test_modules_stay_small(path: Path) -> None:
    assert len(path.read_text().splitlines()) <= 320, f"{path.name}: split it by noun"
